"""run_shell: a command in the repo root, bounded in time and in the output it keeps."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import BinaryIO

from pydantic import Field

from mini_coding_agent.tools.registry import OUTPUT_LIMIT, Args, Tool, ToolContext, ToolError
from mini_coding_agent.tools.sandbox import Sandbox

STREAM_LIMIT = 64 * 1024
SHOWN_LIMIT = OUTPUT_LIMIT - 1500
KILL_GRACE = 2.0
DRAIN_GRACE = 2.0
BASH = shutil.which("bash")
CHILD_ENV = {"GIT_TERMINAL_PROMPT": "0", "PAGER": "cat", "GIT_PAGER": "cat", "GIT_EDITOR": "true"}


def shell_argv(command: str, root: Path, sandbox: Sandbox | None = None) -> list[str]:
    """The argv that runs command, inside the sandbox when there is one and it is active.

    bash when there is one, since models write bash more often than POSIX sh. Raises
    SandboxUnavailable (a ToolError) when the sandbox is required but cannot run."""
    argv = [BASH or "/bin/sh", "-c", command]
    return sandbox.wrap(argv, root) if sandbox is not None else argv


class Capture:
    """Keeps the first and last limit/2 bytes of a stream and counts the rest."""

    def __init__(self, limit: int = STREAM_LIMIT):
        self.half = limit // 2
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0

    def feed(self, chunk: bytes) -> None:
        self.total += len(chunk)
        room = self.half - len(self.head)
        if room > 0:
            self.head += chunk[:room]
            chunk = chunk[room:]
        if chunk:
            self.tail += chunk
            del self.tail[: max(0, len(self.tail) - self.half)]

    def drain(self, stream: BinaryIO) -> None:
        with contextlib.suppress(OSError, ValueError):
            while chunk := os.read(stream.fileno(), 65536):
                self.feed(chunk)

    def text(self, limit: int) -> str:
        """Head and tail within about limit bytes, with a note of what was left out."""
        kept = bytes(self.head + self.tail)
        complete = self.total == len(kept)
        if complete and len(kept) <= limit:
            return kept.decode("utf-8", errors="replace").rstrip("\n") or "(empty)"
        last = kept if complete else bytes(self.tail)
        head, tail = kept[: limit * 2 // 3], last[len(last) - limit // 3 :]
        omitted = self.total - len(head) - len(tail)
        return (
            head.decode("utf-8", errors="replace")
            + f"\n[... {omitted} bytes of output omitted ...]\n"
            + tail.decode("utf-8", errors="replace").rstrip("\n")
        )


def _budgets(out: int, err: int, total: int) -> tuple[int, int]:
    half = total // 2
    if out + err <= total or err <= half:
        return max(total - err, half), err
    if out <= half:
        return out, total - out
    return half, half


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=KILL_GRACE)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def _join(threads: list[threading.Thread], grace: float) -> None:
    deadline = time.monotonic() + grace
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))


def run_command(
    command: str,
    root: Path,
    timeout: float,
    sandbox: Sandbox | None = None,
    hidden: tuple[str, ...] = (),
) -> str:
    """Run command; the variables named in hidden (the API key) are left out of its env."""
    env = {k: v for k, v in os.environ.items() if k not in hidden} | CHILD_ENV
    proc = subprocess.Popen(
        shell_argv(command, root, sandbox),
        cwd=root,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    out, err = Capture(), Capture()
    readers = [
        threading.Thread(target=out.drain, args=(proc.stdout,), daemon=True),
        threading.Thread(target=err.drain, args=(proc.stderr,), daemon=True),
    ]
    for reader in readers:
        reader.start()
    notes = []
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        notes.append(f"timed out after {timeout:g} s; the command and its children were killed")
    except BaseException:
        _kill_group(proc)
        raise
    _join(readers, DRAIN_GRACE)
    if any(reader.is_alive() for reader in readers):
        _kill_group(proc)
        notes.append("background processes still held the output open and were stopped")
        _join(readers, DRAIN_GRACE)
    for reader, stream in zip(readers, (proc.stdout, proc.stderr), strict=True):
        if not reader.is_alive() and stream is not None:
            stream.close()
    head = f"exit code: {proc.returncode}"
    if proc.returncode < 0 and -proc.returncode in signal.valid_signals():
        notes.insert(0, signal.Signals(-proc.returncode).name)
    if notes:
        head += f" ({'; '.join(notes)})"
    out_limit, err_limit = _budgets(out.total, err.total, SHOWN_LIMIT)
    return f"{head}\nstdout:\n{out.text(out_limit)}\nstderr:\n{err.text(err_limit)}"


class RunShellArgs(Args):
    command: str = Field(description="Shell command to run in the repo root, e.g. 'pytest -q'.")
    timeout: int = Field(20, ge=1, le=600, description="Seconds before the command is killed.")


def _run_shell(ctx: ToolContext, args: RunShellArgs) -> str:
    if not args.command.strip():
        raise ToolError("command must not be empty")
    return run_command(args.command, ctx.workspace.root, args.timeout, ctx.sandbox, ctx.hidden_env)


RUN_SHELL = Tool(
    name="run_shell",
    description="Run a shell command in the repo root and return its exit code, stdout and "
    "stderr. Non-interactive: stdin is empty.",
    params=RunShellArgs,
    run=_run_shell,
    risky=True,
)
