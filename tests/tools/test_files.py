"""list_files, read_file, write_file and patch_file on real files in a real git repository."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from mini_coding_agent.tools.edits import apply_patch
from mini_coding_agent.tools.registry import ToolError
from mini_coding_agent.tools.search import walk_files

from .conftest import TOOLS, make_caller, write

AS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


# list_files


def test_list_files_is_recursive_sorted_relative_and_respects_gitignore(root, call):
    write(root / ".gitignore", "build/\n*.log\n")
    for name in ("src/b.py", "src/a.py", "README.md", "build/out.bin", "debug.log", ".env"):
        write(root / name, "x\n")
    write(root / ".mini-coding-agent" / "session.jsonl", "{}\n")
    ok, text = call("list_files")
    assert ok
    assert text.splitlines() == [".env", ".gitignore", "README.md", "src/a.py", "src/b.py"]


def test_list_files_of_a_subdirectory_shows_paths_from_the_root(root, call):
    write(root / "pkg" / "sub" / "m.py", "")
    write(root / "other.py", "")
    assert call("list_files", path="pkg") == (True, "pkg/sub/m.py")
    assert call("list_files", path="./pkg/sub/") == (True, "pkg/sub/m.py")


def test_list_files_skips_state_dir_outside_git(tmp_path):
    plain = tmp_path / "plain"
    write(plain / "a.txt", "")
    write(plain / ".mini-coding-agent" / "state.json", "")
    write(plain / ".git" / "HEAD", "not a real repo")
    assert make_caller(plain)("list_files") == (True, "a.txt")


def test_list_files_caps_the_listing(root, call):
    for i in range(250):
        write(root / "many" / f"f{i:03}.txt", "")
    ok, text = call("list_files", path="many")
    lines = text.splitlines()
    assert ok and len(lines) == 201
    assert lines[0] == "many/f000.txt" and lines[199] == "many/f199.txt"
    assert lines[200] == "... 50 more files; narrow the path"


def test_list_files_errors_and_empty(root, call):
    write(root / "a.py", "")
    (root / "empty").mkdir()
    assert call("list_files", path="empty") == (True, "(no files)")
    ok, text = call("list_files", path="a.py")
    assert not ok and "a.py is a file, not a directory" in text
    ok, text = call("list_files", path="missing")
    assert not ok and text == "error: no such directory: missing"


def test_list_files_refuses_escapes_and_does_not_follow_links_out(root, outside, call):
    (root / "out").symlink_to(outside, target_is_directory=True)
    write(root / "in.txt", "")
    assert call("list_files") == (True, "in.txt")
    for raw in ("..", "../outside", str(outside), "out", "/etc"):
        ok, text = call("list_files", path=raw)
        assert not ok and "outside the workspace" in text, raw


def test_list_files_handles_spaces_and_unicode(root, call):
    write(root / "my docs" / "naïve café.md", "")
    assert call("list_files", path="my docs") == (True, "my docs/naïve café.md")


def test_walk_files_fallback_matches_ripgrep_without_ignore_files(root, call):
    for name in ("b/x.py", "a.py", "b/c/d.txt", ".hidden/h", "sp ace/ü.txt"):
        write(root / name, "")
    walked = sorted(p.relative_to(root).as_posix() for p in walk_files(root))
    assert call("list_files") == (True, "\n".join(walked))


# read_file


def test_read_file_numbers_lines_with_a_header(root, call):
    write(root / "a.py", "".join(f"line {i}\n" for i in range(1, 11)))
    assert call("read_file", path="a.py", start=3, end=4) == (
        True,
        "# a.py (lines 3-4 of 10)\n   3: line 3\n   4: line 4",
    )
    ok, text = call("read_file", path="a.py")
    assert ok
    assert text.splitlines()[0] == "# a.py (lines 1-10 of 10)"
    assert text.splitlines()[-1] == "  10: line 10"


def test_read_file_range_errors_state_the_line_count(root, call):
    write(root / "a.py", "one\ntwo\nthree")
    ok, text = call("read_file", path="a.py", start=5, end=9)
    assert not ok and "has 3 lines" in text and "start (5)" in text
    ok, text = call("read_file", path="a.py", start=3, end=2)
    assert not ok and "end (2) is before start (3)" in text and "3 lines" in text
    with pytest.raises(ToolError, match="start"):
        TOOLS.validate("read_file", {"path": "a.py", "start": 0})
    assert call("read_file", path="a.py", start=3, end=3) == (
        True,
        "# a.py (lines 3-3 of 3)\n   3: three",
    )


def test_read_file_special_contents(root, call):
    write(root / "empty.txt", "")
    write(root / "crlf.txt", b"a\r\nb\r\n")
    write(root / "latin1.txt", b"caf\xe9 ok\n")
    write(root / "blob.bin", b"PK\x03\x04\x00\x00rest")
    write(root / "long.txt", "x" * 5000 + "\nshort\n")
    assert call("read_file", path="empty.txt") == (True, "# empty.txt (empty file)")
    assert call("read_file", path="crlf.txt")[1].endswith("   1: a\n   2: b")
    assert "caf\ufffd ok" in call("read_file", path="latin1.txt")[1]
    ok, text = call("read_file", path="blob.bin")
    assert not ok and "blob.bin is a binary file" in text
    lines = call("read_file", path="long.txt")[1].splitlines()
    assert lines[1] == "   1: " + "x" * 2000 + " [... line cut at 2000 characters]"
    assert lines[2] == "   2: short"


def test_read_file_stops_early_when_the_output_would_be_long(root, call):
    write(root / "wide.txt", "".join(f"{i:04} " + "w" * 200 + "\n" for i in range(1, 301)))
    ok, text = call("read_file", path="wide.txt", start=1, end=300)
    lines = text.splitlines()
    assert ok and len(text) < 12_000
    last = int(lines[-2].split(":")[0])
    assert lines[0] == f"# wide.txt (lines 1-{last} of 300)"
    assert lines[-1].endswith(f"next: start={last + 1}]")


def test_read_file_streams_a_big_file(root, call):
    write(root / "big.txt", "".join(f"row {i}\n" for i in range(300_000)))
    assert call("read_file", path="big.txt", start=150_001, end=150_002) == (
        True,
        "# big.txt (lines 150001-150002 of 300000)\n150001: row 150000\n150002: row 150001",
    )


def test_read_file_bad_paths(root, outside, call):
    (root / "dir").mkdir()
    (root / "link").symlink_to(outside / "secret.txt")
    (root / "linkdir").symlink_to(outside, target_is_directory=True)
    write(root / "with space ü.txt", "hello\n")
    assert call("read_file", path="with space ü.txt")[1].endswith("   1: hello")
    assert call("read_file", path="missing.py") == (False, "error: file not found: missing.py")
    ok, text = call("read_file", path="dir")
    assert not ok and "dir is a directory" in text
    for raw in ("link", "linkdir/secret.txt", "../outside/secret.txt", "/etc/passwd"):
        ok, text = call("read_file", path=raw)
        assert not ok and "outside the workspace" in text and "password" not in text, raw


def test_read_file_refuses_a_fifo(root, call):
    os.mkfifo(root / "pipe")
    assert call("read_file", path="pipe") == (False, "error: pipe is not a regular file")


@pytest.mark.skipif(AS_ROOT, reason="root can read anything")
def test_read_file_permission_denied_is_an_error_result(root, call):
    path = write(root / "locked.txt", "x\n")
    path.chmod(0)
    ok, text = call("read_file", path="locked.txt")
    assert not ok and "Permission denied" in text


# write_file


def test_write_file_creates_parents_and_reports(root, call):
    assert call("write_file", path="pkg/sub/binary_search.py", content="a\nb\n") == (
        True,
        "created pkg/sub/binary_search.py (2 lines)",
    )
    assert (root / "pkg/sub/binary_search.py").read_text() == "a\nb\n"
    assert call("write_file", path="pkg/sub/binary_search.py", content="one") == (
        True,
        "overwrote pkg/sub/binary_search.py (1 line, was 2)",
    )
    assert (root / "pkg/sub/binary_search.py").read_bytes() == b"one\n"
    assert call("write_file", path="crlf.txt", content="a\r\nb")[1] == "created crlf.txt (2 lines)"
    assert (root / "crlf.txt").read_bytes() == b"a\r\nb\r\n"
    assert call("write_file", path="héllo wörld.txt", content="")[1] == (
        "created héllo wörld.txt (0 lines)"
    )


def test_write_file_refuses_unencodable_text(root, call):
    ok, text = call("write_file", path="s.txt", content="bad \ud800 surrogate")
    assert not ok and "cannot be written as UTF-8" in text
    assert not (root / "s.txt").exists()


def test_write_file_replaces_atomically_and_keeps_mode(root, call):
    path = write(root / "run.sh", "#!/bin/sh\necho old\n")
    path.chmod(0o751)
    inode = path.stat().st_ino
    assert call("write_file", path="run.sh", content="#!/bin/sh\necho new\n")[0]
    assert stat.S_IMODE(path.stat().st_mode) == 0o751
    assert path.stat().st_ino != inode
    assert sorted(os.listdir(root)) == [".git", "run.sh"]


def test_write_file_new_file_mode_follows_umask(root, call):
    old = os.umask(0o027)
    try:
        assert call("write_file", path="new.txt", content="x")[0]
    finally:
        os.umask(old)
    assert stat.S_IMODE((root / "new.txt").stat().st_mode) == 0o640


def test_write_file_through_an_inside_symlink_keeps_the_link(root, call):
    write(root / "real.txt", "old\n")
    (root / "alias.txt").symlink_to("real.txt")
    assert call("write_file", path="alias.txt", content="new\n") == (
        True,
        "overwrote real.txt (1 line, was 1)",
    )
    assert (root / "alias.txt").is_symlink() and (root / "real.txt").read_text() == "new\n"


def test_write_file_refusals(root, outside, call):
    (root / "dir").mkdir()
    write(root / "file.txt", "x")
    (root / "out").symlink_to(outside, target_is_directory=True)
    (root / "out.txt").symlink_to(outside / "secret.txt")
    ok, text = call("write_file", path="dir", content="x")
    assert not ok and "dir is a directory" in text
    ok, text = call("write_file", path="file.txt/child.py", content="x")
    assert not ok and "part of its directory path is a file" in text
    for raw in (".git/config", ".git/hooks/pre-commit", ".mini-coding-agent/x.json"):
        ok, text = call("write_file", path=raw, content="x")
        assert not ok and "is protected" in text, raw
    for raw in ("../escape.txt", str(outside / "new.txt"), "out/new.txt", "out.txt"):
        ok, text = call("write_file", path=raw, content="pwned")
        assert not ok and "outside the workspace" in text, raw
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]
    assert (outside / "secret.txt").read_text() == "top secret password\n"
    assert not (root / ".git" / "hooks" / "pre-commit").exists()


# patch_file


def patch(call, path: str, old: str, new: str) -> tuple[bool, str]:
    return call("patch_file", path=path, old_text=old, new_text=new)


def test_patch_exact(root, call):
    path = write(root / "a.py", "def f():\n    return 1\n")
    assert patch(call, "a.py", "return 1", "return 2") == (True, "patched a.py at line 2")
    assert path.read_text() == "def f():\n    return 2\n"


def test_patch_ambiguous_lists_line_numbers(root, call):
    path = write(root / "a.py", "x = 1\ny = 2\nx = 1\n")
    ok, text = patch(call, "a.py", "x = 1", "x = 3")
    assert not ok and "matches 2 places" in text and "lines 1, 3" in text
    ok, text = patch(call, "a.py", "  x = 1  ", "x = 3")
    assert not ok and "(lines 1, 3)" in text and "ignoring indentation" in text
    assert path.read_text() == "x = 1\ny = 2\nx = 1\n"


def test_patch_ignoring_trailing_whitespace(root, call):
    path = write(root / "a.py", "a = 1   \nb = 2\nc = 3\n")
    ok, text = patch(call, "a.py", "a = 1\nb = 2\n", "a = 10\nb = 20\n")
    assert (ok, text) == (True, "patched a.py at lines 1-2 (matched ignoring trailing whitespace)")
    assert path.read_text() == "a = 10\nb = 20\nc = 3\n"


def test_patch_ignoring_indentation_reindents_new_text(root, call):
    source = "class A:\n    def f(self):\n        if x:\n            return 1\n        return 2\n"
    path = write(root / "a.py", source)
    old = "if x:\n    return 1\n"
    new = "if x:\n    log()\n    return 1\nelse:\n    pass\n"
    ok, text = patch(call, "a.py", old, new)
    assert (ok, text) == (True, "patched a.py at lines 3-4 (matched ignoring indentation)")
    assert path.read_text() == (
        "class A:\n    def f(self):\n        if x:\n            log()\n            return 1\n"
        "        else:\n            pass\n        return 2\n"
    )
    ok, _ = patch(call, "a.py", "                    return 2", "                    return 3")
    assert ok and path.read_text().endswith("\n        return 3\n")


def test_patch_with_unicode_punctuation_normalised(root, call):
    path = write(root / "a.py", 'print("it\'s - done...")\n')
    ok, text = patch(call, "a.py", "print(“it’s – done…”)", 'print("finished")')
    assert (ok, text) == (
        True,
        "patched a.py at line 1 (matched with Unicode punctuation normalised)",
    )
    assert path.read_text() == 'print("finished")\n'


def test_patch_not_found_names_the_closest_line(root, call):
    path = write(root / "a.py", "import os\n\ndef compute_total(items):\n    return sum(items)\n")
    ok, text = patch(call, "a.py", "def compute_totals(items, tax):\n", "x")
    assert not ok and "old_text was not found in a.py" in text
    assert "most similar line is 3: 'def compute_total(items):'" in text
    assert path.read_text().startswith("import os")


def test_patch_argument_errors(root, call):
    write(root / "a.py", "x\n")
    write(root / "b.bin", b"\x00\x01x")
    ok, text = patch(call, "a.py", "", "y")
    assert not ok and "old_text must not be empty" in text
    ok, text = patch(call, "a.py", "x", "x")
    assert not ok and "identical" in text
    assert patch(call, "nope.py", "x", "y") == (False, "error: file not found: nope.py")
    ok, text = patch(call, "b.bin", "x", "y")
    assert not ok and "binary" in text


def test_patch_preserves_crlf_and_trailing_newline(root, call):
    path = write(root / "w.txt", b"one\r\ntwo\r\nthree\r\n")
    assert patch(call, "w.txt", "two\n", "2\n2b\n")[0]
    assert path.read_bytes() == b"one\r\n2\r\n2b\r\nthree\r\n"
    assert patch(call, "w.txt", "  2b  \n  three", "  3")[1].endswith("ignoring indentation)")
    assert path.read_bytes() == b"one\r\n2\r\n3\r\n"
    assert patch(call, "w.txt", "3\r\n", "end")[0]
    assert path.read_bytes() == b"one\r\n2\r\nend\r\n"
    bare = write(root / "bare.txt", "a\nb")
    assert patch(call, "bare.txt", "b", "c")[0]
    assert bare.read_bytes() == b"a\nc"


def test_patch_keeps_undecodable_bytes_and_mode(root, call):
    path = write(root / "legacy.sh", b"#!/bin/sh\necho caf\xe9\nexit 0\n")
    path.chmod(0o755)
    assert patch(call, "legacy.sh", "exit 0", "exit 1")[0]
    assert path.read_bytes() == b"#!/bin/sh\necho caf\xe9\nexit 1\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o755


def test_patch_deletes_lines(root, call):
    path = write(root / "a.py", "keep\n    drop me   \nkeep too\n")
    assert patch(call, "a.py", "drop me\n", "")[1].endswith("(matched ignoring indentation)")
    assert path.read_text() == "keep\nkeep too\n"


def test_patch_refuses_protected_and_outside(root, outside, call):
    (root / "out.txt").symlink_to(outside / "secret.txt")
    for raw in (".git/HEAD", "out.txt", "../outside/secret.txt", str(outside / "secret.txt")):
        ok, text = patch(call, raw, "secret", "public")
        assert not ok and ("protected" in text or "outside the workspace" in text), raw
    assert (outside / "secret.txt").read_text() == "top secret password\n"


def test_patch_in_a_file_with_spaces_and_unicode(root, call):
    path = write(root / "dír one" / "ñame 2.md", "título: viejo\n")
    assert patch(call, "dír one/ñame 2.md", "viejo", "nuevo") == (
        True,
        "patched dír one/ñame 2.md at line 1",
    )
    assert path.read_text() == "título: nuevo\n"


def test_apply_patch_directly():
    assert apply_patch("a\nb\n", "b", "c") == ("a\nc\n", 2, 2, "")
    with pytest.raises(
        ToolError, match=r"matches 24 places in f \(lines 1, 2, 3, .*, 10, \.\.\.\)"
    ):
        apply_patch("x\n" * 24, "x", "y", "f")
    with pytest.raises(ToolError, match="only whitespace"):
        apply_patch("a\n", "\n\n", "x")


def test_patch_leaves_no_temp_files(root, call):
    write(root / "a.txt", "x\n")
    assert patch(call, "a.txt", "x", "y")[0]
    assert sorted(Path(root).iterdir()) == [root / ".git", root / "a.txt"]
