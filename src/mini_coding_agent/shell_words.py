"""Shell command lines as words, for permission rules: the simple commands a line runs,
and the prefix that approving one of them for the session remembers."""

from __future__ import annotations

import re
import shlex

_OPERATORS = ";&|()<>`\n"
_HARMLESS_REDIRECT = re.compile(
    r"(?:(?<=\s)\d+)?(?:(?:&?>>?|<)\s*/dev/null|>&(?:\d+|-))(?=[\s;&|)]|$)"
)
_INTERPRETER = re.compile(r"(?:python|pypy)[\d.]*|node|deno|bun|perl|ruby|php|sh|bash|zsh|dash")
_SUBCOMMAND_TOOLS = re.compile(
    r"git|npm|npx|pnpm|yarn|cargo|uvx?|pip3?|poetry|pdm|hatch|go|make|ruff"
)
_RUNNERS = re.compile(
    r"(?:uv|poetry|pdm|hatch|npm|pnpm|yarn) run|(?:npm|pnpm) exec|(?:pnpm|yarn) dlx"
)
# Destructive, networked or wrapping commands whose prefix would allow far more than was asked.
_NEVER_REMEMBERED = re.compile(
    r"rm|rmdir|mv|cp|dd|ln|ch(?:mod|own|grp)|truncate|shred|find|xargs|sudo|doas|su|env|eval|exec"
    r"|command|builtin|nohup|timeout|time|nice|watch|curl|wget|ssh|scp|rsync|p?kill|killall"
    r"|docker|podman"
)


def split_command(command: str) -> tuple[list[list[str]], bool]:
    """The simple commands of a shell command line as lists of words (quotes removed), and
    whether it parsed completely (no unclosed quote, no substitution inside quotes)."""
    lexer = shlex.shlex(
        _HARMLESS_REDIRECT.sub(" ", command), posix=True, punctuation_chars=_OPERATORS
    )
    lexer.whitespace, lexer.commenters, lexer.whitespace_split = " \t\r", "", True
    parts: list[list[str]] = [[]]
    complete = True
    while True:
        try:
            token = lexer.get_token()
        except ValueError:  # an unclosed quote
            complete = False
            break
        if token is None:
            break
        if token and not token.strip(_OPERATORS):  # an operator (a quoted one splits too)
            parts.append([])
            continue
        parts[-1].append(token)
        marks = [token.find(mark) for mark in ("$(", "`") if mark in token]
        if marks:  # a substitution inside double quotes is a command of its own
            complete = False
            parts[-1:-1] = split_command(token[min(marks) :].lstrip("$(`"))[0]
    return [words for words in parts if words], complete


def command_prefix(words: list[str]) -> str | None:
    """The prefix that approving words for the session remembers: the program, plus the
    subcommand for tools that have them (git status, npm run test, python -m pytest); the
    whole command for interpreters (python x.py); None for destructive, networked and
    wrapping commands (rm, curl, sudo, find…), which ask every time."""
    first, n = words[0], 1
    if _NEVER_REMEMBERED.fullmatch(first):
        return None
    if _INTERPRETER.fullmatch(first):
        n = 3 if words[1:2] == ["-m"] else max(len(words), 2)
    elif _SUBCOMMAND_TOOLS.fullmatch(first):
        n = 3 if _RUNNERS.fullmatch(" ".join(words[:2])) else 2
        if any(word.startswith("-") for word in words[1:n]):
            n = len(words)
    return shlex.join(words[:n]) if len(words) >= n else None
