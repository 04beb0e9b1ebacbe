"""A protocol-faithful fake OpenAI-compatible server on 127.0.0.1 (llama-server, vLLM and co.).

    with FakeOpenAI() as fake:                      # or fake.start() ... fake.stop()
        fake.script({"content": "hi"}, {"status": 500, "error": "boom"})
        client = OpenAIClient("local-model", fake.url, GenerationOptions())   # url ends in /v1
        ...
        fake.chat_requests[-1]["max_tokens"]; fake.headers[-1].get("authorization")

Replies to POST /v1/chat/completions come from the script queue, one per request that passes
the checks (wrong key → 401, unknown model with strict_model → 404, prompt over n_ctx → 400
exceed_context_size_error, reject_tools / reject_json_schema → 400, tool-call arguments that are
not strings or tool results answering no call → 400). A queue entry is a reply dict or a callable
`(request_body) -> reply dict`; when the queue is empty `responder(request_body)` answers, by
default `{"content": "done."}`. Streams are SSE (`data: {chunk}` … `data: [DONE]`) when the
request says `stream: true` (and can_stream), else one chat.completion object.

Reply dict keys (all optional):
    content, thinking          text in pieces of `chunk_size` characters, thinking first, sent as
                               delta.reasoning_content (or the `reasoning_field` option)
    tool_calls                 [{"name", "arguments", "id"?}]: a dict is sent as a JSON string
                               split over several deltas, a str as is (so it may be invalid JSON)
    interleave                 true: the argument pieces of several calls alternate
    finish_reason              default "tool_calls" when there are tool calls, else "stop"
    prompt_tokens, completion_tokens, cached_tokens
                               usage numbers (default: request characters / 4, output / 4, 0);
                               the usage chunk is sent only for stream_options.include_usage
    usage                      false: send no usage at all (llama_cpp timings still come)
    chunk_delay                seconds to sleep between streamed chunks
Faults:
    status, error              answer that status (default 500): a str error is wrapped as
                               {"error": {"message", "type", "code"}}, a dict is merged into it
    mid_stream_error           stream the reply, then `data: {"error": {…}}`, then end (200)
    hang                       sleep that many seconds before answering (the rest of the dict)
    close                      hang up: with no content/thinking/tool_calls, before any reply;
                               otherwise after streaming them, with no finish chunk or [DONE]
    raw                        send this text verbatim with `status` (default 200), as
                               `content_type` (default text/event-stream)
Every stream starts with an SSE comment line (": ping"); with include_usage every chunk carries
"usage": null until the usage chunk (choices: []). llama_cpp adds `timings` to the last chunk
and reports a model's context_length as meta.n_ctx_train in /v1/models.
"""

from __future__ import annotations

import json
import random
import string
import time
from http.server import BaseHTTPRequestHandler
from typing import Any

from .server import FakeHandler, FakeServer, Reply, Responder, output_text, prompt_chars

CHAT = "/v1/chat/completions"
ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error", 404: "not_found_error"}


class FakeOpenAI(FakeServer):
    url_path = "/v1"
    chat_path = CHAT

    def __init__(
        self,
        models: dict[str, dict[str, Any]] | None = None,
        *,
        responder: Responder | None = None,
        chunk_size: int = 4,
        ignore_tools: bool = False,
        reject_tools: bool = False,
        reject_json_schema: bool = False,
        require_key: str | None = None,
        can_stream: bool = True,
        llama_cpp: bool = False,
        serve_models: bool = True,
        strict_model: bool = False,
        n_ctx: int | None = None,
        reasoning_field: str = "reasoning_content",
    ) -> None:
        models = models if models is not None else {"local-model": {"context_length": 32768}}
        super().__init__(models, responder, chunk_size)
        self.ignore_tools = ignore_tools
        self.reject_tools = reject_tools
        self.reject_json_schema = reject_json_schema
        self.require_key = require_key
        self.can_stream = can_stream
        self.llama_cpp = llama_cpp
        self.serve_models = serve_models
        self.strict_model = strict_model
        self.n_ctx = n_ctx
        self.reasoning_field = reasoning_field

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        return _handler_for(self)


def error_body(status: int, error: Any) -> dict[str, Any]:
    base = {"message": "fault", "type": ERROR_TYPES.get(status, "server_error"), "code": status}
    return {"error": {**base, **error} if isinstance(error, dict) else {**base, "message": error}}


def check_key(fake: FakeOpenAI, headers: dict[str, str]) -> tuple[int, dict[str, Any]] | None:
    if fake.require_key is None:
        return None
    given = headers.get("authorization", "")
    if given == f"Bearer {fake.require_key}":
        return None
    message = (
        f"Incorrect API key provided: {given.removeprefix('Bearer ')[:8]}…"
        if given
        else "You didn't provide an API key. You need to provide your API key in an "
        "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
    )
    return 401, error_body(401, {"message": message, "code": "invalid_api_key"})


