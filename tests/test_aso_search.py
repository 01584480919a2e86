"""ASO site search vs a brute-force twin (explicit gap enumeration) on random inputs.

The twin slides the ASO's complement over the RNA-sense text of each pre-mRNA, spliced
transcript or genome strand and enumerates every alignment column by column: no gap, or one
internal gap of 1..max_bulges nt in the target (extra RNA bases) or in the ASO (extra ASO
bases), mismatches counted over paired columns, non-ACGT target letters mismatching. It is
vectorised over window positions only.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pmcore.annotation import read_gtf
from pmcore.aso import AsoSet, revcomp, search_asos
from pmcore.aso_design import parse_aso
from pmcore.errors import InputError
from pmcore.genome import build_store, open_genome

# ----------------------------------------------------------------------------- the twin


def brute_windows(aso: str, text: str, max_mm: int, max_b: int) -> dict:
    """{(start, end): (bulge_type, bulge_size, mismatches)} over RNA-sense ``text``."""
    q = np.frombuffer(revcomp(aso).encode(), np.uint8)
    s = np.frombuffer(text.upper().encode(), np.uint8)
    L, N = len(q), len(s)
    variants = [("none", 0, L, [(i, i) for i in range(L)])]
    for b in range(1, max_b + 1):
        for j in range(1, L):  # b extra target bases between query j-1 and j
            variants.append(("target", b, L + b, [(i, i if i < j else i + b)
                                                  for i in range(L)]))
        for j in range(1, L - b):  # query bases j..j+b-1 unpaired (j+b <= L-1)
            variants.append(("aso", b, L - b, [(i, i if i < j else i - b)
                                               for i in range(L) if not j <= i < j + b]))
    best: dict = {}
    for btype, b, width, cols in variants:
        if N < width:
            continue
        n = N - width + 1
        mm = np.zeros(n, dtype=np.int32)
        for qi, off in cols:
            mm += s[off:off + n] != q[qi]
        for p in np.flatnonzero(mm <= max_mm).tolist():
            key = (p, p + width)
            if key not in best or mm[p] < best[key][2]:
                best[key] = (btype, b, int(mm[p]))
    return best


def _rand(rng, n):
    return "".join(rng.choice(list("ACGT"), n))


def _mutate(rng, target: str, n_mm: int, bulge: int) -> str:
    """A near copy of ``target`` with mismatches and one internal insertion/deletion."""
    t = list(target)
    for p in rng.choice(len(t), size=n_mm, replace=False):
        t[p] = {"A": "C", "C": "G", "G": "T", "T": "A"}[t[p]]
    if bulge > 0:
        j = int(rng.integers(2, len(t) - 2))
        t[j:j] = list(_rand(rng, bulge))
    elif bulge < 0:
        j = int(rng.integers(2, len(t) - 2 + bulge))
        del t[j:j - bulge]
    return "".join(t)


def _plant(rng, seq: list, text: str, pos: int):
    seq[pos:pos + len(text)] = list(text)


# ----------------------------------------------------------------------------- fixtures

GTF_TMPL = """\
{c}\tt\texon\t1001\t1200\t.\t+\t.\tgene_id "GA"; gene_name "GENEA"; transcript_id "TA1";
{c}\tt\texon\t2001\t2100\t.\t+\t.\tgene_id "GA"; gene_name "GENEA"; transcript_id "TA1";
{c}\tt\texon\t3001\t3300\t.\t+\t.\tgene_id "GA"; gene_name "GENEA"; transcript_id "TA1";
{c}\tt\tCDS\t1101\t1200\t.\t+\t.\tgene_id "GA"; gene_name "GENEA"; transcript_id "TA1";
{c}\tt\tCDS\t2001\t2100\t.\t+\t.\tgene_id "GA"; gene_name "GENEA"; transcript_id "TA1";
{c}\tt\tCDS\t3001\t3200\t.\t+\t.\tgene_id "GA"; gene_name "GENEA"; transcript_id "TA1";
{c}\tt\texon\t1001\t1200\t.\t+\t.\tgene_id "GA"; gene_name "GENEA"; transcript_id "TA2";
{c}\tt\texon\t3001\t3400\t.\t+\t.\tgene_id "GA"; gene_name "GENEA"; transcript_id "TA2";
{c}\tt\texon\t5001\t5150\t.\t-\t.\tgene_id "GB"; gene_name "GENEB"; transcript_id "TB1";
{c}\tt\texon\t5161\t5170\t.\t-\t.\tgene_id "GB"; gene_name "GENEB"; transcript_id "TB1";
{c}\tt\texon\t6001\t6400\t.\t-\t.\tgene_id "GB"; gene_name "GENEB"; transcript_id "TB1";
{c}\tt\texon\t2501\t2700\t.\t-\t.\tgene_id "GC"; gene_name "GENEC"; transcript_id "TC1";
{c}\tt\texon\t2801\t2900\t.\t-\t.\tgene_id "GC"; gene_name "GENEC"; transcript_id "TC1";
"""


def make_case(tmp_path, seed: int, n_asos: int = 3):
    """Random 8 kb contig + 3 kb contig, a small GTF (genes on both strands, a 10-nt exon,
    overlapping genes on opposite strands), ASOs with near copies planted in exons,
    introns and across junctions on both strands."""
    rng = np.random.default_rng(seed)
    contigs = {"chrA": list(_rand(rng, 8000)), "chrB": list(_rand(rng, 3000))}
    contigs["chrA"][4000:4010] = list("NNNNNNNNNN")
    gtf = GTF_TMPL.format(c="chrA")
    asos = {}
    for k in range(n_asos):
        L = int(rng.integers(12, 19))
        asos[f"aso{k}"] = _rand(rng, L)
    path_gtf = tmp_path / "g.gtf"
    path_gtf.write_text(gtf)
    gm0 = read_gtf(str(path_gtf))
    # plant near copies of the RNA-sense target
    spots = [(1050, "+"), (2020, "+"), (3100, "+"), (1500, "+"), (5050, "-"), (6100, "-"),
             (2550, "-"), (700, "+"), (7000, "-"), (3950, "+")]
    for (pos, strand) in spots:
        aid = rng.choice(list(asos))
        tgt = _mutate(rng, revcomp(asos[aid]), int(rng.integers(0, 4)),
                      int(rng.integers(-1, 2)))
        text = tgt if strand == "+" else revcomp(tgt)
        _plant(rng, contigs["chrA"], text, pos)
    # across the TA1 exon1|exon2 and TB1 junctions: plant in spliced coordinates
    text = {k: "".join(v) for k, v in contigs.items()}
    for tid in ("TA1", "TB1"):
        t = gm0.transcript(tid)
        aid = rng.choice(list(asos))
        tgt = _mutate(rng, revcomp(asos[aid]), int(rng.integers(0, 3)), 0)
        cum = np.cumsum(t.exon_ends - t.exon_starts)[0] if t.strand == "+" else \
            np.cumsum((t.exon_ends - t.exon_starts)[::-1])[0]
        j0 = int(cum) - len(tgt) // 2
        gp = t.to_genome(np.arange(j0, j0 + len(tgt)))
        seq = list(text["chrA"])
        for b, g in zip(tgt, gp.tolist()):
            seq[g] = b if t.strand == "+" else revcomp(b)
        text["chrA"] = "".join(seq)
    fa = tmp_path / "g.fa"
    fa.write_text("".join(f">{k}\n{v}\n" for k, v in text.items()))
    store = open_genome(build_store(fa, tmp_path / "g.pmg"))
    gm = read_gtf(str(path_gtf)).for_genome({c.name: c.length for c in store.contigs})
    return store, gm, asos, text


def _engine_set(hits: pl.DataFrame):
    return {(r["aso_id"], r["chrom"], r["strand"], r["genome_blocks"], r["bulge_type"],
             r["n_bulges"], r["n_mismatches"]) for r in hits.iter_rows(named=True)}


def _blocks(gp):
    s = np.sort(np.asarray(gp))
    br = np.flatnonzero(np.diff(s) != 1) + 1
    return ",".join(f"{int(r[0])}-{int(r[-1]) + 1}" for r in np.split(s, br))


def brute_annotated(store, gm, asos, max_mm, max_b, *, premrna=True, spliced=True):
    """Twin of the default mode: {(aso, chrom, strand, blocks, type, size, mm)} and, per
    site, the transcripts whose spliced sequence holds it."""
    sites, tx_of, pre_of = set(), {}, {}
    for t in gm.iter_transcripts():
        seqs = []
        if premrna:
            seqs.append((t.pre_mrna_sequence(store.fetch), False))
        if spliced:
            seqs.append((t.spliced_sequence(store.fetch), True))
        for sp, is_spliced in seqs:
            for aid, a in asos.items():
                for (s, e), (bt, b, mm) in brute_windows(a, sp.sequence, max_mm,
                                                         max_b).items():
                    key = (aid, t.chrom, t.strand, _blocks(sp.genome_pos[s:e]), bt, b, mm)
                    sites.add(key)
                    if is_spliced:
                        tx_of.setdefault(key, set()).add(t.transcript_id)
                    else:
                        pre_of.setdefault(key, {})[t.transcript_id] = s
    brute_annotated.premrna = pre_of
    return sites, tx_of


def brute_genome(store, asos, max_mm, max_b):
    out = set()
    for c in store.contigs:
        fwd = store.fetch(c.name, 0, c.length, soft=False)
        rev = revcomp(fwd)
        N = len(fwd)
        for aid, a in asos.items():
            for (s, e), (bt, b, mm) in brute_windows(a, fwd, max_mm, max_b).items():
                out.add((aid, c.name, "+", f"{s}-{e}", bt, b, mm))
            for (s, e), (bt, b, mm) in brute_windows(a, rev, max_mm, max_b).items():
                out.add((aid, c.name, "-", f"{N - e}-{N - s}", bt, b, mm))
    return out


# ----------------------------------------------------------------------------- tests

@settings(max_examples=6, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1), max_mm=st.integers(0, 4), max_b=st.integers(0, 2))
def test_default_mode_equals_brute_force(tmp_path_factory, seed, max_mm, max_b):
    tmp = tmp_path_factory.mktemp("aso")
    store, gm, asos, _ = make_case(tmp, seed)
    with store:
        ref, tx_of = brute_annotated(store, gm, asos, max_mm, max_b)
        for region_store in (True, False):
            hits, summary = search_asos(store, asos, gene_model=gm, max_mismatches=max_mm,
                                        max_bulges=max_b, threads=2,
                                        region_store=region_store)
            assert _engine_set(hits) == ref
            assert hits.select(["aso_id", "site_id"]).is_duplicated().sum() == 0
            for r in hits.iter_rows(named=True):
                key = (r["aso_id"], r["chrom"], r["strand"], r["genome_blocks"],
                       r["bulge_type"], r["n_bulges"], r["n_mismatches"])
                assert set(r["transcripts"]) == tx_of.get(key, set())
                pre = brute_annotated.premrna.get(key, {})
                assert dict(zip(r["premrna_transcripts"], r["premrna_starts"])) == pre
                assert r["spans_junction"] == ("," in r["genome_blocks"])
                assert r["found_in"] == ("mRNA" if r["spans_junction"] else
                                         "pre-mRNA+mRNA" if r["transcripts"] else "pre-mRNA")
            assert summary.height == len(asos)


@settings(max_examples=4, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1), max_mm=st.integers(1, 4), max_b=st.integers(0, 2))
def test_premrna_and_spliced_only_modes(tmp_path_factory, seed, max_mm, max_b):
    tmp = tmp_path_factory.mktemp("aso")
    store, gm, asos, _ = make_case(tmp, seed)
    with store:
        pre, _ = brute_annotated(store, gm, asos, max_mm, max_b, spliced=False)
        hits, _ = search_asos(store, asos, gene_model=gm, mode="premrna",
                              max_mismatches=max_mm, max_bulges=max_b)
        assert _engine_set(hits) == pre
        spl, _tx_of = brute_annotated(store, gm, asos, max_mm, max_b, premrna=False)
        hits, _ = search_asos(store, asos, gene_model=gm, mode="transcripts",
                              max_mismatches=max_mm, max_bulges=max_b)
        assert _engine_set(hits) == spl
        assert set(hits["found_in"]) <= {"mRNA"}


@settings(max_examples=4, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1), max_mm=st.integers(0, 4), max_b=st.integers(0, 2))
def test_genome_mode_equals_brute_force(tmp_path_factory, seed, max_mm, max_b):
    tmp = tmp_path_factory.mktemp("aso")
    store, gm, asos, _ = make_case(tmp, seed, n_asos=2)
    with store:
        hits, _ = search_asos(store, asos, mode="genome", max_mismatches=max_mm,
                              max_bulges=max_b, threads=2)
        assert _engine_set(hits) == brute_genome(store, asos, max_mm, max_b)
        # redundant: overlapped by a site of the same ASO and strand with a smaller
        # (edits, bulge nt)
        rows = list(hits.iter_rows(named=True))
        for r in rows:
            rank = (r["n_mismatches"] + r["n_bulges"], r["n_bulges"])
            better = any(o["aso_id"] == r["aso_id"] and o["chrom"] == r["chrom"]
                         and o["strand"] == r["strand"] and o["start"] < r["end"]
                         and r["start"] < o["end"]
                         and (o["n_mismatches"] + o["n_bulges"], o["n_bulges"]) < rank
                         for o in rows)
            assert r["redundant"] == better
        hits2, _ = search_asos(store, asos, gene_model=gm, mode="genome",
                               max_mismatches=max_mm, max_bulges=max_b)
        assert _engine_set(hits2) == _engine_set(hits)
        # same-strand transcripts annotate; opposite-strand only -> antisense
        for r in hits2.iter_rows(named=True):
            if r["gene_id"] is None:
                assert r["region"] in ("intergenic", "antisense")


@settings(max_examples=5, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1), max_mm=st.integers(0, 4), max_b=st.integers(0, 2))
def test_transcript_fasta_equals_brute_force(tmp_path_factory, seed, max_mm, max_b):
    tmp = tmp_path_factory.mktemp("aso")
    rng = np.random.default_rng(seed)
    asos = {f"a{k}": _rand(rng, int(rng.integers(12, 31))) for k in range(3)}
    txs = {}
    for k in range(6):
        seq = list(_rand(rng, int(rng.integers(30, 400))))
        for _ in range(3):
            aid = rng.choice(list(asos))
            tgt = _mutate(rng, revcomp(asos[aid]), int(rng.integers(0, 5)),
                          int(rng.integers(-2, 3)))
            if len(tgt) < len(seq):
                p = int(rng.integers(0, len(seq) - len(tgt) + 1))
                seq[p:p + len(tgt)] = list(tgt)
        if k == 0:
            seq[5:9] = list("NNRY")
        txs[f"tx{k}"] = "".join(seq)
    fa = tmp / "tx.fa"
    fa.write_text("".join(f">{k} gene_symbol:G{k}\n{v}\n" for k, v in txs.items()))
    hits, _ = search_asos(None, asos, transcripts_fasta=fa, max_mismatches=max_mm,
                          max_bulges=max_b)
    got = {(r["aso_id"], r["transcripts"][0], r["tx_starts"][0], r["tx_ends"][0],
            r["bulge_type"], r["n_bulges"], r["n_mismatches"])
           for r in hits.iter_rows(named=True)}
    ref = {(aid, k, s, e, bt, b, mm) for k, v in txs.items() for aid, a in asos.items()
           for (s, e), (bt, b, mm) in brute_windows(a, v, max_mm, max_b).items()}
    assert got == ref
    rows = list(hits.iter_rows(named=True))
    assert all(r["gene"] == "G" + r["transcripts"][0] for r in rows)
    for r in rows:  # redundancy is decided within one transcript
        rank = (r["n_mismatches"] + r["n_bulges"], r["n_bulges"])
        better = any(o["aso_id"] == r["aso_id"] and o["transcripts"] == r["transcripts"]
                     and o["tx_starts"][0] < r["tx_ends"][0]
                     and r["tx_starts"][0] < o["tx_ends"][0]
                     and (o["n_mismatches"] + o["n_bulges"], o["n_bulges"]) < rank
                     for o in rows)
        assert r["redundant"] == better


def test_alignment_strings_and_mismatch_positions(tmp_path):
    """Mismatch positions counted from the ASO 5' end; gap/wing/end from the design."""
    rng = np.random.default_rng(7)
    aso = "GCTACGTAGCATGCATGCAA"
    target = revcomp(aso)                     # RNA-sense, DNA letters
    t = list(target)
    # ASO position p (1-based) pairs with target index L - p
    for p in (2, 10):
        i = len(aso) - p
        t[i] = {"A": "C", "C": "G", "G": "T", "T": "A"}[t[i]]
    tx = _rand(rng, 60) + "".join(t) + _rand(rng, 60)
    fa = tmp_path / "t.fa"
    fa.write_text(f">t1\n{tx}\n")
    design = parse_aso(aso, "5-10-5", aso_id="x")
    hits, summary = search_asos(None, AsoSet({"x": design}, {"x": None}),
                                transcripts_fasta=fa, max_mismatches=2, max_bulges=0)
    row = hits.filter(pl.col("n_mismatches") == 2).row(0, named=True)
    assert row["tx_starts"] == [60] and row["tx_ends"] == [80]
    assert row["mismatch_pos1"] == [2, 10]
    assert row["mismatch_regions"] == ["wing5", "gap"]
    assert row["mismatch_location"] == ["end", "gap"]
    assert row["aso_aligned"] == aso
    assert row["target_aligned"].upper() == "".join(t).replace("T", "U")
    assert sum(c.islower() for c in row["target_aligned"]) == 2
    assert row["match_line"] == "".join("." if p in (2, 10) else "|" for p in range(1, 21))
    assert row["risk_class"] == "medium"        # two edits, ddG above 3 kcal/mol
    assert summary["n_sites"][0] == hits.filter(~pl.col("redundant")).height


