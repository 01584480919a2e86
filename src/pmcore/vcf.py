"""VCF reader for variant-aware off-target search.

Reads VCF 4.x text, plain or gzip/bgzip-compressed: ``##`` meta lines, the ``#CHROM``
header (with or without sample columns), then one record per line. What is kept:

* SNVs, MNVs, insertions, deletions and complex (REF/ALT of different lengths and
  content) alleles up to ``max_len`` bases on either side; longer ones are skipped with a
  warning, as are symbolic (``<DEL>``, ``<*>``), breakend (``]chr1:5]A``), missing (``.``)
  and spanning-deletion (``*``) alleles.
* Multi-allelic records are split: every ALT allele is its own :class:`Variant`
  (``allele`` = its 1-based index in ALT, the number a genotype uses).
* Alleles are normalised by trimming the bases REF and ALT share at their end, then at
  their start, so a variant covers only the bases it changes: ``pos`` is the 0-based start
  of the changed reference bases, ``ref`` the changed reference bases (empty for a pure
  insertion, which then sits just before reference base ``pos``) and ``alt`` the new bases
  (empty for a pure deletion).
* ``AF`` from INFO (one value per ALT allele) for population files; ``GT`` of each sample
  (``|`` phased, ``/`` unphased, haploid calls, ``.`` missing).

Bad input raises :class:`~pmcore.errors.InputError` with file, line and reason: too few
columns, a POS that is not a positive integer, REF/ALT letters outside ACGTN, a GT allele
index beyond ALT, a record before the ``#CHROM`` header, and a REF that differs from the
genome (the record is named). Chromosome names go through :class:`pmcore.chroms.ChromMap`:
a name that matches a genome contig only after a spelling change (``chr1`` vs ``1``) is
an error suggesting the genome's name and ``--chrom-alias``; records on contigs the genome
lacks entirely are skipped with a warning (a whole-genome VCF against a partial genome),
unless no record maps at all, which is an error.

Examples
--------
>>> normalise(99, "ACG", "ATG")
(100, 'C', 'T')
>>> normalise(99, "A", "AT")
(100, '', 'T')
>>> normalise(99, "AT", "A")
(100, 'T', '')
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

from .chroms import ChromMap, suggest
from .errors import InputError
from .io import open_text_input

log = logging.getLogger("pmcore.vcf")

#: Longest REF or ALT allele (after normalisation) taken into account by default.
MAX_ALLELE_LEN = 50

_BASES = re.compile(r"^[ACGTN]+$")


@dataclass(frozen=True)
class Variant:
    """One ALT allele of a VCF record, normalised (see module docs)."""

    chrom: str  # genome contig name (after alias resolution)
    pos: int  # 0-based start of the changed reference bases
    ref: str  # changed reference bases (may be empty: insertion)
    alt: str  # new bases (may be empty: deletion)
    id: str  # VCF ID, or CHROM:POS:REF:ALT (1-based POS, alleles as written) if '.'
    allele: int  # 1-based index of the allele in ALT
    af: float | None  # INFO AF of this allele, if given
    path: str
    line: int

    @property
    def end(self) -> int:
        """0-based exclusive end of the changed reference bases."""
        return self.pos + len(self.ref)

    @property
    def delta(self) -> int:
        """Length change of the sequence (ALT minus REF bases)."""
        return len(self.alt) - len(self.ref)

    def touches(self, start: int, end: int) -> bool:
        """Does the variant change the reference interval ``[start, end)``?

        Substituted or deleted bases inside the interval do; an insertion does when it
        falls strictly inside (between two of its bases), not at its edges.
        """
        if self.ref:
            return self.pos < end and start < self.end
        return start < self.pos < end


@dataclass(frozen=True)
class Call:
    """Genotype of one sample at one record."""

    alleles: tuple  # allele indices (0 = REF), None for a missing allele
    phased: bool  # '|' separators (haploid calls count as phased)
    text: str  # GT as written


@dataclass
class Record:
    """A VCF data line with its kept alleles and the samples' genotypes."""

    line: int
    variants: dict  # allele index -> Variant (kept alleles only)
    calls: list  # Call per sample (None where GT is absent)


