"""The scan kernel against the brute-force Cas-OFFinder model (tests/_reference.py)."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import _reference as ref
from pmcore.genome import GenomeStore, build_store
from pmcore.offtarget import OffTargetSearch, Query, SiteLayout

LETTERS = "ACGT"


def write_fasta(path, genome, width=60, lowercase=()):
    with open(path, "w") as fh:
        for name, seq in genome.items():
            fh.write(f">{name} test contig\n")
            for i in range(0, len(seq), width):
                fh.write(seq[i:i + width] + "\n")


def kernel_rows(store, queries, layout, all_placements, chunk_bases=97, threads=2,
                seed_filter=True):
    search = OffTargetSearch(store, queries, layout, threads=threads,
                             all_placements=all_placements, chunk_bases=chunk_bases,
                             query_batch=3, seed_filter=seed_filter)
    rows = []
    for contig, raw in search.raw_batches():
        for i in range(len(raw)):
            strand, bt, bs = int(raw.strand[i]), int(raw.btype[i]), int(raw.bsize[i])
            lo, hi = search.plan.extents[(strand, bt, bs)]
            a = int(raw.anchor[i]) - contig.offset
            rows.append((int(raw.query[i]), contig.name, a + lo, a + hi, "+-"[strand], bt, bs,
                         int(raw.bpos[i]), int(raw.mm[i])))
    return sorted(rows)


def reference_rows(genome, queries, layout, all_placements):
    rows = ref.search(genome, [(layout.guide_window(q), q.max_mismatches) for q in queries],
                      layout.pattern_window(), layout.spacer_len, layout.pam_side,
                      layout.max_dna, layout.max_rna)
    return sorted(rows) if all_placements else ref.best_per_site(rows, layout.pam_side)


def mutate(rng, seq, n_mm):
    seq = list(seq)
    for i in rng.sample(range(len(seq)), min(n_mm, len(seq))):
        seq[i] = rng.choice([c for c in LETTERS if c != seq[i]])
    return "".join(seq)


def plant(rng, genome_list, guide, pam, side, max_dna, max_rna):
    """Insert a near-copy of guide+PAM (mismatches, maybe a bulge) at a random place."""
    proto = mutate(rng, guide, rng.randint(0, 3))
    kind = rng.choice(["x", "dna", "rna"])
    if kind == "dna" and max_dna:
        j = rng.randint(1, len(proto))
        proto = proto[:j] + "".join(rng.choice(LETTERS) for _ in range(rng.randint(1, max_dna))) + proto[j:]
    elif kind == "rna" and max_rna:
        j = rng.randint(0, len(proto) - 3)
        proto = proto[:j] + proto[j + rng.randint(1, max_rna):]
    pam_seq = "".join(rng.choice(ref.SETS[c]) for c in pam)
    site = proto + pam_seq if side == 3 else pam_seq + proto
    if rng.random() < 0.5:
        site = ref.revcomp(site)
    pos = rng.choice([0, len(genome_list) - len(site), rng.randint(0, len(genome_list) - len(site))])
    genome_list[pos:pos + len(site)] = list(site)


LAYOUTS = [
    ("NGG", 3), ("NRG", 3), ("NG", 3), ("NNGRRT", 3), ("TTTV", 5), ("TTN", 5),
    ("", 3),  # no PAM (ASO-style search): every anchor is a candidate, dense blocks
]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1), layout_i=st.integers(0, len(LAYOUTS) - 1),
       spacer_len=st.sampled_from([17, 20, 24]), max_dna=st.integers(0, 2),
       max_rna=st.integers(0, 2), all_placements=st.booleans(), seed_filter=st.booleans())
def test_kernel_equals_bruteforce(tmp_path_factory, seed, layout_i, spacer_len, max_dna,
                                  max_rna, all_placements, seed_filter):
    rng = random.Random(seed)
    pam, side = LAYOUTS[layout_i]
    genome = {}
    guides = ["".join(rng.choice(LETTERS) for _ in range(spacer_len)) for _ in range(2)]
    for c in range(rng.randint(1, 3)):
        n = rng.choice([40, 64, 128, 300, 501])
        seq = [rng.choice(LETTERS) for _ in range(n)]
        if rng.random() < 0.4:  # N run and IUPAC letters
            a = rng.randrange(n)
            seq[a:a + rng.randint(1, 12)] = "N" * len(seq[a:a + 12])
            seq[rng.randrange(n)] = rng.choice("RYKMSWBDHV")
        seq = seq[:n]
        for _ in range(rng.randint(0, 3)):
            if n > 40:
                plant(rng, seq, rng.choice(guides), pam, side, max_dna, max_rna)
        text = "".join(seq)
        if rng.random() < 0.3:  # soft-masked stretch: must not change any result
            a = rng.randrange(n)
            text = text[:a] + text[a:a + 30].lower() + text[a + 30:]
        genome[f"chr{c}"] = text
    queries = [Query(f"g{i}", g, rng.randint(0, 5)) for i, g in enumerate(guides)]
    layout = SiteLayout(spacer_len, pam, side, max_dna, max_rna)
    fa = tmp_path_factory.mktemp("g") / "g.fa"
    write_fasta(fa, genome)
    build_store(fa, fa.with_suffix(".pmg"))
    with GenomeStore(fa.with_suffix(".pmg")) as store:
        got = kernel_rows(store, queries, layout, all_placements,
                          chunk_bases=rng.choice([1, 7, 64, 97, 1000]), seed_filter=seed_filter)
        # rendering re-counts every hit's mismatches from its strings
        list(OffTargetSearch(store, queries, layout, all_placements=all_placements).batches())
    assert got == reference_rows(genome, queries, layout, all_placements)


def test_degenerate_query_letters_and_genome_iupac(tmp_path):
    # Cas-OFFinder rules: genome N is a mismatch against a fixed query base, not against
    # a degenerate one; at the PAM a genome N passes 'N'/'R' but fails 'G'.
    genome = {"c": "AAAA" + "ACGTNCGTACGTACGTACGTNGG" + "TTTT" + "ACGTACGTACGTACGTACGTAGN" + "CCCC" + "ACGTACGTACGTACGTACGTANG"}
    fa = tmp_path / "g.fa"
    write_fasta(fa, genome)
    build_store(fa, tmp_path / "g.pmg")
    queries = [Query("fixed", "ACGTACGTACGTACGTACGT", 1), Query("degenerate", "ACGTRCGTACGTACGTACGT", 0)]
    layout = SiteLayout(20, "NRG", 3)
    with GenomeStore(tmp_path / "g.pmg") as store:
        got = kernel_rows(store, queries, layout, True)
    exp = reference_rows(genome, queries, layout, True)
    assert got == exp
    assert (0, "c", 4, 27, "+", 0, 0, -1, 1) in got  # genome N vs fixed A: one mismatch
    assert (1, "c", 4, 27, "+", 0, 0, -1, 0) in got  # genome N vs R: no mismatch
    assert not any(r[2] == 31 and r[5] == 0 for r in got)  # genome N at the PAM's fixed G
    assert (0, "c", 58, 81, "+", 0, 0, -1, 0) in got  # genome N at the PAM's R: accepted


@pytest.mark.parametrize("pam,side,dna,rna", [("NGG", 3, 1, 1), ("TTTV", 5, 2, 0),
                                              ("NNGRRT", 3, 0, 2), ("NRG", 3, 0, 0)])
def test_seed_filter_keeps_sites_at_the_limit(tmp_path, pam, side, dna, rna):
    """Adversarial sites for the seed filter: exactly ``m`` mismatches spread so that as
    few parts as possible stay exact (one per part, runs across part boundaries), with
    and without a bulge at every guide position, for every limit 0-6."""
    rng = random.Random(7)
    guide = "".join(rng.choice(LETTERS) for _ in range(20))
    pieces = []
    for m in range(7):
        spots = [sorted(rng.sample(range(20), m)) for _ in range(2)]
        spots += [[round(i * 20 / m) for i in range(m)] if m else []]  # one per part
        spots += [list(range(a, a + m)) for a in range(0, 21 - m, 5)]  # runs
        for pos in spots:
            proto = list(guide)
            for i in pos:
                proto[i] = rng.choice([c for c in LETTERS if c != proto[i]])
            for j in range(0, 21):
                site = proto[:]
                kind = rng.choice(["x", "dna", "rna"])
                if kind == "dna" and dna and 0 < j < 20:
                    site[j:j] = [rng.choice(LETTERS) for _ in range(rng.randint(1, dna))]
                elif kind == "rna" and rna and j < 19:
                    del site[j:j + rng.randint(1, rna)]
                elif j % 4:
                    continue
                pam_seq = "".join(rng.choice(ref.SETS[c]) for c in pam)
                text = "".join(site) + pam_seq if side == 3 else pam_seq + "".join(site)
                pieces.append(ref.revcomp(text) if rng.random() < 0.5 else text)
                pieces.append("".join(rng.choice(LETTERS) for _ in range(rng.randint(0, 9))))
    genome = {"c": "".join(pieces)}
    write_fasta(tmp_path / "g.fa", genome)
    build_store(tmp_path / "g.fa", tmp_path / "g.pmg")
    layout = SiteLayout(20, pam, side, dna, rna)
    with GenomeStore(tmp_path / "g.pmg") as store:
        for m in (1, 4, 6):
            queries = [Query("g", guide, m)]
            got = kernel_rows(store, queries, layout, False, chunk_bases=1 << 20)
            exp = reference_rows(genome, queries, layout, False)
            assert got == exp
            assert sum(1 for r in exp if r[8] == m) > 10  # sites right at the limit
