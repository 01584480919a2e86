"""Throughput of off-target scoring (CFD / MIT per site, guide aggregates).

pytest-benchmark micro-benchmarks (``pytest benchmarks/bench_scoring.py
--benchmark-enable``) and a script: ``python benchmarks/bench_scoring.py [--sites N]
[--guides G]`` builds a seeded synthetic hits table (SpCas9, 20-nt guides, 0-6 mismatches,
NGG/NAG/NGA PAMs, 5% bulged sites), scores it with ``score_hits`` (with the per-guide
summary and the ABE window flag), and prints rates and peak RSS.
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import polars as pl

from pmcore import scoring

BASES = np.frombuffer(b"ACGT", dtype=np.uint8)


def make_hits(n: int, n_guides: int = 100, seed: int = 0, bulged: float = 0.05):
    """A synthetic hits frame with the ``HITS_SCHEMA`` columns ``score_hits`` reads."""
    rng = np.random.default_rng(seed)
    guides = BASES[rng.integers(0, 4, (n_guides, 20))]
    gi = rng.integers(0, n_guides, n)
    proto = guides[gi].copy()
    n_mm = rng.integers(0, 7, n)
    for k in range(6):
        rows = np.flatnonzero(n_mm > k)
        pos = rng.integers(0, 20, rows.size)
        proto[rows, pos] = BASES[(np.searchsorted(BASES, proto[rows, pos])
                                  + rng.integers(1, 4, rows.size)) % 4]
    pam = np.stack([BASES[rng.integers(0, 4, n)],
                    np.where(rng.random(n) < 0.8, ord("G"), ord("A")),
                    np.where(rng.random(n) < 0.9, ord("G"), ord("A"))], axis=1).astype(np.uint8)
    site = np.hstack([proto, pam])
    gstr = [g.tobytes().decode() for g in guides]
    sites = site.view(f"S{23}").ravel().astype(str)
    mism = (proto != guides[gi]).sum(axis=1)
    bt = np.array(["X"] * n, dtype=object)
    bs = np.zeros(n, dtype=np.int64)
    ag = np.array([gstr[i] + "NRG" for i in gi], dtype=object)
    sites = sites.astype(object)
    for i in np.flatnonzero(rng.random(n) < bulged):
        j = int(rng.integers(1, 19))
        if rng.random() < 0.5:
            sites[i] = sites[i][:j] + "A" + sites[i][j:]
            ag[i] = gstr[gi[i]][:j] + "-" + gstr[gi[i]][j:] + "NRG"
            bt[i] = "DNA"
        else:
            sites[i] = sites[i][:j] + "-" + sites[i][j + 1:]
            bt[i] = "RNA"
        bs[i] = 1
    return pl.DataFrame({
        "query_id": [f"g{i}" for i in gi], "guide": [gstr[i] for i in gi],
        "chrom": ["chr1"] * n, "start": np.arange(n, dtype=np.int64) * 50,
        "end": np.arange(n, dtype=np.int64) * 50 + 23, "strand": ["+"] * n,
        "aligned_guide": ag.tolist(), "site": sites.tolist(),
        "pam": [s.replace("-", "")[-3:] for s in sites], "mismatches": mism,
        "bulge_type": bt.tolist(), "bulge_size": bs, "bulge_pos": np.full(n, -1),
    })


# ------------------------------------------------------------------ pytest-benchmark
_HITS = None


def _hits():
    global _HITS
    if _HITS is None:
        _HITS = make_hits(20_000)
    return _HITS


def test_bench_score_hits(benchmark):
    out = benchmark(scoring.score_hits, _hits())
    assert out.height == _hits().height


def test_bench_score_hits_summary(benchmark):
    _, summary = benchmark(scoring.score_hits, _hits(), summary=True, base_editor="ABE")
    assert summary.height == _hits()["query_id"].n_unique()


def test_bench_scalar_cfd(benchmark):
    g, s = "ATGTGGAGATTGCCACCTAC", "ATCTGGAGATTGCCACCTACAGG"
    assert benchmark(scoring.cfd_score, g, s) == 0.384615385


# ------------------------------------------------------------------ script
def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sites", type=int, default=1_000_000)
    ap.add_argument("--guides", type=int, default=1_000)
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    hits = make_hits(args.sites, args.guides)
    t1 = time.perf_counter()
    scoring.score_hits(hits)
    t2 = time.perf_counter()
    _, summary = scoring.score_hits(hits, summary=True, base_editor="ABE")
    t3 = time.perf_counter()
    pairs = list(zip(hits["guide"].head(20_000), hits["site"].head(20_000)))
    pairs = [(g, s) for g, s in pairs if "-" not in s and len(s) == 23]
    t4 = time.perf_counter()
    scoring.score_pairs([g for g, _ in pairs], [s for _, s in pairs])
    t5 = time.perf_counter()
    for g, s in pairs[:5000]:
        scoring.cfd_score(g, s)
    t6 = time.perf_counter()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    n = hits.height
    print(f"synthetic hits: {n:,} sites, {args.guides:,} guides ({t1 - t0:.2f} s to build)")
    print(f"score_hits (CFD+MIT+CRISPOR set): {t2 - t1:.2f} s = {n / (t2 - t1):,.0f} sites/s")
    print(f"score_hits + summary + ABE window: {t3 - t2:.2f} s = {n / (t3 - t2):,.0f} sites/s")
    print(f"score_pairs (batch, unbulged): {len(pairs) / (t5 - t4):,.0f} pairs/s")
    print(f"cfd_score (scalar): {5000 / (t6 - t5):,.0f} pairs/s")
    print(f"summary rows: {summary.height:,}; peak RSS {rss:,.0f} MiB")


if __name__ == "__main__":
    main()
