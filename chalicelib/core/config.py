"""Settings read once from the environment, and one cached boto3 client per service."""

from __future__ import annotations

import json
import os
from functools import cache
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field

from chalicelib.core import resources

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_mediaconvert import MediaConvertClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_sqs import SQSClient


class RateLimits(BaseModel):
    """Requests per minute per project, as api.video's production tier documents them."""

    reads: int = 500
    writes: int = 200
    uploads: int = 100
    # Player beacons: public, per project (a player sends one every few seconds while playing).
    beacons: int = 6000


class Settings(BaseModel):
    table_name: str
    signing_secret_id: str
    token_issuer: str = "videoplane"
    access_token_ttl_seconds: int = Field(default=3600, ge=60)
    refresh_token_ttl_seconds: int = Field(default=30 * 24 * 3600, ge=3600)
    signing_key_cache_seconds: int = Field(default=300, ge=0)
    max_json_body_bytes: int = Field(default=1_048_576, ge=1024)
    rate_limits: RateLimits = RateLimits()
    # Public bases of asset URLs: CloudFront over the media bucket, and the player pages.
    media_base_url: str = "https://media.invalid"
    player_base_url: str = "https://player.invalid"
    # Private videos' playback session keys (resources.PLAYBACK_SESSION_KEYS_ENV); none: private
    # videos cannot be played.
    playback_session_keys: str = ""
    # ES384 (P-384) private key, PEM, signing IVS playback JWTs of private live streams; its public
    # half is imported into IVS (resources.LIVE_PLAYBACK_KEY_ENV). None: private live cannot play.
    live_playback_key: str = ""
    # Names of the stack's resources (resources.py says which variable carries each).
    uploads_bucket: str = ""
    media_bucket: str = ""
    event_bus: str = ""
    mediaconvert_role_arn: str = ""
    webhook_deliveries_queue_url: str = ""
    webhook_dead_letters_queue_url: str = ""
    sources_queue_url: str = ""
    live_events_queue_url: str = ""
    live_event_channels_queue_url: str = ""
    room_events_queue_url: str = ""
    # Set only by the devstack and its tests: their receivers and files are served from 127.0.0.1.
    # Each egress is opened on its own switch, on purpose; never set on AWS.
    allow_loopback_webhooks: bool = False
    allow_loopback_ingest: bool = False
    # ...except on these ports, where the devstack's own unauthenticated services listen.
    loopback_deny_ports: frozenset[int] = frozenset()
    # Live streams: the IVS channel type, the recording configuration, ingest URL templates.
    live_channel_type: Literal["STANDARD", "BASIC"] = "STANDARD"
    live_recording_configuration_arn: str = ""
    live_ingest: dict[str, str] = {}
    # Rooms: the devstack's subscribe URL template (resources.ROOMS_WHEP_URL_ENV); empty on AWS.
    rooms_whep_url: str = ""
    # Rooms' recordings (IVS compositions): the storage and encoder configurations; empty: not recorded.
    room_storage_configuration_arn: str = ""
    room_encoder_configuration_arn: str = ""
    # Restream relays' ECS task (resources.LIVE_RELAYS_ENV); empty: relays cannot start.
    live_relays: dict[str, Any] = {}
    # Analytics: the Firehose stream beacons go to, the Glue database and Athena workgroup.
    analytics_stream: str = ""
    analytics_bucket: str = ""
    analytics_database: str = resources.ANALYTICS_DATABASE
    analytics_workgroup: str = resources.ANALYTICS_WORKGROUP
    # GET /account's quotaTotal, in minutes encoded per calendar month (0: no quota).
    usage_quota_minutes: int = Field(default=0, ge=0)
    # Test-only: multiplies the webhook retry schedule (e.g. 0.001) so e2e tests see retries in seconds.
    webhook_retry_scale: float = Field(default=1.0, gt=0)
    # The edge check's KeyValueStore (AWS only; the devstack's media server reads the table).
    playback_edge_store_arn: str = ""
    # The secret holding the playback session keys (AWS); when set it replaces playback_session_keys.
    playback_session_secret_id: str = ""
    # Whose CloudFront-Viewer-Country the API believes (resources.CDN_ORIGIN_HEADER): the secret
    # CloudFront sends (AWS), or every client (the devstack, which has no CDN).
    cdn_origin_secret_id: str = ""
    trust_viewer_country: bool = False
    # The secret holding live_playback_key on AWS (resources.LIVE_PLAYBACK_KEY_SECRET_ENV); when set
    # it replaces live_playback_key.
    live_playback_key_secret_id: str = ""
    # Managed live events (MediaLive): the channels' role, who may push, the SRT passphrase secret.
    medialive_role_arn: str = ""
    live_event_ingest_cidrs: tuple[str, ...] = ("0.0.0.0/0",)
    live_event_srt_secret_arn: str = ""
    # The health push channel (resources.LIVE_EVENT_HEALTH_*_ENV); empty push URL: no subscriptions.
    live_event_health_push_url: str = ""
    live_event_health_callback_url: str = ""
    live_event_health_stream_url: str = ""
    live_event_health_token_seconds: int = Field(default=300, ge=30)


