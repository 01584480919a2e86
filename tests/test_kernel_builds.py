"""Every kernel build (generic, POPCNT, AVX2, AVX-512, pure-Python twin) gives the same raw
hits, with and without the seed filter."""

from __future__ import annotations

import importlib
import random

import numpy as np
import pytest

from pmcore._kernels import pack, pack_py, scan, scan_py
from pmcore.errors import InputError
from pmcore.genome import GenomeStore, build_store
from pmcore.offtarget import OffTargetSearch, Query, SiteLayout, scan_task


def _build(name: str, runs: bool):
    """A CPU-specific build, imported only where the CPU runs it (its module code may use
    the instructions it was compiled for)."""
    if not runs:  # pragma: no cover - older or non-x86 CPUs
        return None
    try:
        return importlib.import_module(f"pmcore._kernels.{name}")
    except ImportError:  # pragma: no cover - non-x86 builds
        return None


scan_popcnt = _build("scan_popcnt", scan.cpu_has_popcnt())
scan_avx2 = _build("scan_avx2", scan.cpu_has_avx2())
scan_avx512 = _build("scan_avx512", scan.cpu_has_avx512())


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    rng = random.Random(2)
    tmp = tmp_path_factory.mktemp("k")
    unit = "".join(rng.choice("ACGT") for _ in range(60))
    # repeats of one unit with point changes and N's: many near sites for guides cut from it
    seq = "".join(
        "".join(c if rng.random() > 0.08 else rng.choice("ACGTN") for c in unit) + "AGG"
        for _ in range(25))
    (tmp / "g.fa").write_text(f">a\n{seq}\n>b\n{seq[::-1]}\n")
    build_store(tmp / "g.fa", tmp / "g.pmg")
    with GenomeStore(tmp / "g.pmg") as st:
        yield st


def run_with(module, store, monkeypatch, layout, queries, all_placements, seed_filter=True):
    import pmcore.offtarget as ot

    monkeypatch.setattr(ot, "_scan", module)
    search = OffTargetSearch(store, queries, layout, all_placements=all_placements)
    out = []
    for contig in store.contigs:
        raw = scan_task(store, contig, contig.offset - 2, contig.offset + contig.length, search.plan,
                        search.qwords, search.qgeneral, search.qmax, all_placements,
                        capacity=1,  # tiny buffers: exercises the resume path
                        seed_filter=seed_filter)
        out.append(np.stack([raw.query, raw.anchor, raw.strand, raw.btype, raw.bsize, raw.bpos, raw.mm]))
    rows = np.concatenate(out, axis=1)
    return rows[:, np.lexsort(rows[::-1])]  # builds may emit one block's hits in another order


@pytest.mark.parametrize("pam", ["NRG", "NG", ""])  # sparse to dense candidate blocks
@pytest.mark.parametrize("dna,rna,allp", [(0, 0, False), (1, 2, True), (2, 1, False)])
def test_builds_agree(store, monkeypatch, dna, rna, allp, pam):
    text = store.fetch("a", 0, 63, soft=False)
    queries = [Query(f"q{i}", text[p:p + 20], 5) for i, p in enumerate((43, 40, 10))]
    queries.append(Query("deg", "ACGTRYACGTACGTACGTNN", 7))
    layout = SiteLayout(20, pam, 3, dna, rna)
    ref = run_with(scan_py, store, monkeypatch, layout, queries, allp, seed_filter=False)
    assert ref.shape[1] > 0
    for module in (scan, scan_popcnt, scan_avx2, scan_avx512, scan_py):
        for seed_filter in (True, False):
            if module is not None and (module, seed_filter) != (scan_py, False):
                got = run_with(module, store, monkeypatch, layout, queries, allp, seed_filter)
                np.testing.assert_array_equal(got, ref)


def test_stream_pass_counts(store):
    counts = scan.stream_pass(store.blocks)
    assert sum(counts[:4]) == sum(c.length for c in store.contigs) - counts[4] + (
        store.n_blocks * 64 - sum(c.length for c in store.contigs))
    assert scan_py.stream_pass(store.blocks) == counts


def test_pack_twin_agrees():
    rng = random.Random(0)
    text = "".join(rng.choice("ACGTNRYacgtnry") for _ in range(300)).encode()
    a = (np.zeros((5, 3), np.uint64), np.zeros(5, np.uint64))
    b = (np.zeros((5, 3), np.uint64), np.zeros(5, np.uint64))
    assert pack.pack_bases(text, *a, 3) == pack_py.pack_bases(text, *b, 3) == -1
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert pack.decode(a[0], 3, 300) == pack_py.decode(b[0], 3, 300)
    assert pack.pack_bases(b"ACGT-ACGT", *a, 0) == pack_py.pack_bases(b"ACGT-ACGT", *b, 0) == 4


@pytest.mark.parametrize("cap,allowed", [
    ("generic", {"scan"}), ("popcnt", {"scan", "scan_popcnt"}),
    ("avx2", {"scan", "scan_popcnt", "scan_avx2"}),
    ("", {"scan", "scan_popcnt", "scan_avx2", "scan_avx512"})])
def test_cpu_cap_selects_build(monkeypatch, cap, allowed):
    from pmcore import kernels

    monkeypatch.setenv("PMCORE_CPU", cap)
    name = kernels.scan_module().__name__.rsplit(".", 1)[-1]
    assert name in allowed
    best = [b for b, ok in (("scan_avx512", scan.cpu_has_avx512()),
                            ("scan_avx2", scan.cpu_has_avx2()),
                            ("scan_popcnt", scan.cpu_has_popcnt()), ("scan", True))
            if ok and b in allowed][0]
    assert name == best
    monkeypatch.setenv("PMCORE_CPU", "sse9")
    with pytest.raises(InputError, match="PMCORE_CPU"):
        kernels.scan_module()


def test_bad_cpu_cap_is_a_clear_cli_error(monkeypatch, capsys):
    from pmcore.cli._common import run
    from pmcore.cli.main import cli

    monkeypatch.setenv("PMCORE_CPU", "sse9")
    assert run(cli, ["info"]) == 2
    err = capsys.readouterr().err
    assert "PMCORE_CPU" in err and "sse9" in err and "Traceback" not in err
