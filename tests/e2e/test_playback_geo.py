"""A project's geo restriction on a devstack over HTTP: the devstack has no GeoIP and honours the
`CloudFront-Viewer-Country` header a client sends, so it shows the rule, not real geolocation. The
embed page (the API) and the media (the media server, as the edge function on AWS)."""

from __future__ import annotations

import time

import boto3
import pytest
import requests

from chalicelib.core.adapters.dynamodb import project_partition
from devstack.emulator import TABLE_NAME

from .support import Api, Devstack, assert_problem, marker
from .test_embed_browser import PLAYABLE_SECONDS, make_clip, upload_file

pytestmark = pytest.mark.e2e


def test_the_devstack_refuses_the_page_by_the_viewer_country_header(devstack: Devstack, api: Api) -> None:
    # A project of its own: a restriction of the shared dev project would reach the other tests.
    tenant = devstack.create_project(f"geo {marker()}")
    policy = api.ok("PUT", "/playback-geo", tenant.api_key, json={"mode": "deny", "countries": ["RU"]})
    assert policy == {"mode": "deny", "countries": ["RU"]}
    player = api.create_video(tenant.api_key, title=f"geo {marker()}")["assets"]["player"]

    refused = requests.get(player, headers={"CloudFront-Viewer-Country": "RU"}, timeout=15)
    assert_problem(refused, 403, "geo-blocked", "CloudFront-Viewer-Country")
    assert requests.get(player, headers={"CloudFront-Viewer-Country": "FR"}, timeout=15).status_code == 200
    assert requests.get(player, timeout=15).status_code == 200  # unknown country: a deny list admits


# Media from the media server: the same rule as the edge function, a project's restriction read
# from the table and kept for a second (the edge's store lags the same way).
POLICY_CHANGE_SECONDS = 5


def denials(devstack: Devstack, project_id: str) -> dict[str, int]:
    """The project's denial counters (the API's and the media server's), straight from the table."""
    client = boto3.client(
        "dynamodb",
        endpoint_url=devstack.aws_endpoint,
        region_name="us-east-1",
        aws_access_key_id="devstack",
        aws_secret_access_key="devstack",
    )
    items = client.query(
        TableName=TABLE_NAME,
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": project_partition(project_id, "PLAYBACKDENIAL")}},
    )["Items"]
    return {item["SK"]["S"].split("#", 1)[1]: int(item["count"]["N"]) for item in items}


def status_within(url: str, country: str, expected: int) -> int:
    """The status a new request gets once the media server's second of caching has passed."""
    deadline = time.monotonic() + POLICY_CHANGE_SECONDS
    while True:
        status = requests.get(url, headers={"CloudFront-Viewer-Country": country}, timeout=15).status_code
        if status == expected or time.monotonic() > deadline:
            return status
        time.sleep(0.2)


def test_the_media_server_refuses_a_denied_countrys_playlists_and_segments(
    devstack: Devstack, api: Api, tmp_path_factory: pytest.TempPathFactory
) -> None:
    tenant = devstack.create_project(f"geo media {marker()}")
    video = api.create_video(tenant.api_key, title=f"geo media {marker()}")
    video_id = video["videoId"]
    clip = make_clip(tmp_path_factory.mktemp("media") / "clip.mp4")
    upload_file(api, tenant.api_key, f"/videos/{video_id}/source", "clip.mp4", clip.read_bytes())
    deadline = time.monotonic() + PLAYABLE_SECONDS
    while not api.ok("GET", f"/videos/{video_id}/status", tenant.api_key)["encoding"]["playable"]:
        assert time.monotonic() < deadline, f"video {video_id} never became playable"
        time.sleep(0.5)
    manifest = api.ok("GET", f"/videos/{video_id}", tenant.api_key)["assets"]["hls"]
    opened = requests.get(manifest, headers={"CloudFront-Viewer-Country": "XX"}, timeout=15)
    assert opened.status_code == 200 and opened.text.startswith("#EXTM3U")  # no restriction yet
    rendition = next(line for line in opened.text.splitlines() if line and not line.startswith("#"))
    rendition_url = manifest.rsplit("/", 1)[0] + "/" + rendition
    playlist = requests.get(rendition_url, timeout=15).text
    segment = next(line for line in playlist.splitlines() if line and not line.startswith("#"))
    segment_url = rendition_url.rsplit("/", 1)[0] + "/" + segment

    api.ok("PUT", "/playback-geo", tenant.api_key, json={"mode": "deny", "countries": ["XX"]})
    assert status_within(manifest, "XX", 403) == 403
    for url in (manifest, rendition_url, segment_url):
        refused = requests.get(url, headers={"CloudFront-Viewer-Country": "XX"}, timeout=15)
        assert (refused.status_code, refused.text) == (403, "Forbidden: geo-blocked\n"), url
        assert requests.get(url, headers={"CloudFront-Viewer-Country": "FR"}, timeout=15).status_code == 200
        assert requests.get(url, timeout=15).status_code == 200  # unknown country: a deny list admits
    # Counted with the page's refusals, per project and reason.
    assert denials(devstack, tenant.project_id).get("geo-blocked", 0) >= 4

    api.ok("PUT", "/playback-geo", tenant.api_key, json={"mode": "off", "countries": []})
    assert status_within(segment_url, "XX", 200) == 200
    api.ok("PUT", "/playback-geo", tenant.api_key, json={"mode": "allow", "countries": ["FR"]})
    assert status_within(segment_url, "XX", 403) == 403
    assert requests.get(segment_url, headers={"CloudFront-Viewer-Country": "FR"}, timeout=15).status_code == 200
    assert requests.get(segment_url, timeout=15).status_code == 403  # unknown country: an allow list refuses
