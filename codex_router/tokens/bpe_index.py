"""An on-disk ``token bytes → rank`` table that opens in well under a millisecond.

Building tiktoken's o200k Encoding costs 0.3–0.4 s per process (gunzip, base64 parsing of
200k ranks, Rust build); a short prompt needs a few dozen rank look-ups. So the ranks are
written once into an open-addressing hash table that each process memory-maps and probes in
place, touching only the pages it needs.

File layout (integers little-endian, table native-endian with the byte order recorded):

* fixed header (:data:`_HEADER`): magic, format version, byte order, slot and entry counts,
  metadata length, section offsets, file size, CRC-32 of the body, CRC-32 of the header;
* metadata: length-prefixed UTF-8 ``key, value`` pairs (source sha256, ``pat_str``, …);
* slots, 64-byte aligned: ``slot_count`` × three ``uint32`` — CRC-32 of the token bytes,
  offset of the bytes in the blob (:data:`EMPTY_SLOT` when free), ``length << 24 | rank``;
* blob: every token's bytes, concatenated.

The hash is ``zlib.crc32`` (stable across processes, unlike ``hash()``); probing is linear.
The body CRC is checked on every open (~1–2 ms for the whole file), so a damaged file is
rebuilt instead of silently giving wrong counts.
"""

from __future__ import annotations

import mmap
import os
import struct
import sys
import zlib
from array import array
from collections.abc import Mapping
from pathlib import Path

from codex_router.tokens.bpe_count import NO_RANK, RankLookup

MAGIC = b"CRBPEIDX"
FORMAT_VERSION = 1
EMPTY_SLOT = 0xFFFFFFFF
_SLOT_WORDS = 3
_ALIGN = 64
_MAX_TOKEN_BYTES = 0xFF  # lengths share a word with the rank: 8 bits + 24 bits
_MAX_RANK = 0xFFFFFF
_BYTE_ORDER = {"little": 1, "big": 2}[sys.byteorder]

# magic, format version, byte order, slot count, entry count, metadata length,
# slots offset, blob offset, file size, body CRC, header CRC
_HEADER = struct.Struct("<8sIB3xIIIIIQII")
_HEADER_CRC_FIELD = slice(_HEADER.size - 4, _HEADER.size)
_LENGTH = struct.Struct("<I")


class IndexInvalidError(Exception):
    """The index file is missing, damaged, or was built for other inputs; rebuild it."""


def _pack_metadata(metadata: Mapping[str, str]) -> bytes:
    out = bytearray()
    for key, value in metadata.items():
        for text in (key, value):
            encoded = text.encode("utf-8")
            out += _LENGTH.pack(len(encoded)) + encoded
    return bytes(out)


def _unpack_metadata(data: bytes) -> dict[str, str]:
    texts: list[str] = []
    position = 0
    while position < len(data):
        (length,) = _LENGTH.unpack_from(data, position)
        position += _LENGTH.size
        if position + length > len(data):
            raise IndexInvalidError("metadata overruns its section")
        texts.append(data[position : position + length].decode("utf-8"))
        position += length
    if len(texts) % 2:
        raise IndexInvalidError("metadata has a key without a value")
    return dict(zip(texts[::2], texts[1::2], strict=True))


def _aligned(offset: int) -> int:
    return (offset + _ALIGN - 1) // _ALIGN * _ALIGN


def _slot_count_for(entries: int) -> int:
    """A power of two keeping the load factor at or below ~0.4: short probe runs."""
    slots = 1
    while slots * 2 < entries * 5:
        slots *= 2
    return slots


def _build_table(ranks: Mapping[bytes, int]) -> tuple[array[int], bytes]:
    slot_count = _slot_count_for(len(ranks))
    mask = slot_count - 1
    slots = array("I", [0, EMPTY_SLOT, 0]) * slot_count
    blob = bytearray()
    for token, rank in ranks.items():
        if not 0 < len(token) <= _MAX_TOKEN_BYTES or not 0 <= rank <= _MAX_RANK:
            raise ValueError(f"token of {len(token)} bytes with rank {rank} does not fit the index")
        digest = zlib.crc32(token)
        slot = digest & mask
        while slots[slot * _SLOT_WORDS + 1] != EMPTY_SLOT:
            slot = (slot + 1) & mask
        base = slot * _SLOT_WORDS
        slots[base] = digest
        slots[base + 1] = len(blob)
        slots[base + 2] = len(token) << 24 | rank
        blob += token
    return slots, bytes(blob)


def encode_index(ranks: Mapping[bytes, int], metadata: Mapping[str, str]) -> bytes:
    """The complete index file for ``ranks``, ``metadata`` stored in its header."""
    slots, blob = _build_table(ranks)
    packed_metadata = _pack_metadata(metadata)
    slots_offset = _aligned(_HEADER.size + len(packed_metadata))
    slot_bytes = slots.tobytes()
    blob_offset = slots_offset + len(slot_bytes)
    file_size = blob_offset + len(blob)
    padding = bytes(slots_offset - _HEADER.size - len(packed_metadata))
    body_crc = zlib.crc32(blob, zlib.crc32(slot_bytes))
    fields = (
        MAGIC,
        FORMAT_VERSION,
        _BYTE_ORDER,
        len(slots) // _SLOT_WORDS,
        len(ranks),
        len(packed_metadata),
        slots_offset,
        blob_offset,
        file_size,
        body_crc,
    )
    header = bytearray(_HEADER.pack(*fields, 0))
    header_crc = zlib.crc32(packed_metadata, zlib.crc32(header))
    header[_HEADER_CRC_FIELD] = _LENGTH.pack(header_crc)
    return b"".join((header, packed_metadata, padding, slot_bytes, blob))


