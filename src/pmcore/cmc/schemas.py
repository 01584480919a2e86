"""Arrow schemas of the CMC tables (stability and potency): versioned constants.

Every table the CMC engine returns is built against one of these schemas, so the
Parquet, Arrow IPC and TSV outputs always carry the same columns in the same order.
Times are in months everywhere (converted from the input's unit at the file edge).
"""

from __future__ import annotations

import pyarrow as pa

#: Bumped whenever a column of a CMC table is added, removed or changes meaning.
CMC_SCHEMA_VERSION = "1"


def _schema(name: str, fields: list[pa.Field]) -> pa.Schema:
    return pa.schema(fields, metadata={
        b"pmcore.schema": name.encode(),
        b"pmcore.schema_version": CMC_SCHEMA_VERSION.encode(),
        b"pmcore.time_unit": b"months",
    })


def _f(name, typ, doc, nullable=True):
    return pa.field(name, typ, nullable=nullable, metadata={"doc": doc})


_SERIES_KEYS = [
    _f("variant_id", pa.string(), "product variant ('' when the input has no such column)"),
    _f("condition", pa.string(), "storage condition label, e.g. 25C/60%RH"),
    _f("attribute", pa.string(), "quality attribute, e.g. potency, purity"),
]

STABILITY_LOTS_SCHEMA = _schema("cmc_stability_lots", _SERIES_KEYS + [
    _f("lot", pa.string(), "lot (batch) identifier", nullable=False),
    _f("n_obs", pa.int64(), "observations of this lot", nullable=False),
    _f("n_times", pa.int64(), "distinct time points of this lot", nullable=False),
    _f("time_max_months", pa.float64(), "last time point of this lot"),
    _f("intercept", pa.float64(), "own OLS intercept (transformed scale if log)"),
    _f("slope", pa.float64(), "own OLS slope per month (transformed scale if log)"),
    _f("slope_se", pa.float64(), "standard error of the own slope"),
    _f("slope_p", pa.float64(), "two-sided p-value of the own slope (t test)"),
    _f("rss", pa.float64(), "residual sum of squares of the own fit"),
    _f("df", pa.int64(), "residual degrees of freedom of the own fit (n_obs - 2)"),
    _f("sigma", pa.float64(), "residual standard deviation of the own fit"),
    _f("model_intercept", pa.float64(), "this lot's intercept under the selected model"),
    _f("model_slope", pa.float64(), "this lot's slope under the selected model"),
    _f("crossing_months", pa.float64(),
       "earliest time the confidence bound of this lot's line (selected model) meets a "
       "limit; null when it does not within the search range"),
    _f("crossing_side", pa.string(), "'lower' or 'upper' limit met; null when none"),
    _f("crosses", pa.bool_(), "this lot's bound meets a limit within the search range "
                              "(null for borrowed lots)"),
    _f("borrowed", pa.bool_(), "lot of a related platform variant, used only for the "
                               "common slope (platform leverage)"),
])

STABILITY_POOLABILITY_SCHEMA = _schema("cmc_stability_poolability", _SERIES_KEYS + [
    _f("n_lots", pa.int64(), "lots in the ANCOVA (borrowed platform lots included)"),
    _f("n_obs", pa.int64(), "observations in the ANCOVA"),
    _f("rss_separate", pa.float64(), "RSS of the full model (lot, time, lot:time)"),
    _f("df_separate", pa.int64(), "residual df of the full model"),
    _f("rss_common_slope", pa.float64(), "RSS of the common-slope model (lot, time)"),
    _f("df_common_slope", pa.int64(), "residual df of the common-slope model"),
    _f("rss_common_line", pa.float64(), "RSS of the common-line model (time)"),
    _f("df_common_line", pa.int64(), "residual df of the common-line model"),
    _f("f_slopes", pa.float64(), "F for lot:time (equality of slopes), full-model error"),
    _f("p_slopes", pa.float64(), "p-value of f_slopes"),
    _f("f_intercepts", pa.float64(),
       "F for lot entered after time (equality of intercepts), full-model error"),
    _f("p_intercepts", pa.float64(), "p-value of f_intercepts"),
    _f("alpha_pool", pa.float64(), "significance level of the poolability tests"),
    _f("model", pa.string(), "selected model: common_line, common_slope or separate"),
    _f("shelf_life_common_line", pa.float64(), "earliest crossing under the common line"),
    _f("shelf_life_common_slope", pa.float64(), "earliest crossing under common slope"),
    _f("shelf_life_separate_pooled", pa.float64(),
       "earliest crossing, separate lines, pooled (full-model) error"),
    _f("shelf_life_separate_lot", pa.float64(),
       "earliest crossing, separate lines, each lot's own error"),
])

