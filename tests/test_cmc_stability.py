"""Stability engine (ICH Q1E): published worked examples, statsmodels, brute force."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import f as f_dist

from pmcore.cmc.stability import (
    StabilityOptions,
    analyze_stability,
    bound_crossing,
    extrapolation_limit,
    storage_category,
)
from pmcore.errors import InputError


def _load(shared_data, name, lots=None):
    df = pl.read_csv(shared_data / "cmc" / name, infer_schema=False)
    df = df.rename(dict(zip(df.columns, ["lot", "time", "value"])))
    if lots:
        df = df.filter(pl.col("lot").is_in(lots))
    return df


def _one(res, table="shelf_life"):
    tab = pl.from_arrow(getattr(res, table))
    assert tab.height == 1, res.errors
    return tab.row(0, named=True)


# ---- LeBlond, Griffith & Aubuchon (2011) J Valid Technol 17(3):47-68 ------------------
# Published ANCOVA F values and shelf lives (Tables V, VII, IX, XII, XIV); the
# separate-lines estimate with each lot's own error is the one JMP 12 reports
# (15.844877978 months, as quoted by the R package expirest's tests).

LEBLOND = [
    # lots, model, F lot:time, F lot, shelf life (own-error convention), pooled-error
    (["b2", "b5", "b7"], "common_line", 0.229, 0.436, 26.0, None),
    (["b3", "b4", "b5"], "common_slope", 0.183, 21.738, 23.4, None),
    (["b4", "b5", "b8"], "separate", 1.955, 72.124, 15.844877978, 15.6),
]


@pytest.mark.parametrize("lots,model,f_slopes,f_int,shelf,pooled", LEBLOND)
def test_leblond_potency(shared_data, lots, model, f_slopes, f_int, shelf, pooled):
    df = _load(shared_data, "stab_leblond2011_potency.csv", lots)
    res = analyze_stability(df, StabilityOptions(lower=95.0))
    row = _one(res)
    pool = _one(res, "poolability")
    assert row["model"] == model
    assert pool["f_slopes"] == pytest.approx(f_slopes, abs=5e-4)
    assert pool["f_intercepts"] == pytest.approx(f_int, abs=5e-4)
    if model == "separate":
        assert row["shelf_life_months"] == pytest.approx(shelf, abs=1e-6)
        assert pool["shelf_life_separate_pooled"] == pytest.approx(pooled, abs=0.05)
        assert row["limiting_lot"] == "b8"
        res_p = analyze_stability(df, StabilityOptions(lower=95.0, separate_error="pooled"))
        assert _one(res_p)["shelf_life_months"] == pytest.approx(pooled, abs=0.05)
        assert _one(res_p)["error_convention"] == "pooled"
    else:
        assert row["shelf_life_months"] == pytest.approx(shelf, abs=0.05)
    assert row["limiting_side"] == "lower"
    assert row["shelf_life_floor_months"] == math.floor(row["shelf_life_months"])


def test_leblond_expirest_digits(shared_data):
    """Digits published with R expirest (LeBlond data): common line and common slope."""
    df = _load(shared_data, "stab_leblond2011_potency.csv", ["b2", "b5", "b7"])
    res = analyze_stability(df, StabilityOptions(lower=95.0))
    assert _one(res)["shelf_life_months"] == pytest.approx(25.9957631369, abs=1e-6)
    assert _one(res)["slope"] == pytest.approx(-0.192993630573, rel=1e-10)
    df = _load(shared_data, "stab_leblond2011_potency.csv", ["b3", "b4", "b5"])
    res = analyze_stability(df, StabilityOptions(lower=95.0))
    assert _one(res)["shelf_life_months"] == pytest.approx(23.3972651235, abs=1e-5)
    icpts = sorted(pl.from_arrow(res.lots)["model_intercept"].to_list())
    assert icpts == pytest.approx(sorted([102.175653109, 104.255189423, 100.820021871]),
                                  rel=1e-10)


def test_leblond_related_substance_upper(shared_data):
    df = _load(shared_data, "stab_leblond2011_related.csv")
    row = _one(analyze_stability(df, StabilityOptions(upper=0.3)))
    assert row["model"] == "separate"
    assert row["limiting_side"] == "upper"
    assert row["limiting_lot"] == "b8"
    assert row["shelf_life_months"] == pytest.approx(15.844877978, abs=1e-6)


def test_leblond_moisture_two_sided(shared_data):
    df = _load(shared_data, "stab_leblond2011_moisture.csv")
    res = analyze_stability(df, StabilityOptions(lower=1.5, upper=3.5))
    row = _one(res)
    pool = _one(res, "poolability")
    assert row["model"] == "common_line"
    assert row["sides"] == "two-sided"
    assert pool["f_slopes"] == pytest.approx(0.748152729736, rel=1e-9)
    assert pool["f_intercepts"] == pytest.approx(0.353853883257, rel=1e-9)
    # LeBlond Table XIV: 45.35 months (upper limit); expirest 45.3460440833
    assert row["shelf_life_months"] == pytest.approx(45.346044, abs=1e-4)
    assert row["limiting_side"] == "upper"
    # room temperature, 24 months of data: up to 2X but not beyond X+12 -> 36
    assert row["shelf_life_proposed_months"] == 36
    assert "slope not significant" in row["warnings"]
    assert "extrapolated" in row["warnings"]
    # the lower-limit crossing alone (expirest: 50.7665191694)
    row_lo = _one(analyze_stability(df, StabilityOptions(lower=1.5, upper=1e9)))
    assert row_lo["shelf_life_months"] == pytest.approx(50.7665191694, abs=1e-4)


def test_jmp_stability_manual(shared_data):
    """JMP 12 Reliability and Survival Methods, Stability.jmp: slope p 0.8043, model
    different intercepts / common slope, earliest crossing 23.47505; other models
    29.98567 (common) and 23.11596 (different/different)."""
    df = _load(shared_data, "stab_jmp_stability.csv")
    res = analyze_stability(df, StabilityOptions(lower=95.0))
    row = _one(res)
    pool = _one(res, "poolability")
    assert row["p_slopes"] == pytest.approx(0.8043, abs=5e-5)
    assert row["p_intercepts"] < 1e-4
    assert row["model"] == "common_slope"
    assert row["shelf_life_months"] == pytest.approx(23.47505, abs=1e-5)
    assert row["limiting_lot"] == "2_12"
    assert pool["shelf_life_common_line"] == pytest.approx(29.98567, abs=1e-5)
    assert pool["shelf_life_separate_lot"] == pytest.approx(23.11596, abs=1e-5)
    assert pool["shelf_life_separate_pooled"] == pytest.approx(23.244186, abs=1e-5)
    assert pool["f_slopes"] == pytest.approx(0.329080900382, rel=1e-9)
    assert pool["f_intercepts"] == pytest.approx(19.8876404032, rel=1e-9)
    # the data hold one identical replicate row: kept, with a warning naming the row
    assert "duplicate" in row["warnings"] and "row 3" in row["warnings"]


# ---- statsmodels cross-check ----------------------------------------------------------

def _random_series(rng, n_lots, times, slope_sd=0.05, icpt_sd=1.0):
    rows = []
    for j in range(n_lots):
        a = 100 + rng.normal(0, icpt_sd)
        b = -0.25 + rng.normal(0, slope_sd)
        for t in times:
            for _ in range(rng.integers(1, 3)):
                rows.append((f"L{j}", float(t), a + b * t + rng.normal(0, 0.6)))
    return pl.DataFrame(rows, schema=["lot", "time", "value"], orient="row")


def test_ancova_matches_statsmodels():
    sm = pytest.importorskip("statsmodels.formula.api")
    anova_lm = pytest.importorskip("statsmodels.stats.anova").anova_lm
    rng = np.random.default_rng(7)
    for trial in range(6):
        df = _random_series(rng, 3 + trial % 3, [0, 3, 6, 9, 12, 18, 24],
                            slope_sd=0.02 + 0.05 * (trial % 2))
        pdf = df.with_columns(pl.col("time").cast(float), pl.col("value").cast(float)).to_pandas()
        full = sm.ols("value ~ time * C(lot)", pdf).fit()
        dics = sm.ols("value ~ time + C(lot)", pdf).fit()
        cics = sm.ols("value ~ time", pdf).fit()
        # sequential terms time, lot, lot:time; every F against the full model's error
        # (patsy puts categorical terms first, so compare the nested models instead)
        table = anova_lm(cics, dics, full)
        res = analyze_stability(df, StabilityOptions(lower=90.0))
        pool = _one(res, "poolability")
        assert pool["f_slopes"] == pytest.approx(table["F"].iloc[2], rel=1e-9)
        assert pool["p_slopes"] == pytest.approx(table["Pr(>F)"].iloc[2], rel=1e-8)
        assert pool["f_intercepts"] == pytest.approx(table["F"].iloc[1], rel=1e-9)
        # statsmodels refers this F to the middle model's df; R's anova() and JMP use
        # the full model's residual df, as ICH practice does
        p_int = f_dist.sf(table["F"].iloc[1], table["df_diff"].iloc[1], full.df_resid)
        assert pool["p_intercepts"] == pytest.approx(p_int, rel=1e-8, abs=1e-300)
        assert pool["rss_separate"] == pytest.approx(full.ssr, rel=1e-10)
        assert pool["rss_common_slope"] == pytest.approx(dics.ssr, rel=1e-10)
        assert pool["rss_common_line"] == pytest.approx(cics.ssr, rel=1e-10)
        lots = pl.from_arrow(res.lots).sort("lot")
        for rec in lots.iter_rows(named=True):
            own = sm.ols("value ~ time", pdf[pdf["lot"] == rec["lot"]]).fit()
            assert rec["slope"] == pytest.approx(own.params["time"], rel=1e-10)
            assert rec["intercept"] == pytest.approx(own.params["Intercept"], rel=1e-10)
            assert rec["slope_p"] == pytest.approx(own.pvalues["time"], rel=1e-8)


def _bound_by_statsmodels(model_fit, exog_fn, grid, alpha, side):
    pred = model_fit.get_prediction(exog_fn(grid)).summary_frame(alpha=2 * alpha)
    return pred["mean_ci_lower"].to_numpy() if side > 0 else pred["mean_ci_upper"].to_numpy()


def test_shelf_life_matches_statsmodels_bound():
    """The crossing equals the root of statsmodels' confidence bound of the mean."""
    sm = pytest.importorskip("statsmodels.formula.api")
    import pandas as pd
    from scipy.optimize import brentq

    rng = np.random.default_rng(3)
    for trial in range(4):
        df = _random_series(rng, 3, [0, 3, 6, 9, 12, 18, 24], slope_sd=0.001)
        pdf = df.with_columns(pl.col("time").cast(float),
                              pl.col("value").cast(float)).to_pandas()
        lower = 93.0
        res = analyze_stability(df, StabilityOptions(lower=lower))
        row = _one(res)
        model = row["model"]
        if model == "common_line":
            fit = sm.ols("value ~ time", pdf).fit()
            lots = [None]
        elif model == "common_slope":
            fit = sm.ols("value ~ time + C(lot)", pdf).fit()
            lots = sorted(pdf["lot"].unique())
        else:
            fit = None
            lots = sorted(pdf["lot"].unique())
        crossings = []
        for lot in lots:
            if model == "separate":
                f = sm.ols("value ~ time", pdf[pdf["lot"] == lot]).fit()
                lot_ = None
            else:
                f, lot_ = fit, lot

            def bound(t, f=f, lot_=lot_, lower=lower):
                ex = pd.DataFrame({"time": [t]} | ({"lot": [lot_]} if lot_ else {}))
                p = f.get_prediction(ex).summary_frame(alpha=0.10)
                return float(p["mean_ci_lower"].iloc[0]) - lower

            crossings.append(brentq(bound, 0.0, 400.0, xtol=1e-12))
        assert row["shelf_life_months"] == pytest.approx(min(crossings), abs=1e-7)


