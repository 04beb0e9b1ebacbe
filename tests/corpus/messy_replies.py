# ruff: noqa: E501  (replies are kept verbatim, long lines and all)
"""Messy replies from small local models asked to use the text tool protocol.

Each entry is written the way the named model family emits it (see PROTOCOLS.md, last
section): `text` is the reply verbatim, and either `calls` (name + args, in order) or
`final` is what the parser must understand. Used by tests/test_protocol.py and
bench/parser.py. Raw strings keep JSON escapes (\\n) as the model wrote them.
"""

TOOL_NAMES = [
    "list_files",
    "read_file",
    "search",
    "run_shell",
    "write_file",
    "patch_file",
    "delegate",
]


def call(name, **args):
    return {"name": name, "args": args}


REPLIES = [
    # --- the protocol as taught, with the usual noise around it ---
    {
        "id": "prose-before-call",
        "model": "qwen2.5-coder:1.5b",
        "text": """I'll start by reading the main module to understand the structure.

<tool>{"name": "read_file", "args": {"path": "src/app.py"}}</tool>""",
        "calls": [call("read_file", path="src/app.py")],
    },
    {
        "id": "fence-inside-tool",
        "model": "qwen2.5-coder:3b",
        "text": """<tool>
```json
{"name": "list_files", "args": {"path": "."}}
```
</tool>""",
        "calls": [call("list_files", path=".")],
    },
    {
        "id": "fence-around-whole-json-call",
        "model": "qwen2.5-coder:7b",
        "text": """Let me search for the function definition.

```
<tool>{"name": "search", "args": {"pattern": "def binary_search", "path": "."}}</tool>
```""",
        "calls": [call("search", pattern="def binary_search", path=".")],
    },
    {
        "id": "fence-around-whole-xml-call",
        "model": "qwen2.5-coder:7b",
        "text": """```xml
<tool name="write_file" path="hello.py"><content>
def main():
    print("Hello, world!")


if __name__ == "__main__":
    main()
</content></tool>
```""",
        "calls": [
            call(
                "write_file",
                path="hello.py",
                content='def main():\n    print("Hello, world!")\n\n\n'
                'if __name__ == "__main__":\n    main()',
            )
        ],
    },
    {
        "id": "missing-closing-tag",
        "model": "llama3.2:3b",
        "text": """<tool>{"name": "list_files", "args": {"path": "tests"}}""",
        "calls": [call("list_files", path="tests")],
    },
    {
        "id": "missing-closing-brace",
        "model": "qwen2.5-coder:1.5b",
        "text": """<tool>{"name":"read_file","args":{"path":"README.md","start":1,"end":80}</tool>""",
        "calls": [call("read_file", path="README.md", start=1, end=80)],
    },
    {
        "id": "extra-closing-brace",
        "model": "smollm2:1.7b",
        "text": """<tool>{"name": "read_file", "args": {"path": "setup.cfg"}}}</tool>""",
        "calls": [call("read_file", path="setup.cfg")],
    },
    # --- argument keys and encodings ---
    {
        "id": "arguments-key",
        "model": "qwen2.5-coder:3b",
        "text": """<tool>{"name": "run_shell", "arguments": {"command": "python -m pytest -q"}}</tool>""",
        "calls": [call("run_shell", command="python -m pytest -q")],
    },
    {
        "id": "parameters-key",
        "model": "llama3.2:3b",
        "text": """<tool>{"name": "search", "parameters": {"pattern": "TODO", "path": "src"}}</tool>""",
        "calls": [call("search", pattern="TODO", path="src")],
    },
    {
        "id": "input-key",
        "model": "phi3.5:3.8b",
        "text": """I need to see the file first.
<tool>{"name": "read_file", "input": {"path": "package.json"}}</tool>""",
        "calls": [call("read_file", path="package.json")],
    },
    {
        "id": "arguments-as-json-string",
        "model": "qwen2.5-coder:7b",
        "text": r"""<tool>{"name": "read_file", "arguments": "{\"path\": \"lib/utils.js\", \"start\": 10, \"end\": 60}"}</tool>""",
        "calls": [call("read_file", path="lib/utils.js", start=10, end=60)],
    },
    {
        "id": "single-quoted-json",
        "model": "mistral:7b",
        "text": """<tool>{'name': 'read_file', 'args': {'path': 'utils.py'}}</tool>""",
        "calls": [call("read_file", path="utils.py")],
    },
    {
        "id": "trailing-commas",
        "model": "llama3.2:3b",
        "text": """<tool>
{
  "name": "run_shell",
  "args": {
    "command": "npm test",
    "timeout": 60,
  },
}
</tool>""",
        "calls": [call("run_shell", command="npm test", timeout=60)],
    },
    {
        "id": "raw-newlines-in-json-string",
        "model": "qwen2.5-coder:3b",
        "text": """<tool>{"name": "write_file", "args": {"path": "calc.py", "content": "def add(a, b):
    return a + b


def sub(a, b):
    return a - b
"}}</tool>""",
        "calls": [
            call(
                "write_file",
                path="calc.py",
                content="def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n",
            )
        ],
    },
    {
        "id": "raw-tabs-in-json-string",
        "model": "qwen2.5-coder:1.5b",
        "text": '<tool>{"name": "write_file", "args": {"path": "Makefile", "content": "test:\n'
        '\tpytest -q\n\nlint:\n\truff check .\n"}}</tool>',
        "calls": [
            call(
                "write_file",
                path="Makefile",
                content="test:\n\tpytest -q\n\nlint:\n\truff check .\n",
            )
        ],
    },
    {
        "id": "python-literals",
        "model": "smollm2:1.7b",
        "text": """<tool>{'name': 'list_files', 'args': {'path': '.', 'recursive': True, 'limit': None}}</tool>""",
        "calls": [call("list_files", path=".", recursive=True, limit=None)],
    },
    {
        "id": "unescaped-inner-quotes",
        "model": "qwen2.5-coder:1.5b",
        "text": r"""<tool>{"name": "write_file", "args": {"path": "hi.py", "content": "print("hello")\n"}}</tool>""",
        "calls": [call("write_file", path="hi.py", content='print("hello")\n')],
    },
    {
        "id": "invalid-escape-in-regex",
        "model": "llama3.2:3b",
        "text": r"""<tool>{"name": "search", "args": {"pattern": "def test_\w+\(", "path": "tests"}}</tool>""",
        "calls": [call("search", pattern=r"def test_\w+\(", path="tests")],
    },
    {
        "id": "args-null",
        "model": "qwen2.5-coder:1.5b",
        "text": """<tool>{"name": "list_files", "args": null}</tool>""",
        "calls": [call("list_files")],
    },
    # --- other families' native dialects, written as text ---
    {
        "id": "qwen-tool-call",
        "model": "qwen2.5-coder:7b",
        "text": """<tool_call>
{"name": "read_file", "arguments": {"path": "pyproject.toml"}}
</tool_call>""",
        "calls": [call("read_file", path="pyproject.toml")],
    },
    {
        "id": "qwen-tool-call-unclosed",
        "model": "qwen2.5:3b",
        "text": """Sure, let me check the tests.
<tool_call>
{"name": "run_shell", "arguments": {"command": "pytest tests/test_calc.py -q"}}""",
        "calls": [call("run_shell", command="pytest tests/test_calc.py -q")],
    },
    {
        "id": "qwen3-coder-function-block",
        "model": "qwen3-coder:30b",
        "text": """<tool_call>
<function=write_file>
<parameter=path>
calc.py
</parameter>
<parameter=content>
def add(a, b):
    return a + b

</parameter>
</function>
</tool_call>""",
        "calls": [call("write_file", path="calc.py", content="def add(a, b):\n    return a + b\n")],
    },
    {
        "id": "qwen3-coder-no-wrapper-missing-parameter-close",
        "model": "qwen3-coder:30b",
        "text": """I'll run the test suite now.

<function=run_shell>
<parameter=command>
python -m pytest -x -q
<parameter=timeout>
120
</function>""",
        "calls": [call("run_shell", command="python -m pytest -x -q", timeout="120")],
    },
    {
        "id": "qwen3-coder-patch",
        "model": "qwen3-coder:30b",
        "text": """<tool_call>
<function=patch_file>
<parameter=path>
calc.py
</parameter>
<parameter=old_text>
    return a + b
</parameter>
<parameter=new_text>
    return int(a) + int(b)
</parameter>
</function>
</tool_call>""",
        "calls": [
            call(
                "patch_file",
                path="calc.py",
                old_text="    return a + b",
                new_text="    return int(a) + int(b)",
            )
        ],
    },
    {
        "id": "llama31-function-equals-json",
        "model": "llama3.1:8b",
        "text": """<function=read_file>{"path": "src/index.ts"}</function>""",
        "calls": [call("read_file", path="src/index.ts")],
    },
    {
        "id": "openai-style-type-function",
        "model": "qwen2.5-coder:3b",
        "text": r"""```json
{"type": "function", "function": {"name": "read_file", "arguments": "{\"path\": \"app.js\"}"}}
```""",
        "calls": [call("read_file", path="app.js")],
    },
    {
        "id": "hermes-function-wrapper-in-tool-call",
        "model": "hermes3:3b",
        "text": """<tool_call>
{"function": {"name": "list_files", "arguments": {"path": "src"}}}
</tool_call>""",
        "calls": [call("list_files", path="src")],
    },
    {
        "id": "openai-tool-calls-message",
        "model": "phi4-mini:3.8b",
        "text": """{"tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "search", "arguments": {"pattern": "import requests"}}}]}""",
        "calls": [call("search", pattern="import requests")],
    },
    {
        "id": "flat-tool-key",
        "model": "llama3.2:3b",
        "text": """<tool>{"tool": "read_file", "path": "main.go"}</tool>""",
        "calls": [call("read_file", path="main.go")],
    },
    {
        "id": "flat-name-bare-json",
        "model": "llama3.2:1b",
        "text": """{"name": "list_files", "path": "src"}""",
        "calls": [call("list_files", path="src")],
    },
    {
        "id": "llama-bare-json-parameters",
        "model": "llama3.2:3b",
        "text": """{"type": "function", "name": "read_file", "parameters": {"path": "config.yaml"}}""",
        "calls": [call("read_file", path="config.yaml")],
    },
    {
        "id": "fenced-bare-json",
        "model": "qwen2.5-coder:1.5b",
        "text": """To find where the error is raised, I will search the code:

```json
{
    "name": "search",
    "arguments": {
        "pattern": "raise ValueError"
    }
}
```""",
        "calls": [call("search", pattern="raise ValueError")],
    },
    {
        "id": "tool-name-as-key",
        "model": "smollm2:1.7b",
        "text": """<tool>{"read_file": {"path": "index.html"}}</tool>""",
        "calls": [call("read_file", path="index.html")],
    },
    {
        "id": "mistral-tool-calls-list",
        "model": "mistral:7b",
        "text": """[TOOL_CALLS] [{"name": "read_file", "arguments": {"path": "main.rs"}}]""",
        "calls": [call("read_file", path="main.rs")],
    },
    {
        "id": "mistral-tool-calls-args-marker",
        "model": "mistral-nemo:12b",
        "text": """[TOOL_CALLS]run_shell[ARGS]{"command": "cargo test"}""",
        "calls": [call("run_shell", command="cargo test")],
    },
    {
        "id": "mistral-tool-calls-object",
        "model": "mistral:7b",
        "text": """[TOOL_CALLS] {"name": "list_files", "arguments": {"path": "."}}</s>""",
        "calls": [call("list_files", path=".")],
    },
    {
        "id": "llama-python-tag",
        "model": "llama3.1:8b",
        "text": """<|python_tag|>{"name": "search", "parameters": {"pattern": "def main"}}<|eom_id|>""",
        "calls": [call("search", pattern="def main")],
    },
    {
        "id": "llama-python-tag-two-calls",
        "model": "llama3.1:8b",
        "text": """<|python_tag|>{"name": "read_file", "parameters": {"path": "a.py"}}; {"name": "read_file", "parameters": {"path": "b.py"}}""",
        "calls": [call("read_file", path="a.py"), call("read_file", path="b.py")],
    },
    {
        "id": "llama32-pythonic-list",
        "model": "llama3.2:3b",
        "text": """[read_file(path="config.yaml", start=1, end=40)]""",
        "calls": [call("read_file", path="config.yaml", start=1, end=40)],
    },
    {
        "id": "two-objects-in-one-tool-call",
        "model": "qwen2.5:7b",
        "text": """<tool_call>
{"name": "read_file", "arguments": {"path": "models.py"}}
{"name": "read_file", "arguments": {"path": "views.py"}}
</tool_call>""",
        "calls": [call("read_file", path="models.py"), call("read_file", path="views.py")],
    },
    {
        "id": "fenced-pythonic-call",
        "model": "qwen2.5-coder:0.5b",
        "text": """```python
read_file(path="requirements.txt")
```""",
        "calls": [call("read_file", path="requirements.txt")],
    },
    {
        "id": "smollm2-tool-call-list",
        "model": "smollm2:1.7b",
        "text": """<tool_call>[{"name": "list_files", "arguments": {"path": "."}}]</tool_call>""",
        "calls": [call("list_files", path=".")],
    },
    {
        "id": "phi4-functools",
        "model": "phi4-mini:3.8b",
        "text": """functools[{"name": "read_file", "arguments": {"path": "index.html"}}]""",
        "calls": [call("read_file", path="index.html")],
    },
    {
        "id": "granite-tool-call-token",
        "model": "granite3.1-dense:2b",
        "text": """<|tool_call|>[{"name": "search", "arguments": {"pattern": "class User"}}]""",
        "calls": [call("search", pattern="class User")],
    },
    {
        "id": "cline-style-tool-name-tag",
        "model": "qwen2.5-coder:7b",
        "text": """I need to look at the entry point first.

<read_file>
<path>src/main.py</path>
</read_file>""",
        "calls": [call("read_file", path="src/main.py")],
    },
    {
        "id": "pythonic-inside-tool-tag",
        "model": "phi3:3.8b",
        "text": """<tool>run_shell(command="ls -la")</tool>""",
        "calls": [call("run_shell", command="ls -la")],
    },
    # --- several calls, premature finals, invented results ---
    {
        "id": "two-json-calls",
        "model": "qwen2.5-coder:7b",
        "text": """I'll read both files.
<tool>{"name": "read_file", "args": {"path": "calc.py"}}</tool>
<tool>{"name": "read_file", "args": {"path": "test_calc.py"}}</tool>""",
        "calls": [call("read_file", path="calc.py"), call("read_file", path="test_calc.py")],
    },
    {
        "id": "two-qwen-tool-calls",
        "model": "qwen2.5:7b",
        "text": """<tool_call>
{"name": "search", "arguments": {"pattern": "TODO"}}
</tool_call>
<tool_call>
{"name": "search", "arguments": {"pattern": "FIXME"}}
</tool_call>""",
        "calls": [call("search", pattern="TODO"), call("search", pattern="FIXME")],
    },
    {
        "id": "call-then-premature-final",
        "model": "llama3.2:3b",
        "text": """<tool>{"name": "run_shell", "args": {"command": "pytest -q"}}</tool>
<final>All tests pass.</final>""",
        "calls": [call("run_shell", command="pytest -q")],
    },
    {
        "id": "call-then-invented-result",
        "model": "qwen2.5-coder:1.5b",
        "text": """<tool>{"name": "read_file", "args": {"path": "app.py"}}</tool>
<tool_result name="read_file">
def add(a, b):
    return a + b
</tool_result>
<final>The file defines add().</final>""",
        "calls": [call("read_file", path="app.py")],
    },
    # --- the seed's XML form ---
    {
        "id": "xml-write-file",
        "model": "qwen2.5-coder:3b",
        "text": """<tool name="write_file" path="binary_search.py"><content>
def binary_search(nums, target):
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
</content></tool>""",
        "calls": [
            call(
                "write_file",
                path="binary_search.py",
                content="def binary_search(nums, target):\n"
                "    lo, hi = 0, len(nums) - 1\n"
                "    while lo <= hi:\n"
                "        mid = (lo + hi) // 2\n"
                "        if nums[mid] == target:\n"
                "            return mid\n"
                "\n"
                "        if nums[mid] < target:\n"
                "            lo = mid + 1\n"
                "        else:\n"
                "            hi = mid - 1\n"
                "    return -1",
            )
        ],
    },
    {
        "id": "xml-write-file-keeps-extra-newlines",
        "model": "qwen2.5-coder:7b",
        "text": """<tool name="write_file" path="notes.md"><content>

# Notes

</content></tool>""",
        "calls": [call("write_file", path="notes.md", content="\n# Notes\n")],
    },
    {
        "id": "xml-patch-file",
        "model": "qwen2.5-coder:7b",
        "text": """The bug is the return value. Fixing it:
<tool name="patch_file" path="binary_search.py"><old_text>    return -1</old_text><new_text>    return None</new_text></tool>""",
        "calls": [
            call(
                "patch_file",
                path="binary_search.py",
                old_text="    return -1",
                new_text="    return None",
            )
        ],
    },
    {
        "id": "xml-html-content-with-tags",
        "model": "qwen2.5-coder:3b",
        "text": """<tool name="write_file" path="index.html">
<content>
<!DOCTYPE html>
<html>
  <body><h1>Hello</h1></body>
</html>
</content>
</tool>""",
        "calls": [
            call(
                "write_file",
                path="index.html",
                content="<!DOCTYPE html>\n<html>\n  <body><h1>Hello</h1></body>\n</html>",
            )
        ],
    },
    {
        "id": "xml-single-quoted-attributes",
        "model": "mistral:7b",
        "text": """<tool name='read_file' path='src/db.py' start='40' end='90'></tool>""",
        "calls": [call("read_file", path="src/db.py", start="40", end="90")],
    },
    {
        "id": "xml-self-closing",
        "model": "llama3.2:3b",
        "text": """<tool name="list_files" path="src/components" />""",
        "calls": [call("list_files", path="src/components")],
    },
    {
        "id": "xml-missing-closing-tool",
        "model": "qwen2.5-coder:1.5b",
        "text": """<tool name="run_shell"><command>git diff --stat</command>""",
        "calls": [call("run_shell", command="git diff --stat")],
    },
    {
        "id": "xml-shell-command-with-angle-bracket",
        "model": "qwen2.5-coder:7b",
        "text": """<tool name="run_shell" command="python gen.py > out.txt && wc -l out.txt"></tool>""",
        "calls": [call("run_shell", command="python gen.py > out.txt && wc -l out.txt")],
    },
    {
        "id": "xml-json-body",
        "model": "phi3.5:3.8b",
        "text": """<tool name="read_file">{"path": "docs/index.md"}</tool>""",
        "calls": [call("read_file", path="docs/index.md")],
    },
    # --- thinking ---
    {
        "id": "think-closed-then-call",
        "model": "qwen3:4b",
        "text": """<think>
The user wants the failing test fixed. I should read the test file first, using the
<tool> call for read_file.
</think>

<tool>{"name": "read_file", "args": {"path": "tests/test_api.py"}}</tool>""",
        "calls": [call("read_file", path="tests/test_api.py")],
    },
    {
        "id": "think-empty-then-final",
        "model": "qwen3:1.7b",
        "text": """<think>

</think>

<final>The function already handles empty lists, so no change is needed.</final>""",
        "final": "The function already handles empty lists, so no change is needed.",
    },
    {
        "id": "think-unclosed-then-call",
        "model": "deepseek-r1:1.5b",
        "text": """<think>
Okay, so I need to list the files to see the project layout. Let me do that.
<tool>{"name": "list_files", "args": {"path": "."}}</tool>""",
        "calls": [call("list_files", path=".")],
    },
    {
        "id": "stray-close-think",
        "model": "qwen3:4b",
        "text": """Okay, the user wants a README. Let me check what exists first.
</think>

<tool>{"name": "list_files", "args": {"path": "."}}</tool>""",
        "calls": [call("list_files", path=".")],
    },
    # --- final answers ---
    {
        "id": "plain-prose-final",
        "model": "llama3.2:3b",
        "text": """The `add` function in calc.py returns the sum of its two arguments.
It does not validate types.
""",
        "final": "The `add` function in calc.py returns the sum of its two arguments.\n"
        "It does not validate types.",
    },
    {
        "id": "prose-then-final",
        "model": "qwen2.5-coder:3b",
        "text": """All done!
<final>Added `is_even` to utils.py and a test in tests/test_utils.py; pytest passes.</final>""",
        "final": "Added `is_even` to utils.py and a test in tests/test_utils.py; pytest passes.",
    },
    {
        "id": "final-keeps-code-fence",
        "model": "qwen2.5-coder:7b",
        "text": """<final>Use it like this:

```python
from calc import add
print(add(1, 2))
```
</final>""",
        "final": "Use it like this:\n\n```python\nfrom calc import add\nprint(add(1, 2))\n```",
    },
    {
        "id": "prose-final-with-non-call-json",
        "model": "mistral:7b",
        "text": """Your package.json should contain a test script:

```json
{"name": "my-app", "scripts": {"test": "jest"}}
```

Then run `npm test`.""",
        "final": """Your package.json should contain a test script:

```json
{"name": "my-app", "scripts": {"test": "jest"}}
```

Then run `npm test`.""",
    },
    {
        "id": "final-unclosed",
        "model": "smollm2:1.7b",
        "text": """<final>The bug was an off-by-one in the loop bound; fixed in search.py.""",
        "final": "The bug was an off-by-one in the loop bound; fixed in search.py.",
    },
    # --- unknown tools are still calls (the agent answers "unknown tool") ---
    {
        "id": "unknown-tool-name",
        "model": "qwen2.5-coder:1.5b",
        "text": """<tool>{"name": "bash", "args": {"cmd": "ls -la"}}</tool>""",
        "calls": [call("bash", cmd="ls -la")],
    },
    {
        "id": "functions-prefix",
        "model": "gpt-oss:20b",
        "text": """{"name": "functions.read_file", "arguments": {"path": "go.mod"}}""",
        "calls": [call("read_file", path="go.mod")],
    },
]
