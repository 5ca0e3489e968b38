"""Content-type detection, line by line, for cleaned lines.

Detection is deliberately local (one line, plus small state kept by the stream layer) so that a
200 MB log streams through in linear time: fenced code blocks and unified-diff hunks are tracked
as states, stack-trace frames, test-runner lines, progress bars and git metadata are recognised
per line, and "log-like" versus "code-like" is judged per window of lines
(:func:`looks_like_code`).

Must-keep vocabulary (:func:`is_must_keep`) is a superset of the benchmark scorer's R1 and R3
rules: error words, compiler ``warning:`` diagnostics, failing-test markers of common runners and
every ``file:line`` location.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache

# Each pattern is compiled at its first use: a command pays only for the patterns it needs (a
# short prompt needs none of them; a log, the scans and a few of the per-line tests).


# ------------------------------------------------------------------ must-keep vocabulary
@cache
def _must_words_re() -> re.Pattern[str]:
    """Scorer R1, plus compiler-style "warning:" / "warning[E0599]:" diagnostics. Matched on the
    lower-cased line (one C-level scan)."""
    return re.compile(
        r"error|exception|fail|fatal|panic|traceback|assert|caused by|warning(?:\[[\w-]+\])?:"
    )


# TAP "not ok", jest/mocha failure glyphs.
_MUST_START = ("not ok ", "✕ ", "✗ ", "× ", "● ")


# A literal-prefix gate (an order of magnitude faster): a location needs ".ext:digit" or 'File "'.
# Then scorer R3: "path.ext:NN" or 'File "...", line NN'; also covers rustc "--> src/x.rs:4:5",
# Go "\t/x/y.go:12 +0x1d", Java "(Foo.java:12)", JS "(app.js:3:7)". The single-character prefix
# is equivalent to the scorer's "[\w./\\-]+" for deciding whether a line has a location.
@cache
def _location_res() -> tuple[re.Pattern[str], re.Pattern[str]]:
    return (
        re.compile(r'\.[A-Za-z]\w{0,5}:\d|File "'),
        re.compile(r"""[\w./\\-]\.[A-Za-z]\w{0,5}:\d|File "[^"]+", line \d"""),
    )


def is_error_line(line: str) -> bool:
    """True when the line carries error/failure vocabulary (scorer R1 and friends)."""
    low = line.lower()
    # Plain substring tests beat one regex alternation by ~30 % here (hot path).
    if (
        "error" in low
        or "fail" in low
        or "exception" in low
        or "assert" in low
        or "fatal" in low
        or "panic" in low
        or "traceback" in low
        or "caused by" in low
    ):
        return True
    if "warning" in low and _must_words_re().search(low) is not None:
        return True
    return line.lstrip().startswith(_MUST_START)


def has_location(line: str) -> bool:
    """True when the line carries a ``file:line`` location."""
    if 'File "' not in line and (":" not in line or "." not in line):
        return False
    gate, location = _location_res()
    return gate.search(line) is not None and location.search(line) is not None


def is_must_keep(line: str) -> bool:
    """Error vocabulary or a location: such a line is always written out verbatim (library
    stack frames are the one documented exception, see :mod:`reducers`)."""
    return is_error_line(line) or has_location(line)


# ------------------------------------------------------------------ fenced code and diffs
@cache
def _fence_re() -> re.Pattern[str]:
    return re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")


def fence_open(line: str) -> str | None:
    """Return the fence marker (e.g. ``"```"``) when ``line`` opens a Markdown code fence."""
    text = line.lstrip(" ")
    if not text.startswith(("```", "~~~")) or len(line) - len(text) > 3:
        return None
    m = _fence_re().match(line)
    if m is None:
        return None
    marker, info = m.group(1), m.group(2)
    if marker[0] == "`" and "`" in info:
        return None  # inline code such as ```a``` is not a fence (CommonMark)
    return marker


def fence_closes(line: str, marker: str) -> bool:
    """True when ``line`` closes a fence opened with ``marker`` (same character, at least as
    long, nothing but spaces after it)."""
    s = line.strip(" ")
    if len(line) - len(line.lstrip(" ")) > 3 or not s.startswith(marker):
        return False
    return s == marker[0] * len(s)


