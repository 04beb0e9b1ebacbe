"""Client for Ollama's native API: streaming /api/chat with native tools, /api/show for facts."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

import httpx

from .base import (
    DeltaCallback,
    GenerationOptions,
    Message,
    ModelError,
    ModelInfo,
    ModelNotFound,
    ModelReply,
    ToolCall,
    ToolsUnsupported,
    Usage,
)
from .http import http_client, normalize_host, one_line, read_json, send

T = TypeVar("T")


class OllamaClient:
    def __init__(
        self,
        model: str,
        host: str,
        options: GenerationOptions,
        timeout: float = 300.0,
        think: bool | str | None = None,
        retries: int = 2,
        backoff: float = 0.5,
    ) -> None:
        self.name = model
        self.host = normalize_host(host)
        self.options = options
        self.timeout = timeout
        self.think = think
        self.retries = retries
        self.backoff = backoff
        self._info: ModelInfo | None = None
        self._http = http_client(self.host, timeout)

    def close(self) -> None:
        self._http.close()

    def info(self) -> ModelInfo:
        if self._info is None:
            data = self._send("/api/show", {"model": self.name}, read_json)
            self._info = parse_info(self.name, data)
        return self._info

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
            "messages": [wire_message(m) for m in messages],
            "stream": True,
            "options": {
                "num_ctx": self.options.num_ctx,
                "num_predict": self.options.max_new_tokens,
                "temperature": self.options.temperature,
                "top_p": self.options.top_p,
            },
        }
        if tools:
            body["tools"] = tools
        if response_format is not None:
            body["format"] = response_format
        if self.think is not None:
            body["think"] = self.think
        stream = ReplyStream(on_delta)
        return self._send("/api/chat", body, stream.read, stream)

    def _send(
        self,
        path: str,
        body: dict[str, Any],
        read: Callable[[httpx.Response], T],
        stream: ReplyStream | None = None,
    ) -> T:
        return send(
            self._http,
            ("POST", path, body),
            read,
            self._status_error,
            server=f"Ollama at {self.host}",
            hints=(
                "check the host and that `ollama serve` is running",
                "start it with `ollama serve`",
            ),
            retries=self.retries,
            backoff=self.backoff,
            stream=stream,
        )

    def _status_error(self, response: httpx.Response) -> ModelError:
        status = response.status_code
        message = error_text(response)
        if status == 404:
            return ModelNotFound(
                f"model '{self.name}' not found on Ollama at {self.host}; "
                f"run `ollama pull {self.name}`"
            )
        if status == 400 and "does not support tools" in message:
            return ToolsUnsupported(f"model '{self.name}' does not support native tools")
        return ModelError(f"Ollama error ({status}): {message}")


class ReplyStream:
    """Reads one NDJSON chat stream, forwarding deltas and keeping what arrived."""

    def __init__(self, on_delta: DeltaCallback | None) -> None:
        self.on_delta = on_delta
        self.started = False
        self.content: list[str] = []
        self.thinking: list[str] = []
        self.tool_calls: list[ToolCall] = []

    def partial(self) -> ModelReply | None:
        return self.reply() if self.started else None

    def reply(self, usage: Usage | None = None, finish_reason: str | None = None) -> ModelReply:
        return ModelReply(
            content="".join(self.content),
            tool_calls=list(self.tool_calls),
            thinking="".join(self.thinking),
            usage=usage or Usage(),
            finish_reason=finish_reason,
        )

    def read(self, response: httpx.Response) -> ModelReply:
        for line in response.iter_lines():
            if not line.strip():
                continue
            try:
                chunk = json.loads(line)
            except ValueError:
                chunk = None
            if not isinstance(chunk, dict):
                raise ModelError(f"bad reply from server: {line[:80]!r}", partial=self.partial())
            self.started = True
            if "error" in chunk:
                raise ModelError(
                    f"Ollama error mid-reply: {one_line(chunk['error'])}", partial=self.reply()
                )
            self._take(chunk.get("message") or {})
            if chunk.get("done"):
                return self.reply(parse_usage(chunk), chunk.get("done_reason"))
        raise ModelError("Ollama reply ended before it was done", partial=self.partial())

    def _take(self, message: dict[str, Any]) -> None:
        for kind, parts in (("thinking", self.thinking), ("content", self.content)):
            text = message.get(kind)
            if isinstance(text, str) and text:
                parts.append(text)
                if self.on_delta:
                    self.on_delta(kind, text)
        for call in message.get("tool_calls") or []:
            function = call.get("function") or {}
            self.tool_calls.append(
                ToolCall(
                    name=str(function.get("name") or ""),
                    args=parse_arguments(function.get("arguments")),
                    id=call.get("id"),
                )
            )


def wire_message(message: Message) -> dict[str, Any]:
    role = message["role"]
    wire: dict[str, Any] = {"role": role, "content": message.get("content") or ""}
    if role == "assistant" and message.get("tool_calls"):
        wire["tool_calls"] = [wire_tool_call(call) for call in message["tool_calls"]]
    if role == "tool":
        if message.get("name"):
            wire["tool_name"] = message["name"]
        if message.get("tool_call_id"):
            wire["tool_call_id"] = message["tool_call_id"]
    return wire


def wire_tool_call(call: dict[str, Any] | ToolCall) -> dict[str, Any]:
    if isinstance(call, ToolCall):
        call = call.to_message()
    wire: dict[str, Any] = {
        "function": {"name": call["name"], "arguments": parse_arguments(call.get("args"))}
    }
    if call.get("id"):
        wire["id"] = call["id"]
    return wire


def parse_arguments(arguments: Any) -> dict[str, Any]:
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments)
        except ValueError:
            return {}
    return arguments if isinstance(arguments, dict) else {}


def parse_usage(chunk: dict[str, Any]) -> Usage:
    total = chunk.get("total_duration")
    return Usage(
        prompt_tokens=chunk.get("prompt_eval_count"),
        completion_tokens=chunk.get("eval_count"),
        seconds=total / 1e9 if isinstance(total, (int, float)) else None,
    )


def parse_info(name: str, data: dict[str, Any]) -> ModelInfo:
    model_info = data.get("model_info") or {}
    context_length = model_info.get(f"{model_info.get('general.architecture')}.context_length")
    if context_length is None:
        context_length = next(
            (v for k, v in model_info.items() if k.endswith(".context_length")), None
        )
    capabilities = data.get("capabilities")
    if capabilities is None:
        # Servers before capabilities existed: a template that renders tools takes tools.
        capabilities = ["completion"] + (["tools"] if ".Tools" in data.get("template", "") else [])
    return ModelInfo(
        name=name,
        context_length=context_length if isinstance(context_length, int) else None,
        capabilities=tuple(capabilities),
    )


def error_text(response: httpx.Response) -> str:
    try:
        data = json.loads(response.content)
    except ValueError:
        data = None
    if isinstance(data, dict) and "error" in data:
        return one_line(data["error"])
    return one_line(response.text) or response.reason_phrase
