"""Relative potency by 4-parameter logistic fits (USP <1032>/<1034> style).

Model, with ``hill > 0`` (a decreasing curve has ``top < bottom``)::

    y = bottom + (top - bottom) / (1 + (ec50 / x) ** hill)

so ``bottom`` is the asymptote at zero dose and ``top`` the asymptote at infinite dose;
zero doses are allowed (their expected response is ``bottom``). It is drc's ``LL.4``
with ``b = -hill``, ``c = bottom``, ``d = top``, ``e = ec50``.

For every group (variant, lot, assay, plate) the engine fits each sample alone, then
each test sample jointly with the reference standard under the parallel (constrained)
model sharing ``bottom``, ``top`` and ``hill``, parametrised so that
``ln rp = ln ec50_ref - ln ec50_test`` is a parameter; its standard error gives the
log-scale delta interval (default) and the EC50 covariance the Fieller interval.
Parallelism is judged by the extra-sum-of-squares F test (parallel vs separate fits)
and by equivalence: the 90% confidence intervals of the ratios test/reference of hill
slope and asymptotes must lie inside their margins.

Examples
--------
>>> import numpy as np, polars as pl
>>> from pmcore.cmc.potency import PotencyOptions, analyze_potency
>>> dose = np.repeat([0.1, 0.3, 1, 3, 10, 30, 100], 2)
>>> f = lambda x, e: 1 + 9 / (1 + (e / x) ** 1.2)
>>> df = pl.DataFrame({"sample": ["RS"] * 14 + ["T"] * 14,
...                    "dose": np.r_[dose, dose],
...                    "response": np.r_[f(dose, 3.0), f(dose, 6.0)] + np.tile([.02, -.02], 14)})
>>> res = analyze_potency(df, PotencyOptions(reference="RS"))
>>> round(res.rp["rp"][0].as_py(), 2)
0.5
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

import numpy as np
import polars as pl
import pyarrow as pa
from scipy import optimize, special, stats

from pmcore.errors import InputError

from . import schemas
from .io import canonical_rows

log = logging.getLogger("pmcore.cmc")

KEYS = ("variant_id", "lot", "assay", "plate")
REQUIRED = ("sample", "dose", "response")
OPTIONAL = KEYS


@dataclass
class PotencyOptions:
    """Options of :func:`analyze_potency`.

    Attributes
    ----------
    reference : str
        Sample name of the reference standard (required).
    confidence : float
        Confidence level of the relative-potency interval (0.95).
    ci_method : {'delta', 'fieller'}
        Log-scale delta-method interval, or Fieller's interval for the EC50 ratio.
    equivalence_confidence : float
        Confidence of the ratio intervals compared with the margins (0.90: two
        one-sided tests at 5%).
    margin_hill, margin_upper, margin_lower, margin_range : (float, float) or None
        Equivalence margins of the ratios test/reference of the hill slope, the upper
        and lower asymptotes and the response range; None: not tested.
    alpha_parallel : float
        Level of the parallelism F test reported (the F p-value is always given).
    min_doses : int
        Fewest distinct doses a sample needs (at least 4, for four parameters).
    flat_alpha : float
        A sample whose 4PL does not beat a constant at this level is a flat curve.
    strict : bool
        The first bad group or sample raises an input error.
    """

    reference: str = ""
    confidence: float = 0.95
    ci_method: str = "delta"
    equivalence_confidence: float = 0.90
    margin_hill: tuple | None = (0.8, 1.25)
    margin_upper: tuple | None = (0.8, 1.25)
    margin_lower: tuple | None = None
    margin_range: tuple | None = None
    min_doses: int = 4
    flat_alpha: float = 0.05
    strict: bool = False
    path: str | None = None

    def check(self):
        if not self.reference:
            raise InputError("the reference sample name is required (--reference)")
        if self.ci_method not in ("delta", "fieller"):
            raise InputError(f"ci_method must be 'delta' or 'fieller', got {self.ci_method!r}")
        if not 0.5 < self.confidence < 1 or not 0.5 < self.equivalence_confidence < 1:
            raise InputError("confidence levels must lie in (0.5, 1)")
        if self.min_doses < 4:
            raise InputError("min_doses must be at least 4")
        for name in ("margin_hill", "margin_upper", "margin_lower", "margin_range"):
            m = getattr(self, name)
            if m is not None and not (0 < m[0] < 1 < m[1]):
                raise InputError(f"{name} must be (low, high) with 0 < low < 1 < high, "
                                 f"got {m}")


@dataclass
class PotencyResult:
    rp: pa.Table
    params: pa.Table
    errors: pa.Table
    curves: list = field(default_factory=list, repr=False)

    def tables(self) -> dict:
        return {
            "rp": (self.rp, schemas.POTENCY_RP_SCHEMA),
            "params": (self.params, schemas.POTENCY_PARAMS_SCHEMA),
            "errors": (self.errors, schemas.ERRORS_SCHEMA),
        }


class FitFailure(Exception):
    """A curve that cannot be fitted; the message is the reason reported."""


# ------------------------------------------------------------------------ 4PL model

def logistic4(x, bottom, top, hill, ec50):
    """The 4PL response at doses ``x`` (zero dose gives ``bottom``)."""
    x = np.asarray(x, dtype=float)
    with np.errstate(divide="ignore"):
        lx = np.log(x)
    s = special.expit(hill * (lx - np.log(ec50)))
    return bottom + (top - bottom) * s


def _model_jac(lx, A, D, lh, le):
    """Response and derivatives w.r.t. (A, D, ln hill, ln ec50) at log doses ``lx``."""
    # a trial step of the optimiser can propose an absurd slope; keep exp() finite (a hill
    # slope of e^50 is already a step function at any dose spacing)
    h = math.exp(min(max(lh, -50.0), 50.0))
    with np.errstate(invalid="ignore", over="ignore"):
        u = lx - le
        s = special.expit(h * u)
        ds = s * (1.0 - s)
        y = A + (D - A) * s
        d_le = -(D - A) * ds * h
        d_lh = (D - A) * ds * h * u
    zero = ~np.isfinite(lx)
    d_le = np.where(zero, 0.0, d_le)
    d_lh = np.where(zero, 0.0, d_lh)
    return y, np.column_stack([1.0 - s, s, d_lh, d_le])


def _fit(lx, y, sample, theta0, n_samples, tol=1e-12):
    """Least squares of the 4PL with shared (A, D, ln h) and per-sample ln ec50.

    ``theta = (A, D, ln h, ln ec50_0, d_1, ..., d_{k-1})`` with
    ``ln ec50_j = ln ec50_0 - d_j``; ``d_j`` is ln(rp) of sample j against sample 0.
    """

    def resid_jac(theta):
        A, D, lh, le0 = theta[:4]
        le = np.full(lx.shape, le0)
        if n_samples > 1:
            d = np.r_[0.0, theta[4:]]
            le = le0 - d[sample]
        yhat, J4 = _model_jac(lx, A, D, lh, le)
        J = np.zeros((lx.size, 4 + n_samples - 1))
        J[:, :4] = J4
        for j in range(1, n_samples):
            J[:, 3 + j] = np.where(sample == j, -J4[:, 3], 0.0)
        return yhat - y, J

    cache = {}

    def fun(theta):
        r, J = resid_jac(theta)
        cache["J"] = J
        return r

    def jac(theta):
        return resid_jac(theta)[1]

    res = optimize.least_squares(fun, theta0, jac=jac, method="lm", x_scale="jac",
                                 ftol=tol, xtol=tol, gtol=tol, max_nfev=2000)
    r, J = resid_jac(res.x)
    return res, float(r @ r), J


def _start_values(x, y):
    """Robust starting values from dose-level means (zero doses allowed)."""
    doses = np.unique(x)
    means = np.array([y[x == d].mean() for d in doses])
    A0, D0 = means[0], means[-1]
    rng = D0 - A0
    pos = doses > 0
    ld = np.log(doses[pos])
    mpos = means[pos]
    if rng == 0 or ld.size < 2:
        return A0, D0, 0.0, float(np.median(ld)) if ld.size else 0.0
    p = (mpos - A0) / rng
    le0 = float(np.median(ld))
    above = np.flatnonzero(p >= 0.5)
    if above.size and above[0] > 0:
        i = above[0]
        f = (0.5 - p[i - 1]) / (p[i] - p[i - 1]) if p[i] != p[i - 1] else 0.5
        le0 = float(ld[i - 1] + f * (ld[i] - ld[i - 1]))
    elif above.size:
        le0 = float(ld[0])
    pc = np.clip(p, 0.05, 0.95)
    logit = np.log(pc / (1 - pc))
    h0 = 1.0
    if np.ptp(ld) > 0:
        h0 = float(np.polyfit(ld, logit, 1)[0])
    h0 = min(max(h0, 0.2), 10.0) if np.isfinite(h0) and h0 > 0 else 1.0
    return float(A0), float(D0), math.log(h0), le0


#: A start whose fitted hill slope exceeds e**MAX_LN_HILL (about 1100) has run away to a
#: step function; it is discarded in favour of starts that converge to a finite slope.
MAX_LN_HILL = 7.0


def fit_single(x, y, min_doses=4, flat_alpha=0.05):
    """Fit one sample's 4PL; raises :class:`FitFailure` with a reason."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    nd = np.unique(x).size
    if nd < min_doses:
        raise FitFailure(f"too few doses ({nd} distinct, {min_doses} needed)")
    if x.size <= 4:
        raise FitFailure(f"too few observations ({x.size}) for four parameters")
    if np.ptp(y) == 0:
        raise FitFailure("flat curve (constant response)")
    with np.errstate(divide="ignore"):
        lx = np.log(x)
    A0, D0, lh0, le0 = _start_values(x, y)
    ldpos = np.log(x[x > 0])
    # multi-start with a loose tolerance; stop once two starts agree on the optimum,
    # then polish the best one tightly
    best = None
    agree = 0
    zeros = np.zeros(x.size, dtype=int)
    for lh in (lh0, 0.0, math.log(3.0), math.log(0.5)):
        for le in (le0, float(np.median(ldpos))):
            try:
                res, rss, _ = _fit(lx, y, zeros, np.array([A0, D0, lh, le]), 1, tol=1e-8)
            except (ValueError, np.linalg.LinAlgError, FloatingPointError, OverflowError):
                continue
            if res.status <= 0 or not np.all(np.isfinite(res.x)):
                continue
            if res.x[2] > MAX_LN_HILL:  # slope ran away to a step function
                continue
            if best is None or rss < best[1] * (1 - 1e-7):
                best, agree = (res, rss), 1
            elif rss <= best[1] * (1 + 1e-7):
                agree += 1
            if agree >= 2:
                break
        if agree >= 2:
            break
    if best is None:
        raise FitFailure("4PL fit did not converge")
    try:
        res, rss, J = _fit(lx, y, zeros, best[0].x, 1)
    except (ValueError, np.linalg.LinAlgError, FloatingPointError, OverflowError):
        raise FitFailure("4PL fit did not converge") from None
    if res.status <= 0 or not np.all(np.isfinite(res.x)):
        raise FitFailure("4PL fit did not converge")
    n = x.size
    df = n - 4
    rss0 = float(np.sum((y - y.mean()) ** 2))
    if rss > 0 and df > 0:
        fstat = ((rss0 - rss) / 3) / (rss / df)
        p_flat = float(stats.f.sf(fstat, 3, df))
        if p_flat > flat_alpha:
            raise FitFailure(f"flat curve (no dose response: F test p={p_flat:.3g})")
    cov = _covariance(J, rss, df)
    if cov is None:
        raise FitFailure("4PL fit did not converge (singular information matrix)")
    A, D, lh, le = res.x
    ldmin, ldmax = ldpos.min(), ldpos.max()
    if not (ldmin - math.log(1000) < le < ldmax + math.log(1000)):
        raise FitFailure("4PL fit did not converge (EC50 far outside the dose range)")
    return {"A": A, "D": D, "lh": lh, "le": le, "rss": rss, "df": df, "cov": cov, "n": n, "n_doses": nd,
                "converged": True, "theta": res.x}


