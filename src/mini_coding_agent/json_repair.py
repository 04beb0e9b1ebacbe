"""Lenient JSON for model output: find where a value ends, then repair the usual mistakes.

Small models write JSON with single quotes, unquoted keys, trailing commas, Python literals
(True, None), raw newlines and tabs in strings, unescaped inner quotes, invalid escapes
(regexes) and missing closing brackets. `scan` walks one object or array and rewrites it as
strict JSON; `decode` tries the text as written first, then the rewrite, then a Python literal.
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass
from typing import Any

_CLOSER = {"{": "}", "[": "]"}
_JSON_ESCAPES = frozenset('"\\/bfnrtu')
_PY_LITERALS = {"True": "true", "False": "false", "None": "null"}


@dataclass(frozen=True)
class Span:
    raw: str  # the text as the model wrote it
    repaired: str  # the same value rewritten as strict JSON, missing closers appended
    end: int  # index just past the value (the stop index when it never closed)
    complete: bool  # the brackets closed before the stop index
    in_string: bool  # the text stopped inside a string: the reply was cut off


def _closes_string(text: str, index: int, stop: int) -> bool:
    # In valid JSON a closing quote is always followed by one of these; any other quote is
    # an unescaped quote inside the string.
    while index < stop and text[index] in " \t\r\n":
        index += 1
    return index >= stop or text[index] in ",:}]"


def _next_significant(text: str, index: int, stop: int) -> str:
    while index < stop and text[index] in " \t\r\n":
        index += 1
    return text[index] if index < stop else ""


def scan(text: str, start: int, stop: int | None = None) -> Span:
    """Walk the object or array opening at text[start], up to stop (default: the end)."""
    stop = len(text) if stop is None else stop
    out: list[str] = []
    stack: list[str] = []
    quote = ""
    i = start
    while i < stop:
        ch = text[i]
        if quote:
            if ch == "\\" and i + 1 < stop:
                nxt = text[i + 1]
                if nxt == "'":
                    out.append("'")
                elif nxt in _JSON_ESCAPES:
                    out.append(ch + nxt)
                else:
                    out.append("\\\\" + nxt)
                i += 2
                continue
            if ch == quote and _closes_string(text, i + 1, stop):
                out.append('"')
                quote = ""
            else:
                out.append('\\"' if ch == '"' else ch)
        elif ch in "\"'":
            quote = ch
            out.append('"')
        elif ch in "{[":
            stack.append(_CLOSER[ch])
            out.append(ch)
        elif ch in "}]":
            if ch in stack:
                while stack[-1] != ch:
                    out.append(stack.pop())
                out.append(stack.pop())
                if not stack:
                    return Span(text[start : i + 1], "".join(out), i + 1, True, False)
        elif ch == ",":
            if _next_significant(text, i + 1, stop) not in ("}", "]"):
                out.append(ch)
        elif ch.isalpha() or ch == "_":
            j = i
            while j < stop and (text[j].isalnum() or text[j] == "_"):
                j += 1
            word = text[i:j]
            if _next_significant(text, j, stop) == ":":
                out.append(f'"{word}"')  # a JavaScript-style unquoted key
            else:
                out.append(_PY_LITERALS.get(word, word))
            i = j
            continue
        else:
            out.append(ch)
        i += 1
    tail = '"' if quote else ""
    repaired = "".join(out) + tail + "".join(reversed(stack))
    return Span(text[start:stop], repaired, stop, False, bool(quote))


def decode(span: Span) -> Any:
    """The value of a scanned span; ValueError naming the first problem when it has none."""
    try:
        return json.loads(span.raw, strict=False)
    except json.JSONDecodeError as error:
        first = error
    if not span.in_string:  # closing a cut-off string would keep half a file
        try:
            return json.loads(span.repaired, strict=False)
        except json.JSONDecodeError:
            pass
        try:
            return ast.literal_eval(span.raw)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            pass
    if first.msg.startswith("Unterminated string"):
        raise ValueError("it stops inside a string (was the reply cut off?)")
    raise ValueError(f"{first.msg} at char {first.pos}")


def loads(text: str) -> Any:
    """Decode text that holds one JSON-ish object or array (surrounding whitespace allowed)."""
    stripped = text.strip()
    if not stripped or stripped[0] not in "{[":
        raise ValueError("expected a JSON object")
    return decode(scan(stripped, 0))
