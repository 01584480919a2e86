"""``pmcore aso``: outputs, provenance, and bad input (exit 2, no output files)."""

from __future__ import annotations

import click
import numpy as np
import polars as pl
import pytest
from pmcore.cli import _common
from pmcore.cli.aso import aso as aso_command

from pmcore.aso import revcomp
from pmcore.genome import build_store
from pmcore.io import read_provenance

_group = click.Group("pmcore", commands={"aso": aso_command})


def run(args, capsys):
    code = _common.run(_group, args)
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture(scope="module")
def demo_inputs(tmp_path_factory):
    """The embedded demo genome and GTF, plus ASOs against a TSG1-like exon and a junction."""
    from importlib import resources

    from pmcore import demo
    from pmcore.annotation import read_annotation
    from pmcore.genome import open_genome

    tmp = tmp_path_factory.mktemp("aso_cli")
    text, _ = demo.make_genome(np.random.default_rng(demo.SEED))
    fa = tmp / "demo.fa"
    fa.write_text("".join(f">{k}\n{v}\n" for k, v in text.items()))
    pmg = build_store(fa, tmp / "demo.pmg")
    gtf = str(resources.files("pmcore") / "data" / "annotation" / "demo.gtf")
    with open_genome(pmg) as store:
        gm = read_annotation(gtf).for_genome({c.name: c.length for c in store.contigs})
        t = gm.transcript("G000002.1")
        sp = t.spliced_sequence(store.fetch)
    first = int(t.exon_ends[-1] - t.exon_starts[-1])
    asos = tmp / "asos.tsv"
    asos.write_text("aso_id\tsequence\tdesign\ttarget\n"
                    f"J1\t{revcomp(sp.sequence[first - 10:first + 10])}\t5-10-5\tGENE2\n"
                    f"E1\t{revcomp(sp.sequence[first + 30:first + 48])}\t\t\n")
    return {"tmp": tmp, "fa": fa, "pmg": pmg, "gtf": gtf, "asos": asos}


def test_default_run_writes_hits_and_summary(demo_inputs, capsys, tmp_path):
    out = tmp_path / "aso_hits.parquet"
    code, stdout, err = run(["aso", "--asos", str(demo_inputs["asos"]), "--genome",
                             str(demo_inputs["pmg"]), "--annotation", demo_inputs["gtf"],
                             "-o", str(out), "-t", "2"], capsys)
    assert code == 0, err
    assert stdout == ""
    for name in ("aso_hits.parquet", "aso_hits.tsv", "aso_hits.summary.parquet",
                 "aso_hits.summary.tsv"):
        assert (tmp_path / name).is_file()
    hits = pl.read_parquet(out)
    on = hits.filter(pl.col("is_on_target"))
    # J1 by its declared target gene; E1 (no target) because it has one perfect site
    assert sorted(on["aso_id"].to_list()) == ["E1", "J1"]
    r = on.filter(pl.col("aso_id") == "J1").row(0, named=True)
    assert r["spans_junction"] and r["found_in"] == "mRNA" and "G000002.1" in r["transcripts"]
    assert r["strand"] == "-" and r["gene"] == "GENE2"
    prov = read_provenance(out)
    assert prov["schema"] == "aso_hits" and prov["search"]["mode"] == "premrna+transcripts"
    summary = pl.read_parquet(tmp_path / "aso_hits.summary.parquet")
    assert summary["aso_id"].to_list() == ["J1", "E1"]
    assert summary.filter(pl.col("aso_id") == "J1")["design"][0] == "5-10-5"
    tsv = pl.read_csv(tmp_path / "aso_hits.tsv", separator="\t")
    assert tsv.height == hits.height


def test_genome_fasta_and_transcript_fasta(demo_inputs, capsys, tmp_path):
    out = tmp_path / "g.parquet"
    code, _, err = run(["aso", "--asos", str(demo_inputs["asos"]), "--genome",
                        str(demo_inputs["fa"]), "--mode", "genome", "-m", "2", "-b", "0",
                        "-o", str(out)], capsys)
    assert code == 0, err
    hits = pl.read_parquet(out)
    assert set(hits["found_in"]) <= {"genome"} and hits["n_bulges"].max() in (0, None)
    tx = tmp_path / "tx.fa"
    tx.write_text(">T1\nACGT" + revcomp("GCTACGTAGCATGCATGCAA") + "ACGT\n")
    asos = tmp_path / "a.fa"
    asos.write_text(">a1 design=5-10-5\nGCTACGTAGCATGCATGCAA\n")
    code, _, err = run(["aso", "--asos", str(asos), "--transcripts", str(tx), "-o",
                        str(tmp_path / "t.tsv")], capsys)
    assert code == 0, err
    t = pl.read_parquet(tmp_path / "t.parquet")
    perfect = (pl.col("n_mismatches") == 0) & (pl.col("n_bulges") == 0)
    assert t.filter(perfect)["tx_starts"].to_list() == [[4]]
    # bulged shadows of the perfect site stay in the table, flagged redundant
    assert t.filter(~perfect & (pl.col("n_mismatches") == 0))["redundant"].all()


