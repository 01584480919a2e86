# Body of the off-target scan kernel, compiled four times: ``scan.pyx`` for any x86-64 /
# other CPU, ``scan_popcnt.pyx`` with the POPCNT instruction, ``scan_avx2.pyx`` with AVX2
# and ``scan_avx512.pyx`` with AVX-512F as well (the best one the CPU runs is chosen at
# run time). Keep this file free of anything that differs between the builds.
"""Off-target scan kernel: PAM candidates by bit-parallel masks, then mismatch and bulge
counting by XOR/popcount on 64-base windows of the packed genome.

The kernel knows nothing about guides as strings: the Python planner
(:mod:`pmcore.offtarget`) hands it, per strand, the PAM constraints, each query's bit
words and the bulge variants as bit masks. See ``scan_py.py`` for the slow twin.
"""
import numpy as np
from libc.stdint cimport uint64_t, uint32_t, int64_t, int32_t, int8_t, uint8_t, uintptr_t
from pmcore._kernels.common cimport word_at, PLANE_HI, PLANE_LO, PLANE_N, NPLANES

cdef extern from *:
    """
    static inline int pm_popcount(unsigned long long x) { return __builtin_popcountll(x); }
    static inline int pm_ctz(unsigned long long x) { return __builtin_ctzll(x); }
    /* mismatch bits of a window against a query with degenerate letters: slots 2-7 of
       the query words are care, A, C, G, T and "non-ACGT admitted" masks */
    static __attribute__((noinline)) unsigned long long pm_mism_general(
            unsigned long long h, unsigned long long l, unsigned long long n,
            const uint64_t* q) {
        unsigned long long nn = ~n;
        unsigned long long match = (~h & ~l & nn & q[3]) | (~h & l & nn & q[4])
                                   | (h & ~l & nn & q[5]) | (h & l & nn & q[6]) | (n & q[7]);
        return ~match & q[2];
    }
    #if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    #error "the scan kernel reads bit streams at byte offsets: little-endian CPUs only"
    #endif
    /* Candidate masks of a batch of blocks, four blocks per vector (one AVX2
       instruction in the AVX2 build, two SSE2 ones elsewhere). */
    typedef uint64_t pm_v4 __attribute__((vector_size(32), aligned(1), may_alias));
    #define PM_LD(p) (*(const pm_v4*)(p))
    /* pm_terms' vectors: eight words (one zmm register) in the AVX-512 build */
    #if defined(__AVX512F__)
    #define PM_VW 8
    #else
    #define PM_VW 4
    #endif
    #define PM_NV (32 / PM_VW)
    typedef uint64_t pm_vec __attribute__((vector_size(8 * PM_VW), aligned(1), may_alias));
    #define PM_LDV(p) (*(const pm_vec*)(p))
    static void pm_terms(uint64_t* restrict out,
                         const uint64_t* restrict start,
                         const char* const* restrict srcs, const int32_t* restrict shifts,
                         const unsigned char* restrict ends, int nrows, int nb) {
        /* out[j] = OR over terms (runs of rows, each closed by ends[r]) of start[j] AND
           the term's rows, for blocks j < nb rounded up to 32. Row r admits the lanes
           of block j set in the bit stream at byte srcs[r] + 8 j, advanced by
           shifts[r] (0-7) bits. 32 blocks per step (eight AVX2 or four AVX-512
           vectors) keep the accumulators in registers; a term's start and the result
           stay in memory. */
        int j, r, v;
        for (j = 0; j < nb; j += 32) {
            pm_vec acc[PM_NV];
            for (v = 0; v < PM_NV; v++) {
                acc[v] = PM_LDV(start + j + PM_VW * v);
                *(pm_vec*)(out + j + PM_VW * v) = acc[v] ^ acc[v];
            }
            for (r = 0; r < nrows; r++) {
                const char* c = srcs[r] + 8 * j;
                int sh = shifts[r];
                if (sh == 0) {
                    for (v = 0; v < PM_NV; v++) acc[v] &= PM_LDV(c + 8 * PM_VW * v);
                } else {
                    int back = 64 - sh;
                    for (v = 0; v < PM_NV; v++)
                        acc[v] &= (PM_LDV(c + 8 * PM_VW * v) >> sh)
                                  | (PM_LDV(c + 8 + 8 * PM_VW * v) << back);
                }
                if (ends[r]) {
                    for (v = 0; v < PM_NV; v++) {
                        *(pm_vec*)(out + j + PM_VW * v) |= acc[v];
                        acc[v] = PM_LDV(start + j + PM_VW * v);
                    }
                }
            }
        }
    }
    static void pm_shift_copy(uint64_t* restrict dst,
                              const uint64_t* restrict src, long n, int s) {
        /* the bit stream of src advanced by s bits (0 < s < 64) */
        const uint64_t* restrict nxt = src + 1;
        long i;
        for (i = 0; i < n; i++) dst[i] = (src[i] >> s) | (nxt[i] << (64 - s));
    }
    static void pm_base_words(uint64_t* restrict bw,
                              const uint64_t* restrict planes, long n,
                              long stride) {
        /* bw[c * stride + i], c = A, C, G, T, non-ACGT: the bases of block i of the
           hi/lo/non-ACGT plane triples at ``planes`` that are c */
        long i;
        for (i = 0; i < n; i++) {
            unsigned long long h = planes[3 * i], l = planes[3 * i + 1], x = planes[3 * i + 2];
            bw[i] = ~(h | l | x);
            bw[stride + i] = ~h & l & ~x;
            bw[2 * stride + i] = h & ~l & ~x;
            bw[3 * stride + i] = h & l & ~x;
            bw[4 * stride + i] = x;
        }
    }
    static uint64_t pm_busy(const uint64_t* restrict a,
                                      const uint64_t* restrict b, int n) {
        /* bit j set when a[j] | b[j] is not zero (j < n <= 64) */
        uint64_t m = 0;
        int j = 0;
    #ifdef __AVX2__
        typedef double pm_d4 __attribute__((vector_size(32)));
        for (; j + 4 <= n; j += 4) {
            pm_v4 z = PM_LD(a + j) | PM_LD(b + j);
            pm_v4 nz = (pm_v4)(z != (z ^ z));
            m |= (uint64_t)__builtin_ia32_movmskpd256((pm_d4)nz) << j;
        }
    #endif
        for (; j < n; j++) m |= (uint64_t)((a[j] | b[j]) != 0) << j;
        return m;
    }
    static int pm_cpu_level(void) {
        /* the kernel builds this CPU runs: 0 generic, 1 POPCNT, 2 AVX2, 3 AVX-512F
           (each level needs the ones below it) */
        int level = 0;
    #if defined(__x86_64__) || defined(__i386__)
        __builtin_cpu_init();
        if (__builtin_cpu_supports("popcnt")) {
            level = 1;
            if (__builtin_cpu_supports("avx2")) {
                level = 2;
                if (__builtin_cpu_supports("avx512f")) level = 3;
            }
        }
    #endif
        return level;
    }
    """
    int pm_cpu_level() noexcept nogil
    uint64_t pm_busy(const uint64_t* a, const uint64_t* b, int n) noexcept nogil
    void pm_base_words(uint64_t* bw, const uint64_t* planes, long n, long stride) noexcept nogil
    void pm_terms(uint64_t* out, const uint64_t* start, const char** srcs,
                  const int32_t* shifts, const unsigned char* ends, int nrows,
                  int nb) noexcept nogil
    void pm_shift_copy(uint64_t* dst, const uint64_t* src, long n, int s) noexcept nogil
    unsigned long long pm_mism_general(unsigned long long h, unsigned long long l,
                                       unsigned long long n,
                                       const uint64_t* q) noexcept nogil
    int pm_popcount(unsigned long long x) noexcept nogil
    int pm_ctz(unsigned long long x) noexcept nogil

