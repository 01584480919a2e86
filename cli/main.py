"""Entry point of the ``pmcore`` command: one Click group, commands from sibling modules.

Each command module exposes ``commands``, a list of Click commands; adding an area of the
CLI means adding a module here, not editing this file's logic.
"""

from __future__ import annotations

import sys

import click

from pmcore import __version__

from . import _common


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="pmcore")
@click.option("-v", "--verbose", count=True, help="More log output on stderr.")
@click.option("-q", "--quiet", is_flag=True, help="Only errors on stderr.")
@click.pass_context
def cli(ctx: click.Context, verbose: int, quiet: bool) -> None:
    """pmcore: off-target, ASO and CMC evidence for individualized genetic therapies."""
    _common.configure_logging(verbose, quiet)


def _register() -> None:
    from . import aso, cmc, demo, engine, info, run, scoring, thermo

    for module in (engine, aso, scoring, thermo, cmc, run, demo, info):
        for command in module.commands:
            cli.add_command(command)


_register()


def main(argv=None) -> None:
    """Console-script entry: maps pmcore errors to exit codes (2 input, 1 internal)."""
    sys.exit(_common.run(cli, argv))


if __name__ == "__main__":  # pragma: no cover
    main()
