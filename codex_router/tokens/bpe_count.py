"""Pure-Python o200k token counting, identical to tiktoken's ``encode_ordinary`` for the texts
it accepts.

Two things must match tiktoken exactly:

* **Pre-tokenisation.** The encoding's ``pat_str`` splits the text into pieces; tiktoken runs
  it with Rust's fancy-regex, we run it with the ``regex`` module. The two treat the pattern's
  constructs alike (ordered alternation, greedy quantifiers, ``(?i:…)``, ``(?!\\S)``), but
  carry different Unicode tables: a code point assigned in a recent Unicode version may be a
  letter for one and unassigned for the other, which changes the split. :func:`drifting_ranges`
  finds, once, every code point whose classes (for the properties the pattern uses) differ
  between the ``regex`` module and this Python's ``unicodedata``. tiktoken's Rust tables lie
  between those two versions (here: unicodedata 14.0 on Python 3.11, Rust 16.0 in tiktoken
  0.14, regex 17.0), so a text free of those code points splits the same way in both engines;
  the tests check it for every code point of the BMP and a sample of the others.
  :class:`DriftGuard` refuses texts holding a drifting code point; the caller counts those
  with tiktoken itself.
* **Merging.** Each piece found whole in the ranks is one token; otherwise tiktoken's
  ``_byte_pair_merge`` repeatedly joins the adjacent pair whose concatenation has the lowest
  rank (the leftmost on a tie). :func:`merged_token_count` reproduces it, by a scan for short
  pieces (as tiktoken does) and with a heap for long ones, so a 50 kB run of one script cannot
  take quadratic time in Python.
"""

from __future__ import annotations

import bisect
import heapq
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import re

    import regex as regex_module

#: Returned by a rank look-up for bytes that are not a token (larger than every real rank).
NO_RANK = 1 << 62

RankLookup = Callable[[bytes], int]

#: Pieces up to this many bytes are merged by a linear scan per step (tiktoken's own method);
#: longer ones with a heap. Measured crossover on this machine: ~40–64 bytes.
HEAP_MERGE_MIN_BYTES = 48

#: Bound on the per-process piece → count memo, so all-unique input cannot grow it forever.
PIECE_MEMO_MAX = 1 << 18

#: Unicode White_Space, which is what ``\\s`` means to Rust's regex (stable since Unicode 6.3).
#: Only a reference: a code point on which the ``regex`` module disagrees becomes "drifting".
WHITE_SPACE = frozenset(
    [
        *(0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2028, 0x2029, 0x202F),
        *(0x205F, 0x3000),
        *range(0x2000, 0x200B),
    ]
)

_SURROGATES = range(0xD800, 0xE000)


def without_lone_surrogates(text: str) -> str:
    """What tiktoken encodes when ``text`` cannot be UTF-8 encoded: surrogate pairs joined,
    lone surrogates replaced by U+FFFD (the expression tiktoken's ``encode_ordinary`` uses)."""
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


# ---------------------------------------------------------------- merging


def _scan_merge_count(piece: bytes, rank: RankLookup) -> int:
    """tiktoken's ``_byte_pair_merge``: O(n·merges), fastest for short pieces."""
    starts = list(range(len(piece) + 1))  # boundaries of the current parts
    pair_ranks = [rank(piece[i : i + 2]) for i in range(len(piece) - 1)]
    while pair_ranks:
        best = min(pair_ranks)
        if best == NO_RANK:
            break
        i = pair_ranks.index(best)  # leftmost lowest, like tiktoken's strict `<`
        del starts[i + 1]
        del pair_ranks[i]
        if i < len(pair_ranks):
            pair_ranks[i] = rank(piece[starts[i] : starts[i + 2]])
        if i > 0:
            pair_ranks[i - 1] = rank(piece[starts[i - 1] : starts[i + 1]])
    return len(starts) - 1


