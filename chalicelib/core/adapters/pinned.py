"""HTTP connections to the address the SSRF guard checked, never re-resolving the name (DNS
pinning); Host and TLS SNI/certificate checks still use the name. Webhook delivery and URL
ingest both connect this way."""

from __future__ import annotations

import http.client
import socket
import ssl
from typing import Any

from chalicelib.core.domain.urlguard import Target


def pinned_connection(target: Target, timeout: float, context: ssl.SSLContext) -> http.client.HTTPConnection:
    connection: http.client.HTTPConnection
    if target.scheme == "https":
        connection = http.client.HTTPSConnection(target.host, target.port, timeout=timeout, context=context)
    else:
        connection = http.client.HTTPConnection(target.host, target.port, timeout=timeout)
    address = (target.address, target.port)

    def pinned(_: tuple[str, int], timeout: float, source: Any = None) -> socket.socket:
        return socket.create_connection(address, timeout, source)

    connection._create_connection = pinned  # type: ignore[attr-defined]
    return connection
