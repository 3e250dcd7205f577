"""IPv6 addresses that carry an IPv4 address are judged by the IPv4 address they reach.

6to4 (2002::/16), NAT64 (64:ff9b::/96, and the local-use 64:ff9b:1::/48 with every RFC 6052
embedding), IPv4-compatible (::a.b.c.d), IPv4-mapped and Teredo (2001::/32, client address
XOR 0xffffffff) reach the embedded address, so a metadata or private address inside them is
refused at registration, on ingest and on delivery (all three go through urlguard.check).
"""

from __future__ import annotations

import ipaddress

import pytest

from chalicelib.core.domain import urlguard
from chalicelib.core.domain.errors import InvalidInput
from chalicelib.core.domain.urlguard import UrlForbidden
from chalicelib.vod.domain.ingest import check_source_url


def _teredo(client: str, server: str = "65.54.227.120") -> str:
    """A Teredo address: 2001:0000 prefix, server IPv4, flags, port and the client IPv4, both
    obfuscated by XOR with all ones (RFC 4380 §4)."""
    obfuscated_client = int(ipaddress.IPv4Address(client)) ^ 0xFFFFFFFF
    value = (0x20010000 << 96) | (int(ipaddress.IPv4Address(server)) << 64) | (0x8000 << 48) | (0xFFFF << 32)
    return str(ipaddress.IPv6Address(value | obfuscated_client))


EMBEDDED_METADATA = [
    "http://[2002:a9fe:a9fe::]/",  # 6to4
    "http://[2002:a9fe:a9fe:1234::1]/",
    "http://[64:ff9b::169.254.169.254]/",  # NAT64 well-known prefix
    "http://[64:ff9b:1:a9fe:a9:fe00::]/",  # NAT64 local-use /48: bits 48..63 and 72..87
    "http://[64:ff9b:1::a9fe:a9fe]/",  # NAT64 local-use with a /96 embedding
    "http://[::169.254.169.254]/",  # IPv4-compatible
    "http://[::a9fe:a9fe]/",
    "http://[::ffff:169.254.169.254]/",  # IPv4-mapped
    f"http://[{_teredo('169.254.169.254')}]/",  # Teredo
]
EMBEDDED_PRIVATE = [
    "http://[2002:0a00:0001::]/",
    "http://[64:ff9b::10.0.0.1]/",
    "http://[::10.0.0.1]/",
    f"http://[{_teredo('192.168.1.1')}]/",
]
EMBEDDED_LOOPBACK = ["http://[2002:7f00:1::]:9000/", "http://[64:ff9b::127.0.0.1]:9000/"]


@pytest.mark.parametrize("url", EMBEDDED_METADATA)
def test_embedded_metadata_address_is_named_in_the_refusal(url: str) -> None:
    for allow_loopback in (False, True):
        with pytest.raises(UrlForbidden) as refused:
            urlguard.check(url, allow_loopback=allow_loopback)
        assert "169.254.169.254" in (refused.value.detail or "") or "metadata" in (refused.value.detail or "")


@pytest.mark.parametrize("url", EMBEDDED_PRIVATE)
def test_embedded_private_addresses_are_refused(url: str) -> None:
    with pytest.raises(UrlForbidden):
        urlguard.check(url, allow_loopback=True)


@pytest.mark.parametrize("url", EMBEDDED_LOOPBACK)
def test_embedded_loopback_is_loopback(url: str) -> None:
    with pytest.raises(UrlForbidden) as refused:
        urlguard.check(url)
    assert "loopback" in (refused.value.detail or "")


@pytest.mark.parametrize("answer", ["2002:a9fe:a9fe::", "64:ff9b::a9fe:a9fe", _teredo("169.254.169.254")])
def test_a_name_resolving_to_an_embedded_form_is_refused(answer: str) -> None:
    with pytest.raises(UrlForbidden):
        urlguard.check("https://rebind.example.com/", resolver=lambda host, port: [answer])


def test_ingest_refuses_the_6to4_metadata_form_as_a_400_on_source() -> None:
    with pytest.raises(InvalidInput) as refused:
        check_source_url("http://[2002:a9fe:a9fe::]/latest/meta-data/")
    assert refused.value.status == 400


def test_6to4_of_a_public_address_still_passes() -> None:
    assert urlguard.check("https://[2002:808:808::1]/").address == "2002:808:808::1"


def test_embedded_forms_are_decoded() -> None:
    def embedded(text: str) -> set[str]:
        return {str(a) for a in urlguard.embedded_ipv4s(ipaddress.IPv6Address(text))}

    assert embedded("2002:a9fe:a9fe::") == {"169.254.169.254"}
    assert embedded(_teredo("10.1.2.3")) == {"10.1.2.3"}
    assert "169.254.169.254" in embedded("64:ff9b:1:a9fe:a9:fe00::")
    assert embedded("::1") == set() and embedded("::") == set()
    assert embedded("2606:2800:220:1::1") == set()