@settings(max_examples=150, deadline=None)
@given(m=st.floats(95, 105), b=st.floats(-1.0, 1.0), tbar=st.floats(0, 24),
       n=st.integers(3, 40), sxx=st.floats(10, 5000), s=st.floats(0.01, 5),
       q=st.floats(1.3, 3.0), side=st.sampled_from([1.0, -1.0]))
def test_bound_crossing_is_earliest_root(m, b, tbar, n, sxx, s, q, side):
    """Closed-form crossing agrees with a dense scan of the bound (brute force)."""
    limit = 90.0 if side > 0 else 110.0
    cross, outside = bound_crossing(m, b, tbar, n, sxx, s, q, limit, side, 0.0, 1000.0)
    grid = np.linspace(0, 1000, 200_001)
    bound = m + b * (grid - tbar) - side * q * s * np.sqrt(1 / n + (grid - tbar) ** 2 / sxx)
    inside = side * (bound - limit) >= 0
    if not inside[0]:
        assert outside and cross == 0.0
        return
    first_out = np.flatnonzero(~inside)
    if first_out.size == 0:
        assert not np.isfinite(cross) or cross >= 999.99
    else:
        t_brute = grid[first_out[0]]
        assert cross == pytest.approx(t_brute, abs=0.006)
        # and the bound at the crossing equals the limit
        bc = m + b * (cross - tbar) - side * q * s * np.sqrt(1 / n + (cross - tbar) ** 2 / sxx)
        assert bc == pytest.approx(limit, abs=1e-7 * (1 + abs(limit)))