# Blocks with at least this many candidate anchors on a strand are first thinned by the
# block-at-once filter (dense_filter); sparser blocks go straight to the per-anchor path,
# which is cheaper there (measured: a threshold of 4 made NGG scans 2-7x slower). The
# filter pays off most with bulges, where each surviving anchor costs several windows.
DEF DENSE_MIN_BULGE = 12
DEF DENSE_MIN_SIMPLE = 48

# Query word layout (per query and strand): see QW_* indices.
DEF QW_HI = 0
DEF QW_LO = 1
DEF QW_CARE = 2
DEF QW_A = 3
DEF QW_C = 4
DEF QW_G = 5
DEF QW_T = 6
DEF QW_DEG = 7


# Blocks per batch of candidate masks (small enough for the batch to stay in L1), and
# the length of each per-batch word array: the block before the batch, the batch, the
# block after it and room for the vector loads' overreach.
DEF BATCH = 256
DEF STRIDE = BATCH + 4


cdef void batch_words(const uint64_t* words, int64_t b0, int nb, uint64_t* bw) noexcept nogil:
    """Base words of blocks ``b0 - 1 .. b0 + nb``: for c = A, C, G, T, non-ACGT, word
    ``bw[c * STRIDE + i]`` has bit t set when base t of block ``b0 - 1 + i`` is c."""
    cdef int c
    if b0 > 0:
        pm_base_words(bw, words + (b0 - 1) * NPLANES, nb + 2, STRIDE)
        return
    # nothing before the genome's leading padding block: read as non-ACGT letters
    for c in range(4):
        bw[c * STRIDE] = 0
    bw[4 * STRIDE] = ~(<uint64_t>0)
    pm_base_words(bw + 1, words, nb + 1, STRIDE)


