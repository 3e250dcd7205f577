"""The rooms context's composition root: rooms and join tokens wired to DynamoDB and IVS real-time.
No rules here: every choice is a setting (config.Settings) or a service's."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.core.wiring import component, settings, table

if TYPE_CHECKING:
    from chalicelib.rooms.adapters.stages import IvsStages
    from chalicelib.rooms.services.rooms import RoomService
    from chalicelib.rooms.services.tokens import JoinTokenService


@component
def stages() -> IvsStages:
    from chalicelib.core import config
    from chalicelib.rooms.adapters.stages import IvsStages

    return IvsStages(config.ivs_realtime())


@component
def room_service() -> RoomService:
    from chalicelib.core.clock import utc_now
    from chalicelib.core.wiring import audit_log
    from chalicelib.rooms.adapters.rooms import DynamoRoomRepository
    from chalicelib.rooms.services.rooms import RoomService

    return RoomService(DynamoRoomRepository(table()), stages, utc_now, audit_log)


@component
def join_token_service() -> JoinTokenService:
    from chalicelib.core.clock import utc_now
    from chalicelib.rooms.adapters.rooms import DynamoJoinLog, DynamoJoinTokenRepository
    from chalicelib.rooms.services.tokens import JoinTokenService

    return JoinTokenService(
        room_service().find,
        DynamoJoinTokenRepository(table()),
        DynamoJoinLog(table()),
        stages,
        utc_now,
        settings().token_issuer,
    )
