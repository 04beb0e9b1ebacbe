"""One tool call, start to finish: validate, refuse repeats, apply the permission rules, ask
(showing the diff a write would make), then run. Every failure is a result the model reads."""

from __future__ import annotations

from mini_coding_agent.events import Notice, Sink
from mini_coding_agent.models.base import ToolCall
from mini_coding_agent.permissions import (
    ApprovalRequest,
    Approver,
    Permissions,
    PermissionsError,
)
from mini_coding_agent.tools.registry import ToolContext, ToolError, ToolRegistry, summarize
from mini_coding_agent.workspace import PathError


class CallRunner:
    def __init__(
        self,
        registry: ToolRegistry,
        context: ToolContext,
        permissions: Permissions,
        approver: Approver,
        sink: Sink,
    ):
        self.registry = registry
        self.context = context
        self.permissions = permissions
        self.approver = approver
        self.sink = sink
        self.last_call: tuple[str, str] | None = None

    def run(self, call: ToolCall) -> tuple[bool, str]:
        try:
            tool, args = self.registry.validate(call.name, call.args, self.context.workspace)
        except ToolError as error:
            return False, f"error: {error}"
        key = (call.name, args.model_dump_json())
        if key == self.last_call:
            return False, (
                f"error: you just made this exact {call.name} call; its result is above. "
                "Use it, or do something different."
            )
        self.last_call = key
        plain = args.model_dump()
        decision = self.permissions.decide(tool.name, tool.risky, plain)
        if decision == "deny":
            why = self.permissions.why(tool.name, plain)
            return False, (
                f"error: {tool.name} is not allowed here ({why}); do without it or tell the "
                "user what to run"
            )
        if decision == "ask":
            try:
                diff = tool.preview(self.context, args) if tool.preview else ""
            except (ToolError, PathError) as error:
                return False, f"error: {error}"
            except OSError as error:
                return False, f"error: {tool.name} failed: {error.strerror or error}"
            remember = "; ".join(r.describe() for r in self.permissions.suggest(tool.name, plain))
            approval = self.approver(
                ApprovalRequest(tool.name, plain, summarize(tool.name, call.args), remember, diff)
            )
            if not approval.allowed:
                reason = f": {approval.reason}" if approval.reason else ""
                return False, f"error: the user denied this {tool.name} call{reason}"
            self._remember(approval.choice, tool.name, plain)
        return self.registry.execute(tool, args, self.context)

    def _remember(self, choice: str, tool: str, args: dict) -> None:
        try:
            if choice == "session":
                self.permissions.allow_for_session(tool, args)
            elif choice == "always":
                added = self.permissions.allow_always(tool, args)
                where = self.permissions.project_file
                rules = "; ".join(r.describe() for r in added)
                self.sink(Notice(f"saved to {where}: allow {rules}" if added else "already saved"))
        except PermissionsError as error:
            self.sink(Notice(f"could not save the rule: {error}"))
