"""Readers for the tool-call dialects small models drift into: tagged calls (<tool>,
<tool_call>, [TOOL_CALLS], <|python_tag|>, <function=NAME>, XML tags) and bare JSON or
Python calls. Each returns the calls it understood and the first problem it met.
"""

from __future__ import annotations

import ast
import re
from typing import Any

from mini_coding_agent.json_repair import decode, loads, scan
from mini_coding_agent.models.base import ToolCall

_WRAPPERS = (
    r"<tool_call>|<tool_calls>|<\|tool_call\|>|<function_?calls?>|functools(?=\[)"
    r"|<\|python_tag\|>|\[TOOL_CALLS\]|<tool>"
)
_ATTRS = r"(?:\s+[\w-]+\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s>\"']+))*"
_ATTR = re.compile(r"""([\w-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+))""")
_CLOSING = re.compile(
    r"</tool>|</tool_calls?>|<\|/tool_call\|>|</function_?calls?>|<\|eom_id\|>|<\|eot_id\|>|</s>"
)
_FENCE = re.compile(r"\s*(?:```[\w-]*\s*)?")
_NAMED_ARGS = re.compile(r"([\w.-]+)\s*(?:\[CALL_ID\]\w*)?\s*(?:\[ARGS\])?\s*(?=\{)")
_MORE_JSON = re.compile(r"\s*[;,]?\s*(?=[{\[])")
_CHILD = re.compile(r"\s*<([A-Za-z_][\w.-]*)>")
_PARAM = re.compile(r"\s*<parameter=([^>\s]+)>")
_PARAM_END = re.compile(r"</parameter>|<parameter=|</function>|</tool_call>")
_BRACKET = re.compile(r"[\[{]")
_FINAL_OPEN = re.compile(r"<final>")
_FENCED = re.compile(r"```[\w-]*\s*(.*?)\s*```", re.S)

_NAME_KEYS = ("name", "tool", "tool_name", "function", "action")
_ARGS_KEYS = ("args", "arguments", "parameters", "params", "input", "action_input", "tool_input")
_NOT_ARGS = frozenset({"type", "id", "call_id", "index"})


def _call(name: str, args: Any) -> ToolCall:
    name = name.strip().removeprefix("functions.")
    if not name:
        raise ValueError('has an empty "name"')
    if isinstance(args, str) and args.strip():
        try:
            args = loads(args)
        except ValueError:
            raise ValueError(f"has arguments for {name} that are not a JSON object") from None
    if args is None or args == "":
        args = {}
    if not isinstance(args, dict):
        raise ValueError(f"has arguments for {name} that are not a JSON object")
    return ToolCall(name, {str(key): value for key, value in args.items()})


def _to_calls(value: Any, names: frozenset[str], where: str) -> list[ToolCall]:
    """Calls from a decoded JSON value found in a tag, alone in the reply, or in prose. The
    less the place says "call", the more the value must: JSON alone needs a known tool name
    or an arguments key, JSON in prose an arguments key. ValueError says what is missing."""
    if isinstance(value, list):
        if not value:
            raise ValueError("is an empty list")
        return [call for item in value for call in _to_calls(item, names, where)]
    if not isinstance(value, dict):
        raise ValueError("is not a JSON object")
    if isinstance(value.get("tool_calls"), list):
        return _to_calls(value["tool_calls"], names, "tag")
    if isinstance(value.get("function"), dict):
        return _to_calls(value["function"], names, "tag")
    named = [k for k in _NAME_KEYS if isinstance(value.get(k), str)]
    known = [k for k in named if value[k] in names]
    name_key = (known or named or [None])[0]
    if name_key is None:
        if len(value) == 1:
            ((key, args),) = value.items()
            if key in names and isinstance(args, dict) and where != "prose":
                return [ToolCall(key, args)]
        raise ValueError('has no "name"')
    args_key = next((k for k in _ARGS_KEYS if k in value), None)
    marked = args_key is not None or value.get("type") == "function"
    if (where == "alone" and not (known or marked)) or (where == "prose" and not marked):
        raise ValueError("does not look like a tool call")
    if args_key is None:
        args = {k: v for k, v in value.items() if k != name_key and k not in _NOT_ARGS}
    else:
        args = value[args_key]
    return [_call(value[name_key], args)]


