"""Settings: the defaults, overridden by the environment, overridden by command-line flags."""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, fields

from mini_coding_agent import __version__

DEFAULT_OLLAMA_HOST = "http://127.0.0.1:11434"
DEFAULT_OPENAI_BASE = "http://127.0.0.1:8080/v1"


@dataclass(frozen=True)
class Settings:
    prompt: str = ""
    cwd: str = "."
    model: str = "qwen3.5:4b"
    host: str = DEFAULT_OLLAMA_HOST
    provider: str = "ollama"
    ollama_timeout: float = 300.0
    resume: str | None = None
    approval: str = "ask"
    tool_mode: str = "auto"
    max_steps: int = 6
    max_new_tokens: int = 512
    temperature: float = 0.2
    top_p: float = 0.9
    num_ctx: int = 16384
    think: str = "auto"
    sandbox: str = "auto"
    allow_network: bool = False
    api_key_env: str = "OPENAI_API_KEY"

    @property
    def api_key(self) -> str | None:
        return os.environ.get(self.api_key_env) or None


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got '{text}'") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number of at least 1, got {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got '{text}'") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {value}")
    return value


def _unit_float(text: str) -> float:
    value = _positive_float(text) if text.strip() not in ("0", "0.0") else 0.0
    if value > 2:
        raise argparse.ArgumentTypeError(f"expected a number from 0 to 2, got {value}")
    return value


def _ollama_host_from_env() -> str | None:
    """OLLAMA_HOST as Ollama reads it: scheme and port optional, a bind-all address means here."""
    raw = os.environ.get("OLLAMA_HOST", "").strip()
    if not raw:
        return None
    scheme, _, rest = raw.rpartition("://")
    host, _, port = rest.partition(":")
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    return f"{scheme or 'http'}://{host}:{port or '11434'}"


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows defaults, except where there is none to show."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default in (None, False, [], argparse.SUPPRESS):
            return action.help
        return super()._get_help_string(action)


def build_parser() -> argparse.ArgumentParser:
    d = Settings()
    parser = argparse.ArgumentParser(
        prog="mini-coding-agent",
        description="A local-first coding agent for the terminal. With a prompt it runs that one "
        "request and prints the answer; without one it starts an interactive session.",
        formatter_class=_HelpFormatter,
    )
    add = parser.add_argument
    add("prompt", nargs="*", help="a one-shot request; omit it for the interactive REPL")
    add("--cwd", default=d.cwd, help="workspace directory the agent inspects and changes")
    add("--model", default=d.model, help="model name on the server")
    add(
        "--host",
        default=None,
        help=f"server URL (default: $OLLAMA_HOST or {d.host}; for --provider openai the base "
        f"URL, default $OPENAI_BASE_URL or {DEFAULT_OPENAI_BASE})",
    )
    add(
        "--provider",
        choices=("ollama", "openai"),
        default=d.provider,
        help="server API: Ollama's native API, or any OpenAI-compatible chat-completions server",
    )
    add(
        "--api-key-env",
        metavar="NAME",
        default=d.api_key_env,
        help="environment variable holding the API key (openai provider; sent only when set)",
    )
    add(
        "--ollama-timeout",
        type=_positive_float,
        default=d.ollama_timeout,
        help="seconds to wait for the server before giving up",
    )
    add("--resume", metavar="ID|latest", default=None, help="continue a saved session")
    add(
        "--approval",
        choices=("ask", "auto", "never"),
        default=d.approval,
        help="risky tools (shell, writes): ask first, allow all (trusted repos only), deny all",
    )
    add(
        "--tool-mode",
        choices=("auto", "native", "text", "json"),
        default=d.tool_mode,
        help="native tool calls, the text protocol, or JSON actions constrained by a schema; "
        "auto picks native when the model supports tools, else text",
    )
    add(
        "--max-steps",
        type=_positive_int,
        default=d.max_steps,
        help="tool steps allowed for one request",
    )
    add(
        "--max-new-tokens",
        type=_positive_int,
        default=d.max_new_tokens,
        help="output token cap per model reply",
    )
    add("--temperature", type=_unit_float, default=d.temperature, help="sampling temperature")
    add("--top-p", type=_unit_float, default=d.top_p, help="nucleus sampling")
    add(
        "--num-ctx",
        type=_positive_int,
        default=d.num_ctx,
        help="context window to request (capped at the model's maximum)",
    )
    add(
        "--think",
        choices=("auto", "on", "off"),
        default=d.think,
        help="reasoning for thinking models: the server's default, or ask for it on or off",
    )
    add(
        "--sandbox",
        choices=("auto", "on", "off"),
        default=d.sandbox,
        help="run shell commands in bubblewrap (workspace writable, the rest read-only, no "
        "network): auto when available, on requires it, off never",
    )
    add(
        "--allow-network",
        action="store_true",
        help="let sandboxed shell commands reach the network",
    )
    add("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


def parse_settings(argv: list[str] | None = None) -> Settings:
    parser = build_parser()
    ns = parser.parse_args(argv)
    values = {f.name: getattr(ns, f.name) for f in fields(Settings) if f.name != "prompt"}
    values["prompt"] = " ".join(ns.prompt).strip()
    if ns.provider == "openai":
        values["host"] = ns.host or os.environ.get("OPENAI_BASE_URL") or DEFAULT_OPENAI_BASE
    else:
        values["host"] = ns.host or _ollama_host_from_env() or DEFAULT_OLLAMA_HOST
    return Settings(**values)
