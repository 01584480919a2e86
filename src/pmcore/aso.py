"""ASO hybridization-site search: pre-mRNA, spliced transcripts, transcript FASTA or genome.

An ASO (DNA, 5'->3') hybridizes to RNA whose sequence, written in DNA letters 5'->3', is the
reverse complement of the ASO. The search therefore runs pmcore's off-target engine
(:mod:`pmcore.offtarget`, no PAM) with ``revcomp(aso)`` as the query over RNA-sense text, and
turns each hit into an ASO:RNA alignment that :mod:`pmcore.aso_risk` scores.

Search space (``mode``)
-----------------------
``premrna+transcripts`` (default, needs a gene model)
    Every pre-mRNA (transcript span on its transcribed strand) and every spliced transcript.
    Windows inside one exon are the same genome text in both, so they are found once (on the
    pre-mRNA) and list the transcripts that contain them; windows across an exon-exon
    junction are searched in junction segments of the spliced transcripts.
``premrna``
    Pre-mRNA only (exon-junction-spanning sites are not searched).
``transcripts``
    Spliced transcripts only: from the gene model, or from ``transcripts_fasta`` (each record a
    transcript, 5'->3'; searched on its given strand only).
``genome``
    The whole genome, both strands; annotated with the gene model when one is given.

Site semantics (what "exhaustive" means; the test-suite checks it against a brute force)
---------------------------------------------------------------------------------------
A site is a window of target RNA aligned to the whole ASO with at most ``max_mismatches``
mismatched columns and either no gap or one *internal* gap of 1..``max_bulges`` nucleotides
on one strand: extra target bases (``bulge_type`` ``target``: the ASO loops the RNA out) or
extra ASO bases (``aso``). Internal means at least one paired column on each side, so an
unpaired ASO end is never called a bulge (it is a terminal mismatch). A target letter other
than A/C/G/T (N, IUPAC) is a mismatch. Each distinct (ASO, target window) is reported once, with
its fewest mismatches; among equally good gap placements the one closest to the ASO's 3' end
is shown (any of them is the same window and mismatch count).

A bulged site overlapping a better site of the same ASO on the same strand (fewer edits =
mismatches + bulge nucleotides; ties prefer fewer bulge nucleotides) is flagged
``redundant``: it is the same locus aligned a worse way. Redundant rows stay in the hit table
(it is exhaustive) and are left out of the per-ASO summary.
"""

from __future__ import annotations

import csv
import logging
import tempfile
import time
from collections.abc import Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa

from . import aso_design, aso_risk
from .aso_design import AsoDesign
from .aso_schemas import ASO_HITS_SCHEMA, ASO_HITS_SCHEMA_VERSION
from .errors import InputError
from .thermo import Conditions

log = logging.getLogger("pmcore")

#: Limits of the ASO search (the issue's), defaults 3 and 1.
MAX_MISMATCHES = 4
MAX_BULGES = 2
DEFAULT_MISMATCHES = 3
DEFAULT_BULGES = 1
MODES = ("premrna+transcripts", "premrna", "transcripts", "genome")

#: Region priority for a site seen in several transcripts (most severe first).
REGION_ORDER = ("CDS", "UTR", "noncoding_exon", "exon_intron", "intron")
_EXONIC = {"CDS", "UTR", "noncoding_exon", "transcript"}
_INTRONIC = {"exon_intron", "intron"}

_COMP = str.maketrans("ACGTUNacgtun", "TGCAANtgcaan")
_WC = {("A", "U"), ("C", "G"), ("G", "C"), ("T", "A")}


def revcomp(seq: str) -> str:
    """Reverse complement in DNA letters (``U`` read as ``T``)."""
    return seq.upper().replace("U", "T").translate(_COMP)[::-1]


# ============================================================================ ASO input
@dataclass
class AsoSet:
    """Parsed ASOs: designs by id (input order) and optional on-target labels."""

    designs: dict = field(default_factory=dict)   # aso_id -> AsoDesign
    targets: dict = field(default_factory=dict)   # aso_id -> str (gene/transcript) or None

    def __len__(self) -> int:
        return len(self.designs)

    def frame(self) -> pl.DataFrame:
        """``aso_id, sequence, design`` (what :mod:`pmcore.aso_risk` takes)."""
        return pl.DataFrame({"aso_id": list(self.designs),
                             "sequence": [d.sequence for d in self.designs.values()],
                             "design": [d.pattern for d in self.designs.values()]},
                            schema={"aso_id": pl.String, "sequence": pl.String,
                                    "design": pl.String})


_ID_COLS = ("aso_id", "id", "name")
_SEQ_COLS = ("sequence", "seq", "aso")
_DESIGN_COLS = ("design", "pattern", "chemistry")
_TARGET_COLS = ("target", "target_gene", "on_target")


def as_aso_set(asos) -> AsoSet:
    """Normalise ASOs given as an :class:`AsoSet`, ``{id: AsoDesign or sequence}`` or a
    table with ``aso_id``, ``sequence`` and optional ``design`` / ``target`` columns."""
    if isinstance(asos, AsoSet):
        return asos
    out = AsoSet()
    if isinstance(asos, Mapping):
        for k, v in asos.items():
            d = v if isinstance(v, AsoDesign) else aso_design.parse_aso(str(v), aso_id=str(k))
            out.designs[str(k)] = d
            out.targets[str(k)] = None
        return out
    frame = asos if isinstance(asos, pl.DataFrame) else pl.DataFrame(asos)
    rows = [{k.lower(): v for k, v in r.items()} for r in frame.iter_rows(named=True)]
    return _aso_rows(rows, path=None, first_line=None)


def _pick(row: dict, names) -> str | None:
    for n in names:
        if n in row and row[n] is not None and str(row[n]).strip() != "":
            return str(row[n]).strip()
    return None


def _aso_rows(rows, path, first_line, lines=None) -> AsoSet:
    out = AsoSet()
    for i, row in enumerate(rows):
        line = lines[i] if lines else (None if first_line is None else first_line + i)
        aid = _pick(row, _ID_COLS)
        seq = _pick(row, _SEQ_COLS)
        if aid is None:
            raise InputError("ASO without an id", path=path, line=line)
        if seq is None:
            raise InputError("ASO without a sequence", path=path, line=line, record=aid)
        if aid in out.designs:
            raise InputError("duplicate ASO id", path=path, line=line, record=aid)
        try:
            d = aso_design.parse_aso(seq, _pick(row, _DESIGN_COLS), aso_id=aid)
        except InputError as exc:
            raise InputError(exc.reason, path=path, line=line, record=aid) from None
        out.designs[aid] = d
        out.targets[aid] = _pick(row, _TARGET_COLS)
    if not out.designs:
        raise InputError("no ASOs found", path=path)
    return out


