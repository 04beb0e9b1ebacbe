"""The crash test: scripted sessions through the real CLI against FakeOllama, each killed with
SIGKILL at a random moment, then resumed to completion. Used by bench/safety.py (the figures
in docs/SECURITY.md) and, with a few sessions, by tests/test_safety.py.

A session is one of the scripted sessions of tests/fakes/scenarios.py (the four-turn
binary-search session of EXAMPLE.md and the 17-step long session), with native tool calls or
the text protocol, one CLI invocation per turn (`--resume ID` after the first), approval
auto and the default sandbox. Its kill comes after a random delay counted from the start of
the session, so it lands anywhere: at start-up, while the model streams, between a tool call
and its record, during a write, during the test run.

The model is a FakeOllama responder that replays the script from the conversation it is sent:
in the current turn it answers with the first scripted step that has no result yet, and
skips a patch whose change is already in the file (a patch that ran just before the kill,
as a real model would see by reading the file). After a kill the same request is asked again
with `--resume ID`, then the remaining turns.

A session is LOST when, right after its kill: its file cannot be opened or a line other than
the last is torn; a workspace file holds anything but one of its scripted contents (each file
is absent, or its old or its new content: never a prefix or a mix); or, once resumed: the CLI
fails; a request does not extend the one sent before it (the resumed conversation must
continue the one that was killed, message for message); or the session does not reach the
scripted end (every file's final content and the last answer).
"""

from __future__ import annotations

import itertools
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mini_coding_agent
from fakes import FakeOllama
from fakes.scenarios import README_DOC, binary_search_session, long_session
from mini_coding_agent.sessions import SessionError, SessionStore

KINDS = (("binary-search", True), ("binary-search", False), ("long", True), ("long", False))
SCENARIOS = {"binary-search": binary_search_session, "long": long_session}
MODELS = {True: "qwen3.5:4b", False: "gemma3:4b"}
RUN_TIMEOUT = 120.0


@dataclass
class Plan:
    """A scripted session: requests, the replies on the wire, and the calls they make."""

    kind: str
    native: bool
    turns: list[tuple[str, list[dict[str, Any]]]]
    calls: list[list[tuple[str, dict[str, Any]] | None]]  # per turn, per reply (None: answer)

    @classmethod
    def make(cls, kind: str, native: bool) -> Plan:
        scenario = SCENARIOS[kind]
        turns = scenario(native, sys.executable)
        calls = [
            [
                (r["tool_calls"][0]["name"], r["tool_calls"][0]["arguments"])
                if r.get("tool_calls")
                else None
                for r in replies
            ]
            for _request, replies in scenario(True, sys.executable)
        ]
        return cls(kind, native, turns, calls)

    @property
    def label(self) -> str:
        return f"{self.kind} ({'native' if self.native else 'text'})"

    def answer(self, turn: int) -> str:
        text = self.turns[turn][1][-1]["content"]
        return text.removeprefix("<final>").removesuffix("</final>")

    def states(self) -> tuple[dict[str, set[str | None]], dict[str, str | None]]:
        """Every content each file may hold at any moment, and its content at the end."""
        files: dict[str, str | None] = {"README.md": README_DOC}
        seen: dict[str, set[str | None]] = {"README.md": {README_DOC}}
        for turn in self.calls:
            for step in turn:
                if step is None or step[0] not in ("write_file", "patch_file"):
                    continue
                name, args = step
                path = args["path"]
                old = files.get(path)
                seen.setdefault(path, {old})
                if name == "write_file":
                    files[path] = args["content"]
                else:
                    assert old is not None
                    files[path] = old.replace(args["old_text"], args["new_text"], 1)
                seen[path].add(files[path])
        return seen, files


def _has_result(messages: list[dict[str, Any]], index: int) -> bool:
    if index + 1 >= len(messages):
        return False
    after = messages[index + 1]
    return after.get("role") == "tool" or (
        after.get("role") == "user" and str(after.get("content", "")).startswith("<tool_result")
    )


def _same(reply: dict[str, Any], message: dict[str, Any]) -> bool:
    if reply.get("tool_calls"):
        sent = message.get("tool_calls") or []
        if not sent:
            return False
        function = sent[0].get("function") or sent[0]
        want = reply["tool_calls"][0]
        return function.get("name") == want["name"] and (
            function.get("arguments", function.get("args")) == want["arguments"]
        )
    return str(message.get("content", "")).strip() == reply["content"].strip()


