"""Which project rules files the user has accepted. A repository can ship its own
.mini-coding-agent/permissions.toml; its allow rules count only once the user accepts that
exact content (or the agent wrote it at the user's "always"). Deny rules always count."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from mini_coding_agent.tools.edits import atomic_write


def _store(config_dir: Path) -> Path:
    return config_dir / "trusted.json"


def _load(config_dir: Path) -> dict[str, str]:
    try:
        data = json.loads(_store(config_dir).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def is_trusted(config_dir: Path, path: Path) -> bool:
    try:
        return _load(config_dir).get(str(path.resolve())) == _digest(path)
    except OSError:
        return False


def trust(config_dir: Path, path: Path) -> None:
    """Accept path's current content. Raises OSError when the store cannot be written."""
    accepted = _load(config_dir)
    accepted[str(path.resolve())] = _digest(path)
    config_dir.mkdir(parents=True, exist_ok=True)
    atomic_write(_store(config_dir), json.dumps(accepted, indent=1).encode("utf-8"), 0o600)
