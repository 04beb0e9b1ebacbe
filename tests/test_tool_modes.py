"""Tool-call modes: JSON actions under a schema, and the switch to text when native fails."""

import json
from pathlib import Path

from harness import Run, reply
from mini_coding_agent.events import Notice
from mini_coding_agent.models.base import ToolsUnsupported
from mini_coding_agent.models.scripted import call


def test_json_mode_sends_the_action_schema_and_reads_actions(repo: Path):
    run = Run(
        repo,
        [
            json.dumps({"tool": "write_file", "args": {"path": "j.py", "content": "j = 1\n"}}),
            '{"tool": "read_file", "args": {"path": "j.py"}}',
            json.dumps({"final": "wrote j.py"}),
        ],
        tool_mode="json",
    )
    assert run.ask("make j.py") == "wrote j.py"
    assert (repo / "j.py").read_text() == "j = 1\n"
    first = run.model.requests[0]
    assert first["tools"] is None
    schema = first["format"]
    names = [c["properties"].get("tool", {}).get("const") for c in schema["anyOf"]]
    assert names[:-1] == [t["function"]["name"] for t in run.agent.registry.specs()]
    assert schema["anyOf"][-1]["required"] == ["final"]
    write_args = schema["anyOf"][names.index("write_file")]["properties"]["args"]
    assert write_args["required"] == ["path", "content"]
    assert '{"final":' in first["messages"][0]["content"]
    last = run.last_messages()
    assert last[-1]["role"] == "user" and last[-1]["content"].startswith(
        '<tool_result name="read_file">'
    )


def test_json_mode_empty_final_gets_a_correction(repo: Path):
    run = Run(repo, ['{"final": " "}', '{"final": "ok"}'], tool_mode="json")
    assert run.ask("hi") == "ok"
    assert "empty" in run.last_messages()[-1]["content"]


def test_tools_unsupported_switches_the_session_to_text(repo: Path):
    def refuse(messages):
        raise ToolsUnsupported("model does not support tools")

    run = Run(
        repo,
        [
            refuse,
            '<tool>{"name": "read_file", "args": {"path": "app.py"}}</tool>',
            "<final>read it</final>",
        ],
    )
    assert run.ask("read app.py") == "read it"
    assert run.agent.tool_mode == "text"
    assert any(isinstance(e, Notice) and "text" in e.message for e in run.events)
    retry = run.model.requests[1]
    assert retry["tools"] is None
    assert retry["messages"][-1]["role"] == "user"
    assert "<tool>" in retry["messages"][-1]["content"], "the text protocol is taught"
    assert retry["messages"][:2] == run.model.requests[0]["messages"][:2]

    resumed = Run(repo, ["<final>still text</final>"], resume="latest", tool_mode="auto")
    assert resumed.agent.tool_mode == "text"
    assert resumed.ask("again") == "still text"
    assert resumed.model.requests[0]["tools"] is None


def test_choosing_another_mode_on_resume_teaches_it(repo: Path):
    run = Run(repo, [reply(call("list_files")), "listed"])
    run.ask("list")
    resumed = Run(repo, ['{"final": "json now"}'], resume="latest", tool_mode="json")
    assert resumed.ask("again") == "json now"
    messages = resumed.last_messages()
    assert messages[: len(run.last_messages())] == run.last_messages()
    teach = [m for m in messages if m["role"] == "user" and "From now on" in m["content"]]
    assert len(teach) == 1 and '{"final":' in teach[0]["content"]