def read_asos(path) -> AsoSet:
    """Read ASOs from TSV/CSV (header with ``aso_id``/``id``/``name`` and
    ``sequence``/``seq``, optional ``design`` and ``target``; or headerless ``id sequence
    [design [target]]``), Parquet, or FASTA (``>id [design=5-10-5] [target=GENE]``)."""
    p = Path(path)
    if not p.is_file():
        raise InputError("ASO file not found", path=path)
    if p.suffix.lower() in (".parquet", ".pq"):
        try:
            frame = pl.read_parquet(p)
        except Exception as exc:  # noqa: BLE001 - unreadable input is an input error
            raise InputError(f"cannot read ASO table: {exc}", path=path) from None
        rows = [{k.lower(): v for k, v in r.items()} for r in frame.iter_rows(named=True)]
        return _aso_rows(rows, path, None)
    try:
        text = p.read_text()
    except UnicodeDecodeError:
        raise InputError("ASO file is not text", path=path) from None
    lines = text.splitlines()
    first = next((ln for ln in lines if ln.strip() and not ln.startswith("#")), None)
    if first is None:
        raise InputError("no ASOs found (empty file)", path=path)
    if first.startswith(">"):
        return _read_aso_fasta(lines, path)
    sep = "," if p.suffix.lower() == ".csv" else "\t"
    numbered = [(i + 1, ln) for i, ln in enumerate(lines)
                if ln.strip() and not ln.startswith("#")]
    header = [c.strip().lower() for c in next(csv.reader([numbered[0][1]], delimiter=sep))]
    has_header = any(c in _SEQ_COLS for c in header) and any(c in _ID_COLS for c in header)
    if has_header:
        cols, body = header, numbered[1:]
    else:
        cols, body = ["aso_id", "sequence", "design", "target"], numbered
    rows, line_nos = [], []
    for lineno, ln in body:
        fields = next(csv.reader([ln], delimiter=sep))
        if len(fields) > len(cols) or (has_header and len(fields) != len(cols)):
            raise InputError(f"{len(fields)} columns, expected {len(cols)}"
                             + ("" if sep != "\t" or "\t" in ln else
                                " (the file must be tab-separated)"), path=path, line=lineno)
        if not has_header and len(fields) < 2:
            raise InputError("expected 'id<TAB>sequence[<TAB>design]' (or a header line with "
                             "aso_id and sequence)", path=path, line=lineno)
        rows.append(dict(zip(cols, fields)))
        line_nos.append(lineno)
    return _aso_rows(rows, path, None, lines=line_nos)


def _read_aso_fasta(lines, path) -> AsoSet:
    rows, line_nos = [], []
    for i, ln in enumerate(lines, 1):
        if ln.startswith(">"):
            words = ln[1:].split()
            if not words:
                raise InputError("FASTA record without a name", path=path, line=i)
            row = {"aso_id": words[0], "sequence": ""}
            for w in words[1:]:
                if "=" in w:
                    k, v = w.split("=", 1)
                    row[k.lower()] = v
            rows.append(row)
            line_nos.append(i)
        elif ln.strip() and not ln.startswith(";"):
            if not rows:
                raise InputError("sequence before the first '>' header", path=path, line=i)
            rows[-1]["sequence"] += ln.strip()
    return _aso_rows(rows, path, None, lines=line_nos)


def check_limits(max_mismatches: int, max_bulges: int) -> None:
    """Raise :class:`InputError` for limits outside 0-4 mismatches / 0-2 bulges."""
    if not isinstance(max_mismatches, (int, np.integer)) or not (
            0 <= max_mismatches <= MAX_MISMATCHES):
        raise InputError(f"mismatches must be 0-{MAX_MISMATCHES}, not {max_mismatches}",
                         record="--mismatches")
    if not isinstance(max_bulges, (int, np.integer)) or not 0 <= max_bulges <= MAX_BULGES:
        raise InputError(f"bulges must be 0-{MAX_BULGES}, not {max_bulges}",
                         record="--bulges")


# ============================================================================ search space
@dataclass
class _Space:
    """Records of one searched store and how they map to the genome.

    ``kind[i]``: 0 a genome stretch (contig or gene-body interval) searched on both strands,
    ``offset[i]`` its genome start on ``chrom[i]``; 1 a junction segment of a spliced
    transcript ('+' only) with ``pos[i]`` the genome coordinate of each base (transcript
    order); 2 a transcript from a FASTA ('+' only, no genome mapping).
    """

    store: object
    names: list
    kind: list
    chrom: list
    offset: list
    pos: list
    strand: list        # transcript strand of kind-1 records
    tx: list            # transcript index (kind 1) / name (kind 2)
    gene: list | None = None   # gene label of kind-2 records, from the FASTA header


def fasta_gene(name: str, description: str) -> str | None:
    """Gene label from a transcript FASTA header: Ensembl ``gene_symbol:X`` (else
    ``gene:X``), or GENCODE ``ENST|ENSG|...|name|GENE|len|`` (6th field)."""
    words = (description or "").split()
    for key in ("gene_symbol:", "gene:"):
        for w in words:
            if w.startswith(key) and len(w) > len(key):
                return w[len(key):]
    parts = name.split("|")
    if len(parts) >= 6 and parts[5]:
        return parts[5]
    return None


def _merge_intervals(starts, ends):
    order = np.lexsort((ends, starts))
    out = []
    for s, e in zip(starts[order].tolist(), ends[order].tolist()):
        if out and s <= out[-1][1]:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return out


def _stranded(gm) -> np.ndarray:
    return np.flatnonzero(gm.tx_strand != 0)


def gene_body_intervals(gm) -> list[tuple[str, int, int]]:
    """Union of the stranded transcript spans per contig (the pre-mRNA search space)."""
    idx = _stranded(gm)
    out = []
    for chrom in gm.chroms:
        sel = idx[gm.tx_chrom[idx] == chrom]
        if sel.size:
            out += [(chrom, s, e) for s, e in _merge_intervals(gm.tx_start[sel],
                                                               gm.tx_end[sel])]
    return out


