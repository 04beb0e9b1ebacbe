"""Prompt-prefix reuse across a real multi-turn session, measured as DESIGN.md defines it.

Runs a scripted four-turn session (16 tool steps: list, read, search, write, patch, run tests)
through the real CLI against the fake Ollama server, one process per turn with
`--resume latest`, then renders every request the server received as a ChatML-like string and
prints reuse, uncached characters and prefix breaks. For comparison it renders the same session
the way a prompt is shaped when the transcript and memory are re-rendered before every step
(the original mini-coding-agent's layout), and measures that too.

    python bench/prompt_cache.py [--rounds N]   (N times the four turns, one session)
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "tests")]

from fakes import FakeOllama  # noqa: E402
from fakes.scenarios import README_DOC, long_session  # noqa: E402


def render(request: dict) -> str:
    parts = [json.dumps(request.get("tools") or [], sort_keys=True)]
    for message in request["messages"]:
        calls = json.dumps(message.get("tool_calls") or [], sort_keys=True)
        parts.append(f"<|{message['role']}|>{message.get('content') or ''}{calls}<|end|>")
    return "".join(parts)


def common_prefix(a: str, b: str) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


def measure(prompts: list[str]) -> dict[str, int | float]:
    uncached = len(prompts[0])
    breaks = 0
    for before, after in itertools.pairwise(prompts):
        shared = common_prefix(before, after)
        breaks += shared < len(before)
        uncached += len(after) - shared
    total = sum(map(len, prompts))
    return {
        "requests": len(prompts),
        "total": total,
        "uncached": uncached,
        "breaks": breaks,
        "reuse": 1 - uncached / total,
    }


def physical_limit(requests: list[dict]) -> int:
    """The first prompt plus every message that was new in each later request."""
    limit = len(render(requests[0]))
    for before, after in itertools.pairwise(requests):
        new = {"messages": after["messages"][len(before["messages"]) :]}
        limit += len(render(new)) - len(render({"messages": []}))
    return limit


def rerendered_prompts(system: str, messages: list[dict]) -> list[str]:
    """The same session with a prompt rebuilt before every model call: a fixed prefix, then
    working memory, then the whole transcript (older items clipped shorter), then the request."""
    prompts, history, memory_files, notes, task, request = [], [], [], [], "", ""
    for message in messages[1:]:
        role = message["role"]
        if role == "user":
            request = message["content"].split("\n\nWorking memory:")[0]
            task = task or request
            history.append(f"[user] {request}")
        elif role == "assistant" and message.get("tool_calls"):
            for call in message["tool_calls"]:
                name, args = call["function"]["name"], call["function"]["arguments"]
                history.append(f"[tool:{name}] {json.dumps(args)}")
                if "path" in args:
                    memory_files.append(args["path"])
            continue
        elif role == "tool":
            history[-1] += "\n" + message["content"]
            notes = [*notes, message["content"][:220]][-5:]
        else:
            history.append(f"[assistant] {message['content']}")
            continue
        recent = len(history) - 6
        transcript = "\n".join(
            item[:900] if i >= recent else item[:200] for i, item in enumerate(history)
        )[:12000]
        memory = f"Memory:\n- task: {task}\n- files: {', '.join(dict.fromkeys(memory_files))}"
        memory += "".join(f"\n- {n}" for n in notes)
        prompts.append(f"{system}\n\n{memory}\n\nTranscript:\n{transcript}\n\nRequest: {request}")
    return prompts


def run_session(workdir: Path, rounds: int = 1) -> list[dict]:
    repo = workdir / "repo"
    repo.mkdir()
    (repo / "README.md").write_text(README_DOC)
    git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@localhost"]
    subprocess.run([*git, "init", "-q"], cwd=repo, check=True)
    subprocess.run([*git, "add", "-A"], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-qm", "start"], cwd=repo, check=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    env.pop("OLLAMA_HOST", None)
    with FakeOllama() as fake:
        turns = long_session(True, sys.executable) * rounds
        for turn, (request, replies) in enumerate(turns):
            fake.script(*replies)
            command = [
                sys.executable,
                "-m",
                "mini_coding_agent",
                "--cwd",
                str(repo),
                "--host",
                fake.url,
                "--approval",
                "auto",
                "--max-steps",
                "10",
            ]
            command += ["--resume", "latest"] if turn else []
            done = subprocess.run(
                [*command, request],
                capture_output=True,
                text=True,
                env=env,
                stdin=subprocess.DEVNULL,
                timeout=120,
            )
            if done.returncode != 0 or fake.pending:
                sys.exit(f"turn {turn + 1} failed: {done.stderr.strip()}")
        return fake.chat_requests


def main() -> None:
    rounds = int(sys.argv[sys.argv.index("--rounds") + 1]) if "--rounds" in sys.argv else 1
    with tempfile.TemporaryDirectory() as tmp:
        requests = run_session(Path(tmp), rounds)
    ours = measure([render(r) for r in requests])
    limit = physical_limit(requests)
    steps = sum(len(m.get("tool_calls") or []) for m in requests[-1]["messages"])
    system = requests[0]["messages"][0]["content"]
    seed = measure(rerendered_prompts(system, requests[-1]["messages"]))
    print(
        f"session: {4 * rounds} turns (one process each, --resume latest), {steps} tool steps, "
        f"{ours['requests']} requests"
    )
    print(f"{'':28}{'requests':>9}{'prompt chars':>14}{'uncached':>10}{'reuse':>8}{'breaks':>8}")
    for name, m in (("mini-coding-agent", ours), ("re-rendered each step", seed)):
        print(
            f"{name:28}{m['requests']:>9}{m['total']:>14,}{m['uncached']:>10,}"
            f"{m['reuse']:>8.1%}{m['breaks']:>8}"
        )
    print(f"physical limit (first prompt + everything new): {limit:,} characters")
    print(
        f"uncached / limit: {ours['uncached'] / limit:.2f}x; re-rendered: "
        f"{seed['uncached'] / limit:.2f}x; ours / re-rendered: "
        f"{ours['uncached'] / seed['uncached']:.2f}"
    )


if __name__ == "__main__":
    main()