def _covariance(J, rss, df):
    if df <= 0:
        return None
    try:
        jtj = J.T @ J
        inv = np.linalg.inv(jtj)
    except np.linalg.LinAlgError:
        return None
    cov = inv * (rss / df)
    if not np.all(np.isfinite(cov)) or np.any(np.diag(cov) < 0):
        return None
    return cov


def fit_parallel(x_ref, y_ref, x_test, y_test, fit_ref, fit_test):
    """Constrained fit of reference and test (shared bottom, top, hill)."""
    x = np.r_[x_ref, x_test].astype(float)
    y = np.r_[y_ref, y_test].astype(float)
    sample = np.r_[np.zeros(len(x_ref), dtype=int), np.ones(len(x_test), dtype=int)]
    with np.errstate(divide="ignore"):
        lx = np.log(x)
    starts = [np.array([(fit_ref["A"] + fit_test["A"]) / 2, (fit_ref["D"] + fit_test["D"]) / 2,
                        (fit_ref["lh"] + fit_test["lh"]) / 2, fit_ref["le"],
                        fit_ref["le"] - fit_test["le"]]),
              np.array([fit_ref["A"], fit_ref["D"], fit_ref["lh"], fit_ref["le"],
                        fit_ref["le"] - fit_test["le"]])]
    best = None
    for th in starts:
        try:
            res, rss, J = _fit(lx, y, sample, th, 2)
        except (ValueError, np.linalg.LinAlgError):
            continue
        if res.status > 0 and np.all(np.isfinite(res.x)) and (best is None or rss < best[1]):
            best = (res, rss, J)
    if best is None:
        raise FitFailure("parallel 4PL fit did not converge")
    res, rss, J = best
    df = x.size - 5
    cov = _covariance(J, rss, df)
    if cov is None:
        raise FitFailure("parallel 4PL fit did not converge (singular information matrix)")
    return {"theta": res.x, "rss": rss, "df": df, "cov": cov, "n": x.size}