def check_chat(fake: FakeOpenAI, body: dict[str, Any]) -> tuple[int, dict[str, Any]] | None:
    def bad(message: str, **extra: Any) -> tuple[int, dict[str, Any]]:
        return 400, error_body(400, {"message": message, **extra})

    if not body.get("model") or not isinstance(body.get("messages"), list):
        return bad("'model' and 'messages' are required")
    if fake.strict_model and body["model"] not in fake.models:
        message = f"The model `{body['model']}` does not exist."
        return 404, error_body(404, {"message": message, "code": "model_not_found"})
    if body.get("tools") and fake.reject_tools:
        return bad("tools are not supported")
    response_format = body.get("response_format") or {}
    if fake.reject_json_schema and response_format.get("type") == "json_schema":
        return bad(
            'response_format type must be one of "text" or "json_object", but got: json_schema'
        )
    call_ids: set[str] = set()
    for n, message in enumerate(body["messages"]):
        for k, call in enumerate(message.get("tool_calls") or []):
            call_ids.add(call.get("id"))
            if not isinstance((call.get("function") or {}).get("arguments"), str):
                where = f"messages[{n}].tool_calls[{k}].function.arguments"
                return bad(f"Invalid type for '{where}': expected a string, but got an object.")
        if message.get("role") == "tool" and message.get("tool_call_id") not in call_ids:
            return bad(
                f"Invalid parameter: messages[{n}] with role 'tool' must be a response to a "
                "preceding message with 'tool_calls'."
            )
    prompt = prompt_estimate(body)
    if fake.n_ctx is not None and prompt > fake.n_ctx:
        return bad(
            "the request exceeds the available context size, try increasing it",
            type="exceed_context_size_error",
            n_prompt_tokens=prompt,
            n_ctx=fake.n_ctx,
        )
    return None


