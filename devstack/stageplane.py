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
import threading
from datetime import UTC, datetime, timedelta
from email.message import Message
from pathlib import Path
from typing import Any

import imageio_ffmpeg

from devstack.loopback import JsonApiPlane, PlaneError, RawReply
from devstack.stagerecorder import StageRecorder
from devstack.whip import WhipIngest

logger = logging.getLogger(__name__)
ALPHANUMERIC = string.ascii_letters + string.digits
STAGE_UPDATE = "IVS Stage Update"
COMPOSITION_STATE_CHANGE = "IVS Composition State Change"
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
        s3: Any = None,
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
        # Storage and encoder configurations (kept); compositions (in memory: a restart ends them).
        self.storage_configurations: dict[str, dict[str, Any]] = {}
        self.encoder_configurations: dict[str, dict[str, Any]] = {}
        self.compositions: dict[str, dict[str, Any]] = {}
        # The emulated S3 that compositions write to; None: StartComposition is refused.
        self.recorder = StageRecorder(s3, imageio_ffmpeg.get_ffmpeg_exe(), self.whip) if s3 is not None else None
        super().__init__(state_file)

    def stop(self) -> None:
        self.whip.stop()
        super().stop()

    def load(self, state: dict[str, Any]) -> None:
        self.stages, self.tokens, self.participants = state["stages"], state["tokens"], state["participants"]
        self.storage_configurations = state.get("storageConfigurations", {})
        self.encoder_configurations = state.get("encoderConfigurations", {})

    def dump(self) -> dict[str, Any]:
        return {
            "stages": self.stages,
            "tokens": self.tokens,
            "participants": self.participants,
            "storageConfigurations": self.storage_configurations,
            "encoderConfigurations": self.encoder_configurations,
        }

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

    # -- recording: storage and encoder configurations, compositions -----------------------------

    def _CreateStorageConfiguration(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        arn = f"arn:aws:ivs:{self.region}:{self.account}:storage-configuration/{_token(12)}"
        configuration = {"arn": arn, "name": params.get("name", ""), "s3": params["s3"], "tags": params.get("tags", {})}
        self.storage_configurations[arn] = configuration
        return {"storageConfiguration": configuration}

    def _ListStorageConfigurations(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        return {"storageConfigurations": list(self.storage_configurations.values())}

    def _CreateEncoderConfiguration(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        arn = f"arn:aws:ivs:{self.region}:{self.account}:encoder-configuration/{_token(12)}"
        configuration = {"arn": arn, "name": params.get("name", ""), "tags": params.get("tags", {})}
        configuration["video"] = params.get("video", {})
        self.encoder_configurations[arn] = configuration
        return {"encoderConfiguration": configuration}

    def _ListEncoderConfigurations(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        summaries = [{k: c[k] for k in ("arn", "name", "tags")} for c in self.encoder_configurations.values()]
        return {"encoderConfigurations": summaries}

    def _StartComposition(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        stage_arn = params["stageArn"]
        self._stage(stage_arn)
        token = params.get("idempotencyToken")
        for composition in self.compositions.values():
            if token and composition["stageArn"] == stage_arn and composition.get("idempotencyToken") == token:
                return {"composition": self._composition_view(composition)}
        if any(c["stageArn"] == stage_arn and c["state"] == "ACTIVE" for c in self.compositions.values()):
            raise PlaneError("ConflictException", "The stage already has an active composition.")
        destinations = params["destinations"]
        if len(destinations) != 1 or "s3" not in destinations[0]:
            raise PlaneError("ValidationException", "This plane records to one S3 destination only.")
        s3 = destinations[0]["s3"]
        storage = self.storage_configurations.get(s3["storageConfigurationArn"])
        if storage is None or any(arn not in self.encoder_configurations for arn in s3["encoderConfigurationArns"]):
            raise PlaneError("ResourceNotFoundException", "The storage or encoder configuration does not exist.")
        if self.recorder is None:
            raise PlaneError("ServiceQuotaExceededException", "This plane has no S3 to record to.")
        composition_id, destination_id = _token(12), _token(12)
        arn = f"arn:aws:ivs:{self.region}:{self.account}:composition/{composition_id}"
        prefix = f"{storage['arn'].rsplit('/', 1)[1]}/{composition_id}/{destination_id}/composite"
        composition = {
            "arn": arn,
            "stageArn": stage_arn,
            "state": "ACTIVE",
            "idempotencyToken": token,
            "startTime": _iso(_now()),
            "tags": params.get("tags", {}),
            "layout": params.get("layout") or {"grid": {}},
            "destinations": [
                {
                    "id": destination_id,
                    "state": "ACTIVE",
                    "configuration": destinations[0],
                    "detail": {"s3": {"recordingPrefix": prefix}},
                    "startTime": _iso(_now()),
                }
            ],
        }
        self.compositions[arn] = composition
        self.recorder.start(composition_id, storage["s3"]["bucketName"], prefix, stage_arn)
        publishers = [
            p["participantId"]
            for p in self.participants.get(stage_arn, {}).values()
            if p["state"] == "CONNECTED" and p["published"]
        ]
        # Not under the plane's lock: the peers' loop may be waiting for it (a peer leaving).
        threading.Thread(target=self._add_all, args=(composition_id, publishers), daemon=True).start()
        self._emit_composition(composition, "Session Start")
        self._emit_composition(composition, "Destination Start")
        return {"composition": self._composition_view(composition)}

    def _add_all(self, composition_id: str, participant_ids: list[str]) -> None:
        assert self.recorder is not None
        for participant_id in participant_ids:
            self.recorder.add(composition_id, participant_id)

    def _GetComposition(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        return {"composition": self._composition_view(self._composition(params["arn"]))}

    def _StopComposition(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        composition = self._composition(params["arn"])
        if composition["state"] == "ACTIVE":
            composition["state"] = "STOPPING"
            # Composing and uploading take seconds: the reply does not wait (IVS's stop is asynchronous too).
            threading.Thread(target=self._finish, args=(composition,), name="composition-stop", daemon=True).start()
        return {}

    def _finish(self, composition: dict[str, Any]) -> None:
        assert self.recorder is not None
        duration_ms = self.recorder.stop(composition["arn"].rsplit("/", 1)[1], composition["stageArn"])
        with self.lock:
            failed = duration_ms is None
            composition["state"] = "FAILED" if failed else "STOPPED"
            composition["endTime"] = _iso(_now())
            for destination in composition["destinations"]:
                destination["state"], destination["endTime"] = composition["state"], composition["endTime"]
        self._emit_composition(composition, "Destination Failure" if failed else "Destination End")
        self._emit_composition(composition, "Session Failure" if failed else "Session End")

    def _composition(self, arn: str) -> dict[str, Any]:
        composition = self.compositions.get(arn)
        if composition is None:
            raise PlaneError("ResourceNotFoundException", f"The composition {arn} does not exist.")
        return composition

    @staticmethod
    def _composition_view(composition: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in composition.items() if k != "idempotencyToken"}

    def _emit_composition(self, composition: dict[str, Any], event_name: str) -> None:
        """An `IVS Composition State Change` on the default bus: the composition's ARN in
        `resources`, the stage's in the detail, as IVS puts them."""
        detail: dict[str, Any] = {"event_name": event_name, "stage_arn": composition["stageArn"]}
        if event_name.startswith("Destination"):
            detail["destination_id"] = composition["destinations"][0]["id"]
        self._put_event(COMPOSITION_STATE_CHANGE, composition["arn"], detail)

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
            self._record(grant["stageArn"], participant["participantId"])
        return participant

    def _record(self, stage_arn: str, participant_id: str) -> None:
        """A new publisher joins the stage's active composition, if any."""
        if self.recorder is None:
            return
        for composition in list(self.compositions.values()):
            if composition["stageArn"] == stage_arn and composition["state"] == "ACTIVE":
                self.recorder.add(composition["arn"].rsplit("/", 1)[1], participant_id)

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
        self._put_event(STAGE_UPDATE, stage_arn, detail)

    def _put_event(self, detail_type: str, resource: str, detail: dict[str, Any]) -> None:
        if self.events is None:
            return
        entry = {"Source": "aws.ivs", "DetailType": detail_type, "Resources": [resource], "Detail": json.dumps(detail)}
        try:
            self.events.put_events(Entries=[entry])
        except Exception:
            logger.exception("could not put %s %s of %s", detail_type, detail.get("event_name"), resource)

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
