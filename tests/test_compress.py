"""Reducers, content detection, the stream pipeline and its guarantee (property tests)."""

from __future__ import annotations

import itertools
import json
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codex_router.prompt import sections
from codex_router.prompt.clean import clean_line
from codex_router.prompt.compress import CompressionResult, compress_stream, compress_text
from codex_router.prompt.reducers import (
    family_marker,
    fold_frames,
    fold_python_traceback,
    template_key,
    varying_fields,
)
from codex_router.prompt.sections import (
    fence_closes,
    fence_open,
    frame_kind,
    has_location,
    hunk_sizes,
    is_code_like,
    is_error_line,
    is_passing_test,
    is_progress,
    is_vcs_meta,
)

from helpers.corpus import corpus_files

words = lambda s: len(s.split())  # noqa: E731 - deterministic fake token counter


def out_lines(text: str) -> list[str]:
    return compress_text(text).text.split("\n")


# ------------------------------------------------------------------ detection tables
DETECT = [
    ("error_word", is_error_line, "2024-01-01 ERROR something broke", True),
    ("fail_word", is_error_line, "--- FAIL: TestX (0.00s)", True),
    ("warning_diag", is_error_line, "src/a.c:3:1: warning: unused variable 'x'", True),
    ("rust_warning_code", is_error_line, "warning[E0599]: no method", True),
    ("jest_failure_glyph", is_error_line, "  ✕ renders the page (12 ms)", True),
    ("tap_not_ok", is_error_line, "not ok 3 - parses input", True),
    ("info_line", is_error_line, "INFO all good", False),
    ("loc_path", has_location, "src/main.rs:4:5", True),
    ("loc_python", has_location, 'File "/x/y.py", line 3, in f', True),
    ("loc_rustc_arrow", has_location, "  --> src/lib.rs:10:2", True),
    ("loc_time_is_not", has_location, "at 12:30:01 done", False),
    (
        "pass_pytest_v",
        is_passing_test,
        "tests/test_a.py::test_x PASSED                    [ 10%]",
        True,
    ),
    (
        "pass_pytest_dots",
        is_passing_test,
        "tests/test_a.py ....s..                          [ 40%]",
        True,
    ),
    (
        "pass_pytest_dots_with_F",
        is_passing_test,
        "tests/test_a.py ..F..                           [ 40%]",
        False,
    ),
    ("pass_go_run", is_passing_test, "=== RUN   TestParse", True),
    ("pass_go_pass", is_passing_test, "--- PASS: TestParse (0.00s)", True),
    ("pass_cargo", is_passing_test, "test parser::tests::empty ... ok", True),
    ("pass_cargo_failed", is_passing_test, "test parser::tests::empty ... FAILED", False),
    ("pass_jest", is_passing_test, "  ✓ adds numbers (3 ms)", True),
    (
        "progress_pip_bar",
        is_progress,
        "   ━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━ 1.2/1.2 MB 5.6 MB/s eta 0:00:00",
        True,
    ),
    ("progress_tqdm", is_progress, "100%|██████████| 100/100 [00:10<00:00,  9.98it/s]", True),
    ("progress_percent", is_progress, "45%", True),
    ("progress_spinner", is_progress, "⠙ idealTree: timing arborist", True),
    ("progress_maven", is_progress, "Progress (1): 2.3/4.5 kB", True),
    ("progress_not_prose", is_progress, "We grew 45% last year, said the CEO.", False),
    ("code_brace", is_code_like, "    if (x) {", True),
    ("code_def", is_code_like, "def main():", True),
    ("code_log_is_not", is_code_like, "[INFO] Building:", False),
    ("code_prose_is_not", is_code_like, "The build worked fine", False),
]


@pytest.mark.parametrize(
    ("fn", "line", "expected"), [c[1:] for c in DETECT], ids=[c[0] for c in DETECT]
)
def test_detection(fn, line: str, expected: bool) -> None:
    assert fn(line) is expected


FRAMES = [
    ("py_app", '  File "/home/u/app/x.py", line 3, in f', ("python", False)),
    (
        "py_lib",
        '  File "/usr/lib/python3.11/site-packages/req/api.py", line 3, in f',
        ("python", True),
    ),
    ("java_lib", "\tat java.base/java.io.File.open(File.java:12)", ("java", True)),
    ("java_app", "\tat com.acme.Main.main(Main.java:12)", ("java", False)),
    ("js_lib", "    at Module._compile (node:internal/modules/cjs/loader:1105:14)", ("js", True)),
    ("js_app", "    at handler (/srv/app/index.js:10:5)", ("js", False)),
    ("go_lib", "\t/usr/local/go/src/runtime/panic.go:884 +0x213", ("go", True)),
    ("go_app", "\t/home/u/proj/main.go:12 +0x1d", ("go", False)),
    ("rust_lib", "   3: std::panicking::begin_panic", ("rust", True)),
    ("not_a_frame", "    just indented text", None),
]