def prompt_estimate(body: dict[str, Any]) -> int:
    return max(1, prompt_chars(body) // 4)


def new_id(prefix: str, k: int = 8) -> str:
    return prefix + "".join(random.choices(string.ascii_lowercase + string.digits, k=k))


def split(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


def as_text_calls(reply: Reply) -> Reply:
    """What a model does when the server drops `tools`: it writes the calls as text."""
    text = ""
    for call in reply.get("tool_calls") or []:
        arguments = call.get("arguments", {})
        arguments = arguments if isinstance(arguments, str) else json.dumps(arguments)
        text += f'<tool_call>{{"name": {json.dumps(call["name"])}, "arguments": {arguments}}}'
        text += "</tool_call>"
    return {**reply, "content": (reply.get("content") or "") + text, "tool_calls": []}


def deltas(fake: FakeOpenAI, reply: Reply) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for kind, field in (("thinking", fake.reasoning_field), ("content", "content")):
        out += [{field: piece} for piece in split(reply.get(kind) or "", fake.chunk_size)]
    runs: list[list[dict[str, Any]]] = []
    for index, call in enumerate(reply.get("tool_calls") or []):
        arguments = call.get("arguments", {})
        text = arguments if isinstance(arguments, str) else json.dumps(arguments)
        head = {"index": index, "id": call.get("id") or new_id("call_", 24), "type": "function"}
        run = [{**head, "function": {"name": call["name"], "arguments": ""}}]
        run += [{"index": index, "function": {"arguments": p}} for p in split(text, 5)]
        runs.append(run)
    if reply.get("interleave"):
        longest = max((len(run) for run in runs), default=0)
        runs = [[run[i] for i in range(longest) for run in runs if i < len(run)]]
    out += [{"tool_calls": [piece]} for run in runs for piece in run]
    return out


def usage_of(reply: Reply, body: dict[str, Any]) -> dict[str, Any]:
    output = output_text(reply)
    prompt = reply.get("prompt_tokens", prompt_estimate(body))
    completion = reply.get("completion_tokens", max(1, len(output) // 4) if output else 0)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": reply.get("cached_tokens", 0)},
    }


def timings_of(usage: dict[str, Any]) -> dict[str, Any]:
    cached = usage["prompt_tokens_details"]["cached_tokens"]
    prompt_n, predicted_n = usage["prompt_tokens"] - cached, usage["completion_tokens"]
    return {
        "cache_n": cached,
        "prompt_n": prompt_n,
        "prompt_ms": prompt_n * 0.5,
        "prompt_per_second": 2000.0,
        "predicted_n": predicted_n,
        "predicted_ms": predicted_n * 20.0,
        "predicted_per_second": 50.0,
    }


def whole_message(pieces: list[dict[str, Any]]) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": None}
    calls: dict[int, dict[str, Any]] = {}
    for piece in pieces:
        for key, value in piece.items():
            if key == "tool_calls":
                call = value[0]
                entry = calls.setdefault(call["index"], {"id": call.get("id"), "type": "function"})
                function = entry.setdefault("function", {"name": "", "arguments": ""})
                function["name"] += call["function"].get("name", "")
                function["arguments"] += call["function"]["arguments"]
            else:
                message[key] = (message.get(key) or "") + value
    if calls:
        message["tool_calls"] = [calls[i] for i in sorted(calls)]
    return message


def _handler_for(fake: FakeOpenAI) -> type[BaseHTTPRequestHandler]:
    class Handler(FakeHandler):
        def do_GET(self) -> None:
            self._receive(fake)
            problem = check_key(fake, self._headers())
            if problem:
                self._json(*problem)
            elif self.path == "/v1/models" and fake.serve_models:
                self._json(200, {"object": "list", "data": [self._model(n) for n in fake.models]})
            elif self.path == "/props" and fake.llama_cpp and fake.n_ctx is not None:
                settings = {"n_ctx": fake.n_ctx, "temperature": 0.8}
                self._json(200, {"default_generation_settings": settings, "total_slots": 1})
            else:
                self._json(404, error_body(404, "File Not Found"))

        def _model(self, name: str) -> dict[str, Any]:
            entry = {"id": name, "object": "model", "created": 1735689600, "owned_by": "fake"}
            spec = dict(fake.models[name])
            if fake.llama_cpp and "context_length" in spec:
                spec["meta"] = {"n_ctx_train": spec.pop("context_length"), "n_params": 4e9}
            return {**entry, **spec}

        def do_POST(self) -> None:
            body = self._receive(fake)
            problem = check_key(fake, self._headers())
            if problem:
                self._json(*problem)
            elif not isinstance(body, dict):
                self._json(400, error_body(400, "invalid JSON request body"))
            elif self.path == CHAT:
                self._chat(body)
            else:
                self._json(404, error_body(404, "File Not Found"))

        def _chat(self, body: dict[str, Any]) -> None:
            problem = check_chat(fake, body)
            if problem:
                return self._json(*problem)
            try:
                reply = fake._next_reply(body)
            except Exception as exc:
                return self._json(500, error_body(500, f"fake responder failed: {exc!r}"))
            if reply.get("hang"):
                fake._stopping.wait(reply["hang"])
            if "raw" in reply:
                content_type = reply.get("content_type", "text/event-stream")
                return self._send(reply.get("status", 200), reply["raw"], content_type)
            if "status" in reply or "error" in reply:
                status = reply.get("status", 500)
                return self._json(status, error_body(status, reply.get("error", "fault")))
            if fake.ignore_tools:
                reply = as_text_calls(reply)
            pieces = deltas(fake, reply)
            if reply.get("close") and not pieces:
                self.close_connection = True
                return None
            finish = reply.get("finish_reason") or (
                "tool_calls" if reply.get("tool_calls") else "stop"
            )
            usage = usage_of(reply, body)
            base = {
                "id": new_id("chatcmpl-", 12),
                "created": int(time.time()),
                "model": body["model"],
            }
            extra = {} if reply.get("usage") is False else {"usage": usage}
            if fake.llama_cpp:
                extra["timings"] = timings_of(usage)
            if not (body.get("stream") and fake.can_stream):
                if reply.get("mid_stream_error"):
                    return self._json(500, error_body(500, reply["mid_stream_error"]))
                choice = {"index": 0, "message": whole_message(pieces), "finish_reason": finish}
                obj = {**base, "object": "chat.completion", "choices": [choice], **extra}
                return self._json(200, obj)
            self._begin_stream("text/event-stream", ("Cache-Control", "no-cache"))
            include_usage = (body.get("stream_options") or {}).get("include_usage")
            chunk = {**base, "object": "chat.completion.chunk"}
            if include_usage:
                chunk["usage"] = None  # as OpenAI: null on every chunk but the last
            self._chunk(b": ping\n\n")  # SSE comment, as proxies and some servers send

            def event(delta: dict[str, Any], finish_reason: str | None = None, **more: Any) -> None:
                choice = {
                    "index": 0,
                    "delta": delta,
                    "logprobs": None,
                    "finish_reason": finish_reason,
                }
                self._event({**chunk, "choices": [choice], **more})

            event({"role": "assistant", "content": None})
            if not self._stream(fake, reply, pieces, event):
                return None
            if reply.get("mid_stream_error"):
                self._event(error_body(500, reply["mid_stream_error"]))
                return self._end()
            if include_usage and "usage" in extra:
                event({}, finish)
                self._event({**chunk, "choices": [], **extra})
            else:
                event({}, finish, **({"timings": extra["timings"]} if "timings" in extra else {}))
            self._chunk(b"data: [DONE]\n\n")
            return self._end()

        def _event(self, obj: dict[str, Any]) -> None:
            self._chunk(f"data: {json.dumps(obj, ensure_ascii=False)}\n\n".encode())

    return Handler
