"""``pmcore info``: versions, implementation in use, and a genome store's summary."""

from __future__ import annotations

import json
import platform

import click

from pmcore import __version__


@click.command("info")
@click.argument("store", required=False, type=click.Path(dir_okay=False))
@click.option("--verify", is_flag=True, help="Also recompute the store's body checksum.")
def info(store, verify):
    """Print versions and the kernel implementation; with STORE, describe a genome store."""
    from pmcore import kernels

    out = {
        "pmcore": __version__,
        "python": platform.python_version(),
        **kernels.describe(),
    }
    if store:
        from pmcore.genome import GenomeStore

        with GenomeStore.open(store) as gs:
            if verify:
                gs.verify()
            out["store"] = gs.describe()
            out["store"]["verified"] = bool(verify)
    click.echo(json.dumps(out, indent=2))


commands = [info]
