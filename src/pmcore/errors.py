"""One error taxonomy for the whole package.

Input errors carry where the problem is (file, line or record) and why; the CLI turns
them into one readable line and exit code 2. Kernel and allocation errors are internal
failures (exit code 1).
"""

from __future__ import annotations


class PmcoreError(Exception):
    """Base class of every error pmcore raises on purpose."""


class InputError(PmcoreError, ValueError):
    """Bad user input: a file, a record, an option value.

    Parameters
    ----------
    reason : str
        What is wrong, in words a user understands.
    path : str, optional
        The file concerned.
    line : int, optional
        1-based line number in that file.
    record : str, optional
        Record (sequence id, guide id, series key...) concerned.
    """

    def __init__(self, reason: str, *, path=None, line=None, record=None):
        self.reason = reason
        self.path = None if path is None else str(path)
        self.line = line
        self.record = record
        super().__init__(self.format())

    def format(self) -> str:
        where = []
        if self.path:
            where.append(self.path if self.line is None else f"{self.path}:{self.line}")
        elif self.line is not None:
            where.append(f"line {self.line}")
        if self.record is not None:
            where.append(f"record {self.record!r}")
        return (", ".join(where) + ": " if where else "") + self.reason


class StoreError(InputError):
    """A genome store file that is missing, truncated, corrupted or of another version."""


class AllocationError(PmcoreError, MemoryError):
    """A buffer could not be allocated."""


class KernelError(PmcoreError, RuntimeError):
    """A compiled kernel reported an internal failure."""

    def __init__(self, function: str, reason: str):
        self.function = function
        super().__init__(f"{function}: {reason}")
