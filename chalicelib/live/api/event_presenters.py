"""Managed live events and their templates: entity -> wire shapes (camelCase, as every body)."""

from __future__ import annotations

from typing import Any

from chalicelib.core.clock import to_atom
from chalicelib.live.domain import incidents, timeline
from chalicelib.live.domain.health_push import IssuedSubscription
from chalicelib.live.domain.live_event_templates import LiveEventTemplate
from chalicelib.live.domain.live_events import LiveEvent


def template(t: LiveEventTemplate) -> dict[str, Any]:
    body = t.model_dump(mode="json", by_alias=True, exclude={"project_id", "created_at", "updated_at"})
    return {**body, "createdAt": to_atom(t.created_at), "updatedAt": to_atom(t.updated_at)}


def live_event(e: LiveEvent) -> dict[str, Any]:
    channel = e.channel
    body: dict[str, Any] = {
        "liveEventId": e.live_event_id,
        "name": e.name,
        "state": e.state.value,
        "stateChangedAt": to_atom(e.state_changed_at),
        "templateId": e.template_id,
        "templateVersion": e.template_version,
        "overrides": e.overrides,
        "profile": e.profile.model_dump(mode="json", by_alias=True),
        "schedule": {
            "armAt": to_atom(e.schedule.arm_time),
            "startAt": to_atom(e.schedule.start_at),
            "endAt": to_atom(e.schedule.end_at),
        },
        # A premiere plays a file: it has no routes.
        "routes": None if e.premiere else e.routes.model_dump(mode="json", by_alias=True),
        "routeMode": e.route_mode.value,
        "activeRoute": e.active_route.value if e.active_route else None,
        # Where encoders push, per route, once armed (MediaLive's input destinations).
        "ingest": {i.route.value: {"protocol": i.protocol, "url": i.url} for i in channel.ingest} if channel else {},
        "playbackUrl": channel.playback_url if channel else None,
        "createdAt": to_atom(e.created_at),
        "updatedAt": to_atom(e.updated_at),
    }
    if e.live_stream_id is not None:
        body["liveStreamId"] = e.live_stream_id
    if e.video_id is not None:
        body["videoId"] = e.video_id
    if e.failure is not None:
        body["failure"] = e.failure
    return body


def timeline_entry(entry: timeline.Entry) -> dict[str, Any]:
    body: dict[str, Any] = {"at": to_atom(entry.at), "kind": entry.kind, "summary": entry.summary}
    if entry.request_id is not None:
        body["requestId"] = entry.request_id
    if entry.actor_key_id is not None:
        body["actorKeyId"] = entry.actor_key_id
    if entry.detail:
        body["detail"] = entry.detail
    return body


def health(e: LiveEvent) -> dict[str, Any]:
    return {
        "liveEventId": e.live_event_id,
        "state": e.state.value,
        "routeMode": e.route_mode.value,
        "activeRoute": e.active_route.value if e.active_route else None,
        "activeRouteSince": to_atom(e.active_route_at) if e.active_route_at else None,
        "channelState": e.plane_state,
        "inputs": [
            {"route": i.route.value, "protocol": i.protocol, "active": e.active_route is i.route}
            for i in (e.channel.ingest if e.channel else ())
        ],
        "alerts": [
            {
                "alarmId": a.alarm_id,
                "alertType": a.alert_type,
                "pipeline": a.pipeline,
                "message": a.message,
                "since": to_atom(a.set_at),
            }
            for a in e.alerts
        ],
        "incident": _incident(e),
        "ladderCap": incidents.ladder_cap(e),
        "version": e.version,
    }


def _incident(e: LiveEvent) -> dict[str, Any] | None:
    i = e.incident
    if i is None:
        return None
    return {
        "incidentId": i.incident_id,
        "openedAt": to_atom(i.opened_at),
        "resolvedAt": to_atom(i.resolved_at) if i.resolved_at else None,
        "metrics": list(i.metrics),
        "switchedFrom": i.switched_from.value if i.switched_from else None,
        "stabilizingSince": to_atom(i.clear_since) if i.clear_since else None,
    }


def health_subscription(s: IssuedSubscription) -> dict[str, Any]:
    body: dict[str, Any] = {"url": s.url, "token": s.token, "expiresAt": to_atom(s.expires_at)}
    if s.stream_url is not None:
        body["streamUrl"] = s.stream_url
    return body
