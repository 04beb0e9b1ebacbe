"""The OS sandbox for run_shell: bubblewrap with the workspace writable and the rest read-only.

A separate axis from approvals: approvals decide whether a command runs, the sandbox decides
what a running command can touch. Inside it the workspace is writable except .git/ and
.mini-coding-agent/, everything else is read-only, /tmp is private, /run (session buses,
container sockets) is hidden, and there is no network unless allow_network says so.
HOME stays the user's (read-only), so toolchains found through it (rustup, pyenv, nvm) and
their config keep working and caches under it are readable; writes go to the workspace or /tmp.
"""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import struct
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from mini_coding_agent.tools.registry import ToolError
from mini_coding_agent.workspace import PROTECTED_DIRS

MODES = ("auto", "on", "off")
BWRAP_ENV = "MINI_CODING_AGENT_BWRAP"
PROBE_TIMEOUT = 10.0
# The parts of /run a system needs to find its programs (NixOS) or resolve names
# (systemd-resolved's resolv.conf); the rest of /run is hidden behind a tmpfs.
RUN_KEPT = (
    "/run/current-system",
    "/run/booted-system",
    "/run/wrappers",
    "/run/opengl-driver",
    "/run/systemd/resolve",
)
BASE_ARGS = (
    "--ro-bind", "/", "/",
    "--dev", "/dev",
    "--proc", "/proc",
    "--tmpfs", "/tmp",
    "--tmpfs", "/run",
)  # fmt: skip


# A seccomp filter (classic BPF) that makes socket(AF_UNIX, ...) fail with EACCES (and, for
# 32-bit x86 programs, socketcall; on x86-64 the x32 ABI): the sandbox has no network, but a
# unix socket on the read-only file system would still reach a host service (a Docker socket
# in $HOME). socketpair() is unaffected.
_LD_ABS, _JEQ, _JGE, _RET = 0x20, 0x15, 0x35, 0x06
_ALLOW, _DENY = 0x7FFF0000, 0x00050000 | 13  # SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO | EACCES
_X86_64, _AARCH64, _I386, _X32_BIT = 0xC000003E, 0xC00000B7, 0x40000003, 0x40000000
_NO_UNIX_SOCKETS = b"".join(
    struct.pack("<HBBI", *instruction)
    for instruction in (
        (_LD_ABS, 0, 0, 4),  # 0: the architecture
        (_JEQ, 0, 3, _X86_64),  # 1: x86-64 → 2, else → 5
        (_LD_ABS, 0, 0, 0),  # 2: the syscall number
        (_JGE, 11, 0, _X32_BIT),  # 3: x32 → deny
        (_JEQ, 7, 9, 41),  # 4: socket → 12, else allow
        (_JEQ, 0, 2, _AARCH64),  # 5: aarch64 → 6, else → 8
        (_LD_ABS, 0, 0, 0),  # 6: the syscall number
        (_JEQ, 4, 6, 198),  # 7: socket → 12, else allow
        (_JEQ, 0, 5, _I386),  # 8: i386 → 9, else allow
        (_LD_ABS, 0, 0, 0),  # 9: the syscall number
        (_JEQ, 4, 0, 102),  # 10: socketcall → deny
        (_JEQ, 0, 2, 359),  # 11: socket → 12, else allow
        (_LD_ABS, 0, 0, 16),  # 12: its first argument, the address family
        (_JEQ, 1, 0, 1),  # 13: AF_UNIX → deny
        (_RET, 0, 0, _ALLOW),  # 14
        (_RET, 0, 0, _DENY),  # 15
    )
)


@functools.cache
def _seccomp_file() -> str:
    """The filter, written once per process to a private file bwrap reads through an fd."""
    fd, path = tempfile.mkstemp(prefix="mini-coding-agent-", suffix=".bpf")
    with os.fdopen(fd, "wb") as handle:
        handle.write(_NO_UNIX_SOCKETS)
    atexit.register(lambda: os.path.exists(path) and os.unlink(path))
    return path


def _with_seccomp(bwrap_argv: list[str]) -> list[str]:
    """bwrap_argv run with the filter on fd 3 (a shell opens it, then execs bwrap, so the
    process and its group stay the one run_shell kills on timeout)."""
    return ["/bin/sh", "-c", 'exec "$@" 3<"$0"', _seccomp_file(), *bwrap_argv]


class SandboxUnavailable(ToolError):
    """The sandbox is required (mode "on") but bubblewrap cannot run here."""


