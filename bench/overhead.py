"""Harness overhead: the agent's own time per step (the model excluded) and the time of the
workspace snapshot, on a generated git repository of 20,000 tracked files.

The repository (made in a temp dir, removed afterwards) is a nested Python project with a
README, AGENTS.md, pyproject.toml and a .gitignore whose build/ dir holds ignored files; it is
committed once, then a few files are modified and a few untracked ones added, so that
`git status` has something to say.

Snapshot: Workspace.open(root).snapshot(), the first call (cold: first in the process, though
the OS cache is warm, since dropping it needs root) and then the median of the warm ones, with
the time of each git command it runs; then, for information, the first snapshot after every
file's mtime changed (git status re-reads the whole tree once).

Agent: the runtime built as the CLI builds it (app.build_runtime, approval auto) around a
ScriptedModel, driven through several user turns of tool steps (list_files, read_file, search,
write_file, patch_file, run_shell `true`). A step is one model request and the tools it calls.
The model's chat(), every tool's run() and every session append are timed; harness overhead
is what is left of a step's wall time once the model and the tool runs are taken out
(argument validation, path checks, permissions, conversation and session records with their
fsync, working memory, budget and compaction, events). The disk is synced before each phase
so that the session's fsyncs do not pay for writing out the freshly generated tree.

Usage: python bench/overhead.py [--files N] [--snapshots N] [--turns N] [--tool-mode MODE]
                                [--profile] [--keep]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import itertools
import json
import os
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from mini_coding_agent import workspace as workspace_module  # noqa: E402
from mini_coding_agent.app import build_runtime  # noqa: E402
from mini_coding_agent.events import Final, ModelStarted, Notice, ToolStarted  # noqa: E402
from mini_coding_agent.models.base import ModelReply, ToolCall  # noqa: E402
from mini_coding_agent.models.scripted import ScriptedModel  # noqa: E402
from mini_coding_agent.permissions import Approval  # noqa: E402
from mini_coding_agent.settings import Settings  # noqa: E402
from mini_coding_agent.tools.registry import ToolRegistry  # noqa: E402
from mini_coding_agent.workspace import Workspace  # noqa: E402

try:
    from mini_coding_agent.compaction import SUMMARY_REQUEST
except ImportError:  # a version without compaction
    SUMMARY_REQUEST = ""

MARKS = ("ModelStarted", "Final")
STEP_TARGET_MS = 10.0
SNAPSHOT_TARGET_MS = 300.0
PACKAGES = 40
SUBPACKAGES = 10
DOCS = 200
TESTS = 300
IGNORED = 400

# --------------------------------------------------------------------------- the repository

MODULE = '''\
"""{name}: part of the generated benchmark project."""

from __future__ import annotations

from bigproj.util import clamp

LIMIT_{n} = {limit}


def compute_{n}(value: int) -> int:
    """Scale value and clamp it to LIMIT_{n}."""
    total = value * {factor}
    for step in range(3):
        total += step
    return clamp(total, 0, LIMIT_{n})


class Widget{n}:
    """A small value object."""

    def __init__(self, size: int = {size}):
        self.size = size

    def area(self) -> int:
        return self.size * self.size
'''

TEST = """\
from bigproj.pkg_{p:02d}.sub_00.mod_000 import compute_{n}


def test_compute_{n}():
    assert compute_{n}(0) >= 0
"""

DOC = """\
# Note {n}

This page describes part {n} of the generated project. It exists so that the tree holds
text files as well as Python modules; nothing links to it.
"""

README = """\
# bigproj

A generated project of many small packages, used by bench/overhead.py to measure the
harness overhead of mini-coding-agent on a large repository.

Run the tests with `pytest -q`.
"""

AGENTS = """\
# Notes for agents

- Code lives in src/bigproj, tests in tests/.
- Keep modules small; run `pytest -q` after a change.
"""

PYPROJECT = """\
[project]
name = "bigproj"
version = "0.1.0"
requires-python = ">=3.10"

