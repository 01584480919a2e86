"""Genome annotation: GTF / GFF3 gene models, fast interval lookups, hit annotation.

Coordinates
-----------
GTF and GFF3 are 1-based closed; they are converted to 0-based half-open once, in the
parsers. Everything else here (arrays, :class:`Transcript`, :meth:`GeneModel.annotate`,
the added columns) is 0-based half-open on the forward strand of the contig.

Region rules
------------
Each transcript contributes features: its CDS pieces (``CDS`` - exonic bases between the
first and last coding base, stop codon included), its other exonic bases (``UTR``) when it
is coding, all its exonic bases (``noncoding_exon``) when it has no CDS, its whole span
(``intron``: whatever of the span is not exonic in *that* transcript), and a promoter
window of ``promoter_window`` bases upstream of its first base (strand-aware). A site gets
the most severe class of any feature it overlaps (``CDS > UTR > noncoding_exon > intron >
promoter > intergenic``); the genes listed are those whose transcripts give that class.

Overlap is the half-open test ``s < site_end and site_start < e``. The distance to a gene
is 0 when the site overlaps its body (union of its record and its transcripts), else the
distance between the closest bases (an adjacent gene is at distance 1).

Examples
--------
>>> gtf = ('c1\\tdemo\\texon\\t101\\t200\\t.\\t+\\t.\\tgene_id "g1"; transcript_id "t1"; '
...        'gene_name "ONE"; gene_biotype "lncRNA";\\n')
>>> import io
>>> gm = read_gtf(io.StringIO(gtf))
>>> res = gm.annotate("c1", [150, 400, 10], [160, 410, 20])
>>> res["region"].tolist(), res["distance_to_gene"].tolist()
(['noncoding_exon', 'intergenic', 'promoter'], [0, 201, 81])
"""

from __future__ import annotations

import io
import itertools
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

import numpy as np
import polars as pl

from .annotation_schemas import (
    ANNOTATION_POLARS_SCHEMA,
    DEFAULT_PROMOTER_WINDOW,
    REGION_CLASSES,
)
from .chroms import ChromMap, suggest
from .errors import InputError
from .io import open_text_input

__all__ = [
    "GeneModel",
    "IntervalIndex",
    "SplicedTranscript",
    "Transcript",
    "annotate_hits",
    "load_annotation_sources",
    "read_annotation",
    "read_gff3",
    "read_gtf",
    "revcomp",
    "softmask_flags",
    "synthetic_gtf",
]

# Severity codes used internally (index into _REGION_NAMES).
_INTERGENIC, _PROMOTER, _INTRON, _NCEXON, _UTR, _CDS = range(6)
_REGION_NAMES = np.array(REGION_CLASSES[::-1], dtype=object)  # code -> name
_STRAND_CODE = {"+": 1, "-": -1, ".": 0, "?": 0}
_STRAND_TEXT = {1: "+", -1: "-", 0: "."}


# ============================================================================ intervals
class IntervalIndex:
    """Static set of half-open intervals on one contig, answering overlap queries in bulk.

    Intervals are bucketed by length (each bucket spans a factor of 4) and sorted by start
    inside a bucket. For a query ``[qs, qe)`` only intervals starting in
    ``[qs - maxlen_b + 1, qe)`` can overlap one of bucket ``b``; two ``searchsorted`` calls
    per bucket find them, and at least a quarter of the candidates' lengths reach the
    query, so the work stays proportional to the answer even with megabase genes.
    ``any_overlap`` uses the union of the intervals (merged only where they share bases)
    and one ``searchsorted``.

    Parameters
    ----------
    starts, ends : array of int
        Interval bounds, ``start <= end``.
    ids : array of int, optional
        Payload returned for each interval (default: its position).

    Examples
    --------
    >>> ix = IntervalIndex([0, 10, 5], [20, 12, 6])
    >>> qi, ii = ix.pairs([11, 30], [13, 40])
    >>> sorted(zip(qi.tolist(), ii.tolist()))
    [(0, 0), (0, 1)]
    >>> ix.any_overlap([5, 20], [6, 25]).tolist()
    [True, False]
    """

    def __init__(self, starts, ends, ids=None):
        starts = np.ascontiguousarray(starts, dtype=np.int64)
        ends = np.ascontiguousarray(ends, dtype=np.int64)
        if starts.shape != ends.shape or starts.ndim != 1:
            raise ValueError("starts and ends must be 1-D arrays of the same length")
        ids = (np.arange(starts.size, dtype=np.int64) if ids is None
               else np.ascontiguousarray(ids, dtype=np.int64))
        length = ends - starts
        if length.size and length.min() < 0:
            raise ValueError("interval with end < start")
        self.size = int(starts.size)
        bucket = np.zeros(starts.size, dtype=np.int64)
        pos = length > 0
        bucket[pos] = 1 + (np.log2(length[pos]).astype(np.int64) >> 1)
        order = np.lexsort((starts, bucket))
        self._starts = starts[order]
        self._ends = ends[order]
        self._ids = ids[order]
        b_sorted = bucket[order]
        self._buckets = []  # (lo, hi, maxlen)
        if starts.size:
            edges = np.flatnonzero(np.diff(b_sorted)) + 1
            bounds = np.concatenate(([0], edges, [starts.size]))
            lens = self._ends - self._starts
            for lo, hi in itertools.pairwise(bounds):
                self._buckets.append((int(lo), int(hi), int(lens[lo:hi].max())))
        # Union of positive-length intervals, merged only where they share bases, so a
        # zero-length query at a boundary is answered exactly like the pairwise test.
        s, e = starts[pos], ends[pos]
        o = np.argsort(s, kind="stable")
        s, e = s[o], e[o]
        if s.size:
            run = np.maximum.accumulate(e)
            new = np.ones(s.size, dtype=bool)
            new[1:] = s[1:] >= run[:-1]
            grp = np.cumsum(new) - 1
            self._mstart = s[new]
            self._mend = np.zeros(self._mstart.size, dtype=np.int64)
            np.maximum.at(self._mend, grp, e)
        else:
            self._mstart = self._mend = np.zeros(0, dtype=np.int64)
        self._points = np.sort(starts[~pos])

    def __len__(self) -> int:
        return self.size

    def pairs(self, qs, qe) -> tuple[np.ndarray, np.ndarray]:
        """Every (query position, interval id) pair that overlaps, as two int64 arrays.

        Pairs come grouped by bucket, not sorted; sort them if order matters.
        """
        qs = np.asarray(qs, dtype=np.int64)
        qe = np.asarray(qe, dtype=np.int64)
        out_q, out_i = [], []
        for lo, hi, maxlen in self._buckets:
            bs = self._starts[lo:hi]
            first = np.searchsorted(bs, qs - maxlen + 1, "left")
            last = np.searchsorted(bs, qe, "left")
            cnt = np.maximum(last - first, 0)
            total = int(cnt.sum())
            if not total:
                continue
            qi = np.repeat(np.arange(qs.size, dtype=np.int64), cnt)
            shift = np.repeat(first - (np.cumsum(cnt) - cnt), cnt)
            at = np.arange(total, dtype=np.int64) + shift + lo
            keep = self._ends[at] > qs[qi]
            out_q.append(qi[keep])
            out_i.append(self._ids[at[keep]])
        if not out_q:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        return np.concatenate(out_q), np.concatenate(out_i)

    def any_overlap(self, qs, qe) -> np.ndarray:
        """Boolean array: does query ``i`` overlap any interval."""
        qs = np.asarray(qs, dtype=np.int64)
        qe = np.asarray(qe, dtype=np.int64)
        hit = np.zeros(qs.size, dtype=bool)
        if self._mstart.size:
            j = np.searchsorted(self._mstart, qe, "left") - 1
            ok = j >= 0
            hit[ok] = self._mend[j[ok]] > qs[ok]
        if self._points.size:
            n_in = (np.searchsorted(self._points, qe, "left")
                    - np.searchsorted(self._points, qs, "right"))
            hit |= n_in > 0
        return hit


