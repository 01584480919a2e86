"""Writers for hit tables: Parquet (native), TSV, BED6+ and Cas-OFFinder text.

Every writer streams record batches and writes to a temporary file renamed into place on
success (``-`` streams TSV to standard output), so memory stays bounded however many
hits there are and a failed run leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import sys

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from .errors import InputError
from .io import atomic_path, with_provenance

FORMATS = ("parquet", "tsv", "bed")


def infer_format(path: str, fmt: str | None) -> str:
    if fmt:
        fmt = fmt.lower()
        if fmt not in FORMATS:
            raise InputError(f"unknown output format {fmt!r}; choose one of {', '.join(FORMATS)}")
        return fmt
    if path == "-":
        return "tsv"
    low = path.lower()
    if low.endswith((".parquet", ".pq")):
        return "parquet"
    if low.endswith((".bed", ".bed.txt")):
        return "bed"
    if low.endswith((".tsv", ".txt", ".tab")):
        return "tsv"
    raise InputError(f"cannot tell the output format from {path!r}; use --format "
                     + "/".join(FORMATS))


def _tsv_lines(batch: pa.RecordBatch, header: bool) -> str:
    df = pl.from_arrow(batch)
    return df.write_csv(separator="\t", include_header=header, quote_style="never")


def _bed_lines(batch: pa.RecordBatch) -> str:
    df = pl.from_arrow(batch).select(
        "chrom", "start", "end",
        name=pl.col("query_id"),
        score=pl.col("mismatches").cast(pl.Int32),
        strand="strand",
        site="site", aligned_guide="aligned_guide", bulge_type="bulge_type",
        bulge_size="bulge_size",
    )
    return df.write_csv(separator="\t", include_header=False, quote_style="never")


@contextlib.contextmanager
def hit_writer(path: str, fmt: str, schema: pa.Schema | None, provenance: dict):
    """Context manager yielding ``write(batch)``; the file appears only on success.

    ``schema`` may be None: the first batch's schema is used (tables with extra columns,
    e.g. scored or annotated hits).
    """
    if path == "-":
        first = [True]

        def write_stdout(batch):
            sys.stdout.write(_tsv_lines(batch, first[0]))
            first[0] = False

        yield write_stdout
        if first[0] and schema is not None:
            sys.stdout.write("\t".join(schema.names) + "\n")
        sys.stdout.flush()
        return
    with atomic_path(path) as tmp:
        if fmt == "parquet":
            state = {"writer": None}

            def write_parquet(batch):
                if state["writer"] is None:
                    state["writer"] = pq.ParquetWriter(
                        tmp, with_provenance(schema or batch.schema, provenance),
                        compression="zstd")
                state["writer"].write_batch(batch)

            try:
                yield write_parquet
                if state["writer"] is None and schema is not None:
                    write_parquet(schema.empty_table().to_batches(max_chunksize=1)[0]
                                  if schema.empty_table().num_rows else
                                  pa.RecordBatch.from_pylist([], schema=schema))
            finally:
                if state["writer"] is not None:
                    state["writer"].close()
        else:
            with open(tmp, "w", newline="\n") as fh:
                if fmt == "tsv":
                    first = [True]

                    def write_tsv(batch):
                        fh.write(_tsv_lines(batch, first[0]))
                        first[0] = False

                    yield write_tsv
                    if first[0] and schema is not None:
                        fh.write("\t".join(schema.names) + "\n")
                else:
                    yield lambda batch: fh.write(_bed_lines(batch))
