"""Orchestration: clean, detect content, reduce, report -- streaming, linear time, bounded memory.

Entry points:

* :func:`compress_stream` -- for a CLI: ``compress_stream(sys.stdin, sys.stdout.write, count)``.
* :func:`compress_text` -- for a prompt held in memory.

What survives verbatim (the guarantee, enforced here and checked by property tests): every line
with error vocabulary (:func:`~.sections.is_error_line`, a superset of the scorer's R1), every
line with a ``file:line`` location except library stack frames folded by
:func:`~.reducers.fold_frames` / :func:`~.reducers.fold_python_traceback` (which themselves keep
the first location after an error line, rule R3), the last five non-blank lines of every Python
traceback block (R2) and the last non-blank line of the input (R4). "Verbatim" means the cleaned
line is an output line of its own. Exact repeats of a must-keep line inside one window are
written once, followed by ``[+N identical]``.

Fenced code blocks (```` ``` ```` / ``~~~``) are copied byte for byte (only ``\\r\\n`` becomes
``\\n``: no escape stripping, no trimming, no folding); unified-diff headers and hunk lines
(counted from the ``@@ -a,b +c,d @@`` header) likewise, except that colour escapes are removed
from coloured diffs.

Secrets (:mod:`~.secrets`) are masked first, on every line (fenced code and diffs too), unless
``mask_secrets`` is False: each masked secret is counted under its rule (``masked``), and a
PEM block's lines, which become one marker line, count as lines removed.

Token accounting (only when ``count`` is given): ``tokens_before``/``tokens_after`` are ``count``
of the input/output text, counted in chunks of about 64 KiB cut at line ends (for one prompt that
is a single exact count). A rule's ``tokens_removed`` is ``count`` of the text it removed (whole
lines with their newline for line rules; the removed characters for cleaning rules) minus
``count`` of the marker lines it wrote. Tokenisation depends on context, so the per-rule figures
need not add up exactly to ``tokens_before - tokens_after``.
"""

from __future__ import annotations

import re
from collections import namedtuple
from collections.abc import Callable, Iterable
from functools import cache

from . import clean as _clean
from . import secrets as _secrets
from .clean import clean_line, control_re
from .reducers import fold_frames, fold_python_traceback, template_key, template_keys
from .sections import (
    PY_TB_START,
    error_line_candidates,
    fence_closes,
    fence_open,
    frame_kind,
    has_location,
    hunk_sizes,
    is_code_like,
    is_diff_header,
    is_error_line,
    is_passing_test,
    is_progress,
    is_vcs_meta,
    lines_matching,
    rare_line_candidates,
)
from .structured import (
    RULE_JSON,
    RULE_LISTING,
    ListingRun,
    json_key,
    listing_entry,
    listing_marker,
)
from .window import (
    RULE_BLANK,
    RULE_DUPLICATES,
    RULE_FAMILIES,
    RULE_PASSING,
    Accounting,
    FamilyWindow,
)

Count = Callable[[str], int]

RULE_PROGRESS = "progress_noise"
RULE_FRAMES = "library_frames"
RULE_ORDER = (
    *_secrets.RULES,
    _clean.RULE_ANSI,
    _clean.RULE_CONTROL,
    _clean.RULE_CR,
    _clean.RULE_TRAILING,
    RULE_BLANK,
    RULE_PROGRESS,
    RULE_PASSING,
    RULE_FRAMES,
    RULE_FAMILIES,
    RULE_JSON,
    RULE_LISTING,
    RULE_DUPLICATES,
)
_LINE_RULES = frozenset(
    {
        RULE_BLANK,
        RULE_PROGRESS,
        RULE_PASSING,
        RULE_FRAMES,
        RULE_FAMILIES,
        RULE_JSON,
        RULE_LISTING,
        RULE_DUPLICATES,
    }
)
_BATCH = 1 << 16
_LINES_PER_BATCH = 4096  # compress_stream hands lines to the stream in lists of this many
_PROBE_LINES = 256  # lines judged with batch scans to decide how to judge the rest of a batch
_KEY_BLOCK = 512  # family keys are computed for this many lines at once, when one is needed
# First characters of lines that may be structural (fence, diff header, traceback, goroutine).
_SPECIAL_STARTS = frozenset("`~ \tdi-+@rncoBsTg")
_VCS_STARTS = frozenset("cMACD ")
# Lines starting with one of these take the full route of _Stream._line (structure, git
# metadata, indented frames, "test ..."/"ok ..." test results).
_SLOW_STARTS = _SPECIAL_STARTS | _VCS_STARTS | frozenset(" \tto")
# First characters of listing lines (ls -l rows, "total N", tree rows, find paths).
_LISTING_STARTS = frozenset("-dlcbpsDt├└│|` ./~")
_MAX_BLOCK = 4000  # longest traceback / frame run buffered before it is folded in pieces


