"""/live-event-templates and /live-events in-process on moto, with MediaLive faked at the adapter
boundary (the port chalicelib.live.ports.LiveEventChannels; the adapter's own requests are checked
with the Stubber and the strict model walk in tests/unit/test_medialive_channels.py)."""

from __future__ import annotations

from typing import Any

from chalice.test import Client

from chalicelib.core.domain.access import Role
from chalicelib.platform import wiring as platform_wiring
from chalicelib.platform.services.projects import KeyCreation
from tests.integration.conftest import ApiClient


def with_role(client: Client, tenant: ApiClient, role: Role) -> ApiClient:
    issued = platform_wiring.project_service().create_key(tenant.project_id, KeyCreation(role=role), actor=None)
    return ApiClient(client, issued).login()


def create_template(api: ApiClient, **fields: Any) -> dict[str, Any]:
    response = api.call("POST", "/live-event-templates", {"name": "Town hall", **fields})
    assert response.status_code == 201, response.body
    return dict(response.json_body)


def test_templates_round_trip_with_versions_and_one_default(tenant: ApiClient) -> None:
    first = create_template(
        tenant,
        default=True,
        ladder=[{"height": 720, "bitrate": 3_000_000}, {"height": 1080, "bitrate": 6_000_000}],
        failover={"inputLossMs": 2000, "audioSilenceMs": 5000},
        allowOverrides=["record"],
    )
    assert first["templateId"].startswith("lt") and first["version"] == 1 and first["default"] is True
    assert [r["height"] for r in first["ladder"]] == [1080, 720]  # highest first
    assert first["failover"]["inputLossMs"] == 2000 and first["failover"]["blackVideoMs"] is None
    assert first["failover"]["inputPreference"] == "PRIMARY_INPUT_PREFERRED"
    assert first["inputLoss"] == {"repeatFrameMs": 1000, "blackFrameMs": 10000, "action": "EMIT_OUTPUT"}
    assert first["allowOverrides"] == ["record"] and first["restreams"]["maxRestreams"] == 5

    path = f"/live-event-templates/{first['templateId']}"
    patched = tenant.call("PATCH", path, {"segmentSeconds": 4, "latencyMode": "low"})
    assert patched.status_code == 200, patched.body
    assert patched.json_body["version"] == 2 and patched.json_body["segmentSeconds"] == 4

    second = create_template(tenant, name="Webinar", default=True)
    assert tenant.call("GET", path).json_body["default"] is False  # one default per project
    assert tenant.call("GET", path).json_body["version"] == 3
    listing = tenant.call("GET", "/live-event-templates").json_body
    assert [t["templateId"] for t in listing["data"]] == [first["templateId"], second["templateId"]]
    assert listing["pagination"]["itemsTotal"] == 2

    refused = tenant.call("DELETE", f"/live-event-templates/{second['templateId']}")
    assert refused.status_code == 409
    assert tenant.call("DELETE", path).status_code == 204
    assert tenant.call("GET", path).status_code == 404
    actions = [e["action"] for e in tenant.call("GET", "/audit-events").json_body["data"]]
    assert "live-event-template.create" in actions and "live-event-template.delete" in actions


def test_template_validation_names_the_field(tenant: ApiClient) -> None:
    bad = tenant.call("POST", "/live-event-templates", {"name": "x", "ladder": []})
    assert bad.status_code == 400 and bad.json_body["name"] == "ladder"
    twice = [{"height": 720, "bitrate": 3_000_000}] * 2
    assert tenant.call("POST", "/live-event-templates", {"name": "x", "ladder": twice}).status_code == 400
    unknown = tenant.call("POST", "/live-event-templates", {"name": "x", "allowOverrides": ["name"]})
    assert unknown.status_code == 400 and unknown.json_body["name"].startswith("allowOverrides")
    loss = tenant.call("POST", "/live-event-templates", {"name": "x", "inputLoss": {"action": "STOP"}})
    assert loss.status_code == 400 and loss.json_body["name"] == "inputLoss[action]"
    template = create_template(tenant)
    null = tenant.call("PATCH", f"/live-event-templates/{template['templateId']}", {"failover": None})
    assert null.status_code == 400 and null.json_body["name"] == "failover"


def test_operators_read_templates_but_only_admins_change_them(chalice_client: Client, tenant: ApiClient) -> None:
    template = create_template(tenant)
    operator = with_role(chalice_client, tenant, Role.OPERATOR)
    path = f"/live-event-templates/{template['templateId']}"
    assert operator.call("GET", path).status_code == 200
    assert operator.call("PATCH", path, {"record": True}).status_code == 403
    assert operator.call("POST", "/live-event-templates", {"name": "mine"}).status_code == 403


def test_another_project_sees_404(tenant: ApiClient, other_tenant: ApiClient) -> None:
    template = create_template(tenant)
    path = f"/live-event-templates/{template['templateId']}"
    assert other_tenant.call("GET", path).status_code == 404
    assert other_tenant.call("PATCH", path, {"name": "x"}).status_code == 404
    assert other_tenant.call("DELETE", path).status_code == 404
