"""The one seam between the agent and a model server: a stateless chat client."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

# A message is a plain dict in the project's neutral shape; clients translate it to their wire:
#   {"role": "system" | "user" | "assistant" | "tool", "content": str,
#    "tool_calls": [{"id": str | None, "name": str, "args": dict}],   (assistant, optional)
#    "tool_call_id": str | None, "name": str}                         (tool)
Message = dict[str, Any]

# on_delta(kind, text): kind is "content" or "thinking"; called as text streams in.
DeltaCallback = Callable[[str, str], None]


@dataclass(frozen=True)
class ToolCall:
    name: str
    args: dict[str, Any]
    id: str | None = None

    def to_message(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "args": self.args}


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cached_tokens: int | None = None
    seconds: float | None = None


@dataclass(frozen=True)
class ModelReply:
    content: str
    tool_calls: list[ToolCall] = field(default_factory=list)
    thinking: str = ""
    usage: Usage = field(default_factory=Usage)
    finish_reason: str | None = None


@dataclass(frozen=True)
class ModelInfo:
    name: str
    context_length: int | None = None
    capabilities: tuple[str, ...] = ()

    @property
    def supports_tools(self) -> bool:
        return "tools" in self.capabilities


@dataclass(frozen=True)
class GenerationOptions:
    max_new_tokens: int = 512
    temperature: float = 0.2
    top_p: float = 0.9
    num_ctx: int = 16384


class ModelError(Exception):
    """A failure talking to the model server; str(error) is one line for the user.

    `partial` holds what had streamed in before the failure, if anything did.
    """

    def __init__(self, message: str = "", partial: ModelReply | None = None) -> None:
        super().__init__(message)
        self.partial = partial


class ModelUnavailable(ModelError):
    """The server cannot be reached (not running, refused, reset)."""


class ModelNotFound(ModelError):
    """The server does not have the requested model."""


class ModelTimeout(ModelError):
    """The server did not answer within the timeout."""


class ToolsUnsupported(ModelError):
    """The server refused the request because the model cannot take native tools."""


class ContextOverflow(ModelError):
    """The prompt does not fit the model's context window."""


class ModelClient(Protocol):
    """A stateless chat client: everything a request needs comes in as arguments."""

    name: str

    def info(self) -> ModelInfo: ...

    def chat(
        self,
        messages: list[Message],
        *,
        tools: list[dict[str, Any]] | None = None,
        response_format: dict[str, Any] | None = None,
        on_delta: DeltaCallback | None = None,
    ) -> ModelReply: ...
