"""The live events' health push channel on loopback: API Gateway's WebSocket API as the app sees it.

- A WebSocket endpoint (`ws://127.0.0.1:<port>/<stage>?token=...`): on each upgrade it invokes the
  app's `$connect` function with API Gateway's event (`requestContext.connectionId`, the query
  string) and refuses the connection with the status any non-2xx answer names; on close it invokes
  `$disconnect`; a client's message invokes `$default` (which answers with the current document).
- The Management API the app's `apigatewaymanagementapi` client calls at the stage's callback URL
  (`http://127.0.0.1:<port>/<stage>`): PostToConnection (`POST /<stage>/@connections/{id}`, a text
  frame), GetConnection, DeleteConnection; an unknown connection is 410 GoneException, as on AWS.
- Server-sent events for curl and EventSource (`GET /live-events/health?token=...`, devstack only):
  the same `$connect` with a connection id of its own, so the app pushes to it like to any
  connection; each push is one `event: health` whose `data` is the document.

Nothing here is private to the app: it sees API Gateway's events and API only."""

from __future__ import annotations

import base64
import json
import logging
import os
import queue
import select
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qsl, unquote, urlsplit

from chalice import Chalice
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.sync.server import ServerConnection, serve

from chalicelib.core import resources
from devstack.gateway import LambdaContext

log = logging.getLogger(__name__)

STAGE = "health"
STREAM_PATH = "/live-events/health"
KEEPALIVE_SECONDS = 15.0
# How soon an event stream whose client hung up is closed (and its connection is gone).
HANGUP_POLL_SECONDS = 0.5
CONNECTIONS_PREFIX = f"/{STAGE}/@connections/"


class _Sink(Protocol):
    def send(self, data: bytes) -> None: ...

    def close(self) -> None: ...


class _WebSocketSink:
    def __init__(self, connection: ServerConnection) -> None:
        self.connection = connection

    def send(self, data: bytes) -> None:
        # API Gateway sends PostToConnection's data as a text frame.
        self.connection.send(data.decode())

    def close(self) -> None:
        self.connection.close()


class _StreamSink:
    """A server-sent events response: frames wait in a queue its request thread writes out."""

    def __init__(self) -> None:
        self.frames: queue.Queue[bytes | None] = queue.Queue()

    def send(self, data: bytes) -> None:
        self.frames.put(b"event: health\ndata: " + data + b"\n\n")

    def close(self) -> None:
        self.frames.put(None)


def new_connection_id() -> str:
    """API Gateway's shape (`L0SM9cOFvHcCIhw=`): 10 random bytes, base64 (URL-safe: it goes in paths)."""
    return base64.urlsafe_b64encode(os.urandom(10)).decode()


