"""Relative potency (4PL): scipy cross-checks, published drc datasets, bad input."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import optimize, stats

from pmcore.cmc.potency import FitFailure, PotencyOptions, analyze_potency, fit_single, logistic4
from pmcore.errors import InputError


def _curve(x, bottom, top, hill, ec50):
    return logistic4(x, bottom, top, hill, ec50)


def _plate(ec50_test=6.0, hill_t=1.2, top_t=9.0, noise=0.15, seed=0, reps=3):
    rng = np.random.default_rng(seed)
    dose = np.repeat([0.0, 0.1, 0.3, 1, 3, 10, 30, 100], reps)
    ref = _curve(dose, 1.0, 9.0, 1.2, 3.0) + rng.normal(0, noise, dose.size)
    test = _curve(dose, 1.0, top_t, hill_t, ec50_test) + rng.normal(0, noise, dose.size)
    return pl.DataFrame({"sample": ["RS"] * dose.size + ["T1"] * dose.size,
                         "dose": np.r_[dose, dose], "response": np.r_[ref, test]})


def test_individual_fit_matches_scipy_curve_fit():
    df = _plate(seed=1)
    res = analyze_potency(df, PotencyOptions(reference="RS"))
    par = pl.from_arrow(res.params).filter(pl.col("fit") == "individual")
    for smp in ("RS", "T1"):
        d = df.filter(pl.col("sample") == smp)
        x, y = d["dose"].to_numpy(), d["response"].to_numpy()
        popt, pcov = optimize.curve_fit(_curve, x, y, p0=[1, 9, 1, 3], maxfev=20000)
        row = par.filter(pl.col("sample") == smp).row(0, named=True)
        assert row["bottom"] == pytest.approx(popt[0], rel=1e-5)
        assert row["top"] == pytest.approx(popt[1], rel=1e-5)
        assert row["hill"] == pytest.approx(popt[2], rel=1e-5)
        assert row["ec50"] == pytest.approx(popt[3], rel=1e-5)
        # se of ln EC50 by the delta method from scipy's covariance
        assert row["log_ec50_se"] == pytest.approx(math.sqrt(pcov[3, 3]) / popt[3], rel=1e-3)


def test_parallel_fit_and_rp_match_scipy():
    df = _plate(seed=2)
    res = analyze_potency(df, PotencyOptions(reference="RS"))
    rp = pl.from_arrow(res.rp).row(0, named=True)
    x = df["dose"].to_numpy()
    y = df["response"].to_numpy()
    is_t = (df["sample"] == "T1").to_numpy()

    def model(_, bottom, top, hill, log_e_ref, log_rho):
        le = np.where(is_t, log_e_ref - log_rho, log_e_ref)
        return _curve(x, bottom, top, hill, np.exp(le))

    popt, pcov = optimize.curve_fit(model, x, y, p0=[1, 9, 1, math.log(3), 0.0], maxfev=20000)
    assert rp["rp"] == pytest.approx(math.exp(popt[4]), rel=1e-5)
    df_res = x.size - 5
    q = stats.t.ppf(0.975, df_res)
    se = math.sqrt(pcov[4, 4])
    assert rp["rp_ci_low"] == pytest.approx(math.exp(popt[4] - q * se), rel=1e-3)
    assert rp["rp_ci_high"] == pytest.approx(math.exp(popt[4] + q * se), rel=1e-3)
    # true relative potency 3/6 = 0.5 lies in the interval
    assert rp["rp_ci_low"] < 0.5 < rp["rp_ci_high"]
    # F test of parallelism: parallel (5 parameters) vs two separate 4PL (8)
    rss_p = float(np.sum((model(None, *popt) - y) ** 2))
    rss_u = 0.0
    for smp in ("RS", "T1"):
        d = df.filter(pl.col("sample") == smp)
        po, _ = optimize.curve_fit(_curve, d["dose"].to_numpy(), d["response"].to_numpy(),
                                   p0=[1, 9, 1, 3], maxfev=20000)
        rss_u += float(np.sum((_curve(d["dose"].to_numpy(), *po) - d["response"].to_numpy())
                              ** 2))
    f = ((rss_p - rss_u) / 3) / (rss_u / (x.size - 8))
    assert rp["parallel_f"] == pytest.approx(f, rel=1e-4)
    assert rp["parallel_f_p"] == pytest.approx(stats.f.sf(f, 3, x.size - 8), rel=1e-3)
    assert rp["parallel_equivalent"] is True


def test_fieller_interval_and_unbounded():
    df = _plate(seed=3)
    d = pl.from_arrow(analyze_potency(df, PotencyOptions(reference="RS")).rp).row(0, named=True)
    f = pl.from_arrow(analyze_potency(df, PotencyOptions(reference="RS", ci_method="fieller"))
                      .rp).row(0, named=True)
    assert f["rp"] == pytest.approx(d["rp"])
    assert f["ci_method"] == "fieller" and f["ci_bounded"] is True
    # with precise EC50s Fieller and the log-scale delta interval nearly agree
    assert f["rp_ci_low"] == pytest.approx(d["rp_ci_low"], rel=0.02)
    assert f["rp_ci_high"] == pytest.approx(d["rp_ci_high"], rel=0.02)
    # a badly determined test EC50 (doses all below it) makes Fieller unbounded
    from pmcore.cmc.potency import _fieller

    lo, hi, bounded = _fieller(3.0, 6.0, 0.1, 40.0, 0.0, 2.0)
    assert bounded is False and lo is None and hi is None


def test_non_parallel_fails_equivalence():
    df = _plate(hill_t=3.0, top_t=5.0, seed=4)
    rp = pl.from_arrow(analyze_potency(df, PotencyOptions(reference="RS")).rp).row(0, named=True)
    assert rp["parallel_equivalent"] is False
    assert rp["parallel_f_p"] < 1e-6
    assert rp["upper_ratio"] == pytest.approx(5.0 / 9.0, rel=0.05)


def test_spinach_pair_fails_similarity(shared_data):
    """drcData spinach curves 1 and 2: very different upper asymptotes."""
    df = pl.read_csv(shared_data / "cmc" / "pot_drc_spinach_bentazon_c1c2.csv",
                     infer_schema=False).rename({"group": "sample", "dose_umol": "dose"})
    rp = pl.from_arrow(analyze_potency(df, PotencyOptions(reference="curve1_ref")).rp)
    row = rp.row(0, named=True)
    assert row["parallel_equivalent"] is False
    assert row["parallel_f_p"] < 0.001
    assert row["upper_ratio_ci_high"] < 0.8


def test_drc_datasets_fit_against_scipy(shared_data):
    """S.alba (Christensen et al. 2003) and auxins (Streibig 1987): own 4PL fits equal
    scipy's least-squares optimum; zero-dose controls are used."""
    for name, ref, dose_col in (("pot_drc_S_alba.csv", "Glyphosate", "dose_g_per_ha"),
                                ("pot_drc_auxins_MCPA_tech_vs_comm.csv", "MCPA_tech", "dose")):
        df = pl.read_csv(shared_data / "cmc" / name, infer_schema=False).rename(
            {"group": "sample", dose_col: "dose"})
        res = analyze_potency(df, PotencyOptions(reference=ref))
        assert res.errors.num_rows == 0
        par = pl.from_arrow(res.params).filter(pl.col("fit") == "individual")
        for row in par.iter_rows(named=True):
            d = df.filter(pl.col("sample") == row["sample"])
            x = d["dose"].cast(float).to_numpy()
            y = d["response"].cast(float).to_numpy()
            p0 = [row["bottom"] * 1.05, row["top"] * 0.95, row["hill"] * 0.9, row["ec50"] * 1.1]
            popt, _ = optimize.curve_fit(_curve, x, y, p0=p0, maxfev=50000)
            rss_scipy = float(np.sum((_curve(x, *popt) - y) ** 2))
            assert row["rss"] <= rss_scipy * (1 + 1e-7)
            assert row["ec50"] == pytest.approx(popt[3], rel=1e-4)
        rp = pl.from_arrow(res.rp).row(0, named=True)
        assert 0 < rp["rp_ci_low"] < rp["rp"] < rp["rp_ci_high"]
    # S.alba: bentazone is ~2.3 times as potent as glyphosate (EC50 about 29 vs 62 g/ha)
    sa = pl.read_csv(shared_data / "cmc" / "pot_drc_S_alba.csv", infer_schema=False).rename(
        {"group": "sample", "dose_g_per_ha": "dose"})
    rp = pl.from_arrow(analyze_potency(sa, PotencyOptions(reference="Glyphosate")).rp)
    assert rp["rp"][0] == pytest.approx(2.35, abs=0.05)


