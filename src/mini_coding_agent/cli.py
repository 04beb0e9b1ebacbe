"""The command line: flags → settings → a one-shot request or the interactive REPL.

Exit codes: 0 done, 1 model/server/runtime failure (one line on stderr), 2 usage error.
Heavy modules are imported only after the flags are parsed, so --help and --version stay fast.
"""

from __future__ import annotations

import sys

from mini_coding_agent.settings import parse_settings


def main(argv: list[str] | None = None) -> int:
    settings = parse_settings(argv)

    from rich.console import Console

    from mini_coding_agent.app import build_runtime
    from mini_coding_agent.models.base import ModelError
    from mini_coding_agent.permissions import PermissionsError
    from mini_coding_agent.sessions import SessionError
    from mini_coding_agent.ui.console import ConsoleView, TerminalApprover
    from mini_coding_agent.workspace import PathError

    interactive = not settings.prompt
    err = Console(stderr=True, highlight=False)
    view = ConsoleView(Console(highlight=False) if interactive else err, interactive=interactive)
    try:
        runtime = build_runtime(settings, sink=view, approver=TerminalApprover(view))
    except (PathError, SessionError, PermissionsError) as error:
        print(f"mini-coding-agent: error: {error}", file=sys.stderr)
        return 2
    except ModelError as error:
        print(f"mini-coding-agent: {error}", file=sys.stderr)
        return 1
    except OSError as error:  # the disk: a full one, an unwritable state folder
        print(f"mini-coding-agent: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130

    if interactive:
        from mini_coding_agent.ui.repl import run_repl

        return run_repl(runtime, view)

    try:
        answer = runtime.agent.ask(settings.prompt)
    except ModelError as error:
        view.close()
        print(f"mini-coding-agent: {error}", file=sys.stderr)
        if error.partial is not None and error.partial.content.strip():
            print(f"what arrived before that:\n{error.partial.content.strip()}", file=sys.stderr)
        print(f"(session saved; continue with --resume {runtime.session.id})", file=sys.stderr)
        return 1
    except OSError as error:
        view.close()
        print(f"mini-coding-agent: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        view.close()
        err.print("interrupted", style="yellow")
        return 130
    view.close()
    print(answer)
    return 0


if __name__ == "__main__":
    sys.exit(main())
