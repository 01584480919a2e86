"""Arrow schemas of the per-variant summary tables written by ``pmcore run`` /
``pmcore summarize`` (the one source of truth; docs/summary.md explains every column).

Bump :data:`SUMMARY_SCHEMA_VERSION` whenever a column is added, removed or changes meaning.
"""

from __future__ import annotations

import pyarrow as pa

#: Version of every table in this module.
SUMMARY_SCHEMA_VERSION = "1"

_COORDS = b"0-based half-open, forward strand"


def _f(name, typ, doc, nullable=True):
    return pa.field(name, typ, nullable=nullable, metadata={"doc": doc})


def _schema(name: str, fields) -> pa.Schema:
    return pa.schema(fields, metadata={
        b"pmcore.schema": name.encode(),
        b"pmcore.schema_version": SUMMARY_SCHEMA_VERSION.encode(),
        b"pmcore.coordinates": _COORDS,
    })


#: The product variants as the manifest declares them (``variants.parquet``).
VARIANTS_SCHEMA = _schema("variants", [
    _f("variant_id", pa.string(), "variant id from the manifest", nullable=False),
    _f("platform", pa.string(), "platform name", nullable=False),
    _f("modality", pa.string(), "nuclease, base_editor or aso", nullable=False),
    _f("patient", pa.string(), "patient label"),
    _f("mutation", pa.string(), "mutation label"),
    _f("gene", pa.string(), "target gene"),
    _f("sequence", pa.string(), "gRNA spacer or ASO sequence, 5'->3', DNA letters",
       nullable=False),
    _f("chemistry", pa.string(), "ASO design (e.g. 5-10-5); null for gRNAs"),
    _f("editor", pa.string(), "nuclease / base editor (gRNA) or null"),
    _f("on_target_chrom", pa.string(), "stated on-target locus: contig"),
    _f("on_target_start", pa.int64(), "stated on-target locus: start, 0-based"),
    _f("on_target_end", pa.int64(), "stated on-target locus: end, exclusive"),
    _f("stability_source", pa.string(), "variant file, shared file or null (no data)"),
    _f("potency_source", pa.string(), "variant file, shared file or null (no data)"),
    _f("notes", pa.string(), "free text from the manifest"),
])

TOP_SITE_TYPE = pa.struct([
    pa.field("chrom", pa.string()),
    pa.field("start", pa.int64()),
    pa.field("end", pa.int64()),
    pa.field("strand", pa.string()),
    pa.field("site", pa.string()),
    pa.field("mismatches", pa.int64()),
    pa.field("bulge", pa.string()),
    pa.field("score_name", pa.string()),
    pa.field("score", pa.float64()),
    pa.field("region", pa.string()),
    pa.field("gene", pa.string()),
    pa.field("flagged", pa.string()),
    pa.field("risk", pa.string()),
    pa.field("origin", pa.string()),
])

SHELF_LIFE_TYPE = pa.struct([
    pa.field("condition", pa.string()),
    pa.field("attribute", pa.string()),
    pa.field("model", pa.string()),
    pa.field("n_lots", pa.int64()),
    pa.field("shelf_life_months", pa.float64()),
    pa.field("proposed_months", pa.int64()),
    pa.field("limiting_lot", pa.string()),
    pa.field("leveraged", pa.string()),
])

POTENCY_LOT_TYPE = pa.struct([
    pa.field("lot", pa.string()),
    pa.field("rp", pa.float64()),
    pa.field("rp_ci_low", pa.float64()),
    pa.field("rp_ci_high", pa.float64()),
    pa.field("parallel_equivalent", pa.bool_()),
    pa.field("parallel_f_p", pa.float64()),
])