@cache
def _hunk_re() -> re.Pattern[str]:
    return re.compile(r"^@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@")


_DIFF_HEADER_PREFIXES = (
    "diff --git ",
    "diff --cc ",
    "diff -",
    "index ",
    "--- ",
    "+++ ",
    "new file mode",
    "deleted file mode",
    "old mode",
    "new mode",
    "similarity index",
    "dissimilarity index",
    "rename from ",
    "rename to ",
    "copy from ",
    "copy to ",
    "Binary files ",
)


def hunk_sizes(line: str) -> tuple[int, int] | None:
    """Old and new line counts of a unified-diff hunk header ``@@ -a,b +c,d @@``."""
    m = _hunk_re().match(line)
    if m is None:
        return None
    old = int(m.group(1)) if m.group(1) is not None else 1
    new = int(m.group(2)) if m.group(2) is not None else 1
    return old, new


def is_diff_header(line: str) -> bool:
    """Lines of a diff's file header (``diff --git``, ``index``, ``---``/``+++``, modes...)."""
    return line.startswith(_DIFF_HEADER_PREFIXES)


@cache
def _vcs_re() -> re.Pattern[str]:
    """git log metadata and --stat rows: identifiers an agent may need; never folded."""
    return re.compile(
        r"^(?:commit [0-9a-f]{7,64}\b|Merge: [0-9a-f]"
        r"|(?:Author|AuthorDate|Commit|CommitDate|Date):\s)"
        r"|^ \S.* \| +(?:\d+ ?[+-]*|Bin )"
    )


_VCS_HEADS = ("commit ", "Merge: ", "Author", "Commit", "Date:")


def is_vcs_meta(line: str) -> bool:
    """git log headers and ``--stat`` rows."""
    if not line.startswith(_VCS_HEADS) and not (line[:1] == " " and " | " in line):
        return False
    return _vcs_re().match(line) is not None


# ------------------------------------------------------------------ stack frames
PY_TB_START = "Traceback (most recent call last):"


@cache
def _py_frame_re() -> re.Pattern[str]:
    return re.compile(r'^\s+File "([^"]*)", line \d+')


@cache
def _at_frame_res() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """Java and JS frames (``at ...``), told apart by what follows."""
    return (
        re.compile(r"^\s+at ([\w$.<>/]+)\((.*)\)\s*$"),
        re.compile(
            r"^\s+at (?:.+ \()?"
            r"((?:node:|file://|/|[A-Za-z]:\\|\.{0,2}/|internal/)\S*?:\d+(?::\d+)?)\)?\s*$"
        ),
    )


@cache
def _rust_frame_re() -> re.Pattern[str]:
    return re.compile(r"^\s+\d+: (\S+)|^\s+at (\S+:\d+(?::\d+)?)\s*$")


@cache
def _go_path_re() -> re.Pattern[str]:
    return re.compile(r"^\t(\S+\.go):\d+(?: \+0x[0-9a-f]+)?$")


_PY_LIB = (
    "site-packages",
    "dist-packages",
    "/lib/python",
    "\\lib\\python",
    "<frozen ",
    "/lib64/python",
)
_JAVA_LIB = (
    "java.",
    "javax.",
    "jdk.",
    "sun.",
    "com.sun.",
    "org.junit.",
    "junit.",
    "org.apache.",
    "org.springframework.",
    "org.eclipse.",
    "org.gradle.",
    "worker.org.gradle.",
    "org.hibernate.",
    "kotlin.",
    "kotlinx.",
    "scala.",
    "akka.",
    "io.netty.",
    "com.google.",
    "reactor.",
    "groovy.",
    "org.codehaus.",
    "org.testng.",
    "net.bytebuddy.",
    "org.mockito.",
    "org.jboss.",
    "io.micronaut.",
    "org.glassfish.",
    "com.fasterxml.",
    "org.slf4j.",
    "ch.qos.logback.",
    "android.",
    "dalvik.",
    "com.android.",
    "androidx.",
)
_JS_LIB = ("node_modules", "node:", "internal/", "<anonymous>")
_RUST_LIB = (
    "std::",
    "core::",
    "alloc::",
    "rust_begin_unwind",
    "__rust",
    "/rustc/",
    ".cargo/registry",
    "test::",
    "<unknown>",
)
_GO_LIB = ("/go/src/", "/pkg/mod/", "/usr/local/go/", "/usr/lib/go", "GOROOT")