def junction_segments(gm, fetch, window: int):
    """Pieces of spliced transcripts holding every ``window``-nt stretch that crosses an
    exon-exon junction; identical pieces (shared by isoforms) once.

    Yields ``(transcript index, strand, genome positions in transcript order, sequence)``.
    """
    seen = set()
    ptr = gm._exon_ptr
    for t in _stranded(gm).tolist():
        lo, hi = int(ptr[t]), int(ptr[t + 1])
        if hi - lo < 2:
            continue
        es, ee = gm.exon_start[lo:hi], gm.exon_end[lo:hi]
        lens = ee - es
        minus = gm.tx_strand[t] < 0
        if minus:
            es, ee, lens = es[::-1], ee[::-1], lens[::-1]
        cum = np.concatenate(([0], np.cumsum(lens)))
        total = int(cum[-1])
        # genome coordinate of every transcript base (transcript order)
        if minus:
            pos = np.concatenate([np.arange(e - 1, s - 1, -1) for s, e in
                                  zip(es.tolist(), ee.tolist())])
        else:
            pos = np.concatenate([np.arange(s, e) for s, e in zip(es.tolist(), ee.tolist())])
        segs = []
        for j in cum[1:-1].tolist():
            a, b = max(0, j - (window - 1)), min(total, j + window - 1)
            if segs and a <= segs[-1][1]:
                segs[-1][1] = max(segs[-1][1], b)
            else:
                segs.append([a, b])
        for a, b in segs:
            p = pos[a:b]
            key = (gm.tx_chrom[t], bool(minus), p.tobytes())
            if key in seen:
                continue
            seen.add(key)
            step = -1 if minus else 1
            breaks = np.flatnonzero(np.diff(p) != step) + 1
            parts = []
            for run in np.split(p, breaks):
                s0, e0 = int(run.min()), int(run.max()) + 1
                text = fetch(gm.tx_chrom[t], s0, e0)
                if len(text) != e0 - s0:
                    raise InputError(f"exon {s0}-{e0} of transcript {gm.tx_id[t]!r} lies "
                                     f"outside contig {gm.tx_chrom[t]!r}",
                                     record=gm.tx_id[t])
                parts.append(revcomp(text) if minus else text.upper())
            yield t, "-" if minus else "+", p, "".join(parts)


def _write_fasta(handle, name, seq, width=1 << 16):
    handle.write(f">{name}\n")
    for i in range(0, len(seq), width):
        handle.write(seq[i:i + width])
        handle.write("\n")


# ============================================================================ engine
def _engine_hits(store, aso_set: AsoSet, max_mm: int, max_b: int, threads: int,
                 progress=None) -> pl.DataFrame:
    """Deduplicated internal-gap sites of every ASO in one store (record coordinates)."""
    from .offtarget import OffTargetSearch, Query, SiteLayout

    by_len: dict[int, list] = {}
    for aid, d in aso_set.designs.items():
        by_len.setdefault(len(d), []).append(Query(aid, revcomp(d.sequence), max_mm))
    frames = []
    for L, queries in sorted(by_len.items()):
        layout = SiteLayout(L, "", 3, max_b, max_b)
        # every placement, so the terminal ones can be dropped before choosing the best
        search = OffTargetSearch(store, queries, layout, threads=threads,
                                 all_placements=True, progress=progress)
        batches = list(search.batches())
        if not batches:
            continue
        tab = pa.Table.from_batches(batches).select(
            ["query_id", "chrom", "start", "end", "strand", "aligned_guide", "site",
             "mismatches", "bulge_type", "bulge_size", "bulge_pos"])
        df = pl.from_arrow(tab)
        df = df.filter((pl.col("bulge_type") == "X")
                       | ((pl.col("bulge_type") == "DNA") & (pl.col("bulge_pos") >= 1)
                          & (pl.col("bulge_pos") <= L - 1))
                       | ((pl.col("bulge_type") == "RNA") & (pl.col("bulge_pos") >= 1)))
        frames.append(df.with_columns(pl.lit(L, pl.Int16).alias("aso_len")))
    if not frames:
        return pl.DataFrame(schema={"query_id": pl.String, "chrom": pl.String,
                                    "start": pl.Int64, "end": pl.Int64, "strand": pl.String,
                                    "aligned_guide": pl.String, "site": pl.String,
                                    "mismatches": pl.Int8, "bulge_type": pl.String,
                                    "bulge_size": pl.Int8, "bulge_pos": pl.Int8,
                                    "aso_len": pl.Int16})
    df = pl.concat(frames)
    # one row per window: fewest mismatches, then the placement nearest the ASO 3' end
    # (the query's 5' end = lowest engine bulge_pos)
    return (df.sort(["query_id", "chrom", "strand", "start", "end", "mismatches",
                     "bulge_pos"])
            .unique(["query_id", "chrom", "strand", "start", "end"], keep="first",
                    maintain_order=True))


def _flag_redundant(df: pl.DataFrame) -> np.ndarray:
    """Sites overlapping a better site of the same ASO, record and strand."""
    n = df.height
    red = np.zeros(n, dtype=bool)
    if n == 0:
        return red
    edits = (df["mismatches"].cast(pl.Int32) + df["bulge_size"].cast(pl.Int32)).to_numpy()
    bsz = df["bulge_size"].cast(pl.Int32).to_numpy()
    rank = edits * 16 + bsz
    key = (df["query_id"] + "\x00" + df["chrom"] + "\x00" + df["strand"]).to_numpy()
    start = df["start"].to_numpy()
    end = df["end"].to_numpy()
    order = np.lexsort((start, key))
    k, s, e, r = key[order], start[order], end[order], rank[order]
    red_sorted = np.zeros(n, dtype=bool)
    d = 1
    while d < n:
        same = k[d:] == k[:-d]
        # sorted by start, so i < j overlaps iff s[j] < e[i]
        ov = same & (s[d:] < e[:-d])
        if not ov.any():
            break
        # later one worse than earlier -> later redundant; and vice versa
        red_sorted[d:] |= ov & (r[:-d] < r[d:])
        red_sorted[:-d] |= ov & (r[d:] < r[:-d])
        d += 1
    red[order] = red_sorted
    return red


# ============================================================================ alignment text
def _alignments(aligned_guide: list[str], sites: list[str]):
    """(aso_aligned, target_aligned RNA 5'->3', target 3'->5', match line)."""
    aso_al, tgt, t35, match = [], [], [], []
    for g, s in zip(aligned_guide, sites):
        a = g[::-1].upper().translate(_COMP)
        t = s.replace("T", "U").replace("t", "u")
        r = t[::-1]
        m = []
        for x, y in zip(a, r):
            if x == "-" or y == "-":
                m.append(" ")
            elif (x, y.upper()) in _WC:
                m.append("|")
            else:
                m.append(".")
        aso_al.append(a)
        tgt.append(t)
        t35.append(r)
        match.append("".join(m))
    return aso_al, tgt, t35, match


