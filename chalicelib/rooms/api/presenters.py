"""Entity -> wire shapes (camelCase, dates in ATOM)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.core.clock import to_atom
from chalicelib.rooms.domain import sessions
from chalicelib.rooms.domain.quality import SAMPLE_SECONDS, FlowFigures, Quality
from chalicelib.rooms.domain.recordings import Recording
from chalicelib.rooms.domain.rooms import Room, window
from chalicelib.rooms.domain.sessions import CallRecord, Session, Totals
from chalicelib.rooms.services.tokens import Admission, Minted


def room(r: Room) -> dict[str, Any]:
    s = r.settings
    settings: dict[str, Any] = {
        "mode": s.mode.value,
        "lifetime": s.lifetime.value,
        "duration": s.duration,
        "maxModerators": s.max_moderators,
        "maxParticipants": s.max_participants,
        "autoRecording": s.auto_recording,
        "quality": s.quality,
        "waitForModerator": s.wait_for_moderator,
    }
    if s.starts_at is not None:
        settings["startsAt"] = to_atom(s.starts_at)
    bounds = window(s)
    body: dict[str, Any] = {
        "roomId": r.room_id,
        "name": r.name,
        "ownerRef": r.owner_ref,
        "settings": settings,
        "createdAt": to_atom(r.created_at),
        "updatedAt": to_atom(r.updated_at),
    }
    if bounds is not None:
        body["joinable"] = {"from": to_atom(bounds[0]), "until": to_atom(bounds[1])}
    return body


def minted(m: Minted) -> dict[str, Any]:
    t = m.token
    return {
        "tokenId": t.token_id,
        "token": m.jwt,
        "roomId": t.room_id,
        "userRef": t.user_ref,
        "name": t.name,
        "role": t.role.value,
        "singleUse": t.single_use,
        "expiresAt": to_atom(t.expires_at),
    }


def admission(a: Admission) -> dict[str, Any]:
    stage = a.stage
    return {
        "roomId": a.room.room_id,
        "sessionId": a.session_id,
        "participantId": a.participant_id,
        "userRef": a.claims.user_ref,
        "name": a.claims.name,
        "role": a.claims.role.value,
        "capabilities": sorted(c.value for c in a.capabilities),
        "media": {
            "provider": "ivs-realtime",
            "participantToken": a.participant_token,
            # WHIP: POST an SDP offer here with `Authorization: Bearer <participantToken>`.
            "whipUrl": stage.whip_endpoint,
            "eventsUrl": stage.events_endpoint,
            # The devstack's stand-in for the SDK's subscribe: WHEP-style, one POST per publisher.
            "whepUrl": stage.whep_endpoint or None,
            "expiresAt": to_atom(a.expires_at) if a.expires_at else None,
        },
        # The client posts its getStats() figures with this token (POST /join/stats).
        "stats": {"token": a.stats_token, "intervalSeconds": SAMPLE_SECONDS},
    }


def _at(moment: datetime | None) -> str | None:
    return None if moment is None else to_atom(moment)


def recording(r: Recording) -> dict[str, Any]:
    return {
        "recordingId": r.recording_id,
        "sessionId": r.session_id,
        "roomId": r.room_id,
        "status": r.state.value,
        "startedAt": to_atom(r.started_at),
        "endedAt": _at(r.ended_at),
        "videoId": r.video_id,
    }


def _figures(f: FlowFigures) -> dict[str, Any]:
    return {
        "avgBitrate": f.avg_bitrate,
        "p95Bitrate": f.p95_bitrate,
        "minBitrate": f.min_bitrate,
        "maxBitrate": f.max_bitrate,
        "packetLoss": f.loss_percent,
    }


def _flow(f: FlowFigures | None) -> dict[str, Any] | None:
    if f is None:
        return None
    kinds = {kind: _figures(figures) if figures else None for kind, figures in (("audio", f.audio), ("video", f.video))}
    return {**_figures(f), **kinds}


def quality(q: Quality | None) -> dict[str, Any] | None:
    """Bitrates in bits per second, loss in percent, times in milliseconds."""
    if q is None:
        return None
    return {
        "samples": q.samples,
        "send": _flow(q.send),
        "receive": _flow(q.receive),
        "avgRoundTripTime": q.avg_rtt_ms,
        "p95RoundTripTime": q.p95_rtt_ms,
        "avgJitter": q.avg_jitter_ms,
    }


def session(s: Session, recordings: list[Recording] | None = None, totals: Totals | None = None) -> dict[str, Any]:
    """`recordings` and `totals` (with quality) when one session is read; a list shows neither."""
    total = totals or sessions.totals(s)
    extra: dict[str, Any] = {} if recordings is None else {"recordings": [recording(r) for r in recordings]}
    if totals is not None:
        extra["quality"] = quality(totals.quality)
    return {
        **extra,
        "sessionId": s.session_id,
        "roomId": s.room_id,
        "status": "active" if s.active else "ended",
        "startedAt": to_atom(s.started_at),
        "endedAt": _at(s.ended_at),
        "endReason": s.end_reason.value if s.end_reason else None,
        "participants": [
            {
                "participantId": r.participant_id,
                "userRef": r.user_ref,
                "name": r.name,
                "role": r.role.value,
                "joinedAt": to_atom(r.joined_at),
                "connectedAt": _at(r.connected_at),
                "leftAt": _at(r.left_at),
                "leaveReason": r.leave_reason.value if r.leave_reason else None,
            }
            for r in sessions.call_records(s)
        ],
        "participantMinutes": total.participant_minutes,
        "publishedMinutes": total.published_minutes,
    }


def call_record(r: CallRecord) -> dict[str, Any]:
    return {
        "sessionId": r.session_id,
        "roomId": r.room_id,
        "participantId": r.participant_id,
        "userRef": r.user_ref,
        "name": r.name,
        "role": r.role.value,
        "joinedAt": to_atom(r.joined_at),
        "connectedAt": _at(r.connected_at),
        "leftAt": _at(r.left_at),
        "leaveReason": r.leave_reason.value if r.leave_reason else None,
        "duration": r.duration_seconds,
        "publishedDuration": r.published_seconds,
        "quality": quality(r.quality),
    }
