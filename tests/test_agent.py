"""The agent loop, driven by a scripted model in a real git repository."""

import itertools
from pathlib import Path

import pytest

from harness import Run, reply
from mini_coding_agent.events import Final, Notice, Subagent, ToolStarted
from mini_coding_agent.models.base import ModelError
from mini_coding_agent.models.scripted import call


def test_native_calls_write_a_file_and_answer(repo: Path):
    run = Run(
        repo,
        [
            reply(call("write_file", path="hello.py", content="print('hi')\n")),
            "Created hello.py.",
        ],
    )
    assert run.ask("create hello.py") == "Created hello.py."
    assert (repo / "hello.py").read_text() == "print('hi')\n"
    second = run.model.requests[1]["messages"]
    assert second[0]["role"] == "system"
    assert second[1] == {"role": "user", "content": "create hello.py"}
    assert second[2]["tool_calls"][0]["name"] == "write_file"
    assert (
        second[3]["role"] == "tool"
        and second[3]["tool_call_id"] == second[2]["tool_calls"][0]["id"]
    )
    assert "hello.py" in second[3]["content"]
    assert run.model.requests[0]["tools"], "native mode sends tool definitions"
    assert isinstance(run.events[-1], Final)


def test_text_protocol_json_and_xml_forms(repo: Path):
    run = Run(
        repo,
        [
            '<tool>{"name": "read_file", "args": {"path": "app.py"}}</tool>',
            '<tool name="write_file" path="b.py"><content>\ndef b():\n    return 2\n'
            "</content></tool>",
            "<final>Wrote b.py.</final>",
        ],
        tool_mode="text",
    )
    assert run.ask("copy the style") == "Wrote b.py."
    assert (repo / "b.py").read_text() == "def b():\n    return 2\n"
    messages = run.last_messages()
    assert run.model.requests[0]["tools"] is None
    assert "<tool>" in messages[0]["content"], (
        "text mode teaches the protocol in the system message"
    )
    assert messages[3]["role"] == "user" and messages[3]["content"].startswith(
        '<tool_result name="read_file">'
    )
    assert "return a + b" in messages[3]["content"]


def test_never_mode_runs_no_risky_tool(repo: Path):
    run = Run(
        repo,
        [
            reply(call("write_file", path="x.py", content="x")),
            reply(call("run_shell", command="touch shell_was_here")),
            "gave up",
        ],
        approval="never",
    )
    run.ask("do risky things")
    assert not (repo / "x.py").exists()
    assert not (repo / "shell_was_here").exists()
    assert [r.ok for r in run.results()] == [False, False]
    assert "not allowed" in run.results()[0].output
    assert not run.asked


def test_ask_mode_asks_and_honours_the_answer(repo: Path):
    denied = Run(repo, [reply(call("run_shell", command="touch nope")), "ok"], approval="ask")
    denied.ask("touch")
    assert not (repo / "nope").exists()
    assert denied.asked[0].tool == "run_shell" and "touch nope" in denied.asked[0].summary
    assert "denied" in denied.results()[0].output

    allowed = Run(
        repo, [reply(call("run_shell", command="touch yes")), "ok"], approval="ask", approve=True
    )
    allowed.ask("touch")
    assert (repo / "yes").exists()


def test_read_only_tools_never_ask(repo: Path):
    run = Run(repo, [reply(call("read_file", path="app.py")), "read"], approval="ask")
    run.ask("read app.py")
    assert not run.asked
    assert run.results()[0].ok


def test_bad_calls_are_results_not_crashes(repo: Path):
    run = Run(
        repo,
        [
            reply(call("no_such_tool", x=1)),
            reply(call("read_file", start=3)),
            reply(call("write_file", path="../outside.py", content="x")),
            reply(call("write_file", path=".git/hooks/pre-commit", content="x")),
            "done",
        ],
        approval="ask",
        approve=True,
        max_steps=10,
    )
    assert run.ask("misbehave") == "done"
    outputs = [r.output for r in run.results()]
    assert "unknown tool 'no_such_tool'" in outputs[0]
    assert "invalid arguments for read_file" in outputs[1] and "path" in outputs[1]
    assert "outside the workspace" in outputs[2]
    assert "protected" in outputs[3]
    assert not run.asked, "arguments and paths are checked before any approval"
    assert not (repo.parent / "outside.py").exists()


def test_repeated_identical_call_is_refused(repo: Path):
    run = Run(
        repo,
        [reply(call("list_files", path=".")), reply(call("list_files", path=".")), "ok"],
    )
    run.ask("list twice")
    first, second = run.results()
    assert first.ok and not second.ok
    assert "exact list_files call" in second.output