# ============================================================================ annotation
def _annotate_transcripts(gm, chrom, strand, gpos, lens, spliced):
    """Per site: containing same-strand transcripts (with transcript-relative span), genes,
    region; and whether any transcript (either strand) overlaps.

    ``gpos``: (n, W) genome coordinates in RNA 5'->3' order, padded with -1 past ``lens``;
    ``spliced``: junction sites, which count only transcripts that contain them spliced.
    """
    n = len(chrom)
    tx_lists = [[] for _ in range(n)]
    txs_lists = [[] for _ in range(n)]
    txe_lists = [[] for _ in range(n)]
    gene_ids = [{} for _ in range(n)]
    best = np.full(n, len(REGION_ORDER), dtype=np.int64)
    any_overlap = np.zeros(n, dtype=bool)
    if gm is None or n == 0:
        return tx_lists, txs_lists, txe_lists, gene_ids, best, any_overlap
    valid = np.arange(gpos.shape[1])[None, :] < lens[:, None]
    big = np.iinfo(np.int64).max
    gmin = np.where(valid, gpos, big).min(axis=1)
    gmax = np.where(valid, gpos, -1).max(axis=1)
    q, t = gm.overlapping_transcripts(np.asarray(chrom, dtype=object), gmin, gmax + 1)
    sgn = np.where(np.asarray(strand) == "+", 1, -1)
    # 'antisense': only opposite-strand transcripts overlap the site
    same_any = np.zeros(n, dtype=bool)
    same_any[q[gm.tx_strand[t] == sgn[q]]] = True
    any_overlap[q] = True
    any_overlap &= ~same_any
    keep = ((gm.tx_strand[t] == sgn[q]) & (gm.tx_start[t] <= gmin[q])
            & (gmax[q] < gm.tx_end[t]))
    q, t = q[keep], t[keep]
    if q.size == 0:
        return tx_lists, txs_lists, txe_lists, gene_ids, best, any_overlap
    order = np.lexsort((q, t))
    q, t = q[order], t[order]
    bounds = np.flatnonzero(np.diff(t)) + 1
    ex_code = {"CDS": 0, "UTR": 1, "noncoding_exon": 2}
    results = []
    for qs_, ts_ in zip(np.split(q, bounds), np.split(t, bounds)):
        ti = int(ts_[0])
        tr = gm.transcript_at(ti)
        P = gpos[qs_]
        V = valid[qs_]
        tp = tr.to_transcript(np.where(V, P, 0))
        tp = np.where(V, tp, -2)
        exonic = (tp >= 0) | ~V
        all_exonic = exonic.all(axis=1)
        no_exonic = ((tp < 0) | ~V).all(axis=1)
        first = tp[:, 0]
        ln = lens[qs_]
        idx = np.arange(P.shape[1])[None, :]
        contiguous = all_exonic & ((tp == first[:, None] + idx) | ~V).all(axis=1)
        if tr.is_coding:
            cds = ((P >= tr.cds_start) & (P < tr.cds_end) & V).any(axis=1)
            ecls = np.where(cds, ex_code["CDS"], ex_code["UTR"])
        else:
            ecls = np.full(len(qs_), ex_code["noncoding_exon"])
        region = np.where(contiguous, ecls, np.where(no_exonic, 4, 3))
        last = first + ln - 1
        results.append((qs_, ti, contiguous, first, last, region))
    # gather in site order, transcripts in model order
    for qs_, ti, contiguous, first, last, region in results:
        tid = gm.tx_id[ti]
        gi = int(gm.tx_gene[ti])
        for j, qq in enumerate(qs_.tolist()):
            if spliced[qq] and not contiguous[j]:
                continue  # a junction site exists only in transcripts that splice it so
            gene_ids[qq][gi] = True
            if contiguous[j]:
                tx_lists[qq].append((ti, tid, int(first[j]), int(last[j]) + 1))
            best[qq] = min(best[qq], region[j])
    for i in range(n):
        if tx_lists[i]:
            tx_lists[i].sort()
            txs_lists[i] = [x[2] for x in tx_lists[i]]
            txe_lists[i] = [x[3] for x in tx_lists[i]]
            tx_lists[i] = [x[1] for x in tx_lists[i]]
    return tx_lists, txs_lists, txe_lists, gene_ids, best, any_overlap


def _premrna_coords(gm, chrom, strand, start, end):
    """Per contiguous site: the same-strand transcripts whose pre-mRNA holds it and the
    site's 0-based start on each pre-mRNA (from the transcript's 5' end)."""
    n = len(chrom)
    ids = [[] for _ in range(n)]
    offs = [[] for _ in range(n)]
    if gm is None or n == 0:
        return ids, offs
    start = np.asarray(start, dtype=np.int64)
    end = np.asarray(end, dtype=np.int64)
    q, t = gm.overlapping_transcripts(np.asarray(chrom, dtype=object), start, end)
    sgn = np.where(np.asarray(strand) == "+", 1, -1)
    keep = ((gm.tx_strand[t] == sgn[q]) & (gm.tx_start[t] <= start[q])
            & (end[q] <= gm.tx_end[t]))
    q, t = q[keep], t[keep]
    off = np.where(sgn[q] > 0, start[q] - gm.tx_start[t], gm.tx_end[t] - end[q])
    for qq, tt, oo in zip(q.tolist(), t.tolist(), off.tolist()):
        ids[qq].append(gm.tx_id[tt])
        offs[qq].append(oo)
    return ids, offs


def _blocks(p: np.ndarray) -> str:
    s = np.sort(p)
    br = np.flatnonzero(np.diff(s) != 1) + 1
    return ",".join(f"{int(r[0])}-{int(r[-1]) + 1}" for r in np.split(s, br))


# ============================================================================ main entry
@dataclass
class AsoSearchResult:
    """Hits (``ASO_HITS_SCHEMA``), per-ASO summary (``ASO_SUMMARY_SCHEMA``), run facts."""

    hits: pl.DataFrame
    summary: pl.DataFrame
    stats: dict

    def __iter__(self):  # ``hits, summary = search_asos(...)``
        return iter((self.hits, self.summary))


