# cython: language_level=3
"""FASTA text -> packed genome planes (see common.pxd for the layout)."""
from libc.stdint cimport uint64_t, int64_t, uint8_t

cdef uint8_t INVALID = 0x80
cdef uint8_t CODE[256]

cdef void _init_table() noexcept:
    cdef int i
    for i in range(256):
        CODE[i] = INVALID
    # bits 0-1: base code; bit 2: non-ACGT letter; bit 3: lowercase
    cdef bytes upper = b"ACGTURYSWKMBDHVN"
    cdef int codes[16]
    codes[:] = [0, 1, 2, 3, 3, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4]
    for i in range(16):
        CODE[upper[i]] = <uint8_t>codes[i]
        CODE[upper[i] + 32] = <uint8_t>(codes[i] | 8)

_init_table()


def pack_bases(const unsigned char[::1] seq, uint64_t[:, ::1] blocks, uint64_t[::1] soft,
               int64_t offset):
    """OR the bases of ``seq`` into zeroed ``blocks``/``soft`` from base ``offset``.

    Returns -1, or the index of the first byte that is not an IUPAC letter.
    """
    cdef Py_ssize_t n = seq.shape[0], i
    cdef int64_t pos
    cdef uint8_t c
    cdef uint64_t bit
    cdef Py_ssize_t bad = -1
    with nogil:
        for i in range(n):
            c = CODE[seq[i]]
            if c & INVALID:
                bad = i
                break
            pos = offset + i
            bit = (<uint64_t>1) << (pos & 63)
            if c & 4:
                blocks[pos >> 6, 2] |= bit
            else:
                if c & 2:
                    blocks[pos >> 6, 0] |= bit
                if c & 1:
                    blocks[pos >> 6, 1] |= bit
            if c & 8:
                soft[pos >> 6] |= bit
    return bad


def decode(const uint64_t[:, ::1] blocks, int64_t start, int64_t length):
    """Upper-case ACGT text of ``length`` bases from ``start``; non-ACGT bases read 'N'."""
    cdef bytearray out = bytearray(length)
    cdef unsigned char* o = out
    cdef int64_t i, pos
    cdef uint64_t hi, lo, nn
    cdef const char* letters = b"ACGT"
    with nogil:
        for i in range(length):
            pos = start + i
            nn = (blocks[pos >> 6, 2] >> (pos & 63)) & 1
            if nn:
                o[i] = 78  # 'N'
            else:
                hi = (blocks[pos >> 6, 0] >> (pos & 63)) & 1
                lo = (blocks[pos >> 6, 1] >> (pos & 63)) & 1
                o[i] = letters[hi * 2 + lo]
    return bytes(out)


def decode_many(const uint64_t[:, ::1] blocks, const uint64_t[::1] soft,
                const int64_t[::1] starts, const int64_t[::1] ends):
    """Letters of many ranges at once (concatenated, 'N' for non-ACGT) and, per range,
    whether any base is soft-masked. Used to render hits without a Python call per base."""
    cdef Py_ssize_t n = starts.shape[0], i
    cdef int64_t total = 0, pos, k = 0
    for i in range(n):
        total += ends[i] - starts[i]
    cdef bytearray out = bytearray(total)
    cdef unsigned char* o = out
    cdef uint8_t[::1] masked = bytearray(n)
    cdef const char* letters = b"ACGT"
    with nogil:
        for i in range(n):
            for pos in range(starts[i], ends[i]):
                if (blocks[pos >> 6, 2] >> (pos & 63)) & 1:
                    o[k] = 78
                else:
                    o[k] = letters[((blocks[pos >> 6, 0] >> (pos & 63)) & 1) * 2
                                   + ((blocks[pos >> 6, 1] >> (pos & 63)) & 1)]
                if (soft[pos >> 6] >> (pos & 63)) & 1:
                    masked[i] = 1
                k += 1
    return bytes(out), bytes(masked)
