"""Restream relays: one relay per restream target while a broadcast is on. Pure rules.

IVS does not restream, so each target of a live stream's `restreams` gets a relay of its own (an
ECS task on AWS, a process on the devstack) that reads the channel's live HLS and pushes it to the
target unchanged. The stream keeps one `Relay` per target: its desired life follows the broadcast
and the targets (`plan`), its reported state comes from the relay itself (`apply_report`).

- A target is known by what the relay pushes to (`target_id`: its server URL and key), so renaming
  a target touches nothing, and changing its URL or key is a removal and an addition.
- While a broadcast is on (from `broadcast.started` to `broadcast.ended`, a drop within the
  reconnect window included), every target has a relay: an added target gets a new one, a removed
  target's relay is stopped, the others are left running.
- When the broadcast ends every relay is stopped; their last states stay in `status` until the
  next broadcast starts new ones.
- Reports carry the relay's id and a sequence number: a report of a relay that is gone or was
  stopped, or older than the last one applied, changes nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chalicelib.live.domain.live_streams import LiveStream, Relay, RelayState, Restream

REPORT_KIND = "videoplane.live.relay-state"
# A relay's reason is the encoder's last error line: enough to tell a refusal from a timeout.
MAX_REASON_LENGTH = 300


def target_id(target: Restream) -> str:
    """Stable across renames; changes when the URL or the key does (another destination)."""
    digest = hashlib.sha256(f"{target.server_url}\n{target.stream_key}".encode()).hexdigest()
    return digest[:16]


def target_url(target: Restream) -> str:
    """Where the relay pushes: RTMP(S) `{serverUrl}/{streamKey}`, SRT with the key as `streamid`."""
    parts = urlsplit(target.server_url)
    if parts.scheme == "srt":
        query = [(k, v) for k, v in parse_qsl(parts.query) if k != "streamid"] + [("streamid", target.stream_key)]
        return urlunsplit(parts._replace(query=urlencode(query)))
    return f"{target.server_url.rstrip('/')}/{target.stream_key}"


@dataclass(frozen=True)
class RelayPlan:
    """The stream with its relays brought in line, and the relays to start and to stop."""

    stream: LiveStream
    start: tuple[tuple[Relay, Restream], ...]
    stop: tuple[Relay, ...]

    @property
    def changed(self) -> bool:
        return bool(self.start or self.stop)


def plan(stream: LiveStream, now: datetime, new_id: Callable[[], str]) -> RelayPlan:
    """Relays for the stream's targets while its broadcast is on; none running otherwise. Only
    added, changed and removed targets are touched."""
    targets = {target_id(t): t for t in stream.restreams}
    running = {r.target_id: r for r in stream.relays if r.state is not RelayState.STOPPED}
    if stream.broadcast_started_at is None:
        stop = tuple(running.values())
        # The last state of each current target's relay stays visible until the next broadcast.
        kept = tuple(
            r.model_copy(update={"state": RelayState.STOPPED, "changed_at": now, "reason": None})
            if r.state is not RelayState.STOPPED
            else r
            for r in stream.relays
            if r.target_id in targets
        )
        return _planned(stream, kept, (), stop)
    stop = tuple(r for tid, r in running.items() if tid not in targets)
    relays: list[Relay] = []
    start: list[tuple[Relay, Restream]] = []
    for tid, target in targets.items():
        relay = running.get(tid)
        if relay is None:
            relay = Relay(relay_id=new_id(), target_id=tid, changed_at=now)
            start.append((relay, target))
        relays.append(relay)
    return _planned(stream, tuple(relays), tuple(start), stop)


def _planned(
    stream: LiveStream, relays: tuple[Relay, ...], start: tuple[tuple[Relay, Restream], ...], stop: tuple[Relay, ...]
) -> RelayPlan:
    if relays == stream.relays:
        return RelayPlan(stream, start, stop)
    return RelayPlan(stream.model_copy(update={"relays": relays}), start, stop)


def unlaunched(stream: LiveStream) -> tuple[tuple[Relay, Restream], ...]:
    """Relays asked for that never reported: their start may have been lost (a crash, an error
    after the stream was written), so they are started again (starting is idempotent per relay)."""
    if stream.broadcast_started_at is None:
        return ()
    targets = {target_id(t): t for t in stream.restreams}
    return tuple(
        (r, targets[r.target_id])
        for r in stream.relays
        if r.state is RelayState.CONNECTING and r.sequence == 0 and r.target_id in targets
    )


class RelayReport(BaseModel):
    """A relay's state, as it sends it (to the live-events queue)."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)
    project_id: str = Field(alias="projectId")
    live_stream_id: str = Field(alias="liveStreamId")
    relay_id: str = Field(alias="relayId")
    state: RelayState
    reason: str | None = None
    sequence: int = Field(ge=1)
    time: datetime

    @classmethod
    def from_message(cls, body: dict[str, Any]) -> RelayReport | None:
        if body.get("kind") != REPORT_KIND:
            return None
        try:
            return cls.model_validate(body)
        except ValidationError:
            return None


def apply_report(stream: LiveStream, report: RelayReport) -> LiveStream | None:
    """The stream with the relay's reported state; None when the report changes nothing."""
    for index, relay in enumerate(stream.relays):
        if relay.relay_id != report.relay_id:
            continue
        if relay.state is RelayState.STOPPED or report.sequence <= relay.sequence:
            return None
        reason = report.reason[:MAX_REASON_LENGTH] if report.reason else None
        updated = relay.model_copy(
            update={"state": report.state, "reason": reason, "changed_at": report.time, "sequence": report.sequence}
        )
        relays = (*stream.relays[:index], updated, *stream.relays[index + 1 :])
        return stream.model_copy(update={"relays": relays, "version": stream.version + 1})
    return None


class TargetStatus(StrEnum):
    IDLE = "idle"  # no broadcast has run a relay for this target yet


def statuses(stream: LiveStream) -> list[dict[str, Any]]:
    """Each restream target's relay state for the `status` block (never the target's key)."""
    relays = {r.target_id: r for r in stream.relays}
    body: list[dict[str, Any]] = []
    for target in stream.restreams:
        relay = relays.get(target_id(target))
        item: dict[str, Any] = {"name": target.name, "serverUrl": target.server_url}
        if relay is None:
            item["state"] = TargetStatus.IDLE.value
        else:
            item.update(state=relay.state.value, since=relay.changed_at)
            if relay.reason:
                item["reason"] = relay.reason
        body.append(item)
    return body