@dataclass
class VcfData:
    """Content of one VCF file."""

    path: str
    samples: list
    records: list = field(default_factory=list)
    warnings: list = field(default_factory=list)

    @property
    def variants(self) -> list:
        """Every kept variant, in file order."""
        return [v for r in self.records for _, v in sorted(r.variants.items())]


class RefCache:
    """Reads of a genome store through a one-block cache: VCF records and the windows
    built from them come in position order, so one fetch serves many of them."""

    BLOCK = 1 << 20

    def __init__(self, store):
        self.store = store
        self._key = None
        self._text = ""

    def fetch(self, chrom: str, start: int, end: int) -> str:
        """Bases ``[start, end)`` of ``chrom``, clipped to the contig, soft-mask kept."""
        b = max(0, start) // self.BLOCK
        if end > (b + 1) * self.BLOCK + 256:  # a long range: no caching
            return self.store.fetch(chrom, start, end)
        if self._key != (chrom, b):
            self._key = (chrom, b)
            self._text = self.store.fetch(chrom, b * self.BLOCK, (b + 1) * self.BLOCK + 256)
        lo = max(0, start) - b * self.BLOCK
        return self._text[lo:max(lo, end - b * self.BLOCK)]


def normalise(pos: int, ref: str, alt: str) -> tuple[int, str, str]:
    """Trim shared trailing, then leading, bases of REF and ALT; shift ``pos`` (0-based)."""
    while ref and alt and ref[-1] == alt[-1]:
        ref, alt = ref[:-1], alt[:-1]
    k = 0
    while k < len(ref) and k < len(alt) and ref[k] == alt[k]:
        k += 1
    return pos + k, ref[k:], alt[k:]


def _parse_info_af(info: str) -> list | None:
    if info in ("", "."):
        return None
    for item in info.split(";"):
        if item.startswith("AF="):
            values = []
            for v in item[3:].split(","):
                try:
                    values.append(float(v))
                except ValueError:
                    values.append(None)
            return values
    return None


def _parse_gt(text: str, n_alt: int, path, lineno, sample: str) -> Call:
    phased = "/" not in text
    parts = re.split(r"[|/]", text)
    alleles = []
    for p in parts:
        if p == ".":
            alleles.append(None)
            continue
        if not p.isdigit():
            raise InputError(f"sample {sample!r}: genotype {text!r} is not a GT value "
                             "(allele numbers separated by '|' or '/')", path=path,
                             line=lineno)
        a = int(p)
        if a > n_alt:
            raise InputError(f"sample {sample!r}: genotype {text!r} names allele {a} but "
                             f"ALT has {n_alt}", path=path, line=lineno)
        alleles.append(a)
    return Call(tuple(alleles), phased, text)


