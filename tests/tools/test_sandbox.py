"""The bubblewrap sandbox around run_shell, with real bwrap runs where bwrap works here."""

from __future__ import annotations

import os
import socket
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from mini_coding_agent.tools.registry import ToolContext
from mini_coding_agent.tools.sandbox import BWRAP_ENV, Sandbox
from mini_coding_agent.workspace import Workspace

from .conftest import TOOLS

PROBLEM = Sandbox().problem()
needs_bwrap = pytest.mark.skipif(
    PROBLEM is not None,
    reason=f"bubblewrap unavailable ({PROBLEM}); on Debian/Ubuntu: apt-get install bubblewrap",
)


def shell(root: Path, command: str, sandbox: Sandbox | None, timeout: int = 10) -> str:
    """run_shell through the registry, as the agent calls it; failures read "error: ..."."""
    context = ToolContext(workspace=Workspace.open(root), sandbox=sandbox)
    tool, args = TOOLS.validate("run_shell", {"command": command, "timeout": timeout})
    return TOOLS.execute(tool, args, context)[1]


def exit_code(text: str) -> int:
    return int(text.split("\n", 1)[0].split()[2])


@pytest.fixture
def visible_outside() -> Iterator[Path]:
    """A directory outside the workspace and outside /tmp, so the sandbox sees it read-only."""
    base = "/var/tmp" if os.access("/var/tmp", os.W_OK) else None
    path = Path(tempfile.mkdtemp(prefix="mca-sandbox-", dir=base)).resolve()
    (path / "secret.txt").write_text("top secret\n")
    yield path
    for child in path.iterdir():
        child.unlink()
    path.rmdir()


@needs_bwrap
def test_workspace_is_writable_and_commands_start_in_it(root):
    text = shell(root, "pwd; mkdir -p src && echo made > src/new.txt", Sandbox())
    assert exit_code(text) == 0, text
    assert text.splitlines()[2] == str(root)
    assert (root / "src" / "new.txt").read_text() == "made\n"


@needs_bwrap
def test_writes_outside_the_workspace_fail_and_leave_nothing(root, outside, visible_outside):
    name = f"mca-{uuid.uuid4().hex}"
    targets = [
        outside / name,  # next to the workspace, under the hidden host /tmp
        visible_outside / name,
        Path.home() / name,
        Path("/etc") / name,
    ]
    for target in targets:
        text = shell(root, f"echo x > '{target}'", Sandbox())
        assert exit_code(text) != 0, text
        assert not target.exists()
    shell(root, f"echo changed > '{visible_outside}/secret.txt'", Sandbox())
    assert (visible_outside / "secret.txt").read_text() == "top secret\n"


@needs_bwrap
def test_git_and_agent_state_are_read_only(root):
    (root / ".mini-coding-agent").mkdir()
    command = (
        "echo evil > .git/hooks/pre-commit; echo x > .git/config; echo x > .mini-coding-agent/s"
    )
    text = shell(root, command + "; git status --short", Sandbox())
    assert text.count("Read-only file system") == 3, text
    assert not (root / ".git" / "hooks" / "pre-commit").exists()
    assert "[core]" in (root / ".git" / "config").read_text()
    assert not (root / ".mini-coding-agent" / "s").exists()


@needs_bwrap
def test_a_symlink_to_outside_cannot_be_written_through(root, visible_outside):
    secret = visible_outside / "secret.txt"
    command = (
        f"ln -s '{secret}' link && ln -s '{visible_outside}/new' dangling"
        " && echo pwned > link; echo pwned > dangling; cat link"
    )
    text = shell(root, command, Sandbox())
    assert "top secret" in text and "Read-only file system" in text, text
    assert secret.read_text() == "top secret\n"
    assert not (visible_outside / "new").exists()


@needs_bwrap
def test_tmp_is_private(root):
    name = f"mca-{uuid.uuid4().hex}"
    text = shell(root, f"echo hidden > /tmp/{name} && cat /tmp/{name}; echo $TMPDIR", Sandbox())
    assert text.splitlines()[:4] == ["exit code: 0", "stdout:", "hidden", "/tmp"], text
    assert not Path("/tmp", name).exists()
    assert not Path(tempfile.gettempdir(), name).exists()


