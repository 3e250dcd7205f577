"""A stand-in for Amazon IVS real-time's control API (stages), speaking its REST-JSON on loopback.

moto has no ivs-realtime. The app's `boto3.client("ivs-realtime")` is pointed here with
AWS_ENDPOINT_URL_IVS_REALTIME. Paths, members and error codes are botocore's `ivs-realtime` model
(`devstack.loopback`): CreateStage, GetStage, ListStages, DeleteStage, CreateParticipantToken,
ListParticipants, ListParticipantEvents, DisconnectParticipant. Stages, participant tokens,
participants and their events are kept in memory and (when given a file) on disk, so a devstack
restart keeps them.

As IVS does, each participant has its events (JOINED, PUBLISH_STARTED, PUBLISH_STOPPED, LEFT, with
their times) for ListParticipantEvents, and publishing and unpublishing are reported on the
account's default bus as `IVS Stage Update` events (`Participant Published` / `Participant
Unpublished`); joins and leaves are not (IVS has no such events).

Publishers connect over WHIP at the stage's `whip` endpoint (`devstack.whip`, aiortc): the
participant token is the Bearer credential and must carry PUBLISH; the peer then is a CONNECTED,
published participant until it sends DELETE or its connection fails (aiortc's ICE consent checks:
a publisher that vanishes without DELETE is DISCONNECTED within about 30 s). `connect(token)` stands for a
peer without media (tests). A stage's session starts with its first connected participant and ends
with its last.
"""

from __future__ import annotations

import json
import logging
import secrets
import string
from datetime import UTC, datetime, timedelta
from email.message import Message
from pathlib import Path
from typing import Any

from devstack.loopback import JsonApiPlane, PlaneError, RawReply
from devstack.whip import WhipIngest

logger = logging.getLogger(__name__)
ALPHANUMERIC = string.ascii_letters + string.digits
STAGE_UPDATE = "IVS Stage Update"
MAX_TOKEN_CONFIGURATIONS = 12
DEFAULT_TOKEN_MINUTES = 720  # IVS's default participant token duration


def _token(length: int) -> str:
    return "".join(secrets.choice(ALPHANUMERIC) for _ in range(length))


def _now() -> datetime:
    return datetime.now(UTC)


