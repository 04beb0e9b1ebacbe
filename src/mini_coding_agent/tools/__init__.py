"""The agent's tools. The names and argument names follow the original mini-coding-agent."""

from __future__ import annotations

from mini_coding_agent.tools.registry import ToolRegistry


def default_registry() -> ToolRegistry:
    from mini_coding_agent.tools.delegate import DELEGATE
    from mini_coding_agent.tools.edits import PATCH_FILE, WRITE_FILE
    from mini_coding_agent.tools.files import LIST_FILES, READ_FILE
    from mini_coding_agent.tools.search import SEARCH
    from mini_coding_agent.tools.shell import RUN_SHELL

    return ToolRegistry(
        [LIST_FILES, READ_FILE, SEARCH, RUN_SHELL, WRITE_FILE, PATCH_FILE, DELEGATE]
    )
