"""``pmcore demo``: run the main job on the data embedded in the package."""

from __future__ import annotations

import click

from ._common import resolve_threads, threads_option


@click.command("demo")
@click.option("-o", "--outdir", default="pmcore-demo", show_default=True,
              type=click.Path(file_okay=False), help="Folder for the results.")
@threads_option
def demo(outdir, threads):
    """Scan, score, annotate and run the CMC statistics for a three-variant demo platform
    built into pmcore (nothing is downloaded)."""
    from pmcore.demo import run_demo

    report = run_demo(outdir, threads=resolve_threads(threads),
                      log=lambda msg: click.echo(f"pmcore demo: {msg}", err=True))
    click.echo(f"report: {report}")


commands = [demo]