@pytest.mark.parametrize(("line", "expected"), [c[1:] for c in FRAMES], ids=[c[0] for c in FRAMES])
def test_frame_kind(line: str, expected) -> None:
    assert frame_kind(line) == expected


def test_fence_and_hunk_helpers() -> None:
    assert fence_open("```python") == "```"
    assert fence_open("~~~~") == "~~~~"
    assert fence_open("```a```") is None
    assert fence_closes("```", "```") and fence_closes("`````", "```")
    assert not fence_closes("~~~", "```") and not fence_closes("```py", "```")
    assert hunk_sizes("@@ -1,3 +1,4 @@ def f():") == (3, 4)
    assert hunk_sizes("@@ -7 +7 @@") == (1, 1)


# ------------------------------------------------------------------ reducer units
TEMPLATES = [
    ("numbers", "took 12 ms on node 3", "took 999 ms on node 17"),
    ("ip_port", "conn from 10.0.0.1:443", "conn from 192.168.1.20:8080"),
    ("hash_ids", "blk_-123 stored", "blk_98765 stored"),
    ("path", "Compiling src/a/b.c", "Compiling lib/x.c"),
    ("kv_value_only", "uid=0 euid=0", "uid=1000 euid=1000"),
]


@pytest.mark.parametrize(("a", "b"), [c[1:] for c in TEMPLATES], ids=[c[0] for c in TEMPLATES])
def test_template_key_same_family(a: str, b: str) -> None:
    assert template_key(a) == template_key(b)


def test_template_key_keeps_words() -> None:
    assert template_key("user alice logged in") != template_key("user alice logged out")
    assert template_key("uid=0") != template_key("pid=0")


def test_varying_fields_and_marker() -> None:
    first, last = "req 17 from 10.0.0.1 ok", "req 95 from 10.0.0.1 ok"
    assert varying_fields(first, last) == [("17", "95")]
    assert family_marker(41, first, last) == "[+41 similar: 17…95]"
    assert family_marker(3, "  a 1", "  a 2", block=2) == "  [+3 similar ×2 lines above: 1…2]"


def test_fold_frames_keeps_first_app_last_and_error_frames() -> None:
    run = [
        "\tat org.apache.a.A.x(A.java:1)",
        "\tat org.apache.a.B.x(B.java:2)",
        "\tat org.apache.a.C.x(C.java:3)",
        "\tat org.apache.a.D.x(D.java:4)",
        "\tat com.acme.Main.run(Main.java:5)",
        "\tat org.apache.a.E.x(E.java:6)",
        "\tat org.apache.a.F.x(F.java:7)",
        "\tat org.apache.a.G.x(G.java:8)",
    ]
    out, folded = fold_frames(run)
    assert out[0] == run[0] and out[-1] == run[-1] and run[4] in out
    assert folded == 5 and sum("library frames folded" in ln for ln in out) == 2


def test_fold_frames_protects_frame_after_error_frame() -> None:
    run = [
        "\tat org.junit.Assert.fail(Assert.java:88)",
        "\tat org.junit.Assert.x(Assert.java:41)",
        "\tat org.junit.Y.z(Y.java:1)",
        "\tat org.junit.Y.w(Y.java:2)",
        "\tat org.junit.Y.v(Y.java:3)",
        "\tat org.junit.Y.u(Y.java:4)",
    ]
    out, _ = fold_frames(run)
    assert run[0] in out and run[1] in out


def test_fold_python_traceback_keeps_tail_and_app_frames() -> None:
    lib = '  File "/usr/lib/python3/site-packages/lib/m.py", line {n}, in f{n}'
    block = [
        "Traceback (most recent call last):",
        '  File "/app/main.py", line 1, in <module>',
        "    run()",
    ]
    for n in range(6):
        block += [lib.format(n=n), f"    call{n}()"]
    block += [
        '  File "/app/core.py", line 9, in g',
        "    h()",
        lib.format(n=99),
        "    boom()",
        "ValueError: bad",
    ]
    out, folded = fold_python_traceback(block)
    assert out[:3] == block[:3]
    assert out[-5:] == block[-5:]
    assert lib.format(n=0) not in out  # library frames between two app frames fold
    assert folded > 0 and any("library frames folded" in ln for ln in out)


# ------------------------------------------------------------------ pipeline cases
CODE = """Here is the file:

```python
def f(x):  \x20
    return x + 1\t
def f(x):  \x20
    return x + 1\t
value_1 = 1
value_2 = 2
value_3 = 3


print("\\x1b[31m")
```
~~~
ERROR inside tilde fence 1
ERROR inside tilde fence 1
~~~
"""

