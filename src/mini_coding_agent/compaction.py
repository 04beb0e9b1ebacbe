"""Compaction: when the conversation nears the context window, older messages are replaced by
a summary and the newest stay verbatim. The one deliberate break of the append-only prefix."""

from __future__ import annotations

from mini_coding_agent.budget import message_chars
from mini_coding_agent.models.base import Message
from mini_coding_agent.sessions import Record, WorkingMemory
from mini_coding_agent.workspace import clip_middle

KEEP_SHARE = 0.35  # of the prompt limit, for the newest messages kept verbatim
HEADER = "[Earlier conversation, compacted to fit the context window]"

SUMMARY_REQUEST = """\
Older messages of this conversation are about to be replaced by a summary to free up context.
Write that summary now, for yourself: the user's task and later requests, the files you created
or changed and how, decisions and why, the latest test or command results, and what remains to
do. Plain text, concise and factual, no tool calls."""


def split_point(messages: list[Message], keep_chars: int) -> int:
    """Index of the first message kept verbatim: the newest messages that fit in keep_chars,
    never starting on a tool result (it would lose the call it answers). 1 keeps everything."""
    index, used = len(messages), 0
    while index > 1 and used + message_chars(messages[index - 1]) <= keep_chars:
        index -= 1
        used += message_chars(messages[index])
    while index < len(messages) and messages[index]["role"] == "tool":
        index += 1
    return index


def fallback_summary(memory: WorkingMemory, records: list[Record]) -> str:
    """A summary built from the session records, for when the model cannot write one."""
    resets = [i for i, r in enumerate(records) if r.get("type") == "reset"]
    records = records[resets[-1] + 1 :] if resets else records
    lines = [f"Task: {memory.task or '-'}"]
    requests = [r["request"] for r in records if r.get("type") == "message" and "request" in r]
    if len(requests) > 1:
        lines.append("Later requests:")
        lines += [f"- {' '.join(r.split())[:200]}" for r in requests[1:]]
    if memory.files:
        lines.append("Files touched:")
        lines += [f"- {path}: {', '.join(actions)}" for path, actions in memory.files.items()]
    answers = [r["answer"] for r in records if r.get("type") == "message" and "answer" in r]
    if answers:
        lines.append("Answers given:")
        lines += [f"- {' '.join(a.split())[:300]}" for a in answers[-5:]]
    shells = [r for r in records if r.get("type") == "tool" and r.get("name") == "run_shell"]
    if shells:
        lines.append(f"Last command: {shells[-1].get('summary', '')}")
    return "\n".join(lines)


def summary_message(summary: str, request: str, dropped_tail: str, memory: str) -> Message:
    parts = [HEADER, summary.strip()]
    if dropped_tail:
        parts.append(f"The latest result, clipped:\n{dropped_tail}")
    if memory:
        parts.append(memory)
    if request:
        parts.append(f"The request being worked on: {request}")
    return {"role": "user", "content": "\n\n".join(parts)}


def clipped_tail(messages: list[Message], keep_from: int, keep_chars: int) -> str:
    """When not even the newest message fits, its text goes into the summary, clipped."""
    if keep_from < len(messages) or len(messages) <= 1:
        return ""
    return clip_middle(messages[-1].get("content") or "", keep_chars)
