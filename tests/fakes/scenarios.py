"""Scripted sessions for the fake servers: what a model would reply, turn by turn.

Each turn is (user request, [reply dicts for FakeOllama]). `native` replies use tool_calls;
text replies write the calls in the content with the text protocol, as a model without
native tool support would.
"""

from __future__ import annotations

import json
from typing import Any

BINARY_SEARCH = '''\
def binary_search(nums, target):
    """Return the index of target in the sorted list nums, or -1."""
    lo, hi = 0, len(nums) - 1
    while lo <= hi:
        mid = (lo + hi) // 2
        if nums[mid] == target:
            return mid
        if nums[mid] < target:
            lo = mid + 1
        else:
            hi = mid - 1
    return -1
'''

SORTED_CHECK_OLD = "    lo, hi = 0, len(nums) - 1\n"
SORTED_CHECK_NEW = """\
    if any(a > b for a, b in zip(nums, nums[1:])):
        raise ValueError("nums must be sorted")
    lo, hi = 0, len(nums) - 1
"""

TESTS = """\
import pytest

from binary_search import binary_search


def test_finds_each_item():
    nums = [1, 3, 5, 7, 9]
    for index, value in enumerate(nums):
        assert binary_search(nums, value) == index


def test_missing_item():
    assert binary_search([1, 3, 5], 4) == -1


def test_empty_list():
    assert binary_search([], 1) == -1


def test_rejects_unsorted_input():
    with pytest.raises(ValueError):
        binary_search([3, 1, 2], 1)
"""


def _call(native: bool, name: str, **args: Any) -> dict[str, Any]:
    if native:
        return {"tool_calls": [{"name": name, "arguments": args}]}
    if name == "write_file":
        body = f'<tool name="write_file" path="{args["path"]}"><content>\n{args["content"]}'
        return {"content": f"I'll write the file.\n{body}</content></tool>"}
    if name == "patch_file":
        return {
            "content": f'<tool name="patch_file" path="{args["path"]}">'
            f"<old_text>\n{args['old_text']}</old_text>"
            f"<new_text>\n{args['new_text']}</new_text></tool>"
        }
    return {"content": "<tool>" + json.dumps({"name": name, "args": args}) + "</tool>"}


def _final(native: bool, text: str) -> dict[str, Any]:
    return {"content": text if native else f"<final>{text}</final>"}


def binary_search_session(native: bool, python: str = "python") -> list[tuple[str, list]]:
    """The four-turn session of EXAMPLE.md: create, harden, test, run the tests."""
    return [
        (
            "Create binary_search.py with a function binary_search(nums, target) that returns "
            "the index of target in a sorted list, or -1.",
            [
                _call(native, "write_file", path="binary_search.py", content=BINARY_SEARCH),
                _final(native, "Created binary_search.py with an iterative binary search."),
            ],
        ),
        (
            "Make binary_search reject unsorted input with a ValueError.",
            [
                _call(native, "read_file", path="binary_search.py"),
                _call(
                    native,
                    "patch_file",
                    path="binary_search.py",
                    old_text=SORTED_CHECK_OLD,
                    new_text=SORTED_CHECK_NEW,
                ),
                _final(native, "binary_search now raises ValueError on unsorted input."),
            ],
        ),
        (
            "Add pytest tests for binary_search in test_binary_search.py.",
            [
                _call(native, "write_file", path="test_binary_search.py", content=TESTS),
                _final(native, "Added four tests in test_binary_search.py."),
            ],
        ),
        (
            "Run the tests.",
            [
                _call(native, "run_shell", command=f"{python} -m pytest -q test_binary_search.py"),
                _final(native, "All 4 tests pass."),
            ],
        ),
    ]


README_DOC = "# search utils\n\nHelpers for searching sorted data.\n"


def long_session(native: bool, python: str = "python") -> list[tuple[str, list]]:
    """Four turns and 17 tool steps of everyday work: look around, write, search, patch, test."""
    c, f = _call, _final
    return [
        (
            "Look at this project, then add binary_search.py with binary_search(nums, target).",
            [
                c(native, "list_files", path="."),
                c(native, "read_file", path="README.md"),
                c(native, "search", pattern="def ", path="."),
                c(native, "write_file", path="binary_search.py", content=BINARY_SEARCH),
                f(native, "Added binary_search.py."),
            ],
        ),
        (
            "Make it reject unsorted input with a ValueError.",
            [
                c(native, "read_file", path="binary_search.py"),
                c(
                    native,
                    "patch_file",
                    path="binary_search.py",
                    old_text=SORTED_CHECK_OLD,
                    new_text=SORTED_CHECK_NEW,
                ),
                c(native, "search", pattern="ValueError", path="binary_search.py"),
                f(native, "It now raises ValueError for unsorted input."),
            ],
        ),
        (
            "Add pytest tests and run them.",
            [
                c(native, "write_file", path="test_binary_search.py", content=TESTS),
                c(native, "run_shell", command=f"{python} -m pytest -q test_binary_search.py"),
                c(native, "read_file", path="test_binary_search.py", start=1, end=12),
                c(native, "list_files", path="."),
                f(native, "Four tests pass."),
            ],
        ),
        (
            "Document binary_search in the README and check everything still passes.",
            [
                c(native, "read_file", path="README.md"),
                c(
                    native,
                    "patch_file",
                    path="README.md",
                    old_text="Helpers for searching sorted data.\n",
                    new_text="Helpers for searching sorted data.\n\n"
                    "- `binary_search(nums, target)`: index of target, or -1; "
                    "raises ValueError on unsorted input.\n",
                ),
                c(native, "search", pattern="binary_search", path="README.md"),
                c(native, "run_shell", command=f"{python} -m pytest -q"),
                c(native, "run_shell", command="git status --short"),
                f(native, "Documented it; all tests pass."),
            ],
        ),
    ]
