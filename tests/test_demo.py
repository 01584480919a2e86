"""``pmcore demo`` runs the whole job on the embedded data (the same code path as
``pmcore run``), finds what was planted, and says where the report is."""

from __future__ import annotations

import json
import time

import polars as pl
from pmcore.cli._common import run
from pmcore.cli.main import cli

from pmcore.demo import GRNA_VARIANTS, write_demo_inputs
from pmcore.manifest import load_manifest


def test_demo_end_to_end(tmp_path, capsys):
    out = tmp_path / "demo"
    t0 = time.perf_counter()
    assert run(cli, ["demo", "-o", str(out), "--threads", "2"]) == 0
    assert time.perf_counter() - t0 < 60
    captured = capsys.readouterr()
    assert f"report: {out / 'report.html'}" in captured.out
    for name in ("report.html", "report.md", "summary.json", "summary.parquet"):
        assert (out / name).is_file()
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary["variants"]) == {"VAR-A", "VAR-B", "VAR-C"}
    hits = pl.read_parquet(out / "hits.parquet")
    for variant, (on, offs) in GRNA_VARIANTS.items():
        v = summary["variants"][variant]
        assert v["on_target_status"] == "unique" and v["on_target_found"]
        mine = hits.filter(pl.col("query_id") == variant)
        # every planted site is found at its place with its planted mismatch count
        for plant in [on, *offs]:
            bulge = "DNA" if plant.dna_bulge is not None else (
                "RNA" if plant.rna_bulge is not None else "X")
            row = mine.filter((pl.col("chrom") == plant.contig) & (pl.col("start") == plant.pos)
                              & (pl.col("strand") == plant.strand)
                              & (pl.col("bulge_type") == bulge))
            assert row.height == 1, plant
            assert row["mismatches"][0] == len(plant.mismatches)
    a = summary["variants"]["VAR-A"]
    assert a["n_flagged_region"] >= 1  # the planted ONCO1 coding-exon site
    assert any(t["gene"] and "ONCO1" in t["gene"] for t in a["top_sites"])
    assert a["n_patient_specific"] == 1
    assert summary["variants"]["VAR-C"]["aso_tm"] > 50
    for v in summary["variants"].values():
        assert v["shelf_life"] and v["potency_lots"]
    # figures drawn and embedded; the temporary folders are gone
    assert list((out / "figures").glob("*.png"))
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".demo.")]


def test_demo_inputs_are_a_valid_manifest(tmp_path):
    manifest = write_demo_inputs(tmp_path)
    m = load_manifest(manifest)
    assert len(m.grna_variants()) == 2 and len(m.aso_variants()) == 1
    assert {p.name for p in tmp_path.iterdir()} >= {
        "manifest.toml", "demo_genome.fa", "demo.gtf", "demo_regions.bed", "patient.vcf",
        "demo_stability.csv", "demo_potency.csv"}
    # seeded: the same inputs every time
    again = write_demo_inputs(tmp_path / "again")
    assert again.read_text() == manifest.read_text()
    assert (tmp_path / "again" / "demo_stability.csv").read_bytes() == \
        (tmp_path / "demo_stability.csv").read_bytes()