# ---- options, extrapolation, transforms ----------------------------------------------

def test_extrapolation_rules():
    assert extrapolation_limit(24, "room", False, False)[0] == 36
    assert extrapolation_limit(6, "room", False, False)[0] == 12
    assert extrapolation_limit(24, "room", True, False)[0] == 30
    assert extrapolation_limit(12, "room", True, False)[0] == 18
    assert extrapolation_limit(24, "room", True, True)[0] == 24
    assert extrapolation_limit(24, "refrigerated", False, False)[0] == 30
    assert extrapolation_limit(24, "refrigerated", True, False)[0] == 24
    assert extrapolation_limit(24, "frozen", False, False)[0] == 24
    assert extrapolation_limit(24, "accelerated", False, False)[0] is None
    assert storage_category("5C")[0] == "refrigerated"
    assert storage_category("2-8C")[0] == "refrigerated"
    assert storage_category("-20C")[0] == "frozen"
    assert storage_category("25C/60%RH")[0] == "room"
    assert storage_category("40C/75%RH")[0] == "accelerated"
    assert storage_category("shelf") == ("room", True)


def _synthetic(times=(0, 3, 6, 9, 12), slopes=(-0.5, -0.5, -0.5), noise=0.3, seed=0,
               **cols):
    rng = np.random.default_rng(seed)
    rows = []
    for j, b in enumerate(slopes):
        for t in times:
            rows.append({"lot": f"L{j}", "time": str(t),
                         "value": str(100 + b * t + rng.normal(0, noise)), **cols})
    return pl.DataFrame(rows)


