"""``pmcore score-site`` and ``pmcore score`` end to end: outputs, exit codes, errors."""

from __future__ import annotations

import doctest
import json
import shutil
import subprocess

import polars as pl
import pyarrow.parquet as pq
import pytest
from pmcore.cli._common import run
from pmcore.cli.main import cli
from test_scoring_reference import PAIRS, ref_cfd, ref_mit
from test_specificity import GUIDE, make_hits, site_with

import pmcore.base_editing
import pmcore.scoring
import pmcore.specificity
from pmcore.io import read_provenance


def pm(*args):
    return run(cli, [str(a) for a in args])


def test_module_docstring_examples_run():
    for module in (pmcore.scoring, pmcore.specificity, pmcore.base_editing):
        result = doctest.testmod(module)
        assert result.attempted > 0 and result.failed == 0, module.__name__


def test_score_site_json(capsys):
    assert pm("score-site", GUIDE, "ATCTGGAGATTGCCACCTACAGG", "--json") == 0
    out = json.loads(capsys.readouterr().out)
    assert out == {"cfd": 0.384615385, "mit": pytest.approx(ref_mit(GUIDE, "ATCTGGAGATTGCCACC"
                                                                          "TACAGG"))}
    assert pm("score-site", GUIDE, GUIDE[:10] + "N" + GUIDE[11:] + "AGG", "--json") == 0
    assert json.loads(capsys.readouterr().out)["cfd"] == -1.0
    assert pm("score-site", GUIDE[1:], GUIDE[1:] + "AGG", "--json") == 0
    assert json.loads(capsys.readouterr().out) == {"cfd": None, "mit": 100.0}


@pytest.mark.parametrize("guide, site", [
    ("ATGTGGAGATTGCCACCTAZ", "ATCTGGAGATTGCCACCTACAGG"),
    (GUIDE, "ATCTGGAGATTGCCACCTACAG"),
])
def test_score_site_bad_input_exit_2(capsys, guide, site):
    assert pm("score-site", guide, site, "--json") == 2
    captured = capsys.readouterr()
    assert captured.out == "" and len(captured.err.strip().splitlines()) == 1


def test_score_site_pairs_keeps_order_and_reports_bad_rows(tmp_path, capsys):
    pairs = tmp_path / "pairs.tsv"
    lines = ["id\tguide\tsite"]
    for k, (g, s) in enumerate(PAIRS[:50]):
        lines.append(f"p{k}\t{g}\t{s}")
    lines.insert(4, "bad1\tACGTNACGTACGTACGTACG\tACGTAACGTACGTACGTACGAGG")  # file line 5
    lines.insert(9, "bad2\tACGT")                                           # line 10
    pairs.write_text("\n".join(lines) + "\n")
    out, err = tmp_path / "scores.tsv", tmp_path / "errors.tsv"
    assert pm("score-site", "--pairs", pairs, "-o", out, "--errors", err) == 0
    stderr = capsys.readouterr().err
    assert f"{pairs}:5:" in stderr and f"{pairs}:10:" in stderr
    table = pl.read_csv(out, separator="\t")
    assert table.columns == ["id", "guide", "site", "cfd", "mit"]
    assert table["id"].to_list() == [f"p{k}" for k in range(50)]
    for (g, s), c, m in zip(PAIRS[:50], table["cfd"], table["mit"]):
        assert c == ref_cfd(g, s)
        assert m == pytest.approx(ref_mit(g, s), rel=1e-13)
    errors = pl.read_csv(err, separator="\t")
    assert errors["line"].to_list() == [5, 10]


def test_score_site_pairs_strict_writes_nothing(tmp_path, capsys):
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text(f"guide\tsite\n{GUIDE}\t{GUIDE}AGG\n{GUIDE}\tACGT\n")
    out = tmp_path / "scores.tsv"
    assert pm("score-site", "--pairs", pairs, "-o", out, "--strict") == 2
    assert not out.exists()
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"{pairs}:3:" in err[0]


def test_score_site_pairs_without_header_columns_exit_2(tmp_path, capsys):
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text(f"spacer\tsequence\n{GUIDE}\t{GUIDE}AGG\n")
    out = tmp_path / "scores.tsv"
    assert pm("score-site", "--pairs", pairs, "-o", out) == 2
    assert not out.exists() and "guide" in capsys.readouterr().err


def _hits_file(tmp_path, kind):
    sites = [GUIDE + "AGG", site_with(GUIDE, [15], "TGG"), GUIDE + "AAG"]
    df = make_hits([{"site": s} for s in sites])
    path = tmp_path / f"hits.{kind}"
    if kind == "parquet":
        df.write_parquet(path)
    else:
        df.write_csv(path, separator="\t")
    return path, sites


