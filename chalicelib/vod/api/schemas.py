"""Wire shapes of the VOD responses, for `/openapi.json` only (the presenters build the bodies),
field for field as the api.video SDK 1.4.7 models read them; schemathesis checks every response
against them."""

# ruff: noqa: N815 - the attributes are the wire names

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from chalicelib.vod.domain.ingest import DirectUploadStatus
from chalicelib.vod.domain.media import IngestStatus, QualityStatus
from chalicelib.vod.domain.videos import LanguageOrigin


class MetadataPair(BaseModel):
    key: str
    value: str


class VideoSource(BaseModel):
    uri: str


class VideoAssets(BaseModel):
    hls: str
    iframe: str
    player: str
    thumbnail: str | None = None
    mp4: str | None = None


class Video(BaseModel):
    videoId: str
    createdAt: datetime
    title: str
    description: str
    publishedAt: datetime
    updatedAt: datetime
    discardedAt: datetime | None
    deletesAt: datetime | None
    discarded: bool
    languageOrigin: LanguageOrigin | None
    tags: list[str]
    metadata: list[MetadataPair]
    source: VideoSource
    public: bool
    panoramic: bool
    mp4Support: bool
    assets: VideoAssets | None = Field(
        default=None,
        description="From creation (absent on a discarded video): `hls` and `mp4` answer once the video is "
        "encoded, `thumbnail` appears with the first frame.",
    )
    language: str | None = None
    playerId: str | None = None
    encodingProfileId: str | None = None


class Quality(BaseModel):
    type: Literal["hls", "mp4"]
    quality: str
    status: QualityStatus


class EncodingMetadata(BaseModel):
    width: int | None = None
    height: int | None = None
    bitrate: float | None = None
    duration: int | None = None
    framerate: int | None = None
    samplerate: int | None = None
    videoCodec: str | None = None
    audioCodec: str | None = None
    aspectRatio: str | None = None


class Encoding(BaseModel):
    playable: bool
    qualities: list[Quality]
    metadata: EncodingMetadata
    failure: str | None = Field(default=None, description="Videoplane: why encoding stopped.")


class ReceivedBytes(BaseModel):
    from_: int = Field(alias="from")
    to: int
    total: int | None


class ReceivedParts(BaseModel):
    parts: list[int]
    total: int | None


class Ingest(BaseModel):
    status: IngestStatus
    filesize: int | None
    receivedBytes: list[ReceivedBytes]
    receivedParts: ReceivedParts


class VideoStatus(BaseModel):
    encoding: Encoding
    ingest: Ingest | None = Field(default=None, description="Absent until the source starts to arrive.")


class Tag(BaseModel):
    value: str
    videoCount: int


class UploadToken(BaseModel):
    token: str
    ttl: int
    createdAt: datetime
    expiresAt: datetime | None


class DirectUpload(BaseModel):
    uploadId: str
    videoId: str
    status: DirectUploadStatus
    filesize: int
    partSize: int
    partsCount: int
    createdAt: datetime


class DirectUploads(BaseModel):
    data: list[DirectUpload]


class PartUrl(BaseModel):
    partNumber: int
    url: str
    size: int


class StoredPart(BaseModel):
    partNumber: int
    size: int
    etag: str


class DirectUploadGrant(DirectUpload):
    expiresAt: datetime | None
    parts: list[PartUrl]
    uploadedParts: list[StoredPart]


class Caption(BaseModel):
    uri: str
    src: str
    srclang: str
    languageName: str
    default: bool


class Chapter(BaseModel):
    uri: str
    src: str
    language: str


class Watermark(BaseModel):
    watermarkId: str
    createdAt: datetime


class EncodingProfile(BaseModel):
    profileId: str
    name: str
    qualities: list[str]
    mp4: bool
    segmentSeconds: int
    default: bool
    createdAt: datetime
    updatedAt: datetime
