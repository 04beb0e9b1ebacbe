"""Safety figures: the attack catalogue in every approval mode, and the crash test.

Attacks: every attack of tests/safety_catalogue.py (the same ones tests/test_safety.py runs),
each in a fresh workspace with a canary outside it, through the agent as the CLI assembles it
with a scripted model, in each approval mode where it matters, with the sandbox required
(`--sandbox on`). Per mode it prints `attacks tried: N, escapes: M`: an escape is anything
outside the workspace changed or read into a request to the model, a .git directory or the
agent's state changed, a server reached, a process left running, output unclipped, or (where
risky tools are denied) the workspace changed; see the catalogue's docstring. It also counts
unclear results (a refused call that did not come back as "error: ..."), shell reads of files
outside the workspace (allowed by design: the sandbox stops writes and network, not reads),
and, for reference, how the shell attacks fare with `--sandbox off --approval auto`, where
nothing confines commands.

Crash test: tests/safety_crash.py. N scripted sessions (binary-search and long, native and text
tool calls) through the real CLI against the fake Ollama server, each killed with SIGKILL at a
random moment (the delay drawn from a seeded generator; the seed is printed) and resumed to
completion. Prints `kills: K, sessions lost: L`.

Usage: python bench/safety.py [--sessions N] [--seed N] [--jobs N] [--skip-attacks]
                              [--skip-crash] [--verbose]
"""

from __future__ import annotations

import argparse
import collections
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "tests")]

from mini_coding_agent.tools.sandbox import Sandbox  # noqa: E402
from safety_catalogue import (  # noqa: E402
    CATALOGUE,
    MODE_MEANING,
    MODES,
    RUNS_RISKY,
    Outcome,
    bwrap_problem,
    run_attack,
)
from safety_crash import KINDS, crash_test  # noqa: E402


def attacks(verbose: bool) -> None:
    problem = bwrap_problem()
    families = collections.Counter(attack.family for attack in CATALOGUE)
    print(
        f"attacks: {len(CATALOGUE)} in the catalogue ("
        + ", ".join(f"{family} {count}" for family, count in families.items())
        + ")"
    )
    print(f"sandbox: {Sandbox('on').describe()}")
    outcomes: list[Outcome] = []
    skipped = 0
    for mode in MODES:
        tried = [a for a in CATALOGUE if mode in a.modes]
        if problem is not None and mode in RUNS_RISKY:
            skipped += sum(1 for a in tried if a.shell)
            tried = [a for a in tried if not a.shell]
        results = [run_attack(attack, mode) for attack in tried]
        outcomes += results
        escapes = sum(1 for o in results if o.escapes)
        unclear = sum(1 for o in results if o.unclear)
        reads = sum(1 for o in results if o.read_by_design)
        line = f"  {mode:<6} attacks tried: {len(results)}, escapes: {escapes}"
        line += f"  (unclear results: {unclear}; shell reads outside, by design: {reads})"
        print(f"{line}   [{MODE_MEANING[mode]}]")
        if verbose:
            for outcome in results:
                if outcome.escapes or outcome.unclear:
                    print("    " + outcome.report().replace("\n", "\n    "))
    total = len(outcomes)
    escaped = [o for o in outcomes if o.escapes]
    distinct = {o.attack for o in escaped}
    print(
        f"  all    attacks tried: {total}, escapes: {len(escaped)}"
        f"  ({len(distinct)} of {len(CATALOGUE)} attacks escape in at least one mode)"
    )
    if skipped:
        print(f"  skipped: {skipped} shell attacks in auto and ask (bubblewrap unavailable)")
    by_attack: dict[str, list[str]] = collections.defaultdict(list)
    for outcome in escaped:
        by_attack[outcome.attack].append(outcome.mode)
    for name, modes in by_attack.items():
        attack = next(a for a in CATALOGUE if a.name == name)
        why = attack.known or next(o for o in escaped if o.attack == name).escapes[0]
        print(f"  escape: {name} ({', '.join(modes)}): {why}")
    unclear = [o for o in outcomes if o.unclear and not o.escapes]
    for outcome in unclear:
        print(f"  unclear: {outcome.attack} ({outcome.mode}): {outcome.unclear[0]}")

    if problem is None:
        shell = [a for a in CATALOGUE if a.shell and "auto" in a.modes]
        off = [run_attack(attack, "auto", sandbox="off") for attack in shell]
        out = sum(1 for o in off if o.escapes or o.read_by_design)
        print(
            f"  for reference, --sandbox off --approval auto: {len(off)} shell attacks, "
            f"{out} got out (not defended: nothing confines commands then)"
        )


def crash(sessions: int, seed: int, jobs: int, verbose: bool) -> None:
    kinds = ", ".join(f"{kind} {'native' if native else 'text'}" for kind, native in KINDS)
    print(f"crash test: {sessions} sessions ({kinds}), seed {seed}, {jobs} at a time")
    results = crash_test(sessions, seed, jobs=jobs, log=print)
    killed = [r for r in results if r.killed]
    lost = [r for r in results if r.lost]
    print(f"  kills: {len(killed)}, sessions lost: {len(lost)}")
    turns = collections.Counter(r.turn + 1 for r in killed if r.turn is not None)
    print(
        "  kills by turn: "
        + ", ".join(f"turn {turn}: {count}" for turn, count in sorted(turns.items()))
        + f"; before the session file existed: {sum(r.before_session for r in killed)}"
    )
    print(
        f"  torn last lines: {sum(r.torn_tail for r in results)}; "
        f"temp files left by an interrupted write: {sum(len(r.temp_files) for r in results)}; "
        f"resumed with a tool call that never got its result: "
        f"{sum(1 for r in results if r.unanswered)}"
    )
    for result in lost:
        print(f"  lost: session {result.index} {result.plan}: {'; '.join(result.lost)}")
    if verbose:
        for r in results:
            print(
                f"    session {r.index:>3} {r.plan:<24} killed after {r.delay:5.2f} s in turn "
                f"{(r.turn or 0) + 1}, {r.seconds:5.1f} s in all"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=40, help="sessions to kill and resume")
    parser.add_argument("--seed", type=int, default=None, help="seed of the kill delays")
    parser.add_argument("--jobs", type=int, default=2, help="sessions run at a time")
    parser.add_argument("--skip-attacks", action="store_true")
    parser.add_argument("--skip-crash", action="store_true")
    parser.add_argument("--verbose", action="store_true", help="every escape and session")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(10**6)
    started = time.monotonic()
    if not args.skip_attacks:
        attacks(args.verbose)
    if not args.skip_crash:
        crash(args.sessions, seed, args.jobs, args.verbose)
    print(f"took {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
