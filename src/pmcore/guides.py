"""Guide files: TSV/CSV with a header, plain ``SEQUENCE [ID]`` lines, or FASTA.

Recognised header names: sequence column ``guide``, ``sequence``, ``spacer``, ``grna``,
``seq``; id column ``id``, ``guide_id``, ``query_id``, ``name``; optional ``variant_id``.
A bad record (letters other than ACGTU, a length the nuclease cannot take) is reported
in the errors list and the rest of the file is kept, unless ``strict``.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass

from .errors import InputError
from .io import open_text_input
from .nucleases import Nuclease

SEQ_COLUMNS = ("guide", "sequence", "spacer", "grna", "seq", "protospacer")
ID_COLUMNS = ("id", "guide_id", "query_id", "name")


@dataclass(frozen=True)
class GuideRecord:
    id: str
    sequence: str
    line: int
    variant_id: str | None = None


@dataclass(frozen=True)
class RecordError:
    record: str
    line: int
    reason: str


def _check(seq: str, nuclease: Nuclease) -> str:
    s = seq.strip().upper().replace("U", "T")
    bad = sorted({c for c in s if c not in "ACGT"})
    if not s:
        raise ValueError("empty guide sequence")
    if bad:
        raise ValueError(f"guide {seq!r} has letters other than ACGTU: {''.join(bad)}")
    if not nuclease.min_spacer <= len(s) <= nuclease.max_spacer:
        raise ValueError(f"guide length {len(s)} is outside {nuclease.min_spacer}-"
                         f"{nuclease.max_spacer} nt accepted for {nuclease.name}")
    return s


def _raw_records(path):
    """(line, id, sequence, variant_id) tuples from any supported layout."""
    with open_text_input(path) as fh:
        lines = fh.read().splitlines()
    content = [(i + 1, ln) for i, ln in enumerate(lines) if ln.strip() and not ln.startswith("#")]
    if not content:
        raise InputError("no guides found (empty file)", path=path)
    if content[0][1].startswith(">"):
        name, start, seq = None, 0, []
        for lineno, ln in content:
            if ln.startswith(">"):
                if name is not None:
                    yield start, name, "".join(seq), None
                name, start, seq = ln[1:].split()[0] if ln[1:].split() else "", lineno, []
                if not name:
                    raise InputError("FASTA header without a name", path=path, line=lineno)
            else:
                seq.append(ln.strip())
        if name is not None:
            yield start, name, "".join(seq), None
        return
    first = content[0][1]
    delim = "\t" if "\t" in first else ("," if "," in first else None)
    fields = [f.strip().lower() for f in (first.split(delim) if delim else first.split())]
    seq_col = next((fields.index(c) for c in SEQ_COLUMNS if c in fields), None)
    if seq_col is not None:
        id_col = next((fields.index(c) for c in ID_COLUMNS if c in fields), None)
        var_col = fields.index("variant_id") if "variant_id" in fields else None
        reader = csv.reader([ln for _, ln in content[1:]], delimiter=delim or " ",
                            skipinitialspace=delim is None)
        for (lineno, _), row in zip(content[1:], reader):
            if len(row) <= seq_col:
                yield lineno, f"line{lineno}", "", None
                continue
            gid = row[id_col].strip() if id_col is not None and id_col < len(row) else ""
            var = row[var_col].strip() if var_col is not None and var_col < len(row) else None
            yield lineno, gid or f"g{lineno}", row[seq_col], var or None
        return
    for lineno, ln in content:
        parts = ln.split(delim) if delim else ln.split()
        gid = parts[1].strip() if len(parts) > 1 and parts[1].strip() else f"g{lineno}"
        yield lineno, gid, parts[0], None


def read_guides(path, nuclease: Nuclease, *, strict: bool = False):
    """Return ``(guides, errors)``; with ``strict`` the first bad record raises."""
    guides, errors, seen = [], [], set()
    for lineno, gid, seq, var in _raw_records(path):
        try:
            if gid in seen:
                raise ValueError(f"duplicate guide id {gid!r}")
            checked = _check(seq, nuclease)
        except ValueError as exc:
            if strict:
                raise InputError(str(exc), path=path, line=lineno, record=gid) from None
            errors.append(RecordError(gid, lineno, str(exc)))
            continue
        seen.add(gid)
        guides.append(GuideRecord(gid, checked, lineno, var))
    if not guides:
        detail = f"; first problem: line {errors[0].line}: {errors[0].reason}" if errors else ""
        raise InputError("no usable guides" + detail, path=path)
    return guides, errors
