"""Reading CMC inputs (CSV, TSV, Parquet, Arrow IPC, Excel) and writing CMC tables.

Inputs are read with every column as text, so that a non-numeric value can be reported
with its row instead of silently becoming null; numbers are parsed afterwards by the
analysis modules. Each row keeps ``_row`` (1-based data row) and, for delimited text,
``_line`` (1-based line in the file, the header being line 1).
"""

from __future__ import annotations

import contextlib
import io as _io
import sys
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
from pyarrow import feather

from pmcore.errors import InputError
from pmcore.io import atomic_path, with_provenance

_DELIMITED = {".csv": ",", ".tsv": "\t", ".tab": "\t", ".txt": "\t"}
_EXCEL = {".xlsx", ".xlsm", ".xls", ".ods"}
_ARROW = {".arrow", ".ipc", ".feather"}


def _suffix(path: str) -> str:
    name = str(path).lower()
    name = name.removesuffix(".gz")
    return Path(name).suffix


def read_table(path, *, sheet: str | None = None) -> pl.DataFrame:
    """Read a long-format table with every column as text.

    Parameters
    ----------
    path : str or Path
        ``.csv``, ``.tsv``/``.tab``/``.txt`` (optionally gzip-compressed), ``.parquet``,
        ``.arrow``/``.ipc``/``.feather``, or ``.xlsx`` (when an Excel reader is
        installed). ``-`` reads CSV or TSV from standard input (the separator is
        guessed from the header line).
    sheet : str, optional
        Excel sheet name (first sheet by default).

    Returns
    -------
    polars.DataFrame
        String columns with surrounding whitespace removed, plus ``_row`` and ``_line``.
    """
    spath = str(path)
    suffix = _suffix(spath)
    has_lines = True
    try:
        if spath == "-":
            data = sys.stdin.buffer.read()
            first = data.split(b"\n", 1)[0]
            sep = "\t" if b"\t" in first else ","
            df = pl.read_csv(_io.BytesIO(data), separator=sep, infer_schema=False,
                             truncate_ragged_lines=False)
        elif not Path(spath).is_file():
            raise InputError("no such file", path=spath)
        elif suffix in _DELIMITED:
            sep = _DELIMITED[suffix]
            if suffix == ".txt":
                with open(spath, "rb") as handle:
                    head = handle.readline()
                sep = "\t" if b"\t" in head else ","
            df = pl.read_csv(spath, separator=sep, infer_schema=False)
        elif suffix in (".parquet", ".pq"):
            df = pl.from_arrow(pq.read_table(spath))
            has_lines = False
        elif suffix in _ARROW:
            df = pl.from_arrow(feather.read_table(spath))
            has_lines = False
        elif suffix in _EXCEL:
            df = _read_excel(spath, sheet)
            has_lines = False
        else:
            raise InputError(f"unknown table format {suffix!r} (use .csv, .tsv, .parquet, "
                             ".arrow or .xlsx)", path=spath)
    except InputError:
        raise
    except (pl.exceptions.PolarsError, pa.ArrowException, OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read table: {exc}".splitlines()[0], path=spath) from None
    if isinstance(df, pl.Series):  # pragma: no cover - defensive
        df = df.to_frame()
    df = df.rename({c: str(c).strip() for c in df.columns})
    df = df.with_columns(
        [pl.col(c).cast(pl.Utf8).str.strip_chars() for c in df.columns])
    df = df.with_row_index("_row", offset=1).with_columns(pl.col("_row").cast(pl.Int64))
    if has_lines:
        df = df.with_columns((pl.col("_row") + 1).alias("_line"))
    else:
        df = df.with_columns(pl.lit(None, dtype=pl.Int64).alias("_line"))
    return df


def _read_excel(path: str, sheet: str | None) -> pl.DataFrame:
    try:
        import fastexcel  # noqa: F401
        engine = "calamine"
    except ImportError:
        try:
            import openpyxl  # noqa: F401
            engine = "openpyxl"
        except ImportError:
            raise InputError("reading Excel needs the 'fastexcel' (or 'openpyxl') package; "
                             "install it or export the sheet to CSV", path=path) from None
    kwargs = {"engine": engine}
    if sheet is not None:
        kwargs["sheet_name"] = sheet
    return pl.read_excel(path, **kwargs)


#: Usual LIMS spellings accepted when a canonical column is absent and not mapped.
ALIASES = {
    "lot": ("batch", "lot_id", "batch_id", "lot_number", "batch_number"),
    "time": ("month", "months", "timepoint", "time_point", "pull_point"),
    "value": ("result", "response_value", "measurement"),
    "variant_id": ("variant", "product", "product_id"),
    "sample": ("sample_id", "sample_name"),
    "dose": ("concentration", "conc"),
}


def resolve_columns(df: pl.DataFrame, mapping: dict[str, str], required, optional,
                    path=None) -> pl.DataFrame:
    """Rename user columns to canonical names; check that required ones exist.

    ``mapping`` maps a canonical name to the user's column name (case-insensitive
    match as a fallback). Without a mapping, a few usual spellings (:data:`ALIASES`,
    e.g. ``batch`` for ``lot``) are accepted when the canonical name is absent.
    """
    lower = {c.lower(): c for c in df.columns}
    renames = {}
    for canon in list(required) + list(optional):
        want = mapping.get(canon, canon)
        actual = want if want in df.columns else lower.get(want.lower())
        if actual is None and canon not in mapping:
            for alias in ALIASES.get(canon, ()):
                if alias in lower and lower[alias] not in renames:
                    actual = lower[alias]
                    break
        if actual is None:
            if canon in required:
                raise InputError(
                    f"required column {want!r} not found (columns: "
                    f"{', '.join(c for c in df.columns if not c.startswith('_'))}); "
                    f"name it with --col-{canon.replace('_', '-')}", path=path)
            continue
        if actual != canon:
            if canon in df.columns and canon not in renames.values():
                df = df.drop(canon)
            renames[actual] = canon
    return df.rename(renames)


def parse_column_map(items) -> dict[str, str]:
    """Parse ``canonical=user`` pairs (from ``--column``) into a dict."""
    out = {}
    for item in items or ():
        if "=" not in item:
            raise InputError(f"--column expects NAME=COLUMN, got {item!r}")
        key, value = item.split("=", 1)
        out[key.strip()] = value.strip()
    return out


def _as_arrow(table, schema: pa.Schema) -> pa.Table:
    if isinstance(table, pl.DataFrame):
        table = table.to_arrow()
    return table.select(schema.names).cast(schema)


def write_tables(tables: dict[str, tuple[pa.Table, pa.Schema]], outputs: dict[str, str],
                 record: dict) -> list[str]:
    """Write several tables atomically: every file appears only when all are written.

    ``outputs`` maps a table name to its path; the format follows the extension
    (``.parquet``, ``.arrow``/``.ipc``/``.feather``, ``.tsv``/``.txt``, ``.csv``).
    Returns the paths written.
    """
    for path in outputs.values():
        if Path(path).is_dir():
            raise InputError("output path is a directory", path=path)
        suffix = _suffix(path)
        if suffix not in (".parquet", ".pq", ".tsv", ".txt", ".tab", ".csv") + tuple(_ARROW):
            raise InputError(f"unknown output format {suffix!r} (use .parquet, .arrow, "
                             ".tsv or .csv)", path=path)
    written = []
    with contextlib.ExitStack() as stack:
        for name, path in outputs.items():
            table, schema = tables[name]
            arrow = _as_arrow(table, schema)
            meta = dict(with_provenance(schema, record).metadata or {})
            arrow = arrow.replace_schema_metadata(meta)
            suffix = _suffix(path)
            tmp = stack.enter_context(atomic_path(path, suffix))
            if suffix in (".parquet", ".pq"):
                pq.write_table(arrow, tmp, compression="zstd")
            elif suffix in _ARROW:
                feather.write_feather(arrow, tmp, compression="uncompressed")
            elif suffix in (".tsv", ".txt", ".tab", ".csv"):
                sep = "," if suffix == ".csv" else "\t"
                frame = pl.from_arrow(arrow)
                frame.write_csv(tmp, separator=sep, null_value="",
                                quote_style="never" if sep == "\t" else "necessary")
            else:
                raise InputError(f"unknown output format {suffix!r} (use .parquet, .arrow, "
                                 ".tsv or .csv)", path=path)
            written.append(str(path))
    return written


def sidecar(path: str, name: str) -> str:
    """``out.parquet`` -> ``out.<name>.parquet`` (same format as the main output)."""
    p = Path(path)
    suffix = "".join(p.suffixes[-1:]) or ".parquet"
    stem = p.name.removesuffix(suffix)
    return str(p.with_name(f"{stem}.{name}{suffix}"))


def canonical_rows(df: pl.DataFrame, required, path=None) -> pl.DataFrame:
    """Every column as text (so a bad cell is reported, not nulled), with ``_row`` (1-based
    data row) and ``_line`` (file line, null when unknown) columns; raises
    :class:`InputError` when a required column is missing."""
    df = df.with_columns([pl.col(c).cast(pl.Utf8) for c in df.columns
                          if c not in ("_row", "_line")])
    if "_row" not in df.columns:
        df = df.with_row_index("_row", offset=1).with_columns(pl.col("_row").cast(pl.Int64))
    if "_line" not in df.columns:
        df = df.with_columns(pl.lit(None, dtype=pl.Int64).alias("_line"))
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise InputError(f"missing column(s): {', '.join(missing)}", path=path)
    return df