def _pythonic(source: str) -> list[ToolCall] | None:
    """Calls written as Python, like Llama's [read_file(path="a.py")]; None if it is not."""
    try:
        source = source.strip()
        fenced = _FENCED.fullmatch(source)
        node = ast.parse(fenced[1] if fenced else source, mode="eval").body
    except (SyntaxError, ValueError):
        return None
    calls = []
    for item in node.elts if isinstance(node, (ast.List, ast.Tuple)) else [node]:
        if not isinstance(item, ast.Call) or item.args:
            return None
        func = item.func
        if isinstance(func, ast.Attribute) and func.attr == "call":
            func = func.value
        if not isinstance(func, ast.Name) or any(kw.arg is None for kw in item.keywords):
            return None
        try:
            args = {kw.arg: ast.literal_eval(kw.value) for kw in item.keywords}
        except ValueError:
            return None
        calls.append(ToolCall(func.id, args))
    return calls or None


def _strip_newline(value: str) -> str:
    value = value[2:] if value.startswith("\r\n") else value.removeprefix("\n")
    return value[:-2] if value.endswith("\r\n") else value.removesuffix("\n")


def _merge_args(args: dict[str, Any]) -> dict[str, Any]:
    for key in _ARGS_KEYS:
        if isinstance(args.get(key), str) and args[key].strip().startswith("{"):
            try:
                inner = loads(args[key])
            except ValueError:
                continue
            if isinstance(inner, dict):
                args = {**{k: v for k, v in args.items() if k != key}, **inner}
    return args


class TaggedReader:
    """Finds every tagged call in a reply, in order: the wrappers (<tool>, <tool_call>,
    [TOOL_CALLS], <|python_tag|>, …), <function=NAME> blocks, and XML calls."""

    def __init__(self, text: str, names: frozenset[str]):
        self.text = text
        self.names = names
        self.calls: list[ToolCall] = []
        self.problem: str | None = None
        tags = "|".join(re.escape(n) for n in sorted(names, key=lambda n: (-len(n), n)))
        self.openers = re.compile(
            rf"(?P<wrap>{_WRAPPERS})|<function=(?P<fn>[^>\s]+)>"
            rf"|<(?P<tag>tool{'|' + tags if tags else ''})(?P<attrs>{_ATTRS})\s*(?P<empty>/)?>"
        )

    def read(self) -> tuple[list[ToolCall], str | None]:
        pos = 0
        while match := self.openers.search(self.text, pos):
            if match["wrap"]:
                end = self._wrapped(match)
            elif match["fn"]:
                end = self._function(match)
            else:
                end = self._xml(match)
            pos = max(end, match.end())
        return self.calls, self.problem

    def _fail(self, problem: str) -> None:
        self.problem = self.problem or problem

    def _wrapped(self, match: re.Match[str]) -> int:
        where = match["wrap"]
        start = _FENCE.match(self.text, match.end()).end()
        if self.text.startswith("<function=", start):
            return start
        first = self.text[start : start + 1]
        closing = _CLOSING.search(self.text, start)
        stop = closing.start() if closing else len(self.text)
        if first != "{" and (calls := _pythonic(self.text[start:stop])):
            self.calls.extend(calls)
            return closing.end() if closing else stop
        if first in ("{", "["):
            end = self._json(start, where, None)
            while more := _MORE_JSON.match(self.text, end):
                end = self._json(more.end(), where, None)
            return end
        if named := _NAMED_ARGS.match(self.text, start):
            return self._json(named.end(), where, named[1])
        self._fail(f'after {where} write a JSON object like {{"name": …, "args": {{…}}}}')
        return start

    def _json(self, start: int, where: str, name: str | None) -> int:
        span = scan(self.text, start)
        if not span.complete and (closing := _CLOSING.search(self.text, start)):
            span = scan(self.text, start, closing.start())
        try:
            value = decode(span)
        except ValueError as error:
            self._fail(f"your {where} JSON is invalid: {error}")
            return span.end
        try:
            calls = [_call(name, value)] if name else _to_calls(value, self.names, "tag")
        except ValueError as error:
            self._fail(f"your {where} JSON {error}")
            return span.end
        self.calls.extend(calls)
        return span.end

    def _function(self, match: re.Match[str]) -> int:
        name, text = match["fn"], self.text
        start = _FENCE.match(text, match.end()).end()
        if text[start : start + 1] == "{":
            end = self._json(start, f"<function={name}>", name)
        else:
            args: dict[str, Any] = {}
            end = match.end()
            while param := _PARAM.match(text, end):
                stop = _PARAM_END.search(text, param.end())
                if stop is None:
                    self._fail(f"<parameter={param[1]}> of {name} was cut off; write less per call")
                    return len(text)
                args[param[1]] = _strip_newline(text[param.end() : stop.start()])
                end = stop.end() if stop[0] == "</parameter>" else stop.start()
            self.calls.append(_call(name, args))
        closing = re.compile(r"\s*</function>").match(text, end)
        return closing.end() if closing else end

    def _xml(self, match: re.Match[str]) -> int:
        attrs = {
            m[1]: next(v for v in m.groups()[1:] if v is not None)
            for m in _ATTR.finditer(match["attrs"])
        }
        name = attrs.pop("name", "").strip() if match["tag"] == "tool" else match["tag"]
        if not name:
            self._fail('your <tool …> tag has no name="…" attribute')
            return match.end()
        if match["empty"]:
            self.calls.append(ToolCall(name, _merge_args(attrs)))
            return match.end()
        closer = f"</{match['tag']}>"
        args, end = self._children(match.end(), closer, name, plain=match["tag"] == "tool")
        if args is not None:
            self.calls.append(ToolCall(name, _merge_args({**attrs, **args})))
        return end

    def _children(
        self, start: int, closer: str, name: str, plain: bool
    ) -> tuple[dict[str, Any] | None, int]:
        """Arguments written as child tags (<content>…</content>), or the whole body: JSON,
        or (when plain) raw text taken as the content. <read_file> around plain text is prose."""
        text, args, pos = self.text, {}, start
        while child := _CHILD.match(text, pos):
            key = child[1]
            close = text.find(f"</{key}>", child.end())
            if close == -1:
                close = text.find(closer, child.end())
                if close == -1:
                    self._fail(
                        f"the <{key}> of {name} was cut off before </{key}>; write less per call"
                    )
                    return None, len(text)
                args[key] = _strip_newline(text[child.end() : close])
                pos = close
                break
            args[key] = _strip_newline(text[child.end() : close])
            pos = close + len(key) + 3
        if not args:
            pos = text.find(closer, start)
            if pos == -1 and not plain:
                return None, start
            if pos == -1:
                boundary = self.openers.search(text, start) or _FINAL_OPEN.search(text, start)
                pos = boundary.start() if boundary else len(text)
            body = text[start:pos]
            if body.strip().startswith("{"):
                try:
                    args = loads(body)
                except ValueError as error:
                    self._fail(f'the JSON inside <tool name="{name}"> is invalid: {error}')
                    return None, pos
                if not isinstance(args, dict):
                    self._fail(f'the JSON inside <tool name="{name}"> is not an object')
                    return None, pos
            elif body.strip() and not plain:
                return None, start
            elif body.strip():
                args = {"content": _strip_newline(body)}
        if tail := re.compile(r"\s*" + re.escape(closer)).match(text, pos):
            pos = tail.end()
        return args, pos


