"""Sessions as append-only JSONL files, and the working memory derived from their records."""

from __future__ import annotations

import json
import os
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Record = dict[str, Any]
NOTE_LIMIT = 5
NOTE_WIDTH = 160


class SessionError(Exception):
    """A session that cannot be found or read; the message is one line for the user."""


def _one_line(text: str, width: int = NOTE_WIDTH) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 3] + "..."


class Session:
    """One session file: records are appended, flushed and fsynced one line at a time."""

    def __init__(self, path: Path, records: list[Record]):
        self.path = path
        self.id = path.stem
        self.records = records

    @property
    def header(self) -> Record:
        return self.records[0]

    @property
    def tool_mode(self) -> str | None:
        """The tool mode in force at the end of the records: the header's, or the last switch."""
        for record in reversed(self.records):
            if record.get("type") == "tool_mode":
                return record["mode"]
        return self.header.get("tool_mode")

    def append(self, record: Record) -> None:
        line = json.dumps(record, ensure_ascii=False) + "\n"
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line.encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
        self.records.append(record)


class SessionStore:
    def __init__(self, directory: Path):
        self.directory = directory

    @staticmethod
    def new_id() -> str:
        return time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(3)

    def create(self, header: Record) -> Session:
        self.directory.mkdir(parents=True, exist_ok=True)
        while True:
            path = self.directory / f"{self.new_id()}.jsonl"
            if not path.exists():
                break
        session = Session(path, [])
        session.append({"type": "session", "id": session.id, "created": time.time(), **header})
        return session

    def ids(self) -> list[str]:
        """Session ids, most recently used last."""
        if not self.directory.is_dir():
            return []
        files = sorted(self.directory.glob("*.jsonl"), key=lambda p: (p.stat().st_mtime, p.name))
        return [p.stem for p in files]

    def open(self, wanted: str) -> Session:
        ids = self.ids()
        if wanted == "latest":
            if not ids:
                raise SessionError(f"no saved sessions in {self.directory}")
            wanted = ids[-1]
        path = self.directory / f"{wanted}.jsonl"
        if "/" in wanted or not path.is_file():
            raise SessionError(f"no session '{wanted}' in {self.directory}")
        data = path.read_bytes()
        if data and not data.endswith(b"\n"):
            # A crash mid-write left a torn last line: cut it, so the next record starts
            # on a line of its own instead of being glued to it (and lost) on a later load.
            data = data[: data.rfind(b"\n") + 1]
            os.truncate(path, len(data))
        records = []
        for raw in data.splitlines():
            try:
                record = json.loads(raw)
            except ValueError:
                continue  # a torn line in the middle (from an older version): skip it
            if isinstance(record, dict):
                records.append(record)
        if not records or records[0].get("type") != "session":
            raise SessionError(f"session file is not readable: {path}")
        return Session(path, records)


@dataclass
class WorkingMemory:
    """The small state carried into each new user turn: task, files touched, recent notes."""

    task: str = ""
    files: dict[str, list[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @classmethod
    def from_records(cls, records: list[Record]) -> WorkingMemory:
        memory = cls()
        for record in records:
            kind = record.get("type")
            if kind == "reset":
                memory = cls()
            elif kind == "message" and "request" in record:
                memory.note_request(record["request"])
            elif kind == "message" and "answer" in record:
                memory.note(f"answered: {record['answer']}")
            elif kind == "tool":
                memory.note_tool(record["name"], record.get("args", {}), record.get("summary", ""))
            elif kind == "stopped":
                memory.note(record.get("reason", ""))
        return memory

    def note(self, text: str) -> None:
        line = _one_line(text)
        if line in self.notes:
            self.notes.remove(line)
        self.notes.append(line)
        del self.notes[:-NOTE_LIMIT]

    def note_request(self, request: str) -> None:
        if not self.task:
            self.task = _one_line(request, 300)

    def note_tool(self, name: str, args: dict[str, Any], summary: str) -> None:
        path = args.get("path")
        if name in ("read_file", "write_file", "patch_file") and isinstance(path, str):
            action = {"read_file": "read", "write_file": "written", "patch_file": "patched"}[name]
            actions = self.files.pop(path, [])
            if action not in actions:
                actions.append(action)
            self.files[path] = actions
        if name in ("run_shell", "write_file", "patch_file", "delegate"):
            self.note(summary)

    def text(self, notes: bool = True) -> str:
        """The memory as text. Without notes it is the short form that rides along with each
        new request: the notes repeat what the conversation itself still shows."""
        if not (self.task or self.files or (notes and self.notes)):
            return ""
        lines = ["Working memory:", f"- task: {self.task or '-'}"]
        if self.files:
            files = ", ".join(f"{p} ({'/'.join(a)})" for p, a in self.files.items())
            lines.append(f"- files: {files}")
        if notes:
            lines += [f"- {note}" for note in self.notes]
        return "\n".join(lines)
