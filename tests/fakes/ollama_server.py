"""A protocol-faithful fake Ollama server on 127.0.0.1, for tests, CLI subprocesses and benches.

    with FakeOllama() as fake:                      # or fake.start() ... fake.stop()
        fake.script({"content": "hi"}, {"status": 500, "error": "boom"})
        client = OllamaClient("qwen3.5:4b", fake.url, GenerationOptions())
        ...
        fake.chat_requests[-1]["options"]["num_ctx"]

Replies to POST /api/chat are taken from the script queue, one per request that passes the
model checks (unknown model → 404, tools to a model without the tools capability → 400,
think true to a model without thinking → 400, tool-call arguments that are not objects → 400).
A queue entry is a reply dict or a callable `(request_body) -> reply dict`. When the queue is
empty, `responder(request_body)` answers, by default `{"content": "done."}`.

Reply dict keys (all optional):
    content, thinking          text; streamed in pieces of `chunk_size` characters, thinking first
    tool_calls                 [{"name", "arguments", "id"?}], each sent whole in one chunk with an
                               id like call_k3x9a2bq; `arguments` is sent as given (object or not)
    done_reason                default "stop"
    prompt_eval_count, eval_count, total_duration, load_duration, prompt_eval_duration,
    eval_duration              override the metrics; 0 or None omits one. By default
                               prompt_eval_count ≈ request characters / 4, capped at num_ctx
                               (options.num_ctx, else 4096), as Ollama truncates silently
    chunk_delay                seconds to sleep between streamed chunks
Faults:
    status, error              answer that HTTP status (default 500) with {"error": error}
    mid_stream_error           stream the reply, then a {"error": …} line, then end (status 200)
    hang                       sleep that many seconds before answering (the rest of the dict)
    close                      hang up: with no content/thinking/tool_calls, before any reply;
                               otherwise after streaming them, with no final chunk
    raw                        send this text verbatim as a 200 NDJSON body
"""

from __future__ import annotations

import hashlib
import json
import random
import string
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler
from typing import Any

from .server import FakeHandler, FakeServer, Reply, Responder, output_text, prompt_chars

DEFAULT_MODELS: dict[str, dict[str, Any]] = {
    "qwen3.5:4b": {"capabilities": ["completion", "tools", "thinking"], "context_length": 262144},
    "gemma3:4b": {"capabilities": ["completion", "vision"], "context_length": 131072},
}
METRICS = (
    "total_duration",
    "load_duration",
    "prompt_eval_count",
    "prompt_eval_duration",
    "eval_count",
    "eval_duration",
)


class FakeOllama(FakeServer):
    chat_path = "/api/chat"

    def __init__(
        self,
        models: dict[str, dict[str, Any]] | None = None,
        *,
        responder: Responder | None = None,
        chunk_size: int = 4,
        version: str = "0.12.6",
    ) -> None:
        models = {full_name(k): v for k, v in (models or DEFAULT_MODELS).items()}
        super().__init__(models, responder, chunk_size)
        self.version = version

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        return _handler_for(self)


def full_name(model: str) -> str:
    return model if ":" in model else model + ":latest"


def architecture(name: str, spec: dict[str, Any]) -> str:
    return spec.get("architecture") or "".join(c for c in name.split(":")[0] if c.isalnum())


