"""The OpenAI chat-completions wire: neutral messages out; replies (SSE or whole), usage,
model facts and errors in, whatever shape the server chose."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx

from .. import json_repair
from .base import DeltaCallback, Message, ModelError, ModelInfo, ModelReply, ToolCall, Usage
from .http import one_line, read_json

DEFAULT_CAPABILITIES = ("completion", "tools")


class ReplyStream:
    """Reads one chat reply (SSE or a whole chat.completion), keeping what has arrived."""

    def __init__(self, on_delta: DeltaCallback | None) -> None:
        self.on_delta = on_delta
        self.started_at = time.monotonic()
        self.started = False
        self.content: list[str] = []
        self.thinking: list[str] = []
        self.calls: dict[int, dict[str, Any]] = {}
        self.finish_reason: str | None = None
        self.usage: dict[str, Any] = {}
        self.timings: dict[str, Any] = {}

    def partial(self) -> ModelReply | None:
        return self.reply() if self.started else None

    def reply(self) -> ModelReply:
        calls = [self.calls[i] for i in sorted(self.calls)]
        return ModelReply(
            content="".join(self.content),
            tool_calls=[
                ToolCall(name=c["name"], args=parse_arguments(c["arguments"]), id=c["id"])
                for c in calls
            ],
            thinking="".join(self.thinking),
            usage=parse_usage(self.usage, self.timings, time.monotonic() - self.started_at),
            finish_reason=self.finish_reason,
        )

    def read(self, response: httpx.Response) -> ModelReply:
        if "text/event-stream" in response.headers.get("content-type", ""):
            return self.read_events(response.iter_lines())
        text = response.read().decode("utf-8", "replace")
        if text.lstrip().startswith(("data:", ":")):  # SSE under the wrong content type
            return self.read_events(iter(text.splitlines()))
        data = read_json(response)
        self.take(data, whole=True)
        return self.reply()

    def read_events(self, lines: Any) -> ModelReply:
        for line in lines:
            if not line.strip() or line.startswith(":"):
                continue
            field, _, value = line.partition(":")
            if line.startswith("{"):  # a bare JSON line (an error from a proxy, say)
                field, value = "data", line
            if field != "data":
                if field in ("event", "id", "retry"):
                    continue
                raise ModelError(f"bad reply from server: {line[:80]!r}", partial=self.partial())
            value = value.strip()
            if value == "[DONE]":
                return self.reply()
            try:
                chunk = json.loads(value)
            except ValueError:
                chunk = None
            if not isinstance(chunk, dict):
                raise ModelError(f"bad reply from server: {line[:80]!r}", partial=self.partial())
            self.take(chunk, whole=False)
        if self.finish_reason is None:
            raise ModelError("the reply ended before it was done", partial=self.partial())
        return self.reply()

    def take(self, chunk: dict[str, Any], whole: bool) -> None:
        if chunk.get("error"):
            self.started = True
            raise ModelError(
                f"server error mid-reply: {error_message(chunk['error'])}", partial=self.reply()
            )
        self.started = True
        if isinstance(chunk.get("usage"), dict):
            self.usage = chunk["usage"]
        if isinstance(chunk.get("timings"), dict):
            self.timings = chunk["timings"]
        choices = chunk.get("choices")
        if not choices or not isinstance(choices[0], dict):
            if whole:
                raise ModelError("bad reply from server: no choices in the reply")
            return
        choice = choices[0]
        delta = choice.get("message" if whole else "delta") or {}
        thinking = delta.get("reasoning_content") or delta.get("reasoning")
        for kind, text, parts in (
            ("thinking", thinking, self.thinking),
            ("content", delta.get("content"), self.content),
        ):
            if isinstance(text, str) and text:
                parts.append(text)
                if self.on_delta:
                    self.on_delta(kind, text)
        for position, call in enumerate(delta.get("tool_calls") or []):
            self.take_call(call, position if whole else None)
        if choice.get("finish_reason"):
            self.finish_reason = choice["finish_reason"]

    def take_call(self, call: dict[str, Any], position: int | None) -> None:
        index = call.get("index", position)
        if not isinstance(index, int):  # no index: a new id starts a new call
            ids = [c["id"] for c in self.calls.values()]
            new = not self.calls or (call.get("id") and call["id"] not in ids)
            index = len(self.calls) if new else max(self.calls)
        entry = self.calls.setdefault(index, {"id": None, "name": "", "arguments": ""})
        function = call.get("function") or {}
        entry["id"] = entry["id"] or call.get("id")
        entry["name"] = entry["name"] or str(function.get("name") or "")
        arguments = function.get("arguments")
        if isinstance(arguments, str):
            entry["arguments"] += arguments
        elif arguments is not None:
            entry["arguments"] = arguments  # some servers send a whole object


def wire_messages(messages: list[Message]) -> list[dict[str, Any]]:
    """The neutral messages as OpenAI messages; calls without ids get ids their results share."""
    wire: list[dict[str, Any]] = []
    pending: list[str] = []  # ids of the last assistant calls, for tool results without one
    for number, message in enumerate(messages):
        role = message["role"]
        item: dict[str, Any] = {"role": role, "content": message.get("content") or ""}
        if role == "assistant" and message.get("tool_calls"):
            calls = [
                c.to_message() if isinstance(c, ToolCall) else c for c in message["tool_calls"]
            ]
            ids = [c.get("id") or f"call_{number}_{i}" for i, c in enumerate(calls)]
            item["content"] = item["content"] or None
            item["tool_calls"] = [
                {
                    "id": call_id,
                    "type": "function",
                    "function": {"name": c["name"], "arguments": json.dumps(c.get("args") or {})},
                }
                for call_id, c in zip(ids, calls, strict=True)
            ]
            pending = list(ids)
        elif role == "tool":
            call_id = message.get("tool_call_id")
            if call_id in pending:
                pending.remove(call_id)
            elif pending:
                call_id = pending.pop(0)
            item = {"role": "tool", "tool_call_id": call_id or "", "content": item["content"]}
        wire.append(item)
    return wire


def wire_format(mode: str, schema: dict[str, Any]) -> dict[str, Any]:
    if mode == "json_schema":
        return {
            "type": "json_schema",
            "json_schema": {"name": "action", "schema": schema, "strict": False},
        }
    return {"type": "json_object", "schema": schema}


def parse_arguments(arguments: Any) -> dict[str, Any]:
    """Tool-call arguments as a dict; text nothing can repair comes back as {"_raw": text}."""
    if isinstance(arguments, dict):
        return arguments
    text = str(arguments or "").strip()
    if not text:
        return {}
    try:
        value = json.loads(text)
        if isinstance(value, str):  # encoded twice
            value = json.loads(value)
    except ValueError:
        try:
            value = json_repair.loads(text)
        except ValueError:
            value = None
    return value if isinstance(value, dict) else {"_raw": text}


def parse_usage(usage: dict[str, Any], timings: dict[str, Any], elapsed: float) -> Usage:
    details = usage.get("prompt_tokens_details") or {}
    prompt, cached = usage.get("prompt_tokens"), details.get("cached_tokens")
    completion = usage.get("completion_tokens")
    if timings:  # llama.cpp: prompt_n excludes the cache_n tokens reused from the KV cache
        if prompt is None and isinstance(timings.get("prompt_n"), int):
            prompt = timings["prompt_n"] + (timings.get("cache_n") or 0)
        cached = cached if cached is not None else timings.get("cache_n")
        completion = completion if completion is not None else timings.get("predicted_n")
        ms = [timings.get(k) for k in ("prompt_ms", "predicted_ms")]
        if all(isinstance(v, (int, float)) for v in ms):
            elapsed = sum(ms) / 1000
    return Usage(
        prompt_tokens=prompt, completion_tokens=completion, cached_tokens=cached, seconds=elapsed
    )


def parse_info(name: str, data: Any) -> ModelInfo:
    models = data.get("data") if isinstance(data, dict) else None
    models = [m for m in models if isinstance(m, dict)] if isinstance(models, list) else []
    entry = next((m for m in models if m.get("id") == name), None)
    if entry is None and len(models) == 1:  # one model served under any name
        entry = models[0]
    context_length = None
    if entry is not None:
        meta = entry.get("meta") if isinstance(entry.get("meta"), dict) else {}
        for value in (
            entry.get("context_length"),
            entry.get("max_model_len"),
            meta.get("n_ctx_train"),
        ):
            if isinstance(value, int) and value > 0:
                context_length = value
                break
    return ModelInfo(name=name, context_length=context_length, capabilities=DEFAULT_CAPABILITIES)


def error_object(response: httpx.Response) -> dict[str, Any]:
    """The error as {"message", "type", "code", …}, whatever shape the server used."""
    try:
        data = json.loads(response.content)
    except ValueError:
        data = None
    if isinstance(data, dict) and "error" in data:
        error = data["error"]
        if isinstance(error, dict):
            return {**error, "message": error_message(error)}
        return {"message": one_line(error)}
    if isinstance(data, dict) and isinstance(data.get("message"), str):
        return data
    return {"message": one_line(response.text)}


def error_message(error: Any) -> str:
    if isinstance(error, dict):
        return one_line(error.get("message") or json.dumps(error))
    return one_line(error)
