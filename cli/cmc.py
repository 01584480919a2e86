"""``pmcore stability`` and ``pmcore potency``: the CMC statistics engine on the command line.

Both commands read a long table, analyse every series, and write the main table to
``-o`` plus companion tables beside it (``OUT.<table>.<ext>``), all atomically: either
every file appears or none does. Bad series go to the errors table; when no series is
usable the command fails with exit code 2 and writes nothing.
"""

from __future__ import annotations

import logging
import time

import click

from pmcore.errors import InputError

log = logging.getLogger("pmcore")

_FORMATS = ("parquet", "arrow", "tsv", "csv")


def _column_options(names):
    def deco(func):
        for name in reversed(names):
            flag = "--col-" + name.replace("_", "-")
            func = click.option(flag, f"col_{name}", default=None, metavar="NAME",
                                help=f"Input column holding '{name}'.")(func)
        return func
    return deco


def _columns(kwargs, names) -> dict:
    out = {}
    for name in names:
        value = kwargs.pop(f"col_{name}", None)
        if value:
            out[name] = value
    return out


def _report_errors(errors_table, what: str) -> None:
    n = errors_table.num_rows
    if not n:
        return
    rows = errors_table.to_pylist()
    for rec in rows[:20]:
        log.warning("%s series %s: %s", what, rec["series"], rec["reason"])
    if n > 20:
        log.warning("... and %d more series in the errors table", n - 20)


def _nothing_usable(errors_table, what):
    rows = errors_table.to_pylist()
    if rows:
        first = rows[0]
        more = f" (and {len(rows) - 1} more series)" if len(rows) > 1 else ""
        raise InputError(f"no usable {what} series: series {first['series']}: "
                         f"{first['reason']}{more}")
    raise InputError(f"no usable {what} series in the input")


def _outputs(out: str, names) -> dict:
    from pmcore.cmc.io import sidecar

    outputs = {names[0]: out}
    for name in names[1:]:
        outputs[name] = sidecar(out, name)
    return outputs


@click.command("stability")
@click.argument("data", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="Shelf-life table (.parquet, .arrow, .tsv or .csv); companion tables "
                   "OUT.poolability, OUT.lots and OUT.errors are written beside it.")
@click.option("--lower", type=float, default=None, help="Lower acceptance limit.")
@click.option("--upper", type=float, default=None, help="Upper acceptance limit.")
@click.option("--spec", "spec_path", type=click.Path(exists=True, dir_okay=False),
              help="Specification table: optional variant_id/condition/attribute columns "
                   "and lower_limit/upper_limit.")
@_column_options(["lot", "time", "value", "variant_id", "condition", "attribute",
                  "time_unit", "lower_limit", "upper_limit", "platform_group"])
@click.option("--sheet", default=None, help="Excel sheet name.")
@click.option("--alpha-pool", type=float, default=0.25, show_default=True,
              help="Significance level of the ANCOVA poolability tests.")
@click.option("--confidence", type=float, default=0.95, show_default=True,
              help="Confidence of the bound (one-sided; two-sided with both limits).")
@click.option("--separate-error", type=click.Choice(["lot", "pooled"]), default="lot",
              show_default=True,
              help="Error term when slopes differ: each lot's own fit, or the pooled "
                   "error of the full ANCOVA model.")
@click.option("--log", "log_transform", is_flag=True,
              help="Fit ln(value) (first-order kinetics).")
@click.option("--time-unit", default="months", show_default=True,
              type=click.Choice(["days", "weeks", "months", "years"]),
              help="Unit of bare numeric times (without a time_unit column or suffix).")
@click.option("--search-max", type=float, default=500.0, show_default=True,
              help="End of the crossing search range, months.")
@click.option("--storage", type=click.Choice(["auto", "room", "refrigerated", "frozen"]),
              default="auto", show_default=True,
              help="Storage category for the ICH Q1E Appendix A extrapolation limits "
                   "(auto: from the condition's temperature).")
@click.option("--accelerated-change", is_flag=True,
              help="Significant change was seen at the accelerated condition.")
@click.option("--intermediate-change", is_flag=True,
              help="Significant change was seen at the intermediate condition.")
@click.option("--platform-leverage", is_flag=True,
              help="Borrow a common slope from lots of related variants of the same "
                   "platform_group when the slope test allows it.")
@click.option("--duplicates", type=click.Choice(["warn", "error", "drop"]), default="warn",
              show_default=True, help="Identical rows: keep as replicates with a warning, "
                                      "reject the series, or drop them.")
@click.option("--strict", is_flag=True, help="Stop at the first bad series (exit 2).")
@click.option("--plots", "plots_dir", type=click.Path(file_okay=False), default=None,
              help="Write one plot per series into this folder.")
@click.option("--plot-format", type=click.Choice(["png", "svg"]), default="png",
              show_default=True)
