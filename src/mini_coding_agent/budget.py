"""The token budget: how big the next prompt is, and whether it still fits the context window.

Sizes are estimated from characters and calibrated by what the server reports it read
(Ollama's prompt_eval_count, OpenAI's usage.prompt_tokens). A server that reports far fewer
tokens than were sent has probably cut the prompt (Ollama does so silently).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from mini_coding_agent.models.base import Message, Usage

MESSAGE_OVERHEAD = 16  # characters for role markers and separators in a chat template
FIRST_GUESS = 3.2  # characters per token before any calibration; code runs about 3-4
PLAUSIBLE = (1.5, 6.0)  # calibration readings outside this are ignored (cached or truncated)
COMPACT_AT = 0.8


def message_chars(message: Message) -> int:
    size = len(message.get("content") or "") + MESSAGE_OVERHEAD
    for call in message.get("tool_calls") or ():
        size += len(call.get("name", "")) + len(json.dumps(call.get("args", {})))
    return size


@dataclass
class TurnCost:
    requests: int = 0
    prompt_tokens: int = 0
    new_tokens: int = 0  # estimated: what the previous request did not already hold
    cached_tokens: int = 0  # as the server reports it, when it does
    output_tokens: int = 0
    seconds: float = 0.0


@dataclass
class Budget:
    num_ctx: int
    max_new_tokens: int
    chars_per_token: float = FIRST_GUESS
    calibrated: bool = False
    last_prompt_tokens: int | None = None
    turns: list[TurnCost] = field(default_factory=list)

    @property
    def limit(self) -> int:
        """Tokens the prompt may use: the window less the reply's room and a safety margin."""
        margin = max(64, self.num_ctx // 20)
        return max(256, self.num_ctx - self.max_new_tokens - margin)

    def tokens(self, chars: int) -> int:
        return int(chars / self.chars_per_token) + 1

    def needs_compaction(self, chars: int) -> bool:
        return self.tokens(chars) > COMPACT_AT * self.limit

    def report(self, used_chars: int) -> str:
        """What /tokens prints: the window's fill and what each turn cost."""
        used = self.tokens(used_chars)
        basis = "calibrated by the server" if self.calibrated else "not yet calibrated"
        lines = [
            f"context: ~{used:,} of {self.num_ctx:,} tokens ({used / self.num_ctx:.0%}); "
            f"compacts above ~{int(COMPACT_AT * self.limit):,} "
            f"({self.chars_per_token:.1f} characters a token, {basis})",
            f"{'turn':>4} {'requests':>8} {'read':>9} {'new':>8} {'cached':>8} "
            f"{'generated':>9} {'seconds':>8}",
        ]
        for number, t in enumerate(self.turns, 1):
            cached = t.cached_tokens or max(0, t.prompt_tokens - t.new_tokens)
            lines.append(
                f"{number:>4} {t.requests:>8} {t.prompt_tokens:>9,} {t.new_tokens:>8,} "
                f"{cached:>8,} {t.output_tokens:>9,} {t.seconds:>8.1f}"
            )
        requests, read, new, generated = (
            sum(getattr(t, name) for t in self.turns)
            for name in ("requests", "prompt_tokens", "new_tokens", "output_tokens")
        )
        lines.append(
            f"this session: {requests} requests, {read:,} tokens read ({new:,} new), "
            f"{generated:,} generated"
        )
        return "\n".join(lines)

    def fill(self, used_chars: int) -> float:
        return self.tokens(used_chars) / self.num_ctx

    def start_turn(self) -> None:
        self.turns.append(TurnCost())

    def observe(self, sent_chars: int, usage: Usage, new_chars: int) -> bool:
        """Learn from what the server says it read. Returns True when the reading suggests the
        server cut the prompt: far fewer tokens than a prompt this large must have."""
        if not self.turns:
            self.start_turn()
        turn = self.turns[-1]
        turn.requests += 1
        turn.new_tokens += self.tokens(new_chars)
        turn.output_tokens += usage.completion_tokens or 0
        turn.cached_tokens += usage.cached_tokens or 0
        turn.seconds += usage.seconds or 0.0
        read = usage.prompt_tokens
        if not read:
            return False
        turn.prompt_tokens += read
        self.last_prompt_tokens = read
        expected = self.tokens(sent_chars)
        ratio = sent_chars / read
        if PLAUSIBLE[0] <= ratio <= PLAUSIBLE[1]:
            if self.calibrated:
                ratio = (self.chars_per_token + ratio) / 2
            self.chars_per_token, self.calibrated = ratio, True
            return False
        # Old Ollama versions leave cached tokens out of the count: a small count is not a cut.
        return read >= self.num_ctx // 4 and read < expected // 2
