"""Services wired to their adapters, built once per process on first use.

Imports happen inside the factories so that importing a view module stays cheap: a function
pays for boto3 and the adapters only when its first request needs them (cold-start budget).
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chalicelib.core.adapters.dynamodb import Table
    from chalicelib.core.adapters.storage import ObjectStore
    from chalicelib.core.services.ratelimit import RateLimiter
    from chalicelib.platform.adapters.eventbus import EventBridgePublisher
    from chalicelib.platform.adapters.signing_keys import SecretsManagerKeyStore
    from chalicelib.platform.adapters.webhooks import SqsDeliveryQueue
    from chalicelib.platform.services.audit import AuditService
    from chalicelib.platform.services.auth import AuthService
    from chalicelib.platform.services.projects import ProjectService
    from chalicelib.platform.services.webhooks import DeliveryService, Egress, WebhookService
    from chalicelib.vod.adapters.ingest import S3Multipart, SqsIngestQueue
    from chalicelib.vod.domain.encoding import EncodingProfile as EncodingLadderProfile
    from chalicelib.vod.ports import MasterPlaylistRefresher
    from chalicelib.vod.services.direct_uploads import DirectUploadService
    from chalicelib.vod.services.encoding_profiles import EncodingProfileService
    from chalicelib.vod.services.ingest import IngestFetcher, IngestRequests
    from chalicelib.vod.services.pipeline import PipelineService
    from chalicelib.vod.services.thumbnails import ThumbnailService
    from chalicelib.vod.services.tracks import TrackService
    from chalicelib.vod.services.uploads import UploadService, UploadTokenService
    from chalicelib.vod.services.videos import VideoService
    from chalicelib.vod.services.watermarks import WatermarkService


@cache
def table() -> Table:
    from chalicelib.core import config
    from chalicelib.core.adapters.dynamodb import Table

    return Table(config.dynamodb(), config.get_settings().table_name)


@cache
def signing_keys() -> SecretsManagerKeyStore:
    from chalicelib.core import config
    from chalicelib.platform.adapters.signing_keys import SecretsManagerKeyStore

    settings = config.get_settings()
    return SecretsManagerKeyStore(
        config.secretsmanager(), settings.signing_secret_id, settings.signing_key_cache_seconds
    )


@cache
def auth_service() -> AuthService:
    from datetime import timedelta

    from chalicelib.core import config
    from chalicelib.core.adapters.audit import DynamoAuditLog
    from chalicelib.core.clock import utc_now
    from chalicelib.platform.adapters.credentials import DynamoCredentialRepository
    from chalicelib.platform.services.auth import AuthService

    settings = config.get_settings()
    return AuthService(
        credentials=DynamoCredentialRepository(table()),
        keys=signing_keys(),
        audit_log=DynamoAuditLog(table()),
        issuer=settings.token_issuer,
        access_ttl=timedelta(seconds=settings.access_token_ttl_seconds),
        refresh_ttl=timedelta(seconds=settings.refresh_token_ttl_seconds),
        clock=utc_now,
    )


@cache
def project_service() -> ProjectService:
    from chalicelib.core.clock import utc_now
    from chalicelib.platform.adapters.credentials import DynamoCredentialRepository
    from chalicelib.platform.services.projects import ProjectService

    return ProjectService(DynamoCredentialRepository(table()), clock=utc_now)


@cache
def video_service() -> VideoService:
    from chalicelib.core.clock import utc_now
    from chalicelib.vod.adapters.videos import DynamoVideoRepository
    from chalicelib.vod.services.videos import VideoService

    return VideoService(
        DynamoVideoRepository(table()), clock=utc_now, profile_exists=_profile_exists, ingest=ingest_requests
    )


def _profile_exists(project_id: str, profile_id: str) -> bool:
    from chalicelib.core.domain.errors import NotFound

    try:
        encoding_profile_service().resolve(project_id, profile_id)
    except NotFound:
        return False
    return True


@cache
def audit_service() -> AuditService:
    from chalicelib.core.adapters.audit import DynamoAuditLog
    from chalicelib.core.clock import utc_now
    from chalicelib.platform.services.audit import AuditService

    return AuditService(DynamoAuditLog(table()), clock=utc_now)


@cache
def event_publisher() -> EventBridgePublisher:
    import os

    from chalicelib.core import config, resources
    from chalicelib.platform.adapters.eventbus import EventBridgePublisher

    return EventBridgePublisher(config.events(), os.environ[resources.EVENT_BUS.env])


@cache
def rate_limiter() -> RateLimiter:
    import time

    from chalicelib.core import config
    from chalicelib.core.adapters.ratelimit import DynamoRateCounter
    from chalicelib.core.services.ratelimit import RateLimiter

    return RateLimiter(DynamoRateCounter(table()), config.get_settings().rate_limits, clock=time.time)


# Where players fetch media-bucket objects (CloudFront); api.video's equivalent is cdn.api.video.
MEDIA_BASE_URL_ENV = "VIDEOPLANE_MEDIA_BASE_URL"
DEFAULT_MEDIA_BASE_URL = "https://media.videoplane.invalid"


def media_base_url() -> str:
    import os

    return os.environ.get(MEDIA_BASE_URL_ENV, DEFAULT_MEDIA_BASE_URL).rstrip("/")


@cache
def master_playlist_refresher() -> MasterPlaylistRefresher:
    return pipeline_service()


def _track_service(kind_name: str) -> TrackService:
    from chalicelib.core.clock import utc_now
    from chalicelib.vod.adapters.tracks import DynamoTrackRepository
    from chalicelib.vod.domain.tracks import TrackKind
    from chalicelib.vod.services.tracks import TrackService

    return TrackService(
        TrackKind(kind_name),
        DynamoTrackRepository(table()),
        video_service(),
        media_store(),
        master_playlist_refresher(),
        clock=utc_now,
    )


@cache
def caption_service() -> TrackService:
    return _track_service("caption")


@cache
def chapter_service() -> TrackService:
    return _track_service("chapter")


@cache
def thumbnail_service() -> ThumbnailService:
    from chalicelib.core.clock import utc_now
    from chalicelib.vod.adapters.media import DynamoMediaRepository
    from chalicelib.vod.adapters.thumbnails import DynamoThumbnailRepository
    from chalicelib.vod.services.thumbnails import ThumbnailService

    media = DynamoMediaRepository(table())

    def chosen(project_id: str, video_id: str, key: str) -> None:
        media.choose_thumbnail(project_id, video_id, key.rsplit("/", 1)[-1], "upload", utc_now())

    return ThumbnailService(
        DynamoThumbnailRepository(table()), video_service(), media_store(), clock=utc_now, chosen=chosen
    )


@cache
def watermark_service() -> WatermarkService:
    from chalicelib.core.clock import utc_now
    from chalicelib.vod.adapters.watermarks import DynamoWatermarkRepository
    from chalicelib.vod.services.watermarks import WatermarkService

    return WatermarkService(DynamoWatermarkRepository(table()), media_store(), clock=utc_now)


@cache
def encoding_profile_service() -> EncodingProfileService:
    from chalicelib.core.clock import utc_now
    from chalicelib.vod.adapters.encoding_profiles import DynamoEncodingProfileRepository
    from chalicelib.vod.services.encoding_profiles import EncodingProfileService

    return EncodingProfileService(DynamoEncodingProfileRepository(table()), clock=utc_now)


# Test-only: multiplies the retry schedule (e.g. 0.001) so that e2e tests see retries in seconds.
RETRY_SCALE_ENV = "VIDEOPLANE_WEBHOOK_RETRY_SCALE"


def webhook_egress() -> Egress:
    """Read per call: the loopback setting comes from the environment, and the sender keeps no state."""
    import os

    from chalicelib.core import resources
    from chalicelib.platform.adapters.webhooks import PinnedHttpSender
    from chalicelib.platform.services.webhooks import Egress

    return Egress(PinnedHttpSender(), allow_loopback=os.environ.get(resources.ALLOW_LOOPBACK_WEBHOOKS_ENV) == "1")


@cache
def webhook_queue() -> SqsDeliveryQueue:
    import os

    from chalicelib.core import config, resources
    from chalicelib.platform.adapters.webhooks import SqsDeliveryQueue

    return SqsDeliveryQueue(
        config.sqs(),
        os.environ.get(resources.WEBHOOK_DELIVERIES_QUEUE.env, ""),
        os.environ.get(resources.WEBHOOK_DEAD_LETTERS_QUEUE.env, ""),
    )


@cache
def webhook_service() -> WebhookService:
    from chalicelib.core.clock import utc_now
    from chalicelib.platform.adapters.webhooks import DynamoWebhookRepository
    from chalicelib.platform.services.webhooks import WebhookService

    return WebhookService(DynamoWebhookRepository(table()), webhook_egress(), webhook_queue, clock=utc_now)


@cache
def delivery_service() -> DeliveryService:
    import os

    from chalicelib.platform.adapters.webhooks import DynamoWebhookRepository
    from chalicelib.platform.services.webhooks import DeliveryService

    scale = float(os.environ.get(RETRY_SCALE_ENV, "1"))
    return DeliveryService(DynamoWebhookRepository(table()), webhook_egress(), webhook_queue(), retry_scale=scale)


def uploads_store() -> ObjectStore:
    import os

    from chalicelib.core import resources

    return _store(os.environ[resources.UPLOADS_BUCKET.env])


def media_store() -> ObjectStore:
    import os

    from chalicelib.core import resources

    return _store(os.environ[resources.MEDIA_BUCKET.env])


@cache
def _store(bucket: str) -> ObjectStore:
    from chalicelib.core import config
    from chalicelib.core.adapters.storage import ObjectStore

    return ObjectStore(config.s3(), bucket)


@cache
def upload_service() -> UploadService:
    from chalicelib.core.clock import utc_now
    from chalicelib.vod.adapters.media import DynamoMediaRepository
    from chalicelib.vod.adapters.upload_tokens import DynamoUploadTokenRepository
    from chalicelib.vod.adapters.uploads import DynamoUploadRepository
    from chalicelib.vod.services.uploads import UploadService

    return UploadService(
        DynamoUploadRepository(table()),
        DynamoMediaRepository(table()),
        DynamoUploadTokenRepository(table()),
        video_service(),
        uploads_store(),
        clock=utc_now,
        source_arrived=lambda project_id, video_id, key: pipeline_service().ingest(project_id, video_id, key),
    )


@cache
def upload_token_service() -> UploadTokenService:
    from chalicelib.core.clock import utc_now
    from chalicelib.vod.adapters.upload_tokens import DynamoUploadTokenRepository
    from chalicelib.vod.services.uploads import UploadTokenService

    return UploadTokenService(DynamoUploadTokenRepository(table()), clock=utc_now)


@cache
def pipeline_service() -> PipelineService:
    import os

    from chalicelib.core import config, resources
    from chalicelib.core.clock import utc_now
    from chalicelib.vod.adapters.media import DynamoMediaRepository
    from chalicelib.vod.adapters.mediaconvert import MediaConvertEncoder
    from chalicelib.vod.adapters.tracks import DynamoTrackRepository
    from chalicelib.vod.adapters.videos import DynamoVideoRepository
    from chalicelib.vod.domain.tracks import TrackKind
    from chalicelib.vod.services.pipeline import PipelineService

    return PipelineService(
        DynamoMediaRepository(table()),
        DynamoVideoRepository(table()),
        MediaConvertEncoder(config.mediaconvert(), os.environ[resources.MEDIACONVERT_ROLE.env]),
        uploads_store(),
        media_store(),
        clock=utc_now,
        profiles=encoding_profile,
        watermarks=watermark_image,
        captions=lambda project_id, video_id: DynamoTrackRepository(table()).list_all(
            project_id, TrackKind.CAPTION, video_id
        ),
    )


def encoding_profile(project_id: str, profile_id: str | None) -> EncodingLadderProfile:
    """The stored profile a video names (or the project default) as the pipeline's ladder
    settings; a profile deleted since the video was created falls back to the default."""
    from chalicelib.core.domain.errors import NotFound
    from chalicelib.vod.domain import encoding

    service = encoding_profile_service()
    try:
        stored = service.resolve(project_id, profile_id)
    except NotFound:
        stored = service.resolve(project_id, None)
    return encoding.EncodingProfile(
        profile_id=stored.profile_id,
        name=stored.name,
        qualities=stored.qualities,
        mp4=stored.mp4,
        segment_seconds=stored.segment_seconds,
    )


def watermark_image(project_id: str, watermark_id: str) -> str | None:
    """The s3:// URL of a project's watermark image, for MediaConvert's ImageInserter."""
    watermark = watermark_service().repository.get(project_id, watermark_id)
    return None if watermark is None else f"{media_store().url()}/{watermark.object_key}"


