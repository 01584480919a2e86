"""Hits-table scoring and guide aggregates on hand-made hits tables (``HITS_SCHEMA``):
CRISPOR 5.2 specificities (rounding, alternative PAMs, on-target exclusion, CFD -1),
GuideScan-style specificity, class counts, on-target detection, bulge rule, other nucleases.
"""

from __future__ import annotations

import random

import polars as pl
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_scoring_reference import PAIRS, ref_cfd, ref_cfd_bulge, ref_mit

from pmcore import scoring
from pmcore.errors import InputError
from pmcore.scoring_schemas import GUIDE_SUMMARY_SCHEMA, SCORED_HITS_SCHEMA
from pmcore.specificity import crispor_specificity, summarize_guides
from pmcore.tables import HITS_SCHEMA

GUIDE = "ATGTGGAGATTGCCACCTAC"


def make_hits(rows, guide=GUIDE, query_id="q1", pattern="NGG"):
    """A hits frame with HITS_SCHEMA columns; ``rows`` give at least ``site``."""
    out = []
    for k, r in enumerate(rows):
        d = {"query_id": query_id, "guide": guide, "chrom": "chr1", "start": 1000 * k,
                 "strand": "+", "softmasked": False, "bulge_type": "X", "bulge_size": 0, "bulge_pos": -1}
        d.update(r)
        bt, bs = d["bulge_type"], d["bulge_size"]
        bases = d["site"].replace("-", "")
        d.setdefault("end", d["start"] + len(bases))
        d.setdefault("aligned_guide", guide + pattern)
        d.setdefault("pam", bases[-len(pattern):].upper())
        d.setdefault("mismatches", sum(c.islower() for c in d["site"]))
        d["dna_bulges"] = bs if bt == "DNA" else 0
        d["rna_bulges"] = bs if bt == "RNA" else 0
        out.append(d)
    return pl.DataFrame(out).select([f.name for f in HITS_SCHEMA]).with_columns(
        [pl.col(f.name).cast(pl.Int8) for f in HITS_SCHEMA if str(f.type) == "int8"])


def site_with(guide, positions, pam="AGG", lower=True):
    s = list(guide)
    for p in positions:
        s[p] = {"A": "C", "C": "G", "G": "T", "T": "A"}[s[p]]
        s[p] = s[p].lower() if lower else s[p]
    return "".join(s) + pam


def crispor_mit_spec(values):
    total = 0
    for v in values:
        total += v
    return round(100 / (100 + total) * 100)


# --------------------------------------------------------------------------- site columns


def test_table_scores_equal_scalar_scores():
    rows = [{"guide": g, "site": s, "query_id": f"g{k}", "aligned_guide": g + "NNN"}
            for k, (g, s) in enumerate(PAIRS)]
    df = pl.concat([make_hits([r], guide=r["guide"], query_id=r["query_id"],
                              pattern="NNN") for r in rows[:300]])
    scored = scoring.score_hits(df)
    assert scored.height == 300
    for r, c, m in zip(rows, scored["cfd"], scored["mit"]):
        assert c == ref_cfd(r["guide"], r["site"])
        assert m == pytest.approx(ref_mit(r["guide"], r["site"]), rel=1e-13)
    # the input columns and order are kept, scoring columns appended
    assert scored.columns[:len(HITS_SCHEMA)] == HITS_SCHEMA.names
    assert scored["start"].to_list() == df["start"].to_list()
    table = scoring.to_arrow(scored)
    assert table.schema.names == SCORED_HITS_SCHEMA.names
    assert table.schema.metadata[b"pmcore.schema"] == b"scored_hits"


def test_arrow_input_and_empty_table():
    df = make_hits([{"site": GUIDE + "AGG"}])
    out = scoring.score_hits(df.to_arrow())
    assert out["cfd"].to_list() == [1.0]
    empty = scoring.score_hits(df.head(0), summary=True)
    assert empty[0].height == 0 and empty[1].height == 0


def test_malformed_hits_rows_are_input_errors():
    with pytest.raises(InputError, match="genome bases"):
        scoring.score_hits(make_hits([{"site": GUIDE + "AGG", "bulge_type": "DNA",
                                           "bulge_size": 1}]))
    with pytest.raises(InputError, match="does not hold guide"):
        scoring.score_hits(make_hits([{"site": GUIDE + "AGG",
                                           "aligned_guide": "ACGTACGTACGTACGTACGTNGG"}]))
    with pytest.raises(InputError, match="empty"):
        scoring.score_hits(make_hits([{"site": GUIDE + "AGG"}] * 2).with_columns(
            pl.when(pl.col("start") > 0).then(None).otherwise(pl.col("site")).alias("site")))
    with pytest.raises(InputError, match="lacks column"):
        scoring.score_hits(make_hits([{"site": GUIDE + "AGG"}]).drop("site"))


