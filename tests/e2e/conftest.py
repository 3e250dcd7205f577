"""One devstack for the whole e2e session, started and stopped the way a developer does."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import apivideo
import pytest

from .receivers import Receiver
from .support import Api, Devstack, IssuedKey, Tenant, marker


@pytest.fixture(scope="session")
def devstack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Devstack]:
    stack = Devstack.start(tmp_path_factory.mktemp("devstack"))
    try:
        yield stack
    finally:
        code = stack.stop()
        # A clean stop is part of the contract: SIGTERM ends the stack with exit code 0.
        assert code == 0, f"devstack exited with {code} on SIGTERM:\n{stack.log_tail()}"
        assert not (stack.state_dir / "state.json").exists(), "state.json must be removed on a clean stop"


@pytest.fixture(scope="session")
def api(devstack: Devstack) -> Iterator[Api]:
    client = Api(devstack.api_url)
    yield client
    client.session.close()


@pytest.fixture(scope="session")
def project_a(devstack: Devstack) -> Tenant:
    """The dev project the stack created at start-up, with its first admin key."""
    return Tenant(project_id=devstack.dev_project_id, api_key=devstack.dev_api_key)


@pytest.fixture(scope="session")
def admin_a(devstack: Devstack, project_a: Tenant) -> IssuedKey:
    """A second admin key of project A whose key id is known (for audit assertions)."""
    return devstack.create_key(project_a.project_id, "admin", name="e2e admin")


@pytest.fixture(scope="session")
def operator_a(api: Api, admin_a: IssuedKey) -> IssuedKey:
    body = api.ok("POST", "/api-keys", admin_a.api_key, expected=201, json={"name": "e2e operator", "role": "operator"})
    return IssuedKey(project_id=admin_a.project_id, key_id=body["keyId"], role=body["role"], api_key=body["apiKey"])


@pytest.fixture(scope="session")
def viewer_a(api: Api, admin_a: IssuedKey) -> IssuedKey:
    body = api.ok("POST", "/api-keys", admin_a.api_key, expected=201, json={"name": "e2e viewer", "role": "viewer"})
    return IssuedKey(project_id=admin_a.project_id, key_id=body["keyId"], role=body["role"], api_key=body["apiKey"])


@pytest.fixture(scope="session")
def project_b(devstack: Devstack) -> Tenant:
    """A second tenant, created with the command line while the stack runs."""
    return devstack.create_project("e2e tenant B")


@pytest.fixture(scope="session")
def sdk(devstack: Devstack) -> Iterator[Any]:
    """The official api.video SDK, authenticated with the dev key, pointed at the devstack."""
    client = apivideo.AuthenticatedApiClient(devstack.dev_api_key)
    client.configuration.host = devstack.api_url  # only takes effect after construction (compat §0)
    with client:
        yield client


@pytest.fixture
def mark() -> str:
    return marker()


@pytest.fixture
def receiver() -> Iterator[Callable[..., Receiver]]:
    started: list[Receiver] = []

    def start(*script: tuple[int, dict[str, str]]) -> Receiver:
        started.append(Receiver(script=list(script)).start())
        return started[-1]

    yield start
    for r in started:
        r.stop()