def search_asos(store, asos, *, gene_model=None, mode: str = "premrna+transcripts",
                transcripts_fasta=None, max_mismatches: int = DEFAULT_MISMATCHES,
                max_bulges: int = DEFAULT_BULGES, threads: int = 1,
                conditions: Conditions | None = None,
                thresholds: aso_risk.RiskThresholds | None = None,
                worst_n: int = 5, region_store: bool | None = None, tmpdir=None,
                progress=None) -> AsoSearchResult:
    """Find, align, annotate and score every hybridization site of the ASOs.

    Parameters
    ----------
    store : GenomeStore or None
        The genome (``None`` only with ``transcripts_fasta`` and no gene model).
    asos : AsoSet, mapping ``id -> AsoDesign/sequence`` or table (see :func:`as_aso_set`)
    gene_model : GeneModel, optional
        Already reconciled with the genome (``GeneModel.for_genome``). Required by the
        pre-mRNA / transcript modes.
    mode : ``premrna+transcripts`` | ``premrna`` | ``transcripts`` | ``genome``
    transcripts_fasta : path, optional
        Search these transcript sequences ('+' strand) instead of the gene model's.
    max_mismatches, max_bulges : int
        0-4 and 0-2 (defaults 3 and 1); see the module docstring for the site semantics.
    region_store : bool or None
        Pre-mRNA search on an extracted store of the gene bodies (True) or on the whole
        genome with filtering (False); None picks the smaller. Results are identical.

    Returns
    -------
    AsoSearchResult
        Unpacks as ``hits, summary`` (Polars frames).
    """
    check_limits(max_mismatches, max_bulges)
    if mode not in MODES:
        raise InputError(f"unknown search mode {mode!r} (one of {', '.join(MODES)})",
                         record="--mode")
    aso_set = as_aso_set(asos)
    conditions = conditions or Conditions()
    thresholds = thresholds or aso_risk.RiskThresholds()
    if transcripts_fasta is None and mode != "genome" and gene_model is None:
        raise InputError(f"mode {mode!r} needs a gene annotation (or a transcript FASTA)",
                         record="--annotation")
    if transcripts_fasta is not None:
        mode = "transcripts"
    if store is None and transcripts_fasta is None:
        raise InputError("no genome given", record="--genome")
    t_start = time.perf_counter()
    gm = gene_model
    Lmax = max(len(d) for d in aso_set.designs.values())
    window = Lmax + max_bulges
    stats = {"mode": mode, "asos": len(aso_set), "max_mismatches": max_mismatches,
             "max_bulges": max_bulges}
    parts = []
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(
            prefix="pmcore-aso-", dir=tmpdir)))
        spaces = []
        if transcripts_fasta is not None:
            from .genome import build_store, open_genome
            path = build_store(transcripts_fasta, tmp / "tx.pmg")
            st = stack.enter_context(open_genome(path))
            spaces.append(_Space(st, [c.name for c in st.contigs], [2] * len(st.contigs),
                                 [None] * len(st.contigs), [0] * len(st.contigs),
                                 [None] * len(st.contigs), ["+"] * len(st.contigs),
                                 [c.name for c in st.contigs],
                                 [fasta_gene(c.name, c.description) for c in st.contigs]))
            stats["searched_bases"] = st.total_bases
        elif mode == "genome":
            spaces.append(_genome_space(store))
            stats["searched_bases"] = store.total_bases
        else:
            bodies = gene_body_intervals(gm)
            body_bases = sum(e - s for _, s, e in bodies)
            use_region = (body_bases < 0.7 * store.total_bases if region_store is None
                          else region_store)
            names, kind, chrom, offset, pos, strand, tx = [], [], [], [], [], [], []
            fa = tmp / "space.fa"
            n_seq = 0
            with open(fa, "w") as handle:
                if use_region:
                    for c, s, e in bodies:
                        text = store.fetch(c, s, e, soft=False)
                        name = f"r{len(names)}"
                        _write_fasta(handle, name, text)
                        names.append(name); kind.append(0); chrom.append(c)
                        offset.append(s); pos.append(None); strand.append(None)
                        tx.append(None)
                        n_seq += 1
                if mode != "premrna":
                    for ti, st_, p, seq in junction_segments(gm, store.fetch, window):
                        name = f"r{len(names)}"
                        _write_fasta(handle, name, seq)
                        names.append(name); kind.append(1); chrom.append(gm.tx_chrom[ti])
                        offset.append(None); pos.append(p); strand.append(st_)
                        tx.append(ti)
                        n_seq += 1
            stats["gene_body_bases"] = body_bases
            stats["junction_segment_bases"] = int(sum(len(p) for p, k in zip(pos, kind)
                                                      if k == 1))
            stats["region_store"] = bool(use_region)
            if not use_region:
                spaces.append(_genome_space(store))
            if n_seq:
                from .genome import build_store, open_genome
                path = build_store(fa, tmp / "space.pmg")
                st = stack.enter_context(open_genome(path))
                spaces.append(_Space(st, names, kind, chrom, offset, pos, strand, tx))
            stats["searched_bases"] = int(
                (body_bases if use_region else store.total_bases)
                + stats["junction_segment_bases"])
        t_search = time.perf_counter()
        stats["seconds_prepare"] = round(t_search - t_start, 3)
        for sp in spaces:
            raw = _engine_hits(sp.store, aso_set, max_mismatches, max_bulges, threads,
                               progress)
            parts.append(_to_sites(raw, sp))
        t_post = time.perf_counter()
        stats["seconds_search"] = round(t_post - t_search, 3)
    hits = pl.concat(parts, how="vertical") if parts else None
    hits = _finish(hits, aso_set, gm, mode, conditions, thresholds)
    summary = aso_risk.summarize(hits.filter(~pl.col("redundant")), aso_set.frame(),
                                 conditions=conditions, worst_n=worst_n)
    stats["seconds_annotate_score"] = round(time.perf_counter() - t_post, 3)
    stats["hits"] = hits.height
    stats["redundant"] = int(hits["redundant"].sum())
    return AsoSearchResult(hits, summary, stats)


def _genome_space(store) -> _Space:
    cs = store.contigs
    return _Space(store, [c.name for c in cs], [0] * len(cs), [c.name for c in cs],
                  [0] * len(cs), [None] * len(cs), [None] * len(cs), [None] * len(cs))