DIFF = """diff --git a/src/a.py b/src/a.py
index 1111111..2222222 100644
--- a/src/a.py
+++ b/src/a.py
@@ -1,6 +1,7 @@
 line_1 = 1  \x20
-line_2 = 2
+line_2 = 20
+line_2b = 21
 line_3 = 3
 line_4 = 4
\x20
 line_6 = 6
"""


def test_code_fences_are_byte_identical() -> None:
    out = compress_text(CODE).text
    assert CODE in out


def test_code_fence_crlf_is_normalised_only() -> None:
    text = "```\r\nx = 1   \r\nx = 1   \r\n```\r\n"
    assert compress_text(text).text == text.replace("\r\n", "\n")


def test_unified_diff_is_byte_identical() -> None:
    out = compress_text(DIFF + "done\n").text
    assert DIFF in out


def test_diff_hunk_lines_repeated_with_numbers_not_folded() -> None:
    body = "".join(f"+entry_{i} = {i}\n" for i in range(50))
    diff = f"--- a/x\n+++ b/x\n@@ -0,0 +1,50 @@\n{body}"
    assert diff in compress_text(diff + "end\n").text


PIPE_CASES = [
    (
        "repeated_lines_fold_with_count",
        "".join("INFO heartbeat ok\n" for _ in range(30)) + "done\n",
        ["INFO heartbeat ok", "[+29 similar]", "done"],
        ["INFO heartbeat ok\nINFO heartbeat ok"],
    ),
    (
        "number_variants_fold_with_range",
        "".join(
            f"2024-05-01 10:00:{i:02d} INFO served request {100 + i} in {i + 3} ms\n"
            for i in range(20)
        )
        + "bye\n",
        [
            "2024-05-01 10:00:00 INFO served request 100 in 3 ms",
            "[+19 similar: 10:00:00…10:00:19, 100…119, 3…22]",
        ],
        ["request 105 "],
    ),
    (
        "repeated_block_one_marker",
        "".join(f"step {i} start\nstep {i} end\n" for i in range(10)) + "fin\n",
        ["step 0 start", "step 0 end", "[+9 similar ×2 lines above: 0…9]"],
        [],
    ),
    (
        "errors_all_verbatim",
        "".join(f"ERROR job {i} failed\n" for i in range(5)) + "ok\n",
        [f"ERROR job {i} failed" for i in range(5)],
        [],
    ),
    (
        "identical_errors_counted",
        "ERROR: disk full\n" * 4 + "end\n",
        ["ERROR: disk full", "[+3 identical]"],
        [],
    ),
    (
        "progress_dropped",
        "Collecting x\n  50%|█████     | 5/10 [00:01<00:01]"
        "\r100%|██████████| 10/10 [00:02<00:00]\nInstalled x\n",
        ["Collecting x", "Installed x"],
        ["it/s", "10/10"],
    ),
    (
        "pip_bar_dropped",
        "Downloading numpy-2.0.whl (19.5 MB)\n"
        "\r   ━━━━━━━━━━━━━━━━━━━━ 19.5/19.5 MB 40.1 MB/s eta 0:00:00\nDone\n",
        ["Downloading numpy-2.0.whl (19.5 MB)", "Done"],
        ["━━"],
    ),
    (
        "last_line_kept_even_if_foldable",
        "".join(f"tick {i}\n" for i in range(10)),
        ["tick 0", "tick 9"],
        [],
    ),
    (
        "cargo_test_passes_collapsed",
        "running 5 tests\n"
        + "".join(f"test t::case_{i} ... ok\n" for i in range(4))
        + "test t::bad ... FAILED\n\ntest result: FAILED. 4 passed; 1 failed\n",
        [
            "[4 passing-test lines folded]",
            "test t::bad ... FAILED",
            "test result: FAILED. 4 passed; 1 failed",
        ],
        ["case_2"],
    ),
    (
        "jest",
        "PASS src/a.test.js\n  ✓ one (2 ms)\n  ✓ two (1 ms)\n  ✓ three\n"
        "FAIL src/b.test.js\n  ✕ breaks (5 ms)\n"
        "  ● breaks\n\n    expect(received).toBe(expected)\n\n"
        "      at Object.<anonymous> (src/b.test.js:4:17)\nTests: 1 failed, 3 passed\n",
        [
            "FAIL src/b.test.js",
            "  ✕ breaks (5 ms)",
            "  ● breaks",
            "      at Object.<anonymous> (src/b.test.js:4:17)",
        ],
        ["✓ two"],
    ),
    (
        "go_panic_goroutine",
        "panic: runtime error: index out of range [3] with length 3\n\n"
        "goroutine 1 [running]:\nmain.get(...)\n"
        "\t/home/u/p/main.go:8\nmain.main()\n\t/home/u/p/main.go:12 +0x1d\nexit status 2\n",
        [
            "panic: runtime error: index out of range [3] with length 3",
            "\t/home/u/p/main.go:8",
            "\t/home/u/p/main.go:12 +0x1d",
            "exit status 2",
        ],
        [],
    ),
    (
        "rust_backtrace",
        "thread 'main' panicked at src/main.rs:4:5:\nboom\nstack backtrace:\n"
        "   0: std::panicking::begin_panic\n"
        "             at /rustc/abc/library/std/src/panicking.rs:616:12\n"
        "   1: core::ops::function::FnOnce::call_once\n"
        "             at /rustc/abc/library/core/src/ops/function.rs:250:5\n"
        "   2: std::rt::lang_start::{{closure}}\n"
        "             at /rustc/abc/library/std/src/rt.rs:166:18\n"
        "   3: app::main\n             at ./src/main.rs:4:5\n"
        "   4: std::rt::lang_start\n             at /rustc/abc/library/std/src/rt.rs:165:17\n",
        [
            "thread 'main' panicked at src/main.rs:4:5:",
            "   3: app::main",
            "             at ./src/main.rs:4:5",
            "   4: std::rt::lang_start",
        ],
        [],
    ),
]


