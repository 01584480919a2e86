"""``pmcore hybrid``: JSON output, Biopython agreement through the CLI, exit codes."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from pmcore.cli import _common
from pmcore.cli.main import cli

from pmcore.thermo import duplex_thermo, perfect_target

ASO = "GCTACGTAGCATGCATGCAA"


def run(args, capsys):
    code = _common.run(cli, args)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_hybrid_json_keys_and_values(capsys):
    code, out, _ = run(["hybrid", "--aso", ASO, "--target", perfect_target(ASO), "--json"],
                       capsys)
    assert code == 0
    data = json.loads(out)
    assert list(data) == ["dg37", "dh", "ds", "tm"]
    ref = duplex_thermo(ASO, perfect_target(ASO))
    assert data["dg37"] == pytest.approx(ref.dg37)
    assert data["tm"] == pytest.approx(ref.tm)


def test_hybrid_conditions_match_biopython(capsys):
    mt = pytest.importorskip("Bio.SeqUtils.MeltingTemp")
    tgt = perfect_target(ASO)
    code, out, _ = run(["hybrid", "--aso", ASO, "--target", tgt, "--na-mm", "50",
                        "--mg-mm", "3", "--oligo-nm", "500", "--target-nm", "20", "--json"],
                       capsys)
    assert code == 0
    ref = mt.Tm_NN(tgt.replace("U", "T"), nn_table=mt.R_DNA_NN1, dnac1=500, dnac2=20, Na=50,
                   Mg=3, saltcorr=7)
    assert json.loads(out)["tm"] == pytest.approx(ref, abs=0.1)


def test_hybrid_details_and_chemistry_marks(capsys):
    marked = "+G*+C*+T*A*C*G*T*A*G*C*A*T*G*C*A*T*G*+C*+A*+A"
    code, out, _ = run(["hybrid", "--aso", marked, "--target", perfect_target(ASO),
                        "--json", "--details"], capsys)
    assert code == 0
    data = json.loads(out)
    assert data["proxy"] is False and data["n_mismatches"] == 0
    assert data["dg37"] == pytest.approx(duplex_thermo(ASO, perfect_target(ASO)).dg37)


@pytest.mark.parametrize("extra, needle", [
    (["--aso", "GCTAZGTAGCAT", "--target", "AUGCUACGUAGC"], "letter 'Z'"),
    (["--aso", "GCTACGT", "--target", "ACGUAGC"], "length 7"),
    (["--aso", ASO, "--target", perfect_target(ASO), "--na-mm", "-5"], "negative"),
    (["--aso", ASO, "--target", perfect_target(ASO), "--target-nm", "0"], "target_nm"),
    (["--aso", ASO, "--target", perfect_target(ASO)[1:]], "differ in length"),
])
def test_hybrid_bad_input_exit_2_no_output(capsys, extra, needle):
    code, out, err = run(["hybrid", *extra, "--json"], capsys)
    assert code == 2
    assert out == ""
    assert needle in err and "error" in err


@pytest.mark.skipif(shutil.which("pmcore") is None, reason="console script not installed")
def test_console_script():
    proc = subprocess.run(["pmcore", "hybrid", "--aso", ASO, "--target", perfect_target(ASO),
                           "--json"], capture_output=True, text=True, timeout=60,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    assert set(json.loads(proc.stdout)) == {"dg37", "dh", "ds", "tm"}
    proc = subprocess.run(["pmcore", "hybrid", "--aso", "ACGU!ACGUACG", "--target",
                           "ACGUACGUACGU", "--json"], capture_output=True, text=True, timeout=60,
                          check=False)
    assert proc.returncode == 2 and proc.stdout == ""
