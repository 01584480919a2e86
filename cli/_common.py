"""Shared CLI plumbing: logging to stderr, error-to-exit-code mapping, atomic outputs."""

from __future__ import annotations

import logging
import os
import sys

import click

from pmcore.errors import InputError, PmcoreError

log = logging.getLogger("pmcore")


def configure_logging(verbose: int, quiet: bool) -> None:
    level = logging.ERROR if quiet else (logging.DEBUG if verbose > 1 else
                                         logging.INFO if verbose == 1 else logging.WARNING)
    logging.basicConfig(stream=sys.stderr, level=level, format="pmcore: %(message)s")
    log.setLevel(level)


def run(group: click.Group, argv=None) -> int:
    """Run the Click group; return the process exit code.

    0 success, 2 bad input or usage, 1 internal failure. A closed stdout (``| head``)
    exits quietly.
    """
    try:
        group.main(args=argv, prog_name="pmcore", standalone_mode=False)
        return 0
    except click.exceptions.Abort:
        click.echo("pmcore: aborted", err=True)
        return 1
    except click.ClickException as exc:
        exc.show(file=sys.stderr)
        return 2
    except InputError as exc:
        click.echo(f"pmcore: error: {exc}", err=True)
        return 2
    except BrokenPipeError:
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        return 0
    except PmcoreError as exc:
        click.echo(f"pmcore: internal error: {exc}", err=True)
        return 1
    except click.exceptions.Exit as exc:
        return exc.exit_code
