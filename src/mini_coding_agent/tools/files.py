"""File tools: read, write and patch files inside the workspace (list_files lives in search)."""

from __future__ import annotations

import contextlib
import difflib
import os
import stat
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from pydantic import Field

from mini_coding_agent.tools.registry import Args, Tool, ToolContext, ToolError
from mini_coding_agent.tools.search import LIST_FILES, is_binary
from mini_coding_agent.workspace import Workspace

LINE_LIMIT = 2000
READ_BUDGET = 10_000
CLOSEST_SCAN = 50_000

__all__ = ["LIST_FILES", "PATCH_FILE", "READ_FILE", "WRITE_FILE", "apply_patch"]


def _plural(count: int) -> str:
    return "1 line" if count == 1 else f"{count} lines"


def _text_file(ws: Workspace, raw: str, *, for_write: bool = False) -> Path:
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


def _count_lines(path: Path) -> int:
    count, last = 0, b"\n"
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            count += chunk.count(b"\n")
            last = chunk[-1:]
    return count + (last != b"\n")


def _encode(text: str) -> bytes:
    try:
        return text.encode("utf-8", errors="surrogateescape")
    except UnicodeEncodeError:
        raise ToolError("text contains characters that cannot be written as UTF-8") from None


def _atomic_write(path: Path, data: bytes, mode: int) -> None:
    """Write via a synced temp file in the same directory, then rename over the target."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name[:60]}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def _writable_mode(ws: Workspace, path: Path) -> int:
    if not os.access(path, os.W_OK):
        raise ToolError(f"{ws.rel(path)} is read-only")
    return stat.S_IMODE(path.stat().st_mode)


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
    target = _text_file(ws, args.path)
    name = ws.rel(target)
    if ctx.reads is not None:
        call = ctx.reads.seen(target, args.start, args.end)
        if call is not None:
            return (
                f"# {name} lines {args.start}-{args.end} are unchanged since read_file call "
                f"{call}; use that result above"
            )
    total = _count_lines(target)
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


class WriteFileArgs(Args):
    path: str = Field(description="File to create or overwrite, relative to the repo root.")
    content: str = Field(
        description="The complete new content of the file (a final newline is added if missing)."
    )


def _new_file_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def _write_file(ctx: ToolContext, args: WriteFileArgs) -> str:
    ws = ctx.workspace
    target = ws.resolve(args.path, for_write=True)
    name = ws.rel(target)
    if target.is_dir():
        raise ToolError(f"{name} is a directory; give a file path")
    content = args.content
    if content and not content.endswith("\n"):
        content += "\r\n" if "\r\n" in content else "\n"
    data = _encode(content)
    count = data.count(b"\n")
    if target.exists():
        if not target.is_file():
            raise ToolError(f"{name} is not a regular file")
        mode, old = _writable_mode(ws, target), _count_lines(target)
        _atomic_write(target, data, mode)
        return f"overwrote {name} ({_plural(count)}, was {old})"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise ToolError(f"cannot create {name}: part of its directory path is a file") from None
    _atomic_write(target, data, _new_file_mode())
    return f"created {name} ({_plural(count)})"


class PatchFileArgs(Args):
    path: str = Field(description="File to edit, relative to the repo root.")
    old_text: str = Field(
        description="Text to replace, copied from the file; must occur exactly once. "
        "Include a few surrounding lines if it is short."
    )
    new_text: str = Field(description="Text to put in its place (empty to delete it).")


_PUNCT = str.maketrans(
    {
        **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032", "'"),
        **dict.fromkeys("\u201c\u201d\u201e\u201f\u2033", '"'),
        **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212", "-"),
        **dict.fromkeys("\u00a0\u2007\u2009\u202f\u3000", " "),
        "\u2026": "...",
    }
)
_FUZZY: tuple[tuple[str, Callable[[str], str], bool], ...] = (
    ("ignoring trailing whitespace", str.rstrip, False),
    ("ignoring indentation", str.strip, True),
    ("with Unicode punctuation normalised", lambda line: line.translate(_PUNCT).strip(), True),
)


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t"))]


def _reindent(lines: list[str], old: str, new: str) -> list[str]:
    """Shift lines written at indentation old to indentation new."""
    out = []
    for line in lines:
        if not line.strip():
            out.append("")
        elif new.startswith(old):
            out.append(new[len(old) :] + line)
        elif old.startswith(new):
            drop = min(len(old) - len(new), len(_indent(line)))
            out.append(line[drop:])
        else:
            out.append(new + line[len(old) :] if line.startswith(old) else line)
    return out


def _blank_edges(lines: list[str]) -> tuple[int, int]:
    lead = next((i for i, line in enumerate(lines) if line.strip()), len(lines))
    trail = next((i for i, line in enumerate(reversed(lines)) if line.strip()), len(lines))
    return lead, trail


def _trim_blank(lines: list[str], lead: int, trail: int) -> list[str]:
    """Drop up to lead blank lines at the start and up to trail at the end."""
    head, tail = _blank_edges(lines)
    start = min(lead, head)
    return lines[start : max(start, len(lines) - min(trail, tail))]


def _ambiguous(name: str, count: int, lines: list[int], how: str) -> ToolError:
    numbers = list(dict.fromkeys(lines))
    where = ", ".join(map(str, numbers[:10])) + (", ..." if count > len(numbers[:10]) else "")
    return ToolError(
        f"old_text matches {count} places in {name}{how} (lines {where}); "
        "include more surrounding lines so it matches exactly one"
    )


def _closest(lines: list[str], probe: str) -> str:
    stripped = [line.strip() for line in lines[:CLOSEST_SCAN]]
    best = difflib.get_close_matches(probe.strip(), stripped, n=1, cutoff=0.5)
    if not best:
        return ""
    number = stripped.index(best[0]) + 1
    return f"; the most similar line is {number}: {best[0][:160]!r}"


def apply_patch(text: str, old: str, new: str, name: str = "the file") -> tuple[str, int, int, str]:
    """Replace the one match of old in text: (new text, first line, last line, how it matched)."""
    eol = "\r\n" if text.count("\r\n") * 2 > text.count("\n") else "\n"
    old, new = old.replace("\r\n", "\n"), new.replace("\r\n", "\n")
    needle = old.replace("\n", eol)
    starts, at = [], text.find(needle)
    while at != -1 and len(starts) <= 10:
        starts.append(at)
        at = text.find(needle, at + 1)
    if len(starts) > 1:
        count = max(len(starts), text.count(needle))
        raise _ambiguous(name, count, [text.count("\n", 0, s) + 1 for s in starts], "")
    if starts:
        first = text.count("\n", 0, starts[0]) + 1
        result = text[: starts[0]] + new.replace("\n", eol) + text[starts[0] + len(needle) :]
        return result, first, first + needle.rstrip("\r\n").count("\n"), ""
    lines, raw = text.split("\n"), old.removesuffix("\n").split("\n")
    lead, trail = _blank_edges(raw)
    want = raw[lead : len(raw) - trail]
    if not want:
        raise ToolError(f"old_text is only whitespace and was not found exactly in {name}")
    size = len(want)
    for how, key, shift in _FUZZY:
        keys, target = [key(line) for line in lines], [key(line) for line in want]
        starts = [
            i
            for i in range(len(lines) - size + 1)
            if keys[i] == target[0] and keys[i : i + size] == target
        ]
        if len(starts) > 1:
            raise _ambiguous(name, len(starts), [i + 1 for i in starts], f" ({how})")
        if not starts:
            continue
        i = starts[0]
        body = new.removesuffix("\n")
        repl = _trim_blank(body.split("\n"), lead, trail) if body else []
        if shift:
            repl = _reindent(repl, _indent(want[0]), _indent(lines[i]))
        if eol == "\r\n":
            repl = [line + "\r" for line in repl]
            if repl and i + size == len(lines):
                repl[-1] = repl[-1][:-1]
        return "\n".join(lines[:i] + repl + lines[i + size :]), i + 1, i + size, how
    hint = _closest(lines, want[0])
    raise ToolError(f"old_text was not found in {name}{hint}; read it again and copy it exactly")


def _patch_file(ctx: ToolContext, args: PatchFileArgs) -> str:
    ws = ctx.workspace
    if not args.old_text:
        raise ToolError("old_text must not be empty; use write_file to create a file")
    if args.old_text == args.new_text:
        raise ToolError("old_text and new_text are identical; nothing to change")
    target = _text_file(ws, args.path, for_write=True)
    name = ws.rel(target)
    mode = _writable_mode(ws, target)
    text = target.read_bytes().decode("utf-8", errors="surrogateescape")
    result, first, last, how = apply_patch(text, args.old_text, args.new_text, name)
    if text.endswith("\n") and result and not result.endswith("\n"):
        result += "\r\n" if text.endswith("\r\n") else "\n"
    _atomic_write(target, _encode(result), mode)
    span = f"line {first}" if first == last else f"lines {first}-{last}"
    return f"patched {name} at {span}" + (f" (matched {how})" if how else "")


READ_FILE = Tool(
    name="read_file",
    description="Read a text file with line numbers, lines start..end (inclusive).",
    params=ReadFileArgs,
    run=_read_file,
)
WRITE_FILE = Tool(
    name="write_file",
    description="Create a file or replace its whole content; parent directories are created.",
    params=WriteFileArgs,
    run=_write_file,
    risky=True,
)
PATCH_FILE = Tool(
    name="patch_file",
    description="Edit a file by replacing one exact occurrence of old_text with new_text.",
    params=PatchFileArgs,
    run=_patch_file,
    risky=True,
)