def bare_calls(text: str, names: frozenset[str]) -> tuple[list[ToolCall], str | None]:
    """Calls written without any tag: JSON objects or lists (fenced or not), or Python calls
    to known tools. Only values that clearly look like calls count."""
    whole = _pythonic(text) if names else None
    if whole and all(call.name in names for call in whole):
        return whole, None
    alternatives = "|".join(re.escape(n) for n in sorted(names))
    named_call = re.compile(
        rf"[\"']?(?:{'|'.join(_NAME_KEYS)})[\"']?\s*:\s*[\"'](?:{alternatives})[\"']"
    )
    alone = _FENCED.fullmatch(text.strip())
    alone = (alone[1] if alone else text).strip()
    calls: list[ToolCall] = []
    problem = None
    pos = 0
    budget = 20 * len(text) + 50_000  # prose full of unclosed brackets would cost n² scanning
    while budget > 0 and (match := _BRACKET.search(text, pos)):
        start = match.start()
        span = scan(text, start)
        budget -= span.end - start
        try:
            value = decode(span)
        except ValueError as error:
            pythonic = _pythonic(span.raw) if span.complete and text[start] == "[" else None
            if pythonic and all(call.name in names for call in pythonic):
                calls.extend(pythonic)
                pos = span.end
                continue
            if problem is None and names and named_call.search(span.raw):
                problem = f"your tool call JSON is invalid: {error}"
            pos = start + 1
            continue
        try:
            calls.extend(_to_calls(value, names, "alone" if span.raw == alone else "prose"))
            pos = span.end
        except ValueError:
            pos = start + 1
    return calls, problem
