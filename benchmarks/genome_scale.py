"""Genome-scale benchmark of the off-target engine.

Generates a seeded random genome of the requested size (streamed to a FASTA file, never
held in memory), indexes it, then times, in the same run:

* the baseline: one streaming pass over the packed genome (every base decoded and counted
  by the ``stream_pass`` kernel, single thread: memory-bound popcounts, the strictest
  yardstick), and a second one, a CRC-32 pass over the store's bytes (what
  ``pmcore info --verify`` does);
* scans of N random 20-nt guides with an NGG PAM at the given limits, the fastest of
  ``--repeat`` runs (the baseline too is timed with the store's pages already mapped; the
  first scan's time, which includes mapping them as a fresh process must, is printed
  too), and for small guide sets the same scan with the seed filter turned off.

Prints seconds, peak RSS, PAM-matching candidate sites per second and the ratio of each
scan to the baseline. Example::

    python benchmarks/genome_scale.py --size 200e6 --guides 1 20 100 --threads 2
    python benchmarks/genome_scale.py --size 3.1e9 --guides 1 --keep /tmp/g3.pmg
"""

from __future__ import annotations

import os

# OpenBLAS worker threads spin after numpy work and steal the cores being measured
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import tempfile
import time
from pathlib import Path

import numpy as np
from _memory import peak_rss_mb, reset_peak  # noqa: E402


