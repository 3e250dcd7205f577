"""Webhook rules without network or clock: signing, rotation, retries, disabling, the SSRF guard."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks import Webhook as StandardWebhook
from standardwebhooks import WebhookVerificationError

from chalicelib.core.domain import urlguard
from chalicelib.core.domain.urlguard import UrlForbidden
from chalicelib.platform.domain import signing
from chalicelib.platform.domain import webhooks as rules
from chalicelib.platform.domain.webhooks import DeliveryStatus, Response, WebhookCreation, WebhookUpdate

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
BODY = b'{"type":"video.created","videoId":"vi123"}'


def test_signer_reproduces_the_upstream_standard_webhooks_vector() -> None:
    signature = signing.standard_signature(
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, b'{"test": 2432232314}'
    )
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_secrets_are_whsec_with_at_least_24_random_bytes_and_unique() -> None:
    made = {signing.new_secret() for _ in range(50)}
    assert len(made) == 50
    for secret in made:
        assert secret.startswith("whsec_")
        assert len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) >= 24


def test_one_secret_verifies_with_standardwebhooks_and_with_api_videos_hex_hmac() -> None:
    secret = signing.new_secret()
    headers = signing.standard_headers([secret], "ev123", int(time.time()), BODY)
    assert StandardWebhook(secret).verify(BODY, headers) == {"type": "video.created", "videoId": "vi123"}
    assert headers["webhook-timestamp"].isdigit()
    expected = hmac.new(secret.encode(), BODY, hashlib.sha256).hexdigest()
    assert signing.api_video_signature(secret, BODY) == expected


def test_a_reserialised_body_or_another_tenants_secret_does_not_verify() -> None:
    secret, other = signing.new_secret(), signing.new_secret()
    headers = signing.standard_headers([secret], "ev123", int(time.time()), BODY)
    with pytest.raises(WebhookVerificationError):
        StandardWebhook(secret).verify(b'{"type": "video.created", "videoId": "vi123"}', headers)
    with pytest.raises(WebhookVerificationError):
        StandardWebhook(other).verify(BODY, headers)


def test_message_ids_with_dots_are_refused() -> None:
    with pytest.raises(ValueError):
        signing.standard_headers([signing.new_secret()], "a.b", 1, BODY)


def _webhook() -> rules.Webhook:
    return rules.new_webhook("pr1", WebhookCreation(events=["video.created"], url="https://example.com/"), NOW)


def test_rotation_signs_with_both_secrets_for_24_hours_then_the_new_one_only() -> None:
    old = _webhook()
    rotated = rules.rotate(old, NOW)
    assert rotated.secret != old.secret and rotated.version == old.version + 1
    during = rotated.signing_secrets(NOW + timedelta(hours=23))
    assert during == [rotated.secret, old.secret]
    headers = signing.standard_headers(during, "ev1", int(time.time()), BODY)
    assert len(headers["webhook-signature"].split(" ")) == 2
    for secret in (old.secret, rotated.secret):
        StandardWebhook(secret).verify(BODY, headers)
    assert rotated.signing_secrets(NOW + timedelta(hours=24)) == [rotated.secret]


def test_audit_snapshots_never_hold_secrets() -> None:
    rotated = rules.rotate(_webhook(), NOW)
    text = str(rotated.snapshot())
    assert rotated.secret not in text and str(rotated.previous_secret) not in text


def test_unknown_event_types_are_refused() -> None:
    with pytest.raises(ValueError):
        WebhookCreation(events=["video.nope"], url="https://example.com/")
    assert WebhookUpdate(events=["video.created", "video.created"]).events == ["video.created"]


def test_reenabling_restarts_the_failure_clock() -> None:
    disabled = rules.disable(_webhook().model_copy(update={"failing_since": NOW}), "gone", NOW)
    enabled = rules.apply_update(disabled, WebhookUpdate(enabled=True), NOW)
    assert enabled.enabled and enabled.failing_since is None and enabled.disabled_reason is None


def test_retry_schedule_spans_at_least_three_days_with_bounded_jitter() -> None:
    lowest = [rules.retry_delay(n, rand=lambda: 0.0) for n in range(1, rules.MAX_ATTEMPTS)]
    highest = [rules.retry_delay(n, rand=lambda: 1.0) for n in range(1, rules.MAX_ATTEMPTS)]
    assert lowest[0] == timedelta(seconds=5) and lowest[-1] == timedelta(hours=24)
    assert sum((d for d in lowest if d), timedelta()) >= timedelta(days=3)
    assert all(h and lo and lo <= h <= lo * 1.1 for lo, h in zip(lowest, highest, strict=True))
    assert rules.retry_delay(rules.MAX_ATTEMPTS) is None
    assert rules.retry_delay(1, scale=0.001, rand=lambda: 0.0) == timedelta(milliseconds=5)


@pytest.mark.parametrize("status", [None, 301, 302, 400, 404, 500])
def test_non_2xx_and_connection_errors_are_retried(status: int | None) -> None:
    result = rules.outcome(Response(status_code=status), 1, None, NOW, rand=lambda: 0.0)
    assert result.status is DeliveryStatus.PENDING
    assert result.next_retry_at == NOW + timedelta(seconds=5)
    assert result.disable_reason is None


def test_2xx_succeeds_and_exhaustion_fails() -> None:
    assert rules.outcome(Response(status_code=202), 1, None, NOW).status is DeliveryStatus.SUCCEEDED
    exhausted = rules.outcome(Response(status_code=500), rules.MAX_ATTEMPTS, None, NOW)
    assert exhausted.status is DeliveryStatus.FAILED and exhausted.disable_reason is None


def test_410_disables_at_once() -> None:
    result = rules.outcome(Response(status_code=410), 1, None, NOW)
    assert result.status is DeliveryStatus.FAILED and result.disable_reason


def test_five_days_of_continuous_failure_disable() -> None:
    assert rules.outcome(Response(status_code=500), 3, NOW - timedelta(days=4), NOW).disable_reason is None
    assert rules.outcome(Response(status_code=500), 3, NOW - timedelta(days=5), NOW).disable_reason


@pytest.mark.parametrize("status", [429, 503])
@pytest.mark.parametrize(
    ("header", "delay"),
    [("120", timedelta(seconds=120)), ("Thu, 01 Jan 2026 12:10:00 GMT", timedelta(minutes=10))],
)
def test_retry_after_on_429_and_503_overrides_the_schedule(status: int, header: str, delay: timedelta) -> None:
    result = rules.outcome(Response(status_code=status, retry_after=header), 1, None, NOW, scale=0.001)
    assert result.next_retry_at == NOW + delay


def test_retry_after_is_capped_and_ignored_when_unreadable() -> None:
    assert rules.parse_retry_after("999999", NOW) == rules.MAX_RETRY_AFTER
    assert rules.parse_retry_after("soon", NOW) is None
    assert rules.parse_retry_after(None, NOW) is None


def test_delivery_ids_derive_from_the_event_id() -> None:
    assert rules.delivery_id("ev0ABCdef") == rules.delivery_id("ev0ABCdef") == "dl0ABCdef"


# Reference §9 check 13: every spelling refused, by address or by shape.
FORBIDDEN = [
    "https://169.254.169.254/latest/meta-data/iam/security-credentials/",
    "https://[fd00:ec2::254]/latest/meta-data/",
    "https://169.254.170.2/v2/credentials",
    "https://127.0.0.1/",
    "https://[::1]/",
    "https://0.0.0.0/",
    "https://10.1.2.3/",
    "https://172.16.0.1/",
    "https://172.31.255.1/",
    "https://192.168.1.1/",
    "https://100.64.0.1/",
    "https://[fe80::1]/",
    "https://[fc00::1]/",
    "https://[::ffff:169.254.169.254]/",
    "https://[::ffff:a9fe:a9fe]/",
    "https://[64:ff9b::a9fe:a9fe]/",
    "https://2852039166/latest/meta-data/",
    "https://0xa9.0xfe.0xa9.0xfe/",
    "https://0251.0376.0251.0376/",
    "https://127.1/",
    "https://0/",
    "https://[::]/",
    "https://224.0.0.1/",
    "https://240.0.0.1/",
    "https://localhost/2018-06-01/runtime/invocation/next",
    "https://api.localhost/",
    "https://user:pw@example.com/",
    "https://example.com:22/",
    "file:///etc/passwd",
    "gopher://example.com/",
    "ftp://example.com/",
    "https:///nohost",
    "https://exa mple.com/",
    "https://example.com\\@169.254.169.254/",
]


def public_resolver(host: str, port: int) -> list[str]:
    return ["93.184.216.34", "2606:2800:220:1::1"]


@pytest.mark.parametrize("url", FORBIDDEN)
def test_ssrf_guard_refuses_every_spelling(url: str) -> None:
    with pytest.raises(UrlForbidden) as refused:
        urlguard.check(url, resolver=public_resolver)
    assert refused.value.status == 422 and refused.value.slug == "webhook-url-forbidden"
    assert refused.value.name == "url" and refused.value.detail


@pytest.mark.parametrize(
    "url",
    [
        "https://169.254.169.254/",
        "https://[fd00:ec2::254]/",
        "https://2852039166/",
        "https://10.0.0.1/",
        "https://[::ffff:10.0.0.1]/",
        "https://0/",
    ],
)
def test_metadata_and_private_stay_refused_when_loopback_is_allowed(url: str) -> None:
    with pytest.raises(UrlForbidden):
        urlguard.check(url, allow_loopback=True, resolver=public_resolver)


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8080/hook", "http://127.1:9000/", "http://[::1]:9000/", "http://localhost:9000/"]
)
def test_loopback_only_with_the_setting(url: str) -> None:
    with pytest.raises(UrlForbidden):
        urlguard.check(url, resolver=public_resolver)
    assert urlguard.check(url, allow_loopback=True, resolver=public_resolver).address in ("127.0.0.1", "::1")


def test_public_addresses_pass_and_are_pinned() -> None:
    target = urlguard.check("https://8.8.8.8/hook?a=1")
    assert (target.address, target.port, target.path, target.host_header) == ("8.8.8.8", 443, "/hook?a=1", "8.8.8.8")
    named = urlguard.check("https://hooks.example.com:8443/x", resolver=public_resolver)
    assert named.address == "93.184.216.34" and named.host_header == "hooks.example.com:8443"


@pytest.mark.parametrize(
    "answers", [["93.184.216.34", "10.0.0.5"], ["169.254.169.254"], ["::ffff:127.0.0.1"], ["fd00:ec2::254"]]
)
def test_names_resolving_to_any_non_public_address_are_refused(answers: list[str]) -> None:
    with pytest.raises(UrlForbidden):
        urlguard.check("https://rebind.example.com/", resolver=lambda host, port: answers)


def test_names_that_do_not_resolve_are_refused() -> None:
    def fails(host: str, port: int) -> list[str]:
        raise OSError("NXDOMAIN")

    with pytest.raises(UrlForbidden):
        urlguard.check("https://nowhere.example/", resolver=fails)