@pytest.mark.parametrize(
    ("text", "present", "absent"), [c[1:] for c in PIPE_CASES], ids=[c[0] for c in PIPE_CASES]
)
def test_pipeline(text: str, present: list[str], absent: list[str]) -> None:
    out = compress_text(text).text
    lines = out.split("\n")
    for p in present:
        assert p in lines, (p, out)
    for a in absent:
        assert a not in out, (a, out)


PY_TB = """Traceback (most recent call last):
  File "/home/u/app/main.py", line 10, in <module>
    main()
  File "/usr/lib/python3/site-packages/requests/api.py", line 73, in get
    return request("get", url)
  File "/usr/lib/python3/site-packages/requests/api.py", line 59, in request
    return session.request(method=method, url=url)
  File "/usr/lib/python3/site-packages/requests/sessions.py", line 589, in request
    resp = self.send(prep)
  File "/usr/lib/python3/site-packages/requests/sessions.py", line 703, in send
    r = adapter.send(request)
  File "/home/u/app/net.py", line 22, in hook
    raise RuntimeError("boom")
  File "/usr/lib/python3/site-packages/urllib3/pool.py", line 9, in x
    y()
RuntimeError: boom
"""


def test_python_traceback_library_frames_folded() -> None:
    lines = out_lines(PY_TB)
    src = PY_TB.splitlines()
    assert lines[:3] == src[:3]  # header and first (app) frame
    assert '  File "/home/u/app/net.py", line 22, in hook' in lines  # last app frame
    for tail in src[-5:]:
        assert tail in lines  # last five lines of the block
    assert any(ln.startswith("  [… ") and "library frames folded: requests" in ln for ln in lines)
    assert (
        '  File "/usr/lib/python3/site-packages/requests/api.py", line 59, in request' not in lines
    )


JAVA = """Exception in thread "main" java.lang.IllegalStateException: Failed to start
\tat org.springframework.boot.SpringApplication.run(SpringApplication.java:315)
\tat org.springframework.boot.SpringApplication.run(SpringApplication.java:1226)
\tat org.springframework.boot.SpringApplication.run(SpringApplication.java:1215)
\tat com.acme.shop.Main.main(Main.java:12)
Caused by: java.io.IOException: disk full
\tat java.base/java.io.FileOutputStream.writeBytes(Native Method)
\tat java.base/java.io.FileOutputStream.write(FileOutputStream.java:349)
\tat java.base/java.io.BufferedOutputStream.flushBuffer(BufferedOutputStream.java:81)
\tat java.base/java.io.BufferedOutputStream.flush(BufferedOutputStream.java:142)
\tat com.acme.shop.Store.save(Store.java:88)
\t... 3 more
Caused by: com.acme.shop.QuotaReached: over quota
\tat com.acme.shop.Quota.check(Quota.java:7)
"""


