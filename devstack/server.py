"""HTTP on 127.0.0.1 in front of the gateway emulator."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from chalicelib.core.resources import MAX_REQUEST_BODY_BYTES
from devstack.gateway import Gateway

_DRAIN_CHUNK = 1024 * 1024


class _AnyMethod:
    """Any other method (TRACE, PROPFIND, ...) reaches the gateway too, which answers it as API
    Gateway does (problem JSON), instead of http.server's bare 501."""

    def _handle(self) -> None:
        raise NotImplementedError

    def __getattr__(self, name: str) -> Any:
        if name.startswith("do_"):
            return self._handle
        raise AttributeError(name)


def make_handler(gateway: Gateway) -> type[BaseHTTPRequestHandler]:
    class Handler(_AnyMethod, BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in two writes; with Nagle on, the second waits for a delayed ACK.
        disable_nagle_algorithm = True

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_REQUEST_BODY_BYTES:
                # Read it all first: replying early makes clients see a connection reset instead.
                while length > 0:
                    length -= len(self.rfile.read(min(_DRAIN_CHUNK, length)) or b"x" * length)
                refused = gateway.too_large()
                self._send(refused.status, refused.headers, refused.body)
                return
            body = self.rfile.read(length) if length else b""
            response = gateway.handle(self.command, self.path, self.headers.items(), body)
            self._send(response.status, response.headers, response.body)

        def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
            self.send_response(status)
            for name, value in headers.items():
                if name.lower() not in ("content-length", "connection"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle  # noqa: N815

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
            return  # the app logs every request as structured JSON already

    return Handler


class _Server(ThreadingHTTPServer):
    # socketserver's default backlog of 5 drops connections from 20 concurrent clients (a SYN
    # retried a second later, or a reset); API Gateway never refuses a connection.
    request_queue_size = 128


class ApiServer:
    def __init__(self, gateway: Gateway, port: int) -> None:
        self.httpd = _Server(("127.0.0.1", port), make_handler(gateway))
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="api-server", daemon=True)

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
