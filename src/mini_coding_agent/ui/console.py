"""Terminal rendering of agent events with rich, and the terminal's approval prompt."""

from __future__ import annotations

import re
import sys
import time

from rich.console import Console, Group
from rich.live import Live
from rich.markdown import Markdown
from rich.markup import escape
from rich.spinner import Spinner
from rich.text import Text

from mini_coding_agent.events import (
    Event,
    Final,
    ModelDelta,
    ModelFinished,
    ModelStarted,
    Notice,
    Subagent,
    ToolFinished,
    ToolStarted,
)
from mini_coding_agent.permissions import Approval, ApprovalRequest
from mini_coding_agent.tools.registry import summarize

STREAM_TAIL_LINES = 12
DIFF_LINES = 60
# Control characters and bidirectional overrides from the model must not steer the terminal
# (or hide what the user approves): they are shown as escapes instead.
_UNSEEN = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def visible(text: str) -> str:
    return _UNSEEN.sub(
        lambda m: f"\\x{ord(m[0]):02x}" if ord(m[0]) < 256 else f"\\u{ord(m[0]):04x}", text
    )


class _Waiting:
    """The live region while the model works: a spinner with elapsed time and the newest text."""

    def __init__(self, show_text: bool):
        self.started = time.monotonic()
        self.show_text = show_text
        self.thinking = ""
        self.content = ""
        self.spinner = Spinner("dots", style="cyan")

    def __rich__(self) -> Group:
        elapsed = time.monotonic() - self.started
        label = "thinking" if self.thinking and not self.content else "working"
        self.spinner.update(text=Text(f"{label}… {elapsed:.1f}s", style="dim"))
        parts: list = []
        if self.show_text:
            if self.thinking and not self.content:
                parts.append(Text(_tail(self.thinking), style="dim italic"))
            elif self.content:
                parts.append(Text(_tail(self.content)))
        parts.append(self.spinner)
        return Group(*parts)


def _tail(text: str) -> str:
    return visible("\n".join(text.strip().splitlines()[-STREAM_TAIL_LINES:]))


class ConsoleView:
    """Renders events. In one-shot mode it writes to stderr so stdout holds only the answer."""

    def __init__(self, console: Console, *, interactive: bool):
        self.console = console
        self.interactive = interactive
        self._live: Live | None = None
        self._waiting: _Waiting | None = None

    def __call__(self, event: Event) -> None:
        depth = 0
        while isinstance(event, Subagent):
            event, depth = event.event, depth + 1
        if isinstance(event, ModelStarted):
            self._start_waiting(show_text=self.interactive and depth == 0)
        elif isinstance(event, ModelDelta):
            if self._waiting is not None:
                if event.kind == "thinking":
                    self._waiting.thinking += event.text
                else:
                    self._waiting.content += event.text
        elif isinstance(event, ModelFinished):
            self._stop_waiting()
        elif isinstance(event, ToolStarted):
            self._stop_waiting()
            line = Text("  " * depth + "▸ ", style="cyan")
            line.append(visible(summarize(event.call.name, event.call.args)), style="bold")
            self.console.print(line)
        elif isinstance(event, ToolFinished):
            first = event.output.strip().splitlines()[0] if event.output.strip() else "(empty)"
            mark, style = ("✓", "green") if event.ok else ("✗", "red")
            line = Text("  " * depth + f"  {mark} ", style=style)
            line.append(visible(first[:160]), style="dim" if event.ok else "red")
            self.console.print(line)
        elif isinstance(event, Notice):
            self._stop_waiting()
            self.console.print(Text("  " * depth + f"! {visible(event.message)}", style="yellow"))
        elif isinstance(event, Final) and self.interactive and depth == 0:
            self._stop_waiting()
            self.console.print(Markdown(visible(event.text)))

    def _start_waiting(self, show_text: bool) -> None:
        self._stop_waiting()
        if not self.console.is_terminal:
            return
        self._waiting = _Waiting(show_text)
        self._live = Live(
            self._waiting, console=self.console, transient=True, refresh_per_second=10
        )
        self._live.start()

    def _stop_waiting(self) -> None:
        if self._live is not None:
            self._live.stop()
        self._live = None
        self._waiting = None

    def close(self) -> None:
        self._stop_waiting()


class TerminalApprover:
    """Asks on the terminal, showing the diff a write would make; with no terminal to ask, it
    denies rather than hangs."""

    def __init__(self, view: ConsoleView):
        self.view = view

    def __call__(self, request: ApprovalRequest) -> Approval:
        console = self.view.console
        self.view.close()
        if not sys.stdin.isatty():
            console.print(
                Text(
                    f"  denied {request.summary}: no terminal to ask (use --approval auto, "
                    "or a rule in .mini-coding-agent/permissions.toml)",
                    style="yellow",
                )
            )
            return Approval("no")
        if request.tool == "run_shell":
            command = visible(str(request.args.get("command", "")))
            console.print(Text("\n".join(f"    $ {line}" for line in command.splitlines())))
        elif request.diff:
            console.print(render_diff(request.diff))
        elif request.tool == "write_file":
            console.print(Text(_preview(str(request.args.get("content", ""))), style="dim"))
        choices = "y once, s session, a always, N no" if request.remember else "y/N"
        try:
            answer = (
                console.input(
                    f"  allow [bold]{escape(visible(request.summary))}[/bold]? \\[{choices}] "
                )
                .strip()
                .lower()
            )
            if request.remember and answer in ("s", "a"):
                console.print(Text(f"  remembering: allow {request.remember}", style="dim"))
                return Approval("session" if answer == "s" else "always")
            if answer in ("y", "yes"):
                return Approval("once")
            reason = console.input("  reason for the model (optional): ").strip()
        except (EOFError, KeyboardInterrupt):
            console.print()
            return Approval("no")
        return Approval("no", reason)


def render_diff(diff: str, limit: int | None = DIFF_LINES) -> Text:
    """A unified diff coloured the usual way, indented; at most limit lines."""
    out = Text()
    lines = diff.splitlines()
    for line in lines[:limit]:
        style = (
            "bold"
            if line.startswith(("+++", "---"))
            else "green"
            if line.startswith("+")
            else "red"
            if line.startswith("-")
            else "cyan"
            if line.startswith("@@")
            else "dim"
        )
        out.append(f"    {visible(line)}\n", style=style)
    hidden = len(lines) - (limit or len(lines))
    if hidden > 0:
        out.append(f"    … {hidden} more diff lines\n", style="dim")
    return out


def _preview(text: str, lines: int = 20) -> str:
    rows = text.splitlines()
    shown = "\n".join(f"    {visible(row)}" for row in rows[:lines])
    if len(rows) > lines:
        shown += f"\n    … {len(rows) - lines} more lines"
    return shown or "    (empty)"
