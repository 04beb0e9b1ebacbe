"""Who may run what: approval mode × rules (data in TOML files) → allow | ask | deny.

Rules come from the user file ($XDG_CONFIG_HOME, default ~/.config, then
mini-coding-agent/permissions.toml), the project file (.mini-coding-agent/permissions.toml)
and approvals given "for this session". Each [[allow]] or [[deny]] table has up to 3 keys:

    tool     a tool name or "*" (any risky tool); omitted: run_shell if command is given, else "*"
    command  run_shell only: a command prefix matched on whole words ("git status" matches
             "git status --short"; "pytest" matches "pytest -q" but not "pytest-foo")
    path     write tools: a glob relative to the workspace root; * and ? stay inside one
             directory, ** spans directories ("src/**/*.py" matches src/a.py and src/x/a.py)

Read-only tools never ask. A matching deny rule denies in every mode; mode never denies every
risky call; a matching allow rule allows; mode auto allows the rest; ask mode asks.

A shell command is split into simple commands on ; & | && || newlines ( ) < > and command
substitutions ($(...) and backticks, also inside double quotes), quotes respected. Allow
rules allow a command only when every simple command is allowed, so "pytest" never covers
"pytest && curl x", "pytest | sh" or "pytest > ~/.bashrc" (a redirection target is a part no
rule allows); a deny rule matches when any simple command matches. Redirections to /dev/null
and between descriptors (2>&1) are ignored. A command with an unclosed quote or substitution
is allowed only by a rule without a command. Assignments and wrappers are not looked through:
"FOO=1 pytest" and "timeout 5 pytest" are not covered by "pytest".

A path is matched as the model wrote it (normalised: "./" and "a/.." removed, absolute paths
inside the root made relative) and as it resolves through symlinks; deny rules need either
form to match, allow rules both.
"""

from __future__ import annotations

import glob
import os
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any, Literal

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from mini_coding_agent.shell_words import command_prefix, split_command
from mini_coding_agent.tools.edits import atomic_write
from mini_coding_agent.trust import is_trusted, trust
from mini_coding_agent.workspace import STATE_DIR

APPROVAL_MODES = ("ask", "auto", "never")
APPROVAL_CHOICES = ("once", "session", "always", "no")
Decision = Literal["allow", "ask", "deny"]
FILE_NAME = "permissions.toml"
SHELL = "run_shell"
RULE_KEYS = ("tool", "command", "path")
_HEADER = "# mini-coding-agent permission rules: [[allow]] and [[deny]] tables (deny wins)\n"


UNTRUSTED = (
    "{path} has allow rules you have not accepted (a repository can ship this file): they are "
    "ignored; /permissions trust accepts them"
)


class PermissionsError(ValueError):
    """A rules file that cannot be read, parsed or written; the message is one line."""


@dataclass(frozen=True)
class ApprovalRequest:
    """A question to the user about one risky call; summary is a one-line description.

    remember describes what "session"/"always" would allow (Permissions.suggest); when it is
    empty, only "once" and "no" make sense."""

    tool: str
    args: dict[str, Any]
    summary: str
    remember: str = ""
    diff: str = ""  # the unified diff a write would make


@dataclass(frozen=True)
class Approval:
    """The user's answer; reason (with "no") is passed on to the model."""

    choice: Literal["once", "session", "always", "no"]
    reason: str = ""

    def __post_init__(self) -> None:
        if self.choice not in APPROVAL_CHOICES:
            raise ValueError(f"unknown approval choice '{self.choice}'")

    @property
    def allowed(self) -> bool:
        return self.choice != "no"


# Supplied by the front-end; the core never reads stdin.
Approver = Callable[[ApprovalRequest], Approval]


def deny_all(_request: ApprovalRequest) -> Approval:
    return Approval("no")


@dataclass(frozen=True)
class Rule:
    effect: Literal["allow", "deny"]
    tool: str = "*"
    command: str | None = None
    path: str | None = None
    source: str = field(default="session", compare=False)  # a file path or "session"

    def describe(self) -> str:
        text = self.tool if self.tool != "*" else "any write tool" if self.path else "any tool"
        if self.command is not None:
            text += f" command {self.command!r}"
        if self.path is not None:
            text += f" path {self.path!r}"
        return text


def user_file() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME", "")
    config = Path(base) if os.path.isabs(base) else Path.home() / ".config"
    return config / "mini-coding-agent" / FILE_NAME


def _glob_match(pattern: list[str], parts: list[str]) -> bool:
    """Whether path segments match glob segments, where a "**" segment spans any number."""
    if not pattern:
        return not parts
    if pattern[0] == "**":
        return any(_glob_match(pattern[1:], parts[i:]) for i in range(len(parts) + 1))
    return bool(parts) and fnmatchcase(parts[0], pattern[0]) and _glob_match(pattern[1:], parts[1:])


def _toml_string(text: str) -> str:
    escaped = (
        "\\" + ch if ch in '"\\' else ch if ch.isprintable() else f"\\U{ord(ch):08x}" for ch in text
    )
    return '"' + "".join(escaped) + '"'