cdef struct RowSet:
    # rows of a PAM or seed row set in the form pm_terms takes; code = allowed-base mask
    # (A=1 C=2 G=4 T=8) + 16 when a non-ACGT letter is admitted
    int n
    int32_t* code
    int32_t* off
    int32_t* shift  # bits pm_terms shifts the row's stream by (0: a shifted copy is read)
    unsigned char* end
    const char** src


cdef object rowset_init(RowSet* rs, const int32_t[:, ::1] rows, bint seed):
    """Fill ``rs`` from rows ``(offset, allowed mask, non-ACGT admitted, [last of term])``
    (PAM rows form one term); returns the arrays it points into, which the caller keeps
    alive."""
    cdef Py_ssize_t r, n = rows.shape[0]
    cdef int32_t[::1] code = np.empty(n + 1, dtype=np.int32)
    cdef int32_t[::1] off = np.empty(n + 1, dtype=np.int32)
    cdef uint8_t[::1] end = np.empty(n + 1, dtype=np.uint8)
    cdef uintptr_t[::1] src = np.empty(n + 1, dtype=np.uintp)
    cdef int32_t[::1] shift = np.zeros(n + 1, dtype=np.int32)
    for r in range(n):
        off[r] = rows[r, 0]
        code[r] = rows[r, 1] | (16 if rows[r, 2] else 0)
        end[r] = <uint8_t>(rows[r, 3] if seed else r == n - 1)
    rs.n = <int>n
    rs.code = &code[0]
    rs.off = &off[0]
    rs.shift = &shift[0]
    rs.end = &end[0]
    rs.src = <const char**>&src[0]
    return (code, off, end, src, shift)


cdef inline bint single_code(int code) noexcept nogil:
    """The row code admits one base, or only non-ACGT letters: a base array serves it."""
    return code == 1 or code == 2 or code == 4 or code == 8 or code == 16


cdef int rowsets_shifts(RowSet** sets, int nsets, int32_t* slot_of) noexcept:
    """Choose how each row gets its bit alignment: rows sharing (bases, offset mod 8) with
    another row read one shifted copy built per batch; a row alone shifts its own words
    (two loads and two shifts, cheaper than building a copy for one reader).

    Numbers the derived arrays a batch needs (shifted copies, unions of several bases) in
    ``slot_of[code * 8 + shift]`` (-1: none) and returns how many there are."""
    cdef int uses[256]
    cdef int i, r, slot, code, shift, n = 0
    for i in range(256):
        uses[i] = 0
        slot_of[i] = -1
    for i in range(nsets):
        for r in range(sets[i].n):
            uses[sets[i].code[r] * 8 + (sets[i].off[r] & 7)] += 1
    for i in range(nsets):
        for r in range(sets[i].n):
            code = sets[i].code[r]
            shift = sets[i].off[r] & 7
            sets[i].shift[r] = 0 if uses[code * 8 + shift] > 1 else shift
            if not single_code(code) and slot_of[code * 8] < 0:  # the union itself
                slot_of[code * 8] = n
                n += 1
            if shift and sets[i].shift[r] == 0 and slot_of[code * 8 + shift] < 0:
                slot_of[code * 8 + shift] = n
                n += 1
    return n


cdef const uint64_t* code_words(const uint64_t* bw, uint64_t* srcbuf, const int32_t* slot_of,
                                int32_t* stamp, int32_t batch_no, int code, int shift,
                                int nb) noexcept nogil:
    """The batch's words of the bases admitted by ``code``, advanced by ``shift`` (0-7)
    bits: a base array, or a derived array of ``srcbuf`` built once per batch."""
    cdef int b, i, slot = code * 8 + shift
    cdef uint64_t* u
    if shift == 0 and single_code(code):
        return bw + pm_ctz(code) * STRIDE
    u = srcbuf + slot_of[slot] * STRIDE
    if stamp[slot] == batch_no:
        return u
    stamp[slot] = batch_no
    if shift:
        pm_shift_copy(u, code_words(bw, srcbuf, slot_of, stamp, batch_no, code, 0, nb), nb + 2,
                      shift)
        return u
    for i in range(nb + 2):
        u[i] = 0
    for b in range(5):
        if (code >> b) & 1:
            for i in range(nb + 2):
                u[i] |= bw[b * STRIDE + i]
    return u