_SITE_COLS = {"aso_id": pl.String, "kind": pl.Int8, "record": pl.String, "rec_start": pl.Int64,
              "rec_end": pl.Int64, "chrom": pl.String, "start": pl.Int64, "end": pl.Int64,
              "strand": pl.String, "aligned_guide": pl.String, "site": pl.String,
              "mismatches": pl.Int8, "bulge_type": pl.String, "bulge_size": pl.Int8,
              "bulge_pos": pl.Int8, "aso_len": pl.Int16, "redundant": pl.Boolean,
              "gpos": pl.List(pl.Int64), "tx_source": pl.Int64, "fasta_gene": pl.String}


def _to_sites(raw: pl.DataFrame, sp: _Space) -> pl.DataFrame:
    """Engine hits of one space -> genome-mapped site rows (still one per record window)."""
    if raw.height == 0:
        return pl.DataFrame(schema=_SITE_COLS)
    red = _flag_redundant(raw)
    raw = raw.with_columns(pl.Series("redundant", red))
    idx = {n: i for i, n in enumerate(sp.names)}
    rec = np.array([idx[c] for c in raw["chrom"].to_list()], dtype=np.int64)
    kind = np.array(sp.kind, dtype=np.int8)[rec]
    # transcript records ('+' only)
    keep = (kind == 0) | (raw["strand"].to_numpy() == "+")
    raw, rec, kind = raw.filter(pl.Series(keep)), rec[keep], kind[keep]
    rs = raw["start"].to_numpy()
    re_ = raw["end"].to_numpy()
    strand_in = raw["strand"].to_list()
    chrom, start, end, strand, gpos, txsrc = [], [], [], [], [], []
    for i in range(raw.height):
        r = int(rec[i])
        k = int(kind[i])
        s, e = int(rs[i]), int(re_[i])
        if k == 0:
            off = sp.offset[r]
            st = strand_in[i]
            g = np.arange(off + s, off + e) if st == "+" else np.arange(off + e - 1,
                                                                        off + s - 1, -1)
            chrom.append(sp.chrom[r]); start.append(off + s); end.append(off + e)
            strand.append(st); gpos.append(g.tolist()); txsrc.append(None)
        elif k == 1:
            g = sp.pos[r][s:e]
            chrom.append(sp.chrom[r]); start.append(int(g.min())); end.append(int(g.max()) + 1)
            strand.append(sp.strand[r]); gpos.append(g.tolist()); txsrc.append(sp.tx[r])
        else:
            chrom.append(None); start.append(None); end.append(None)
            strand.append(None); gpos.append(None); txsrc.append(None)
    return pl.DataFrame({
        "aso_id": raw["query_id"], "kind": pl.Series(kind, dtype=pl.Int8),
        "record": pl.Series([sp.names[int(r)] if sp.kind[int(r)] != 2 else sp.tx[int(r)]
                             for r in rec], dtype=pl.String),
        "rec_start": raw["start"], "rec_end": raw["end"],
        "chrom": pl.Series(chrom, dtype=pl.String), "start": pl.Series(start, dtype=pl.Int64),
        "end": pl.Series(end, dtype=pl.Int64), "strand": pl.Series(strand, dtype=pl.String),
        "aligned_guide": raw["aligned_guide"], "site": raw["site"],
        "mismatches": raw["mismatches"], "bulge_type": raw["bulge_type"],
        "bulge_size": raw["bulge_size"], "bulge_pos": raw["bulge_pos"],
        "aso_len": raw["aso_len"], "redundant": raw["redundant"],
        "gpos": pl.Series(gpos, dtype=pl.List(pl.Int64)),
        "tx_source": pl.Series(txsrc, dtype=pl.Int64),
        "fasta_gene": pl.Series([sp.gene[int(r)] if sp.gene else None for r in rec],
                                dtype=pl.String),
    }, schema=_SITE_COLS)


