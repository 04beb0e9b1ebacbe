"""What the core tells a front-end. The core never prints; it emits these to a sink."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from mini_coding_agent.models.base import ToolCall, Usage


@dataclass(frozen=True)
class ModelStarted:
    step: int


@dataclass(frozen=True)
class ModelDelta:
    kind: str  # "content" or "thinking"
    text: str


@dataclass(frozen=True)
class ModelFinished:
    usage: Usage


@dataclass(frozen=True)
class ToolStarted:
    call: ToolCall


@dataclass(frozen=True)
class ToolFinished:
    call: ToolCall
    ok: bool
    output: str


@dataclass(frozen=True)
class Notice:
    """Something the user should know that is not an error: a retry, a mode switch."""

    message: str


@dataclass(frozen=True)
class Final:
    text: str


@dataclass(frozen=True)
class Subagent:
    """An event from a delegated child agent, wrapped so front-ends can indent it."""

    event: Event


Event = (
    ModelStarted
    | ModelDelta
    | ModelFinished
    | ToolStarted
    | ToolFinished
    | Notice
    | Final
    | Subagent
)
Sink = Callable[[Event], None]


def discard(_event: Event) -> None:
    """A sink for callers that do not watch events."""
