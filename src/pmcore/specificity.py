"""Guide-level aggregates of scored hits: CRISPOR 5.2 MIT and CFD specificities, a
GuideScan-style specificity, off-target counts per class and on-target detection.

CRISPOR's hit set (``crispor_set``) is what its BWA search and ``filterFaToBed`` would keep:
no bulge, at most 4 spacer mismatches, PAM ``xGG``, or ``xAG``/``xGA`` when the unscaled MIT
hit score is above 1.0. One perfect match is the on-target and is left out; every other
perfect match is an off-target. MIT of ``xAG``/``xGA`` hits is multiplied by 0.2 before the
sum; CFD values of -1 are left out of the CFD sum. Then
``int(round(100 / (100 + sum) * 100))`` with Python 3 rounding (half to even).

>>> crispor_specificity(700.0)
12
>>> crispor_specificity(0.0)
100
"""

from __future__ import annotations

import numpy as np

from .errors import InputError
from .scoring import (
    ALT_PAM_MIN_MIT,
    ALT_PAM_MIT_FACTOR,
    CRISPOR_MAX_MISMATCHES,
    CRISPOR_MAXOCC,
)


def crispor_specificity(hit_sum: float) -> int:
    """CRISPOR's ``calcMitGuideScore``: ``int(round(100 / (100 + hit_sum) * 100))``.

    Used for both MIT (hit scores 0-100) and CFD (0-1, CRISPOR's default, which compresses
    the range: a CFD sum of 10 still gives 91).
    """
    score = 100 / (100 + hit_sum)
    return round(score * 100)


def sequential_sum(values) -> float:
    """Left-to-right float sum (as Python's ``sum``), unlike numpy's pairwise reduction."""
    total = 0
    for v in values:
        total += v
    return float(total)


def mark_crispor_set(scored, *, on_target=None):
    """Append ``crispor_set``, ``mit_weighted`` and ``is_on_target`` to a frame from
    :func:`pmcore.scoring.score_site_columns`.

    ``on_target`` maps ``query_id`` to ``(chrom, start, end)`` (0-based half-open): the
    on-target is then the first perfect match of the CRISPOR set lying inside that range
    (none if no perfect match does, as CRISPOR). Without it the on-target is the first
    perfect match, preferring an ``xGG`` PAM and a site scored by CFD (CRISPOR takes the
    first one BWA reports, an order pmcore cannot reproduce; with xGG perfect matches only,
    which one is taken does not change any score).
    """
    import polars as pl

    pam23 = pl.col("_bases").str.slice(-2)
    spc = (pl.col("_pam_side") == 3) & (pl.col("_pam_len") == 3) & pl.col("mit").is_not_null()
    in_set = (spc & (pl.col("bulge_type").str.to_uppercase() == "X")
              & (pl.col("mismatches").cast(pl.Int64) <= CRISPOR_MAX_MISMATCHES)
              & ((pam23 == "GG")
                 | (pam23.is_in(["AG", "GA"]) & (pl.col("_mit_filter") > ALT_PAM_MIN_MIT))))
    df = scored.with_row_index("_row").with_columns(
        in_set.fill_null(False).alias("crispor_set"))
    df = df.with_columns(
        pl.when(pl.col("crispor_set"))
        .then(pl.when(pam23 == "GG").then(pl.col("mit"))
              .otherwise(pl.col("mit") * ALT_PAM_MIT_FACTOR))
        .otherwise(None).cast(pl.Float64).alias("mit_weighted"))
    # other nucleases have no CRISPOR set; their on-target is a perfect unbulged match
    other = ~((pl.col("_pam_side") == 3) & (pl.col("_pam_len") == 3)) & (
        pl.col("bulge_type").str.to_uppercase() == "X")
    cand = df.filter((pl.col("crispor_set") | other)
                     & (pl.col("mismatches").cast(pl.Int64) == 0))
    if on_target:
        rng = pl.DataFrame(
            [(str(q), str(c), int(s), int(e)) for q, (c, s, e) in on_target.items()],
            schema={"query_id": pl.String, "_oc": pl.String, "_os": pl.Int64,
                    "_oe": pl.Int64}, orient="row")
        cand = cand.join(rng, on="query_id", how="inner").filter(
            (pl.col("chrom") == pl.col("_oc")) & (pl.col("start") >= pl.col("_os"))
            & (pl.col("end") <= pl.col("_oe")))
    cand = cand.with_columns(
        (pam23 != "GG").alias("_k1"), (pl.col("cfd") == -1.0).fill_null(False).alias("_k2"))
    chosen = (cand.sort(["_k1", "_k2", "_row"])
              .group_by(["query_id", "guide"], maintain_order=True)
              .agg(pl.col("_row").first())["_row"])
    df = df.with_columns(pl.col("_row").is_in(chosen.implode()).alias("is_on_target"))
    return df.drop("_row")