def _merge(pieces: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted union of half-open pieces; touching pieces are joined."""
    if not pieces:
        return []
    pieces = sorted(pieces)
    out = [list(pieces[0])]
    for s, e in pieces[1:]:
        if s <= out[-1][1]:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return [(s, e) for s, e in out]


# ============================================================================ parsing
_PART_KIND = {
    "exon": "exon",
    "cds": "cds", "start_codon": "cds", "stop_codon": "cds",
    "utr": "utr", "five_prime_utr": "utr", "three_prime_utr": "utr",
    "5utr": "utr", "3utr": "utr", "five_prime_utr_region": "utr",
}
_GFF_GENE_TYPES = {"gene", "ncrna_gene", "pseudogene", "protein_coding_gene",
                   "transposable_element_gene", "rna_gene", "mt_gene"}


class _GeneAcc:
    __slots__ = ("biotype", "chrom", "end", "gene_id", "line", "name", "start", "strand")

    def __init__(self, gene_id, chrom, strand, line):
        self.gene_id = gene_id
        self.name = None
        self.biotype = None
        self.chrom = chrom
        self.strand = strand
        self.start = None
        self.end = None
        self.line = line


class _TxAcc:
    __slots__ = (
        "biotype",
        "cds",
        "chrom",
        "end",
        "exons",
        "gene",
        "line",
        "start",
        "strand",
        "tid",
        "utr",
    )

    def __init__(self, tid, gene, chrom, strand, line):
        self.tid = tid
        self.gene = gene
        self.chrom = chrom
        self.strand = strand
        self.start = None
        self.end = None
        self.exons = []
        self.cds = []
        self.utr = []
        self.biotype = None
        self.line = line


def _fields(line: str, path, lineno: int, fmt: str):
    """Split and check the 8 fixed columns of a GTF/GFF3 line (1-based -> 0-based)."""
    cols = line.rstrip("\r\n").split("\t")
    if len(cols) != 9:
        hint = " (columns must be separated by tabs)" if len(cols) == 1 else ""
        raise InputError(f"malformed {fmt} record: expected 9 tab-separated columns, found "
                         f"{len(cols)}{hint}", path=path, line=lineno)
    chrom, _src, ftype, s, e, _score, strand, _frame, attrs = cols
    try:
        start = int(s) - 1
        end = int(e)
    except ValueError:
        raise InputError(f"malformed {fmt} record: start/end {s!r}/{e!r} are not integers",
                         path=path, line=lineno) from None
    if start < 0:
        raise InputError(f"malformed {fmt} record: start {s} < 1 ({fmt} is 1-based)",
                         path=path, line=lineno)
    if end <= start:
        raise InputError(f"malformed {fmt} record: end {e} < start {s}", path=path,
                         line=lineno)
    if strand not in _STRAND_CODE:
        raise InputError(f"malformed {fmt} record: strand {strand!r} is not +, - or .",
                         path=path, line=lineno)
    if not chrom:
        raise InputError(f"malformed {fmt} record: empty sequence name", path=path,
                         line=lineno)
    return chrom, ftype, start, end, _STRAND_CODE[strand], attrs


_GTF_GENE_ID = re.compile(r'(?:^|;)\s*gene_id\s+(?:"([^"]*)"|([^;\s"]+))')
_GTF_TX_ID = re.compile(r'(?:^|;)\s*transcript_id\s+(?:"([^"]*)"|([^;\s"]+))')
_GTF_ATTR = re.compile(r'([^\s";=]+)\s+(?:"([^"]*)"|([^;\s"]+))\s*(?:;|$)')


def _gtf_attributes(text: str, path, lineno: int) -> dict:
    out = {}
    for m in _GTF_ATTR.finditer(text):
        key = m.group(1)
        if key not in out:
            out[key] = m.group(2) if m.group(2) is not None else m.group(3)
    if not out and text.strip() not in ("", "."):
        if "=" in text:
            raise InputError("attributes look like GFF3 (key=value); read this file as "
                             "GFF3", path=path, line=lineno)
        raise InputError(f"malformed GTF attributes {text[:60]!r} (expected "
                         f'key "value"; pairs)', path=path, line=lineno)
    return out


def _open(source):
    """(handle, path label, needs closing) for a path or an open text handle."""
    if isinstance(source, (str, Path)):
        return open_text_input(source), str(source), True
    return source, getattr(source, "name", None), False


def _check_same(acc, chrom, strand, what, ident, path, lineno):
    if acc.chrom != chrom:
        raise InputError(f"{what} {ident!r} has records on {acc.chrom!r} (line {acc.line}) "
                         f"and {chrom!r}", path=path, line=lineno, record=ident)
    if strand and acc.strand and acc.strand != strand:
        raise InputError(f"{what} {ident!r} has records on both strands (first at line "
                         f"{acc.line})", path=path, line=lineno, record=ident)
    if strand and not acc.strand:
        acc.strand = strand


def _gtf_names(attr_text: str, path, lineno: int) -> tuple:
    """(gene_name, gene_biotype, transcript_biotype) from a GTF attribute column."""
    attrs = _gtf_attributes(attr_text, path, lineno)
    return (attrs.get("gene_name") or None,
            attrs.get("gene_biotype") or attrs.get("gene_type") or None,
            attrs.get("transcript_biotype") or attrs.get("transcript_type") or None)


def _gtf_add(genes: dict, txs: dict, path, lineno: int, chrom: str, ftype: str, ft: str,
             start: int, end: int, strand: int, gid: str, tid: str | None, names) -> None:
    """Add one used GTF record. ``names`` is the (name, biotype, transcript biotype) tuple
    or the raw attribute text, parsed only when the record can contribute them."""
    gkey = (gid, chrom)
    g = genes.get(gkey)
    if g is None:
        g = genes[gkey] = _GeneAcc(gid, chrom, strand, lineno)
    else:
        _check_same(g, chrom, strand, "gene", gid, path, lineno)
    kind = _PART_KIND.get(ft)
    if (g.name is None or g.biotype is None) and (kind is None or g.line == lineno):
        if isinstance(names, str):
            names = _gtf_names(names, path, lineno)
        g.name = g.name or names[0]
        g.biotype = g.biotype or names[1]
    if ft == "gene":
        g.start = start if g.start is None else min(g.start, start)
        g.end = end if g.end is None else max(g.end, end)
        g.line = min(g.line, lineno)
        return
    if not tid:
        raise InputError(f"{ftype} record without a transcript_id attribute",
                         path=path, line=lineno, record=gid)
    tkey = (tid, chrom)
    t = txs.get(tkey)
    if t is None:
        t = txs[tkey] = _TxAcc(tid, gkey, chrom, strand, lineno)
    else:
        _check_same(t, chrom, strand, "transcript", tid, path, lineno)
        if t.gene != gkey:
            raise InputError(f"transcript {tid!r} belongs to gene {t.gene[0]!r} "
                             f"(line {t.line}) and to gene {gid!r}", path=path,
                             line=lineno, record=tid)
    if t.biotype is None and (kind is None or t.line == lineno):
        if isinstance(names, str):
            names = _gtf_names(names, path, lineno)
        t.biotype = names[2]
    if kind is None:
        t.start = start if t.start is None else min(t.start, start)
        t.end = end if t.end is None else max(t.end, end)
    elif kind == "exon":
        t.exons.append((start, end))
    elif kind == "cds":
        t.cds.append((start, end))
    else:
        t.utr.append((start, end))


_GTF_USED = (*_PART_KIND, "gene", "transcript", "mrna")


def _gtf_lines_python(handle, path, genes, txs, first_line: int = 1) -> None:
    """Line-by-line GTF reader (streaming; bounded by the model, not the file)."""
    for lineno, line in enumerate(handle, first_line):
        if not line.strip() or line.startswith("#"):
            continue
        chrom, ftype, start, end, strand, attr_text = _fields(line, path, lineno, "GTF")
        ft = ftype.lower()
        if ft not in _GTF_USED:
            continue
        m_g = _GTF_GENE_ID.search(attr_text)
        m_t = _GTF_TX_ID.search(attr_text)
        if m_g is None or (_PART_KIND.get(ft) is not None and m_t is None):
            attrs = _gtf_attributes(attr_text, path, lineno)  # raises on garbage
            gid, tid = attrs.get("gene_id"), attrs.get("transcript_id")
        else:
            gid = m_g.group(1) or m_g.group(2)
            tid = None if m_t is None else (m_t.group(1) or m_t.group(2))
        if not gid:
            raise InputError(f"{ftype} record without a gene_id attribute", path=path,
                             line=lineno)
        _gtf_add(genes, txs, path, lineno, chrom, ftype, ft, start, end, strand, gid, tid,
                 attr_text)


def read_gtf(source, *, promoter_window: int = DEFAULT_PROMOTER_WINDOW) -> GeneModel:
    """Read a GTF (GTF2.2 / Ensembl / GENCODE; gzip ok) into a :class:`GeneModel`.

    Uses ``gene_id`` (required on every used record), ``transcript_id`` (required on
    exon/CDS/UTR/codon records), ``gene_name``, ``gene_biotype`` or ``gene_type``,
    ``transcript_biotype`` or ``transcript_type``. ``gene`` and ``transcript`` lines are
    optional: spans are derived from exons. When a transcript has CDS/UTR records but no
    exon records, its exons are the union of those pieces. Names and biotypes are read
    from ``gene``/``transcript`` lines and from the first line of each gene and
    transcript (GTF repeats them on every line); other lines only need the two ids, found
    with one short regex search each. Malformed records raise :class:`InputError` with
    file, line and reason.
    """
    handle, path, close = _open(source)
    genes: dict = {}
    txs: dict = {}
    try:
        _gtf_lines_python(handle, path, genes, txs)
    finally:
        if close:
            handle.close()
    return GeneModel._build(genes, txs, path=path, promoter_window=promoter_window)


def _gff_attributes(text: str, path, lineno: int) -> dict:
    out = {}
    if text.strip() in ("", "."):
        return out
    for item in text.strip().strip(";").split(";"):
        item = item.strip()
        if not item:
            continue
        key, sep, value = item.partition("=")
        if not sep:
            if '"' in item:
                raise InputError('attributes look like GTF (key "value"); read this file '
                                 "as GTF", path=path, line=lineno)
            raise InputError(f"malformed GFF3 attribute {item[:40]!r} (expected key=value)",
                             path=path, line=lineno)
        if "%" in value:
            value = unquote(value)
        out[key.strip()] = value
    return out


def read_gff3(source, *, promoter_window: int = DEFAULT_PROMOTER_WINDOW) -> GeneModel:
    """Read a GFF3 (gzip ok) into a :class:`GeneModel`, linking features by ID/Parent.

    Exon, CDS, UTR and codon features belong to the transcript(s) named by their
    ``Parent`` (a comma-separated list). A transcript is any feature that is the parent of
    such parts or a child of a gene-type feature; its gene is found by climbing
    ``Parent`` links up to a gene-type feature (or the top-most ancestor; itself when it
    has no parent). Parts attached directly to a gene get an implicit
    transcript named after the gene; a gene-type feature without transcripts counts as a
    single-exon non-coding transcript. Gene id: ``gene_id`` else ``ID``; name:
    ``gene_name``, ``Name`` or ``gene``; biotype: ``gene_biotype``, ``gene_type`` or
    ``biotype``. Features may appear before their parents; ``##FASTA`` ends the
    annotation.
    """
    handle, path, close = _open(source)
    feats: dict = {}   # ID -> [type, chrom, start, end, strand, parents, attrs, line]
    parts = []         # (parents, chrom, start, end, strand, kind, line)
    try:
        for lineno, line in enumerate(handle, 1):
            if line.startswith(("##FASTA", ">")):
                break
            if not line.strip() or line.startswith("#"):
                continue
            chrom, ftype, start, end, strand, attr_text = _fields(line, path, lineno, "GFF3")
            attrs = _gff_attributes(attr_text, path, lineno)
            parents = [p for p in attrs.get("Parent", "").split(",") if p]
            kind = _PART_KIND.get(ftype.lower())
            if kind is not None:
                if not parents:
                    raise InputError(f"{ftype} feature without a Parent attribute",
                                     path=path, line=lineno, record=attrs.get("ID"))
                parts.append((parents, chrom, start, end, strand, kind, lineno))
                continue
            fid = attrs.get("ID")
            if fid is None:
                continue
            known = feats.get(fid)
            if known is None:
                feats[fid] = [ftype, chrom, start, end, strand, parents, attrs, lineno]
            else:  # multi-line feature: widen the span
                if known[1] != chrom:
                    raise InputError(f"feature ID {fid!r} is used on {known[1]!r} (line "
                                     f"{known[7]}) and {chrom!r}", path=path, line=lineno,
                                     record=fid)
                known[2] = min(known[2], start)
                known[3] = max(known[3], end)
    finally:
        if close:
            handle.close()

    genes: dict = {}
    txs: dict = {}

    def gene_for(fid, lineno):
        f = feats[fid]
        g = genes.get(fid)
        if g is None:
            attrs = f[6]
            g = genes[fid] = _GeneAcc(attrs.get("gene_id") or fid, f[1], f[4], f[7])
            g.name = attrs.get("gene_name") or attrs.get("Name") or attrs.get("gene") or None
            g.biotype = (attrs.get("gene_biotype") or attrs.get("gene_type")
                         or attrs.get("biotype") or None)
            g.start, g.end = f[2], f[3]
        return g

    def tx_for(fid, lineno):
        t = txs.get(fid)
        if t is not None:
            return t
        f = feats.get(fid)
        if f is None:
            raise InputError(f"Parent {fid!r} is not defined in the file", path=path,
                             line=lineno, record=fid)
        attrs = f[6]
        if f[0].lower() in _GFF_GENE_TYPES:  # parts hang directly off a gene
            gid_key, tid = fid, fid
        elif f[5]:
            gid_key = f[5][0]
            for _ in range(8):  # climb e.g. miRNA -> primary_transcript -> gene
                up = feats.get(gid_key)
                if up is None:
                    raise InputError(f"Parent {gid_key!r} is not defined in the file",
                                     path=path, line=f[7], record=fid)
                if up[0].lower() in _GFF_GENE_TYPES or not up[5]:
                    break
                gid_key = up[5][0]
            tid = attrs.get("transcript_id") or fid
        else:
            gid_key, tid = fid, attrs.get("transcript_id") or fid
        g = gene_for(gid_key, lineno)
        t = txs[fid] = _TxAcc(tid, gid_key, f[1], f[4], f[7])
        _check_same(g, f[1], f[4], "gene", g.gene_id, path, f[7])
        t.start, t.end = f[2], f[3]
        t.biotype = (attrs.get("transcript_biotype") or attrs.get("transcript_type")
                     or (attrs.get("biotype") if gid_key != fid else None) or None)
        if t.biotype is None and f[0].lower() not in _GFF_GENE_TYPES and gid_key != fid:
            t.biotype = f[0]
        return t

    for parents, chrom, start, end, strand, kind, lineno in parts:
        for p in parents:
            t = tx_for(p, lineno)
            _check_same(t, chrom, strand, "transcript", t.tid, path, lineno)
            (t.exons if kind == "exon" else t.cds if kind == "cds" else t.utr).append(
                (start, end))
    for fid, f in feats.items():
        if fid in txs:
            continue
        if f[0].lower() in _GFF_GENE_TYPES:
            gene_for(fid, f[7])
        elif f[5] and f[5][0] in feats and feats[f[5][0]][0].lower() in _GFF_GENE_TYPES:
            tx_for(fid, f[7])  # a transcript without parts: one exon over its span
    return GeneModel._build(genes, txs, path=path, promoter_window=promoter_window)


def sniff_annotation_format(path) -> str:
    """``'gtf'`` or ``'gff3'`` from the file name, else from the first feature line."""
    name = str(path).lower()
    name = name.removesuffix(".gz")
    if name.endswith(".gtf"):
        return "gtf"
    if name.endswith((".gff3", ".gff")):
        return "gff3"
    with open_text_input(path) as handle:
        for line in handle:
            if line.startswith("##gff-version 3"):
                return "gff3"
            if not line.strip() or line.startswith("#"):
                continue
            cols = line.rstrip("\r\n").split("\t")
            attrs = cols[8] if len(cols) == 9 else ""
            return "gtf" if '"' in attrs or "=" not in attrs else "gff3"
    return "gtf"


def read_annotation(path, format: str | None = None, *,
                    promoter_window: int = DEFAULT_PROMOTER_WINDOW) -> GeneModel:
    """Read a GTF or GFF3 file (gzip ok); ``format`` is ``'gtf'``, ``'gff3'`` or sniffed."""
    fmt = (format or sniff_annotation_format(path)).lower()
    if fmt == "gtf":
        return read_gtf(path, promoter_window=promoter_window)
    if fmt in ("gff3", "gff"):
        return read_gff3(path, promoter_window=promoter_window)
    raise InputError(f"unknown annotation format {format!r} (use gtf or gff3)", path=path)


# ============================================================================ model
_COMPLEMENT = str.maketrans("ACGTUNRYSWKMBDHVacgtunryswkmbdhv",
                            "TGCAANYRSWMKVHDBtgcaanyrswmkvhdb")


def revcomp(seq: str) -> str:
    """Reverse complement (IUPAC aware, case kept).

    >>> revcomp("AACGn")
    'nCGTT'
    """
    return seq.translate(_COMPLEMENT)[::-1]


@dataclass(frozen=True)
class SplicedTranscript:
    """A spliced transcript sequence with its genome coordinates.

    ``sequence[i]`` is the base at transcript position ``i`` (5'->3' on the transcribed
    strand, reverse-complemented on ``-``); ``genome_pos[i]`` is its 0-based forward-strand
    genome coordinate (decreasing along a ``-`` transcript).
    """

    transcript_id: str
    sequence: str
    genome_pos: np.ndarray


@dataclass(frozen=True)
class Transcript:
    """One transcript: exons sorted by genome position, CDS span, strand.

    All coordinates are 0-based half-open on the forward strand; ``cds_start``/``cds_end``
    are None for a non-coding transcript.

    Examples
    --------
    >>> t = Transcript("t", "g", "G", "c", "-", np.array([10, 30]), np.array([20, 40]),
    ...                32, 38, "protein_coding", "protein_coding")
    >>> t.length, t.to_transcript([39, 32, 25, 19]).tolist(), t.to_genome([0, 10]).tolist()
    (20, [0, 7, -1, 10], [39, 19])
    >>> t.region_at([39, 35, 25, 12]).tolist()
    ['UTR', 'CDS', 'intron', 'UTR']
    """

    transcript_id: str
    gene_id: str
    gene_name: str | None
    chrom: str
    strand: str
    exon_starts: np.ndarray
    exon_ends: np.ndarray
    cds_start: int | None
    cds_end: int | None
    biotype: str | None
    gene_biotype: str | None

    @property
    def start(self) -> int:
        return int(self.exon_starts[0])

    @property
    def end(self) -> int:
        return int(self.exon_ends[-1])

    @property
    def is_coding(self) -> bool:
        return self.cds_start is not None

    @property
    def length(self) -> int:
        """Spliced length (sum of exon lengths)."""
        return int((self.exon_ends - self.exon_starts).sum())

    def _cum(self):
        """Transcript offset of each exon, exons in 5'->3' order."""
        lens = self.exon_ends - self.exon_starts
        if self.strand == "-":
            lens = lens[::-1]
        return np.concatenate(([0], np.cumsum(lens)))

    def to_genome(self, tpos) -> np.ndarray:
        """Genome coordinate of transcript positions (0-based from the 5' end)."""
        tpos = np.asarray(tpos, dtype=np.int64)
        if tpos.size and (tpos.min() < 0 or tpos.max() >= self.length):
            raise IndexError(f"transcript position outside 0..{self.length - 1}")
        cum = self._cum()
        k = np.searchsorted(cum, tpos, "right") - 1
        off = tpos - cum[k]
        if self.strand == "-":
            return self.exon_ends[::-1][k] - 1 - off
        return self.exon_starts[k] + off

    def to_transcript(self, gpos) -> np.ndarray:
        """Transcript position of genome coordinates; -1 where not exonic."""
        gpos = np.asarray(gpos, dtype=np.int64)
        k = np.searchsorted(self.exon_starts, gpos, "right") - 1
        kk = np.maximum(k, 0)
        inside = (k >= 0) & (gpos < self.exon_ends[kk])
        lens = self.exon_ends - self.exon_starts
        before = np.concatenate(([0], np.cumsum(lens)))  # forward-order offsets
        fwd = before[kk] + gpos - self.exon_starts[kk]
        out = (self.length - 1 - fwd) if self.strand == "-" else fwd
        return np.where(inside, out, -1)

    def region_at(self, gpos) -> np.ndarray:
        """Region of genome positions within this transcript: CDS, UTR, noncoding_exon,
        intron, or ``outside`` beyond its span."""
        gpos = np.asarray(gpos, dtype=np.int64)
        exonic = self.to_transcript(gpos) >= 0
        out = np.full(gpos.shape, "intron", dtype=object)
        out[(gpos < self.start) | (gpos >= self.end)] = "outside"
        if self.is_coding:
            cds = (gpos >= self.cds_start) & (gpos < self.cds_end)
            out[exonic & cds] = "CDS"
            out[exonic & ~cds] = "UTR"
        else:
            out[exonic] = "noncoding_exon"
        return out

    def spliced_sequence(self, fetch: Callable[[str, int, int], str]) -> SplicedTranscript:
        """Spliced mRNA 5'->3' and each base's genome coordinate.

        ``fetch(chrom, start, end)`` returns forward-strand genome text for ``[start, end)``
        (e.g. ``GenomeStore.fetch``).
        """
        parts = []
        for s, e in zip(self.exon_starts.tolist(), self.exon_ends.tolist()):
            piece = fetch(self.chrom, s, e)
            if len(piece) != e - s:
                raise InputError(f"exon {s}-{e} of transcript {self.transcript_id!r} lies "
                                 f"outside contig {self.chrom!r}", record=self.transcript_id)
            parts.append(piece)
        seq = "".join(parts)
        pos = np.concatenate([np.arange(s, e, dtype=np.int64) for s, e in
                              zip(self.exon_starts.tolist(), self.exon_ends.tolist())])
        if self.strand == "-":
            seq = revcomp(seq)
            pos = pos[::-1].copy()
        return SplicedTranscript(self.transcript_id, seq, pos)

    def pre_mrna_sequence(self, fetch: Callable[[str, int, int], str]) -> SplicedTranscript:
        """Unspliced pre-mRNA (the whole span, introns included) on the transcribed strand."""
        seq = fetch(self.chrom, self.start, self.end)
        if len(seq) != self.end - self.start:
            raise InputError(f"transcript {self.transcript_id!r} ({self.start}-{self.end}) "
                             f"lies outside contig {self.chrom!r}", record=self.transcript_id)
        pos = np.arange(self.start, self.end, dtype=np.int64)
        if self.strand == "-":
            return SplicedTranscript(self.transcript_id, revcomp(seq), pos[::-1].copy())
        return SplicedTranscript(self.transcript_id, seq, pos)


class _ChromIndex:
    """Per-contig lookup structures, built on first use."""

    def __init__(self, gm: GeneModel, chrom: str):
        glo, ghi = gm._gene_slices[chrom]
        tlo, thi = gm._tx_slices[chrom]
        self.g_offset = glo
        self.gs = gm.gene_start[glo:ghi]
        self.ge = gm.gene_end[glo:ghi]
        self.gene_span = IntervalIndex(self.gs, self.ge, np.arange(glo, ghi))
        run = np.maximum.accumulate(self.ge) if self.ge.size else self.ge
        new = np.ones(self.ge.size, dtype=bool)
        new[1:] = self.ge[1:] > run[:-1]
        self.prefmax = run
        self.firstarg = np.maximum.accumulate(np.where(new, np.arange(self.ge.size), 0))

        t = np.arange(tlo, thi)
        self.tx = t
        ptr = gm._exon_ptr
        counts = ptr[t + 1] - ptr[t]
        ex_tx = np.repeat(t, counts)
        ex_lo = ptr[tlo] if t.size else 0
        ex_hi = ptr[thi] if t.size else 0
        es = gm.exon_start[ex_lo:ex_hi]
        ee = gm.exon_end[ex_lo:ex_hi]
        cs = gm.tx_cds_start[ex_tx]
        ce = gm.tx_cds_end[ex_tx]
        coding = cs >= 0
        # CDS pieces: exons clipped to the CDS span.
        c_s = np.maximum(es, cs)
        c_e = np.minimum(ee, ce)
        m = coding & (c_s < c_e)
        self.cds = IntervalIndex(c_s[m], c_e[m], ex_tx[m])
        # UTR pieces: exonic bases of coding transcripts outside the CDS span.
        l_e = np.minimum(ee, cs)
        r_s = np.maximum(es, ce)
        ml = coding & (es < l_e)
        mr = coding & (r_s < ee)
        self.utr = IntervalIndex(np.concatenate((es[ml], r_s[mr])),
                                 np.concatenate((l_e[ml], ee[mr])),
                                 np.concatenate((ex_tx[ml], ex_tx[mr])))
        self.ncexon = IntervalIndex(es[~coding], ee[~coding], ex_tx[~coding])
        self.span = IntervalIndex(gm.tx_start[t], gm.tx_end[t], t)
        self._promoters: dict[int, IntervalIndex] = {}
        self._gm = gm

    def promoter(self, window: int) -> IntervalIndex:
        ix = self._promoters.get(window)
        if ix is None:
            gm, t = self._gm, self.tx
            strand = gm.tx_strand[t]
            plus = strand == 1
            minus = strand == -1
            ts, te = gm.tx_start[t], gm.tx_end[t]
            s = np.concatenate((np.maximum(ts[plus] - window, 0), te[minus]))
            e = np.concatenate((ts[plus], te[minus] + window))
            ids = np.concatenate((t[plus], t[minus]))
            keep = e > s
            ix = self._promoters[window] = IntervalIndex(s[keep], e[keep], ids[keep])
        return ix


class GeneModel:
    """Genes and transcripts as numpy columns, sorted by contig then start.

    Build it with :func:`read_gtf`, :func:`read_gff3` or :func:`read_annotation`.

    Attributes
    ----------
    gene_id, gene_name, gene_biotype, gene_chrom : object arrays (name/biotype may be None)
    gene_start, gene_end : int64 arrays (gene body: record span united with transcripts)
    gene_strand : int8 array (+1, -1, 0)
    tx_id, tx_chrom, tx_biotype : object arrays
    tx_gene : int64 index into the gene arrays
    tx_start, tx_end, tx_cds_start, tx_cds_end : int64 (CDS bounds -1 when non-coding;
        the CDS span includes start/stop codon records)
    tx_strand : int8
    exon_start, exon_end : int64, exons of transcript i at ``_exon_ptr[i]:_exon_ptr[i+1]``,
        sorted by position
    gene_line, tx_line : first line of each record in ``path`` (for error messages)
    """

    def __init__(self, genes: dict, txs: dict, exons: tuple, *, path=None,
                 promoter_window: int = DEFAULT_PROMOTER_WINDOW):
        for k, v in genes.items():
            setattr(self, k, v)
        for k, v in txs.items():
            setattr(self, k, v)
        self._exon_ptr, self.exon_start, self.exon_end = exons
        self.path = path
        if promoter_window < 0:
            raise ValueError("promoter_window must be >= 0")
        self.promoter_window = int(promoter_window)
        self.chroms = list(dict.fromkeys(self.gene_chrom.tolist()))
        self._gene_slices = _slices(self.gene_chrom, self.chroms)
        self._tx_slices = _slices(self.tx_chrom, self.chroms)
        self._index: dict[str, _ChromIndex] = {}
        self._tx_lookup: dict[str, list[int]] | None = None

    # ---------------------------------------------------------------- construction
    @classmethod
    def _build(cls, genes: dict, txs: dict, *, path=None, promoter_window=1000) -> GeneModel:
        # Finalise transcripts: exons, CDS span, span.
        tx_rows = []
        for t in txs.values():
            cds = _merge(t.cds)
            exons = _merge(t.exons) if t.exons else _merge(t.cds + t.utr)
            if cds and t.exons:
                exons = _merge(exons + cds)
            if not exons:
                if t.start is None:
                    continue
                exons = [(t.start, t.end)]
            start = exons[0][0] if t.start is None else min(t.start, exons[0][0])
            end = exons[-1][1] if t.end is None else max(t.end, exons[-1][1])
            if start < exons[0][0] or end > exons[-1][1]:
                # Transcript line wider than its exons: keep the exons, stretch the ends.
                exons = list(exons)
                exons[0] = (start, exons[0][1])
                exons[-1] = (exons[-1][0], end)
                exons = _merge(exons)
            cs, ce = (cds[0][0], cds[-1][1]) if cds else (-1, -1)
            tx_rows.append((t, exons, start, end, cs, ce))
        used = set()
        for t, _, start, end, _, _ in tx_rows:
            g = genes[t.gene]
            g.start = start if g.start is None else min(g.start, start)
            g.end = end if g.end is None else max(g.end, end)
            used.add(t.gene)
        for key, g in genes.items():
            if key not in used and g.start is not None:
                # A gene record without transcripts: one non-coding exon over its span,
                # so its body is annotated rather than called intergenic.
                t = _TxAcc(g.gene_id, key, g.chrom, g.strand, g.line)
                tx_rows.append((t, [(g.start, g.end)], g.start, g.end, -1, -1))
        chrom_order = {}
        for g in genes.values():
            chrom_order.setdefault(g.chrom, len(chrom_order))
        gkeys = [k for k, g in genes.items() if g.start is not None]
        gkeys.sort(key=lambda k: (chrom_order[genes[k].chrom], genes[k].start, genes[k].end,
                                  genes[k].gene_id))
        gpos = {k: i for i, k in enumerate(gkeys)}
        G = [genes[k] for k in gkeys]
        garr = {
            "gene_id": _objarray([g.gene_id for g in G]),
            "gene_name": _objarray([g.name for g in G]),
            "gene_biotype": _objarray([g.biotype for g in G]),
            "gene_chrom": _objarray([g.chrom for g in G]),
            "gene_start": np.array([g.start for g in G], dtype=np.int64),
            "gene_end": np.array([g.end for g in G], dtype=np.int64),
            "gene_strand": np.array([g.strand for g in G], dtype=np.int8),
            "gene_line": np.array([g.line for g in G], dtype=np.int64),
        }
        tx_rows.sort(key=lambda r: (chrom_order[r[0].chrom], r[2], r[3], r[0].tid))
        ptr = np.zeros(len(tx_rows) + 1, dtype=np.int64)
        ptr[1:] = np.cumsum([len(r[1]) for r in tx_rows])
        es = np.fromiter((s for r in tx_rows for s, _ in r[1]), dtype=np.int64,
                         count=int(ptr[-1]))
        ee = np.fromiter((e for r in tx_rows for _, e in r[1]), dtype=np.int64,
                         count=int(ptr[-1]))
        tarr = {
            "tx_id": _objarray([r[0].tid for r in tx_rows]),
            "tx_gene": np.array([gpos[r[0].gene] for r in tx_rows], dtype=np.int64),
            "tx_chrom": _objarray([r[0].chrom for r in tx_rows]),
            "tx_start": np.array([r[2] for r in tx_rows], dtype=np.int64),
            "tx_end": np.array([r[3] for r in tx_rows], dtype=np.int64),
            "tx_strand": np.array([r[0].strand for r in tx_rows], dtype=np.int8),
            "tx_cds_start": np.array([r[4] for r in tx_rows], dtype=np.int64),
            "tx_cds_end": np.array([r[5] for r in tx_rows], dtype=np.int64),
            "tx_biotype": _objarray([r[0].biotype for r in tx_rows]),
            "tx_line": np.array([r[0].line for r in tx_rows], dtype=np.int64),
        }
        return cls(garr, tarr, (ptr, es, ee), path=path, promoter_window=promoter_window)

    # ---------------------------------------------------------------- facts
    @property
    def n_genes(self) -> int:
        return int(self.gene_id.size)

    @property
    def n_transcripts(self) -> int:
        return int(self.tx_id.size)

    def __repr__(self) -> str:
        return (f"GeneModel({self.n_genes} genes, {self.n_transcripts} transcripts, "
                f"{len(self.chroms)} contigs, promoter_window={self.promoter_window})")

    def describe(self) -> dict:
        """Counts for logs, reports and provenance."""
        coding = int((self.tx_cds_start >= 0).sum())
        return {"path": self.path, "genes": self.n_genes, "transcripts": self.n_transcripts,
                "coding_transcripts": coding, "exons": int(self.exon_start.size),
                "contigs": len(self.chroms), "promoter_window": self.promoter_window}

    def genes(self) -> pl.DataFrame:
        """Genes as a Polars frame (0-based half-open ``start``/``end``)."""
        return pl.DataFrame({
            "gene_id": self.gene_id.tolist(), "gene_name": self.gene_name.tolist(),
            "gene_biotype": self.gene_biotype.tolist(), "chrom": self.gene_chrom.tolist(),
            "start": self.gene_start, "end": self.gene_end,
            "strand": [_STRAND_TEXT[int(s)] for s in self.gene_strand],
        }, schema_overrides={"gene_name": pl.String, "gene_biotype": pl.String})

    def transcripts(self) -> pl.DataFrame:
        """Transcripts as a Polars frame (0-based half-open; CDS bounds null if none)."""
        ptr = self._exon_ptr
        return pl.DataFrame({
            "transcript_id": self.tx_id.tolist(),
            "gene_id": self.gene_id[self.tx_gene].tolist(),
            "chrom": self.tx_chrom.tolist(), "start": self.tx_start, "end": self.tx_end,
            "strand": [_STRAND_TEXT[int(s)] for s in self.tx_strand],
            "cds_start": self.tx_cds_start, "cds_end": self.tx_cds_end,
            "n_exons": ptr[1:] - ptr[:-1], "biotype": self.tx_biotype.tolist(),
        }, schema_overrides={"biotype": pl.String}).with_columns(
            pl.when(pl.col("cds_start") >= 0).then(pl.col(c)).alias(c)
            for c in ("cds_start", "cds_end"))

    def transcript_at(self, i: int) -> Transcript:
        """The ``i``-th transcript (in model order) as a :class:`Transcript`."""
        lo, hi = self._exon_ptr[i], self._exon_ptr[i + 1]
        g = int(self.tx_gene[i])
        cs = int(self.tx_cds_start[i])
        return Transcript(
            transcript_id=self.tx_id[i], gene_id=self.gene_id[g],
            gene_name=self.gene_name[g], chrom=self.tx_chrom[i],
            strand=_STRAND_TEXT[int(self.tx_strand[i])],
            exon_starts=self.exon_start[lo:hi].copy(), exon_ends=self.exon_end[lo:hi].copy(),
            cds_start=None if cs < 0 else cs,
            cds_end=None if cs < 0 else int(self.tx_cds_end[i]),
            biotype=self.tx_biotype[i], gene_biotype=self.gene_biotype[g])

    def transcript(self, transcript_id: str) -> Transcript:
        """Transcript by id (the first one if the id is used on several contigs)."""
        if self._tx_lookup is None:
            lookup: dict[str, list[int]] = {}
            for i, t in enumerate(self.tx_id.tolist()):
                lookup.setdefault(t, []).append(i)
            self._tx_lookup = lookup
        try:
            return self.transcript_at(self._tx_lookup[transcript_id][0])
        except KeyError:
            raise KeyError(f"no transcript {transcript_id!r} in the gene model") from None

    def iter_transcripts(self, chrom: str | None = None):
        """Yield :class:`Transcript` objects (of one contig, or all) in genome order."""
        if chrom is None:
            rng = range(self.n_transcripts)
        else:
            lo, hi = self._tx_slices.get(chrom, (0, 0))
            rng = range(lo, hi)
        for i in rng:
            yield self.transcript_at(i)

    def transcripts_of(self, gene_id: str) -> list[Transcript]:
        """Every transcript of a gene, in genome order."""
        g = np.flatnonzero(self.gene_id == gene_id)
        return [self.transcript_at(int(i)) for i in np.flatnonzero(np.isin(self.tx_gene, g))]

    def overlapping_transcripts(self, chrom, start, end) -> tuple[np.ndarray, np.ndarray]:
        """Every (site position, transcript index) pair whose transcript span overlaps.

        Sorted by site then transcript; :meth:`transcript_at` turns an index into a
        :class:`Transcript` (e.g. to report exon/intron/CDS/UTR with ``region_at``).
        """
        start = np.asarray(start, dtype=np.int64)
        end = np.asarray(end, dtype=np.int64)
        qs, ts = [], []
        for name, idx in _group_by_chrom(chrom, start.size, start):
            ci = self._chrom_index(name)
            if ci is None:
                continue
            qi, ti = ci.span.pairs(start[idx], end[idx])
            qs.append(idx[qi])
            ts.append(ti)
        if not qs:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        q, t = np.concatenate(qs), np.concatenate(ts)
        order = np.lexsort((t, q))
        return q[order], t[order]

    def gene_bodies(self, chrom: str | None = None):
        """Yield ``(gene_id, gene_name, chrom, start, end, strand)`` per gene (pre-mRNA)."""
        idx = range(self.n_genes) if chrom is None else range(
            *self._gene_slices.get(chrom, (0, 0)))
        for i in idx:
            yield (self.gene_id[i], self.gene_name[i], self.gene_chrom[i],
                   int(self.gene_start[i]), int(self.gene_end[i]),
                   _STRAND_TEXT[int(self.gene_strand[i])])

    # ---------------------------------------------------------------- genome agreement
    def _where(self, kind: str, i: int) -> dict:
        line = int((self.tx_line if kind == "transcript" else self.gene_line)[i])
        return {"path": self.path, "line": line if self.path else None}

    def validate_against(self, contig_lengths: Mapping[str, int]) -> None:
        """Raise :class:`InputError` naming the first record outside the genome.

        Every contig of the model must be in ``contig_lengths`` (use :meth:`for_genome`
        to rename/drop first) and every transcript/gene must end within its contig.
        """
        for chrom in self.chroms:
            if chrom not in contig_lengths:
                glo, _ = self._gene_slices[chrom]
                hint = suggest(chrom, list(contig_lengths))
                extra = f"; did you mean {hint!r}? (pass --chrom-alias)" if hint else ""
                raise InputError(f"gene {self.gene_id[glo]!r} is on contig {chrom!r}, "
                                 f"which is not in the genome{extra}",
                                 record=self.gene_id[glo], **self._where("gene", glo))
            length = int(contig_lengths[chrom])
            lo, hi = self._tx_slices[chrom]
            bad = np.flatnonzero(self.tx_end[lo:hi] > length)
            if bad.size:
                i = lo + int(bad[0])
                raise InputError(
                    f"transcript {self.tx_id[i]!r} (gene {self.gene_id[self.tx_gene[i]]!r}) "
                    f"ends at {int(self.tx_end[i])} on {chrom!r}, beyond the contig's "
                    f"length {length}; the annotation does not match this genome",
                    record=self.tx_id[i], **self._where("transcript", i))
            glo, ghi = self._gene_slices[chrom]
            bad = np.flatnonzero(self.gene_end[glo:ghi] > length)
            if bad.size:
                i = glo + int(bad[0])
                raise InputError(f"gene {self.gene_id[i]!r} ends at {int(self.gene_end[i])} "
                                 f"on {chrom!r}, beyond the contig's length {length}",
                                 record=self.gene_id[i], **self._where("gene", i))

    def rename_chroms(self, mapping: Mapping[str, str]) -> GeneModel:
        """Copy with contigs renamed by ``mapping``; contigs not in it are dropped."""
        keep_g = np.array([mapping.get(c) is not None for c in self.gene_chrom.tolist()],
                          dtype=bool)
        keep_t = keep_g[self.tx_gene] if self.tx_gene.size else np.zeros(0, bool)
        new_gidx = np.cumsum(keep_g) - 1
        genes = {k: getattr(self, k)[keep_g] for k in
                 ("gene_id", "gene_name", "gene_biotype", "gene_chrom", "gene_start",
                  "gene_end", "gene_strand", "gene_line")}
        genes["gene_chrom"] = _objarray([mapping[c] for c in genes["gene_chrom"].tolist()])
        txs = {k: getattr(self, k)[keep_t] for k in
               ("tx_id", "tx_gene", "tx_chrom", "tx_start", "tx_end", "tx_strand",
                "tx_cds_start", "tx_cds_end", "tx_biotype", "tx_line")}
        txs["tx_chrom"] = _objarray([mapping[c] for c in txs["tx_chrom"].tolist()])
        txs["tx_gene"] = new_gidx[txs["tx_gene"]]
        ptr = self._exon_ptr
        counts = (ptr[1:] - ptr[:-1])[keep_t]
        ex_keep = np.repeat(keep_t, ptr[1:] - ptr[:-1])
        new_ptr = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
        gm = GeneModel(genes, txs, (new_ptr, self.exon_start[ex_keep], self.exon_end[ex_keep]),
                       path=self.path, promoter_window=self.promoter_window)
        if len(set(mapping.values())) != len(mapping):
            raise InputError("two annotation contigs map to the same genome contig",
                             path=self.path)
        return gm

    def for_genome(self, contig_lengths: Mapping[str, int], chrom_alias=None) -> GeneModel:
        """The model in the genome's contig names, checked against its lengths.

        ``chrom_alias`` is an alias file path, a mapping or a :class:`ChromMap`. Contigs
        spelled differently from the genome (``1`` vs ``chr1``) raise :class:`InputError`
        with a suggestion; contigs absent from the genome are dropped; transcripts running
        past a contig end raise :class:`InputError` naming the record.
        """
        cmap = ChromMap.coerce(contig_lengths, chrom_alias)
        first_line = ChromMap.first_lines(self.gene_chrom.tolist(), self.gene_line.tolist())
        mapping = cmap.reconcile(self.chroms, what="annotation", path=self.path,
                                 lines=first_line if self.path else None)
        gm = self if all(k == v for k, v in mapping.items()) and len(mapping) == len(
            self.chroms) else self.rename_chroms(mapping)
        gm.validate_against(contig_lengths)
        return gm

    # ---------------------------------------------------------------- annotation
    def _chrom_index(self, chrom: str) -> _ChromIndex | None:
        ix = self._index.get(chrom)
        if ix is None and chrom in self._gene_slices:
            ix = self._index[chrom] = _ChromIndex(self, chrom)
        return ix

    def _annotate_codes(self, chrom, start, end, promoter_window=None):
        """Region codes, (query, gene) pairs, nearest gene index and distance."""
        window = self.promoter_window if promoter_window is None else int(promoter_window)
        if window < 0:
            raise ValueError("promoter_window must be >= 0")
        start = np.asarray(start, dtype=np.int64)
        end = np.asarray(end, dtype=np.int64)
        n = start.size
        if end.shape != start.shape:
            raise ValueError("start and end must have the same length")
        region = np.zeros(n, dtype=np.int8)
        nearest = np.full(n, -1, dtype=np.int64)
        dist = np.full(n, -1, dtype=np.int64)
        pair_q, pair_g = [], []
        for name, idx in _group_by_chrom(chrom, n, start):
            ci = self._chrom_index(name)
            if ci is None:
                continue
            qs, qe = start[idx], end[idx]
            pending = np.arange(idx.size)
            for code, ix in ((_CDS, ci.cds), (_UTR, ci.utr), (_NCEXON, ci.ncexon),
                             (_INTRON, ci.span), (_PROMOTER, ci.promoter(window))):
                if not pending.size:
                    break
                if not len(ix):
                    continue
                qi, ti = ix.pairs(qs[pending], qe[pending])
                if not qi.size:
                    continue
                hit = np.zeros(pending.size, dtype=bool)
                hit[qi] = True
                region[idx[pending[hit]]] = code
                pair_q.append(idx[pending[qi]])
                pair_g.append(self.tx_gene[ti])
                pending = pending[~hit]
            # Nearest gene body.
            G = ci.gs.size
            if not G:
                continue
            best = np.full(idx.size, -1, dtype=np.int64)
            d = np.full(idx.size, -1, dtype=np.int64)
            oq, og = ci.gene_span.pairs(qs, qe)
            over = np.zeros(idx.size, dtype=bool)
            if oq.size:
                tmp = np.full(idx.size, np.iinfo(np.int64).max, dtype=np.int64)
                np.minimum.at(tmp, oq, og)
                over = tmp != np.iinfo(np.int64).max
                best[over] = tmp[over]
                d[over] = 0
            k = np.searchsorted(ci.gs, qe, "left")
            rest = ~over
            has_l = rest & (k > 0)
            has_r = rest & (k < G)
            km1 = np.maximum(k - 1, 0)
            kc = np.minimum(k, G - 1)
            dl = np.where(has_l, qs - ci.prefmax[km1] + 1, np.iinfo(np.int64).max)
            dr = np.where(has_r, ci.gs[kc] - qe + 1, np.iinfo(np.int64).max)
            take_l = has_l & (dl <= dr)
            take_r = has_r & ~take_l
            best[take_l] = ci.firstarg[km1[take_l]] + ci.g_offset
            d[take_l] = dl[take_l]
            best[take_r] = kc[take_r] + ci.g_offset
            d[take_r] = dr[take_r]
            nearest[idx] = best
            dist[idx] = d
        if pair_q:
            pq = np.concatenate(pair_q)
            pg = np.concatenate(pair_g)
        else:
            pq = pg = np.zeros(0, dtype=np.int64)
        return region, pq, pg, nearest, dist

    def annotate(self, chrom, start, end, *, promoter_window: int | None = None
                 ) -> dict[str, np.ndarray]:
        """Annotate sites ``[start, end)`` on ``chrom`` (a name or an array of names).

        Returns a dict of arrays (one entry per site): ``gene_id``, ``gene_name``,
        ``gene_biotype`` (object, comma-joined when several genes give the region, None
        when none), ``region`` (object: CDS, UTR, noncoding_exon, intron, promoter,
        intergenic), ``nearest_gene`` (object, name else id; None without genes on the
        contig), ``distance_to_gene`` (int64; -1 without genes on the contig).
        Contig names must already be the model's (see :meth:`for_genome`).
        """
        region, pq, pg, nearest, dist = self._annotate_codes(chrom, start, end,
                                                             promoter_window)
        n = region.size
        gid, gname, gbio = _gene_labels(self, n, pq, pg)
        label = np.where(_not_none(self.gene_name), self.gene_name, self.gene_id)
        near = np.full(n, None, dtype=object)
        ok = nearest >= 0
        near[ok] = label[nearest[ok]]
        return {
            "gene_id": gid, "gene_name": gname, "gene_biotype": gbio,
            "region": _REGION_NAMES[region],
            "nearest_gene": near, "distance_to_gene": dist,
        }

    # ---------------------------------------------------------------- writing
    def to_gtf(self, path_or_handle) -> None:
        """Write the model as GTF (gene, transcript, exon, CDS lines; 1-based closed)."""
        own = isinstance(path_or_handle, (str, Path))
        out = open(path_or_handle, "w") if own else path_or_handle  # noqa: SIM115
        by_gene = np.argsort(self.tx_gene, kind="stable")
        first = np.searchsorted(self.tx_gene[by_gene], np.arange(self.n_genes + 1))
        try:
            for i in range(self.n_genes):
                out.write(_gtf_line(self.gene_chrom[i], "gene", self.gene_start[i],
                                    self.gene_end[i], self.gene_strand[i],
                                    self._gene_attrs(i)))
                for t in by_gene[first[i]:first[i + 1]].tolist():
                    attrs = self._gene_attrs(i) + f' transcript_id "{self.tx_id[t]}";'
                    if self.tx_biotype[t]:
                        attrs += f' transcript_biotype "{self.tx_biotype[t]}";'
                    out.write(_gtf_line(self.tx_chrom[t], "transcript", self.tx_start[t],
                                        self.tx_end[t], self.tx_strand[t], attrs))
                    lo, hi = self._exon_ptr[t], self._exon_ptr[t + 1]
                    cs, ce = self.tx_cds_start[t], self.tx_cds_end[t]
                    for s, e in zip(self.exon_start[lo:hi], self.exon_end[lo:hi]):
                        out.write(_gtf_line(self.tx_chrom[t], "exon", s, e,
                                            self.tx_strand[t], attrs))
                        if cs >= 0 and max(s, cs) < min(e, ce):
                            out.write(_gtf_line(self.tx_chrom[t], "CDS", max(s, cs),
                                                min(e, ce), self.tx_strand[t], attrs))
        finally:
            if own:
                out.close()

    def _gene_attrs(self, i: int) -> str:
        a = f'gene_id "{self.gene_id[i]}";'
        if self.gene_name[i]:
            a += f' gene_name "{self.gene_name[i]}";'
        if self.gene_biotype[i]:
            a += f' gene_biotype "{self.gene_biotype[i]}";'
        return a


def _gtf_line(chrom, ftype, start, end, strand, attrs) -> str:
    return (f"{chrom}\tpmcore\t{ftype}\t{int(start) + 1}\t{int(end)}\t.\t"
            f"{_STRAND_TEXT[int(strand)]}\t.\t{attrs}\n")


def _objarray(values) -> np.ndarray:
    arr = np.empty(len(values), dtype=object)
    arr[:] = values
    return arr


def _not_none(arr: np.ndarray) -> np.ndarray:
    return np.fromiter((v is not None for v in arr), dtype=bool, count=arr.size)


def _slices(chrom_arr: np.ndarray, chroms: list[str]) -> dict[str, tuple[int, int]]:
    out = {}
    values = chrom_arr.tolist()
    i = 0
    while i < len(values):
        j = i
        while j < len(values) and values[j] == values[i]:
            j += 1
        out[values[i]] = (i, j)
        i = j
    for c in chroms:
        out.setdefault(c, (0, 0))
    return out


def _group_by_chrom(chrom, n: int, start=None):
    """Yield (name, positions) per distinct contig of ``chrom`` (scalar or array).

    With ``start``, positions come sorted by start: ``searchsorted`` runs several times
    faster on sorted needles (each search starts from the previous answer).
    """
    if isinstance(chrom, str):
        idx = np.arange(n, dtype=np.int64)
        yield chrom, idx if start is None else np.argsort(start, kind="stable")
        return
    if isinstance(chrom, pl.Series):
        s = chrom.cast(pl.String)
    else:  # via a list: Polars cannot cast object arrays that start with None
        s = pl.Series("c", chrom if isinstance(chrom, list) else np.asarray(
            chrom, dtype=object).tolist(), dtype=pl.String)
    if s.len() != n:
        raise ValueError("chrom and start must have the same length")
    groups = (pl.DataFrame({"c": s}).with_row_index("i")
              .group_by("c", maintain_order=True).agg(pl.col("i")))
    for name, pos in zip(groups["c"].to_list(), groups["i"].to_list()):
        if name is None:
            continue
        pos = np.asarray(pos, dtype=np.int64)
        yield name, pos if start is None else pos[np.argsort(start[pos], kind="stable")]


def _sorted_unique(keys: np.ndarray) -> np.ndarray:
    """Sorted distinct values (a plain sort beats np.unique's hashing here)."""
    keys = np.sort(keys)
    keep = np.ones(keys.size, dtype=bool)
    keep[1:] = keys[1:] != keys[:-1]
    return keys[keep]


def _gene_labels(gm: GeneModel, n: int, pq: np.ndarray, pg: np.ndarray):
    """Comma-joined gene id / name / biotype per site from (site, gene) pairs."""
    gid = np.full(n, None, dtype=object)
    gname = np.full(n, None, dtype=object)
    gbio = np.full(n, None, dtype=object)
    if not pq.size:
        return gid, gname, gbio
    key = _sorted_unique(pq * max(gm.n_genes, 1) + pg)
    q = key // max(gm.n_genes, 1)
    g = key % max(gm.n_genes, 1)
    first = np.ones(q.size, dtype=bool)
    first[1:] = q[1:] != q[:-1]
    starts = np.flatnonzero(first)
    counts = np.diff(np.append(starts, q.size))
    single = counts == 1
    sq, sg = q[starts[single]], g[starts[single]]
    gid[sq] = gm.gene_id[sg]
    gname[sq] = gm.gene_name[sg]
    gbio[sq] = gm.gene_biotype[sg]
    cache: dict[tuple, tuple[str, str, str]] = {}  # overlapping genes recur as sets
    g_list = g.tolist()
    q_list = q.tolist()
    for st, c in zip(starts[~single].tolist(), counts[~single].tolist()):
        genes = tuple(g_list[st:st + c])
        labels = cache.get(genes)
        if labels is None:
            labels = cache[genes] = (
                ",".join(gm.gene_id[list(genes)]),
                ",".join(v if v else "." for v in gm.gene_name[list(genes)]),
                ",".join(v if v else "." for v in gm.gene_biotype[list(genes)]))
        site = q_list[st]
        gid[site], gname[site], gbio[site] = labels
    return gid, gname, gbio


# ============================================================================ soft mask
def softmask_flags(softmask, chrom, start, end) -> np.ndarray:
    """Boolean per site: is any base of ``[start, end)`` soft-masked (lowercase).

    ``softmask`` may be a :class:`pmcore.genome.GenomeStore` (its soft-mask bit words are
    read directly), a mapping ``{contig: per-base bool array}``, or a callable
    ``f(contig, starts, ends) -> bool array`` called once per contig.
    """
    start = np.asarray(start, dtype=np.int64)
    end = np.asarray(end, dtype=np.int64)
    out = np.zeros(start.size, dtype=bool)
    store_like = hasattr(softmask, "soft") and hasattr(softmask, "contigs")
    offsets = {c.name: (c.offset, c.length) for c in softmask.contigs} if store_like else None
    for name, idx in _group_by_chrom(chrom, start.size, start):
        s, e = start[idx], end[idx]
        if store_like:
            if name not in offsets:
                raise InputError(f"unknown contig {name!r} for the soft-mask lookup",
                                 record=name)
            off, length = offsets[name]
            out[idx] = _any_bits(softmask.soft, off + np.clip(s, 0, length),
                                 off + np.clip(e, 0, length))
        elif isinstance(softmask, Mapping):
            mask = softmask.get(name)
            if mask is None:
                continue
            csum = np.concatenate(([0], np.cumsum(np.asarray(mask, dtype=bool),
                                                  dtype=np.int64)))
            s2 = np.clip(s, 0, csum.size - 1)
            e2 = np.clip(e, 0, csum.size - 1)
            out[idx] = csum[e2] - csum[s2] > 0
        elif callable(softmask):
            out[idx] = np.asarray(softmask(name, s, e), dtype=bool)
        else:
            raise TypeError("softmask must be a GenomeStore, a mapping or a callable")
    return out


def _any_bits(words: np.ndarray, gs: np.ndarray, ge: np.ndarray) -> np.ndarray:
    """Any bit set in global bit ranges [gs, ge) of little-endian uint64 words."""
    out = np.zeros(gs.size, dtype=bool)
    b0 = gs >> 6
    nw = np.where(ge > gs, ((ge + 63) >> 6) - b0, 0)
    todo = np.flatnonzero(nw > 0)
    j = 0
    all_ones = np.uint64(0xFFFFFFFFFFFFFFFF)
    while todo.size and j < 64:
        w = words[b0[todo] + j]
        base = (b0[todo] + j) << 6
        lo = np.clip(gs[todo] - base, 0, 64).astype(np.uint64)
        hi = np.clip(ge[todo] - base, 0, 64).astype(np.uint64)
        hi_mask = np.where(hi >= 64, all_ones,
                           (np.uint64(1) << np.minimum(hi, 63)) - np.uint64(1))
        lo_mask = np.where(lo >= 64, all_ones,
                           (np.uint64(1) << np.minimum(lo, 63)) - np.uint64(1))
        out[todo] |= (w & hi_mask & ~lo_mask) != 0
        j += 1
        todo = todo[(nw[todo] > j) & ~out[todo]]
    for i in todo.tolist():  # sites longer than 4 kb: unpack their words
        w0, w1 = int(b0[i]), int((ge[i] + 63) >> 6)
        bits = np.unpackbits(np.ascontiguousarray(words[w0:w1]).view(np.uint8),
                             bitorder="little")
        out[i] = bool(bits[int(gs[i]) - w0 * 64:int(ge[i]) - w0 * 64].any())
    return out


# ============================================================================ hits
def load_annotation_sources(contig_lengths: Mapping[str, int], *, gtf=None, beds=(),
                            chrom_alias=None,
                            promoter_window: int = DEFAULT_PROMOTER_WINDOW):
    """Read and reconcile everything ``scan --annotate/--regions/--chrom-alias`` needs.

    Parameters
    ----------
    contig_lengths : mapping
        ``{contig: length}`` of the genome (e.g. from ``GenomeStore.contigs``).
    gtf : path, optional
        GTF or GFF3 (gzip ok).
    beds : sequence of paths
        BED files of user regions.
    chrom_alias : path, mapping or ChromMap, optional
        Alias file for contig names.

    Returns
    -------
    (GeneModel or None, RegionSet or None)
        Both already in the genome's contig names and checked against its lengths; pass
        them to :func:`annotate_hits`. Raises :class:`InputError` (file, line, reason) on
        bad input or names that need ``--chrom-alias``.
    """
    from .regions import RegionSet

    cmap = ChromMap.coerce(contig_lengths, chrom_alias)
    gm = None
    if gtf is not None:
        gm = read_annotation(gtf, promoter_window=promoter_window).for_genome(
            contig_lengths, cmap)
    rs = None
    if beds:
        rs = RegionSet.from_beds(list(beds)).for_genome(contig_lengths, cmap)
    return gm, rs


def annotate_hits(df: pl.DataFrame, gene_model: GeneModel | None = None, regions=None,
                  softmask=None, *, promoter_window: int | None = None) -> pl.DataFrame:
    """Add the annotation columns (:data:`pmcore.annotation_schemas.ANNOTATION_SCHEMA`).

    Parameters
    ----------
    df : polars.DataFrame
        Any table with ``chrom``, ``start``, ``end`` (0-based half-open), e.g. hits.
    gene_model : GeneModel, optional
        Already in the genome's contig names (:meth:`GeneModel.for_genome`). Without it
        the gene columns are null.
    regions : pmcore.regions.RegionSet, optional
        User BED regions; without it ``regions_flagged`` is null.
    softmask : GenomeStore, mapping or callable, optional
        When given, ``softmasked`` is (re)computed (see :func:`softmask_flags`).
    promoter_window : int, optional
        Overrides the model's promoter window.

    Returns
    -------
    polars.DataFrame
        ``df`` with the seven annotation columns appended (replaced if present).
    """
    for col in ("chrom", "start", "end"):
        if col not in df.columns:
            raise InputError(f"table has no {col!r} column; cannot annotate")
    n = df.height
    chrom = df.get_column("chrom").cast(pl.String)
    start = df.get_column("start").cast(pl.Int64).to_numpy()
    end = df.get_column("end").cast(pl.Int64).to_numpy()
    cols = {}
    if gene_model is not None and n:
        _check_names(chrom, gene_model)
        res = gene_model.annotate(chrom, start, end, promoter_window=promoter_window)
        for k in ("gene_id", "gene_name", "gene_biotype", "region", "nearest_gene"):
            cols[k] = pl.Series(k, res[k].tolist(), dtype=pl.String)
        dist = pl.Series("distance_to_gene", res["distance_to_gene"], dtype=pl.Int64)
        cols["distance_to_gene"] = dist.set(dist < 0, None)  # -1: no gene on the contig
    if regions is not None and n:
        cols["regions_flagged"] = pl.Series("regions_flagged",
                                            regions.flag(chrom, start, end).tolist(),
                                            dtype=pl.String)
    new = []
    for name, dtype in ANNOTATION_POLARS_SCHEMA.items():
        s = cols.get(name)
        new.append(pl.Series(name, [None] * n, dtype=dtype) if s is None else s.cast(dtype))
    if softmask is not None:
        new.append(pl.Series("softmasked", softmask_flags(softmask, chrom, start, end)
                             if n else np.zeros(0, bool), dtype=pl.Boolean))
    return df.with_columns(new)


def _check_names(chrom: pl.Series, gm: GeneModel) -> None:
    """Refuse hits whose contig names only match the model after a spelling change."""
    if not gm.chroms:
        return
    known = set(gm.chroms)
    for name in chrom.unique().drop_nulls().to_list():
        if name not in known:
            hint = suggest(name, gm.chroms)
            if hint is not None:
                raise InputError(f"hits are on contig {name!r} but the gene model names it "
                                 f"{hint!r}; build the model with GeneModel.for_genome "
                                 f"(--chrom-alias) so the names agree", record=name,
                                 path=gm.path)


# ============================================================================ synthetic
def synthetic_gtf(contig_lengths: Mapping[str, int], n_genes: int, *, seed: int = 0,
                  max_transcripts: int = 3) -> str:
    """A seeded random GTF (for demos, tests and benchmarks; not biology).

    Genes have log-normal lengths (median ~20 kb, capped at 2 Mb), 1..``max_transcripts``
    transcripts over the gene span with 1-12 exons each (median ~150 bp), about 70% protein-coding with a CDS inside the
    exons; genes may overlap and nest, on both strands.
    """
    rng = np.random.default_rng(seed)
    names = list(contig_lengths)
    lengths = np.array([contig_lengths[c] for c in names], dtype=np.float64)
    which = rng.choice(len(names), size=n_genes, p=lengths / lengths.sum())
    out = io.StringIO()
    for gi in range(n_genes):
        chrom = names[which[gi]]
        clen = int(contig_lengths[chrom])
        glen = int(min(2_000_000, max(200, rng.lognormal(math.log(20_000), 1.2))))
        glen = min(glen, clen)
        gs = int(rng.integers(0, clen - glen + 1))
        strand = "+" if rng.random() < 0.5 else "-"
        coding = rng.random() < 0.7
        biotype = "protein_coding" if coding else ("lncRNA" if rng.random() < 0.8
                                                   else "miRNA")
        gid = f"G{gi:06d}"
        gattr = f'gene_id "{gid}"; gene_name "GENE{gi}"; gene_biotype "{biotype}";'
        out.write(_gtf_line(chrom, "gene", gs, gs + glen, _STRAND_CODE[strand], gattr))
        for ti in range(int(rng.integers(1, max_transcripts + 1))):
            n_ex = int(rng.integers(1, 13))
            el = np.clip(rng.lognormal(math.log(150), 0.7, size=n_ex), 30, 5000).astype(int)
            if n_ex == 1 or el.sum() + n_ex > glen:
                ex = [(gs, gs + glen)]
            else:
                cuts = np.sort(rng.integers(0, glen - el.sum() - (n_ex - 1) + 1,
                                            size=n_ex - 1))
                introns = np.diff(np.concatenate(([0], cuts,
                                                  [glen - el.sum() - (n_ex - 1)])))[:-1] + 1
                introns[-1] += glen - el.sum() - introns.sum()
                pos, ex = gs, []
                for k in range(n_ex):
                    ex.append((pos, pos + int(el[k])))
                    pos += int(el[k]) + (int(introns[k]) if k < n_ex - 1 else 0)
            tattr = gattr + f' transcript_id "{gid}.{ti}";'
            out.write(_gtf_line(chrom, "transcript", ex[0][0], ex[-1][1],
                                _STRAND_CODE[strand], tattr))
            for s, e in ex:
                out.write(_gtf_line(chrom, "exon", s, e, _STRAND_CODE[strand], tattr))
            if coding:
                total = sum(e - s for s, e in ex)
                if total >= 30:
                    a = int(rng.integers(0, total // 3))
                    b = int(total - rng.integers(0, total // 3))
                    pos = 0
                    for s, e in ex:
                        lo = max(s, s + a - pos)
                        hi = min(e, s + b - pos)
                        if lo < hi:
                            out.write(_gtf_line(chrom, "CDS", lo, hi, _STRAND_CODE[strand],
                                                tattr))
                        pos += e - s
    return out.getvalue()
