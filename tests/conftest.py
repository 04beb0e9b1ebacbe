import subprocess
from pathlib import Path

import pytest

from harness import close_opened


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    return done.stdout


@pytest.fixture(autouse=True)
def private_config(tmp_path_factory, monkeypatch):
    """Rules and trust records go to a config folder of the test's own, never the user's."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("config")))


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A real git repository with one commit."""
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "test@example.com")
    git(root, "config", "user.name", "Test")
    (root / "README.md").write_text("# demo\n\nA demo project.\n")
    (root / "app.py").write_text("def add(a, b):\n    return a + b\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")
    return root


@pytest.fixture(autouse=True)
def close_clients():
    """Close the model clients the test opened (harness.opened)."""
    yield
    close_opened()


@pytest.fixture
def ollama():
    """A fake Ollama server on 127.0.0.1 (see tests/fakes/ollama_server.py)."""
    from fakes import FakeOllama

    with FakeOllama() as server:
        yield server
