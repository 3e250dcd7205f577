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

Subscribers watch at `<plane>/whep/<stageId>` (`devstack.whep`, a devstack stand-in: IVS has no
subscribe URL, its Web Broadcast SDK subscribes): `GET` lists the stage's current publishers, `POST`
an SDP offer (`?participantId=` picks one publisher; without it every other publisher's tracks fill
the offer's transceivers in turn) for a 201 answer and `Location: /whep/<stageId>/<subscriptionId>`,
`DELETE` there ends it. The token must carry SUBSCRIBE; a subscriber is a CONNECTED, unpublished
participant. A participant may hold a publication and any number of subscriptions (its links): it
stops publishing when its publication ends and leaves when its last link ends. Browsers call from
another origin (the API's pages), so these media endpoints answer CORS.
"""

from __future__ import annotations

import json
import logging
import secrets
import string
import threading
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from email.message import Message
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import imageio_ffmpeg

from devstack.loopback import JsonApiPlane, PlaneError, RawReply
from devstack.stagerecorder import StageRecorder
from devstack.whep import WhepEgress
from devstack.whip import WhipIngest

logger = logging.getLogger(__name__)
ALPHANUMERIC = string.ascii_letters + string.digits
STAGE_UPDATE = "IVS Stage Update"
COMPOSITION_STATE_CHANGE = "IVS Composition State Change"
MAX_TOKEN_CONFIGURATIONS = 12
DEFAULT_TOKEN_MINUTES = 720  # IVS's default participant token duration
PUBLICATION = "whip"  # the link a participant's WHIP publication holds; subscriptions hold their ids
CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, DELETE, OPTIONS",
    "Access-Control-Allow-Headers": "Authorization, Content-Type",
    "Access-Control-Expose-Headers": "Location",
}


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
        self.whep = WhepEgress(self.whip, self._unsubscribed)
        # Participant id -> its live peers (PUBLICATION, subscription ids); peers do not survive a restart.
        self.links: defaultdict[str, set[str]] = defaultdict(set)
        # Subscription id -> (stage ARN, participant id).
        self.subscriptions: dict[str, tuple[str, str]] = {}
        # Storage and encoder configurations (kept); compositions (in memory: a restart ends them).
        self.storage_configurations: dict[str, dict[str, Any]] = {}
        self.encoder_configurations: dict[str, dict[str, Any]] = {}
        self.compositions: dict[str, dict[str, Any]] = {}
        # The emulated S3 that compositions write to; None: StartComposition is refused.
        self.recorder = StageRecorder(s3, imageio_ffmpeg.get_ffmpeg_exe(), self.whip) if s3 is not None else None
        super().__init__(state_file)

    def stop(self) -> None:
        self.whep.stop()
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
        for subscription_id in self.links.pop(params["participantId"], set()) - {PUBLICATION}:
            self.subscriptions.pop(subscription_id, None)
            self.whep.close(subscription_id)
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
            if p["state"] == "CONNECTED" and p.get("publishing")
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
        url = urlsplit(path)
        parts = url.path.strip("/").split("/")
        if parts[0] not in ("whip", "whep") or len(parts) not in (2, 3):
            return None
        reply = self._media(method, parts, parse_qs(url.query), headers, body)
        reply.headers.update(CORS)
        return reply

    def _media(
        self, method: str, parts: list[str], query: dict[str, list[str]], headers: Message, body: bytes
    ) -> RawReply:
        if method == "OPTIONS":
            return RawReply(204)
        route = (parts[0], method, len(parts))
        if route == ("whip", "POST", 2):
            return self._publish(parts[1], headers, body)
        if route == ("whip", "DELETE", 3):
            return self._unpublish(parts[1], parts[2])
        if route == ("whep", "GET", 2):
            return self._publishers(parts[1], headers)
        if route == ("whep", "POST", 2):
            return self._subscribe(parts[1], query.get("participantId", [""])[0], headers, body)
        if route == ("whep", "DELETE", 3):
            return self._unsubscribe(parts[2])
        return RawReply(405)

    def _grant(self, stage_id: str, headers: Message, capability: str) -> dict[str, Any] | RawReply:
        """What the Bearer participant token admits to, or the refusal."""
        scheme, _, token = (headers.get("Authorization") or "").partition(" ")
        with self.lock:
            grant = self.tokens.get(token) if scheme.lower() == "bearer" else None
            if grant is None or not grant["stageArn"].endswith(f"/{stage_id}") or _expired(grant):
                return RawReply(401, b"The participant token is missing, invalid or expired.")
            if capability not in grant["capabilities"]:
                return RawReply(403, f"The participant token does not carry the {capability} capability.".encode())
            return {**grant, "token": token}

    def _publishers_of(self, stage_arn: str) -> list[dict[str, Any]]:
        """The stage's participants publishing now (whose media the ingest has), first joined first."""
        with self.lock:
            live = [
                p
                for p in self.participants.get(stage_arn, {}).values()
                if p["state"] == "CONNECTED" and PUBLICATION in self.links.get(p["participantId"], ())
            ]
        return sorted(live, key=lambda p: p["firstJoinTime"])

    def _publishers(self, stage_id: str, headers: Message) -> RawReply:
        grant = self._grant(stage_id, headers, "SUBSCRIBE")
        if isinstance(grant, RawReply):
            return grant
        listed = [
            {"participantId": p["participantId"], "userId": p["userId"], "attributes": p.get("attributes", {})}
            for p in self._publishers_of(grant["stageArn"])
        ]
        return RawReply(200, json.dumps({"publishers": listed}).encode(), {"Content-Type": "application/json"})

    def _subscribe(self, stage_id: str, publisher_id: str, headers: Message, body: bytes) -> RawReply:
        if headers.get_content_type() != "application/sdp":
            return RawReply(415, b"WHEP takes an SDP offer (application/sdp).")
        grant = self._grant(stage_id, headers, "SUBSCRIBE")
        if isinstance(grant, RawReply):
            return grant
        others = [
            p["participantId"]
            for p in self._publishers_of(grant["stageArn"])
            if p["participantId"] != grant["participantId"]
        ]
        if publisher_id and publisher_id not in others:
            return RawReply(404, b"That participant is not publishing on this stage.")
        subscription_id = _token(12)
        answer = self.whep.answer(subscription_id, body.decode(), [publisher_id] if publisher_id else others)
        self.connect(grant["token"])
        with self.lock:
            self.subscriptions[subscription_id] = (grant["stageArn"], grant["participantId"])
            self.links[grant["participantId"]].add(subscription_id)
        location = f"/whep/{stage_id}/{subscription_id}"
        return RawReply(201, answer.encode(), {"Content-Type": "application/sdp", "Location": location})

    def _unsubscribe(self, subscription_id: str) -> RawReply:
        if not self.whep.close(subscription_id):
            return RawReply(404)
        self._unsubscribed(subscription_id)
        return RawReply(200)

    def _unsubscribed(self, subscription_id: str) -> None:
        with self.lock:
            found = self.subscriptions.pop(subscription_id, None)
            if found is not None:
                self._unlink(*found, subscription_id)

    def _publish(self, stage_id: str, headers: Message, body: bytes) -> RawReply:
        if headers.get_content_type() != "application/sdp":
            return RawReply(415, b"WHIP takes an SDP offer (application/sdp).")
        grant = self._grant(stage_id, headers, "PUBLISH")
        if isinstance(grant, RawReply):
            return grant
        answer = self.whip.answer(grant["participantId"], body.decode())
        self.connect(grant["token"], published=True)
        with self.lock:
            self.links[grant["participantId"]].add(PUBLICATION)
        location = f"/whip/{stage_id}/{grant['participantId']}"
        return RawReply(201, answer.encode(), {"Content-Type": "application/sdp", "Location": location})

    def _unpublish(self, stage_id: str, participant_id: str) -> RawReply:
        if not self.whip.close(participant_id):
            return RawReply(404)
        self._gone(participant_id)
        return RawReply(200)

    def _gone(self, participant_id: str) -> None:
        """The participant's publication ended."""
        with self.lock:
            for stage_arn, participants in self.participants.items():
                if participants.get(participant_id, {}).get("state") == "CONNECTED":
                    self._unlink(stage_arn, participant_id, PUBLICATION)

    def _unlink(self, stage_arn: str, participant_id: str, link: str) -> None:
        """One of a participant's peers ended: it stops publishing with its publication, and leaves
        with its last peer."""
        participant = self.participants.get(stage_arn, {}).get(participant_id)
        links = self.links.get(participant_id, set())
        links.discard(link)
        if participant is None or participant["state"] != "CONNECTED":
            return
        if links:
            if link == PUBLICATION:
                self._stop_publishing(stage_arn, participant)
        else:
            self.links.pop(participant_id, None)
            self._leave(stage_arn, participant_id)
        self.save()

    def connect(self, token: str, published: bool = False) -> dict[str, Any]:
        """A peer arrived with this participant token: it joins the stage's session (starting one);
        a participant already connected stays in it, and starts publishing if it did not."""
        with self.lock:
            grant = self.tokens.get(token)
            if grant is None or _expired(grant):
                raise PlaneError("AccessDeniedException", "The participant token is invalid or expired.")
            stage = self._stage(grant["stageArn"])
            present = self.participants.get(grant["stageArn"], {}).get(grant["participantId"])
            if present is not None and present["state"] == "CONNECTED":
                return self._start_publishing(grant, present) if published else present
            if not stage.get("activeSessionId"):
                stage["activeSessionId"] = "st-" + _token(13)
                stage.setdefault("sessions", []).append(stage["activeSessionId"])
            now = _now()
            participant = {
                "participantId": grant["participantId"],
                "userId": grant["userId"],
                "attributes": grant.get("attributes", {}),
                "state": "CONNECTED",
                "firstJoinTime": _iso(now),
                "published": False,
                "sessionId": stage["activeSessionId"],
                "events": [{"name": "JOINED", "eventTime": _iso(now)}],
            }
            self.participants.setdefault(grant["stageArn"], {})[grant["participantId"]] = participant
            self.save()
        return self._start_publishing(grant, participant) if published else participant

    def _start_publishing(self, grant: dict[str, Any], participant: dict[str, Any]) -> dict[str, Any]:
        if "PUBLISH" not in grant["capabilities"] or participant.get("publishing"):
            return participant
        with self.lock:
            # `published` is IVS's "ever published in this session"; `publishing` is now.
            participant["published"] = participant["publishing"] = True
            participant["events"].append({"name": "PUBLISH_STARTED", "eventTime": _iso(_now())})
            self.save()
        self._emit(grant["stageArn"], participant, "Participant Published")
        self._record(grant["stageArn"], participant["participantId"])
        return participant

    def _stop_publishing(self, stage_arn: str, participant: dict[str, Any]) -> None:
        if participant.pop("publishing", False):
            participant["events"].append({"name": "PUBLISH_STOPPED", "eventTime": _iso(_now())})
            self._emit(stage_arn, participant, "Participant Unpublished")

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
        self._stop_publishing(stage_arn, participant)
        participant["events"].append({"name": "LEFT", "eventTime": _iso(_now())})
        if not any(p["state"] == "CONNECTED" for p in self.participants[stage_arn].values()):
            self.stages[stage_arn].pop("activeSessionId", None)

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