def read_vcf(path, chrom_map: ChromMap, *, store=None, max_len: int = MAX_ALLELE_LEN
             ) -> VcfData:
    """Read one VCF file (see module docs).

    Parameters
    ----------
    path : str or Path
    chrom_map : ChromMap
        Maps the VCF's contig names onto the genome's.
    store : GenomeStore, optional
        When given, every REF is checked against the genome (an error names the record)
        and positions beyond a contig's end are errors.
    max_len : int
        Longest REF/ALT allele (after normalisation) kept.
    """
    path = str(path)
    data = VcfData(path, [])
    header_seen = False
    unknown: dict[str, int] = {}
    mapped_any = False
    n_samples = 0
    cache = RefCache(store) if store is not None else None
    with open_text_input(path) as handle:
        for lineno, raw in enumerate(handle, 1):
            text = raw.rstrip("\n").rstrip("\r")
            if not text.strip():
                continue
            if text.startswith("##"):
                continue
            if text.startswith("#"):
                cols = text[1:].split("\t")
                if len(cols) < 8 or cols[0].upper() != "CHROM":
                    raise InputError("header line must be '#CHROM POS ID REF ALT QUAL FILTER "
                                     "INFO [FORMAT SAMPLE...]' (tab-separated)", path=path,
                                     line=lineno)
                data.samples = cols[9:] if len(cols) > 9 else []
                n_samples = len(data.samples)
                header_seen = True
                continue
            if not header_seen:
                raise InputError("data line before the '#CHROM' header line", path=path,
                                 line=lineno)
            cols = text.split("\t")
            if len(cols) < 8:
                raise InputError(f"record has {len(cols)} tab-separated columns, a VCF "
                                 "record needs at least 8", path=path, line=lineno)
            if n_samples and len(cols) != 9 + n_samples:
                raise InputError(f"record has {len(cols)} columns; the header names "
                                 f"{n_samples} sample(s), so {9 + n_samples} are expected",
                                 path=path, line=lineno)
            vchrom, vpos, vid, vref, valt, _qual, _filt, info = cols[:8]
            if not vpos.isdigit() or int(vpos) < 1:
                raise InputError(f"POS {vpos!r} is not a positive integer", path=path,
                                 line=lineno)
            ref = vref.upper()
            if not _BASES.match(ref):
                raise InputError(f"REF {vref!r} has letters other than ACGTN", path=path,
                                 line=lineno)
            if valt == "":
                raise InputError("ALT is empty (use '.' for no alternative allele)",
                                 path=path, line=lineno)
            chrom = chrom_map.get(vchrom)
            if chrom is None:
                if suggest(vchrom, chrom_map.genome_names) is not None:
                    chrom_map.resolve(vchrom, what="VCF", path=path, line=lineno)
                if vchrom not in unknown:
                    unknown[vchrom] = lineno
                continue
            mapped_any = True
            pos0 = int(vpos) - 1
            if store is not None:
                length = store.contig(chrom).length
                if pos0 + len(ref) > length:
                    raise InputError(f"record {vchrom}:{vpos} REF {vref} runs past the end of "
                                     f"contig {chrom!r} ({length} bp)", path=path,
                                     line=lineno, record=vid if vid != "." else None)
                genome_ref = cache.fetch(chrom, pos0, pos0 + len(ref)).upper()
                if any(r != g and r != "N" for r, g in zip(ref, genome_ref)):
                    raise InputError(f"REF {vref} of record {vchrom}:{vpos} does not match "
                                     f"the genome ({genome_ref} at {chrom}:{vpos}); is the "
                                     "VCF for another assembly?", path=path, line=lineno,
                                     record=vid if vid != "." else f"{vchrom}:{vpos}")
            alts = valt.split(",")
            afs = _parse_info_af(info)
            kept = {}
            for i, a in enumerate(alts, 1):
                au = a.upper()
                if au in (".", "*") or au.startswith("<") or "[" in au or "]" in au:
                    data.warnings.append(f"{path}:{lineno}: ALT allele {a!r} (symbolic, "
                                         "breakend, missing or spanning deletion) skipped")
                    continue
                if not _BASES.match(au):
                    raise InputError(f"ALT allele {a!r} has letters other than ACGTN",
                                     path=path, line=lineno)
                p, r, s = normalise(pos0, ref, au)
                if not r and not s:
                    data.warnings.append(f"{path}:{lineno}: ALT allele {a!r} equals REF; "
                                         "skipped")
                    continue
                if len(r) > max_len or len(s) > max_len:
                    data.warnings.append(f"{path}:{lineno}: allele {vref}>{a} changes more "
                                         f"than {max_len} bases; skipped")
                    continue
                af = afs[i - 1] if afs is not None and i - 1 < len(afs) else None
                name = vid if vid not in (".", "") else f"{vchrom}:{vpos}:{vref}:{a}"
                if vid not in (".", "") and len(alts) > 1:
                    name = f"{vid}:{a}"
                kept[i] = Variant(chrom, p, r, s, name, i, af, path, lineno)
            calls = []
            if n_samples:
                fmt = cols[8].split(":")
                gt_i = fmt.index("GT") if "GT" in fmt else None
                for sname, value in zip(data.samples, cols[9:]):
                    if gt_i is None:
                        calls.append(None)
                        continue
                    parts = value.split(":")
                    gt = parts[gt_i] if gt_i < len(parts) else "."
                    calls.append(_parse_gt(gt, len(alts), path, lineno, sname))
            data.records.append(Record(lineno, kept, calls))
    if not header_seen:
        raise InputError("no '#CHROM' header line: not a VCF file?", path=path)
    if unknown and not mapped_any:
        first, line = next(iter(unknown.items()))
        chrom_map.resolve(first, what="VCF", path=path, line=line)
    for name, line in unknown.items():
        data.warnings.append(f"{path}:{line}: chromosome {name!r} is not in the genome; its "
                             "records are skipped")
    for w in data.warnings:
        log.warning(w)
    return data