def frame_kind(line: str) -> tuple[str, bool] | None:
    """Classify a stack-frame line: ``(language, is_library)`` or None.

    Library means standard library, vendored or third-party code (site-packages,
    node_modules, java.*/org.apache.*, std::, GOROOT...); everything else is application code.
    """
    c = line[:1]
    if c not in (" ", "\t"):
        return None
    s = line.lstrip()
    if s.startswith("File "):
        m = _py_frame_re().match(line)
        if m:
            return "python", any(p in m.group(1) for p in _PY_LIB)
    elif s.startswith("at "):
        java, js = _at_frame_res()
        m = java.match(line)
        if m and (m.group(2).endswith(")") is False):
            return "java", m.group(1).startswith(_JAVA_LIB) or "Native Method" in m.group(2)
        m2 = js.match(line)
        if m2:
            return "js", any(p in line for p in _JS_LIB)
        if m:
            return "java", m.group(1).startswith(_JAVA_LIB)
        m = _rust_frame_re().match(line)
        if m and m.group(2):
            return "rust", any(p in m.group(2) for p in _RUST_LIB)
    elif c == "\t" and ".go:" in line:
        m = _go_path_re().match(line)
        if m:
            return "go", any(p in m.group(1) for p in _GO_LIB)
    elif s[:1].isdigit():
        m = _rust_frame_re().match(line)
        if m and m.group(1):
            return "rust", m.group(1).startswith(_RUST_LIB)
    return None


# ------------------------------------------------------------------ test runners
@cache
def _pass_re() -> re.Pattern[str]:
    """Lines that only report a passing/skipped test or progress through passing tests."""
    return re.compile(
        r"^(?:"
        r"\S+::\S+ (?:PASSED|SKIPPED|XFAIL|XPASS)\b.*"  # pytest -v
        r"|\S+\.py \.[.sx]*\s*(?:\[\s*\d+%\])?"  # pytest progress dots (no F/E in them)
        r"|\s*(?:=== (?:RUN|PAUSE|CONT|NAME)\s+\S+"  # go test -v
        r"|--- (?:PASS|SKIP): \S+ \(\d[\d.]*s\))"
        r"|test \S+(?: - should panic)? \.\.\. (?:ok|ignored)"  # cargo test
        r"|\s*[✓✔√] .+"  # jest / mocha / vitest
        r"|\s*PASS\s+\S+\.(?:js|jsx|ts|tsx|mjs|cjs)(?: \(\d.*\))?"  # jest file summary
        r"|ok\s+\S+\s+(?:\(cached\)|[\d.]+s)(?:\s+coverage: .*)?"  # go package ok
        r")\s*$"
    )


# What each kind of passing-test line above starts with (after its indentation, for the kinds
# that may be indented) or holds: a line with none of these is not tested with the pattern.
_PASS_STARTS = ("test ", "ok")
_PASS_INDENTED_STARTS = ("=== ", "--- PASS: ", "--- SKIP: ", "PASS", "✓ ", "✔ ", "√ ")
_PASS_INDENTED_FIRSTS = frozenset("=-P✓✔√")


def is_passing_test(line: str) -> bool:
    """True for a line that only reports passing (or skipped) tests."""
    c0 = line[:1]
    if not (
        line.startswith(_PASS_STARTS)
        or (
            (c0 in _PASS_INDENTED_FIRSTS or c0.isspace())
            and line.lstrip().startswith(_PASS_INDENTED_STARTS)
        )
        or ".py ." in line
        or (
            "::" in line
            and ("PASSED" in line or "SKIPPED" in line or "XFAIL" in line or "XPASS" in line)
        )
    ):
        return False
    return _pass_re().match(line) is not None


# ------------------------------------------------------------------ progress noise
_BAR_CHARS = "█▉▊▋▌▍▎▏━─═■□▓▒░#=>-"


