"""The live context's composition root: live streams wired to DynamoDB and IVS. No rules here:
every choice is a setting (config.Settings) or a service's."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.core.wiring import component, settings, table

if TYPE_CHECKING:
    from chalicelib.core.adapters.private_tokens import DynamoPrivateTokenMint
    from chalicelib.live.adapters.health_push import ApiGatewayConnections
    from chalicelib.live.adapters.incident_alarms import CloudWatchIncidentAlarms, SqsIncidentTimers
    from chalicelib.live.adapters.ivs import IvsChannels
    from chalicelib.live.adapters.live_streams import DynamoLiveStreamRepository
    from chalicelib.live.adapters.relays import EcsRestreamRelays
    from chalicelib.live.adapters.timers import SqsLiveEventTimers, SqsReconnectTimers
    from chalicelib.live.adapters.videos import DynamoVideoSources
    from chalicelib.live.domain.live_streams import IngestTemplates
    from chalicelib.live.services.broadcasts import BroadcastService
    from chalicelib.live.services.health_push import HealthPushService
    from chalicelib.live.services.live_event_incidents import AlarmedChannels, LiveEventIncidentService
    from chalicelib.live.services.live_event_plane import LiveEventPlaneService
    from chalicelib.live.services.live_event_templates import LiveEventTemplateService
    from chalicelib.live.services.live_events import LiveEventService
    from chalicelib.live.services.live_streams import LiveStreamService
    from chalicelib.live.services.restreams import RestreamService


@component
def live_streams() -> DynamoLiveStreamRepository:
    from chalicelib.live.adapters.live_streams import DynamoLiveStreamRepository

    return DynamoLiveStreamRepository(table())


@component
def channels() -> IvsChannels:
    from chalicelib.core import config
    from chalicelib.live.adapters.ivs import IvsChannels

    current = settings()
    return IvsChannels(config.ivs(), current.live_channel_type, current.live_recording_configuration_arn)


@component
def live_stream_service() -> LiveStreamService:
    from chalicelib.core.clock import utc_now
    from chalicelib.core.wiring import media_bucket
    from chalicelib.live.adapters.players import DynamoPlayerDirectory
    from chalicelib.live.services.live_streams import LiveStreamService

    players = DynamoPlayerDirectory(table())
    return LiveStreamService(
        live_streams(),
        channels,
        utc_now,
        player_exists=players.exists,
        files=media_bucket,
        restreams=restream_service(),
    )


@component
def broadcast_service() -> BroadcastService:
    from chalicelib.core.clock import utc_now
    from chalicelib.live.services.broadcasts import BroadcastService

    return BroadcastService(live_streams(), reconnect_timers, utc_now, restreams=restream_service())


@component
def restream_service() -> RestreamService:
    from chalicelib.core.clock import utc_now
    from chalicelib.live.services.restreams import RestreamService

    return RestreamService(live_streams(), restream_relays, utc_now)


@component
def restream_relays() -> EcsRestreamRelays:
    from chalicelib.core import config
    from chalicelib.live.adapters.relays import EcsRestreamRelays, RelayTaskSettings
    from chalicelib.live.domain.errors import RelayUnavailable

    current = settings()
    if not current.live_relays:
        raise RelayUnavailable(detail="No restream relay cluster is configured (VIDEOPLANE_LIVE_RELAYS).")
    return EcsRestreamRelays(
        config.ecs(), RelayTaskSettings.model_validate(current.live_relays), current.live_events_queue_url
    )


@component
def reconnect_timers() -> SqsReconnectTimers:
    from chalicelib.core import config
    from chalicelib.live.adapters.timers import SqsReconnectTimers

    return SqsReconnectTimers(config.sqs(), settings().live_events_queue_url)


@component
def private_tokens() -> DynamoPrivateTokenMint:
    from chalicelib.core.adapters.private_tokens import DynamoPrivateTokenMint

    return DynamoPrivateTokenMint(table())


@component
def ingest_templates() -> IngestTemplates:
    from chalicelib.live.domain.live_streams import IngestTemplates

    return IngestTemplates(**settings().live_ingest)


@component
def live_event_template_service() -> LiveEventTemplateService:
    from chalicelib.core.clock import utc_now
    from chalicelib.live.adapters.live_event_templates import DynamoLiveEventTemplateRepository
    from chalicelib.live.services.live_event_templates import LiveEventTemplateService

    return LiveEventTemplateService(DynamoLiveEventTemplateRepository(table()), utc_now)


@component
def video_sources() -> DynamoVideoSources:
    from chalicelib.core.wiring import uploads_bucket
    from chalicelib.live.adapters.videos import DynamoVideoSources

    return DynamoVideoSources(table(), uploads_bucket())


@component
def live_event_channels() -> AlarmedChannels:
    from chalicelib.core import config
    from chalicelib.core.wiring import media_base_url
    from chalicelib.live.adapters.medialive import MediaLiveChannels, MediaLiveSettings
    from chalicelib.live.services.live_event_incidents import AlarmedChannels

    current = settings()
    medialive = MediaLiveChannels(
        config.medialive(),
        MediaLiveSettings(
            role_arn=current.medialive_role_arn,
            media_bucket=current.media_bucket,
            ingest_cidrs=current.live_event_ingest_cidrs,
            srt_passphrase_secret_arn=current.live_event_srt_secret_arn,
            media_base_url=media_base_url(),
        ),
        source_url=lambda event: video_sources().source_url(event.project_id, event.video_id or ""),
    )
    # Incident automation's CloudWatch alarms come and go with the channel (domain/incidents.py).
    return AlarmedChannels(medialive, incident_alarms)


@component
def live_event_service() -> LiveEventService:
    from chalicelib.core.clock import utc_now
    from chalicelib.core.wiring import audit_log
    from chalicelib.live.adapters.live_events import DynamoLiveEventRepository
    from chalicelib.live.services.live_events import LiveEventService

    return LiveEventService(
        DynamoLiveEventRepository(table()),
        live_event_template_service(),
        live_event_channels,
        utc_now,
        live_streams=live_streams(),
        video_exists=lambda project_id, video_id: video_sources().exists(project_id, video_id),
        audit_log=audit_log,
        srt_enabled=bool(settings().live_event_srt_secret_arn),
        timers=live_event_timers,
    )


@component
def live_event_timers() -> SqsLiveEventTimers:
    from chalicelib.core import config
    from chalicelib.live.adapters.timers import SqsLiveEventTimers

    return SqsLiveEventTimers(config.sqs(), settings().live_event_channels_queue_url)


@component
def live_event_plane_service() -> LiveEventPlaneService:
    from chalicelib.core.clock import utc_now
    from chalicelib.live.adapters.live_events import DynamoLiveEventRepository
    from chalicelib.live.services.live_event_plane import LiveEventPlaneService

    return LiveEventPlaneService(
        DynamoLiveEventRepository(table()), live_event_service(), live_event_channels, live_event_timers, utc_now
    )


@component
def health_push_connections() -> ApiGatewayConnections:
    from chalicelib.core import config
    from chalicelib.live.adapters.health_push import ApiGatewayConnections
    from chalicelib.live.domain.health_push import PushUnavailable

    callback_url = settings().live_event_health_callback_url
    if not callback_url:
        raise PushUnavailable(
            detail="No health push callback URL is configured (VIDEOPLANE_LIVE_EVENT_HEALTH_CALLBACK_URL)."
        )
    return ApiGatewayConnections(config.apigatewaymanagementapi(callback_url))


@component
def health_push_service() -> HealthPushService:
    from chalicelib.core.clock import utc_now
    from chalicelib.live.adapters.health_push import DynamoHealthSubscriptions
    from chalicelib.live.adapters.live_events import DynamoLiveEventRepository
    from chalicelib.live.api.event_presenters import health
    from chalicelib.live.services.health_push import HealthPushService

    current = settings()
    return HealthPushService(
        DynamoLiveEventRepository(table()),
        DynamoHealthSubscriptions(table()),
        health_push_connections,
        health,
        utc_now,
        push_url=current.live_event_health_push_url,
        stream_url=current.live_event_health_stream_url,
        token_seconds=current.live_event_health_token_seconds,
    )


def incident_alarms() -> CloudWatchIncidentAlarms:
    from chalicelib.core import config
    from chalicelib.live.adapters.incident_alarms import CloudWatchIncidentAlarms

    return CloudWatchIncidentAlarms(config.cloudwatch())


@component
def incident_timers() -> SqsIncidentTimers:
    from chalicelib.core import config
    from chalicelib.live.adapters.incident_alarms import SqsIncidentTimers

    return SqsIncidentTimers(config.sqs(), settings().live_event_channels_queue_url)


@component
def live_event_incident_service() -> LiveEventIncidentService:
    from chalicelib.core.clock import utc_now
    from chalicelib.live.adapters.live_events import DynamoLiveEventRepository
    from chalicelib.live.services.live_event_incidents import LiveEventIncidentService

    return LiveEventIncidentService(DynamoLiveEventRepository(table()), live_event_channels, incident_timers, utc_now)
