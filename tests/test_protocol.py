import dataclasses
import importlib.util
from pathlib import Path

import pytest

from mini_coding_agent.json_repair import loads, scan
from mini_coding_agent.protocol import (
    ParsedReply,
    correction,
    parse_reply,
    split_thinking,
    text_instructions,
)
from mini_coding_agent.tools.registry import Args, Tool, ToolRegistry


def _load_corpus():
    path = Path(__file__).parent / "corpus" / "messy_replies.py"
    spec = importlib.util.spec_from_file_location("messy_replies", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


CORPUS = _load_corpus()
NAMES = CORPUS.TOOL_NAMES


def test_corpus_is_large_and_well_formed():
    assert len(CORPUS.REPLIES) >= 35
    ids = [entry["id"] for entry in CORPUS.REPLIES]
    assert len(ids) == len(set(ids))
    for entry in CORPUS.REPLIES:
        assert ("calls" in entry) != ("final" in entry), entry["id"]


@pytest.mark.parametrize("entry", CORPUS.REPLIES, ids=lambda entry: entry["id"])
def test_corpus_reply_is_understood(entry):
    parsed = parse_reply(entry["text"], NAMES)
    assert parsed.error is None
    if "calls" in entry:
        assert [{"name": c.name, "args": c.args} for c in parsed.calls] == entry["calls"]
        assert parsed.final is None
    else:
        assert parsed.calls == []
        assert parsed.final == entry["final"]


# --- split_thinking ---


@pytest.mark.parametrize(
    ("text", "thinking", "rest"),
    [
        ("no thinking here", "", "no thinking here"),
        ("<think>plan it</think>\nanswer", "plan it", "answer"),
        ("<think>\n\n</think>\n\nanswer", "", "answer"),
        ("<think>one</think>a <think>two</think>b", "one\n\ntwo", "a b"),
        ("<think>still going and never closed", "still going and never closed", ""),
        ("<THINKING>upper</THINKING>ok", "upper", "ok"),
        ("the template opened it</think>\nanswer", "the template opened it", "answer"),
        (
            '<think>read first\n<tool>{"name": "read_file"}</tool>',
            "read first",
            '<tool>{"name": "read_file"}</tool>',
        ),
        ("<think>done thinking<final>ok</final>", "done thinking", "<final>ok</final>"),
    ],
)
def test_split_thinking(text, thinking, rest):
    assert split_thinking(text) == (thinking, rest)


def test_unclosed_think_that_only_mentions_a_tool_stays_thinking():
    text = "<think>maybe the <tool> tag, maybe not"
    assert split_thinking(text) == ("maybe the <tool> tag, maybe not", "")


def test_think_tags_inside_a_call_are_file_content():
    text = (
        '<tool name="write_file" path="strip.py"><content>\n'
        'THINK = re.compile(r"<think>(.*?)</think>")\nEND = "</think>"\n</content></tool>'
    )
    assert split_thinking(text) == ("", text)
    content = parse_reply(text, NAMES).calls[0].args["content"]
    assert content == 'THINK = re.compile(r"<think>(.*?)</think>")\nEND = "</think>"'


def test_parse_reply_returns_the_thinking():
    parsed = parse_reply("<think>hmm</think><final>ok</final>", NAMES)
    assert parsed == ParsedReply(final="ok", thinking="hmm")


# --- errors and corrections ---


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "your reply was empty"),
        ("  \n\t ", "your reply was empty"),
        ("<think>only this</think>", "only thinking"),
        ("<final>   </final>", "<final> was empty"),
        (
            '<tool>{"name": "read_file" "args": {"path": "a.py"}}</tool>',
            "your <tool> JSON is invalid: Expecting ',' delimiter at char 21",
        ),
        (
            '{"name": "read_file" "args": {"path": "a.py"}}',
            "your tool call JSON is invalid: Expecting ',' delimiter",
        ),
        (
            '<tool>{"name": "write_file", "args": {"path": "x.py", "content": "def f():\n    re',
            "cut off",
        ),
        (
            '<tool name="write_file" path="x.py"><content>def f():\n    re',
            "the <content> of write_file was cut off before </content>",
        ),
        (
            "<tool_call>\n<function=write_file>\n<parameter=content>\ndef f():\n",
            "<parameter=content> of write_file was cut off",
        ),
        ('<tool>{"args": {"path": "a.py"}}</tool>', 'has no "name"'),
        ('<tool path="a.py"></tool>', 'has no name="…" attribute'),
        ('<tool>{"name": "read_file", "args": "a.py"}</tool>', "not a JSON object"),
        ("<tool>read the file please</tool>", "after <tool> write a JSON object"),
    ],
)
def test_unparseable_replies_get_a_specific_error(text, expected):
    parsed = parse_reply(text, NAMES)
    assert parsed.calls == [] and parsed.final is None
    assert expected in parsed.error