# The reports are named tuples from collections: typing.NamedTuple or a dataclass would import
# typing or dataclasses, which tests/test_imports.py keeps off the path of `codex-route compress`.


class RuleReport(
    namedtuple(
        "RuleReport",
        ["name", "lines_removed", "tokens_removed", "lines_changed", "masked"],
        defaults=[0, 0],
    )
):
    """What one rule did: lines it removed (``lines_removed``), lines it rewrote in place
    (``lines_changed``, cleaning rules), secrets it masked (``masked``, the secret rules) and
    the net tokens it removed (``tokens_removed``, None when no counter was given; a masked
    secret's marker may hold more tokens than the secret)."""

    __slots__ = ()

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "lines_removed": self.lines_removed,
            "lines_changed": self.lines_changed,
            "tokens_removed": self.tokens_removed,
            "masked": self.masked,
        }


class CompressionReport(
    namedtuple(
        "CompressionReport",
        [
            "lines_in",
            "lines_out",
            "chars_in",
            "chars_out",
            "tokens_before",
            "tokens_after",
            "rules",
        ],
    )
):
    """Totals of one :func:`compress_stream` run (token figures None without a counter);
    ``rules`` holds a :class:`RuleReport` per rule, in a fixed order, all listed."""

    __slots__ = ()

    def to_dict(self) -> dict[str, object]:
        return {
            "lines_in": self.lines_in,
            "lines_out": self.lines_out,
            "chars_in": self.chars_in,
            "chars_out": self.chars_out,
            "tokens_before": self.tokens_before,
            "tokens_after": self.tokens_after,
            "rules": [r.to_dict() for r in self.rules],
        }


class CompressionResult(
    namedtuple("CompressionResult", ["text", "tokens_before", "tokens_after", "rules", "report"])
):
    """:func:`compress_text` output: the compressed text and its report (a
    :class:`CompressionReport`, whose token figures and rules are repeated here)."""

    __slots__ = ()

    def to_dict(self) -> dict[str, object]:
        d = self.report.to_dict()
        return {"text": self.text, **d}


class _Counter:
    """Counts tokens of a text stream in batches of about 64 KiB.

    A batch ends only before a line where no o200k pre-token can span the cut
    (:func:`~codex_router.tokens.chunks.can_cut_before_line`), so for a contiguous stream the sum
    is the count of the whole text; only after 4 batches without such a line is it cut anyway.
    """

    def __init__(self, count: Count | None) -> None:
        self.count = count
        self.buf: list[str] = []
        self.size = 0
        self.tokens = 0
        self.at_line_end = True
        if count is not None:
            # lazy: only a counting stream cuts at token-safe lines; plain compress never does
            from codex_router.tokens.chunks import can_cut_before_line

            self._can_cut = can_cut_before_line

    def add(self, text: str) -> None:
        if self.count is None:
            return
        if self.size >= _BATCH and (
            (self.at_line_end and self._can_cut(text)) or self.size >= 4 * _BATCH
        ):
            self.drain()
        self.buf.append(text)
        self.size += len(text)
        self.at_line_end = text.endswith("\n")

    def drain(self) -> int:
        if self.buf and self.count is not None:
            self.tokens += self.count("".join(self.buf))
            self.buf.clear()
            self.size = 0
        return self.tokens