[tool.setuptools.packages.find]
where = ["src"]
"""

GITIGNORE = "build/\n__pycache__/\n*.pyc\n"


def module_path(p: int, s: int, m: int) -> str:
    return f"src/bigproj/pkg_{p:02d}/sub_{s:02d}/mod_{m:03d}.py"


def repo_files(total: int) -> dict[str, str]:
    """Exactly total tracked files: top-level files, docs, tests, then package modules."""
    files = {
        "README.md": README,
        "AGENTS.md": AGENTS,
        "pyproject.toml": PYPROJECT,
        ".gitignore": GITIGNORE,
        "src/bigproj/__init__.py": "",
        "src/bigproj/util.py": "def clamp(v, lo, hi):\n    return max(lo, min(hi, v))\n",
    }
    for n in range(DOCS):
        files[f"docs/part_{n // 20:02d}/note_{n:03d}.md"] = DOC.format(n=n)
    for n in range(TESTS):
        files[f"tests/test_{n:03d}.py"] = TEST.format(p=n % PACKAGES, n=n % PACKAGES * 1000)
    slots = PACKAGES * SUBPACKAGES
    inits = PACKAGES + slots
    per_slot = -(-(total - len(files) - inits) // slots)  # ceiling
    for p in range(PACKAGES):
        files[f"src/bigproj/pkg_{p:02d}/__init__.py"] = ""
        for s in range(SUBPACKAGES):
            files[f"src/bigproj/pkg_{p:02d}/sub_{s:02d}/__init__.py"] = ""
    for m in range(per_slot):
        for p in range(PACKAGES):
            for s in range(SUBPACKAGES):
                if len(files) >= total:
                    return files
                n = p * 1000 + s * 100 + m
                files[module_path(p, s, m)] = MODULE.format(
                    name=f"pkg_{p:02d}.sub_{s:02d}.mod_{m:03d}",
                    n=n,
                    limit=n * 7 + 100,
                    factor=n % 97 + 1,
                    size=n % 13,
                )
    return files


def write_files(root: Path, files: dict[str, str]) -> None:
    made: set[Path] = set()
    for rel, text in files.items():
        path = root / rel
        if path.parent not in made:
            path.parent.mkdir(parents=True, exist_ok=True)
            made.add(path.parent)
        path.write_text(text, encoding="utf-8")


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, stdin=subprocess.DEVNULL)


def generate_repo(root: Path, total: int) -> dict[str, int]:
    files = repo_files(total)
    write_files(root, files)
    write_files(
        root,
        {f"build/lib/bigproj/gen_{n:03d}.py": f"# generated {n}\n" for n in range(IGNORED)},
    )
    git(root, "init", "-q", "-b", "main")
    for key, value in (
        ("user.name", "Bench"),
        ("user.email", "bench@example.invalid"),
        ("commit.gpgsign", "false"),
    ):
        git(root, "config", key, value)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "Generated project")
    modified = [module_path(p, 0, 1) for p in (1, 2, 3)]
    for rel in modified:
        with (root / rel).open("a", encoding="utf-8") as handle:
            handle.write("\n# touched\n")
    untracked = {
        "scratch.txt": "notes\n",
        "src/bigproj/pkg_04/new_module.py": "X = 1\n",
        "experiments/try_1.py": "print('hi')\n",
    }
    write_files(root, untracked)
    return {
        "tracked": len(files),
        "ignored": IGNORED,
        "modified": len(modified),
        "untracked": len(untracked),
    }


# --------------------------------------------------------------------------- timing helpers


def ms(seconds: float) -> float:
    return seconds * 1000.0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    k = (len(ordered) - 1) * q
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


@dataclass
class Intervals:
    """(start, duration) of every call of something, to be attributed to steps later."""

    spans: list[tuple[float, float]] = field(default_factory=list)

    def wrap(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.spans.append((start, time.perf_counter() - start))

        return timed

    def within(self, start: float, end: float) -> tuple[float, int]:
        inside = [d for s, d in self.spans if start <= s < end]
        return sum(inside), len(inside)


# --------------------------------------------------------------------------- snapshot


def bump_mtimes(root: Path) -> int:
    count = 0
    for top, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d != ".git"]
        for name in files:
            path = os.path.join(top, name)
            mtime = os.stat(path).st_mtime + 2
            os.utime(path, (mtime, mtime))
            count += 1
    return count


def bench_snapshot(root: Path, runs: int) -> dict[str, Any]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        snap = Workspace.open(root).snapshot()
        times.append(time.perf_counter() - start)
    # One more run with every git command timed, to say where the time goes.
    commands: list[tuple[str, float]] = []
    original = workspace_module._git

    def timed_git(args: list[str], cwd: Path, wrap=None) -> str | None:
        start = time.perf_counter()
        try:
            return original(args, cwd, wrap)
        finally:
            commands.append((" ".join(args), time.perf_counter() - start))

    workspace_module._git = timed_git
    try:
        start = time.perf_counter()
        Workspace.open(root).snapshot()
        breakdown_total = time.perf_counter() - start
    finally:
        workspace_module._git = original
    # Every file's mtime changed (a branch switch, a formatter over the tree): git status
    # re-reads the whole tree once, then writes the refreshed index.
    bump_mtimes(root)
    stale = []
    for _ in range(2):
        start = time.perf_counter()
        Workspace.open(root).snapshot()
        stale.append(time.perf_counter() - start)
    return {
        "stale": stale,
        "cold": times[0],
        "warm": times[1:] or times,
        "commands": commands,
        "breakdown_total": breakdown_total,
        "status_lines": len(snap.status.splitlines()),
        "facts_chars": len(snap.text()),
    }


# --------------------------------------------------------------------------- agent session


def turn_calls(turn: int) -> list[tuple[str, dict[str, Any]]]:
    """About ten tool steps of a realistic turn, in package pkg_<turn>."""
    p = turn % PACKAGES
    pkg = f"src/bigproj/pkg_{p:02d}"
    target = module_path(p, 1, 2)
    n = p * 1000 + 102
    scratch = f"{pkg}/scratch_{turn}.py"
    return [
        ("list_files", {"path": "." if turn == 0 else pkg}),
        ("search", {"pattern": f"def compute_{n}\\b", "path": "src"}),
        ("read_file", {"path": target}),
        ("search", {"pattern": "clamp", "path": f"{pkg}/sub_01"}),
        ("read_file", {"path": target, "start": 10, "end": 16}),
        (
            "write_file",
            {"path": scratch, "content": f"VALUE = {turn}\n\n\ndef f():\n    return 1\n"},
        ),
        ("patch_file", {"path": scratch, "old_text": "return 1", "new_text": "return 2"}),
        (
            "patch_file",
            {"path": target, "old_text": "total += step", "new_text": "total += step + 1"},
        ),
        ("read_file", {"path": target, "start": 1, "end": 12}),
        ("run_shell", {"command": "true"}),
    ]


def text_call(name: str, args: dict[str, Any]) -> str:
    payload = json.dumps({"name": name, "args": args})
    return f"I will use {name} next.\n<tool>{payload}</tool>"


def script(turns: int, tool_mode: str) -> tuple[list[ModelReply | str], list[str]]:
    replies: list[ModelReply | str] = []
    requests = []
    for turn in range(turns):
        requests.append(f"Task {turn}: adjust compute in package {turn % PACKAGES} and check it.")
        for i, (name, args) in enumerate(turn_calls(turn)):
            if tool_mode == "native":
                call = ToolCall(name=name, args=args, id=f"t{turn}_{i}")
                replies.append(ModelReply(content="", tool_calls=[call]))
            else:
                replies.append(text_call(name, args))
        answer = f"Done with task {turn}: patched the module and ran the checks."
        replies.append(answer if tool_mode == "native" else f"<final>{answer}</final>")
    return replies, requests


@dataclass
class Step:
    wall: float
    model: float
    tools: float
    appends: float
    append_count: int
    final: bool
    tool: str = ""

    @property
    def overhead(self) -> float:
        return self.wall - self.model - self.tools


def answer_summaries(chat: Callable[..., ModelReply]) -> Callable[..., ModelReply]:
    """Answer the agent's compaction requests (asked when the conversation nears num_ctx)
    with a summary, outside the script, so that the scripted steps stay in step."""

    def chat_or_summarize(messages: list[dict[str, Any]], **kwargs: Any) -> ModelReply:
        last = messages[-1].get("content") if messages else None
        if SUMMARY_REQUEST and isinstance(last, str) and last.startswith(SUMMARY_REQUEST):
            return ModelReply(content="Summary: read and patched modules; tests not run yet.")
        return chat(messages, **kwargs)

    return chat_or_summarize


def bench_agent(root: Path, turns: int, tool_mode: str, profile: bool) -> dict[str, Any]:
    replies, requests = script(turns, tool_mode)
    model = ScriptedModel(replies)
    model_time, tool_time, append_time = Intervals(), Intervals(), Intervals()
    model.chat = model_time.wrap(answer_summaries(model.chat))  # type: ignore[method-assign]
    marks: list[tuple[str, float]] = []
    notices: list[str] = []

    def sink(event: object) -> None:
        if isinstance(event, ModelStarted | Final):
            marks.append((type(event).__name__, time.perf_counter()))
        elif isinstance(event, ToolStarted):
            marks.append((event.call.name, time.perf_counter()))
        elif isinstance(event, Notice):
            notices.append(event.message)

    settings = Settings(cwd=str(root), approval="auto", tool_mode=tool_mode, max_steps=100)
    start = time.perf_counter()
    runtime = build_runtime(settings, sink=sink, approver=lambda _r: Approval("once"), client=model)
    startup = time.perf_counter() - start
    agent = runtime.agent
    # The call runner is what runs the tools; the agent's own registry only describes them.
    agent.calls.registry = ToolRegistry(
        replace(tool, run=tool_time.wrap(tool.run)) for tool in agent.registry
    )
    runtime.session.append = append_time.wrap(runtime.session.append)  # type: ignore[method-assign]

    profiler = cProfile.Profile() if profile else None
    steps: list[Step] = []
    turn_walls = []
    for request in requests:
        marks.clear()
        if profiler:
            profiler.enable()
        begin = time.perf_counter()
        agent.ask(request)
        end = time.perf_counter()
        if profiler:
            profiler.disable()
        turn_walls.append(end - begin)
        starts = [t for kind, t in marks if kind == "ModelStarted"]
        bounds = [begin, *starts[1:], end]
        for i, (a, b) in enumerate(itertools.pairwise(bounds)):
            appends, count = append_time.within(a, b)
            steps.append(
                Step(
                    wall=b - a,
                    model=model_time.within(a, b)[0],
                    tools=tool_time.within(a, b)[0],
                    appends=appends,
                    append_count=count,
                    final=i == len(bounds) - 2,
                    tool=next((k for k, t in marks if a <= t < b and k not in MARKS), "answer"),
                )
            )
    ok_results = sum(1 for r in runtime.session.records if r.get("type") == "tool" and r.get("ok"))
    tool_records = sum(1 for r in runtime.session.records if r.get("type") == "tool")
    largest = max((r["messages"] for r in model.requests), key=lambda m: len(json.dumps(m)))
    encode_start = time.perf_counter()
    request_bytes = len(json.dumps(largest, ensure_ascii=False))
    encode = time.perf_counter() - encode_start
    stats = None
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(25)
        stats = out.getvalue()
    return {
        "startup": startup,
        "steps": steps,
        "turns": turn_walls,
        "tool_records": tool_records,
        "tool_ok": ok_results,
        "messages": len(agent.conversation.messages),
        "session_bytes": runtime.session.path.stat().st_size,
        "request_bytes": request_bytes,
        "encode": encode,
        "profile": stats,
        "compactions": sum(1 for n in notices if n.startswith("compacted")),
        "notices": len(notices),
    }


# --------------------------------------------------------------------------- report


def row(label: str, values: list[float]) -> str:
    figures = [statistics.median(values), percentile(values, 0.95), max(values)]
    return f"  {label:<34}" + "".join(f"{ms(v):>9.2f}" for v in figures)


def report(repo: dict[str, int], gen: float, snap: dict[str, Any], run: dict[str, Any]) -> None:
    print(f"machine: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, {git_version()}")
    print(
        f"repository: {repo['tracked']} tracked files, {repo['ignored']} ignored in build/, "
        f"{repo['modified']} modified, {repo['untracked']} untracked (generated in {gen:.1f} s)"
    )
    print()
    warm = snap["warm"]
    print(f"snapshot (Workspace.open(root).snapshot(), {len(warm) + 1} runs)")
    print(
        f"  cold (first)        {ms(snap['cold']):8.1f} ms   (first in this process; OS cache warm)"
    )
    print(
        f"  warm median         {ms(statistics.median(warm)):8.1f} ms"
        f"   (min {ms(min(warm)):.1f}, max {ms(max(warm)):.1f})"
    )
    print(
        f"  one warm run, by git command ({ms(snap['breakdown_total']):.1f} ms in all; "
        f"{snap['status_lines']} status lines, {snap['facts_chars']} chars of facts):"
    )
    for command, seconds in snap["commands"]:
        print(f"    git {command:<50} {ms(seconds):7.1f} ms")
    first, second = snap["stale"]
    print(
        f"  stale index (every mtime bumped): {ms(first):.1f} ms once, then {ms(second):.1f} ms "
        "(not a target; git re-reads the tree and rewrites its index)"
    )
    print()
    steps: list[Step] = run["steps"]
    tool_steps = [s for s in steps if not s.final]
    print(
        f"agent session: {len(run['turns'])} turns, {len(steps)} steps "
        f"({len(tool_steps)} tool steps, {run['tool_ok']}/{run['tool_records']} tools ok), "
        f"runtime built in {ms(run['startup']):.0f} ms (includes a snapshot)"
    )
    print(f"  {'per step (ms)':<34}{'median':>9}{'p95':>9}{'max':>9}")
    print(row("wall", [s.wall for s in steps]))
    print(row("model (scripted; excluded)", [s.model for s in steps]))
    print(row("tool runs (excluded)", [s.tools for s in steps]))
    print(row("harness overhead", [s.overhead for s in steps]))
    appends = [s.appends for s in steps]
    print(row("  of which session appends (fsync)", appends))
    print(row("  of which the rest", [s.overhead - s.appends for s in steps]))
    print(row("harness overhead, tool steps only", [s.overhead for s in tool_steps]))
    print(f"  {'harness overhead by step kind (ms)':<34}{'median':>9}{'p95':>9}{'max':>9}")
    for kind in dict.fromkeys(s.tool for s in steps):
        values = [s.overhead for s in steps if s.tool == kind]
        print(row(f"  {kind} (n={len(values)})", values))
    total_overhead = sum(s.overhead for s in steps)
    share = sum(appends) / total_overhead if total_overhead else 0.0
    per_step = statistics.mean(s.append_count for s in steps)
    print(
        f"  session appends: {per_step:.1f} records/step, {share:.0%} of all harness overhead; "
        f"session file {run['session_bytes'] // 1024} KiB"
    )
    print(
        f"  conversation: {run['messages']} messages at the end, {run['compactions']} "
        f"compactions on the way (default num_ctx; counted in the step they fall in)"
    )
    size = run["request_bytes"] // 1024
    print(
        f"  for scale (not counted): encoding the largest request as JSON, as a real "
        f"client does each step, takes {ms(run['encode']):.2f} ms ({size} KiB)"
    )
    if run["profile"]:
        print()
        print("profile of the agent turns (tottime):")
        print(run["profile"])
    overhead = statistics.median(s.overhead for s in steps)
    verdict_step = "ok" if overhead < STEP_TARGET_MS / 1000 else "MISSED"
    worst_snap = max(snap["cold"], statistics.median(warm))
    verdict_snap = "ok" if worst_snap < SNAPSHOT_TARGET_MS / 1000 else "MISSED"
    print()
    print(
        f"overhead: {ms(overhead):.1f} ms/step median, "
        f"{ms(percentile([s.overhead for s in steps], 0.95)):.1f} ms p95 "
        f"(target < {STEP_TARGET_MS:g} ms, {verdict_step}); "
        f"snapshot: {ms(statistics.median(warm)):.0f} ms warm, {ms(snap['cold']):.0f} ms cold "
        f"(target < {SNAPSHOT_TARGET_MS:g} ms, {verdict_snap})"
    )


def git_version() -> str:
    done = subprocess.run(["git", "--version"], capture_output=True, text=True)
    return done.stdout.strip() or "git ?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=20_000, help="tracked files (20000)")
    parser.add_argument("--snapshots", type=int, default=11, help="snapshot runs (11)")
    parser.add_argument("--turns", type=int, default=6, help="user turns of 10 tool steps (6)")
    parser.add_argument("--tool-mode", choices=("native", "text"), default="native")
    parser.add_argument("--profile", action="store_true", help="cProfile the agent turns")
    parser.add_argument("--keep", action="store_true", help="keep the generated repository")
    options = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="mca-overhead-"))
    try:
        root = tmp / "bigproj"
        root.mkdir()
        start = time.perf_counter()
        repo = generate_repo(root, options.files)
        gen = time.perf_counter() - start
        # Write the fresh tree (and later the rewritten index) out to disk first, or the
        # session's first fsyncs pay for it: ext4 commits other files' dirty data with them.
        os.sync()
        snap = bench_snapshot(root, max(2, options.snapshots))
        os.sync()
        run = bench_agent(root, options.turns, options.tool_mode, options.profile)
        report(repo, gen, snap, run)
    finally:
        if options.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