class HealthPushGateway:
    def __init__(self, app: Chalice) -> None:
        functions = {function.name: function for function in app.pure_lambda_functions}
        self._connect: Callable[[dict[str, Any], Any], Any] = functions[resources.LIVE_EVENT_HEALTH_CONNECT]
        self._disconnect: Callable[[dict[str, Any], Any], Any] = functions[resources.LIVE_EVENT_HEALTH_DISCONNECT]
        self._default: Callable[[dict[str, Any], Any], Any] = functions[resources.LIVE_EVENT_HEALTH_REQUEST]
        self._sinks: dict[str, tuple[_Sink, float]] = {}
        self._lock = threading.Lock()
        self._websockets: Any = None
        self._http: ThreadingHTTPServer | None = None
        self._threads: list[threading.Thread] = []
        self.ws_url = ""
        self.http_url = ""

    # -- URLs the app is given (resources.LIVE_EVENT_HEALTH_*_ENV) --

    @property
    def push_url(self) -> str:
        return f"{self.ws_url}/{STAGE}"

    @property
    def callback_url(self) -> str:
        return f"{self.http_url}/{STAGE}"

    @property
    def stream_url(self) -> str:
        return f"{self.http_url}{STREAM_PATH}"

    def start(self, ws_port: int = 0, http_port: int = 0) -> None:
        self._websockets = serve(self._session, "127.0.0.1", ws_port, process_request=self._upgrade)
        self.ws_url = f"ws://127.0.0.1:{self._websockets.socket.getsockname()[1]}"
        self._http = ThreadingHTTPServer(("127.0.0.1", http_port), _handler(self))
        self._http.daemon_threads = True
        self.http_url = f"http://127.0.0.1:{self._http.server_address[1]}"
        for name, target in (
            ("health-push-ws", self._websockets.serve_forever),
            ("health-push-http", self._http.serve_forever),
        ):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        with self._lock:
            sinks = [sink for sink, _ in self._sinks.values()]
        for sink in sinks:
            sink.close()
        if self._websockets is not None:
            self._websockets.shutdown()
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()

    # -- API Gateway's side of a connection --

    def admit(self, connection_id: str, query: dict[str, str], headers: dict[str, str]) -> int:
        """Invokes `$connect`; its status code (2xx admits)."""
        event = {
            "requestContext": {
                "routeKey": "$connect", "eventType": "CONNECT", "connectionId": connection_id, "stage": STAGE,
                "domainName": urlsplit(self.ws_url).netloc, "apiId": "devstack", "connectedAt": int(time.time() * 1000),
                "requestId": new_connection_id(),
            },
            "headers": headers,
            "queryStringParameters": query or None,
            "isBase64Encoded": False,
        }  # fmt: skip
        try:
            result = self._connect(event, LambdaContext(function_name=resources.LIVE_EVENT_HEALTH_CONNECT))
        except Exception:
            log.exception("$connect failed")
            return 500
        return int((result or {}).get("statusCode", 200))

    def message(self, connection_id: str, body: str | bytes) -> None:
        """Every client message goes to `$default` (the API's route selection matches no other route)."""
        text = body.decode(errors="replace") if isinstance(body, bytes) else body
        event = {
            "requestContext": {"routeKey": "$default", "eventType": "MESSAGE", "connectionId": connection_id},
            "body": text,
            "isBase64Encoded": False,
        }
        try:
            self._default(event, LambdaContext(function_name=resources.LIVE_EVENT_HEALTH_REQUEST))
        except Exception:
            log.exception("$default failed")

    def opened(self, connection_id: str, sink: _Sink) -> None:
        with self._lock:
            self._sinks[connection_id] = (sink, time.time())

    def closed(self, connection_id: str) -> None:
        with self._lock:
            if self._sinks.pop(connection_id, None) is None:
                return
        event = {
            "requestContext": {"routeKey": "$disconnect", "eventType": "DISCONNECT", "connectionId": connection_id}
        }
        try:
            self._disconnect(event, LambdaContext(function_name=resources.LIVE_EVENT_HEALTH_DISCONNECT))
        except Exception:
            log.exception("$disconnect failed")

    def post(self, connection_id: str, data: bytes) -> bool:
        with self._lock:
            found = self._sinks.get(connection_id)
        if found is None:
            return False
        try:
            found[0].send(data)
        except (OSError, ConnectionClosed):  # the client went away between two frames
            self.closed(connection_id)
            return False
        return True

    def connected_at(self, connection_id: str) -> float | None:
        with self._lock:
            found = self._sinks.get(connection_id)
        return None if found is None else found[1]

    def drop(self, connection_id: str) -> bool:
        with self._lock:
            found = self._sinks.get(connection_id)
        if found is None:
            return False
        found[0].close()
        self.closed(connection_id)
        return True

    # -- the WebSocket server --

    def _upgrade(self, connection: ServerConnection, request: Request) -> Response | None:
        split = urlsplit(request.path)
        if split.path.rstrip("/") != f"/{STAGE}":
            return connection.respond(404, "Not Found\n")
        connection_id = new_connection_id()
        status = self.admit(
            connection_id, dict(parse_qsl(split.query)), {k.lower(): v for k, v in request.headers.raw_items()}
        )
        if not 200 <= status < 300:
            return connection.respond(status, "Forbidden\n" if status == 403 else "Unauthorized\n")
        connection.health_connection_id = connection_id  # type: ignore[attr-defined]
        return None

    def _session(self, connection: ServerConnection) -> None:
        connection_id: str = connection.health_connection_id  # type: ignore[attr-defined]
        self.opened(connection_id, _WebSocketSink(connection))
        try:
            for message in connection:
                self.message(connection_id, message)
        finally:
            self.closed(connection_id)


