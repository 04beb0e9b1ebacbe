"""The command line, run as a subprocess against the fake Ollama server, as a user would."""

import itertools
import json
import subprocess
import sys
from pathlib import Path

import pytest

from fakes import FakeOllama, free_port
from fakes.scenarios import BINARY_SEARCH, SORTED_CHECK_NEW, TESTS, binary_search_session
from harness import cli, one_error_line


def test_help_and_version(repo: Path):
    done = cli(repo, "--help")
    assert done.returncode == 0
    for flag in (
        "--cwd",
        "--model",
        "--host",
        "--ollama-timeout",
        "--resume",
        "--approval",
        "--max-steps",
        "--max-new-tokens",
        "--temperature",
        "--top-p",
        "--tool-mode",
        "--provider",
        "--num-ctx",
        "--version",
    ):
        assert flag in done.stdout
    assert "qwen3.5:4b" in done.stdout
    version = cli(repo, "--version")
    assert version.returncode == 0 and version.stdout.startswith("mini-coding-agent ")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--approval", "sometimes"], "invalid choice"),
        (["--max-steps", "0"], "at least 1"),
        (["--temperature", "hot"], "expected a number"),
        (["--think", "maybe"], "invalid choice"),
    ],
)
def test_usage_errors_exit_2(repo: Path, args, message):
    done = cli(repo, *args, "hello")
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr


def test_missing_workspace_and_session_are_usage_errors(repo: Path, ollama):
    done = cli(repo / "nope", "hello", host=ollama.url)
    assert done.returncode == 2 and "does not exist" in one_error_line(done)
    done = cli(repo, "--resume", "20990101-000000-abcdef", "hello", host=ollama.url)
    assert done.returncode == 2 and "no session" in one_error_line(done)


def test_server_down_names_host_and_ollama_serve(repo: Path):
    host = f"http://127.0.0.1:{free_port()}"
    done = cli(repo, "hello", host=host)
    assert done.returncode == 1
    line = one_error_line(done)
    assert host in line and "ollama serve" in line


def test_missing_model_says_ollama_pull(repo: Path, ollama):
    done = cli(repo, "--model", "llama9:70b", "hello", host=ollama.url)
    assert done.returncode == 1
    assert "ollama pull llama9:70b" in one_error_line(done)


def test_timeout_is_one_line(repo: Path, ollama):
    ollama.script({"hang": 5, "content": "late"})
    done = cli(repo, "--ollama-timeout", "1", "hello", host=ollama.url)
    assert done.returncode == 1
    assert "within 1" in one_error_line(done)


def test_one_shot_prints_only_the_answer_on_stdout(repo: Path, ollama):
    ollama.script(
        {"tool_calls": [{"name": "read_file", "arguments": {"path": "app.py"}}]},
        {"content": "app.py defines add(a, b)."},
    )
    done = cli(repo, "what is in app.py?", host=ollama.url)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "app.py defines add(a, b).\n"
    assert "read_file app.py" in done.stderr
    first = ollama.chat_requests[0]
    assert first["stream"] is True
    assert first["options"]["num_ctx"] == 16384
    assert first["options"]["num_predict"] == 512
    assert first["options"]["temperature"] == 0.2 and first["options"]["top_p"] == 0.9
    assert "Workspace:" in first["messages"][0]["content"]
    assert "A demo project." in first["messages"][0]["content"]
    assert all(r["options"]["num_ctx"] == 16384 for r in ollama.chat_requests)
    sessions = list((repo / ".mini-coding-agent" / "sessions").glob("*.jsonl"))
    assert len(sessions) == 1
    status = subprocess.run(["git", "status", "--short"], cwd=repo, capture_output=True, text=True)
    assert status.stdout == "", "the session folder must not show in git status"


def test_num_ctx_is_capped_at_the_model_maximum(repo: Path):
    models = {"small:1b": {"capabilities": ["completion", "tools"], "context_length": 8192}}
    with FakeOllama(models) as server:
        done = cli(repo, "--model", "small:1b", "--num-ctx", "32768", "hi", host=server.url)
        assert done.returncode == 0, done.stderr
        assert server.chat_requests[0]["options"]["num_ctx"] == 8192