def _heap_merge_count(piece: bytes, lookup: RankLookup) -> int:
    """The same merge order as :func:`_scan_merge_count` in O(n log n).

    Heap entries are ``(rank, start, end)`` for the pair of parts spanning ``piece[start:end]``;
    ordering by ``(rank, start)`` is tiktoken's "lowest rank, leftmost" rule. An entry is stale
    once ``start`` was absorbed by its left neighbour or the pair no longer ends at ``end``.
    """
    size = len(piece)
    known: dict[bytes, int] = {}  # long pieces repeat their substrings (runs of "=", "  ", …)

    def rank(token: bytes) -> int:
        value = known.get(token)
        if value is None:
            value = known[token] = lookup(token)
        return value

    next_start = list(range(1, size + 2))  # next_start[s]: where the part after s begins
    prev_start = list(range(-1, size))  # prev_start[s]: where the part before s begins
    alive = [True] * (size + 1)
    heap = [(rank(piece[i : i + 2]), i, i + 2) for i in range(size - 1)]
    heap = [entry for entry in heap if entry[0] != NO_RANK]
    heapq.heapify(heap)
    parts = size
    while heap:
        _, start, end = heapq.heappop(heap)
        middle = next_start[start]
        if not alive[start] or middle >= size or next_start[middle] != end:
            continue
        alive[middle] = False  # the right part joins the left one
        next_start[start] = end
        if end <= size:
            prev_start[end] = start
        parts -= 1
        if end < size:
            after = next_start[end]
            merged_rank = rank(piece[start:after])
            if merged_rank != NO_RANK:
                heapq.heappush(heap, (merged_rank, start, after))
        if start > 0:
            before = prev_start[start]
            merged_rank = rank(piece[before:end])
            if merged_rank != NO_RANK:
                heapq.heappush(heap, (merged_rank, before, end))
    return parts


def merged_token_count(piece: bytes, rank: RankLookup) -> int:
    """Tokens tiktoken makes of one pre-tokenised piece (``byte_pair_encode``)."""
    if len(piece) < 2 or rank(piece) != NO_RANK:
        return 1
    if len(piece) < HEAP_MERGE_MIN_BYTES:
        return _scan_merge_count(piece, rank)
    return _heap_merge_count(piece, rank)


# ---------------------------------------------------------------- Unicode drift


def _property_names(pat_str: str) -> list[str]:
    import re  # lazy: only the one-time index build reads the pattern's properties

    return sorted(set(re.findall(r"\\[pP]\{(\w+)\}", pat_str)))


def _category_runs() -> list[tuple[str, int, int]]:
    """``unicodedata``'s general category as inclusive runs ``(category, first, last)``."""
    import unicodedata  # lazy: only the one-time index build compares Unicode tables

    runs: list[tuple[str, int, int]] = []
    current, first = "Cc", 0
    for codepoint in range(1, 0x110000):
        category = "Cs" if codepoint in _SURROGATES else unicodedata.category(chr(codepoint))
        if category != current:
            runs.append((current, first, codepoint - 1))
            current, first = category, codepoint
    runs.append((current, first, 0x10FFFF))
    return runs


def _unicodedata_members(prop: str, runs: Sequence[tuple[str, int, int]]) -> int:
    """Bit set (one byte per code point) of general category ``prop`` per ``unicodedata``."""
    members = bytearray(0x110000)
    for category, first, last in runs:
        if category == prop or category[0] == prop:
            members[first : last + 1] = b"\x01" * (last - first + 1)
    return int.from_bytes(members, "big")


def _regex_members(pattern: str, everything: str) -> int:
    """Bit set (one byte per code point) of what the ``regex`` module matches with ``pattern``."""
    import regex  # lazy: ~12 ms; only the one-time index build needs it here

    members = bytearray(0x110000)
    for match in regex.finditer(f"(?:{pattern})+", everything):
        run = match.group()
        first, last = ord(run[0]), ord(run[-1])
        if last - first + 1 == len(run):  # consecutive code points: one slice
            members[first : last + 1] = b"\x01" * len(run)
        else:  # the run straddles the (excluded) surrogates
            for char in run:
                members[ord(char)] = 1
    return int.from_bytes(members, "big")