def _ratio_ci(p_t, v_t, p_r, v_r, q):
    """Ratio p_t/p_r and its delta-method CI on the log scale (independent fits)."""
    if p_t <= 0 or p_r <= 0:
        ratio = p_t / p_r if p_r != 0 else math.nan
        se = abs(ratio) * math.sqrt(v_t / p_t ** 2 + v_r / p_r ** 2) if p_t and p_r else math.nan
        return ratio, ratio - q * se, ratio + q * se
    lr = math.log(p_t / p_r)
    se = math.sqrt(v_t / p_t ** 2 + v_r / p_r ** 2)
    return math.exp(lr), math.exp(lr - q * se), math.exp(lr + q * se)


def _fieller(e_r, e_t, v_rr, v_tt, v_rt, q):
    """Fieller interval for e_r / e_t; (low, high, bounded)."""
    a = e_t * e_t - q * q * v_tt
    b = -2.0 * (e_r * e_t - q * q * v_rt)
    c = e_r * e_r - q * q * v_rr
    disc = b * b - 4 * a * c
    if a <= 0 or disc < 0:
        return None, None, False
    r = math.sqrt(disc)
    lo, hi = (-b - r) / (2 * a), (-b + r) / (2 * a)
    return lo, hi, True


# -------------------------------------------------------------------------- batch

