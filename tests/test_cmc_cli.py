"""End-to-end tests of ``pmcore stability`` and ``pmcore potency``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest

from pmcore.io import read_provenance

DEMO = Path(__file__).resolve().parents[1] / "src" / "pmcore" / "data" / "cmc"


def _run(*args, stdin=None):
    from cli import _common
    from cli.main import cli

    return _common.run(cli, [str(a) for a in args])


def test_stability_cli_jmp(shared_data, tmp_path, capsys):
    out = tmp_path / "shelf_life.parquet"
    rc = _run("stability", shared_data / "cmc" / "stab_jmp_stability.csv", "-o", out,
              "--lower", "95", "--col-lot", "batch", "--col-time", "month",
              "--col-value", "conc_mg_per_kg")
    assert rc == 0
    t = pl.read_parquet(out)
    for col in ("model", "p_slopes", "p_intercepts", "shelf_life_months",
                "shelf_life_floor_months", "shelf_life_proposed_months", "limiting_lot"):
        assert col in t.columns
    assert t["model"][0] == "common_slope"
    assert t["shelf_life_months"][0] == pytest.approx(23.47505, abs=1e-5)
    assert t["shelf_life_floor_months"][0] == 23
    assert t["limiting_lot"][0] == "2_12"
    for side in ("poolability", "lots", "errors"):
        assert (tmp_path / f"shelf_life.{side}.parquet").is_file()
    prov = read_provenance(out)
    assert prov["inputs"][0]["sha256"] and prov["analysis"] == "stability"
    meta = pq.read_schema(out).metadata
    assert meta[b"pmcore.schema"] == b"cmc_stability_shelf_life"


def test_stability_cli_tsv_spec_and_plots(tmp_path):
    spec = tmp_path / "spec.csv"
    spec.write_text("condition,lower_limit,upper_limit\n5C,92,108\n25C/60%RH,90,110\n")
    data = pl.read_csv(DEMO / "demo_stability.csv").drop("lower_limit", "upper_limit")
    src = tmp_path / "stab.tsv"
    data.write_csv(src, separator="\t")
    out = tmp_path / "res.tsv"
    rc = _run("stability", src, "-o", out, "--spec", spec, "--plots", tmp_path / "plots",
              "--plot-format", "svg")
    assert rc == 0
    t = pl.read_csv(out, separator="\t")
    assert t.height == 6
    lim = dict(zip(t["condition"], t["lower_limit"]))
    assert lim == {"5C": 92.0, "25C/60%RH": 90.0}
    assert len(list((tmp_path / "plots").glob("*.svg"))) == 6
    assert (tmp_path / "res.errors.tsv").is_file()


def test_stability_cli_bad_input_exit_2_and_no_output(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("lot,time,value\nA,0,100\nA,x,99\nA,6,abc\n")
    out = tmp_path / "o.parquet"
    rc = _run("stability", bad, "-o", out, "--lower", "95")
    err = capsys.readouterr().err
    assert rc == 2
    assert "non-numeric time 'x'" in err and "line 3" in err
    assert not any(tmp_path.glob("o*"))


def test_stability_cli_partial_batch(tmp_path, caplog):
    src = tmp_path / "mix.csv"
    good = pl.read_csv(DEMO / "demo_stability.csv")
    bad = good.filter(pl.col("variant_id") == "VAR-C").with_columns(
        pl.lit("VAR-X").alias("variant_id"))
    bad = bad.with_columns(pl.when(pl.int_range(pl.len()) == 5).then(pl.lit(-3))
                           .otherwise(pl.col("time")).alias("time"))
    pl.concat([good, bad]).write_csv(src)
    out = tmp_path / "o.parquet"
    assert _run("stability", src, "-o", out) == 0
    # VAR-X at 25C/60%RH is fine; only its 5C series holds the negative time
    assert pl.read_parquet(out).height == 7
    errs = pl.read_parquet(tmp_path / "o.errors.parquet")
    assert errs["variant_id"].to_list() == ["VAR-X"]
    assert "negative time" in errs["reason"][0] and "condition=5C" in errs["series"][0]
    assert errs["line"][0] == errs["row"][0] + 1
    assert "VAR-X" in caplog.text
    rc = _run("stability", src, "-o", tmp_path / "strict.parquet", "--strict")
    assert rc == 2 and not (tmp_path / "strict.parquet").exists()


def test_potency_cli(tmp_path):
    out = tmp_path / "potency.parquet"
    rc = _run("potency", DEMO / "demo_potency.csv", "--reference", "RS", "-o", out,
              "--plots", tmp_path / "pp")
    assert rc == 0
    t = pl.read_parquet(out)
    for col in ("rp", "rp_ci_low", "rp_ci_high", "parallel_f_p", "parallel_equivalent"):
        assert col in t.columns
    assert t.height == 9
    assert ((t["rp_ci_low"] < t["rp"]) & (t["rp"] < t["rp_ci_high"])).all()
    assert (tmp_path / "potency.params.parquet").is_file()
    assert len(list((tmp_path / "pp").glob("*.png"))) == 9


def test_potency_cli_missing_reference_exit_2(tmp_path, capsys):
    out = tmp_path / "p.parquet"
    rc = _run("potency", DEMO / "demo_potency.csv", "--reference", "NOPE", "-o", out)
    assert rc == 2
    assert "reference sample 'NOPE' not found" in capsys.readouterr().err
    assert not out.exists()


def test_console_script_runs(tmp_path):
    out = tmp_path / "s.tsv"
    proc = subprocess.run([sys.executable, "-m", "cli.main", "stability",
                           str(DEMO / "demo_stability.csv"), "-o", str(out)],
                          capture_output=True, text=True, check=False, cwd=Path(__file__).parents[1])
    assert proc.returncode == 0, proc.stderr
    assert out.read_text().startswith("variant_id\tcondition\tattribute\tmodel")


def test_stability_cli_parquet_input_arrow_output(tmp_path):
    src = tmp_path / "in.parquet"
    pl.read_csv(DEMO / "demo_stability.csv").write_parquet(src)
    out = tmp_path / "o.arrow"
    assert _run("stability", src, "-o", out, "--separate-error", "pooled", "--log") == 0
    from pyarrow import feather

    t = feather.read_table(out)
    assert t.num_rows == 6
    assert set(t.column("transform").to_pylist()) == {"log"}
    assert (tmp_path / "o.lots.arrow").is_file()


def test_excel_without_reader_is_a_clear_error(tmp_path, capsys):
    import importlib.util

    if importlib.util.find_spec("fastexcel") or importlib.util.find_spec("openpyxl"):
        pytest.skip("an Excel reader is installed")
    src = tmp_path / "x.xlsx"
    src.write_bytes(b"PK\x03\x04")
    assert _run("stability", src, "-o", tmp_path / "o.parquet") == 2
    assert "Excel" in capsys.readouterr().err


def test_stability_cli_usual_column_spellings(shared_data, tmp_path):
    """'batch' and 'month' are accepted for lot and time; only the value is named."""
    out = tmp_path / "lb.parquet"
    src = shared_data / "cmc" / "stab_leblond2011_related.csv"
    assert _run("stability", src, "-o", out, "--upper", "0.3",
                "--col-value", "related_pct_lc") == 0
    row = pl.read_parquet(out).row(0, named=True)
    assert row["model"] == "separate"
    assert row["shelf_life_months"] == pytest.approx(15.844877978, abs=1e-6)
    assert row["shelf_life_floor_months"] == 15
    assert row["shelf_life_proposed_months"] == 15
    assert row["limiting_lot"] == "b8" and row["limiting_side"] == "upper"


def test_stability_cli_excel(shared_data, tmp_path):
    """Excel input through openpyxl (skipped when it is not installed)."""
    openpyxl = pytest.importorskip("openpyxl")
    import csv

    wb = openpyxl.Workbook()
    ws = wb.active
    with open(shared_data / "cmc" / "stab_jmp_stability.csv") as handle:
        for i, row in enumerate(csv.reader(handle)):
            ws.append(row if i == 0 else [row[0], float(row[1]), float(row[2])])
    src = tmp_path / "jmp.xlsx"
    wb.save(src)
    out = tmp_path / "o.parquet"
    assert _run("stability", src, "-o", out, "--col-value", "conc_mg_per_kg",
                "--lower", "95") == 0
    row = pl.read_parquet(out).row(0, named=True)
    assert row["shelf_life_months"] == pytest.approx(23.47505, abs=1e-5)


def test_no_partial_outputs_when_a_companion_cannot_be_written(tmp_path, capsys):
    (tmp_path / "z.lots.parquet").mkdir()
    rc = _run("stability", DEMO / "demo_stability.csv", "-o", tmp_path / "z.parquet")
    assert rc == 2
    assert "output path is a directory" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["z.lots.parquet"]


def test_potency_from_stdin_to_tsv(tmp_path):
    out = tmp_path / "rp.tsv"
    data = (DEMO / "demo_potency.csv").read_bytes()
    proc = subprocess.run([sys.executable, "-m", "cli.main", "potency", "-", "--reference",
                           "RS", "-o", str(out), "--ci", "fieller"], input=data,
                          capture_output=True, check=False, cwd=Path(__file__).parents[1])
    assert proc.returncode == 0, proc.stderr
    t = pl.read_csv(out, separator="\t")
    assert t.height == 9 and set(t["ci_method"]) == {"fieller"}
    assert (t["rp_ci_low"] < t["rp"]).all() and (t["rp"] < t["rp_ci_high"]).all()