# --------------------------------------------------------------------------- aggregates


def test_rounding_half_to_even_mit_700():
    # eight perfect xGG matches: one on-target, seven off-targets at MIT 100 -> 12.5 -> 12
    df = make_hits([{"site": GUIDE + "AGG"}] * 8)
    scored, summary = scoring.score_hits(df, summary=True)
    row = summary.row(0, named=True)
    assert row["mit_sum"] == 700.0
    assert row["mit_specificity"] == 12  # Python 2 CRISPOR gave 13
    assert row["cfd_specificity"] == round(100 / 107 * 100) == 93
    assert row["on_target_status"] == "multiple" and row["on_target_flag"]
    assert row["n_perfect"] == 8 and row["n_offtargets"] == 7
    assert row["offtarget_counts"] == "7-0-0-0-0"
    assert scored["is_on_target"].sum() == 1
    assert crispor_specificity(700.0) == 12 and crispor_specificity(300.0) == 25


def _alt_pam_sites():
    """NAG sites with unscaled MIT just above and at/below 1.0 (found by search)."""
    rng = random.Random(3)
    above = below = None
    for _ in range(100000):
        if above is not None and below is not None:
            break
        pos = sorted(rng.sample(range(20), rng.choice([3, 4])))
        s = site_with(GUIDE, pos, "TAG")
        m = ref_mit(GUIDE, s)
        if m > 1.0 and above is None:
            above = s
        if m <= 1.0 and below is None:
            below = s
    assert above is not None and below is not None
    return above, below


def test_alternative_pams_filtered_and_scaled():
    above, below = _alt_pam_sites()
    sites = [GUIDE + "CGG",                      # on-target
             site_with(GUIDE, [12], "TGG"),      # 1 mm, NGG
             site_with(GUIDE, [3, 15], "GAG"),   # NAG, MIT > 1: kept, x0.2
             above, below,                       # NAG around the 1.0 threshold
             site_with(GUIDE, [7], "CGA"),       # NGA
             GUIDE + "ACG",                      # NCG: CRISPOR never finds it
             GUIDE + "TTG",                      # NTG
             site_with(GUIDE, [1, 4, 9, 13, 18], "AGG")]  # 5 mismatches: beyond BWA -n 4
    scored, summary = scoring.score_hits(make_hits([{"site": s} for s in sites]),
                                         summary=True)
    in_set = scored["crispor_set"].to_list()
    assert in_set == [True, True, True, True, False, True, False, False, False]
    mits = [ref_mit(GUIDE, s) for s in sites]
    weights = [1.0 if s.upper().endswith("GG") else 0.2 for s in sites]
    for got, m, w, keep in zip(scored["mit_weighted"], mits, weights, in_set):
        assert (got is None) if not keep else got == pytest.approx(m * w, rel=1e-13)
    off = [i for i in range(len(sites)) if in_set[i] and i != 0]
    row = summary.row(0, named=True)
    assert row["mit_specificity"] == crispor_mit_spec(mits[i] * weights[i] for i in off)
    cfd_sum = sum(ref_cfd(GUIDE, sites[i]) for i in off)
    assert row["cfd_sum"] == pytest.approx(cfd_sum, rel=1e-13)
    assert row["cfd_specificity"] == round(100 / (100 + cfd_sum) * 100)
    # per mismatch count over the kept off-targets (NAG/NGA in, NCG/NTG and 5 mm out)
    mm = [sum(c.islower() for c in sites[i]) for i in off]
    assert row["offtarget_counts"] == "-".join(str(mm.count(k)) for k in range(5))
    assert row["n_offtargets"] == len(off) == 4


def test_cfd_minus_one_skipped_in_cfd_sum_kept_in_mit_sum():
    n_site = GUIDE[:10] + "n" + GUIDE[11:] + "AGG"
    scored, summary = scoring.score_hits(
        make_hits([{"site": GUIDE + "AGG"}, {"site": n_site, "mismatches": 1}]), summary=True)
    assert scored["cfd"].to_list()[1] == -1.0
    assert "CFD -1" in scored["score_note"][1]
    row = summary.row(0, named=True)
    assert row["cfd_sum"] == 0.0 and row["cfd_specificity"] == 100
    assert row["mit_sum"] == pytest.approx(100 * (1 - 0.445))


