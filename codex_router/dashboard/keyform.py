"""The key form's body, read into buffers that can be wiped (pure but for the zeroing).

A posted form (``application/x-www-form-urlencoded``) is decoded straight from the request body
(a ``bytearray``) into one ``bytearray`` per accepted field, never into ``str``: a ``str`` cannot
be overwritten, a ``bytearray`` can, and :func:`wipe` overwrites every buffer with zeros once the
keys are handed over. Fields other than :data:`KEY_FIELDS` are ignored and wiped too.
"""

from __future__ import annotations

from collections.abc import Iterable

#: The provider keys the form takes (the earlier key-session page's, plus Claude's).
KEY_FIELDS = ("OPENAI_API_KEY", "GEMINI_API_KEY", "ANTHROPIC_API_KEY", "HF_TOKEN")
#: A body larger than this is no key form (4 keys of a few hundred bytes each).
MAX_FORM_BYTES = 64 * 1024

_HEX = b"0123456789abcdefABCDEF"


class KeyFormError(ValueError):
    """A form that is not what the page sends; the message names the field, never its value."""


def wipe(buffers: Iterable[bytearray]) -> None:
    """Overwrite every buffer with zeros (their length stays, their content is gone)."""
    for buffer in buffers:
        buffer[:] = bytes(len(buffer))


def _nibble(digit: int) -> int:
    """A hex digit's value, computed from the byte (no bytes or str copy of the key's text)."""
    if digit <= 0x39:
        return digit - 0x30
    return (digit | 0x20) - 0x61 + 10


def _unquote_into(raw: bytearray, start: int, end: int) -> bytearray:
    """``raw[start:end]`` percent- and plus-decoded into a new bytearray (no bytes copy made)."""
    out = bytearray()
    i = start
    while i < end:
        byte = raw[i]
        if byte == 0x2B:  # '+'
            out.append(0x20)
            i += 1
        elif byte == 0x25 and i + 2 < end and raw[i + 1] in _HEX and raw[i + 2] in _HEX:
            out.append(_nibble(raw[i + 1]) << 4 | _nibble(raw[i + 2]))
            i += 3
        else:
            out.append(byte)
            i += 1
    return out


def _strip(buffer: bytearray) -> None:
    """Remove surrounding whitespace in place (what a paste often carries)."""
    while buffer and buffer[-1] in b" \t\r\n":
        buffer.pop()
    lead = 0
    while lead < len(buffer) and buffer[lead] in b" \t\r\n":
        lead += 1
    if lead:
        # shifting left leaves no copy of the leading part behind: the tail is cut off
        del buffer[:lead]


def parse_key_form(body: bytearray) -> dict[str, bytearray]:
    """The non-empty key fields of a posted form, each in its own bytearray.

    Raises :class:`KeyFormError` (naming the field only) for a value that cannot be an API key:
    not printable ASCII once decoded. Every buffer made here is wiped before an error leaves.
    """
    if len(body) > MAX_FORM_BYTES:
        raise KeyFormError(f"the form is larger than {MAX_FORM_BYTES // 1024} KiB")
    fields: dict[str, bytearray] = {}
    made: list[bytearray] = []
    try:
        start = 0
        size = len(body)
        while start < size:
            end = body.find(b"&", start)
            if end < 0:
                end = size
            equals = body.find(b"=", start, end)
            name_end = equals if equals >= 0 else end
            name = bytes(_unquote_into(body, start, name_end)).decode("ascii", "replace")
            if name in KEY_FIELDS and equals >= 0:
                value = _unquote_into(body, equals + 1, end)
                made.append(value)
                _strip(value)
                if value:
                    if any(byte < 0x21 or byte > 0x7E for byte in value):
                        raise KeyFormError(
                            f"{name}: an API key is printable ASCII without spaces; paste it again"
                        )
                    if name in fields:
                        wipe([fields[name]])
                    fields[name] = value
            start = end + 1
    except BaseException:
        wipe(made)
        raise
    return fields