def _ranges(flags: bytes) -> list[tuple[int, int]]:
    """Inclusive ``(first, last)`` runs of the positions where ``flags`` is non-zero."""
    runs: list[tuple[int, int]] = []
    position = flags.find(1)
    while position != -1:
        end = flags.find(0, position)
        end = len(flags) if end == -1 else end
        runs.append((position, end - 1))
        position = flags.find(1, end)
    return runs


def drifting_ranges(pat_str: str) -> list[tuple[int, int]]:
    """Code point ranges whose classes under ``pat_str`` may differ between engines (~0.5 s).

    For each ``\\p{X}`` the pattern uses, compares the ``regex`` module's members with
    ``unicodedata``'s general categories; for ``\\s``, with Unicode White_Space. Surrogates are
    left out: they never reach the pre-tokeniser (see :func:`without_lone_surrogates`).
    """
    everything = "".join(chr(c) for c in range(0x110000) if c not in _SURROGATES)
    runs = _category_runs()
    drift = 0
    for prop in _property_names(pat_str):
        drift |= _unicodedata_members(prop, runs) ^ _regex_members(rf"\p{{{prop}}}", everything)
    white_space = bytearray(0x110000)
    for codepoint in WHITE_SPACE:
        white_space[codepoint] = 1
    drift |= int.from_bytes(white_space, "big") ^ _regex_members(r"\s", everything)
    return _ranges(drift.to_bytes(0x110000, "big"))


def format_ranges(ranges: Iterable[tuple[int, int]]) -> str:
    """``"295-295,558-558,…"``: code point ranges (hex) as stored in the index header."""
    return ",".join(f"{first:x}-{last:x}" for first, last in ranges)


def parse_ranges(text: str) -> list[tuple[int, int]]:
    """The inverse of :func:`format_ranges`."""
    ranges = []
    for item in filter(None, text.split(",")):
        first, last = item.split("-")
        ranges.append((int(first, 16), int(last, 16)))
    return ranges


class DriftGuard:
    """Tells whether a text avoids every drifting code point (see :func:`drifting_ranges`)."""

    def __init__(self, ranges: Sequence[tuple[int, int]]) -> None:
        self._firsts = [first for first, _ in ranges]
        self._lasts = [last for _, last in ranges]
        self._lowest = self._firsts[0] if ranges else 0x110000

    def accepts(self, text: str) -> bool:
        """True when ``text`` has no drifting code point; O(len) in C, then one bisect per
        distinct non-ASCII character."""
        if text.isascii():
            return True
        for char in set(text):
            codepoint = ord(char)
            if codepoint < self._lowest:
                continue
            slot = bisect.bisect_right(self._firsts, codepoint) - 1
            if slot >= 0 and codepoint <= self._lasts[slot]:
                return False
        return True


# ---------------------------------------------------------------- ASCII pre-tokeniser

#: ``\\s`` among ASCII characters: Unicode White_Space (not ``re``'s ``\\s``, which also
#: matches the separators U+001C–U+001F).
_ASCII_SPACE = "".join(chr(c) for c in sorted(WHITE_SPACE) if c < 0x80)


def _class_escape(chars: str) -> str:
    return "".join(f"\\x{ord(char):02x}" for char in chars)


