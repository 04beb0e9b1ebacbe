"""run_shell with real processes: output capture, limits, timeouts and process groups."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from mini_coding_agent.tools.registry import OUTPUT_LIMIT, ToolError
from mini_coding_agent.tools.shell import Capture

from .conftest import TOOLS


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


def wait_dead(pid: int, seconds: float = 3.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.05)
    return False


def test_output_and_exit_code(call):
    assert call("run_shell", command="echo hi; echo oops >&2; exit 3") == (
        True,
        "exit code: 3\nstdout:\nhi\nstderr:\noops",
    )
    assert call("run_shell", command="true") == (
        True,
        "exit code: 0\nstdout:\n(empty)\nstderr:\n(empty)",
    )


def test_runs_in_the_root_with_a_quiet_environment(root, call):
    (root / "sub").mkdir()
    text = call("run_shell", command="pwd; echo $GIT_TERMINAL_PROMPT $PAGER; cat; ls")[1]
    assert text.splitlines()[2:5] == [str(root), "0 cat", "sub"]


def test_names_with_spaces_and_unicode(root, call):
    text = call("run_shell", command="printf 'x\\n' > 'a b ü.txt' && cat 'a b ü.txt'")[1]
    assert text.startswith("exit code: 0\nstdout:\nx\n")
    assert (root / "a b ü.txt").read_text() == "x\n"


def test_huge_output_is_capped_head_and_tail(call):
    start = time.monotonic()
    ok, text = call("run_shell", command="yes | head -c 50000000; echo done; echo warn >&2")
    assert ok and time.monotonic() - start < 10
    assert len(text) < OUTPUT_LIMIT
    assert "bytes of output omitted" in text
    assert text.splitlines()[:4] == ["exit code: 0", "stdout:", "y", "y"]
    assert text.endswith("y\ndone\nstderr:\nwarn")


def test_both_huge_streams_stay_visible(call):
    ok, text = call("run_shell", command="seq 1 200000; seq 1 200000 >&2")
    assert ok
    stdout, stderr = text.split("\nstderr:\n")
    assert len(text) < OUTPUT_LIMIT
    assert stdout.endswith("\n200000") and stderr.endswith("\n200000")
    assert stderr.startswith("1\n2\n")


def test_timeout_kills_the_process_group(root, call):
    start = time.monotonic()
    ok, text = call(
        "run_shell", command="sleep 60 & echo $! > child.pid; echo started; sleep 60", timeout=1
    )
    assert ok and time.monotonic() - start < 6
    assert text.startswith("exit code: -15 (SIGTERM; timed out after 1 s;")
    assert "stdout:\nstarted\n" in text
    assert wait_dead(int((root / "child.pid").read_text()))


def test_background_children_holding_the_pipes_are_stopped(root, call):
    ok, text = call("run_shell", command="sleep 60 & echo $! > bg.pid")
    assert ok and "background processes still held the output open" in text
    assert wait_dead(int((root / "bg.pid").read_text()))


def test_detached_background_process_is_left_running(root, call):
    start = time.monotonic()
    ok, text = call("run_shell", command="sleep 60 > /dev/null 2>&1 & echo $!")
    pid = int(text.splitlines()[2])
    try:
        assert time.monotonic() - start < 1.5
        assert ok and text.startswith("exit code: 0\n") and alive(pid)
    finally:
        os.kill(pid, signal.SIGKILL)


def test_argument_validation(call):
    for bad in (0, 601):
        with pytest.raises(ToolError, match="timeout"):
            TOOLS.validate("run_shell", {"command": "true", "timeout": bad})
    assert call("run_shell", command="   ") == (False, "error: command must not be empty")
    assert TOOLS.get("run_shell").risky


def test_capture_keeps_head_and_tail_within_its_limit():
    capture = Capture(limit=100)
    for i in range(1000):
        capture.feed(f"{i:04}\n".encode())
    assert capture.total == 5000 and len(capture.head) + len(capture.tail) == 100
    text = capture.text(60)
    assert text.startswith("0000\n") and text.endswith("0999")
    assert "[... 4940 bytes of output omitted ...]" in text
    assert Capture().text(10) == "(empty)"


def test_bash_syntax_works(call):
    ok, output = call("run_shell", command="if [[ abc == a* ]]; then echo bash; fi")
    assert ok and "stdout:\nbash" in output
