"""The interactive loop: read a request or a slash command, run it, render what happens."""

from __future__ import annotations

import sys
from collections.abc import Callable

from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from mini_coding_agent.app import Runtime
from mini_coding_agent.models.base import ModelError
from mini_coding_agent.permissions import PermissionsError
from mini_coding_agent.ui.console import ConsoleView, render_diff

COMMANDS = {
    "/help": "show these commands",
    "/memory": "show the working memory: task, files touched, notes",
    "/session": "show the path of this session's file",
    "/reset": "clear the conversation and memory (the session file keeps the history)",
    "/model": "show the model, its context and capabilities; /model NAME switches",
    "/tokens": "context used and what each turn cost in tokens",
    "/undo": "put back the files the last turn changed (repeat to go further back)",
    "/diff": "everything this session changed in the files, as a diff",
    "/permissions": "the approval mode and the rules in force; /permissions trust accepts the "
    "project's rules file",
    "/compact": "summarise the conversation so far to free context; /compact FOCUS steers it",
    "/exit": "leave (also /quit, Ctrl-D)",
    "/quit": "leave",
}


def banner(runtime: Runtime) -> Panel:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold cyan")
    grid.add_column()
    grid.add_row("workspace", str(runtime.workspace.root))
    grid.add_row(
        "model",
        f"{runtime.info.name}  ({runtime.agent.tool_mode} tool calls, "
        f"context {runtime.num_ctx:,} tokens)",
    )
    grid.add_row("approval", runtime.settings.approval)
    grid.add_row("sandbox", runtime.agent.context.sandbox.describe())
    resumed = "  (resumed)" if runtime.resumed else ""
    grid.add_row("session", f"{runtime.session.id}{resumed}")
    return Panel(grid, title="mini-coding-agent", subtitle="/help for commands", expand=False)


def status_line(runtime: Runtime) -> str:
    agent = runtime.agent
    fill = agent.budget.fill(agent.prompt_chars())
    return (
        f" {runtime.info.name} · context {fill:.0%} of {agent.budget.num_ctx:,} · "
        f"{agent.tool_mode} tools · approval {runtime.settings.approval} · {runtime.session.id}"
    )


def _reader(runtime: Runtime) -> Callable[[], str]:
    """prompt_toolkit with a history file on a terminal; plain lines from a pipe."""
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        return lambda: input()
    from prompt_toolkit import PromptSession
    from prompt_toolkit.completion import WordCompleter
    from prompt_toolkit.history import FileHistory

    history = FileHistory(str(runtime.workspace.state_dir / "history"))
    prompt = PromptSession(
        history=history,
        completer=WordCompleter(list(COMMANDS), sentence=True),
        complete_while_typing=False,
        bottom_toolbar=lambda: status_line(runtime),
    )
    return lambda: prompt.prompt("› ")


def run_repl(runtime: Runtime, view: ConsoleView) -> int:
    console = view.console
    console.print(banner(runtime))
    read = _reader(runtime)
    while True:
        try:
            line = read().strip()
        except EOFError:
            return 0
        except KeyboardInterrupt:
            continue
        if not line:
            continue
        try:
            if line.startswith("/"):
                if handle_command(line, runtime, view) == "exit":
                    return 0
                continue
            runtime.agent.ask(line)
        except OSError as error:  # the disk (full, unwritable): say so and keep the REPL
            view.close()
            console.print(Text(f"error: {error}", style="red"))
        except ModelError as error:
            view.close()
            console.print(Text(f"error: {error}", style="red"))
            if error.partial is not None and error.partial.content.strip():
                console.print(Text(error.partial.content.strip(), style="dim"))
        except KeyboardInterrupt:
            view.close()
            console.print(Text("interrupted", style="yellow"))


def handle_command(line: str, runtime: Runtime, view: ConsoleView) -> str | None:
    console = view.console
    name = line.split()[0].lower()
    if name in ("/exit", "/quit"):
        return "exit"
    if name == "/help":
        table = Table.grid(padding=(0, 2))
        for command, text in COMMANDS.items():
            table.add_row(Text(command, style="bold cyan"), text)
        console.print(table)
    elif name == "/memory":
        console.print(runtime.agent.memory.text() or "(working memory is empty)", markup=False)
    elif name == "/session":
        console.print(str(runtime.session.path), markup=False, soft_wrap=True)
    elif name == "/model":
        show_model(line, runtime, view)
    elif name == "/undo":
        console.print(runtime.agent.undo(), markup=False)
    elif name == "/diff":
        journal = runtime.agent.context.journal
        diff = journal.diff() if journal is not None else ""
        console.print(render_diff(diff, limit=None) if diff else "no changes in this session")
    elif name == "/permissions" and line.split()[1:] == ["trust"]:
        try:
            console.print(runtime.agent.permissions.trust_project(), markup=False)
        except PermissionsError as error:
            console.print(Text(f"error: {error}", style="red"))
    elif name == "/permissions":
        console.print(runtime.agent.permissions.describe(), markup=False)
    elif name == "/tokens":
        console.print(runtime.agent.budget.report(runtime.agent.prompt_chars()), markup=False)
    elif name == "/compact":
        focus = line[len(name) :].strip()
        try:
            done = runtime.agent.compact(focus, keep_recent=False)
        except KeyboardInterrupt:
            done = False
        view.close()
        if not done:
            console.print("nothing to compact yet")
    elif name == "/reset":
        runtime.agent.reset()
        console.print("conversation and memory cleared")
    else:
        console.print(Text(f"unknown command {name}; /help lists the commands", style="yellow"))
    return None


def show_model(line: str, runtime: Runtime, view: ConsoleView) -> None:
    console = view.console
    wanted = line.split(maxsplit=1)[1].strip() if len(line.split(maxsplit=1)) > 1 else ""
    if wanted:
        try:
            runtime.switch_model(wanted)
        except ModelError as error:
            console.print(Text(f"error: {error}", style="red"))
            return
    info = runtime.info
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold cyan")
    grid.add_row("model", f"{info.name} ({runtime.settings.provider} at {runtime.settings.host})")
    maximum = f"{info.context_length:,}" if info.context_length else "unknown"
    grid.add_row("context", f"{runtime.num_ctx:,} tokens used of the model's {maximum}")
    grid.add_row("capabilities", ", ".join(info.capabilities) or "unknown")
    grid.add_row("tool calls", runtime.agent.tool_mode)
    console.print(grid)
