"""Cutting a long text stream into pieces whose o200k token counts add up exactly.

Counting a 200 MB log in one call would hold its whole token list; counting it line by line
is slow; counting arbitrary 1 MB slices is slightly wrong, because a pre-tokeniser piece can
straddle the cut (``".\\n\\n"`` is one piece, and so is a run of blank lines). The cuts here
are placed only where every piece of the whole text ends anyway.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

#: A line start where a cut leaves every pre-tokeniser piece intact: after "\n", the line is not
#: blank (no newline in its leading whitespace) and does not start with "/". Why this is exact
#: for o200k's pattern: a piece holding a newline comes either from ``\s*[\r\n]+``, which is
#: tried before the other whitespace alternatives and so ends a whitespace run at its last
#: newline, or from `` ?[^\s\p{L}\p{N}]+[\r\n/]*``, which goes on only through more newlines
#: or a "/". No alternative looks behind, and the one look-ahead, ``\s+(?!\S)``, is never
#: reached for a run that holds a newline. So at such a line start every piece of the whole
#: text ends, and each side splits on its own exactly as it did inside the whole. (Python's
#: ``\s`` is a superset of Unicode White_Space, which only makes this test stricter.)
_LINE_CUT = re.compile(r"\n(?=[^\s/]|[^\S\r\n]+\S)")
_LINE_START_CUT = re.compile(r"[^\s/]|[^\S\r\n]+\S")


def can_cut_before_line(line: str) -> bool:
    """Whether text ending in ``"\n"`` may be cut right before ``line`` with an exact count
    (the :data:`_LINE_CUT` rule, for callers that see a stream line by line)."""
    return _LINE_START_CUT.match(line) is not None


#: Second choice inside one very long line: between an ASCII letter and " <ASCII letter>",
#: where a word piece ends and the next (" word") begins, in the whole text as in the parts.
_WORD_CUT = re.compile(r"[A-Za-z](?= [A-Za-z])")
#: Without either kind of cut within this many targets, cut anyway (bounded memory, inexact).
FORCED_CUT_FACTOR = 4


def _cut_position(text: str, start: int, target: int, may_force: bool) -> int | None:
    """Where to end the piece that begins at ``start``: the first safe cut at or after
    ``start + target``, or None to wait for more text."""
    search_from = start + target - 1
    line = _LINE_CUT.search(text, search_from)
    if line is not None:
        return line.end()
    if not may_force:
        return None
    word = _WORD_CUT.search(text, search_from)
    if word is not None:
        return word.end()
    cut = start + target
    if "\ud800" <= text[cut - 1] <= "\udbff":  # keep a surrogate pair together
        cut += 1
    return cut


def exact_pieces(chunks: Iterable[str], target: int) -> Iterator[str]:
    """Re-cut a stream of text into pieces of about ``target`` characters (or more, up to the
    next safe cut) whose o200k counts add up to the count of the whole stream.

    Cuts are made only where :data:`_LINE_CUT` (else, on a line longer than
    ``FORCED_CUT_FACTOR × target``, :data:`_WORD_CUT`) allows, so the sum is exact. Only when
    such a stretch has neither is it cut blindly, which may change the total by a few tokens
    per cut. Memory stays bounded by about ``FORCED_CUT_FACTOR × target`` characters.
    """
    pending: list[str] = []
    pending_size = 0
    next_attempt = target
    for chunk in chunks:
        pending.append(chunk)
        pending_size += len(chunk)
        if pending_size < next_attempt:
            continue
        text = "".join(pending)
        start = 0
        while len(text) - start >= target:
            may_force = len(text) - start >= FORCED_CUT_FACTOR * target
            cut = _cut_position(text, start, target, may_force)
            if cut is None:
                break
            yield text[start:cut]
            start = cut
        rest = text[start:]
        pending, pending_size = ([rest] if rest else []), len(rest)
        # After a failed search, wait for another quarter target before searching again.
        next_attempt = max(target, pending_size + target // 4)
    if pending_size:
        yield "".join(pending)
