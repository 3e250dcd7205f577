"""Text tracks of a video: captions and chapters, both WebVTT files named by an IETF language tag."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, StrictBool

from chalicelib.core.domain import formdata
from chalicelib.core.domain.errors import InvalidInput, Problem

# Captions are text: 1 MiB holds hours of dialogue, and the whole request must fit a Lambda payload.
MAX_VTT_BYTES = 1_048_576
VTT_CONTENT_TYPE = "text/vtt"

# Language, then optional script/region/variant subtags; api.video accepts dashes only (no `en_US`).
_LANGUAGE_TAG = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$")
MAX_LANGUAGE_TAG_LENGTH = 35
_TIMESTAMP = r"(?:(\d{2,}):)?([0-5]\d):([0-5]\d)\.(\d{3})"
_CUE_TIMING = re.compile(rf"^{_TIMESTAMP}[ \t]+-->[ \t]+{_TIMESTAMP}(?:[ \t].*)?$")

# Native names, as api.video's `languageName` reports them; other tags fall back to the tag itself.
NATIVE_NAMES = {
    "ar": "العربية", "bg": "Български", "ca": "Català", "cs": "Čeština", "da": "Dansk", "de": "Deutsch",
    "el": "Ελληνικά", "en": "English", "es": "Español", "et": "Eesti", "fa": "فارسی", "fi": "Suomi",
    "fr": "Français", "he": "עברית", "hi": "हिन्दी", "hr": "Hrvatski", "hu": "Magyar", "id": "Bahasa Indonesia",
    "it": "Italiano", "ja": "日本語", "ko": "한국어", "lt": "Lietuvių", "lv": "Latviešu", "ml": "മലയാളം",
    "ms": "Bahasa Melayu", "nb": "Norsk bokmål", "nl": "Nederlands", "nn": "Norsk nynorsk", "no": "Norsk",
    "pl": "Polski", "pt": "Português", "pt-BR": "Português (Brasil)", "ro": "Română", "ru": "Русский",
    "sk": "Slovenčina", "sl": "Slovenščina", "sr": "Српски", "sv": "Svenska", "te": "తెలుగు", "th": "ไทย",
    "tr": "Türkçe", "uk": "Українська", "ur": "اردو", "vi": "Tiếng Việt", "zh": "中文",
}  # fmt: skip


class TrackKind(StrEnum):
    CAPTION = "caption"
    CHAPTER = "chapter"

    @property
    def folder(self) -> str:
        return f"{self.value}s"


class TextTrack(BaseModel):
    """A stored caption or chapter file. Only captions use `default`."""

    model_config = ConfigDict(frozen=True)
    project_id: str
    video_id: str
    kind: TrackKind
    language: str
    default: bool = False
    # Milliseconds: DynamoDB numbers come from ints here (boto3 refuses floats).
    duration_ms: int
    size: int
    created_at: datetime
    updated_at: datetime
    version: int = 1

    @property
    def duration_seconds(self) -> float:
        return self.duration_ms / 1000

    @property
    def object_key(self) -> str:
        return object_key(self.kind, self.video_id, self.language)

    @property
    def uri(self) -> str:
        return f"/videos/{self.video_id}/{self.kind.folder}/{self.language}"

    @property
    def language_name(self) -> str:
        return language_name(self.language)


class CaptionUpdate(BaseModel):
    """`PATCH /videos/{id}/captions/{language}` body (api.video CaptionsUpdatePayload)."""

    default: StrictBool


@dataclass(frozen=True)
class WebVtt:
    cues: int
    duration_seconds: float


def object_key(kind: TrackKind, video_id: str, language: str) -> str:
    """Where players fetch the file (api.video's `src` path under the media host)."""
    return f"vod/{video_id}/{kind.folder}/{language}.vtt"


def language_tag(value: str) -> str:
    if len(value) > MAX_LANGUAGE_TAG_LENGTH or not _LANGUAGE_TAG.match(value):
        raise InvalidInput(
            [
                Problem(
                    "invalid-attribute",
                    'The language must be an IETF language tag with dashes only, such as "en", "fr" or "pt-BR".',
                    "language",
                )
            ]
        )
    return value


def language_name(tag: str) -> str:
    primary = tag.split("-", 1)[0].lower()
    return NATIVE_NAMES.get(tag) or NATIVE_NAMES.get(primary) or tag


def _invalid(title: str) -> InvalidInput:
    return formdata.file_problem("uploaded-file-invalid-file", title)


def _seconds(hours: str | None, minutes: str, seconds: str, millis: str) -> float:
    return int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds) + int(millis) / 1000


def parse_webvtt(filename: str, data: bytes) -> WebVtt:
    """Checks what players need: the signature, UTF-8 text and cue timings that parse."""
    if formdata.extension_of(filename) not in ("", "vtt"):
        raise formdata.file_problem("uploaded-file-extension-invalid", "Only [vtt] extensions are supported.")
    if not data:
        raise formdata.empty_file()
    if len(data) > MAX_VTT_BYTES:
        raise formdata.file_problem(
            "uploaded-file-too-large", f"The WebVTT file must not exceed {MAX_VTT_BYTES} bytes (1 MiB)."
        )
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as error:
        raise _invalid("The WebVTT file must be UTF-8 text.") from error
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if not re.match(r"^WEBVTT(?:[ \t].*)?$", lines[0]):
        raise _invalid('The file is not WebVTT: its first line must be "WEBVTT".')
    ends = [_cue_end(line.strip()) for line in lines[1:] if "-->" in line]
    if not ends:
        raise _invalid("The WebVTT file has no cues.")
    return WebVtt(cues=len(ends), duration_seconds=max(ends))


def _cue_end(line: str) -> float:
    match = _CUE_TIMING.match(line)
    if match is None:
        raise _invalid(f"The WebVTT file has an invalid cue timing line: {line[:80]!r}.")
    start, end = _seconds(*match.groups()[:4]), _seconds(*match.groups()[4:])
    if end < start:
        raise _invalid(f"The WebVTT file has a cue that ends before it starts: {line[:80]!r}.")
    return end


def with_default(track: TextTrack, default: bool, now: datetime) -> TextTrack:
    return track.model_copy(update={"default": default, "updated_at": now, "version": track.version + 1})