def _locate() -> tuple[str | None, str]:
    """The bwrap executable (MINI_CODING_AGENT_BWRAP, else PATH), and what to say if missing."""
    configured = os.environ.get(BWRAP_ENV)
    if configured:
        return shutil.which(configured), f"bwrap not found at {configured} (${BWRAP_ENV})"
    return shutil.which("bwrap"), "bwrap not found"


@functools.cache
def _probe(bwrap: str) -> str | None:
    """Run a trivial sandbox once per executable: None if it works, else why not.

    bwrap can be installed and still fail, e.g. in containers without user namespaces."""
    argv = [bwrap, *BASE_ARGS, "--unshare-net", "--unshare-pid", "--die-with-parent"]
    argv = _with_seccomp([*argv, "--seccomp", "3", "true"])
    try:
        done = subprocess.run(
            argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=PROBE_TIMEOUT
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"bwrap does not work here: {error}"
    if done.returncode == 0:
        return None
    lines = done.stderr.decode("utf-8", errors="replace").strip().splitlines()
    reason = lines[-1] if lines else f"exit code {done.returncode}"
    return f"bwrap does not work here: {reason.removeprefix('bwrap: ')}"


def _kept_run_paths() -> list[str]:
    args: list[str] = []
    for path in RUN_KEPT:
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.exists(path):
            args += ["--ro-bind", path, path]
    return args


def _toolchains_in_tmp(root: str) -> list[str]:
    """Read-only binds for the user's tools that live under /tmp, which the private /tmp would
    hide: each PATH directory there (its whole virtual environment, for a venv's bin) and the
    active virtual environment."""
    places = [*os.environ.get("PATH", "").split(os.pathsep), os.environ.get("VIRTUAL_ENV", "")]
    places.append(sys.prefix)
    binds: list[str] = []
    for place in filter(None, places):
        path = os.path.realpath(place)
        if Path(path).parent.joinpath("pyvenv.cfg").exists():
            path = str(Path(path).parent)
        inside = path == root or path.startswith(root + os.sep)
        if path.startswith("/tmp/") and not inside and os.path.isdir(path) and path not in binds:
            binds.append(path)
    return [arg for path in binds for arg in ("--ro-bind", path, path)]


@dataclass(frozen=True)
class Sandbox:
    """How run_shell confines commands: mode auto (when available) | on (required) | off."""

    mode: str = "auto"
    allow_network: bool = False

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"sandbox mode must be one of {', '.join(MODES)}: {self.mode!r}")

    def problem(self) -> str | None:
        """Why bubblewrap cannot be used here, or None when it can."""
        bwrap, missing = _locate()
        return _probe(bwrap) if bwrap else missing

    def available(self) -> bool:
        return self.problem() is None

    @property
    def active(self) -> bool:
        """Whether commands will run inside the sandbox."""
        return self.mode != "off" and self.available()

    def describe(self) -> str:
        """One line for the banner."""
        if self.mode == "off":
            return "off: commands run unsandboxed"
        problem = self.problem()
        if problem is None:
            network = "on" if self.allow_network else "off"
            return f"bubblewrap: workspace writable, network {network}"
        if self.mode == "on":
            return f"required but unavailable ({problem}): shell commands are refused"
        return f"unavailable ({problem}): commands run unsandboxed"

    def wrap(self, argv: Sequence[str], root: str | os.PathLike[str]) -> list[str]:
        """argv run inside the sandbox, or unchanged when the sandbox is off or unavailable
        in auto mode; raises SandboxUnavailable when it is required and unavailable."""
        if self.mode == "off":
            return list(argv)
        problem = self.problem()
        if problem is not None:
            if self.mode == "on":
                raise SandboxUnavailable(
                    "the sandbox is required (--sandbox on) but bubblewrap is not available: "
                    + problem
                )
            return list(argv)
        top = os.path.realpath(root)
        line = [str(_locate()[0]), *BASE_ARGS, *_kept_run_paths(), *_toolchains_in_tmp(top)]
        line += ["--bind", top, top]
        for name in PROTECTED_DIRS:
            # Read-only even inside the workspace: git hooks and config, and the agent's own
            # state, would otherwise run or be trusted outside the sandbox later.
            path = os.path.realpath(Path(top, name))
            if os.path.exists(path):
                line += ["--ro-bind", path, path]
        if not self.allow_network:
            line.append("--unshare-net")
        # No --new-session: the command must stay in the process group run_shell kills on
        # timeout. run_shell starts it in a new session without a terminal, which is what
        # --new-session guards (TIOCSTI) anyway.
        line += ["--unshare-pid", "--die-with-parent", "--setenv", "TMPDIR", "/tmp"]
        return _with_seccomp([*line, "--seccomp", "3", "--chdir", top, "--", *argv])