def write_random_fasta(path: Path, size: int, seed: int, contig: int = 250_000_000) -> None:
    rng = np.random.default_rng(seed)
    letters = np.frombuffer(b"ACGT", dtype=np.uint8)
    with open(path, "wb") as fh:
        done, k = 0, 0
        while done < size:
            n = min(contig, size - done)
            fh.write(f">chr{k + 1}\n".encode())
            left = n
            while left:
                m = min(left, 1 << 24)
                seq = letters[rng.integers(0, 4, m)]
                lines = seq[: (m // 60) * 60].reshape(-1, 60)
                block = np.hstack([lines, np.full((lines.shape[0], 1), 10, np.uint8)]).tobytes()
                fh.write(block)
                if m % 60:
                    fh.write(seq[(m // 60) * 60:].tobytes() + b"\n")
                left -= m
            done += n
            k += 1


def count_candidates(store) -> int:
    """PAM-matching candidate sites (NGG on + or CCN on -), counted with the kernel."""
    total = 0  # counted with numpy, independently of the kernel
    for c in store.contigs:
        for start in range(0, c.length, 1 << 26):
            text = np.frombuffer(store.fetch(c.name, start, min(c.length, start + (1 << 26) + 2),
                                             soft=False).encode(), np.uint8)
            g = text == ord("G")
            cc = text == ord("C")
            n = min(len(text) - 2, (1 << 26))
            total += int(np.count_nonzero(g[1:n + 1] & g[2:n + 2]))
            total += int(np.count_nonzero(cc[0:n] & cc[1:n + 1]))
    return total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=float, default=50e6, help="genome size in bp")
    ap.add_argument("--guides", type=int, nargs="+", default=[1, 20, 100])
    ap.add_argument("--mismatches", type=int, default=4)
    ap.add_argument("--bulges", action="store_true", help="also scan with 1 DNA + 1 RNA bulge")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep", type=Path, help="reuse / keep the store at this path")
    ap.add_argument("--no-candidate-count", action="store_true")
    ap.add_argument("--repeat", type=int, default=5,
                    help="runs per configuration; the fastest is reported")
    ap.add_argument("--no-filter-comparison", action="store_true",
                    help="skip the scans with the seed filter turned off")
    ap.add_argument("--keep-mapped", action="store_true",
                    help="keep the store's pages mapped between scans even for a large store "
                         "(as the baseline pass has them), instead of unmapping each chunk")
    args = ap.parse_args()

    from pmcore import kernels
    from pmcore.genome import GenomeStore, build_store
    from pmcore.offtarget import SEED_MAX_QUERIES, OffTargetSearch, Query, SiteLayout, _scan

    size = int(args.size)
    tmpdir = Path(tempfile.mkdtemp(prefix="pmcore-bench-"))
    store_path = args.keep or tmpdir / "genome.pmg"
    if not store_path.exists():
        fa = tmpdir / "genome.fa"
        t = time.perf_counter()
        write_random_fasta(fa, size, args.seed)
        t_gen = time.perf_counter() - t
        t = time.perf_counter()
        build_store(fa, store_path)
        t_index = time.perf_counter() - t
        fa.unlink()
        print(f"genome {size:,} bp: generated in {t_gen:.1f}s, indexed in {t_index:.1f}s "
              f"({size / t_index / 1e6:.0f} Mbp/s), peak RSS {peak_rss_mb():.0f} MB")
    print(f"kernels: {kernels.describe()}; threads: {args.threads}")
    with GenomeStore(store_path) as store:
        _scan.stream_pass(store.blocks)  # warm the page cache
        t_base = 1e9
        for _ in range(max(args.repeat, 3)):
            t = time.perf_counter()
            _scan.stream_pass(store.blocks)
            t_base = min(t_base, time.perf_counter() - t)
        print(f"baseline streaming pass: {t_base:.3f}s ({store.total_bases / t_base / 1e9:.2f} Gbp/s)")
        # second baseline, in a child process so its page touches do not count here
        import subprocess
        import sys

        crc = subprocess.run(
            [sys.executable, "-c", "import sys, time; from pmcore.genome import GenomeStore; "
             "s = GenomeStore(sys.argv[1]); s.verify(); t = time.perf_counter(); s.verify(); "
             "print(time.perf_counter() - t)", str(store_path)],
            check=True, capture_output=True, text=True)
        t_crc = float(crc.stdout.strip())
        print(f"second baseline, CRC-32 pass over the store's bytes (pmcore info --verify): "
              f"{t_crc:.3f}s")

        cands = None if args.no_candidate_count else count_candidates(store)
        # measure the scans' own memory: drop the pages the baseline touched
        store.release(0, store.n_blocks * 64)
        reset_peak()
        rss0 = peak_rss_mb()
        if cands:
            print(f"PAM-matching candidate sites (NGG, both strands): {cands:,}")
        rng = np.random.default_rng(args.seed + 1)
        configs = [(n, 0, 0) for n in args.guides]
        if args.bulges:
            configs += [(n, 1, 1) for n in args.guides]
        results = {}

        def timed(search) -> tuple[float, int]:
            t = time.perf_counter()
            hits = sum(len(raw) for _, raw in search.raw_batches())
            return time.perf_counter() - t, hits

        for k, (n, dna, rna) in enumerate(configs):
            queries = [Query(f"g{i}", "".join(rng.choice(list("ACGT"), 20)), args.mismatches)
                       for i in range(n)]
            layout = SiteLayout(20, "NGG", 3, dna, rna)
            search = OffTargetSearch(store, queries, layout, threads=args.threads)
            if args.keep_mapped:
                search.release_pages = False
            runs = [timed(search) for _ in range(args.repeat)]
            dt, hits = min(runs)
            if k == 0:  # the first scan also mapped the store's pages into the process
                print(f"first scan (maps the store's pages, as a fresh process does): "
                      f"{runs[0][0]:.3f}s  {runs[0][0] / t_base:.1f}x streaming pass", flush=True)
            results[(n, dna, rna)] = dt
            line = (f"{n:4d} guides, <={args.mismatches} mm, {dna} DNA/{rna} RNA bulge: "
                    f"{dt:8.3f}s  {dt / t_base:7.1f}x streaming pass  {dt / t_crc:5.2f}x CRC pass  "
                    f"hits {hits:,}")
            if cands:
                per = dt * args.threads / (cands * n) * 1e9
                line += (f"  {cands * n / dt / 1e6:8.1f} M candidate-guide pairs/s  "
                         f"{per:.2f} ns per candidate per guide per core")
            if dna or rna:
                base = results.get((n, 0, 0))
                if base:
                    line += f"  {dt / base:.1f}x mismatch-only"
            if n <= SEED_MAX_QUERIES and not args.no_filter_comparison:
                off = OffTargetSearch(store, queries, layout, threads=args.threads,
                                      seed_filter=False)
                off.release_pages = search.release_pages
                line += f"  (seed filter off: {min(timed(off) for _ in range(args.repeat))[0]:.3f}s)"
            print(line, flush=True)
        print(f"peak RSS during the scans {peak_rss_mb():.0f} MB (process before the scans "
              f"{rss0:.0f} MB; store file {store_path.stat().st_size / 1e6:.0f} MB)")
    if not args.keep:
        store_path.unlink(missing_ok=True)
    try:
        tmpdir.rmdir()
    except OSError:
        pass


if __name__ == "__main__":
    main()