def responder(plan: Plan, repo: Path) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """The scripted model, answering from the conversation it is sent (see the module doc)."""
    requests = [request for request, _replies in plan.turns]

    def reply(body: dict[str, Any]) -> dict[str, Any]:
        messages = body.get("messages") or []
        first: dict[int, int] = {}
        turn = None
        for index, message in enumerate(messages):
            if message.get("role") != "user":
                continue
            for number, request in enumerate(requests):
                if str(message.get("content", "")).startswith(request):
                    first.setdefault(number, index)
                    turn = number
        if turn is None:
            return {"content": "I do not know what you want."}
        replies, calls = plan.turns[turn][1], plan.calls[turn]
        done = set()
        for index in range(first[turn], len(messages)):
            if messages[index].get("role") == "assistant" and _has_result(messages, index):
                done |= {n for n, r in enumerate(replies[:-1]) if _same(r, messages[index])}
        for number, step in enumerate(replies[:-1]):
            planned = calls[number]
            if number in done:
                continue
            if planned is not None and planned[0] == "patch_file":
                target = repo / planned[1]["path"]
                if target.is_file() and planned[1]["new_text"] in target.read_text():
                    continue
            return step
        return replies[-1]

    return reply


@dataclass
class SessionResult:
    index: int
    plan: str
    delay: float
    killed: bool = False
    turn: int | None = None  # the turn the kill landed in
    before_session: bool = False  # killed before the session file existed
    lost: list[str] = field(default_factory=list)
    torn_tail: bool = False
    temp_files: list[str] = field(default_factory=list)
    unanswered: int = 0  # tool calls without a result in the first request after the resume
    seconds: float = 0.0


def make_repo(path: Path) -> Path:
    path.mkdir(parents=True)
    (path / "README.md").write_text(README_DOC)
    for args in (
        ["init", "-q", "-b", "main"],
        ["config", "user.email", "test@example.com"],
        ["config", "user.name", "Test"],
        ["add", "-A"],
        ["commit", "-q", "-m", "initial"],
    ):
        subprocess.run(["git", *args], cwd=path, check=True, capture_output=True)
    return path


def _command(repo: Path, plan: Plan, url: str, request: str, session: str | None) -> list[str]:
    argv = [sys.executable, "-m", "mini_coding_agent", "--cwd", str(repo), "--host", url]
    argv += ["--model", MODELS[plan.native], "--approval", "auto", "--max-steps", "10"]
    return [*argv, *(["--resume", session] if session else []), request]


def cli_env(**extra: str) -> dict[str, str]:
    """The environment for the CLI as a subprocess: this source tree, no OLLAMA_HOST."""
    env = {k: v for k, v in os.environ.items() if k != "OLLAMA_HOST"}
    env["PYTHONPATH"] = str(Path(mini_coding_agent.__file__).resolve().parents[1])
    return {**env, **extra}


def _session_file(repo: Path) -> Path | None:
    found = sorted((repo / ".mini-coding-agent" / "sessions").glob("*.jsonl"))
    return found[0] if found else None


def _check_file(path: Path) -> tuple[list[str], bool]:
    """Problems with a session file after a kill, and whether its last line is torn."""
    problems = []
    try:
        SessionStore(path.parent).open(path.stem)
    except SessionError as error:
        problems.append(f"the session does not load: {error}")
    data = path.read_bytes()
    lines = data.split(b"\n")
    torn = not data.endswith(b"\n")
    for number, line in enumerate(lines[:-1], 1):
        try:
            json.loads(line)
        except ValueError:
            problems.append(f"line {number} of {len(lines) - 1} is torn")
    return problems, torn


def _check_workspace(repo: Path, allowed: dict[str, set[str | None]]) -> list[str]:
    problems = []
    for name, states in allowed.items():
        path = repo / name
        content = path.read_text() if path.is_file() else None
        if content not in states:
            size = "absent" if content is None else f"{len(content)} characters"
            problems.append(f"{name} is half-written ({size}, not one of its scripted contents)")
    return problems


def _temp_files(repo: Path) -> list[str]:
    return sorted(
        p.relative_to(repo).as_posix()
        for p in repo.rglob(".*.tmp")
        if ".git" not in p.parts and ".mini-coding-agent" not in p.parts
    )


def _unanswered(messages: list[dict[str, Any]], native: bool) -> int:
    """Tool calls in a conversation that never got their result."""
    count = 0
    for index, message in enumerate(messages):
        if message.get("role") != "assistant":
            continue
        calls = message.get("tool_calls") or []
        if calls:
            results = messages[index + 1 : index + 1 + len(calls)]
            count += len(calls) - sum(1 for m in results if m.get("role") == "tool")
        elif not native and index + 1 < len(messages) and not _has_result(messages, index):
            count += "<final>" not in str(message.get("content", ""))
    return count


