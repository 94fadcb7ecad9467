"""A small PNG reader on the standard library (zlib, struct), for checking screenshots.

Reads the 8-bit, non-interlaced images a browser writes (greyscale, RGB, with or without alpha):
checks every chunk's CRC, decompresses the whole image, and undoes the row filters of the rows
that are read. The two common filters (Sub, Up) run on whole rows as big integers (bytewise
addition without carries between bytes); Average and Paeth go byte by byte.
"""

from __future__ import annotations

import struct
import zlib
from collections import Counter
from pathlib import Path

SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: Channels per pixel of each supported colour type (PNG spec, table 11.1).
_CHANNELS = {0: 1, 2: 3, 4: 2, 6: 4}


class Image:
    """A decoded image; each row is unfiltered when first read, then kept.

    A row filtered with Up, Average or Paeth depends on the row above it, so reading row *y*
    unfilters from the nearest row at or above it that stands alone (None or Sub, or the first
    row). Browsers mix filters row by row, so a few rows of a tall screenshot cost a few rows'
    work, not the whole image's.
    """

    def __init__(self, width: int, height: int, channels: int, data: bytes) -> None:
        """Wrap the decompressed, still filtered image *data* (PNG §7.2)."""
        self.width, self.height, self.channels = width, height, channels
        self.stride = width * channels
        if len(data) != height * (self.stride + 1):
            raise ValueError(
                f"image data is {len(data)} bytes, expected {height * (self.stride + 1)}"
            )
        self._data = data
        self._rows: dict[int, bytes] = {}
        high = int.from_bytes(b"\x80" * self.stride, "big")
        self._masks = (high ^ int.from_bytes(b"\xff" * self.stride, "big"), high)

    def row(self, y: int) -> bytes:
        """Return the unfiltered bytes of row *y*."""
        if not 0 <= y < self.height:
            raise IndexError(f"row {y} outside 0..{self.height - 1}")
        cached = self._rows.get(y)
        if cached is not None:
            return cached
        first = y
        while first > 0 and first - 1 not in self._rows and self._filter(first) > 1:
            first -= 1
        prior = self._rows.get(first - 1, bytes(self.stride))
        for n in range(first, y + 1):
            prior = self._rows[n] = self._unfilter(n, prior)
        return prior

    def rgb(self, x: int, y: int) -> tuple[int, int, int]:
        """Return the colour of pixel (*x*, *y*), alpha dropped and grey spread to RGB."""
        start = x * self.channels
        px = self.row(y)[start : start + self.channels]
        if self.channels <= 2:
            return (px[0], px[0], px[0])
        return (px[0], px[1], px[2])

    def colours(
        self, box: tuple[int, int, int, int] | None = None, *, step: int = 1
    ) -> Counter[tuple[int, int, int]]:
        """Count the colours in *box* (left, top, right, bottom; exclusive), every *step* pixels."""
        left, top, right, bottom = box or (0, 0, self.width, self.height)
        left, top = max(left, 0), max(top, 0)
        right, bottom = min(right, self.width), min(bottom, self.height)
        counts: Counter[tuple[int, int, int]] = Counter()
        for y in range(top, bottom, step):
            counts.update(self.rgb(x, y) for x in range(left, right, step))
        return counts

    def share_not(
        self, colour: tuple[int, int, int], box: tuple[int, int, int, int] | None = None
    ) -> float:
        """Return the share of pixels in *box* whose colour differs from *colour* (0.0 – 1.0)."""
        counts = self.colours(box)
        total = sum(counts.values())
        return (total - counts[colour]) / total if total else 0.0

    def _filter(self, y: int) -> int:
        return self._data[y * (self.stride + 1)]

    def _unfilter(self, y: int, prior: bytes) -> bytes:
        """Undo row *y*'s filter (PNG §9.2), given the unfiltered row above it."""
        stride, bpp = self.stride, self.channels
        start = y * (stride + 1) + 1
        kind, line = self._filter(y), self._data[start : start + stride]
        low, high = self._masks

        def add(a: int, b: int) -> int:
            # Bytewise a + b mod 256: add the low seven bits, then xor in the top bits.
            return ((a & low) + (b & low)) ^ ((a ^ b) & high)

        if kind == 0:
            return line
        if kind == 1:  # Sub: a prefix sum with stride bpp, in log2(width) doubling steps
            value, shift = int.from_bytes(line, "big"), bpp
            while shift < stride:
                value = add(value, value >> (8 * shift))
                shift *= 2
            return value.to_bytes(stride, "big")
        if kind == 2:  # Up
            value = add(int.from_bytes(line, "big"), int.from_bytes(prior, "big"))
            return value.to_bytes(stride, "big")
        if kind in (3, 4):
            return _sequential(kind, line, prior, bpp)
        raise ValueError(f"row {y}: unknown filter type {kind}")


def read_png(path: Path) -> Image:
    """Decode the PNG file at *path*; raise ValueError for anything malformed or unsupported."""
    data = Path(path).read_bytes()
    if not data.startswith(SIGNATURE):
        raise ValueError(f"{path}: not a PNG (bad signature)")
    header: tuple[int, ...] | None = None
    idat = bytearray()
    pos = len(SIGNATURE)
    while pos < len(data):
        if pos + 12 > len(data):
            raise ValueError(f"{path}: truncated chunk at byte {pos}")
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        if len(body) != length or zlib.crc32(kind + body) != crc:
            raise ValueError(f"{path}: chunk {kind!r} at byte {pos} is corrupt")
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
    if header is None or not idat:
        raise ValueError(f"{path}: no IHDR or no image data")
    width, height, depth, colour_type, _compression, _filter, interlace = header
    if depth != 8 or colour_type not in _CHANNELS or interlace != 0:
        raise ValueError(
            f"{path}: unsupported PNG (depth {depth}, colour type {colour_type}, "
            f"interlace {interlace})"
        )
    channels = _CHANNELS[colour_type]
    return Image(width, height, channels, zlib.decompress(idat))


def _sequential(kind: int, line: bytes, prior: bytes, bpp: int) -> bytes:
    """Undo the Average (3) or Paeth (4) filter of one row, byte by byte."""
    out = bytearray(line)
    for i in range(bpp):  # the first pixel has nothing to its left: both predict "up"
        out[i] = (out[i] + (prior[i] >> 1 if kind == 3 else prior[i])) & 0xFF
    if kind == 3:
        for i in range(bpp, len(out)):
            out[i] = (out[i] + ((out[i - bpp] + prior[i]) >> 1)) & 0xFF
        return bytes(out)
    for i in range(bpp, len(out)):
        # Paeth: the neighbour closest to left + up - up_left (distances rearranged).
        left, up, up_left = out[i - bpp], prior[i], prior[i - bpp]
        pa, pb = abs(up - up_left), abs(left - up_left)
        pc = abs(left + up - 2 * up_left)
        if pa <= pb and pa <= pc:
            out[i] = (out[i] + left) & 0xFF
        elif pb <= pc:
            out[i] = (out[i] + up) & 0xFF
        else:
            out[i] = (out[i] + up_left) & 0xFF
    return bytes(out)
