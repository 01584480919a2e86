"""``pmcore demo`` runs on the embedded data and finds what was planted."""

from __future__ import annotations

import json

import polars as pl

from pmcore.cli._common import run
from pmcore.cli.main import cli
from pmcore.demo import GRNA_VARIANTS


def test_demo_end_to_end(tmp_path, capsys):
    out = tmp_path / "demo"
    assert run(cli, ["demo", "-o", str(out), "--threads", "2"]) == 0
    assert f"report: {out / 'report.md'}" in capsys.readouterr().out
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary["variants"]) == {"VAR-A", "VAR-B", "VAR-C"}
    hits = pl.read_parquet(out / "hits.parquet")
    for variant, (on, offs) in GRNA_VARIANTS.items():
        v = summary["variants"][variant]
        assert v["on_target"]["on_target_status"] == "unique"
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
    assert a["in_flagged_regions"] >= 1  # the planted ONCO1 coding-exon site
    assert any(t["gene_name"] and "ONCO1" in t["gene_name"] for t in a["top_sites"])
    assert summary["variants"]["VAR-C"]["on_target_duplex"]["tm"] > 50
    for v in summary["variants"].values():
        assert v["shelf_life"] and v["potency"]
    assert not list(tmp_path.glob(".pmcore-demo-*"))
