"""Figures of the safety sections, drawn straight to PNG bytes (matplotlib, Agg)."""

from __future__ import annotations

import io

CLASS_LABELS = ["0 mm", "1 mm", "2 mm", "3 mm", "4+ mm", "bulge"]
CLASS_COLUMNS = ["n_mm0", "n_mm1", "n_mm2", "n_mm3", "n_mm4plus", "n_bulged"]
# severity palette: most alike to the on-target is darkest
CLASS_COLORS = ["#7f1d1d", "#b91c1c", "#ea580c", "#f59e0b", "#94a3b8", "#64748b"]


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.family": "DejaVu Sans", "font.size": 9,
                         "axes.spines.top": False, "axes.spines.right": False})
    return plt


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=130, bbox_inches="tight")
    return buf.getvalue()


def class_bars(rows: list[dict]) -> bytes | None:
    """Stacked horizontal bars: off-targets by class, one bar per variant."""
    rows = [r for r in rows if r.get("n_offtargets") is not None]
    if not rows:
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7.2, 0.55 * len(rows) + 1.1))
    names = [r["variant_id"] for r in rows][::-1]
    lefts = [0.0] * len(rows)
    for label, col, color in zip(CLASS_LABELS, CLASS_COLUMNS, CLASS_COLORS):
        vals = [float(r.get(col) or 0) for r in rows][::-1]
        ax.barh(names, vals, left=lefts, color=color, label=label, height=0.6)
        lefts = [a + b for a, b in zip(lefts, vals)]
    for y, total in enumerate(lefts):
        ax.text(total, y, f"  {int(total)}", va="center", fontsize=8, color="#334155")
    ax.set_xlabel("off-target sites (on-target excluded)")
    ax.set_xlim(0, max(lefts + [1]) * 1.15)
    ax.legend(ncol=6, fontsize=7.5, frameon=False, loc="lower center",
              bbox_to_anchor=(0.5, 1.0))
    fig.tight_layout()
    data = _png(fig)
    plt.close(fig)
    return data


def aso_sites(aso_hits, variant_id: str) -> bytes | None:
    """dG37 of an ASO's hybridization sites by mismatch count, coloured by risk class,
    with the on-target duplex as a reference line."""
    import numpy as np
    import polars as pl

    if aso_hits is None or "aso_id" not in aso_hits.columns:
        return None
    d = aso_hits.filter(pl.col("aso_id") == variant_id)
    if "redundant" in d.columns:
        d = d.filter(~pl.col("redundant").fill_null(False))
    if d.height == 0 or "dg37" not in d.columns:
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(4.6, 3.1))
    rng = np.random.default_rng(0)
    colors = {"on-target": "#0f4c81", "high": "#b91c1c", "medium": "#f59e0b", "low": "#94a3b8"}
    x = d["n_mismatches"].to_numpy().astype(float) + d["n_bulges"].to_numpy() * 0.3
    x = x + rng.uniform(-0.1, 0.1, size=x.size)
    y = d["dg37"].to_numpy()
    risk = d["risk_class"].fill_null("low").to_list()
    for name, color in colors.items():
        sel = np.array([r == name for r in risk])
        if sel.any():
            ax.scatter(x[sel], y[sel], s=26, color=color, label=name, edgecolor="white",
                       linewidth=0.5)
    on = d.filter(pl.col("is_on_target").fill_null(False))
    if on.height:
        ax.axhline(float(on["dg37"].min()), color="#0f4c81", lw=0.8, ls=":")
    ax.set_xlabel("mismatches (gapped sites shifted right)")
    ax.set_ylabel("dG37 (kcal/mol)")
    ax.set_xticks(range(int(d["n_mismatches"].max()) + 1))
    ax.legend(fontsize=7, frameon=False, loc="lower right")
    ax.set_title(f"{variant_id}: hybridization sites", fontsize=9)
    fig.tight_layout()
    data = _png(fig)
    plt.close(fig)
    return data


def site_scores(hits, variant_id: str) -> bytes | None:
    """Strip plot of CFD by mismatch count for one gRNA's off-targets, coloured by region."""
    import polars as pl

    from ..summary import _grna_offtargets, collapse_loci

    if hits is None:
        return None
    off = collapse_loci(_grna_offtargets(hits.filter(pl.col("query_id") == variant_id)))
    off = off.filter(pl.col("cfd").is_not_null() & (pl.col("cfd") >= 0))
    if off.height == 0:
        return None
    plt = _pyplot()
    import numpy as np

    fig, ax = plt.subplots(figsize=(4.6, 3.1))
    rng = np.random.default_rng(0)
    colors = {"CDS": "#b91c1c", "UTR": "#ea580c", "noncoding_exon": "#f59e0b",
              "intron": "#3b82f6", "promoter": "#8b5cf6", "intergenic": "#94a3b8"}
    region = off["region"].fill_null("intergenic").to_list()
    x = off["mismatches"].to_numpy().astype(float) + (off["bulge_type"] != "X").to_numpy() * 0.3
    x = x + rng.uniform(-0.12, 0.12, size=x.size)
    y = off["cfd"].to_numpy()
    for name, color in colors.items():
        sel = np.array([r == name for r in region])
        if sel.any():
            ax.scatter(x[sel], y[sel], s=22, color=color, label=name, alpha=0.85,
                       edgecolor="white", linewidth=0.5)
    ax.set_xlabel("mismatches (bulged sites shifted right)")
    ax.set_ylabel("CFD score")
    ax.set_ylim(-0.02, 1.05)
    ax.set_xticks(range(int(off["mismatches"].max()) + 1))
    ax.legend(fontsize=7, frameon=False, loc="upper right")
    ax.set_title(f"{variant_id}: off-target loci", fontsize=9)
    fig.tight_layout()
    data = _png(fig)
    plt.close(fig)
    return data
