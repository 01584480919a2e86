"""User regions from BED files (e.g. oncogenes / tumour suppressors), flagged by name.

BED is 0-based half-open, like pmcore, so coordinates are read as they are. Accepted:
3 to 12+ columns (only chrom, start, end, name and strand are read), tab-separated (or
whitespace-separated when a line has no tab), gzip ok; ``#`` comments, ``track`` and
``browser`` lines and blank lines are skipped. A region without a name (3-column BED) is
named ``chrom:start-end``.

Examples
--------
>>> import io
>>> rs = RegionSet.from_bed(io.StringIO("track name=x\\nc1\\t10\\t20\\tTP53\\nc1\\t15\\t30\\tMYC\\n"))
>>> rs.flag("c1", [12, 18, 40], [13, 19, 41]).tolist()
['TP53', 'MYC,TP53', None]
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from .annotation import IntervalIndex, _group_by_chrom, _objarray, _sorted_unique
from .chroms import ChromMap
from .errors import InputError
from .io import open_text_input

__all__ = ["RegionSet", "read_bed"]


def read_bed(source, *, label: str | None = None):
    """Parse a BED file into (chroms, starts, ends, names, strands, lines) lists.

    ``label`` prefixes every name (``label:name``) so several files stay distinguishable.
    Malformed lines raise :class:`InputError` with file, line and reason.
    """
    own = isinstance(source, (str, Path))
    handle = open_text_input(source) if own else source
    path = str(source) if own else getattr(source, "name", None)
    chroms, starts, ends, names, strands, lines = [], [], [], [], [], []
    try:
        for lineno, line in enumerate(handle, 1):
            text = line.rstrip("\r\n")
            if not text.strip() or text.startswith(("#", "track", "browser")):
                continue
            cols = text.split("\t") if "\t" in text else text.split()
            if len(cols) < 3:
                raise InputError(f"malformed BED record: expected at least 3 columns "
                                 f"(chrom, start, end), found {len(cols)}", path=path,
                                 line=lineno)
            try:
                s, e = int(cols[1]), int(cols[2])
            except ValueError:
                raise InputError(f"malformed BED record: start/end {cols[1]!r}/{cols[2]!r} "
                                 f"are not integers", path=path, line=lineno) from None
            if s < 0 or e < s:
                raise InputError(f"malformed BED record: need 0 <= start <= end, got "
                                 f"{s}-{e}", path=path, line=lineno)
            name = cols[3].strip() if len(cols) > 3 and cols[3].strip() not in ("", ".") \
                else f"{cols[0]}:{s}-{e}"
            if label:
                name = f"{label}:{name}"
            strand = cols[5].strip() if len(cols) > 5 else "."
            if strand not in ("+", "-", "."):
                raise InputError(f"malformed BED record: strand {strand!r} is not +, - or .",
                                 path=path, line=lineno)
            chroms.append(cols[0])
            starts.append(s)
            ends.append(e)
            names.append(name)
            strands.append(strand)
            lines.append(lineno)
    finally:
        if own:
            handle.close()
    return chroms, starts, ends, names, strands, lines


class RegionSet:
    """Named regions, indexed per contig for bulk overlap queries.

    Overlap is the half-open test ``start < site_end and site_start < end``.
    """

    def __init__(self, chroms, starts, ends, names, *, path=None, lines=None):
        self.path = path
        self.chrom = _objarray(list(chroms))
        self.start = np.asarray(starts, dtype=np.int64)
        self.end = np.asarray(ends, dtype=np.int64)
        self.name = _objarray(list(names))
        self.line = (np.zeros(self.start.size, np.int64) if lines is None
                     else np.asarray(lines, dtype=np.int64))
        if not (self.chrom.size == self.start.size == self.end.size == self.name.size):
            raise ValueError("chroms, starts, ends and names must have the same length")
        self.chroms = list(dict.fromkeys(self.chrom.tolist()))
        # Distinct names, sorted: codes follow sort order so joined labels come out sorted.
        uniq, codes = np.unique(self.name.astype(str), return_inverse=True) \
            if self.name.size else (np.zeros(0, str), np.zeros(0, np.int64))
        self._names = _objarray(uniq.tolist())
        self._code = codes.astype(np.int64)
        self._index: dict[str, IntervalIndex] = {}

    @classmethod
    def from_bed(cls, source, *, label: str | None = None) -> RegionSet:
        """Regions of one BED file (path or text handle)."""
        chroms, starts, ends, names, _strands, lines = read_bed(source, label=label)
        path = str(source) if isinstance(source, (str, Path)) else None
        return cls(chroms, starts, ends, names, path=path, lines=lines)

    @classmethod
    def from_beds(cls, paths) -> RegionSet:
        """Regions of several BED files together."""
        cols = [[], [], [], [], []]
        for p in paths:
            c, s, e, n, _st, ln = read_bed(p)
            for acc, part in zip(cols, (c, s, e, n, ln)):
                acc.extend(part)
        paths = [str(p) for p in paths]
        return cls(*cols[:4], path=",".join(paths) if paths else None, lines=cols[4])

    def __len__(self) -> int:
        return int(self.start.size)

    def __repr__(self) -> str:
        return f"RegionSet({len(self)} regions, {len(self._names)} names, {len(self.chroms)} contigs)"

    def _chrom_index(self, chrom: str) -> IntervalIndex | None:
        ix = self._index.get(chrom)
        if ix is None:
            sel = np.flatnonzero(self.chrom == chrom)
            if not sel.size:
                return None
            ix = self._index[chrom] = IntervalIndex(self.start[sel], self.end[sel],
                                                    self._code[sel])
        return ix

    def overlaps(self, chrom, start, end) -> tuple[np.ndarray, np.ndarray]:
        """(site position, region name code) pairs, deduplicated, sorted."""
        start = np.asarray(start, dtype=np.int64)
        end = np.asarray(end, dtype=np.int64)
        qs, cs = [], []
        for name, idx in _group_by_chrom(chrom, start.size, start):
            ix = self._chrom_index(name)
            if ix is None:
                continue
            qi, code = ix.pairs(start[idx], end[idx])
            qs.append(idx[qi])
            cs.append(code)
        if not qs:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        k = max(len(self._names), 1)
        key = _sorted_unique(np.concatenate(qs) * k + np.concatenate(cs))
        return key // k, key % k

    def flag(self, chrom, start, end) -> np.ndarray:
        """Per site: distinct names of overlapping regions, sorted and comma-joined, or None.

        ``chrom`` is a contig name or an array of names (already the genome's names).
        """
        n = np.asarray(start).size
        out = np.full(n, None, dtype=object)
        q, code = self.overlaps(chrom, start, end)
        if not q.size:
            return out
        first = np.ones(q.size, dtype=bool)
        first[1:] = q[1:] != q[:-1]
        starts = np.flatnonzero(first)
        counts = np.diff(np.append(starts, q.size))
        single = counts == 1
        out[q[starts[single]]] = self._names[code[starts[single]]]
        for st, c in zip(starts[~single].tolist(), counts[~single].tolist()):
            out[q[st]] = ",".join(self._names[code[st:st + c]])
        return out

    def rename_chroms(self, mapping: Mapping[str, str]) -> RegionSet:
        """Copy with contigs renamed; regions on contigs not in ``mapping`` are dropped."""
        keep = np.array([c in mapping for c in self.chrom.tolist()], dtype=bool)
        return RegionSet([mapping[c] for c in self.chrom[keep].tolist()], self.start[keep],
                         self.end[keep], self.name[keep], path=self.path,
                         lines=self.line[keep])

    def for_genome(self, contig_lengths: Mapping[str, int], chrom_alias=None) -> RegionSet:
        """Regions in the genome's contig names (see :meth:`GeneModel.for_genome`).

        Misspelled contigs (``1`` vs ``chr1``) raise :class:`InputError` with a suggestion;
        contigs absent from the genome are dropped; regions past a contig end raise.
        """
        cmap = ChromMap.coerce(contig_lengths, chrom_alias)
        first_line = ChromMap.first_lines(self.chrom.tolist(), self.line.tolist())
        mapping = cmap.reconcile(self.chroms, what="BED file", path=self.path,
                                 lines=first_line if self.path else None)
        rs = self.rename_chroms(mapping)
        lengths = np.array([contig_lengths[c] for c in rs.chrom.tolist()], dtype=np.int64)
        bad = np.flatnonzero(rs.end > lengths)
        if bad.size:
            i = int(bad[0])
            raise InputError(f"region {rs.name[i]!r} ends at {int(rs.end[i])}, beyond the "
                             f"length {int(lengths[i])} of contig {rs.chrom[i]!r}",
                             path=self.path, line=int(rs.line[i]) or None, record=rs.name[i])
        return rs