def test_junction_site_coordinates(tmp_path):
    """A site across an exon-exon junction of a '-' transcript: genome blocks, transcript
    coordinates, exonic region, on-target by declared gene."""
    store, gm, _, _ = make_case(tmp_path, 3, n_asos=1)
    with store:
        t = gm.transcript("TB1")
        sp = t.spliced_sequence(store.fetch)
        first = int(t.exon_ends[-1] - t.exon_starts[-1])   # 5' exon of a '-' transcript
        s0 = first - 8
        aso = revcomp(sp.sequence[s0:s0 + 18])
        hits, summary = search_asos(store, AsoSet({"j": parse_aso(aso, aso_id="j")},
                                                  {"j": "GENEB"}),
                                    gene_model=gm, max_mismatches=0, max_bulges=0)
        on = hits.filter(pl.col("is_on_target"))
        assert on.height == 1
        r = on.row(0, named=True)
        gp = sp.genome_pos[s0:s0 + 18]
        assert r["genome_blocks"] == _blocks(gp)
        assert r["start"] == int(gp.min()) and r["end"] == int(gp.max()) + 1
        assert r["strand"] == "-" and r["spans_junction"] and r["found_in"] == "mRNA"
        assert r["transcripts"] == ["TB1"] and r["tx_starts"] == [s0]
        assert r["tx_ends"] == [s0 + 18]
        assert r["region"] == "noncoding_exon" and r["region_class"] == "exonic"
        assert r["gene"] == "GENEB" and r["risk_class"] == "on-target"
        assert summary["n_sites"][0] == hits.filter(~pl.col("is_on_target")
                                                    & ~pl.col("redundant")).height


def test_limits_rejected():
    with pytest.raises(InputError, match="mismatches"):
        search_asos(None, {"a": "ACGTACGTACGTAC"}, mode="genome", max_mismatches=5)
    with pytest.raises(InputError, match="bulges"):
        search_asos(None, {"a": "ACGTACGTACGTAC"}, mode="genome", max_bulges=3)
    with pytest.raises(InputError, match="annotation"):
        search_asos(None, {"a": "ACGTACGTACGTAC"}, mode="premrna")
