"""delegate: hand a read-only investigation to a bounded child agent."""

from __future__ import annotations

from pydantic import Field

from mini_coding_agent.tools.registry import Args, Tool, ToolContext, ToolError


class DelegateArgs(Args):
    task: str = Field(description="what the helper should find out, in one or two sentences")
    max_steps: int = Field(3, ge=1, description="tool steps the helper may take")


def _delegate(ctx: ToolContext, args: DelegateArgs) -> str:
    if ctx.delegate is None:
        raise ToolError("delegate is not available here (helpers cannot delegate further)")
    if not args.task.strip():
        raise ToolError("task must not be empty")
    return "delegate result:\n" + ctx.delegate(args.task.strip(), args.max_steps)


DELEGATE = Tool(
    name="delegate",
    description=(
        "Ask a read-only helper agent to investigate something (find code, read files, "
        "summarise) and return its findings. It cannot write or run commands."
    ),
    params=DelegateArgs,
    run=_delegate,
)
