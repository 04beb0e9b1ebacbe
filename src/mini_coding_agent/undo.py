"""The edit journal: what the file tools changed, turn by turn, so /undo can put it back and
/diff can show it, with or without git.

Before a file is first changed in a turn, its earlier contents are kept as a blob next to the
session file (`<id>.blobs/<sha1>`) and an "edit" record names it; a file that did not exist is
recorded as such. Changes made by shell commands are not journaled.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from pathlib import Path

from mini_coding_agent.sessions import Record
from mini_coding_agent.tools.edits import atomic_write, unified_diff
from mini_coding_agent.workspace import PathError, Workspace

_SHA1 = re.compile(r"[0-9a-f]{40}")


class EditJournal:
    def __init__(self, workspace: Workspace, blobs: Path, record: Callable[[Record], None]):
        self.workspace = workspace
        self.blobs = blobs
        self.record = record
        self.turn = 0
        self.edits: list[Record] = []
        self.undone: set[int] = set()

    def replay(self, records: list[Record]) -> None:
        for record in records:
            if record.get("type") == "edit":
                self.edits.append(record)
            elif record.get("type") == "undo":
                self.undone.add(record["turn"])
            elif record.get("type") == "message" and "request" in record:
                self.turn += 1

    def before_write(self, path: Path, before: bytes | None) -> None:
        """Keep path's contents before its first change in this turn."""
        name = self.workspace.rel(path)
        if any(e["turn"] == self.turn and e["path"] == name for e in self.edits):
            return
        blob = None
        if before is not None:
            blob = hashlib.sha1(before).hexdigest()
            self.blobs.mkdir(parents=True, exist_ok=True)
            if not (self.blobs / blob).exists():
                atomic_write(self.blobs / blob, before, 0o600)
        edit = {"type": "edit", "turn": self.turn, "path": name, "before": blob}
        self.record(edit)
        self.edits.append(edit)

    def _blob(self, blob: str | None) -> bytes | None:
        if blob is None:
            return None
        if not _SHA1.fullmatch(str(blob)):
            raise OSError(f"the session names an invalid backup: {blob!r}")
        return (self.blobs / blob).read_bytes()

    def undo(self) -> tuple[int, list[str]] | None:
        """Restore the files of the newest turn not yet undone: (turn, what was done to each)."""
        turns = [e["turn"] for e in self.edits if e["turn"] not in self.undone]
        if not turns:
            return None
        turn = max(turns)
        done = []
        for edit in (e for e in self.edits if e["turn"] == turn):
            try:
                # Resolved like any write, so a tampered session file cannot aim outside.
                path = self.workspace.resolve(edit["path"], for_write=True)
                before = self._blob(edit["before"])
                if before is None:
                    if path.is_file():
                        path.unlink()
                    done.append(f"removed {edit['path']}")
                else:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
                    atomic_write(path, before, mode)
                    done.append(f"restored {edit['path']}")
            except (OSError, PathError) as error:
                done.append(f"could not restore {edit['path']}: {error}")
        self.undone.add(turn)
        self.record({"type": "undo", "turn": turn})
        return turn, done

    def diff(self) -> str:
        """Every file the session changed: its contents before the first change against now."""
        first: dict[str, str | None] = {}
        for edit in self.edits:
            first.setdefault(edit["path"], edit["before"])
        parts = []
        for name, blob in first.items():
            try:
                path = self.workspace.resolve(name)
                now = path.read_bytes() if path.is_file() else None
                before = self._blob(blob)
            except (OSError, PathError) as error:
                parts.append(f"# {name}: cannot show: {error}\n")
                continue
            if before != now:
                parts.append(unified_diff(before, now, name))
        return "".join(parts)


def blob_dir(session_path: Path) -> Path:
    return session_path.with_suffix(".blobs")
