"""The test corpus: a small slice of real logs and tool output, with its licences.

``tests/data/corpus/SOURCES.md`` says where each file comes from and how it was cut. The
benchmarks read the same folder by default and accept ``--corpus DIR`` for a bigger one with
the same layout.
"""

from __future__ import annotations

from pathlib import Path

CORPUS = Path(__file__).resolve().parents[1] / "data" / "corpus"


def corpus_files(root: Path = CORPUS) -> list[Path]:
    """The data files under ``root``, sorted: not ``LICENSES/``, ``SOURCES.md``, ``README*`` or
    dot files. Raises FileNotFoundError when there are none, so a missing corpus fails loudly.
    """
    files = [
        path
        for path in sorted(root.rglob("*"))
        if path.is_file()
        and path.relative_to(root).parts[0] != "LICENSES"
        and path.name != "SOURCES.md"
        and not path.name.startswith(("README", "."))
    ]
    if not files:
        raise FileNotFoundError(f"no corpus data files under {root}")
    return files