class _Acct(Accounting):
    """Per-rule removal bookkeeping (lines, changed lines, removed text counted in batches)."""

    def __init__(self, count: Count | None) -> None:
        self.count = count
        self.lines = dict.fromkeys(RULE_ORDER, 0)
        self.changed = dict.fromkeys(RULE_ORDER, 0)
        self.masked = dict.fromkeys(_secrets.RULES, 0)
        self.removed_text = {r: _Counter(count) for r in RULE_ORDER}
        self.added_text = {r: _Counter(count) for r in RULE_ORDER}
        if count is None:  # only lines are counted: skip building the removed text
            self.removed = self._removed_lines  # type: ignore[method-assign]
            self.text_needed = False

    def removed(self, rule: str, text: str) -> None:
        if rule in _LINE_RULES:
            self.lines[rule] += 1
            self.removed_text[rule].add(text + "\n")
        else:
            self.changed[rule] += 1
            self.removed_text[rule].add(text)

    def _removed_lines(self, rule: str, text: str) -> None:
        if rule in _LINE_RULES:
            self.lines[rule] += 1
        else:
            self.changed[rule] += 1

    def secret(self, rule: str, removed: str, marker: str, lines: int) -> None:
        """A secret rule's work (:data:`~.secrets.Report`): ``removed`` gave way to ``marker``
        (one secret masked, when ``marker`` is given), ``lines`` whole lines went."""
        if marker:
            self.masked[rule] += 1
            if self.count is not None:
                self.added_text[rule].add(marker)
        self.lines[rule] += lines
        if self.count is not None and removed:
            self.removed_text[rule].add(removed)

    def removed_lines(self, rule: str, count: int) -> None:
        self.lines[rule] += count

    def added(self, rule: str, text: str) -> None:
        self.lines[rule] -= 1  # a marker line replaces one of the removed lines
        self.added_text[rule].add(text + "\n")

    def reports(self) -> tuple[RuleReport, ...]:
        out = []
        for r in RULE_ORDER:
            tokens = None
            if self.count is not None:
                tokens = self.removed_text[r].drain() - self.added_text[r].drain()
            out.append(
                RuleReport(r, max(0, self.lines[r]), tokens, self.changed[r], self.masked.get(r, 0))
            )
        return tuple(out)


# Bytes that may appear in a line needing no cleaning at all (ASCII text): tab and printables.
_PLAIN_ASCII = bytes([9, *range(32, 127)])


@cache
def _hunk_header_re() -> re.Pattern[str]:
    return re.compile(r"\n@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@")


def _hunk_lines(text: str) -> int:
    """About how many lines of ``text`` are unified-diff hunk bodies (by their headers)."""
    return sum(
        max(int(m.group(1) or 1), int(m.group(2) or 1)) for m in _hunk_header_re().finditer(text)
    )


def _is_blank(raw: str) -> bool:
    """Blank once cleaned. Only a line starting with ESC/CR/... can be blank once cleaned
    without being blank already (``"\x1b[0m"`` alone)."""
    s = raw.strip()
    return not s or (s[0] < " " and not clean_line(raw))