def load_potency(path, columns: dict | None = None, sheet=None) -> pl.DataFrame:
    from .io import read_table, resolve_columns

    df = read_table(path, sheet=sheet)
    return resolve_columns(df, columns or {}, REQUIRED, OPTIONAL, path=str(path))


def _label(rec: dict) -> str:
    parts = [f"{k}={rec[k]}" for k in KEYS if rec.get(k)]
    return ", ".join(parts) if parts else "all"


def analyze_potency(df: pl.DataFrame, opts: PotencyOptions) -> PotencyResult:
    """Relative potency of every test sample against the reference, per group."""
    from .stability import _Errors

    opts.check()
    df = canonical_rows(df, REQUIRED, opts.path)
    for k in KEYS:
        if k not in df.columns:
            df = df.with_columns(pl.lit("").alias(k))
        else:
            df = df.with_columns(pl.col(k).fill_null(""))
    df = df.with_columns(pl.col("sample").fill_null(""),
                         pl.col("dose").cast(pl.Float64, strict=False).alias("_x"),
                         pl.col("response").cast(pl.Float64, strict=False).alias("_y"))
    errors = _Errors("potency", opts.strict, opts.path)
    group_keys = list(KEYS)
    df = df.with_columns(
        pl.concat_str([pl.col(k) for k in group_keys], separator="\x1f").alias("_gk"))
    df = df.with_columns(
        pl.concat_str([pl.col("_gk"), pl.col("sample")], separator="\x1e").alias("_sk"),
        pl.concat_str([pl.when(pl.col(k) != "").then(pl.lit(f"{k}=") + pl.col(k))
                       for k in group_keys] + [pl.lit("sample=") + pl.col("sample")],
                      separator=", ", ignore_nulls=True).alias("_label"))
    reason = (
        pl.when(pl.col("sample") == "").then(pl.lit("missing sample"))
        .when(pl.col("dose").is_null() | (pl.col("dose") == "")).then(pl.lit("missing dose"))
        .when(pl.col("_x").is_null() | ~pl.col("_x").is_finite())
        .then(pl.format("non-numeric dose '{}'", pl.col("dose")))
        .when(pl.col("_x") < 0).then(pl.format("negative dose {}", pl.col("dose")))
        .when(pl.col("response").is_null() | (pl.col("response") == ""))
        .then(pl.lit("missing response"))
        .when(pl.col("_y").is_null() | ~pl.col("_y").is_finite())
        .then(pl.format("non-numeric response '{}'", pl.col("response")))
        .otherwise(pl.lit(None)))
    df = df.with_columns(reason.alias("_reason"))
    errors.add_frame(df.filter(pl.col("_reason").is_not_null()), "_reason")
    bad_samples = set(errors.bad)
    df = df.filter(~pl.col("_sk").is_in(list(bad_samples)))

    params = {n: [] for n in schemas.POTENCY_PARAMS_SCHEMA.names}
    rps = {n: [] for n in schemas.POTENCY_RP_SCHEMA.names}
    curves = []
    q_rp_cache = {}

    for (gk,), gdf in df.group_by(["_gk"], maintain_order=True):
        keyrec = {k: gdf[k][0] for k in KEYS}
        glabel = _label(keyrec)
        samples = gdf["sample"].unique(maintain_order=True).to_list()
        if opts.reference not in samples:
            r0 = int(gdf["_row"].min())
            for smp in samples:
                errors.add(f"{gk}\x1e{smp}", f"{glabel + ', ' if glabel != 'all' else ''}"
                           f"sample={smp}", keyrec["variant_id"],
                           f"reference sample {opts.reference!r} not found in the group "
                           f"(first row {r0})", r0, None)
            continue
        fits = {}
        data = {}
        for smp in samples:
            sdf = gdf.filter(pl.col("sample") == smp)
            x = sdf["_x"].to_numpy()
            y = sdf["_y"].to_numpy()
            data[smp] = (x, y)
            try:
                fits[smp] = fit_single(x, y, opts.min_doses, opts.flat_alpha)
            except FitFailure as exc:
                r0 = int(sdf["_row"].min())
                lab = sdf["_label"][0]
                if smp == opts.reference:
                    errors.add(f"{gk}\x1e{smp}", lab, keyrec["variant_id"],
                               f"reference: {exc} (first row {r0})", r0, None)
                    for other in samples:
                        if other != smp:
                            errors.add(f"{gk}\x1e{other}", gdf.filter(
                                pl.col("sample") == other)["_label"][0],
                                keyrec["variant_id"],
                                f"no relative potency: the reference curve failed ({exc})",
                                r0, None)
                    break
                errors.add(f"{gk}\x1e{smp}", lab, keyrec["variant_id"],
                           f"{exc} (first row {r0})", r0, None)
        if opts.reference not in fits:
            continue
        fr = fits[opts.reference]
        _param_row(params, keyrec, opts.reference, True, "individual", fr)
        curves.append({"key": keyrec, "label": glabel, "sample": opts.reference, "reference": True,
                           "data": data[opts.reference], "fit": fr})
        for smp in samples:
            if smp == opts.reference or smp not in fits:
                continue
            ft = fits[smp]
            _param_row(params, keyrec, smp, False, "individual", ft)
            xr, yr = data[opts.reference]
            xt, yt = data[smp]
            lab = gdf.filter(pl.col("sample") == smp)["_label"][0]
            try:
                pf = fit_parallel(xr, yr, xt, yt, fr, ft)
            except FitFailure as exc:
                errors.add(f"{gk}\x1e{smp}", lab, keyrec["variant_id"], str(exc), None, None)
                continue
            curves.append({"key": keyrec, "label": glabel, "sample": smp, "reference": False,
                               "data": data[smp], "fit": ft, "parallel": pf})
            _rp_row(rps, params, keyrec, smp, opts, fr, ft, pf, q_rp_cache)

    rp_t = pa.Table.from_pydict(rps, schema=schemas.POTENCY_RP_SCHEMA)
    par_t = pa.Table.from_pydict(params, schema=schemas.POTENCY_PARAMS_SCHEMA)
    return PotencyResult(rp_t, par_t, errors.table(), curves)