def test_bad_samples_go_to_errors_and_rest_completes():
    good = _plate(seed=5).with_columns(pl.lit("P1").alias("plate"))
    few = pl.DataFrame({"sample": ["RS"] * 24 + ["T2"] * 3,
                        "dose": list(np.repeat([0.0, .1, .3, 1, 3, 10, 30, 100], 3)) + [1, 3, 10],
                        "response": list(_curve(np.repeat([0.0, .1, .3, 1, 3, 10, 30, 100], 3),
                                                1, 9, 1.2, 3) + np.tile([.1, -.1, 0], 8))
                        + [2, 3, 4]}).with_columns(pl.lit("P2").alias("plate"))
    flat_rng = np.random.default_rng(0)
    flat = _plate(seed=6).with_columns(
        pl.when(pl.col("sample") == "T1").then(pl.lit(5.0) + pl.Series(
            flat_rng.normal(0, 0.3, 48))).otherwise(pl.col("response")).alias("response"),
        pl.lit("P3").alias("plate"))
    noref = _plate(seed=7).filter(pl.col("sample") == "T1").with_columns(
        pl.lit("P4").alias("plate"))
    text = _plate(seed=8).with_columns(pl.lit("P5").alias("plate"),
                                       pl.col("response").cast(str))
    text = text.with_columns(pl.when(pl.int_range(pl.len()) == 30).then(pl.lit("n/a"))
                             .otherwise(pl.col("response")).alias("response"))
    df = pl.concat([good.with_columns(pl.col("response").cast(str)),
                    few.with_columns(pl.col("response").cast(str)),
                    flat.with_columns(pl.col("response").cast(str)),
                    noref.with_columns(pl.col("response").cast(str)), text], how="diagonal")
    res = analyze_potency(df, PotencyOptions(reference="RS"))
    rp = pl.from_arrow(res.rp)
    assert sorted(rp["plate"].to_list()) == ["P1"]
    reasons = {r["series"]: r["reason"] for r in res.errors.to_pylist()}
    assert any("too few doses" in v for k, v in reasons.items() if "plate=P2" in k)
    assert any("flat curve" in v for k, v in reasons.items() if "plate=P3" in k)
    assert any("reference sample 'RS' not found" in v for k, v in reasons.items()
               if "plate=P4" in k)
    assert any("non-numeric response 'n/a'" in v for k, v in reasons.items()
               if "plate=P5" in k)
    assert all(", ," not in k and "=," not in k for k in reasons)
    with pytest.raises(InputError, match="plate=P5, sample=T1: non-numeric response"):
        analyze_potency(df, PotencyOptions(reference="RS", strict=True))