class _Stream:
    """Per-line state machine; see the module docstring for what each state guarantees.

    Lines arrive in batches (:meth:`feed_lines`). Most lines of a log need little more than
    ``rstrip`` and a family key, so a batch computes what it can for all its lines at once:
    which lines hold control characters (only those need :func:`~.clean.clean_line`) and the
    family keys (:func:`~.reducers.template_keys`, once, when the first line of the batch
    turns out to be foldable).
    """

    def __init__(
        self,
        write: Callable[[str], object],
        count: Count | None,
        window: dict[str, int] | None,
        batched: bool = True,
        mask_secrets: bool = True,
    ) -> None:
        self.batched = batched
        self.out = _Counter(count)
        self.lines_out = 0
        self.chars_out = 0
        if count is None:

            def emit(text: str) -> None:
                self.lines_out += 1
                self.chars_out += len(text)
                write(text)
        else:

            def emit(text: str) -> None:
                self.lines_out += 1
                self.chars_out += len(text)
                self.out.add(text)
                write(text)

        self.acct = _Acct(count)
        self.win = FamilyWindow(emit, self.acct, **(window or {}))
        self.sink = self.acct.removed
        self.masker = _secrets.SecretMasker(self.acct.secret) if mask_secrets else None
        self.fence: str | None = None
        self.hunk_old = self.hunk_new = 0
        self.diff_header = False
        self.tb: list[str] | None = None
        self.frames: list[str] = []
        self.go_mode = False
        self.prev_blank = False
        self.code_ema = 0.0
        self.pending: list[str] = []
        self.listing: ListingRun | None = None  # an open run of listing lines
        self.scans_pay = False  # the first batch starts with a probe

    # ---------------------------------------------------------------- input side
    def feed_lines(self, raws: list[str]) -> None:
        """Take lines without their ``\\n`` (a ``\\r`` before it is dropped here). The last
        non-blank line and the blank lines after it are held back so the final non-blank line
        of the input can be forced verbatim. Secrets are masked here, before anything else."""
        if self.masker is not None:
            raws = self.masker.mask_lines(raws)
        self._feed(raws)

    def _feed(self, raws: list[str]) -> None:
        last = len(raws) - 1
        while last >= 0 and _is_blank(raws[last]):
            last -= 1
        if last < 0:
            self.pending.extend(raws)
            return
        if self.pending:
            self._run(self.pending + raws[:last])
        elif last:
            self._run(raws[:last])
        self.pending = raws[last:]

    def finish(self) -> None:
        if self.masker is not None:
            tail = self.masker.finish()  # the marker of a PEM block the input ended in
            if tail:
                self._feed(tail)
        for k, held in enumerate(self.pending):
            if held[-1:] == "\r":
                held = held[:-1]
            self.process(held, force_keep=k == 0)
        self.pending = []
        self._end_blocks()
        self.win.flush()

    def _end_blocks(self) -> None:
        if self.listing is not None:
            self._flush_listing()
        if self.tb is not None:
            self._flush_tb()
        if self.frames:
            self._flush_frames()

    def _run(self, raws: list[str]) -> None:
        """Process lines (no ``\\n``; a final ``\\r`` is dropped).

        The batch scans cost per character, and lines in a traceback, fence or hunk, and lines
        with escapes or redraws, are judged one by one anyway: when such lines make most of a
        batch's text, the scans are mostly wasted. After such a batch the next one is judged
        line by line, but for a probe at its head, which decides for the rest."""
        if self.batched and not self.scans_pay:
            self._run_batch(raws[:_PROBE_LINES])
            raws = raws[_PROBE_LINES:]
        if not raws:
            return
        if self.batched and self.scans_pay:
            self._run_batch(raws)
            return
        for raw in raws:
            self.process(raw[:-1] if raw[-1:] == "\r" else raw)

    def _run_batch(self, raws: list[str]) -> None:
        text = "\n".join(raws)
        if text.count("\n") != len(raws) - 1:  # a caller's "line" held a newline: on its own
            start = 0
            for k, raw in enumerate(raws):
                if "\n" in raw:
                    if start < k:
                        self._run_batch(raws[start:k])
                    self.process(raw[:-1] if raw[-1:] == "\r" else raw)
                    start = k + 1
            if start < len(raws):
                self._run_batch(raws[start:])
            return
        if "\r" in text:  # CRLF line ends: drop one "\r" per line
            text = text.replace("\r\n", "\n")
            if text[-1:] == "\r":
                text = text[:-1]
            raws = text.split("\n")
        # Mostly diff hunks, whose lines are copied as they are: the batch scans would be wasted.
        if "\n@@ -" in text and 2 * _hunk_lines(text) > len(raws):
            for raw in raws:
                self.process(raw)
            self.scans_pay = False
            return
        self.scans_pay = 2 * self._batch(raws, text) <= len(text)

    def _batch(self, raws: list[str], text: str) -> int:
        """Judge a batch of lines (no terminators) with batch scans; return how many of its
        characters were in lines the scans hardly helped (judged one by one anyway, or with
        the location/test/progress tests)."""
        # Lines holding a control character (escape sequences, redraws, NUL, ...) take the
        # full cleaning path, and their batch key is not used; every other line is clean but
        # for trailing whitespace.
        if text.isascii():
            needs_clean = bool(text.encode("ascii").translate(None, b"\n" + _PLAIN_ASCII))
        else:
            needs_clean = control_re().search(text) is not None
        dirty = lines_matching(text, (control_re(),)) if needs_clean else None
        rare = rare_line_candidates(text)
        errors = error_line_candidates(text)
        keys: dict[int, str] = {}
        sink = self.sink
        classify = self._line
        foldable = self.win.foldable
        verbatim = self.win.verbatim
        slow_starts = _SLOW_STARTS
        quiet = self._quiet()
        wasted = 0
        for i, raw in enumerate(raws):
            if not quiet or (dirty is not None and i in dirty):
                wasted += len(raw)
                self.process(raw)
                quiet = self._quiet()
                continue
            line = raw.rstrip()
            if len(line) != len(raw):
                sink(_clean.RULE_TRAILING, raw[len(line) :])
            if not line:
                self._blank()
                quiet = self._quiet()
                continue
            c0 = line[0]
            if (
                c0 in slow_starts
                or i in errors
                or i in rare
                or len(line) <= 3
                or not line.isascii()
            ):
                wide = not line.isascii()
                may_rare = wide or i in rare or len(line) <= 3 or c0 in "to"
                if may_rare:  # the costliest per-line tests run anyway
                    wasted += len(raw)
                if classify(line, raw, wide or i in errors, may_rare):
                    key = keys.get(i)
                    if key is None:
                        key = self._keys(raws, i, dirty, keys)
                    foldable(line, key if len(line) == len(raw) else key.rstrip())
                quiet = self._quiet()
                continue
            # The common case, what _line would conclude for it: a quiet state (no fence,
            # hunk, traceback, frames, goroutine or diff header) and a line that is neither
            # structural nor must-keep, git metadata, a passing test nor progress.
            self.prev_blank = False
            if c0 == "{":
                jkey = json_key(line)
                if jkey is not None:
                    self.code_ema *= 0.9
                    foldable(line, jkey)
                    continue
            elif c0 in _LISTING_STARTS and self._listing_start(line):
                quiet = False
                continue
            codey = False if c0 == "[" or c0.isdigit() else is_code_like(line)
            self.code_ema = ema = self.code_ema * 0.9 + (1.0 if codey else 0.0)
            if codey or ema > 2.5:
                verbatim(line)
                continue
            key = keys.get(i)
            if key is None:
                key = self._keys(raws, i, dirty, keys)
            foldable(line, key if len(line) == len(raw) else key.rstrip())
        return wasted

    @staticmethod
    def _keys(raws: list[str], i: int, dirty: set[int] | None, keys: dict[int, str]) -> str:
        """Family keys of the block of :data:`_KEY_BLOCK` lines holding line ``i``, in one pass
        (a line needing cleaning gets its key from its cleaned text, elsewhere)."""
        start = i - i % _KEY_BLOCK
        block = raws[start : start + _KEY_BLOCK]
        if dirty is not None:
            block = ["" if start + k in dirty else raw for k, raw in enumerate(block)]
        keys.update(enumerate(template_keys("\n".join(block)).split("\n"), start))
        return keys[i]

    def _quiet(self) -> bool:
        """No block state: lines are judged on their own."""
        return (
            self.listing is None
            and self.fence is None
            and self.hunk_old <= 0
            and self.hunk_new <= 0
            and self.tb is None
            and not self.frames
            and not self.go_mode
            and not self.diff_header
        )

    def process(self, raw: str, force_keep: bool = False) -> None:
        """Route one line (no terminator): fence > diff hunk > clean > the rest (:meth:`_line`)."""
        if self.fence is not None:
            self.win.verbatim(raw, True)
            if fence_closes(raw, self.fence):
                self.fence = None
            return
        if (self.hunk_old > 0 or self.hunk_new > 0) and self._hunk_line(raw):
            return
        line = clean_line(raw, self.sink)
        if not line:
            self._blank()
            return
        if self.listing is not None and self._listing_line(line, force_keep):
            return
        if self._line(line, raw, force_keep=force_keep):
            self.win.foldable(line, template_key(line))

    def _line(
        self, line: str, raw: str, errors: bool = True, rare: bool = True, force_keep: bool = False
    ) -> bool:
        """Route one cleaned, non-blank line: traceback > frames > fence/diff headers >
        must-keep > git metadata > passing tests > progress > code. True means it is a
        log-like line for the caller to fold into its family. ``errors`` False promises the line
        holds no error vocabulary, ``rare`` False that it is no location, passing-test or
        progress line (see sections.error_line_candidates, sections.rare_line_candidates)."""
        self.prev_blank = False
        c0 = line[0]
        if self.tb is not None:
            self._tb_line(line, c0)
            return False
        if (c0 == " " or c0 == "\t" or self.go_mode) and self._frame_line(line, c0):
            return False
        if self.frames:
            self._flush_frames()
        if c0 in _SPECIAL_STARTS and self._structural(line, raw, c0):
            return False
        if self.diff_header:
            self.diff_header = False
        win = self.win
        if force_keep or (errors and is_error_line(line)) or (rare and has_location(line)):
            win.keep_once(line)
            return False
        if c0 in _VCS_STARTS and is_vcs_meta(line):
            win.verbatim(line)
            return False
        if rare:
            if is_passing_test(line):
                win.passing(line)
                return False
            if is_progress(line):
                self.acct.removed(RULE_PROGRESS, line)
                return False
        if c0 == "{":
            jkey = json_key(line)
            if jkey is not None:
                self.code_ema *= 0.9
                win.foldable(line, jkey)
                return False
        elif c0 in _LISTING_STARTS and self._listing_start(line):
            return False
        codey = is_code_like(line)
        self.code_ema = ema = self.code_ema * 0.9 + (1.0 if codey else 0.0)
        if codey or ema > 2.5:
            win.verbatim(line)
            return False
        return True

    def _hunk_line(self, raw: str) -> bool:
        c = raw[:1]
        if c == " " or c == "":
            self.hunk_old -= 1
            self.hunk_new -= 1
        elif c == "-":
            self.hunk_old -= 1
        elif c == "+":
            self.hunk_new -= 1
        elif c != "\\":
            self.hunk_old = self.hunk_new = 0  # malformed hunk: back to normal processing
            return False
        self.win.verbatim(_clean.strip_ansi(raw), True)
        return True

    def _tb_line(self, line: str, c0: str) -> None:
        tb = self.tb
        assert tb is not None
        tb.append(line)
        if c0 != " " and c0 != "\t":  # the exception line closes the block
            self._flush_tb()
        elif len(tb) >= _MAX_BLOCK:
            self._flush_tb()
            self.tb = []

    def _frame_line(self, line: str, c0: str) -> bool:
        if c0 == " " or c0 == "\t":
            if frame_kind(line) is None:
                return False
        elif not (line.endswith(")") or line.startswith("created by ")):
            return False  # Go mode: function lines "pkg.fn(...)" head a frame
        self.frames.append(line)
        if len(self.frames) >= _MAX_BLOCK:
            self._flush_frames()
        return True

    def _structural(self, line: str, raw: str, c0: str) -> bool:
        """Fence openers, diff headers, traceback starts, goroutine headers."""
        if c0 in "`~ ":
            marker = fence_open(line)
            if marker is not None:
                self.fence = marker
                self.win.verbatim(raw)
                return True
        if c0 in "di-+@rncoBs" and self._diff_line(line, raw):
            return True
        if line.lstrip().startswith(PY_TB_START):
            self.tb = [line]
            return True
        if c0 == "g" and line.startswith("goroutine ") and line.endswith("]:"):
            self.go_mode = True
            self.win.verbatim(line)
            return True
        return False

    def _diff_line(self, line: str, raw: str) -> bool:
        if line.startswith("@@"):
            sizes = hunk_sizes(line)
            if sizes is not None:
                self.hunk_old, self.hunk_new = sizes
                self.diff_header = False
                self.win.verbatim(line)
                return True
        if line.startswith("diff ") or (self.diff_header and is_diff_header(line)):
            self.diff_header = True
            self.win.verbatim(_clean.strip_ansi(raw))
            return True
        if line.startswith(("--- ", "+++ ")) and not line.startswith("--- PASS"):
            self.diff_header = True
            self.win.verbatim(_clean.strip_ansi(raw))
            return True
        self.diff_header = False
        return False

    # ---------------------------------------------------------------- listings
    def _listing_start(self, line: str) -> bool:
        """A listing line outside a run (already known not to be must-keep): starts a run."""
        entry = listing_entry(line)
        if entry is None:
            return False
        self.code_ema *= 0.9
        self.listing = run = ListingRun()
        run.admit(run.parent(*entry))
        self.win.verbatim(line)
        return True

    def _listing_line(self, line: str, force_keep: bool) -> bool:
        """A cleaned line while a listing run is open: True when it belongs to the run (and was
        handled), False when it ended the run (the caller routes it)."""
        entry = listing_entry(line)
        if entry is None:
            self._flush_listing()
            return False
        self.prev_blank = False
        self.code_ema *= 0.9
        run = self.listing
        assert run is not None
        where = run.parent(*entry)
        if force_keep or is_error_line(line) or has_location(line):
            self._listing_marker(run)
            self.win.keep_once(line)
            return True
        if run.admit(where):
            self._listing_marker(run)
            self.win.verbatim(line)
            return True
        if run.fold(entry[0], line):
            self.acct.removed(RULE_LISTING, line)
        return True

    def _listing_marker(self, run: ListingRun) -> None:
        """Write what a run folded since its last written entry: the line itself when it was
        one, else a marker."""
        folded, first, kinds = run.take()
        if not folded or first is None:
            return
        if folded == 1:
            self.win.verbatim(first)
            return
        self.acct.removed(RULE_LISTING, first)
        text = listing_marker("", folded, kinds)
        self.acct.added(RULE_LISTING, text)
        self.win.verbatim(text)

    def _flush_listing(self) -> None:
        run, self.listing = self.listing, None
        if run is not None:
            self._listing_marker(run)

    def _blank(self) -> None:
        if self.listing is not None:
            self._flush_listing()
        self.go_mode = False
        if self.tb is not None:
            self.tb.append("")
            return
        if self.frames:
            self._flush_frames()
        if self.prev_blank:
            self.acct.removed(RULE_BLANK, "")
            return
        self.prev_blank = True
        self.win.verbatim("")

    def _flush_tb(self) -> None:
        block, self.tb = self.tb or [], None
        out, folded = fold_python_traceback(block)
        self._account_fold(block, out, folded)

    def _flush_frames(self) -> None:
        block, self.frames = self.frames, []
        out, folded = fold_frames(block)
        self._account_fold(block, out, folded)

    def _account_fold(self, block: list[str], out: list[str], folded: int) -> None:
        if folded:
            kept = set(out)
            for ln in block:
                if ln not in kept:
                    self.acct.removed(RULE_FRAMES, ln)
            for ln in out:
                if (
                    ln.lstrip().startswith("[… ")
                    and ln.endswith("]")
                    and "library frames folded" in ln
                ):
                    self.acct.added(RULE_FRAMES, ln)
        for ln in out:
            if ln:
                self.prev_blank = False
                self.win.verbatim(ln)
            elif not self.prev_blank:
                self.prev_blank = True
                self.win.verbatim("")
            else:
                self.acct.removed(RULE_BLANK, "")

    def report(self, lines_in: int, chars_in: int, tokens_before: int | None) -> CompressionReport:
        return CompressionReport(
            lines_in,
            self.lines_out,
            chars_in,
            self.chars_out,
            tokens_before,
            self.out.drain() if tokens_before is not None else None,
            self.acct.reports(),
        )


