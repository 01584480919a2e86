"""File plumbing shared by every part of pmcore: atomic outputs, digests, provenance.

Outputs are written to a temporary file beside the target and renamed into place only
when complete, so a failure never leaves a partial or corrupt file behind.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import json
import os
import sys
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from . import __version__

#: Key under which pmcore's provenance JSON is stored in Parquet / Arrow metadata.
PROVENANCE_KEY = b"pmcore.provenance"


@contextlib.contextmanager
def atomic_path(path, suffix: str = ""):
    """Yield a temporary path beside ``path``; rename it to ``path`` on success.

    On any exception the temporary file is removed and ``path`` is left untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix + ".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def open_output_text(path):
    """Open a text output atomically; ``-`` means standard output."""
    if str(path) == "-":
        yield sys.stdout
        sys.stdout.flush()
        return
    with atomic_path(path) as tmp:
        with open(tmp, "w", newline="\n") as handle:
            yield handle


def open_text_input(path):
    """Open a text input that may be gzip-compressed; ``-`` means standard input."""
    if str(path) == "-":
        return io.TextIOWrapper(sys.stdin.buffer, newline=None)
    with open(path, "rb") as probe:
        magic = probe.read(2)
    if magic == b"\x1f\x8b":
        return io.TextIOWrapper(gzip.open(path, "rb"), newline=None)
    return open(path, newline=None)


def file_digest(path, algorithm: str = "sha256", chunk: int = 1 << 22) -> str:
    """Hex digest of a file's bytes (streamed)."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            h.update(block)
    return h.hexdigest()


def provenance(command: str | None = None, inputs=(), **extra) -> dict:
    """Provenance record: pmcore version, command line, inputs with their digests."""
    if command is None:
        command = " ".join(["pmcore", *sys.argv[1:]])
    recorded = []
    for item in inputs:
        p = Path(item)
        if p.is_file():
            recorded.append({"path": str(p), "sha256": file_digest(p), "bytes": p.stat().st_size})
        else:
            recorded.append({"path": str(item)})
    record = {"pmcore_version": __version__, "command": command, "inputs": recorded}
    record.update(extra)
    return record


def with_provenance(schema: pa.Schema, record: dict) -> pa.Schema:
    """Return ``schema`` with the provenance record attached as metadata."""
    meta = dict(schema.metadata or {})
    meta[PROVENANCE_KEY] = json.dumps(record, sort_keys=True).encode()
    return schema.with_metadata(meta)


def read_provenance(path) -> dict | None:
    """Provenance stored in a Parquet file by pmcore, or None."""
    meta = pq.read_schema(path).metadata or {}
    raw = meta.get(PROVENANCE_KEY)
    return None if raw is None else json.loads(raw)


def write_parquet(table, path, record: dict | None = None) -> None:
    """Write an Arrow table or Polars frame to Parquet atomically, with provenance."""
    if hasattr(table, "to_arrow"):
        table = table.to_arrow()
    if record is not None:
        table = table.replace_schema_metadata(with_provenance(table.schema, record).metadata)
    with atomic_path(path, ".parquet") as tmp:
        pq.write_table(table, tmp, compression="zstd")
