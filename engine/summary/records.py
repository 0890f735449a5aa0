"""TFRecord framing, the container of TensorBoard event files.

Each record is `uint64 length | uint32 masked_crc32c(length) | data |
uint32 masked_crc32c(data)`, little-endian, where CRC-32C is the Castagnoli
polynomial and the mask is TensorFlow's rotate-and-add (so a CRC of data
that holds CRCs doesn't look like one). Reading checks both checksums.

>>> masked_crc32c(b"")
2726488792
"""
from __future__ import annotations

import os
import struct
from typing import BinaryIO, Iterator

from ..errors import DataLossError

_MASK_DELTA = 0xA282EAD8


def _table() -> list[int]:
    table = []
    for i in range(256):
        crc = i
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1  # reflected Castagnoli polynomial
        table.append(crc)
    return table


_TABLE = _table()


def crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli) of `data`.

    >>> hex(crc32c(b"123456789"))
    '0xe3069283'
    """
    crc = 0xFFFFFFFF
    table = _TABLE
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc32c(data: bytes) -> int:
    """TensorFlow's masked CRC-32C of `data`, as stored in a record."""
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


def encode_record(data: bytes) -> bytes:
    """One framed record holding `data`."""
    header = struct.pack("<Q", len(data))
    return header + struct.pack("<I", masked_crc32c(header)) + data + struct.pack("<I", masked_crc32c(data))


def write_record(f: BinaryIO, data: bytes) -> None:
    """Append one record to the binary file `f` in a single write."""
    f.write(encode_record(data))


def read_records(path: str | os.PathLike) -> Iterator[bytes]:
    """The data of each record in file `path`; DataLossError at a truncated or corrupted record."""
    with open(path, "rb") as f:
        offset = 0
        while True:
            header = f.read(12)
            if not header:
                return
            if len(header) < 12:
                raise DataLossError(f"{path}: truncated record header at byte {offset}")
            length_bytes, length_crc = header[:8], struct.unpack("<I", header[8:])[0]
            if masked_crc32c(length_bytes) != length_crc:
                raise DataLossError(f"{path}: corrupted record length at byte {offset}")
            (length,) = struct.unpack("<Q", length_bytes)
            data, footer = f.read(length), f.read(4)
            if len(data) < length or len(footer) < 4:
                raise DataLossError(f"{path}: truncated record at byte {offset} ({length} bytes announced)")
            if masked_crc32c(data) != struct.unpack("<I", footer)[0]:
                raise DataLossError(f"{path}: corrupted record data at byte {offset}")
            offset += 16 + length
            yield data
