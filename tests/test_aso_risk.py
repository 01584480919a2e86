"""ASO risk: classification rules, site scoring, per-ASO summary, outputs and the CLI."""

from __future__ import annotations

import json

import polars as pl
import pyarrow.parquet as pq
import pytest
from pmcore.cli import _common
from pmcore.cli.main import cli

from pmcore import aso_risk
from pmcore.aso_design import parse_aso
from pmcore.aso_risk import RiskThresholds, classify, score_sites, summarize, write_risk_tables
from pmcore.aso_schemas import ASO_SITES_SCHEMA, ASO_SUMMARY_SCHEMA
from pmcore.errors import InputError
from pmcore.io import read_provenance
from pmcore.thermo import duplex_thermo, perfect_target

ASO = "GCTACGTAGCATGCATGCAA"
SWAP = {"A": "C", "C": "A", "G": "U", "U": "G"}


def mutate(positions, aso=ASO):
    """Target RNA 5'->3' with mismatches opposite the given 1-based ASO positions."""
    t = list(perfect_target(aso))
    for p in positions:
        j = len(aso) - p
        t[j] = SWAP[t[j]]
    return "".join(t)


@pytest.fixture()
def sites():
    tgt = perfect_target(ASO)
    return pl.DataFrame({
        "aso_id": ["a1"] * 6 + ["a2"],
        "site_id": ["on", "s1", "s2", "s3", "s4", "s5", "b1"],
        "chrom": ["chr1"] * 7,
        "start": [100, 200, 300, 400, 500, 600, 700],
        "end": [120, 220, 320, 420, 520, 621, 718],
        "strand": ["+", "-", "+", "-", "+", "+", "-"],
        "region": ["exonic", "intronic", "exon", None, "intron", "CDS", "exonic"],
        "gene": ["G1", "G2", "G3", None, "G4", "G5", "G6"],
        "is_on_target": [True, False, False, False, False, False, False],
        "aso_aligned": [ASO, ASO, ASO, ASO, ASO, ASO[:10] + "-" + ASO[10:], "ACGTTGCAATGCAGTTAC"],
        "target_aligned": [tgt, mutate([8]), mutate([1, 10]), mutate([3, 9, 15]),
                           mutate([4, 9, 16]), tgt[:10] + "A" + tgt[10:],
                           perfect_target("ACGTTGCAATGCAGTTAC")],
    })


@pytest.fixture()
def designs():
    return {"a1": parse_aso(ASO, "5-10-5 MOE", aso_id="a1"),
            "a2": parse_aso("ACGTTGCAATGCAGTTAC", aso_id="a2"),
            "a3": parse_aso("TTTTGGGGCCCCAAAA", "4-8-4", aso_id="a3")}


def test_classify_rules_and_options():
    cls, why = classify([0, 1, 2, 2, 3, 3, 5], [0.0, 9.0, 2.9, 3.5, 3.0, 3.01, 9.0])
    assert cls.tolist() == ["high", "high", "high", "medium", "high", "low", "low"]
    assert why[3] == "edits <= 2" and why[4] == "ddG <= 3 kcal/mol"
    t = RiskThresholds(high_max_edits=0, high_ddg=1.0, medium_max_edits=3, medium_ddg=6.0)
    cls, _ = classify([0, 1, 4, 4, 4], [5.0, 5.0, 0.5, 5.5, 7.0], t)
    assert cls.tolist() == ["high", "medium", "high", "medium", "low"]
    with pytest.raises(InputError):
        RiskThresholds(high_max_edits=3, medium_max_edits=2)
    with pytest.raises(InputError):
        RiskThresholds(high_ddg=-1)


