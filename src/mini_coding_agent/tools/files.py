"""read_file: numbered lines of a text file, streamed so huge files are never loaded whole."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from pydantic import Field

from mini_coding_agent.tools.registry import Args, Tool, ToolContext, ToolError
from mini_coding_agent.tools.search import LIST_FILES, is_binary
from mini_coding_agent.workspace import Workspace

LINE_LIMIT = 2000
READ_BUDGET = 10_000

__all__ = ["LIST_FILES", "READ_FILE"]


def plural(count: int) -> str:
    return "1 line" if count == 1 else f"{count} lines"


def text_file(ws: Workspace, raw: str, *, for_write: bool = False) -> Path:
    """An existing regular, non-binary file inside the workspace."""
    target = ws.resolve(raw, for_write=for_write)
    if target.is_dir():
        raise ToolError(f"{ws.rel(target)} is a directory, not a file; use list_files")
    if not target.exists():
        raise ToolError(f"file not found: {raw}")
    if not target.is_file():
        raise ToolError(f"{ws.rel(target)} is not a regular file")
    if is_binary(target):
        size = target.stat().st_size
        raise ToolError(f"{ws.rel(target)} is a binary file ({size} bytes), not text")
    return target


def count_lines(path: Path) -> int:
    count, last = 0, b"\n"
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            count += chunk.count(b"\n")
            last = chunk[-1:]
    return count + (last != b"\n")


class ReadFileArgs(Args):
    path: str = Field(description="File to read, relative to the repo root.")
    start: int = Field(1, ge=1, description="First line to show (1-based).")
    end: int = Field(200, ge=1, description="Last line to show (inclusive).")


def _iter_lines(handle: BinaryIO) -> Iterator[str]:
    """Decoded lines without endings, each cut at LINE_LIMIT; a long line is never held whole."""
    cap = LINE_LIMIT * 4
    while chunk := handle.readline(cap):
        rest, cut = chunk, False
        while len(rest) == cap and not rest.endswith(b"\n"):
            rest = handle.readline(cap)
            cut = cut or rest not in (b"", b"\n", b"\r\n")
        text = chunk.decode("utf-8", errors="replace").rstrip("\r\n")
        if cut or len(text) > LINE_LIMIT:
            text = f"{text[:LINE_LIMIT]} [... line cut at {LINE_LIMIT} characters]"
        yield text


def _read_file(ctx: ToolContext, args: ReadFileArgs) -> str:
    ws = ctx.workspace
    target = text_file(ws, args.path)
    name = ws.rel(target)
    if ctx.reads is not None:
        call = ctx.reads.seen(target, args.start, args.end)
        if call is not None:
            return (
                f"# {name} lines {args.start}-{args.end} are unchanged since read_file call "
                f"{call}; use that result above"
            )
    total = count_lines(target)
    if total == 0:
        return f"# {name} (empty file)"
    if args.end < args.start:
        raise ToolError(
            f"end ({args.end}) is before start ({args.start}); {name} has {total} lines"
        )
    if args.start > total:
        raise ToolError(f"start ({args.start}) is past the end of {name}, which has {total} lines")
    end = min(args.end, total)
    shown: list[str] = []
    used, last = 0, args.start - 1
    with target.open("rb") as handle:
        for number, text in enumerate(_iter_lines(handle), 1):
            if number < args.start:
                continue
            if number > end or (shown and used + len(text) > READ_BUDGET):
                break
            shown.append(f"{number:>4}: {text}")
            used += len(text) + 7
            last = number
    lines = [f"# {name} (lines {args.start}-{last} of {total})", *shown]
    if last < end:
        lines.append(f"[stopped at line {last} to keep the output short; next: start={last + 1}]")
    if ctx.reads is not None:
        ctx.reads.shown(target, args.start, args.end)
    return "\n".join(lines)


READ_FILE = Tool(
    name="read_file",
    description="Read a text file with line numbers, lines start..end (inclusive).",
    params=ReadFileArgs,
    run=_read_file,
)
