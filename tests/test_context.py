"""The context engine: the prompt always fits, compaction keeps what matters, reads dedupe."""

import itertools
import json
from pathlib import Path

from harness import Run, reply
from mini_coding_agent.compaction import HEADER, SUMMARY_REQUEST
from mini_coding_agent.events import Notice, ToolFinished
from mini_coding_agent.models.base import ModelError, ModelReply, Usage
from mini_coding_agent.models.scripted import call

NUM_CTX = 8192
MAX_NEW = 512


def true_tokens(messages) -> int:
    """The test's stand-in for a tokenizer: about 4 characters a token, plus template tokens."""
    return sum(
        len(m.get("content") or "") // 4 + 8 + len(str(m.get("tool_calls", ""))) // 4
        for m in messages
    )


class LongSession:
    """A scripted model for many steps with big tool outputs, reporting real-looking usage."""

    def __init__(self, files: list[str], steps_per_turn: int, summaries_fail: bool = False):
        self.plan = itertools.cycle(files)
        self.steps_per_turn = steps_per_turn
        self.summaries_fail = summaries_fail
        self.step = 0
        self.sizes: list[int] = []

    def __call__(self, messages):
        tokens = true_tokens(messages)
        self.sizes.append(tokens)
        usage = Usage(prompt_tokens=tokens, completion_tokens=20)
        if messages[-1]["content"].startswith(SUMMARY_REQUEST):
            if self.summaries_fail:
                raise ModelError("the model fell over")
            return ModelReply("Summary: reading big files one after another.", usage=usage)
        self.step += 1
        if self.step % (self.steps_per_turn + 1) == 0:
            return ModelReply("Done with this batch.", usage=usage)
        path = next(self.plan)
        if self.step % 5 == 0:
            name = f"notes_{self.step}.txt"
            return text_call("write_file", usage, path=name, content=f"step {self.step}\n")
        return text_call("read_file", usage, path=path, start=1 + self.step % 3, end=400)


def text_call(name: str, usage: Usage, **args) -> ModelReply:
    return ModelReply(
        json.dumps({"name": name, "args": args}).join(("<tool>", "</tool>")), usage=usage
    )


def big_files(repo: Path, count: int = 6) -> list[str]:
    names = []
    for n in range(count):
        name = f"big_{n}.py"
        body = "".join(
            f"value_{n}_{i} = {i}  # a long-ish line of generated code here\n" for i in range(400)
        )
        (repo / name).write_text(body)
        names.append(name)
    return names


def run_long_session(repo: Path, summaries_fail: bool) -> tuple[Run, LongSession]:
    model = LongSession(big_files(repo), steps_per_turn=15, summaries_fail=summaries_fail)
    # Text mode, so the test's tokenizer sees everything the server would (no tools JSON).
    run = Run(
        repo,
        [model] * 200,
        tool_mode="text",
        num_ctx=NUM_CTX,
        max_new_tokens=MAX_NEW,
        max_steps=20,
    )
    for turn in range(4):
        request = (
            "Survey the big files and note what you find." if turn == 0 else f"Go on ({turn})."
        )
        assert run.ask(request) == "Done with this batch."
    return run, model


def test_sixty_steps_with_big_outputs_stay_within_the_window(repo: Path):
    run, model = run_long_session(repo, summaries_fail=False)
    assert model.step >= 60
    assert max(model.sizes) <= NUM_CTX - MAX_NEW, "every prompt left room for the reply"
    compactions = [e for e in run.events if isinstance(e, Notice) and "compacted" in e.message]
    assert len(compactions) >= 3
    assert all("written by the model" in e.message for e in compactions)

    last = run.last_messages()
    summary = last[1]["content"]
    assert summary.startswith(HEADER) and "Summary: reading big files" in summary
    assert "Survey the big files" in summary, "the task survives compaction"
    for n in range(6):
        assert f"big_{n}.py" in summary, "the files touched survive compaction"
    assert "notes_5.txt (written)" in summary


def test_compaction_falls_back_when_the_model_cannot_summarise(repo: Path):
    run, model = run_long_session(repo, summaries_fail=True)
    assert max(model.sizes) <= NUM_CTX - MAX_NEW
    notices = [e.message for e in run.events if isinstance(e, Notice)]
    assert any("built from the session record" in m for m in notices)
    summary = run.last_messages()[1]["content"]
    assert "Task: Survey the big files" in summary
    assert "big_3.py: read" in summary


