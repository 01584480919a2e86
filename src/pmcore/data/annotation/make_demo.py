"""Generate the embedded annotation demo data (seeded; rerun to reproduce byte for byte).

Writes, in this folder:

- ``demo.gtf``: 40 synthetic genes (:func:`pmcore.annotation.synthetic_gtf`, seed 20261122)
  plus two hand-placed genes, ``ONCO1`` (coding, + strand) and ``TSG1`` (coding, - strand),
  on the contigs given (default ``demo1`` 200 kb and ``demo2`` 100 kb);
- ``demo_regions.bed``: BED6 of user regions flagging ``ONCO1`` and ``TSG1`` as an oncogene
  and a tumour suppressor;
- ``demo_chrom_alias.tsv``: an alias file mapping ``1``/``2`` to the two contigs.

Run ``python make_demo.py [NAME=LENGTH ...]`` in this folder; pass the demo genome's contig
names and lengths so the annotation fits it (every record stays inside its contig).
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_CONTIGS = {"demo1": 200_000, "demo2": 100_000}
SEED = 20261122


def hand_genes(contigs: dict[str, int]) -> str:
    """Two genes with exact, documented structures (1-based closed, as GTF wants)."""
    names = list(contigs)
    c1, c2 = (names[0], names[1]) if len(names) > 1 else (names[0], names[0])
    lines = []

    def add(chrom, ftype, s, e, strand, attrs):
        lines.append(f"{chrom}\tpmcore-demo\t{ftype}\t{s}\t{e}\t.\t{strand}\t.\t{attrs}\n")

    g = 'gene_id "DEMO_ONCO1"; gene_name "ONCO1"; gene_biotype "protein_coding";'
    t = g + ' transcript_id "DEMO_ONCO1.1"; transcript_biotype "protein_coding";'
    add(c1, "gene", 20_001, 26_000, "+", g)
    add(c1, "transcript", 20_001, 26_000, "+", t)
    for s, e in ((20_001, 20_400), (22_001, 22_150), (25_001, 26_000)):
        add(c1, "exon", s, e, "+", t)
    for s, e in ((20_201, 20_400), (22_001, 22_150), (25_001, 25_297)):
        add(c1, "CDS", s, e, "+", t)
    add(c1, "stop_codon", 25_298, 25_300, "+", t)

    g = 'gene_id "DEMO_TSG1"; gene_name "TSG1"; gene_biotype "protein_coding";'
    t = g + ' transcript_id "DEMO_TSG1.1"; transcript_biotype "protein_coding";'
    add(c2, "gene", 40_001, 52_000, "-", g)
    add(c2, "transcript", 40_001, 52_000, "-", t)
    for s, e in ((40_001, 41_000), (45_001, 45_200), (51_501, 52_000)):
        add(c2, "exon", s, e, "-", t)
    for s, e in ((40_701, 41_000), (45_001, 45_200), (51_501, 51_800)):
        add(c2, "CDS", s, e, "-", t)
    return "".join(lines)


def main(argv: list[str]) -> None:
    from pmcore.annotation import synthetic_gtf

    contigs = dict(DEFAULT_CONTIGS)
    if argv:
        contigs = {}
        for item in argv:
            name, _, length = item.partition("=")
            contigs[name] = int(length)
    names = list(contigs)
    c1, c2 = (names[0], names[1]) if len(names) > 1 else (names[0], names[0])
    header = ("#!pmcore demo annotation: synthetic, not biology. "
              f"Regenerate with make_demo.py (seed {SEED}).\n")
    text = synthetic_gtf(contigs, 40, seed=SEED) + hand_genes(contigs)
    (HERE / "demo.gtf").write_text(header + text)
    (HERE / "demo_regions.bed").write_text(
        "track name=demo_regions description=\"demo oncogenes and tumour suppressors\"\n"
        f"{c1}\t20000\t26000\tONCO1_oncogene\t0\t+\n"
        f"{c2}\t40000\t52000\tTSG1_tumour_suppressor\t0\t-\n")
    (HERE / "demo_chrom_alias.tsv").write_text(
        "# name in the input\tname in the genome\n" f"1\t{c1}\n" + (
            f"2\t{c2}\n" if c2 != c1 else ""))


if __name__ == "__main__":
    main(sys.argv[1:])
