"""list_files and search: ripgrep over the workspace, with pure-Python fallbacks."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

from pydantic import Field

from mini_coding_agent.tools.registry import Args, Tool, ToolContext, ToolError
from mini_coding_agent.workspace import SKIPPED_DIRS

MAX_MATCHES = 200
LIST_LIMIT = 200
MAX_COLUMNS = 300
BINARY_SNIFF = 8192
RG_TIMEOUT = 30
EXCLUDE_GLOBS = [arg for name in sorted(SKIPPED_DIRS) for arg in ("--glob", f"!{name}")]


def find_rg() -> str | None:
    """The ripgrep binary: on PATH, or installed next to this interpreter by the ripgrep wheel."""
    found = shutil.which("rg")
    if found:
        return found
    beside = Path(sys.executable).parent / "rg"
    return str(beside) if beside.is_file() and os.access(beside, os.X_OK) else None


def is_binary(path: Path) -> bool:
    with path.open("rb") as handle:
        return b"\0" in handle.read(BINARY_SNIFF)


def walk_files(target: Path) -> Iterator[Path]:
    """Regular files below target in sorted order, skipping .git, the state dir and symlinks."""
    if target.is_file():
        yield target
        return
    for top, dirs, files in os.walk(target):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS)
        for name in sorted(files):
            path = Path(top, name)
            if not path.is_symlink() and path.is_file():
                yield path


def _compile(pattern: str) -> tuple[re.Pattern[str], bool]:
    flags = 0 if any(c.isupper() for c in pattern) else re.IGNORECASE
    try:
        return re.compile(pattern, flags), False
    except re.error:
        return re.compile(re.escape(pattern), flags), True


def python_search(
    root: Path, target: Path, pattern: str, limit: int = MAX_MATCHES
) -> tuple[list[str], bool, bool]:
    """Search like rg, without rg: (lines 'path:line:text', more exist, searched as literal)."""
    regex, literal = _compile(pattern)
    hits: list[str] = []
    for path in walk_files(target):
        try:
            if is_binary(path):
                continue
            with path.open(encoding="utf-8", errors="replace", newline="") as handle:
                for number, line in enumerate(handle, 1):
                    text = line.rstrip("\r\n")
                    if regex.search(text):
                        if len(hits) == limit:
                            return hits, True, literal
                        rel = path.relative_to(root).as_posix()
                        hits.append(f"{rel}:{number}:{text[:MAX_COLUMNS]}")
        except OSError:
            continue
    return hits, False, literal


def _run_rg(
    rg: str, root: Path, rel: str, pattern: str, fixed: bool
) -> tuple[list[str], bool, str]:
    argv = [rg, "--no-config", "-n", "-H", "--no-heading", "--color", "never", "--smart-case"]
    argv += ["--hidden", "--no-messages"]
    argv += ["--sort", "path", "--max-columns", str(MAX_COLUMNS), "--max-columns-preview"]
    argv += [*EXCLUDE_GLOBS, *(["--fixed-strings"] if fixed else []), "-e", pattern, "--", rel]
    proc = subprocess.Popen(
        argv,
        cwd=root,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    hits: list[str] = []
    more = False
    assert proc.stdout is not None and proc.stderr is not None
    deadline = threading.Timer(RG_TIMEOUT, proc.kill)  # nothing may block the agent for good
    deadline.start()
    with proc:
        for raw in proc.stdout:
            if len(hits) == MAX_MATCHES:
                more = True
                proc.kill()
                break
            line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            hits.append(line[2:] if line.startswith("./") else line)
        try:
            stderr = proc.communicate(timeout=RG_TIMEOUT)[1]
        except subprocess.TimeoutExpired:
            proc.kill()
            stderr = b""
    deadline.cancel()
    return hits, more, stderr.decode("utf-8", errors="replace")


def rg_search(rg: str, root: Path, rel: str, pattern: str) -> tuple[list[str], bool, bool]:
    hits, more, stderr = _run_rg(rg, root, rel, pattern, fixed=False)
    if not hits and "regex parse error" in stderr:
        hits, more, _ = _run_rg(rg, root, rel, pattern, fixed=True)
        return hits, more, True
    return hits, more, False


class ListFilesArgs(Args):
    path: str = Field(".", description="Directory to list, relative to the repo root.")


def _rg_files(rg: str, root: Path, rel: str) -> list[str]:
    argv = [
        rg,
        "--no-config",
        "--files",
        "--hidden",
        "--no-messages",
        "--null",
        *EXCLUDE_GLOBS,
        "--",
        rel,
    ]
    try:
        done = subprocess.run(
            argv, cwd=root, stdin=subprocess.DEVNULL, capture_output=True, timeout=RG_TIMEOUT
        )
    except subprocess.TimeoutExpired:
        raise ToolError("listing took too long; narrow the path") from None
    names = done.stdout.decode("utf-8", errors="replace").split("\0")
    return [name.removeprefix("./") for name in names if name]


def _list_files(ctx: ToolContext, args: ListFilesArgs) -> str:
    ws = ctx.workspace
    target = ws.resolve(args.path)
    if not target.exists():
        raise ToolError(f"no such directory: {args.path}")
    if not target.is_dir():
        raise ToolError(f"{ws.rel(target)} is a file, not a directory; use read_file to read it")
    rg = find_rg()
    if rg:
        names = _rg_files(rg, ws.root, ws.rel(target))
    else:
        names = [ws.rel(path) for path in walk_files(target)]
    if not names:
        return "(no files)"
    names.sort()
    lines = names[:LIST_LIMIT]
    if len(names) > LIST_LIMIT:
        lines.append(f"... {len(names) - LIST_LIMIT} more files; narrow the path")
    return "\n".join(lines)


class SearchArgs(Args):
    pattern: str = Field(
        description="Regex (or plain text) to find; case-insensitive unless it has capitals."
    )
    path: str = Field(".", description="File or directory to search, relative to the repo root.")


def _search(ctx: ToolContext, args: SearchArgs) -> str:
    ws = ctx.workspace
    if not args.pattern:
        raise ToolError("pattern must not be empty")
    target = ws.resolve(args.path)
    if not target.exists():
        raise ToolError(f"no such file or directory: {args.path}")
    if not (target.is_file() or target.is_dir()):
        raise ToolError(f"{ws.rel(target)} is not a regular file or directory")
    rg = find_rg()
    if rg:
        hits, more, literal = rg_search(rg, ws.root, ws.rel(target), args.pattern)
    else:
        hits, more, literal = python_search(ws.root, target, args.pattern)
    lines = []
    if literal:
        lines.append("(pattern is not a valid regex; searched for it as plain text)")
    lines += hits or ["(no matches)"]
    if more:
        lines.append(f"... stopped at {MAX_MATCHES} matches; narrow the pattern or path")
    return "\n".join(lines)


LIST_FILES = Tool(
    name="list_files",
    description="List files below a directory (recursive, respects .gitignore), "
    "paths relative to the repo root.",
    params=ListFilesArgs,
    run=_list_files,
)
SEARCH = Tool(
    name="search",
    description="Search file contents for a regex (ripgrep, respects .gitignore); "
    "prints path:line:text for each match.",
    params=SearchArgs,
    run=_search,
)
