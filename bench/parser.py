"""How many messy small-model replies the text protocol parser understands.

Runs every entry of tests/corpus/messy_replies.py through protocol.parse_reply, and, for
comparison, through a naive parser that accepts only the exact taught forms: <tool>{strict
JSON}</tool>, <tool name="…" key="…"><child>…</child></tool>, <final>…</final>, or plain
text as the answer. Usage: python bench/parser.py
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from mini_coding_agent.protocol import parse_reply  # noqa: E402


def load_corpus():
    path = ROOT / "tests" / "corpus" / "messy_replies.py"
    spec = importlib.util.spec_from_file_location("messy_replies", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def expected(entry: dict) -> dict:
    return {"calls": entry["calls"]} if "calls" in entry else {"final": entry["final"]}


def understood(text: str, names: list[str]) -> dict | None:
    parsed = parse_reply(text, names)
    if parsed.calls:
        return {"calls": [{"name": c.name, "args": c.args} for c in parsed.calls]}
    return None if parsed.error else {"final": parsed.final}


def _strip_newline(value: str) -> str:
    return value.removeprefix("\n").removesuffix("\n")


def naive(text: str, names: list[str]) -> dict | None:
    """The exact forms only, the way a first version of the protocol parses them."""
    tool = re.search(r"<tool>(.*?)</tool>", text, re.S)
    if tool:
        try:
            payload = json.loads(tool.group(1))
        except ValueError:
            return None
        if not isinstance(payload, dict) or not isinstance(payload.get("args", {}), dict):
            return None
        return {"calls": [{"name": payload.get("name"), "args": payload.get("args", {})}]}
    xml = re.search(r"<tool((?:\s+\w+=\"[^\"]*\")+)\s*>(.*?)</tool>", text, re.S)
    if xml:
        args = dict(re.findall(r"(\w+)=\"([^\"]*)\"", xml.group(1)))
        name = args.pop("name", None)
        for key, value in re.findall(r"<(\w+)>(.*?)</\1>", xml.group(2), re.S):
            args[key] = _strip_newline(value)
        return {"calls": [{"name": name, "args": args}]} if name else None
    final = re.search(r"<final>(.*?)</final>", text, re.S)
    if final:
        return {"final": final.group(1).strip()}
    return {"final": text.strip()} if text.strip() else None


def main() -> None:
    corpus = load_corpus()
    replies, names = corpus.REPLIES, corpus.TOOL_NAMES
    failures = []
    naive_count = 0
    for entry in replies:
        want = expected(entry)
        got = understood(entry["text"], names)
        if got != want:
            failures.append((entry, got))
        naive_count += naive(entry["text"], names) == want
    total = len(replies)
    print(f"understood {total - len(failures)}/{total} messy replies")
    print(f"naive parser: {naive_count}/{total}")
    print("failures:" if failures else "failures: none")
    for entry, got in failures:
        print(f"  FAIL {entry['id']} ({entry['model']}): got {got!r}, want {expected(entry)!r}")


if __name__ == "__main__":
    main()