def test_fit_single_decreasing_and_zero_dose():
    x = np.repeat([0.0, 0.5, 1, 2, 4, 8, 16, 32], 2)
    y = _curve(x, 10.0, 2.0, 2.0, 4.0) + np.tile([0.05, -0.05], 8)
    f = fit_single(x, y)
    assert f["A"] == pytest.approx(10.0, abs=0.1)
    assert f["D"] == pytest.approx(2.0, abs=0.1)
    assert math.exp(f["le"]) == pytest.approx(4.0, rel=0.02)
    assert math.exp(f["lh"]) == pytest.approx(2.0, rel=0.05)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bottom=st.floats(0, 50), span=st.floats(-500, 500).filter(lambda s: abs(s) > 50),
       hill=st.floats(0.5, 3.0), log_ec50=st.floats(-2.5, 2.5), seed=st.integers(0, 10_000))
def test_fit_reaches_scipy_optimum_from_truth(bottom, span, hill, log_ec50, seed):
    """From its own starting values the fit does at least as well as scipy started at
    the true parameters (no worse local optimum)."""
    rng = np.random.default_rng(seed)
    x = np.repeat([0.0, 0.01, 0.03, 0.1, 0.3, 1, 3, 10, 30, 100], 2)
    ec50 = math.exp(log_ec50)
    y = _curve(x, bottom, bottom + span, hill, ec50) + rng.normal(0, abs(span) * 0.03, x.size)
    # (scipy's finite-difference steps are relative: keep its start away from 0)
    popt, _ = optimize.curve_fit(_curve, x, y, p0=[bottom + 1.0, bottom + span, hill, ec50],
                                 maxfev=20000, xtol=1e-14, ftol=1e-14)
    rss_scipy = float(np.sum((_curve(x, *popt) - y) ** 2))
    try:
        f = fit_single(x, y)
    except FitFailure:
        # allowed only where the data carry no slope: the best curve is a step with at
        # most one dose level inside its 5-95% transition
        lo, hi = popt[3] * 19 ** (-1 / abs(popt[2])), popt[3] * 19 ** (1 / abs(popt[2]))
        assert np.sum((np.unique(x) > lo) & (np.unique(x) < hi)) <= 1
        return
    assert f["rss"] <= rss_scipy * (1 + 1e-6) + 1e-12
    assert math.exp(f["le"]) == pytest.approx(popt[3], rel=1e-3)
