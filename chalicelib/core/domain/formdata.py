"""multipart/form-data as the api.video SDK sends it: text fields first, then one
`file` part.

Upload parts are stored in S3 exactly as received, envelope included, and assembled with
ranged copies; so the parser works on the *head* of a body and reports where the file's bytes
start and end instead of copying them. Small bodies (captions, thumbnails) use `parse`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from chalicelib.core.domain.errors import InvalidInput, Problem

FILE_FIELD = "file"
# Enough for the text fields and the file part's headers; the SDK sends a few hundred bytes.
HEAD_BYTES = 16_384

_BOUNDARY = re.compile(r'boundary=(?:"([^"]{1,70})"|([^\s;]{1,70}))', re.IGNORECASE)
_DISPOSITION_PARAM = re.compile(r';\s*([a-zA-Z*]+)="((?:[^"\\]|\\.)*)"|;\s*([a-zA-Z*]+)=([^;\s]+)')


@dataclass(frozen=True)
class FileLocation:
    """Where the file's bytes are inside the body: [start, end) offsets."""

    fields: dict[str, str]
    filename: str
    content_type: str
    start: int
    end: int

    @property
    def size(self) -> int:
        return self.end - self.start


@dataclass(frozen=True)
class Form:
    fields: dict[str, str]
    filename: str
    content_type: str
    data: bytes = field(repr=False)


def file_problem(slug: str, title: str) -> InvalidInput:
    return InvalidInput([Problem(slug, title, FILE_FIELD)])


def no_file() -> InvalidInput:
    return file_problem("uploaded-file-no-file", "There is no uploaded file in the request.")


def boundary_of(content_type: str | None) -> bytes:
    if not content_type or not content_type.lower().startswith("multipart/form-data"):
        raise no_file()
    match = _BOUNDARY.search(content_type)
    if match is None:
        raise no_file()
    return (match.group(1) or match.group(2)).encode("latin-1")


def locate_file(head: bytes, total_size: int, content_type: str | None, tail: bytes = b"") -> FileLocation:
    """Parses the text fields and the file part's headers from the first bytes of the body.

    The file runs to the closing delimiter, which must end the body (`--boundary--` plus an
    optional CRLF): with the body's last bytes (`tail`, when `head` is not the whole body) and
    its size, that says where the file stops."""
    boundary = boundary_of(content_type)
    delimiter = b"--" + boundary
    if not head.startswith(delimiter):
        raise file_problem("uploaded-file-invalid-file", "The multipart body does not start with its boundary.")
    fields: dict[str, str] = {}
    position = 0
    while True:
        headers_start = position + len(delimiter) + 2
        headers_end = head.find(b"\r\n\r\n", headers_start)
        if headers_end < 0:
            raise file_problem("uploaded-file-invalid-file", "The multipart part headers are malformed or too long.")
        name, filename, part_type = _part_headers(head[headers_start:headers_end])
        data_start = headers_end + 4
        if filename is not None and name == FILE_FIELD:
            end = _file_end(head, tail, total_size, delimiter, data_start)
            if end < data_start:
                raise file_problem("uploaded-file-invalid-file", "The multipart body is truncated.")
            return FileLocation(fields, filename or "no_name", part_type, data_start, end)
        next_part = head.find(b"\r\n" + delimiter, data_start)
        if next_part < 0:
            raise no_file()
        if filename is None and name:
            fields[name] = head[data_start:next_part].decode("utf-8", "replace")
        position = next_part + 2
        if head[position + len(delimiter) : position + len(delimiter) + 2] == b"--":
            raise no_file()


def parse(body: bytes, content_type: str | None) -> Form:
    # The whole body is its own tail: a file longer than the head still ends at the closing delimiter.
    location = locate_file(body[:HEAD_BYTES], len(body), content_type, tail=body)
    return Form(location.fields, location.filename, location.content_type, body[location.start : location.end])


def closing_length(body_tail: bytes, boundary: bytes) -> int:
    """Length of `\\r\\n--boundary--[\\r\\n]` at the end of a body, or -1 if it does not end so."""
    closing = b"\r\n--" + boundary + b"--"
    for suffix in (closing + b"\r\n", closing):
        if body_tail.endswith(suffix):
            return len(suffix)
    return -1


def _file_end(head: bytes, tail: bytes, total_size: int, delimiter: bytes, data_start: int) -> int:
    boundary = delimiter[2:]
    if total_size <= len(head):
        # The whole body is here: the file must be followed by the closing delimiter only.
        closing = closing_length(head[:total_size], boundary)
        if closing < 0:
            raise file_problem("uploaded-file-multiple-files", "Only one file, sent last, is accepted.")
        if head.find(b"\r\n" + delimiter, data_start, total_size - closing) >= 0:
            raise file_problem("uploaded-file-multiple-files", "Only one file, sent last, is accepted.")
        return total_size - closing
    closing = closing_length(tail, boundary)
    if closing < 0:
        raise file_problem("uploaded-file-invalid-file", "The multipart body is truncated.")
    return total_size - closing


def _part_headers(raw: bytes) -> tuple[str, str | None, str]:
    name = ""
    filename: str | None = None
    part_type = "application/octet-stream"
    for line in raw.decode("utf-8", "replace").split("\r\n"):
        key, _, value = line.partition(":")
        key = key.strip().lower()
        if key == "content-disposition":
            params = _disposition_params(value)
            name = params.get("name", "")
            filename = params.get("filename")
        elif key == "content-type":
            part_type = value.strip() or part_type
    return name, filename, part_type


def _disposition_params(value: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for match in _DISPOSITION_PARAM.finditer(value):
        if match.group(1):
            params[match.group(1).lower()] = match.group(2).replace('\\"', '"')
        else:
            params[match.group(3).lower()] = match.group(4)
    return params


def empty_file() -> InvalidInput:
    return file_problem("uploaded-file-empty", "The uploaded file is empty.")


def extension_of(filename: str) -> str:
    """`photo.PNG` -> `png`; '' when the name has no extension (the SDK's `no_name`)."""
    stem, dot, extension = filename.rpartition(".")
    return extension.lower() if dot and stem else ""
