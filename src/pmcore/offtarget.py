"""gRNA off-target search: planning, parallel execution, hit rendering.

Semantics (Cas-OFFinder 2.4 / 3 compatible, see README "Search semantics"):

* A site is a window of ``W = L + P`` genome bases (protospacer + PAM, PAM on the 3' or 5'
  side) on either strand. Pattern letters constrain the PAM exactly; a genome letter other
  than A/C/G/T passes a degenerate pattern code (N, R, V, ...) and fails a fixed base.
* Query letters count mismatches: a genome base outside the letter's IUPAC set is a
  mismatch; a non-ACGT genome letter is a mismatch against a fixed query base and not
  against a degenerate one; query ``N`` never counts.
* Bulges (one type per site, size 1..max), positions counted 0-based along the guide
  5'->3' (as Cas-OFFinder 3 writes its crRNA strings): an RNA bulge of size b skips guide
  positions j..j+b-1 for j = 0..L-1-b (the guide's 3'-most base is never skipped); a DNA
  bulge of size b puts b extra genome bases before guide position j, for j = 1..L with a
  3' PAM (j = L: between protospacer and PAM) and j = 0..L-1 with a 5' PAM (j = 0:
  between PAM and protospacer). The PAM-distal part of the alignment is the shifted one.
* By default each distinct (site, strand, bulge type, bulge size) is reported once, with
  its fewest mismatches; ties go to the most PAM-distal bulge placement. With
  ``all_placements`` every placement is reported, as Cas-OFFinder 3 prints them.

The kernel (``_kernels/scan.pyx``) gets everything as bit masks built here.
"""

from __future__ import annotations

import concurrent.futures as cf
import os
import threading
from collections import deque
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from . import kernels
from .errors import InputError, KernelError
from .nucleases import IUPAC, code_mask, complement_code
from .tables import HITS_SCHEMA

_scan = kernels.scan_module()

MAX_MISMATCHES = 8
MAX_BULGE = 3
CHUNK_BASES = 1 << 24
RELEASE_MIN_BYTES = 256 << 20  # stores larger than this are unmapped chunk by chunk
OUT_CAPACITY = 1 << 18
BULGE_NAMES = {0: "X", 1: "DNA", 2: "RNA"}

# query word slots, as in scan.pyx
QW_HI, QW_LO, QW_CARE, QW_A, QW_C, QW_G, QW_T, QW_DEG, QW_N = range(9)


@dataclass
class Query:
    """One guide (or Cas-OFFinder query) to search for."""

    id: str
    spacer: str  # protospacer query letters (IUPAC), 5'->3' on the guide
    max_mismatches: int
    pam_query: str = ""  # query letters over the PAM (Cas-OFFinder mode; usually all N)


@dataclass
class SiteLayout:
    """Geometry shared by the queries of one search group."""

    spacer_len: int
    pam: str  # pattern letters over the PAM, 5'->3' on the guide's strand
    pam_side: int  # 3 or 5
    max_dna: int = 0
    max_rna: int = 0
    extra_constraints: tuple = ()  # (window position, IUPAC code) outside the PAM

    @property
    def pam_len(self) -> int:
        return len(self.pam)

    @property
    def width(self) -> int:
        return self.spacer_len + self.pam_len

    @property
    def proto_start(self) -> int:
        return 0 if self.pam_side == 3 else self.pam_len

    @property
    def max_shift(self) -> int:
        return max(self.max_dna, self.max_rna)

    def guide_window(self, q: Query) -> str:
        """Query letters over the whole window, guide-strand order."""
        pam_q = q.pam_query or "N" * self.pam_len
        return q.spacer + pam_q if self.pam_side == 3 else pam_q + q.spacer

    def pattern_window(self) -> str:
        w = ["N"] * self.width
        pam_off = self.spacer_len if self.pam_side == 3 else 0
        for i, c in enumerate(self.pam):
            w[pam_off + i] = c
        for pos, c in self.extra_constraints:
            w[pos] = c
        return "".join(w)

# --------------------------------------------------------------------------- planning
def _strand_bit(layout: SiteLayout, strand: int, guide_strand_pos: int) -> int:
    return guide_strand_pos if strand == 0 else layout.width - 1 - guide_strand_pos


