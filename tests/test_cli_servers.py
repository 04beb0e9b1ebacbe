"""The CLI against Ollama and OpenAI-compatible servers, faults included."""

import json
import sys
from pathlib import Path

import pytest

from fakes import FakeOllama, FakeOpenAI, free_port
from fakes.scenarios import binary_search_session
from harness import cli, one_error_line

PROVIDERS = {
    "ollama": (FakeOllama, ["--model", "qwen3.5:4b"]),
    "openai": (FakeOpenAI, ["--provider", "openai", "--model", "local-model"]),
}


@pytest.fixture(params=list(PROVIDERS))
def server(request):
    """(fake server, the CLI flags that point at it) for each provider."""
    fake_class, flags = PROVIDERS[request.param]
    with fake_class() as fake:
        yield fake, [*flags, "--host", fake.url]


def test_binary_search_session_over_openai_native_calls(repo: Path):
    with FakeOpenAI() as fake:
        flags = ["--provider", "openai", "--model", "local-model", "--host", fake.url]
        for turn, (request, replies) in enumerate(binary_search_session(True, sys.executable)):
            fake.script(*replies)
            resume = ["--resume", "latest"] if turn else []
            done = cli(repo, *flags, "--approval", "auto", *resume, request)
            assert done.returncode == 0, done.stderr
            assert done.stdout.strip() == replies[-1]["content"]
        last = fake.chat_requests[-1]
        assert last["tools"] and last["stream"] is True
        tool_messages = [m for m in last["messages"] if m["role"] == "tool"]
        assert all(m["tool_call_id"] for m in tool_messages)
        assert "4 passed" in json.dumps(last["messages"])
    assert "raise ValueError" in (repo / "binary_search.py").read_text()


def test_server_that_ignores_tools_still_works(repo: Path):
    with FakeOpenAI(ignore_tools=True) as fake:
        fake.script(
            {"tool_calls": [{"name": "read_file", "arguments": {"path": "app.py"}}]},
            {"content": "It adds."},
        )
        flags = ["--provider", "openai", "--model", "m", "--host", fake.url]
        done = cli(repo, *flags, "what does app.py do?")
        assert done.returncode == 0, done.stderr
        assert done.stdout == "It adds.\n"
        assert "return a + b" in json.dumps(fake.chat_requests[-1]["messages"])


def test_json_mode_on_a_server_without_json_schema(repo: Path):
    with FakeOpenAI(reject_json_schema=True) as fake:
        fake.script({"content": '{"final": "constrained"}'})
        flags = ["--provider", "openai", "--model", "m", "--host", fake.url]
        done = cli(repo, *flags, "--tool-mode", "json", "hi")
        assert done.returncode == 0, done.stderr
        assert done.stdout == "constrained\n"
        assert fake.chat_requests[-1]["response_format"]["type"] == "json_object"


def test_api_key_comes_from_the_named_variable(repo: Path, monkeypatch):
    monkeypatch.setenv("MY_KEY", "sk-test")
    with FakeOpenAI(require_key="sk-test") as fake:
        flags = ["--provider", "openai", "--model", "m", "--host", fake.url]
        refused = cli(repo, *flags, "hi")
        assert refused.returncode == 1 and "OPENAI_API_KEY" in one_error_line(refused)
        done = cli(repo, *flags, "--api-key-env", "MY_KEY", "hi")
        assert done.returncode == 0, done.stderr


def test_server_down(repo: Path, server):
    _fake, flags = server
    done = cli(repo, *flags[:-1], f"http://127.0.0.1:{free_port()}", "hi")
    assert done.returncode == 1
    line = one_error_line(done)
    assert "cannot connect" in line and ("ollama serve" in line or "running" in line)


def test_a_single_500_is_retried(repo: Path, server):
    fake, flags = server
    fake.script({"status": 500, "error": "runner crashed"}, {"content": "recovered"})
    done = cli(repo, *flags, "hi")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "recovered\n"


@pytest.mark.parametrize(
    ("fault", "tries", "says"),
    [
        ({"status": 500, "error": "out of memory"}, 3, "out of memory"),
        ({"content": "half an ans", "mid_stream_error": "runner died"}, 1, "runner died"),
        ({"close": True}, 3, "closed the connection"),
        ({"content": "half", "close": True}, 1, "closed the connection"),
        ({"hang": 3, "content": "late"}, 1, "within 2 s"),
    ],
    ids=["500-always", "mid-stream", "hang-up", "hang-up-mid-reply", "too-slow"],
)
def test_faults_are_one_line_and_the_session_resumes(repo: Path, server, fault, tries, says):
    """A fault before any output is retried (twice); one after output started is not."""
    fake, flags = server
    fake.script(*[fault] * tries)
    done = cli(repo, *flags, "--ollama-timeout", "2", "hi")
    assert done.returncode == 1
    assert says in one_error_line(done)
    assert fake.pending == 0
    if fault.get("content") and "hang" not in fault:
        assert f"what arrived before that:\n{fault['content']}" in done.stderr
    fake.script({"content": "back"})
    again = cli(repo, *flags, "--resume", "latest", "hi again")
    assert again.returncode == 0, again.stderr
    assert again.stdout == "back\n"


def test_shell_commands_do_not_see_the_api_key(repo: Path, monkeypatch):
    monkeypatch.setenv("MY_KEY", "sk-secret")
    with FakeOpenAI(require_key="sk-secret") as fake:
        fake.script(
            {
                "tool_calls": [
                    {"name": "run_shell", "arguments": {"command": "echo key=${MY_KEY:-none}"}}
                ]
            },
            {"content": "checked"},
        )
        flags = ["--provider", "openai", "--model", "m", "--host", fake.url]
        done = cli(repo, *flags, "--api-key-env", "MY_KEY", "--approval", "auto", "check")
        assert done.returncode == 0, done.stderr
        result = fake.chat_requests[-1]["messages"][-1]["content"]
        assert "key=none" in result and "sk-secret" not in json.dumps(fake.chat_requests)
