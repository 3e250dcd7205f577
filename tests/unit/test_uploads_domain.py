"""Pure upload rules: Content-Range forms, admission, completeness, assembly order, the
multipart envelope, timecodes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import urllib3

from chalicelib.core.domain import formdata
from chalicelib.core.domain.errors import DomainError, InvalidInput
from chalicelib.vod.domain import uploads
from chalicelib.vod.domain.media import MediaState, QualityStatus, quality_rows, timecode_seconds
from chalicelib.vod.domain.uploads import (
    MIN_PART_BYTES,
    ContentRange,
    RangeForm,
    ReceivedPart,
    UploadSession,
    UploadToken,
    admit,
    parse_content_range,
)

NOW = datetime(2026, 11, 23, tzinfo=UTC)


def slug(error: DomainError) -> str:
    return error.problems[0].slug if error.problems else error.slug


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, ContentRange(RangeForm.PART, part=1, total_parts=1)),
        ("part 2/3", ContentRange(RangeForm.PART, part=2, total_parts=3)),
        ("part 4/*", ContentRange(RangeForm.PART, part=4, total_parts=None)),
        ("bytes 0-99/1000", ContentRange(RangeForm.BYTES, start=0, end=99, total_bytes=1000)),
    ],
)
def test_content_range_forms(header: str | None, expected: ContentRange) -> None:
    assert parse_content_range(header) == expected


@pytest.mark.parametrize(
    ("header", "problem"),
    [
        ("part 1", "video-content-range-malformed"),
        ("bytes 1-2/*", "video-content-range-malformed"),
        ("part -1/2", "video-content-range-malformed"),
        ("part 0/1", "video-content-range-by-part-invalid-part"),
        ("part 10001/10001", "video-content-range-by-part-invalid-part"),
        ("bytes 5-4/10", "video-content-range-by-bytes-invalid-range"),
        ("bytes 0-10/10", "video-content-range-by-bytes-invalid-range"),
        ("bytes 0-1/52428800001", "video-content-range-by-bytes-invalid-range"),
    ],
)
def test_refused_headers(header: str, problem: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_content_range(header)
    assert slug(refused.value) == problem and refused.value.first.name == "Content-Range"


def test_is_last_and_keys_sort_in_file_order() -> None:
    assert parse_content_range("part 3/3").is_last and not parse_content_range("part 3/*").is_last
    assert parse_content_range("bytes 90-99/100").is_last
    keys = [parse_content_range(h).key for h in ("part 10/12", "part 2/12", "part 1/12")]
    assert sorted(keys) == ["part-00001", "part-00002", "part-00010"]


def session(form: RangeForm = RangeForm.PART, **fields: object) -> UploadSession:
    return UploadSession(project_id="p", video_id="v", form=form, created_at=NOW, **fields)


def test_admission_rules() -> None:
    first = parse_content_range("part 1/2")
    admit(None, first, MIN_PART_BYTES + 300, already_received=False, has_source=False)
    with pytest.raises(InvalidInput) as small:
        admit(None, first, 1000, already_received=False, has_source=False)
    assert slug(small.value) == "video-content-range-by-part-uploaded-file-too-small"
    admit(None, parse_content_range("part 2/2"), 10, already_received=False, has_source=False)
    with pytest.raises(DomainError) as again:
        admit(session(), first, MIN_PART_BYTES + 300, already_received=True, has_source=False)
    assert slug(again.value) == "video-content-range-by-part-part-already-sent"
    with pytest.raises(DomainError) as done:
        admit(None, first, None, already_received=False, has_source=True)
    assert slug(done.value) == "video-source-already-uploaded"
    with pytest.raises(DomainError) as beyond:
        admit(session(total_parts=2), parse_content_range("part 3/*"), None, False, False)
    assert slug(beyond.value) == "video-content-range-by-part-invalid-part"
    with pytest.raises(DomainError) as mixed:
        admit(session(RangeForm.BYTES, total_bytes=10), first, None, False, False)
    assert slug(mixed.value) == "video-content-range-started-with-bytes"


def test_exact_size_rules() -> None:
    uploads.accept(parse_content_range("bytes 0-9/10"), 10)
    with pytest.raises(InvalidInput):
        uploads.accept(parse_content_range("bytes 0-9/20"), 10)  # not last, and < 5 MiB
    with pytest.raises(InvalidInput) as mismatch:
        uploads.accept(parse_content_range("bytes 10-19/20"), 9)
    assert slug(mismatch.value) == "video-content-range-by-bytes-size-mismatch"
    with pytest.raises(InvalidInput) as empty:
        uploads.accept(parse_content_range("part 1/1"), 0)
    assert slug(empty.value) == "uploaded-file-empty"


def part(key: str, number: int = 0, start: int = 0, end: int = 0) -> ReceivedPart:
    return ReceivedPart(key=key, part=number, start=start, end=end, size=end - start + 1, object_key=key,
                        offset=0, received_at=NOW)  # fmt: skip


def test_completeness_and_assembly_order() -> None:
    parts = [part("part-00002", 2), part("part-00001", 1)]
    assert uploads.is_complete(session(total_parts=2, received_count=2))
    assert not uploads.is_complete(session(total_parts=None, received_count=2))
    assert [p.part for p in uploads.assembly_order(session(total_parts=2), parts)] == [1, 2]
    with pytest.raises(ValueError, match="missing"):
        uploads.assembly_order(session(total_parts=3), [part("part-00001", 1), part("part-00003", 3)])
    ranges = [part("bytes-000000000000010", start=10, end=19), part("bytes-000000000000000", start=0, end=9)]
    byte_session = session(RangeForm.BYTES, total_bytes=20, received_bytes=20)
    assert uploads.is_complete(byte_session)
    assert [p.start for p in uploads.assembly_order(byte_session, ranges)] == [0, 10]
    with pytest.raises(ValueError, match="gap"):
        uploads.assembly_order(session(RangeForm.BYTES, total_bytes=20), [ranges[0]])


def test_upload_token_validity_and_sorting() -> None:
    forever = UploadToken(project_id="p", token_id="to1", ttl=0, created_at=NOW)
    hour = UploadToken(project_id="p", token_id="to2", ttl=3600, created_at=NOW)
    assert forever.expires_at is None and forever.valid_at(NOW + timedelta(days=9999))
    assert hour.valid_at(NOW + timedelta(minutes=59)) and not hour.valid_at(NOW + timedelta(hours=1))
    query = uploads.UploadTokenQuery.model_validate({"sortBy": "ttl", "sortOrder": "desc"})
    assert [t.token_id for t in uploads.sort_tokens([forever, hour], query)] == ["to2", "to1"]


def test_formdata_finds_the_file_from_head_and_tail() -> None:
    data = bytes(range(256)) * 100
    body, content_type = urllib3.encode_multipart_formdata(
        [("videoId", "vi1"), ("file", ("a b.mp4", data, "video/mp4"))]
    )
    whole = formdata.parse(body, content_type)
    assert whole.data == data and whole.fields == {"videoId": "vi1"} and whole.filename == "a b.mp4"
    located = formdata.locate_file(body[:300], len(body), content_type, body[-200:])
    assert body[located.start : located.end] == data
    with pytest.raises(InvalidInput) as truncated:
        formdata.locate_file(body[:300], len(body) - 5, content_type, body[-200:-5])
    assert slug(truncated.value) == "uploaded-file-invalid-file"
    with pytest.raises(InvalidInput) as no_file:
        formdata.parse(b"{}", "application/json")
    assert slug(no_file.value) == "uploaded-file-no-file"
    only_text, text_type = urllib3.encode_multipart_formdata([("videoId", "vi1")])
    with pytest.raises(InvalidInput):
        formdata.parse(only_text, text_type)


@pytest.mark.parametrize(
    ("timecode", "seconds"),
    [("00:01:00", 60.0), ("00:00:05.50", 5.5), ("01:00:00:15", 3600.5), ("12", 12.0)],
)
def test_timecodes(timecode: str, seconds: float) -> None:
    assert timecode_seconds(timecode, framerate=30.0) == seconds


def test_quality_rows_follow_the_ladder_then_mp4() -> None:
    state = MediaState(
        project_id="p",
        video_id="v",
        qualities={
            "mp4:720p": QualityStatus.WAITING,
            "hls:720p": QualityStatus.ENCODED,
            "hls:240p": QualityStatus.ENCODING,
        },
    )
    assert [(r["type"], r["quality"], r["status"]) for r in quality_rows(state)] == [
        ("hls", "240p", "encoding"),
        ("hls", "720p", "encoded"),
        ("mp4", "720p", "waiting"),
    ]
    assert not state.settled and state.encoded("hls") == ["720p"]


# -- issue 10: a delegated chunk without a videoId joins one upload or none ---------------------


def test_a_chunk_joins_the_only_upload_of_its_form_and_total() -> None:
    from chalicelib.vod.domain.uploads import OpenUpload, choose_open_upload, parse_content_range

    mine, other_total = OpenUpload("vi1", "part-3", 2), OpenUpload("vi2", "part-4", 2)
    assert choose_open_upload([mine, other_total], parse_content_range("part 3/3")) == mine


def test_a_chunk_two_uploads_could_take_is_refused() -> None:
    from chalicelib.core.domain.errors import InvalidInput
    from chalicelib.vod.domain.uploads import AmbiguousUpload, OpenUpload, choose_open_upload, parse_content_range

    one, two = OpenUpload("vi1", "part-2", 2), OpenUpload("vi2", "part-2", 2)
    try:
        choose_open_upload([one, two], parse_content_range("part 2/2"))
    except AmbiguousUpload as refused:
        assert "videoId" in refused.problems[0].title
    else:
        raise AssertionError("an ambiguous chunk was attached")
    # The upload that expects exactly this chunk takes it; a finished upload takes nothing.
    ahead = OpenUpload("vi3", "bytes-100", 60)
    behind = OpenUpload("vi4", "bytes-100", 50)
    assert choose_open_upload([ahead, behind], parse_content_range("bytes 50-99/100")) == behind
    done = OpenUpload("vi5", "part-2", 3)
    try:
        choose_open_upload([done], parse_content_range("part 2/2"))
    except InvalidInput as refused:
        assert refused.first.slug == "video-upload-not-started"
    # A progressive upload takes `part k/*` and its last part, never another upload's `part k/M`.
    progressive = OpenUpload("vi6", "part-any", 2)
    assert choose_open_upload([progressive], parse_content_range("part 2/*")) == progressive
    assert choose_open_upload([progressive, one], parse_content_range("part 3/3")) == progressive


def test_headers_that_cannot_carry_a_file_are_refused() -> None:
    from chalicelib.core.domain.errors import InvalidInput
    from chalicelib.vod.domain.uploads import check_envelope

    for content_type, length, slug in (
        ("multipart/form-data; boundary=x", 0, "uploaded-file-empty"),
        ("video/mp4", 10, "uploaded-file-no-file"),
        (None, 10, "uploaded-file-no-file"),
    ):
        try:
            check_envelope(content_type, length)
        except InvalidInput as refused:
            assert refused.first.slug == slug
        else:
            raise AssertionError(content_type)
    check_envelope("multipart/form-data; boundary=x", 200)