def _rule(entry: dict[str, Any], effect: Literal["allow", "deny"], where: str, source: str):
    for key, value in entry.items():
        if key not in RULE_KEYS:
            raise PermissionsError(f"{where}: unknown key '{key}' (expected tool, command, path)")
        if not isinstance(value, str) or not value.strip():
            raise PermissionsError(f"{where}: {key} must be a non-empty string")
    if not entry:
        raise PermissionsError(f"{where}: empty rule (give tool, command or path)")
    command, path = entry.get("command"), entry.get("path")
    tool = entry.get("tool", SHELL if command is not None else "*")
    if command is not None:
        parts, complete = split_command(command)
        if tool != SHELL:
            raise PermissionsError(f"{where}: command applies only to tool '{SHELL}'")
        if not complete or len(parts) != 1:
            raise PermissionsError(f"{where}: command must be one command prefix: {command!r}")
    if path is not None and tool == SHELL:
        raise PermissionsError(f"{where}: path applies to write tools, not {SHELL}")
    return Rule(effect, tool, command, path, source)


def _parse(text: str, path: Path) -> list[Rule]:
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise PermissionsError(f"{path}: invalid TOML: {error}") from None
    unknown = sorted(doc.keys() - {"allow", "deny"})
    if unknown:
        raise PermissionsError(f"{path}: unknown key '{unknown[0]}' (expected [[allow]], [[deny]])")
    rules = []
    for effect in ("deny", "allow"):
        entries = doc.get(effect, [])
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            raise PermissionsError(f"{path}: '{effect}' must be tables written [[{effect}]]")
        for n, entry in enumerate(entries, 1):
            rules.append(_rule(entry, effect, f"{path}: {effect} rule {n}", str(path)))
    return rules


def read_rules(path: Path) -> list[Rule]:
    """The rules in one file (none if it does not exist); raises PermissionsError."""
    try:
        return _parse(path.read_bytes().decode("utf-8"), path)
    except FileNotFoundError:
        return []
    except UnicodeDecodeError:
        raise PermissionsError(f"{path}: not UTF-8 text") from None
    except OSError as error:
        raise PermissionsError(f"{path}: cannot read: {error.strerror or error}") from None


def _write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o7777 if path.exists() else 0o644
    atomic_write(path, text.encode("utf-8"), mode)