def test_on_target_position_mode_and_preferences():
    sites = [{"site": GUIDE + "AAG", "chrom": "chr2", "start": 50},   # perfect NAG, listed first
             {"site": GUIDE + "TGG", "chrom": "chr1", "start": 500},
             {"site": GUIDE + "CGG", "chrom": "chr3", "start": 900}]
    df = make_hits(sites)
    # no position: a perfect xGG match is preferred to the NAG one
    scored, summary = scoring.score_hits(df, summary=True)
    assert scored["is_on_target"].to_list() == [False, True, False]
    row = summary.row(0, named=True)
    assert row["on_target_chrom"] == "chr1" and row["on_target_status"] == "multiple"
    # position mode: the perfect match inside the range
    scored = scoring.score_hits(df, on_target={"q1": ("chr3", 800, 1000)})
    assert scored["is_on_target"].to_list() == [False, False, True]
    # nothing inside the range: nothing excluded, every perfect match is an off-target
    scored, summary = scoring.score_hits(df, on_target={"q1": ("chr9", 0, 10)}, summary=True)
    assert not scored["is_on_target"].any()
    row = summary.row(0, named=True)
    assert row["n_offtargets"] == 3
    assert row["mit_specificity"] == crispor_mit_spec([20.0, 100.0, 100.0])


def test_absent_on_target_is_flagged_and_guidescan_adds_one():
    sites = [site_with(GUIDE, [15], "AGG"), site_with(GUIDE, [2, 9], "GGG")]
    scored, summary = scoring.score_hits(make_hits([{"site": s} for s in sites]),
                                         summary=True)
    row = summary.row(0, named=True)
    assert row["on_target_status"] == "absent" and row["on_target_flag"]
    assert row["on_target_chrom"] is None and not scored["is_on_target"].any()
    total = sum(ref_cfd(GUIDE, s) for s in sites)
    assert row["guidescan_specificity"] == pytest.approx(1 / (total + 1), rel=1e-13)


def test_guidescan_includes_on_target_and_unique_status():
    sites = [GUIDE + "TGG", site_with(GUIDE, [15], "AGG")]
    _, summary = scoring.score_hits(make_hits([{"site": s} for s in sites]), summary=True)
    row = summary.row(0, named=True)
    assert row["on_target_status"] == "unique" and not row["on_target_flag"]
    assert row["guidescan_specificity"] == pytest.approx(
        1 / (1 + ref_cfd(GUIDE, sites[1])), rel=1e-13)


def test_repeat_guides_get_zero():
    df = make_hits([{"site": GUIDE + "AGG"}] + [{"site": site_with(GUIDE, [k], "TGG")}
                                                 for k in range(10)])
    _, summary = scoring.score_hits(df, summary=True, max_occ=5)
    row = summary.row(0, named=True)
    assert row["repeat"] and row["mit_specificity"] == 0 and row["cfd_specificity"] == 0
    _, summary = scoring.score_hits(df, summary=True)
    assert not summary.row(0, named=True)["repeat"]


def test_class_counts_include_bulges_but_crispor_set_does_not():
    rows = [{"site": GUIDE + "AGG"},
            {"site": site_with(GUIDE, [15], "AGG")},
            {"site": GUIDE[:10] + "t" + GUIDE[10:] + "AGG", "bulge_type": "DNA", "bulge_size": 1,
                 "bulge_pos": 10, "aligned_guide": GUIDE[:10] + "-" + GUIDE[10:] + "NGG",
                 "mismatches": 0},
            {"site": GUIDE[:7] + "-" + GUIDE[8:] + "TGG", "bulge_type": "RNA", "bulge_size": 1,
                 "bulge_pos": 7, "mismatches": 0}]
    scored, summary = scoring.score_hits(make_hits(rows), summary=True)
    assert scored["crispor_set"].to_list() == [True, True, False, False]
    row = summary.row(0, named=True)
    assert row["class_counts"] == "1:0=1;0:1=2"
    assert row["n_offtargets"] == 1
    bulged = sum(scored["cfd"].to_list()[2:])
    assert row["guidescan_specificity_bulges"] == pytest.approx(
        1 / (1 + ref_cfd(GUIDE, rows[1]["site"]) + bulged), rel=1e-13)
    arrow = summary.to_arrow().cast(GUIDE_SUMMARY_SCHEMA)
    assert arrow.schema.names == GUIDE_SUMMARY_SCHEMA.names