# Set only by the devstack (and the tests on it): the files it ingests are served from 127.0.0.1.
# A sibling of resources.ALLOW_LOOPBACK_WEBHOOKS_ENV so that each egress is opened on purpose.
ALLOW_LOOPBACK_INGEST_ENV = "VIDEOPLANE_ALLOW_LOOPBACK_INGEST"


def _allow_loopback_ingest() -> bool:
    import os

    return os.environ.get(ALLOW_LOOPBACK_INGEST_ENV) == "1"


@cache
def ingest_queue() -> SqsIngestQueue:
    import os

    from chalicelib.core import config, resources
    from chalicelib.vod.adapters.ingest import SqsIngestQueue

    return SqsIngestQueue(config.sqs(), os.environ.get(resources.SOURCES_QUEUE.env, ""))


def ingest_requests() -> IngestRequests:
    """Built per call (cheaply): the loopback switch is read from the environment each time."""
    from chalicelib.core.clock import utc_now
    from chalicelib.vod.adapters.media import DynamoMediaRepository
    from chalicelib.vod.adapters.videos import DynamoVideoRepository
    from chalicelib.vod.services.ingest import IngestRequests

    return IngestRequests(
        DynamoVideoRepository(table()),
        DynamoMediaRepository(table()),
        ingest_queue,
        clock=utc_now,
        allow_loopback=_allow_loopback_ingest(),
    )


