"""The playback context's composition root: players and the public video read, over the shared
table and the media bucket. No rules here."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.core.wiring import component, media_bucket, table

if TYPE_CHECKING:
    from chalicelib.playback.adapters.edge_store import KeyValueStoreEdge
    from chalicelib.playback.adapters.live_playback_key import SecretsManagerLivePlaybackKey
    from chalicelib.playback.adapters.videos import DynamoPublicVideos
    from chalicelib.playback.services.edge import EdgeService
    from chalicelib.playback.services.embed import EmbedService
    from chalicelib.playback.services.geo import GeoService, ViewerCountries
    from chalicelib.playback.services.playback_keys import PlaybackKeyService
    from chalicelib.playback.services.players import PlayerService
    from chalicelib.playback.services.session_keys import SessionKeyService


@component
def player_service() -> PlayerService:
    from chalicelib.core.clock import utc_now
    from chalicelib.playback.adapters.players import DynamoPlayerRepository
    from chalicelib.playback.services.players import PlayerService

    return PlayerService(DynamoPlayerRepository(table()), media_bucket(), utc_now)


@component
def playback_key_service() -> PlaybackKeyService:
    from chalicelib.core.clock import utc_now
    from chalicelib.playback.adapters.playback_keys import DynamoPlaybackKeys
    from chalicelib.playback.services.playback_keys import PlaybackKeyService

    return PlaybackKeyService(DynamoPlaybackKeys(table()), utc_now)


@component
def geo_service() -> GeoService:
    from chalicelib.core.clock import utc_now
    from chalicelib.playback.adapters.geo import DynamoGeoPolicies
    from chalicelib.playback.services.geo import GeoService

    return GeoService(DynamoGeoPolicies(table()), utc_now)


@component
def public_videos() -> DynamoPublicVideos:
    from chalicelib.playback.adapters.videos import DynamoPublicVideos

    return DynamoPublicVideos(table())


@component
def embed_service() -> EmbedService:
    from chalicelib.core.clock import utc_now
    from chalicelib.core.wiring import settings
    from chalicelib.playback.adapters.geo import DynamoGeoPolicies
    from chalicelib.playback.adapters.live_streams import DynamoPublicLiveStreams
    from chalicelib.playback.adapters.playback_keys import DynamoPlaybackKeys
    from chalicelib.playback.adapters.players import DynamoPlayerRepository
    from chalicelib.playback.adapters.private_tokens import DynamoDenialCounter, DynamoPrivateTokens
    from chalicelib.playback.domain.access import session_keys
    from chalicelib.playback.services.embed import EmbedService

    current = settings()
    return EmbedService(
        public_videos(),
        DynamoPlayerRepository(table()),
        current.media_base_url,
        current.player_base_url,
        private_tokens=DynamoPrivateTokens(table()),
        denials=DynamoDenialCounter(table()),
        playback_keys=DynamoPlaybackKeys(table()),
        geo_policies=DynamoGeoPolicies(table()),
        live_streams=DynamoPublicLiveStreams(table()),
        # AWS: the stack's secret (kept 5 minutes per container); the devstack: the PEM itself.
        live_playback_key=secret.value if (secret := live_playback_key_secret()) else current.live_playback_key,
        # AWS: the rotated secret (read through its cache on each use); the devstack: a fixed key.
        session_keys=service.verifying
        if (service := session_key_service())
        else session_keys(current.playback_session_keys),
        clock=utc_now,
    )


@component
def live_playback_key_secret() -> SecretsManagerLivePlaybackKey | None:
    """None without the secret (the devstack's key is inline, VIDEOPLANE_LIVE_PLAYBACK_KEY)."""
    from chalicelib.core import config
    from chalicelib.core.wiring import settings
    from chalicelib.playback.adapters.live_playback_key import SecretsManagerLivePlaybackKey
    from chalicelib.playback.domain.ivs_tokens import LIVE_PLAYBACK_KEY_CACHE

    secret_id = settings().live_playback_key_secret_id
    if not secret_id:
        return None
    return SecretsManagerLivePlaybackKey(config.secretsmanager(), secret_id, LIVE_PLAYBACK_KEY_CACHE.total_seconds())


@component
def viewer_countries() -> ViewerCountries:
    from chalicelib.core import config
    from chalicelib.core.wiring import settings
    from chalicelib.playback.adapters.origin_secret import SecretsManagerOriginSecret
    from chalicelib.playback.services.geo import ViewerCountries

    secret_id = settings().cdn_origin_secret_id
    secret = SecretsManagerOriginSecret(config.secretsmanager(), secret_id).value if secret_id else None
    return ViewerCountries(settings().trust_viewer_country, secret)


@component
def edge_service() -> EdgeService | None:
    """None where no edge store is configured (the devstack: its media server reads the table)."""
    from chalicelib.playback.adapters.geo import DynamoGeoPolicies
    from chalicelib.playback.adapters.live_streams import DynamoPublicLiveStreams
    from chalicelib.playback.services.edge import EdgeService

    store = edge_store()
    if store is None:
        return None
    return EdgeService(public_videos(), store, DynamoGeoPolicies(table()), DynamoPublicLiveStreams(table()))


@component
def edge_store() -> KeyValueStoreEdge | None:
    from chalicelib.core import config
    from chalicelib.core.wiring import settings
    from chalicelib.playback.adapters.edge_store import KeyValueStoreEdge

    arn = settings().playback_edge_store_arn
    return KeyValueStoreEdge(config.cloudfront_keyvaluestore(), arn) if arn else None


@component
def session_key_service() -> SessionKeyService | None:
    """None without the secret (the devstack signs with VIDEOPLANE_PLAYBACK_SESSION_KEYS)."""
    from chalicelib.core import config
    from chalicelib.core.clock import utc_now
    from chalicelib.core.wiring import settings
    from chalicelib.playback.adapters.session_keys import SecretsManagerSessionKeys
    from chalicelib.playback.domain.session_keys import KEY_CACHE
    from chalicelib.playback.services.session_keys import SessionKeyService

    secret_id = settings().playback_session_secret_id
    if not secret_id:
        return None
    secret = SecretsManagerSessionKeys(config.secretsmanager(), secret_id, KEY_CACHE.total_seconds())
    return SessionKeyService(secret, edge_store(), utc_now)
