"""Permission rules as data: real rule files in temporary directories, through the public API."""

from pathlib import Path

import pytest

from mini_coding_agent.permissions import (
    Approval,
    ApprovalRequest,
    Permissions,
    PermissionsError,
    Rule,
    deny_all,
    user_file,
)
from mini_coding_agent.trust import trust


@pytest.fixture
def root(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    workspace = tmp_path / "repo"
    (workspace / "src" / "pkg").mkdir(parents=True)
    return workspace


def write_user(text: str) -> Path:
    path = user_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def write_project(root: Path, text: str) -> Path:
    """The project's rules file, written and accepted by its user (/permissions trust)."""
    path = root / ".mini-coding-agent" / "permissions.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    trust(user_file().parent, path)
    return path


def shell(perms: Permissions, command: str) -> str:
    return perms.decide("run_shell", True, {"command": command})


def write(perms: Permissions, path: str, tool: str = "write_file") -> str:
    return perms.decide(tool, True, {"path": path, "content": "x"})


ALLOW_PYTEST = '[[allow]]\ntool = "run_shell"\ncommand = "pytest"\n'


def test_user_file_honours_xdg_config_home(root: Path, tmp_path: Path, monkeypatch):
    assert user_file() == tmp_path / "config" / "mini-coding-agent" / "permissions.toml"
    monkeypatch.delenv("XDG_CONFIG_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert user_file() == tmp_path / "home" / ".config" / "mini-coding-agent" / "permissions.toml"


def test_user_and_project_rules_merge_with_their_sources(root: Path):
    user = write_user(ALLOW_PYTEST)
    project = write_project(
        root,
        '[[deny]]\ntool = "run_shell"\ncommand = "git push"\n'
        '[[allow]]\ntool = "write_file"\npath = "src/**/*.py"\n',
    )
    perms = Permissions.load("ask", root)
    assert [(r.effect, r.tool, r.command, r.path, r.source) for r in perms.rules] == [
        ("allow", "run_shell", "pytest", None, str(user)),
        ("deny", "run_shell", "git push", None, str(project)),
        ("allow", "write_file", None, "src/**/*.py", str(project)),
    ]
    assert shell(perms, "pytest -q") == "allow"
    assert write(perms, "src/pkg/a.py") == "allow"
    assert shell(perms, "git push origin main") == "deny"
    assert shell(perms, "ls") == "ask"
    assert perms.why("run_shell", {"command": "ls"}) == ""
    text = perms.describe()
    assert "approval mode: ask" in text
    assert "deny  run_shell command 'git push'" in text and str(project) in text
    assert text.index("deny ") < text.index("allow ")
    assert str(user) in text


def test_no_files_means_no_rules_and_the_mode_decides(root: Path):
    perms = Permissions.load("ask", root)
    assert perms.rules == []
    assert shell(perms, "pytest") == "ask"
    assert "no rules" in perms.describe() and "(none)" in perms.describe()


def test_deny_wins_over_allow(root: Path):
    write_user('[[allow]]\ntool = "run_shell"\n')
    write_project(root, '[[deny]]\ncommand = "rm"\n')
    perms = Permissions.load("ask", root)
    assert shell(perms, "ls -la") == "allow"
    assert shell(perms, "rm -rf build") == "deny"
    assert shell(perms, "ls && rm x") == "deny", "a deny matches any part"
    assert "denied by rule run_shell command 'rm' in " in perms.why(
        "run_shell", {"command": "rm x"}
    )


def test_prefixes_match_whole_words(root: Path):
    write_project(root, ALLOW_PYTEST + '[[allow]]\ncommand = "git status"\n')
    perms = Permissions.load("ask", root)
    assert shell(perms, "pytest") == "allow"
    assert shell(perms, "pytest -q tests/test_a.py") == "allow"
    assert shell(perms, "pytest-foo") == "ask"
    assert shell(perms, "pytestx -q") == "ask"
    assert shell(perms, "git status --short") == "allow"
    assert shell(perms, "git   status") == "allow"
    assert shell(perms, "git statusx") == "ask"
    assert shell(perms, "git stash") == "ask"
    assert shell(perms, "git") == "ask"
    assert shell(perms, "pytest && git status") == "allow", "every part is allowed"
    assert shell(perms, "pytest -q 2>&1 | pytest") == "allow"
    assert shell(perms, "pytest -q 2>/dev/null") == "allow"


@pytest.mark.parametrize(
    "command",
    [
        "pytest && curl x",
        "pytest; rm -rf ~",
        "pytest $(rm x)",
        "pytest `rm x`",
        'pytest "$(rm x)"',
        'pytest "a `rm x` b"',
        "pytest | sh",
        "pytest || sh",
        "pytest & sh",
        "pytest\nrm x",
        "pytest > ~/.bashrc",
        "pytest >> src/a.py",
        "pytest < <(curl x)",
        "(pytest) ; rm x",
        "pytest 'unclosed",
        "",
    ],
)
def test_compound_commands_cannot_ride_an_allow_rule(root: Path, command: str):
    write_project(root, ALLOW_PYTEST)
    assert shell(Permissions.load("ask", root), command) == "ask"


@pytest.mark.parametrize(
    "command", ["pytest; git push", "pytest $(git push)", 'echo "`git push -f`"', "ls\ngit push"]
)
def test_deny_rules_see_every_part_of_a_command(root: Path, command: str):
    write_project(root, '[[allow]]\ntool = "run_shell"\n[[deny]]\ncommand = "git push"\n')
    assert shell(Permissions.load("auto", root), command) == "deny"


def test_quotes_are_words_not_operators(root: Path):
    write_project(root, '[[allow]]\ncommand = "git commit"\n')
    perms = Permissions.load("ask", root)
    assert shell(perms, "git commit -m 'fix: a | b'") == "allow"
    assert shell(perms, 'git commit -m "x; y"') == "allow"


@pytest.mark.parametrize(
    ("path", "decision"),
    [
        ("src/a.py", "allow"),
        ("src/pkg/deep/b.py", "allow"),
        ("./src/a.py", "allow"),
        ("src/../src/a.py", "allow"),
        ("src//pkg/./c.py", "allow"),
        ("src/a.txt", "ask"),
        ("tests/src/a.py", "ask"),
        ("a.py", "ask"),
        ("src/../a.py", "ask"),
        ("../repo/src/a.py", "allow"),
        ("src/secret/x.py", "deny"),
        ("./src/pkg/../secret/x.py", "deny"),
    ],
)
def test_path_globs_match_normalised_paths(root: Path, path: str, decision: str):
    write_project(
        root,
        '[[allow]]\ntool = "write_file"\npath = "src/**/*.py"\n[[deny]]\npath = "src/secret/**"\n',
    )
    assert write(Permissions.load("ask", root), path) == decision


def test_absolute_paths_inside_the_root_are_made_relative(root: Path):
    write_project(root, '[[allow]]\ntool = "write_file"\npath = "src/*.py"\n')
    perms = Permissions.load("ask", root)
    assert write(perms, str(root / "src" / "a.py")) == "allow"
    assert write(perms, str(root.parent / "elsewhere" / "src" / "a.py")) == "ask"


def test_path_rules_follow_symlinks(root: Path):
    (root / "link").symlink_to(root / "src")
    write_project(root, '[[allow]]\npath = "link/**"\n[[deny]]\npath = "src/pkg/**"\n')
    perms = Permissions.load("ask", root)
    assert write(perms, "link/pkg/a.py") == "deny", "denied through the link's target"
    assert write(perms, "link/a.py") == "ask", "an allow must match the resolved path too"


def test_path_rule_without_tool_covers_every_write_tool(root: Path):
    write_project(root, '[[allow]]\npath = "docs/**"\n')
    perms = Permissions.load("ask", root)
    assert write(perms, "docs/a.md") == "allow"
    assert write(perms, "docs/a.md", tool="patch_file") == "allow"
    assert shell(perms, "docs/a.md") == "ask"


def test_never_mode_denies_even_with_allow_rules(root: Path):
    write_project(root, ALLOW_PYTEST + '[[allow]]\ntool = "*"\n')
    perms = Permissions.load("never", root)
    assert shell(perms, "pytest") == "deny"
    assert write(perms, "src/a.py") == "deny"
    assert perms.why("run_shell", {"command": "pytest"}) == "approval mode never"


def test_auto_mode_still_honours_deny_rules(root: Path):
    write_project(root, '[[deny]]\ntool = "write_file"\npath = "*.lock"\n')
    perms = Permissions.load("auto", root)
    assert write(perms, "uv.lock") == "deny"
    assert write(perms, "uv.lock", tool="patch_file") == "allow"
    assert write(perms, "src/a.py") == "allow"
    assert shell(perms, "rm -rf build") == "allow"


@pytest.mark.parametrize("mode", ["ask", "auto", "never"])
def test_read_only_tools_are_always_allowed(root: Path, mode: str):
    write_project(root, '[[deny]]\ntool = "*"\n[[deny]]\ntool = "read_file"\n')
    perms = Permissions.load(mode, root)
    assert perms.decide("read_file", False, {"path": "src/a.py"}) == "allow"
    assert perms.decide("search", False, {"pattern": "x"}) == "allow"
    assert perms.decide("write_file", True, {"path": "a.py"}) == "deny"


def test_the_old_call_without_args_still_works():
    assert Permissions("ask").decide("run_shell", True) == "ask"
    assert Permissions("auto").decide("run_shell", True) == "allow"
    assert Permissions("never").decide("run_shell", True) == "deny"
    with pytest.raises(ValueError, match="unknown approval mode"):
        Permissions("sometimes")


def test_allow_for_session_allows_the_same_kind_of_call_again(root: Path):
    perms = Permissions.load("ask", root)
    call = {"command": "git status --short && python -m pytest -q tests"}
    assert shell(perms, call["command"]) == "ask"
    added = perms.allow_for_session("run_shell", call)
    assert [(r.command, r.source) for r in added] == [
        ("git status", "session"),
        ("python -m pytest", "session"),
    ]
    assert shell(perms, call["command"]) == "allow"
    assert shell(perms, "python -m pytest -x") == "allow"
    assert shell(perms, "git push") == "ask"
    assert shell(perms, "python -c 'import os'") == "ask"
    assert perms.allow_for_session("run_shell", call) == [], "nothing twice"
    assert "session" in perms.describe()
    assert not (root / ".mini-coding-agent").exists(), "session rules are not saved"


@pytest.mark.parametrize(
    ("command", "prefix"),
    [
        ("pytest -q", "pytest"),
        ("npm run test -- --watch", "npm run test"),
        ("uv run pytest", "uv run pytest"),
        ("cargo test --all", "cargo test"),
        ("python script.py --fast", "python script.py --fast"),
        ("./run_tests.sh a", "./run_tests.sh"),
        ("git -C sub status", "git -C sub status"),
    ],
)
def test_remembered_shell_prefixes(command: str, prefix: str):
    assert [r.command for r in Permissions("ask").suggest("run_shell", {"command": command})] == [
        prefix
    ]


@pytest.mark.parametrize(
    "command", ["rm -rf build", "curl https://x", "pytest && rm x", "sudo make", "python", "git"]
)
def test_destructive_or_bare_commands_are_never_remembered(command: str):
    perms = Permissions("ask")
    assert perms.suggest("run_shell", {"command": command}) == []
    assert perms.allow_for_session("run_shell", {"command": command}) == []
    assert perms.decide("run_shell", True, {"command": command}) == "ask"


def test_allow_for_session_on_a_write_remembers_the_exact_path(root: Path):
    perms = Permissions.load("ask", root)
    added = perms.allow_for_session("write_file", {"path": "./src/[x]*.py"})
    assert [(r.tool, r.path) for r in added] == [("write_file", "src/[[]x][*].py")]
    assert write(perms, "src/[x]*.py") == "allow"
    assert write(perms, "src/[x]a.py") == "ask", "glob characters in the path are literal"
    assert write(perms, "src/[x]*.py", tool="patch_file") == "ask"


def test_allow_always_writes_the_project_file_and_persists(root: Path):
    project = write_project(root, "# our team's rules\n" + ALLOW_PYTEST.rstrip("\n"))
    perms = Permissions.load("ask", root)
    added = perms.allow_always("run_shell", {"command": "ruff check src"})
    assert [(r.command, r.source) for r in added] == [("ruff check", str(project))]
    assert shell(perms, "ruff check .") == "allow", "active immediately"
    perms.allow_always("write_file", {"path": 'docs/say "hi".md'})
    text = project.read_text()
    assert text.startswith("# our team's rules\n" + ALLOW_PYTEST)
    assert list(project.parent.glob("*.tmp")) == []

    fresh = Permissions.load("ask", root)  # a new session
    assert shell(fresh, "ruff check --fix") == "allow"
    assert shell(fresh, "pytest") == "allow"
    assert write(fresh, 'docs/say "hi".md') == "allow"
    assert write(fresh, "docs/other.md") == "ask"
    assert fresh.allow_always("run_shell", {"command": "ruff check"}) == []
    assert project.read_text() == text, "an existing rule is not written twice"


def test_allow_always_creates_the_project_file(root: Path):
    perms = Permissions.load("ask", root)
    perms.allow_for_session("run_shell", {"command": "make test"})
    perms.allow_always("run_shell", {"command": "make test"})
    project = root / ".mini-coding-agent" / "permissions.toml"
    assert project.is_file()
    assert [r.source for r in perms.rules] == [str(project)], "replaces the session rule"
    assert shell(Permissions.load("ask", root), "make test") == "allow"


def test_allow_always_without_a_project_file_is_an_error():
    with pytest.raises(PermissionsError, match="no project permissions file"):
        Permissions("ask").allow_always("run_shell", {"command": "pytest"})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[allow]\ntool = 1", "invalid TOML"),
        ('[[allow]]\ntool = "run_shell"\ncomand = "pytest"\n', "unknown key 'comand'"),
        ("[[allow]]\ntool = 3\n", "tool must be a non-empty string"),
        ('[[allow]]\ncommand = ""\n', "command must be a non-empty string"),
        ("[[allow]]\n", "empty rule"),
        ('[[alow]]\ntool = "x"\n', "unknown key 'alow'"),
        ('allow = "run_shell"\n', "must be tables"),
        ('[[deny]]\ntool = "write_file"\ncommand = "x"\n', "command applies only"),
        ('[[deny]]\ntool = "run_shell"\npath = "x"\n', "path applies to write tools"),
        ('[[deny]]\ncommand = "pytest && rm"\n', "one command prefix"),
    ],
)
def test_bad_files_give_one_line_naming_the_file(root: Path, text: str, message: str):
    project = write_project(root, text)
    with pytest.raises(PermissionsError) as caught:
        Permissions.load("ask", root)
    line = str(caught.value)
    assert line.startswith(str(project)) and message in line and "\n" not in line


def test_a_bad_user_file_is_named_too(root: Path):
    user = write_user("[[deny]]\ntool = true\n")
    with pytest.raises(PermissionsError, match="deny rule 1: tool must be"):
        Permissions.load("ask", root)
    user.write_bytes(b'[[deny]]\ntool = "\xff"\n')
    with pytest.raises(PermissionsError, match="not UTF-8"):
        Permissions.load("ask", root)


def test_approval_answers():
    assert deny_all(ApprovalRequest("run_shell", {"command": "x"}, "run_shell x")) == Approval("no")
    assert not Approval("no", reason="use make instead").allowed
    assert all(Approval(choice).allowed for choice in ("once", "session", "always"))
    with pytest.raises(ValueError):
        Approval("maybe")  # type: ignore[arg-type]


def test_rule_descriptions():
    assert Rule("allow", "run_shell", command="pytest").describe() == "run_shell command 'pytest'"
    assert Rule("deny", path="*.lock").describe() == "any write tool path '*.lock'"
    assert Rule("deny").describe() == "any tool"
