"""Players (api.video PlayerThemesApi) through the Chalice app on moto: themes, logos, listing,
events through the outbox, the audit log, idempotent retries and tenant isolation."""

from __future__ import annotations

from typing import Any

from tests.integration.conftest import ApiClient
from tests.integration.files import BOUNDARY, jpeg, media_keys, media_object, png
from tests.integration.test_outbox import publish, published, stream_event

DEFAULTS = {
    "text": "rgba(255, 255, 255, 1)",
    "trackPlayed": "rgba(88, 131, 255, .95)",
    "backgroundTop": "rgba(0, 0, 0, .7)",
    "enableApi": True,
    "enableControls": True,
    "forceAutoplay": False,
    "hideTitle": False,
    "forceLoop": False,
}


def create(api: ApiClient, **fields: Any) -> dict[str, Any]:
    response = api.call("POST", "/players", fields)
    assert response.status_code == 201, response.body
    body: dict[str, Any] = response.json_body
    return body


def logo_upload(api: ApiClient, player_id: str, data: bytes, link: str | None = None, name: str = "logo.png") -> Any:
    """As the SDK sends it: the `link` text part first, then the file."""
    parts = b""
    if link is not None:
        parts += f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="link"\r\n\r\n{link}\r\n'.encode()
    parts += (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        "Content-Type: image/png\r\n\r\n"
    ).encode()
    body = parts + data + f"\r\n--{BOUNDARY}--\r\n".encode()
    headers = {"content-type": f"multipart/form-data; boundary={BOUNDARY}"}
    return api.call("POST", f"/players/{player_id}/logo", body, headers=headers)


def test_create_defaults_get_update_and_list_sorting(tenant: ApiClient) -> None:
    first = create(tenant, name="Brand", link="rgba(1,2,3,1)", forceLoop=True)
    assert first["playerId"].startswith("pl") and len(first["playerId"]) == 24
    assert first["link"] == "rgba(1,2,3,1)" and first["forceLoop"] is True and first["name"] == "Brand"
    assert {k: first[k] for k in DEFAULTS if k != "forceLoop"} == {
        k: v for k, v in DEFAULTS.items() if k != "forceLoop"
    }
    assert first["assets"] == {"logo": None, "link": None} and first["createdAt"].endswith("+00:00")
    empty = create(tenant)
    assert empty["name"] is None and {k: empty[k] for k in DEFAULTS} == DEFAULTS

    updated = tenant.call("PATCH", f"/players/{first['playerId']}", {"trackPlayed": "#ff0000", "hideTitle": True})
    assert updated.status_code == 200, updated.body
    assert updated.json_body["trackPlayed"] == "#ff0000" and updated.json_body["hideTitle"] is True
    assert updated.json_body["link"] == "rgba(1,2,3,1)"  # untouched
    assert tenant.call("GET", f"/players/{first['playerId']}").json_body == updated.json_body

    a_name = create(tenant, name="aardvark")["playerId"]
    by_name = tenant.call("GET", "/players?sortBy=name&sortOrder=asc").json_body
    named = [p["playerId"] for p in by_name["data"] if p["name"]]
    assert named == [a_name, first["playerId"]]
    # Names sort case-blind, a player without one first (created in the same second: ties are by id).
    paged = tenant.call("GET", "/players?pageSize=1&currentPage=2&sortBy=name&sortOrder=desc").json_body
    assert paged["pagination"]["itemsTotal"] == 3 and paged["pagination"]["pagesTotal"] == 3
    assert paged["data"][0]["playerId"] == a_name
    assert any("sortBy=name" in link["uri"] for link in paged["pagination"]["links"])


def test_validation_answers_as_api_video(tenant: ApiClient) -> None:
    for body, name in (
        ({"name": "x" * 101}, "name"),
        ({"text": "red; background: url(//evil)"}, "text"),
        ({"link": "rgba(256, 0, 0, 1)"}, "link"),
        ({"forceLoop": "yes"}, "forceLoop"),
        ({"enableApi": None}, "enableApi"),
    ):
        response = tenant.call("POST", "/players", body)
        assert response.status_code == 400 and response.json_body["name"] == name, (body, response.body)
    bad_sort = tenant.call("GET", "/players?sortBy=colour")
    assert bad_sort.status_code == 400 and bad_sort.json_body["name"] == "sortBy"
    assert tenant.call("GET", "/players/pl" + "0" * 22).status_code == 404
    assert tenant.call("GET", "/players/not-an-id").status_code == 404


