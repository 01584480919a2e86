"""Pure-Python twin of :mod:`pmcore._kernels.pack` (test oracle and fallback)."""

from __future__ import annotations

import numpy as np

_BASES = {"A": 0, "C": 1, "G": 2, "T": 3, "U": 3}
_OTHER = set("RYSWKMBDHVN")


def pack_bases(seq, blocks, soft, offset: int) -> int:
    text = bytes(seq).decode("latin-1")
    for i, ch in enumerate(text):
        up = ch.upper()
        if up not in _BASES and up not in _OTHER:
            return i
        pos = offset + i
        w, bit = pos >> 6, np.uint64(1 << (pos & 63))
        if up in _BASES:
            code = _BASES[up]
            if code & 2:
                blocks[w, 0] |= bit
            if code & 1:
                blocks[w, 1] |= bit
        else:
            blocks[w, 2] |= bit
        if ch != up:
            soft[w] |= bit
    return -1


def decode(blocks, start: int, length: int) -> bytes:
    out = []
    for pos in range(start, start + length):
        w, b = pos >> 6, pos & 63
        if (int(blocks[w, 2]) >> b) & 1:
            out.append("N")
        else:
            out.append("ACGT"[((int(blocks[w, 0]) >> b) & 1) * 2 + ((int(blocks[w, 1]) >> b) & 1)])
    return "".join(out).encode()


def decode_many(blocks, soft, starts, ends):
    text, masked = [], []
    for a, b in zip(starts, ends):
        text.append(decode(blocks, int(a), int(b) - int(a)))
        masked.append(any((int(soft[p >> 6]) >> (p & 63)) & 1 for p in range(int(a), int(b))))
    return b"".join(text), bytes(masked)