def test_correction_is_short_and_shows_the_expected_form():
    error = parse_reply('<tool>{"name": broken}</tool>', NAMES).error
    message = correction(error)
    assert error in message
    assert len(message.splitlines()) <= 2
    assert '<tool>{"name": "read_file", "args": {"path": "app.py"}}</tool>' in message
    assert "<final>" in message
    assert parse_reply(message.splitlines()[1], NAMES).calls  # the example itself parses


def test_mentions_that_are_not_calls_stay_answers():
    for text in (
        "<final>I could not use a <tool> for this.</final>",
        'The registry maps names to functions: TOOLS = {"read_file": read_file}.',
        "Use <read_file> to look at a file, then answer.",
        '```json\n{"name": "my-app", "version": "1.0.0"}\n```',
        'Each tool is a dict:\n```python\nTOOLS = [{"name": "search", "doc": "find"}]\n```',
    ):
        parsed = parse_reply(text, NAMES)
        assert parsed.error is None and parsed.calls == [], text
        assert parsed.final


def test_partly_readable_reply_keeps_the_readable_calls():
    text = (
        '<tool>{"name": "read_file", "args": {"path": "a.py"}}</tool>\n'
        '<tool>{"name": "read_file", "args": {"path": </tool>'
    )
    parsed = parse_reply(text, NAMES)
    assert [c.args for c in parsed.calls] == [{"path": "a.py"}]
    assert parsed.error is None


def test_unknown_tools_are_returned_for_the_agent_to_refuse():
    parsed = parse_reply('<tool name="delete_repo" force="yes"></tool>', NAMES)
    assert [(c.name, c.args) for c in parsed.calls] == [("delete_repo", {"force": "yes"})]


def test_parsed_reply_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        ParsedReply().final = "x"  # type: ignore[misc]


# --- text_instructions ---


class PathArgs(Args):
    path: str
    start: int = 1


class WriteArgs(Args):
    path: str
    content: str


class PatchArgs(Args):
    path: str
    old_text: str
    new_text: str


class GrepArgs(Args):
    pattern: str
    ignore_case: bool = False


def _tool(name, params, description):
    return Tool(name, description, params, run=lambda ctx, args: "")


def _registry():
    return ToolRegistry(
        [
            _tool("read_file", PathArgs, "Read a file\n  with line numbers."),
            _tool("grep", GrepArgs, "Search file contents."),
            _tool("write_file", WriteArgs, "Write a whole file."),
            _tool("patch_file", PatchArgs, "Replace one exact text."),
        ]
    )


def test_text_instructions_are_deterministic():
    assert text_instructions(_registry()) == text_instructions(_registry())


def test_text_instructions_list_every_tool_and_the_forms():
    text = text_instructions(_registry())
    assert "- read_file(path: str, start: int = 1): Read a file with line numbers." in text
    assert "- grep(pattern: str, ignore_case: bool = False): Search file contents." in text
    assert '<tool>{"name": "read_file", "args": {"path": "app.py"}}</tool>' in text
    assert '<tool name="write_file" path="hello.py"><content>' in text
    assert "<old_text>" in text and "<new_text>" in text
    assert "<final>" in text
    assert len(text) < 2000, "small models read this on every request"


def test_instruction_examples_parse_as_calls_of_registered_tools():
    registry = _registry()
    text = text_instructions(registry)
    examples = text[text.index("<tool>") : text.index("When the task")]
    calls = parse_reply(examples, registry.names).calls
    assert [c.name for c in calls] == ["read_file", "write_file", "patch_file"]
    for call in calls:
        registry.validate(call.name, call.args)
    assert calls[1].args["content"] == 'def hello():\n    print("hi")'


def test_read_only_registry_gets_no_write_examples():
    text = text_instructions(_registry().only(["grep"]))
    assert '<tool>{"name": "grep", "args": {"pattern": "..."}}</tool>' in text
    assert "write_file" not in text and "patch_file" not in text


# --- json_repair ---


def test_scan_finds_the_end_of_a_value_followed_by_text():
    text = 'call {"a": "}", "b": [1, 2]} and more'
    span = scan(text, text.index("{"))
    assert span.complete and text[span.end :] == " and more"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("{'a': 'it\\'s', 'b': [1, 2,],}", {"a": "it's", "b": [1, 2]}),
        ('{"ok": True, "none": None, "no": False}', {"ok": True, "none": None, "no": False}),
        ('{"text": "line one\nline two\tend"}', {"text": "line one\nline two\tend"}),
        ('{"re": "\\d+\\.py"}', {"re": "\\d+\\.py"}),
        ('{"code": "say("hi")"}', {"code": 'say("hi")'}),
        ('{"a": {"b": [1, 2}', {"a": {"b": [1, 2]}}),
        (
            '{name: "read_file", args: {path: "a.py"}}',
            {"name": "read_file", "args": {"path": "a.py"}},
        ),
    ],
)
def test_loads_repairs_what_small_models_break(text, value):
    assert loads(text) == value


def test_loads_names_the_first_problem():
    with pytest.raises(ValueError, match="Expecting ':' delimiter at char 5"):
        loads('{"a" 1}')
    with pytest.raises(ValueError, match="cut off"):
        loads('{"a": "unfinished')
