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


class Progress:
    """A one-line progress display on stderr, shown only on a terminal and only once the
    work has taken more than ``delay`` seconds."""

    def __init__(self, label: str, *, delay: float = 2.0, enabled: bool | None = None):
        import time

        self._time = time.monotonic
        self.start = self._time()
        self.label = label
        self.delay = delay
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self.shown = False
        self._last = 0.0

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        now = self._time()
        if now - self.start < self.delay or now - self._last < 0.2:
            return
        self._last = now
        frac = done / total if total else 1.0
        rate = done / (now - self.start) / 1e6
        sys.stderr.write(f"\r{self.label}: {100 * frac:5.1f}%  {rate:8.1f} Mbp/s  "
                         f"{now - self.start:6.1f}s")
        sys.stderr.flush()
        self.shown = True

    def close(self) -> None:
        if self.shown:
            sys.stderr.write("\n")
            sys.stderr.flush()


def threads_option(f):
    """``--threads`` (default: every core this process may use; ``PMCORE_THREADS``)."""
    return click.option("--threads", "-t", type=click.IntRange(1, 1024), default=None,
                        show_default="all cores", envvar="PMCORE_THREADS",
                        help="Worker threads.")(f)


def resolve_threads(value):
    from pmcore.offtarget import default_threads

    return value or default_threads()
