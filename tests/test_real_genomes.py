"""The engine on the real genomes in ../shared/data against a vectorised brute force.

The reference is the literal model of tests/_reference.py (Cas-OFFinder's letter rules,
each bulge placement its own pattern/query pair) with the comparison at every genome
position and strand done by numpy. Skips when the data folder is absent.
"""

from __future__ import annotations

import gzip

import _reference as ref
import numpy as np
import pytest

from pmcore.genome import GenomeStore, build_store
from pmcore.offtarget import OffTargetSearch, Query, SiteLayout


def read_fasta(path, limit=None):
    genome, name, parts = {}, None, []
    with gzip.open(path, "rt") as fh:
        for line in fh:
            if line.startswith(">"):
                if name:
                    genome[name] = "".join(parts)
                name, parts = line[1:].split()[0], []
            else:
                parts.append(line.strip())
    genome[name] = "".join(parts)
    if limit:
        genome = {k: v[:limit] for k, v in genome.items()}
    return genome


def placements_brute_force(genome: dict, query: str, pattern: str, max_mm: int, max_dna: int,
                           max_rna: int) -> set:
    """Every accepted placement (chrom, start, end, strand, type, size, pos, mismatches):
    the literal model of tests/_reference.py (each bulge placement its own pattern/query
    pair, Cas-OFFinder letter rules), vectorised over genome positions with numpy."""
    rejects = {c: np.array([ref.rejects(c, chr(b)) if chr(b) in "ACGTNRYKMSWBDHV" else True
                            for b in range(256)]) for c in ref.SETS}
    out = set()
    for btype, bsize, bpos, pat, qry in ref.variants(pattern, query, 20, 3, max_dna, max_rna):
        for strand, p_s, q_s in (("+", pat, qry), ("-", ref.revcomp(pat), ref.revcomp(qry))):
            w = len(p_s)
            for chrom, seq in genome.items():
                s = np.frombuffer(seq.upper().encode(), dtype=np.uint8)
                n = len(s) - w + 1
                if n <= 0:
                    continue
                ok = np.ones(n, dtype=bool)
                mm = np.zeros(n, dtype=np.int16)
                for k, (pc, qc) in enumerate(zip(p_s, q_s)):
                    col = s[k:k + n]
                    if pc != "N":
                        ok &= ~rejects[pc][col]
                    if qc != "N":
                        mm += rejects[qc][col]
                for start in np.flatnonzero(ok & (mm <= max_mm)):
                    out.add((chrom, int(start), int(start) + w, strand, btype, bsize, bpos,
                             int(mm[start])))
    return out



CASES = [
    ("ecoli_mg1655.fa.gz", None, "NGG", 4),
    ("pf3d7_mal.fa.gz", None, "NRG", 3),
    ("hs37_chrX_0_70M.fa.gz", 3_000_000, "NGG", 4),
]


@pytest.mark.parametrize("name,limit,pam,mm", CASES)
def test_real_genome_against_brute_force(shared_data, tmp_path, name, limit, pam, mm):
    genome = read_fasta(shared_data / "genomes" / name, limit)
    rng = np.random.default_rng(5)
    # guides taken from the genome itself (so there are perfect and near sites) + random
    first = next(iter(genome.values())).upper()
    guides = []
    while len(guides) < 2:
        p = int(rng.integers(100_000, len(first) - 100))
        cand = first[p:p + 20]
        if set(cand) <= set("ACGT"):
            guides.append(cand)
    guides.append("".join(rng.choice(list("ACGT"), 20)))
    fa = tmp_path / "g.fa"
    fa.write_text("".join(f">{k}\n{v}\n" for k, v in genome.items()))
    build_store(fa, tmp_path / "g.pmg")
    with GenomeStore(tmp_path / "g.pmg") as store:
        search = OffTargetSearch(store, [Query(f"q{i}", g, mm) for i, g in enumerate(guides)],
                                 SiteLayout(20, pam, 3), threads=2)
        got = {i: set() for i in range(len(guides))}
        for batch in search.batches():
            for q, c, s, st, m in zip(*(batch.column(k).to_pylist() for k in
                                        ("query_id", "chrom", "start", "strand", "mismatches"))):
                got[int(q[1:])].add((c, s, st, m))
    pattern = SiteLayout(20, pam, 3).pattern_window()
    for i, g in enumerate(guides):
        exp = {(c, s, st, m) for c, s, _, st, _, _, _, m
               in placements_brute_force(genome, g + "N" * len(pam), pattern, mm, 0, 0)}
        assert got[i] == exp
    assert sum(len(v) for v in got.values()) > 0


BULGE_CASES = [
    ("ecoli_mg1655.fa.gz", 400_000, 0, "NGG", 5, 1, 1),
    ("pf3d7_mal.fa.gz", 120_000, 0, "NRG", 5, 2, 0),  # AT-rich, lower case
    ("hs37_chrX_0_70M.fa.gz", 300_000, 2_000_000, "NGG", 5, 0, 2),  # across an N gap
]


@pytest.mark.parametrize("name,limit,offset,pam,mm,dna,rna", BULGE_CASES)
def test_real_genome_bulges_against_brute_force(shared_data, tmp_path, name, limit, offset,
                                                pam, mm, dna, rna):
    genome = read_fasta(shared_data / "genomes" / name)
    genome = {k: v[offset:offset + limit] for k, v in genome.items()}
    rng = np.random.default_rng(9)
    seqs = [v.upper() for v in genome.values() if len(v) > 1000]
    guides = []
    while len(guides) < 2:
        seq = seqs[int(rng.integers(len(seqs)))]
        p = int(rng.integers(0, len(seq) - 40))
        if set(seq[p:p + 20]) <= set("ACGT"):
            guides.append(seq[p:p + 20])
    fa = tmp_path / "g.fa"
    fa.write_text("".join(f">{k}\n{v}\n" for k, v in genome.items()))
    build_store(fa, tmp_path / "g.pmg")
    layout = SiteLayout(20, pam, 3, dna, rna)
    with GenomeStore(tmp_path / "g.pmg") as store:
        search = OffTargetSearch(store, [Query(f"q{i}", g, mm) for i, g in enumerate(guides)],
                                 layout, threads=2, all_placements=True)
        got = {i: set() for i in range(len(guides))}
        for contig, raw in search.raw_batches():
            for i in range(len(raw)):
                strand, bt, bs = int(raw.strand[i]), int(raw.btype[i]), int(raw.bsize[i])
                lo, hi = search.plan.extents[(strand, bt, bs)]
                a = int(raw.anchor[i]) - contig.offset
                got[int(raw.query[i])].add((contig.name, a + lo, a + hi, "+-"[strand], bt, bs,
                                            int(raw.bpos[i]), int(raw.mm[i])))
    bulged = 0
    for i, g in enumerate(guides):
        exp = placements_brute_force(genome, g + "N" * len(pam), layout.pattern_window(), mm,
                                     dna, rna)
        assert got[i] == exp
        bulged += sum(1 for r in exp if r[4])
    assert bulged >= 5  # bulged placements were found and compared