def _pam_rows(layout: SiteLayout, strand: int) -> np.ndarray:
    """Kernel rows of the PAM constraints: ``(window offset, allowed ACGT mask, non-ACGT
    letter admitted)``."""
    rows = []
    for pos, code in enumerate(layout.pattern_window()):
        if code == "N":
            continue
        if strand == 1:
            code = complement_code(code)
        rows.append((_strand_bit(layout, strand, pos), code_mask(code),
                     int(len(IUPAC[code]) > 1)))
    if not rows:  # no constraint at all: every position is a candidate
        rows.append((0, 15, 1))
    return np.array(rows, dtype=np.int32).reshape(-1, 3)


def _query_words(layout: SiteLayout, q: Query) -> tuple[np.ndarray, bool]:
    words = np.zeros((2, 9), dtype=np.uint64)
    general = False
    window = layout.guide_window(q)
    for strand in (0, 1):
        w = [0] * 9
        for pos, code in enumerate(window):
            if code == "N":
                continue
            if strand == 1:
                code = complement_code(code)
            bit = 1 << _strand_bit(layout, strand, pos)
            w[QW_CARE] |= bit
            allowed = IUPAC[code]
            if len(allowed) > 1:
                general = True
                w[QW_DEG] |= bit
            else:
                b = "ACGT".index(allowed)
                if b & 2:
                    w[QW_HI] |= bit
                if b & 1:
                    w[QW_LO] |= bit
            for base, slot in zip("ACGT", (QW_A, QW_C, QW_G, QW_T)):
                if base in allowed:
                    w[slot] |= bit
        words[strand] = w
    return words, general


