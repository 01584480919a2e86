# Body of the off-target scan kernel, compiled twice: ``scan.pyx`` for any x86-64 / other
# CPU, ``scan_popcnt.pyx`` with the POPCNT instruction enabled (chosen at run time when the
# CPU has it). Keep this file free of anything that differs between the two builds.
"""Off-target scan kernel: PAM candidates by bit-parallel masks, then mismatch and bulge
counting by XOR/popcount on 64-base windows of the packed genome.

The kernel knows nothing about guides as strings: the Python planner
(:mod:`pmcore.offtarget`) hands it, per strand, the PAM constraints, each query's bit
words and the bulge variants as bit masks. See ``scan_py.py`` for the slow twin.
"""
import numpy as np
from libc.stdint cimport uint64_t, int64_t, int32_t, int8_t, uint8_t
from pmcore._kernels.common cimport word_at, PLANE_HI, PLANE_LO, PLANE_N, NPLANES

cdef extern from *:
    """
    static inline int pm_popcount(unsigned long long x) { return __builtin_popcountll(x); }
    static inline int pm_ctz(unsigned long long x) { return __builtin_ctzll(x); }
    /* mismatch bits of a window against a query with degenerate letters: slots 2-7 of
       the query words are care, A, C, G, T and "non-ACGT admitted" masks */
    static __attribute__((noinline)) unsigned long long pm_mism_general(
            unsigned long long h, unsigned long long l, unsigned long long n,
            const unsigned long long* q) {
        unsigned long long nn = ~n;
        unsigned long long match = (~h & ~l & nn & q[3]) | (~h & l & nn & q[4])
                                   | (h & ~l & nn & q[5]) | (h & l & nn & q[6]) | (n & q[7]);
        return ~match & q[2];
    }
    static int pm_cpu_has_popcnt(void) {
    #if defined(__x86_64__) || defined(__i386__)
        __builtin_cpu_init();
        return __builtin_cpu_supports("popcnt");
    #else
        return 0;
    #endif
    }
    """
    int pm_cpu_has_popcnt() noexcept nogil
    unsigned long long pm_mism_general(unsigned long long h, unsigned long long l,
                                       unsigned long long n,
                                       const unsigned long long* q) noexcept nogil
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


cdef inline void base_words(const uint64_t* words, int64_t blk, uint64_t* out) noexcept nogil:
    """For the 64 bases of block ``blk``: one word per base (A, C, G, T) and the
    non-ACGT word."""
    cdef uint64_t h = words[blk * NPLANES + PLANE_HI]
    cdef uint64_t l = words[blk * NPLANES + PLANE_LO]
    cdef uint64_t n = words[blk * NPLANES + PLANE_N]
    out[0] = ~h & ~l & ~n
    out[1] = ~h & l & ~n
    out[2] = h & ~l & ~n
    out[3] = h & l & ~n
    out[4] = n


cdef inline uint64_t pam_bits(const uint64_t* cur, const uint64_t* nxt,
                              const int32_t* pam, Py_ssize_t nrows) noexcept nogil:
    """Bit t set when the constraints hold for a site starting at base t of the block
    whose base words are ``cur`` (``nxt``: the following block).

    ``pam`` holds rows (window offset k < 64, allowed-base mask A=1 C=2 G=4 T=8,
    degenerate flag: a non-ACGT genome letter passes, base index 0-3 when exactly one
    base is allowed else -1).
    """
    cdef uint64_t acc = ~(<uint64_t>0), mc, mn
    cdef Py_ssize_t r
    cdef int b
    cdef int32_t k, allowed, single
    for r in range(nrows):
        k = pam[4 * r]
        single = pam[4 * r + 3]
        if single >= 0:  # one base: no loop over the allowed set
            mc = cur[single]
            mn = nxt[single]
        else:
            allowed = pam[4 * r + 1]
            mc = 0
            mn = 0
            for b in range(4):
                if (allowed >> b) & 1:
                    mc |= cur[b]
                    mn |= nxt[b]
            if pam[4 * r + 2]:
                mc |= cur[4]
                mn |= nxt[4]
        if k:
            mc = (mc >> k) | (mn << (64 - k))
        acc &= mc
        if acc == 0:
            break
    return acc


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
               const int32_t[::1] vpos, bint all_placements,
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

    Returns ``(n_hits, next_anchor)``; ``next_anchor < hi`` means the output arrays
    filled up and the call must be repeated from there.
    """
    cdef Py_ssize_t nq = qwords.shape[0], cap = out_q.shape[0], ng = groups.shape[0]
    cdef Py_ssize_t per_anchor = nq * (ng + (vmasks.shape[0] if all_placements else 0)) + 1
    cdef const uint64_t* words = &blocks[0, 0]
    cdef const int32_t* pf = &pam_f[0, 0]
    cdef const int32_t* pr = &pam_r[0, 0]
    cdef Py_ssize_t npf = pam_f.shape[0], npr = pam_r.shape[0]
    cdef Py_ssize_t nh = 0, qi, g, v, best_v
    cdef int64_t b_lo, b_hi, blk, p0, s, next_anchor = hi
    cdef uint64_t cf, cr, cand, wh, wl, wn, h0, l0, n0, x0, xd, lowmask
    cdef int t, strand, gtype, gsize, gshift, cnt, best, m, sh
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
    b_lo = lo >> 6
    b_hi = (hi + 63) >> 6
    with nogil:
        for blk in range(b_lo, b_hi):
            p0 = blk * 64
            if blk == b_lo:
                if blk > 0:
                    base_words(words, blk - 1, bw_cur)
                else:  # nothing before the genome's leading padding block
                    for b in range(4):
                        bw_cur[b] = 0
                    bw_cur[4] = ~(<uint64_t>0)
                base_words(words, blk, bw_nxt)
            for b in range(5):
                bw_prv[b] = bw_cur[b]
                bw_cur[b] = bw_nxt[b]
            base_words(words, blk + 1, bw_nxt)
            for b in range(3):
                pw_cur[b] = words[blk * NPLANES + b]
                pw_nxt[b] = words[(blk + 1) * NPLANES + b]
            cf = pam_bits(bw_cur, bw_nxt, pf, npf)
            cr = pam_bits(bw_cur, bw_nxt, pr, npr)
            lowmask = ~(<uint64_t>0)
            if p0 < lo:
                lowmask &= ~(<uint64_t>0) << (lo - p0)
            if p0 + 64 > hi:
                lowmask &= ((<uint64_t>1) << (hi - p0)) - 1
            if cap - nh < 128 * per_anchor:
                # not enough room for a whole block: find the first anchor to redo
                cand = (cf | cr) & lowmask
                if cand:
                    next_anchor = p0 + pm_ctz(cand)
                    break
                continue
            for strand in range(2):
                cand = (cf if strand == 0 else cr) & lowmask
                if nq > 0 and pm_popcount(cand) >= (DENSE_MIN_SIMPLE if simple
                                                     else DENSE_MIN_BULGE):
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
    return bool(pm_cpu_has_popcnt())


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
