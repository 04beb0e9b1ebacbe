"""Who may run what: the approval mode decides risky tools; read-only tools always run."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

APPROVAL_MODES = ("ask", "auto", "never")
Decision = Literal["allow", "ask", "deny"]


@dataclass(frozen=True)
class ApprovalRequest:
    """A question to the user about one risky call; summary is a one-line description."""

    tool: str
    args: dict[str, Any]
    summary: str


# Returns True to allow the call. Supplied by the front-end; the core never reads stdin.
Approver = Callable[[ApprovalRequest], bool]


def deny_all(_request: ApprovalRequest) -> bool:
    return False


class Permissions:
    def __init__(self, mode: str = "ask"):
        if mode not in APPROVAL_MODES:
            raise ValueError(f"unknown approval mode '{mode}'")
        self.mode = mode

    def decide(self, tool_name: str, risky: bool) -> Decision:
        if not risky or self.mode == "auto":
            return "allow"
        return "deny" if self.mode == "never" else "ask"