def _breaks(requests: list[dict[str, Any]]) -> int:
    """How many requests do not start with the whole request sent before them."""
    bodies = [r["messages"] for r in requests if r.get("messages")]
    return sum(1 for a, b in itertools.pairwise(bodies) if b[: len(a)] != a)


def run_session(index: int, plan: Plan, delay: float, base: Path) -> SessionResult:
    """Run the session, SIGKILL the CLI `delay` seconds after it started, resume it to the end
    (an infinite delay runs it uninterrupted)."""
    result = SessionResult(index, plan.label, delay)
    repo = make_repo(base / f"session-{index}")
    allowed, final = plan.states()
    started = time.monotonic()
    with FakeOllama(responder=responder(plan, repo)) as fake:
        session: str | None = None
        turn = before = 0
        while turn < len(plan.turns):
            request = plan.turns[turn][0]
            proc = subprocess.Popen(
                _command(repo, plan, fake.url, request, session),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=cli_env(),
            )
            wait = RUN_TIMEOUT
            if not result.killed:
                wait = max(0.0, started + delay - time.monotonic())
            try:
                out, err = proc.communicate(timeout=min(wait, RUN_TIMEOUT))
            except subprocess.TimeoutExpired:
                if result.killed:
                    proc.kill()
                    proc.communicate()
                    result.lost.append(f"turn {turn + 1} did not finish in {RUN_TIMEOUT} s")
                    break
                os.kill(proc.pid, signal.SIGKILL)
                proc.communicate()
                result.killed, result.turn = True, turn
                before = len([r for r in fake.chat_requests if r.get("messages")])
                path = _session_file(repo)
                if path is None:
                    result.before_session = True
                else:
                    session = path.stem
                    problems, result.torn_tail = _check_file(path)
                    result.lost += problems
                result.lost += _check_workspace(repo, allowed)
                result.temp_files = _temp_files(repo)
                if result.lost:
                    break
                continue  # the same request again, resumed
            if proc.returncode != 0 or out.strip() != plan.answer(turn):
                line = (err.strip().splitlines() or ["(nothing on stderr)"])[-1]
                result.lost.append(f"turn {turn + 1} exited {proc.returncode}: {line[:200]}")
                break
            if result.killed and result.turn == turn:
                resumed = [r for r in fake.chat_requests if r.get("messages")]
                if len(resumed) > before:
                    result.unanswered = _unanswered(resumed[before]["messages"], plan.native)
            if session is None:
                path = _session_file(repo)
                session = path.stem if path else None
            turn += 1
        else:
            breaks = _breaks(fake.chat_requests)
            if breaks:
                result.lost.append(f"{breaks} requests do not extend the request before them")
            for name, content in final.items():
                path = repo / name
                if (path.read_text() if path.is_file() else None) != content:
                    result.lost.append(f"{name} does not have its final content")
    result.seconds = time.monotonic() - started
    return result


def crash_test(
    sessions: int,
    seed: int,
    *,
    jobs: int = 2,
    log: Callable[[str], None] = lambda line: None,
) -> list[SessionResult]:
    """Calibrate each kind of session once, then kill and resume `sessions` sessions."""
    base = Path(tempfile.mkdtemp(prefix="mca-crash-", dir=_base_dir()))
    try:
        kinds = KINDS[: min(len(KINDS), sessions)]
        plans = {kind: Plan.make(*kind) for kind in kinds}
        with ThreadPoolExecutor(jobs) as pool:
            runs = list(
                pool.map(
                    lambda item: run_session(-1 - item[0], plans[item[1]], float("inf"), base),
                    enumerate(kinds),
                )
            )
        durations = {}
        for kind, run in zip(kinds, runs, strict=True):
            if run.lost:
                raise RuntimeError(f"{run.plan} fails without a kill: {'; '.join(run.lost)}")
            durations[kind] = run.seconds
            log(f"  calibration: {run.plan} takes {run.seconds:.1f} s uninterrupted")

        def one(index: int) -> SessionResult:
            kind = kinds[index % len(kinds)]
            rng = random.Random(f"{seed}:{index}")
            limit = durations[kind]
            for _attempt in range(4):
                result = run_session(index, plans[kind], rng.uniform(0.05, limit * 0.95), base)
                if result.killed or result.lost:
                    return result
                limit = result.seconds  # finished before the kill: aim earlier
                _remove(base / f"session-{index}")
            return result

        with ThreadPoolExecutor(jobs) as pool:
            return list(pool.map(one, range(sessions)))
    finally:
        _remove(base)


def _base_dir() -> str | None:
    return "/var/tmp" if os.access("/var/tmp", os.W_OK) else None


def _remove(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
