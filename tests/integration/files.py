"""Small valid files and multipart bodies shaped like the api.video SDK's (compat §4.1)."""

from __future__ import annotations

import os
import struct
import zlib
from typing import Any

import boto3

from chalicelib.core import resources
from tests.integration.conftest import ApiClient

BOUNDARY = "0123456789abcdef0123456789abcdef"
MULTIPART_TYPE = f"multipart/form-data; boundary={BOUNDARY}"
VTT = b"WEBVTT\n\n00:00:00.000 --> 00:00:02.500\nHello\n\n00:00:02.500 --> 00:00:04.000\nWorld\n"


def png(width: int = 3, height: int = 2) -> bytes:
    """A real, decodable PNG (grayscale, one zero byte per pixel)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"".join(b"\x00" + b"\x00" * width for _ in range(height)))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def jpeg(width: int = 640, height: int = 360) -> bytes:
    """The headers a JPEG decoder reads first: SOI, an APP0 segment, then a baseline SOF0."""
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof0 = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + app0 + sof0 + b"\xff\xd9"


def multipart(filename: str, data: bytes, content_type: str = "application/octet-stream") -> tuple[bytes, str]:
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        f"Content-Type: {content_type}\r\n\r\n"
    ).encode()
    return head + data + f"\r\n--{BOUNDARY}--\r\n".encode(), f"multipart/form-data; boundary={BOUNDARY}"


def upload(api: ApiClient, path: str, filename: str, data: bytes, content_type: str = "text/vtt") -> Any:
    body, header = multipart(filename, data, content_type)
    return api.call("POST", path, body, headers={"content-type": header})


def create_video(api: ApiClient, title: str = "A video") -> str:
    response = api.call("POST", "/videos", {"title": title})
    assert response.status_code == 201, response.body
    return str(response.json_body["videoId"])


def media_object(key: str) -> tuple[bytes, str]:
    """Read inside the `aws` fixture: boto3 then talks to the in-process moto."""
    body = boto3.client("s3").get_object(Bucket=os.environ[resources.MEDIA_BUCKET.env], Key=key)
    return body["Body"].read(), body["ContentType"]


def media_keys(prefix: str) -> list[str]:
    listing = boto3.client("s3").list_objects_v2(Bucket=os.environ[resources.MEDIA_BUCKET.env], Prefix=prefix)
    return [item["Key"] for item in listing.get("Contents", [])]