# Kinds of progress lines, each a whole line but for blanks around it. The leading blanks are
# matched possessively: every kind either starts with a non-blank or with ".*", so giving blanks
# back never finds a match -- it only made failing lines cost one full retry per leading blank.
_SPINNER = r"[⠁-⣿|/\\-]\s*$"  # lone spinner frame
_BRAILLE = r"[⠁-⣿]\s.*"  # braille spinner + status (npm, docker buildx)
_TQDM = r".*\d{1,3}(?:\.\d+)?%\s*\|[█▉▊▋▌▍▎▏ #]*\|.*"
_PERCENT = r"\d{1,3}(?:\.\d+)?%(?:\s+\S+){0,3}"  # bare "45%" status
_MAVEN = r"Progress \(\d+\): .*"  # maven transfer progress
_TRANSFER = r"[\d.]+\s*/\s*[\d.]+\s*[kKMG]i?B(?:\s+\S+){0,4}"  # "1.2/3.4 MB 5 MB/s"


def _progress_kinds(*kinds: str) -> re.Pattern[str]:
    return re.compile(r"^\s*+(?:" + "|".join(kinds) + r")\s*$")


@cache
def _progress_re() -> re.Pattern[str]:
    return _progress_kinds(_SPINNER, _BRAILLE, _TQDM, _PERCENT, _MAVEN, _TRANSFER)


@cache
def _short_progress_re() -> re.Pattern[str]:
    """The kinds a line of at most 3 characters can be (each other kind needs 4 or more)."""
    return _progress_kinds(_SPINNER, _BRAILLE, _PERCENT)


@cache
def _progress_bar_re() -> re.Pattern[str]:
    """Bars with a rate or an ETA after them. Kept apart because it backtracks badly on long
    runs of "=" or "#" (a 80-character "=====" separator took 0.1 ms): it can only match a line
    holding a "]" or a bar glyph (not ASCII), which is tested first."""
    return re.compile(
        r"^\s*+.*(?:[━█■▓▒░]{4,}|[=#]{4,}>?[ .-]*\]|\[[=#>.\- ]{8,}\]).*"
        r"(?:\d%|\d[\d.]*\s*/\s*\d|eta|ETA|\d\s*[kKMG]?i?B/s|it/s).*\s*$"
    )


@cache
def _progress_gate_re() -> re.Pattern[str]:
    """Cheap gate: every progress pattern contains one of these (or is a tiny spinner line)."""
    return re.compile(r"[%━█■▓▒░⠁-⣿]|[=#]{4}|/s\b|[kKMG]i?B\b|Progress \(")


def is_progress(line: str) -> bool:
    """Download/percent bars, spinners and transfer counters (what a ``\\r`` redraw left)."""
    if len(line) <= 3:  # no bar fits either
        return _short_progress_re().match(line) is not None
    if line.isascii():  # bar glyphs and braille spinners are not ASCII: cheap substring tests
        # A long ASCII line of a _progress_re kind holds one of these; a bar holds a "]".
        counter = (
            "%" in line
            or "Progress (" in line
            or (
                "B" in line
                and ("MB" in line or "kB" in line or "KB" in line or "iB" in line or "GB" in line)
            )
        )
        if counter and _progress_re().match(line) is not None:
            return True
        return (
            "]" in line
            and (counter or "B/s" in line or "it/s" in line or "==" in line or "##" in line)
            and _progress_bar_re().match(line) is not None
        )
    if _progress_gate_re().search(line) is None:
        return False
    return _progress_re().match(line) is not None or _progress_bar_re().match(line) is not None


# ------------------------------------------------------------------ one scan per batch
# A stream judges lines in batches, and most lines of a log are none of the rare kinds above.
# Scanning a whole batch for what the per-line tests look for, and testing only the lines found,
# is several times cheaper than testing every line. Each scan is a literal (found with
# str.find) or a pattern starting with a literal (the regex engine then skips ahead at
# memchr-like speed; a pattern starting with a character class or an alternation is tested at
# every position, ~10x slower).
Scan = str | re.Pattern[str]

