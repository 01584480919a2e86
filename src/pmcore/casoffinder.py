"""Cas-OFFinder drop-in: its input file, its 2.x and 3.x output formats.

Input (Cas-OFFinder 2.4 / 3)::

    /path/to/genome.fa | /path/to/folder      line 1
    NNNNNNNNNNNNNNNNNNNNNRG [DNA RNA]         line 2: pattern, optional bulge limits
    GGCCGACCTGTCGCTGACGCNNN 5 [id]            queries: as long as the pattern
    (blank line or end of file)

A pattern starting with a non-N letter has its PAM on the 5' side (Cas12a-style);
otherwise on the 3' side. The protospacer of a query is its span of non-N letters next
to the PAM side. With bulge limits on line 2 the output is the 3.x table; without, the
2.x format. Rows: one per bulge placement by default (as Cas-OFFinder prints them);
``merge_placements`` keeps the fewest-mismatch placement per site.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from . import __version__
from .errors import InputError
from .io import open_output_text
from .nucleases import IUPAC
from .offtarget import MAX_BULGE, MAX_MISMATCHES, OffTargetSearch, Query, SiteLayout

DEVICE_RE = re.compile(r"^[CGAcga](\d+(,\d+)*|\d*(:\d+)?)$")


@dataclass
class CofQuery:
    text: str  # the query as written (upper case), N over the PAM
    max_mismatches: int
    id: str | None
    line: int
    index: int = 0  # 0-based position among the query lines (Cas-OFFinder's default id)


@dataclass
class CofJob:
    genome: Path
    pattern: str
    max_dna: int
    max_rna: int
    bulge_mode: bool
    queries: list


def _int(value: str, what: str, path, line) -> int:
    try:
        return int(value)
    except ValueError:
        raise InputError(f"{what} must be an integer, not {value!r}", path=path,
                         line=line) from None


def parse_input(path) -> CofJob:
    """Read and check a Cas-OFFinder input file (``-`` for standard input)."""
    from .io import open_text_input

    try:
        with open_text_input(path) as fh:
            lines = fh.read().splitlines()
    except FileNotFoundError:
        raise InputError("input file not found", path=path) from None
    if len(lines) < 3:
        raise InputError("a Cas-OFFinder input needs a genome line, a pattern line and at "
                         "least one query line", path=path)
    genome = Path(lines[0].strip())
    if not genome.exists() and str(path) != "-":
        alt = Path(path).parent / genome
        genome = alt if alt.exists() else genome
    if not genome.exists():
        raise InputError(f"genome file or folder {lines[0].strip()!r} not found", path=path,
                         line=1)
    head = lines[1].split()
    if len(head) not in (1, 3):
        raise InputError("line 2 must be '<pattern>' or '<pattern> <DNA bulge> <RNA bulge>'",
                         path=path, line=2)
    pattern = head[0].upper().replace("U", "T")
    bad = sorted({c for c in pattern if c not in IUPAC})
    if bad:
        raise InputError(f"pattern has letters that are not IUPAC codes: {''.join(bad)}",
                         path=path, line=2)
    max_dna = max_rna = 0
    if len(head) == 3:
        max_dna = _int(head[1], "DNA bulge size", path, 2)
        max_rna = _int(head[2], "RNA bulge size", path, 2)
        for what, v in (("DNA bulge size", max_dna), ("RNA bulge size", max_rna)):
            if not 0 <= v <= MAX_BULGE:
                raise InputError(f"{what} must be 0-{MAX_BULGE}, not {v}", path=path, line=2)
    queries = []
    n_fields = None
    for lineno, raw in enumerate(lines[2:], start=3):
        if not raw.strip():
            break
        parts = raw.split()
        if len(parts) not in (2, 3):
            raise InputError("query line must be '<query> <max mismatches> [id]'", path=path,
                             line=lineno)
        if n_fields is None:
            n_fields = len(parts)
        elif n_fields != len(parts):
            raise InputError("every query line must have the same number of fields",
                             path=path, line=lineno)
        text = parts[0].upper().replace("U", "T")
        bad = sorted({c for c in text if c not in IUPAC})
        if bad:
            raise InputError(f"query has letters that are not IUPAC codes: {''.join(bad)}",
                             path=path, line=lineno)
        if len(text) != len(pattern):
            raise InputError(f"query length {len(text)} differs from the pattern length "
                             f"{len(pattern)}", path=path, line=lineno)
        mm = _int(parts[1], "mismatch limit", path, lineno)
        if not 0 <= mm <= MAX_MISMATCHES:
            raise InputError(f"mismatch limit must be 0-{MAX_MISMATCHES}, not {mm}", path=path,
                             line=lineno)
        queries.append(CofQuery(text, mm, parts[2] if len(parts) == 3 else None, lineno,
                                len(queries)))
    if not queries:
        raise InputError("no query lines", path=path)
    return CofJob(genome, pattern, max_dna, max_rna, len(head) == 3, queries)


def layout_for(job: CofJob, q: CofQuery, path=None) -> tuple[SiteLayout, Query]:
    """Site layout and engine query of one Cas-OFFinder query line."""
    W = len(job.pattern)
    side = 5 if job.pattern[0] != "N" else 3
    letters = [i for i, c in enumerate(q.text) if c != "N"]
    if not letters:
        raise InputError("query has no letters other than N", path=path, line=q.line)
    if side == 3:
        L = letters[-1] + 1
        pam, spacer, pam_q, proto = job.pattern[L:], q.text[:L], q.text[L:], range(0, L)
    else:
        P = letters[0]
        L = W - P
        pam, spacer, pam_q, proto = job.pattern[:P], q.text[P:], q.text[:P], range(P, W)
    extra = tuple((i, job.pattern[i]) for i in proto if job.pattern[i] != "N")
    if extra and (job.max_dna or job.max_rna):
        raise InputError("pattern letters inside the protospacer cannot be combined with "
                         "bulges", path=path, line=2)
    if W + 2 * max(job.max_dna, job.max_rna) > 64:
        raise InputError(f"pattern of {W} nt is too long for bulges of "
                         f"{max(job.max_dna, job.max_rna)} (at most 64 nt in all)", path=path,
                         line=2)
    layout = SiteLayout(L, pam, side, job.max_dna, job.max_rna, extra)
    return layout, Query(str(q.line), spacer, q.max_mismatches, pam_q)


def run(input_path, output_path, *, threads: int = 1, merge_placements: bool = False,
        progress=None) -> int:
    """Run a Cas-OFFinder job; returns the number of rows written."""
    from .genome import open_genome

    job = parse_input(input_path)
    groups: dict = {}
    by_key = {}
    for q in job.queries:
        layout, query = layout_for(job, q, input_path)
        groups.setdefault((layout.spacer_len, layout.pam, layout.pam_side,
                           layout.extra_constraints), (layout, []))[1].append(query)
        by_key[query.id] = q
    written = 0
    with open_genome(job.genome) as store:
        chrom_text = {c.name: c.description for c in store.contigs}
        with open_output_text(output_path) as out:
            if job.bulge_mode:
                out.write(f"##Generated by pmcore {__version__} (Cas-OFFinder 3 format)\n")
                out.write("#Id\tBulge Type\tcrRNA\tDNA\tChromosome\tLocation\tDirection\t"
                          "Mismatches\tBulge Size\n")
            for layout, queries in groups.values():
                search = OffTargetSearch(store, queries, layout, threads=threads,
                                         all_placements=not merge_placements,
                                         progress=progress)
                for batch in search.batches():
                    written += _write_batch(out, batch, job, layout, by_key, chrom_text)
    return written


def _write_batch(out, batch, job, layout, by_key, chrom_text) -> int:
    cols = batch.to_pydict()
    n = batch.num_rows
    s0 = 0 if layout.pam_side == 3 else layout.pam_len
    lines = []
    for i in range(n):
        q = by_key[cols["query_id"][i]]
        chrom = chrom_text.get(cols["chrom"][i], cols["chrom"][i])
        if not job.bulge_mode:
            row = [q.text, chrom, str(cols["start"][i]), cols["site"][i], cols["strand"][i],
                   str(cols["mismatches"][i])]
            if q.id is not None:
                row.append(q.id)
        else:
            btype, bsize, bpos = cols["bulge_type"][i], cols["bulge_size"][i], cols["bulge_pos"][i]
            crrna = q.text
            if btype == "DNA":
                cut = s0 + bpos
                crrna = crrna[:cut] + "-" * bsize + crrna[cut:]
            qid = q.id if q.id is not None else str(q.index)
            row = [qid, btype, crrna, cols["site"][i], chrom, str(cols["start"][i]),
                   cols["strand"][i], str(cols["mismatches"][i]), str(bsize)]
        lines.append("\t".join(row))
    if lines:
        out.write("\n".join(lines) + "\n")
    return n