def test_several_guides_keep_their_own_aggregates():
    g2 = "GGGTGGGGGGAGTTTGCTCC"
    df = pl.concat([make_hits([{"site": GUIDE + "AGG"}] * 3),
                    make_hits([{"site": g2 + "TGG"}, {"site": site_with(g2, [19], "AGG")}],
                              guide=g2, query_id="q2")])
    _, summary = scoring.score_hits(df, summary=True)
    rows = {r["query_id"]: r for r in summary.iter_rows(named=True)}
    assert rows["q1"]["mit_specificity"] == crispor_mit_spec([100.0, 100.0])
    assert rows["q2"]["mit_specificity"] == crispor_mit_spec([ref_mit(g2, site_with(g2, [19]))])


# --------------------------------------------------------------------------- other lengths


def test_19mer_guides_mit_only():
    g = GUIDE[1:]
    sites = [g + "AGG", site_with(g, [4, 12], "TGG")]
    scored, summary = scoring.score_hits(make_hits([{"site": s} for s in sites], guide=g),
                                         summary=True)
    assert scored["cfd"].to_list() == [None, None]
    assert all("20-nt" in n for n in scored["score_note"])
    assert scored["mit"][1] == pytest.approx(ref_mit(g, sites[1]), rel=1e-13)
    row = summary.row(0, named=True)
    assert row["cfd_specificity"] is None and "20-nt" in row["specificity_note"]
    assert row["mit_specificity"] == crispor_mit_spec([ref_mit(g, sites[1])])


def test_other_nucleases_get_null_with_a_reason():
    g = "TTGCCACCTACAGCTGGTACGAT"  # Cas12a 23-nt spacer, PAM on the 5' side
    df = make_hits([{"site": "TTTA" + g, "aligned_guide": "TTTV" + g, "pam": "TTTA"}], guide=g,
                   pattern="TTTV")
    scored, summary = scoring.score_hits(df, summary=True, base_editor="ABE")
    assert scored["cfd"][0] is None and scored["mit"][0] is None
    assert "5' side" in scored["score_note"][0]
    assert scored["be_editable"][0] is None
    row = summary.row(0, named=True)
    assert row["mit_specificity"] is None and row["specificity_note"]
    assert row["on_target_status"] == "unique" and scored["is_on_target"][0]
    sa = "ATGTGGAGATTGCCACCTACA"  # SaCas9 21-nt, NNGRRT
    scored = scoring.score_hits(make_hits([{"site": sa + "AAGAGT"}], guide=sa,
                                          pattern="NNGRRT"))
    assert scored["cfd"][0] is None and scored["mit"][0] is None


def test_degenerate_query_letters_are_not_scored():
    g = GUIDE[:5] + "N" + GUIDE[6:]
    scored = scoring.score_hits(make_hits([{"site": GUIDE + "AGG"}], guide=g))
    assert scored["cfd"][0] is None and "ACGT" in scored["score_note"][0]


# --------------------------------------------------------------------------- bulges


def bulged_row(guide, kind, size, pos, pam="AGG", rng=None, n_mm=0):
    """A bulged site made from the guide: extra genome bases after guide index ``pos``
    (DNA) or guide bases pos..pos+size-1 missing (RNA), plus random mismatches."""
    rng = rng or random.Random(0)
    g = list(guide)
    for p in rng.sample(range(20), n_mm):
        g[p] = rng.choice([b for b in "ACGT" if b != guide[p]])
    if kind == "DNA":
        extra = "".join(rng.choice("ACGT") for _ in range(size))
        site = "".join(g[:pos]) + extra + "".join(g[pos:]) + pam
        ag = guide[:pos] + "-" * size + guide[pos:] + "NGG"
    else:
        site = "".join(g[:pos]) + "-" * size + "".join(g[pos + size:]) + pam
        ag = guide + "NGG"
    return {"site": site, "bulge_type": kind, "bulge_size": size, "bulge_pos": pos,
                "aligned_guide": ag, "mismatches": n_mm}


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(["DNA", "RNA"]), st.integers(1, 2), st.integers(0, 40),
       st.integers(0, 3), st.text(alphabet="ACGT", min_size=20, max_size=20),
       st.sampled_from(["AGG", "TAG", "CGA", "GGG"]))
