"""Usage per project on moto: domain events go from the outbox through the publisher, the bus rule
(resources.BUS_ROUTES "usage-events") and the usage queue to the counters, each counted once
however often it is delivered; GET /account and /account/usage read the counters, the media
bucket and the event store (DuckDB over event files, the devstack's executor); the daily usage
event is written to the outbox once per project and day."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from chalicelib.analytics import wiring
from chalicelib.analytics.adapters.rooms import DynamoRoomSessions
from chalicelib.analytics.adapters.usage import DynamoProjectDirectory, DynamoUsageCounters, S3MediaStorage
from chalicelib.analytics.consumers.usage import count_usage, report_daily_usage
from chalicelib.analytics.services.usage import UsageService
from chalicelib.core import config, resources
from chalicelib.core.adapters.dynamodb import Put
from chalicelib.core.adapters.records import outbox_put
from chalicelib.core.clock import to_atom
from chalicelib.core.domain import events
from chalicelib.core.wiring import settings, table
from devstack.athenaplane import run_query
from devstack.emulator import TABLE_NAME
from devstack.sessions import sessions, write_files
from tests.integration.conftest import ApiClient
from tests.integration.test_outbox import drain, publish, published, stream_event

NOW = datetime.now(UTC).replace(microsecond=0)
YESTERDAY = NOW - timedelta(days=1)
SCHEDULED = {
    "version": "0",
    "id": "1",
    "detail-type": "Scheduled Event",
    "source": "aws.events",
    "account": "123456789012",
    "time": to_atom(NOW),
    "region": "us-east-1",
    "resources": [],
    "detail": {},
}


class EventFiles:
    """The devstack's executor: the query in DuckDB over event files."""

    def __init__(self, files: list[Path]) -> None:
        self.files = files

    def rows(self, sql: str) -> list[dict[str, str | None]]:
        columns, rows = run_query(self.files, sql)
        names = [name for name, _ in columns]
        return [{name: None if v is None else str(v) for name, v in zip(names, row, strict=True)} for row in rows]


