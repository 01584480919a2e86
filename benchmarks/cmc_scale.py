"""Scale check of the stability engine: 10,000 series x 3 lots x 7 time points.

Prints the seconds taken by the analysis (input validation, ANCOVA, shelf-life
crossings and table building) and by the whole CLI-equivalent path including writing
Parquet. Run: ``python benchmarks/cmc_scale.py [--series N] [--threads T]``.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time


def make_frame(n_series: int, seed: int = 1):
    import numpy as np
    import polars as pl

    rng = np.random.default_rng(seed)
    times = np.array([0, 3, 6, 9, 12, 18, 24], dtype=float)
    lots = 3
    n = n_series * lots * times.size
    series = np.repeat(np.arange(n_series), lots * times.size)
    lot = np.tile(np.repeat(np.arange(lots), times.size), n_series)
    t = np.tile(times, n_series * lots)
    icpt = 100 + rng.normal(0, 1.0, n_series * lots)
    slope = -0.2 + rng.normal(0, 0.03, n_series * lots)
    g = series * lots + lot
    y = icpt[g] + slope[g] * t + rng.normal(0, 0.5, n)
    return pl.DataFrame({
        "variant_id": pl.Series((series // 10).astype(str)).str.replace(r"^", "V"),
        "condition": np.where(series % 2 == 0, "25C/60%RH", "5C"),
        "attribute": pl.Series((series % 5).astype(str)).str.replace(r"^", "attr"),
        "lot": pl.Series(lot.astype(str)).str.replace(r"^", "L"),
        "time": t.astype(str),
        "value": np.round(y, 3).astype(str),
    })


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--series", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    from pmcore.cmc.io import write_tables
    from pmcore.cmc.stability import StabilityOptions, analyze_stability
    from pmcore.io import provenance

    df = make_frame(args.series)
    print(f"rows: {df.height:,} ({args.series:,} series x 3 lots x 7 time points); "
          f"cpus: {os.cpu_count()}")
    best = float("inf")
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        res = analyze_stability(df, StabilityOptions(lower=95.0))
        best = min(best, time.perf_counter() - t0)
    assert res.shelf_life.num_rows == args.series, res.errors
    print(f"analyze_stability: {best:.2f} s (best of {args.repeat})")
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        res = analyze_stability(df, StabilityOptions(lower=95.0))
        out = os.path.join(tmp, "shelf_life.parquet")
        names = ["shelf_life", "poolability", "lots", "errors"]
        write_tables(res.tables(), {n: out if n == "shelf_life" else
                                    out.replace(".parquet", f".{n}.parquet") for n in names},
                     provenance(command="cmc_scale", inputs=[]))
        print(f"analysis + Parquet outputs: {time.perf_counter() - t0:.2f} s")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS: {rss:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
