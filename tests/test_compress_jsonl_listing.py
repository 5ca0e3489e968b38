"""JSON-lines logs (rule json_lines) and ls / tree / find listings (rule listing)."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codex_router.prompt.compress import compress_stream, compress_text
from codex_router.prompt.sections import is_must_keep
from codex_router.prompt.structured import entry_kind, json_key, listing_entry, listing_marker

words = lambda s: len(s.split())  # noqa: E731 - deterministic fake token counter


def _jl(i: int, **over: object) -> str:
    rec = {
        "ts": f"2026-11-21T10:00:{i % 60:02d}.{i * 7 % 1000:03d}Z",
        "level": "info",
        "msg": "request handled",
        "path": f"/api/items/{i * 13 % 97}",
        "status": 200,
        "duration_ms": i % 50,
        "req_id": f"{i * 7919:08x}",
    }
    rec.update(over)
    return json.dumps(rec, separators=(",", ":"))


JSONL = "\n".join(_jl(i) for i in range(300)) + "\n"
LS = "total 848\n" + "".join(
    f"-rw-r--r--  1 user staff  {i * 37 % 9999:5d} Nov 21 10:{i % 60:02d} "
    f"file_{i}{('.py', '.json', '.md')[i % 3]}\n"
    for i in range(120)
)
TREE = (
    ".\n├── src\n"
    + "".join(f"│   ├── mod_{i}.py\n" for i in range(60))
    + "│   └── last.py\n├── tests\n│   └── test_a.py\n└── README.md\n\n2 directories, 63 files\n"
)
FIND = "".join(f"./src/pkg/mod_{i}.{('py', 'json')[i % 2]}\n" for i in range(80)) + "".join(
    f"./docs/page_{i}.md\n" for i in range(30)
)


def _rules(text: str) -> dict[str, tuple[int, int | None]]:
    res = compress_text(text, words)
    return {r.name: (r.lines_removed, r.tokens_removed) for r in res.rules}


# ------------------------------------------------------------------ detection tables
@pytest.mark.parametrize(
    ("line", "folds"),
    [
        ('{"ts":"2026-11-21T10:00:01Z","level":"info","msg":"x","id":3}', True),
        ('  {"a": 1, "b": "two"}', True),
        ("{", False),
        ("{}", False),
        ('{"a": 1,', False),
        ("{ a: 1 }", False),
        ('["a", 1]', False),
        ('{"a": 1} trailing', False),
        ("function f() {}", False),
    ],
)
def test_json_key_detection(line: str, folds: bool) -> None:
    assert (json_key(line) is not None) is folds


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        (_jl(1), _jl(2), True),  # ts, ids, numbers, paths vary
        (_jl(1), _jl(2, level="debug"), False),  # a message-like field differs
        (_jl(1), _jl(2, msg="cache miss"), False),
        (_jl(1), _jl(2, status=404), False),
        (_jl(1), _jl(2, extra=1), False),  # another shape
        ('{"event":"tick","n":1}', '{"event":"tick","n":"x"}', False),  # another value type
        (
            _jl(1, msg="user 17 logged in"),
            _jl(2, msg="user 4242 logged in"),
            True,
        ),  # ids inside msg vary
        (
            _jl(1, msg="user alice logged in"),
            _jl(2, msg="user bob logged in"),
            False,
        ),  # words do not
    ],
)
def test_json_key_families(a: str, b: str, same: bool) -> None:
    assert (json_key(a) == json_key(b)) is same


@pytest.mark.parametrize(
    ("line", "entry"),
    [
        ("-rw-r--r--  1 user staff  1234 Nov 21 10:00 name.py", ("name.py", "")),
        ("drwxr-xr-x  4 user staff   128 Nov 21 10:00 pkg", ("pkg/", "")),
        ("lrwxrwxrwx  1 user staff    11 Nov 21 10:00 link -> target.py", ("link", "")),
        ("-rw-r--r--@ 1 user staff  1234 Nov 21  2025 old.txt", ("old.txt", "")),
        ("total 48", ("", "")),
        ("├── src", ("src", 4)),
        ("│   └── a.py", ("a.py", 8)),
        ("    ├── b.json", ("b.json", 8)),
        ("|-- c.txt", ("c.txt", 4)),
        ("./src/a.py", ("./src/a.py", "./src")),
        ("/etc/hosts", ("/etc/hosts", "/etc")),
        ("total cost 3", None),
        ("- item one", None),
        ("/api/items 200 ok", None),
        ("src/app.py:12: in f", None),
        ("plain words", None),
    ],
)
def test_listing_entry_detection(line: str, entry) -> None:
    assert listing_entry(line) == entry


def test_entry_kind_and_marker() -> None:
    assert [entry_kind(n) for n in ("a.py", "pkg/", "Makefile", ".bashrc", "x.tar.gz")] == [
        "*.py",
        "dirs",
        "other",
        "other",
        "*.gz",
    ]
    assert listing_marker(
        "", 212, {"*.py": 140, "*.json": 60, "other": 2, "*.md": 5, "*.c": 5}
    ) == ("[… 212 more entries (*.py 140, *.json 60, *.c 5, other 7)]")


# ------------------------------------------------------------------ pipeline tables
PIPELINE = [
    pytest.param(
        JSONL, [_jl(0), "[+298 similar: "], [_jl(5), _jl(150)], "json_lines", id="jsonl-folds"
    ),
    pytest.param(
        JSONL[: JSONL.index("\n", 2000) + 1]
        + _jl(31, level="error", msg="db timeout")
        + "\n"
        + _jl(32, msg="handled", at="src/app/db.py:88")
        + "\n"
        + JSONL,
        [_jl(31, level="error", msg="db timeout"), _jl(32, msg="handled", at="src/app/db.py:88")],
        [],
        "json_lines",
        id="jsonl-errors-and-locations-verbatim",
    ),
    pytest.param(
        "Service log below.\nWe saw slow requests.\n" + JSONL + "That is all for today, thanks.\n",
        ["Service log below.", "We saw slow requests.", _jl(0), "That is all for today, thanks."],
        [_jl(7)],
        "json_lines",
        id="jsonl-mixed-with-prose",
    ),
    pytest.param(
        LS,
        [
            "total 848",
            "-rw-r--r--  1 user staff      0 Nov 21 10:00 file_0.py",
            "[… 115 more entries (*.json 39, *.md 38, *.py 38)]",
        ],
        ["-rw-r--r--  1 user staff    370 Nov 21 10:10 file_10.json"],
        "listing",
        id="ls-l",
    ),
    pytest.param(
        TREE,
        [
            ".",
            "├── src",
            "│   ├── mod_3.py",
            "│   ├── mod_4.py",
            "[… 56 more entries (*.py 56)]",
            "├── tests",
            "│   └── test_a.py",
            "└── README.md",
            "2 directories, 63 files",
        ],
        ["│   ├── mod_10.py"],
        "listing",
        id="tree",
    ),
    pytest.param(
        FIND,
        [
            "./src/pkg/mod_0.py",
            "./src/pkg/mod_4.py",
            "[… 75 more entries (*.json 38, *.py 37)]",
            "./docs/page_0.md",
            "[… 24 more entries (*.md 24)]",
            "./docs/page_29.md",
        ],
        ["./src/pkg/mod_40.py"],
        "listing",
        id="find",
    ),
]


@pytest.mark.parametrize(("text", "present", "absent", "rule"), PIPELINE)
def test_pipeline_jsonl_listing(
    text: str, present: list[str], absent: list[str], rule: str
) -> None:
    res = compress_text(text, words)
    out = res.text.split("\n")
    for p in present:
        assert p in out or any(ln.startswith(p) for ln in out), (p, res.text[:2000])
    for a in absent:
        assert a not in out
    rules = {r.name: r for r in res.rules}
    assert rules[rule].lines_removed > 0 and rules[rule].tokens_removed > 0
    assert res.tokens_after < res.tokens_before
    for ln in text.split("\n"):
        if ln and is_must_keep(ln):
            assert ln in out


def test_listing_must_keep_entries_survive_in_place() -> None:
    rows = [f"-rw-r--r--  1 u g  {i:4d} Nov 21 10:00 f{i}.py" for i in range(40)]
    rows[20] = "-rw-r--r--  1 u g    20 Nov 21 10:00 error_handler.py"
    out = compress_text("\n".join(rows) + "\n").text.split("\n")
    k = out.index(rows[20])
    assert out[k - 1].startswith("[… 15 more entries") and out[k + 1].startswith(
        "[… 18 more entries"
    )
    assert out[-2] == rows[-1]  # the last line of the input is kept (R4)


def test_short_runs_untouched() -> None:
    text = "".join(f"./src/f{i}.py\n" for i in range(6)) + "done\n"
    assert compress_text(text).text == text


def test_pretty_json_and_fenced_json_unchanged() -> None:
    pretty = json.dumps(
        [{"ts": f"2026-01-01T00:00:0{i}Z", "level": "info", "msg": "x", "id": i} for i in range(8)],
        indent=2,
    )
    fenced = "```json\n" + "\n".join(_jl(i) for i in range(10)) + "\n```\n"
    for text in (pretty + "\n", "intro\n" + fenced + "outro\n"):
        assert compress_text(text).text == text


def test_rules_reported_in_json_report() -> None:
    rules = _rules(JSONL + "\n" + LS)
    assert rules["json_lines"][0] > 0 and rules["listing"][0] > 0
    assert rules["line_families"][0] == 0


def test_batched_equals_line_by_line_on_samples() -> None:
    for text in (JSONL, LS, TREE, FIND, JSONL + LS + TREE + FIND):
        results = []
        for batched in (True, False):
            parts: list[str] = []
            rep = compress_stream(
                text.splitlines(keepends=True), parts.append, words, batched=batched
            )
            results.append(("".join(parts), rep.to_dict()))
        assert results[0] == results[1]


# ------------------------------------------------------------------ property: must-keep survives
@st.composite
def json_lines(draw) -> str:
    out = []
    for _ in range(draw(st.integers(1, 120))):
        i = draw(st.integers(0, 10**6))
        rec: dict[str, object] = {
            "ts": f"2026-11-21T10:{i % 60:02d}:{i % 59:02d}Z",
            "level": draw(st.sampled_from(["info", "info", "debug", "error", "warn"])),
            "msg": draw(st.sampled_from(["handled", "cache hit", "request failed", "retry"])),
            "id": i,
        }
        if draw(st.booleans()):
            rec["path"] = f"/api/items/{i % 1000}"
        extra = draw(
            st.sampled_from([None, "src/app.py:12", "Traceback (most", "ok", "panic: x", "x.go:3"])
        )
        if extra is not None:
            rec["detail"] = extra
        out.append(json.dumps(rec, separators=(",", ":")))
    return "\n".join(out) + "\n"


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(json_lines())
def test_property_json_lines_must_keep_survive(text: str) -> None:
    out = set(compress_text(text).text.split("\n"))
    lines = text.split("\n")
    for ln in lines:
        if ln and is_must_keep(ln):
            assert ln in out
    assert [x for x in lines if x][-1] in out
