"""The app in-process on moto: chalice.test.Client for routes, the real adapters for AWS."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from chalice.test import Client
from moto import mock_aws

from app import app
from chalicelib.core import wiring as core_wiring
from chalicelib.platform import wiring as platform_wiring
from chalicelib.platform.services.projects import IssuedKey
from devstack import motofixes
from devstack.bootstrap import bootstrap
from devstack.emulator import aws_environment
from tests.conftest import ROOT

# moto's in-process queue URLs; the devstack's point at its server instead.
IN_PROCESS_SQS = "https://sqs.us-east-1.amazonaws.com"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every resource the devstack creates, from the same bootstrap, on in-process moto (with the
    devstack's fixes: DynamoDB operations isolated from each other, as in DynamoDB)."""
    motofixes.apply()
    environment = aws_environment(IN_PROCESS_SQS)
    del environment["AWS_ENDPOINT_URL"]
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        core_wiring.reset()
        bootstrap()
        yield
    core_wiring.reset()


@dataclass
class ApiClient:
    """Calls the app through chalice's local gateway, authenticated as one API key."""

    client: Client
    issued: IssuedKey
    token: str = ""

    @property
    def project_id(self) -> str:
        return self.issued.key.project_id

    def login(self) -> ApiClient:
        response = self.client.http.post(
            "/auth/api-key",
            headers={"content-type": "application/json"},
            body=json.dumps({"apiKey": self.issued.value}),
        )
        assert response.status_code == 200, response.body
        self.token = response.json_body["access_token"]
        return self

    def call(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
        if isinstance(body, bytes):
            raw = body
        elif isinstance(body, str):
            raw = body.encode()
        else:
            raw = b"" if body is None else json.dumps(body).encode()
        all_headers = {"content-type": "application/json", "authorization": f"Bearer {self.token}", **(headers or {})}
        return self.client.http.request(method, path, headers=all_headers, body=raw)


@pytest.fixture
def chalice_client(aws: None) -> Iterator[Client]:
    with Client(app, project_dir=str(ROOT)) as client:
        yield client


def new_project(client: Client, name: str = "acme") -> ApiClient:
    return ApiClient(client, platform_wiring.project_service().create_project(name)).login()


@pytest.fixture
def tenant(chalice_client: Client) -> ApiClient:
    return new_project(chalice_client, "tenant-a")


@pytest.fixture
def other_tenant(chalice_client: Client) -> ApiClient:
    return new_project(chalice_client, "tenant-b")
