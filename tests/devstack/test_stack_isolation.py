"""The devstack allows loopback webhook and ingest URLs (its test receivers live on 127.0.0.1),
but never to its own services: the AWS emulator, the media plane, the media server and the API
answer anyone on loopback, so reaching them would read any tenant's objects and secrets."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.e2e.receivers import Receiver
from tests.e2e.support import Api, Devstack, Tenant, assert_problem

UPLOADS_BUCKET = "videoplane-uploads"
SECRET_PATH = "/?Action=GetSecretValue&SecretId=videoplane/signing-keys"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Devstack]:
    started = Devstack.start(tmp_path_factory.mktemp("isolation"))
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture(scope="module")
def api(stack: Devstack) -> Iterator[Api]:
    client = Api(stack.api_url)
    yield client
    client.session.close()


@pytest.fixture(scope="module")
def tenant(stack: Devstack) -> Tenant:
    return stack.create_project("isolation tenant")


@pytest.fixture(scope="module")
def own_services(stack: Devstack) -> dict[str, str]:
    state = stack.state()
    return {
        "emulator": stack.aws_endpoint,
        "media plane": state["mediaPlane"],
        "media server": state["mediaUrl"],
        "ivs plane": state["ivsPlane"],
        "stage plane": state["stagePlane"],
        "athena plane": state["athenaPlane"],
        "api": stack.api_url,
        "ecs plane": state["ecsPlane"],
        "rtmp ingest": state["rtmpIngest"],
        "rtmps ingest": state["rtmpsIngest"],
        "srt ingest": state["srtIngest"],
        "medialive plane": state["mediaLivePlane"],
        # The live events' health push channel: its WebSocket endpoint and its Management API / event streams.
        "health push": state["healthPushUrl"],
        "health push api": state["healthPushStreamUrl"],
    }


def test_another_projects_source_cannot_be_ingested_through_the_emulator(
    stack: Devstack, api: Api, tenant: Tenant
) -> None:
    # The dev project's sources live here; the emulator serves them to anyone who asks.
    source = f"{stack.aws_endpoint}/{UPLOADS_BUCKET}/sources/{stack.dev_project_id}/vi0000/source"
    response = api.call("POST", "/videos", tenant.api_key, json={"title": "stolen", "source": source})

    body = assert_problem(response, 400, "invalid-attribute", name="source")
    assert "own services" in str(body), body


@pytest.mark.parametrize(
    "service", ["emulator", "media plane", "media server", "ivs plane", "stage plane", "athena plane", "api"]
)
def test_no_url_reaches_the_stacks_own_services(
    api: Api, tenant: Tenant, own_services: dict[str, str], service: str
) -> None:
    base = own_services[service]
    port = urlsplit(base).port
    for url in (f"{base}{SECRET_PATH}", f"http://localhost:{port}/hook", f"http://[::ffff:127.0.0.1]:{port}/"):
        webhook = api.call("POST", "/webhooks", tenant.api_key, json={"events": ["video.created"], "url": url})
        assert webhook.status_code == 422, f"{service} {url}: {webhook.status_code} {webhook.text}"
        assert webhook.json()["type"].endswith("/webhook-url-forbidden"), webhook.text

        ingest = api.call("POST", "/videos", tenant.api_key, json={"title": "probe", "source": url})
        assert ingest.status_code == 400, f"{service} {url}: {ingest.status_code} {ingest.text}"
        assert ingest.json()["name"] == "source", ingest.text


def test_a_loopback_receiver_on_another_port_still_works(api: Api, tenant: Tenant) -> None:
    receiver = Receiver().start()
    try:
        webhook = api.ok(
            "POST", "/webhooks", tenant.api_key, expected=201, json={"events": ["video.created"], "url": receiver.url}
        )
        api.create_video(tenant.api_key, title="delivered")
        delivered = receiver.wait_for(1)
        assert delivered[0].headers["x-api-video-webhookid"] == webhook["webhookId"]
        # Ingest from a loopback file server is admitted as well (the fetch itself may fail: it serves no file).
        created = api.create_video(tenant.api_key, title="from loopback", source=receiver.url)
        assert created["videoId"]
    finally:
        receiver.stop()


def test_the_devstack_tells_the_app_its_own_ports(stack: Devstack, own_services: dict[str, str]) -> None:
    log = Path(stack.log_path).read_text(errors="replace")
    assert "Traceback" not in log
    # ...and the MediaLive plane's pool of input listener ports (taken at start, before any input exists).
    listeners = set(stack.state()["mediaLiveListenerPorts"])
    assert {urlsplit(url).port for url in own_services.values()} | listeners == set(stack.state()["deniedPorts"])
