"""Assembly: settings in, a ready agent out (workspace, model client, tools, session)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from mini_coding_agent import __version__
from mini_coding_agent.agent import Agent, Limits
from mini_coding_agent.budget import Budget
from mini_coding_agent.context import system_prompt
from mini_coding_agent.conversation import Conversation
from mini_coding_agent.events import Notice, Sink
from mini_coding_agent.models.base import GenerationOptions, ModelClient, ModelInfo
from mini_coding_agent.permissions import UNTRUSTED, Approver, Permissions
from mini_coding_agent.sessions import Session, SessionStore, WorkingMemory
from mini_coding_agent.settings import Settings
from mini_coding_agent.tools import default_registry
from mini_coding_agent.tools.sandbox import Sandbox
from mini_coding_agent.undo import EditJournal, blob_dir
from mini_coding_agent.workspace import Workspace


@dataclass
class Runtime:
    agent: Agent
    session: Session
    workspace: Workspace
    info: ModelInfo
    settings: Settings
    resumed: bool

    @property
    def num_ctx(self) -> int:
        return self.agent.budget.num_ctx

    def switch_model(self, name: str) -> None:
        """Use another model from the next request on; raises ModelError if it is unusable."""
        settings = replace(self.settings, model=name)
        client = make_client(settings)
        info = client.info()
        self.agent.model = client
        self.agent.budget = Budget(fit_context(client, settings, info), settings.max_new_tokens)
        self.agent.use_tool_mode(choose_tool_mode(settings.tool_mode, info))
        self.settings, self.info = settings, info


def make_client(settings: Settings) -> ModelClient:
    options = GenerationOptions(
        max_new_tokens=settings.max_new_tokens,
        temperature=settings.temperature,
        top_p=settings.top_p,
        num_ctx=settings.num_ctx,
    )
    if settings.provider == "openai":
        from mini_coding_agent.models.openai import OpenAIClient

        return OpenAIClient(
            settings.model,
            settings.host,
            options,
            timeout=settings.ollama_timeout,
            api_key=settings.api_key,
        )
    from mini_coding_agent.models.ollama import OllamaClient

    think = {"on": True, "off": False}.get(settings.think)
    return OllamaClient(
        settings.model, settings.host, options, timeout=settings.ollama_timeout, think=think
    )


def shell_facts(sandbox: Sandbox) -> str:
    if not sandbox.active:
        return ""
    network = "with" if sandbox.allow_network else "without"
    return (
        "\n- shell: commands run in a sandbox: only the workspace is writable (.git is "
        f"read-only), /tmp is private, {network} network"
    )


def fit_context(client: ModelClient, settings: Settings, info: ModelInfo) -> int:
    """The context window to use: the requested one, capped at the model's maximum."""
    num_ctx = min(settings.num_ctx, info.context_length or settings.num_ctx)
    if hasattr(client, "options"):
        client.options = replace(client.options, num_ctx=num_ctx)
    return num_ctx


def choose_tool_mode(requested: str, info: ModelInfo) -> str:
    if requested == "auto":
        return "native" if info.supports_tools else "text"
    return requested


def build_runtime(
    settings: Settings,
    *,
    sink: Sink,
    approver: Approver,
    client: ModelClient | None = None,
) -> Runtime:
    """Raises PathError (bad workspace), SessionError (bad --resume), PermissionsError (bad
    rules file) or ModelError."""
    workspace = Workspace.open(settings.cwd)
    permissions = Permissions.load(settings.approval, workspace.root)
    store = SessionStore(workspace.ensure_state_dir() / "sessions")
    session = store.open(settings.resume) if settings.resume else None
    client = client or make_client(settings)
    info = client.info()
    num_ctx = fit_context(client, settings, info)
    registry = default_registry()
    sandbox = Sandbox(settings.sandbox, settings.allow_network)

    if session is not None:
        recorded = session.tool_mode if settings.tool_mode == "auto" else None
        tool_mode = recorded or choose_tool_mode(settings.tool_mode, info)
        conversation = Conversation.resume(session)
        facts = session.header.get("facts", "")
    else:
        tool_mode = choose_tool_mode(settings.tool_mode, info)
        confine = (lambda argv: sandbox.wrap(argv, workspace.root)) if sandbox.active else None
        facts = workspace.snapshot(confine).text() + shell_facts(sandbox)
        system = system_prompt(facts, registry, tool_mode)
        session = store.create(
            {
                "version": __version__,
                "root": str(workspace.root),
                "model": settings.model,
                "tool_mode": tool_mode,
                "facts": facts,
                "system": system,
            }
        )
        conversation = Conversation(system, session)

    journal = EditJournal(workspace, blob_dir(session.path), conversation.record)
    journal.replay(session.records)
    agent = Agent(
        client,
        registry,
        workspace,
        conversation,
        tool_mode=session.tool_mode or tool_mode,
        facts=facts,
        permissions=permissions,
        approver=approver,
        sink=sink,
        limits=Limits(max_steps=settings.max_steps),
        memory=WorkingMemory.from_records(session.records),
        budget=Budget(num_ctx, settings.max_new_tokens),
        sandbox=sandbox,
        journal=journal,
        hidden_env=(settings.api_key_env,) if settings.provider == "openai" else (),
    )
    agent.use_tool_mode(tool_mode)
    if permissions.untrusted:
        sink(Notice(UNTRUSTED.format(path=permissions.project_file)))
    return Runtime(agent, session, workspace, info, settings, settings.resume is not None)