def stability(data, output, lower, upper, spec_path, sheet, alpha_pool, confidence,
              separate_error, log_transform, time_unit, search_max, storage,
              accelerated_change, intermediate_change, platform_leverage, duplicates, strict,
              plots_dir, plot_format, **kwargs):
    """Shelf life per (variant, condition, attribute) following ICH Q1E.

    DATA is a long table (CSV, TSV, Parquet, Arrow, Excel; '-' for stdin) with columns
    lot, time, value and optionally variant_id, condition, attribute, time_unit,
    lower_limit, upper_limit, platform_group.
    """
    from pmcore.cmc.io import read_table, resolve_columns, write_tables
    from pmcore.cmc.stability import KEYS, StabilityOptions, analyze_stability, load_stability
    from pmcore.io import provenance

    columns = _columns(kwargs, ["lot", "time", "value", "variant_id", "condition",
                                "attribute", "time_unit", "lower_limit", "upper_limit",
                                "platform_group"])
    started = time.perf_counter()
    df = load_stability(data, columns, sheet=sheet)
    spec = None
    if spec_path:
        spec = read_table(spec_path)
        spec = resolve_columns(spec, columns, (), KEYS + ("lower_limit", "upper_limit"),
                               path=spec_path)
    opts = StabilityOptions(
        lower=lower, upper=upper, alpha_pool=alpha_pool, confidence=confidence,
        separate_error=separate_error, transform="log" if log_transform else "none",
        time_unit=time_unit, search_max=search_max, storage=storage,
        accelerated_change=accelerated_change, intermediate_change=intermediate_change,
        platform_leverage=platform_leverage, duplicates=duplicates, strict=strict,
        spec=spec, path=None if data == "-" else data)
    result = analyze_stability(df, opts)
    _report_errors(result.errors, "stability")
    if result.shelf_life.num_rows == 0:
        _nothing_usable(result.errors, "stability")
    outputs = _outputs(output, ["shelf_life", "poolability", "lots", "errors"])
    inputs = [p for p in (data, spec_path) if p and p != "-"]
    record = provenance(inputs=inputs, analysis="stability", options={
        k: v for k, v in vars(opts).items() if k not in ("spec", "path")})
    if plots_dir:
        from pmcore.cmc.plots import plot_stability

        plot_stability(result, plots_dir, fmt=plot_format, options=opts)
    write_tables(result.tables(), outputs, record)
    log.info("stability: %d series, %d with errors, %.2f s", result.shelf_life.num_rows,
             result.errors.num_rows, time.perf_counter() - started)



def _margin(value):
    if value is None or str(value).lower() in ("none", "off", ""):
        return None
    try:
        lo, hi = (float(v) for v in str(value).split(","))
    except ValueError:
        raise click.BadParameter(f"expected LOW,HIGH (e.g. 0.8,1.25), got {value!r}") from None
    return (lo, hi)


@click.command("potency")
@click.argument("data", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="Relative-potency table (.parquet, .arrow, .tsv or .csv); companion "
                   "tables OUT.params and OUT.errors are written beside it.")
@click.option("--reference", required=True, metavar="NAME",
              help="Sample name of the reference standard.")
@_column_options(["sample", "dose", "response", "variant_id", "lot", "assay", "plate"])
@click.option("--sheet", default=None, help="Excel sheet name.")
@click.option("--ci", "ci_method", type=click.Choice(["delta", "fieller"]), default="delta",
              show_default=True, help="Relative-potency interval: log-scale delta method "
                                      "or Fieller's theorem.")
@click.option("--confidence", type=float, default=0.95, show_default=True)
@click.option("--equivalence-confidence", type=float, default=0.90, show_default=True,
              help="Confidence of the ratio intervals compared with the margins.")
@click.option("--margin-hill", default="0.8,1.25", show_default=True,
              help="Equivalence margins of the hill-slope ratio ('none' to skip).")
@click.option("--margin-upper", default="0.8,1.25", show_default=True,
              help="Margins of the upper-asymptote ratio ('none' to skip).")
@click.option("--margin-lower", default="none", show_default=True,
              help="Margins of the lower-asymptote ratio.")
@click.option("--margin-range", default="none", show_default=True,
              help="Margins of the response-range ratio.")
@click.option("--min-doses", type=int, default=4, show_default=True)
@click.option("--strict", is_flag=True, help="Stop at the first bad sample (exit 2).")
@click.option("--plots", "plots_dir", type=click.Path(file_okay=False), default=None,
              help="Write one curve-overlay plot per group into this folder.")
@click.option("--plot-format", type=click.Choice(["png", "svg"]), default="png",
              show_default=True)
def potency(data, output, reference, sheet, ci_method, confidence, equivalence_confidence,
            margin_hill, margin_upper, margin_lower, margin_range, min_doses, strict,
            plots_dir, plot_format, **kwargs):
    """Relative potency by 4PL fits against a reference standard.

    DATA is a long table with columns sample, dose, response and optionally
    variant_id, lot, assay, plate (one analysis group per combination of these).
    """
    from pmcore.cmc.io import write_tables
    from pmcore.cmc.potency import PotencyOptions, analyze_potency, load_potency
    from pmcore.io import provenance

    columns = _columns(kwargs, ["sample", "dose", "response", "variant_id", "lot", "assay",
                                "plate"])
    started = time.perf_counter()
    df = load_potency(data, columns, sheet=sheet)
    opts = PotencyOptions(
        reference=reference, confidence=confidence, ci_method=ci_method,
        equivalence_confidence=equivalence_confidence, margin_hill=_margin(margin_hill),
        margin_upper=_margin(margin_upper), margin_lower=_margin(margin_lower),
        margin_range=_margin(margin_range), min_doses=min_doses, strict=strict,
        path=None if data == "-" else data)
    result = analyze_potency(df, opts)
    _report_errors(result.errors, "potency")
    if result.rp.num_rows == 0:
        _nothing_usable(result.errors, "potency")
    outputs = _outputs(output, ["rp", "params", "errors"])
    record = provenance(inputs=[data] if data != "-" else [], analysis="potency",
                        options={k: v for k, v in vars(opts).items() if k != "path"})
    if plots_dir:
        from pmcore.cmc.plots import plot_potency

        plot_potency(result, plots_dir, fmt=plot_format)
    write_tables(result.tables(), outputs, record)
    log.info("potency: %d relative potencies, %d errors, %.2f s", result.rp.num_rows,
             result.errors.num_rows, time.perf_counter() - started)


commands = [stability, potency]