STABILITY_SHELF_LIFE_SCHEMA = _schema("cmc_stability_shelf_life", _SERIES_KEYS + [
    _f("model", pa.string(), "common_line, common_slope or separate", nullable=False),
    _f("p_slopes", pa.float64(), "ANCOVA p-value, equality of slopes (null with 1 lot)"),
    _f("p_intercepts", pa.float64(), "ANCOVA p-value, equality of intercepts"),
    _f("error_convention", pa.string(),
       "error term of separate lines: 'lot' (own fit) or 'pooled' (full model)"),
    _f("transform", pa.string(), "'none' or 'log' (natural log of the response)"),
    _f("lower_limit", pa.float64(), "lower acceptance limit (original scale)"),
    _f("upper_limit", pa.float64(), "upper acceptance limit (original scale)"),
    _f("sides", pa.string(), "'one-sided' or 'two-sided' confidence bound"),
    _f("confidence", pa.float64(), "confidence level of the bound, e.g. 0.95"),
    _f("n_lots", pa.int64(), "lots of this variant"),
    _f("n_obs", pa.int64(), "observations of this variant"),
    _f("long_term_months", pa.float64(), "X: longest time covered by the data"),
    _f("slope", pa.float64(), "slope of the limiting line (per month, transformed scale)"),
    _f("slope_p", pa.float64(), "two-sided p-value of that slope"),
    _f("crosses", pa.bool_(), "the bound meets a limit within the search range",
       nullable=False),
    _f("shelf_life_months", pa.float64(),
       "unrounded earliest crossing time; null when no crossing within the search range"),
    _f("shelf_life_floor_months", pa.int64(), "shelf_life_months rounded down"),
    _f("search_max_months", pa.float64(), "upper end of the crossing search range"),
    _f("storage", pa.string(), "room, refrigerated, frozen or accelerated"),
    _f("extrapolation_limit_months", pa.float64(),
       "ICH Q1E Appendix A limit on the proposal (null: no proposal)"),
    _f("extrapolation_rule", pa.string(), "Appendix A branch used"),
    _f("shelf_life_proposed_months", pa.int64(),
       "whole months: floor(min(estimate, extrapolation limit))"),
    _f("limiting_lot", pa.string(),
       "lot whose bound meets the limit first (null for the common line: all lots)"),
    _f("limiting_side", pa.string(), "'lower' or 'upper'"),
    _f("platform_group", pa.string(), "platform group of the variant"),
    _f("borrowed", pa.string(),
       "what platform leverage borrowed (lots and variants), '' when nothing"),
    _f("warnings", pa.string(), "'; '-separated warnings"),
])

ERRORS_SCHEMA = _schema("cmc_errors", [
    _f("analysis", pa.string(), "'stability' or 'potency'", nullable=False),
    _f("series", pa.string(), "series key as text", nullable=False),
    _f("variant_id", pa.string(), "variant of the series"),
    _f("row", pa.int64(), "1-based data row (header not counted) of the first problem"),
    _f("line", pa.int64(), "1-based line in a delimited text input (header is line 1)"),
    _f("reason", pa.string(), "why the series has no result", nullable=False),
])

