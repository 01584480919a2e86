"""``pmcore demo``: run the main job on the data embedded in the package."""

from __future__ import annotations

import click

from ._common import resolve_threads, threads_option


@click.command("demo")
@click.option("-o", "--outdir", default="pmcore-demo", show_default=True,
              type=click.Path(file_okay=False), help="Folder for the results.")
@click.option("--keep-inputs", type=click.Path(file_okay=False), default=None,
              help="Also write the generated inputs and manifest.toml into this folder "
                   "(to rerun them with `pmcore run`).")
@threads_option
def demo(outdir, keep_inputs, threads):
    """Run `pmcore run` on a three-variant demo platform built into pmcore: a synthetic
    genome, annotation, patient VCF, two base-editor gRNAs, one ASO, stability and potency
    data (nothing is downloaded)."""
    from pmcore.demo import run_demo

    result = run_demo(outdir, threads=resolve_threads(threads), inputs_dir=keep_inputs,
                      log=lambda msg: click.echo(f"pmcore demo: {msg}", err=True))
    click.echo(f"pmcore demo: done in {result.seconds:.1f} s", err=True)
    click.echo(f"report: {result.report_html}")


commands = [demo]