cdef void rowset_sources(RowSet* rs, const uint64_t* bw, uint64_t* srcbuf,
                         const int32_t* slot_of, int32_t* stamp, int32_t batch_no,
                         int nb) noexcept nogil:
    """Point each row at the word whose bit t is the row's test for lane t of the batch's
    first block: an array advanced by ``offset mod 8`` bits, read ``offset div 8`` bytes
    past its entry for that block (x86 and other little-endian CPUs: bit i of a word is
    bit i mod 8 of its byte i div 8)."""
    cdef int r, shift, off
    for r in range(rs.n):
        off = rs.off[r]
        shift = off & 7
        rs.src[r] = (<const char*>code_words(bw, srcbuf, slot_of, stamp, batch_no, rs.code[r],
                                              0 if rs.shift[r] else shift, nb)
                     + 8 + (off - shift) // 8)


cdef void batch_masks(RowSet* pam, RowSet* seed, const uint64_t* ones, uint64_t* pacc,
                      int nb, uint64_t* out) noexcept nogil:
    """Candidate anchors of each block of a batch on one strand: every PAM row holds and,
    when there are seed rows, so do all rows of some seed term.

    A row (window offset k, admitted bases) holds at anchor s when the genome base at
    s + k is admitted.
    """
    if seed.n == 0:
        pm_terms(out, ones, pam.src, pam.shift, pam.end, pam.n, nb)
        return
    pm_terms(pacc, ones, pam.src, pam.shift, pam.end, pam.n, nb)
    pm_terms(out, pacc, seed.src, seed.shift, seed.end, seed.n, nb)


cdef inline uint64_t mism_bits(uint64_t h, uint64_t l, uint64_t n,
                               const uint64_t* q, bint general) noexcept nogil:
    """Mismatch bit per query position for a window whose planes are h/l/n."""
    if not general:
        return ((h ^ q[QW_HI]) | (l ^ q[QW_LO]) | n) & q[QW_CARE]
    # out of line on purpose: inlined, the compiler computed it for every guide
    return pm_mism_general(h, l, n, q)



cdef inline uint64_t base_at(const uint64_t* prv, const uint64_t* cur, const uint64_t* nxt,
                             int code, int off) noexcept nogil:
    """Lanes t (anchors p0 + t) whose base at p0 + t + off (-64 < off < 64) is admitted by
    ``code`` (bits 0-3: A, C, G, T; bit 4: a non-ACGT letter is admitted)."""
    cdef uint64_t c = 0, n = 0, p = 0
    cdef int b
    for b in range(4):
        if (code >> b) & 1:
            c |= cur[b]
            n |= nxt[b]
            p |= prv[b]
    if code & 16:
        c |= cur[4]
        n |= nxt[4]
        p |= prv[4]
    if off == 0:
        return c
    if off > 0:
        return (c >> off) | (n << (64 - off))
    return (c << (-off)) | (p >> (64 + off))


cdef inline void counter_init(uint64_t* c, int start) noexcept nogil:
    cdef int i
    for i in range(4):
        c[i] = ~(<uint64_t>0) if (start >> i) & 1 else 0


cdef inline uint64_t counter_add(uint64_t* c, uint64_t x) noexcept nogil:
    """Add one to the 4-bit counters of lanes ``x``; return the lanes that overflowed."""
    cdef uint64_t t0 = c[0] & x
    c[0] ^= x
    cdef uint64_t t1 = c[1] & t0
    c[1] ^= t0
    cdef uint64_t t2 = c[2] & t1
    c[2] ^= t1
    cdef uint64_t t3 = c[3] & t2
    c[3] ^= t2
    return t3


cdef uint64_t dense_filter(const uint64_t* prv, const uint64_t* cur, const uint64_t* nxt,
                           uint64_t lanes, int strand, Py_ssize_t nq,
                           const int8_t* qk, const int8_t* qc, const int32_t* qn,
                           const int32_t* qm, const int32_t[:, ::1] groups,
                           int max_shift) noexcept nogil:
    """Anchors of one block that may hold a hit of any query (a superset, never fewer).

    Counts mismatches of all 64 anchors at once, one query position at a time, with
    bit-sliced 4-bit counters that start at 15 - limit so that an overflow means "over
    the limit": the plain site needs popcount(x0) <= m; a bulge group with window shift
    d needs popcount(x0 & xd) <= m + bonus (the bound the exact path tests first). A lane
    leaves a group's set when it overflows; querying stops when every set is empty.
    """
    cdef uint64_t keep = 0, any_live, m0, md, over
    cdef uint64_t cnt[8][4]
    cdef uint64_t live[8]
    cdef int shift[8]
    cdef Py_ssize_t qi, g, ng = groups.shape[0], i
    cdef int k, j, code, n_g, npos
    for qi in range(nq):
        n_g = 0
        for g in range(ng):
            if groups[g, 0] != strand or n_g >= 8:
                continue
            shift[n_g] = groups[g, 3] if groups[g, 1] != 0 else 0
            counter_init(cnt[n_g], 15 - (qm[qi] + groups[g, 8]))
            live[n_g] = lanes
            n_g += 1
        npos = qn[qi * 2 + strand]
        for i in range(npos):
            k = qk[(qi * 2 + strand) * 64 + i]
            code = qc[(qi * 2 + strand) * 64 + i]
            m0 = ~base_at(prv, cur, nxt, code, k)
            any_live = 0
            for j in range(n_g):
                if shift[j] == 0:
                    md = m0
                else:
                    md = m0 & ~base_at(prv, cur, nxt, code, k + shift[j])
                over = counter_add(cnt[j], md & live[j])
                live[j] &= ~over
                any_live |= live[j]
            if any_live == 0:
                break
        for j in range(n_g):
            keep |= live[j]
        if keep == lanes:
            break
    return keep



cdef inline Py_ssize_t emit(int32_t[::1] out_q, int64_t[::1] out_pos, int8_t[::1] out_strand,
                            int8_t[::1] out_type, int8_t[::1] out_size, int8_t[::1] out_bpos,
                            int8_t[::1] out_mm, Py_ssize_t nh, Py_ssize_t qi, int64_t s,
                            int strand, int btype, int bsize, int bpos, int cnt) noexcept nogil:
    """Append one hit row; returns the new row count."""
    out_q[nh] = <int32_t>qi
    out_pos[nh] = s
    out_strand[nh] = <int8_t>strand
    out_type[nh] = <int8_t>btype
    out_size[nh] = <int8_t>bsize
    out_bpos[nh] = <int8_t>bpos
    out_mm[nh] = <int8_t>cnt
    return nh + 1


def scan_range(const uint64_t[:, ::1] blocks, int64_t lo, int64_t hi,
               int64_t cstart, int64_t cend, int width, int max_shift,
               const int32_t[:, ::1] pam_f, const int32_t[:, ::1] pam_r,
               const uint64_t[:, :, ::1] qwords, const uint8_t[::1] qgeneral,
               const int32_t[::1] qmax,
               const int32_t[:, ::1] groups, const uint64_t[:, ::1] vmasks,
               const int32_t[::1] vpos, const int32_t[:, ::1] seed_f,
               const int32_t[:, ::1] seed_r, bint all_placements,
               int32_t[::1] out_q, int64_t[::1] out_pos, int8_t[::1] out_strand,
               int8_t[::1] out_type, int8_t[::1] out_size, int8_t[::1] out_bpos,
               int8_t[::1] out_mm):
    """Scan anchors ``[lo, hi)`` of one contig ``[cstart, cend)``.

    Output room is checked per 64-anchor block (``128 * per_anchor`` rows).

    ``groups`` rows: (strand, type, size, shift, v0, v1, ext_lo, ext_hi, rna_bonus):
    the bulge variants v0..v1 of one strand/type/size share the window shift ``shift``;
    a site of that group spans ``[s + ext_lo, s + ext_hi)`` for anchor ``s``. Row
    ``vmasks[v]`` = (bits counted in the shifted window, bits counted in the unshifted
    window, filter mask). Type 0 (no bulge) groups have v0 == v1.

    ``seed_f`` / ``seed_r``: seed filter rows per strand (see ``batch_masks``; no rows,
    no filter).

    Returns ``(n_hits, next_anchor)``; ``next_anchor < hi`` means the output arrays
    filled up and the call must be repeated from there.
    """
    cdef Py_ssize_t nq = qwords.shape[0], cap = out_q.shape[0], ng = groups.shape[0]
    cdef Py_ssize_t per_anchor = nq * (ng + (vmasks.shape[0] if all_placements else 0)) + 1
    cdef const uint64_t* words = &blocks[0, 0]
    cdef Py_ssize_t nh = 0, qi, g, v, best_v
    cdef int64_t b_lo, b_hi, blk, p0, s, next_anchor = hi
    cdef uint64_t cf, cr, cand, wh, wl, wn, h0, l0, n0, x0, xd, lowmask
    cdef int t, strand, gtype, gsize, gshift, cnt, best, m, sh, j
    cdef const uint64_t* q
    cdef bint general
    # per query and strand: window positions that count, with their admitted-base codes
    # (for the block-at-once filter of dense candidate blocks)
    cdef int8_t[:, :, ::1] qk = np.zeros((max(nq, 1), 2, 64), dtype=np.int8)
    cdef int8_t[:, :, ::1] qc = np.zeros((max(nq, 1), 2, 64), dtype=np.int8)
    cdef int32_t[:, ::1] qn = np.zeros((max(nq, 1), 2), dtype=np.int32)
    cdef int kk, npos
    cdef uint64_t bit
    for qi in range(nq):
        for strand in range(2):
            npos = 0
            for kk in range(64):
                bit = (<uint64_t>1) << kk
                if not (qwords[qi, strand, QW_CARE] & bit):
                    continue
                qk[qi, strand, npos] = kk
                qc[qi, strand, npos] = ((1 if qwords[qi, strand, QW_A] & bit else 0)
                                        | (2 if qwords[qi, strand, QW_C] & bit else 0)
                                        | (4 if qwords[qi, strand, QW_G] & bit else 0)
                                        | (8 if qwords[qi, strand, QW_T] & bit else 0)
                                        | (16 if qwords[qi, strand, QW_DEG] & bit else 0))
                npos += 1
            qn[qi, strand] = npos
    cdef uint64_t bw_prv[5]
    # raw pointers: the bulge loop indexes these per candidate and guide
    cdef const int32_t* gp = &groups[0, 0]
    cdef const uint64_t* vm = &vmasks[0, 0] if vmasks.shape[0] > 0 else NULL
    cdef const int32_t* vp = &vpos[0] if vpos.shape[0] > 0 else NULL
    cdef bint any_general = False
    # per candidate: the valid bulge groups and their shifted window planes
    cdef int32_t vg[32]
    cdef uint64_t vh[32]
    cdef uint64_t vl[32]
    cdef uint64_t vn[32]
    cdef int nvalid, k
    for qi in range(nq):
        if qgeneral[qi]:
            any_general = True
    if lo < 64 - max_shift:
        lo = 64 - max_shift
    if hi <= lo:
        return 0, hi
    # mismatch-only searches take a tight loop: no bulge groups to visit
    cdef bint simple = ng == 2 and groups[0, 1] == 0 and groups[1, 1] == 0
    cdef const uint64_t* qbase = &qwords[0, 0, 0] if nq > 0 else NULL
    cdef Py_ssize_t qstride = qwords.shape[2]
    cdef const int32_t* qm = &qmax[0] if nq > 0 else NULL
    cdef const uint8_t* qg = &qgeneral[0] if nq > 0 else NULL
    cdef int64_t x_lo = cstart, x_hi = cend - width  # anchors whose plain site fits
    cdef uint64_t bw_cur[5]
    cdef uint64_t bw_nxt[5]
    cdef uint64_t pw_cur[3]
    cdef uint64_t pw_nxt[3]
    cdef int b
    # candidate masks, computed a batch of blocks at a time
    cdef uint64_t[::1] scratch = np.zeros(9 * STRIDE, dtype=np.uint64)
    cdef uint64_t* bw = &scratch[0]  # base words: 5 arrays
    cdef uint64_t* ones = bw + 5 * STRIDE
    cdef uint64_t* pacc = bw + 6 * STRIDE
    cdef uint64_t* masks_f = bw + 7 * STRIDE
    cdef uint64_t* masks_r = bw + 8 * STRIDE
    # per (row code, bit shift): the derived word array's number and the batch that built it
    cdef int32_t[::1] slot_of = np.empty(32 * 8, dtype=np.int32)
    cdef int32_t[::1] stamps = np.full(32 * 8, -1, dtype=np.int32)
    cdef int32_t batch_no = 0
    cdef RowSet rows_pf, rows_pr, rows_sf, rows_sr
    keep = (rowset_init(&rows_pf, pam_f, False), rowset_init(&rows_pr, pam_r, False),
            rowset_init(&rows_sf, seed_f, True), rowset_init(&rows_sr, seed_r, True))
    cdef RowSet* all_sets[4]
    all_sets[0] = &rows_pf
    all_sets[1] = &rows_pr
    all_sets[2] = &rows_sf
    all_sets[3] = &rows_sr
    cdef uint64_t[::1] derived = np.empty(
        max(1, rowsets_shifts(all_sets, 4, &slot_of[0])) * STRIDE, dtype=np.uint64)
    for j in range(BATCH):
        ones[j] = ~(<uint64_t>0)
    cdef int64_t batch0 = 0
    cdef uint64_t busy
    cdef bint full = False
    cdef int nb, part
    b_lo = lo >> 6
    b_hi = (hi + 63) >> 6
    with nogil:
        blk = b_lo
        while blk < b_hi and not full:
            batch0 = blk
            nb = <int>min(<int64_t>BATCH, b_hi - blk)
            blk += nb
            batch_words(words, batch0, nb, bw)
            batch_no += 1
            for b in range(4):
                rowset_sources(all_sets[b], bw, &derived[0], &slot_of[0], &stamps[0], batch_no,
                               nb)
            batch_masks(&rows_pf, &rows_sf, ones, pacc, nb, masks_f)
            batch_masks(&rows_pr, &rows_sr, ones, pacc, nb, masks_r)
            # visit the blocks with a candidate on either strand, 64 blocks' flags at a time
            part = 0
            busy = pm_busy(masks_f, masks_r, min(nb, 64))
            while True:
                while busy == 0 and part + 64 < nb:
                    part += 64
                    busy = pm_busy(masks_f + part, masks_r + part, min(nb - part, 64))
                if busy == 0:
                    break
                j = part + pm_ctz(busy)
                busy &= busy - 1
                p0 = (batch0 + j) * 64
                lowmask = ~(<uint64_t>0)
                if p0 < lo:
                    lowmask &= ~(<uint64_t>0) << (lo - p0)
                if p0 + 64 > hi:
                    lowmask &= ((<uint64_t>1) << (hi - p0)) - 1
                cf = masks_f[j] & lowmask
                cr = masks_r[j] & lowmask
                if (cf | cr) == 0:
                    continue
                if cap - nh < 128 * per_anchor:
                    # not enough room for a whole block: find the first anchor to redo
                    next_anchor = p0 + pm_ctz(cf | cr)
                    full = True
                    break
                for b in range(3):
                    pw_cur[b] = words[(batch0 + j) * NPLANES + b]
                    pw_nxt[b] = words[(batch0 + j + 1) * NPLANES + b]
                for strand in range(2):
                    cand = cf if strand == 0 else cr
                    if nq > 0 and pm_popcount(cand) >= (DENSE_MIN_SIMPLE if simple
                                                         else DENSE_MIN_BULGE):
                        for b in range(5):
                            bw_prv[b] = bw[b * STRIDE + j]
                            bw_cur[b] = bw[b * STRIDE + j + 1]
                            bw_nxt[b] = bw[b * STRIDE + j + 2]
                        cand = dense_filter(bw_prv, bw_cur, bw_nxt, cand, strand, nq,
                                            &qk[0, 0, 0], &qc[0, 0, 0], &qn[0, 0], qm, groups,
                                            max_shift)
                    while cand:
                        t = pm_ctz(cand)
                        cand &= cand - 1
                        s = p0 + t
                        if simple:
                            if s < x_lo or s > x_hi:
                                continue
                            # the window lies in this block and the next: shift it out of
                            # the planes already in registers
                            if t == 0:
                                h0 = pw_cur[0]
                                l0 = pw_cur[1]
                                n0 = pw_cur[2]
                            else:
                                h0 = (pw_cur[0] >> t) | (pw_nxt[0] << (64 - t))
                                l0 = (pw_cur[1] >> t) | (pw_nxt[1] << (64 - t))
                                n0 = (pw_cur[2] >> t) | (pw_nxt[2] << (64 - t))
                            if not any_general:  # the usual case: A/C/G/T guides only
                                for qi in range(nq):
                                    q = qbase + (qi * 2 + strand) * qstride
                                    x0 = ((h0 ^ q[QW_HI]) | (l0 ^ q[QW_LO]) | n0) & q[QW_CARE]
                                    cnt = pm_popcount(x0)
                                    if cnt <= qm[qi]:
                                        nh = emit(out_q, out_pos, out_strand, out_type, out_size,
                                                  out_bpos, out_mm, nh, qi, s, strand, 0, 0, -1,
                                                  cnt)
                            else:
                                for qi in range(nq):
                                    q = qbase + (qi * 2 + strand) * qstride
                                    x0 = mism_bits(h0, l0, n0, q, qg[qi])
                                    cnt = pm_popcount(x0)
                                    if cnt <= qm[qi]:
                                        nh = emit(out_q, out_pos, out_strand, out_type, out_size,
                                                  out_bpos, out_mm, nh, qi, s, strand, 0, 0, -1,
                                                  cnt)
                            continue
                        # one window read serves every query and shift
                        wh = word_at(words, s - max_shift, PLANE_HI)
                        wl = word_at(words, s - max_shift, PLANE_LO)
                        wn = word_at(words, s - max_shift, PLANE_N)
                        h0 = wh >> max_shift
                        l0 = wl >> max_shift
                        n0 = wn >> max_shift
                        # groups of this strand whose site fits the contig at this anchor,
                        # with their shifted windows: the same for every guide
                        nvalid = 0
                        for g in range(ng):
                            if gp[g * 9 + 0] != strand:
                                continue
                            if s + gp[g * 9 + 6] < cstart or s + gp[g * 9 + 7] > cend:
                                continue
                            sh = max_shift + gp[g * 9 + 3]
                            vg[nvalid] = <int32_t>g
                            vh[nvalid] = wh >> sh
                            vl[nvalid] = wl >> sh
                            vn[nvalid] = wn >> sh
                            nvalid += 1
                        for qi in range(nq):
                            q = qbase + (qi * 2 + strand) * qstride
                            general = qg[qi]
                            m = qm[qi]
                            x0 = mism_bits(h0, l0, n0, q, general)
                            for k in range(nvalid):
                                g = vg[k]
                                gtype = gp[g * 9 + 1]
                                if gtype == 0:
                                    cnt = pm_popcount(x0)
                                    if cnt <= m:
                                        nh = emit(out_q, out_pos, out_strand, out_type, out_size,
                                                  out_bpos, out_mm, nh, qi, s, strand, 0, 0, -1,
                                                  cnt)
                                    continue
                                xd = mism_bits(vh[k], vl[k], vn[k], q, general)
                                # every protospacer position is counted in one of the two
                                # windows, so positions mismatched in both bound the count
                                if pm_popcount(xd & x0 & vm[gp[g * 9 + 4] * 3 + 2]) > m + gp[g * 9 + 8]:
                                    continue
                                best = 1000
                                best_v = -1
                                for v in range(gp[g * 9 + 4], gp[g * 9 + 5]):
                                    cnt = pm_popcount(xd & vm[v * 3 + 0]) + pm_popcount(x0 & vm[v * 3 + 1])
                                    if cnt > m:
                                        continue
                                    if all_placements:
                                        nh = emit(out_q, out_pos, out_strand, out_type, out_size,
                                                  out_bpos, out_mm, nh, qi, s, strand, gtype,
                                                  gp[g * 9 + 2], vp[v], cnt)
                                    elif cnt < best:
                                        best = cnt
                                        best_v = v
                                if best_v >= 0:
                                    nh = emit(out_q, out_pos, out_strand, out_type, out_size,
                                              out_bpos, out_mm, nh, qi, s, strand, gtype,
                                              gp[g * 9 + 2], vp[best_v], best)
    return nh, next_anchor


def cpu_has_popcnt():
    """True when this CPU executes the POPCNT instruction."""
    return pm_cpu_level() >= 1


def cpu_has_avx2():
    """True when this CPU executes AVX2 (and POPCNT) instructions."""
    return pm_cpu_level() >= 2


def cpu_has_avx512():
    """True when this CPU executes AVX-512F (and AVX2, POPCNT) instructions."""
    return pm_cpu_level() >= 3


def stream_pass(const uint64_t[:, ::1] blocks):
    """Baseline: one pass over every packed base, counting A, C, G, T and other letters.

    Used by the benchmarks as the unit of time (the cost of touching the whole genome
    once); also a cheap composition summary.
    """
    cdef Py_ssize_t i, n = blocks.shape[0]
    cdef uint64_t h, l, nn
    cdef int64_t a = 0, c = 0, g = 0, tt = 0, other = 0
    with nogil:
        for i in range(n):
            h = blocks[i, 0]
            l = blocks[i, 1]
            nn = blocks[i, 2]
            a += pm_popcount(~h & ~l & ~nn)
            c += pm_popcount(~h & l & ~nn)
            g += pm_popcount(h & ~l & ~nn)
            tt += pm_popcount(h & l & ~nn)
            other += pm_popcount(nn)
    return a, c, g, tt, other
