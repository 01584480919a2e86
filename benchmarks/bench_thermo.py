"""Throughput of ASO:RNA duplex scoring (the path the ASO search calls for every site).

pytest-benchmark micro-benchmarks (``pytest benchmarks/bench_thermo.py --benchmark-enable``)
and a script: ``python benchmarks/bench_thermo.py [--sites N] [--length L]`` prints sites/s of
the scalar model, the numpy batch path on strings, the code-array path (``thermo_codes``) and
the full risk scoring (``aso_risk.score_sites``), plus peak RSS.
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np


def make_sites(n: int, length: int = 20, max_mm: int = 3, gapped: float = 0.0, seed: int = 1):
    """Random ASO and n sites with 0..max_mm mismatches (and a fraction with a 1-nt bulge)."""
    from pmcore.thermo import perfect_target

    rng = np.random.default_rng(seed)
    aso = "".join(rng.choice(list("ACGT"), length))
    tgt = np.frombuffer(perfect_target(aso).encode(), dtype=np.uint8).copy()
    targets = np.tile(tgt, (n, 1))
    letters = np.frombuffer(b"ACGU", dtype=np.uint8)
    k = rng.integers(0, max_mm + 1, n)
    for m in range(max_mm):
        rows = np.flatnonzero(k > m)
        cols = rng.integers(0, length, rows.size)
        targets[rows, cols] = letters[rng.integers(0, 4, rows.size)]
    tlist = [row.tobytes().decode() for row in targets]
    alist = [aso] * n
    n_gap = int(gapped * n)
    for i in range(n_gap):
        j = int(rng.integers(2, length - 2))
        alist[i] = aso[:j] + "-" + aso[j:]
        tlist[i] = tlist[i][:j] + "A" + tlist[i][j:]
    return aso, alist, tlist


def _rate(n, seconds):
    return f"{n / seconds:,.0f} sites/s ({seconds:.3f} s for {n:,})"


def main(argv=None) -> None:
    from pmcore import aso_risk, thermo
    from pmcore.aso_design import parse_aso

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sites", type=int, default=1_000_000)
    ap.add_argument("--length", type=int, default=20)
    ap.add_argument("--scalar", type=int, default=20_000, help="sites for the scalar model")
    args = ap.parse_args(argv)

    aso, alist, tlist = make_sites(args.sites, args.length)
    n_s = min(args.scalar, args.sites)
    t0 = time.perf_counter()
    for a, t in zip(alist[:n_s], tlist[:n_s]):
        thermo.duplex_thermo(a, t, na_mm=150, mg_mm=2)
    print("scalar duplex_thermo      :", _rate(n_s, time.perf_counter() - t0))

    t0 = time.perf_counter()
    res = thermo.duplex_thermo_batch(alist, tlist, na_mm=150, mg_mm=2)
    print("batch (strings)           :", _rate(args.sites, time.perf_counter() - t0))
    print(f"  sites with >= 2 mismatches: {int(np.count_nonzero(res.n_mismatches >= 2)):,}")

    lut = thermo._LUT
    top = np.tile(lut[np.frombuffer(aso.encode(), np.uint8)], (args.sites, 1))
    bot = lut[np.frombuffer("".join(tlist).encode(), np.uint8)].reshape(args.sites, -1)[:, ::-1]
    cond = thermo.Conditions(na_mm=150, mg_mm=2)
    t0 = time.perf_counter()
    for k in range(0, args.sites, 100_000):
        thermo.thermo_codes(top[k:k + 100_000], bot[k:k + 100_000], cond)
    print("thermo_codes (100k chunks):", _rate(args.sites, time.perf_counter() - t0))

    import polars as pl
    n_r = min(args.sites, 200_000)
    sites = pl.DataFrame({"aso_id": ["a"] * n_r, "aso_aligned": alist[:n_r],
                          "target_aligned": tlist[:n_r]})
    design = {"a": parse_aso(aso, f"5-{args.length - 10}-5", aso_id="a")}
    t0 = time.perf_counter()
    scored = aso_risk.score_sites(sites, design)
    aso_risk.summarize(scored, design)
    print("score_sites + summarize   :", _rate(n_r, time.perf_counter() - t0))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS: {rss:,.0f} MiB")


# ----------------------------------------------------------------------------- pytest-benchmark

def test_bench_scalar(benchmark):
    from pmcore import thermo

    _, alist, tlist = make_sites(200)
    benchmark(lambda: [thermo.duplex_thermo(a, t) for a, t in zip(alist, tlist)])


def test_bench_batch(benchmark):
    from pmcore import thermo

    _, alist, tlist = make_sites(20_000, gapped=0.01)
    benchmark(thermo.duplex_thermo_batch, alist, tlist)


if __name__ == "__main__":
    main()