def test_requests_only_append_between_compactions_and_resume_matches(repo: Path):
    run, _model = run_long_session(repo, summaries_fail=False)
    requests = [
        r["messages"]
        for r in run.model.requests
        if not r["messages"][-1]["content"].startswith(SUMMARY_REQUEST)
    ]
    breaks = 0
    for before, after in itertools.pairwise(requests):
        if after[: len(before)] != before:
            breaks += 1
            assert after[1]["content"].startswith(HEADER), "only compaction rewrites history"
    assert breaks >= 3

    session = run.runtime.session.path.read_text()
    assert session.count('"type": "compaction"') == breaks
    resumed = Run(
        repo, ["ok"], resume="latest", tool_mode="auto", num_ctx=NUM_CTX, max_new_tokens=MAX_NEW
    )
    assert resumed.agent.conversation.messages == run.agent.conversation.messages
    resumed.ask("and now?")
    first = resumed.model.requests[0]["messages"]
    assert first[: len(run.agent.conversation.messages)] == run.agent.conversation.messages
    assert "big_0.py" in first[-1]["content"], "working memory survives resume too"


def test_silent_truncation_is_warned_once_and_compacted(repo: Path):
    big = big_files(repo, 1)
    cut = Usage(prompt_tokens=NUM_CTX // 4 + 10)  # far less than the ~4,500 tokens sent
    steps = [
        reply(call("read_file", path=big[0], end=400)),
        ModelReply("first done", usage=cut),
        ModelReply("second done", usage=cut),  # no summary is asked of a model that was cut
    ]
    run = Run(repo, steps, num_ctx=NUM_CTX, max_new_tokens=MAX_NEW)
    run.ask("read it")
    warnings = [e.message for e in run.events if isinstance(e, Notice) and "cut" in e.message]
    assert len(warnings) == 1 and "num_ctx 8192" in warnings[0]
    run.ask("again")
    notices = [e.message for e in run.events if isinstance(e, Notice)]
    assert any("compacted" in m and "session record" in m for m in notices)
    assert len([m for m in notices if "cut" in m]) == 1, "warned once"
    assert run.model.requests[-1]["messages"][1]["content"].startswith(HEADER)


def test_compact_on_request_with_a_focus(repo: Path):
    run = Run(repo, [reply(call("read_file", path="app.py")), "read it", "SUMMARY", "fine"])
    run.ask("look at app.py")
    assert run.agent.compact("the add function", keep_recent=False)
    ask = run.model.requests[-1]["messages"][-1]["content"]
    assert ask.startswith(SUMMARY_REQUEST) and ask.endswith("the add function")
    assert run.agent.conversation.messages[1]["content"].startswith(HEADER)
    assert "SUMMARY" in run.agent.conversation.messages[1]["content"]
    assert len(run.agent.conversation.messages) == 2
    fresh = Run(repo, []).agent
    assert not fresh.compact(keep_recent=False), "a fresh conversation has nothing to compact"


def read_results(run: Run) -> list[str]:
    return [
        e.output for e in run.events if isinstance(e, ToolFinished) and e.call.name == "read_file"
    ]


def test_rereading_an_unchanged_file_is_short_until_it_changes(repo: Path):
    read = reply(call("read_file", path="app.py"))
    run = Run(
        repo,
        [
            read,
            reply(call("list_files")),
            read,  # unchanged: short
            reply(call("patch_file", path="app.py", old_text="a + b", new_text="b + a")),
            read,  # patched: full
            reply(call("run_shell", command="echo '# more' >> app.py")),
            read,  # changed by the shell: full
            reply(call("list_files", path=".")),
            read,  # unchanged again: short
            "done",
        ],
        max_steps=20,
    )
    run.ask("read, change, read")
    results = read_results(run)
    full = [r.startswith("# app.py (lines") for r in results]
    assert full == [True, False, True, True, False]
    assert "unchanged since read_file call 1" in results[1]
    assert "b + a" in results[2] and "# more" in results[3]


def test_compaction_forgets_what_was_read(repo: Path):
    read = reply(call("read_file", path="app.py"))
    run = Run(repo, [read, "one", "SUMMARY", reply(call("list_files")), read, "two"])
    run.ask("first")
    run.agent.compact(keep_recent=False)
    run.ask("second")
    assert all(r.startswith("# app.py (lines") for r in read_results(run))