def ascii_pattern(pat_str: str) -> str:
    """``pat_str`` for the standard ``re`` engine, exact on ASCII-only text.

    Every ``\\p{X}`` becomes the ASCII characters of general category X (the same in every
    Unicode version and every engine), ``\\s``/``\\S`` the ASCII White_Space set or its
    complement; the rest of the syntax (alternation, greedy quantifiers, ``(?i:…)``,
    ``(?!…)``) means the same in ``re``. So ASCII text, most prompts and logs, is split
    without importing ``regex`` (~10 ms of every short count). Raises ValueError on a
    construct it does not translate (``\\P{X}``, ``\\S`` inside a class): the caller then
    splits everything with ``regex``.
    """
    import unicodedata  # lazy: only building a splitter reads categories

    def members(prop: str) -> str:
        return "".join(chr(c) for c in range(0x80) if unicodedata.category(chr(c)).startswith(prop))

    out: list[str] = []
    in_class = False
    class_start = 0
    i = 0
    while i < len(pat_str):
        char = pat_str[i]
        if char == "\\":
            escape = pat_str[i : i + 2]
            if escape == "\\p":
                end = pat_str.index("}", i)
                chars = _class_escape(members(pat_str[i + 3 : end]))
                out.append(chars if in_class else f"[{chars}]" if chars else "(?!)")
                i = end + 1
                continue
            if escape == "\\s":
                chars = _class_escape(_ASCII_SPACE)
                out.append(chars if in_class else f"[{chars}]")
            elif escape == "\\S" and not in_class:
                out.append(f"[^{_class_escape(_ASCII_SPACE)}]")
            elif escape in ("\\P", "\\S"):
                raise ValueError(f"{escape} is not translated for ASCII text")
            else:
                out.append(escape)
            i += 2
            continue
        if char == "[" and not in_class:
            in_class = True
            class_start = len(out) + 1
            out.append(pat_str[i : i + 2] if pat_str.startswith("[^", i) else char)
            i += 2 if pat_str.startswith("[^", i) else 1
            continue
        if char == "]" and in_class:
            if not "".join(out[class_start:]):
                raise ValueError("a class with no ASCII member is not translated")
            in_class = False
        out.append(char)
        i += 1
    return "".join(out)


# ---------------------------------------------------------------- the counter


class FastCounter:
    """Counts o200k tokens of texts the :class:`DriftGuard` accepts, without tiktoken.

    ``splitter`` returns the compiled ``pat_str`` (called once, on the first text that is not
    ASCII-only); ``ascii_splitter``, when given, is :func:`ascii_pattern` compiled with ``re``
    and splits ASCII-only texts. ``rank`` maps token bytes to a rank or :data:`NO_RANK`.
    Piece counts are memoised per process (like tiktoken's own cache).
    """

    def __init__(
        self,
        splitter: Callable[[], regex_module.Pattern[str]],
        rank: RankLookup,
        guard: DriftGuard,
        ascii_splitter: re.Pattern[str] | None = None,
    ) -> None:
        self._load_splitter = splitter
        self._split: Callable[[str], list[str]] | None = None
        self._ascii_split = None if ascii_splitter is None else ascii_splitter.findall
        self._rank = rank
        self._guard = guard
        self._memo: dict[str, int] = {}

    def _splitter_for(self, text: str) -> Callable[[str], list[str]]:
        if self._ascii_split is not None and text.isascii():
            return self._ascii_split
        if self._split is None:
            self._split = self._load_splitter().findall
        return self._split

    def count(self, text: str) -> int | None:
        """The exact count, or None when ``text`` holds a drifting code point."""
        try:
            return self._count_pieces(text)
        except UnicodeEncodeError:  # lone surrogates: count what tiktoken would count
            return self._count_pieces(without_lone_surrogates(text))

    def _count_pieces(self, text: str) -> int | None:
        if not self._guard.accepts(text):
            return None
        memo = self._memo
        rank = self._rank
        total = 0
        for piece in self._splitter_for(text)(text):
            tokens = memo.get(piece)
            if tokens is None:
                tokens = merged_token_count(piece.encode("utf-8"), rank)
                if len(memo) < PIECE_MEMO_MAX:
                    memo[piece] = tokens
            total += tokens
        return total