@pytest.fixture
def watched(tenant: ApiClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> float:
    """Twelve synthetic sessions of the tenant's, yesterday; the service reads them with DuckDB."""
    start_ms = int(YESTERDAY.replace(hour=12, minute=0, second=0).timestamp() * 1000)
    records, expected = sessions(tenant.project_id, ("vi" + "a" * 22,), 12, start_ms)
    files = write_files(records, tmp_path)
    current = settings()
    service = UsageService(
        DynamoUsageCounters(table()),
        EventFiles(files),
        S3MediaStorage(table(), config.s3(), current.media_bucket, current.uploads_bucket),
        DynamoProjectDirectory(table()),
        DynamoRoomSessions(table()),
        lambda: NOW,
        quota_minutes=600,
    )
    monkeypatch.setattr(wiring, "usage_service", lambda: service)
    return expected.watch_seconds


def deliver(times: int = 1) -> dict[str, Any]:
    """Publishes the stream, then hands the usage queue's messages to the consumer `times` times
    (redeliveries), as Lambda would; the last answer."""
    assert publish(stream_event()) == {"batchItemFailures": []}
    published()
    records = [
        {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": {},
            "messageAttributes": {},
            "md5OfBody": message["MD5OfBody"],
            "eventSource": "aws:sqs",
            "eventSourceARN": f"arn:aws:sqs:us-east-1:123456789012:{resources.USAGE_EVENTS_QUEUE.name}",
            "awsRegion": "us-east-1",
        }
        for message in drain(resources.USAGE_EVENTS_QUEUE)
    ]
    answer: dict[str, Any] = {}
    for _ in range(times):
        answer = count_usage({"Records": records}, None)
    return answer


def emit(*emitted: events.DomainEvent) -> None:
    table().write([outbox_put(event) for event in emitted])


def envelope(project_id: str, at: datetime, event_id: str) -> dict[str, str]:
    return {"projectId": project_id, "eventId": event_id, "emittedAt": to_atom(at)}


def test_encoded_and_live_minutes_count_once_and_the_account_shows_them(
    tenant: ApiClient, other_tenant: ApiClient, watched: float
) -> None:
    video = tenant.call("POST", "/videos", {"title": "Counted"}).json_body["videoId"]
    s3 = boto3.client("s3")
    s3.put_object(Bucket=settings().media_bucket, Key=f"vod/{video}/hls/720p.m3u8", Body=b"x" * 1000)
    s3.put_object(Bucket=settings().media_bucket, Key=f"vod/{video}/hls/720p_0.ts", Body=b"x" * 4000)
    project = tenant.project_id
    start = NOW - timedelta(minutes=20)
    emit(events.VideoReady(**envelope(project, NOW, "evusage1"), videoId=video, encodedSeconds=300.0))
    emit(events.LiveStreamBroadcastStarted(**envelope(project, start, "evusage2"), liveStreamId="li1"))
    emit(events.LiveStreamBroadcastEnded(**envelope(project, NOW, "evusage3"), liveStreamId="li1"))
    assert deliver(times=2) == {"batchItemFailures": []}

    account = tenant.call("GET", "/account")
    assert account.status_code == 200, account.body
    body = account.json_body
    assert body["quota"] == {"quotaUsed": 5, "quotaRemaining": 595, "quotaTotal": 600}
    assert body["term"]["startAt"] == NOW.date().replace(day=1).isoformat()
    term_start = NOW.replace(day=1, hour=0, minute=0, second=0)
    assert body["usage"]["encodedMinutes"] == 5.0
    assert body["usage"]["liveMinutes"] == pytest.approx((NOW - max(start, term_start)).total_seconds() / 60)
    assert body["usage"]["storedBytes"] == 5000
    # Another project sees none of it.
    assert other_tenant.call("GET", "/account").json_body["usage"]["encodedMinutes"] == 0

    days = tenant.call("GET", f"/account/usage?from={YESTERDAY.date()}&to={NOW.date()}").json_body["data"]
    assert [row["day"] for row in days] == [YESTERDAY.date().isoformat(), NOW.date().isoformat()]
    assert days[0]["watchedMinutes"] == pytest.approx(watched / 60, abs=0.001)
    assert days[0]["deliveredBytes"] > 0
    assert days[1]["encodedMinutes"] == 5.0
    # The broadcast's 20 minutes, cut at midnight when it ran across one.
    assert days[0]["liveMinutes"] + days[1]["liveMinutes"] == pytest.approx(20.0)


def test_a_broadcast_end_before_its_start_is_retried(tenant: ApiClient, watched: float) -> None:
    emit(events.LiveStreamBroadcastEnded(**envelope(tenant.project_id, NOW, "evusage4"), liveStreamId="li2"))
    assert len(deliver()["batchItemFailures"]) == 1


def test_hostile_usage_ranges_are_problems(tenant: ApiClient, watched: float) -> None:
    for query in ("from=2026-02-02&to=2026-02-01", "from=2026-01-01&to=2026-12-01", "from=yesterday&to=x", ""):
        response = tenant.call("GET", f"/account/usage?{query}")
        assert response.status_code == 400, (query, response.body)
        assert response.json_body["status"] == 400


def test_the_daily_usage_event_is_written_once_per_project_and_day(
    tenant: ApiClient, other_tenant: ApiClient, watched: float
) -> None:
    report_daily_usage(SCHEDULED, None)
    report_daily_usage(SCHEDULED, None)  # a rerun (EventBridge delivers at least once)
    ddb = boto3.client("dynamodb")
    outbox = ddb.query(
        TableName=TABLE_NAME,
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": f"P#{tenant.project_id}#OUTBOX"}},
    )["Items"]
    payloads = [json.loads(item["payload"]["S"]) for item in outbox if item["eventType"]["S"] == "usage.daily.ready"]
    assert len(payloads) == 1
    assert payloads[0]["day"] == YESTERDAY.date().isoformat()
    assert payloads[0]["watchedMinutes"] == pytest.approx(watched / 60, abs=0.001)
    events.parse(payloads[0])  # the catalogue's model reads it


def test_a_late_start_of_an_earlier_broadcast_does_not_replace_a_later_one(tenant: ApiClient, watched: float) -> None:
    counters = DynamoUsageCounters(table())
    later, earlier = NOW - timedelta(minutes=5), NOW - timedelta(hours=2)
    counters.open_broadcast(tenant.project_id, "li3", later)
    counters.open_broadcast(tenant.project_id, "li3", earlier)
    assert counters.broadcast_start(tenant.project_id, "li3") == later


def test_a_room_sessions_participant_minutes_count_once_from_its_call_detail_records(
    tenant: ApiClient, other_tenant: ApiClient, watched: float
) -> None:
    """The session as the rooms context writes it when it ends (its own record layout), then its
    room.cdr.ready through the bus route to the usage counters, delivered twice."""
    from chalicelib.rooms.adapters.records import attendance_item, session_item
    from chalicelib.rooms.domain.sessions import Attendance, EndReason, Session

    end = NOW - timedelta(minutes=1)

    def attendance(participant: str, connected: datetime | None, left: datetime) -> Attendance:
        joined = (connected or left) - timedelta(seconds=5)
        return Attendance(participant_id=participant, token_id="jt1", user_ref="u", role="participant",
                          joined_at=joined, connected_at=connected, left_at=left)  # fmt: skip

    session = Session(
        project_id=tenant.project_id,
        room_id="ro" + "r" * 22,
        session_id="rs" + "s" * 22,
        started_at=end - timedelta(minutes=12),
        ended_at=end,
        end_reason=EndReason.EMPTY,
        attendance={
            "p1": attendance("p1", end - timedelta(minutes=12), end),
            "p2": attendance("p2", end - timedelta(minutes=6), end - timedelta(minutes=2)),
            "p3": attendance("p3", None, end - timedelta(minutes=3)),  # never connected
        },
    )
    table().write([Put(item=session_item(session))])
    # Each join also has an item of its own (as the rooms context writes them): counted once, not twice.
    table().write([Put(item=attendance_item(session, a, 1)) for a in session.attendance.values()])
    cdr = events.RoomCdrReady(
        **envelope(tenant.project_id, end, "evusage5"), roomId=session.room_id, sessionId=session.session_id,
        participants=3,
    )  # fmt: skip
    emit(cdr)
    assert deliver(times=2) == {"batchItemFailures": []}
    days = tenant.call("GET", f"/account/usage?from={YESTERDAY.date()}&to={NOW.date()}").json_body["data"]
    assert sum(row["roomParticipantMinutes"] for row in days) == pytest.approx(16.0)
    in_term = [row for row in days if row["day"] >= NOW.date().replace(day=1).isoformat()]
    account = tenant.call("GET", "/account").json_body["usage"]
    assert account["roomParticipantMinutes"] == pytest.approx(sum(row["roomParticipantMinutes"] for row in in_term))
    assert other_tenant.call("GET", "/account").json_body["usage"]["roomParticipantMinutes"] == 0


def test_a_lecture_too_big_to_inline_counts_every_join_from_its_attendance_items(
    tenant: ApiClient, watched: float
) -> None:
    """Over 100 joins the ended session keeps no inline copy: the minutes come from the join items."""
    from chalicelib.rooms.adapters.records import attendance_item, session_item
    from chalicelib.rooms.domain.sessions import Attendance, EndReason, Session

    end = NOW - timedelta(minutes=1)
    viewers = {
        f"p{n:03d}": Attendance(
            participant_id=f"p{n:03d}",
            token_id="jt1",
            user_ref=f"u{n}",
            role="viewer",
            joined_at=end - timedelta(minutes=2),
            connected_at=end - timedelta(minutes=1),
            left_at=end,
        )
        for n in range(150)
    }
    session = Session(
        project_id=tenant.project_id, room_id="ro" + "l" * 22, session_id="rs" + "l" * 22,
        started_at=end - timedelta(minutes=2), ended_at=end, end_reason=EndReason.EMPTY, attendance=viewers,
    )  # fmt: skip
    assert "attendance" not in session_item(session)  # the rooms context's own choice, at this size
    table().write([Put(item=session_item(session))])
    for n in range(0, 150, 25):
        table().write([Put(item=attendance_item(session, a, 1)) for a in list(viewers.values())[n : n + 25]])
    emit(
        events.RoomCdrReady(
            **envelope(tenant.project_id, end, "evusage6"),
            roomId=session.room_id,
            sessionId=session.session_id,
            participants=150,
        )
    )
    assert deliver(times=1) == {"batchItemFailures": []}
    days = tenant.call("GET", f"/account/usage?from={YESTERDAY.date()}&to={NOW.date()}").json_body["data"]
    assert sum(row["roomParticipantMinutes"] for row in days) == pytest.approx(150.0)


def test_bytes_stored_include_the_projects_sources_in_the_uploads_bucket(
    tenant: ApiClient, other_tenant: ApiClient, watched: float
) -> None:
    s3, uploads = boto3.client("s3"), settings().uploads_bucket
    project, other = tenant.project_id, other_tenant.project_id
    s3.put_object(Bucket=uploads, Key=f"sources/{project}/vi{'a' * 22}", Body=b"x" * 700)
    s3.put_object(Bucket=uploads, Key=f"incoming/{project}/vi{'b' * 22}/part-1", Body=b"x" * 50)
    s3.put_object(Bucket=uploads, Key=f"sources/{other}/vi{'c' * 22}", Body=b"x" * 9000)
    s3.put_object(Bucket=uploads, Key=f"rejected/{project}/vi{'d' * 22}", Body=b"x" * 3)  # kept a day, not billed
    assert tenant.call("GET", "/account").json_body["usage"]["storedBytes"] == 750
    assert other_tenant.call("GET", "/account").json_body["usage"]["storedBytes"] == 9000