_POTENCY_KEYS = [
    _f("variant_id", pa.string(), "product variant"),
    _f("lot", pa.string(), "lot"),
    _f("assay", pa.string(), "assay / run"),
    _f("plate", pa.string(), "plate"),
]

POTENCY_PARAMS_SCHEMA = _schema("cmc_potency_params", _POTENCY_KEYS + [
    _f("sample", pa.string(), "sample name", nullable=False),
    _f("is_reference", pa.bool_(), "sample is the reference standard", nullable=False),
    _f("fit", pa.string(), "'individual' (own 4PL) or 'parallel' (constrained fit)",
       nullable=False),
    _f("n_obs", pa.int64(), "observations"),
    _f("n_doses", pa.int64(), "distinct doses (zero included)"),
    _f("bottom", pa.float64(), "response at zero dose asymptote (A of 4PL)"),
    _f("top", pa.float64(), "response at infinite dose asymptote (D of 4PL)"),
    _f("hill", pa.float64(), "slope on log dose; y = A + (D-A)/(1+(EC50/x)^hill)"),
    _f("ec50", pa.float64(), "dose at the mid-point between the asymptotes"),
    _f("log_ec50_se", pa.float64(), "standard error of ln(EC50)"),
    _f("rss", pa.float64(), "residual sum of squares"),
    _f("df", pa.int64(), "residual degrees of freedom"),
    _f("converged", pa.bool_(), "optimizer converged"),
])

POTENCY_RP_SCHEMA = _schema("cmc_potency_rp", _POTENCY_KEYS + [
    _f("sample", pa.string(), "test sample", nullable=False),
    _f("reference", pa.string(), "reference standard", nullable=False),
    _f("rp", pa.float64(), "relative potency EC50_ref / EC50_test (parallel fit)"),
    _f("rp_ci_low", pa.float64(), "lower confidence limit of rp; null when unbounded"),
    _f("rp_ci_high", pa.float64(), "upper confidence limit of rp; null when unbounded"),
    _f("ci_method", pa.string(), "'delta' (log scale) or 'fieller'"),
    _f("ci_bounded", pa.bool_(), "False when the Fieller interval is not a finite interval"),
    _f("confidence", pa.float64(), "confidence level"),
    _f("parallel_f", pa.float64(), "F statistic: parallel vs unconstrained 4PL fits"),
    _f("parallel_f_p", pa.float64(), "p-value of parallel_f"),
    _f("hill_ratio", pa.float64(), "hill_test / hill_ref (individual fits)"),
    _f("hill_ratio_ci_low", pa.float64(), "equivalence CI (default 90%) of hill_ratio"),
    _f("hill_ratio_ci_high", pa.float64(), "equivalence CI of hill_ratio, upper end"),
    _f("upper_ratio", pa.float64(), "upper asymptote (the reference's higher one) "
                                    "test / reference"),
    _f("upper_ratio_ci_low", pa.float64(), "equivalence CI of upper_ratio"),
    _f("upper_ratio_ci_high", pa.float64(), "equivalence CI of upper_ratio, upper end"),
    _f("lower_ratio", pa.float64(), "lower asymptote test / reference"),
    _f("lower_ratio_ci_low", pa.float64(), "equivalence CI of lower_ratio"),
    _f("lower_ratio_ci_high", pa.float64(), "equivalence CI of lower_ratio, upper end"),
    _f("range_ratio", pa.float64(), "|top - bottom| test / reference"),
    _f("range_ratio_ci_low", pa.float64(), "equivalence CI of range_ratio"),
    _f("range_ratio_ci_high", pa.float64(), "equivalence CI of range_ratio, upper end"),
    _f("parallel_equivalent", pa.bool_(),
       "every tested ratio CI lies inside its equivalence margins"),
    _f("warnings", pa.string(), "'; '-separated warnings"),
])