def test_java_caused_by_chain() -> None:
    lines = out_lines(JAVA)
    for keep in (
        'Exception in thread "main" java.lang.IllegalStateException: Failed to start',
        "Caused by: java.io.IOException: disk full",
        "Caused by: com.acme.shop.QuotaReached: over quota",
        "\tat com.acme.shop.Main.main(Main.java:12)",
        "\tat com.acme.shop.Store.save(Store.java:88)",
        "\tat org.springframework.boot.SpringApplication.run(SpringApplication.java:315)",
        "\tat java.base/java.io.FileOutputStream.writeBytes(Native Method)",
        "\t... 3 more",
        "\tat com.acme.shop.Quota.check(Quota.java:7)",
    ):
        assert keep in lines, keep
    assert "\t[… 3 library frames folded: java.io]" in lines
    assert (
        "\tat java.base/java.io.BufferedOutputStream.flushBuffer(BufferedOutputStream.java:81)"
        not in lines
    )


PYTEST = (
    "============================= test session starts ==============================\n"
    "collected 41 items\n\n"
    + "".join(
        f"tests/test_m{i}.py::test_c{j} PASSED                          [ {i * 10 + j:2d}%]\n"
        for i in range(4)
        for j in range(10)
    )
    + "tests/test_z.py ....                                              [ 98%]\n"
    + "tests/test_bad.py::test_bad FAILED                                [100%]\n\n"
    "=================================== FAILURES ===================================\n"
    "___________________________________ test_bad ___________________________________\n\n"
    "    def test_bad():\n>       assert 1 == 2\nE       assert 1 == 2\n\n"
    "tests/test_bad.py:3: AssertionError\n"
    "=========================== short test summary info ============================\n"
    "FAILED tests/test_bad.py::test_bad - assert 1 == 2\n"
    "========================= 1 failed, 44 passed in 0.12s =========================\n"
)


def test_pytest_passes_collapsed_failures_kept() -> None:
    lines = out_lines(PYTEST)
    assert "[41 passing-test lines folded]" in lines
    assert not any("PASSED" in ln for ln in lines)
    for keep in (
        "tests/test_bad.py::test_bad FAILED                                [100%]",
        "FAILED tests/test_bad.py::test_bad - assert 1 == 2",
        "tests/test_bad.py:3: AssertionError",
        ">       assert 1 == 2",
        "E       assert 1 == 2",
    ):
        assert keep in lines


GO_V = """=== RUN   TestA
--- PASS: TestA (0.00s)
=== RUN   TestB
    b_test.go:12: expected 3, got 4
--- FAIL: TestB (0.01s)
=== RUN   TestC
--- PASS: TestC (0.00s)
FAIL
FAIL\texample.com/pkg\t0.012s
"""


def test_go_test_verbose() -> None:
    lines = out_lines(GO_V)
    assert "[5 passing-test lines folded]" in lines
    for keep in (
        "    b_test.go:12: expected 3, got 4",
        "--- FAIL: TestB (0.01s)",
        "FAIL\texample.com/pkg\t0.012s",
    ):
        assert keep in lines


PROSE = """Please refactor the parser.

It should accept version 1 and version 2 files, and reject version 3.
Keep the public API stable; see docs/api.md for the contract.

Thanks!
"""


@pytest.mark.parametrize(
    "text",
    [PROSE, "one line, no newline", "def f(x):\n    return x\n\n\nclass A:\n    pass\n"],
    ids=["prose", "single_line", "unfenced_code"],
)
def test_prose_and_code_unchanged(text: str) -> None:
    out = compress_text(text).text
    expected = re.sub(r"\n{3,}", "\n\n", text)
    assert out == (expected if expected.endswith("\n") else expected + "\n")


def test_empty_input() -> None:
    res = compress_text("", count=words)
    assert isinstance(res, CompressionResult)
    assert res.text == "" and res.tokens_before == 0 and res.tokens_after == 0
    assert all(r.lines_removed == 0 for r in res.rules)


def test_report_is_stable_json_and_tokens_add_up_for_line_rules() -> None:
    text = "".join(f"INFO worker {i} ready\n" for i in range(50)) + "end\n"
    res = compress_text(text, count=words)
    d = res.to_dict()
    assert json.loads(json.dumps(d)) == d
    fam = next(r for r in res.rules if r.name == "line_families")
    assert fam.lines_removed == 48  # 49 folded lines, one marker line written
    assert fam.tokens_removed == 49 * 4 - words("[+49 similar: 0…49]")
    assert res.tokens_before == words(text) and res.tokens_after == words(res.text)


def test_compress_stream_accepts_file_like_lines_and_small_windows() -> None:
    text = "".join(f"INFO step {i}\n" for i in range(1000)) + "ERROR final\n"
    parts: list[str] = []
    rep = compress_stream(
        iter(text.splitlines(keepends=True)),
        parts.append,
        words,
        window={"max_entries": 8, "max_lines": 100},
    )
    out = "".join(parts)
    assert rep.lines_in == 1001 and "ERROR final\n" in out
    assert out.count("similar") == 10  # one family marker per window of 100 lines
    assert rep.tokens_before == words(text)


