"""Unsigned LEB128 varints and a bounds-checked reader, for the byte formats of learned codecs."""
from __future__ import annotations


def write_varint(out: bytearray, value: int) -> None:
    """Append ``value`` as an unsigned LEB128 varint."""
    if value < 0:
        raise ValueError(f"cannot write negative varint {value}")
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return


def write_bytes(out: bytearray, data: bytes) -> None:
    """Append ``data`` with its length as a varint in front."""
    write_varint(out, len(data))
    out += data


def start_format(magic: bytes, version: int, name: str, what: str) -> bytearray:
    """A format's first bytes: its magic, its version byte, and ``name`` (e.g. the setting) as one
    length byte and UTF-8; ``what`` says what the name is, for the error when it is too long."""
    encoded = name.encode("utf-8")
    if len(encoded) > 255:
        raise ValueError(f"{what} longer than 255 bytes: {name!r}")
    out = bytearray(magic)
    out.append(version)
    out.append(len(encoded))
    out += encoded
    return out


class Reader:
    """Reads a byte format front to back; a short stream is a one-line ``ValueError``."""

    def __init__(self, data: bytes, format_name: str) -> None:
        self.data = bytes(data)
        self.offset = 0
        self.format_name = format_name

    def take(self, count: int) -> bytes:
        if self.offset + count > len(self.data):
            raise ValueError(f"truncated {self.format_name} bitstream: it ends before the data its header announces")
        chunk = self.data[self.offset : self.offset + count]
        self.offset += count
        return chunk

    def varint(self) -> int:
        value, shift = 0, 0
        while True:
            byte = self.take(1)[0]
            value |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                return value

    def short_string(self) -> str:
        """A name written by :func:`start_format` (one length byte, then UTF-8)."""
        return self.take(self.take(1)[0]).decode("utf-8")

    def sized_bytes(self) -> bytes:
        """Bytes written by :func:`write_bytes`."""
        return self.take(self.varint())

    def expect_magic(self, magic: bytes, versions: tuple[int, ...]) -> int:
        """Check the format's magic bytes and that its version byte is one of ``versions``; return the version."""
        if self.take(len(magic)) != magic:
            raise ValueError(f"not a bitstream of the {self.format_name} format (bad magic bytes); decode it with the codec that wrote it")
        found = self.take(1)[0]
        if found not in versions:
            readable = ", ".join(str(version) for version in versions)
            raise ValueError(f"{self.format_name} bitstream format version {found} is not supported (this reader: {readable})")
        return found