@cache
def get_settings() -> Settings:
    env = os.environ
    limits = {
        name: int(env[f"VIDEOPLANE_RATE_LIMIT_{name.upper()}"])
        for name in ("reads", "writes", "uploads", "beacons")
        if f"VIDEOPLANE_RATE_LIMIT_{name.upper()}" in env
    }
    optional = {
        "token_issuer": env.get("VIDEOPLANE_TOKEN_ISSUER"),
        "access_token_ttl_seconds": env.get("VIDEOPLANE_ACCESS_TOKEN_TTL"),
        "refresh_token_ttl_seconds": env.get("VIDEOPLANE_REFRESH_TOKEN_TTL"),
        "media_base_url": env.get(resources.MEDIA_BASE_URL_ENV),
        "player_base_url": env.get(resources.PLAYER_BASE_URL_ENV),
        "playback_session_keys": env.get(resources.PLAYBACK_SESSION_KEYS_ENV),
        "live_playback_key": env.get(resources.LIVE_PLAYBACK_KEY_ENV),
        "uploads_bucket": env.get(resources.UPLOADS_BUCKET.env),
        "media_bucket": env.get(resources.MEDIA_BUCKET.env),
        "event_bus": env.get(resources.EVENT_BUS.env),
        "mediaconvert_role_arn": env.get(resources.MEDIACONVERT_ROLE.env),
        "webhook_deliveries_queue_url": env.get(resources.WEBHOOK_DELIVERIES_QUEUE.env),
        "webhook_dead_letters_queue_url": env.get(resources.WEBHOOK_DEAD_LETTERS_QUEUE.env),
        "sources_queue_url": env.get(resources.SOURCES_QUEUE.env),
        "live_events_queue_url": env.get(resources.LIVE_EVENTS_QUEUE.env),
        "live_event_channels_queue_url": env.get(resources.LIVE_EVENT_CHANNELS_QUEUE.env),
        "room_events_queue_url": env.get(resources.ROOM_EVENTS_QUEUE.env),
        "allow_loopback_webhooks": env.get(resources.ALLOW_LOOPBACK_WEBHOOKS_ENV) == "1",
        "allow_loopback_ingest": env.get(resources.ALLOW_LOOPBACK_INGEST_ENV) == "1",
        "webhook_retry_scale": env.get(resources.WEBHOOK_RETRY_SCALE_ENV),
        "loopback_deny_ports": _ports(env.get(resources.LOOPBACK_DENY_PORTS_ENV)),
        "analytics_stream": env.get(resources.ANALYTICS_STREAM.env),
        "analytics_bucket": env.get(resources.ANALYTICS_BUCKET.env),
        "analytics_database": env.get(resources.ANALYTICS_DATABASE_ENV),
        "analytics_workgroup": env.get(resources.ANALYTICS_WORKGROUP_ENV),
        "usage_quota_minutes": env.get(resources.USAGE_QUOTA_MINUTES_ENV),
        "live_channel_type": env.get(resources.LIVE_CHANNEL_TYPE_ENV),
        "live_recording_configuration_arn": env.get(resources.LIVE_RECORDING_CONFIGURATION_ENV),
        "room_storage_configuration_arn": env.get(resources.ROOM_STORAGE_CONFIGURATION_ENV),
        "room_encoder_configuration_arn": env.get(resources.ROOM_ENCODER_CONFIGURATION_ENV),
        "live_ingest": {k: env[name] for k, name in resources.LIVE_INGEST_ENVS.items() if name in env} or None,
        "playback_edge_store_arn": env.get(resources.PLAYBACK_EDGE_STORE_ENV),
        "rooms_whep_url": env.get(resources.ROOMS_WHEP_URL_ENV),
        "live_relays": json.loads(env[resources.LIVE_RELAYS_ENV]) if env.get(resources.LIVE_RELAYS_ENV) else None,
        "playback_session_secret_id": env.get(resources.PLAYBACK_SESSION_SECRET_ENV),
        "cdn_origin_secret_id": env.get(resources.CDN_ORIGIN_SECRET_ENV),
        "trust_viewer_country": env.get(resources.TRUST_VIEWER_COUNTRY_ENV) == "1",
        "live_playback_key_secret_id": env.get(resources.LIVE_PLAYBACK_KEY_SECRET_ENV),
        "medialive_role_arn": env.get(resources.MEDIALIVE_ROLE.env),
        "live_event_ingest_cidrs": _cidrs(env.get(resources.LIVE_EVENT_INGEST_CIDRS_ENV)),
        "live_event_srt_secret_arn": env.get(resources.LIVE_EVENT_SRT_SECRET_ENV),
        "live_event_health_push_url": env.get(resources.LIVE_EVENT_HEALTH_PUSH_URL_ENV),
        "live_event_health_callback_url": env.get(resources.LIVE_EVENT_HEALTH_CALLBACK_URL_ENV),
        "live_event_health_stream_url": env.get(resources.LIVE_EVENT_HEALTH_STREAM_URL_ENV),
    }
    return Settings(
        table_name=env[resources.TABLE_ENV],
        signing_secret_id=env[resources.SIGNING_SECRET_ENV],
        rate_limits=RateLimits(**limits),
        **{k: v for k, v in optional.items() if v is not None},
    )


