"""What the fake model servers share: a ThreadingHTTPServer on 127.0.0.1 in a daemon thread,
the script queue and its fallback responder, the record of requests, and the HTTP/1.1 plumbing
of their request handlers. Each protocol (ollama_server.py, openai_server.py) subclasses
FakeServer and brings its own handler and replies."""

from __future__ import annotations

import json
import socket
import sys
import threading
from collections import deque
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

Reply = dict[str, Any]
Responder = Callable[[dict[str, Any]], Reply]
Fake = TypeVar("Fake", bound="FakeServer")


class FakeServer:
    """Serves on a free loopback port from start() (or `with`) to stop(), in a daemon thread.
    Replies come from the script queue, then from `responder`; every request is recorded."""

    url_path = ""  # what `url` adds after the port
    chat_path = ""  # the path whose request bodies `chat_requests` lists

    def __init__(
        self,
        models: dict[str, dict[str, Any]],
        responder: Responder | None,
        chunk_size: int,
    ) -> None:
        self.models = models
        self.responder: Responder = responder or (lambda body: {"content": "done."})
        self.chunk_size = chunk_size
        self._queue: deque[Reply | Responder] = deque()
        self._requests: list[tuple[str, dict[str, Any] | None, dict[str, str]]] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        """The protocol's request handler class, bound to this fake."""
        raise NotImplementedError

    def start(self: Fake) -> Fake:
        self._stopping.clear()
        self._server = _Server(("127.0.0.1", 0), self._handler())
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self: Fake) -> Fake:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, f"{type(self).__name__} is not started"
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.url_path}"

    def script(self, *replies: Reply | Responder) -> None:
        with self._lock:
            self._queue.extend(replies)

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._queue)

    @property
    def requests(self) -> list[tuple[str, dict[str, Any] | None]]:
        with self._lock:
            return [(path, body) for path, body, _ in self._requests]

    @property
    def headers(self) -> list[dict[str, str]]:
        """Each request's headers (lower-case names), in the order of `requests`."""
        with self._lock:
            return [headers for _, _, headers in self._requests]

    @property
    def chat_requests(self) -> list[dict[str, Any]]:
        return [body or {} for path, body in self.requests if path == self.chat_path]

    def _record(self, path: str, body: dict[str, Any] | None, headers: dict[str, str]) -> None:
        with self._lock:
            self._requests.append((path, body, headers))

    def _next_reply(self, body: dict[str, Any]) -> Reply:
        with self._lock:
            entry = self._queue.popleft() if self._queue else self.responder
        return entry(body) if callable(entry) else entry


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class FakeHandler(BaseHTTPRequestHandler):
    """Quiet HTTP/1.1: requests recorded with their JSON body, replies whole or chunked."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _receive(self, fake: FakeServer) -> Any:
        """Record this request on `fake`; its body as JSON (None when it is not JSON)."""
        body = None
        if self.command == "POST":
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                body = None
        fake._record(self.path, body, self._headers())
        return body

    def _headers(self) -> dict[str, str]:
        return {k.lower(): v for k, v in self.headers.items()}

    def _begin_stream(self, content_type: str, *extra: tuple[str, str]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        for name, value in extra:
            self.send_header(name, value)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def _stream(
        self, fake: FakeServer, reply: Reply, pieces: list[Any], send: Callable[[Any], None]
    ) -> bool:
        """`send` each piece, `chunk_delay` apart; False when the reply hangs up after them
        (`close`), leaving the stream without its end."""
        for piece in pieces:
            send(piece)
            if reply.get("chunk_delay"):
                fake._stopping.wait(reply["chunk_delay"])
        if reply.get("close"):
            self.close_connection = True
            return False
        return True

    def _chunk(self, data: bytes) -> None:
        if data:
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()

    def _end(self) -> None:
        self.wfile.write(b"0\r\n\r\n")

    def _json(self, status: int, obj: dict[str, Any]) -> None:
        self._send(status, json.dumps(obj), "application/json; charset=utf-8")

    def _send(self, status: int, text: str, content_type: str) -> None:
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)


def prompt_chars(body: dict[str, Any]) -> int:
    """How long a chat request's prompt is, in characters: tools, message texts and calls."""
    chars = len(json.dumps(body.get("tools"))) if body.get("tools") else 0
    for message in body.get("messages") or []:
        chars += len(str(message.get("content") or ""))
        if message.get("tool_calls"):
            chars += len(json.dumps(message["tool_calls"]))
    return chars


def output_text(reply: Reply) -> str:
    """All a reply dict makes the model write: content, thinking and tool calls."""
    output = (reply.get("content") or "") + (reply.get("thinking") or "")
    output += json.dumps(reply.get("tool_calls")) if reply.get("tool_calls") else ""
    return output


def free_port() -> int:
    """A loopback port with nothing listening on it (for connection-refused tests)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
