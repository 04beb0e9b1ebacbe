"""Client for OpenAI-compatible servers (llama-server, vLLM, LM Studio, OpenAI, Ollama /v1).

Streaming POST {base_url}/chat/completions over SSE, with native tools and structured output;
GET {base_url}/models for the context length when the server reports one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any, TypeVar

import httpx

from .base import (
    ContextOverflow,
    DeltaCallback,
    GenerationOptions,
    Message,
    ModelError,
    ModelInfo,
    ModelNotFound,
    ModelReply,
    ModelTimeout,
    ModelUnavailable,
    ToolsUnsupported,
)
from .http import http_client, normalize_host, one_line, read_json, send
from .openai_wire import ReplyStream, error_object, parse_info, wire_format, wire_messages

T = TypeVar("T")
# How a JSON Schema is asked for, best first; a server that rejects one gets the next.
FORMAT_MODES = ("json_schema", "json_object", "none")
KEY_HINT = "set OPENAI_API_KEY or --api-key-env"
OVERFLOW_MARKERS = ("exceed_context_size", "context length", "context_length", "context size")
# A 400 naming tools/functions and one of these: the server will not take native tools.
TOOL_REFUSALS = ("support", "requires", "--jinja", "not allowed")


class FormatRejected(ModelError):
    """A 400 for a request carrying response_format: try the next FORMAT_MODES entry."""


class KeyRejected(ModelError):
    """401/403: the server wants a (different) API key."""


class OpenAIClient:
    def __init__(
        self,
        model: str,
        base_url: str,
        options: GenerationOptions,
        timeout: float = 300.0,
        api_key: str | None = None,
        retries: int = 2,
        backoff: float = 0.5,
    ) -> None:
        self.name = model
        self.base_url = normalize_host(base_url)
        self.options = options
        self.timeout = timeout
        self.api_key = api_key
        self.retries = retries
        self.backoff = backoff
        self.format_mode = FORMAT_MODES[0]
        self._info: ModelInfo | None = None
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = http_client(self.base_url + "/", timeout, headers)

    def close(self) -> None:
        self._http.close()

    def info(self) -> ModelInfo:
        if self._info is None:
            try:
                data = self._send("GET", "models", None, read_json)
            except (ModelUnavailable, ModelTimeout, KeyRejected):
                raise
            except ModelError:
                data = None  # no /models (404, not implemented, garbage): use the defaults
            self._info = parse_info(self.name, data)
            if "n_ctx_train" in str(data):
                self._info = replace(self._info, context_length=self._llama_cpp_context())
        return self._info

    def _llama_cpp_context(self) -> int | None:
        """llama.cpp's server reports the model's training context in /models; the window it
        was started with (-c) is in /props at the server root."""
        root = self.base_url.removesuffix("/v1")
        try:
            props = self._send("GET", f"{root}/props", None, read_json)
        except ModelError:
            return self._info.context_length if self._info else None
        settings = props.get("default_generation_settings") if isinstance(props, dict) else None
        n_ctx = settings.get("n_ctx") if isinstance(settings, dict) else None
        if isinstance(n_ctx, int) and n_ctx > 0:
            return n_ctx
        return self._info.context_length if self._info else None

    def chat(
        self,
        messages: list[Message],
        *,
        tools: list[dict[str, Any]] | None = None,
        response_format: dict[str, Any] | None = None,
        on_delta: DeltaCallback | None = None,
    ) -> ModelReply:
        body: dict[str, Any] = {
            "model": self.name,
            "messages": wire_messages(messages),
            "stream": True,
            "stream_options": {"include_usage": True},
            "max_tokens": self.options.max_new_tokens,
            "temperature": self.options.temperature,
            "top_p": self.options.top_p,
        }
        if tools:
            body["tools"] = tools
        modes = FORMAT_MODES[FORMAT_MODES.index(self.format_mode) :]
        for mode in modes if response_format is not None else ("none",):
            body.pop("response_format", None)
            if mode != "none":
                body["response_format"] = wire_format(mode, response_format or {})
            stream = ReplyStream(on_delta)
            try:
                reply = self._send("POST", "chat/completions", body, stream.read, stream)
            except FormatRejected:
                continue  # the last mode sends no response_format, so it never lands here
            if response_format is not None:
                self.format_mode = mode
            return reply
        raise AssertionError("unreachable")  # pragma: no cover

    def _send(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None,
        read: Callable[[httpx.Response], T],
        stream: ReplyStream | None = None,
    ) -> T:
        return send(
            self._http,
            (method, path, body),
            read,
            lambda response: self._status_error(response, body or {}),
            server=f"the server at {self.base_url}",
            hints=("is the server running?", "is the server running?"),
            retries=self.retries,
            backoff=self.backoff,
            stream=stream,
        )

    def _status_error(self, response: httpx.Response, body: dict[str, Any]) -> ModelError:
        status = response.status_code
        error = error_object(response)
        message = one_line(error.get("message") or response.reason_phrase)
        lowered = f"{message} {error.get('type', '')} {error.get('code', '')}".lower()
        if status in (401, 403):
            verb = "rejected the API key" if self.api_key else "wants an API key"
            return KeyRejected(
                f"the server at {self.base_url} {verb} ({status}: {message}); {KEY_HINT}"
            )
        if status == 404 and ("model" in lowered):
            return ModelNotFound(
                f"model '{self.name}' not found on the server at {self.base_url}: {message}"
            )
        if status == 404:
            return ModelError(
                f"server error (404): {message}; check the base URL (it usually ends in /v1)"
            )
        if status in (400, 413) and any(m in lowered for m in OVERFLOW_MARKERS):
            sizes = [f"{k} {error[k]}" for k in ("n_prompt_tokens", "n_ctx") if k in error]
            detail = f" ({', '.join(sizes)})" if sizes else ""
            return ContextOverflow(f"the prompt does not fit the context window{detail}: {message}")
        refuses = any(m in lowered for m in TOOL_REFUSALS)
        # Some servers (llama-cpp-python) answer a request they cannot take with a 500.
        rejected = status in (400, 422, 500)
        if rejected and body.get("tools") and refuses and re.search("tool|function", lowered):
            return ToolsUnsupported(
                f"the server at {self.base_url} does not take native tools for "
                f"'{self.name}': {message}"
            )
        about_format = status != 500 or re.search("response_format|json_schema", lowered)
        if rejected and "response_format" in body and about_format:
            return FormatRejected(f"server error ({status}): {message}")
        return ModelError(f"server error ({status}): {message}")
