"""``pmcore hybrid`` (one ASO:RNA duplex) and ``pmcore aso-risk`` (risk tables of ASO sites)."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import click

from pmcore.errors import InputError

log = logging.getLogger("pmcore")

_CONDITIONS = [
    click.option("--na-mm", type=float, default=1000.0, show_default=True,
                 help="Na+ concentration, mM."),
    click.option("--mg-mm", type=float, default=0.0, show_default=True,
                 help="Mg2+ concentration, mM (> 0 switches to the Owczarzy 2008 correction)."),
    click.option("--oligo-nm", type=float, default=1000.0, show_default=True,
                 help="ASO concentration, nM."),
    click.option("--target-nm", type=float, default=1000.0, show_default=True,
                 help="Target RNA concentration, nM."),
]


_RISK = [
    click.option("--high-max-edits", type=int, default=1, show_default=True,
                 help="High risk: at most this many mismatches + bulge nt."),
    click.option("--high-ddg", type=float, default=3.0, show_default=True,
                 help="High risk: ddG to the on-target duplex at most this (kcal/mol)."),
    click.option("--medium-max-edits", type=int, default=2, show_default=True,
                 help="Medium risk: at most this many mismatches + bulge nt."),
]


def _apply(options, f):
    for opt in reversed(options):
        f = opt(f)
    return f


def conditions_options(f):
    """--na-mm, --mg-mm, --oligo-nm, --target-nm (shared with ``pmcore aso``)."""
    return _apply(_CONDITIONS, f)


def risk_options(f):
    """--high-max-edits, --high-ddg, --medium-max-edits (shared with ``pmcore aso``)."""
    return _apply(_RISK, f)


@click.command("hybrid")
@click.option("--aso", required=True,
              help="ASO 5'->3' (DNA letters; '+X' LNA and '*' linkage marks accepted; '-' "
                   "for alignment gaps).")
@click.option("--target", required=True,
              help="Target RNA 5'->3' (same aligned length as the ASO; '-' for gaps).")
@conditions_options
@click.option("--target-orientation", type=click.Choice(["5to3", "3to5"]), default="5to3",
              show_default=True, help="3to5: target written 3'->5' under the ASO.")
@click.option("--target-kind", type=click.Choice(["rna", "dna"]), default="rna",
              show_default=True, help="dna: score a DNA/DNA duplex instead of ASO:RNA.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--details", is_flag=True,
              help="Also report proxy flag, notes and mismatch/bulge counts.")
def hybrid(aso, target, na_mm, mg_mm, oligo_nm, target_nm, target_orientation, target_kind,
           as_json, details):
    """dG37 (kcal/mol), dH (kcal/mol), dS (cal/mol/K) and Tm (C) of one ASO:RNA duplex.

    Nearest-neighbour model: Sugimoto 1995 hybrid stacks, Watkins 2011 mismatches (DNA/DNA
    values as flagged proxies elsewhere), SantaLucia 1998 / Owczarzy 2008 salt corrections.
    """
    from pmcore import aso_design, thermo

    record = aso
    seq = aso
    if any(c in aso for c in "+*"):
        if "-" in aso:
            raise InputError("chemistry marks and alignment gaps cannot be mixed in --aso",
                             record=record)
        seq = aso_design.parse_aso(aso, aso_id=aso).sequence
    result = thermo.duplex_thermo(seq, target, na_mm=na_mm, mg_mm=mg_mm, oligo_nm=oligo_nm,
                                  target_nm=target_nm, target_orientation=target_orientation,
                                  target_kind=target_kind, record=record)
    if as_json:
        click.echo(json.dumps(result.to_dict(details=details)))
        return
    click.echo(f"dG37\t{result.dg37:.3f}\tkcal/mol")
    click.echo(f"dH\t{result.dh:.3f}\tkcal/mol")
    click.echo(f"dS\t{result.ds:.3f}\tcal/(mol*K)")
    click.echo(f"Tm\t{result.tm:.2f}\tC")
    if details:
        click.echo(f"proxy\t{str(result.proxy).lower()}")
        for note in result.notes:
            click.echo(f"note\t{note}")


def _read_table(path: str, what: str):
    import polars as pl

    p = Path(path)
    if not p.is_file():
        raise InputError(f"{what} not found", path=path)
    try:
        if p.suffix.lower() in (".parquet", ".pq"):
            return pl.read_parquet(p)
        sep = "," if p.suffix.lower() == ".csv" else "\t"
        return pl.read_csv(p, separator=sep, infer_schema_length=0)  # all columns as text
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - unreadable input is an input error
        raise InputError(f"cannot read {what}: {exc}", path=path) from None


@click.command("aso-risk")
@click.argument("sites", type=click.Path(dir_okay=False))
@click.option("--asos", "asos_path", required=True, type=click.Path(dir_okay=False),
              help="ASO table (TSV/CSV/Parquet): aso_id, sequence[, design].")
@click.option("-o", "--out", "prefix", required=True,
              help="Output prefix: writes PREFIX.sites/.summary as .parquet and .tsv.")
@conditions_options
@click.option("--target-orientation", type=click.Choice(["5to3", "3to5"]), default="5to3",
              show_default=True, help="How target_aligned is written.")
@risk_options
@click.option("--medium-ddg", type=float, default=None,
              help="Medium risk also when ddG is at most this (kcal/mol); off by default.")
@click.option("--worst", type=int, default=5, show_default=True,
              help="Worst sites listed per ASO in the summary.")
def aso_risk(sites, asos_path, prefix, na_mm, mg_mm, oligo_nm, target_nm, target_orientation,
             high_max_edits, high_ddg, medium_max_edits, medium_ddg, worst):
    """Score ASO sites (from the ASO search) and summarize risk per ASO.

    SITES (TSV/CSV/Parquet) needs aso_id, aso_aligned, target_aligned; optional site_id,
    chrom, start, end, strand, region, gene, is_on_target.
    """
    import polars as pl

    from pmcore import aso_risk as risk
    from pmcore.io import provenance
    from pmcore.thermo import Conditions

    cond = Conditions(na_mm, mg_mm, oligo_nm, target_nm)
    thresholds = risk.RiskThresholds(high_max_edits, high_ddg, medium_max_edits, medium_ddg)
    site_df = _read_table(sites, "site table")
    for col in ("start", "end"):
        if col in site_df.columns and site_df[col].dtype == pl.String:
            site_df = site_df.with_columns(pl.col(col).cast(pl.Int64, strict=False))
    if "is_on_target" in site_df.columns and site_df["is_on_target"].dtype == pl.String:
        site_df = site_df.with_columns(
            pl.col("is_on_target").str.to_lowercase().is_in(["true", "1", "yes"]))
    aso_df = _read_table(asos_path, "ASO table")
    scored = risk.score_sites(site_df, aso_df, conditions=cond, thresholds=thresholds,
                              target_orientation=target_orientation)
    summary = risk.summarize(scored, aso_df, conditions=cond, worst_n=worst)
    record = provenance(inputs=[sites, asos_path], conditions=cond.__dict__,
                        thresholds=thresholds.__dict__)
    paths = risk.write_risk_tables(scored, summary, prefix, record=record)
    log.info("wrote %s", ", ".join(paths))
    print(f"pmcore: {scored.height} sites, {summary.height} ASOs -> {prefix}.*",
          file=sys.stderr)


commands = [hybrid, aso_risk]
