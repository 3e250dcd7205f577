"""The devstack's ECS plane driven like ECS: boto3's ecs client over HTTP (JSON 1.1). A task runs
a program with its container overrides' environment (here a stand-in for the relay that writes
its environment and waits for SIGTERM); RunTask is idempotent by clientToken; ListTasks finds a
task by startedBy; StopTask ends it; requests are checked against the model."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from devstack.ecsplane import CLUSTER, CONTAINER, TASK_DEFINITION, EcsPlane

STAND_IN = """
import json, os, signal, sys, time
from pathlib import Path
out = Path(os.environ["OUT"])
out.write_text(json.dumps({"target": os.environ["RELAY_TARGET_URL"], "ffmpeg": os.environ["RELAY_FFMPEG"]}))
signal.signal(signal.SIGTERM, lambda *_: (out.with_suffix(".stopped").write_text("bye"), sys.exit(0)))
time.sleep(60)
"""


@pytest.fixture
def plane(tmp_path: Path) -> Iterator[EcsPlane]:
    program = tmp_path / "stand_in.py"
    program.write_text(STAND_IN)
    started = EcsPlane("/usr/bin/ffmpeg-of-the-devstack", program=program)
    started.start()
    yield started
    started.stop()


def client(plane: EcsPlane) -> Any:
    make: Any = boto3.client
    return make(
        "ecs", endpoint_url=plane.url, region_name="us-east-1", aws_access_key_id="d", aws_secret_access_key="d"
    )


def run_task(ecs: Any, out: Path, token: str) -> dict[str, Any]:
    environment = [{"name": "RELAY_TARGET_URL", "value": "rtmp://t/app/k"}, {"name": "OUT", "value": str(out)}]
    response: dict[str, Any] = ecs.run_task(
        cluster=CLUSTER,
        taskDefinition=TASK_DEFINITION,
        launchType="FARGATE",
        count=1,
        startedBy=token,
        clientToken=token,
        overrides={"containerOverrides": [{"name": CONTAINER, "environment": environment}]},
    )
    return response


def wait_for(path: Path) -> str:
    deadline = time.monotonic() + 10
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)
    return path.read_text()


def test_a_task_runs_once_per_client_token_and_stops_on_stop_task(plane: EcsPlane, tmp_path: Path) -> None:
    ecs = client(plane)
    out = tmp_path / "relay.json"
    first = run_task(ecs, out, "rl1")["tasks"][0]
    again = run_task(ecs, tmp_path / "second.json", "rl1")["tasks"][0]
    assert again["taskArn"] == first["taskArn"] and len(plane.tasks) == 1  # idempotent, like ECS
    assert json.loads(wait_for(out)) == {"target": "rtmp://t/app/k", "ffmpeg": "/usr/bin/ffmpeg-of-the-devstack"}

    assert ecs.list_tasks(cluster=CLUSTER, startedBy="rl1")["taskArns"] == [first["taskArn"]]
    assert ecs.list_tasks(cluster=CLUSTER, startedBy="rl2")["taskArns"] == []
    stopped = ecs.stop_task(cluster=CLUSTER, task=first["taskArn"], reason="target removed")["task"]
    assert stopped["desiredStatus"] == "STOPPED" and stopped["stoppedReason"] == "target removed"
    assert wait_for(out.with_suffix(".stopped")) == "bye"  # SIGTERM, as ECS stops a task
    assert ecs.list_tasks(cluster=CLUSTER, startedBy="rl1")["taskArns"] == []
    described = ecs.describe_tasks(cluster=CLUSTER, tasks=[first["taskArn"]])["tasks"][0]
    assert described["desiredStatus"] == "STOPPED"


def test_requests_are_checked_as_ecs_does(plane: EcsPlane) -> None:
    ecs = client(plane)
    with pytest.raises(ClientError) as wrong_cluster:
        ecs.list_tasks(cluster="another")
    assert wrong_cluster.value.response["Error"]["Code"] == "ClusterNotFoundException"
    with pytest.raises(ClientError) as unknown_task:
        ecs.stop_task(cluster=CLUSTER, task="arn:aws:ecs:us-east-1:000000000000:task/videoplane-relays/nope")
    assert unknown_task.value.response["Error"]["Code"] == "InvalidParameterException"
    with pytest.raises(ClientError) as other_definition:
        ecs.run_task(cluster=CLUSTER, taskDefinition="someone-elses")
    assert other_definition.value.response["Error"]["Code"] == "ClientException"
    with pytest.raises(ClientError) as unimplemented:
        ecs.list_clusters()
    assert unimplemented.value.response["Error"]["Code"] == "ClientException"
