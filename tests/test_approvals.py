"""Approvals that show the change and stick, permission rules across sessions, and undo."""

import json
from pathlib import Path

from harness import Run, cli, one_error_line, reply
from mini_coding_agent.events import Notice
from mini_coding_agent.models.scripted import call
from mini_coding_agent.permissions import Approval


def test_approving_a_patch_shows_its_diff_and_a_failed_match_asks_nothing(repo: Path):
    run = Run(
        repo,
        [
            reply(call("patch_file", path="app.py", old_text="a + b", new_text="a - b")),
            reply(call("patch_file", path="app.py", old_text="no such text", new_text="x")),
            reply(call("write_file", path="new.py", content="x = 1\n")),
            "ok",
        ],
        approval="ask",
        approve=True,
    )
    run.ask("edit")
    patch, create = run.asked
    assert "-    return a + b\n+    return a - b\n" in patch.diff
    assert patch.diff.startswith("--- a/app.py\n+++ b/app.py\n")
    assert create.diff.startswith("--- /dev/null\n+++ b/new.py\n") and "+x = 1" in create.diff
    assert "not found" in run.results()[1].output, "the failed match is the result, unasked"


def test_fuzzy_matches_say_so_in_the_diff_and_the_result(repo: Path):
    (repo / "app.py").write_text("def add(a, b):\n    return a + b  \n")
    run = Run(
        repo,
        [
            reply(call("patch_file", path="app.py", old_text="return a + b", new_text="return b")),
            reply(call("patch_file", path="app.py", old_text="  return b\n", new_text="  pass\n")),
            "ok",
        ],
        approval="ask",
        approve=True,
    )
    run.ask("edit")
    first, second = run.results()
    assert first.ok and first.output.startswith("patched app.py")
    assert second.ok and "(matched" in second.output
    assert "+    pass" in run.asked[1].diff


def test_yes_for_the_session_stops_asking_for_that_command(repo: Path):
    shell = reply(call("run_shell", command="git status --short"))
    run = Run(
        repo,
        [
            shell,
            reply(call("list_files")),
            shell,
            reply(call("run_shell", command="git log")),
            "ok",
        ],
        approval="ask",
        approve=Approval("session"),
    )
    run.ask("look")
    assert [r.summary for r in run.asked] == ["run_shell git status --short", "run_shell git log"]
    assert "run_shell command 'git status'" in run.asked[0].remember
    assert all(r.ok for r in run.results())


def test_always_writes_a_project_rule_that_later_sessions_honour(repo: Path):
    first = Run(
        repo,
        [reply(call("run_shell", command="ls -a")), "ok"],
        approval="ask",
        approve=Approval("always"),
    )
    first.ask("list")
    rules = (repo / ".mini-coding-agent" / "permissions.toml").read_text()
    assert "[[allow]]" in rules and 'command = "ls"' in rules
    assert any(isinstance(e, Notice) and "saved to" in e.message for e in first.events)

    later = Run(repo, [reply(call("run_shell", command="ls -l")), "ok"], approval="ask")
    later.ask("list again")
    assert not later.asked and later.results()[0].ok
    assert "ls" in later.agent.permissions.describe()


def test_deny_rules_win_even_in_auto_mode(repo: Path):
    rules = repo / ".mini-coding-agent" / "permissions.toml"
    rules.parent.mkdir(exist_ok=True)
    rules.write_text('[[deny]]\ncommand = "git push"\n\n[[deny]]\npath = "**/*.lock"\n')
    run = Run(
        repo,
        [
            reply(call("run_shell", command="git status && git push origin main")),
            reply(call("write_file", path="deps/x.lock", content="x")),
            "ok",
        ],
        approval="auto",
    )
    run.ask("push")
    push, lock = run.results()
    assert not push.ok and "git push" in push.output and str(rules) in push.output
    assert not lock.ok and not (repo / "deps" / "x.lock").exists()


def test_a_broken_rules_file_is_a_usage_error(repo: Path, ollama):
    rules = repo / ".mini-coding-agent" / "permissions.toml"
    rules.parent.mkdir(exist_ok=True)
    rules.write_text("[[allow]]\ncomand = 'pytest'\n")
    done = cli(repo, "hi", host=ollama.url)
    assert done.returncode == 2
    assert "unknown key 'comand'" in one_error_line(done) and str(rules) in done.stderr


