"""The agent loop: ask → query the model → run the tools it calls → repeat until it answers."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace

from mini_coding_agent.actions import action_schema, parse_action
from mini_coding_agent.budget import Budget
from mini_coding_agent.calls import CallRunner
from mini_coding_agent.compaction import (
    KEEP_SHARE,
    SUMMARY_REQUEST,
    clipped_tail,
    fallback_summary,
    split_point,
    summary_message,
)
from mini_coding_agent.context import system_prompt, tool_protocol
from mini_coding_agent.conversation import Conversation
from mini_coding_agent.events import (
    Final,
    ModelDelta,
    ModelFinished,
    ModelStarted,
    Notice,
    Sink,
    Subagent,
    ToolFinished,
    ToolStarted,
    discard,
)
from mini_coding_agent.models.base import (
    ContextOverflow,
    ModelClient,
    ModelError,
    ModelReply,
    ToolCall,
    ToolsUnsupported,
    Usage,
)
from mini_coding_agent.permissions import Approver, Permissions, deny_all
from mini_coding_agent.protocol import ParsedReply, correction, parse_reply, split_thinking
from mini_coding_agent.sessions import WorkingMemory
from mini_coding_agent.tools.reads import ReadLog
from mini_coding_agent.tools.registry import ToolContext, ToolRegistry, summarize
from mini_coding_agent.tools.sandbox import Sandbox
from mini_coding_agent.undo import EditJournal
from mini_coding_agent.workspace import Workspace

READ_ONLY_TOOLS = ("list_files", "read_file", "search")
TOOL_MODES = ("native", "text", "json")


@dataclass(frozen=True)
class Limits:
    max_steps: int = 6
    max_format_errors: int = 3
    max_subagent_steps: int = 8


class Agent:
    """Runs user requests against one conversation. Never prints: everything goes to the sink."""

    def __init__(
        self,
        model: ModelClient,
        registry: ToolRegistry,
        workspace: Workspace,
        conversation: Conversation,
        *,
        tool_mode: str = "native",
        facts: str = "",
        permissions: Permissions | None = None,
        approver: Approver = deny_all,
        sink: Sink = discard,
        limits: Limits = Limits(),
        memory: WorkingMemory | None = None,
        budget: Budget | None = None,
        sandbox: Sandbox | None = None,
        journal: EditJournal | None = None,
        hidden_env: tuple[str, ...] = (),
        depth: int = 0,
    ):
        self.model = model
        self.registry = registry
        self.workspace = workspace
        self.conversation = conversation
        self.tool_mode = ""
        self._configure(tool_mode)
        self.facts = facts
        self.permissions = permissions or Permissions("ask")
        self.sink = sink
        self.limits = limits
        self.memory = memory or WorkingMemory()
        self.budget = budget or Budget(num_ctx=16384, max_new_tokens=512)
        self.depth = depth
        self.context = ToolContext(
            workspace=workspace,
            delegate=self._delegate if depth == 0 and "delegate" in registry else None,
            reads=ReadLog(),
            sandbox=sandbox,
            journal=journal,
            hidden_env=hidden_env,
        )
        self.calls = CallRunner(registry, self.context, self.permissions, approver, sink)
        self._request = ""
        self._sent_chars = self._prefix_chars = self._new_chars = 0
        self._cut_warned = self._must_compact = False

    def ask(self, request: str) -> str:
        """Run one user request to a final answer (or a limit) and return that answer."""
        memory = self.memory.text(notes=False)
        content = f"{request}\n\n{memory}" if memory else request
        self.conversation.add({"role": "user", "content": content}, request=request)
        self.memory.note_request(request)
        self.budget.start_turn()
        self._request = request
        self.calls.last_call = None
        if self.context.journal is not None:
            self.context.journal.turn += 1
        tool_steps = format_errors = 0
        while True:
            reply = self._query(tool_steps + format_errors + 1)
            _thinking, text = split_thinking(reply.content)
            if reply.tool_calls:
                self._run_calls(text, reply.tool_calls, native=True)
            else:
                parsed = self._parse(text)
                if parsed.calls:
                    self._run_calls(text, parsed.calls, native=False)
                elif parsed.error is not None:
                    format_errors += 1
                    self.conversation.add({"role": "assistant", "content": text})
                    self.conversation.add({"role": "user", "content": correction(parsed.error)})
                    self.sink(Notice(f"model reply not understood: {parsed.error}"))
                    if format_errors >= self.limits.max_format_errors:
                        return self._stop(
                            f"Stopped: {format_errors} replies in a row could not be understood "
                            "as a tool call or an answer. A model that follows instructions "
                            "better may help."
                        )
                    continue
                else:
                    return self._finish(parsed.final or "", text)
            tool_steps += 1
            format_errors = 0
            if tool_steps >= self.limits.max_steps:
                return self._stop(
                    f"Stopped after {tool_steps} tool steps without a final answer "
                    "(--max-steps). Ask me to continue to go on."
                )

    def reset(self) -> None:
        self.conversation.reset()
        self.context.reads.clear()
        self._prefix_chars = 0
        self.memory = WorkingMemory()

    def undo(self) -> str:
        """Put back the files the newest not-yet-undone turn changed; the model is told."""
        journal = self.context.journal
        undone = journal.undo() if journal is not None else None
        if undone is None:
            return "nothing to undo: no file was changed by write_file or patch_file"
        turn, done = undone
        summary = "; ".join(done)
        self.conversation.add(
            {
                "role": "user",
                "content": f"(The user undid the file changes of turn {turn}: "
                f"{summary}. Files are as they were before that turn.)",
            }
        )
        return f"undid turn {turn}: {summary}"

    def compact(self, focus: str = "", *, keep_recent: bool = True) -> bool:
        """Replace older messages by a summary, keeping the newest verbatim (all of them are
        summarised without keep_recent); False if there is nothing to compact."""
        messages = self.conversation.messages
        share = KEEP_SHARE if keep_recent else 0.0
        keep_chars = int(share * self.budget.limit * self.budget.chars_per_token)
        keep_from = split_point(messages, keep_chars)
        if keep_from <= 1 or len(messages) <= 2:
            return False
        summary, by = self._summarize(focus), "written by the model"
        if summary is None:
            records = self.conversation.session.records if self.conversation.session else []
            summary, by = fallback_summary(self.memory, records), "built from the session record"
        tail = clipped_tail(messages, keep_from, keep_chars) if keep_recent else ""
        message = summary_message(summary, self._request, tail, self.memory.text())
        self.conversation.compact(message, len(messages) - keep_from)
        self.context.reads.clear()
        self._prefix_chars = 0
        self._must_compact = False
        self.sink(Notice(f"compacted {keep_from - 1} older messages into a summary ({by})"))
        return True

    def _summarize(self, focus: str) -> str | None:
        """The model's own summary of the conversation, asked for on top of the current prompt
        so the server reuses its cache; None when it cannot give one or the prompt is too big."""
        if self.budget.tokens(self.prompt_chars()) > self.budget.limit or self._cut_warned:
            return None
        ask = SUMMARY_REQUEST + (f"\nPay most attention to: {focus}" if focus else "")
        messages = [*self.conversation.messages, {"role": "user", "content": ask}]
        self.sink(ModelStarted(0))
        try:
            reply = self.model.chat(
                messages, tools=self.tool_specs, response_format=self.response_format
            )
        except ModelError:
            return None
        finally:
            self.sink(ModelFinished(Usage()))
        parsed = self._parse(split_thinking(reply.content)[1])
        if reply.tool_calls or parsed.calls or not parsed.final:
            return None
        return parsed.final

    def _parse(self, text: str) -> ParsedReply:
        if self.tool_mode == "json":
            return parse_action(text, self.registry.names)
        return parse_reply(text, self.registry.names)

    def prompt_chars(self) -> int:
        """The size of the next request as it stands: every message plus the tool definitions."""
        return self.conversation.chars + self._tool_chars

    def use_tool_mode(self, mode: str) -> None:
        """Switch how the model calls tools, mid-session. The system message stays as it is
        (the prompt prefix must not change), so a switch to text or JSON teaches the new form
        in an appended message."""
        if mode == self.tool_mode:
            return
        if mode != "native":
            teach = tool_protocol(self.registry, mode)
            self.conversation.add(
                {"role": "user", "content": f"From now on, call tools this way.\n{teach}"}
            )
        self.conversation.record({"type": "tool_mode", "mode": mode})
        self._configure(mode)

    def _configure(self, mode: str) -> None:
        if mode not in TOOL_MODES:
            raise ValueError(f"unknown tool mode '{mode}'")
        self.tool_mode = mode
        self.tool_specs = self.registry.specs() if mode == "native" else None
        self._tool_chars = len(json.dumps(self.tool_specs)) if self.tool_specs else 0
        self.response_format = action_schema(self.registry) if mode == "json" else None

    def _query(self, step: int) -> ModelReply:
        if self._must_compact or self.budget.needs_compaction(self.prompt_chars()):
            self.compact()
        self.sink(ModelStarted(step))
        try:
            try:
                reply = self._chat()
            except ToolsUnsupported:
                if self.tool_mode != "native":
                    raise
                self.sink(Notice(f"{self.model.name} cannot take native tool calls; using text"))
                self.use_tool_mode("text")
                reply = self._chat()
            except ContextOverflow:
                if not self.compact():
                    raise
                reply = self._chat()
        except ModelError as error:
            # What streamed in before the failure is kept in the session file, not sent back.
            if error.partial is not None and error.partial.content:
                self.conversation.record({"type": "partial", "content": error.partial.content})
            raise
        self.sink(ModelFinished(reply.usage))
        self._check_fit(reply)
        return reply

    def _check_fit(self, reply: ModelReply) -> None:
        """Calibrate the budget; if the server read far less than was sent, it cut the prompt
        (Ollama does so silently): say so once, and compact before the next request."""
        cut = self.budget.observe(self._sent_chars, reply.usage, self._new_chars)
        if cut and not self._cut_warned:
            self._cut_warned = self._must_compact = True
            sent = self.budget.tokens(self._sent_chars)
            self.sink(
                Notice(
                    f"the server read only {reply.usage.prompt_tokens} tokens of a prompt of "
                    f"about {sent}: it probably cut the prompt to fit its context window "
                    f"(num_ctx {self.budget.num_ctx}); compacting the conversation"
                )
            )

    def _chat(self) -> ModelReply:
        sent = self.prompt_chars()
        self._new_chars = sent - self._prefix_chars
        self._sent_chars = self._prefix_chars = sent
        return self.model.chat(
            self.conversation.messages,
            tools=self.tool_specs,
            response_format=self.response_format,
            on_delta=lambda kind, text: self.sink(ModelDelta(kind, text)),
        )

    def _run_calls(self, text: str, calls: list[ToolCall], *, native: bool) -> None:
        """Run every call of one reply. Native calls get role-tool results; calls the model
        wrote as text get their results back as one user message in the text protocol."""
        if native:
            calls = [c if c.id else replace(c, id=f"call_{i}") for i, c in enumerate(calls)]
            assistant = {"role": "assistant", "content": text}
            assistant["tool_calls"] = [c.to_message() for c in calls]
            self.conversation.add(assistant)
        else:
            self.conversation.add({"role": "assistant", "content": text})
        outputs: list[str] = []
        try:
            for call in calls:
                outputs.append(self._run_tool(call))
        except KeyboardInterrupt:
            outputs += ["error: interrupted by the user"] * (len(calls) - len(outputs))
            raise
        finally:
            if native:
                for call, output in zip(calls, outputs, strict=False):
                    self.conversation.add(
                        {
                            "role": "tool",
                            "name": call.name,
                            "tool_call_id": call.id,
                            "content": output,
                        }
                    )
            elif outputs:
                blocks = [
                    f'<tool_result name="{call.name}">\n{output}\n</tool_result>'
                    for call, output in zip(calls, outputs, strict=False)
                ]
                self.conversation.add({"role": "user", "content": "\n\n".join(blocks)})

    def _run_tool(self, call: ToolCall) -> str:
        self.sink(ToolStarted(call))
        ok, output = self.calls.run(call)
        self.sink(ToolFinished(call, ok, output))
        first_line = output.splitlines()[0] if output else ""
        summary = f"{summarize(call.name, call.args, 60)} → {first_line}"
        self.memory.note_tool(call.name, call.args, summary)
        self.conversation.record(
            {"type": "tool", "name": call.name, "args": call.args, "ok": ok, "summary": summary}
        )
        return output

    def _delegate(self, task: str, max_steps: int) -> str:
        registry = self.registry.only(READ_ONLY_TOOLS)
        child = Agent(
            self.model,
            registry,
            self.workspace,
            Conversation(system_prompt(self.facts, registry, self.tool_mode, subagent=True)),
            tool_mode=self.tool_mode,
            facts=self.facts,
            permissions=Permissions("never"),
            sink=lambda event: self.sink(Subagent(event)),
            limits=replace(
                self.limits, max_steps=max(1, min(max_steps, self.limits.max_subagent_steps))
            ),
            budget=Budget(self.budget.num_ctx, self.budget.max_new_tokens),
            depth=self.depth + 1,
        )
        return child.ask(task)

    def _finish(self, answer: str, reply_text: str) -> str:
        # The reply is kept as the model wrote it (tags and all) so the server's cache of its
        # own output stays valid; the answer is what the user sees.
        self.conversation.add({"role": "assistant", "content": reply_text}, answer=answer)
        self.memory.note(f"answered: {answer}")
        self.sink(Final(answer))
        return answer

    def _stop(self, reason: str) -> str:
        self.conversation.record({"type": "stopped", "reason": reason})
        self.memory.note(reason)
        self.sink(Final(reason))
        return reason