def _finish(df, aso_set: AsoSet, gm, mode: str, conditions, thresholds) -> pl.DataFrame:
    if df is None or df.height == 0:
        df = pl.DataFrame(schema=_SITE_COLS)
    # junction segments: keep only windows that really cross a junction (the others are
    # pre-mRNA windows found on the gene bodies), once per distinct genome window
    n_blocks = []
    blocks = []
    for g, k, rs, re_ in zip(df["gpos"].to_list(), df["kind"].to_list(),
                             df["rec_start"].to_list(), df["rec_end"].to_list()):
        if g is None:
            blocks.append(f"{rs}-{re_}")
            n_blocks.append(1)
        else:
            b = _blocks(np.asarray(g))
            blocks.append(b)
            n_blocks.append(b.count(",") + 1)
    df = df.with_columns(pl.Series("genome_blocks", blocks, dtype=pl.String),
                         pl.Series("n_blocks", n_blocks, dtype=pl.Int32))
    df = df.filter((pl.col("kind") != 1) | (pl.col("n_blocks") > 1))
    junction = df.filter(pl.col("kind") == 1)
    if junction.height:
        site_key = ["aso_id", "chrom", "strand", "genome_blocks"]
        agg = junction.group_by(site_key).agg(pl.col("redundant").any())
        junction = (junction.sort([*site_key, "tx_source"])
                    .unique(site_key, keep="first", maintain_order=True)
                    .drop("redundant").join(agg, on=site_key, how="left")
                    .select(df.columns))
        df = pl.concat([df.filter(pl.col("kind") != 1), junction])
    n = df.height
    # annotation
    mapped = df["gpos"].is_not_null().to_numpy() if n else np.zeros(0, bool)
    W = int(df["gpos"].list.len().max() or 0) if n and mapped.any() else 1
    gp = np.full((n, max(W, 1)), -1, dtype=np.int64)
    lens = np.zeros(n, dtype=np.int64)
    for i, g in enumerate(df["gpos"].to_list()):
        if g is not None:
            gp[i, :len(g)] = g
            lens[i] = len(g)
    sel = np.flatnonzero(mapped)
    tx_l = [[] for _ in range(n)]
    txs_l = [[] for _ in range(n)]
    txe_l = [[] for _ in range(n)]
    genes_l = [{} for _ in range(n)]
    best = np.full(n, len(REGION_ORDER), dtype=np.int64)
    anyov = np.zeros(n, dtype=bool)
    if gm is not None and sel.size:
        a, b, c, d, e, f = _annotate_transcripts(
            gm, df["chrom"].to_numpy()[sel], df["strand"].to_numpy()[sel], gp[sel],
            lens[sel], (df["kind"].to_numpy() == 1)[sel])
        for j, i in enumerate(sel.tolist()):
            tx_l[i], txs_l[i], txe_l[i], genes_l[i] = a[j], b[j], c[j], d[j]
        best[sel], anyov[sel] = e, f
    kinds = df["kind"].to_numpy() if n else np.zeros(0, np.int8)
    pre_ids = [[] for _ in range(n)]
    pre_off = [[] for _ in range(n)]
    contiguous = np.flatnonzero(mapped & (kinds == 0)) if n else np.zeros(0, np.int64)
    if gm is not None and contiguous.size:
        a, b = _premrna_coords(gm, df["chrom"].to_numpy()[contiguous],
                               df["strand"].to_numpy()[contiguous],
                               df["start"].to_numpy()[contiguous],
                               df["end"].to_numpy()[contiguous])
        for j, i in enumerate(contiguous.tolist()):
            pre_ids[i], pre_off[i] = a[j], b[j]
    region = []
    found = []
    gene_id, gene_name = [], []
    records = df["record"].to_list()
    rec_s, rec_e = df["rec_start"].to_list(), df["rec_end"].to_list()
    fgene = df["fasta_gene"].to_list()
    for i in range(n):
        k = int(kinds[i])
        if k == 2:
            region.append("transcript")
            found.append("transcript")
            tx_l[i], txs_l[i], txe_l[i] = [records[i]], [rec_s[i]], [rec_e[i]]
            gene_id.append(fgene[i])
            gene_name.append(fgene[i])
            continue
        if best[i] < len(REGION_ORDER):
            region.append(REGION_ORDER[best[i]])
        elif gm is None:
            region.append(None)
        else:
            region.append("antisense" if anyov[i] else "intergenic")
        if mode == "genome":
            found.append("genome")
        elif k == 1:
            found.append("mRNA")
        else:
            found.append("pre-mRNA+mRNA" if tx_l[i] else "pre-mRNA")
        gidx = sorted(genes_l[i])
        gene_id.append(",".join(gm.gene_id[g] for g in gidx) if gidx else None)
        gene_name.append(",".join(gm.gene_name[g] or gm.gene_id[g] for g in gidx)
                         if gidx else None)
    df = df.with_columns(
        pl.Series("region", region, dtype=pl.String),
        pl.Series("found_in", found, dtype=pl.String),
        pl.Series("gene_id", gene_id, dtype=pl.String),
        pl.Series("gene", gene_name, dtype=pl.String),
        pl.Series("transcripts", tx_l, dtype=pl.List(pl.String)),
        pl.Series("tx_starts", txs_l, dtype=pl.List(pl.Int64)),
        pl.Series("tx_ends", txe_l, dtype=pl.List(pl.Int64)),
        pl.Series("premrna_transcripts", pre_ids, dtype=pl.List(pl.String)),
        pl.Series("premrna_starts", pre_off, dtype=pl.List(pl.Int64)),
        (pl.col("kind") == 1).alias("spans_junction"),
    )
    if mode in ("premrna", "premrna+transcripts"):
        # a pre-mRNA site lies inside a transcript span on the transcribed strand
        df = df.filter((pl.col("kind") != 0) | pl.col("gene_id").is_not_null())
    elif mode == "transcripts" and gm is not None and df.height:
        df = df.filter((pl.col("kind") == 2) | (pl.col("transcripts").list.len() > 0))
        df = df.with_columns(pl.when(pl.col("kind") == 0).then(pl.lit("mRNA"))
                             .otherwise(pl.col("found_in")).alias("found_in"))
    return _score(df, aso_set, conditions, thresholds)


def _site_ids(df: pl.DataFrame) -> list[str]:
    out = []
    for a, k, rec, rs, re_, c, st, b in zip(
            df["aso_id"].to_list(), df["kind"].to_list(), df["record"].to_list(),
            df["rec_start"].to_list(), df["rec_end"].to_list(), df["chrom"].to_list(),
            df["strand"].to_list(), df["genome_blocks"].to_list()):
        if k == 2:
            out.append(f"{a}|{rec}:{rs}-{re_}")
        else:
            out.append(f"{a}|{c}:{b}:{st}")
    return out


def _on_target(df: pl.DataFrame, aso_set: AsoSet) -> np.ndarray:
    """Perfect sites in the ASO's declared target (gene id/name or transcript id); without
    a declared target, the perfect sites when they all lie in one gene (or there is one)."""
    n = df.height
    flag = np.zeros(n, dtype=bool)
    if n == 0:
        return flag
    perfect = ((df["mismatches"].cast(pl.Int32) + df["bulge_size"].cast(pl.Int32)) == 0
               ).to_numpy()
    aso = df["aso_id"].to_list()
    gid = df["gene_id"].to_list()
    gname = df["gene"].to_list()
    txs = df["transcripts"].to_list()
    by_aso: dict[str, list[int]] = {}
    for i in np.flatnonzero(perfect).tolist():
        by_aso.setdefault(aso[i], []).append(i)
    for a, rows in by_aso.items():
        target = aso_set.targets.get(a)
        if target:
            for i in rows:
                labels = set((gid[i] or "").split(",")) | set((gname[i] or "").split(",")) \
                    | set(txs[i] or [])
                flag[i] = target in labels
            continue
        gene_sets = [frozenset((gid[i] or "").split(",")) - {""} for i in rows]
        if len(rows) == 1:
            flag[rows[0]] = True
        elif all(gene_sets) and frozenset.intersection(*gene_sets):
            flag[rows] = True
        else:
            log.warning("ASO %s: %d perfect sites in different genes and no declared "
                        "target; none marked on-target", a, len(rows))
    return flag


def _scorable(aso_aligned: str, target: str) -> str:
    """Target with each non-ACGU letter (N, IUPAC; always a mismatch) replaced by the
    letter of the ASO base opposite it, i.e. scored as the homo mismatch rX.dX (measured
    for all four bases by Watkins et al. 2011); 'a' opposite an ASO gap."""
    if all(c in "ACGUacgu-" for c in target):
        return target
    n = len(target)
    out = []
    for i, c in enumerate(target):
        if c in "ACGUacgu-":
            out.append(c)
        else:
            a = aso_aligned[n - 1 - i]
            out.append("a" if a == "-" else a.lower().replace("t", "u"))
    return "".join(out)