def test_score_sites(sites, designs):
    out = score_sites(sites, designs)
    assert out.columns == ASO_SITES_SCHEMA.names
    cast = out.to_arrow().cast(ASO_SITES_SCHEMA)  # Polars widens strings; types must fit
    assert cast.schema.equals(ASO_SITES_SCHEMA, check_metadata=False)
    rows = {r["site_id"]: r for r in out.iter_rows(named=True)}
    on_dg = duplex_thermo(ASO, perfect_target(ASO)).dg37
    assert rows["on"]["risk_class"] == "on-target" and rows["on"]["ddg"] == pytest.approx(0)
    s1 = rows["s1"]
    assert s1["dg37"] == pytest.approx(duplex_thermo(ASO, mutate([8])).dg37)
    assert s1["ddg"] == pytest.approx(s1["dg37"] - on_dg)
    assert s1["mismatch_pos1"] == [8] and s1["mismatch_regions"] == ["gap"]
    assert s1["risk_class"] == "high" and s1["region_class"] == "intronic"
    s2 = rows["s2"]
    assert s2["mismatch_pos1"] == [1, 10] and s2["mismatch_regions"] == ["wing5", "gap"]
    assert (s2["n_gap"], s2["n_wing"], s2["n_end"]) == (1, 1, 1)
    assert s2["risk_class"] == "medium" and s2["region_class"] == "exonic"
    s3 = rows["s3"]
    assert s3["mismatch_pos1"] == [3, 9, 15] and s3["risk_class"] == "low"
    assert s3["ddg"] > 3.0 and s3["region_class"] == "other"
    s5 = rows["s5"]  # one extra RNA base: a bulge after ASO position 10
    assert s5["n_bulges"] == 1 and s5["bulge_pos1"] == [10] and s5["n_mismatches"] == 0
    assert s5["ddg"] == pytest.approx(4.0) and s5["risk_class"] == "high" and s5["proxy"]
    b1 = rows["b1"]  # no design: region none, perfect off-target site
    assert b1["risk_class"] == "high" and b1["n_gap"] == 0 and b1["mismatch_pos1"] == []


def test_score_sites_3to5_and_arrow_input(sites, designs):
    flipped = sites.with_columns(pl.col("target_aligned").str.reverse())
    a = score_sites(sites, designs)
    b = score_sites(flipped.to_arrow(), designs, target_orientation="3to5")
    assert a.equals(b)


def test_summary(sites, designs):
    scored = score_sites(sites, designs)
    summ = summarize(scored, designs, worst_n=2)
    assert summ.columns == ASO_SUMMARY_SCHEMA.names
    rows = {r["aso_id"]: r for r in summ.iter_rows(named=True)}
    a1 = rows["a1"]
    assert a1["n_sites"] == 5  # on-target excluded
    assert (a1["n_high"], a1["n_medium"], a1["n_low"]) == (2, 1, 2)
    assert (a1["n_exonic"], a1["n_intronic"], a1["n_other_region"]) == (2, 2, 1)
    assert a1["n_high_intronic"] == 1 and a1["n_high_exonic"] == 1
    assert a1["worst_sites"].startswith("s1 (high")
    assert a1["worst_sites"].count(";") == 1
    assert a1["on_target_dg37"] == pytest.approx(duplex_thermo(ASO, perfect_target(ASO)).dg37)
    assert rows["a2"]["n_perfect"] == 1
    a3 = rows["a3"]  # an ASO without sites still gets a row
    assert a3["n_sites"] == 0 and a3["worst_sites"] == "" and a3["min_ddg"] is None


def test_write_tables(tmp_path, sites, designs):
    scored = score_sites(sites, designs)
    summ = summarize(scored, designs)
    paths = write_risk_tables(scored, summ, tmp_path / "run", record={"command": "test"})
    assert len(paths) == 4
    prov = read_provenance(tmp_path / "run.sites.parquet")
    assert prov["schema"] == "aso_sites" and prov["schema_version"] == "1"
    back = pl.read_parquet(tmp_path / "run.sites.parquet")
    assert back.equals(scored)
    assert pq.read_schema(tmp_path / "run.summary.parquet").names == ASO_SUMMARY_SCHEMA.names
    tsv = pl.read_csv(tmp_path / "run.sites.tsv", separator="\t", infer_schema_length=0)
    assert tsv.filter(pl.col("site_id") == "s3")["mismatch_pos1"].item() == "3,9,15"
    assert tsv.filter(pl.col("site_id") == "s1")["bulge_pos1"].item() is None


