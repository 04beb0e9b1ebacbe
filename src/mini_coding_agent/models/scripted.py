"""A deterministic model that replays scripted replies: for tests, benchmarks and demos."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from typing import Any

from mini_coding_agent.models.base import (
    DeltaCallback,
    Message,
    ModelError,
    ModelInfo,
    ModelReply,
    ToolCall,
)

Step = ModelReply | str | ModelError | Callable[[list[Message]], "ModelReply | str"]


def call(name: str, **args: Any) -> ToolCall:
    return ToolCall(name=name, args=args)


class ScriptedModel:
    """Replies come from a script, one per request: a ModelReply, plain content, an error to
    raise, or a callable given the messages. Every request is kept for inspection."""

    def __init__(
        self,
        steps: Iterable[Step],
        *,
        name: str = "scripted",
        capabilities: tuple[str, ...] = ("completion", "tools"),
        context_length: int = 32768,
    ):
        self.name = name
        self.steps = list(steps)
        self.requests: list[dict[str, Any]] = []
        self._info = ModelInfo(name, context_length, capabilities)

    def info(self) -> ModelInfo:
        return self._info

    def chat(
        self,
        messages: list[Message],
        *,
        tools: list[dict[str, Any]] | None = None,
        response_format: dict[str, Any] | None = None,
        on_delta: DeltaCallback | None = None,
    ) -> ModelReply:
        self.requests.append(
            {"messages": copy.deepcopy(messages), "tools": tools, "format": response_format}
        )
        if not self.steps:
            raise ModelError("scripted model has no more replies")
        step = self.steps.pop(0)
        if callable(step) and not isinstance(step, ModelReply):
            step = step(messages)
        if isinstance(step, ModelError):
            raise step
        reply = step if isinstance(step, ModelReply) else ModelReply(content=step)
        if on_delta is not None:
            if reply.thinking:
                on_delta("thinking", reply.thinking)
            if reply.content:
                on_delta("content", reply.content)
        return reply