def test_undo_restores_the_last_turn_then_the_one_before(repo: Path):
    run = Run(
        repo,
        [
            reply(call("write_file", path="one.py", content="one = 1\n")),
            "first",
            reply(call("patch_file", path="app.py", old_text="a + b", new_text="a * b")),
            reply(call("write_file", path="two.py", content="two = 2\n")),
            reply(call("patch_file", path="app.py", old_text="a * b", new_text="a ** b")),
            "second",
            "third",
        ],
    )
    run.ask("make one")
    run.ask("make two and change app")
    diff = run.agent.context.journal.diff()
    assert "+one = 1" in diff and "+two = 2" in diff and "+    return a ** b" in diff

    assert run.agent.undo() == "undid turn 2: restored app.py; removed two.py"
    assert (repo / "app.py").read_text() == "def add(a, b):\n    return a + b\n"
    assert not (repo / "two.py").exists() and (repo / "one.py").exists()
    run.ask("what now?")
    told = run.last_messages()[-2]["content"]
    assert told.startswith("(The user undid the file changes of turn 2")

    resumed = Run(repo, [], resume="latest")
    assert resumed.agent.undo() == "undid turn 1: removed one.py"
    assert not (repo / "one.py").exists()
    assert resumed.agent.undo().startswith("nothing to undo")


def test_undo_and_diff_work_outside_git(tmp_path: Path):
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "notes.txt").write_text("old\n")
    run = Run(plain, [reply(call("write_file", path="notes.txt", content="new\n")), "ok"])
    run.ask("rewrite")
    assert "-old\n+new\n" in run.agent.context.journal.diff()
    run.agent.undo()
    assert (plain / "notes.txt").read_text() == "old\n"
    assert run.agent.context.journal.diff() == ""


def test_repl_undo_diff_and_permissions(repo: Path, ollama):
    ollama.script(
        {"tool_calls": [{"name": "write_file", "arguments": {"path": "n.py", "content": "n\n"}}]},
        {"content": "made n.py"},
    )
    done = cli(
        repo,
        "--approval",
        "auto",
        stdin="make n.py\n/diff\n/permissions\n/undo\n/diff\n/undo\n/exit\n",
        host=ollama.url,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "+++ b/n.py" in out and "approval mode: auto" in out
    assert "undid turn 1: removed n.py" in out
    assert "no changes in this session" in out and "nothing to undo" in out
    assert not (repo / "n.py").exists()


def test_a_shipped_rules_file_counts_only_once_trusted(repo: Path):
    rules = repo / ".mini-coding-agent" / "permissions.toml"
    rules.parent.mkdir(exist_ok=True)
    rules.write_text('[[allow]]\ncommand = "touch"\n\n[[deny]]\ncommand = "rm"\n')
    touch = reply(call("run_shell", command="touch shipped"))
    run = Run(repo, [touch, reply(call("run_shell", command="rm README.md")), "ok"], approval="ask")
    run.ask("go")
    assert [r.tool for r in run.asked] == ["run_shell"], "the shipped allow rule is ignored"
    assert not (repo / "shipped").exists() and (repo / "README.md").exists()
    notices = [e.message for e in run.events if isinstance(e, Notice)]
    assert any("not accepted" in m for m in notices)
    assert "/permissions trust" in run.agent.permissions.describe()

    assert "trusted" in run.agent.permissions.trust_project()
    later = Run(repo, [touch, "ok"], approval="ask")
    later.ask("go")
    assert not later.asked and (repo / "shipped").exists()
    rules.write_text(rules.read_text() + '\n[[allow]]\ncommand = "curl"\n')
    changed = Run(repo, [], approval="ask")
    assert changed.agent.permissions.untrusted, "a changed file must be accepted again"


def test_undo_refuses_a_tampered_session_record(repo: Path, tmp_path: Path):
    run = Run(repo, [reply(call("write_file", path="a.txt", content="a\n")), "ok"])
    run.ask("write")
    outside = tmp_path / "outside.txt"
    outside.write_text("keep me\n")
    session = run.runtime.session.path
    forged = {"type": "edit", "turn": 1, "path": "../outside.txt", "before": None}
    session.write_text(session.read_text() + json.dumps(forged) + "\n")
    resumed = Run(repo, [], resume="latest")
    message = resumed.agent.undo()
    assert "could not restore ../outside.txt" in message and "removed a.txt" in message
    assert outside.read_text() == "keep me\n"