@pytest.mark.parametrize("model", ["qwen3.5:4b", "gemma3:4b"], ids=["native", "text"])
def test_binary_search_session_turn_by_turn(repo: Path, ollama, model):
    native = model == "qwen3.5:4b"
    for turn, (request, replies) in enumerate(binary_search_session(native, sys.executable)):
        ollama.script(*replies)
        resume = ["--resume", "latest"] if turn else []
        done = cli(repo, "--model", model, "--approval", "auto", *resume, request, host=ollama.url)
        assert done.returncode == 0, done.stderr
        assert ollama.pending == 0
        assert done.stdout.strip() == (
            replies[-1]["content"].removeprefix("<final>").removesuffix("</final>")
        )

    expected = BINARY_SEARCH.replace("    lo, hi = 0, len(nums) - 1\n", SORTED_CHECK_NEW)
    assert (repo / "binary_search.py").read_text() == expected
    assert (repo / "test_binary_search.py").read_text() == TESTS
    last = ollama.chat_requests[-1]
    assert ("tools" in last) == native
    assert "4 passed" in json.dumps(last["messages"])
    sessions = list((repo / ".mini-coding-agent" / "sessions").glob("*.jsonl"))
    assert len(sessions) == 1, "every turn continued the same session"
    requests = [r["messages"] for r in ollama.chat_requests]
    for before, after in itertools.pairwise(requests):
        assert after[: len(before)] == before, "each request extends the previous one"


@pytest.mark.parametrize("approval", ["never", "ask"])
def test_no_risky_tool_runs_without_approval(repo: Path, ollama, approval):
    ollama.script(
        {"tool_calls": [{"name": "run_shell", "arguments": {"command": "touch ran"}}]},
        {"tool_calls": [{"name": "write_file", "arguments": {"path": "w.py", "content": "x"}}]},
        {
            "tool_calls": [
                {
                    "name": "patch_file",
                    "arguments": {"path": "app.py", "old_text": "a + b", "new_text": "a - b"},
                }
            ]
        },
        {"content": "could not do it"},
    )
    done = cli(repo, "--approval", approval, "do it", host=ollama.url)
    assert done.returncode == 0, done.stderr
    assert not (repo / "ran").exists() and not (repo / "w.py").exists()
    assert "a + b" in (repo / "app.py").read_text()
    tool_results = [m for m in ollama.chat_requests[-1]["messages"] if m["role"] == "tool"]
    assert len(tool_results) == 3 and all(m["content"].startswith("error:") for m in tool_results)