def compress_stream(
    lines: Iterable[str],
    write: Callable[[str], object],
    count: Count | None = None,
    *,
    window: dict[str, int] | None = None,
    batched: bool = True,
    mask_secrets: bool = True,
) -> CompressionReport:
    """Mask secrets in, clean and compress ``lines`` (with or without terminators, e.g.
    ``sys.stdin``), writing output lines (each ending in ``\\n``) through ``write``. Memory is
    bounded by the window (``window`` may override ``max_entries``, ``max_lines``, ``max_chars``
    of :class:`~.window.FamilyWindow`). ``count`` (e.g. an o200k token counter) is optional; without
    it every token figure is None. ``batched=False`` judges every line on its own, without the
    batch scans: the same result, slower (the reference the batched path is tested against).
    ``mask_secrets=False`` leaves secrets as they are (``--keep-secrets``)."""
    st = _Stream(write, count, window, batched, mask_secrets)
    inp = _Counter(count)
    n_in = chars_in = 0
    unterminated: str | None = None  # a line given without "\n": it had one if another follows
    batch: list[str] = []
    append = batch.append
    for raw in lines:
        n_in += 1
        chars_in += len(raw)
        if raw[-1:] == "\n":
            if count is not None:
                if unterminated is not None:
                    inp.add(unterminated + "\n")
                    unterminated = None
                inp.add(raw)
            append(raw[:-1])
        else:
            if count is not None:
                if unterminated is not None:
                    inp.add(unterminated + "\n")
                unterminated = raw
            append(raw)
        if len(batch) >= _LINES_PER_BATCH:
            st.feed_lines(batch)
            batch = []
            append = batch.append
    if batch:
        st.feed_lines(batch)
    if unterminated is not None:
        inp.add(unterminated)  # the input's own last line, counted as given
    st.finish()
    return st.report(n_in, chars_in, inp.drain() if count is not None else None)


