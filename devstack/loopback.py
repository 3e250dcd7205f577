"""The skeleton of a devstack plane that speaks an AWS REST-JSON API (`POST /<Operation>`) on loopback.

A plane subclasses `JsonApiPlane`, names its botocore service, and defines one `_<Operation>`
method per operation it implements. The base routes by the model's request URIs, refuses
unknown or missing members as AWS does (ValidationException), runs each call under one lock,
persists the plane's state to a JSON file after each call (when given one), and answers errors
with the code in `x-amzn-ErrorType`, where botocore's rest-json parser looks for it.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import botocore.session

logger = logging.getLogger(__name__)


class PlaneError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class RawReply:
    """A response to a request that is not an API call (a media endpoint)."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


class JsonApiPlane:
    service: ClassVar[str]
    # Error code -> HTTP status, as the service's model declares them.
    statuses: ClassVar[dict[str, int]] = {
        "ValidationException": 400,
        "AccessDeniedException": 403,
        "ResourceNotFoundException": 404,
        "ConflictException": 409,
        "ServiceQuotaExceededException": 402,
    }

    def __init__(self, state_file: Path | None = None) -> None:
        self.state_file = state_file
        self._model = botocore.session.get_session().get_service_model(self.service)
        self._routes = {
            self._model.operation_model(name).http["requestUri"]: name for name in self._model.operation_names
        }
        self.lock = threading.RLock()
        self._server: _Server | None = None
        self.url = ""
        if state_file is not None and state_file.exists():
            self.load(json.loads(state_file.read_text()))

    # -- what a plane defines ---------------------------------------------------------------

    def load(self, state: dict[str, Any]) -> None:
        """Restores what `dump` saved."""

    def dump(self) -> dict[str, Any]:
        return {}

    def handle_other(self, method: str, path: str, headers: Message, body: bytes) -> RawReply | None:
        """A request that is not an API call (a media endpoint; `path` keeps its query); None when
        the plane has none."""
        return None

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> str:
        self._server = _Server(self)
        threading.Thread(target=self._server.serve_forever, name=f"{self.service}-plane", daemon=True).start()
        host, port = self._server.server_address[:2]
        self.url = f"http://{host!s}:{port}"
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    # -- dispatch -----------------------------------------------------------------------------

    def call(self, path: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        operation = self._routes.get(path)
        handler = getattr(self, f"_{operation}", None) if operation else None
        if operation is None or handler is None:
            raise PlaneError("ValidationException", f"The devstack's {self.service} plane does not implement {path}.")
        return self.invoke(operation, params)

    def invoke(self, operation: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Checks the request's members against the model and runs the plane's `_<operation>`."""
        handler = getattr(self, f"_{operation}")
        shape = self._model.operation_model(operation).input_shape
        assert shape is not None, operation
        unknown = set(params) - set(shape.members)
        missing = set(shape.required_members) - set(params)
        if unknown or missing:
            raise PlaneError("ValidationException", f"Unknown members {sorted(unknown)}, missing {sorted(missing)}.")
        with self.lock:
            result: dict[str, Any] = handler(params)
            self.save()
        return int(self._model.operation_model(operation).http.get("responseCode", 200)), result

    def save(self) -> None:
        if self.state_file is not None:
            self.state_file.write_text(json.dumps(self.dump()))


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, plane: JsonApiPlane) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.plane = plane


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        logger.debug(f"{self.server.plane.service}: " + format, *args)

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _other(self, method: str, path: str, body: bytes) -> bool:
        reply = self.server.plane.handle_other(method, path, self.headers, body)
        if reply is None:
            return False
        self.send_raw(reply.status, reply.body, reply.headers)
        return True

    def do_POST(self) -> None:
        body, path = self._body(), self.path.split("?")[0]
        # Media endpoints see the query too (API calls carry none).
        if self._other("POST", self.path, body):
            return
        try:
            params = json.loads(body or b"{}")
            status, result = self.server.plane.call(path, params)
        except json.JSONDecodeError:
            self.send_error_json(PlaneError("ValidationException", "The request body is not JSON."))
            return
        except PlaneError as error:
            self.send_error_json(error)
            return
        self.send_json(status, result)

    def do_DELETE(self) -> None:
        if not self._other("DELETE", self.path, self._body()):
            self.send_json(404, {"message": "Not found."})

    def do_GET(self) -> None:
        if not self._other("GET", self.path, b""):
            self.send_json(404, {"message": "Not found."})

    def do_PUT(self) -> None:
        # REST-JSON services (MediaLive) update with PUT; only planes that route it answer.
        if not self._other("PUT", self.path, self._body()):
            self.send_json(404, {"message": "Not found."})

    def do_OPTIONS(self) -> None:
        # A browser's CORS preflight before it calls a media endpoint from another origin.
        if not self._other("OPTIONS", self.path, b""):
            self.send_json(404, {"message": "Not found."})

    def send_json(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        payload = json.dumps(body, default=str).encode() if status != 204 else b""
        self.send_raw(status, payload, {"Content-Type": "application/json", **(headers or {})})

    def send_raw(self, status: int, payload: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def send_error_json(self, error: PlaneError) -> None:
        status = self.server.plane.statuses.get(error.code, 400)
        self.send_json(status, {"message": error.message}, {"x-amzn-ErrorType": error.code})