def _param_row(params, keyrec, sample, is_ref, kind, f, A=None, D=None, lh=None, le=None,
               se_le=None):
    A = f["A"] if A is None else A
    D = f["D"] if D is None else D
    lh = f["lh"] if lh is None else lh
    le = f["le"] if le is None else le
    if se_le is None:
        se_le = math.sqrt(f["cov"][3, 3])
    for k in KEYS:
        params[k].append(keyrec[k])
    params["sample"].append(sample)
    params["is_reference"].append(is_ref)
    params["fit"].append(kind)
    params["n_obs"].append(int(f["n"]))
    params["n_doses"].append(int(f.get("n_doses", 0)) or None)
    params["bottom"].append(float(A))
    params["top"].append(float(D))
    params["hill"].append(math.exp(lh))
    params["ec50"].append(math.exp(le))
    params["log_ec50_se"].append(float(se_le))
    params["rss"].append(float(f["rss"]))
    params["df"].append(int(f["df"]))
    params["converged"].append(True)


def _rp_row(rps, params, keyrec, smp, opts, fr, ft, pf, cache):
    th, cov = pf["theta"], pf["cov"]
    A, D, lh, le_r, lrho = th
    df_p = pf["df"]
    q = stats.t.ppf(1 - (1 - opts.confidence) / 2, df_p)
    rho = math.exp(lrho)
    se_lrho = math.sqrt(cov[4, 4])
    warns = []
    if opts.ci_method == "delta":
        lo, hi, bounded = math.exp(lrho - q * se_lrho), math.exp(lrho + q * se_lrho), True
    else:
        # EC50s on the original scale: e_r = exp(le_r), e_t = exp(le_r - lrho)
        e_r, e_t = math.exp(le_r), math.exp(le_r - lrho)
        G = np.array([[e_r, 0.0], [e_t, -e_t]])
        sub = cov[np.ix_([3, 4], [3, 4])]
        V = G @ sub @ G.T
        lo, hi, bounded = _fieller(e_r, e_t, V[0, 0], V[1, 1], V[0, 1], q)
        if not bounded:
            warns.append("Fieller interval unbounded (EC50 of the test not significantly "
                         "different from zero)")
    # parallel fit parameters, both samples
    se_le_r = math.sqrt(cov[3, 3])
    var_le_t = cov[3, 3] + cov[4, 4] - 2 * cov[3, 4]
    for sample, is_ref, le, se in ((None, True, le_r, se_le_r),
                                   (smp, False, le_r - lrho, math.sqrt(max(var_le_t, 0)))):
        _param_row(params, keyrec, sample if sample else opts.reference, is_ref, "parallel",
                   {"n": pf["n"], "rss": pf["rss"], "df": pf["df"], "n_doses": 0},
                   A=A, D=D, lh=lh, le=le, se_le=se)
    # parallelism: F test, parallel vs separate
    rss_u = fr["rss"] + ft["rss"]
    df_u = fr["df"] + ft["df"]
    if rss_u > 0 and df_u > 0:
        fstat = ((pf["rss"] - rss_u) / 3) / (rss_u / df_u)
        fstat = max(fstat, 0.0)
        p_f = float(stats.f.sf(fstat, 3, df_u))
    else:
        fstat, p_f = math.nan, math.nan
    # equivalence: ratio CIs
    qe = stats.t.ppf(1 - (1 - opts.equivalence_confidence) / 2, df_u)
    lr = ft["lh"] - fr["lh"]
    se = math.sqrt(ft["cov"][2, 2] + fr["cov"][2, 2])
    hill = (math.exp(lr), math.exp(lr - qe * se), math.exp(lr + qe * se))
    up_idx_r = 1 if fr["D"] >= fr["A"] else 0  # the upper asymptote of the reference
    lo_idx_r = 1 - up_idx_r
    par_t = [ft["A"], ft["D"]]
    par_r = [fr["A"], fr["D"]]
    upper = _ratio_ci(par_t[up_idx_r], ft["cov"][up_idx_r, up_idx_r], par_r[up_idx_r],
                      fr["cov"][up_idx_r, up_idx_r], qe)
    lower = _ratio_ci(par_t[lo_idx_r], ft["cov"][lo_idx_r, lo_idx_r], par_r[lo_idx_r],
                      fr["cov"][lo_idx_r, lo_idx_r], qe)
    g = np.array([-1.0, 1.0, 0.0, 0.0])
    rng_t, rng_r = ft["D"] - ft["A"], fr["D"] - fr["A"]
    rng_ = _ratio_ci(abs(rng_t), float(g @ ft["cov"] @ g), abs(rng_r), float(g @ fr["cov"] @ g),
                     qe) if rng_t * rng_r > 0 else (math.nan, math.nan, math.nan)
    equiv = True
    for margin, ci in ((opts.margin_hill, hill), (opts.margin_upper, upper),
                       (opts.margin_lower, lower), (opts.margin_range, rng_)):
        if margin is None:
            continue
        if not (np.isfinite(ci[1]) and np.isfinite(ci[2]) and margin[0] <= ci[1]
                and ci[2] <= margin[1]):
            equiv = False
    if rng_t * rng_r <= 0:
        warns.append("test and reference curves run in opposite directions")
        equiv = False
    if np.isfinite(p_f) and p_f < 0.05:
        warns.append(f"parallelism F test rejects (p={p_f:.3g})")
    if not equiv:
        warns.append("not equivalent to the reference within the margins: "
                     "relative potency not reportable without similarity")
    for k in KEYS:
        rps[k].append(keyrec[k])
    rps["sample"].append(smp)
    rps["reference"].append(opts.reference)
    rps["rp"].append(rho)
    rps["rp_ci_low"].append(lo)
    rps["rp_ci_high"].append(hi)
    rps["ci_method"].append(opts.ci_method)
    rps["ci_bounded"].append(bounded)
    rps["confidence"].append(opts.confidence)
    rps["parallel_f"].append(None if not np.isfinite(fstat) else float(fstat))
    rps["parallel_f_p"].append(None if not np.isfinite(p_f) else p_f)
    for name, ci in (("hill_ratio", hill), ("upper_ratio", upper), ("lower_ratio", lower),
                     ("range_ratio", rng_)):
        rps[name].append(_fin(ci[0]))
        rps[f"{name}_ci_low"].append(_fin(ci[1]))
        rps[f"{name}_ci_high"].append(_fin(ci[2]))
    rps["parallel_equivalent"].append(bool(equiv))
    rps["warnings"].append("; ".join(warns))


def _fin(x):
    return float(x) if x is not None and np.isfinite(x) else None