def test_bulge_cfd_equals_bruteforce_rule(kind, size, pos_seed, n_mm, guide, pam):
    pos = pos_seed % (20 if kind == "DNA" else 19 - size) + (1 if kind == "DNA" else 0)
    row = bulged_row(guide, kind, size, pos, pam, random.Random(pos_seed), n_mm)
    scored = scoring.score_hits(make_hits([row], guide=guide))
    expected = ref_cfd_bulge(guide, row["site"], kind, size)
    assert scored["cfd"][0] == pytest.approx(expected, rel=1e-12, abs=1e-300)
    assert scored["mit"][0] is None and "no bulge model" in scored["score_note"][0]
    # never the score of a perfect match with the same PAM
    assert scored["cfd"][0] < ref_cfd(guide, guide + pam) or ref_cfd(guide, guide + pam) == 0


def test_bulge_score_does_not_depend_on_the_reported_placement():
    # a homopolymer: the extra T can be reported after any T of the run
    guide = "ACGTACGTTTTACGTACGTA"
    scores = []
    for pos in (8, 9, 10, 11):
        row = bulged_row(guide, "DNA", 1, pos)
        row["site"] = guide[:8] + "TTTTT" + guide[12:] + "AGG"
        scores.append(scoring.score_hits(make_hits([row], guide=guide))["cfd"][0])
    assert len(set(scores)) == 1 and scores[0] < 1.0
    rna = []
    for pos in (8, 9, 10):
        row = bulged_row(guide, "RNA", 1, pos)
        rna.append(scoring.score_hits(make_hits([row], guide=guide))["cfd"][0])
    assert len(set(rna)) == 1 and rna[0] < 1.0


def test_bulge_factors_come_from_st19():
    # RNA bulge skipping the PAM-adjacent-but-one base with no other placement as good:
    # the score is a product of ST19 factors, strictly below 1
    guide = GUIDE
    best, where = scoring.cfd_bulge_codes(
        scoring.encode(guide, 20), scoring.encode(guide[:19], 19),
        scoring.encode("AGG", 3), "RNA", 1)
    # dropping the last guide base is not a placement; the rule finds the best one
    assert 0 < best[0] < 1 and 1 <= where[0] <= 19


# --------------------------------------------------------------------------- base editors


def test_base_editor_window_flags():
    guide = "GACGTACGTAAGCTTGCAAC"
    sites = [guide + "AGG",                       # A at 6 in 4-8
             "GACGTCCGTCAGCTTGCAAC" + "AGG"]      # no A in 4-8
    df = make_hits([{"site": s} for s in sites], guide=guide)
    abe = scoring.score_hits(df, base_editor="ABE")
    assert abe["be_editable"].to_list() == [True, False]
    assert abe["be_positions"].to_list() == ["6", ""]
    assert abe["be_window"].to_list() == ["4-8", "4-8"]
    cbe = scoring.score_hits(df, base_editor="cbe", window=(1, 4))
    assert cbe["be_positions"].to_list() == ["3", "3"]
    assert cbe["base_editor"][0] == "CBE"
    none = scoring.score_hits(df)
    assert none["be_editable"].to_list() == [None, None]
    with pytest.raises(InputError):
        scoring.score_hits(df, base_editor="XBE")
    with pytest.raises(InputError):
        scoring.score_hits(df, base_editor="ABE", window=(8, 4))


def test_base_editor_window_counts_from_the_pam_on_bulged_sites():
    guide = "GACGTACGTAAGCTTGCAAC"
    # a DNA bulge PAM-distal of the window: the window bases keep their distance to the PAM
    row = {"site": "GA" + "C" + guide[2:] + "AGG", "bulge_type": "DNA", "bulge_size": 1,
               "bulge_pos": 2, "aligned_guide": "GA-" + guide[2:] + "NGG", "mismatches": 0}
    out = scoring.score_hits(make_hits([row], guide=guide), base_editor="ABE")
    assert out["be_positions"][0] == "6"


def test_summary_counts_editable_offtargets():
    guide = "GACGTACGTAAGCTTGCAAC"
    sites = [guide + "AGG", site_with(guide, [15], "TGG"), "GACGTCCGTCAGCTTGCAAC" + "AGG"]
    _, summary = scoring.score_hits(make_hits([{"site": s} for s in sites], guide=guide),
                                    base_editor="ABE", summary=True)
    assert summary["n_be_editable"].to_list() == [1]


def test_summarize_public_frame_again():
    scored = scoring.score_hits(make_hits([{"site": GUIDE + "AGG"}] * 3))
    summary = summarize_guides(scored)
    assert summary["mit_specificity"].to_list() == [crispor_mit_spec([100.0, 100.0])]
    assert isinstance(summary.to_arrow(), pa.Table)
