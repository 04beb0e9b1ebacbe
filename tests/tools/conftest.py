"""Fixtures for the tool tests: a real git repository, a directory outside it, and a caller."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from mini_coding_agent.tools.edits import PATCH_FILE, WRITE_FILE
from mini_coding_agent.tools.files import LIST_FILES, READ_FILE
from mini_coding_agent.tools.registry import ToolContext, ToolRegistry
from mini_coding_agent.tools.search import SEARCH
from mini_coding_agent.tools.shell import RUN_SHELL
from mini_coding_agent.workspace import Workspace

TOOLS = ToolRegistry([LIST_FILES, READ_FILE, WRITE_FILE, PATCH_FILE, SEARCH, RUN_SHELL])
Call = Callable[..., tuple[bool, str]]


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """An empty git repository (no commits) to act as the workspace."""
    path = tmp_path / "ws"
    path.mkdir()
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    return path.resolve()


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A directory next to the workspace, holding a secret the tools must not reach."""
    path = tmp_path / "outside"
    write(path / "secret.txt", "top secret password\n")
    return path.resolve()


def make_caller(path: Path) -> Call:
    workspace = Workspace.open(path)

    def call(name: str, **args: object) -> tuple[bool, str]:
        tool, parsed = TOOLS.validate(name, args)
        return TOOLS.execute(tool, parsed, ToolContext(workspace=workspace))

    return call


@pytest.fixture
def call(root: Path) -> Call:
    """Call a tool by name through the registry, as the agent does: (ok, text)."""
    return make_caller(root)