@dataclass
class _Plan:
    layout: SiteLayout
    pam_f: np.ndarray
    pam_r: np.ndarray
    groups: np.ndarray
    vmasks: np.ndarray
    vpos: np.ndarray
    # per group: (strand, type, size) -> site extent relative to the anchor
    extents: dict = field(default_factory=dict)
    _seed_cache: dict = field(default_factory=dict, repr=False)

    def seed_rows(self, qwords: np.ndarray, qmax: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Seed filter rows of a query batch for the forward and reverse strands."""
        key = (qwords.tobytes(), qmax.tobytes())
        rows = self._seed_cache.get(key)
        if rows is None:
            rows = self._seed_cache[key] = (seed_rows(self, qwords, qmax, 0),
                                            seed_rows(self, qwords, qmax, 1))
        return rows


def plan_layout(layout: SiteLayout) -> _Plan:
    """Bit masks for the kernel: PAM constraints, bulge variant groups and extents."""
    W, L = layout.width, layout.spacer_len
    if W + 2 * layout.max_shift > 64:
        raise InputError(f"site of {W} nt with bulges up to {layout.max_shift} does not fit "
                         "the 64-base window of the kernel")
    groups, vmasks, vpos = [], [], []
    extents = {}
    side3 = layout.pam_side == 3
    for strand in (0, 1):
        # bit of guide position p (0-based, 5'->3') in this strand's window
        bits = [1 << _strand_bit(layout, strand, layout.proto_start + p) for p in range(L)]
        full = (1 << W) - 1
        # the rest of the window (PAM region) is always compared unshifted
        outside = full & ~sum(bits)
        # is the PAM-distal end of the site at the left in forward-strand coordinates?
        distal_left = side3 == (strand == 0)
        extents[(strand, 0, 0)] = (0, W)
        groups.append((strand, 0, 0, 0, len(vmasks), len(vmasks), 0, W, 0))
        for btype, bmax in ((1, layout.max_dna), (2, layout.max_rna)):
            for b in range(1, bmax + 1):
                if btype == 1:
                    shift = -b if distal_left else b
                    ext = (-b, W) if distal_left else (0, W + b)
                    js = range(1, L + 1) if side3 else range(L - 1, -1, -1)
                else:
                    shift = b if distal_left else -b
                    ext = (b, W) if distal_left else (0, W - b)
                    js = range(0, L - b) if side3 else range(L - b - 1, -1, -1)
                v0 = len(vmasks)
                for j in js:  # most PAM-distal placement first (wins ties)
                    if btype == 1:
                        prox = range(j, L) if side3 else range(0, j)
                    else:
                        prox = range(j + b, L) if side3 else range(0, j)
                    distal = range(0, j) if side3 else range(j + b if btype == 2 else j, L)
                    vmasks.append((sum(bits[p] for p in distal),
                                   sum(bits[p] for p in prox) | outside, full))
                    vpos.append(j)
                if len(vmasks) == v0:
                    continue
                extents[(strand, btype, b)] = ext
                groups.append((strand, btype, b, shift, v0, len(vmasks), ext[0], ext[1],
                               b if btype == 2 else 0))
    return _Plan(
        layout=layout,
        pam_f=_pam_rows(layout, 0),
        pam_r=_pam_rows(layout, 1),
        groups=np.array(groups, dtype=np.int32).reshape(-1, 9),
        vmasks=np.array(vmasks, dtype=np.uint64).reshape(-1, 3),
        vpos=np.array(vpos, dtype=np.int32),
        extents=extents,
    )


# --------------------------------------------------------------------------- seed filter
# A query batch of at most this many queries gets the seed filter (below); larger batches
# share each candidate's window across their queries, which costs less than the filter's
# rows. Chosen from benchmarks/genome_scale.py (README "Speed").
SEED_MAX_QUERIES = 12
SEED_MAX_ROWS = 256  # per strand: beyond this the filter costs more than it saves


def _parts(bits: list[int], k: int) -> list[int]:
    """``bits`` (ascending window positions) cut into ``k`` runs of near-equal size, as
    bit masks."""
    n = len(bits)
    cuts = [round(i * n / k) for i in range(k + 1)]
    return [sum(1 << b for b in bits[cuts[i]:cuts[i + 1]]) for i in range(k)]


def _seed_terms(plan: _Plan, words: np.ndarray, m: int, strand: int):
    """Pigeonhole terms of one query on one strand: ``[(part mask, shift), ...]`` such that
    every site within the limits has some part matching exactly at its shift; ``None`` when
    no such cut exists.

    A site with alignment variant v counts the positions ``A_v`` against the genome shifted
    by the group's shift and ``B_v`` unshifted (the plain site: ``B = care``). Cut the care
    positions into k runs; a run inside ``A_v`` or ``B_v`` is intact for v. If every
    variant leaves at least ``m + 1`` intact runs, the at most ``m`` mismatches miss one of
    them, which then matches exactly at its shift. Runs are contiguous along the guide and
    bulges split it once, so ``k = m + 2`` usually suffices; the cut is checked, not assumed.
    """
    care = int(words[strand, QW_CARE])
    bits = [b for b in range(64) if care >> b & 1]
    variants = [(0, care, 0)]  # (shifted positions, unshifted positions, shift)
    for g in plan.groups:
        if g[0] != strand or g[1] == 0:
            continue
        for v in range(g[4], g[5]):
            variants.append((int(plan.vmasks[v, 0]) & care, int(plan.vmasks[v, 1]) & care,
                             int(g[3])))
    for k in range(m + 1, len(bits) + 1):
        parts = _parts(bits, k)
        terms = set()
        for a, b, shift in variants:
            intact = [(p, 0) for p in parts if p & b == p] + \
                     [(p, shift) for p in parts if a and p & a == p]
            if len(intact) < m + 1:
                break
            terms.update(intact)
        else:
            return sorted(terms)
    return None


def seed_rows(plan: _Plan, qwords: np.ndarray, qmax: np.ndarray, strand: int) -> np.ndarray:
    """Kernel rows of the seed filter of a query batch on one strand: a candidate anchor
    survives when, for some term, every row admits the genome base at ``anchor + offset``.

    Rows are ``(offset, allowed ACGT mask, non-ACGT admitted, last row of its term)``. An
    empty array means "no filter" (too many queries, or a query whose limit leaves no
    exact part).
    """
    none = np.zeros((0, 4), dtype=np.int32)
    if len(qmax) > SEED_MAX_QUERIES:
        return none
    rows = []
    for words, m in zip(qwords, qmax):
        terms = _seed_terms(plan, words, int(m), strand)
        if terms is None:
            return none
        w = [int(x) for x in words[strand]]
        for part, shift in terms:
            pos = [b for b in range(64) if part >> b & 1]
            for i, b in enumerate(pos):
                allowed = sum(1 << j for j, slot in enumerate((QW_A, QW_C, QW_G, QW_T))
                              if w[slot] >> b & 1)
                rows.append((b + shift, allowed, w[QW_DEG] >> b & 1, int(i == len(pos) - 1)))
    if len(rows) > SEED_MAX_ROWS:
        return none
    return np.array(rows, dtype=np.int32).reshape(-1, 4)


# --------------------------------------------------------------------------- execution
@dataclass
class RawHits:
    """Kernel output of one task: columns, one row per hit."""

    query: np.ndarray
    anchor: np.ndarray
    strand: np.ndarray
    btype: np.ndarray
    bsize: np.ndarray
    bpos: np.ndarray
    mm: np.ndarray

    @classmethod
    def concat(cls, parts: list["RawHits"]) -> "RawHits":
        if not parts:
            return cls(*(np.zeros(0, dt) for dt in (np.int32, np.int64, np.int8, np.int8,
                                                    np.int8, np.int8, np.int8)))
        return cls(*(np.concatenate([getattr(p, f) for p in parts]) for f in
                     ("query", "anchor", "strand", "btype", "bsize", "bpos", "mm")))

    def __len__(self) -> int:
        return int(self.query.size)

    def take(self, idx) -> "RawHits":
        return RawHits(*(getattr(self, f)[idx] for f in
                         ("query", "anchor", "strand", "btype", "bsize", "bpos", "mm")))


def scan_task(store, contig, lo, hi, plan: _Plan, qwords, qgeneral, qmax,
              all_placements: bool, capacity: int = OUT_CAPACITY,
              seed_filter: bool = True) -> RawHits:
    """Run the kernel over anchors ``[lo, hi)`` (global positions) of one contig;
    ``seed_filter=False`` turns the seed filter off (same hits, for tests and timing)."""
    per_anchor = len(qmax) * (len(plan.groups) + (len(plan.vmasks) if all_placements else 0)) + 1
    capacity = max(capacity, 256 * per_anchor)
    parts = []
    cstart, cend = contig.offset, contig.offset + contig.length
    if seed_filter:
        seed_f, seed_r = plan.seed_rows(qwords, qmax)
    else:
        seed_f = seed_r = np.zeros((0, 4), dtype=np.int32)
    pos = lo
    while pos < hi:
        out = [np.empty(capacity, dt) for dt in (np.int32, np.int64, np.int8, np.int8, np.int8,
                                                 np.int8, np.int8)]
        n, nxt = _scan.scan_range(store.blocks, pos, hi, cstart, cend, plan.layout.width,
                                  plan.layout.max_shift, plan.pam_f, plan.pam_r, qwords,
                                  qgeneral, qmax, plan.groups, plan.vmasks, plan.vpos,
                                  seed_f, seed_r, all_placements, *out)
        if nxt <= pos and n == 0:
            raise KernelError("scan_range", "no progress (output buffer too small)")
        parts.append(RawHits(*(a[:n].copy() for a in out)))
        pos = nxt
    return RawHits.concat(parts)


class OffTargetSearch:
    """Search a genome store for the sites of many queries sharing one site layout.

    Parameters
    ----------
    store : GenomeStore
    queries : list of Query (all with ``layout.spacer_len`` letters)
    layout : SiteLayout
    threads : int
        Worker threads (the kernel releases the GIL).
    max_hits_per_guide : int or None
        Keep at most this many hits per query (in genome order); the query is then
        marked truncated and no longer searched.
    all_placements : bool
        Report every bulge placement instead of the best per site.
    seed_filter : bool
        Screen candidates with the pigeonhole seed filter when the query batch is small
        (``SEED_MAX_QUERIES``); the hits are the same either way.
    """

    def __init__(self, store, queries, layout: SiteLayout, *, threads: int = 1,
                 max_hits_per_guide=None, all_placements: bool = False,
                 chunk_bases: int = CHUNK_BASES, query_batch: int = 256, progress=None,
                 seed_filter: bool = True):
        if not queries:
            raise InputError("no queries to search")
        for q in queries:
            if len(q.spacer) != layout.spacer_len:
                raise InputError(f"query length {len(q.spacer)} differs from the group's "
                                 f"{layout.spacer_len}", record=q.id)
            if not 0 <= q.max_mismatches <= MAX_MISMATCHES:
                raise InputError(f"mismatch limit {q.max_mismatches} outside 0-{MAX_MISMATCHES}",
                                 record=q.id)
        self.store = store
        self.queries = list(queries)
        self.layout = layout
        self.plan = plan_layout(layout)
        self.threads = max(1, int(threads))
        self.max_hits = max_hits_per_guide
        self.all_placements = all_placements
        self.chunk_bases = chunk_bases
        self.query_batch = query_batch
        self.progress = progress
        self.seed_filter = seed_filter
        # Unmapping each chunk's pages once scanned keeps the resident set of a whole-genome
        # scan bounded; a small store stays mapped, so repeated scans (a platform run's
        # variants, a benchmark) do not fault its pages back in every time.
        self.release_pages = store.blocks.nbytes > RELEASE_MIN_BYTES
        words = [_query_words(layout, q) for q in self.queries]
        self.qwords = np.ascontiguousarray(np.stack([w for w, _ in words]))
        self.qgeneral = np.array([g for _, g in words], dtype=np.uint8)
        self.qmax = np.array([q.max_mismatches for q in self.queries], dtype=np.int32)
        self.hit_counts = np.zeros(len(self.queries), dtype=np.int64)
        self.truncated = np.zeros(len(self.queries), dtype=bool)
        self._lock = threading.Lock()

    def _tasks(self):
        W, B = self.layout.width, self.layout.max_shift
        for contig in self.store.contigs:
            if contig.length == 0:
                continue
            # anchors whose smallest possible site could still lie in the contig
            lo = contig.offset - B
            hi = contig.offset + contig.length - W + B + 1
            for start in range(lo, hi, self.chunk_bases):
                for q0 in range(0, len(self.queries), self.query_batch):
                    yield contig, start, min(hi, start + self.chunk_bases), q0

    def _run(self, contig, lo, hi, q0):
        with self._lock:
            active = np.flatnonzero(~self.truncated[q0:q0 + self.query_batch]) + q0
        if active.size == 0:
            return contig, lo, hi, None, active
        raw = scan_task(self.store, contig, lo, hi, self.plan, self.qwords[active],
                        self.qgeneral[active], self.qmax[active], self.all_placements,
                        seed_filter=self.seed_filter)
        raw.query = active[raw.query].astype(np.int32)
        if self.release_pages and q0 + self.query_batch >= len(self.queries):
            self.store.release(lo, hi)  # last guide batch of this chunk: unmap its pages
        return contig, lo, hi, raw, active

    def raw_batches(self):
        """Yield ``(contig, RawHits)`` in genome order; applies the per-guide cap."""
        total = sum(max(0, c.length) for c in self.store.contigs) * max(
            1, (len(self.queries) + self.query_batch - 1) // self.query_batch)
        done = 0
        with cf.ThreadPoolExecutor(max_workers=self.threads) as pool:
            pending = deque()
            tasks = self._tasks()
            for task in tasks:
                pending.append(pool.submit(self._run, *task))
                if len(pending) >= 2 * self.threads:
                    break
            while pending:
                contig, lo, hi, raw, _ = pending.popleft().result()
                nxt = next(tasks, None)
                if nxt is not None:
                    pending.append(pool.submit(self._run, *nxt))
                done += max(0, min(hi, contig.offset + contig.length) - max(lo, contig.offset))
                if self.progress is not None:
                    self.progress(done, total)
                if raw is None or len(raw) == 0:
                    continue
                raw = self._apply_cap(raw)
                if len(raw):
                    yield contig, raw

    def _apply_cap(self, raw: RawHits) -> RawHits:
        with self._lock:
            counts = np.bincount(raw.query, minlength=len(self.queries))
            if self.max_hits is None:
                self.hit_counts += counts
                return raw
            keep = np.ones(len(raw), dtype=bool)
            # rank of each hit among its query's hits in this batch (batch is in order)
            order = np.argsort(raw.query, kind="stable")
            qs = raw.query[order]
            first = np.searchsorted(qs, qs, side="left")
            rank = np.empty(len(raw), dtype=np.int64)
            rank[order] = np.arange(len(raw)) - first
            room = self.max_hits - self.hit_counts[raw.query]
            keep = rank < room
            kept = np.bincount(raw.query[keep], minlength=len(self.queries))
            over = counts > kept
            self.truncated |= over | (self.truncated & (counts > 0))
            self.hit_counts += kept
            return raw.take(np.flatnonzero(keep))

    def batches(self):
        """Yield Arrow record batches (``HITS_SCHEMA``) in genome order."""
        for contig, raw in self.raw_batches():
            yield render_hits(self.store, contig, raw, self.queries, self.plan)

    def guide_status(self) -> pa.Table:
        from .tables import GUIDE_STATUS_SCHEMA

        return pa.table({
            "query_id": [q.id for q in self.queries],
            "guide": [q.spacer for q in self.queries],
            "n_hits": self.hit_counts.tolist(),
            "truncated": self.truncated.tolist(),
        }, schema=GUIDE_STATUS_SCHEMA)


# --------------------------------------------------------------------------- rendering
def is_mismatch(query_code: str, genome_letter: str) -> bool:
    """Cas-OFFinder's comparison of one query letter with one (upper-case) genome letter."""
    if query_code == "N":
        return False
    allowed = IUPAC[query_code]
    if genome_letter in "ACGT":
        return genome_letter not in allowed
    return len(allowed) == 1


_COMP = str.maketrans("ACGTRYSWKMBDHVNacgtryswkmbdhvn", "TGCAYRSWMKVHDBNtgcayrswmkvhdbn")


def align_site(layout: SiteLayout, q: Query, genome: str, btype: int, bsize: int, bpos: int):
    """Aligned (guide, site) strings in guide-strand order for one hit.

    ``genome`` is the site's genome letters on the guide's strand (upper case).
    Returns (aligned_guide, aligned_site_with_lowercase_mismatches, pam, mismatches).
    """
    P = layout.pam_len
    window = layout.guide_window(q)
    if layout.pam_side == 3:
        pq, pamq = window[:layout.spacer_len], window[layout.spacer_len:]
        pg, pamg = genome[:len(genome) - P], genome[len(genome) - P:]
    else:
        pamq, pq = window[:P], window[P:]
        pamg, pg = genome[:P], genome[P:]
    if btype == 1:
        pq = pq[:bpos] + "-" * bsize + pq[bpos:]
    elif btype == 2:
        pg = pg[:bpos] + "-" * bsize + pg[bpos:]
    cols = []
    mm = 0
    for a, g in zip(pq, pg):
        if a != "-" and g != "-" and is_mismatch(a, g):
            cols.append(g.lower())
            mm += 1
        else:
            cols.append(g)
    ag = "".join(cols)
    pam_cols = []
    for a, g in zip(pamq, pamg):
        if is_mismatch(a, g):
            pam_cols.append(g.lower())
            mm += 1
        else:
            pam_cols.append(g)
    pam_site = "".join(pam_cols)
    if layout.pam_side == 3:
        return pq + pamq_pattern(layout, pamq), ag + pam_site, pamg, mm
    return pamq_pattern(layout, pamq) + pq, pam_site + ag, pamg, mm


def pamq_pattern(layout: SiteLayout, pamq: str) -> str:
    """Letters shown for the PAM in the aligned guide: the pattern, or the query's own
    letters where it has them (Cas-OFFinder mode)."""
    return "".join(p if a == "N" else a for p, a in zip(layout.pam, pamq))


def render_hits(store, contig, raw: RawHits, queries, plan: _Plan) -> pa.RecordBatch:
    """Strings and coordinates of the hits of one task, as an Arrow record batch."""
    layout = plan.layout
    n = len(raw)
    lo = np.empty(n, dtype=np.int64)
    hi = np.empty(n, dtype=np.int64)
    for key, (e0, e1) in plan.extents.items():
        sel = (raw.strand == key[0]) & (raw.btype == key[1]) & (raw.bsize == key[2])
        lo[sel] = e0
        hi[sel] = e1
    g0 = raw.anchor + lo
    g1 = raw.anchor + hi
    text, masked = store.decode_ranges(g0, g1)
    soft = np.frombuffer(masked, dtype=np.uint8).astype(bool)
    offsets = np.concatenate([[0], np.cumsum(g1 - g0)])
    aligned_guides, sites, pams = [], [], []
    for i in range(n):
        site_text = text[offsets[i]:offsets[i + 1]]
        if raw.strand[i] == 1:
            site_text = site_text.translate(_COMP)[::-1]
        q = queries[int(raw.query[i])]
        ag, site, pam, mm = align_site(layout, q, site_text, int(raw.btype[i]),
                                       int(raw.bsize[i]), int(raw.bpos[i]))
        if mm != int(raw.mm[i]):
            raise KernelError("scan_range", f"mismatch count {int(raw.mm[i])} disagrees with "
                              f"the rendered alignment ({mm}) for {q.id} at {int(g0[i])}")
        aligned_guides.append(ag)
        sites.append(site)
        pams.append(pam)
    starts = g0 - contig.offset
    ends = g1 - contig.offset
    btypes = raw.btype.astype(np.int8)
    return pa.RecordBatch.from_arrays([
        pa.array([queries[int(i)].id for i in raw.query], pa.string()),
        pa.array([queries[int(i)].spacer for i in raw.query], pa.string()),
        pa.array([contig.name] * n, pa.string()),
        pa.array(starts, pa.int64()),
        pa.array(ends, pa.int64()),
        pa.array(np.where(raw.strand == 0, "+", "-").tolist(), pa.string()),
        pa.array(aligned_guides, pa.string()),
        pa.array(sites, pa.string()),
        pa.array(pams, pa.string()),
        pa.array(raw.mm, pa.int8()),
        pa.array([BULGE_NAMES[int(t)] for t in btypes], pa.string()),
        pa.array(raw.bsize, pa.int8()),
        pa.array(raw.bpos, pa.int8()),
        pa.array(np.where(btypes == 1, raw.bsize, 0).astype(np.int8), pa.int8()),
        pa.array(np.where(btypes == 2, raw.bsize, 0).astype(np.int8), pa.int8()),
        pa.array(soft, pa.bool_()),
    ], schema=HITS_SCHEMA)


def default_threads() -> int:
    env = os.environ.get("PMCORE_THREADS")
    if env:
        return max(1, int(env))
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
               else (os.cpu_count() or 1))