def test_unparseable_replies_get_corrections_then_stop(repo: Path):
    garbled = '<tool>{"name": "read_file", "args": {"path": </tool>'
    run = Run(repo, [garbled, garbled, garbled], tool_mode="text")
    answer = run.ask("read")
    assert answer.startswith("Stopped")
    assert sum(isinstance(e, Notice) for e in run.events) == 3
    corrections = [m for m in run.last_messages() if m["role"] == "user"][1:]
    assert len(corrections) == 2 and all("<tool>" in m["content"] for m in corrections)


def test_step_limit_ends_the_turn(repo: Path):
    steps = [reply(call("read_file", path="app.py", start=1, end=n)) for n in range(1, 10)]
    run = Run(repo, steps, max_steps=3)
    answer = run.ask("loop")
    assert "Stopped after 3 tool steps" in answer
    assert len(run.model.requests) == 3


def test_delegate_runs_a_read_only_child(repo: Path):
    run = Run(
        repo,
        [
            reply(call("delegate", task="find add", max_steps=3)),
            reply(call("write_file", path="child.py", content="x")),  # the child tries to write
            reply(call("search", pattern="def add")),
            "add is in app.py line 1",
            "The helper says add is in app.py.",
        ],
    )
    assert run.ask("where is add?") == "The helper says add is in app.py."
    assert not (repo / "child.py").exists()
    child_request = run.model.requests[1]
    child_tools = {t["function"]["name"] for t in child_request["tools"]}
    assert child_tools == {"list_files", "read_file", "search"}
    assert child_request["messages"][1]["content"] == "find add"
    nested = [e.event for e in run.events if isinstance(e, Subagent)]
    assert any(isinstance(e, ToolStarted) and e.call.name == "search" for e in nested)
    delegate_result = run.last_messages()[3]["content"]
    assert delegate_result.startswith("delegate result:\nadd is in app.py line 1")


def test_requests_only_ever_append(repo: Path):
    run = Run(
        repo,
        [
            reply(call("list_files")),
            reply(call("read_file", path="app.py")),
            "first answer",
            reply(call("write_file", path="c.py", content="c = 1\n")),
            "second answer",
        ],
    )
    run.ask("first")
    run.ask("second")
    requests = [r["messages"] for r in run.model.requests]
    for before, after in itertools.pairwise(requests):
        assert after[: len(before)] == before
    second_turn = requests[3][-1]["content"]
    assert second_turn.startswith("second\n\nWorking memory:")
    assert "app.py (read)" in second_turn


def test_session_file_resumes_the_same_conversation(repo: Path):
    run = Run(repo, [reply(call("write_file", path="d.py", content="d = 1\n")), "made d.py"])
    run.ask("make d.py")
    path = run.runtime.session.path
    assert path.parent == repo / ".mini-coding-agent" / "sessions"
    assert (repo / ".mini-coding-agent" / ".gitignore").read_text().strip().endswith("*")
    with path.open("a") as handle:
        handle.write('{"type": "message", "message": {"role": "us')  # a torn last line

    resumed = Run(repo, ["again"], resume="latest")
    assert resumed.runtime.session.id == run.runtime.session.id
    resumed.ask("and now?")
    before = run.model.requests[-1]["messages"]
    after = resumed.model.requests[0]["messages"]
    assert after[: len(before)] == before
    assert after[len(before)]["role"] == "assistant"  # the earlier final answer
    assert "d.py (written)" in after[-1]["content"]
    assert "d.py" in str(resumed.agent.memory.files)


def test_reset_clears_history_and_memory(repo: Path):
    run = Run(repo, [reply(call("read_file", path="app.py")), "one", "two"])
    run.ask("first")
    run.agent.reset()
    assert run.agent.memory.text() == ""
    run.ask("second")
    assert [m["role"] for m in run.last_messages()] == ["system", "user"]
    resumed = Run(repo, [], resume=run.runtime.session.id)
    assert len(resumed.agent.conversation.messages) == 3  # system, second, its answer
    assert resumed.agent.conversation.messages[1]["content"] == "second"


def test_model_errors_propagate_and_leave_the_session_resumable(repo: Path):
    run = Run(repo, [ModelError("server went away")])
    with pytest.raises(ModelError):
        run.ask("hello")
    resumed = Run(repo, ["hi"], resume="latest")
    assert resumed.ask("hello again") == "hi"
    assert [m["role"] for m in resumed.last_messages()] == ["system", "user", "user"]