def probe_writable(directory: Path) -> None:
    """Create ``directory`` and prove a file can be created in it; raises ``OSError`` if not.

    Checked before the (expensive) build, and by trying: the only test that answers for every
    reason a write can fail (permissions, ACLs, read-only mounts, a file in the way).
    """
    import tempfile  # lazy: ~2 ms; only the one-time index build probes the directory

    directory.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=directory, prefix=".probe.", suffix=".tmp")
    os.close(fd)
    os.unlink(name)


def write_index(path: Path, ranks: Mapping[bytes, int], metadata: Mapping[str, str]) -> None:
    """Build and write the index atomically; concurrent builders each replace it whole."""
    from codex_router.fsutil import atomic_write_bytes  # lazy: tempfile, as above

    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, encode_index(ranks, metadata))


class RankIndex:
    """A memory-mapped, validated index; :meth:`lookup` gives the rank function."""

    def __init__(self, path: Path, mapped: mmap.mmap) -> None:
        self.path = path
        self._mapped = mapped
        self._views: list[memoryview] = []
        try:
            self.metadata, self.entry_count, self._layout = self._validate()
        except BaseException:
            self.close()
            raise

    @classmethod
    def open(cls, path: Path) -> RankIndex:
        """Map and validate ``path``; :class:`IndexInvalidError` if it is absent or damaged."""
        try:
            with open(path, "rb") as handle:
                mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        except (OSError, ValueError) as exc:  # ValueError: an empty file cannot be mapped
            raise IndexInvalidError(f"cannot map {path}: {exc}") from exc
        return cls(path, mapped)

    def _validate(self) -> tuple[dict[str, str], int, tuple[int, int, int]]:
        mapped = self._mapped
        if len(mapped) < _HEADER.size:
            raise IndexInvalidError("shorter than its header")
        header = mapped[: _HEADER.size]
        (
            magic,
            version,
            byte_order,
            slot_count,
            entry_count,
            metadata_length,
            slots_offset,
            blob_offset,
            file_size,
            body_crc,
            header_crc,
        ) = _HEADER.unpack(header)
        if magic != MAGIC:
            raise IndexInvalidError("not an index file (bad magic)")
        if version != FORMAT_VERSION or byte_order != _BYTE_ORDER:
            raise IndexInvalidError(f"format {version}/byte order {byte_order} is not ours")
        if file_size != len(mapped):
            raise IndexInvalidError(f"size {len(mapped)} is not the recorded {file_size}")
        metadata_end = _HEADER.size + metadata_length
        if (
            metadata_end > slots_offset
            or slot_count & (slot_count - 1)
            or slot_count == 0
            or slots_offset + slot_count * _SLOT_WORDS * 4 != blob_offset
            or blob_offset > file_size
            or entry_count > slot_count
        ):
            raise IndexInvalidError("inconsistent section layout")
        metadata_bytes = mapped[_HEADER.size : metadata_end]
        zeroed = header[: _HEADER_CRC_FIELD.start] + bytes(4)
        if zlib.crc32(metadata_bytes, zlib.crc32(zeroed)) != header_crc:
            raise IndexInvalidError("header checksum mismatch")
        body = memoryview(mapped)[slots_offset:]
        try:
            if zlib.crc32(body) != body_crc:
                raise IndexInvalidError("body checksum mismatch")
        finally:
            body.release()
        try:
            metadata = _unpack_metadata(metadata_bytes)
        except (UnicodeDecodeError, struct.error) as exc:
            raise IndexInvalidError(f"unreadable metadata: {exc}") from exc
        return metadata, entry_count, (slot_count, slots_offset, blob_offset)

    def lookup(self) -> RankLookup:
        """``rank(token_bytes)``: the token's rank, or :data:`NO_RANK`."""
        slot_count, slots_offset, blob_offset = self._layout
        whole = memoryview(self._mapped)
        slots = whole[slots_offset:blob_offset].cast("I")
        self._views += [whole, slots]
        blob = self._mapped
        mask = slot_count - 1
        wrap = slot_count * _SLOT_WORDS
        crc32 = zlib.crc32

        def rank(token: bytes) -> int:
            digest = crc32(token)
            base = (digest & mask) * 3
            while True:
                offset = slots[base + 1]
                if offset == EMPTY_SLOT:
                    return NO_RANK
                if slots[base] == digest:
                    packed = slots[base + 2]
                    start = blob_offset + offset
                    if packed >> 24 == len(token) and blob[start : start + (packed >> 24)] == token:
                        return packed & 0xFFFFFF
                base += 3
                if base == wrap:
                    base = 0

        return rank

    @property
    def size_bytes(self) -> int:
        return len(self._mapped)

    def close(self) -> None:
        """Unmap the file; any rank function from :meth:`lookup` must not be used after."""
        for view in reversed(self._views):  # derived views before the ones they came from
            view.release()
        self._views.clear()
        self._mapped.close()