def _ports(value: str | None) -> frozenset[int] | None:
    return frozenset(int(port) for port in value.split(",") if port.strip()) if value else None


def _cidrs(value: str | None) -> tuple[str, ...] | None:
    return tuple(cidr.strip() for cidr in value.split(",") if cidr.strip()) if value else None


@cache
def _client(service: str) -> Any:
    # boto3 is imported here so that functions which never touch AWS do not pay for it.
    import boto3
    from botocore.config import Config

    # AWS_ENDPOINT_URL (standard boto3 setting) points every client at the devstack emulator.
    return boto3.client(  # type: ignore[call-overload]
        service,
        config=Config(
            retries={"mode": "standard", "max_attempts": 3},
            account_id_endpoint_mode="disabled",
            # Ranged GETs of upload bodies must not be checked against the whole object's checksum.
            response_checksum_validation="when_required",
            # One client serves every thread of a process (webhook fan-out workers on Lambda, the
            # local gateway's request threads): with botocore's 10, connections beyond it are
            # closed after each call and opened again.
            max_pool_connections=64,
        ),
    )


def dynamodb() -> DynamoDBClient:
    client: DynamoDBClient = _client("dynamodb")
    return client


def secretsmanager() -> SecretsManagerClient:
    client: SecretsManagerClient = _client("secretsmanager")
    return client


def events() -> EventBridgeClient:
    client: EventBridgeClient = _client("events")
    return client


def sqs() -> SQSClient:
    client: SQSClient = _client("sqs")
    return client


def s3() -> S3Client:
    client: S3Client = _client("s3")
    return client


def mediaconvert() -> MediaConvertClient:
    # boto3 goes to the regional endpoint (DescribeEndpoints is deprecated); the devstack sets
    # AWS_ENDPOINT_URL_MEDIACONVERT to its ffmpeg plane.
    client: MediaConvertClient = _client("mediaconvert")
    return client


def ivs() -> Any:
    # The devstack sets AWS_ENDPOINT_URL_IVS to its IVS control plane (moto's IVS has channels only).
    return _client("ivs")


def ecs() -> Any:
    # Restream relays' tasks; the devstack sets AWS_ENDPOINT_URL_ECS to its relay plane.
    return _client("ecs")


def ivs_realtime() -> Any:
    # The devstack sets AWS_ENDPOINT_URL_IVS_REALTIME to its stage plane (moto has no ivs-realtime).
    return _client("ivs-realtime")


def cloudfront_keyvaluestore() -> Any:
    # Signed with SigV4A: needs botocore's CRT extra (awscrt) on AWS; tests stub the client.
    return _client("cloudfront-keyvaluestore")


def medialive() -> Any:
    # Managed live events' channels; the devstack sets AWS_ENDPOINT_URL_MEDIALIVE to its MediaLive plane.
    return _client("medialive")


def cloudwatch() -> Any:
    # Managed live events' incident alarms (PutMetricAlarm, DeleteAlarms).
    return _client("cloudwatch")


def firehose() -> Any:
    return _client("firehose")


def athena() -> Any:
    # The devstack sets AWS_ENDPOINT_URL_ATHENA to its DuckDB-backed plane (moto's Athena runs nothing).
    return _client("athena")


@cache
def apigatewaymanagementapi(endpoint_url: str) -> Any:
    """The connections of one WebSocket API stage: its callback URL (`https://<api>/<stage>`) is the
    endpoint, as API Gateway documents; the devstack's is its loopback gateway."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "apigatewaymanagementapi",
        endpoint_url=endpoint_url,
        config=Config(retries={"mode": "standard", "max_attempts": 3}, max_pool_connections=64),
    )


def reset_caches() -> None:
    """For tests: forget settings and clients so a new environment or emulator takes effect."""
    get_settings.cache_clear()
    _client.cache_clear()
    apigatewaymanagementapi.cache_clear()
