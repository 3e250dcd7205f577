"""The gateway runs invocations concurrently, as Lambda does, each seeing its own request."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
import requests
from chalice import Blueprint

from chalicelib.core.api.app import chalice_app
from devstack.gateway import Gateway
from devstack.server import ApiServer

SLOW_SECONDS = 0.6
CLIENTS = 4


@pytest.fixture
def server() -> Iterator[str]:
    blueprint = Blueprint(__name__)

    @blueprint.route("/slow/{name}")
    def slow(name: str) -> dict[str, str]:
        # Reads the request through the blueprint before and after waiting: another invocation
        # running meanwhile must not replace it.
        before = (blueprint.current_request.uri_params or {}).get("name")
        time.sleep(SLOW_SECONDS)
        after = (blueprint.current_request.uri_params or {}).get("name")
        return {
            "name": name,
            "before": str(before),
            "after": str(after),
            "function": blueprint.lambda_context.function_name,
        }

    api = ApiServer(Gateway(chalice_app(blueprint)), 0)
    api.start()
    try:
        requests.get(f"{api.url}/slow/warm", timeout=10)  # the cold start takes its turn alone
        yield api.url
    finally:
        api.stop()


def test_slow_requests_overlap_and_each_sees_its_own_request(server: str) -> None:
    answers: dict[str, dict[str, str]] = {}

    def call(name: str) -> None:
        answers[name] = requests.get(f"{server}/slow/{name}", timeout=10).json()

    threads = [threading.Thread(target=call, args=(f"client{i}",)) for i in range(CLIENTS)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started

    # One at a time would take CLIENTS * SLOW_SECONDS.
    assert elapsed < 2 * SLOW_SECONDS, f"{CLIENTS} requests of {SLOW_SECONDS} s took {elapsed:.2f} s"
    for name, answer in answers.items():
        assert answer == {"name": name, "before": name, "after": name, "function": "slow"}, answer
