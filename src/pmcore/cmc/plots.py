"""Plots of CMC results (matplotlib, non-interactive backend, PNG or SVG).

Stability: one figure per series with the observations coloured by lot, the fitted
lines of the selected model, their confidence-bound curves, the acceptance limits and
the shelf-life marker. Potency: one figure per group overlaying the reference and test
curves (individual 4PL fits, solid; constrained parallel fits, dashed) on a log-dose axis.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import polars as pl

from pmcore.io import atomic_path


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._=-]+", "_", name).strip("_") or "series"


def plot_stability(result, out_dir, fmt="png", options=None, max_series=None) -> list[str]:
    """Write one plot per stability series; returns the file paths."""
    from scipy import stats

    plt = _pyplot()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    shelf = pl.from_arrow(result.shelf_life)
    lots = pl.from_arrow(result.lots)
    data = result.data
    conf = options.confidence if options is not None else 0.95
    log_t = options is not None and options.transform == "log"
    written = []
    for i, row in enumerate(shelf.iter_rows(named=True)):
        if max_series is not None and i >= max_series:
            break
        key = (row["variant_id"], row["condition"], row["attribute"])
        sel = (pl.col("variant_id") == key[0]) & (pl.col("condition") == key[1]) & (
            pl.col("attribute") == key[2])
        d = data.filter(sel)
        lt = lots.filter(sel)
        fig, ax = plt.subplots(figsize=(7, 4.5))
        tmax_plot = max(float(d["_tm"].max()), row["shelf_life_months"] or 0.0,
                        row["long_term_months"] or 0.0) * 1.1 + 1
        grid = np.linspace(0, tmax_plot, 200)
        two = row["sides"] == "two-sided"
        colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
        model = row["model"]
        for j, lrow in enumerate(lt.filter(~pl.col("borrowed")).iter_rows(named=True)):
            c = colors[j % len(colors)]
            pts = d.filter(pl.col("lot") == lrow["lot"])
            ax.scatter(pts["_tm"], pts["_v"], color=c, s=18, label=f"lot {lrow['lot']}")
            y = lrow["model_intercept"] + lrow["model_slope"] * grid
            # bound of this lot's line under the selected model
            ld = d.filter(pl.col("lot") == lrow["lot"]) if model != "common_line" else d
            t = ld["_tm"].to_numpy()
            n = t.size
            tbar = t.mean()
            if model == "separate":
                sxx = float(((t - tbar) ** 2).sum())
                s2 = (lrow["rss"] / lrow["df"]) if (lrow["df"] and lrow["df"] > 0) else math.nan
                df = lrow["df"]
                if row["error_convention"] == "pooled" or not (df and df > 0):
                    pool = pl.from_arrow(result.poolability).filter(sel).row(0, named=True)
                    s2, df = pool["rss_separate"] / pool["df_separate"], pool["df_separate"]
            else:
                pool = pl.from_arrow(result.poolability).filter(sel).row(0, named=True)
                if model == "common_slope":
                    s2, df = pool["rss_common_slope"] / pool["df_common_slope"], \
                        pool["df_common_slope"]
                    sxx = float(d.select(((pl.col("_tm") - pl.col("_tm").mean().over("lot"))
                                          ** 2).sum()).item())
                else:
                    s2, df = pool["rss_common_line"] / pool["df_common_line"], \
                        pool["df_common_line"]
                    sxx = float(((t - tbar) ** 2).sum())
            q = stats.t.ppf(1 - (1 - conf) / (2 if two else 1), df) if df and df > 0 else math.nan
            half = q * np.sqrt(s2 * (1.0 / n + (grid - tbar) ** 2 / sxx))
            tr = np.exp if log_t else (lambda v: v)
            ax.plot(grid, tr(y), color=c, lw=1.2)
            if row["lower_limit"] is not None:
                ax.plot(grid, tr(y - half), color=c, lw=0.8, ls="--")
            if row["upper_limit"] is not None:
                ax.plot(grid, tr(y + half), color=c, lw=0.8, ls="--")
            if model == "common_line":
                break
        for name in ("lower_limit", "upper_limit"):
            if row[name] is not None:
                ax.axhline(row[name], color="black", lw=1, ls=":")
        if row["shelf_life_months"] is not None:
            ax.axvline(row["shelf_life_months"], color="red", lw=1,
                       label=f"shelf life {row['shelf_life_months']:.1f} mo")
        if row["shelf_life_proposed_months"] is not None:
            ax.axvline(row["shelf_life_proposed_months"], color="grey", lw=1, ls="-.",
                       label=f"proposed {row['shelf_life_proposed_months']} mo")
        label = ", ".join(v for v in key if v) or "all"
        ax.set_title(f"{label} ({model.replace('_', ' ')})", fontsize=10)
        ax.set_xlabel("time (months)")
        ax.set_ylabel("value")
        ax.legend(fontsize=7, loc="best")
        fig.tight_layout()
        path = out_dir / f"stability_{_safe(label)}.{fmt}"
        with atomic_path(path, "." + fmt) as tmp:
            fig.savefig(tmp, format=fmt, dpi=110)
        plt.close(fig)
        written.append(str(path))
    return written


def plot_potency(result, out_dir, fmt="png") -> list[str]:
    """Write one overlay plot per potency group; returns the file paths."""
    from .potency import logistic4

    plt = _pyplot()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    groups: dict[str, list] = {}
    for c in result.curves:
        groups.setdefault(c["label"], []).append(c)
    written = []
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for label, curves in groups.items():
        fig, ax = plt.subplots(figsize=(7, 4.5))
        xs = np.concatenate([c["data"][0] for c in curves])
        pos = xs[xs > 0]
        lo, hi = pos.min(), pos.max()
        zero_x = lo / 4
        grid = np.geomspace(lo / 2, hi * 2, 200)
        for j, c in enumerate(curves):
            col = colors[j % len(colors)]
            x, y = c["data"]
            xp = np.where(x > 0, x, zero_x)
            ax.scatter(xp, y, s=14, color=col,
                       marker="s" if c["reference"] else "o")
            f = c["fit"]
            ax.plot(grid, logistic4(grid, f["A"], f["D"], math.exp(f["lh"]), math.exp(f["le"])),
                    color=col, lw=1.3,
                    label=f"{c['sample']}{' (reference)' if c['reference'] else ''}"
                          f" EC50 {math.exp(f['le']):.3g}")
            par = c.get("parallel")
            if par is not None:
                A, D, lh, le_r, lrho = par["theta"]
                ax.plot(grid, logistic4(grid, A, D, math.exp(lh), math.exp(le_r - lrho)),
                        color=col, lw=0.9, ls="--",
                        label=f"{c['sample']} parallel fit, RP {math.exp(lrho):.3g}")
                ax.plot(grid, logistic4(grid, A, D, math.exp(lh), math.exp(le_r)),
                        color="grey", lw=0.7, ls="--")
        ax.set_xscale("log")
        ax.set_xlabel("dose (zero doses drawn at the left edge)")
        ax.set_ylabel("response")
        ax.set_title(label, fontsize=10)
        ax.legend(fontsize=7)
        fig.tight_layout()
        path = out_dir / f"potency_{_safe(label)}.{fmt}"
        with atomic_path(path, "." + fmt) as tmp:
            fig.savefig(tmp, format=fmt, dpi=110)
        plt.close(fig)
        written.append(str(path))
    return written
