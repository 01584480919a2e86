"""pytest-benchmark micro-benchmarks of the CMC engine.

Run: ``pytest benchmarks/bench_cmc.py --benchmark-enable``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from pmcore.cmc.potency import PotencyOptions, analyze_potency
from pmcore.cmc.stability import StabilityOptions, analyze_stability, bound_crossing

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cmc_scale import make_frame


@pytest.fixture(scope="module")
def stability_1000():
    return make_frame(1000)


def test_bench_stability_1000_series(benchmark, stability_1000):
    res = benchmark(analyze_stability, stability_1000, StabilityOptions(lower=95.0))
    assert res.shelf_life.num_rows == 1000


def test_bench_bound_crossing_1e6(benchmark):
    rng = np.random.default_rng(0)
    n = 1_000_000
    m = rng.normal(100, 1, n)
    b = rng.normal(-0.2, 0.05, n)
    cross, _ = benchmark(bound_crossing, m, b, 9.0, 21, 1200.0, 0.5, 1.7, 95.0, 1.0, 0.0,
                         500.0)
    assert np.isfinite(cross).mean() > 0.9


@pytest.fixture(scope="module")
def potency_plates():
    rng = np.random.default_rng(1)
    dose = np.repeat([0.0, 0.03, 0.1, 0.3, 1, 3, 10, 30], 2)
    frames = []
    for p in range(50):
        for sample, e in (("RS", 1.0), ("T", float(np.exp(rng.normal(0, 0.2))))):
            y = 50 + 950 / (1 + (e / np.where(dose > 0, dose, 1e-300)) ** 1.1)
            frames.append(pl.DataFrame({"plate": f"P{p}", "sample": sample, "dose": dose,
                                        "response": y * (1 + rng.normal(0, 0.04, dose.size))}))
    return pl.concat(frames)


def test_bench_potency_50_plates(benchmark, potency_plates):
    res = benchmark(analyze_potency, potency_plates, PotencyOptions(reference="RS"))
    assert res.rp.num_rows == 50
