"""The rooms context's composition root: rooms, join tokens and sessions wired to DynamoDB and IVS real-time.
No rules here: every choice is a setting (config.Settings) or a service's."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.core.wiring import component, settings, table

if TYPE_CHECKING:
    from chalicelib.rooms.adapters.stages import IvsStages
    from chalicelib.rooms.adapters.timers import SqsSessionTimers
    from chalicelib.rooms.adapters.videos import DynamoRecordedVideos
    from chalicelib.rooms.services.quality import QualityService
    from chalicelib.rooms.services.recordings import RecordingService
    from chalicelib.rooms.services.rooms import RoomService
    from chalicelib.rooms.services.sessions import SessionService
    from chalicelib.rooms.services.tokens import JoinTokenService


@component
def stages() -> IvsStages:
    from chalicelib.core import config
    from chalicelib.rooms.adapters.stages import IvsStages

    current = settings()
    return IvsStages(
        config.ivs_realtime(),
        whep_url=current.rooms_whep_url,
        storage_configuration_arn=current.room_storage_configuration_arn,
        encoder_configuration_arn=current.room_encoder_configuration_arn,
    )


@component
def room_service() -> RoomService:
    from chalicelib.core.clock import utc_now
    from chalicelib.core.wiring import audit_log
    from chalicelib.rooms.adapters.rooms import DynamoRoomRepository
    from chalicelib.rooms.services.rooms import RoomService

    return RoomService(
        DynamoRoomRepository(table()), stages, utc_now, audit_log, lambda *removal: session_service().removed(*removal)
    )


@component
def join_token_service() -> JoinTokenService:
    from chalicelib.core.clock import utc_now
    from chalicelib.rooms.adapters.rooms import DynamoJoinTokenRepository, DynamoSessionRepository
    from chalicelib.rooms.services.tokens import JoinTokenService

    return JoinTokenService(
        room_service().find,
        DynamoJoinTokenRepository(table()),
        DynamoSessionRepository(table()),
        stages,
        utc_now,
        settings().token_issuer,
    )


@component
def session_service() -> SessionService:
    from chalicelib.core.clock import utc_now
    from chalicelib.rooms.adapters.rooms import DynamoQualityRepository, DynamoSessionRepository
    from chalicelib.rooms.services.sessions import SessionService

    return SessionService(
        room_service().find,
        DynamoSessionRepository(table()),
        stages,
        session_timers,
        utc_now,
        quality=DynamoQualityRepository(table()),
    )


@component
def quality_service() -> QualityService:
    from chalicelib.core.clock import utc_now
    from chalicelib.rooms.adapters.rooms import DynamoQualityRepository
    from chalicelib.rooms.services.quality import QualityService

    return QualityService(room_service().find, DynamoQualityRepository(table()), utc_now, settings().token_issuer)


@component
def session_timers() -> SqsSessionTimers:
    from chalicelib.core import config
    from chalicelib.rooms.adapters.timers import SqsSessionTimers

    return SqsSessionTimers(config.sqs(), settings().room_events_queue_url)


@component
def recording_service() -> RecordingService:
    from chalicelib.core.clock import utc_now
    from chalicelib.rooms.adapters.rooms import DynamoRecordingRepository, DynamoSessionRepository
    from chalicelib.rooms.services.recordings import RecordingService

    return RecordingService(
        room_service().find,
        DynamoSessionRepository(table()),
        DynamoRecordingRepository(table()),
        stages,
        stages,
        utc_now,
        videos=recorded_videos,
    )


@component
def recorded_videos() -> DynamoRecordedVideos:
    from chalicelib.rooms.adapters.videos import DynamoRecordedVideos

    return DynamoRecordedVideos(table(), settings().media_base_url)
