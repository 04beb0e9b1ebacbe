"""Test harness: the agent assembled as the CLI does it with a scripted model, and the CLI
itself as a subprocess."""

import os
import subprocess
import sys
from pathlib import Path
from typing import TypeVar

from mini_coding_agent.app import build_runtime
from mini_coding_agent.events import ToolFinished
from mini_coding_agent.models.base import ModelClient, ModelReply
from mini_coding_agent.models.scripted import ScriptedModel
from mini_coding_agent.permissions import Approval, ApprovalRequest
from mini_coding_agent.settings import Settings

Client = TypeVar("Client")
OPENED: list = []  # model clients opened by the running test, closed after it (conftest.py)


def reply(*calls, content="", usage=None):
    if usage is None:
        return ModelReply(content=content, tool_calls=list(calls))
    return ModelReply(content=content, tool_calls=list(calls), usage=usage)


def opened(client: Client) -> Client:
    """Keep a model client to be closed when the test ends."""
    OPENED.append(client)
    return client


def close_opened() -> None:
    while OPENED:
        OPENED.pop().close()


def ask(client: ModelClient, text: str = "hi", **kwargs) -> ModelReply:
    """One user message to a model client."""
    return client.chat([{"role": "user", "content": text}], **kwargs)


class Run:
    """A runtime built the way the CLI builds it, with a scripted model and recorded events."""

    def __init__(self, repo, steps, *, approval="auto", tool_mode="native", approve=None, **kw):
        self.events = []
        self.asked: list[ApprovalRequest] = []
        self.model = ScriptedModel(steps)

        def approver(request):
            self.asked.append(request)
            if isinstance(approve, Approval):
                return approve
            return Approval("once" if approve else "no")

        settings = Settings(cwd=str(repo), approval=approval, tool_mode=tool_mode, **kw)
        self.runtime = build_runtime(
            settings, sink=self.events.append, approver=approver, client=self.model
        )
        self.agent = self.runtime.agent

    def ask(self, text):
        return self.agent.ask(text)

    def results(self):
        return [e for e in self.events if isinstance(e, ToolFinished)]

    def last_messages(self):
        return self.model.requests[-1]["messages"]


def cli_command(repo: Path, host: str | None = None) -> list[str]:
    command = [sys.executable, "-m", "mini_coding_agent", "--cwd", str(repo)]
    return [*command, "--host", host] if host else command


def cli(repo: Path, *args: str, host: str | None = None, stdin: str | None = None, timeout=60):
    """The CLI as a subprocess, with no OLLAMA_HOST from the caller's environment."""
    env = {k: v for k, v in os.environ.items() if k != "OLLAMA_HOST"}
    return subprocess.run(
        [*cli_command(repo, host), *args],
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def one_error_line(done: subprocess.CompletedProcess) -> str:
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert lines, "expected an error line on stderr"
    return lines[0]
