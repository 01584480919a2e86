"""``pmcore run`` / ``pmcore summarize`` on the demo platform: summary rows, caching,
and the same summary rebuilt from the detail tables."""

from __future__ import annotations

import json
import shutil

import polars as pl
import pyarrow.parquet as pq
import pytest
from pmcore.cli._common import run
from pmcore.cli.main import cli

from pmcore.demo import GRNA_VARIANTS, PATIENT_PLANTS, write_demo_inputs
from pmcore.io import read_provenance
from pmcore.pipeline import run_pipeline, summarize_results
from pmcore.summary import collapse_loci
from pmcore.summary_schemas import SUMMARY_SCHEMA, SUMMARY_SCHEMA_VERSION

try:
    import pmcore.aso  # noqa: F401
    HAVE_ASO_SEARCH = True
except ImportError:  # pragma: no cover - the ASO engine ships with pmcore
    HAVE_ASO_SEARCH = False


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    manifest = write_demo_inputs(tmp_path_factory.mktemp("inputs"))
    out = tmp_path_factory.mktemp("results") / "out"
    result = run_pipeline(manifest, out, threads=2, figures=False)
    return manifest, out, result


def _rows(out) -> dict:
    return {r["variant_id"]: r for r in pl.read_parquet(out / "summary.parquet").to_dicts()}


def test_outputs_and_schema(demo_run):
    _, out, result = demo_run
    for name in ("summary.parquet", "summary.json", "report.md", "report.html", "hits.parquet",
                 "guides.parquet", "variant_hits.parquet", "stability.parquet",
                 "potency.parquet", "errors.parquet", "variants.parquet", "aso_ontarget.parquet"):
        assert (out / name).is_file(), name
    schema = pq.read_schema(out / "summary.parquet")
    assert schema.names == SUMMARY_SCHEMA.names
    assert schema.metadata[b"pmcore.schema_version"] == SUMMARY_SCHEMA_VERSION.encode()
    prov = read_provenance(out / "summary.parquet")
    assert prov["summary_schema_version"] == SUMMARY_SCHEMA_VERSION
    assert any(i["path"].endswith("patient.vcf") and len(i["sha256"]) == 64
               for i in prov["inputs"])
    assert result.summary.num_rows == 3
    doc = json.loads((out / "summary.json").read_text())
    assert doc["pmcore"]["schema_version"] == SUMMARY_SCHEMA_VERSION
    assert list(doc["variants"]) == ["VAR-A", "VAR-B", "VAR-C"]
    assert pl.read_parquet(out / "errors.parquet").height == 0


def test_safety_findings(demo_run):
    _, out, _ = demo_run
    rows = _rows(out)
    hits = pl.read_parquet(out / "hits.parquet")
    from pmcore.summary import _grna_offtargets

    for vid, (on, offs) in GRNA_VARIANTS.items():
        r = rows[vid]
        assert r["modality"] == "base_editor"
        assert r["on_target_found"] is True and r["on_target_status"] == "unique"
        loci = collapse_loci(_grna_offtargets(hits.filter(pl.col("query_id") == vid)))
        assert r["n_offtargets"] == loci.height
        # every planted off-target is one locus, and the on-target is not counted
        for p in offs:
            width = 23 + (p.dna_bulge is not None) - (p.rna_bulge is not None)
            hit = loci.filter((pl.col("chrom") == p.contig) & (pl.col("strand") == p.strand)
                              & (pl.col("start") < p.pos + width) & (pl.col("end") > p.pos))
            assert hit.height == 1, (vid, p)
        assert loci.filter((pl.col("chrom") == on.contig) & (pl.col("start") == on.pos)).height == 0
        assert r["n_mm0"] + r["n_mm1"] + r["n_mm2"] + r["n_mm3"] + r["n_mm4plus"] + \
            r["n_bulged"] == r["n_offtargets"]
    a, b = rows["VAR-A"], rows["VAR-B"]
    # the 1-mismatch site planted in ONCO1's coding exon (a flagged region)
    assert a["n_mm1"] == 1 and a["n_flagged_region"] == 1
    assert a["flagged_regions"] == "ONCO1_oncogene"
    top = a["top_sites"][0]
    assert (top["chrom"], top["start"], top["region"], top["gene"]) == ("demo1", 22010, "CDS", "ONCO1")
    assert any("flagged regions" in f for f in a["flags"])
    # the patient allele that creates a VAR-A site and the one that removes a VAR-B site
    plant = PATIENT_PLANTS["VAR-A"]
    assert a["n_patient_specific"] == 1 and a["n_patient_removed"] == 0
    assert any(t["origin"] == "patient PATIENT1" and t["start"] == plant.pos
               for t in a["top_sites"])
    assert b["n_patient_removed"] == 1 and b["n_patient_specific"] == 0
    removed = GRNA_VARIANTS["VAR-B"][1][0]
    assert [t["origin"] for t in b["top_sites"] if t["start"] == removed.pos] == [
        "reference; absent in patient PATIENT1"]
    assert a["mit_specificity"] is not None and 0 < a["cfd_specificity"] <= 100