def test_proposed_capped_refrigerated():
    df = _synthetic(slopes=(-0.05, -0.05, -0.05), condition="5C")
    row = _one(analyze_stability(df, StabilityOptions(lower=90.0)))
    assert row["storage"] == "refrigerated"
    assert row["shelf_life_months"] > 18
    assert row["shelf_life_proposed_months"] == 18  # 1.5 * 12
    assert "1.5X" in row["extrapolation_rule"]


def test_no_crossing_reported_not_infinite():
    df = _synthetic(slopes=(0.0, 0.0, 0.0), noise=0.01)
    df = df.with_columns(pl.lit("100").alias("value"))
    df = df.with_columns((pl.col("value").cast(float) + pl.col("time").cast(float) * 0.01
                          + pl.Series([0.02, -0.01, 0.0, 0.01, -0.02] * 3)).cast(str))
    res = analyze_stability(df, StabilityOptions(lower=90.0, search_max=60))
    row = _one(res)
    assert row["crosses"] is False
    assert row["shelf_life_months"] is None and row["shelf_life_floor_months"] is None
    lots = pl.from_arrow(res.lots)
    assert lots["crosses"].to_list() == [False] * 3
    assert lots["crossing_months"].null_count() == 3
    assert row["shelf_life_proposed_months"] == 24  # 2X with X = 12
    assert "does not meet the limit" in row["warnings"]


