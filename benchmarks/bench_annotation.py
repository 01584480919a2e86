"""Throughput of genome annotation (GTF parsing, site annotation, BED flagging).

pytest-benchmark micro-benchmarks (``pytest benchmarks/bench_annotation.py
--benchmark-enable``) and a script: ``python benchmarks/bench_annotation.py [--genes N]
[--sites N]`` builds a seeded synthetic human-sized gene model (24 contigs, 3.1 Gbp),
parses it from GTF text, annotates random 23-nt sites, flags them against BED regions,
runs ``annotate_hits`` on a Polars frame, and prints rates and peak RSS.
"""

from __future__ import annotations

import argparse
import gzip
import io
import resource
import tempfile
import time
from pathlib import Path

import numpy as np

CONTIGS = {f"chr{i}": int(250e6 * (0.95 ** (i - 1))) for i in range(1, 25)}


def make_sites(n: int, seed: int = 0, length: int = 23):
    rng = np.random.default_rng(seed)
    names = np.array(list(CONTIGS), dtype=object)
    lens = np.array(list(CONTIGS.values()), dtype=np.int64)
    ci = rng.choice(len(names), n, p=lens / lens.sum())
    start = (rng.random(n) * (lens[ci] - length)).astype(np.int64)
    return names[ci], start, start + length


def make_bed(n: int, seed: int = 2) -> str:
    rng = np.random.default_rng(seed)
    names, start, _ = make_sites(n, seed)
    ln = rng.integers(1_000, 200_000, n)
    return "".join(f"{c}\t{s}\t{s + w}\tREG{i}\n" for i, (c, s, w) in
                   enumerate(zip(names, start, ln)))


# ------------------------------------------------------------------ pytest-benchmark
def _small_model():
    from pmcore.annotation import read_gtf, synthetic_gtf

    return read_gtf(io.StringIO(synthetic_gtf(CONTIGS, 5_000, seed=1)))


def test_bench_annotate_100k(benchmark):
    gm = _small_model()
    chrom, start, end = make_sites(100_000)
    res = benchmark(gm.annotate, chrom, start, end)
    assert res["region"].size == 100_000


def test_bench_regions_flag_100k(benchmark):
    from pmcore.regions import RegionSet

    rs = RegionSet.from_bed(io.StringIO(make_bed(2_000)))
    chrom, start, end = make_sites(100_000)
    out = benchmark(rs.flag, chrom, start, end)
    assert out.size == 100_000


# ------------------------------------------------------------------ script
def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv=None) -> None:
    import polars as pl

    from pmcore.annotation import annotate_hits, read_gtf, synthetic_gtf
    from pmcore.regions import RegionSet

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--genes", type=int, default=60_000)
    ap.add_argument("--sites", type=int, default=1_000_000)
    ap.add_argument("--regions", type=int, default=700)
    args = ap.parse_args(argv)

    t = time.perf_counter()
    text = synthetic_gtf(CONTIGS, args.genes, seed=1)
    n_lines = text.count("\n")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "synthetic.gtf.gz"
        with gzip.open(path, "wt", compresslevel=1) as fh:
            fh.write(text)
        del text
        print(f"synthetic GTF: {args.genes:,} genes, {n_lines:,} lines, "
              f"{path.stat().st_size / 1e6:.0f} MB gzipped "
              f"({time.perf_counter() - t:.1f} s to generate)")
        rss0 = _rss_mb()
        t = time.perf_counter()
        gm = read_gtf(path)
        dt = time.perf_counter() - t
    print(f"parse GTF.gz: {dt:.2f} s ({n_lines / dt:,.0f} lines/s) -> {gm}; "
          f"peak RSS before/after parsing {rss0:,.0f}/{_rss_mb():,.0f} MB")

    chrom, start, end = make_sites(args.sites)
    t = time.perf_counter()
    res = gm.annotate(chrom, start, end)
    first = time.perf_counter() - t
    t = time.perf_counter()
    res = gm.annotate(chrom, start, end)
    dt = time.perf_counter() - t
    print(f"annotate {args.sites:,} sites: {first:.2f} s first call (builds the per-contig "
          f"indexes), {dt:.2f} s warm ({args.sites / dt:,.0f} sites/s)")
    regions, counts = np.unique(res["region"].astype(str), return_counts=True)
    print("  regions:", ", ".join(f"{r} {c / args.sites:.1%}" for r, c in zip(regions, counts)))

    rs = RegionSet.from_bed(io.StringIO(make_bed(args.regions)))
    t = time.perf_counter()
    flagged = rs.flag(chrom, start, end)
    dt = time.perf_counter() - t
    hit = sum(v is not None for v in flagged)
    print(f"flag {args.sites:,} sites against {args.regions:,} BED regions: {dt:.2f} s "
          f"({args.sites / dt:,.0f} sites/s, {hit:,} flagged)")

    df = pl.DataFrame({"chrom": chrom.astype(str), "start": start, "end": end,
                       "strand": np.where(start % 2 == 0, "+", "-")})
    t = time.perf_counter()
    out = annotate_hits(df, gm, rs)
    dt = time.perf_counter() - t
    print(f"annotate_hits on a {out.height:,}-row Polars frame: {dt:.2f} s "
          f"({out.height / dt:,.0f} rows/s)")
    print(f"peak RSS: {_rss_mb():,.0f} MB")


if __name__ == "__main__":
    main()
