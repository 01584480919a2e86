# Shared C-level helpers of the pmcore kernels.
from libc.stdint cimport uint64_t, int64_t

# Genome store blocks: 64 bases per block, three words per block (hi bit, lo bit, non-ACGT
# bit of each base; bit t of a word is base 64*block + t). A=00 C=01 G=10 T=11.
cdef enum:
    PLANE_HI = 0
    PLANE_LO = 1
    PLANE_N = 2
    NPLANES = 3

cdef inline uint64_t word_at(const uint64_t* plane_words, int64_t pos, int plane) noexcept nogil:
    """64 bases of one plane starting at base position ``pos`` (pos >= 0)."""
    cdef int64_t w = pos >> 6
    cdef int o = <int>(pos & 63)
    if o == 0:
        return plane_words[w * NPLANES + plane]
    return (plane_words[w * NPLANES + plane] >> o) | (plane_words[(w + 1) * NPLANES + plane] << (64 - o))
