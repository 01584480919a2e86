"""Per-variant safety and CMC summary: the Polars layer joining every detail table.

:func:`build_summary` takes the detail tables of a run (``hits``, ``guides``,
``variant_hits``, ``aso_hits``, ``aso_ontarget``, ``stability``, ``potency``, ``errors``,
all optional but ``variants``) and returns one row per variant built against
:data:`pmcore.summary_schemas.SUMMARY_SCHEMA`. :func:`load_results` reads those tables
back from a results folder, so ``pmcore summarize`` gives the same rows as ``pmcore run``.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pyarrow as pa

from .errors import InputError
from .summary_schemas import SUMMARY_SCHEMA, SUMMARY_SCHEMA_VERSION

#: Detail tables of a results folder: name -> file.
TABLE_FILES = {
    "variants": "variants.parquet",
    "hits": "hits.parquet",
    "guides": "guides.parquet",
    "variant_hits": "variant_hits.parquet",
    "aso_hits": "aso_hits.parquet",
    "aso_ontarget": "aso_ontarget.parquet",
    "stability": "stability.parquet",
    "potency": "potency.parquet",
    "errors": "errors.parquet",
    "figures": "figures.parquet",
}

TOP_N = 5


def load_results(folder, require_variants: bool = True) -> tuple[dict, dict]:
    """Read a results folder: ``(tables, run_info)``; absent tables are ``None``."""
    folder = Path(folder)
    if require_variants and not (folder / "variants.parquet").is_file():
        raise InputError("not a pmcore results folder (variants.parquet is missing)",
                         path=folder)
    tables = {}
    for name, file in TABLE_FILES.items():
        p = folder / file
        tables[name] = pl.read_parquet(p) if p.is_file() else None
    info_path = folder / "run.json"
    info = json.loads(info_path.read_text()) if info_path.is_file() else {}
    return tables, info


def _count(df: pl.DataFrame | None, by: str, name: str, cond=None) -> pl.DataFrame:
    if df is None:
        return pl.DataFrame(schema={"variant_id": pl.String, name: pl.Int64})
    d = df if cond is None else df.filter(cond)
    return (d.group_by(by).agg(pl.len().cast(pl.Int64).alias(name))
            .rename({by: "variant_id"}))


def _grna_offtargets(hits: pl.DataFrame) -> pl.DataFrame:
    """Hits minus the on-target locus: the perfect on-target site and every other
    alignment (bulged views) of that same site on the same strand."""
    on = (hits.filter(pl.col("is_on_target"))
          .select("query_id", pl.col("chrom").alias("_oc"), pl.col("start").alias("_os"),
                  pl.col("end").alias("_oe"), pl.col("strand").alias("_ostr")))
    joined = hits.join(on, on="query_id", how="left")
    same_locus = (pl.col("_oc").is_not_null() & (pl.col("chrom") == pl.col("_oc"))
                  & (pl.col("strand") == pl.col("_ostr")) & (pl.col("start") < pl.col("_oe"))
                  & (pl.col("end") > pl.col("_os")))
    return joined.filter(~same_locus.fill_null(False)).drop("_oc", "_os", "_oe", "_ostr")


def collapse_loci(off: pl.DataFrame, extra_keys=(), score: str = "cfd") -> pl.DataFrame:
    """One row per off-target locus: alignments of one guide that overlap on the same
    strand (the search reports a site once per bulge type and size) are one locus,
    represented by its best alignment: unbulged first, then fewest mismatches, then
    highest CFD. ``n_alignments`` says how many alignments the locus had."""
    if off.height == 0:
        return off.with_columns(pl.lit(0, pl.Int64).alias("n_alignments"))
    keys = ["query_id", *extra_keys, "chrom", "strand"]
    off = off.sort([*keys, "start", "end"])
    prev_end = pl.col("end").cum_max().shift(1).over(keys)
    new = (prev_end.is_null() | (pl.col("start") >= prev_end)).cast(pl.Int64)
    off = off.with_columns(new.cum_sum().over(keys).alias("_locus"))
    counts = off.group_by([*keys, "_locus"]).agg(pl.len().cast(pl.Int64).alias("n_alignments"))
    best = (off.with_columns((pl.col("bulge_type") != "X").alias("_bulged"))
            .sort([*keys, "_locus", "_bulged", "mismatches", score],
                  descending=[False] * (len(keys) + 3) + [True], nulls_last=True)
            .group_by([*keys, "_locus"], maintain_order=True).first())
    return best.join(counts, on=[*keys, "_locus"]).drop("_locus", "_bulged")


def _patient_sites(vh: pl.DataFrame | None, patient_vcfs: list, presence: str = "alternative"
                   ) -> pl.DataFrame | None:
    """Loci that exist only on a patient haplotype (``alternative``), or reference loci a
    patient allele removes (``reference``); one row per locus."""
    if vh is None:
        return None
    names = sorted({*patient_vcfs, *(Path(p).name for p in patient_vcfs)})
    alt = vh.filter(pl.col("vcf").is_in(names) & (pl.col("presence") == presence))
    return collapse_loci(alt, extra_keys=("vcf",), score="alt_cfd")


def _grna_stats(hits: pl.DataFrame, guides: pl.DataFrame | None,
                patient_sites: pl.DataFrame | None = None,
                removed: pl.DataFrame | None = None) -> pl.DataFrame:
    off = collapse_loci(_grna_offtargets(hits))
    unbulged = pl.col("bulge_type") == "X"
    be = pl.col("be_editable").fill_null(False) if "be_editable" in off.columns else pl.lit(False)
    flagged = pl.col("regions_flagged").is_not_null() & (pl.col("regions_flagged") != "")
    stats = off.group_by("query_id").agg(
        pl.len().cast(pl.Int64).alias("n_offtargets"),
        *[(unbulged & (pl.col("mismatches") == k)).sum().cast(pl.Int64).alias(f"n_mm{k}")
          for k in range(4)],
        (unbulged & (pl.col("mismatches") >= 4)).sum().cast(pl.Int64).alias("n_mm4plus"),
        (~unbulged).sum().cast(pl.Int64).alias("n_bulged"),
        pl.col("cfd").filter(pl.col("cfd") >= 0).max().alias("max_offtarget_cfd"),
        (pl.col("region") == "CDS").sum().cast(pl.Int64).alias("n_coding_exon"),
        flagged.sum().cast(pl.Int64).alias("n_flagged_region"),
        pl.col("regions_flagged").filter(flagged).str.split(",").explode().unique().sort()
        .str.join(",").alias("flagged_regions"),
        be.sum().cast(pl.Int64).alias("n_be_editable"),
    )
    cand_cols = [pl.col("query_id"), pl.col("chrom"), pl.col("start"), pl.col("end"),
                 pl.col("strand"), pl.col("site"), pl.col("mismatches").cast(pl.Int64),
                 pl.col("bulge_type"), pl.col("bulge_size").cast(pl.Int64),
                 pl.col("cfd").cast(pl.Float64), pl.col("region"), pl.col("gene_name"),
                 pl.col("regions_flagged")]
    cand = off.select(*cand_cols, pl.lit("reference").alias("origin"))
    if removed is not None and removed.height:
        # reference loci that a patient allele removes: say so next to the site
        gone = removed.select("query_id", "chrom", "strand", pl.col("start").alias("_rs"),
                              pl.col("end").alias("_re"),
                              pl.col("sample").fill_null("VCF").alias("_who"))
        marked = (cand.with_row_index("_i").join(gone, on=["query_id", "chrom", "strand"])
                  .filter((pl.col("start") < pl.col("_re")) & (pl.col("end") > pl.col("_rs")))
                  .group_by("_i").agg(pl.col("_who").first()))
        cand = (cand.with_row_index("_i").join(marked, on="_i", how="left")
                .with_columns(pl.when(pl.col("_who").is_not_null())
                              .then(pl.format("reference; absent in patient {}", "_who"))
                              .otherwise(pl.col("origin")).alias("origin"))
                .drop("_i", "_who"))
    if patient_sites is not None and patient_sites.height:
        cand = pl.concat([cand, patient_sites.select(
            *cand_cols[:5], pl.col("alt_site").alias("site"),
            pl.col("alt_mismatches").cast(pl.Int64).alias("mismatches"), *cand_cols[7:9],
            pl.col("alt_cfd").cast(pl.Float64).alias("cfd"), *cand_cols[10:],
            pl.format("patient {}", pl.col("sample").fill_null("VCF")).alias("origin"))],
            how="vertical_relaxed")
    top = (cand.sort(["cfd", "mismatches"], descending=[True, False], nulls_last=True)
           .group_by("query_id", maintain_order=True).head(TOP_N)
           .group_by("query_id").agg(pl.struct(
               pl.col("chrom"), pl.col("start"), pl.col("end"), pl.col("strand"),
               pl.col("site"), pl.col("mismatches"),
               pl.when(pl.col("bulge_type") == "X").then(pl.lit(None, pl.String))
               .otherwise(pl.format("{}{}", pl.col("bulge_type"), pl.col("bulge_size")))
               .alias("bulge"),
               pl.lit("CFD").alias("score_name"), pl.col("cfd").alias("score"),
               pl.col("region"), pl.col("gene_name").alias("gene"),
               pl.col("regions_flagged").alias("flagged"),
               pl.lit(None, pl.String).alias("risk"),
               pl.col("origin")).alias("top_sites")))
    stats = stats.join(top, on="query_id", how="left")
    if guides is not None:
        g = guides.select(
            "query_id", "on_target_status", "class_counts",
            pl.col("mit_specificity").cast(pl.Float64), pl.col("cfd_specificity").cast(pl.Float64),
            pl.col("guidescan_specificity").cast(pl.Float64))
        stats = g.join(stats, on="query_id", how="left")
    found = hits.group_by("query_id").agg(pl.col("is_on_target").any().alias("on_target_found"))
    stats = stats.join(found, on="query_id", how="left")
    return stats.rename({"query_id": "variant_id"})


def _variant_stats(vh: pl.DataFrame, patient_vcfs: list) -> pl.DataFrame:
    """Sites a patient allele creates (``alternative``) or removes (``reference``), and
    sites population alleles create, counted per locus (distinct chrom/strand/start)."""
    names = sorted({*patient_vcfs, *(Path(p).name for p in patient_vcfs)})
    patient = pl.col("vcf").is_in(names) if names else pl.lit(False)
    vh = collapse_loci(vh, extra_keys=("presence", "vcf"), score="alt_cfd")
    return vh.group_by("query_id").agg(
        (patient & (pl.col("presence") == "alternative")).sum().cast(pl.Int64)
        .alias("n_patient_specific"),
        (patient & (pl.col("presence") == "reference")).sum().cast(pl.Int64)
        .alias("n_patient_removed"),
        (~patient & (pl.col("presence") == "alternative")).sum().cast(pl.Int64)
        .alias("n_population_specific"),
    ).rename({"query_id": "variant_id"})


def _aso_stats(aso: pl.DataFrame) -> pl.DataFrame:
    id_col = "variant_id" if "variant_id" in aso.columns else "aso_id"
    on = pl.col("is_on_target").fill_null(False) if "is_on_target" in aso.columns else pl.lit(False)
    off = aso.filter(~on)
    if "redundant" in off.columns:  # the same locus aligned a worse way (pmcore.aso)
        off = off.filter(~pl.col("redundant").fill_null(False))
    mm = pl.col("n_mismatches") if "n_mismatches" in off.columns else pl.col("mismatches")
    gaps = (pl.col("n_bulges") > 0) if "n_bulges" in off.columns else pl.lit(False)
    aggs = [pl.len().cast(pl.Int64).alias("n_offtargets"),
            *[(~gaps & (mm == k)).sum().cast(pl.Int64).alias(f"n_mm{k}") for k in range(4)],
            (~gaps & (mm >= 4)).sum().cast(pl.Int64).alias("n_mm4plus"),
            gaps.sum().cast(pl.Int64).alias("n_bulged")]
    if "risk_class" in off.columns:
        aggs += [(pl.col("risk_class") == c).sum().cast(pl.Int64).alias(f"n_risk_{c}")
                 for c in ("high", "medium", "low")]
    if "region" in off.columns:
        aggs.append((pl.col("region") == "CDS").sum().cast(pl.Int64).alias("n_coding_exon"))
    if "regions_flagged" in off.columns:
        flagged = pl.col("regions_flagged").is_not_null() & (pl.col("regions_flagged") != "")
        aggs += [flagged.sum().cast(pl.Int64).alias("n_flagged_region"),
                 pl.col("regions_flagged").filter(flagged).str.split(",").explode().unique()
                 .sort().str.join(",").alias("flagged_regions")]
    stats = off.group_by(id_col).agg(aggs)
    score = "dg37" if "dg37" in off.columns else None
    if score is not None and {"chrom", "start", "end", "strand"} <= set(off.columns):
        col = lambda name, dtype=pl.String: (pl.col(name) if name in off.columns
                                             else pl.lit(None, dtype)).alias(name)
        top = (off.sort("ddg" if "ddg" in off.columns else score, nulls_last=True).group_by(id_col, maintain_order=True)
               .head(TOP_N).group_by(id_col).agg(pl.struct(
                   pl.col("chrom"), pl.col("start").cast(pl.Int64), pl.col("end").cast(pl.Int64),
                   pl.col("strand"),
                   (pl.col("target_aligned") if "target_aligned" in off.columns
                    else pl.lit(None, pl.String)).alias("site"),
                   mm.cast(pl.Int64).alias("mismatches"),
                   (pl.when(pl.col("n_bulges") > 0).then(pl.format(
                       "{}{}", pl.col("bulge_type"), pl.col("n_bulges")))
                    .otherwise(pl.lit(None, pl.String)) if "n_bulges" in off.columns
                    else pl.lit(None, pl.String)).alias("bulge"),
                   pl.lit("dG37").alias("score_name"), pl.col(score).cast(pl.Float64).alias("score"),
                   col("region"), (pl.col("gene") if "gene" in off.columns else
                                   pl.col("gene_name") if "gene_name" in off.columns
                                   else pl.lit(None, pl.String)).alias("gene"),
                   col("regions_flagged").alias("flagged"),
                   col("risk_class").alias("risk"),
                   pl.lit("reference").alias("origin")).alias("top_sites")))
        stats = stats.join(top, on=id_col, how="left")
    return stats.rename({id_col: "variant_id"}) if id_col != "variant_id" else stats


def _potency_stats(rp: pl.DataFrame) -> pl.DataFrame:
    lot = pl.col("lot") if "lot" in rp.columns else pl.col("sample")
    return (rp.sort("variant_id", "lot" if "lot" in rp.columns else "sample")
            .group_by("variant_id", maintain_order=True).agg(
        pl.col("rp").is_not_null().sum().cast(pl.Int64).alias("n_potency_lots"),
        pl.struct(lot.cast(pl.String).alias("lot"), pl.col("rp"), pl.col("rp_ci_low"),
                  pl.col("rp_ci_high"), pl.col("parallel_equivalent"),
                  pl.col("parallel_f_p")).alias("potency_lots"),
        pl.col("parallel_equivalent").fill_null(False).all().alias("potency_similar"),
        lot.filter(~pl.col("parallel_equivalent").fill_null(False)).cast(pl.String)
        .alias("_not_similar"),
    ))


def _stability_stats(shelf: pl.DataFrame, long_term_conditions=None) -> pl.DataFrame:
    cond = pl.col("condition").fill_null("").cast(pl.String)
    attr = pl.col("attribute").fill_null("").cast(pl.String)
    label = pl.format("{} {}", cond, attr).str.strip_chars()
    if long_term_conditions:
        long_term = pl.col("condition").is_in(list(long_term_conditions))
    else:
        long_term = pl.col("storage").is_in(["room", "refrigerated", "frozen"])
    leveraged = pl.col("borrowed").is_not_null() & (pl.col("borrowed") != "")
    return (shelf.sort("variant_id", "condition", "attribute")
            .group_by("variant_id", maintain_order=True).agg(
        pl.struct(cond.alias("condition"), attr.alias("attribute"), pl.col("model"),
                  pl.col("n_lots").cast(pl.Int64), pl.col("shelf_life_months"),
                  pl.col("shelf_life_proposed_months").cast(pl.Int64).alias("proposed_months"),
                  pl.col("limiting_lot"),
                  pl.when(leveraged).then(pl.col("borrowed")).otherwise(None).alias("leveraged"))
        .alias("shelf_life"),
        pl.col("shelf_life_proposed_months").filter(long_term).min().cast(pl.Int64)
        .alias("min_proposed_shelf_life_months"),
        pl.format("stability {}: {} own lot(s), {} model", label, pl.col("n_lots"),
                  pl.col("model").str.replace_all("_", " ")).filter(~leveraged)
        .alias("_stab_own"),
        pl.format("stability {}: {} own lot(s) with the platform's {}",
                  label, pl.col("n_lots"), pl.col("borrowed")).filter(leveraged)
        .alias("_stab_lev"),
    ))


def build_summary(tables: dict, info: dict | None = None) -> pa.Table:
    """One row per variant of ``tables['variants']`` (``SUMMARY_SCHEMA``)."""
    info = info or {}
    variants = tables.get("variants")
    if variants is None or variants.height == 0:
        raise InputError("no variants to summarize")
    base = variants.select(
        "variant_id", "platform", "modality", "patient", "mutation", "gene", "sequence",
        pl.when(pl.col("on_target_chrom").is_not_null())
        .then(pl.format("{}:{}-{}", "on_target_chrom", "on_target_start", "on_target_end"))
        .alias("on_target_locus"),
        "stability_source", "potency_source")
    parts = []
    hits, guides = tables.get("hits"), tables.get("guides")
    if hits is not None:
        pv = info.get("patient_vcfs", [])
        parts.append(_grna_stats(hits, guides, _patient_sites(tables.get("variant_hits"), pv),
                                 _patient_sites(tables.get("variant_hits"), pv, "reference")))
    vh = tables.get("variant_hits")
    if vh is not None:
        parts.append(_variant_stats(vh, info.get("patient_vcfs", [])))
    aso = tables.get("aso_hits")
    aso_stats = _aso_stats(aso) if aso is not None and aso.height else None
    onx = tables.get("aso_ontarget")
    if onx is not None:
        parts.append(onx.select("variant_id", pl.col("dg37").alias("aso_dg37"),
                                pl.col("tm").alias("aso_tm"),
                                pl.col("on_target_found").alias("_aso_found")))
    rp = tables.get("potency")
    if rp is not None:
        parts.append(_potency_stats(rp))
    shelf = tables.get("stability")
    if shelf is not None:
        parts.append(_stability_stats(shelf, info.get("long_term_conditions")))
    df = base
    for p in parts:
        df = df.join(p, on="variant_id", how="left")
    if aso_stats is not None:
        # gRNA columns and ASO columns share names: fill the ASO rows from aso_stats
        df = df.join(aso_stats, on="variant_id", how="left", suffix="_aso")
        for c in aso_stats.columns:
            if c == "variant_id":
                continue
            if c in df.columns and f"{c}_aso" in df.columns:
                df = df.with_columns(pl.coalesce(f"{c}_aso", c).alias(c)).drop(f"{c}_aso")
    for name in SUMMARY_SCHEMA.names:
        if name not in df.columns:
            df = df.with_columns(pl.lit(None).alias(name))
    counts = ["n_offtargets", "n_mm0", "n_mm1", "n_mm2", "n_mm3", "n_mm4plus", "n_bulged",
              "n_coding_exon", "n_flagged_region"]
    grna_run = pl.col("modality").is_in(["nuclease", "base_editor"]) & pl.lit(hits is not None)
    aso_run = (pl.col("modality") == "aso") & pl.lit(aso is not None)
    df = df.with_columns(
        [pl.when(grna_run | aso_run).then(pl.col(c).fill_null(0)).otherwise(pl.col(c))
         .cast(pl.Int64).alias(c) for c in counts]
        + [pl.when(aso_run).then(pl.col(c).fill_null(0)).otherwise(pl.col(c)).cast(pl.Int64)
           .alias(c) for c in ("n_risk_high", "n_risk_medium", "n_risk_low")]
        + [pl.when(pl.col("modality").is_in(["nuclease", "base_editor"]) & pl.lit(vh is not None))
           .then(pl.col(c).fill_null(0)).otherwise(pl.col(c)).cast(pl.Int64).alias(c)
           for c in ("n_patient_specific", "n_patient_removed", "n_population_specific")]
        + [pl.when(pl.col("flagged_regions") == "").then(None)
           .otherwise(pl.col("flagged_regions")).alias("flagged_regions")])
    if "_aso_found" in df.columns:
        df = df.with_columns(pl.coalesce("on_target_found", "_aso_found").alias("on_target_found"))

    errors = tables.get("errors")
    err_counts = {}
    if errors is not None and errors.height:
        for row in errors.group_by("variant_id", "step").len().iter_rows(named=True):
            err_counts.setdefault(row["variant_id"], []).append((row["step"], row["len"]))
    notes_by_variant = info.get("notes", {})
    rows = df.to_dicts()
    for r in rows:
        _finish_row(r, info, err_counts.get(r["variant_id"], []),
                    list(notes_by_variant.get(r["variant_id"], []))
                    + list(notes_by_variant.get("*", [])))
    for r in rows:
        for k in list(r):
            if k not in SUMMARY_SCHEMA.names:
                del r[k]
    table = pa.Table.from_pylist(rows, schema=SUMMARY_SCHEMA)
    return table


def _finish_row(r: dict, info: dict, errors: list, notes: list) -> None:
    """Flags, CMC provenance lists and verdicts: the words a reviewer reads."""
    flags = []
    grna = r["modality"] in ("nuclease", "base_editor")
    if r["modality"] != "base_editor":
        r["n_be_editable"] = None
    min_sl = info.get("min_shelf_life_months", 12)
    if grna:
        if r["on_target_found"] is False:
            flags.append("on-target site not found at the stated locus")
        elif r.get("on_target_status") == "multiple":
            flags.append("more than one perfect site in the genome")
        elif r.get("on_target_status") == "absent" and r.get("on_target_found") is None:
            flags.append("no perfect site in the genome")
        if (r.get("n_mm0") or 0) + (r.get("n_mm1") or 0):
            flags.append(f"{(r.get('n_mm0') or 0) + (r.get('n_mm1') or 0)} off-target(s) with "
                         "0-1 mismatches")
        if r.get("n_be_editable") and r["modality"] == "base_editor":
            flags.append(f"{r['n_be_editable']} off-target(s) with an editable base in the "
                         "window")
    else:
        if r.get("n_risk_high"):
            flags.append(f"{r['n_risk_high']} high-risk hybridization site(s)")
        if r.get("on_target_found") is False:
            flags.append("ASO target not found at the stated locus")
    if r.get("n_coding_exon"):
        flags.append(f"{r['n_coding_exon']} off-target(s) in coding exons")
    if r.get("n_flagged_region"):
        flags.append(f"{r['n_flagged_region']} off-target(s) in flagged regions "
                     f"({r.get('flagged_regions') or ''})")
    if r.get("n_patient_specific"):
        flags.append(f"{r['n_patient_specific']} patient-specific site(s) created by the "
                     "patient's variants")
    if r.get("n_patient_removed"):
        flags.append(f"{r['n_patient_removed']} site(s) removed by the patient's variants")
    # potency
    lots = r.get("potency_lots") or []
    if not lots:
        r["potency_similar"] = None
        r["potency_verdict"] = "no data"
        r["n_potency_lots"] = 0
        flags.append("no potency data")
    else:
        bad = r.get("_not_similar") or []
        if r.get("potency_similar"):
            r["potency_verdict"] = "similar"
        else:
            r["potency_verdict"] = "not similar (" + ", ".join(str(b) for b in bad) + ")"
            flags.append("potency similarity not shown for lot(s) " + ", ".join(
                str(b) for b in bad))
    # stability
    shelf = r.get("shelf_life") or []
    if not shelf:
        flags.append("no stability data")
    ms = r.get("min_proposed_shelf_life_months")
    if ms is not None and ms < min_sl:
        flags.append(f"proposed shelf life {ms} months, below {min_sl:g}")
    own = list(r.get("_stab_own") or [])
    lev = list(r.get("_stab_lev") or [])
    if lots:
        own.append(f"potency: {len(lots)} lot(s) against the reference standard")
    for what in ("stability", "potency"):
        src = r.get(f"{what}_source")
        if src and src != "shared file":
            notes.append(f"{what} data from the {src}")
    for step, n in errors:
        flags.append(f"{n} {step} record(s) failed (see errors.parquet)")
    r["cmc_variant_specific"] = own
    r["cmc_leveraged"] = lev
    r["flags"] = flags
    r["notes"] = notes


def summary_json(summary: pa.Table, info: dict) -> dict:
    """JSON document: a header (schema, provenance, platform) and one entry per variant."""
    rows = summary.to_pylist()
    return {
        "pmcore": {"schema": "variant_summary", "schema_version": SUMMARY_SCHEMA_VERSION,
                   "provenance": info.get("provenance", {})},
        "platform": info.get("platform", {}),
        "variants": {r["variant_id"]: r for r in rows},
    }


__all__ = ["TABLE_FILES", "build_summary", "load_results", "summary_json"]
