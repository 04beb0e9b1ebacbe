"""Session files: durable, readable after a torn write, private to each agent."""

import json
import subprocess
import sys
from pathlib import Path

from harness import Run, cli_command
from mini_coding_agent.sessions import SessionStore


def test_two_agents_in_one_repository_keep_separate_sessions(repo: Path, ollama):
    def responder(body):
        last = body["messages"][-1]
        if last["role"] == "user":
            return {
                "tool_calls": [{"name": "list_files", "arguments": {"path": "."}}],
                "chunk_delay": 0.01,
            }
        request = next(m for m in body["messages"] if m["role"] == "user")["content"]
        return {"content": f"done: {request}", "chunk_delay": 0.01}

    ollama.responder = responder
    agents = [
        subprocess.Popen(
            [*cli_command(repo, host=ollama.url), f"agent {n}"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(4)
    ]
    outputs = [agent.communicate(timeout=60) for agent in agents]
    assert [agent.returncode for agent in agents] == [0] * 4, outputs
    assert sorted(out for out, _ in outputs) == [f"done: agent {n}\n" for n in range(4)]

    store = SessionStore(repo / ".mini-coding-agent" / "sessions")
    assert len(store.ids()) == 4
    requests = set()
    for session_id in store.ids():
        records = store.open(session_id).records
        mine = [r["request"] for r in records if "request" in r]
        assert len(mine) == 1
        requests.add(mine[0])
        for line in (store.directory / f"{session_id}.jsonl").read_text().splitlines():
            json.loads(line)  # every line whole: no interleaved writes
    assert requests == {f"agent {n}" for n in range(4)}


def test_a_torn_last_line_is_skipped_and_the_session_goes_on(repo: Path):
    first = Run(repo, ["one"])
    first.ask("first")
    path = first.runtime.session.path
    whole = path.read_bytes()
    path.write_bytes(whole + b'{"type": "message", "message": {"role": "assist')
    resumed = Run(repo, ["two"], resume="latest")
    assert resumed.ask("second") == "two"
    lines = path.read_bytes().split(b"\n")
    assert sum(1 for line in lines if line.startswith(b'{"type": "message"')) == 4
    assert [m["role"] for m in resumed.agent.conversation.messages] == [
        "system",
        "user",
        "assistant",
        "user",
        "assistant",
    ]


def test_every_record_is_on_disk_when_append_returns(repo: Path):
    run = Run(repo, ["answer"])
    run.ask("question")
    on_disk = [json.loads(line) for line in run.runtime.session.path.read_text().splitlines()]
    assert on_disk == run.runtime.session.records
    assert sys.platform != "linux" or run.runtime.session.path.stat().st_mode & 0o777 == 0o600
