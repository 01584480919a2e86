"""pytest-benchmark micro-benchmarks of the search engine (run: ``pytest benchmarks
--benchmark-enable``). Timings are reported, never asserted."""

from __future__ import annotations

import numpy as np
import pytest

from pmcore.genome import GenomeStore, build_store
from pmcore.offtarget import OffTargetSearch, Query, SiteLayout, _scan

SIZE = 2_000_000


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    rng = np.random.default_rng(0)
    seq = np.frombuffer(b"ACGT", np.uint8)[rng.integers(0, 4, SIZE)].tobytes().decode()
    tmp = tmp_path_factory.mktemp("bench")
    (tmp / "g.fa").write_text(">chr1\n" + seq + "\n")
    build_store(tmp / "g.fa", tmp / "g.pmg")
    with GenomeStore(tmp / "g.pmg") as st:
        yield st


def _guides(n, seed=1):
    rng = np.random.default_rng(seed)
    return [Query(f"g{i}", "".join(rng.choice(list("ACGT"), 20)), 4) for i in range(n)]


def _run(store, queries, dna=0, rna=0, threads=1, seed_filter=True):
    search = OffTargetSearch(store, queries, SiteLayout(20, "NGG", 3, dna, rna), threads=threads,
                             seed_filter=seed_filter)
    return sum(len(raw) for _, raw in search.raw_batches())


def test_stream_pass(benchmark, store):
    counts = benchmark(_scan.stream_pass, store.blocks)
    assert sum(counts) >= SIZE


@pytest.mark.parametrize("n", [1, 20, 100])
def test_scan_mismatches(benchmark, store, n):
    queries = _guides(n)
    benchmark(_run, store, queries)


@pytest.mark.parametrize("n,dna", [(1, 0), (4, 0), (1, 1)])
def test_scan_seed_filter_off(benchmark, store, n, dna):
    """The same small-guide-set scans without the seed filter (same hits)."""
    queries = _guides(n)
    assert benchmark(_run, store, queries, dna, dna, 1, False) == _run(store, queries, dna, dna)


@pytest.mark.parametrize("n", [1, 20])
def test_scan_bulges(benchmark, store, n):
    queries = _guides(n)
    benchmark(_run, store, queries, 1, 1)


def test_index(benchmark, tmp_path):
    rng = np.random.default_rng(3)
    seq = np.frombuffer(b"ACGTN", np.uint8)[rng.integers(0, 5, SIZE)].tobytes().decode()
    src = tmp_path / "g.fa"
    src.write_text(">chr1\n" + "\n".join(seq[i:i + 60] for i in range(0, SIZE, 60)) + "\n")
    benchmark(build_store, src, tmp_path / "g.pmg")
