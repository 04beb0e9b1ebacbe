"""OllamaClient against the fake Ollama server on loopback."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from fakes import FakeOllama, free_port
from harness import ask, opened
from mini_coding_agent.models.base import (
    GenerationOptions,
    ModelError,
    ModelNotFound,
    ModelTimeout,
    ModelUnavailable,
    ToolsUnsupported,
)
from mini_coding_agent.models.ollama import OllamaClient

MODEL = "qwen3.5:4b"
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


@pytest.fixture
def fake():
    with FakeOllama() as server:
        yield server


def client_for(url: str, model: str = MODEL, **kwargs) -> OllamaClient:
    kwargs.setdefault("backoff", 0.01)
    return opened(OllamaClient(model, url, GenerationOptions(num_ctx=8192), **kwargs))


def test_streams_thinking_then_content_deltas_and_usage(fake):
    fake.script(
        {
            "thinking": "Let me think.",
            "content": "Hello there, world.",
            "prompt_eval_count": 42,
            "eval_count": 7,
            "total_duration": 1_500_000_000,
        }
    )
    deltas = []
    reply = ask(client_for(fake.url), on_delta=lambda kind, text: deltas.append((kind, text)))

    kinds = [kind for kind, _ in deltas]
    assert kinds == sorted(kinds, key=lambda k: k != "thinking")
    assert kinds.count("content") > 1
    assert "".join(t for k, t in deltas if k == "thinking") == "Let me think."
    assert "".join(t for k, t in deltas if k == "content") == "Hello there, world."
    assert (reply.content, reply.thinking) == ("Hello there, world.", "Let me think.")
    assert reply.finish_reason == "stop"
    assert reply.usage.prompt_tokens == 42
    assert reply.usage.completion_tokens == 7
    assert reply.usage.seconds == pytest.approx(1.5)


def test_missing_metrics_are_none(fake):
    fake.script({"content": "x", "prompt_eval_count": 0, "eval_count": 0, "total_duration": 0})
    usage = ask(client_for(fake.url)).usage
    assert (usage.prompt_tokens, usage.completion_tokens, usage.seconds) == (None, None, None)


def test_tool_calls_parsed_with_ids_and_tolerant_arguments(fake):
    fake.script(
        {
            "tool_calls": [
                {"name": "read_file", "arguments": {"path": "a.py"}},
                {"name": "read_file", "arguments": '{"path": "b.py"}', "id": "call_given"},
                {"name": "list_files", "arguments": "{not json"},
            ]
        }
    )
    reply = ask(client_for(fake.url), tools=TOOLS)

    assert [(c.name, c.args) for c in reply.tool_calls] == [
        ("read_file", {"path": "a.py"}),
        ("read_file", {"path": "b.py"}),
        ("list_files", {}),
    ]
    assert reply.tool_calls[0].id.startswith("call_")
    assert reply.tool_calls[1].id == "call_given"
    assert fake.chat_requests[0]["tools"] == TOOLS


def test_every_request_carries_options_and_optional_fields_only_when_set(fake):
    client = client_for(fake.url)
    ask(client)
    ask(client, tools=TOOLS, response_format={"type": "object"})
    client_for(fake.url, think=False).chat([{"role": "user", "content": "x"}])

    first, second, third = fake.chat_requests
    for body in (first, second, third):
        assert body["stream"] is True
        assert body["options"] == {
            "num_ctx": 8192,
            "num_predict": 512,
            "temperature": 0.2,
            "top_p": 0.9,
        }
    assert not {"tools", "format", "think"} & first.keys()
    assert second["format"] == {"type": "object"}
    assert third["think"] is False


def test_messages_translated_to_ollama_wire_shape(fake):
    messages = [
        {"role": "system", "content": "sys"},
        {"role": "user", "content": "read a.py"},
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
    ]
    client_for(fake.url).chat(messages, tools=TOOLS)

    sent = fake.chat_requests[0]["messages"]
    assert sent[:2] == messages[:2]
    assert sent[2] == {
        "role": "assistant",
        "content": "",
        "tool_calls": [
            {"id": "call_1", "function": {"name": "read_file", "arguments": {"path": "a.py"}}},
            {"function": {"name": "read_file", "arguments": {"path": "b.py"}}},
        ],
    }
    assert sent[3] == {
        "role": "tool",
        "content": "print(1)",
        "tool_name": "read_file",
        "tool_call_id": "call_1",
    }
    assert sent[4] == {"role": "tool", "content": "print(2)", "tool_name": "read_file"}
    assert "thinking" not in json.dumps(sent)


def test_info_reads_api_show_once(fake):
    client = client_for(fake.url)
    info = client.info()
    assert client.info() is info
    assert info.name == MODEL
    assert info.context_length == 262144
    assert info.supports_tools
    assert "thinking" in info.capabilities
    assert [path for path, _ in fake.requests] == ["/api/show"]


@pytest.mark.parametrize("call", ["chat", "info"])
def test_unknown_model_says_ollama_pull(fake, call):
    client = client_for(fake.url, model="nope:1b")
    with pytest.raises(ModelNotFound, match=r"`ollama pull nope:1b`"):
        ask(client) if call == "chat" else client.info()


def test_tools_to_model_without_tools_capability(fake):
    with pytest.raises(ToolsUnsupported):
        ask(client_for(fake.url, model="gemma3:4b"), tools=TOOLS)
    assert not client_for(fake.url, model="gemma3:4b").info().supports_tools


def test_server_error_retried_then_succeeds(fake):
    fake.script({"status": 500, "error": "llama runner process has terminated"})
    reply = ask(client_for(fake.url, retries=2))
    assert reply.content == "done."
    assert len(fake.chat_requests) == 2


def test_server_error_reported_after_retries(fake):
    fake.script(*[{"status": 503, "error": "server busy"}] * 3)
    with pytest.raises(ModelError) as caught:
        ask(client_for(fake.url, retries=2))
    assert str(caught.value) == "Ollama error (503): server busy"
    assert len(fake.chat_requests) == 3


def test_client_errors_not_retried(fake):
    fake.script({"status": 400, "error": "invalid options"})
    with pytest.raises(ModelError, match=r"Ollama error \(400\): invalid options"):
        ask(client_for(fake.url))
    assert len(fake.chat_requests) == 1


def test_mid_stream_error_keeps_partial_and_is_not_retried(fake):
    fake.script({"content": "partial answer", "mid_stream_error": "out of memory"})
    with pytest.raises(ModelError, match="out of memory") as caught:
        ask(client_for(fake.url))
    assert caught.value.partial.content == "partial answer"
    assert len(fake.chat_requests) == 1


def test_connection_refused_names_host_and_ollama_serve():
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(ModelUnavailable) as caught:
        ask(client_for(url, retries=1))
    message = str(caught.value)
    assert url in message
    assert "`ollama serve`" in message
    assert "\n" not in message


def test_hang_beyond_timeout(fake):
    fake.script({"hang": 5, "content": "too late"})
    started = time.monotonic()
    with pytest.raises(ModelTimeout, match=r"no reply from Ollama at .* within 1 s"):
        ask(client_for(fake.url, timeout=1.0))
    assert time.monotonic() - started < 3


def test_close_without_reply_is_retried(fake):
    fake.script({"close": True})
    assert ask(client_for(fake.url, retries=1)).content == "done."
    assert len(fake.chat_requests) == 2


def test_close_without_reply_reported_when_retries_run_out(fake):
    fake.script({"close": True}, {"close": True})
    with pytest.raises(ModelUnavailable, match="closed the connection"):
        ask(client_for(fake.url, retries=1))


def test_close_mid_reply_keeps_partial_and_is_not_retried(fake):
    fake.script({"content": "half an ans", "close": True})
    with pytest.raises(ModelError, match="mid-reply") as caught:
        ask(client_for(fake.url))
    assert caught.value.partial.content == "half an ans"
    assert len(fake.chat_requests) == 1


def test_non_json_line_is_a_bad_reply(fake):
    fake.script({"raw": "<html>proxy error</html>\n"})
    with pytest.raises(ModelError, match="bad reply from server"):
        ask(client_for(fake.url))


def test_fake_non_stream_and_plain_endpoints(fake):
    fake.script(
        {"thinking": "hmm", "content": "Hi!", "tool_calls": [{"name": "f", "arguments": {}}]}
    )
    body = {"model": MODEL, "messages": [{"role": "user", "content": "x" * 400}], "stream": False}
    reply = httpx.post(fake.url + "/api/chat", json=body).json()
    assert reply["done"] is True
    assert reply["message"]["content"] == "Hi!"
    assert reply["message"]["thinking"] == "hmm"
    assert reply["message"]["tool_calls"][0]["function"]["name"] == "f"
    assert reply["prompt_eval_count"] == 100

    assert httpx.get(fake.url + "/").text == "Ollama is running"
    assert httpx.get(fake.url + "/api/version").json() == {"version": "0.12.6"}
    tags = httpx.get(fake.url + "/api/tags").json()["models"]
    assert {m["name"] for m in tags} == {"qwen3.5:4b", "gemma3:4b"}


def test_fake_rejects_string_arguments_like_ollama(fake):
    message = {
        "role": "assistant",
        "content": "",
        "tool_calls": [{"function": {"name": "f", "arguments": "{}"}}],
    }
    body = {"model": MODEL, "messages": [message]}
    response = httpx.post(fake.url + "/api/chat", json=body)
    assert response.status_code == 400
    assert "cannot unmarshal string" in response.json()["error"]


def test_fake_responder_sees_the_request():
    def echo(request):
        return {"content": request["messages"][-1]["content"].upper()}

    with FakeOllama(responder=echo) as server:
        assert ask(client_for(server.url), "shout").content == "SHOUT"
