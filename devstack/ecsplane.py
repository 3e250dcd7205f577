"""The devstack's ECS plane: just enough of Amazon ECS's API (JSON 1.1 on loopback) for restream
relays, so the app's ECS adapter (chalicelib/live/adapters/relays.py) runs unchanged against it.

moto's ECS records tasks but runs nothing; here a RunTask of the relay task definition starts
`infra/relay/relay.py` (the relay container's program) as a process, with the container
overrides' environment, the devstack's AWS settings (its reports go to the emulated SQS) and the
devstack's ffmpeg. `clientToken` makes RunTask idempotent as on ECS; `ListTasks` finds a relay's
running tasks by `startedBy`; `StopTask` sends SIGTERM (ECS's stop signal). Requests are checked
against botocore's `ecs` model (unknown or missing members are ECS's ClientException).
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import Any

from devstack.loopback import JsonApiPlane, PlaneError, RawReply

logger = logging.getLogger(__name__)

RELAY_PROGRAM = Path(__file__).resolve().parents[1] / "infra" / "relay" / "relay.py"
TARGET_PREFIX = "AmazonEC2ContainerServiceV20141113."
ACCOUNT = "000000000000"
REGION = "us-east-1"
CLUSTER = "videoplane-relays"
TASK_DEFINITION = "videoplane-restream-relay"
CONTAINER = "relay"
STOP_TIMEOUT_SECONDS = 10.0


@dataclass
class Task:
    arn: str
    started_by: str
    client_token: str
    process: subprocess.Popen[bytes]
    created_at: float
    desired: str = "RUNNING"
    stopped_reason: str = ""

    @property
    def last_status(self) -> str:
        return "RUNNING" if self.process.poll() is None else "STOPPED"

    def wire(self) -> dict[str, Any]:
        return {
            "taskArn": self.arn,
            "clusterArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{CLUSTER}",
            "taskDefinitionArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/{TASK_DEFINITION}:1",
            "lastStatus": self.last_status,
            "desiredStatus": self.desired,
            "launchType": "FARGATE",
            "startedBy": self.started_by,
            "createdAt": self.created_at,
            **({"stoppedReason": self.stopped_reason} if self.stopped_reason else {}),
        }


class EcsPlane(JsonApiPlane):
    service = "ecs"

    def __init__(self, ffmpeg: str, program: Path = RELAY_PROGRAM, python: str = sys.executable) -> None:
        super().__init__()
        self.ffmpeg = ffmpeg
        self.program = program  # what a task runs (tests give their own)
        self.python = python
        self.tasks: dict[str, Task] = {}
        self._by_token: dict[str, Task] = {}

    @staticmethod
    def settings() -> str:
        """VIDEOPLANE_LIVE_RELAYS for the app: this plane's cluster and task definition."""
        return json.dumps({"cluster": CLUSTER, "taskDefinition": TASK_DEFINITION, "container": CONTAINER})

    def handle_other(self, method: str, path: str, headers: Message, body: bytes) -> RawReply | None:
        """ECS speaks JSON 1.1: every call is a POST to / named by X-Amz-Target."""
        target = headers.get("X-Amz-Target", "")
        if method != "POST" or not target.startswith(TARGET_PREFIX):
            return None
        operation = target[len(TARGET_PREFIX) :]
        try:
            if not hasattr(self, f"_{operation}"):
                raise PlaneError("ClientException", f"The devstack's ECS plane does not implement {operation}.")
            _, result = self.invoke(operation, json.loads(body or b"{}"))
        except json.JSONDecodeError:
            return _error(PlaneError("ClientException", "The request body is not JSON."))
        except PlaneError as error:
            code = "ClientException" if error.code == "ValidationException" else error.code
            return _error(PlaneError(code, error.message))
        return RawReply(200, json.dumps(result).encode(), {"Content-Type": "application/x-amz-json-1.1"})

    def stop(self) -> None:
        with self.lock:
            running = [task for task in self.tasks.values() if task.process.poll() is None]
        for task in running:
            task.process.terminate()
        for task in running:
            try:
                task.process.wait(STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                task.process.kill()
        super().stop()

    # -- operations ----------------------------------------------------------------------------

    def _RunTask(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802 - ECS's operation names
        self._cluster(params.get("cluster"))
        if params["taskDefinition"].split("/")[-1].split(":")[0] != TASK_DEFINITION:
            raise PlaneError("ClientException", f"Unable to find task definition {params['taskDefinition']}.")
        token = params.get("clientToken", "")
        if token and token in self._by_token:
            return {"tasks": [self._by_token[token].wire()], "failures": []}
        overrides = params.get("overrides", {}).get("containerOverrides", [])
        environment = {
            item["name"]: item["value"] for o in overrides if o.get("name") == CONTAINER for item in o["environment"]
        }
        process = subprocess.Popen(
            [self.python, str(self.program)],
            env={**os.environ, **environment, "RELAY_FFMPEG": self.ffmpeg},
            stdin=subprocess.DEVNULL,
        )
        task = Task(
            arn=f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/{CLUSTER}/{uuid.uuid4().hex}",
            started_by=params.get("startedBy", ""),
            client_token=token,
            process=process,
            created_at=time.time(),
        )
        self.tasks[task.arn] = task
        if token:
            self._by_token[token] = task
        logger.info("ecs: relay task %s started (%s)", task.arn, task.started_by)
        return {"tasks": [task.wire()], "failures": []}

    def _ListTasks(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        self._cluster(params.get("cluster"))
        desired = params.get("desiredStatus", "RUNNING")
        started_by = params.get("startedBy")
        arns = [
            t.arn
            for t in self.tasks.values()
            if (started_by is None or t.started_by == started_by) and _listed(t, desired)
        ]
        return {"taskArns": arns}

    def _StopTask(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        self._cluster(params.get("cluster"))
        task = self.tasks.get(params["task"]) or next(
            (t for t in self.tasks.values() if t.arn.rsplit("/", 1)[-1] == params["task"]), None
        )
        if task is None:
            raise PlaneError("InvalidParameterException", "The referenced task was not found.")
        task.desired = "STOPPED"
        task.stopped_reason = params.get("reason", "Task stopped by user")
        if task.process.poll() is None:
            task.process.terminate()
            # Reaped in the background: the relay reports `stopped` on its way out.
            threading.Thread(target=task.process.wait, daemon=True).start()
        return {"task": task.wire()}

    def _DescribeTasks(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        self._cluster(params.get("cluster"))
        found = [self.tasks[arn].wire() for arn in params["tasks"] if arn in self.tasks]
        missing = [{"arn": arn, "reason": "MISSING"} for arn in params["tasks"] if arn not in self.tasks]
        return {"tasks": found, "failures": missing}

    @staticmethod
    def _cluster(name: str | None) -> None:
        if name is not None and name.split("/")[-1] != CLUSTER:
            raise PlaneError("ClusterNotFoundException", f"Cluster not found: {name}.")


def _listed(task: Task, desired: str) -> bool:
    if desired == "STOPPED":
        return task.desired == "STOPPED" or task.last_status == "STOPPED"
    return task.desired == "RUNNING" and task.last_status == "RUNNING"


def _error(error: PlaneError) -> RawReply:
    body = json.dumps({"__type": error.code, "message": error.message}).encode()
    return RawReply(400, body, {"Content-Type": "application/x-amz-json-1.1"})