def _expired(grant: dict[str, Any]) -> bool:
    return datetime.fromisoformat(grant["expirationTime"].replace("Z", "+00:00")) <= _now()


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class StagePlane(JsonApiPlane):
    service = "ivs-realtime"

    def __init__(
        self,
        region: str = "us-east-1",
        account: str = "123456789012",
        state_file: Path | None = None,
        events: Any = None,
    ) -> None:
        self.region = region
        self.account = account
        # The emulated account's EventBridge client (default bus); None: no events are put.
        self.events = events
        self.stages: dict[str, dict[str, Any]] = {}
        # Participant token -> what it admits to.
        self.tokens: dict[str, dict[str, Any]] = {}
        # Stage ARN -> participant id -> participant.
        self.participants: dict[str, dict[str, dict[str, Any]]] = {}
        self.whip = WhipIngest(self._gone)
        super().__init__(state_file)

    def stop(self) -> None:
        self.whip.stop()
        super().stop()

    def load(self, state: dict[str, Any]) -> None:
        self.stages, self.tokens, self.participants = state["stages"], state["tokens"], state["participants"]

    def dump(self) -> dict[str, Any]:
        return {"stages": self.stages, "tokens": self.tokens, "participants": self.participants}

    # -- operations ----------------------------------------------------------------------------

    def _CreateStage(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802 - IVS's operation names
        arn = f"arn:aws:ivs:{self.region}:{self.account}:stage/{_token(12)}"
        self.stages[arn] = {"arn": arn, "name": params.get("name", ""), "tags": params.get("tags", {})}
        if "autoParticipantRecordingConfiguration" in params:
            self.stages[arn]["autoParticipantRecordingConfiguration"] = params["autoParticipantRecordingConfiguration"]
        configurations = params.get("participantTokenConfigurations", [])
        if len(configurations) > MAX_TOKEN_CONFIGURATIONS:
            raise PlaneError("ValidationException", "At most 12 participant token configurations.")
        self.participants[arn] = {}
        tokens = [self._new_token(arn, configuration) for configuration in configurations]
        return {"stage": self._stage_view(arn), "participantTokens": tokens}

    def _GetStage(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        self._stage(params["arn"])
        return {"stage": self._stage_view(params["arn"])}

    def _ListStages(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        arns = sorted(self.stages)
        start = int(params.get("nextToken") or 0)
        size = int(params.get("maxResults", 50))
        page = arns[start : start + size]
        response: dict[str, Any] = {
            "stages": [
                {k: v for k, v in self._stage_view(arn).items() if k in ("arn", "name", "activeSessionId", "tags")}
                for arn in page
            ]
        }
        if start + size < len(arns):
            response["nextToken"] = str(start + size)
        return response

    def _DeleteStage(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        self._stage(params["arn"])
        del self.stages[params["arn"]]
        self.participants.pop(params["arn"], None)
        self.tokens = {t: v for t, v in self.tokens.items() if v["stageArn"] != params["arn"]}
        return {}

    def _CreateParticipantToken(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        self._stage(params["stageArn"])
        return {"participantToken": self._new_token(params["stageArn"], params)}

    def _ListParticipants(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        stage = self._stage(params["stageArn"])
        if stage.get("activeSessionId") != params["sessionId"] and not self._ended_session(stage, params["sessionId"]):
            return {"participants": []}
        state = params.get("filterByState")
        listed = [
            {k: p[k] for k in ("participantId", "userId", "state", "firstJoinTime", "published")}
            for p in self.participants.get(params["stageArn"], {}).values()
            if p["sessionId"] == params["sessionId"] and (state is None or p["state"] == state)
        ]
        return {"participants": listed}

    def _DisconnectParticipant(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        self._stage(params["stageArn"])
        participant = self.participants.get(params["stageArn"], {}).get(params["participantId"])
        if participant is None or participant["state"] != "CONNECTED":
            raise PlaneError("ResourceNotFoundException", "The participant is not connected.")
        self.whip.close(params["participantId"])
        self._leave(params["stageArn"], params["participantId"])
        return {}

    def _ListParticipantEvents(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        self._stage(params["stageArn"])
        participant = self.participants.get(params["stageArn"], {}).get(params["participantId"])
        if participant is None or participant["sessionId"] != params["sessionId"]:
            return {"events": []}
        return {"events": [{"participantId": params["participantId"], **e} for e in participant.get("events", [])]}

    # -- the media side's entry points -----------------------------------------------------------

    def handle_other(self, method: str, path: str, headers: Message, body: bytes) -> RawReply | None:
        parts = path.strip("/").split("/")
        if parts[0] != "whip" or len(parts) not in (2, 3):
            return None
        if method == "POST" and len(parts) == 2:
            return self._publish(parts[1], headers, body)
        if method == "DELETE" and len(parts) == 3:
            return self._unpublish(parts[1], parts[2])
        return RawReply(405)

    def _publish(self, stage_id: str, headers: Message, body: bytes) -> RawReply:
        if headers.get_content_type() != "application/sdp":
            return RawReply(415, b"WHIP takes an SDP offer (application/sdp).")
        scheme, _, token = (headers.get("Authorization") or "").partition(" ")
        with self.lock:
            grant = self.tokens.get(token) if scheme.lower() == "bearer" else None
            if grant is None or not grant["stageArn"].endswith(f"/{stage_id}") or _expired(grant):
                return RawReply(401, b"The participant token is missing, invalid or expired.")
            if "PUBLISH" not in grant["capabilities"]:
                return RawReply(403, b"The participant token does not carry the PUBLISH capability.")
        answer = self.whip.answer(grant["participantId"], body.decode())
        self.connect(token, published=True)
        location = f"/whip/{stage_id}/{grant['participantId']}"
        return RawReply(201, answer.encode(), {"Content-Type": "application/sdp", "Location": location})

    def _unpublish(self, stage_id: str, participant_id: str) -> RawReply:
        if not self.whip.close(participant_id):
            return RawReply(404)
        self._gone(participant_id)
        return RawReply(200)

    def _gone(self, participant_id: str) -> None:
        with self.lock:
            for stage_arn, participants in self.participants.items():
                if participants.get(participant_id, {}).get("state") == "CONNECTED":
                    self._leave(stage_arn, participant_id)
                    self.save()

    def connect(self, token: str, published: bool = False) -> dict[str, Any]:
        """A peer arrived with this participant token: it joins the stage's session (starting one)."""
        with self.lock:
            grant = self.tokens.get(token)
            if grant is None or _expired(grant):
                raise PlaneError("AccessDeniedException", "The participant token is invalid or expired.")
            stage = self._stage(grant["stageArn"])
            if not stage.get("activeSessionId"):
                stage["activeSessionId"] = "st-" + _token(13)
                stage.setdefault("sessions", []).append(stage["activeSessionId"])
            now = _now()
            participant = {
                "participantId": grant["participantId"],
                "userId": grant["userId"],
                "state": "CONNECTED",
                "firstJoinTime": _iso(now),
                "published": published and "PUBLISH" in grant["capabilities"],
                "sessionId": stage["activeSessionId"],
                "events": [{"name": "JOINED", "eventTime": _iso(now)}],
            }
            if participant["published"]:
                participant["events"].append({"name": "PUBLISH_STARTED", "eventTime": _iso(now)})
            self.participants.setdefault(grant["stageArn"], {})[grant["participantId"]] = participant
            self.save()
        if participant["published"]:
            self._emit(grant["stageArn"], participant, "Participant Published")
        return participant

    def leave(self, stage_arn: str, participant_id: str) -> None:
        with self.lock:
            self._leave(stage_arn, participant_id)
            self.save()

    # -- state ---------------------------------------------------------------------------------

    def _leave(self, stage_arn: str, participant_id: str) -> None:
        participant = self.participants[stage_arn][participant_id]
        participant["state"] = "DISCONNECTED"
        at = _iso(_now())
        if participant["published"]:
            participant["events"].append({"name": "PUBLISH_STOPPED", "eventTime": at})
        participant["events"].append({"name": "LEFT", "eventTime": at})
        if not any(p["state"] == "CONNECTED" for p in self.participants[stage_arn].values()):
            self.stages[stage_arn].pop("activeSessionId", None)
        if participant["published"]:
            self._emit(stage_arn, participant, "Participant Unpublished")

    def _emit(self, stage_arn: str, participant: dict[str, Any], event_name: str) -> None:
        """An `IVS Stage Update` on the default bus, as IVS puts it (best effort, as IVS's)."""
        if self.events is None:
            return
        detail = {
            "session_id": participant["sessionId"],
            "event_name": event_name,
            "user_id": participant["userId"],
            "participant_id": participant["participantId"],
        }
        entry = {
            "Source": "aws.ivs",
            "DetailType": STAGE_UPDATE,
            "Resources": [stage_arn],
            "Detail": json.dumps(detail),
        }
        try:
            self.events.put_events(Entries=[entry])
        except Exception:
            logger.exception("could not put %s of %s", event_name, stage_arn)

    def _stage(self, arn: str) -> dict[str, Any]:
        stage = self.stages.get(arn)
        if stage is None:
            raise PlaneError("ResourceNotFoundException", f"The stage {arn} does not exist.")
        return stage

    @staticmethod
    def _ended_session(stage: dict[str, Any], session_id: str) -> bool:
        return session_id in stage.get("sessions", [])

    def _stage_view(self, arn: str) -> dict[str, Any]:
        stage = self.stages[arn]
        stage_id = arn.rsplit("/", 1)[1]
        view = {k: v for k, v in stage.items() if k != "sessions"}
        view["endpoints"] = {
            "whip": f"{self.url}/whip/{stage_id}",
            "events": f"{self.url.replace('http', 'ws', 1)}/events/{stage_id}",
        }
        return view

    def _new_token(self, stage_arn: str, request: dict[str, Any]) -> dict[str, Any]:
        minutes = int(request.get("duration", DEFAULT_TOKEN_MINUTES))
        grant = {
            "participantId": _token(12),
            "token": _token(48),
            "userId": request.get("userId", ""),
            "attributes": request.get("attributes", {}),
            "duration": minutes,
            "capabilities": request.get("capabilities", ["PUBLISH", "SUBSCRIBE"]),
            "expirationTime": _iso(_now() + timedelta(minutes=minutes)),
        }
        self.tokens[grant["token"]] = {**grant, "stageArn": stage_arn}
        return grant