def test_log_transform_first_order():
    times = [0, 3, 6, 9, 12, 18, 24]
    rows = []
    rng = np.random.default_rng(1)
    for j in range(3):
        for t in times:
            rows.append({"lot": f"L{j}", "time": t,
                         "value": 100 * math.exp(-0.01 * t + rng.normal(0, 0.004))})
    df = pl.DataFrame(rows)
    row = _one(analyze_stability(df, StabilityOptions(lower=85.0, transform="log")))
    # the mean line reaches ln(85) near ln(100/85)/0.01 = 16.3 months; bound earlier
    assert 12 < row["shelf_life_months"] < 16.3
    assert row["lower_limit"] == pytest.approx(85.0)
    assert row["slope"] == pytest.approx(-0.01, abs=0.001)


def test_time_units_and_suffixes():
    base = _synthetic(times=(0, 3, 6, 9, 12))
    days = base.with_columns((pl.col("time").cast(float) * 365.25 / 12).cast(str)
                             .alias("time"), pl.lit("days").alias("time_unit"))
    a = _one(analyze_stability(base, StabilityOptions(lower=95.0)))
    b = _one(analyze_stability(days, StabilityOptions(lower=95.0)))
    assert b["shelf_life_months"] == pytest.approx(a["shelf_life_months"], rel=1e-9)
    suffixed = base.with_columns((pl.col("time") + pl.lit("m")).alias("time"))
    c = _one(analyze_stability(suffixed, StabilityOptions(lower=95.0)))
    assert c["shelf_life_months"] == pytest.approx(a["shelf_life_months"], rel=1e-12)


def test_platform_leverage_borrows_slope():
    rows = []
    rng = np.random.default_rng(5)
    for v, nlots, times in (("NEW", 2, (0, 3, 6)), ("OLD1", 3, (0, 3, 6, 9, 12, 18, 24)),
                            ("OLD2", 3, (0, 3, 6, 9, 12, 18, 24))):
        for j in range(nlots):
            a = 100 + rng.normal(0, 0.5)
            for t in times:
                rows.append({"variant_id": v, "platform_group": "P1", "lot": f"{v}-{j}",
                             "time": t, "value": a - 0.3 * t + rng.normal(0, 0.3)})
    df = pl.DataFrame(rows)
    own = analyze_stability(df, StabilityOptions(lower=92.0))
    lev = analyze_stability(df, StabilityOptions(lower=92.0, platform_leverage=True))
    o = pl.from_arrow(own.shelf_life).filter(pl.col("variant_id") == "NEW").row(0, named=True)
    lv = pl.from_arrow(lev.shelf_life).filter(pl.col("variant_id") == "NEW").row(0, named=True)
    assert lv["borrowed"].startswith("common slope")
    assert "OLD1" in lv["borrowed"] and "OLD2" in lv["borrowed"]
    assert lv["model"] == "common_slope"
    assert lv["limiting_lot"].startswith("NEW")
    assert lv["slope"] == pytest.approx(-0.3, abs=0.03)
    lots = pl.from_arrow(lev.lots).filter(pl.col("variant_id") == "NEW")
    assert lots.filter(pl.col("borrowed")).height == 6
    assert lots.filter(~pl.col("borrowed")).height == 2
    assert lots.filter(pl.col("borrowed"))["crossing_months"].null_count() == 6
    # borrowing a well-determined slope tightens the bound of the short series
    assert lv["shelf_life_months"] > o["shelf_life_months"]


# ---- bad input ------------------------------------------------------------------------

def _bad_batch():
    good = _synthetic(variant_id="GOOD")
    rows = []
    for t, v in ((0, "100"), (3, "99"), (6, "abc"), (9, "98")):
        rows.append({"lot": "L0", "time": str(t), "value": v, "variant_id": "NONNUM"})
    for t in (0, 3, 6):
        rows.append({"lot": "L0", "time": str(t), "value": "99", "variant_id": "NEG"})
    rows.append({"lot": "L1", "time": "-3", "value": "99", "variant_id": "NEG"})
    rows += [{"lot": "L0", "time": "0", "value": "100", "variant_id": "SINGLE"},
             {"lot": "L0", "time": "0", "value": "101", "variant_id": "SINGLE"}]
    rows += [{"lot": "L0", "time": "", "value": "100", "variant_id": "NOTIME"}]
    rows += [{"lot": "L0", "time": t, "value": "100", "variant_id": "MIXED"}
             for t in ("0d", "3m", "6m")]
    rows += [{"lot": "L0", "time": str(t), "value": v, "variant_id": "T0"}
             for t, v in ((0, "94"), (3, "96"), (6, "95.5"))]
    return pl.concat([good, pl.DataFrame(rows)], how="diagonal")


