"""The video aggregate: payloads, entity and the pure rules that change it."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr, StringConstraints

from chalicelib.core import ids
from chalicelib.core.domain.pagination import SortOrder

VIDEO_ID_PREFIX = "vi"
PLAYER_ID_PREFIX = "pl"
DISCARD_RETENTION = timedelta(days=90)

# The SDK's enum has the string 'false' where Norwegian ('no') was meant (a YAML 1.1 artefact).
Language = Literal[
    "ar", "ca", "cs", "da", "de", "el", "en", "es", "fa", "fi", "fr", "he", "hi", "hr", "hu", "it", "ja",
    "ko", "ml", "nl", "nn", "no", "false", "pl", "pt", "ru", "sk", "sl", "te", "tr", "uk", "ur", "vi", "zh",
]  # fmt: skip
SummaryAttribute = Literal["abstract", "takeaways"]
Timecode = Annotated[
    StrictStr, StringConstraints(pattern=r"^(?:\d{2,3}:[0-5]\d:[0-5]\d(?:\.\d{1,3}|:\d{1,2})?|\d{1,7})$")
]
Title = Annotated[StrictStr, StringConstraints(min_length=1, max_length=256)]
Description = Annotated[StrictStr, StringConstraints(max_length=4096)]
Tag = Annotated[StrictStr, StringConstraints(min_length=1, max_length=255)]
PlayerId = Annotated[StrictStr, StringConstraints(pattern=r"^pl[0-9A-Za-z]{22}$")]
MetadataText = Annotated[StrictStr, StringConstraints(min_length=1, max_length=255)]
EncodingProfileId = Annotated[StrictStr, StringConstraints(pattern=r"^(?:default|ep[0-9A-Za-z]{22})$")]
WatermarkLength = Annotated[StrictStr, StringConstraints(max_length=32)]


class Metadata(BaseModel):
    model_config = ConfigDict(frozen=True)
    key: MetadataText
    value: Annotated[StrictStr, StringConstraints(max_length=1024)]


class Clip(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True)
    start_timecode: Timecode | None = Field(default=None, alias="startTimecode")
    end_timecode: Timecode | None = Field(default=None, alias="endTimecode")


class VideoWatermark(BaseModel):
    model_config = ConfigDict(frozen=True)
    id: Annotated[StrictStr, StringConstraints(min_length=1, max_length=64)]
    top: WatermarkLength | None = None
    left: WatermarkLength | None = None
    bottom: WatermarkLength | None = None
    right: WatermarkLength | None = None
    width: WatermarkLength | None = None
    height: WatermarkLength | None = None
    opacity: WatermarkLength | None = None


class VideoCreation(BaseModel):
    """`POST /videos` body (api.video VideoCreationPayload)."""

    model_config = ConfigDict(populate_by_name=True)
    title: Title
    description: Description = ""
    source: StrictStr | None = None
    public: StrictBool = True
    panoramic: StrictBool = False
    mp4_support: StrictBool = Field(default=True, alias="mp4Support")
    player_id: PlayerId | None = Field(default=None, alias="playerId")
    tags: Annotated[list[Tag], Field(max_length=100)] = []
    metadata: Annotated[list[Metadata], Field(max_length=100)] = []
    clip: Clip | None = None
    watermark: VideoWatermark | None = None
    language: Language | None = None
    transcript: StrictBool = False
    transcript_summary: StrictBool = Field(default=False, alias="transcriptSummary")
    transcript_summary_attributes: list[SummaryAttribute] | None = Field(
        default=None, alias="transcriptSummaryAttributes"
    )
    # Videoplane extension: the encoding profile (ladder, MP4, segment length) to encode with.
    encoding_profile_id: EncodingProfileId | None = Field(default=None, alias="encodingProfileId")


class VideoUpdate(BaseModel):
    """`PATCH /videos/{id}` body: an absent key leaves the field, an explicit null clears it."""

    model_config = ConfigDict(populate_by_name=True)
    title: Title | None = None
    description: Description | None = None
    public: StrictBool | None = None
    panoramic: StrictBool | None = None
    mp4_support: StrictBool | None = Field(default=None, alias="mp4Support")
    player_id: PlayerId | None = Field(default=None, alias="playerId")
    tags: Annotated[list[Tag], Field(max_length=100)] | None = None
    metadata: Annotated[list[Metadata], Field(max_length=100)] | None = None
    language: Language | None = None
    transcript: StrictBool | None = None
    transcript_summary: StrictBool | None = Field(default=None, alias="transcriptSummary")
    transcript_summary_attributes: list[SummaryAttribute] | None = Field(
        default=None, alias="transcriptSummaryAttributes"
    )

    # Fields whose null means "clear"; for the others null means "leave as is" is not offered:
    # api.video declares only these two nullable, so a null elsewhere is a type error.
    NULLABLE: ClassVar[frozenset[str]] = frozenset({"player_id", "language"})

    def changes(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.model_fields_set}

    def null_violations(self) -> list[str]:
        return [name for name in self.model_fields_set if getattr(self, name) is None and name not in self.NULLABLE]


class LanguageOrigin(StrEnum):
    API = "api"
    AUTO = "auto"


class Video(BaseModel):
    """The stored video. Only the API layer decides its wire shape."""

    model_config = ConfigDict(frozen=True)
    project_id: str
    video_id: str
    title: str
    description: str = ""
    public: bool = True
    panoramic: bool = False
    mp4_support: bool = True
    player_id: str | None = None
    tags: tuple[str, ...] = ()
    metadata: tuple[Metadata, ...] = ()
    clip: Clip | None = None
    watermark: VideoWatermark | None = None
    language: str | None = None
    language_origin: LanguageOrigin | None = None
    transcript: bool = False
    transcript_summary: bool = False
    transcript_summary_attributes: tuple[str, ...] | None = None
    live_stream_id: str | None = None
    encoding_profile_id: str | None = None
    created_at: datetime
    updated_at: datetime
    published_at: datetime
    discarded_at: datetime | None = None
    deletes_at: datetime | None = None
    version: int = 1

    @property
    def discarded(self) -> bool:
        return self.discarded_at is not None


def new_video(project_id: str, payload: VideoCreation, now: datetime) -> Video:
    return Video(
        project_id=project_id,
        video_id=ids.new_id(VIDEO_ID_PREFIX),
        title=payload.title,
        description=payload.description,
        public=payload.public,
        panoramic=payload.panoramic,
        mp4_support=payload.mp4_support,
        player_id=payload.player_id,
        tags=_unique(payload.tags),
        metadata=tuple(payload.metadata),
        clip=payload.clip,
        watermark=payload.watermark,
        language=payload.language,
        language_origin=LanguageOrigin.API if payload.language else None,
        transcript=payload.transcript,
        transcript_summary=payload.transcript_summary,
        transcript_summary_attributes=_tuple_or_none(payload.transcript_summary_attributes),
        encoding_profile_id=payload.encoding_profile_id,
        created_at=now,
        updated_at=now,
        published_at=now,
    )


def apply_update(video: Video, changes: dict[str, Any], now: datetime) -> Video:
    """Arrays replace wholesale, as in api.video."""
    fields = dict(changes)
    if "tags" in fields:
        fields["tags"] = _unique(fields["tags"])
    if "metadata" in fields:
        fields["metadata"] = tuple(fields["metadata"])
    if "transcript_summary_attributes" in fields:
        fields["transcript_summary_attributes"] = _tuple_or_none(fields["transcript_summary_attributes"])
    if "language" in fields:
        fields["language_origin"] = LanguageOrigin.API if fields["language"] else None
    return video.model_copy(update={**fields, "updated_at": now, "version": video.version + 1})


_BOOKKEEPING = frozenset({"updated_at", "version", "language_origin"})


def changed_fields(before: Video, after: Video) -> list[str]:
    """The api.video names of the attributes an update really changed."""
    names = [
        name
        for name in Video.model_fields
        if name not in _BOOKKEEPING and getattr(before, name) != getattr(after, name)
    ]
    return [_WIRE_NAMES.get(name, name) for name in names]


_WIRE_NAMES = {
    "mp4_support": "mp4Support",
    "player_id": "playerId",
    "transcript_summary": "transcriptSummary",
    "transcript_summary_attributes": "transcriptSummaryAttributes",
}


def discard(video: Video, now: datetime) -> Video:
    return video.model_copy(
        update={
            "discarded_at": now,
            "deletes_at": now + DISCARD_RETENTION,
            "updated_at": now,
            "version": video.version + 1,
        }
    )


def restore(video: Video, now: datetime) -> Video:
    return video.model_copy(
        update={"discarded_at": None, "deletes_at": None, "updated_at": now, "version": video.version + 1}
    )


class SortField(StrEnum):
    TITLE = "title"
    CREATED_AT = "createdAt"
    PUBLISHED_AT = "publishedAt"
    UPDATED_AT = "updatedAt"


class VideoQuery(BaseModel):
    """`GET /videos` filters. Every filter must hold (tags all-of, metadata all pairs)."""

    model_config = ConfigDict(populate_by_name=True)
    title: Annotated[str, StringConstraints(max_length=256)] | None = None
    description: Annotated[str, StringConstraints(max_length=4096)] | None = None
    tags: list[Annotated[str, StringConstraints(max_length=255)]] = []
    metadata: dict[str, str] = {}
    live_stream_id: Annotated[str, StringConstraints(max_length=64)] | None = Field(default=None, alias="liveStreamId")
    sort_by: SortField = Field(default=SortField.CREATED_AT, alias="sortBy")
    sort_order: SortOrder = Field(default=SortOrder.ASC, alias="sortOrder")


class Listable(Protocol):
    """What `GET /videos` filters and sorts on: a Video, or its row in the listing index."""

    @property
    def video_id(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def tags(self) -> Sequence[str]: ...
    @property
    def metadata(self) -> Sequence[Metadata]: ...
    @property
    def live_stream_id(self) -> str | None: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def updated_at(self) -> datetime: ...
    @property
    def published_at(self) -> datetime: ...


_NOT_READ = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class VideoListing:
    """A video's row in the listing index: the attributes a query filters and sorts on. Those the
    query does not use are not read (left at their defaults)."""

    video_id: str
    created_at: datetime
    title: str = ""
    description: str = ""
    tags: tuple[str, ...] = ()
    metadata: tuple[Metadata, ...] = ()
    live_stream_id: str | None = None
    updated_at: datetime = _NOT_READ
    published_at: datetime = _NOT_READ


def listing_fields(query: VideoQuery) -> frozenset[str]:
    """The Video fields `select` reads for this query (besides video_id and created_at)."""
    wanted = {
        "title": query.title is not None or query.sort_by is SortField.TITLE,
        "description": query.description is not None,
        "tags": bool(query.tags),
        "metadata": bool(query.metadata),
        "live_stream_id": query.live_stream_id is not None,
        "updated_at": query.sort_by is SortField.UPDATED_AT,
        "published_at": query.sort_by is SortField.PUBLISHED_AT,
    }
    return frozenset(name for name, needed in wanted.items() if needed)


def matches(video: Listable, query: VideoQuery) -> bool:
    if query.title is not None and query.title.casefold() not in video.title.casefold():
        return False
    if query.description is not None and query.description.casefold() not in video.description.casefold():
        return False
    if query.live_stream_id is not None and video.live_stream_id != query.live_stream_id:
        return False
    if not set(query.tags) <= set(video.tags):
        return False
    pairs = {(m.key, m.value) for m in video.metadata}
    return all((key, value) in pairs for key, value in query.metadata.items())


L = TypeVar("L", bound=Listable)


def select(videos: Iterable[L], query: VideoQuery) -> list[L]:
    chosen = [v for v in videos if matches(v, query)]
    key: Callable[[L], tuple[Any, str]] = {
        SortField.TITLE: lambda v: (v.title.casefold(), v.video_id),
        SortField.CREATED_AT: lambda v: (v.created_at, v.video_id),
        SortField.PUBLISHED_AT: lambda v: (v.published_at, v.video_id),
        SortField.UPDATED_AT: lambda v: (v.updated_at, v.video_id),
    }[query.sort_by]
    return sorted(chosen, key=key, reverse=query.sort_order is SortOrder.DESC)


class TagQuery(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    value: Annotated[str, StringConstraints(max_length=255)] | None = None
    sort_by: Literal["value", "videoCount"] = Field(default="value", alias="sortBy")
    sort_order: SortOrder = Field(default=SortOrder.ASC, alias="sortOrder")


def tag_counts(videos: Iterable[Listable], query: TagQuery) -> list[tuple[str, int]]:
    import unicodedata

    def fold(text: str) -> str:
        decomposed = unicodedata.normalize("NFKD", text)
        return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()

    counts: dict[str, int] = {}
    for video in videos:
        for tag in video.tags:
            counts[tag] = counts.get(tag, 0) + 1
    wanted = fold(query.value) if query.value else None
    rows = [(tag, n) for tag, n in counts.items() if wanted is None or wanted in fold(tag)]
    reverse = query.sort_order is SortOrder.DESC
    if query.sort_by == "videoCount":
        return sorted(rows, key=lambda row: (row[1], row[0]), reverse=reverse)
    return sorted(rows, key=lambda row: (fold(row[0]), row[0]), reverse=reverse)


def _unique(values: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


def _tuple_or_none(values: Sequence[str] | None) -> tuple[str, ...] | None:
    return None if values is None else tuple(values)
