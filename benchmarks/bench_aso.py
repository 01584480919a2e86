"""pytest-benchmark micro-benchmarks of the ASO site search.

``pytest benchmarks/bench_aso.py --benchmark-enable``; the genome-scale figures come from
``python benchmarks/aso_scale.py`` (see docs/aso.md).
"""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(scope="module")
def small_case(tmp_path_factory):
    """2 Mbp random genome, human-density synthetic annotation, 20 ASOs of 20 nt."""
    from pmcore.annotation import read_gtf, synthetic_gtf
    from pmcore.genome import build_store, open_genome

    tmp = tmp_path_factory.mktemp("bench_aso")
    rng = np.random.default_rng(5)
    lengths = {"c1": 1_000_000, "c2": 1_000_000}
    with open(tmp / "g.fa", "w") as fh:
        fh.writelines(f">{k}\n{''.join(rng.choice(list('ACGT'), n))}\n" for k, n in lengths.items())
    store = open_genome(build_store(tmp / "g.fa", tmp / "g.pmg"))
    (tmp / "g.gtf").write_text(synthetic_gtf(lengths, 38, seed=5))
    gm = read_gtf(str(tmp / "g.gtf")).for_genome(lengths)
    asos = {f"a{i}": "".join(rng.choice(list("ACGT"), 20)) for i in range(20)}
    yield store, gm, asos
    store.close()


@pytest.mark.parametrize("mode", ["premrna+transcripts", "genome"])
def test_bench_search(benchmark, small_case, mode):
    from pmcore.aso import search_asos

    store, gm, asos = small_case
    result = benchmark.pedantic(
        lambda: search_asos(store, asos, gene_model=gm, mode=mode, threads=2),
        rounds=2, iterations=1)
    assert result.summary.height == len(asos)
