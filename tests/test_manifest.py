"""Platform manifest: strict schema, clear errors (exit 2), nothing half-written."""

from __future__ import annotations

import re

import pytest
from pmcore.cli._common import run
from pmcore.cli.main import cli

from pmcore.demo import write_demo_inputs
from pmcore.errors import InputError
from pmcore.manifest import load_manifest, parse_locus


@pytest.fixture(scope="module")
def demo_inputs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("inputs")
    return write_demo_inputs(folder)


def _edit(manifest, tmp_path, old, new, count=1):
    text = manifest.read_text()
    assert old in text, old
    out = manifest.parent / f"edited-{tmp_path.name}.toml"
    out.write_text(text.replace(old, new, count))
    return out


def test_demo_manifest_parses(demo_inputs):
    m = load_manifest(demo_inputs)
    assert m.platform == "ABE-PLAT demo"
    assert [v.id for v in m.variants] == ["VAR-A", "VAR-B", "VAR-C"]
    assert [v.modality for v in m.variants] == ["base_editor", "base_editor", "aso"]
    assert m.genome == demo_inputs.parent / "demo_genome.fa"  # relative to the manifest
    assert m.editor.base_editor == "ABE" and m.editor.window == (4, 8)
    assert m.cmc.reference == "RS" and m.cmc.platform_leverage
    assert m.variants[0].on_target.end - m.variants[0].on_target.start == 23
    assert m.digest() == load_manifest(demo_inputs).digest()


@pytest.mark.parametrize("old,new,key", [
    ('[platform]\nname', '[platform]\ncolour = "blue"\nname', "platform.colour"),
    ("manifest_version = 1", "manifest_version = 1\nextra = 3", "extra"),
    ('id = "VAR-B"', 'id = "VAR-B"\nguidee = "ACGT"', "variant[2].guidee"),
    ("mismatches = 4", "mismatches = 12", "editor.mismatches"),
    ('modality = "base_editor"', 'modality = "prime_editor"', "platform.modality"),
])
def test_bad_keys_are_named(demo_inputs, tmp_path, old, new, key):
    bad = _edit(demo_inputs, tmp_path, old, new)
    with pytest.raises(InputError, match=re.escape(f"'{key}'")):
        load_manifest(bad)


def test_missing_file_named(demo_inputs, tmp_path):
    bad = _edit(demo_inputs, tmp_path, 'annotation = "demo.gtf"', 'annotation = "nope.gtf"')
    with pytest.raises(InputError, match=r"genome.annotation.*file not found.*nope\.gtf"):
        load_manifest(bad)


def test_duplicate_variant_ids(demo_inputs, tmp_path):
    bad = _edit(demo_inputs, tmp_path, 'id = "VAR-B"', 'id = "VAR-A"')
    with pytest.raises(InputError, match=r"duplicate variant id 'VAR-A'") as exc:
        load_manifest(bad)
    assert exc.value.record == "VAR-A"


def test_aso_variant_needs_aso_sequence(demo_inputs, tmp_path):
    bad = _edit(demo_inputs, tmp_path, "aso = ", "guide = ")
    with pytest.raises(InputError, match="an ASO variant takes 'aso'"):
        load_manifest(bad)


def test_parse_locus():
    loc = parse_locus("chr1:1,000-1_023")
    assert (loc.chrom, loc.start, loc.end) == ("chr1", 1000, 1023)
    for bad in ("chr1:10", "chr1:20-10", "chr1 10 20"):
        with pytest.raises(ValueError):
            parse_locus(bad)


def _assert_nothing_written(out):
    assert not out.exists()
    assert not [p for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.")]


@pytest.mark.parametrize("old,new,needle", [
    ('dna_bulges = 1', 'dna_bulges = 1\nbogus = true', "unknown key 'editor.bogus'"),
    ('id = "VAR-B"', 'id = "VAR-A"', "duplicate variant id 'VAR-A'"),
    ('path = "demo_genome.fa"', 'path = "missing.fa"', "genome.path"),
])
def test_cli_bad_manifest_exit_2(demo_inputs, tmp_path, capsys, old, new, needle):
    bad = _edit(demo_inputs, tmp_path, old, new)
    out = tmp_path / "results"
    assert run(cli, ["run", str(bad), "-o", str(out)]) == 2
    assert needle in capsys.readouterr().err
    _assert_nothing_written(out)


def test_cli_guide_not_at_locus(demo_inputs, tmp_path, capsys):
    m = load_manifest(demo_inputs)
    var_b = m.variants[1]
    shifted = f"{var_b.on_target.chrom}:{var_b.on_target.start + 40}-{var_b.on_target.end + 40}"
    bad = _edit(demo_inputs, tmp_path, str(var_b.on_target), shifted)
    out = tmp_path / "results"
    assert run(cli, ["run", str(bad), "-o", str(out), "--no-figures"]) == 2
    err = capsys.readouterr().err
    assert "record 'VAR-B'" in err and "does not contain guide" in err
    _assert_nothing_written(out)


def test_cli_aso_not_at_locus(demo_inputs, tmp_path, capsys):
    m = load_manifest(demo_inputs)
    var_c = m.variants[2]
    bad = _edit(demo_inputs, tmp_path, f'"{var_c.on_target}"', '"demo2:100-120"')
    out = tmp_path / "results"
    assert run(cli, ["run", str(bad), "-o", str(out), "--no-figures"]) == 2
    assert "record 'VAR-C'" in capsys.readouterr().err
    _assert_nothing_written(out)


def test_refuses_foreign_output_folder(demo_inputs, tmp_path, capsys):
    out = tmp_path / "precious"
    out.mkdir()
    (out / "thesis.tex").write_text("do not delete")
    assert run(cli, ["run", str(demo_inputs), "-o", str(out), "--no-figures"]) == 2
    assert "was not written by pmcore run" in capsys.readouterr().err
    assert (out / "thesis.tex").read_text() == "do not delete"


def test_guide_at_locus_rule():
    from pmcore.nucleases import PRESETS
    from pmcore.pipeline import _guide_at_locus, revcomp

    g = "ACGTACGTACGTACGTACGA"
    spcas9, cas12a = PRESETS["SpCas9"], PRESETS["Cas12a"]
    assert _guide_at_locus("TT" + g + "AGGTT", g, spcas9)
    assert not _guide_at_locus("TT" + g + "ACTTT", g, spcas9)  # no PAM
    assert _guide_at_locus(revcomp("TT" + g + "TGGTT"), g, spcas9)  # minus strand
    assert not _guide_at_locus("TT" + g[:-1] + "CAGGTT", g, spcas9)  # a mismatch
    assert _guide_at_locus("TTTA" + g, g, cas12a)  # 5' PAM
    assert not _guide_at_locus("TTTT" + g, g, cas12a)