# ------------------------------------------------------------------ the guarantee, property-tested
_name = st.sampled_from(["api", "db", "worker", "cache", "auth", "sched"])
_num = st.integers(min_value=0, max_value=99999)


@st.composite
def log_line(draw) -> list[str]:
    kind = draw(st.integers(0, 15))
    n, m, who = draw(_num), draw(_num), draw(_name)
    if kind == 0:
        return [f"2024-01-0{n % 9 + 1} 10:{n % 60:02d}:{m % 60:02d} INFO {who} served {m} bytes"]
    if kind == 1:
        return [
            f"2024-01-01 10:00:00 ERROR {who} failed to connect to 10.0.{n % 256}.{m % 256}:{m}"
        ]
    if kind == 2:
        return [f'  File "/srv/{who}/mod{n % 5}.py", line {m}, in handler']
    if kind == 3:
        return [f"src/{who}/file{n % 7}.c:{m}:{n % 80}: warning: unused variable 'v{n}'"]
    if kind == 4:
        frames = []
        for k in range(draw(st.integers(1, 6))):
            lib = draw(st.booleans())
            path = f"/usr/lib/python3/site-packages/lib{k}/m.py" if lib else f"/srv/{who}/app{k}.py"
            frames += [f'  File "{path}", line {n + k}, in f{k}', f"    call_{k}({m})"]
        return ["Traceback (most recent call last):", *frames, f"ValueError: bad value {n}"]
    if kind == 5:
        return [f"tests/test_{who}.py::test_{n % 30} PASSED [ {m % 100}%]"]
    if kind == 6:
        return [f"tests/test_{who}.py::test_{n % 30} FAILED"]
    if kind == 7:
        return [f"\x1b[32m{who}\x1b[0m ready in {n} ms"]
    if kind == 8:
        return [f"{who} {n % 100}%|{'█' * (n % 10)}| {n % 100}/100\r{who} 100%|██████████| 100/100"]
    if kind == 9:
        return [""]
    if kind == 10:
        frames = [
            f"\tat org.apache.x{k}.C.m(C.java:{n + k})" for k in range(draw(st.integers(1, 5)))
        ]
        return [
            f"java.lang.IllegalStateException: {who} {n}",
            *frames,
            f"\tat com.acme.{who}.Main.run(Main.java:{m})",
        ]
    if kind == 12:  # a JSON-lines record, sometimes with error vocabulary or a location
        level = draw(st.sampled_from(["info", "info", "debug", "error", "warn"]))
        extra = draw(
            st.sampled_from(
                ["", ',"at":"src/app.py:' + str(m % 90 + 1) + '"', ',"err":"connection refused"']
            )
        )
        return [
            f'{{"ts":"2026-11-21T10:00:{n % 60:02d}.{m % 1000:03d}Z",'
            f'"level":"{level}","msg":"{who} handled",'
            f'"path":"/api/{who}/{n}","duration_ms":{m % 500}{extra}}}'
        ]
    if kind == 13:  # ls -l rows (a name may hold error vocabulary)
        name = draw(st.sampled_from(["mod", "error_page", "util", "failover", "data"]))
        ext = draw(st.sampled_from([".py", ".json", ".md", "", ".c"]))
        return [
            f"-rw-r--r--  1 user staff  {m:6d} Nov 21 10:{n % 60:02d} {name}{n % 40}{ext}"
            for _ in range(draw(st.integers(1, 4)))
        ]
    if kind == 14:  # tree rows
        depth = draw(st.integers(0, 2))
        name = draw(st.sampled_from(["mod", "exception_map", "util", "x"]))
        glyph = draw(st.sampled_from(["├── ", "└── "]))
        return [
            f"{'│   ' * depth}{glyph}{name}{(n + k) % 50}.py"
            for k in range(draw(st.integers(1, 6)))
        ]
    if kind == 15:  # find paths
        name = draw(st.sampled_from(["a", "b", "assert_helpers", "c"]))
        return [
            f"./src/{who}/{name}{(n + k) % 30}.{('py', 'rs', 'txt')[k % 3]}"
            for k in range(draw(st.integers(1, 6)))
        ]
    return [f"{who} heartbeat seq={n} ok"]


