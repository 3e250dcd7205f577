"""What the e2e tests share: the running devstack, raw HTTP helpers and problem-JSON checks."""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import signal
import string
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import requests

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCS = "https://docs.api.video/reference/"
START_TIMEOUT_SECONDS = 60
STOP_TIMEOUT_SECONDS = 15
CLI_TIMEOUT_SECONDS = 30
HTTP_TIMEOUT_SECONDS = 15
BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
VIDEO_ID = re.compile(r"^vi[0-9A-Za-z]{22}$")
_DEV_PROJECT_LINE = re.compile(r"Dev project:\s+(\S+)")


def random_id(prefix: str) -> str:
    """An id in the server's format that no one has ever been issued."""
    return prefix + "".join(secrets.choice(BASE62) for _ in range(22))


def wrong_secret(api_key: str) -> str:
    """The same key id with another secret: well formed, never valid."""
    return api_key[:-4] + ("BBBB" if api_key.endswith("AAAA") else "AAAA")


def marker() -> str:
    """A string unique to one test, to find that test's own videos and tags among the others."""
    return "e2e" + secrets.token_hex(5)


@dataclass(frozen=True)
class Tenant:
    """A project and one admin API key of it."""

    project_id: str
    api_key: str


@dataclass(frozen=True)
class IssuedKey:
    project_id: str
    key_id: str
    role: str
    api_key: str


@dataclass
class Devstack:
    """`python -m devstack up` running in a subprocess, and its command line for more tenants."""

    process: subprocess.Popen[bytes]
    state_dir: Path
    env: dict[str, str]
    log_path: Path
    api_url: str = ""
    aws_endpoint: str = ""
    dev_api_key: str = ""
    dev_project_id: str = ""

    @classmethod
    def start(cls, state_dir: Path, settings: Mapping[str, str] = {}, port: int = 0) -> Devstack:
        """`port` 0 takes free ports (the media server's too); a fixed one is how `make run` starts."""
        env = {
            **os.environ,
            **settings,
            "VIDEOPLANE_DEVSTACK_DIR": str(state_dir),
            "PYTHONUNBUFFERED": "1",
            # Test-only: webhook retries after milliseconds instead of seconds to hours.
            "VIDEOPLANE_WEBHOOK_RETRY_SCALE": "0.001",
        }
        log_path = state_dir / "devstack.log"
        with log_path.open("ab") as log:  # appended: a test may start a stack on the same folder again
            process = subprocess.Popen(
                [sys.executable, "-m", "devstack", "up", "--port", str(port)],
                cwd=REPO_ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        stack = cls(process=process, state_dir=state_dir, env=env, log_path=log_path)
        try:
            stack._wait_until_up()
        except BaseException:
            stack.kill()
            raise
        return stack

    def _wait_until_up(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        state_file, key_file = self.state_dir / "state.json", self.state_dir / "api-key"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"devstack exited with {self.process.returncode}:\n{self.log_tail()}")
            if state_file.exists() and key_file.exists():
                try:
                    state = json.loads(state_file.read_text())
                except ValueError:  # caught mid-write
                    state = {}
                api_key = key_file.read_text().strip()
                # A stack killed with -9 leaves its state.json behind: only this process's counts.
                if state.get("apiUrl") and state.get("pid") == self.process.pid and api_key:
                    self.api_url = str(state["apiUrl"]).rstrip("/")
                    self.aws_endpoint = str(state.get("awsEndpoint", ""))
                    self.dev_api_key = api_key
                    self.dev_project_id = self._dev_project_id(api_key)
                    return
            time.sleep(0.1)
        raise TimeoutError(f"devstack not up after {START_TIMEOUT_SECONDS} s:\n{self.log_tail()}")

    def _dev_project_id(self, api_key: str) -> str:
        """From the banner `up` prints; failing that, from the key (`vpk_<projectId>_<keyId>_<secret>`)."""
        printed = _DEV_PROJECT_LINE.findall(self.log_path.read_text(errors="replace"))
        return str(printed[-1]) if printed else api_key.split("_")[1]

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def state(self) -> dict[str, Any]:
        """What the running stack wrote to state.json (URLs, pids, its own ports)."""
        state: dict[str, Any] = json.loads((self.state_dir / "state.json").read_text())
        return state

    def stop(self) -> int:
        """SIGTERM, then the exit code; raises if the stack does not stop in time."""
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            self.kill()
            raise

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=STOP_TIMEOUT_SECONDS)

    def cli(self, *args: str) -> dict[str, Any]:
        """`python -m devstack ARGS` against this stack; its JSON output."""
        done = subprocess.run(
            [sys.executable, "-m", "devstack", *args],
            cwd=REPO_ROOT,
            env=self.env,
            capture_output=True,
            timeout=CLI_TIMEOUT_SECONDS,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"devstack {' '.join(args)} failed ({done.returncode}): {done.stderr.decode()}")
        result: dict[str, Any] = json.loads(done.stdout.decode().strip().splitlines()[-1])
        return result

    def create_project(self, name: str) -> Tenant:
        result = self.cli("project", "create", name)
        return Tenant(project_id=result["projectId"], api_key=result["apiKey"])

    def create_key(self, project_id: str, role: str, name: str = "e2e key") -> IssuedKey:
        result = self.cli("key", "create", project_id, "--role", role, "--name", name)
        return IssuedKey(
            project_id=result["projectId"], key_id=result["keyId"], role=result["role"], api_key=result["apiKey"]
        )

    def stored_text(self) -> str:
        """Every item of every DynamoDB table in the emulator, as one string (to look for leaked secrets)."""
        client = boto3.client(
            "dynamodb",
            endpoint_url=self.aws_endpoint,
            region_name="us-east-1",
            aws_access_key_id="devstack",
            aws_secret_access_key="devstack",
        )
        chunks: list[str] = []
        for table in client.list_tables()["TableNames"]:
            for page in client.get_paginator("scan").paginate(TableName=table):
                chunks.extend(json.dumps(item, default=str) for item in page["Items"])
        return "\n".join(chunks)