def test_bad_sites_name_the_record(sites, designs):
    bad = sites.with_columns(pl.when(pl.col("site_id") == "s3").then(pl.lit("ACGT"))
                             .otherwise(pl.col("aso_aligned")).alias("aso_aligned"))
    with pytest.raises(InputError, match="s3"):
        score_sites(bad, designs)
    bad = sites.with_columns(pl.when(pl.col("site_id") == "s2").then(pl.lit("zz"))
                             .otherwise(pl.col("aso_id")).alias("aso_id"))
    with pytest.raises(InputError, match="unknown ASO 'zz'"):
        score_sites(bad, designs)
    with pytest.raises(InputError, match="lacks column"):
        score_sites(sites.drop("target_aligned"), designs)
    bad = sites.with_columns(pl.when(pl.col("site_id") == "s4").then(pl.lit(mutate([]) + "X"))
                             .otherwise(pl.col("target_aligned")).alias("target_aligned"))
    with pytest.raises(InputError, match="s4"):
        score_sites(bad, designs)


def test_cli_aso_risk(tmp_path, sites, capsys):
    sites.write_csv(tmp_path / "sites.tsv", separator="\t")
    pl.DataFrame({"aso_id": ["a1", "a2"], "sequence": [ASO, "ACGTTGCAATGCAGTTAC"],
                  "design": ["5-10-5 MOE", None]}).write_csv(tmp_path / "asos.tsv",
                                                             separator="\t")
    code = _common.run(cli, ["aso-risk", str(tmp_path / "sites.tsv"), "--asos",
                             str(tmp_path / "asos.tsv"), "-o", str(tmp_path / "out" / "r"),
                             "--high-ddg", "2.0", "--high-max-edits", "0"])
    assert code == 0, capsys.readouterr().err
    scored = pl.read_parquet(tmp_path / "out" / "r.sites.parquet")
    assert scored.filter(pl.col("site_id") == "s1")["risk_class"].item() == "medium"
    prov = read_provenance(tmp_path / "out" / "r.summary.parquet")
    assert prov["thresholds"]["high_ddg"] == 2.0 and len(prov["inputs"]) == 2
    assert json.loads(json.dumps(prov))["conditions"]["na_mm"] == 1000.0


def test_cli_aso_risk_bad_input_no_partial_output(tmp_path, sites, capsys):
    sites.write_csv(tmp_path / "sites.tsv", separator="\t")
    pl.DataFrame({"aso_id": ["a1", "a2"], "sequence": [ASO, "ACGTTGCAATGCAGTTAQ"]}).write_csv(
        tmp_path / "asos.tsv", separator="\t")
    code = _common.run(cli, ["aso-risk", str(tmp_path / "sites.tsv"), "--asos",
                             str(tmp_path / "asos.tsv"), "-o", str(tmp_path / "out" / "r")])
    err = capsys.readouterr().err
    assert code == 2 and "a2" in err and "'Q'" in err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_exonic_intronic_vocabulary():
    assert {"exonic", "cds", "utr3"} <= aso_risk.EXONIC
    assert "intronic" in aso_risk.INTRONIC
    # every exon-type region name the annotation layer produces counts as exonic
    from pmcore.annotation_schemas import REGION_CLASSES

    exon_like = {r.lower() for r in REGION_CLASSES if r.lower() in ("cds", "utr", "noncoding_exon")}
    assert exon_like == {"cds", "utr", "noncoding_exon"} and exon_like <= aso_risk.EXONIC


def test_empty_site_table_and_missing_site_ids(designs):
    empty = pl.DataFrame(schema={"aso_id": pl.String, "aso_aligned": pl.String,
                                 "target_aligned": pl.String})
    scored = score_sites(empty, designs)
    assert scored.height == 0 and scored.columns == ASO_SITES_SCHEMA.names
    summ = summarize(scored, designs)
    assert summ["n_sites"].to_list() == [0, 0, 0]
    one = pl.DataFrame({"aso_id": ["a1"], "site_id": [None], "aso_aligned": [ASO],
                        "target_aligned": [perfect_target(ASO)]},
                       schema_overrides={"site_id": pl.String})
    assert score_sites(one, designs)["site_id"].to_list() == ["a1:0"]