def test_logo_upload_checks_the_image_and_replaces_the_previous_one(tenant: ApiClient) -> None:
    player_id = create(tenant, name="logo")["playerId"]
    response = logo_upload(tenant, player_id, png(200, 100), link="https://example.com/home")
    assert response.status_code == 201, response.body
    assets = response.json_body["assets"]
    assert assets["link"] == "https://example.com/home"
    prefix = f"players/{player_id}/"
    (key,) = media_keys(prefix)
    assert assets["logo"].endswith("/" + key) and media_object(key) == (png(200, 100), "image/png")

    # The bytes decide: a JPEG named .png is a JPEG; a PNG that is too wide is refused whatever its name.
    replaced = logo_upload(tenant, player_id, jpeg(150, 80), name="logo.png")
    assert replaced.status_code == 201 and replaced.json_body["assets"]["logo"].endswith(".jpg")
    assert replaced.json_body["assets"]["link"] is None
    assert [k.endswith(".jpg") for k in media_keys(prefix)] == [True]
    for data, link in (
        (png(201, 100), None),
        (png(200, 101), None),
        (png(10, 10) + b"\x00" * 100 * 1024, None),
        (b"GIF89a" + b"\x00" * 20, None),
        (png(10, 10), "javascript:alert(1)"),
    ):
        refused = logo_upload(tenant, player_id, data, link=link)
        assert refused.status_code == 400, (len(data), link, refused.body)
        assert refused.json_body["name"] in ("file", "link")
    assert [k.endswith(".jpg") for k in media_keys(prefix)] == [True]

    assert tenant.call("DELETE", f"/players/{player_id}/logo").status_code == 204
    assert media_keys(prefix) == []
    assert tenant.call("GET", f"/players/{player_id}").json_body["assets"] == {"logo": None, "link": None}
    assert tenant.call("DELETE", f"/players/{player_id}/logo").status_code == 204  # nothing left: still done


def test_changes_publish_events_are_audited_and_retries_do_not_duplicate(tenant: ApiClient) -> None:
    retry = {"Idempotency-Key": "player-1"}
    first = tenant.call("POST", "/players", {"name": "evented"}, headers=retry)
    again = tenant.call("POST", "/players", {"name": "evented"}, headers=retry)
    assert again.headers.get("Idempotent-Replayed") == "true" and again.json_body == first.json_body
    player_id = first.json_body["playerId"]
    assert [p["playerId"] for p in tenant.call("GET", "/players").json_body["data"]] == [player_id]
    tenant.call("PATCH", f"/players/{player_id}", {"name": "renamed", "text": "#000"})
    tenant.call("PATCH", f"/players/{player_id}", {"name": "renamed"})  # no change: no event
    assert logo_upload(tenant, player_id, png(20, 10)).status_code == 201
    assert tenant.call("DELETE", f"/players/{player_id}").status_code == 204
    assert media_keys(f"players/{player_id}/") == []

    assert publish(stream_event()) == {"batchItemFailures": []}
    details = [e["detail"] for e in published()]
    assert [d["type"] for d in details] == ["player.created", "player.updated", "player.updated", "player.deleted"]
    assert details[1]["changed"] == ["name", "text"] and details[2]["changed"] == ["assets"]
    assert all(d["playerId"] == player_id and d["projectId"] == tenant.project_id for d in details)

    audit = tenant.call("GET", f"/audit-events?resourceType=player&resourceId={player_id}").json_body["data"]
    actions = [e["action"] for e in audit]
    for action in ("player.create", "player.update", "player.logo.upload", "player.delete"):
        assert action in actions


def test_another_project_sees_404(tenant: ApiClient, other_tenant: ApiClient) -> None:
    player_id = create(tenant, name="mine")["playerId"]
    assert other_tenant.call("GET", f"/players/{player_id}").status_code == 404
    assert other_tenant.call("PATCH", f"/players/{player_id}", {"name": "theirs"}).status_code == 404
    assert logo_upload(other_tenant, player_id, png(10, 10)).status_code == 404
    assert other_tenant.call("DELETE", f"/players/{player_id}/logo").status_code == 404
    assert other_tenant.call("DELETE", f"/players/{player_id}").status_code == 404
    assert other_tenant.call("GET", "/players").json_body["data"] == []
    assert tenant.call("GET", f"/players/{player_id}").json_body["name"] == "mine"


def test_a_video_names_only_a_player_of_its_own_project(tenant: ApiClient, other_tenant: ApiClient) -> None:
    """The VOD context checks `playerId` against the players' item layout (a contract between the two)."""
    mine = create(tenant, name="mine")["playerId"]
    theirs = create(other_tenant, name="theirs")["playerId"]
    video = tenant.call("POST", "/videos", {"title": "themed", "playerId": mine})
    assert video.status_code == 201 and video.json_body["playerId"] == mine
    video_id = video.json_body["videoId"]
    for player_id in (theirs, "pl" + "0" * 22):
        refused = tenant.call("POST", "/videos", {"title": "x", "playerId": player_id})
        assert refused.status_code == 400 and refused.json_body["name"] == "playerId"
        patched = tenant.call("PATCH", f"/videos/{video_id}", {"playerId": player_id})
        assert patched.status_code == 400 and patched.json_body["name"] == "playerId"
    cleared = tenant.call("PATCH", f"/videos/{video_id}", {"playerId": None})
    assert cleared.status_code == 200 and "playerId" not in cleared.json_body
