"""The VOD context's composition root: videos, uploads, ingest, the pipeline, tracks, images and
encoding profiles wired to their adapters. No rules here: every choice is a setting
(config.Settings) or a service's."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.core.wiring import component, media_bucket, settings, table, uploads_bucket

if TYPE_CHECKING:
    from chalicelib.core.ports import Authenticator
    from chalicelib.vod.adapters.ingest import S3Multipart, SqsIngestQueue
    from chalicelib.vod.adapters.media import DynamoMediaRepository
    from chalicelib.vod.adapters.players import DynamoPlayerDirectory
    from chalicelib.vod.adapters.private_tokens import DynamoPrivateTokenMint
    from chalicelib.vod.adapters.tracks import DynamoTrackRepository
    from chalicelib.vod.adapters.videos import DynamoVideoRepository
    from chalicelib.vod.services.direct_uploads import DirectUploadService
    from chalicelib.vod.services.encoding_profiles import EncodingProfileService
    from chalicelib.vod.services.ingest import IngestFetcher, IngestRequests
    from chalicelib.vod.services.pipeline import PipelineService
    from chalicelib.vod.services.purge import PurgeService
    from chalicelib.vod.services.recordings import RecordingImports
    from chalicelib.vod.services.thumbnails import ThumbnailService
    from chalicelib.vod.services.tracks import TrackService
    from chalicelib.vod.services.uploads import UploadService, UploadTokenService
    from chalicelib.vod.services.videos import VideoService
    from chalicelib.vod.services.watermarks import WatermarkService


def authenticator() -> Authenticator:
    """Who is calling, from an Authorization header (the upload routes' own authorizer needs it).
    The platform implements it; this composition root is where the two contexts are joined."""
    from chalicelib.platform import wiring as platform_wiring

    return platform_wiring.auth_service()


@component
def videos() -> DynamoVideoRepository:
    from chalicelib.vod.adapters.videos import DynamoVideoRepository

    return DynamoVideoRepository(table())


@component
def private_tokens() -> DynamoPrivateTokenMint:
    from chalicelib.vod.adapters.private_tokens import DynamoPrivateTokenMint

    return DynamoPrivateTokenMint(table())


@component
def media() -> DynamoMediaRepository:
    from chalicelib.vod.adapters.media import DynamoMediaRepository

    return DynamoMediaRepository(table())


@component
def tracks() -> DynamoTrackRepository:
    from chalicelib.vod.adapters.tracks import DynamoTrackRepository

    return DynamoTrackRepository(table())


@component
def video_service() -> VideoService:
    from chalicelib.core.clock import utc_now
    from chalicelib.vod.services.videos import VideoService

    return VideoService(
        videos(),
        clock=utc_now,
        profile_exists=lambda project_id, profile_id: encoding_profile_service().exists(project_id, profile_id),
        ingest=ingest_requests,
        watermark_exists=lambda project_id, watermark_id: (
            watermark_service().repository.get(project_id, watermark_id) is not None
        ),
        player_exists=lambda project_id, player_id: player_directory().exists(project_id, player_id),
    )


@component
def player_directory() -> DynamoPlayerDirectory:
    from chalicelib.vod.adapters.players import DynamoPlayerDirectory

    return DynamoPlayerDirectory(table())


def _track_service(kind_name: str) -> TrackService:
    from chalicelib.core.clock import utc_now
    from chalicelib.vod.domain.tracks import TrackKind
    from chalicelib.vod.services.tracks import TrackService

    return TrackService(
        TrackKind(kind_name), tracks(), video_service(), media_bucket(), pipeline_service(), clock=utc_now
    )


@component
def caption_service() -> TrackService:
    return _track_service("caption")


@component
def chapter_service() -> TrackService:
    return _track_service("chapter")


@component
def thumbnail_service() -> ThumbnailService:
    from chalicelib.core.clock import utc_now
    from chalicelib.vod.adapters.thumbnails import DynamoThumbnailRepository
    from chalicelib.vod.services.thumbnails import ThumbnailService

    return ThumbnailService(
        DynamoThumbnailRepository(table()), video_service(), media_bucket(), clock=utc_now, media=media()
    )


@component
def watermark_service() -> WatermarkService:
    from chalicelib.core.clock import utc_now
    from chalicelib.vod.adapters.watermarks import DynamoWatermarkRepository
    from chalicelib.vod.services.watermarks import WatermarkService

    return WatermarkService(DynamoWatermarkRepository(table()), media_bucket(), clock=utc_now)


@component
def encoding_profile_service() -> EncodingProfileService:
    from chalicelib.core.clock import utc_now
    from chalicelib.vod.adapters.encoding_profiles import DynamoEncodingProfileRepository
    from chalicelib.vod.services.encoding_profiles import EncodingProfileService

    return EncodingProfileService(DynamoEncodingProfileRepository(table()), clock=utc_now)


@component
def upload_service() -> UploadService:
    from chalicelib.core.clock import utc_now
    from chalicelib.vod.adapters.upload_tokens import DynamoUploadTokenRepository
    from chalicelib.vod.adapters.uploads import DynamoUploadRepository
    from chalicelib.vod.services.uploads import UploadService

    return UploadService(
        DynamoUploadRepository(table()),
        media(),
        DynamoUploadTokenRepository(table()),
        video_service(),
        uploads_bucket(),
        clock=utc_now,
        source_arrived=lambda project_id, video_id, key: pipeline_service().ingest(project_id, video_id, key),
    )


@component
def upload_token_service() -> UploadTokenService:
    from chalicelib.core.clock import utc_now
    from chalicelib.vod.adapters.upload_tokens import DynamoUploadTokenRepository
    from chalicelib.vod.services.uploads import UploadTokenService

    return UploadTokenService(DynamoUploadTokenRepository(table()), clock=utc_now)


@component
def pipeline_service() -> PipelineService:
    from chalicelib.core import config
    from chalicelib.core.clock import utc_now
    from chalicelib.vod.adapters.mediaconvert import MediaConvertEncoder
    from chalicelib.vod.domain.tracks import TrackKind
    from chalicelib.vod.services.pipeline import PipelineService

    return PipelineService(
        media(),
        videos(),
        MediaConvertEncoder(config.mediaconvert(), settings().mediaconvert_role_arn),
        uploads_bucket(),
        media_bucket(),
        clock=utc_now,
        profiles=lambda project_id, profile_id: encoding_profile_service().ladder(project_id, profile_id),
        watermarks=lambda project_id, watermark_id: watermark_service().image_url(project_id, watermark_id),
        captions=lambda project_id, video_id: tracks().list_all(project_id, TrackKind.CAPTION, video_id),
    )


@component
def ingest_queue() -> SqsIngestQueue:
    from chalicelib.core import config
    from chalicelib.vod.adapters.ingest import SqsIngestQueue

    return SqsIngestQueue(config.sqs(), settings().sources_queue_url)


@component
def ingest_requests() -> IngestRequests:
    from chalicelib.core.clock import utc_now
    from chalicelib.vod.services.ingest import IngestRequests

    current = settings()
    return IngestRequests(
        videos(),
        media(),
        ingest_queue,
        clock=utc_now,
        allow_loopback=current.allow_loopback_ingest,
        denied_ports=current.loopback_deny_ports,
    )


@component
def uploads_multipart() -> S3Multipart:
    from chalicelib.core import config
    from chalicelib.vod.adapters.ingest import S3Multipart

    return S3Multipart(config.s3(), settings().uploads_bucket)


@component
def ingest_fetcher() -> IngestFetcher:
    from chalicelib.core.clock import utc_now
    from chalicelib.vod.adapters.ingest import GuardedFetcher
    from chalicelib.vod.services.ingest import IngestFetcher

    return IngestFetcher(
        media(),
        videos(),
        uploads_bucket(),
        uploads_multipart(),
        GuardedFetcher(allow_loopback=settings().allow_loopback_ingest, denied_ports=settings().loopback_deny_ports),
        clock=utc_now,
        recordings=media_bucket(),
    )


@component
def recording_imports() -> RecordingImports:
    from chalicelib.core.clock import utc_now
    from chalicelib.vod.services.recordings import RecordingImports

    return RecordingImports(videos(), ingest_fetcher, media_bucket(), clock=utc_now)


@component
def direct_upload_service() -> DirectUploadService:
    from chalicelib.core.clock import utc_now
    from chalicelib.vod.adapters.direct_uploads import DynamoDirectUploadRepository
    from chalicelib.vod.adapters.uploads import DynamoUploadRepository
    from chalicelib.vod.services.direct_uploads import DirectUploadService

    return DirectUploadService(
        DynamoDirectUploadRepository(table()),
        media(),
        DynamoUploadRepository(table()),
        video_service(),
        uploads_bucket(),
        uploads_multipart(),
        clock=utc_now,
    )


@component
def purge_service() -> PurgeService:
    from chalicelib.core import config
    from chalicelib.vod.adapters.purge import DynamoVideoLeftovers, S3Sweeper
    from chalicelib.vod.services.purge import PurgeService

    s3 = config.s3()
    return PurgeService(
        S3Sweeper(s3, settings().uploads_bucket), S3Sweeper(s3, settings().media_bucket), DynamoVideoLeftovers(table())
    )