def compress_chunks(
    chunks: Iterable[str],
    write: Callable[[str], object],
    count: Count | None = None,
    *,
    window: dict[str, int] | None = None,
    mask_secrets: bool = True,
) -> CompressionReport:
    """:func:`compress_stream` for text arriving in pieces of any size (e.g. 1 MiB reads of a
    pipe): lines are split on ``\\n`` here, a line cut between two pieces is joined first.
    Same output and report as ``compress_stream`` over the same text's lines."""
    if count is not None:
        return compress_stream(
            _split_chunks(chunks), write, count, window=window, mask_secrets=mask_secrets
        )
    st = _Stream(write, None, window, mask_secrets=mask_secrets)
    n_in = chars_in = 0
    carry = ""
    for chunk in chunks:
        if not chunk:
            continue
        chars_in += len(chunk)
        lines = (carry + chunk).split("\n") if carry else chunk.split("\n")
        carry = lines.pop()
        n_in += len(lines)
        if lines:
            st.feed_lines(lines)
    if carry:
        n_in += 1
        st.feed_lines([carry])
    st.finish()
    return st.report(n_in, chars_in, None)


def _split_chunks(chunks: Iterable[str]) -> Iterable[str]:
    """The lines (with ``\\n``) of text given in pieces."""
    carry = ""
    for chunk in chunks:
        parts = (carry + chunk).split("\n")
        carry = parts.pop()
        for part in parts:
            yield part + "\n"
    if carry:
        yield carry


def compress_text(
    text: str, count: Count | None = None, *, mask_secrets: bool = True
) -> CompressionResult:
    """Compress a prompt held in memory. Output ends with ``\\n`` when it is not empty."""
    parts: list[str] = []
    rep = compress_stream(_clean.split_lines(text), parts.append, count, mask_secrets=mask_secrets)
    out = "".join(parts)
    if count is not None:
        # One exact count each for a prompt (the stream counts in chunks).
        rep = CompressionReport(
            rep.lines_in,
            rep.lines_out,
            rep.chars_in,
            rep.chars_out,
            count(text),
            count(out),
            rep.rules,
        )
    return CompressionResult(out, rep.tokens_before, rep.tokens_after, rep.rules, rep)
