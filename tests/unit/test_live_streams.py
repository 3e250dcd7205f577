"""Live streams: the pure rules, and the service against in-memory fakes of its ports (the channel
is never leaked nor duplicated, whatever fails between creating it and saving the stream)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from chalicelib.core import ids
from chalicelib.core.domain.access import Actor, Principal, Role
from chalicelib.core.domain.audit import AuditEvent
from chalicelib.core.domain.errors import Conflict, NotFound
from chalicelib.core.domain.events import DomainEvent
from chalicelib.core.domain.pagination import PageRequest
from chalicelib.live.domain import live_streams
from chalicelib.live.domain.errors import ChannelUnavailable
from chalicelib.live.domain.live_streams import (
    Channel,
    IngestTemplates,
    LiveStream,
    LiveStreamCreation,
    LiveStreamQuery,
    LiveStreamUpdate,
    StreamKey,
)
from chalicelib.live.ports import LiveChannels, LiveStreamRepository
from chalicelib.live.services.live_streams import LiveStreamService

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
ACTOR = Actor(Principal(project_id=ids.new_id("pr"), key_id=ids.new_id("key"), role=Role.OPERATOR), "req-1")
OTHER = Actor(Principal(project_id=ids.new_id("pr"), key_id=ids.new_id("key"), role=Role.ADMIN), "req-2")


class FakeRepository:
    def __init__(self) -> None:
        self.items: dict[tuple[str, str], LiveStream] = {}
        self.audit: list[AuditEvent] = []
        self.events: list[DomainEvent] = []
        self.fail_activate = False

    def get(self, project_id: str, live_stream_id: str) -> LiveStream | None:
        return self.items.get((project_id, live_stream_id))

    def list_all(self, project_id: str) -> list[LiveStream]:
        return [s for (p, _), s in self.items.items() if p == project_id]

    def reserve(self, stream: LiveStream) -> None:
        assert (stream.project_id, stream.live_stream_id) not in self.items
        self.items[(stream.project_id, stream.live_stream_id)] = stream

    def activate(
        self, stream: LiveStream, expected_version: int, audit: AuditEvent, events: Sequence[DomainEvent]
    ) -> None:
        if self.fail_activate:
            raise RuntimeError("the process died here")
        self.save(stream, expected_version, audit, events)

    def save(self, stream: LiveStream, expected_version: int, audit: AuditEvent, events: Sequence[DomainEvent]) -> None:
        current = self.items.get((stream.project_id, stream.live_stream_id))
        if current is None or current.version != expected_version:
            raise Conflict()
        self.items[(stream.project_id, stream.live_stream_id)] = stream
        self.audit.append(audit)
        self.events.extend(events)

    def record_broadcast(self, stream: LiveStream, expected_version: int, events: Sequence[DomainEvent]) -> None:
        current = self.items.get((stream.project_id, stream.live_stream_id))
        if current is None or current.version != expected_version:
            raise Conflict()
        self.items[(stream.project_id, stream.live_stream_id)] = stream
        self.events.extend(events)

    def delete(
        self, stream: LiveStream, expected_version: int, audit: AuditEvent | None, events: Sequence[DomainEvent]
    ) -> None:
        current = self.items.get((stream.project_id, stream.live_stream_id))
        if current is None or current.version != expected_version:
            raise Conflict()
        del self.items[(stream.project_id, stream.live_stream_id)]
        if audit is not None:
            self.audit.append(audit)
        self.events.extend(events)


class FakeChannels:
    """IVS as far as the service sees it: channels by name, one key each."""

    def __init__(self) -> None:
        self.channels: dict[str, str] = {}  # arn -> name
        self.keys: dict[str, StreamKey] = {}  # channel arn -> key
        self.live: set[str] = set()
        self.stopped: list[str] = []
        self.fail_create = False
        self.authorized: dict[str, bool] = {}  # arn -> private (playback tokens required)

    def create_channel(
        self, name: str, tags: dict[str, str], record: bool, authorized: bool = False
    ) -> tuple[Channel, StreamKey]:
        if self.fail_create:
            raise ChannelUnavailable()
        arn = f"arn:aws:ivs:us-east-1:123456789012:channel/{ids.random_base62(12)}"
        self.channels[arn] = name
        self.authorized[arn] = authorized
        self.keys[arn] = StreamKey(arn=arn.replace("channel", "stream-key"), value=f"sk_{ids.random_base62(8)}")
        channel = Channel(arn=arn, ingest_endpoint="ingest.example", playback_url=f"https://play.example/{name}.m3u8")
        return channel, self.keys[arn]

    def set_authorized(self, channel_arn: str, authorized: bool) -> None:
        self.authorized[channel_arn] = authorized

    def reset_stream_key(self, channel_arn: str) -> StreamKey:
        self.keys[channel_arn] = StreamKey(arn=channel_arn + "-k", value=f"sk_{ids.random_base62(8)}")
        return self.keys[channel_arn]

    def is_live(self, channel_arn: str) -> bool:
        return channel_arn in self.live

    def stop_stream(self, channel_arn: str) -> None:
        self.stopped.append(channel_arn)

    def delete_channels(self, name: str) -> int:
        arns = [arn for arn, n in self.channels.items() if n == name]
        for arn in arns:
            del self.channels[arn]
            self.keys.pop(arn, None)
        return len(arns)


def service() -> tuple[LiveStreamService, FakeRepository, FakeChannels]:
    repository, channels = FakeRepository(), FakeChannels()
    # The fakes are the ports (no type: ignore): mypy checks them against the protocols.
    typed_repository: LiveStreamRepository = repository
    typed_channels: LiveChannels = channels
    return LiveStreamService(typed_repository, lambda: typed_channels, lambda: NOW), repository, channels


def creation(**fields: object) -> LiveStreamCreation:
    return LiveStreamCreation.model_validate({"name": "Show", **fields})


# -- the service ---------------------------------------------------------------------------------


def test_create_stores_a_ready_stream_with_its_channel_audit_and_event() -> None:
    svc, repository, channels = service()
    stream = svc.create(ACTOR, creation(record=True))
    assert stream.ready and stream.expires_at is None and stream.live_stream_id.startswith("li")
    assert repository.items[(ACTOR.project_id, stream.live_stream_id)] == stream
    assert list(channels.channels.values()) == [live_streams.channel_name(ACTOR.project_id, stream.live_stream_id)]
    assert [e.type for e in repository.events] == ["live-stream.created"]
    assert repository.audit[0].action == "live-stream.create"
    # The audit log never holds the key.
    assert stream.stream_key is not None and stream.stream_key.value not in str(repository.audit[0].after)


def test_a_crash_after_the_channel_leaves_an_expiring_item_that_releases_it() -> None:
    svc, repository, channels = service()
    repository.fail_activate = True
    # The clean-up delete fails too (the process is gone): only the expiry is left.
    repository.delete = lambda *args: (_ for _ in ()).throw(RuntimeError("gone"))  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        svc.create(ACTOR, creation())
    (pending,) = repository.items.values()
    assert pending.state is live_streams.LiveStreamState.PROVISIONING
    assert pending.expires_at == NOW + live_streams.PROVISIONING_TTL
    assert list(channels.channels.values()) == [pending.channel_name]
    # Invisible meanwhile, and never published.
    assert svc.list(ACTOR, LiveStreamQuery(), PageRequest()).items_total == 0
    with pytest.raises(NotFound):
        svc.get(ACTOR, pending.live_stream_id)
    assert repository.events == []
    # DynamoDB's TTL removes the item; the stream consumer releases the channel by its name.
    assert svc.release(pending) == 1 and channels.channels == {}
    assert svc.release(pending) == 0  # a redelivered record finds nothing left


def test_a_failed_create_gives_up_its_pending_item_at_once() -> None:
    svc, repository, channels = service()
    channels.fail_create = True
    with pytest.raises(ChannelUnavailable):
        svc.create(ACTOR, creation())
    assert repository.items == {} and channels.channels == {} and repository.events == []


def test_get_update_and_other_projects() -> None:
    svc, repository, _ = service()
    stream = svc.create(ACTOR, creation())
    with pytest.raises(NotFound):
        svc.get(OTHER, stream.live_stream_id)
    restreams = [{"name": "yt", "serverUrl": "rtmp://a.example/live2", "streamKey": "k"}]
    updated = svc.update(ACTOR, stream.live_stream_id, LiveStreamUpdate.model_validate({"restreams": restreams}))
    assert updated.restreams[0].server_url == "rtmp://a.example/live2" and updated.version == stream.version + 1
    assert repository.events[-1].model_dump()["changed"] == ["restreams"]
    # An update that changes nothing is audited but publishes nothing.
    svc.update(ACTOR, stream.live_stream_id, LiveStreamUpdate.model_validate({"name": "Show"}))
    assert len(repository.events) == 2 and len(repository.audit) == 3


def test_reset_stream_key_replaces_the_key() -> None:
    svc, repository, channels = service()
    stream = svc.create(ACTOR, creation())
    reset = svc.reset_stream_key(ACTOR, stream.live_stream_id)
    assert reset.stream_key != stream.stream_key
    assert reset.channel is not None and channels.keys[reset.channel.arn] == reset.stream_key
    assert repository.events[-1].model_dump()["changed"] == ["streamKey"]
    assert repository.audit[-1].action == "live-stream.stream-key.reset"


def test_complete_is_a_no_op_unless_broadcasting() -> None:
    svc, repository, channels = service()
    stream = svc.create(ACTOR, creation())
    assert stream.channel is not None
    svc.complete(ACTOR, stream.live_stream_id)
    assert channels.stopped == [] and len(repository.events) == 1
    channels.live.add(stream.channel.arn)
    svc.complete(ACTOR, stream.live_stream_id)
    assert channels.stopped == [stream.channel.arn]


def test_delete_removes_the_item_with_its_event_then_release_frees_the_channel() -> None:
    svc, repository, channels = service()
    stream = svc.create(ACTOR, creation())
    svc.delete(ACTOR, stream.live_stream_id)
    assert repository.items == {} and repository.events[-1].type == "live-stream.deleted"
    with pytest.raises(NotFound):
        svc.delete(ACTOR, stream.live_stream_id)
    assert svc.release(stream) == 1 and channels.channels == {}


def test_list_filters_sorts_and_paginates() -> None:
    svc, _, _ = service()
    made = [svc.create(ACTOR, creation(name=name)) for name in ("beta", "Alpha", "gamma")]
    svc.create(OTHER, creation(name="alpha elsewhere"))
    page = svc.list(ACTOR, LiveStreamQuery.model_validate({"sortBy": "name", "sortOrder": "desc"}), PageRequest())
    assert [s.name for s in page.items] == ["gamma", "beta", "Alpha"]
    assert [s.name for s in svc.list(ACTOR, LiveStreamQuery(name="ALP"), PageRequest()).items] == ["Alpha"]
    key = made[0].stream_key
    assert key is not None
    by_key = svc.list(ACTOR, LiveStreamQuery.model_validate({"streamKey": key.value}), PageRequest())
    assert [s.live_stream_id for s in by_key.items] == [made[0].live_stream_id]
    paged = svc.list(ACTOR, LiveStreamQuery(), PageRequest(currentPage=2, pageSize=2))
    assert paged.items_total == 3 and len(paged.items) == 1


# -- the rules -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("restream", "message"),
    [
        ({"name": "a", "serverUrl": "http://x.example/app", "streamKey": "k"}, "RTMP URL should have"),
        ({"name": "a", "serverUrl": "rtmp://x.example", "streamKey": "k"}, "Missing app name"),
        ({"name": " ", "serverUrl": "rtmp://x.example/app", "streamKey": "k"}, "name"),
        ({"name": "a", "serverUrl": "rtmp://x.example/app"}, "streamKey"),
    ],
)
def test_restreams_are_checked(restream: dict[str, str], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        creation(restreams=[restream])


def test_at_most_five_restreams_and_srt_targets_are_allowed() -> None:
    target = {"name": "a", "serverUrl": "srt://x.example:9000", "streamKey": "k"}
    assert len(creation(restreams=[target] * 5).restreams) == 5
    with pytest.raises(ValidationError):
        creation(restreams=[target] * 6)


def test_update_refuses_nulls() -> None:
    assert LiveStreamUpdate.model_validate({"name": None, "public": False}).null_violations() == ["name"]


def test_ingest_points_per_protocol() -> None:
    stream = live_streams.new_live_stream("pr1", creation(), NOW)
    assert live_streams.ingest_points(stream, IngestTemplates()) == {}
    channel = Channel(
        arn="arn", ingest_endpoint="in.example", playback_url="", srt_endpoint="srt.example", srt_passphrase="pw"
    )
    ready = live_streams.provisioned(stream, channel, StreamKey(arn="k", value="sk_1"))
    points = live_streams.ingest_points(ready, IngestTemplates())
    assert points["rtmps"] == {
        "server": "rtmps://in.example:443/app/",
        "streamKey": "sk_1",
        "url": "rtmps://in.example:443/app/sk_1",
    }
    assert points["rtmp"]["url"] == "rtmp://in.example:1935/app/sk_1"
    assert points["srt"]["url"] == "srt://srt.example:9000?streamid=sk_1&passphrase=pw"
    assert points["srt"]["passphrase"] == "pw" and "passphrase" not in points["rtmp"]


def test_snapshot_keeps_secrets_out() -> None:
    stream = live_streams.new_live_stream(
        "pr1", creation(restreams=[{"name": "a", "serverUrl": "rtmp://x/app", "streamKey": "secret-rk"}]), NOW
    )
    channel = Channel(arn="arn", ingest_endpoint="e", playback_url="", srt_passphrase="secret-pw")
    ready = live_streams.provisioned(stream, channel, StreamKey(arn="k", value="secret-sk"))
    assert "secret" not in str(live_streams.snapshot(ready))