def test_repl_slash_commands_over_a_pipe(repo: Path, ollama):
    ollama.script({"content": "Hello there."})
    done = cli(
        repo,
        stdin="/help\nsay hello\n/memory\n/session\n/reset\n/memory\n/bogus\n/quit\n",
        host=ollama.url,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    for command in ("/help", "/memory", "/session", "/reset", "/exit", "/quit"):
        assert command in out
    assert "Hello there." in out
    assert "task: say hello" in out
    session = next((repo / ".mini-coding-agent" / "sessions").glob("*.jsonl"))
    assert session.name in out.replace("\n", "")
    assert "working memory is empty" in out
    assert "unknown command /bogus" in out
    assert "Traceback" not in done.stderr


def test_repl_ends_on_end_of_input(repo: Path, ollama):
    done = cli(repo, stdin="", host=ollama.url)
    assert done.returncode == 0
    assert "mini-coding-agent" in done.stdout


def test_mid_stream_error_keeps_the_session_resumable(repo: Path, ollama):
    ollama.script({"content": "partial answ", "mid_stream_error": "llama runner died"})
    done = cli(repo, "hello", host=ollama.url)
    assert done.returncode == 1
    assert "llama runner died" in one_error_line(done)
    assert "--resume" in done.stderr
    ollama.script({"content": "Hi."})
    again = cli(repo, "--resume", "latest", "hello again", host=ollama.url)
    assert again.returncode == 0 and again.stdout == "Hi.\n"


def test_json_mode_sends_a_format_schema(repo: Path, ollama):
    ollama.script(
        {"content": json.dumps({"tool": "write_file", "args": {"path": "j.py", "content": "j\n"}})},
        {"content": '{"final": "done with json"}'},
    )
    done = cli(repo, "--tool-mode", "json", "--approval", "auto", "make j.py", host=ollama.url)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "done with json\n"
    assert (repo / "j.py").read_text() == "j\n"
    first = ollama.chat_requests[0]
    assert "anyOf" in first["format"] and "tools" not in first


def test_native_on_a_model_without_tools_falls_back_to_text(repo: Path, ollama):
    ollama.script({"content": "<final>text works</final>"})
    done = cli(repo, "--model", "gemma3:4b", "--tool-mode", "native", "hi", host=ollama.url)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "text works\n"
    assert "text" in done.stderr
    assert "tools" not in ollama.chat_requests[-1]


@pytest.mark.parametrize(("flag", "sent"), [("on", True), ("off", False), ("auto", None)])
def test_think_flag(repo: Path, ollama, flag, sent):
    ollama.script({"thinking": "hmm", "content": "<think>more</think>answer"})
    done = cli(repo, "--think", flag, "hi", host=ollama.url)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "answer\n", "thinking never reaches the answer"
    assert ollama.chat_requests[0].get("think") == sent


def test_repl_model_command_shows_and_switches(repo: Path, ollama):
    ollama.script({"content": "<final>from gemma</final>"})
    done = cli(
        repo,
        stdin="/model\n/model gemma3:4b\nhello\n/model llama9:70b\n/exit\n",
        host=ollama.url,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "qwen3.5:4b" in out and "262,144" in out and "tools" in out and "native" in out
    assert "gemma3:4b" in out and "text" in out
    assert "from gemma" in out
    request = ollama.chat_requests[-1]
    assert request["model"] == "gemma3:4b" and "tools" not in request
    assert "From now on" in request["messages"][-2]["content"]
    assert "ollama pull llama9:70b" in out


def test_sandbox_on_without_bubblewrap_refuses_shell_commands(repo: Path, ollama, monkeypatch):
    monkeypatch.setenv("MINI_CODING_AGENT_BWRAP", "/nonexistent/bwrap")
    ollama.script(
        {"tool_calls": [{"name": "run_shell", "arguments": {"command": "touch ran"}}]},
        {"content": "no shell"},
    )
    done = cli(repo, "--sandbox", "on", "--approval", "auto", "touch it", host=ollama.url)
    assert done.returncode == 0, done.stderr
    assert not (repo / "ran").exists()
    result = ollama.chat_requests[-1]["messages"][-1]["content"]
    assert "sandbox is required" in result


def test_banner_says_how_shell_commands_run(repo: Path, ollama):
    done = cli(repo, "--sandbox", "off", stdin="/exit\n", host=ollama.url)
    assert "commands run unsandboxed" in done.stdout


def test_repl_tokens_and_compact(repo: Path, ollama):
    ollama.script(
        {
            "tool_calls": [{"name": "read_file", "arguments": {"path": "app.py"}}],
            "prompt_eval_count": 900,
        },
        {"content": "It adds.", "prompt_eval_count": 1000},
        {"content": "The user asked about app.py; it adds two numbers."},
        {"content": "Still adds."},
    )
    done = cli(
        repo,
        stdin="/compact\nwhat does app.py do?\n/tokens\n/compact the add function\n"
        "and now?\n/exit\n",
        host=ollama.url,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "nothing to compact yet" in out
    assert "of 16,384 tokens" in out and "calibrated by the server" in out
    assert "1,900" in out, "tokens read in the first turn, as the server reported them"
    assert "compacted" in out and "written by the model" in out
    last = ollama.chat_requests[-1]["messages"]
    assert last[1]["content"].startswith("[Earlier conversation")
    assert "it adds two numbers" in last[1]["content"]
    assert last[-1]["content"].startswith("and now?")
    records = next((repo / ".mini-coding-agent" / "sessions").glob("*.jsonl")).read_text()
    assert '"type": "compaction"' in records
