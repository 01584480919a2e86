"""Pure-Python twin of :mod:`pmcore._kernels.scan` (fallback; slow but the same logic).

Selected with ``PMCORE_IMPLEMENTATION=python``. The independent oracle used by the tests
is the string-level brute force in :mod:`pmcore.reference`, not this file.
"""

from __future__ import annotations

import numpy as np

M64 = (1 << 64) - 1
QW_HI, QW_LO, QW_CARE, QW_A, QW_C, QW_G, QW_T, QW_DEG = range(8)


def _word_at(blocks, pos: int, plane: int) -> int:
    w, o = pos >> 6, pos & 63
    if o == 0:
        return int(blocks[w, plane])
    return ((int(blocks[w, plane]) >> o) | (int(blocks[w + 1, plane]) << (64 - o))) & M64


def _pam_bits(blocks, p0, pam) -> int:
    acc = M64
    for k, allowed, deg in pam:
        h, l, n = (_word_at(blocks, p0 + int(k), p) for p in range(3))
        m = 0
        if allowed & 1:
            m |= ~h & ~l
        if allowed & 2:
            m |= ~h & l
        if allowed & 4:
            m |= h & ~l
        if allowed & 8:
            m |= h & l
        m &= ~n & M64
        if deg:
            m |= n
        acc &= m
    return acc & M64


def _seed_ok(blocks, s, rows) -> bool:
    """Some seed term (run of rows) admits every base it names at anchor ``s``."""
    if len(rows) == 0:
        return True
    ok = True
    for k, allowed, deg, last in rows:
        if ok:
            h, l, n = (_word_at(blocks, s + int(k), p) & 1 for p in range(3))
            base = (h << 1) | l
            ok = bool(deg) if n else bool(allowed >> base & 1)
        if last:
            if ok:
                return True
            ok = True
    return False


def _mism(h, l, n, q, general) -> int:
    q = [int(x) for x in q]
    if not general:
        return ((h ^ q[QW_HI]) | (l ^ q[QW_LO]) | n) & q[QW_CARE]
    nn = ~n
    match = ((~h & ~l & nn & q[QW_A]) | (~h & l & nn & q[QW_C]) | (h & ~l & nn & q[QW_G])
             | (h & l & nn & q[QW_T]) | (n & q[QW_DEG]))
    return ~match & q[QW_CARE] & M64


def scan_range(blocks, lo, hi, cstart, cend, width, max_shift, pam_f, pam_r, qwords,
               qgeneral, qmax, groups, vmasks, vpos, seed_f, seed_r, all_placements,
               out_q, out_pos, out_strand, out_type, out_size, out_bpos, out_mm):
    nq, cap, ng = qwords.shape[0], out_q.shape[0], groups.shape[0]
    per_anchor = nq * (ng + (vmasks.shape[0] if all_placements else 0)) + 1
    lo = max(lo, 64 - max_shift)
    if hi <= lo:
        return 0, hi
    nh = 0

    def emit(qi, s, strand, gtype, size, bpos, cnt):
        nonlocal nh
        out_q[nh], out_pos[nh], out_strand[nh] = qi, s, strand
        out_type[nh], out_size[nh], out_bpos[nh], out_mm[nh] = gtype, size, bpos, cnt
        nh += 1

    for s in range(lo, hi):
        p0, t = s & ~63, s & 63
        cf = (_pam_bits(blocks, p0, pam_f) >> t) & 1
        cr = (_pam_bits(blocks, p0, pam_r) >> t) & 1
        cf = cf and _seed_ok(blocks, s, seed_f)
        cr = cr and _seed_ok(blocks, s, seed_r)
        if not (cf or cr):
            continue
        if cap - nh < per_anchor:
            return nh, s
        wh, wl, wn = (_word_at(blocks, s - max_shift, p) for p in range(3))
        for strand, ok in ((0, cf), (1, cr)):
            if not ok:
                continue
            for qi in range(nq):
                q, general, m = qwords[qi, strand], bool(qgeneral[qi]), int(qmax[qi])
                x0 = _mism(wh >> max_shift, wl >> max_shift, wn >> max_shift, q, general)
                for g in range(ng):
                    row = [int(x) for x in groups[g]]
                    if row[0] != strand or s + row[6] < cstart or s + row[7] > cend:
                        continue
                    if row[1] == 0:
                        cnt = bin(x0).count("1")
                        if cnt <= m:
                            emit(qi, s, strand, 0, 0, -1, cnt)
                        continue
                    sh = max_shift + row[3]
                    xd = _mism(wh >> sh, wl >> sh, wn >> sh, q, general)
                    if bin(xd & x0 & int(vmasks[row[4], 2])).count("1") > m + row[8]:
                        continue
                    best, best_v = 1000, -1
                    for v in range(row[4], row[5]):
                        cnt = (bin(xd & int(vmasks[v, 0])).count("1")
                               + bin(x0 & int(vmasks[v, 1])).count("1"))
                        if cnt > m:
                            continue
                        if all_placements:
                            emit(qi, s, strand, row[1], row[2], int(vpos[v]), cnt)
                        elif cnt < best:
                            best, best_v = cnt, v
                    if best_v >= 0:
                        emit(qi, s, strand, row[1], row[2], int(vpos[best_v]), best)
    return nh, hi


def stream_pass(blocks):
    h, l, n = (np.asarray(blocks[:, i]) for i in range(3))
    count = lambda x: int(sum(bin(int(v)).count("1") for v in x))  # noqa: E731
    return (count(~h & ~l & ~n), count(~h & l & ~n), count(h & ~l & ~n), count(h & l & ~n),
            count(n))
