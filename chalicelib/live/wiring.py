"""The live context's composition root: live streams wired to DynamoDB and IVS. No rules here:
every choice is a setting (config.Settings) or a service's."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.core.wiring import component, settings, table

if TYPE_CHECKING:
    from chalicelib.core.adapters.private_tokens import DynamoPrivateTokenMint
    from chalicelib.live.adapters.ivs import IvsChannels
    from chalicelib.live.adapters.live_streams import DynamoLiveStreamRepository
    from chalicelib.live.adapters.relays import EcsRestreamRelays
    from chalicelib.live.adapters.timers import SqsReconnectTimers
    from chalicelib.live.domain.live_streams import IngestTemplates
    from chalicelib.live.services.broadcasts import BroadcastService
    from chalicelib.live.services.live_event_templates import LiveEventTemplateService
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
