"""What read_file has already shown, so re-reading an unchanged range can answer in one line."""

from __future__ import annotations

import hashlib
from pathlib import Path

HASH_LIMIT = 8 * 1024 * 1024


def fingerprint(path: Path) -> str:
    """The file's content hash; very large files are known by size and modification time."""
    stat = path.stat()
    if stat.st_size > HASH_LIMIT:
        return f"{stat.st_size}:{stat.st_mtime_ns}"
    return hashlib.sha1(path.read_bytes()).hexdigest()


class ReadLog:
    """Ranges shown to the model, with the file's fingerprint at the time and the call number.

    A write, a patch or a shell command that changes the file changes its fingerprint, so the
    next read shows the contents again. Forget everything when earlier results leave the
    conversation (compaction, reset)."""

    def __init__(self) -> None:
        self._shown: dict[tuple[Path, int, int], tuple[str, int]] = {}
        self.calls = 0

    def seen(self, path: Path, start: int, end: int) -> int | None:
        """The call that showed this range of this exact content, if any."""
        self.calls += 1
        earlier = self._shown.get((path, start, end))
        if earlier is not None and earlier[0] == fingerprint(path):
            return earlier[1]
        return None

    def shown(self, path: Path, start: int, end: int) -> None:
        self._shown[(path, start, end)] = (fingerprint(path), self.calls)

    def clear(self) -> None:
        self._shown.clear()