@pytest.mark.parametrize("kind", ["parquet", "tsv"])
def test_score_command(tmp_path, kind):
    hits, sites = _hits_file(tmp_path, kind)
    out, summ = tmp_path / "scored.parquet", tmp_path / "guides.tsv"
    assert pm("score", hits, "-o", out, "--summary", summ, "--base-editor", "ABE") == 0
    scored = pl.read_parquet(out)
    assert scored["cfd"].to_list() == [ref_cfd(GUIDE, s) for s in sites]
    assert scored["is_on_target"].to_list() == [True, False, False]
    meta = pq.read_schema(out).metadata
    assert meta[b"pmcore.schema"] == b"scored_hits"
    prov = read_provenance(out)
    assert prov["inputs"][0]["sha256"] and prov["scoring_schema_version"] == "1"
    summary = pl.read_csv(summ, separator="\t")
    mit_sum = ref_mit(GUIDE, sites[1]) + 0.2 * ref_mit(GUIDE, sites[2])
    assert summary["mit_specificity"].to_list() == [round(100 / (100 + mit_sum) * 100)]


def test_score_command_rescores_a_scored_table_and_writes_tsv(tmp_path, capsys):
    hits, _ = _hits_file(tmp_path, "parquet")
    first = tmp_path / "a.parquet"
    assert pm("score", hits, "-o", first) == 0
    again = tmp_path / "b.tsv"
    assert pm("score", first, "-o", again, "--on-target", "q1=chr1:1000-1023") == 0
    table = pl.read_csv(again, separator="\t")
    assert table["is_on_target"].to_list() == [False, False, False]  # no perfect match there
    assert pm("score", hits, "-o", tmp_path / "c.tsv", "--on-target", "q1=chr1") == 2


def test_score_command_bad_table_exit_2(tmp_path, capsys):
    bad = tmp_path / "bad.tsv"
    bad.write_text("query_id\tguide\nq1\tACGT\n")
    out = tmp_path / "o.parquet"
    assert pm("score", bad, "-o", out) == 2
    assert not out.exists()
    assert "lacks column" in capsys.readouterr().err
    assert pm("score", tmp_path / "missing.parquet", "-o", out) == 2


@pytest.mark.skipif(shutil.which("pmcore") is None, reason="console script not installed")
def test_console_script():
    proc = subprocess.run(["pmcore", "score-site", GUIDE, "ATCTGGAGATTGCCACCTACAGG", "--json"],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0
    assert json.loads(proc.stdout)["cfd"] == 0.384615385


def test_score_site_pairs_without_header_reads_guide_and_site(tmp_path):
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text(f"{GUIDE}\tATCTGGAGATTGCCACCTACAGG\n{GUIDE}\t{GUIDE}TGG\n")
    out = tmp_path / "scores.tsv"
    assert pm("score-site", "--pairs", pairs, "-o", out) == 0
    table = pl.read_csv(out, separator="\t")
    assert table["cfd"].to_list() == [0.384615385, 1.0]


def test_scan_then_score_on_planted_sites(tmp_path):
    """The search engine's own hits table goes through ``pmcore score`` unchanged."""
    import random

    from pmcore.cli.main import cli as group

    if "scan" not in group.commands:
        pytest.skip("scan command not available")
    rng = random.Random(11)

    def filler(n):
        return "".join(rng.choice("ACGT") for _ in range(n))

    one_mm = site_with(GUIDE, [14], "TGG", lower=False)
    genome = (filler(200) + GUIDE + "CGG" + filler(200) + one_mm + filler(200)
              + GUIDE + "AAG" + filler(200))
    fasta = tmp_path / "g.fa"
    fasta.write_text(">c1\n" + genome + "\n")
    guides = tmp_path / "guides.txt"
    guides.write_text(f"{GUIDE} q1\n")
    hits = tmp_path / "hits.parquet"
    code = pm("scan", "-g", fasta, "--guides", guides, "--nuclease", "SpCas9-NRG", "-m", "2",
              "-o", hits, "-t", "1")
    if code != 0:
        pytest.skip("scan did not run here")
    out, summ = tmp_path / "scored.parquet", tmp_path / "guides.parquet"
    assert pm("score", hits, "-o", out, "--summary", summ) == 0
    scored = pl.read_parquet(out).filter(pl.col("crispor_set"))
    got = sorted(zip(scored["site"].str.to_uppercase(), scored["cfd"]))
    want = sorted((s, ref_cfd(GUIDE, s)) for s in (GUIDE + "CGG", one_mm, GUIDE + "AAG"))
    assert [s for s, _ in got] == [s for s, _ in want]
    assert [c for _, c in got] == [c for _, c in want]
    row = pl.read_parquet(summ).row(0, named=True)
    mit_sum = ref_mit(GUIDE, one_mm) + 0.2 * 100.0
    assert row["mit_specificity"] == round(100 / (100 + mit_sum) * 100)
    assert row["on_target_start"] == 200
