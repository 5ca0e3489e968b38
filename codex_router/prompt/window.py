"""The bounded output window: families of similar lines fold inside it, everything else keeps
its order. Memory is bounded by the number of *stored* lines (exemplars, the second member of
each family, verbatim lines) and the family table, both capped; folded lines are only counted.
When a cap is reached the window is rendered and starts afresh, so a 200 MB log streams through
with constant memory (families are then folded per window).
"""

from __future__ import annotations

from collections.abc import Callable

from .reducers import family_marker
from .structured import JSON_KEY_PREFIX, RULE_JSON

RULE_FAMILIES = "line_families"
RULE_DUPLICATES = "duplicate_lines"
RULE_PASSING = "passing_tests"
RULE_BLANK = "blank_lines"

MIN_FOLD = 3  # a family folds from its third member on: exemplar + marker replace >= 2 lines
# Stored in place of an empty line that must not be squeezed (inside code fences and diff hunks);
# compared by identity, so no input line can be mistaken for it.
_KEPT_BLANK = "\x00kept-blank\x00"


class Accounting:
    """Where reducers report what they removed (lines) and the marker lines they added.

    An accounting whose ``text_needed`` is False only counts lines: the window then reports
    the folded members of a family at once (:meth:`removed_lines`) instead of one by one."""

    text_needed = True

    def removed(self, rule: str, text: str) -> None:
        raise NotImplementedError

    def removed_lines(self, rule: str, count: int) -> None:
        raise NotImplementedError

    def added(self, rule: str, text: str) -> None:
        raise NotImplementedError


class _Family:
    """One family of lines in the window: its size, where its exemplar and second member are
    stored, and its first and last members (for the marker)."""

    __slots__ = ("count", "first_idx", "second_idx", "first", "last", "rule")

    def __init__(self, idx: int, line: str, rule: str) -> None:
        self.rule = rule
        self.count = 1
        self.first_idx = idx
        self.second_idx = -1
        self.first = line
        self.last = line


class FamilyWindow:
    """Collects output entries in order and renders them through ``write`` on :meth:`flush`."""

    def __init__(
        self,
        write: Callable[[str], None],
        acct: Accounting,
        *,
        max_entries: int = 8192,
        max_lines: int = 200_000,
        max_chars: int = 8 << 20,
    ) -> None:
        self._write = write
        self._acct = acct
        self.max_entries = max_entries
        self.max_lines = max_lines
        self.max_chars = max_chars
        self._reset()
        self._prev_blank = False

    def _reset(self) -> None:
        self.entries: list[str | None] = []
        self.families: dict[str, _Family] = {}
        self.seen: dict[str, list[int]] = {}  # must-keep text -> [entry index, extra copies]
        self.pass_idx = -1
        self.pass_count = 0
        self.pass_first = ""
        self.lines = 0
        self.chars = 0

    def _store(self, line: str) -> int:
        self.entries.append(line)
        self.chars += len(line)
        return len(self.entries) - 1

    def _tick(self) -> None:
        self.lines += 1
        if (
            len(self.entries) >= self.max_entries
            or self.lines >= self.max_lines
            or self.chars >= self.max_chars
        ):
            self.flush()

    def verbatim(self, line: str, protected: bool = False) -> None:
        """A line written exactly as given, in place (code, diffs, frames, git metadata).
        ``protected`` empty lines (code, diffs) are never squeezed with their neighbours."""
        self._store(_KEPT_BLANK if protected and not line else line)
        self._tick()

    def keep_once(self, line: str) -> None:
        """A must-keep line: written verbatim; exact repeats in the window become a count."""
        hit = self.seen.get(line)
        if hit is not None:
            hit[1] += 1
            self._acct.removed(RULE_DUPLICATES, line)
        else:
            self.seen[line] = [self._store(line), 0]
        self._tick()

    def foldable(self, line: str, key: str) -> None:
        """A log-like line that may fold into the family of lines with the same ``key``."""
        # The hottest call of a log: _store and _tick inlined; a folded member stores nothing,
        # so only the line cap can be reached by it.
        fam = self.families.get(key)
        self.lines += 1
        if fam is not None and fam.count >= 2:
            fam.count += 1
            fam.last = line
            if self._acct.text_needed:
                self._acct.removed(fam.rule, line)
            if self.lines >= self.max_lines:
                self.flush()
            return
        entries = self.entries
        if fam is None:
            self.families[key] = _Family(
                len(entries), line, RULE_JSON if key.startswith(JSON_KEY_PREFIX) else RULE_FAMILIES
            )
        else:
            fam.count = 2
            fam.last = line
            fam.second_idx = len(entries)
        entries.append(line)
        self.chars += len(line)
        if (
            len(entries) >= self.max_entries
            or self.lines >= self.max_lines
            or self.chars >= self.max_chars
        ):
            self.flush()

    def passing(self, line: str) -> None:
        """A passing-test line: all of them in the window collapse to one count line."""
        if self.pass_count == 0:
            self.pass_idx = self._store(line)
            self.pass_first = line
        self._acct.removed(RULE_PASSING, line)
        self.pass_count += 1
        self._tick()

    # ------------------------------------------------------------------ rendering
    def flush(self) -> None:
        """Render the window: drop folded second members, write exemplars with their markers."""
        entries = self.entries
        markers: dict[int, _Family] = {}
        text_needed = self._acct.text_needed
        for fam in self.families.values():
            if fam.count >= MIN_FOLD:
                if not text_needed:  # the members after the second, not reported one by one
                    self._acct.removed_lines(fam.rule, fam.count - MIN_FOLD + 1)
                second = entries[fam.second_idx]
                if second is not None:
                    self._acct.removed(fam.rule, second)
                entries[fam.second_idx] = None
                markers[fam.first_idx] = fam
        dup_after = {idx: extra for idx, extra in self.seen.values() if extra}
        if self.pass_count:
            if self.pass_count == 1:  # one line: keep it, a count would not be shorter
                self._acct.added(RULE_PASSING, self.pass_first)
            else:
                text = f"[{self.pass_count} passing-test lines folded]"
                entries[self.pass_idx] = text
                self._acct.added(RULE_PASSING, text)
        write = self._write
        n = len(entries)
        i = 0
        while i < n:
            e = entries[i]
            if e is None:
                i += 1
                continue
            if e is _KEPT_BLANK:
                e = ""
            elif not e:
                if self._prev_blank:  # folding can bring blank separators together
                    self._acct.removed(RULE_BLANK, e)
                    i += 1
                    continue
                self._prev_blank = True
            else:
                self._prev_blank = False
            write(e + "\n")
            marked = markers.get(i)
            if marked is not None:
                i = self._write_group(i, marked, markers)
            extra = dup_after.get(i)
            if extra:
                text = f"[+{extra} identical]"
                write(text + "\n")
                self._acct.added(RULE_DUPLICATES, text)
            i += 1
        self._reset()

    def _write_group(self, i: int, fam: _Family, markers: dict[int, _Family]) -> int:
        """Write the exemplars that directly follow ``i`` and whose families have the same count
        (a repeated block of lines), then one marker; return the last index written."""
        entries, n = self.entries, len(self.entries)
        block = 1
        j = i + 1
        while j < n:
            if entries[j] is None:
                j += 1
                continue
            nxt = markers.get(j)
            if nxt is None or nxt.count != fam.count:
                break
            self._write(entries[j] + "\n")  # type: ignore[operator]
            block += 1
            i = j
            j += 1
        text = family_marker(fam.count - 1, fam.first, fam.last, block=block)
        self._write(text + "\n")
        self._acct.added(fam.rule, text)
        self._prev_blank = False
        return i
