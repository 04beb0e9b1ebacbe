"""The write tools: write_file and patch_file. Each plans its edit first (so approval can
show the diff and nothing is written when the plan fails), then journals the old contents for
/undo and writes atomically."""

from __future__ import annotations

import contextlib
import difflib
import os
import stat
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pydantic import Field

from mini_coding_agent.tools.files import count_lines, plural, text_file
from mini_coding_agent.tools.registry import Args, Tool, ToolContext, ToolError
from mini_coding_agent.workspace import Workspace

CLOSEST_SCAN = 50_000


@dataclass(frozen=True)
class Edit:
    """A planned change to one file: its bytes before (None: it does not exist) and after."""

    path: Path
    before: bytes | None
    after: bytes
    mode: int
    message: str


def unified_diff(before: bytes | None, after: bytes | None, name: str) -> str:
    old = (before or b"").decode("utf-8", errors="replace").splitlines(keepends=True)
    new = (after or b"").decode("utf-8", errors="replace").splitlines(keepends=True)
    source = f"a/{name}" if before is not None else "/dev/null"
    target = f"b/{name}" if after is not None else "/dev/null"
    lines = difflib.unified_diff(old, new, source, target)
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def _encode(text: str) -> bytes:
    try:
        return text.encode("utf-8", errors="surrogateescape")
    except UnicodeEncodeError:
        raise ToolError("text contains characters that cannot be written as UTF-8") from None


def atomic_write(path: Path, data: bytes, mode: int) -> None:
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


class WriteFileArgs(Args):
    path: str = Field(description="File to create or overwrite, relative to the repo root.")
    content: str = Field(
        description="The complete new content of the file (a final newline is added if missing)."
    )


def _new_file_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def _plan_write(ctx: ToolContext, args: WriteFileArgs) -> Edit:
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
    if not target.exists():
        return Edit(target, None, data, _new_file_mode(), f"created {name} ({plural(count)})")
    if not target.is_file():
        raise ToolError(f"{name} is not a regular file")
    mode, old = _writable_mode(ws, target), count_lines(target)
    return Edit(
        target, target.read_bytes(), data, mode, f"overwrote {name} ({plural(count)}, was {old})"
    )


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


def _plan_patch(ctx: ToolContext, args: PatchFileArgs) -> Edit:
    ws = ctx.workspace
    if not args.old_text:
        raise ToolError("old_text must not be empty; use write_file to create a file")
    if args.old_text == args.new_text:
        raise ToolError("old_text and new_text are identical; nothing to change")
    target = text_file(ws, args.path, for_write=True)
    name = ws.rel(target)
    mode = _writable_mode(ws, target)
    before = target.read_bytes()
    text = before.decode("utf-8", errors="surrogateescape")
    result, first, last, how = apply_patch(text, args.old_text, args.new_text, name)
    if text.endswith("\n") and result and not result.endswith("\n"):
        result += "\r\n" if text.endswith("\r\n") else "\n"
    span = f"line {first}" if first == last else f"lines {first}-{last}"
    message = f"patched {name} at {span}" + (f" (matched {how})" if how else "")
    return Edit(target, before, _encode(result), mode, message)


def _commit(ctx: ToolContext, edit: Edit) -> str:
    if edit.before is None:
        try:
            edit.path.parent.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            name = ctx.workspace.rel(edit.path)
            raise ToolError(f"cannot create {name}: part of its directory path is a file") from None
    if ctx.journal is not None:
        ctx.journal.before_write(edit.path, edit.before)
    atomic_write(edit.path, edit.after, edit.mode)
    return edit.message


def _previewer(plan: Callable[[ToolContext, Args], Edit]) -> Callable[[ToolContext, Args], str]:
    def preview(ctx: ToolContext, args: Args) -> str:
        edit = plan(ctx, args)
        return unified_diff(edit.before, edit.after, ctx.workspace.rel(edit.path))

    return preview


WRITE_FILE = Tool(
    name="write_file",
    description="Create a file or replace its whole content; parent directories are created.",
    params=WriteFileArgs,
    run=lambda ctx, args: _commit(ctx, _plan_write(ctx, args)),
    risky=True,
    preview=_previewer(_plan_write),
)
PATCH_FILE = Tool(
    name="patch_file",
    description="Edit a file by replacing one exact occurrence of old_text with new_text.",
    params=PatchFileArgs,
    run=lambda ctx, args: _commit(ctx, _plan_patch(ctx, args)),
    risky=True,
    preview=_previewer(_plan_patch),
)