def class_key(mismatches: int, bulges: int) -> str:
    return f"{mismatches}:{bulges}"


def summarize_guides(scored, *, max_occ: int = CRISPOR_MAXOCC):
    """One row per guide (``GUIDE_SUMMARY_SCHEMA``) from a frame made by
    :func:`pmcore.scoring.score_hits`."""
    import polars as pl

    from .scoring_schemas import GUIDE_SUMMARY_SCHEMA

    if "_bases" not in scored.columns:
        from .scoring import hits_layout

        lay = hits_layout(scored)
        scored = scored.with_columns(
            lay["b"].alias("_bases"), lay["P"].alias("_pam_len"),
            lay["side"].alias("_pam_side"), lay["pattern"].alias("_pam_pattern"))
    for col in ("cfd", "mit_weighted", "crispor_set", "is_on_target"):
        if col not in scored.columns:
            raise InputError(f"summary needs a scored hits table; column {col!r} is missing")
    pam23 = pl.col("_bases").str.slice(-2)
    # CRISPOR suppresses a guide whose hits exceed MAXOCC; count its unbulged <=4 mm sites
    scored = scored.with_columns(
        ((pl.col("bulge_type").str.to_uppercase() == "X")
         & (pl.col("mismatches").cast(pl.Int64) <= CRISPOR_MAX_MISMATCHES))
        .sum().over(["query_id", "guide"]).gt(max_occ).alias("_repeat"))
    if "be_editable" not in scored.columns:
        scored = scored.with_columns(pl.lit(None, dtype=pl.Boolean).alias("be_editable"),
                                     pl.lit(None, dtype=pl.String).alias("base_editor"))
    df = scored.with_row_index("_row").with_columns(
        (pl.col("bulge_type").str.to_uppercase() == "X").alias("_x"),
        pl.when(pl.col("bulge_type").str.to_uppercase() == "X").then(0)
        .otherwise(pl.col("bulge_size").cast(pl.Int64)).alias("_b"),
        pl.col("mismatches").cast(pl.Int64).alias("_m"),
        (pam23 == "GG").alias("_gg"),
    )
    # contiguous guide blocks in order of first appearance, rows in table order inside
    df = df.with_columns(pl.col("_row").min().over(["query_id", "guide"]).alias("_first"))
    df = df.sort(["_first", "_row"])
    if df.height == 0:
        return pl.from_arrow(GUIDE_SUMMARY_SCHEMA.empty_table())
    first = df["_first"].to_numpy()
    bounds = np.flatnonzero(np.diff(first)) + 1
    starts = np.concatenate([[0], bounds])
    ends = np.concatenate([bounds, [df.height]])
    cols = {
        "_m": df["_m"].to_numpy(), "_b": df["_b"].to_numpy(),
        "_x": df["_x"].to_numpy(), "_gg": df["_gg"].fill_null(False).to_numpy(),
        "cfd": df["cfd"].cast(pl.Float64).fill_null(np.nan).to_numpy(),
        "mit_weighted": df["mit_weighted"].cast(pl.Float64).fill_null(np.nan).to_numpy(),
        "crispor_set": df["crispor_set"].to_numpy(),
        "is_on_target": df["is_on_target"].to_numpy(),
        "be_editable": df["be_editable"].fill_null(False).to_numpy(),
        "start": df["start"].to_numpy(),
    }
    scalars = df.select("query_id", "guide", "_pam_pattern", "_pam_side", "_pam_len",
                        "_repeat", "base_editor", "chrom", "strand")
    rows = []
    for a, b in zip(starts.tolist(), ends.tolist()):
        r = {k: v[a:b] for k, v in cols.items()}
        head = scalars.row(a, named=True)
        r.update(head)
        r["n_sites"] = b - a
        on = np.flatnonzero(r["is_on_target"])
        r["_on"] = None if on.size == 0 else scalars.row(a + int(on[0]), named=True)
        rows.append(_summarize_one(r))
    schema = pl.from_arrow(GUIDE_SUMMARY_SCHEMA.empty_table()).schema
    return pl.DataFrame(rows, schema=schema)