class GuideSearch:
    """Search guides of possibly different lengths: one :class:`OffTargetSearch` per
    spacer length, run one after the other; batches come out group by group, each in
    genome order."""

    def __init__(self, store, guides, nuclease, *, mismatches: int = 4, dna_bulges: int = 0,
                 rna_bulges: int = 0, **options):
        check_limits(mismatches, dna_bulges, rna_bulges)
        by_len: dict[int, list[Query]] = {}
        for g in guides:
            by_len.setdefault(len(g.sequence), []).append(Query(g.id, g.sequence, mismatches))
        self.searches = [
            OffTargetSearch(store, qs, SiteLayout(length, nuclease.pam, nuclease.pam_side,
                                                  dna_bulges, rna_bulges), **options)
            for length, qs in sorted(by_len.items())
        ]

    def batches(self):
        for search in self.searches:
            yield from search.batches()

    def guide_status(self) -> pa.Table:
        return pa.concat_tables([s.guide_status() for s in self.searches])


def check_limits(mismatches: int, dna_bulges: int, rna_bulges: int) -> None:
    """Raise :class:`InputError` for limits outside what the engine supports."""
    if not 0 <= mismatches <= MAX_MISMATCHES:
        raise InputError(f"--mismatches must be 0-{MAX_MISMATCHES}, not {mismatches}")
    for name, value in (("--dna-bulges", dna_bulges), ("--rna-bulges", rna_bulges)):
        if not 0 <= value <= MAX_BULGE:
            raise InputError(f"{name} must be 0-{MAX_BULGE}, not {value}")
