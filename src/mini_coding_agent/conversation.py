"""The conversation: the system message, then every message in order, append-only."""

from __future__ import annotations

from typing import Any

from mini_coding_agent.budget import message_chars
from mini_coding_agent.models.base import Message
from mini_coding_agent.sessions import Record, Session


class Conversation:
    """Messages sent to the model. Only appended to (and reset), so each request extends the last.

    When a session is attached, every message is also written to it as it is appended. `chars`
    is the messages' size, kept as they change, so the budget check each step costs nothing.
    """

    def __init__(self, system: str, session: Session | None = None):
        self.session = session
        self.messages: list[Message] = [{"role": "system", "content": system}]
        self.chars = message_chars(self.messages[0])

    @classmethod
    def resume(cls, session: Session) -> Conversation:
        conversation = cls(session.header["system"], session)
        conversation.replay(session.records)
        conversation.answer_interrupted_calls()
        return conversation

    def replay(self, records: list[Record]) -> None:
        for record in records:
            kind = record.get("type")
            if kind == "reset":
                self._truncate()
            elif kind == "message":
                self._append(record["message"])
            elif kind == "compaction":
                self._compact(record["message"], record["keep"])

    def answer_interrupted_calls(self) -> None:
        """Give every native tool call left without a result (the agent was killed while it
        ran) an error result: servers reject a conversation with an unanswered call."""
        calls_at = max(
            (i for i, m in enumerate(self.messages) if m["role"] == "assistant"), default=0
        )
        calls = self.messages[calls_at].get("tool_calls") or []
        answered = {m.get("tool_call_id") for m in self.messages[calls_at + 1 :]}
        for call in calls:
            if call.get("id") not in answered:
                result = "error: interrupted: the agent stopped before this call finished"
                self.add(
                    {
                        "role": "tool",
                        "name": call["name"],
                        "tool_call_id": call.get("id"),
                        "content": result,
                    }
                )

    def add(self, message: Message, **meta: Any) -> None:
        self._append(message)
        if self.session is not None:
            self.session.append({"type": "message", "message": message, **meta})

    def record(self, record: Record) -> None:
        """Persist a record that is not a message (a tool outcome, a reset)."""
        if self.session is not None:
            self.session.append(record)

    def compact(self, summary: Message, keep: int) -> None:
        """Replace all but the system message and the newest `keep` messages by a summary."""
        self._compact(summary, keep)
        self.record({"type": "compaction", "message": summary, "keep": keep})

    def _compact(self, summary: Message, keep: int) -> None:
        kept = self.messages[len(self.messages) - keep :] if keep else []
        self._truncate()
        for message in (summary, *kept):
            self._append(message)

    def reset(self) -> None:
        self._truncate()
        self.record({"type": "reset"})

    def _append(self, message: Message) -> None:
        self.messages.append(message)
        self.chars += message_chars(message)

    def _truncate(self) -> None:
        """Back to the system message alone."""
        del self.messages[1:]
        self.chars = message_chars(self.messages[0])
