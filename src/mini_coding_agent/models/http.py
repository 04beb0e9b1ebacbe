"""What the HTTP model clients share: the request loop with its retries, host URLs, JSON
bodies, one-line error text."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

import httpx

from .base import ModelError, ModelReply, ModelTimeout, ModelUnavailable

T = TypeVar("T")
RETRY_STATUSES = frozenset({500, 502, 503})


class Streamed(Protocol):
    """A reply being read: whether output has started, and what has arrived."""

    started: bool

    def partial(self) -> ModelReply | None: ...


def http_client(
    base_url: str, timeout: float, headers: dict[str, str] | None = None
) -> httpx.Client:
    """A connection pool that waits `timeout` seconds for a reply, at most 10 to connect."""
    return httpx.Client(
        base_url=base_url,
        headers=headers,
        timeout=httpx.Timeout(timeout, connect=min(10.0, timeout)),
    )


def send(
    http: httpx.Client,
    request: tuple[str, str, dict[str, Any] | None],
    read: Callable[[httpx.Response], T],
    status_error: Callable[[httpx.Response], ModelError],
    *,
    server: str,
    hints: tuple[str, str],
    retries: int,
    backoff: float,
    stream: Streamed | None = None,
) -> T:
    """Send `request` (method, path, JSON body) and `read` a reply under 400.

    A refused or dropped connection, or a retryable status that `status_error` leaves a plain
    ModelError, is tried again up to `retries` times, `backoff` seconds doubling; nothing is
    retried once output has started on `stream`. A reply slower than the client's timeout is a
    ModelTimeout. Errors name the server as `server` ("Ollama
    at http://…") and suggest `hints`: (when connecting times out, when it is refused).
    """
    method, path, body = request
    timed_out_hint, refused_hint = hints
    attempt = 0
    while True:
        retry = False
        try:
            with http.stream(method, path, json=body) as response:
                if response.status_code < 400:
                    return read(response)
                response.read()
                error = status_error(response)
                retry = response.status_code in RETRY_STATUSES and type(error) is ModelError
        except httpx.ConnectTimeout:
            error = ModelUnavailable(
                f"cannot reach {server}: connecting timed out; {timed_out_hint}"
            )
        except httpx.TimeoutException:
            raise ModelTimeout(
                f"no reply from {server} within {http.timeout.read:g} s",
                partial=stream.partial() if stream else None,
            ) from None
        except httpx.ConnectError as exc:
            error = ModelUnavailable(
                f"cannot connect to {server} ({one_line(exc)}); {refused_hint}"
            )
            retry = True
        except (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError):
            error = ModelUnavailable(f"{server} closed the connection without replying")
            retry = True
        except httpx.HTTPError as exc:
            raise ModelError(f"cannot talk to {server}: {one_line(exc)}") from None
        if stream and stream.started:
            raise ModelError(
                f"{server} closed the connection mid-reply", partial=stream.partial()
            ) from None
        if not retry or attempt >= retries:
            raise error from None
        time.sleep(backoff * 2**attempt)
        attempt += 1


def normalize_host(host: str) -> str:
    host = host.strip().rstrip("/")
    if "://" not in host:
        host = "http://" + host
    return host


def read_json(response: httpx.Response) -> dict[str, Any]:
    try:
        data = json.loads(response.read())
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise ModelError("bad reply from server: expected a JSON object")
    return data


def one_line(value: Any, limit: int = 200) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