def test_aso_and_cmc_findings(demo_run):
    _, out, _ = demo_run
    rows = _rows(out)
    c = rows["VAR-C"]
    assert c["modality"] == "aso" and c["on_target_found"] is True
    assert c["aso_tm"] > 50 and c["aso_dg37"] < -15
    if HAVE_ASO_SEARCH:
        # near-copies planted in ONCO1: 1 mismatch in the intron, 2 in a coding exon
        assert c["n_offtargets"] == 2 and c["n_mm1"] == 1 and c["n_mm2"] == 1
        assert c["n_risk_high"] == 1 and c["n_coding_exon"] == 1
        assert c["n_flagged_region"] == 2
    # potency: VAR-C-L3 was generated with a shallower slope: not similar
    assert c["potency_similar"] is False and "VAR-C-L3" in c["potency_verdict"]
    assert rows["VAR-A"]["potency_similar"] is True and rows["VAR-A"]["n_potency_lots"] == 3
    for lot in rows["VAR-A"]["potency_lots"]:
        assert lot["rp_ci_low"] < lot["rp"] < lot["rp_ci_high"]
    # stability: VAR-B has one lot and six months, borrows the platform slope, and gets
    # a short proposal (ICH Q1E: at most 1.5 x 6 months refrigerated)
    b = rows["VAR-B"]
    assert b["min_proposed_shelf_life_months"] == 9
    assert any("below 12" in f for f in b["flags"])
    assert b["cmc_leveraged"] and all("platform" in x for x in b["cmc_leveraged"])
    assert {(s["condition"], s["attribute"]) for s in b["shelf_life"]} == {
        ("5C", "potency (% LC)"), ("5C", "purity (%)"), ("25C/60%RH", "potency (% LC)"),
        ("25C/60%RH", "purity (%)")}
    assert not c["cmc_leveraged"] and len(c["cmc_variant_specific"]) == 5


def test_rerun_reuses_cache_and_detects_changes(demo_run, tmp_path):
    manifest, out, first = demo_run
    work = tmp_path / "out"
    shutil.copytree(out, work)
    again = run_pipeline(manifest, work, threads=2, figures=False)
    assert set(again.reused) == {"index", "scan", "variants", "aso"} and not again.computed
    assert again.summary.equals(first.summary)
    # a changed VCF re-runs the VCF-aware search only
    vcf = manifest.parent / "patient.vcf"
    lines = vcf.read_text().splitlines()
    changed = manifest.parent.parent / f"{manifest.parent.name}-vcf"
    shutil.copytree(manifest.parent, changed)
    (changed / "patient.vcf").write_text("\n".join(lines[:-1]) + "\n")
    third = run_pipeline(changed / "manifest.toml", work, threads=2, figures=False)
    assert "variants" in third.computed and "scan" in third.reused
    assert not (work / ".cache").joinpath("missing").exists()
    assert len([p for p in (work / ".cache").iterdir()]) == 4  # stale entries dropped


