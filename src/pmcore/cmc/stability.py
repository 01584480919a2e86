"""Stability shelf-life estimation following ICH Q1E, batched over many series.

A *series* is one (variant, condition, attribute) combination with its lots. For every
series the engine

1. fits each lot by ordinary least squares (value on time in months);
2. tests poolability by ANCOVA at ``alpha_pool`` (0.25): equality of slopes (lot:time)
   against the full model's error, then equality of intercepts (lot entered after time,
   sequential sums of squares, full-model error), and selects the common line, the
   common slope (different intercepts) or separate lines;
3. finds the earliest time at which the one-sided (two-sided when both limits apply)
   confidence bound of the mean line meets an acceptance limit, exactly, by solving the
   quadratic that the bound's crossing satisfies;
4. applies the extrapolation limits of ICH Q1E Appendix A to propose a shelf life.

Everything is computed from per-lot sufficient statistics with ``numpy.bincount``, so
thousands of series cost a few array passes, not a Python loop of model fits.

Examples
--------
>>> import polars as pl
>>> from pmcore.cmc.stability import StabilityOptions, analyze_stability
>>> rows = [(lot, t, 100.0 - 0.2 * t + e)
...         for lot, e0 in (("A", 0.0), ("B", 0.3), ("C", -0.2))
...         for t, e in zip((0, 3, 6, 9, 12, 18, 24), (0.1, -0.2, 0.15, 0.0, -0.1, 0.2, e0))]
>>> df = pl.DataFrame(rows, schema=["lot", "time", "value"], orient="row")
>>> res = analyze_stability(df, StabilityOptions(lower=95.0))
>>> row = res.shelf_life.to_pylist()[0]
>>> row["model"]
'common_line'
>>> round(row["shelf_life_months"], 1)
24.8
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass, field

import numpy as np
import polars as pl
import pyarrow as pa
from scipy import stats

from pmcore.errors import InputError

from . import schemas
from .io import canonical_rows

log = logging.getLogger("pmcore.cmc")

#: Months per unit; a month is 365.25/12 days.
DAYS_PER_MONTH = 365.25 / 12.0
TIME_UNITS = {
    "d": 1.0 / DAYS_PER_MONTH, "day": 1.0 / DAYS_PER_MONTH, "days": 1.0 / DAYS_PER_MONTH,
    "w": 7.0 / DAYS_PER_MONTH, "wk": 7.0 / DAYS_PER_MONTH, "wks": 7.0 / DAYS_PER_MONTH,
    "week": 7.0 / DAYS_PER_MONTH, "weeks": 7.0 / DAYS_PER_MONTH,
    "m": 1.0, "mo": 1.0, "mon": 1.0, "month": 1.0, "months": 1.0,
    "y": 12.0, "yr": 12.0, "yrs": 12.0, "year": 12.0, "years": 12.0,
}
MODELS = ("common_line", "common_slope", "separate")
KEYS = ("variant_id", "condition", "attribute")
REQUIRED = ("lot", "time", "value")
OPTIONAL = KEYS + ("time_unit", "lower_limit", "upper_limit", "platform_group")


@dataclass
class StabilityOptions:
    """Options of :func:`analyze_stability` (defaults follow ICH Q1E practice).

    Attributes
    ----------
    lower, upper : float, optional
        Acceptance limits used where the data and the specification file give none.
    alpha_pool : float
        Significance level of the poolability tests (ICH Q1E: 0.25).
    confidence : float
        Confidence of the bound (0.95: one-sided 95%, or two-sided 95% with two limits).
    separate_error : {'lot', 'pooled'}
        Error term of separate lines: each lot's own fit (JMP, R expirest) or the
        pooled error of the full ANCOVA model (LeBlond 2011).
    transform : {'none', 'log'}
        ``log`` fits ln(value) (first-order kinetics); limits are transformed alike.
    time_unit : str
        Unit of bare numeric times when no ``time_unit`` column or suffix says.
    search_max : float
        End of the crossing search range, months; a bound that does not meet a limit
        by then is reported as not crossing.
    storage : {'auto', 'room', 'refrigerated', 'frozen'}
        Storage category for the Appendix A extrapolation rules (``auto``: from the
        temperature in the condition label).
    accelerated_change, intermediate_change : bool
        Significant change was seen at the accelerated (intermediate) condition.
    platform_leverage : bool
        Borrow a common slope from lots of other variants of the same platform group.
    duplicates : {'warn', 'error', 'drop'}
        Identical rows (same series, lot, time and value): kept as replicates with a
        warning, rejected, or dropped.
    strict : bool
        The first bad series raises :class:`~pmcore.errors.InputError`.
    """

    lower: float | None = None
    upper: float | None = None
    alpha_pool: float = 0.25
    confidence: float = 0.95
    separate_error: str = "lot"
    transform: str = "none"
    time_unit: str = "months"
    search_max: float = 500.0
    storage: str = "auto"
    accelerated_change: bool = False
    intermediate_change: bool = False
    platform_leverage: bool = False
    duplicates: str = "warn"
    strict: bool = False
    spec: pl.DataFrame | None = None
    path: str | None = None

    def check(self) -> None:
        if not 0.0 < self.alpha_pool < 1.0:
            raise InputError(f"alpha_pool must be in (0, 1), got {self.alpha_pool}")
        if not 0.5 < self.confidence < 1.0:
            raise InputError(f"confidence must be in (0.5, 1), got {self.confidence}")
        if self.separate_error not in ("lot", "pooled"):
            raise InputError(f"separate_error must be 'lot' or 'pooled', "
                             f"got {self.separate_error!r}")
        if self.transform not in ("none", "log"):
            raise InputError(f"transform must be 'none' or 'log', got {self.transform!r}")
        if self.time_unit.lower() not in TIME_UNITS:
            raise InputError(f"unknown time unit {self.time_unit!r}")
        if self.storage not in ("auto", "room", "refrigerated", "frozen"):
            raise InputError(f"unknown storage {self.storage!r}")
        if self.duplicates not in ("warn", "error", "drop"):
            raise InputError(f"duplicates must be warn, error or drop, got "
                             f"{self.duplicates!r}")
        if not self.search_max > 0:
            raise InputError("search_max must be positive")
        if (self.lower is not None and self.upper is not None
                and not self.lower < self.upper):
            raise InputError(f"lower limit {self.lower} is not below upper limit "
                             f"{self.upper}")


@dataclass
class StabilityResult:
    """Tables of one stability analysis (Arrow tables built on :mod:`.schemas`)."""

    shelf_life: pa.Table
    poolability: pa.Table
    lots: pa.Table
    errors: pa.Table
    data: pl.DataFrame = field(repr=False)

    def tables(self) -> dict:
        return {
            "shelf_life": (self.shelf_life, schemas.STABILITY_SHELF_LIFE_SCHEMA),
            "poolability": (self.poolability, schemas.STABILITY_POOLABILITY_SCHEMA),
            "lots": (self.lots, schemas.STABILITY_LOTS_SCHEMA),
            "errors": (self.errors, schemas.ERRORS_SCHEMA),
        }


# --------------------------------------------------------------------------- numerics

def bound_crossing(m, b, tbar, n, sxx, s, q, limit, side, t0=0.0, tmax=np.inf):
    """Earliest time in ``[t0, tmax]`` at which a confidence bound meets ``limit``.

    The mean line is ``m + b (t - tbar)``, its standard error
    ``s * sqrt(1/n + (t - tbar)^2 / sxx)``, and the bound is the line minus (lower
    limit) or plus (upper limit) ``q`` standard errors. The lower bound is concave in
    ``t`` (the upper convex), so it meets the limit at most twice; squaring
    ``d + beta u = k sqrt(1/n + u^2/sxx)`` gives a quadratic whose admissible roots
    are those crossings, solved in closed form.

    Parameters are broadcastable arrays; ``side`` is +1 for a lower limit and -1 for
    an upper limit.

    Returns
    -------
    cross : ndarray
        Crossing time; ``t0`` when the bound is already outside the limit at ``t0``;
        ``inf`` when there is no crossing in the range.
    outside_at_start : ndarray of bool
    """
    m, b, tbar, n, sxx, s, q, limit, side = np.broadcast_arrays(
        *(np.asarray(a, dtype=float) for a in (m, b, tbar, n, sxx, s, q, limit, side)))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        d = side * (m - limit)
        beta = side * b
        k = q * s
        u0 = t0 - tbar
        g0 = d + beta * u0 - k * np.sqrt(1.0 / n + u0 * u0 / sxx)
        a2 = beta * beta - k * k / sxx
        b1 = 2.0 * d * beta
        c0 = d * d - k * k / n
        disc = b1 * b1 - 4.0 * a2 * c0
        sq = np.sqrt(np.where(disc >= 0, disc, np.nan))
        qq = -0.5 * (b1 + np.copysign(sq, b1))
        r1 = qq / a2
        r2 = c0 / qq
        lin = np.abs(a2) <= 1e-14 * (beta * beta + k * k / sxx)
        r1 = np.where(lin, np.where(b1 != 0, -c0 / b1, np.nan), r1)
        best = np.full(d.shape, np.inf)
        for r in (r1, r2):
            g_lhs = d + beta * r
            scale = np.abs(d) + np.abs(beta * r) + k / np.sqrt(n)
            ok = np.isfinite(r) & (g_lhs >= -1e-9 * scale) & (r > u0)
            best = np.where(ok & (r < best), r, best)
        # polish with Newton steps on g itself (the squared form can lose digits)
        for _ in range(2):
            h = np.sqrt(1.0 / n + best * best / sxx)
            g = d + beta * best - k * h
            dg = beta - k * best / (sxx * h)
            step = np.where(np.isfinite(best) & (dg != 0), g / dg, 0.0)
            step = np.where(np.abs(step) < 1e-3 * (1.0 + np.abs(best)), step, 0.0)
            best = best - step
        cross = best + tbar
        outside = g0 < 0
        cross = np.where(outside, t0, cross)
        cross = np.where(cross > tmax, np.inf, cross)
        cross = np.where(np.isnan(g0), np.nan, cross)
    return cross, outside


def _seg_sum(idx, w, size):
    return np.bincount(idx, weights=w, minlength=size)


def fit_series(sidx, lidx, lot_series, t, y, n_series, *, alpha_pool=0.25):
    """Per-lot OLS and the three ANCOVA models for every series at once.

    Parameters
    ----------
    sidx : int array (rows)
        Series index of each observation (0..n_series-1).
    lidx : int array (rows)
        Global lot index of each observation (0..n_lots-1).
    lot_series : int array (lots)
        Series index of each lot.
    t, y : float arrays (rows)
        Time (months) and response.

    Returns
    -------
    dict of arrays: per lot (``lot_*``) and per series (everything else).
    """
    G = lot_series.size
    S = n_series
    n_g = np.bincount(lidx, minlength=G).astype(float)
    tbar_g = _seg_sum(lidx, t, G) / n_g
    ybar_g = _seg_sum(lidx, y, G) / n_g
    dt = t - tbar_g[lidx]
    dy = y - ybar_g[lidx]
    sxx_g = _seg_sum(lidx, dt * dt, G)
    sxy_g = _seg_sum(lidx, dt * dy, G)
    with np.errstate(divide="ignore", invalid="ignore"):
        b_g = sxy_g / sxx_g
    res = dy - b_g[lidx] * dt
    rss_g = _seg_sum(lidx, res * res, G)
    df_g = n_g - 2

    k_s = np.bincount(lot_series, minlength=S).astype(float)
    n_s = _seg_sum(lot_series, n_g, S)
    rss_full = _seg_sum(lot_series, rss_g, S)
    df_full = n_s - 2 * k_s

    sxx_w = _seg_sum(lot_series, sxx_g, S)
    sxy_w = _seg_sum(lot_series, sxy_g, S)
    with np.errstate(divide="ignore", invalid="ignore"):
        b_c = sxy_w / sxx_w
    res = dy - b_c[sidx] * dt
    rss_cs = _seg_sum(sidx, res * res, S)
    df_cs = n_s - k_s - 1

    tbar_s = _seg_sum(sidx, t, S) / n_s
    ybar_s = _seg_sum(sidx, y, S) / n_s
    dts = t - tbar_s[sidx]
    dys = y - ybar_s[sidx]
    sxx_s = _seg_sum(sidx, dts * dts, S)
    sxy_s = _seg_sum(sidx, dts * dys, S)
    with np.errstate(divide="ignore", invalid="ignore"):
        b_s = sxy_s / sxx_s
    res = dys - b_s[sidx] * dts
    rss_cl = _seg_sum(sidx, res * res, S)
    df_cl = n_s - 2

    with np.errstate(divide="ignore", invalid="ignore"):
        mse_full = rss_full / df_full
        num_sl = np.maximum(rss_cs - rss_full, 0.0) / (k_s - 1)
        num_int = np.maximum(rss_cl - rss_cs, 0.0) / (k_s - 1)
        f_sl = num_sl / mse_full
        f_int = num_int / mse_full
    multi = (k_s > 1) & (df_full > 0)
    p_sl = np.full(S, np.nan)
    p_int = np.full(S, np.nan)
    p_sl[multi] = stats.f.sf(f_sl[multi], k_s[multi] - 1, df_full[multi])
    p_int[multi] = stats.f.sf(f_int[multi], k_s[multi] - 1, df_full[multi])
    # an exact fit (zero full-model error): a difference is then certain, none is none
    zero = multi & (mse_full <= 0)
    p_sl[zero] = np.where(num_sl[zero] > 0, 0.0, 1.0)
    p_int[zero] = np.where(num_int[zero] > 0, 0.0, 1.0)
    f_sl = np.where(multi, f_sl, np.nan)
    f_int = np.where(multi, f_int, np.nan)

    model = np.zeros(S, dtype=np.int8)  # 0 common line, 1 common slope, 2 separate
    model[multi & (p_sl < alpha_pool)] = 2
    model[multi & (p_sl >= alpha_pool) & (p_int < alpha_pool)] = 1

    return {
        "lot_n": n_g, "lot_tbar": tbar_g, "lot_ybar": ybar_g, "lot_sxx": sxx_g, "lot_slope": b_g,
        "lot_rss": rss_g, "lot_df": df_g,
        "k": k_s, "n": n_s, "rss_full": rss_full, "df_full": df_full, "slope_cs": b_c, "sxx_w": sxx_w,
        "rss_cs": rss_cs, "df_cs": df_cs, "tbar": tbar_s, "ybar": ybar_s, "sxx": sxx_s, "slope_cl": b_s,
        "rss_cl": rss_cl, "df_cl": df_cl, "f_slopes": f_sl, "p_slopes": p_sl, "f_intercepts": f_int,
        "p_intercepts": p_int, "model": model,
    }


def _tq(conf, df, two_sided):
    df = np.asarray(df, dtype=float)
    level = np.where(two_sided, 1.0 - (1.0 - conf) / 2.0, conf)
    out = np.full(df.shape, np.nan)
    ok = df > 0
    out[ok] = stats.t.ppf(np.broadcast_to(level, df.shape)[ok], df[ok])
    return out


def _line_crossing(m, b, tbar, n, sxx, s2, df, lower, upper, conf, tmax):
    """Earliest crossing of either limit; returns (time, side code 1 lower/-1 upper,
    outside-at-start flag). Missing limits are NaN."""
    two = np.isfinite(lower) & np.isfinite(upper)
    q = _tq(conf, df, two)
    s = np.sqrt(s2)
    best = np.full(np.shape(m), np.inf)
    side_out = np.zeros(np.shape(m), dtype=np.int8)
    outside = np.zeros(np.shape(m), dtype=bool)
    for sign, lim in ((1.0, lower), (-1.0, upper)):
        has = np.isfinite(lim)
        c, o = bound_crossing(m, b, tbar, n, sxx, s, q, np.where(has, lim, 0.0), sign,
                              0.0, tmax)
        c = np.where(has, c, np.inf)
        c = np.where(np.isnan(c), np.inf, c)
        take = c < best
        best = np.where(take, c, best)
        side_out = np.where(take, np.int8(sign), side_out)
        outside |= has & o
    return best, side_out, outside


def _series_min(values, owner, size):
    out = np.full(size, np.inf)
    np.minimum.at(out, owner, values)
    return out


def _first_argmin(values, owner, size):
    """Index of the first element attaining the per-owner minimum (or -1)."""
    mins = _series_min(values, owner, size)
    hit = np.flatnonzero(np.isfinite(values) & (values == mins[owner]))
    out = np.full(size, -1, dtype=np.int64)
    # reverse so that the first index of each owner is written last
    out[owner[hit[::-1]]] = hit[::-1]
    return mins, out


def crossings(fit, lot_series, lower, upper, conf, tmax, own_lot=None):
    """Crossing times of every model for every series (and lot)."""
    S = fit["k"].size
    lo_g, up_g = lower[lot_series], upper[lot_series]
    if own_lot is None:
        own_lot = np.ones(lot_series.size, dtype=bool)
    out = {}
    # common line: one line per series
    with np.errstate(divide="ignore", invalid="ignore"):
        s2_cl = fit["rss_cl"] / fit["df_cl"]
    c, sd, o = _line_crossing(fit["ybar"], fit["slope_cl"], fit["tbar"], fit["n"],
                              fit["sxx"], s2_cl, fit["df_cl"], lower, upper, conf, tmax)
    out["common_line"] = (c, sd, o)
    # common slope: lot intercepts, shared slope, dics error
    with np.errstate(divide="ignore", invalid="ignore"):
        s2_cs = fit["rss_cs"] / fit["df_cs"]
    c, sd, o = _line_crossing(fit["lot_ybar"], fit["slope_cs"][lot_series], fit["lot_tbar"],
                              fit["lot_n"], fit["sxx_w"][lot_series], s2_cs[lot_series],
                              fit["df_cs"][lot_series], lo_g, up_g, conf, tmax)
    out["common_slope"] = (c, sd, o)
    # separate lines, pooled (full-model) error
    with np.errstate(divide="ignore", invalid="ignore"):
        s2_f = fit["rss_full"] / fit["df_full"]
        s2_lot = fit["lot_rss"] / fit["lot_df"]
    c, sd, o = _line_crossing(fit["lot_ybar"], fit["lot_slope"], fit["lot_tbar"], fit["lot_n"],
                              fit["lot_sxx"], s2_f[lot_series], fit["df_full"][lot_series],
                              lo_g, up_g, conf, tmax)
    out["separate_pooled"] = (c, sd, o)
    # separate lines, each lot's own error (pooled error where a lot has no df)
    own_ok = fit["lot_df"] > 0
    s2_sep = np.where(own_ok, s2_lot, s2_f[lot_series])
    df_sep = np.where(own_ok, fit["lot_df"], fit["df_full"][lot_series])
    c, sd, o = _line_crossing(fit["lot_ybar"], fit["lot_slope"], fit["lot_tbar"], fit["lot_n"],
                              fit["lot_sxx"], s2_sep, df_sep, lo_g, up_g, conf, tmax)
    out["separate_lot"] = (c, sd, o)
    out["lot_own_df_missing"] = ~own_ok
    mins = {"common_line": out["common_line"][0]}
    for name in ("common_slope", "separate_pooled", "separate_lot"):
        vals = np.where(own_lot, out[name][0], np.inf)
        mins[name] = _series_min(vals, lot_series, S)
    out["series_min"] = mins
    return out


# ------------------------------------------------------------------ extrapolation rules

_TEMP = re.compile(r"(-?\d+(?:\.\d+)?)\s*(?:(?:-|to|\.\.)\s*(-?\d+(?:\.\d+)?))?\s*°?\s*[cC]\b")


def storage_category(condition: str, override: str = "auto") -> tuple[str, bool]:
    """Storage category from a condition label; returns (category, assumed)."""
    if override != "auto":
        return override, False
    m = _TEMP.search(condition or "")
    if not m:
        return "room", True
    temp = float(m.group(2) if m.group(2) is not None else m.group(1))
    if temp <= -10:
        return "frozen", False
    if temp <= 8:
        return "refrigerated", False
    if temp <= 30:
        return "room", False
    return "accelerated", False


def extrapolation_limit(x: float, storage: str, accelerated_change: bool,
                        intermediate_change: bool) -> tuple[float | None, str]:
    """ICH Q1E Appendix A limit on the proposed shelf life, given X months of data.

    Statistical analysis of the long-term data is always performed here, which selects
    the corresponding branches of the decision tree.
    """
    if storage == "room":
        if not accelerated_change:
            return min(2 * x, x + 12), ("room temperature, no significant change at "
                                        "accelerated: up to 2X, not exceeding X+12 months")
        if not intermediate_change:
            return min(1.5 * x, x + 6), ("room temperature, significant change at "
                                         "accelerated but not at intermediate: up to 1.5X, "
                                         "not exceeding X+6 months")
        return x, ("room temperature, significant change at accelerated and "
                   "intermediate: no extrapolation")
    if storage == "refrigerated":
        if not accelerated_change:
            return min(1.5 * x, x + 6), ("refrigerated, no significant change at "
                                         "accelerated: up to 1.5X, not exceeding X+6 months")
        return x, "refrigerated, significant change at accelerated: no extrapolation"
    if storage == "frozen":
        return x, "frozen: based on long-term data, no extrapolation"
    return None, "accelerated condition: not a long-term condition, no proposal"


# ------------------------------------------------------------------ input preparation

_TIME_RE = r"^([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([A-Za-z]*)$"


class _Errors:
    """Collects per-series errors (first problem of each series)."""

    def __init__(self, analysis, strict, path):
        self.analysis, self.strict, self.path = analysis, strict, path
        self.rows = []
        self.bad = set()

    def add(self, sk, label, variant, reason, row=None, line=None):
        if sk in self.bad:
            return
        if self.strict:
            raise InputError(f"series {label}: {reason}", path=self.path,
                             line=line if line is not None else None,
                             record=None if line is not None or row is None else f"row {row}")
        self.bad.add(sk)
        self.rows.append({"analysis": self.analysis, "series": label, "variant_id": variant,
                          "row": row, "line": line, "reason": reason})

    def add_frame(self, frame: pl.DataFrame, reason_col: str):
        """Add the first bad row of each series in ``frame`` (sorted by row)."""
        if frame.height == 0:
            return
        first = frame.sort("_row").unique("_sk", keep="first", maintain_order=True)
        for rec in first.iter_rows(named=True):
            where = f"row {rec['_row']}" + (f" (line {rec['_line']})" if rec["_line"] else "")
            self.add(rec["_sk"], rec["_label"], rec["variant_id"],
                     f"{rec[reason_col]} at {where}", rec["_row"], rec["_line"])

    def table(self) -> pa.Table:
        cols = {name: [r[name] for r in self.rows] for name in schemas.ERRORS_SCHEMA.names}
        return pa.Table.from_pydict(cols, schema=schemas.ERRORS_SCHEMA)


def _spec_limits(df: pl.DataFrame, spec: pl.DataFrame | None) -> pl.DataFrame:
    """Join a specification table (keys present in it, lower_limit/upper_limit)."""
    if spec is None:
        return df
    keys = [k for k in KEYS if k in spec.columns]
    cols = [c for c in ("lower_limit", "upper_limit") if c in spec.columns]
    if not cols:
        raise InputError("specification file needs a lower_limit or upper_limit column")
    spec = spec.select(keys + cols).with_columns(
        [pl.col(k).fill_null("") for k in keys]
        + [pl.col(c).cast(pl.Float64, strict=False).alias(f"_spec_{c}") for c in cols]
    ).drop(cols)
    if keys:
        dup = spec.group_by(keys).len().filter(pl.col("len") > 1)
        if dup.height:
            raise InputError(f"specification file lists {dict(dup.row(0, named=True))} "
                             "more than once")
        return df.join(spec, on=keys, how="left")
    if spec.height != 1:
        raise InputError("a specification file without key columns must have one row")
    return df.join(spec, how="cross")


def prepare(df: pl.DataFrame, opts: StabilityOptions, errors: _Errors):
    """Validate and convert rows; bad series go to ``errors``. Returns a clean frame."""
    for k in KEYS + ("platform_group",):
        if k not in df.columns:
            df = df.with_columns(pl.lit("").alias(k))
        else:
            df = df.with_columns(pl.col(k).fill_null(""))
    present = [k for k in KEYS]
    df = df.with_columns(
        pl.concat_str([pl.col(k) for k in present], separator="\x1f").alias("_sk"),
        pl.concat_str([pl.when(pl.col(k) != "").then(pl.lit(f"{k}=") + pl.col(k))
                       for k in present], separator=", ", ignore_nulls=True).alias("_label"),
    )
    df = df.with_columns(pl.when(pl.col("_label") == "").then(pl.lit("all"))
                         .otherwise(pl.col("_label")).alias("_label"))

    # time: number with optional unit suffix
    tm = pl.col("time").str.extract_groups(_TIME_RE)
    df = df.with_columns(tm.struct.field("1").cast(pl.Float64, strict=False).alias("_t"),
                         tm.struct.field("2").str.to_lowercase().alias("_tsuffix"),
                         pl.col("value").cast(pl.Float64, strict=False).alias("_v"))
    has_unit_col = "time_unit" in df.columns
    default_factor = TIME_UNITS[opts.time_unit.lower()]
    unit_map = pl.DataFrame({"_u": list(TIME_UNITS), "_f": list(TIME_UNITS.values())})
    unit_src = (pl.col("time_unit").str.to_lowercase() if has_unit_col
                else pl.col("_tsuffix"))
    df = df.with_columns(unit_src.fill_null("").alias("_u"))
    df = df.join(unit_map, on="_u", how="left")
    df = df.with_columns(
        pl.when(pl.col("_u") == "").then(pl.lit(default_factor)).otherwise(pl.col("_f"))
        .alias("_f"))
    for lim in ("lower_limit", "upper_limit"):
        if lim in df.columns:
            df = df.with_columns(pl.col(lim).cast(pl.Float64, strict=False).alias(f"_{lim}"))
        else:
            df = df.with_columns(pl.lit(None, dtype=pl.Float64).alias(f"_{lim}"))

    value_missing = pl.col("value").is_null() | (pl.col("value") == "")
    reason = (
        pl.when(pl.col("lot").is_null() | (pl.col("lot") == "")).then(pl.lit("missing lot"))
        .when(pl.col("time").is_null() | (pl.col("time") == "")).then(pl.lit("missing time"))
        .when(pl.col("_t").is_null()).then(pl.format("non-numeric time '{}'", pl.col("time")))
        .when(pl.col("_t") < 0).then(pl.format("negative time {}", pl.col("time")))
        .when(pl.col("_f").is_null()).then(pl.format("unknown time unit '{}'", pl.col("_u")))
        .when(value_missing).then(pl.lit(None))
        .when(pl.col("_v").is_null() | ~pl.col("_v").is_finite())
        .then(pl.format("non-numeric value '{}'", pl.col("value")))
    )
    for lim in ("lower_limit", "upper_limit"):
        if lim in df.columns:
            reason = reason.when(pl.col(lim).is_not_null() & (pl.col(lim) != "")
                                 & pl.col(f"_{lim}").is_null()).then(
                pl.format(f"non-numeric {lim} '{{}}'", pl.col(lim)))
    if opts.transform == "log":
        reason = reason.when(pl.col("_v") <= 0).then(
            pl.format("value {} is not positive (log transform)", pl.col("value")))
    df = df.with_columns(reason.otherwise(pl.lit(None)).alias("_reason"))
    errors.add_frame(df.filter(pl.col("_reason").is_not_null()), "_reason")

    warn_rows: dict[str, list[str]] = {}

    def warn(sk, text):
        warn_rows.setdefault(sk, []).append(text)

    blanks = df.filter(value_missing & pl.col("_reason").is_null())
    if blanks.height:
        agg = blanks.group_by("_sk").agg(pl.len(), pl.col("_row").min())
        for sk, count, row in agg.iter_rows():
            warn(sk, f"{count} row(s) without a value ignored (first at row {row})")
    df = df.filter(~value_missing)

    # mixed units without a unit column (suffixes differ inside one series)
    if not has_unit_col:
        mixed = (df.filter(pl.col("_reason").is_null())
                 .group_by("_sk").agg(pl.col("_u").n_unique().alias("nu"),
                                      pl.col("_u").first().alias("u0"))
                 .filter(pl.col("nu") > 1))
        if mixed.height:
            bad = df.join(mixed, on="_sk").filter(pl.col("_u") != pl.col("u0"))
            bad = bad.with_columns(pl.format(
                "mixed time units ('{}' and '{}') without a time_unit column",
                pl.col("u0"), pl.col("_u")).alias("_r2"))
            errors.add_frame(bad, "_r2")

    df = df.with_columns((pl.col("_t") * pl.col("_f")).alias("_tm"))
    df = _spec_limits(df, opts.spec)
    lo_expr = pl.col("_lower_limit")
    up_expr = pl.col("_upper_limit")
    if "_spec_lower_limit" in df.columns:
        lo_expr = lo_expr.fill_null(pl.col("_spec_lower_limit"))
    if "_spec_upper_limit" in df.columns:
        up_expr = up_expr.fill_null(pl.col("_spec_upper_limit"))
    if opts.lower is not None:
        lo_expr = lo_expr.fill_null(opts.lower)
    if opts.upper is not None:
        up_expr = up_expr.fill_null(opts.upper)
    df = df.with_columns(lo_expr.alias("_lo"), up_expr.alias("_up"))

    df = df.filter(~pl.col("_sk").is_in(list(errors.bad)))

    # limits constant within a series
    lim = df.group_by("_sk").agg(
        pl.col("_lo").n_unique().alias("nlo"), pl.col("_up").n_unique().alias("nup"))
    var = lim.filter((pl.col("nlo") > 1) | (pl.col("nup") > 1))
    if var.height:
        bad = df.join(var, on="_sk").with_columns(
            pl.lit("acceptance limits differ between rows of the series").alias("_r3"))
        bad = bad.filter(
            (pl.col("_lo") != pl.col("_lo").first().over("_sk"))
            | (pl.col("_up") != pl.col("_up").first().over("_sk"))
            | pl.col("_lo").is_null() | pl.col("_up").is_null())
        errors.add_frame(bad, "_r3")
    nolim = df.filter(pl.col("_lo").is_null() & pl.col("_up").is_null()).with_columns(
        pl.lit("no acceptance limit (give --lower/--upper, limit columns or a "
               "specification file)").alias("_r4"))
    errors.add_frame(nolim, "_r4")
    if opts.transform == "log":
        badlim = df.filter((pl.col("_lo") <= 0) | (pl.col("_up") <= 0)).with_columns(
            pl.lit("acceptance limit not positive (log transform)").alias("_r"))
        errors.add_frame(badlim, "_r")
    order = df.filter(pl.col("_lo") >= pl.col("_up")).with_columns(
        pl.lit("lower limit is not below the upper limit").alias("_r"))
    errors.add_frame(order, "_r")
    df = df.filter(~pl.col("_sk").is_in(list(errors.bad)))

    # duplicates: identical (series, lot, time, value) rows
    dup = df.filter(pl.len().over(["_sk", "lot", "_tm", "_v"]) > 1)
    if dup.height:
        later = dup.filter(pl.col("_row") != pl.col("_row").min().over(["_sk", "lot", "_tm",
                                                                         "_v"]))
        if opts.duplicates == "error" or opts.strict:
            errors.add_frame(later.with_columns(
                pl.format("duplicate row (lot {}, time {}, value {})", pl.col("lot"),
                          pl.col("time"), pl.col("value")).alias("_r")), "_r")
        elif opts.duplicates == "drop":
            df = df.filter(~pl.col("_row").is_in(later["_row"].implode()))
            for sk, count in later.group_by("_sk").len().iter_rows():
                warn(sk, f"{count} duplicate row(s) dropped")
        else:
            agg = later.group_by("_sk").agg(pl.len(), pl.col("_row").min(),
                                            pl.col("_label").first())
            for sk, count, row, label in agg.iter_rows():
                warn(sk, f"{count} duplicate row(s) kept as replicates (first at row {row})")
                log.warning("series %s: %d duplicate row(s) kept as replicates (first at "
                            "row %d); --duplicates error rejects them", label, count, row)
        df = df.filter(~pl.col("_sk").is_in(list(errors.bad)))

    # structure: each lot needs two distinct times
    lots = df.group_by(["_sk", "lot"]).agg(pl.col("_tm").n_unique().alias("nt"),
                                           pl.col("_row").min().alias("r0"))
    single = lots.filter(pl.col("nt") < 2)
    if single.height:
        bad = df.join(single.select("_sk", "lot"), on=["_sk", "lot"]).with_columns(
            pl.format("lot {} has a single time point", pl.col("lot")).alias("_r"))
        errors.add_frame(bad, "_r")
    df = df.filter(~pl.col("_sk").is_in(list(errors.bad)))

    # limit already violated by the data at time 0
    t0 = df.filter(pl.col("_tm") == 0)
    viol = t0.filter((pl.col("_v") < pl.col("_lo")) | (pl.col("_v") > pl.col("_up")))
    if viol.height:
        viol = viol.with_columns(
            pl.when(pl.col("_v") < pl.col("_lo"))
            .then(pl.format("value {} at time 0 (lot {}) already outside the acceptance "
                            "limits: below the lower limit {}", pl.col("value"),
                            pl.col("lot"), pl.col("_lo")))
            .otherwise(pl.format("value {} at time 0 (lot {}) already outside the "
                                 "acceptance limits: above the upper limit {}",
                                 pl.col("value"), pl.col("lot"), pl.col("_up")))
            .alias("_r"))
        errors.add_frame(viol, "_r")
    df = df.filter(~pl.col("_sk").is_in(list(errors.bad)))
    return df, warn_rows


# --------------------------------------------------------------------------- analysis

def load_stability(path, columns: dict | None = None, sheet=None) -> pl.DataFrame:
    """Read a stability table and map its columns to canonical names."""
    from .io import read_table, resolve_columns

    df = read_table(path, sheet=sheet)
    return resolve_columns(df, columns or {}, REQUIRED, OPTIONAL, path=str(path))


def _encode(df: pl.DataFrame):
    """Series and lot indices (sorted by key) of a clean frame."""
    df = df.with_columns((pl.col("_sk").rank("dense") - 1).cast(pl.Int64).alias("_sidx"))
    df = df.with_columns(
        (pl.concat_str([pl.col("_sk"), pl.col("lot")], separator="\x1e").rank("dense") - 1)
        .cast(pl.Int64).alias("_lidx"))
    return df


def _analyze_arrays(df: pl.DataFrame, opts: StabilityOptions, own_col: str | None = None):
    """Run the vectorised engine on an encoded frame; returns fit dict and extras."""
    sidx = df["_sidx"].to_numpy()
    lidx = df["_lidx"].to_numpy()
    S = int(sidx.max()) + 1 if sidx.size else 0
    G = int(lidx.max()) + 1 if lidx.size else 0
    lot_series = np.zeros(G, dtype=np.int64)
    lot_series[lidx] = sidx
    t = df["_tm"].to_numpy().astype(float)
    v = df["_v"].to_numpy().astype(float)
    y = np.log(v) if opts.transform == "log" else v
    lo_row = df["_lo"].fill_null(np.nan).to_numpy().astype(float)
    up_row = df["_up"].fill_null(np.nan).to_numpy().astype(float)
    lower = np.full(S, np.nan)
    upper = np.full(S, np.nan)
    lower[sidx] = lo_row
    upper[sidx] = up_row
    if opts.transform == "log":
        with np.errstate(divide="ignore", invalid="ignore"):
            lower, upper = np.log(lower), np.log(upper)
    own_lot = None
    if own_col is not None:
        own_lot = np.zeros(G, dtype=bool)
        own_lot[lidx] = df[own_col].to_numpy()
    fit = fit_series(sidx, lidx, lot_series, t, y, S, alpha_pool=opts.alpha_pool)
    cr = crossings(fit, lot_series, lower, upper, opts.confidence, opts.search_max, own_lot)
    tmax_g = np.full(G, -np.inf)
    np.maximum.at(tmax_g, lidx, t)
    ntimes = (df.group_by("_lidx").agg(pl.col("_tm").n_unique()).sort("_lidx")["_tm"]
              .to_numpy())
    return {"fit": fit, "cr": cr, "lot_series": lot_series, "lower": lower, "upper": upper, "S": S, "G": G,
                "lot_tmax": tmax_g, "lot_ntimes": ntimes, "own_lot": own_lot}


def _platform(df: pl.DataFrame, opts: StabilityOptions):
    """Extended series (own lots + related variants' lots) for platform leverage."""
    key = ["platform_group", "condition", "attribute"]
    base = df.filter(pl.col("platform_group") != "")
    if base.height == 0:
        return None
    per_var = base.group_by(key + ["variant_id"]).len()
    multi = per_var.group_by(key).agg(pl.col("variant_id").n_unique().alias("nv")).filter(
        pl.col("nv") > 1)
    if multi.height == 0:
        return None
    base = base.join(multi.select(key), on=key)
    targets = base.select(key + ["variant_id", "_sk"]).unique()
    ext = targets.rename({"variant_id": "_target_variant", "_sk": "_target_sk"}).join(
        base, on=key)
    ext = ext.with_columns(
        (pl.col("variant_id") == pl.col("_target_variant")).alias("_own"),
        pl.col("_target_sk").alias("_sk"),
        pl.concat_str([pl.col("variant_id"), pl.col("lot")], separator="/").alias("lot"),
    )
    return ext


def analyze_stability(df: pl.DataFrame, opts: StabilityOptions | None = None
                      ) -> StabilityResult:
    """Shelf life of every (variant, condition, attribute) series of a long table.

    Parameters
    ----------
    df : polars.DataFrame
        Canonical columns ``lot``, ``time``, ``value`` and any of ``variant_id``,
        ``condition``, ``attribute``, ``time_unit``, ``lower_limit``, ``upper_limit``,
        ``platform_group`` (text or numbers; see :func:`load_stability`).
    opts : StabilityOptions

    Returns
    -------
    StabilityResult
    """
    opts = opts or StabilityOptions()
    opts.check()
    df = canonical_rows(df, REQUIRED, opts.path)
    errors = _Errors("stability", opts.strict, opts.path)
    clean, warn_rows = prepare(df, opts, errors)
    if clean.height == 0:
        return _empty_result(errors, clean)
    clean = _encode(clean)
    run = _analyze_arrays(clean, opts)
    fit = run["fit"]

    # degrees of freedom needed for a bound
    no_df = fit["df_full"] < 1
    series_keys = clean.group_by("_sidx").agg(
        pl.col("_sk").first(), pl.col("_label").first(), pl.col("variant_id").first(),
        pl.col("condition").first(), pl.col("attribute").first(),
        pl.col("platform_group").first(), pl.col("_row").min()).sort("_sidx")
    for i in np.flatnonzero(no_df):
        rec = series_keys.row(int(i), named=True)
        errors.add(rec["_sk"], rec["_label"], rec["variant_id"],
                   f"no residual degrees of freedom ({int(fit['n'][i])} observations, "
                   f"{int(fit['k'][i])} lots): add time points or replicates",
                   rec["_row"], None)

    platform = _platform_results(clean, opts) if opts.platform_leverage else {}
    return _build_result(clean, run, series_keys, no_df, warn_rows, platform, errors, opts)


def _platform_results(clean: pl.DataFrame, opts: StabilityOptions) -> dict:
    """Platform leverage: per target series, the common-slope fit over related lots."""
    ext = _platform(clean, opts)
    if ext is None:
        return {}
    ext = _encode(ext.drop("_sidx", "_lidx"))
    run = _analyze_arrays(ext, opts, own_col="_own")
    keys = ext.group_by("_sidx").agg(
        pl.col("_sk").first(),
        pl.col("variant_id").filter(~pl.col("_own")).unique().sort().alias("donors"),
        pl.col("lot").filter(~pl.col("_own")).n_unique().alias("n_donor_lots"),
    ).sort("_sidx")
    lots = ext.group_by("_lidx").agg(pl.col("lot").first(), pl.col("_own").first()).sort(
        "_lidx")
    names = lots["lot"].to_list()
    out = {}
    for i, rec in enumerate(keys.iter_rows(named=True)):
        out[rec["_sk"]] = {"index": i, "donors": rec["donors"], "n_donor_lots": rec["n_donor_lots"],
                               "run": run, "lots": lots, "names": names}
    return out


def _fmt_p(p):
    return "nan" if p is None or not np.isfinite(p) else f"{p:.3g}"


def _select_by_model(model, common_line, common_slope, separate):
    return np.where(model == 1, common_slope, np.where(model == 2, separate, common_line))


def _str(x):
    """Text column from an object array (None as null)."""
    return pl.Series(np.asarray(x, dtype=object).tolist(), dtype=pl.Utf8)


def _col(x):
    """Float column with NaN/inf as nulls."""
    s = pl.Series(np.asarray(x, dtype=float))
    return s.set(~s.is_finite(), None) if s.len() else s


def _build_result(clean, run, series_keys, no_df, warn_rows, platform, errors, opts):
    """Assemble the shelf-life, poolability and lots tables from the array results.

    Everything is array-valued; only series using platform leverage (and the rows of
    the lots they borrow) are handled one by one.
    """
    f, cr, S = run["fit"], run["cr"], run["S"]
    lot_series = run["lot_series"]
    model = f["model"].astype(np.int8).copy()
    lot_names = np.array(clean.group_by("_lidx").agg(pl.col("lot").first())
                         .sort("_lidx")["lot"].to_list(), dtype=object)
    sk = series_keys["_sk"].to_numpy()
    keep = ~no_df & ~np.isin(sk, list(errors.bad))

    sep_key = "separate_lot" if opts.separate_error == "lot" else "separate_pooled"
    lm = model[lot_series]
    lot_cross = _select_by_model(lm, cr["common_line"][0][lot_series], cr["common_slope"][0],
                                 cr[sep_key][0])
    lot_side = _select_by_model(lm, cr["common_line"][1][lot_series], cr["common_slope"][1],
                                cr[sep_key][1]).astype(np.int8)
    lot_outside = _select_by_model(lm, cr["common_line"][2][lot_series],
                                   cr["common_slope"][2], cr[sep_key][2])
    cross, argl = _first_argmin(lot_cross, lot_series, S)
    m_slope = _select_by_model(lm, f["slope_cl"][lot_series], f["slope_cs"][lot_series],
                               f["lot_slope"])
    m_center_y = np.where(lm == 0, f["ybar"][lot_series], f["lot_ybar"])
    m_center_t = np.where(lm == 0, f["tbar"][lot_series], f["lot_tbar"])
    m_icpt = m_center_y - m_slope * m_center_t

    with np.errstate(divide="ignore", invalid="ignore"):
        lot_sigma = np.sqrt(f["lot_rss"] / f["lot_df"])
        lot_se = lot_sigma / np.sqrt(f["lot_sxx"])
        lot_p = np.where(f["lot_df"] > 0, 2 * stats.t.sf(np.abs(f["lot_slope"] / lot_se),
                                                         np.maximum(f["lot_df"], 1)), np.nan)
        lot_p = np.where((f["lot_df"] > 0) & (lot_se == 0), 0.0, lot_p)
        se_cl = np.sqrt(f["rss_cl"] / f["df_cl"] / f["sxx"])
        se_cs = np.sqrt(f["rss_cs"] / f["df_cs"] / f["sxx_w"])
        p_cl = 2 * stats.t.sf(np.abs(f["slope_cl"] / se_cl), np.maximum(f["df_cl"], 1))
        p_cs = 2 * stats.t.sf(np.abs(f["slope_cs"] / se_cs), np.maximum(f["df_cs"], 1))
        se_pool = np.sqrt(f["rss_full"] / f["df_full"])[lot_series] / np.sqrt(f["lot_sxx"])
        p_pool = 2 * stats.t.sf(np.abs(f["lot_slope"] / se_pool),
                                np.maximum(f["df_full"], 1)[lot_series])
    p_sep = lot_p if opts.separate_error == "lot" else p_pool

    # the limiting line: the first crossing lot, or (no crossing) the steepest lot
    _, steep = _first_argmin(-np.abs(f["lot_slope"]), lot_series, S)
    ref_lot = np.where(argl >= 0, argl, steep)
    slope = _select_by_model(model, f["slope_cl"], f["slope_cs"], f["lot_slope"][ref_lot])
    slope_p = _select_by_model(model, p_cl, p_cs, p_sep[ref_lot])
    crosses = np.isfinite(cross)
    side = np.where(crosses & (argl >= 0), lot_side[np.maximum(argl, 0)], 0)
    outside0 = np.bincount(lot_series, weights=lot_outside.astype(float), minlength=S) > 0
    limiting = np.where(crosses & (model != 0) & (argl >= 0),
                        lot_names[np.maximum(argl, 0)], None)
    own_df_missing = np.bincount(lot_series, weights=cr["lot_own_df_missing"].astype(float),
                                 minlength=S) > 0
    borrowed = np.full(S, "", dtype=object)
    plat_warn = np.full(S, None, dtype=object)

    # lot-level model columns (platform leverage overrides some below)
    lot_model_icpt = m_icpt.copy()
    lot_model_slope = m_slope.copy()
    lot_model_cross = lot_cross.copy()
    lot_model_side = lot_side.copy()
    extra_lots = []
    pos_of = {key: i for i, key in enumerate(sk)}
    for key, plat in platform.items():
        s = pos_of.get(key)
        if s is None or not keep[s]:
            continue
        pr, pi = plat["run"], plat["index"]
        pf = pr["fit"]
        p_sl = pf["p_slopes"][pi]
        donors = ", ".join(plat["donors"])
        if not (np.isfinite(p_sl) and p_sl >= opts.alpha_pool):
            plat_warn[s] = (f"platform slopes not poolable with {donors} "
                            f"(p={_fmt_p(p_sl)}): own lots only")
            continue
        mine = np.flatnonzero(pr["lot_series"] == pi)
        own = mine[pr["own_lot"][mine]]
        c_own = pr["cr"]["common_slope"][0][own]
        sd_own = pr["cr"]["common_slope"][1][own]
        j = int(np.argmin(c_own))
        b = float(pf["slope_cs"][pi])
        se = math.sqrt(pf["rss_cs"][pi] / pf["df_cs"][pi] / pf["sxx_w"][pi])
        model[s] = 1
        cross[s] = c_own[j]
        crosses[s] = np.isfinite(c_own[j])
        side[s] = sd_own[j] if crosses[s] else 0
        limiting[s] = plat["names"][own[j]].split("/", 1)[1] if crosses[s] else None
        outside0[s] = bool(np.any(pr["cr"]["common_slope"][2][own]))
        slope[s] = b
        slope_p[s] = 2 * stats.t.sf(abs(b / se), pf["df_cs"][pi]) if se > 0 else 0.0
        borrowed[s] = (f"common slope {b:.6g}/month from {plat['n_donor_lots']} lot(s) of "
                       f"{donors} (platform slope test p={_fmt_p(p_sl)})")
        ext_index = {plat["names"][g].split("/", 1)[1]: g for g in own}
        for g in np.flatnonzero(lot_series == s):
            gg = ext_index[lot_names[g]]
            lot_model_slope[g] = b
            lot_model_icpt[g] = pf["lot_ybar"][gg] - b * pf["lot_tbar"][gg]
            lot_model_cross[g] = pr["cr"]["common_slope"][0][gg]
            lot_model_side[g] = pr["cr"]["common_slope"][1][gg]
        extra_lots.append(_borrowed_lot_frame(series_keys.row(s, named=True), plat))

    # ICH Q1E Appendix A
    conds = series_keys["condition"].to_list()
    storage_of = {c: storage_category(c, opts.storage) for c in set(conds)}
    storage = np.array([storage_of[c][0] for c in conds], dtype=object)
    assumed = np.array([storage_of[c][1] for c in conds], dtype=bool)
    xmonths = np.full(S, -np.inf)
    np.maximum.at(xmonths, lot_series, run["lot_tmax"])
    cap = np.full(S, np.nan)
    rule = np.empty(S, dtype=object)
    for kind in set(storage.tolist()):
        sel = storage == kind
        _, text = extrapolation_limit(1.0, kind, opts.accelerated_change,
                                      opts.intermediate_change)
        cap[sel] = [extrapolation_limit(x, kind, opts.accelerated_change,
                                        opts.intermediate_change)[0] or np.nan
                    for x in xmonths[sel]] if kind != "accelerated" else np.nan
        rule[sel] = text
    rule = np.where(assumed, rule + " (storage assumed room temperature: condition has no "
                    "temperature)", rule)
    est = np.where(crosses, cross, np.inf)
    floor = np.where(crosses, np.floor(np.where(crosses, cross, 0) + 1e-9), np.nan)
    proposed = np.where(np.isfinite(cap), np.floor(np.minimum(est, cap) + 1e-9), np.nan)

    lower, upper = run["lower"], run["upper"]
    back = np.exp if opts.transform == "log" else (lambda a: a)
    two_sided = np.isfinite(lower) & np.isfinite(upper)
    k = f["k"].astype(np.int64)

    # warnings, vectorised with Polars string expressions
    extra = [("; ".join(warn_rows[key]) or None) if key in warn_rows else None for key in sk]
    wf = pl.DataFrame({
        "prep": _str(extra), "plat": _str(plat_warn),
        "k": k, "outside0": outside0, "crosses": crosses, "own_df": own_df_missing & (
            model == 2) & (opts.separate_error == "lot"),
        "p": _col(slope_p), "x": xmonths, "proposed": _col(proposed),
    })
    p_txt = pl.col("p").round_sig_figs(3).cast(pl.Utf8)
    warnings = wf.select(pl.concat_str([
        pl.col("prep"),
        pl.col("plat"),
        pl.when(pl.col("k") < 3).then(pl.format("fewer than 3 lots ({})", pl.col("k"))),
        pl.when(pl.col("outside0")).then(pl.lit("confidence bound already outside a limit "
                                                "at time 0")),
        pl.when(~pl.col("crosses")).then(pl.lit(
            f"bound does not meet the limit within 0-{opts.search_max:g} months")),
        pl.when(pl.col("own_df")).then(pl.lit("lot(s) with 2 observations use the pooled "
                                              "error")),
        pl.when(pl.col("p") >= 0.05).then(pl.format("slope not significant (p={})", p_txt)),
        pl.when(pl.col("proposed") > pl.col("x")).then(pl.format(
            "extrapolated beyond the {} months of data to {} months",
            pl.col("x").round_sig_figs(6), pl.col("proposed").cast(pl.Int64))),
    ], separator="; ", ignore_nulls=True).alias("w"))["w"]

    keys = series_keys.select("variant_id", "condition", "attribute")
    shelf = keys.with_columns(
        _str(np.array(MODELS, dtype=object)[model]).alias("model"),
        p_slopes=_col(f["p_slopes"]), p_intercepts=_col(f["p_intercepts"]),
        error_convention=_str(np.where(model == 2, opts.separate_error, None)),
        transform=pl.lit(opts.transform),
        lower_limit=_col(back(lower)), upper_limit=_col(back(upper)),
        sides=_str(np.where(two_sided, "two-sided", "one-sided")),
        confidence=pl.lit(float(opts.confidence)),
        n_lots=pl.Series(k), n_obs=pl.Series(f["n"].astype(np.int64)),
        long_term_months=pl.Series(xmonths), slope=_col(slope), slope_p=_col(slope_p),
        crosses=pl.Series(crosses), shelf_life_months=_col(cross),
        shelf_life_floor_months=_col(floor).cast(pl.Int64),
        search_max_months=pl.lit(float(opts.search_max)),
        storage=_str(storage),
        extrapolation_limit_months=_col(cap), extrapolation_rule=_str(rule),
        shelf_life_proposed_months=_col(proposed).cast(pl.Int64),
        limiting_lot=_str(limiting),
        limiting_side=_str(np.select([side == 1, side == -1], ["lower", "upper"], None)),
        platform_group=series_keys["platform_group"],
        borrowed=_str(borrowed), warnings=warnings,
    ).filter(pl.Series(keep))

    sm = cr["series_min"]
    pool = keys.with_columns(
        n_lots=pl.Series(k), n_obs=pl.Series(f["n"].astype(np.int64)),
        rss_separate=pl.Series(f["rss_full"]), df_separate=pl.Series(f["df_full"].astype(
            np.int64)),
        rss_common_slope=pl.Series(f["rss_cs"]), df_common_slope=pl.Series(
            f["df_cs"].astype(np.int64)),
        rss_common_line=pl.Series(f["rss_cl"]), df_common_line=pl.Series(
            f["df_cl"].astype(np.int64)),
        f_slopes=_col(f["f_slopes"]), p_slopes=_col(f["p_slopes"]),
        f_intercepts=_col(f["f_intercepts"]), p_intercepts=_col(f["p_intercepts"]),
        alpha_pool=pl.lit(float(opts.alpha_pool)),
        model=_str(np.array(MODELS, dtype=object)[f["model"]]),
        shelf_life_common_line=_col(sm["common_line"]),
        shelf_life_common_slope=_col(np.where(k > 1, sm["common_slope"], np.nan)),
        shelf_life_separate_pooled=_col(sm["separate_pooled"]),
        shelf_life_separate_lot=_col(sm["separate_lot"]),
    ).filter(pl.Series(keep))

    lkeys = keys[lot_series]
    lots = lkeys.with_columns(
        lot=_str(lot_names), n_obs=pl.Series(f["lot_n"].astype(np.int64)),
        n_times=pl.Series(np.asarray(run["lot_ntimes"], dtype=np.int64)),
        time_max_months=pl.Series(run["lot_tmax"]),
        intercept=pl.Series(f["lot_ybar"] - f["lot_slope"] * f["lot_tbar"]),
        slope=pl.Series(f["lot_slope"]), slope_se=_col(lot_se), slope_p=_col(lot_p),
        rss=pl.Series(f["lot_rss"]), df=pl.Series(f["lot_df"].astype(np.int64)),
        sigma=_col(lot_sigma), model_intercept=pl.Series(lot_model_icpt),
        model_slope=pl.Series(lot_model_slope), crossing_months=_col(lot_model_cross),
        crossing_side=_str(np.select(
            [np.isfinite(lot_model_cross) & (lot_model_side == 1),
             np.isfinite(lot_model_cross) & (lot_model_side == -1)], ["lower", "upper"], None)),
        crosses=pl.Series(np.isfinite(lot_model_cross)), borrowed=pl.lit(False),
    ).with_columns(_s=pl.Series(lot_series)).filter(pl.Series(keep[lot_series]))
    if extra_lots:
        lots = pl.concat([lots] + extra_lots, how="diagonal_relaxed").sort("_s", "borrowed",
                                                                           maintain_order=True)
    lots = lots.drop("_s")

    def arrow(frame, schema):
        return frame.select(schema.names).to_arrow().cast(schema)

    data = clean.filter(~pl.col("_sk").is_in(list(errors.bad)))
    return StabilityResult(arrow(shelf, schemas.STABILITY_SHELF_LIFE_SCHEMA),
                           arrow(pool, schemas.STABILITY_POOLABILITY_SCHEMA),
                           arrow(lots, schemas.STABILITY_LOTS_SCHEMA), errors.table(), data)


def _borrowed_lot_frame(rec, plat) -> pl.DataFrame:
    """Rows of the lots table for the platform lots that lent their slope."""
    pr, pi = plat["run"], plat["index"]
    pf = pr["fit"]
    mine = np.flatnonzero(pr["lot_series"] == pi)
    g = mine[~pr["own_lot"][mine]]
    b = float(pf["slope_cs"][pi])
    with np.errstate(divide="ignore", invalid="ignore"):
        sigma = np.sqrt(pf["lot_rss"][g] / pf["lot_df"][g])
        se = sigma / np.sqrt(pf["lot_sxx"][g])
        p = np.where(pf["lot_df"][g] > 0, 2 * stats.t.sf(np.abs(pf["lot_slope"][g] / se),
                                                         np.maximum(pf["lot_df"][g], 1)),
                     np.nan)
    n = g.size
    return pl.DataFrame({
        "variant_id": [rec["variant_id"]] * n, "condition": [rec["condition"]] * n,
        "attribute": [rec["attribute"]] * n, "lot": [plat["names"][i] for i in g],
        "n_obs": pf["lot_n"][g].astype(np.int64),
        "n_times": np.asarray(pr["lot_ntimes"], dtype=np.int64)[g],
        "time_max_months": pr["lot_tmax"][g],
        "intercept": pf["lot_ybar"][g] - pf["lot_slope"][g] * pf["lot_tbar"][g],
        "slope": pf["lot_slope"][g], "slope_se": _col(se), "slope_p": _col(p),
        "rss": pf["lot_rss"][g], "df": pf["lot_df"][g].astype(np.int64), "sigma": _col(sigma),
        "model_intercept": pf["lot_ybar"][g] - b * pf["lot_tbar"][g],
        "model_slope": np.full(n, b), "crossing_months": pl.Series([None] * n, dtype=pl.Float64),
        "crossing_side": pl.Series([None] * n, dtype=pl.Utf8),
        "crosses": pl.Series([None] * n, dtype=pl.Boolean), "borrowed": [True] * n,
        "_s": np.full(n, rec["_sidx"], dtype=np.int64),
    })


def _empty_result(errors, clean):
    return StabilityResult(
        schemas.STABILITY_SHELF_LIFE_SCHEMA.empty_table(),
        schemas.STABILITY_POOLABILITY_SCHEMA.empty_table(),
        schemas.STABILITY_LOTS_SCHEMA.empty_table(), errors.table(), clean)
