"""Amazon IVS real-time (`ivs-realtime`): the rooms plane's control API.

One stage per room, named after it and tagged with its project and id. A stage is found again by
that name (ListStages has no name filter: every page is read, 100 stages each), which is how the
stage of a room whose creation died half-way is released; a ready room's stage is deleted by ARN.

ClientError codes become domain errors here: throttling and IVS's own failures are
`StageUnavailable` (503, retry), quotas `StageQuotaExceeded`, a missing stage `StageNotFound` (a
delete's work is already done). Anything else is a bug in the request or the role, and stays a
ClientError (500, logged).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.core.adapters.calls import translated_call
from chalicelib.rooms.domain.errors import (
    RecordingUnavailable,
    StageNotFound,
    StageQuotaExceeded,
    StageUnavailable,
)
from chalicelib.rooms.domain.rooms import Stage, tagged_room
from chalicelib.rooms.domain.sessions import PlaneEvent, Sighting
from chalicelib.rooms.domain.tokens import Capability

_RETRYABLE = {"ThrottlingException", "InternalServerException", "PendingVerification", "ConflictException"}
_PAGE = 100


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def translate(error: ClientError) -> Exception:
    code = _code(error)
    status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    if code == "ResourceNotFoundException":
        return StageNotFound(str(error))
    if code == "ServiceQuotaExceededException":
        return StageQuotaExceeded(detail="The account's IVS real-time quota of stages or participants is reached.")
    if code in _RETRYABLE or status >= 500:
        return StageUnavailable()
    return error


def stage_from_wire(stage: dict[str, Any], whep_url: str = "") -> Stage:
    """`whep_url`: a subscribe URL template with `{stageId}` (the devstack's; IVS's endpoints have none)."""
    endpoints = stage.get("endpoints") or {}
    return Stage(
        arn=stage["arn"],
        whip_endpoint=endpoints.get("whip", ""),
        events_endpoint=endpoints.get("events", ""),
        whep_endpoint=whep_url.replace("{stageId}", stage["arn"].rsplit("/", 1)[-1]),
    )


def participant_token_request(
    stage_arn: str, user_id: str, minutes: int, capabilities: frozenset[Capability], attributes: dict[str, str]
) -> dict[str, Any]:
    return {
        "stageArn": stage_arn,
        "userId": user_id,
        "duration": minutes,
        "capabilities": sorted(c.ivs() for c in capabilities),
        "attributes": attributes,
    }


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def sighting(participant: dict[str, Any], plane_session: str) -> Sighting:
    joined = participant.get("firstJoinTime")
    return Sighting(
        participant_id=participant["participantId"],
        connected=participant.get("state") == "CONNECTED",
        first_join_time=_utc(joined) if joined else None,
        plane_session=plane_session,
    )


def composition_request(
    stage_arn: str, idempotency_token: str, tags: dict[str, str], storage_arn: str, encoder_arn: str
) -> dict[str, Any]:
    """A grid of every publisher (IVS's default layout) as HLS to the stack's storage configuration."""
    return {
        "stageArn": stage_arn,
        "idempotencyToken": idempotency_token,
        "destinations": [
            {
                "name": "recording",
                "s3": {
                    "storageConfigurationArn": storage_arn,
                    "encoderConfigurationArns": [encoder_arn],
                    "recordingConfiguration": {"format": "HLS"},
                },
            }
        ],
        "tags": tags,
    }


class IvsStages:
    def __init__(
        self,
        client: Any,
        whep_url: str = "",
        storage_configuration_arn: str = "",
        encoder_configuration_arn: str = "",
    ) -> None:
        self.client = client
        self.whep_url = whep_url
        self.storage_configuration_arn = storage_configuration_arn
        self.encoder_configuration_arn = encoder_configuration_arn

    def _stage_from_wire(self, stage: dict[str, Any]) -> Stage:
        return stage_from_wire(stage, self.whep_url)

    def start_composition(self, stage_arn: str, idempotency_token: str, tags: dict[str, str]) -> tuple[str, str]:
        if not (self.storage_configuration_arn and self.encoder_configuration_arn):
            raise RecordingUnavailable()
        request = composition_request(
            stage_arn, idempotency_token, tags, self.storage_configuration_arn, self.encoder_configuration_arn
        )
        composition = self._call("start_composition", **request)["composition"]
        for destination in composition.get("destinations", []):
            prefix = ((destination.get("detail") or {}).get("s3") or {}).get("recordingPrefix")
            if prefix:
                return composition["arn"], str(prefix)
        raise RecordingUnavailable()

    def stop_composition(self, composition_arn: str) -> bool:
        try:
            self._call("stop_composition", arn=composition_arn)
        except StageNotFound:
            return False
        return True

    def create_stage(self, name: str, tags: dict[str, str]) -> Stage:
        return self._stage_from_wire(self._call("create_stage", name=name, tags=tags)["stage"])

    def delete_stages(self, name: str, arn: str | None) -> int:
        deleted = 0
        for stage_arn in [arn] if arn else self._stage_arns(name):
            try:
                self._call("delete_stage", arn=stage_arn)
            except StageNotFound:
                continue
            deleted += 1
        return deleted

    def presence(self, stage_arn: str) -> tuple[Stage, set[str]]:
        stage = self._call("get_stage", arn=stage_arn)["stage"]
        session = stage.get("activeSessionId")
        if not session:
            return self._stage_from_wire(stage), set()
        found: set[str] = set()
        request: dict[str, Any] = {
            "stageArn": stage_arn,
            "sessionId": session,
            "filterByState": "CONNECTED",
            "maxResults": _PAGE,
        }
        while True:
            response = self._call("list_participants", **request)
            found.update(p["participantId"] for p in response.get("participants", []) if p.get("participantId"))
            if not response.get("nextToken"):
                return self._stage_from_wire(stage), found
            request["nextToken"] = response["nextToken"]

    def stage_room(self, stage_arn: str) -> tuple[str, str] | None:
        try:
            tags = self._call("get_stage", arn=stage_arn)["stage"].get("tags") or {}
        except StageNotFound:
            return None
        return tagged_room(tags)

    def attendance(self, stage_arn: str, plane_sessions: Sequence[str]) -> tuple[str | None, list[Sighting]]:
        active = self._call("get_stage", arn=stage_arn)["stage"].get("activeSessionId") or None
        sightings: list[Sighting] = []
        for session in dict.fromkeys([*plane_sessions, *([active] if active else [])]):
            request: dict[str, Any] = {"stageArn": stage_arn, "sessionId": session, "maxResults": _PAGE}
            while True:
                response = self._call("list_participants", **request)
                sightings.extend(sighting(p, session) for p in response.get("participants", []))
                if not response.get("nextToken"):
                    break
                request["nextToken"] = response["nextToken"]
        return active, sightings

    def participant_events(self, stage_arn: str, plane_session: str, participant_id: str) -> list[PlaneEvent]:
        request: dict[str, Any] = {
            "stageArn": stage_arn,
            "sessionId": plane_session,
            "participantId": participant_id,
            "maxResults": _PAGE,
        }
        found: list[PlaneEvent] = []
        while True:
            response = self._call("list_participant_events", **request)
            found.extend(
                PlaneEvent(participant_id, e["name"], _utc(e["eventTime"]))
                for e in response.get("events", [])
                if e.get("name") and e.get("eventTime")
            )
            if not response.get("nextToken"):
                return found
            request["nextToken"] = response["nextToken"]

    def disconnect(self, stage_arn: str, participant_id: str, reason: str) -> bool:
        try:
            self._call("disconnect_participant", stageArn=stage_arn, participantId=participant_id, reason=reason)
        except StageNotFound:
            return False
        return True

    def participant_token(
        self,
        stage_arn: str,
        user_id: str,
        minutes: int,
        capabilities: frozenset[Capability],
        attributes: dict[str, str],
    ) -> tuple[str, str, datetime | None]:
        request = participant_token_request(stage_arn, user_id, minutes, capabilities, attributes)
        token = self._call("create_participant_token", **request)["participantToken"]
        return token["participantId"], token["token"], token.get("expirationTime")

    def _stage_arns(self, name: str) -> list[str]:
        arns: list[str] = []
        request: dict[str, Any] = {"maxResults": _PAGE}
        while True:
            response = self._call("list_stages", **request)
            arns.extend(s["arn"] for s in response.get("stages", []) if s.get("name") == name)
            if not response.get("nextToken"):
                return arns
            request["nextToken"] = response["nextToken"]

    def _call(self, operation: str, **params: Any) -> dict[str, Any]:
        return translated_call(self.client, translate, operation, **params)
