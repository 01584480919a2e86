"""``pmcore run``, ``pmcore summarize`` and ``pmcore report``: the per-variant safety and
CMC summary of a platform manifest (docs/summary.md)."""

from __future__ import annotations

import sys

import click

from ._common import Progress, resolve_threads, threads_option


def _echo(msg: str) -> None:
    click.echo(f"pmcore: {msg}", err=True)


@click.command("run")
@click.argument("manifest", type=click.Path(dir_okay=False))
@click.option("-o", "--outdir", required=True, type=click.Path(file_okay=False),
              help="Results folder (created, or replaced if pmcore wrote it).")
@click.option("--no-figures", is_flag=True,
              help="Skip the stability and potency plots (faster; the tables are the same).")
@threads_option
def run(manifest, outdir, no_figures, threads):
    """Run every step a platform MANIFEST (TOML) asks for and write the per-variant
    summary (summary.parquet/json, report.md, report.html) and detail tables.

    Steps whose inputs did not change since the last run into OUTDIR are reused."""
    from pmcore.pipeline import run_pipeline

    progress = Progress("scan")
    try:
        result = run_pipeline(manifest, outdir, threads=resolve_threads(threads),
                              command=" ".join(["pmcore", *sys.argv[1:]]), echo=_echo,
                              figures=not no_figures, scan_progress=progress)
    finally:
        progress.close()
    if result.reused:
        _echo(f"reused cached steps: {', '.join(result.reused)}")
    _echo(f"done in {result.seconds:.1f} s")
    click.echo(f"report: {result.report_html}")


@click.command("summarize")
@click.argument("results", type=click.Path(file_okay=False, exists=True))
@click.option("-o", "--outdir", type=click.Path(file_okay=False), default=None,
              help="Where to write the summary and reports (default: RESULTS itself).")
@click.option("--manifest", type=click.Path(dir_okay=False, exists=True), default=None,
              help="Take the variants and settings from this manifest (for tables made by "
                   "separate commands: hits.parquet, guides.parquet, stability.parquet...).")
def summarize(results, outdir, manifest):
    """Rebuild summary.parquet, summary.json and the reports from the detail tables of a
    RESULTS folder (written by `pmcore run`, or by separate commands with --manifest)."""
    from pmcore.pipeline import summarize_results

    summarize_results(results, outdir, manifest=manifest,
                      command=" ".join(["pmcore", *sys.argv[1:]]))
    click.echo(f"report: {outdir or results}/report.html")


@click.command("report")
@click.argument("results", type=click.Path(file_okay=False, exists=True))
def report(results):
    """Re-render report.md and report.html of a RESULTS folder (e.g. after an upgrade)."""
    from pmcore.pipeline import summarize_results

    summarize_results(results, None, command=" ".join(["pmcore", *sys.argv[1:]]))
    click.echo(f"report: {results}/report.html")


commands = [run, summarize, report]
