"""The text tool protocol: the instructions that teach it, and a parser that forgives.

Models without native tool calling reply with <tool>{"name": …, "args": {…}}</tool>, the
XML form <tool name="write_file" path="x.py"><content>…</content></tool>, or <final>…</final>.
Small models drift into the dialects they were trained on (call_dialects.py); parse_reply
reads all of those too, and names the problem when a call cannot be understood.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from mini_coding_agent.call_dialects import TaggedReader, bare_calls
from mini_coding_agent.models.base import ToolCall

if TYPE_CHECKING:
    from mini_coding_agent.tools.registry import ToolRegistry

_THINK_BLOCK = re.compile(r"<(think|thinking)>(.*?)</\1>", re.S | re.I)
_THINK_OPEN = re.compile(r"<(?:think|thinking)>", re.I)
_THINK_CLOSE = re.compile(r"</(?:think|thinking)>", re.I)
_CALL_START = re.compile(
    r"<tool>\s*(?:```\w*\s*)?[\[{]|<tool\s+name\s*=|<tool_call>|<function=|<final>"
    r"|\[TOOL_CALLS\]|<\|python_tag\|>|<\|tool_call\|>"
    r"|\{\s*[\"']?(?:name|tool|function|type|arguments)[\"']?\s*:"
)
_FINAL = re.compile(r"<final>(.*?)(?:</final>|\Z)", re.S)
_TOOL_RESULT = re.compile(r"<tool_result\b.*?(?:</tool_result>|\Z)", re.S)


def split_thinking(text: str) -> tuple[str, str]:
    """(thinking, rest): <think> blocks taken out of a reply, both parts stripped. A think tag
    after the start of a call or <final> is content (a file may well contain one)."""

    def before_call(text: str, index: int) -> bool:
        return _CALL_START.search(text, 0, index) is None

    thoughts: list[str] = []
    close = _THINK_CLOSE.search(text)
    opening = _THINK_OPEN.search(text)
    if (
        close
        and (opening is None or close.start() < opening.start())
        and before_call(text, close.start())
    ):
        thoughts.append(text[: close.start()])  # the chat template opened the block
        text = text[close.end() :]
    while (block := _THINK_BLOCK.search(text)) and before_call(text, block.start()):
        thoughts.append(block[2])
        text = text[: block.start()] + text[block.end() :]
    if (opening := _THINK_OPEN.search(text)) and before_call(text, opening.start()):
        call = _CALL_START.search(text, opening.end())
        cut = call.start() if call else len(text)
        thoughts.append(text[opening.end() : cut])
        text = text[: opening.start()] + text[cut:]
    return "\n\n".join(t.strip() for t in thoughts if t.strip()), text.strip()


def text_instructions(registry: ToolRegistry) -> str:
    """The system-prompt section that teaches the protocol; the same registry gives the same
    text, so it can sit in a cache-stable prompt prefix."""
    tools = list(registry)
    lines = ["Tools:"]
    lines += [f"- {tool.signature()}: {' '.join(tool.description.split())}" for tool in tools]
    if "read_file" in registry:
        example = {"name": "read_file", "args": {"path": "app.py"}}
    elif tools:
        required = tools[0].schema().get("required", [])
        example = {"name": tools[0].name, "args": {key: "..." for key in required}}
    else:
        example = {"name": "tool_name", "args": {}}
    lines += [
        "",
        "To use a tool, reply with one tool call and stop; its result comes in the next message:",
        f"<tool>{json.dumps(example)}</tool>",
    ]
    if "write_file" in registry or "patch_file" in registry:
        lines.append("For file contents use the XML form; text inside the tags is used exactly:")
    if "write_file" in registry:
        lines += [
            '<tool name="write_file" path="hello.py"><content>',
            "def hello():",
            '    print("hi")',
            "</content></tool>",
        ]
    if "patch_file" in registry:
        lines.append(
            '<tool name="patch_file" path="hello.py"><old_text>print("hi")</old_text>'
            '<new_text>print("hello")</new_text></tool>'
        )
    lines += [
        "When the task is done, reply with your answer:",
        "<final>What you did or found, in a few sentences.</final>",
        "Reply with exactly one tool call or one <final>, and nothing after it.",
    ]
    return "\n".join(lines)


def correction(error: str) -> str:
    """The user message that answers a reply the parser could not understand."""
    return (
        f"Your last reply could not be used: {error.rstrip('.')}.\n"
        'Reply with exactly one tool call, like <tool>{"name": "read_file", "args": '
        '{"path": "app.py"}}</tool>, or with <final>your answer</final>.'
    )


@dataclass(frozen=True)
class ParsedReply:
    """What a text reply asks for: calls to run, a final answer, or an error to send back.

    At most one of calls, final and error is set. When a reply holds several calls and only
    some could be read, calls holds those and the rest are dropped."""

    calls: list[ToolCall] = field(default_factory=list)
    final: str | None = None
    error: str | None = None
    thinking: str = ""


def parse_reply(text: str, tool_names: Collection[str]) -> ParsedReply:
    """Read a text reply: its tool calls (in order), else its final answer (<final>…</final>
    or plain prose), else an error naming what could not be understood."""
    thinking, rest = split_thinking(text)
    rest = _TOOL_RESULT.sub("", rest).strip()  # results the model invented after its call
    names = frozenset(tool_names)
    final = _FINAL.search(rest)
    outside = rest[: final.start()] + rest[final.end() :] if final else rest
    calls, problem = TaggedReader(rest, names).read()
    if not calls:
        if final:  # a <tool> mentioned inside the answer is not a failed call
            problem = TaggedReader(outside, names).read()[1]
        calls, bare_problem = bare_calls(outside, names)
        problem = problem or bare_problem
    if calls:
        return ParsedReply(calls=calls, thinking=thinking)
    answer = final.group(1).strip() if final else rest
    if not answer and not problem:
        if final:
            problem = "your <final> was empty; put the answer inside it"
        elif thinking:
            problem = "your reply had only thinking, no tool call and no <final>"
        else:
            problem = "your reply was empty"
    if problem:
        return ParsedReply(error=problem, thinking=thinking)
    return ParsedReply(final=answer, thinking=thinking)
