"""JSON tool mode: one action per reply, constrained by a JSON Schema the server enforces.

The schema is an anyOf of {"tool": NAME, "args": {…that tool's arguments…}} for each tool and
{"final": "…"}, so even a tiny model decoding under it can only produce a well-formed action.
"""

from __future__ import annotations

from typing import Any

from mini_coding_agent.json_repair import loads
from mini_coding_agent.models.base import ToolCall
from mini_coding_agent.protocol import ParsedReply, parse_reply
from mini_coding_agent.tools.registry import ToolRegistry


def action_schema(registry: ToolRegistry) -> dict[str, Any]:
    choices: list[dict[str, Any]] = [
        {
            "type": "object",
            "properties": {"tool": {"const": tool.name}, "args": tool.schema()},
            "required": ["tool", "args"],
        }
        for tool in registry
    ]
    choices.append(
        {"type": "object", "properties": {"final": {"type": "string"}}, "required": ["final"]}
    )
    return {"anyOf": choices}


def json_instructions(registry: ToolRegistry) -> str:
    lines = [
        "Reply with exactly one JSON object and nothing else.",
        'To call a tool: {"tool": "read_file", "args": {"path": "app.py"}}',
        'When the task is done: {"final": "what you changed and how you checked it"}',
        "",
        "Tools:",
    ]
    lines += [f"- {tool.signature()}: {tool.description}" for tool in registry]
    return "\n".join(lines)


def parse_action(text: str, tool_names: list[str]) -> ParsedReply:
    """Read a JSON action; anything else goes to the tolerant text parser."""
    try:
        value = loads(text)
    except ValueError:
        return parse_reply(text, tool_names)
    if isinstance(value, dict) and isinstance(value.get("tool"), str):
        args = value.get("args")
        return ParsedReply(calls=[ToolCall(value["tool"], args if isinstance(args, dict) else {})])
    if isinstance(value, dict) and isinstance(value.get("final"), str):
        if not value["final"].strip():
            return ParsedReply(error='the "final" answer is empty')
        return ParsedReply(final=value["final"].strip())
    return parse_reply(text, tool_names)
