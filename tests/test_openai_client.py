"""OpenAIClient against the fake OpenAI-compatible server on loopback."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from fakes import FakeOpenAI, free_port
from harness import ask, opened
from mini_coding_agent.models.base import (
    ContextOverflow,
    GenerationOptions,
    ModelError,
    ModelNotFound,
    ModelTimeout,
    ModelUnavailable,
    ToolsUnsupported,
)
from mini_coding_agent.models.openai import OpenAIClient

MODEL = "local-model"
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "read_file",
            "description": "Read a file.",
            "parameters": {"type": "object", "properties": {"path": {"type": "string"}}},
        },
    }
]
SCHEMA = {"type": "object", "properties": {"tool": {"type": "string"}}}


@pytest.fixture
def fake():
    with FakeOpenAI() as server:
        yield server


def client_for(url: str, model: str = MODEL, **kwargs) -> OpenAIClient:
    kwargs.setdefault("backoff", 0.01)
    return opened(OpenAIClient(model, url, GenerationOptions(max_new_tokens=256), **kwargs))


def test_streams_thinking_then_content_deltas_in_order(fake):
    fake.script({"thinking": "Let me think.", "content": "Hello there, world."})
    deltas = []
    reply = ask(client_for(fake.url), on_delta=lambda kind, text: deltas.append((kind, text)))

    kinds = [kind for kind, _ in deltas]
    assert kinds == sorted(kinds, key=lambda k: k != "thinking")
    assert kinds.count("content") > 1
    assert "".join(t for k, t in deltas if k == "thinking") == "Let me think."
    assert "".join(t for k, t in deltas if k == "content") == "Hello there, world."
    assert (reply.content, reply.thinking) == ("Hello there, world.", "Let me think.")
    assert reply.finish_reason == "stop"
    assert reply.tool_calls == []


def test_ollama_v1_reasoning_field_is_thinking():
    with FakeOpenAI(reasoning_field="reasoning") as server:
        server.script({"thinking": "hmm", "content": "ok"})
        reply = ask(client_for(server.url))
    assert (reply.thinking, reply.content) == ("hmm", "ok")


def test_request_body_and_trailing_slash(fake):
    client = client_for(fake.url + "/")
    ask(client)
    ask(client, tools=TOOLS)

    first, second = fake.chat_requests
    assert fake.requests[0][0] == "/v1/chat/completions"
    assert first["model"] == MODEL
    assert first["stream"] is True
    assert first["stream_options"] == {"include_usage": True}
    assert (first["max_tokens"], first["temperature"], first["top_p"]) == (256, 0.2, 0.9)
    assert not {"tools", "response_format", "num_ctx", "options"} & first.keys()
    assert second["tools"] == TOOLS


def test_parallel_tool_calls_assembled_by_index(fake):
    fake.script(
        {
            "tool_calls": [
                {"name": "read_file", "arguments": {"path": "src/a_long_name.py"}},
                {"name": "search", "arguments": {"pattern": "def main", "path": "."}},
            ],
            "interleave": True,
        }
    )
    reply = ask(client_for(fake.url), tools=TOOLS)

    assert [(c.name, c.args) for c in reply.tool_calls] == [
        ("read_file", {"path": "src/a_long_name.py"}),
        ("search", {"pattern": "def main", "path": "."}),
    ]
    assert all(c.id.startswith("call_") for c in reply.tool_calls)
    assert reply.tool_calls[0].id != reply.tool_calls[1].id
    assert reply.finish_reason == "tool_calls"


def test_argument_strings_valid_repaired_and_hopeless(fake):
    fake.script(
        {
            "tool_calls": [
                {"name": "a", "arguments": '{"path": "a.py"}', "id": "call_given"},
                {"name": "b", "arguments": "{'path': 'b.py', 'n': True,}"},
                {"name": "c", "arguments": "path = c.py"},
                {"name": "d", "arguments": ""},
            ]
        }
    )
    calls = ask(client_for(fake.url), tools=TOOLS).tool_calls
    assert [(c.name, c.args) for c in calls] == [
        ("a", {"path": "a.py"}),
        ("b", {"path": "b.py", "n": True}),
        ("c", {"_raw": "path = c.py"}),
        ("d", {}),
    ]
    assert calls[0].id == "call_given"


def test_usage_with_cached_tokens(fake):
    fake.script(
        {"content": "x", "prompt_tokens": 1200, "completion_tokens": 9, "cached_tokens": 1000}
    )
    usage = ask(client_for(fake.url)).usage
    assert (usage.prompt_tokens, usage.completion_tokens, usage.cached_tokens) == (1200, 9, 1000)
    assert usage.seconds is not None


def test_llama_cpp_timings_fill_usage_when_usage_is_absent():
    with FakeOpenAI(llama_cpp=True) as server:
        server.script(
            {
                "content": "x",
                "usage": False,
                "prompt_tokens": 300,
                "completion_tokens": 20,
                "cached_tokens": 200,
            }
        )
        usage = ask(client_for(server.url)).usage
    assert (usage.prompt_tokens, usage.completion_tokens, usage.cached_tokens) == (300, 20, 200)
    assert usage.seconds == pytest.approx((100 * 0.5 + 20 * 20.0) / 1000)


def test_messages_translated_to_openai_wire_shape(fake):
    messages = [
        {"role": "system", "content": "sys"},
        {"role": "user", "content": "read two files"},
        {
            "role": "assistant",
            "content": "",
            "thinking": "secret reasoning",
            "tool_calls": [
                {"id": "call_1", "name": "read_file", "args": {"path": "a.py"}},
                {"id": None, "name": "read_file", "args": {"path": "b.py"}},
            ],
        },
        {"role": "tool", "content": "print(1)", "name": "read_file", "tool_call_id": "call_1"},
        {"role": "tool", "content": "print(2)", "name": "read_file", "tool_call_id": None},
        {"role": "assistant", "content": "Both read.", "thinking": "more secrets"},
    ]
    client_for(fake.url).chat(messages, tools=TOOLS)  # the fake 400s on a malformed history

    sent = fake.chat_requests[0]["messages"]
    assert sent[:2] == messages[:2]
    assert sent[2] == {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "read_file", "arguments": '{"path": "a.py"}'},
            },
            {
                "id": "call_2_1",
                "type": "function",
                "function": {"name": "read_file", "arguments": '{"path": "b.py"}'},
            },
        ],
    }
    assert sent[3] == {"role": "tool", "tool_call_id": "call_1", "content": "print(1)"}
    assert sent[4] == {"role": "tool", "tool_call_id": "call_2_1", "content": "print(2)"}
    assert sent[5] == {"role": "assistant", "content": "Both read."}
    assert "secret" not in json.dumps(sent)


def test_auth_header_only_with_a_key():
    with FakeOpenAI(require_key="sk-test") as server:
        assert ask(client_for(server.url, api_key="sk-test")).content == "done."
        with pytest.raises(ModelError) as caught:
            ask(client_for(server.url))
        with pytest.raises(ModelError, match="rejected the API key") as wrong:
            client_for(server.url, api_key="sk-wrong").info()
        headers = server.headers
    assert headers[0]["authorization"] == "Bearer sk-test"
    assert "authorization" not in headers[1]
    message = str(caught.value)
    assert "401" in message
    assert "set OPENAI_API_KEY or --api-key-env" in message
    assert "\n" not in message
    assert "set OPENAI_API_KEY" in str(wrong.value)
    assert len(headers) == 3  # 401s are not retried


def test_json_schema_downgraded_to_json_object_and_remembered():
    with FakeOpenAI(reject_json_schema=True) as server:
        client = client_for(server.url)
        assert ask(client, response_format=SCHEMA).content == "done."
        assert ask(client, response_format=SCHEMA).content == "done."
        formats = [body.get("response_format") for body in server.chat_requests]
    assert formats == [
        {
            "type": "json_schema",
            "json_schema": {"name": "action", "schema": SCHEMA, "strict": False},
        },
        {"type": "json_object", "schema": SCHEMA},
        {"type": "json_object", "schema": SCHEMA},
    ]


def test_json_schema_refused_with_a_500_is_downgraded_not_retried(fake):
    # llama-cpp-python's server answers an unknown response_format type with a 500.
    fake.script(
        {
            "status": 500,
            "error": "1 validation error: ('body', 'response_format', 'type') Input should be "
            "'text' or 'json_object', input: 'json_schema'",
        }
    )
    client = client_for(fake.url)
    assert ask(client, response_format=SCHEMA).content == "done."
    types = [body["response_format"]["type"] for body in fake.chat_requests]
    assert types == ["json_schema", "json_object"]


def test_response_format_dropped_when_every_form_is_rejected(fake):
    rejected = {"status": 400, "error": "response_format is not supported"}
    fake.script(rejected, rejected)
    client = client_for(fake.url)
    assert ask(client, response_format=SCHEMA).content == "done."
    ask(client, response_format=SCHEMA)
    assert [body.get("response_format", {}).get("type") for body in fake.chat_requests] == [
        "json_schema",
        "json_object",
        None,
        None,
    ]


def test_rejected_tools_raise_tools_unsupported():
    with FakeOpenAI(reject_tools=True) as server:
        with pytest.raises(ToolsUnsupported, match="tools are not supported"):
            ask(client_for(server.url), tools=TOOLS)
        assert ask(client_for(server.url)).content == "done."


def test_ignored_tools_come_back_as_text():
    with FakeOpenAI(ignore_tools=True) as server:
        server.script({"tool_calls": [{"name": "read_file", "arguments": {"path": "a.py"}}]})
        reply = ask(client_for(server.url), tools=TOOLS)
    assert reply.tool_calls == []
    assert '<tool_call>{"name": "read_file", "arguments": {"path": "a.py"}}' in reply.content


def test_server_that_does_not_stream():
    with FakeOpenAI(can_stream=False, llama_cpp=True) as server:
        server.script(
            {
                "thinking": "hmm",
                "content": "Reading.",
                "tool_calls": [{"name": "read_file", "arguments": {"path": "a.py"}}],
                "cached_tokens": 3,
            }
        )
        deltas = []
        reply = ask(client_for(server.url), tools=TOOLS, on_delta=lambda *d: deltas.append(d))
    assert (reply.content, reply.thinking) == ("Reading.", "hmm")
    assert [(c.name, c.args) for c in reply.tool_calls] == [("read_file", {"path": "a.py"})]
    assert reply.finish_reason == "tool_calls"
    assert reply.usage.cached_tokens == 3
    assert deltas == [("thinking", "hmm"), ("content", "Reading.")]


def test_server_error_retried_then_succeeds(fake):
    fake.script({"status": 500, "error": "slot unavailable"})
    assert ask(client_for(fake.url, retries=2)).content == "done."
    assert len(fake.chat_requests) == 2


def test_server_error_reported_after_retries(fake):
    fake.script(*[{"status": 503, "error": "Loading model"}] * 3)
    with pytest.raises(ModelError) as caught:
        ask(client_for(fake.url, retries=2))
    assert str(caught.value) == "server error (503): Loading model"
    assert len(fake.chat_requests) == 3


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ('{"error": "plain string error"}', "server error (400): plain string error"),
        ("Bad Gateway\n<html>nginx</html>", "server error (400): Bad Gateway <html>nginx</html>"),
    ],
)
def test_other_error_shapes_are_one_line(fake, raw, expected):
    fake.script({"raw": raw, "status": 400, "content_type": "text/plain"})
    with pytest.raises(ModelError) as caught:
        ask(client_for(fake.url))
    assert str(caught.value) == expected


def test_mid_stream_error_keeps_partial_and_is_not_retried(fake):
    fake.script({"content": "partial answer", "mid_stream_error": "out of memory"})
    with pytest.raises(ModelError, match="out of memory") as caught:
        ask(client_for(fake.url))
    assert caught.value.partial.content == "partial answer"
    assert len(fake.chat_requests) == 1


def test_close_mid_reply_keeps_partial(fake):
    fake.script({"content": "half an ans", "close": True})
    with pytest.raises(ModelError) as caught:
        ask(client_for(fake.url))
    assert caught.value.partial.content == "half an ans"
    assert len(fake.chat_requests) == 1


def test_close_without_reply_is_retried(fake):
    fake.script({"close": True})
    assert ask(client_for(fake.url, retries=1)).content == "done."
    assert len(fake.chat_requests) == 2


def test_connection_refused_names_the_url():
    url = f"http://127.0.0.1:{free_port()}/v1"
    for call in ("chat", "info"):
        client = client_for(url, retries=1)
        with pytest.raises(ModelUnavailable) as caught:
            ask(client) if call == "chat" else client.info()
        message = str(caught.value)
        assert url in message
        assert "is the server running?" in message
        assert "\n" not in message


def test_hang_beyond_timeout(fake):
    fake.script({"hang": 5, "content": "too late"})
    started = time.monotonic()
    with pytest.raises(ModelTimeout, match=r"no reply from the server at .*/v1 within 1 s"):
        ask(client_for(fake.url, timeout=1.0))
    assert time.monotonic() - started < 3


def test_context_overflow():
    with FakeOpenAI(n_ctx=50) as server, pytest.raises(ContextOverflow) as caught:
        ask(client_for(server.url), "word " * 100)
    assert "n_prompt_tokens 125" in str(caught.value)
    assert "n_ctx 50" in str(caught.value)
    assert len(server.chat_requests) == 1


def test_openai_style_context_error_without_sizes(fake):
    error = {
        "message": "This model's maximum context length is 8192 tokens. However, your "
        "messages resulted in 9000 tokens.",
        "code": "context_length_exceeded",
    }
    fake.script({"status": 400, "error": error})
    with pytest.raises(ContextOverflow, match="maximum context length is 8192"):
        ask(client_for(fake.url))


def test_unknown_model_on_strict_server():
    with FakeOpenAI(strict_model=True) as server:
        with pytest.raises(ModelNotFound, match="'gpt-9'"):
            ask(client_for(server.url, model="gpt-9"))
        assert client_for(server.url, model="gpt-9").info().name == "gpt-9"


def test_info_reads_models_once(fake):
    client = client_for(fake.url)
    info = client.info()
    assert client.info() is info
    assert (info.name, info.context_length) == (MODEL, 32768)
    assert info.supports_tools
    assert [path for path, _ in fake.requests] == ["/v1/models"]


@pytest.mark.parametrize(
    ("spec", "llama_cpp"),
    [({"context_length": 4096}, True), ({"max_model_len": 4096}, False)],
)
def test_info_context_from_llama_cpp_and_vllm_fields(spec, llama_cpp):
    with FakeOpenAI({"served": spec}, llama_cpp=llama_cpp) as server:
        assert client_for(server.url, model="any-name").info().context_length == 4096


def test_info_prefers_llama_cpp_running_context_from_props():
    with FakeOpenAI({"m": {"context_length": 131072}}, llama_cpp=True, n_ctx=8192) as server:
        assert client_for(server.url, model="m").info().context_length == 8192
        assert [path for path, _ in server.requests] == ["/v1/models", "/props"]


def test_info_defaults_when_models_is_missing_or_lists_others():
    with FakeOpenAI(serve_models=False) as server:
        info = client_for(server.url).info()
    assert (info.context_length, info.capabilities) == (None, ("completion", "tools"))
    with FakeOpenAI({"a": {"context_length": 1}, "b": {}}) as server:
        assert client_for(server.url, model="c").info().context_length is None


def test_fake_non_stream_request_and_validation(fake):
    fake.script({"content": "Hi!", "tool_calls": [{"name": "f", "arguments": {"x": 1}}]})
    body = {"model": MODEL, "messages": [{"role": "user", "content": "x" * 400}]}
    reply = httpx.post(fake.url + "/chat/completions", json=body).json()
    assert reply["object"] == "chat.completion"
    message = reply["choices"][0]["message"]
    assert message["content"] == "Hi!"
    assert message["tool_calls"][0]["function"] == {"name": "f", "arguments": '{"x": 1}'}
    assert reply["usage"]["prompt_tokens"] == 100

    bad = {"role": "assistant", "tool_calls": [{"id": "c", "function": {"arguments": {}}}]}
    response = httpx.post(fake.url + "/chat/completions", json={**body, "messages": [bad]})
    assert response.status_code == 400
    assert "expected a string" in response.json()["error"]["message"]
