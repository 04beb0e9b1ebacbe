"""What the HTTP model clients share: retryable statuses, host URLs, JSON bodies, one-line
error text."""

from __future__ import annotations

import json
from typing import Any

import httpx

from .base import ModelError

RETRY_STATUSES = frozenset({500, 502, 503})


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