class Permissions:
    def __init__(
        self,
        mode: str = "ask",
        rules: Iterable[Rule] = (),
        *,
        root: str | os.PathLike[str] | None = None,
        project_file: Path | None = None,
        files: Iterable[Path] = (),
    ):
        if mode not in APPROVAL_MODES:
            raise ValueError(f"unknown approval mode '{mode}'")
        self.mode = mode
        self.rules = list(rules)  # in effect, each with its source
        self.root = os.path.realpath(root) if root is not None else None
        self.project_file = project_file  # where allow_always writes
        self.files = list(files)  # where the rules were read from
        self.untrusted = False  # the project file's allow rules await the user's acceptance

    @classmethod
    def load(cls, mode: str, root: str | os.PathLike[str]) -> Permissions:
        """The user's and the project's rules for a workspace; raises PermissionsError."""
        files = [user_file(), Path(root) / STATE_DIR / FILE_NAME]
        rules = read_rules(files[0])
        project = read_rules(files[1])
        untrusted = any(r.effect == "allow" for r in project) and not is_trusted(
            files[0].parent, files[1]
        )
        rules += [r for r in project if r.effect == "deny" or not untrusted]
        permissions = cls(mode, rules, root=root, project_file=files[1], files=files)
        permissions.untrusted = untrusted
        return permissions

    def trust_project(self) -> str:
        """Accept the project file's current content, its allow rules included."""
        path = self.project_file
        if path is None or not path.exists():
            return "there is no project rules file to trust"
        try:
            trust(user_file().parent, path)
        except OSError as error:
            raise PermissionsError(f"cannot record trust: {error}") from None
        self.rules = [r for r in self.rules if r.source != str(path)] + read_rules(path)
        self.untrusted = False
        return f"trusted {path}: its allow rules now apply"

    def decide(self, tool_name: str, risky: bool, args: dict[str, Any] | None = None) -> Decision:
        if not risky:
            return "allow"
        args = args or {}
        if self._deny_rule(tool_name, args) or self.mode == "never":
            return "deny"
        return "allow" if self.mode == "auto" or self._allowed(tool_name, args) else "ask"

    def why(self, tool_name: str, args: dict[str, Any] | None = None) -> str:
        """Why a risky call is denied, in a few words; empty if it is not."""
        rule = self._deny_rule(tool_name, args or {})
        if rule is not None:
            return f"denied by rule {rule.describe()} in {rule.source}"
        return "approval mode never" if self.mode == "never" else ""

    def suggest(self, tool_name: str, args: dict[str, Any]) -> list[Rule]:
        """The allow rules that would let this call run again without asking: one per simple
        command for run_shell (see command_prefix), the exact path for a write, else the
        tool. Empty when the call cannot be remembered (then offer only once/no)."""
        command, path = args.get("command"), args.get("path")
        if tool_name == SHELL and isinstance(command, str):
            parts, complete = split_command(command)
            prefixes = [command_prefix(words) for words in parts]
            if not complete or None in prefixes:
                return []
            return list(dict.fromkeys(Rule("allow", SHELL, command=p) for p in prefixes))
        if isinstance(path, str):
            forms = sorted(self._path_forms(path))
            return [Rule("allow", tool_name, path=glob.escape(form)) for form in forms]
        return [Rule("allow", tool_name)]

    def allow_for_session(self, tool_name: str, args: dict[str, Any]) -> list[Rule]:
        """Remember this call's suggested rules until the session ends; returns those added."""
        added = [rule for rule in self.suggest(tool_name, args) if rule not in self.rules]
        self.rules += added
        return added

    def allow_always(self, tool_name: str, args: dict[str, Any]) -> list[Rule]:
        """Append this call's suggested rules to the project file (keeping what it holds) and
        apply them now; returns the rules written. Raises PermissionsError."""
        path = self.project_file
        if path is None:
            raise PermissionsError("no project permissions file to write to")
        saved = [rule for rule in self.rules if rule.source == str(path)]
        new = [replace(r, source=str(path)) for r in self.suggest(tool_name, args)]
        new = [rule for rule in new if rule not in saved]
        if not new:
            return []
        try:
            old = path.read_text(encoding="utf-8") if path.exists() else _HEADER
            text = old + ("\n" if old and not old.endswith("\n") else "")
            for rule in new:
                text += f"\n[[allow]]\ntool = {_toml_string(rule.tool)}\n"
                for key in ("command", "path"):
                    if getattr(rule, key) is not None:
                        text += f"{key} = {_toml_string(getattr(rule, key))}\n"
            _parse(text, path)  # never write what could not be read back
            _write_text(path, text)
            if not self.untrusted:  # the user's own file stays accepted as it grows
                trust(user_file().parent, path)
        except (OSError, UnicodeDecodeError) as error:
            raise PermissionsError(f"{path}: cannot write: {error}") from None
        self.rules = [rule for rule in self.rules if rule not in new] + new
        return new

    def describe(self) -> str:
        """The text /permissions prints: the mode, the rules in force and their sources."""
        meaning = {"ask": "ask first", "auto": "run", "never": "never run"}[self.mode]
        lines = [f"approval mode: {self.mode} (risky tools {meaning})"]
        if self.rules:
            lines.append("rules (deny wins):")
            width = max(len(rule.describe()) for rule in self.rules)
            for rule in sorted(self.rules, key=lambda rule: rule.effect != "deny"):
                lines.append(f"  {rule.effect:<5} {rule.describe():<{width}}  {rule.source}")
        else:
            lines.append("no rules")
        lines += [f"rules file: {path}{'' if path.exists() else ' (none)'}" for path in self.files]
        if self.untrusted:
            lines.append(UNTRUSTED.format(path=self.project_file))
        return "\n".join(lines)

    def _path_forms(self, raw: str) -> set[str]:
        text = os.path.expanduser(raw.strip())
        if self.root is None:
            return {os.path.normpath(text)}
        full = os.path.join(self.root, text)
        forms = set()
        for candidate in (os.path.normpath(full), os.path.realpath(full)):
            rel = os.path.relpath(candidate, self.root)
            forms.add(candidate if rel == ".." or rel.startswith("../") else rel)
        return forms

    def _targets(self, args: dict[str, Any]) -> tuple[list[list[str]] | list[str], bool]:
        """What command and path rules look at: the simple commands of a command, or the
        forms of a path; and whether the command parsed completely."""
        command, path = args.get("command"), args.get("path")
        if isinstance(command, str):
            return split_command(command)
        return (sorted(self._path_forms(path)) if isinstance(path, str) else []), True

    @staticmethod
    def _covers(rule: Rule, target: list[str] | str) -> bool:
        if rule.command is not None:
            prefix = split_command(rule.command)[0][0]
            return isinstance(target, list) and target[: len(prefix)] == prefix
        if rule.path is not None:
            pattern = os.path.normpath(rule.path).split("/")
            return isinstance(target, str) and _glob_match(pattern, target.split("/"))
        return True

    def _deny_rule(self, tool_name: str, args: dict[str, Any]) -> Rule | None:
        targets, _ = self._targets(args)
        for rule in self.rules:
            if rule.effect != "deny" or rule.tool not in ("*", tool_name):
                continue
            if (rule.command is None and rule.path is None) or any(
                self._covers(rule, target) for target in targets
            ):
                return rule
        return None

    def _allowed(self, tool_name: str, args: dict[str, Any]) -> bool:
        rules = [r for r in self.rules if r.effect == "allow" and r.tool in ("*", tool_name)]
        if any(rule.command is None and rule.path is None for rule in rules):
            return True
        targets, complete = self._targets(args)
        return (
            complete
            and bool(targets)
            and all(any(self._covers(rule, target) for rule in rules) for target in targets)
        )