def show_body(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    arch = architecture(name, spec)
    return {
        "modelfile": f"FROM {name}",
        "parameters": "",
        "template": "{{ .Prompt }}",
        "details": details(name, spec),
        "model_info": {
            "general.architecture": arch,
            f"{arch}.context_length": spec.get("context_length", 4096),
        },
        "capabilities": list(spec.get("capabilities", ["completion"])),
    }


def details(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "format": "gguf",
        "family": architecture(name, spec),
        "parameter_size": spec.get("parameter_size", "4B"),
        "quantization_level": spec.get("quantization_level", "Q4_K_M"),
    }


def check_chat(fake: FakeOllama, body: dict[str, Any]) -> tuple[int, str] | None:
    name = full_name(str(body.get("model") or ""))
    if not body.get("model"):
        return 400, "model is required"
    spec = fake.models.get(name)
    if spec is None:
        return 404, f"model '{body['model']}' not found"
    capabilities = spec.get("capabilities", ["completion"])
    if body.get("tools") and "tools" not in capabilities:
        return 400, f"registry.ollama.ai/library/{name} does not support tools"
    if body.get("think") and "thinking" not in capabilities:
        return 400, f'"{name}" does not support thinking'
    for message in body.get("messages") or []:
        for call in message.get("tool_calls") or []:
            if not isinstance((call.get("function") or {}).get("arguments", {}), dict):
                return 400, (
                    "json: cannot unmarshal string into Go struct field "
                    "ToolCallFunction.messages.tool_calls.function.arguments "
                    "of type api.ToolCallFunctionArguments"
                )
    return None


def prompt_estimate(body: dict[str, Any]) -> int:
    num_ctx = (body.get("options") or {}).get("num_ctx") or 4096
    return max(1, min(prompt_chars(body) // 4, num_ctx))


def chunks(reply: Reply, size: int) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    for kind in ("thinking", "content"):
        text = reply.get(kind) or ""
        for i in range(0, len(text), size):
            piece = {"role": "assistant", "content": ""}
            piece[kind] = text[i : i + size]
            messages.append(piece)
    for index, call in enumerate(reply.get("tool_calls") or []):
        call_id = call.get("id") or "call_" + "".join(
            random.choices(string.ascii_lowercase + string.digits, k=8)
        )
        function = {"index": index, "name": call["name"], "arguments": call.get("arguments", {})}
        messages.append(
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [{"id": call_id, "function": function}],
            }
        )
    return messages


def final_fields(reply: Reply, body: dict[str, Any], started: float) -> dict[str, Any]:
    output = output_text(reply)
    elapsed = int((time.monotonic() - started) * 1e9)
    defaults = {
        "total_duration": elapsed,
        "load_duration": elapsed // 10,
        "prompt_eval_count": prompt_estimate(body),
        "prompt_eval_duration": elapsed // 5,
        "eval_count": max(1, len(output) // 4) if output else 0,
        "eval_duration": elapsed // 2,
    }
    fields: dict[str, Any] = {"done": True, "done_reason": reply.get("done_reason", "stop")}
    for key in METRICS:
        value = reply.get(key, defaults[key])
        if value:
            fields[key] = value
    return fields


def _handler_for(fake: FakeOllama) -> type[BaseHTTPRequestHandler]:
    class Handler(FakeHandler):
        def do_HEAD(self) -> None:
            self.do_GET()

        def do_GET(self) -> None:
            self._receive(fake)
            if self.path == "/":
                self._send(200, "Ollama is running", "text/plain; charset=utf-8")
            elif self.path == "/api/version":
                self._json(200, {"version": fake.version})
            elif self.path == "/api/tags":
                self._json(200, {"models": [tag(name, spec) for name, spec in fake.models.items()]})
            else:
                self._send(404, "404 page not found", "text/plain")

        def do_POST(self) -> None:
            body = self._receive(fake)
            if not isinstance(body, dict):
                self._json(400, {"error": "invalid JSON request body"})
            elif self.path == "/api/chat":
                self._chat(body)
            elif self.path == "/api/show":
                name = full_name(str(body.get("model") or body.get("name") or ""))
                if name in fake.models:
                    self._json(200, show_body(name, fake.models[name]))
                else:
                    self._json(404, {"error": f"model '{name}' not found"})
            else:
                self._send(404, "404 page not found", "text/plain")

        def _chat(self, body: dict[str, Any]) -> None:
            started = time.monotonic()
            problem = check_chat(fake, body)
            if problem:
                return self._json(problem[0], {"error": problem[1]})
            try:
                reply = fake._next_reply(body)
            except Exception as exc:
                return self._json(500, {"error": f"fake responder failed: {exc!r}"})
            if reply.get("hang"):
                fake._stopping.wait(reply["hang"])
            if "status" in reply or "error" in reply:
                return self._json(reply.get("status", 500), {"error": reply.get("error", "fault")})
            pieces = chunks(reply, fake.chunk_size)
            if reply.get("close") and not pieces:
                self.close_connection = True
                return None
            if "raw" in reply:
                return self._send(200, reply["raw"], "application/x-ndjson")
            base = {"model": body["model"]}
            if body.get("stream", True) is False:
                if reply.get("mid_stream_error"):
                    return self._json(500, {"error": reply["mid_stream_error"]})
                return self._json(
                    200, {**base, **stamp(), **merged(pieces), **final_fields(reply, body, started)}
                )

            def line(message: dict[str, Any]) -> None:
                self._line({**base, **stamp(), "message": message, "done": False})

            self._begin_stream("application/x-ndjson")
            if not self._stream(fake, reply, pieces, line):
                return None
            if reply.get("mid_stream_error"):
                self._line({"error": reply["mid_stream_error"]})
            else:
                message = {"role": "assistant", "content": ""}
                self._line(
                    {**base, **stamp(), "message": message, **final_fields(reply, body, started)}
                )
            self._end()
            return None

        def _line(self, obj: dict[str, Any]) -> None:
            self._chunk((json.dumps(obj, ensure_ascii=False) + "\n").encode())

    return Handler


def stamp() -> dict[str, str]:
    return {"created_at": datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")}


def merged(pieces: list[dict[str, Any]]) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": ""}
    for piece in pieces:
        message["content"] += piece.get("content", "")
        if piece.get("thinking"):
            message["thinking"] = message.get("thinking", "") + piece["thinking"]
        if piece.get("tool_calls"):
            message.setdefault("tool_calls", []).extend(piece["tool_calls"])
    return {"message": message}


def tag(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "model": name,
        "modified_at": "2025-01-01T00:00:00Z",
        "size": spec.get("size", 3_300_000_000),
        "digest": hashlib.sha256(name.encode()).hexdigest(),
        "details": details(name, spec),
    }
