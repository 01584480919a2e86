"""Scale benchmark of ``pmcore aso`` (pre-mRNA + spliced transcripts, the default mode).

Generates a seeded random genome of the requested size (human-like base composition) and a
synthetic gene model with human gene density (``annotation.synthetic_gtf``: ~19 genes per
Mbp, log-normal gene lengths, 1-3 isoforms of 1-12 exons, genes on both strands), picks N
random ASOs (half of them complementary to a spliced transcript, so every run has on-target
sites), then times ``search_asos`` stage by stage and prints throughput in searched bases
per second and the peak RSS.

The search cost is linear in the searched bases (gene bodies + junction segments) times the
number of ASO length groups; the extrapolation printed at the end scales the measured rate
to human figures given on the command line (defaults: 1.45 Gbp of merged gene bodies and
~45 Mbp of junction segments for GENCODE-like annotation; both are estimates, pass your own).
Random sequence has fewer near-matches than a real genome (repeats); the per-site stages are
timed separately so their cost can be scaled by the real hit count.

    python benchmarks/aso_scale.py --size 100e6 --asos 100 --threads 2
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from _memory import peak_rss_mb  # noqa: E402


def write_genome(path: Path, size: int, n_contigs: int, rng) -> dict:
    letters = np.frombuffer(b"ACGT", dtype=np.uint8)
    lengths = {}
    per = size // n_contigs
    with open(path, "wb") as fh:
        for k in range(n_contigs):
            name = f"chr{k + 1}"
            fh.write(f">{name}\n".encode())
            left = per
            while left:
                n = min(left, 1 << 24)
                fh.write(letters[rng.choice(4, n, p=[0.3, 0.2, 0.2, 0.3])].tobytes())
                left -= n
            fh.write(b"\n")
            lengths[name] = per
    return lengths


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=float, default=100e6, help="genome bases")
    ap.add_argument("--contigs", type=int, default=4)
    ap.add_argument("--asos", type=int, default=100)
    ap.add_argument("--length", type=int, default=20, help="ASO length (one group)")
    ap.add_argument("--mismatches", type=int, default=3)
    ap.add_argument("--bulges", type=int, default=1)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--genes-per-mbp", type=float, default=19.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--human-body-bp", type=float, default=1.45e9)
    ap.add_argument("--human-junction-bp", type=float, default=45e6)
    args = ap.parse_args(argv)

    from pmcore.annotation import read_gtf, synthetic_gtf
    from pmcore.aso import gene_body_intervals, revcomp, search_asos
    from pmcore.genome import build_store, open_genome

    rng = np.random.default_rng(args.seed)
    with tempfile.TemporaryDirectory(prefix="pmcore-aso-bench-") as tmp:
        tmp = Path(tmp)
        t0 = time.perf_counter()
        lengths = write_genome(tmp / "g.fa", int(args.size), args.contigs, rng)
        store = open_genome(build_store(tmp / "g.fa", tmp / "g.pmg"))
        n_genes = int(args.genes_per_mbp * args.size / 1e6)
        (tmp / "g.gtf").write_text(synthetic_gtf(lengths, n_genes, seed=args.seed))
        gm = read_gtf(str(tmp / "g.gtf")).for_genome(lengths)
        body = sum(e - s for _, s, e in gene_body_intervals(gm))
        print(f"setup: {args.size / 1e6:.0f} Mbp genome, {gm.n_genes} genes, "
              f"{gm.n_transcripts} transcripts, gene bodies {body / 1e6:.1f} Mbp "
              f"({100 * body / args.size:.0f}%), {time.perf_counter() - t0:.1f} s")
        asos = {}
        txs = list(gm.iter_transcripts())
        for k in range(args.asos):
            if k % 2 == 0:
                t = txs[int(rng.integers(len(txs)))]
                sp = t.spliced_sequence(store.fetch).sequence
                if len(sp) >= args.length:
                    p = int(rng.integers(0, len(sp) - args.length + 1))
                    asos[f"aso{k}"] = revcomp(sp[p:p + args.length])
                    continue
            asos[f"aso{k}"] = "".join(rng.choice(list("ACGT"), args.length))
        t0 = time.perf_counter()
        hits, _summary = res = search_asos(store, asos, gene_model=gm,
                                          max_mismatches=args.mismatches,
                                          max_bulges=args.bulges, threads=args.threads)
        wall = time.perf_counter() - t0
        st = res.stats
        searched = st["searched_bases"]
        print(f"search_asos: {args.asos} ASOs x {args.length} nt, <= {args.mismatches} mm, "
              f"<= {args.bulges} bulge, {args.threads} threads")
        print(f"  searched {searched / 1e6:.1f} Mbp (gene bodies "
              f"{st['gene_body_bases'] / 1e6:.1f} + junction segments "
              f"{st['junction_segment_bases'] / 1e6:.2f}); region store: {st['region_store']}")
        print(f"  prepare {st['seconds_prepare']:.1f} s, search {st['seconds_search']:.1f} s, "
              f"annotate+score {st['seconds_annotate_score']:.1f} s, total {wall:.1f} s")
        print(f"  hits {hits.height} ({st['redundant']} redundant), on-target "
              f"{int(hits['is_on_target'].sum())}, high {int((hits['risk_class'] == 'high').sum())}")
        rate = searched / st["seconds_search"]
        print(f"  search rate {rate / 1e6:.2f} Mbp/s for {args.asos} ASOs "
              f"({rate * args.asos / 1e9:.2f} Gbp*ASO/s); "
              f"per-site stages {1e6 * st['seconds_annotate_score'] / max(1, hits.height):.0f} "
              f"us/site; peak RSS {peak_rss_mb():.0f} MiB")
        prep_rate = (st["gene_body_bases"] + st["junction_segment_bases"]) / max(
            1e-9, st["seconds_prepare"])
        human = args.human_body_bp + args.human_junction_bp
        print(f"EXTRAPOLATION (not measured): human-like {human / 1e9:.2f} Gbp searched -> "
              f"search ~{human / rate / 60:.0f} min + prepare ~{human / prep_rate / 60:.1f} min "
              f"on this machine with {args.threads} threads, {args.asos} ASOs of one length")
        store.close()


if __name__ == "__main__":
    main()