@pytest.fixture
def server() -> Iterator[socket.socket]:
    """A TCP server on 127.0.0.1 outside the sandbox that never accepts on its own."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.setblocking(False)
        yield listener


def connected(listener: socket.socket) -> bool:
    try:
        listener.accept()[0].close()
    except BlockingIOError:
        return False
    return True


def connect_command(listener: socket.socket) -> str:
    port = listener.getsockname()[1]
    code = f"import socket; socket.create_connection(('127.0.0.1', {port}), 3); print('connected')"
    return f'{sys.executable} -c "{code}"'


@needs_bwrap
def test_network_is_off_by_default(root, server):
    text = shell(root, connect_command(server), Sandbox())
    assert exit_code(text) != 0 and "connected" not in text.split("stderr:")[0], text
    assert not connected(server)


@needs_bwrap
def test_allow_network_lets_commands_connect(root, server):
    text = shell(root, connect_command(server), Sandbox(allow_network=True))
    assert exit_code(text) == 0 and "connected" in text, text
    assert connected(server)


def running(marker: str) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker.encode() in cmdline and state not in ("Z", "X"):
            pids.append(int(entry.name))
    return pids


@needs_bwrap
def test_timeout_kills_every_process_in_the_sandbox(root):
    marker = f"100.{uuid.uuid4().int % 10**9}"
    command = (
        f"sleep {marker} & setsid sleep {marker} & (trap '' TERM; sleep {marker}) & sleep {marker}"
    )
    text = shell(root, command, Sandbox(), timeout=1)
    assert "timed out after 1 s" in text, text
    assert running(marker) == []


@needs_bwrap
def test_wrap_command_line(tmp_path):
    (tmp_path / ".git").mkdir()
    top = str(tmp_path.resolve())
    line = Sandbox().wrap(["bash", "-c", "true"], tmp_path)
    assert line[-6:] == ["--chdir", top, "--", "bash", "-c", "true"]
    assert line[line.index("--bind") : line.index("--bind") + 3] == ["--bind", top, top]
    assert ["--ro-bind", f"{top}/.git", f"{top}/.git"] == line[
        line.index("--bind") + 3 : line.index("--bind") + 6
    ]
    assert "--unshare-net" in line and "--new-session" not in line
    assert "--share-net" not in line
    assert "--unshare-net" not in Sandbox(allow_network=True).wrap(["true"], tmp_path)


def test_required_sandbox_without_bwrap_refuses_to_run(root, monkeypatch):
    monkeypatch.setenv(BWRAP_ENV, "/nonexistent/bwrap")
    sandbox = Sandbox("on")
    assert not sandbox.available() and not sandbox.active
    assert "refused" in sandbox.describe()
    text = shell(root, "touch ran", sandbox)
    assert text.startswith(
        "error: the sandbox is required (--sandbox on) but bubblewrap is not available: "
        "bwrap not found at /nonexistent/bwrap"
    )
    assert not (root / "ran").exists()


def test_auto_without_bwrap_runs_unsandboxed(root, outside, monkeypatch):
    monkeypatch.setenv(BWRAP_ENV, "/nonexistent/bwrap")
    sandbox = Sandbox()
    assert sandbox.describe().startswith("unavailable (bwrap not found")
    text = shell(root, f"echo x > '{outside}/auto.txt'", sandbox)
    assert exit_code(text) == 0, text
    assert (outside / "auto.txt").exists()


def test_off_runs_unsandboxed_without_probing(root, outside, monkeypatch):
    monkeypatch.setenv(BWRAP_ENV, "/nonexistent/bwrap")
    sandbox = Sandbox("off")
    assert sandbox.describe() == "off: commands run unsandboxed" and not sandbox.active
    text = shell(root, f"echo x > '{outside}/off.txt'", sandbox)
    assert exit_code(text) == 0, text
    assert (outside / "off.txt").read_text() == "x\n"


def test_unknown_mode_is_rejected():
    with pytest.raises(ValueError, match="auto, on, off"):
        Sandbox("maybe")


@needs_bwrap
def test_tools_installed_under_tmp_stay_usable_read_only(root, tmp_path_factory, monkeypatch):
    venv = tmp_path_factory.mktemp("toolchain") / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\n")
    tool = venv / "bin" / "hello-tool"
    tool.write_text("#!/bin/sh\necho hello from the venv\n")
    tool.chmod(0o755)
    monkeypatch.setenv("PATH", f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}")
    text = shell(root, 'hello-tool && touch "$(dirname "$(command -v hello-tool)")/x"', Sandbox())
    assert "hello from the venv" in text
    assert exit_code(text) != 0 and not (venv / "bin" / "x").exists()


@needs_bwrap
def test_unix_sockets_are_refused_but_socketpairs_work(root):
    python = "python3 -c 'import socket; {}'"
    refused = shell(root, python.format("socket.socket(socket.AF_UNIX)"), Sandbox())
    assert exit_code(refused) != 0 and "Permission denied" in refused
    paired = shell(root, python.format('socket.socketpair(); print("paired")'), Sandbox())
    assert exit_code(paired) == 0 and "paired" in paired