def basic(api_key: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{api_key}:".encode()).decode()}


@dataclass
class Api:
    """Raw HTTP against the devstack, with bearer tokens cached per API key."""

    base_url: str
    session: requests.Session = field(default_factory=requests.Session)
    _tokens: dict[str, str] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return self.base_url + path

    def raw(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", HTTP_TIMEOUT_SECONDS)
        return self.session.request(method, self.url(path), **kwargs)

    def token_pair(self, api_key: str) -> dict[str, Any]:
        response = self.raw("POST", "/auth/api-key", json={"apiKey": api_key})
        assert response.status_code == 200, response.text
        pair: dict[str, Any] = response.json()
        return pair

    def bearer(self, api_key: str) -> dict[str, str]:
        if api_key not in self._tokens:
            self._tokens[api_key] = self.token_pair(api_key)["access_token"]
        return {"Authorization": f"Bearer {self._tokens[api_key]}"}

    def call(
        self, method: str, path: str, api_key: str, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> requests.Response:
        return self.raw(method, path, headers={**self.bearer(api_key), **(headers or {})}, **kwargs)

    def ok(self, method: str, path: str, api_key: str, expected: int = 200, **kwargs: Any) -> Any:
        """A call that must succeed; its JSON body (None for an empty one)."""
        response = self.call(method, path, api_key, **kwargs)
        assert response.status_code == expected, f"{method} {path}: {response.status_code} {response.text}"
        return response.json() if response.content else None

    def create_video(self, api_key: str, **fields: Any) -> dict[str, Any]:
        body: dict[str, Any] = self.ok("POST", "/videos", api_key, expected=201, json=fields)
        return body

    def list_all(self, path: str, api_key: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Every item of a paginated list, following currentPage up to pagesTotal."""
        items: list[dict[str, Any]] = []
        page = 1
        while True:
            body = self.ok("GET", path, api_key, params={**(params or {}), "pageSize": 100, "currentPage": page})
            items.extend(body["data"])
            if page >= body["pagination"]["pagesTotal"]:
                return items
            page += 1


def assert_problem(response: requests.Response, status: int, slug: str, name: str | None = None) -> dict[str, Any]:
    """An api.video problem: JSON, `type` from the slug, a title, `name` and `status` equal to the HTTP one."""
    assert response.status_code == status, f"expected {status} {slug}, got {response.status_code}: {response.text}"
    assert response.headers.get("Content-Type", "").startswith("application/json"), response.headers
    assert response.headers.get("X-Request-Id"), "every response carries X-Request-Id"
    body: dict[str, Any] = response.json()
    assert body["type"] == DOCS + slug, body
    assert body["status"] == status, body
    assert isinstance(body["title"], str) and body["title"], body
    assert isinstance(body.get("name"), str), body
    if name is not None:
        assert body["name"] == name, body
    return body


def problem_names(body: dict[str, Any]) -> list[str]:
    """The `name` of every entry of `problems`, after checking each entry's shape."""
    problems = body.get("problems")
    assert isinstance(problems, list) and problems, body
    for problem in problems:
        assert str(problem["type"]).startswith(DOCS), problem
        assert isinstance(problem["title"], str) and problem["title"], problem
        assert isinstance(problem["name"], str), problem
    first = problems[0]
    assert (body["type"], body["title"], body["name"]) == (first["type"], first["title"], first["name"]), body
    return [str(p["name"]) for p in problems]


def jwt_claims(token: str) -> dict[str, Any]:
    """The unverified payload of a JWT (the tests only read `sub`)."""
    payload = token.split(".")[1]
    claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return claims