def test_bad_series_go_to_errors_table():
    res = analyze_stability(_bad_batch(), StabilityOptions(lower=95.0))
    ok = pl.from_arrow(res.shelf_life)
    assert ok["variant_id"].to_list() == ["GOOD"]
    err = {r["variant_id"]: r for r in res.errors.to_pylist()}
    assert set(err) == {"NONNUM", "NEG", "SINGLE", "NOTIME", "MIXED", "T0"}
    assert "non-numeric value 'abc'" in err["NONNUM"]["reason"]
    assert err["NONNUM"]["row"] == 18  # 15 good rows before it
    assert "negative time" in err["NEG"]["reason"]
    assert "single time point" in err["SINGLE"]["reason"]
    assert "missing time" in err["NOTIME"]["reason"]
    assert "mixed time units" in err["MIXED"]["reason"]
    assert "already outside" in err["T0"]["reason"]
    assert all("variant_id=" in r["series"] for r in err.values())


def test_strict_raises_first_bad_series():
    with pytest.raises(InputError, match="NONNUM.*non-numeric value"):
        analyze_stability(_bad_batch(), StabilityOptions(lower=95.0, strict=True))


def test_duplicates_policy():
    df = _synthetic()
    dup = pl.concat([df, df.slice(4, 1)])
    warn = _one(analyze_stability(dup, StabilityOptions(lower=95.0)))
    assert "duplicate row(s) kept" in warn["warnings"]
    dropped = _one(analyze_stability(dup, StabilityOptions(lower=95.0, duplicates="drop")))
    clean = _one(analyze_stability(df, StabilityOptions(lower=95.0)))
    assert dropped["shelf_life_months"] == pytest.approx(clean["shelf_life_months"])
    err = analyze_stability(dup, StabilityOptions(lower=95.0, duplicates="error"))
    assert err.shelf_life.num_rows == 0
    assert "duplicate row" in err.errors.to_pylist()[0]["reason"]
    assert err.errors.to_pylist()[0]["row"] == 16


def test_no_limit_and_missing_column():
    res = analyze_stability(_synthetic(), StabilityOptions())
    assert "no acceptance limit" in res.errors.to_pylist()[0]["reason"]
    with pytest.raises(InputError, match="value"):
        analyze_stability(pl.DataFrame({"lot": ["a"], "time": ["0"]}), StabilityOptions())


def test_fewer_than_three_lots_warning_and_single_lot():
    row = _one(analyze_stability(_synthetic(slopes=(-0.5,)), StabilityOptions(lower=95.0)))
    assert row["model"] == "common_line" and row["p_slopes"] is None
    assert "fewer than 3 lots (1)" in row["warnings"]


@pytest.mark.parametrize("lower,upper,expected,side", [
    (0.5, None, 115.468684445, "lower"),   # one-sided lower
    (None, 4.5, 96.3055219561, "upper"),   # one-sided upper
    (0.5, 4.5, 82.6037890116, "upper"),    # two-sided: upper side first (lower 95.465)
])
def test_moisture_expirest_crossings(shared_data, lower, upper, expected, side):
    """Crossing times published with R expirest for LeBlond's moisture data (exp3)."""
    df = _load(shared_data, "stab_leblond2011_moisture.csv")
    res = analyze_stability(df, StabilityOptions(lower=lower, upper=upper))
    row = _one(res)
    assert row["model"] == "common_line"
    assert row["shelf_life_months"] == pytest.approx(expected, abs=1e-5)
    assert row["limiting_side"] == side