class _Handler(BaseHTTPRequestHandler):
    """The Management API and the event streams; `push` is set per gateway (_handler)."""

    push: HealthPushGateway
    # HTTP/1.0: an event stream ends when the connection does (no length, no chunking).
    protocol_version = "HTTP/1.0"

    def do_POST(self) -> None:
        connection_id = self._connection_id()
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if connection_id is None:
            self._json(404, {"message": "Not Found"})
        elif self.push.post(connection_id, body):
            self._json(200, None)
        else:
            self._gone()

    def do_GET(self) -> None:
        if urlsplit(self.path).path == STREAM_PATH:
            self._stream()
            return
        connection_id = self._connection_id()
        since = self.push.connected_at(connection_id) if connection_id is not None else None
        if since is None:
            self._gone()
            return
        at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(since))
        self._json(200, {"ConnectedAt": at, "LastActiveAt": at, "Identity": {"SourceIp": "127.0.0.1", "UserAgent": ""}})

    def do_DELETE(self) -> None:
        connection_id = self._connection_id()
        if connection_id is not None and self.push.drop(connection_id):
            self._json(204, None)
        else:
            self._gone()

    def _connection_id(self) -> str | None:
        path = urlsplit(self.path).path
        if not path.startswith(CONNECTIONS_PREFIX):
            return None
        return unquote(path[len(CONNECTIONS_PREFIX) :])

    def _gone(self) -> None:
        self._json(410, {"message": "Gone"}, {"x-amzn-ErrorType": "GoneException"})

    def _json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _stream(self) -> None:
        connection_id = new_connection_id()
        query = dict(parse_qsl(urlsplit(self.path).query))
        status = self.push.admit(connection_id, query, {k.lower(): v for k, v in self.headers.items()})
        if not 200 <= status < 300:
            self._json(status, {"message": "Unauthorized"})
            return
        sink = _StreamSink()
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Access-Control-Allow-Origin", "*")
        self.end_headers()
        self.wfile.write(b": connected\n\n")
        self.wfile.flush()
        self.push.opened(connection_id, sink)
        try:
            idle = 0.0
            while not self._hung_up():
                try:
                    frame = sink.frames.get(timeout=HANGUP_POLL_SECONDS)
                except queue.Empty:
                    idle += HANGUP_POLL_SECONDS
                    if idle < KEEPALIVE_SECONDS:
                        continue
                    frame = b": keep-alive\n\n"  # a comment: keeps proxies from closing an idle stream
                if frame is None:
                    return
                idle = 0.0
                self.wfile.write(frame)
                self.wfile.flush()
        except OSError:
            return
        finally:
            self.push.closed(connection_id)

    def _hung_up(self) -> bool:
        """The client closed its side (an EOF is readable): it is gone, as API Gateway would find it."""
        readable, _, _ = select.select([self.connection], [], [], 0)
        return bool(readable) and self.connection.recv(1, socket.MSG_PEEK) == b""

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        return


def _handler(push: HealthPushGateway) -> type[BaseHTTPRequestHandler]:
    return type("HealthPushHandler", (_Handler,), {"push": push})


def start_health_push(app: Chalice) -> HealthPushGateway:
    """Starts the gateway and points the app at it (the variables infra sets on AWS)."""
    push = HealthPushGateway(app)
    push.start()
    os.environ[resources.LIVE_EVENT_HEALTH_PUSH_URL_ENV] = push.push_url
    os.environ[resources.LIVE_EVENT_HEALTH_CALLBACK_URL_ENV] = push.callback_url
    os.environ[resources.LIVE_EVENT_HEALTH_STREAM_URL_ENV] = push.stream_url
    return push
