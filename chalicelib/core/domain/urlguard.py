"""The SSRF guard for webhook URLs, applied at registration and again before every delivery.

A URL passes only if it is http(s), carries no userinfo, uses an allowed port and every
address its host stands for is public. Numeric hosts are read the way the C resolver reads
them (`2852039166`, `0xa9.0xfe.0xa9.0xfe`, `0251.0376.0251.0376`, `127.1` and `0` are all
real addresses), and names are resolved with every A/AAAA record checked: one private record
is enough to refuse. The deliverer then connects to the address checked here (DNS pinning),
so a name that rebinds after the check cannot redirect the request.

Loopback is refused unless the caller allows it (the devstack's receivers live on 127.0.0.1);
metadata and private addresses are refused even then.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from chalicelib.core.domain.errors import DomainError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Sequence[str]]

SCHEMES = {"http": 80, "https": 443}
MAX_URL_LENGTH = 2048
# Ports below 1024 are system services (ssh, smtp, ...); only the web ports among them are allowed.
FIRST_UNPRIVILEGED_PORT = 1024
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "169.254.170.23", "fd00:ec2::254", "fd00:ec2::23")
)
# IPv6 forms that carry an IPv4 address, which is what a packet to them really reaches:
# NAT64 (RFC 6052 well-known prefix, and RFC 8215 local-use prefix whose operator picks the
# prefix length, so every RFC 6052 embedding of /48 and longer is judged), 6to4 (RFC 3056),
# Teredo (RFC 4380) and IPv4-compatible (RFC 4291, deprecated but still parsed by stacks).
NAT64 = ipaddress.ip_network("64:ff9b::/96")
NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
SIX_TO_FOUR = ipaddress.ip_network("2002::/16")
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
# RFC 6052 §2.2: where the 32 bits sit for each prefix length, as (first bit, bit count) runs;
# bits 64..71 (the "u" octet) are never used.
_RFC6052_RUNS: dict[int, tuple[tuple[int, int], ...]] = {
    48: ((48, 16), (72, 16)),
    56: ((56, 8), (72, 24)),
    64: ((72, 32),),
    96: ((96, 32),),
}
LOOPBACK_NAMES = ("localhost", "localhost.localdomain")


class UrlForbidden(DomainError):
    status = 422
    slug = "webhook-url-forbidden"
    title = "The webhook URL is not allowed."

    def __init__(self, detail: str) -> None:
        super().__init__(name="url", detail=detail)


@dataclass(frozen=True)
class Target:
    """A checked URL and the address to connect to."""

    scheme: str
    host: str  # as written (for Host and SNI), IPv6 without brackets
    port: int
    path: str  # path and query, never empty
    address: str

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == SCHEMES[self.scheme] else f"{host}:{self.port}"


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def numeric_address(host: str) -> IPAddress | None:
    """The address a numeric host spells, in any of the forms `inet_aton` accepts, or None for a name."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    # inet_aton reads decimal, octal, hex and short forms; refuse any space, which it would ignore after.
    if not host or any(ch.isspace() for ch in host):
        return None
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def embedded_ipv4s(address: IPAddress) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 one may stand for (empty for a plain address). A packet to
    the IPv6 form ends at the IPv4 one, so that is the address to judge."""
    if not isinstance(address, ipaddress.IPv6Address):
        return []
    value = int(address)
    if address.ipv4_mapped is not None:
        return [address.ipv4_mapped]
    if address.sixtofour is not None:
        return [address.sixtofour]
    if address.teredo is not None:
        # The client's address (obfuscated with XOR all-ones, which `teredo` undoes) is where
        # the relay sends the packet.
        return [address.teredo[1]]
    if address in NAT64:
        return [ipaddress.IPv4Address(value & 0xFFFFFFFF)]
    if address in NAT64_LOCAL:
        return [ipaddress.IPv4Address(_bits(value, runs)) for runs in _RFC6052_RUNS.values()]
    if address in IPV4_COMPATIBLE and value > 1:  # not :: (unspecified) nor ::1 (loopback)
        return [ipaddress.IPv4Address(value & 0xFFFFFFFF)]
    return []


def _bits(value: int, runs: tuple[tuple[int, int], ...]) -> int:
    """Concatenates runs of bits of a 128-bit value, each (first bit from the left, count)."""
    result = 0
    for first, count in runs:
        result = (result << count) | ((value >> (128 - first - count)) & ((1 << count) - 1))
    return result


def refusal(address: IPAddress, allow_loopback: bool) -> str | None:
    """Why the address may not be called, or None if it may. An IPv6 form that carries IPv4
    addresses is judged by those: one refused is enough, and if all pass so does the form."""
    embedded = embedded_ipv4s(address)
    # Name the metadata address first when one of several candidate embeddings is one.
    for inner in sorted(embedded, key=lambda candidate: candidate not in METADATA_ADDRESSES):
        reason = _refusal(inner, allow_loopback)
        if reason is not None:
            return f"it embeds {inner}, and {reason}"
    return None if embedded else _refusal(address, allow_loopback)


def _refusal(address: IPAddress, allow_loopback: bool) -> str | None:
    if isinstance(address, ipaddress.IPv6Address) and address.scope_id:
        return "scoped IPv6 addresses are not allowed"
    if address in METADATA_ADDRESSES:
        return "it is a cloud metadata address"
    if address.is_loopback:
        return None if allow_loopback else "it is a loopback address"
    # `is_global` alone misses multicast, so every property is checked.
    for flag, reason in (
        (address.is_unspecified, "it is an unspecified address"),
        (address.is_link_local, "it is a link-local address"),
        (address.is_multicast, "it is a multicast address"),
        (address.is_private, "it is a private address"),
        (address.is_reserved, "it is a reserved address"),
        (not address.is_global, "it is not a public address"),
    ):
        if flag:
            return reason
    return None


def check(
    url: str, allow_loopback: bool = False, resolver: Resolver | None = None, denied_ports: Collection[int] = ()
) -> Target:
    """The target to connect to; raises UrlForbidden with the reason otherwise. `resolver`
    defaults to the system's (looked up per call, so tests can stub DNS)."""
    _check_text(url)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UrlForbidden("The URL is not valid.") from exc
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise UrlForbidden("Only http and https URLs are allowed.")
    if "@" in parts.netloc:
        raise UrlForbidden("The URL must not contain credentials.")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise UrlForbidden("The URL has no host.")
    port = SCHEMES[scheme] if port is None else port
    if port < FIRST_UNPRIVILEGED_PORT and port not in SCHEMES.values():
        raise UrlForbidden(f"Port {port} is not allowed; use 80, 443 or a port from 1024 up.")
    addresses = _addresses(host, port, allow_loopback, resolver or system_resolver)
    for address in addresses:
        reason = refusal(address, allow_loopback)
        if reason is not None:
            raise UrlForbidden(f"The URL's host {host} resolves to {address}, and {reason}.")
    refuse_own_service(host, port, addresses, denied_ports)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(scheme=scheme, host=host, port=port, path=path, address=str(addresses[0]))