def reference_must_keep(lines: list[str]) -> set[str]:
    """An independent reading of the guarantee on cleaned lines: R1 (+ warnings), every location
    line that is not a library frame, R3 (first location within 3 lines after an error line),
    R2 (last five non-blank lines of each Python traceback block), R4 (last non-blank line)."""
    cl = [clean_line(x) for x in lines]
    must: set[str] = set()
    for i, ln in enumerate(cl):
        if not ln:
            continue
        kind = frame_kind(ln)
        if is_error_line(ln):
            must.add(ln)
            for j in range(i + 1, min(len(cl), i + 4)):
                if has_location(cl[j]):
                    must.add(cl[j])
                    break
        elif has_location(ln) and not (kind and kind[1]):
            must.add(ln)
    i = 0
    while i < len(cl):
        if cl[i].startswith("Traceback (most recent call last):"):
            j = i + 1
            while j < len(cl) and (not cl[j] or cl[j][0] in " \t"):
                j += 1
            block = [x for x in cl[i : min(j, len(cl) - 1) + 1] if x]
            must.update(block[-5:])
            i = j + 1
        else:
            i += 1
    nonblank = [x for x in cl if x]
    if nonblank:
        must.add(nonblank[-1])
    return must


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(log_line(), min_size=0, max_size=60))
def test_guarantee_must_keep_lines_survive_verbatim(groups: list[list[str]]) -> None:
    lines = [ln for g in groups for ln in g]
    text = "\n".join(lines) + ("\n" if lines else "")
    out = set(compress_text(text).text.split("\n"))
    missing = reference_must_keep(lines) - out
    assert not missing