def _summarize_one(r: dict) -> dict:
    guide = r["guide"]
    L = len(guide)
    m = np.asarray(r["_m"], dtype=np.int64)
    b = np.asarray(r["_b"], dtype=np.int64)
    x = np.asarray(r["_x"], dtype=bool)
    gg = np.asarray(r["_gg"], dtype=bool)
    cfd = np.asarray(r["cfd"], dtype=np.float64)
    mitw = np.asarray(r["mit_weighted"], dtype=np.float64)
    in_set = np.asarray(r["crispor_set"], dtype=bool)
    on = np.asarray(r["is_on_target"], dtype=bool)
    spcas9 = r["_pam_side"] == 3 and r["_pam_len"] == 3
    perfect = x & (m == 0) & (gg if spcas9 else True)
    n_perfect = int(perfect.sum())
    status = "unique" if n_perfect == 1 else ("absent" if n_perfect == 0 else "multiple")
    on_row = r["_on"]
    notes = []
    out = {
        "query_id": r["query_id"], "guide": guide, "guide_length": L,
        "pam_pattern": r["_pam_pattern"], "n_sites": int(r["n_sites"]),
        "n_perfect": n_perfect, "on_target_status": status,
        "on_target_flag": status != "unique",
        "on_target_chrom": on_row["chrom"] if on_row else None,
        "on_target_start": int(r["start"][np.flatnonzero(on)[0]]) if on_row else None,
        "on_target_strand": on_row["strand"] if on_row else None,
        "repeat": bool(r["_repeat"]),
    }
    off = ~on
    classes = {}
    for mm_, bb in zip(m[off].tolist(), b[off].tolist()):
        classes[(bb, mm_)] = classes.get((bb, mm_), 0) + 1
    out["class_counts"] = ";".join(f"{class_key(mm_, bb)}={classes[(bb, mm_)]}"
                                   for bb, mm_ in sorted(classes)) or None
    sel = in_set & off
    out["n_offtargets"] = int(sel.sum())
    if spcas9:
        counts = [int(((m == k) & sel).sum()) for k in range(CRISPOR_MAX_MISMATCHES + 1)]
        out["offtarget_counts"] = "-".join(map(str, counts))
        # CRISPOR walks its hits by mismatch count, summing left to right
        order = np.flatnonzero(sel)[np.argsort(m[sel], kind="stable")]
        mit_sum = sequential_sum(mitw[order].tolist())
        out["mit_sum"] = mit_sum
        out["mit_specificity"] = 0 if out["repeat"] else crispor_specificity(mit_sum)
        if L == 20:
            cvals = cfd[order]
            cfd_sum = sequential_sum(cvals[cvals != -1.0].tolist())
            out["cfd_sum"] = cfd_sum
            out["cfd_specificity"] = 0 if out["repeat"] else crispor_specificity(cfd_sum)
        else:
            out["cfd_sum"] = out["cfd_specificity"] = None
            notes.append(f"CFD specificity needs a 20-nt spacer ({L} nt)")
        if out["repeat"]:
            notes.append("repeat: more sites than the MAXOCC limit, specificities 0 (CRISPOR)")
    else:
        out.update(offtarget_counts=None, mit_sum=None, cfd_sum=None, mit_specificity=None,
                   cfd_specificity=None)
        notes.append(f"CRISPOR specificities are defined for SpCas9 3-nt 3' PAMs, not "
                     f"{r['_pam_pattern']!r} on the {r['_pam_side']}' side")
    if spcas9 and L == 20:
        ok = x & (cfd >= 0)
        base = sequential_sum(cfd[ok].tolist())
        if not (perfect & ok).any():
            base += 1.0
        out["guidescan_specificity"] = 1.0 / base
        bulged = ~x & (cfd >= 0)
        out["guidescan_specificity_bulges"] = 1.0 / (base + sequential_sum(cfd[bulged].tolist()))
    else:
        out["guidescan_specificity"] = out["guidescan_specificity_bulges"] = None
        if spcas9:
            notes.append(f"GuideScan specificity needs a 20-nt spacer ({L} nt)")
    if r["base_editor"] is not None:
        be = np.asarray(r["be_editable"], dtype=bool)
        out["n_be_editable"] = int((be & off).sum())
    else:
        out["n_be_editable"] = None
    out["specificity_note"] = "; ".join(notes) if notes else None
    return out


def class_count_table(scored):
    """Long table of site counts per guide and (mismatches, bulge type, bulge size),
    the on-target excluded."""
    import polars as pl

    return (scored.filter(~pl.col("is_on_target"))
            .with_columns(pl.col("bulge_type").str.to_uppercase().alias("bulge_type"),
                          pl.when(pl.col("bulge_type").str.to_uppercase() == "X").then(0)
                          .otherwise(pl.col("bulge_size").cast(pl.Int64)).alias("bulges"))
            .group_by(["query_id", "guide", "mismatches", "bulge_type", "bulges"])
            .agg(pl.len().alias("n_sites"))
            .sort(["query_id", "guide", "bulges", "mismatches", "bulge_type"]))
