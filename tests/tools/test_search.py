"""search through ripgrep and through the pure-Python fallback, in a real git repository."""

from __future__ import annotations

import pytest

from mini_coding_agent.tools.search import find_rg, python_search

from .conftest import make_caller, write


@pytest.fixture
def tree(root):
    write(root / ".gitignore", "build/\n")
    write(root / "src" / "app.py", "def main():\n    return Helper()\n")
    write(root / "src" / "util.py", "class Helper:\n    pass\n")
    write(root / "build" / "gen.py", "Helper = None\n")
    write(root / "notes" / "to do ü.md", "fix the helper soon\n")
    write(root / "data.bin", b"\x00\x01Helper\x00")
    write(root / ".mini-coding-agent" / "session.jsonl", '{"Helper": 1}\n')
    return root


def test_ripgrep_is_available():
    assert find_rg() is not None


def test_search_finds_matches_relative_to_the_root(tree, call):
    ok, text = call("search", pattern="Helper")
    assert ok
    assert text.splitlines() == ["src/app.py:2:    return Helper()", "src/util.py:1:class Helper:"]


def test_search_is_smart_case_and_searches_names_with_spaces(tree, call):
    ok, text = call("search", pattern="helper")
    assert ok
    assert text.splitlines() == [
        "notes/to do ü.md:1:fix the helper soon",
        "src/app.py:2:    return Helper()",
        "src/util.py:1:class Helper:",
    ]


def test_search_below_a_path_or_in_one_file(tree, call):
    assert call("search", pattern="Helper", path="src/util.py") == (
        True,
        "src/util.py:1:class Helper:",
    )
    assert call("search", pattern="return", path="src") == (
        True,
        "src/app.py:2:    return Helper()",
    )
    assert call("search", pattern="nothing here") == (True, "(no matches)")


def test_search_skips_git_internals(tree, call):
    assert call("search", pattern="repositoryformatversion") == (True, "(no matches)")


def test_search_ignores_the_users_ripgrep_config(tree, call, tmp_path, monkeypatch):
    config = write(tmp_path / "rgrc", "--heading\n--ignore-case\n--glob=!src\n")
    monkeypatch.setenv("RIPGREP_CONFIG_PATH", str(config))
    assert call("search", pattern="class Helper") == (True, "src/util.py:1:class Helper:")
    assert "src/app.py" in call("list_files")[1]


def test_invalid_regex_falls_back_to_plain_text(root, call):
    write(root / "a.py", "print(foo(1)\n")
    assert call("search", pattern="foo(") == (
        True,
        "(pattern is not a valid regex; searched for it as plain text)\na.py:1:print(foo(1)",
    )


def test_search_caps_the_number_of_matches(root, call):
    write(root / "many.txt", "hit\n" * 500)
    ok, text = call("search", pattern="hit")
    lines = text.splitlines()
    assert ok and len(lines) == 201
    assert lines[199] == "many.txt:200:hit"
    assert lines[200].startswith("... stopped at 200 matches")


def test_search_refuses_paths_outside(root, outside, call):
    (root / "out").symlink_to(outside, target_is_directory=True)
    for raw in ("out", "out/secret.txt", "..", str(outside), "/etc/passwd"):
        ok, text = call("search", pattern="secret", path=raw)
        assert not ok and "outside the workspace" in text, raw
    assert call("search", pattern="password") == (True, "(no matches)")


def test_search_argument_errors(root, call):
    assert call("search", pattern="", path=".") == (False, "error: pattern must not be empty")
    assert call("search", pattern="x", path="nope") == (
        False,
        "error: no such file or directory: nope",
    )


def test_search_outside_git_still_skips_state_dir(tmp_path):
    write(tmp_path / "p" / "a.txt", "needle\n")
    write(tmp_path / "p" / ".mini-coding-agent" / "s.json", "needle\n")
    assert make_caller(tmp_path / "p")("search", pattern="needle") == (True, "a.txt:1:needle")


def test_python_fallback_has_the_same_shape(tree):
    hits, more, literal = python_search(tree, tree / "src", "Helper")
    assert hits == ["src/app.py:2:    return Helper()", "src/util.py:1:class Helper:"]
    assert (more, literal) == (False, False)


def test_python_fallback_is_smart_case_and_skips_binary_and_state(tree):
    hits, _, _ = python_search(tree, tree / "notes", "HELPER")
    assert hits == []
    hits, _, _ = python_search(tree, tree, "helper")
    assert "notes/to do ü.md:1:fix the helper soon" in hits
    assert not any(h.startswith((".mini-coding-agent", "data.bin", ".git/")) for h in hits)


def test_python_fallback_literal_and_limit(root):
    write(root / "a.txt", "call(x\n" * 5)
    hits, more, literal = python_search(root, root, "call(", limit=3)
    assert hits == ["a.txt:1:call(x", "a.txt:2:call(x", "a.txt:3:call(x"]
    assert more and literal