@settings(max_examples=60, deadline=None)
@given(
    st.lists(log_line(), min_size=1, max_size=30),
    st.lists(
        st.text(
            alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r`~"),
            max_size=40,
        ),
        max_size=12,
    ),
)
def test_guarantee_fenced_code_byte_identical(groups: list[list[str]], code: list[str]) -> None:
    fence = "```\n" + "".join(c + "\n" for c in code) + "```\n"
    before = "\n".join(ln for g in groups for ln in g)
    text = before + "\n" + fence + "trailing words\n"
    assert fence in compress_text(text).text


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(" +-"), st.text(alphabet="ab1 2=\t", max_size=12)),
        min_size=1,
        max_size=30,
    )
)
def test_guarantee_diff_hunks_byte_identical(body: list[tuple[str, str]]) -> None:
    old = sum(1 for c, _ in body if c in " -")
    new = sum(1 for c, _ in body if c in " +")
    hunk = f"--- a/f\n+++ b/f\n@@ -1,{old} +1,{new} @@\n" + "".join(c + t + "\n" for c, t in body)
    assert hunk in compress_text("log line 1\n" + hunk + "after the diff\n").text


def test_stream_token_counts_are_exact_across_batches() -> None:
    """tokens_before/after are counted in ~64 KiB batches; the cuts must not change the sum."""
    from codex_router.tokens.counter import count_tokens

    block = "".join(
        f"2026-01-01 INFO step {i} ok.\n\n    indented detail {i}\n/path/{i}\n" for i in range(8000)
    )
    text = block + "ERROR: it broke\nlast line without newline"
    lines = text.splitlines(keepends=True)
    parts: list[str] = []
    report = compress_stream(lines, parts.append, count_tokens)
    assert len(text) > 4 * 65536
    assert report.tokens_before == count_tokens(text)
    assert report.tokens_after == count_tokens("".join(parts))


# ------------------------------------------------------------------ batched == line by line
# The stream judges lines in batches (one control-character check, one family-key pass and
# literal-prefixed scans flag the few lines that need the per-line tests). batched=False runs
# every line through those tests: the two must agree on the text and on the whole report.
_PIECES = [
    "ERROR x",
    "Traceback (most recent call last):",
    '  File "/a/site-packages/b.py", line 3, in f',
    '  File "/app/x.py", line 9, in g',
    "    call()",
    "ValueError: 1",
    "```",
    "```python",
    "~~~",
    "diff --git a/x b/x",
    "--- a/x",
    "+++ b/x",
    "@@ -1,3 +1,4 @@",
    " ctx",
    "-old",
    "+new",
    "\x1b[31mred\x1b[0m",
    "a\rb",
    "50%|███| 5/10",
    "",
    "   ",
    "\tat org.apache.X.y(X.java:1)",
    "goroutine 1 [running]:",
    "main.f(...)",
    "\t/x/main.go:3 +0x1",
    "test a::b ... ok",
    "x.py::t PASSED",
    "=== RUN   TestA",
    "commit 1234567abc",
    "Author: a <b>",
    " a.py | 3 ++-",
    "def f():",
    "}",
    "warning: x",
    "  ✓ ok",
    "✕ bad",
    "not ok 1",
    "Progress (1): 2/3 kB",
    "45%",
    "|",
    "⠙ work",
    "ok  x 1.2s",
    "host.com:8080 up",
    "a\x00b",
    "TRACEBAC\u212a here",
    "élève 12 failed",
    "12 files/s ━━━━",
    "x 3.2 MiB",
    "Caused by: q",
    "  at f (/a/b.js:1:2)",
    "   0: std::panicking::x",
    "[INFO] step 1",
    "- 1117838570 R02 ok",
    '{"ts":"2026-01-01T00:00:01Z","level":"info","msg":"ok","id":7}',
    '{"level":"error","msg":"boom"}',
    '{"a":1',
    "{not json}",
    "total 48",
    "-rw-r--r--  1 u g  12 Nov 21 10:00 a.py",
    "drwxr-xr-x  4 u g  128 Nov 21 10:00 pkg",
    "├── src",
    "│   ├── a.py",
    "│   └── error.py",
    "    └── b.json",
    "./src/a.py",
    "./src/x/b.json",
    "/etc/hosts",
    "`-- c.txt",
]


@st.composite
def mixed_log(draw) -> str:
    lines = draw(
        st.lists(
            st.one_of(
                st.tuples(st.sampled_from(_PIECES), st.integers(1, 4)).map(
                    lambda pr: "\n".join([pr[0]] * pr[1])
                ),
                st.builds(
                    lambda n, w: f"2024-01-01 10:00:{n % 60:02d} INFO {w} took {n} ms", _num, _name
                ),
                st.builds(lambda n, w: f"{w} blk_{n} served", _num, _name),
                st.builds(
                    lambda n, w: (
                        f'{{"ts":"2026-11-21T10:00:{n % 60:02d}Z",'
                        f'"level":"info","msg":"{w}","n":{n}}}'
                    ),
                    _num,
                    _name,
                ),
                st.builds(lambda n, w: f"│   ├── {w}{n}.py", _num, _name),
                st.builds(
                    lambda n, w: f"-rw-r--r--  1 u g  {n} Nov 21 10:00 {w}{n % 9}.json", _num, _name
                ),
                st.builds(lambda n, w: f"./{w}/{n % 3}/f{n}.py", _num, _name),
                st.text(alphabet="ab 1/=:.%#-\t\x1b[\r━é", max_size=14),
                st.lists(log_line(), min_size=1, max_size=3).map(
                    lambda g: "\n".join(ln for x in g for ln in x)
                ),
            ),
            max_size=80,
        )
    )
    return "\n".join(lines) + draw(st.sampled_from(["\n", "", "\r\n"]))


def _both(text: str, count=None, window=None):
    results = []
    for batched in (True, False):
        parts: list[str] = []
        rep = compress_stream(
            text.splitlines(keepends=True), parts.append, count, window=window, batched=batched
        )
        results.append(("".join(parts), rep.to_dict()))
    return results


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mixed_log(), st.sampled_from([None, {"max_entries": 6, "max_lines": 9}]), st.booleans())
def test_batched_stream_equals_line_by_line(text: str, window, counted: bool) -> None:
    batched, single = _both(text, words if counted else None, window)
    assert batched == single


def test_batched_stream_equals_line_by_line_on_the_corpus() -> None:
    for path in corpus_files():
        batched, single = _both(path.read_text("utf-8", errors="replace"), len)
        assert batched == single, path.name


# ------------------------------------------------------------------ substring tests before patterns
# A per-line test tries its pattern only on lines holding what the pattern needs (the pattern is
# compiled at first use, and a log without such lines never pays for it): the test and its
# pattern must agree on every line.
_GATE_PIECES = [
    *("test a ... ok", "ok  pkg 0.1s", "=== RUN T", "--- PASS: T (0.1s)", "--- SKIP: T (0s)"),
    *("PASS a.test.js", "✓ works", "a.py ..s", "a.py::t PASSED", " SKIPPED", " XFAIL", "::"),
    *("commit 0123abcd", "Merge: 0a1", "Author: x", "CommitDate: y", "Date: z", " a.py | 3 +-"),
    *('File "a.py", line 3', "src/a.rs:4:5", "x.py:", ".md", ":", ".", " ", "\t", "|", "\n"),
]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(_GATE_PIECES) | st.text(max_size=2), max_size=6).map("".join))
def test_substring_tests_agree_with_the_patterns(line: str) -> None:
    assert is_passing_test(line) == (sections._pass_re().match(line) is not None)
    assert is_vcs_meta(line) == (sections._vcs_re().match(line) is not None)
    assert has_location(line) == (sections._location_res()[1].search(line) is not None)


def test_short_lines_are_tested_with_the_progress_kinds_that_fit_in_them() -> None:
    for size in range(4):
        for chars in itertools.product(" \t|/\\-⠋⣿\u28005٣%.x\xa0]=", repeat=size):
            line = "".join(chars)
            full = sections._progress_re().match(line) is not None
            assert (sections._short_progress_re().match(line) is not None) == full, repr(line)
