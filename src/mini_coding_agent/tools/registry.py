"""Tools as data: a name, a description, a pydantic argument model, a risk flag and a function."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, ValidationError

from mini_coding_agent.tools.reads import ReadLog
from mini_coding_agent.workspace import PathError, Workspace, clip_middle

if TYPE_CHECKING:
    from mini_coding_agent.tools.sandbox import Sandbox
    from mini_coding_agent.undo import EditJournal

OUTPUT_LIMIT = 12_000
_PY_TYPES = {"string": "str", "integer": "int", "number": "float", "boolean": "bool"}


class ToolError(Exception):
    """A failure the model should read as a tool result ("error: ...")."""


class Args(BaseModel):
    """Base of every tool's argument model: tolerant of extra keys and numeric strings."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=False)


@dataclass
class ToolContext:
    workspace: Workspace
    # Runs a read-only child agent on a task for at most max_steps; set by the agent.
    delegate: Callable[[str, int], str] | None = None
    # Confines run_shell (tools/sandbox.py); None runs commands unsandboxed.
    sandbox: Sandbox | None = None
    # What read_file has shown in this conversation; None turns deduplication off.
    reads: ReadLog | None = None
    # Keeps files' contents before the write tools change them, for /undo.
    journal: EditJournal | None = None
    # Environment variables shell commands must not see (the model server's API key).
    hidden_env: tuple[str, ...] = ()


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    params: type[Args]
    run: Callable[[ToolContext, Any], str]
    risky: bool = False
    # What the call would change, as a unified diff, without changing it (write tools).
    preview: Callable[[ToolContext, Any], str] | None = None

    def schema(self) -> dict[str, Any]:
        raw = self.params.model_json_schema()
        props = {}
        for key, spec in raw.get("properties", {}).items():
            props[key] = {k: v for k, v in spec.items() if k != "title"}
        schema: dict[str, Any] = {"type": "object", "properties": props}
        if raw.get("required"):
            schema["required"] = raw["required"]
        return schema

    def spec(self) -> dict[str, Any]:
        """The native tool definition shared by Ollama and OpenAI-compatible servers."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.schema(),
            },
        }

    def signature(self) -> str:
        parts = []
        for key, spec in self.schema()["properties"].items():
            kind = _PY_TYPES.get(spec.get("type", ""), "any")
            part = f"{key}: {kind}"
            if "default" in spec:
                part += f" = {spec['default']!r}"
            parts.append(part)
        return f"{self.name}({', '.join(parts)})"


def _describe(error: ValidationError) -> str:
    problems = []
    for item in error.errors():
        where = ".".join(str(p) for p in item["loc"]) or "arguments"
        problems.append(f"{where}: {item['msg']}")
    return "; ".join(problems)


class ToolRegistry:
    def __init__(self, tools: Iterable[Tool]):
        self._tools = {tool.name: tool for tool in tools}

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def __iter__(self):
        return iter(self._tools.values())

    @property
    def names(self) -> list[str]:
        return list(self._tools)

    def get(self, name: str) -> Tool:
        tool = self._tools.get(name)
        if tool is None:
            raise ToolError(f"unknown tool '{name}'; available: {', '.join(self._tools)}")
        return tool

    def only(self, names: Iterable[str]) -> ToolRegistry:
        wanted = set(names)
        return ToolRegistry(t for t in self._tools.values() if t.name in wanted)

    def specs(self) -> list[dict[str, Any]]:
        return [tool.spec() for tool in self._tools.values()]

    def validate(
        self, name: str, args: Any, workspace: Workspace | None = None
    ) -> tuple[Tool, Args]:
        """Check a call's arguments; with a workspace, also check its path before any approval."""
        tool = self.get(name)
        if args is None:
            args = {}
        if not isinstance(args, dict):
            raise ToolError(f"arguments for {name} must be a JSON object")
        try:
            parsed = tool.params.model_validate(args)
        except ValidationError as error:
            raise ToolError(
                f"invalid arguments for {name}: {_describe(error)}; expected {tool.signature()}"
            ) from None
        path = getattr(parsed, "path", None)
        if workspace is not None and isinstance(path, str):
            try:
                workspace.resolve(path, for_write=tool.risky)
            except PathError as error:
                raise ToolError(str(error)) from None
        return tool, parsed

    @staticmethod
    def execute(tool: Tool, args: Args, ctx: ToolContext) -> tuple[bool, str]:
        """Run a validated call; (ok, text) with failures turned into an error text."""
        try:
            output = tool.run(ctx, args)
        except (ToolError, PathError) as error:
            return False, f"error: {error}"
        except OSError as error:
            return False, f"error: {tool.name} failed: {error.strerror or error}"
        return True, clip_middle(output, OUTPUT_LIMIT)


def summarize(name: str, args: dict[str, Any], width: int = 100) -> str:
    """A one-line description of a call, for approval prompts, progress lines and notes."""
    if isinstance(args.get("command"), str):
        detail = args["command"]
    elif isinstance(args.get("path"), str) and isinstance(args.get("pattern"), str):
        detail = f"{args['pattern']!r} in {args['path']}"
    elif isinstance(args.get("pattern"), str):
        detail = repr(args["pattern"])
    elif isinstance(args.get("path"), str):
        detail = args["path"]
        if "start" in args or "end" in args:
            detail += f" [{args.get('start', 1)}-{args.get('end', '')}]"
    elif isinstance(args.get("task"), str):
        detail = args["task"]
    else:
        detail = ", ".join(f"{k}={v!r}" for k, v in args.items())
    detail = " ".join(detail.split())
    if len(detail) > width:
        detail = detail[: width - 3] + "..."
    return f"{name} {detail}".rstrip()