def test_summarize_rebuilds_the_same_summary(demo_run, tmp_path, capsys):
    _, out, first = demo_run
    dest = tmp_path / "again"
    assert run(cli, ["summarize", str(out), "-o", str(dest)]) == 0
    assert pq.read_table(dest / "summary.parquet").equals(first.summary)
    assert (dest / "report.html").is_file() and (dest / "summary.json").is_file()
    table = summarize_results(out, tmp_path / "api")
    assert table.equals(first.summary)
    assert run(cli, ["summarize", str(tmp_path)]) == 2
    assert "not a pmcore results folder" in capsys.readouterr().err


def test_minimal_manifest_degrades_clearly(demo_run, tmp_path):
    """A nuclease platform with only a genome and guides: no annotation, VCF, ASO or CMC
    data. The summary says what was not available instead of failing."""
    manifest, _, _ = demo_run
    from pmcore.manifest import load_manifest

    full = load_manifest(manifest)
    a = full.variants[0]
    (tmp_path / "m.toml").write_text(f"""
[platform]
name = "minimal"
modality = "nuclease"
[genome]
path = "{full.genome}"
[[variant]]
id = "g1"
guide = "{a.sequence}"
on_target = "{a.on_target}"
[[variant]]
id = "g2"
guide = "{full.variants[1].sequence}"
""")
    out = tmp_path / "out"
    res = run_pipeline(tmp_path / "m.toml", out, threads=2)
    rows = {r["variant_id"]: r for r in res.summary.to_pylist()}
    g1, g2 = rows["g1"], rows["g2"]
    assert g1["on_target_found"] is True and g1["n_offtargets"] >= 4
    assert g1["n_be_editable"] is None  # no base editor on a nuclease platform
    assert g1["n_patient_specific"] is None  # no VCF: not searched, not zero
    assert g1["potency_verdict"] == "no data" and "no stability data" in g1["flags"]
    assert g2["on_target_locus"] is None and g2["on_target_status"] == "unique"
    info = json.loads((out / "run.json").read_text())
    assert any("no annotation" in n for n in info["notes"]["*"])
    html = (out / "report.html").read_text()
    assert "No potency data for this variant." in html and "no annotation" in html
    assert not (out / "stability.parquet").exists()


def test_without_aso_engine_the_report_says_so(demo_run, tmp_path, monkeypatch):
    import sys

    manifest, _, _ = demo_run
    import pmcore

    monkeypatch.setitem(sys.modules, "pmcore.aso", None)  # import fails as if absent
    monkeypatch.delattr(pmcore, "aso", raising=False)
    res = run_pipeline(manifest, tmp_path / "out", threads=2, figures=False)
    c = {r["variant_id"]: r for r in res.summary.to_pylist()}["VAR-C"]
    assert c["n_offtargets"] is None and c["aso_tm"] > 50
    assert any("ASO hybridization search is not available" in n for n in c["notes"])
    assert "ASO hybridization search is not available" in (
        tmp_path / "out" / "report.html").read_text()


def test_docs_list_every_summary_column():
    from pathlib import Path

    doc = (Path(__file__).parents[1] / "docs" / "summary.md").read_text()
    for name in SUMMARY_SCHEMA.names:
        assert f"`{name}`" in doc, name


def test_summarize_tables_from_separate_commands(demo_run, tmp_path, capsys):
    """Tables made one by one (here: copied from a run) plus the manifest give the same
    safety and CMC numbers as `pmcore run`."""
    manifest, out, first = demo_run
    loose = tmp_path / "loose"
    loose.mkdir()
    for name in ("hits", "guides", "variant_hits", "aso_hits", "stability", "potency"):
        shutil.copy(out / f"{name}.parquet", loose)
    assert run(cli, ["summarize", str(loose), "--manifest", str(manifest)]) == 0
    again = {r["variant_id"]: r for r in pl.read_parquet(loose / "summary.parquet").to_dicts()}
    for r in first.summary.to_pylist():
        a = again[r["variant_id"]]
        for key in ("n_offtargets", "n_mm1", "n_flagged_region", "n_patient_specific",
                    "top_sites", "potency_lots", "shelf_life", "cmc_leveraged"):
            assert a[key] == r[key], (r["variant_id"], key)
    assert (loose / "report.html").is_file()