#: One row per variant (``summary.parquet``).
SUMMARY_SCHEMA = _schema("variant_summary", [
    _f("variant_id", pa.string(), "variant id", nullable=False),
    _f("platform", pa.string(), "platform name", nullable=False),
    _f("modality", pa.string(), "nuclease, base_editor or aso", nullable=False),
    _f("patient", pa.string(), "patient label"),
    _f("mutation", pa.string(), "mutation label"),
    _f("gene", pa.string(), "target gene"),
    _f("sequence", pa.string(), "gRNA spacer or ASO, 5'->3'", nullable=False),
    _f("on_target_locus", pa.string(), "stated on-target locus CHROM:START-END (0-based)"),
    _f("on_target_found", pa.bool_(),
       "gRNA: a perfect site lies in the stated locus (without a locus: a perfect site "
       "exists, see on_target_status); ASO: the ASO's perfect target lies in the locus"),
    _f("on_target_status", pa.string(), "unique / multiple / absent (gRNA perfect sites)"),
    _f("n_offtargets", pa.int64(),
       "off-target sites found (gRNA: every site but the on-target locus; ASO: every "
       "hybridization site but the on-target); null when the search was not run"),
    _f("n_mm0", pa.int64(), "off-targets without bulge and with 0 mismatches"),
    _f("n_mm1", pa.int64(), "... 1 mismatch"),
    _f("n_mm2", pa.int64(), "... 2 mismatches"),
    _f("n_mm3", pa.int64(), "... 3 mismatches"),
    _f("n_mm4plus", pa.int64(), "... 4 or more mismatches"),
    _f("n_bulged", pa.int64(), "off-targets with a DNA or RNA bulge (gRNA) or gap (ASO)"),
    _f("class_counts", pa.string(), "gRNA: 'mm:bulges=count' classes (docs/scoring.md)"),
    _f("n_risk_high", pa.int64(), "ASO: sites of risk class high (pmcore.aso_risk)"),
    _f("n_risk_medium", pa.int64(), "ASO: sites of risk class medium"),
    _f("n_risk_low", pa.int64(), "ASO: sites of risk class low"),
    _f("mit_specificity", pa.float64(), "gRNA: CRISPOR MIT specificity 0-100"),
    _f("cfd_specificity", pa.float64(), "gRNA: CRISPOR CFD specificity 0-100"),
    _f("guidescan_specificity", pa.float64(), "gRNA: 1 / sum CFD, unbulged sites"),
    _f("max_offtarget_cfd", pa.float64(), "gRNA: highest CFD of an off-target site"),
    _f("n_coding_exon", pa.int64(), "off-targets in a coding exon (region CDS)"),
    _f("n_flagged_region", pa.int64(), "off-targets overlapping a BED region of the manifest"),
    _f("flagged_regions", pa.string(), "names of the flagged regions hit, comma-joined"),
    _f("n_be_editable", pa.int64(),
       "base_editor: off-targets with an editable base in the editing window"),
    _f("n_patient_specific", pa.int64(),
       "sites that exist only on a patient haplotype (VCF allele creates the site)"),
    _f("n_patient_removed", pa.int64(), "reference sites a patient allele removes"),
    _f("n_population_specific", pa.int64(), "sites created by a population VCF allele"),
    _f("top_sites", pa.list_(TOP_SITE_TYPE),
       "highest-risk off-target sites (gRNA: by CFD; ASO: by dG37), at most 5"),
    _f("aso_dg37", pa.float64(), "ASO: on-target duplex dG37, kcal/mol"),
    _f("aso_tm", pa.float64(), "ASO: on-target duplex Tm, C"),
    _f("n_potency_lots", pa.int64(), "test lots with a relative potency"),
    _f("potency_lots", pa.list_(POTENCY_LOT_TYPE), "per lot RP with 95% CI and parallelism"),
    _f("potency_similar", pa.bool_(),
       "every lot passes the equivalence test of parallelism; null without data"),
    _f("potency_verdict", pa.string(), "similar / not similar (lots) / no data"),
    _f("shelf_life", pa.list_(SHELF_LIFE_TYPE),
       "per (condition, attribute): model, shelf life, proposal, limiting lot, leverage"),
    _f("min_proposed_shelf_life_months", pa.int64(),
       "shortest proposed shelf life over the long-term conditions"),
    _f("cmc_variant_specific", pa.list_(pa.string()), "CMC evidence from the variant's own lots"),
    _f("cmc_leveraged", pa.list_(pa.string()), "CMC evidence leveraged from the platform"),
    _f("flags", pa.list_(pa.string()), "findings a reviewer should look at"),
    _f("notes", pa.list_(pa.string()), "what was not run or could not be computed, and why"),
])

#: Errors of every step (``errors.parquet``): one bad record never stops the run.
RUN_ERRORS_SCHEMA = _schema("run_errors", [
    _f("step", pa.string(), "stability, potency, aso_search, plots, ...", nullable=False),
    _f("variant_id", pa.string(), "variant concerned, if known"),
    _f("record", pa.string(), "series, sample or record concerned"),
    _f("reason", pa.string(), "what went wrong", nullable=False),
])

#: Figures drawn by ``pmcore run`` (``figures.parquet``); files live in ``figures/``.
FIGURES_SCHEMA = _schema("figures", [
    _f("variant_id", pa.string(), "variant the figure belongs to; null: platform"),
    _f("kind", pa.string(), "stability or potency", nullable=False),
    _f("caption", pa.string(), "figure caption", nullable=False),
    _f("file", pa.string(), "path relative to the results folder", nullable=False),
])

ALL_SCHEMAS = {s.metadata[b"pmcore.schema"].decode(): s for s in (
    VARIANTS_SCHEMA, SUMMARY_SCHEMA, RUN_ERRORS_SCHEMA, FIGURES_SCHEMA)}