# Error vocabulary (is_error_line), found in the lower-cased batch; "rror", "ssert" and
# "xception" are looser than the words, which only adds lines for the exact test.
_ERROR_WORDS = (
    "rror",
    "xception",
    "panic",
    "traceback",
    "caused by",
    "warning",
    "ssert",
    "not ok ",
)


@cache
def _error_scans() -> tuple[Scan, ...]:
    return (*_ERROR_WORDS, re.compile("f(?:ail|atal)"))


@cache
def _rare_scans() -> tuple[Scan, ...]:
    """Locations, passing tests, progress (has_location, is_passing_test, is_progress). Every
    line for which one of those can be true holds one of these -- except passing-test lines
    starting with "t" ("test ...") or "o" ("ok ...") and progress lines of at most 3
    characters."""
    return (
        "%",
        "it/s",
        'File "',
        "--- ",
        # str.find is slower than the engine on these two-character needles
        re.compile("=="),
        re.compile("##"),
        re.compile("::"),
        re.compile(r"B(?:/s|(?<=[MkKiG]B))"),
        re.compile(r"P(?:rogress \(|ASS)"),
        re.compile(r"\.(?:py \.|[A-Za-z]\w{0,5}:\d)"),
    )


# Callers must also test per line every line that is not ASCII: failure and tick glyphs, bars and
# spinners are not, and lower-casing a non-ASCII letter can give an ASCII one (Kelvin sign: k).


def line_indices(text: str, positions: Iterable[int]) -> set[int]:
    """Indices of the lines of ``text`` holding the given offsets (in ascending order)."""
    found: set[int] = set()
    line = prev = 0
    for pos in positions:
        line += text.count("\n", prev, pos)
        prev = pos
        found.add(line)
    return found


def lines_matching(text: str, scans: Iterable[Scan]) -> set[int]:
    """Indices of the lines of ``text`` where one of ``scans`` is found (searched once per line)."""
    hits: list[int] = []
    add = hits.append
    find = text.find
    for scan in scans:
        if isinstance(scan, str):
            at = find(scan)
            while at >= 0:  # one hit per line is enough: go on from the next line
                add(at)
                at = find("\n", at)
                if at < 0:
                    break
                at = find(scan, at)
            continue
        search = scan.search
        m = search(text)
        while m is not None:  # one hit per line is enough: go on from the next line
            at = m.start()
            add(at)
            at = find("\n", at)
            if at < 0:
                break
            m = search(text, at)
    hits.sort()
    return line_indices(text, hits)


def error_line_candidates(text: str) -> set[int]:
    """Indices of the ASCII lines of ``text`` (split on ``\\n``) for which :func:`is_error_line`
    may be true; every other ASCII line of ``text`` is certainly not an error line."""
    return lines_matching(text.lower(), _error_scans())  # lower() keeps every "\n"


def rare_line_candidates(text: str) -> set[int]:
    """Indices of the ASCII lines of ``text`` (split on ``\\n``) that may be locations,
    passing-test lines or progress noise; see the comment above for the lines callers must
    still test."""
    return lines_matching(text, _rare_scans())


# ------------------------------------------------------------------ code versus log
_CODE_START = (
    "def ",
    "class ",
    "import ",
    "from ",
    "return",
    "if ",
    "elif ",
    "else",
    "for ",
    "while ",
    "try:",
    "except",
    "finally:",
    "with ",
    "fn ",
    "let ",
    "const ",
    "var ",
    "func ",
    "pub ",
    "use ",
    "#include",
    "#define",
    "public ",
    "private ",
    "protected ",
    "static ",
    "package ",
    "//",
    "/*",
    "* ",
    "*/",
    "}",
    "{",
    "@",
    "async ",
    "await ",
    "yield",
    "raise ",
    "switch ",
    "case ",
    "struct ",
    "impl ",
    "type ",
    "interface ",
    "export ",
    "function ",
    "namespace ",
)


def is_code_like(line: str) -> bool:
    """A cheap guess that a line is source code (not a log record)."""
    s = line.strip()
    if not s:
        return False
    if s[0] == "[" or s[0].isdigit():  # log records start with a timestamp or a [tag]
        return False
    if s[-1] in "{};,([:\\" and not s.endswith("::"):
        return True
    return s.startswith(_CODE_START)