def test_log_transform_matches_statsmodels_on_log_scale():
    """With --log the bound is statsmodels' bound of ln(value) against ln(limit)."""
    sm = pytest.importorskip("statsmodels.formula.api")
    import pandas as pd
    from scipy.optimize import brentq

    rng = np.random.default_rng(11)
    t = np.repeat([0, 3, 6, 9, 12, 18, 24], 2).astype(float)
    v = 100 * np.exp(-0.008 * t + rng.normal(0, 0.005, t.size))
    df = pl.DataFrame({"lot": ["A"] * t.size, "time": t, "value": v})
    row = _one(analyze_stability(df, StabilityOptions(lower=90.0, transform="log")))
    fit = sm.ols("ly ~ time", pd.DataFrame({"time": t, "ly": np.log(v)})).fit()

    def bound(x):
        p = fit.get_prediction(pd.DataFrame({"time": [x]})).summary_frame(alpha=0.10)
        return float(p["mean_ci_lower"].iloc[0]) - math.log(90.0)

    assert row["shelf_life_months"] == pytest.approx(brentq(bound, 0, 300, xtol=1e-12),
                                                     abs=1e-7)
    assert row["transform"] == "log"


def test_accelerated_change_and_storage_override():
    df = _synthetic(slopes=(-0.05, -0.05, -0.05), condition="25C/60%RH")
    base = _one(analyze_stability(df, StabilityOptions(lower=90.0)))
    acc = _one(analyze_stability(df, StabilityOptions(lower=90.0, accelerated_change=True)))
    both = _one(analyze_stability(df, StabilityOptions(lower=90.0, accelerated_change=True,
                                                       intermediate_change=True)))
    frozen = _one(analyze_stability(df, StabilityOptions(lower=90.0, storage="frozen")))
    assert (base["shelf_life_proposed_months"], acc["shelf_life_proposed_months"],
            both["shelf_life_proposed_months"], frozen["shelf_life_proposed_months"]) == (
        24, 18, 12, 12)
    assert frozen["storage"] == "frozen" and "no extrapolation" in frozen["extrapolation_rule"]


def test_spec_file_and_limit_precedence():
    df = pl.concat([_synthetic(variant_id="V1"), _synthetic(variant_id="V2", seed=1)])
    df = df.with_columns(pl.when(pl.col("variant_id") == "V1").then(pl.lit("93"))
                         .otherwise(pl.lit(None)).alias("lower_limit"))
    spec = pl.DataFrame({"variant_id": ["V1", "V2"], "lower_limit": ["80", "94"]})
    res = analyze_stability(df, StabilityOptions(lower=50.0, spec=spec))
    lim = dict(zip(*pl.from_arrow(res.shelf_life).select("variant_id", "lower_limit")
                   .to_dict(as_series=False).values()))
    assert lim == {"V1": 93.0, "V2": 94.0}  # row column, then spec file, then the option


def test_two_observation_lot_uses_pooled_error():
    df = _synthetic(slopes=(-0.5, -0.1, -0.5))
    df = df.filter(~((pl.col("lot") == "L1") & pl.col("time").is_in(["3", "6", "9"])))
    res = analyze_stability(df, StabilityOptions(lower=95.0))
    row = _one(res)
    assert row["model"] == "separate"
    assert "pooled error" in row["warnings"]
    assert row["shelf_life_months"] is not None


def test_batch_equals_one_by_one_and_row_order_free():
    """The vectorised batch gives each series exactly its own single-series result."""
    rng = np.random.default_rng(21)
    frames = []
    for i in range(12):
        df = _random_series(rng, 2 + i % 4, [0, 3, 6, 9, 12, 18, 24][: 4 + i % 4],
                            slope_sd=0.01 + 0.04 * (i % 3))
        frames.append(df.with_columns(pl.lit(f"V{i:02d}").alias("variant_id"),
                                      pl.col("time").cast(str), pl.col("value").cast(str)))
    batch = pl.concat(frames).sample(fraction=1.0, shuffle=True, seed=3)
    opts = StabilityOptions(lower=94.0, upper=106.0)
    together = pl.from_arrow(analyze_stability(batch, opts).shelf_life)
    assert together.height == 12
    for i, df in enumerate(frames):
        alone = _one(analyze_stability(df, opts))
        row = together.row(i, named=True)
        assert row["variant_id"] == f"V{i:02d}"
        for key in ("model", "limiting_lot", "limiting_side", "shelf_life_floor_months"):
            assert row[key] == alone[key]
        for key in ("p_slopes", "p_intercepts", "shelf_life_months", "slope"):
            assert row[key] == pytest.approx(alone[key], rel=1e-9, nan_ok=True)
