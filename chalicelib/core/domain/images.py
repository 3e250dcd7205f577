"""Image files recognised by their bytes, never by their name: format and pixel size from the headers."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import StrEnum

from chalicelib.core.domain import formdata

# API Gateway hands Lambda at most 6 MB, and a binary body arrives base64-encoded (4/3 larger);
# 4 MiB of image plus the multipart envelope stays under that. api.video documents 8 MiB.
MAX_IMAGE_BYTES = 4 * 1024 * 1024

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Start-of-frame markers carry the frame size; C4 (DHT), C8 (JPG) and CC (DAC) do not.
_JPEG_SOF = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
# Markers without a length field: TEM, RSTn, SOI, EOI.
_JPEG_STANDALONE = frozenset({0x01, *range(0xD0, 0xDA)})


class ImageFormat(StrEnum):
    JPEG = "jpeg"
    PNG = "png"
    WEBP = "webp"

    @property
    def content_type(self) -> str:
        return f"image/{self.value}"

    @property
    def extension(self) -> str:
        return "jpg" if self is ImageFormat.JPEG else self.value


@dataclass(frozen=True)
class ImageInfo:
    format: ImageFormat
    width: int
    height: int


def sniff(data: bytes) -> ImageFormat | None:
    if data.startswith(PNG_SIGNATURE):
        return ImageFormat.PNG
    if data.startswith(b"\xff\xd8\xff"):
        return ImageFormat.JPEG
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return ImageFormat.WEBP
    return None


def inspect(data: bytes) -> ImageInfo | None:
    """The format and pixel size, or None when the bytes are not a JPEG, PNG or WebP image we can read."""
    image_format = sniff(data)
    if image_format is None:
        return None
    size = {ImageFormat.PNG: _png_size, ImageFormat.JPEG: _jpeg_size, ImageFormat.WEBP: _webp_size}[image_format](data)
    if size is None or size[0] <= 0 or size[1] <= 0:
        return None
    return ImageInfo(image_format, *size)


def _png_size(data: bytes) -> tuple[int, int] | None:
    # The IHDR chunk must come first: length (13), type, then width and height (big-endian).
    if len(data) < 24 or data[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    position = 2
    while position + 4 <= len(data):
        if data[position] != 0xFF:
            return None
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte before a marker
            position += 1
            continue
        if marker in _JPEG_STANDALONE:
            position += 2
            continue
        (length,) = struct.unpack(">H", data[position + 2 : position + 4])
        if marker in _JPEG_SOF:
            if position + 9 > len(data):
                return None
            height, width = struct.unpack(">HH", data[position + 5 : position + 9])
            return width, height
        if marker == 0xDA or length < 2:  # entropy-coded data starts: no frame header seen
            return None
        position += 2 + length
    return None


def _webp_size(data: bytes) -> tuple[int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8X" and len(data) >= 30:
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return width, height
    if chunk == b"VP8L" and len(data) >= 25 and data[20] == 0x2F:
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8 " and len(data) >= 30 and data[23:26] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    return None


def require_image(data: bytes, allowed: tuple[ImageFormat, ...], extensions: str) -> ImageInfo:
    """The uploaded image, or api.video's file problem. `extensions` is their list, as in its titles."""
    if not data:
        raise formdata.empty_file()
    if len(data) > MAX_IMAGE_BYTES:
        raise formdata.file_problem(
            "uploaded-file-too-large", f"The image must not exceed {MAX_IMAGE_BYTES} bytes (4 MiB)."
        )
    info = inspect(data)
    if info is None or info.format not in allowed:
        raise formdata.file_problem("uploaded-file-extension-invalid", f"Only [{extensions}] extensions are supported.")
    return info
