"""The workspace: where the agent may read and write, and the repo facts it starts from."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

STATE_DIR = ".mini-coding-agent"
PROTECTED_DIRS = (".git", STATE_DIR)
SKIPPED_DIRS = frozenset({".git", STATE_DIR})
PROJECT_DOCS = ("AGENTS.md", "README.md", "pyproject.toml", "package.json")
DOC_LIMIT = 1500
STATUS_LIMIT = 2000


class PathError(ValueError):
    """A path the agent may not use; the message is one line for the model."""


# Repository config can make git run programs (core.fsmonitor, signature checks); the
# agent's own git calls turn those off, and the snapshot runs them in the sandbox when it can.
SAFE_GIT = ("git", "-c", "core.fsmonitor=false", "-c", "log.showSignature=false")
Wrap = Callable[[list[str]], list[str]]


def _git(args: list[str], cwd: Path, wrap: Wrap | None = None) -> str | None:
    argv = [*SAFE_GIT, *args]
    try:
        done = subprocess.run(
            wrap(argv) if wrap else argv,
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=5,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def clip_middle(text: str, limit: int) -> str:
    """Keep the head and tail of text within about limit characters, saying what was cut."""
    if len(text) <= limit:
        return text
    head = text[: limit * 2 // 3]
    tail = text[len(text) - limit // 3 :]
    cut = len(text) - len(head) - len(tail)
    lines = text.count("\n", len(head), len(text) - len(tail))
    return f"{head}\n[... {cut} characters ({lines} lines) cut ...]\n{tail}"


@dataclass(frozen=True)
class Workspace:
    root: Path
    cwd: Path
    is_git: bool = False

    @classmethod
    def open(cls, cwd: str | os.PathLike[str]) -> Workspace:
        start = Path(cwd).expanduser().resolve()
        if not start.is_dir():
            raise PathError(f"workspace directory does not exist: {cwd}")
        top = _git(["rev-parse", "--show-toplevel"], start)
        root = Path(top).resolve() if top else start
        if top and not (root / ".git").exists():
            raise PathError(
                f"git says the repository root is {root}, which has no .git (is core.worktree "
                "set?); refusing to work there"
            )
        return cls(root=root, cwd=start, is_git=bool(top))

    @property
    def state_dir(self) -> Path:
        return self.root / STATE_DIR

    def resolve(self, raw: str, *, for_write: bool = False) -> Path:
        """Resolve a model-given path inside the workspace, following symlinks; refuse escapes."""
        text = str(raw).strip()
        if not text:
            raise PathError("path must not be empty")
        if "\x00" in text:
            raise PathError("path contains a NUL byte")
        candidate = Path(text).expanduser()
        if not candidate.is_absolute():
            candidate = self.root / candidate
        real = Path(os.path.realpath(candidate))
        if not self.contains(real):
            raise PathError(f"path is outside the workspace: {raw}")
        if for_write:
            parts = real.relative_to(self.root).parts
            # .git anywhere (nested repositories too), in any case (case-insensitive disks).
            guarded = [p for p in parts if p.lower() == ".git"] or [
                p for p in parts[:1] if p.lower() == STATE_DIR
            ]
            if guarded:
                raise PathError(f"{guarded[0]}/ is protected and cannot be written: {raw}")
        return real

    def contains(self, real: Path) -> bool:
        return real == self.root or self.root in real.parents

    def rel(self, path: Path) -> str:
        try:
            return path.relative_to(self.root).as_posix() or "."
        except ValueError:
            return str(path)

    def ensure_state_dir(self) -> Path:
        """Create .mini-coding-agent/ with a .gitignore that ignores the folder itself."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        ignore = self.state_dir / ".gitignore"
        if not ignore.exists():
            ignore.write_text("# created by mini-coding-agent\n*\n", encoding="utf-8")
        return self.state_dir

    def snapshot(self, wrap: Wrap | None = None) -> Snapshot:
        """The repo facts; wrap (the sandbox) confines the git commands it runs."""
        return Snapshot.collect(self, wrap)


@dataclass(frozen=True)
class Snapshot:
    """Stable repo facts gathered once per session for the system message."""

    cwd: str
    root: str
    branch: str = "-"
    default_branch: str = "-"
    status: str = ""
    commits: list[str] = field(default_factory=list)
    docs: dict[str, str] = field(default_factory=dict)
    is_git: bool = False

    @classmethod
    def collect(cls, ws: Workspace, wrap: Wrap | None = None) -> Snapshot:
        docs: dict[str, str] = {}
        for base in dict.fromkeys((ws.root, ws.cwd)):
            for name in PROJECT_DOCS:
                path = base / name
                key = ws.rel(path)
                if key in docs or not path.is_file() or not ws.contains(path.resolve()):
                    continue  # a doc linked to a file outside must not leak it into the prompt
                try:
                    text = path.read_text(encoding="utf-8", errors="replace")
                except OSError:
                    continue
                docs[key] = clip_middle(text.strip(), DOC_LIMIT)
        if not ws.is_git:
            return cls(cwd=str(ws.cwd), root=str(ws.root), docs=docs)
        head = _git(["symbolic-ref", "--short", "refs/remotes/origin/HEAD"], ws.root, wrap)
        status = _git(["status", "--short", "--untracked-files=normal"], ws.root, wrap) or ""
        log = _git(["log", "--oneline", "-5"], ws.root, wrap) or ""
        return cls(
            cwd=str(ws.cwd),
            root=str(ws.root),
            branch=_git(["branch", "--show-current"], ws.root, wrap) or "(detached)",
            default_branch=head.split("/", 1)[-1] if head else "-",
            status=clip_middle(status, STATUS_LIMIT),
            commits=log.splitlines(),
            docs=docs,
            is_git=True,
        )

    def text(self) -> str:
        lines = ["Workspace:", f"- cwd: {self.cwd}", f"- repo root: {self.root}"]
        if self.is_git:
            lines += [
                f"- branch: {self.branch} (default: {self.default_branch})",
                "- git status --short:",
                self.status or "  (clean)",
                "- recent commits:",
                *(f"  {c}" for c in self.commits or ["(none)"]),
            ]
        else:
            lines.append("- not a git repository")
        for name, body in self.docs.items():
            lines += [f"- {name}:", body]
        return "\n".join(lines)