def _score(df: pl.DataFrame, aso_set: AsoSet, conditions, thresholds) -> pl.DataFrame:
    n = df.height
    ag, tg, t35, match = _alignments(df["aligned_guide"].to_list(), df["site"].to_list())
    site_ids = _site_ids(df)
    on = _on_target(df, aso_set)
    region_class = ["exonic" if r in _EXONIC else "intronic" if r in _INTRONIC else "other"
                    for r in df["region"].to_list()]
    sites = pl.DataFrame({
        "aso_id": df["aso_id"], "site_id": pl.Series(site_ids, dtype=pl.String),
        "aso_aligned": pl.Series(ag, dtype=pl.String),
        "target_aligned": pl.Series([_scorable(a, t) for a, t in zip(ag, tg)],
                                    dtype=pl.String),
        "is_on_target": pl.Series(on, dtype=pl.Boolean),
    })
    scored = aso_risk.score_sites(sites, aso_set.designs, conditions=conditions,
                                  thresholds=thresholds)
    btype = df["bulge_type"].replace_strict({"X": "none", "DNA": "target", "RNA": "aso"},
                                            return_dtype=pl.String) if n else \
        pl.Series([], dtype=pl.String)
    window = thresholds.end_window
    lens = df["aso_len"].to_list()
    locs = []
    for pos, regs, L in zip(scored["mismatch_pos1"].to_list(),
                            scored["mismatch_regions"].to_list(), lens):
        locs.append(["end" if (p <= window or p > L - window) else
                     ("wing" if r.startswith("wing") else r) for p, r in zip(pos, regs)])
    out = pl.DataFrame({
        "aso_id": df["aso_id"],
        "site_id": scored["site_id"],
        "found_in": df["found_in"],
        "gene_id": df["gene_id"],
        "gene": df["gene"],
        "transcripts": df["transcripts"],
        "tx_starts": df["tx_starts"],
        "tx_ends": df["tx_ends"],
        "premrna_transcripts": df["premrna_transcripts"],
        "premrna_starts": df["premrna_starts"],
        "region": df["region"],
        "region_class": pl.Series(region_class, dtype=pl.String),
        "spans_junction": df["spans_junction"],
        "chrom": df["chrom"],
        "start": df["start"],
        "end": df["end"],
        "strand": df["strand"],
        "genome_blocks": pl.Series([None if k == 2 else b for k, b in zip(df["kind"].to_list(),
                                                          df["genome_blocks"].to_list())],
                  dtype=pl.String),
        "aso_aligned": scored["aso_aligned"],
        "target_aligned": pl.Series(tg, dtype=pl.String),
        "target_3to5": pl.Series(t35, dtype=pl.String),
        "match_line": pl.Series(match, dtype=pl.String),
        "n_mismatches": scored["n_mismatches"],
        "bulge_type": btype,
        "n_bulges": df["bulge_size"].cast(pl.Int16),
        "mismatch_pos1": scored["mismatch_pos1"],
        "mismatch_regions": scored["mismatch_regions"],
        "mismatch_location": pl.Series(locs, dtype=pl.List(pl.String)),
        "bulge_pos1": scored["bulge_pos1"],
        "n_gap": scored["n_gap"], "n_wing": scored["n_wing"], "n_end": scored["n_end"],
        "dg37": scored["dg37"], "dh": scored["dh"], "ds": scored["ds"], "tm": scored["tm"],
        "ddg": scored["ddg"], "proxy": scored["proxy"],
        "risk_class": scored["risk_class"], "risk_reason": scored["risk_reason"],
        "is_on_target": scored["is_on_target"],
        "redundant": df["redundant"],
    })
    order = {a: i for i, a in enumerate(aso_set.designs)}
    out = (out.with_columns(pl.col("aso_id").replace_strict(order, return_dtype=pl.Int64)
                            .alias("_o"))
           .sort(["_o", "dg37", "site_id"]).drop("_o"))
    table = out.to_arrow().cast(ASO_HITS_SCHEMA)
    return pl.from_arrow(table)


# ============================================================================ output
def tsv_frame(df: pl.DataFrame) -> pl.DataFrame:
    """Lists joined by ',' so the frame fits a TSV."""
    return df.with_columns([
        pl.col(c).cast(pl.List(pl.String)).list.join(",").alias(c)
        for c, t in df.schema.items() if isinstance(t, pl.List)])


def output_paths(out) -> dict:
    """``-o`` PATH -> the four outputs (hits / summary as Parquet and TSV)."""
    p = str(out)
    stem = p[:-8] if p.endswith(".parquet") else p.removesuffix(".tsv")
    return {"hits_parquet": f"{stem}.parquet", "hits_tsv": f"{stem}.tsv",
            "summary_parquet": f"{stem}.summary.parquet", "summary_tsv": f"{stem}.summary.tsv"}


def write_outputs(result: AsoSearchResult, out, *, record: dict | None = None,
                  tsv: bool = True) -> list[str]:
    """Write hits and summary (Parquet with provenance, plus TSV) all-or-nothing."""
    import pyarrow.parquet as pq

    from .aso_schemas import ASO_SUMMARY_SCHEMA, ASO_SUMMARY_SCHEMA_VERSION
    from .io import atomic_path, with_provenance

    paths = output_paths(out)
    record = dict(record or {})
    written = []
    with ExitStack() as stack:  # every file renamed into place only if all succeed
        for name, df, schema, version in (
                ("hits", result.hits, ASO_HITS_SCHEMA, ASO_HITS_SCHEMA_VERSION),
                ("summary", result.summary, ASO_SUMMARY_SCHEMA, ASO_SUMMARY_SCHEMA_VERSION)):
            table = df.to_arrow().cast(schema)
            rec = dict(record, schema=f"aso_{name}", schema_version=version)
            table = table.replace_schema_metadata(with_provenance(schema, rec).metadata)
            target = paths[f"{name}_parquet"]
            tmp = stack.enter_context(atomic_path(target, ".parquet"))
            pq.write_table(table, tmp, compression="zstd")
            written.append(target)
            if tsv:
                target = paths[f"{name}_tsv"]
                tmp = stack.enter_context(atomic_path(target))
                with open(tmp, "w", newline="\n") as handle:
                    tsv_frame(df).write_csv(handle, separator="\t", null_value="")
                written.append(target)
    return written


__all__ = [
    "MAX_BULGES",
    "MAX_MISMATCHES",
    "MODES",
    "AsoSearchResult",
    "AsoSet",
    "as_aso_set",
    "check_limits",
    "gene_body_intervals",
    "junction_segments",
    "output_paths",
    "read_asos",
    "search_asos",
    "write_outputs",
]
