"""End-to-end ``pmcore index`` / ``pmcore scan``: formats, provenance, caps, bad input."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import sys

import polars as pl
import pyarrow.parquet as pq
import pytest

import _reference as ref
from pmcore.cli._common import run
from pmcore.cli.main import cli
from pmcore.io import read_provenance


@pytest.fixture()
def small(tmp_path):
    rng = random.Random(11)
    guide = "".join(rng.choice("ACGT") for _ in range(20))
    seq = [rng.choice("ACGT") for _ in range(3000)]
    for k in range(12):  # planted near-copies, both strands
        site = list(guide)
        for i in rng.sample(range(20), k % 4):
            site[i] = rng.choice("ACGT")
        site = "".join(site) + "AGG"
        if k % 2:
            site = ref.revcomp(site)
        pos = 100 + 230 * k
        seq[pos:pos + 23] = list(site)
    genome = {"chr1": "".join(seq[:1700]), "chr2": "".join(seq[1700:]).lower()}
    fa = tmp_path / "g.fa"
    fa.write_text("".join(f">{k}\n{v}\n" for k, v in genome.items()))
    guides = tmp_path / "guides.tsv"
    guides.write_text(f"id\tguide\ng1\t{guide}\ng2\t{guide[::-1]}\n")
    return tmp_path, fa, guides, genome, guide


def expected(genome, guides, m, dna=0, rna=0):
    rows = ref.search(genome, [(g + "NNN", m) for g in guides], "N" * 20 + "NGG", 20, 3, dna, rna)
    return ref.best_per_site(rows)


def test_index_then_scan_parquet(small):
    tmp, fa, guides, genome, guide = small
    assert run(cli, ["index", str(fa), "-o", str(tmp / "g.pmg")]) == 0
    out = tmp / "hits.parquet"
    assert run(cli, ["scan", "--genome", str(tmp / "g.pmg"), "--guides", str(guides), "--pam",
                     "NGG", "--mismatches", "4", "--dna-bulges", "1", "--rna-bulges", "1",
                     "-o", str(out), "--threads", "2"]) == 0
    df = pl.read_parquet(out)
    got = sorted(
        (int(q[1:]) - 1, c, s, e, st, {"X": 0, "DNA": 1, "RNA": 2}[bt], bs, bp, mm)
        for q, c, s, e, st, bt, bs, bp, mm in df.select(
            "query_id", "chrom", "start", "end", "strand", "bulge_type", "bulge_size",
            "bulge_pos", "mismatches").iter_rows())
    assert got == expected(genome, [guide, guide[::-1]], 4, 1, 1)
    assert df.filter(pl.col("chrom") == "chr2")["softmasked"].all()
    assert not df.filter(pl.col("chrom") == "chr1")["softmasked"].any()
    prov = read_provenance(out)
    assert prov["mismatches"] == 4 and prov["pam"] == "NGG"
    assert prov["inputs"][0]["sha256"]
    assert pq.read_schema(out).metadata[b"pmcore.schema"] == b"hits"
    # a perfect site reads back with its PAM, guide-strand letters and upper case
    perfect = df.filter((pl.col("mismatches") == 0) & (pl.col("bulge_type") == "X"))
    assert perfect["site"].to_list()[0] == guide + "AGG"
    assert perfect["aligned_guide"].to_list()[0] == guide + "NGG"


def test_scan_fasta_directly_tsv_bed_and_stdout(small, capfd):
    tmp, fa, guides, genome, guide = small
    assert run(cli, ["scan", "-g", str(fa), "--guides", str(guides), "-m", "3",
                     "-o", str(tmp / "h.tsv")]) == 0
    tsv = pl.read_csv(tmp / "h.tsv", separator="\t")
    assert len(tsv) == len(expected(genome, [guide, guide[::-1]], 3))
    assert run(cli, ["scan", "-g", str(fa), "--guides", str(guides), "-m", "3",
                     "-o", str(tmp / "h.bed")]) == 0
    bed = (tmp / "h.bed").read_text().splitlines()
    assert len(bed) == len(tsv)
    first = bed[0].split("\t")
    assert first[5] in "+-" and int(first[2]) - int(first[1]) == 23
    capfd.readouterr()
    assert run(cli, ["scan", "-g", str(fa), "--guides", str(guides), "-m", "3", "-o", "-"]) == 0
    out = capfd.readouterr().out.splitlines()
    assert out[0].startswith("query_id\tguide\tchrom") and len(out) == len(tsv) + 1


def test_max_hits_per_guide_truncates(small):
    tmp, fa, guides, genome, guide = small
    out = tmp / "h.parquet"
    assert run(cli, ["scan", "-g", str(fa), "--guides", str(guides), "-m", "6",
                     "--max-hits-per-guide", "3", "-o", str(out),
                     "--guide-summary", str(tmp / "status.tsv")]) == 0
    df = pl.read_parquet(out)
    assert df.group_by("query_id").len()["len"].max() <= 3
    status = pl.read_csv(tmp / "status.tsv", separator="\t")
    full = expected(genome, [guide, guide[::-1]], 6)
    for row in status.iter_rows(named=True):
        n_full = sum(1 for r in full if r[0] == int(row["query_id"][1:]) - 1)
        assert row["truncated"] == (n_full > 3)
        assert row["n_hits"] == min(3, n_full)


def test_bad_guides_reported_rest_completes(small):
    tmp, fa, guides, genome, guide = small
    bad = tmp / "mixed.tsv"
    bad.write_text(f"id\tguide\nok\t{guide}\nshort\tACGT\nletters\t{guide[:-1]}X\n")
    out = tmp / "h.parquet"
    assert run(cli, ["scan", "-g", str(fa), "--guides", str(bad), "-o", str(out),
                     "--errors", str(tmp / "err.tsv")]) == 0
    assert set(pl.read_parquet(out)["query_id"]) == {"ok"}
    err = pl.read_csv(tmp / "err.tsv", separator="\t")
    assert err["record"].to_list() == ["short", "letters"] and err["line"].to_list() == [3, 4]
    assert run(cli, ["scan", "-g", str(fa), "--guides", str(bad), "-o", str(tmp / "s.parquet"),
                     "--strict"]) == 2
    assert not (tmp / "s.parquet").exists()


@pytest.mark.parametrize("args", [
    ["--mismatches", "9"],
    ["--dna-bulges", "5"],
    ["--nuclease", "Cas99"],
    ["--pam", "NGJ"],
])
def test_bad_options_exit_2_no_output(small, args):
    tmp, fa, guides, genome, guide = small
    out = tmp / "h.parquet"
    assert run(cli, ["scan", "-g", str(fa), "--guides", str(guides), "-o", str(out), *args]) == 2
    assert not out.exists()


def test_missing_and_corrupt_store_exit_2(small, capfd):
    tmp, fa, guides, genome, guide = small
    out = tmp / "h.parquet"
    assert run(cli, ["scan", "-g", str(tmp / "none.pmg"), "--guides", str(guides), "-o", str(out)]) == 2
    assert run(cli, ["index", str(fa), "-o", str(tmp / "g.pmg")]) == 0
    data = (tmp / "g.pmg").read_bytes()
    (tmp / "cut.pmg").write_bytes(data[:5000])
    capfd.readouterr()
    assert run(cli, ["scan", "-g", str(tmp / "cut.pmg"), "--guides", str(guides), "-o", str(out)]) == 2
    err = capfd.readouterr().err
    assert "cut.pmg" in err and "truncated" in err and err.count("\n") == 1
    assert not out.exists()


def test_wrong_length_for_preset(small):
    tmp, fa, guides, genome, guide = small
    g = tmp / "g.txt"
    g.write_text(guide + "ACGTACGTAC\n")  # 30 nt
    assert run(cli, ["scan", "-g", str(fa), "--guides", str(g), "-o", str(tmp / "o.tsv"),
                     "--strict"]) == 2


def test_console_script_installed():
    """The ``pmcore`` console script exists and runs (pip install . / -e . both provide it)."""
    exe = shutil.which("pmcore")
    assert exe, "pmcore console script not on PATH"
    proc = subprocess.run([exe, "info"], capture_output=True, text=True, check=True)
    info = json.loads(proc.stdout)
    assert info["implementation"] in ("cython", "python")
    proc = subprocess.run([sys.executable, "-m", "pmcore.cli.main", "--version"],
                          capture_output=True, text=True, check=True)
    assert "pmcore" in proc.stdout


def test_scan_score_and_annotate(tmp_path):
    """scan --score --annotate --regions on the demo genome finds the planted ONCO1 site."""
    import numpy as np

    from pmcore.demo import GRNA_VARIANTS, SEED, _data, make_genome

    genome, guides = make_genome(np.random.default_rng(SEED))
    fa = tmp_path / "g.fa"
    fa.write_text("".join(f">{k}\n{v}\n" for k, v in genome.items()))
    gfile = tmp_path / "guides.tsv"
    gfile.write_text("id\tguide\n" + "".join(f"{k}\t{v}\n" for k, v in guides.items()))
    out = tmp_path / "hits.parquet"
    assert run(cli, ["scan", "-g", str(fa), "--guides", str(gfile), "-m", "4", "--dna-bulges",
                     "1", "--rna-bulges", "1", "--score", "--base-editor", "ABE",
                     "--annotate", str(_data("annotation/demo.gtf")),
                     "--regions", str(_data("annotation/demo_regions.bed")),
                     "-o", str(out), "--guide-summary", str(tmp_path / "gs.tsv")]) == 0
    df = pl.read_parquet(out)
    assert {"cfd", "mit", "region", "gene_name", "regions_flagged", "be_editable"} <= set(df.columns)
    onco = df.filter((pl.col("chrom") == "demo1") & (pl.col("start") == 22010)
                     & (pl.col("bulge_type") == "X"))
    assert onco["region"].to_list() == ["CDS"] and "ONCO1" in onco["regions_flagged"][0]
    assert 0 < onco["cfd"][0] < 1
    gs = pl.read_csv(tmp_path / "gs.tsv", separator="\t")
    assert gs["on_target_status"].to_list() == ["unique", "unique"]
    assert gs.filter(pl.col("query_id") == "VAR-A")["on_target_start"][0] == GRNA_VARIANTS["VAR-A"][0].pos
    assert read_provenance(out)["mismatches"] == 4


def test_scan_with_patient_vcf(tmp_path):
    """scan --vcf: an SNV in the on-target's PAM removes the site on the alternative
    haplotype (presence 'reference'), TSV output joins the list columns."""
    import numpy as np

    from pmcore.demo import GRNA_VARIANTS, SEED, make_genome

    genome, guides = make_genome(np.random.default_rng(SEED))
    fa = tmp_path / "g.fa"
    fa.write_text("".join(f">{k}\n{v}\n" for k, v in genome.items()))
    gfile = tmp_path / "guides.tsv"
    gfile.write_text(f"id\tguide\nVAR-A\t{guides['VAR-A']}\n")
    on = GRNA_VARIANTS["VAR-A"][0]
    pam_g = on.pos + 21  # the first G of NGG, forward strand
    assert genome[on.contig][pam_g] == "G"
    vcf = tmp_path / "patient.vcf"
    vcf.write_text("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tP1\n"
                   f"{on.contig}\t{pam_g + 1}\trs_pam\tG\tT\t.\tPASS\t.\tGT\t0|1\n")
    out = tmp_path / "hits.parquet"
    assert run(cli, ["scan", "-g", str(fa), "--guides", str(gfile), "-m", "2", "--vcf", str(vcf),
                     "--score", "-o", str(out)]) == 0
    df = pl.read_parquet(out)
    site = df.filter((pl.col("start") == on.pos) & (pl.col("bulge_type") == "X")
                     & (pl.col("chrom") == on.contig))
    assert "reference" in site["presence"].to_list()
    assert any("rs_pam" in v for v in site["variant_ids"].to_list())
    assert "cfd" in df.columns
    tsv = tmp_path / "hits.tsv"
    assert run(cli, ["scan", "-g", str(fa), "--guides", str(gfile), "-m", "2", "--vcf", str(vcf),
                     "-o", str(tsv)]) == 0
    assert "rs_pam" in tsv.read_text()
    bad = tmp_path / "bad.vcf"
    bad.write_text(vcf.read_text().replace("\tG\tT\t", "\tA\tT\t"))
    assert run(cli, ["scan", "-g", str(fa), "--guides", str(gfile), "--vcf", str(bad),
                     "-o", str(tmp_path / "bad.parquet")]) == 2
    assert not (tmp_path / "bad.parquet").exists()