@cache
def uploads_multipart() -> S3Multipart:
    import os

    from chalicelib.core import config, resources
    from chalicelib.vod.adapters.ingest import S3Multipart

    return S3Multipart(config.s3(), os.environ[resources.UPLOADS_BUCKET.env])


def ingest_fetcher() -> IngestFetcher:
    from chalicelib.core.clock import utc_now
    from chalicelib.vod.adapters.ingest import GuardedFetcher
    from chalicelib.vod.adapters.media import DynamoMediaRepository
    from chalicelib.vod.adapters.videos import DynamoVideoRepository
    from chalicelib.vod.services.ingest import IngestFetcher

    return IngestFetcher(
        DynamoMediaRepository(table()),
        DynamoVideoRepository(table()),
        uploads_store(),
        uploads_multipart(),
        GuardedFetcher(allow_loopback=_allow_loopback_ingest()),
        clock=utc_now,
    )


@cache
def direct_upload_service() -> DirectUploadService:
    from chalicelib.core.clock import utc_now
    from chalicelib.vod.adapters.direct_uploads import DynamoDirectUploadRepository
    from chalicelib.vod.adapters.media import DynamoMediaRepository
    from chalicelib.vod.adapters.uploads import DynamoUploadRepository
    from chalicelib.vod.services.direct_uploads import DirectUploadService

    return DirectUploadService(
        DynamoDirectUploadRepository(table()),
        DynamoMediaRepository(table()),
        DynamoUploadRepository(table()),
        video_service(),
        uploads_store(),
        uploads_multipart(),
        clock=utc_now,
    )


def reset() -> None:
    """For tests: rebuild everything against a fresh environment."""
    from chalicelib.core import config
    from chalicelib.core.adapters import idempotency

    config.reset_caches()
    idempotency.reset()
    for factory in (
        table, signing_keys, auth_service, project_service, video_service, audit_service, rate_limiter,
        event_publisher, webhook_queue, webhook_service, delivery_service, _store, upload_service,
        upload_token_service, pipeline_service, master_playlist_refresher, caption_service,
        chapter_service, thumbnail_service, watermark_service, encoding_profile_service, ingest_queue,
        uploads_multipart, direct_upload_service,
    ):  # fmt: skip
        factory.cache_clear()