def _bad_cases(d, tmp):
    good = ["--genome", str(d["pmg"]), "--annotation", d["gtf"]]
    bad_letters = tmp / "bad_letters.tsv"
    bad_letters.write_text("aso_id\tsequence\nok\tGCTACGTAGCATGCATGCAA\nbadx\tGCTACGXAGCATGC\n")
    short = tmp / "short.tsv"
    short.write_text("aso_id\tsequence\nshorty\tACGTACG\n")
    long_ = tmp / "long.tsv"
    long_.write_text("aso_id\tsequence\nlongy\t" + "ACGT" * 11 + "\n")
    pattern = tmp / "pattern.tsv"
    pattern.write_text("aso_id\tsequence\tdesign\np1\tGCTACGTAGCATGCATGCAA\t5-10-4\n")
    dup = tmp / "dup.tsv"
    dup.write_text("aso_id\tsequence\nd\tGCTACGTAGCATGCATGCAA\nd\tGCTACGTAGCATGCATGCAT\n")
    gtf_out = tmp / "outside.gtf"
    gtf_out.write_text('demo2\tt\texon\t99950\t100020\t.\t+\t.\tgene_id "GX"; '
                       'transcript_id "TXOUT";\n')
    gtf_missing = tmp / "missing.gtf"
    gtf_missing.write_text('chrZ\tt\texon\t10\t200\t.\t+\t.\tgene_id "GZ"; '
                           'transcript_id "TZ";\n')
    asos = str(d["asos"])
    return [
        (["--asos", str(bad_letters), *good], "badx"),
        (["--asos", str(short), *good], "shorty"),
        (["--asos", str(long_), *good], "longy"),
        (["--asos", str(pattern), *good], "p1"),
        (["--asos", str(dup), *good], "duplicate"),
        (["--asos", asos, *good, "-m", "5"], "mismatches"),
        (["--asos", asos, *good, "-b", "3"], "bulges"),
        (["--asos", asos, *good, "--na-mm", "0"], "cations"),
        (["--asos", asos, "--genome", str(d["pmg"]), "--annotation", str(gtf_out)], "TXOUT"),
        (["--asos", asos, "--genome", str(d["pmg"]), "--annotation", str(gtf_missing)],
         "chrZ"),
        (["--asos", asos, "--genome", str(d["pmg"]), "--mode", "premrna"], "--annotation"),
        (["--asos", str(tmp / "nope.tsv"), *good], "not found"),
    ]


def test_bad_input_exit_2_and_no_output(demo_inputs, capsys, tmp_path):
    for args, needle in _bad_cases(demo_inputs, tmp_path):
        out = tmp_path / "o" / "hits.parquet"
        code, stdout, err = run(["aso", *args, "-o", str(out)], capsys)
        assert code == 2, (args, err)
        assert needle in err, (needle, err)
        assert err.count("\n") == 1 and "error" in err
        assert stdout == ""
        assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())


def test_read_asos_formats(tmp_path):
    from pmcore.aso import read_asos

    seq = "GCTACGTAGCATGCATGCAA"
    (tmp_path / "a.csv").write_text(f"name,seq,pattern\nx,{seq.replace('T', 'U')},5-10-5\n")
    (tmp_path / "b.tsv").write_text(f"# comment\ny\t+G*+C*{seq[2:]}\n")
    pl.DataFrame({"aso_id": ["z"], "sequence": [seq.lower()]}).write_parquet(
        tmp_path / "c.parquet")
    a = read_asos(tmp_path / "a.csv")
    assert a.designs["x"].sequence == seq and a.designs["x"].gap == 10
    b = read_asos(tmp_path / "b.tsv")
    assert b.designs["y"].sequence == seq and b.designs["y"].chemistry.startswith("ll")
    c = read_asos(tmp_path / "c.parquet")
    assert c.designs["z"].sequence == seq and c.targets["z"] is None


def test_identical_sequences_keep_their_ids(tmp_path):
    from pmcore.aso import search_asos

    seq = "GCTACGTAGCATGCATGCAA"
    fa = tmp_path / "t.fa"
    fa.write_text(">t\nAAAA" + revcomp(seq) + "AAAA\n")
    hits, summary = search_asos(None, {"a": seq, "b": seq}, transcripts_fasta=fa,
                                max_mismatches=0, max_bulges=0)
    assert sorted(hits["aso_id"].to_list()) == ["a", "b"]
    assert summary["aso_id"].to_list() == ["a", "b"]