def refuse_own_service(host: str, port: int, addresses: Sequence[IPAddress], denied_ports: Collection[int]) -> None:
    """Where loopback is allowed (the devstack), its own services share 127.0.0.1 with the test
    receivers: the AWS emulator, the media plane and servers, the API. None of them checks who
    calls, so a URL on their ports would read any tenant's objects and secrets."""
    if port in denied_ports and any(_is_loopback(address) for address in addresses):
        raise UrlForbidden(
            f"The URL's host {host} is this machine, and port {port} is one of the stack's own services."
        )


def _is_loopback(address: IPAddress) -> bool:
    return address.is_loopback or any(v4.is_loopback for v4 in embedded_ipv4s(address))


def _check_text(url: str) -> None:
    if len(url) > MAX_URL_LENGTH:
        raise UrlForbidden(f"The URL must not exceed {MAX_URL_LENGTH} characters.")
    # Parsers disagree on these (WHATWG reads a backslash as a slash); refusing them avoids the question.
    if any(ch.isspace() or ord(ch) < 0x20 or ch == "\\" for ch in url):
        raise UrlForbidden("The URL must not contain spaces, control characters or backslashes.")


def _addresses(host: str, port: int, allow_loopback: bool, resolver: Resolver) -> list[IPAddress]:
    numeric = numeric_address(host)
    if numeric is not None:
        return [numeric]
    if host.lower() in LOOPBACK_NAMES or host.lower().endswith(".localhost"):
        # Never sent to DNS: the name means this machine whatever a resolver says.
        if not allow_loopback:
            raise UrlForbidden(f"The URL's host {host} is this machine (loopback).")
        return [ipaddress.IPv4Address("127.0.0.1")]
    try:
        resolved = [ipaddress.ip_address(a.split("%")[0]) for a in resolver(host, port)]
    except (OSError, UnicodeError, ValueError) as exc:
        raise UrlForbidden(f"The URL's host {host} does not resolve.") from exc
    if not resolved:
        raise UrlForbidden(f"The URL's host {host} does not resolve.")
    return resolved
