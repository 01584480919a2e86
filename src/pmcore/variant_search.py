"""Off-target search that takes patient and population variants (VCF) into account.

The model (docs/variants.md has the user-facing version):

* A **haplotype** is the reference genome with a set of non-overlapping variants applied.
  A phased sample gives two (``1`` and ``2``: the alleles its ``a|b`` genotypes put on
  each; homozygous calls count on both, phased or not). An unphased heterozygous call, and
  every ALT allele of a file without samples (a population file), gives a haplotype of its
  own holding that one allele.
* The result equals searching every haplotype's whole sequence and comparing with the
  reference search: each reference site is reported once with ``presence = 'both'`` when
  no variant touches it; for each haplotype whose variants touch it (change one of its
  bases, or insert bases strictly inside it) it is reported again as ``'both'`` (the
  haplotype still has a site with the same reference coordinates, strand and bulge) or
  ``'reference'`` (the haplotype removes it); each haplotype site that holds a changed base
  and has no such reference counterpart is reported as ``'alternative'``.
* Implementation: around every cluster of nearby variants of a haplotype a window of
  reference bases, padded by (widest site - 1) on each side, gets the variants applied;
  the windows are packed into a few contigs (one ``N`` between neighbours) of one
  temporary store and searched with the same engine as the genome. Only sites lying in
  one window and holding a changed base are kept (the others are reference sites the
  reference search already finds); their coordinates are lifted back to the reference.

Lifting: ``start`` is the reference position of the site's first base that comes from the
reference, ``end`` one past that of its last such base (so a site spanning a deletion
covers the deleted bases, and inserted bases add nothing); a site made only of inserted
bases gets ``start = end`` = the insertion point. ``alt_start``/``alt_end`` give the exact
place on the haplotype's own sequence.
"""

from __future__ import annotations

import bisect
import logging
import os
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from .chroms import ChromMap
from .errors import InputError
from .offtarget import GuideSearch, check_limits
from .tables import HITS_SCHEMA
from .variant_schemas import VARIANT_FIELDS, VARIANT_HITS_SCHEMA
from .vcf import MAX_ALLELE_LEN, RefCache, Variant, VcfData, read_vcf

log = logging.getLogger("pmcore.variants")

_KEY_COLS = ("query_id", "chrom", "start", "end", "strand", "bulge_type", "bulge_size")
#: Length of the contigs the haplotype windows are packed into.
PACK_BASES = 1 << 22


@dataclass
class Haplotype:
    """A set of non-overlapping variants applied together."""

    vcf: str
    sample: str | None
    label: str | None  # '1', '2' for phased haplotypes; None for a lone allele
    variants: list  # Variant, sorted by (chrom, pos, end)
    genotypes: dict = field(default_factory=dict)  # Variant -> GT text

    def describe(self) -> str:
        who = self.sample or "population"
        return f"{self.vcf} {who} haplotype {self.label or self.variants[0].id}"


# --------------------------------------------------------------------------- haplotypes
def _conflicts(a: Variant, b: Variant) -> bool:
    """Do two variants of one contig change overlapping bases (so cannot both apply)?"""
    if a.ref and b.ref:
        return a.pos < b.end and b.pos < a.end
    if not a.ref and not b.ref:
        return a.pos == b.pos  # two insertions at one point: order unknown
    ins, other = (a, b) if not a.ref else (b, a)
    return other.pos < ins.pos < other.end


def resolve_overlaps(variants, warnings, what: str) -> list:
    """Variants sorted by position, without those that overlap one earlier in the file
    (each dropped one gets a warning)."""
    kept: dict[str, list] = defaultdict(list)  # chrom -> sorted [(pos, end, line, v)]
    span = max((len(v.ref) for v in variants), default=0)
    for v in sorted(variants, key=lambda v: (v.path, v.line, v.allele)):
        lst = kept[v.chrom]
        lo = bisect.bisect_left(lst, (v.pos - span - 1,))
        hi = bisect.bisect_right(lst, (v.end + 1,))
        clash = next((k[3] for k in lst[lo:hi] if _conflicts(k[3], v)), None)
        if clash is not None:
            warnings.append(f"{v.path}:{v.line}: variant {v.id} overlaps {clash.id} on "
                            f"{what}; only the first is applied")
            continue
        bisect.insort(lst, (v.pos, v.end, v.line, v), key=lambda t: t[:3])
    return sorted((t[3] for lst in kept.values() for t in lst),
                  key=lambda v: (v.chrom, v.pos, v.end, v.line, v.allele))


def haplotypes_of(data: VcfData, samples=None, name: str | None = None) -> list:
    """Haplotypes of a VCF file (see module docs).

    ``samples``: None for every sample, a collection to restrict them, or an empty one to
    ignore genotypes and apply each ALT allele alone (a population file with sample
    columns). A file with sample columns but none of the requested samples is read as a
    population file too (a cohort file next to the patient's). ``name``: the file's label in the ``vcf`` column (default: its base name).
    """
    name = name or os.path.basename(data.path)
    out = []
    if data.samples and data.records and not any(
            c is not None for r in data.records for c in r.calls):
        data.warnings.append(f"{data.path}: no GT field in any record: every ALT allele is "
                             "applied alone, as for a population file")
        samples = ()
    if (data.samples and samples is not None and len(samples)
            and not set(samples) & set(data.samples)):
        data.warnings.append(f"{data.path}: none of the requested samples is in this file: "
                             "every ALT allele is applied alone, as for a population file")
        samples = ()
    if not data.samples or (samples is not None and len(samples) == 0):
        for r in data.records:
            for _, v in sorted(r.variants.items()):
                out.append(Haplotype(name, None, None, [v], {v: None}))
        return out
    wanted = data.samples if samples is None else [s for s in data.samples if s in samples]
    for si, sample in enumerate(data.samples):
        if sample not in wanted:
            continue
        haps = {"1": [], "2": []}
        gts = {}
        lone, lone_seen = [], set()
        for r in data.records:
            call = r.calls[si] if si < len(r.calls) else None
            if call is None:
                continue
            called = [a for a in call.alleles if a is not None]
            hom = len(called) == len(call.alleles) and len(set(called)) == 1
            for k, a in enumerate(call.alleles):
                v = r.variants.get(a) if a else None
                if v is None:
                    continue
                gts[v] = call.text
                if len(call.alleles) == 1:  # haploid call
                    haps["1"].append(v)
                elif call.phased:
                    if k < 2:
                        haps[str(k + 1)].append(v)
                elif hom:  # unphased but certain: on both haplotypes
                    if k == 0:
                        haps["1"].append(v)
                        haps["2"].append(v)
                elif v not in lone_seen:  # unphased heterozygous: on its own
                    lone_seen.add(v)
                    lone.append(Haplotype(name, sample, None, [v], {v: call.text}))
        for label, vs in haps.items():
            if vs:
                kept = resolve_overlaps(vs, data.warnings, f"{sample} haplotype {label}")
                out.append(Haplotype(name, sample, label, kept, {v: gts[v] for v in kept}))
        out.extend(lone)
    return out


# --------------------------------------------------------------------------- windows
@dataclass
class _Window:
    hap: int
    chrom: str
    lo: int  # reference start of the window
    hap_offset: int  # haplotype coordinate of the window's first base
    refmap: np.ndarray  # reference position of each window base, -1 if inserted
    alleles: list  # (a0, a1, Variant) in window coordinates


def _apply(store, chrom: str, lo: int, hi: int, variants):
    """Window sequence of reference ``[lo, hi)`` with ``variants`` applied, its base map
    and the variants' allele spans in window coordinates."""
    ref = store.fetch(chrom, lo, hi)  # store: GenomeStore or RefCache
    pieces, maps, alleles = [], [], []
    cur, n = lo, 0
    for v in variants:
        pieces.append(ref[cur - lo:v.pos - lo])
        maps.append(np.arange(cur, v.pos, dtype=np.int64))
        n += v.pos - cur
        pieces.append(v.alt)
        m = np.full(len(v.alt), -1, dtype=np.int64)
        k = min(len(v.alt), len(v.ref))
        m[:k] = np.arange(v.pos, v.pos + k)
        maps.append(m)
        alleles.append((n, n + len(v.alt), v))
        n += len(v.alt)
        cur = v.end
    pieces.append(ref[cur - lo:])
    maps.append(np.arange(cur, hi, dtype=np.int64))
    return "".join(pieces), np.concatenate(maps), alleles


def _windows(store, haplotypes, pad: int):
    """Yield (_Window, sequence) for every cluster of nearby variants of each haplotype."""
    cache = RefCache(store)
    for hi_, hap in enumerate(haplotypes):
        by_chrom = defaultdict(list)
        for v in hap.variants:
            by_chrom[v.chrom].append(v)
        for chrom, vs in by_chrom.items():
            length = store.contig(chrom).length
            shift = 0
            i = 0
            while i < len(vs):
                j = i + 1
                end = vs[i].end
                while j < len(vs) and vs[j].pos <= end + 2 * pad:
                    end = max(end, vs[j].end)
                    j += 1
                lo = max(0, vs[i].pos - pad)
                hi = min(length, end + pad)
                seq, refmap, alleles = _apply(cache, chrom, lo, hi, vs[i:j])
                yield _Window(hi_, chrom, lo, lo + shift, refmap, alleles), seq
                shift += sum(v.delta for v in vs[i:j])
                i = j


def _lift(w: _Window, s: int, e: int) -> tuple[int, int]:
    m = w.refmap[s:e]
    idx = np.flatnonzero(m >= 0)
    if idx.size:
        return int(m[idx[0]]), int(m[idx[-1]]) + 1
    for a0, a1, v in w.alleles:  # only inserted bases
        if a0 <= s < a1:
            return v.end, v.end
    raise AssertionError("window base outside every allele has no reference position")


def _touching(w: _Window, s: int, e: int) -> list:
    out = []
    for a0, a1, v in w.alleles:
        if (a0 < a1 and s < a1 and a0 < e) or (a0 == a1 and s < a0 < e):
            out.append(v)
    return out


# --------------------------------------------------------------------------- search
def _table(batches) -> pa.Table:
    return pa.Table.from_batches(list(batches), schema=HITS_SCHEMA)


def _chrom_map(store, chrom_alias) -> ChromMap:
    return ChromMap.coerce([c.name for c in store.contigs], chrom_alias)


def site_width(guide_records, nuclease, dna_bulges: int) -> int:
    """Widest site any guide can have (spacer + PAM + DNA bulge)."""
    return max(len(g.sequence) for g in guide_records) + len(nuclease.pam) + dna_bulges


def alternative_hits(store, haplotypes, guide_records, nuclease, *, mismatches: int,
                     dna_bulges: int, rna_bulges: int, threads: int = 1) -> list:
    """Sites of each haplotype that hold a changed base.

    Returns a list of dicts: the hits columns (``start``/``end`` lifted to the reference),
    ``hap`` (index into ``haplotypes``), ``alt_start``/``alt_end`` and ``touching`` (the
    variants whose alleles the site overlaps).
    """
    pad = site_width(guide_records, nuclease, dna_bulges) - 1
    out = []
    with tempfile.TemporaryDirectory(prefix="pmcore-variants-") as tmp:
        fasta = os.path.join(tmp, "windows.fa")
        # windows are packed into a few long contigs, one N between neighbours: a site
        # holding that N spans two windows and is dropped, so every kept site lies in one
        # window and is exactly a site of that window's sequence
        windows, offsets, lengths = [], [], []
        with open(fasta, "w") as fh:
            pack, size = 0, 0
            fh.write(">p0\n")
            for w, seq in _windows(store, haplotypes, pad):
                if not seq:
                    continue
                if size and size + len(seq) > PACK_BASES:
                    pack, size = pack + 1, 0
                    fh.write(f"\n>p{pack}\n")
                if size:
                    fh.write("N")
                    size += 1
                fh.write(seq)
                windows.append(w)
                offsets.append((pack, size))
                lengths.append(len(seq))
                size += len(seq)
            fh.write("\n")
        if not windows:
            return out
        from .genome import GenomeStore, build_store

        build_store(fasta, os.path.join(tmp, "windows.pmg"))
        alt_store = GenomeStore(os.path.join(tmp, "windows.pmg"))
        try:
            search = GuideSearch(alt_store, guide_records, nuclease, mismatches=mismatches,
                                 dna_bulges=dna_bulges, rna_bulges=rna_bulges,
                                 threads=threads)
            for batch in search.batches():
                for row in batch.to_pylist():
                    k = bisect.bisect_right(offsets, (int(row["chrom"][1:]), row["start"])) - 1
                    off = offsets[k][1]
                    s, e = row["start"] - off, row["end"] - off
                    if s < 0 or e > lengths[k]:
                        continue
                    w = windows[k]
                    touching = _touching(w, s, e)
                    if not touching:
                        continue
                    row["alt_start"], row["alt_end"] = w.hap_offset + s, w.hap_offset + e
                    row["start"], row["end"] = _lift(w, s, e)
                    row["chrom"] = w.chrom
                    row["hap"] = w.hap
                    row["touching"] = touching
                    out.append(row)
        finally:
            alt_store.close()
    return out


def _key(row) -> tuple:
    return tuple(row[c] for c in _KEY_COLS)


def merge_sites(ref_rows, alt_rows, haplotypes) -> list:
    """Rows of the variant-aware table (dicts) from reference and haplotype sites.

    ``ref_rows``: reference hits (dicts with the hits columns); ``alt_rows``: output of
    :func:`alternative_hits`. See the module docs for the rules.
    """
    # variants of every haplotype, per chrom, sorted by position
    index = defaultdict(list)
    for hi_, hap in enumerate(haplotypes):
        for v in hap.variants:
            index[v.chrom].append((v.pos, v.end, hi_, v))
    for lst in index.values():
        lst.sort(key=lambda t: (t[0], t[1], t[2]))
    starts = {c: [t[0] for t in lst] for c, lst in index.items()}
    span = max((len(v.ref) for h in haplotypes for v in h.variants), default=0)

    alt_by_hap = defaultdict(lambda: defaultdict(list))
    for row in sorted(alt_rows, key=lambda r: (r["alt_start"], r["alt_end"])):
        alt_by_hap[row["hap"]][_key(row)].append(row)

    out = []
    for row in ref_rows:
        touched = defaultdict(list)
        lst = index.get(row["chrom"])
        if lst:
            lo = bisect.bisect_left(starts[row["chrom"]], row["start"] - span)
            hi = bisect.bisect_left(starts[row["chrom"]], row["end"])
            for _, _, h, v in lst[lo:hi]:
                if v.touches(row["start"], row["end"]):
                    touched[h].append(v)
        if not touched:
            out.append(_out_row(row, "both", None, [], None))
            continue
        for h, vs in sorted(touched.items()):
            cands = alt_by_hap[h].get(_key(row))
            if cands:
                alt = cands.pop(0)
                out.append(_out_row(row, "both", haplotypes[h], _union(vs, alt["touching"]),
                                    alt))
            else:
                out.append(_out_row(row, "reference", haplotypes[h], vs, None))
    for h, by_key in alt_by_hap.items():
        for rows in by_key.values():
            for alt in rows:
                base = {c: alt[c] for c in (f.name for f in HITS_SCHEMA)}
                out.append(_out_row(base, "alternative", haplotypes[h], alt["touching"], alt))
    return _merge_haplotypes(out)


def _union(a, b) -> list:
    seen = list(a)
    for v in b:
        if v not in seen:
            seen.append(v)
    return sorted(seen, key=lambda v: (v.pos, v.end, v.id))


def _out_row(row, presence, hap, variants, alt) -> dict:
    out = {c.name: row[c.name] for c in HITS_SCHEMA}
    variants = sorted(variants, key=lambda v: (v.pos, v.end, v.id))
    out.update(
        presence=presence,
        vcf=hap.vcf if hap else None,
        sample=hap.sample if hap else None,
        haplotype=hap.label if hap else None,
        variant_ids=[v.id for v in variants] if hap else [],
        genotype=[hap.genotypes.get(v) for v in variants] if hap else [],
        allele_frequency=[v.af for v in variants] if hap else [],
        alt_start=alt["alt_start"] if alt else None,
        alt_end=alt["alt_end"] if alt else None,
        alt_aligned_guide=alt["aligned_guide"] if alt else None,
        alt_site=alt["site"] if alt else None,
        alt_pam=alt["pam"] if alt else None,
        alt_mismatches=alt["mismatches"] if alt else None,
    )
    return out


def _merge_haplotypes(rows) -> list:
    """One row for a site that haplotypes 1 and 2 of a sample give identically."""
    out, seen = [], {}
    for r in rows:
        if r["haplotype"] not in ("1", "2"):
            out.append(r)
            continue
        key = tuple((k, tuple(v) if isinstance(v, list) else v) for k, v in r.items()
                    if k != "haplotype")
        if key in seen:
            seen[key]["haplotype"] = "1,2"
            continue
        seen[key] = r
        out.append(r)
    return out


def _score_alt(rows) -> tuple[list, list]:
    """CFD and MIT of the alternative sites (None where there is none or no score)."""
    import polars as pl

    from .scoring import score_site_columns

    cfd = [None] * len(rows)
    mit = [None] * len(rows)
    idx = [i for i, r in enumerate(rows) if r["alt_site"] is not None]
    if not idx:
        return cfd, mit
    frame = pl.DataFrame({
        "query_id": [rows[i]["query_id"] for i in idx],
        "guide": [rows[i]["guide"] for i in idx],
        "chrom": [rows[i]["chrom"] for i in idx],
        "start": [rows[i]["start"] for i in idx],
        "end": [rows[i]["end"] for i in idx],
        "strand": [rows[i]["strand"] for i in idx],
        "aligned_guide": [rows[i]["alt_aligned_guide"] for i in idx],
        "site": [rows[i]["alt_site"] for i in idx],
        "pam": [rows[i]["alt_pam"] for i in idx],
        "mismatches": [rows[i]["alt_mismatches"] for i in idx],
        "bulge_type": [rows[i]["bulge_type"] for i in idx],
        "bulge_size": [rows[i]["bulge_size"] for i in idx],
    })
    scored = score_site_columns(frame)
    for k, i in enumerate(idx):
        cfd[i] = scored["cfd"][k]
        mit[i] = scored["mit"][k]
    return cfd, mit


def touched_mask(ref: pa.Table, haplotypes) -> np.ndarray:
    """Which rows of a hits table some haplotype's variant touches (see
    :meth:`pmcore.vcf.Variant.touches`), vectorised per contig."""
    mask = np.zeros(ref.num_rows, dtype=bool)
    if not ref.num_rows:
        return mask
    by_chrom = defaultdict(list)
    for hap in haplotypes:
        for v in hap.variants:
            # with variants sorted by pos, a row [s, e) is touched iff some variant with
            # pos < e has reach > s: reach = end for substitutions/deletions, pos for
            # insertions (which must fall strictly inside)
            by_chrom[v.chrom].append((v.pos, v.end if v.ref else v.pos))
    chrom = np.asarray(ref.column("chrom").to_numpy(zero_copy_only=False))
    start = ref.column("start").to_numpy()
    end = ref.column("end").to_numpy()
    for name, items in by_chrom.items():
        rows = np.flatnonzero(chrom == name)
        if not rows.size:
            continue
        items.sort()
        pos = np.array([p for p, _ in items], dtype=np.int64)
        reach = np.maximum.accumulate(np.array([r for _, r in items], dtype=np.int64))
        k = np.searchsorted(pos, end[rows], side="left")
        hit = k > 0
        hit[hit] = reach[k[hit] - 1] > start[rows][hit]
        mask[rows] = hit
    return mask


def _untouched_table(ref: pa.Table) -> pa.Table:
    """Reference sites no variant touches, with the variant columns filled in."""
    n = ref.num_rows
    cols = {f.name: ref.column(f.name) for f in HITS_SCHEMA}
    empty_list = {
        "variant_ids": pa.array([[]] * n, pa.list_(pa.string())),
        "genotype": pa.array([[]] * n, pa.list_(pa.string())),
        "allele_frequency": pa.array([[]] * n, pa.list_(pa.float64())),
    }
    for f in VARIANT_FIELDS:
        if f.name == "presence":
            cols[f.name] = pa.array(["both"] * n, pa.string())
        elif f.name in empty_list:
            cols[f.name] = empty_list[f.name]
        else:
            cols[f.name] = pa.nulls(n, f.type)
    return pa.Table.from_pydict(cols, schema=VARIANT_HITS_SCHEMA)


def to_table(rows, contig_order, untouched: pa.Table | None = None) -> pa.Table:
    """Rows (dicts) plus the untouched reference sites as one ``VARIANT_HITS_SCHEMA``
    table, alternative sites scored, sorted by position."""
    import pyarrow.compute as pc

    cfd, mit = _score_alt(rows)
    for r, c, m in zip(rows, cfd, mit):
        r["alt_cfd"], r["alt_mit"] = c, m
    table = pa.Table.from_pylist(rows, schema=VARIANT_HITS_SCHEMA)
    if untouched is not None and untouched.num_rows:
        table = pa.concat_tables([untouched, table])
    if not table.num_rows:
        return table
    rank = pc.index_in(table.column("chrom"), value_set=pa.array(list(contig_order)))
    presence = pc.index_in(table.column("presence"), value_set=pa.array(
        ["both", "reference", "alternative"]))
    vids = pc.binary_join(table.column("variant_ids"), ";")
    keyed = table.append_column("_rank", rank).append_column("_pres", presence) \
        .append_column("_vids", vids)
    for name, blank in (("vcf", ""), ("sample", ""), ("haplotype", ""), ("alt_start", -1)):
        keyed = keyed.append_column("_" + name, pc.fill_null(table.column(name), blank))
    order = pc.sort_indices(keyed, sort_keys=[(name, "ascending") for name in (
        "_rank", "start", "end", "strand", "query_id", "bulge_type", "bulge_size", "_vcf",
        "_sample", "_haplotype", "_vids", "_pres", "_alt_start")])
    return table.take(order)


def for_text(table):
    """The table with its list columns (``variant_ids``, ``genotype``,
    ``allele_frequency``) joined by ``;`` (``.`` for a missing entry), for TSV/BED
    writers, which take no nested columns. Takes an Arrow table or record batch.

    >>> t = pa.table({"variant_ids": [["rs1", "rs2"], []], "af": [[0.5, None], []]})
    >>> for_text(t).to_pylist()
    [{'variant_ids': 'rs1;rs2', 'af': '0.5;.'}, {'variant_ids': '', 'af': ''}]
    """
    arrays, fields = [], []
    for f, col in zip(table.schema, table.columns):
        if pa.types.is_list(f.type):
            col = pa.array([None if v is None else
                            ";".join("." if x is None else str(x) for x in v)
                            for v in col.to_pylist()], pa.string())
            f = pa.field(f.name, pa.string(), True, f.metadata)
        arrays.append(col)
        fields.append(f)
    schema = pa.schema(fields, metadata=table.schema.metadata)
    if isinstance(table, pa.RecordBatch):
        return pa.RecordBatch.from_arrays(arrays, schema=schema)
    return pa.Table.from_arrays(arrays, schema=schema)


def search_with_variants(store, guide_records, nuclease, vcf_paths, *, mismatches: int = 4,
                         dna_bulges: int = 0, rna_bulges: int = 0, threads: int = 1,
                         chrom_alias=None, samples=None, max_allele_len: int = MAX_ALLELE_LEN,
                         warnings: list | None = None,
                         reference_hits: pa.Table | None = None) -> pa.Table:
    """Off-target sites of ``guide_records`` in the reference and in the haplotypes that
    the VCF files describe (module docs; docs/variants.md).

    Parameters
    ----------
    store : GenomeStore
    guide_records : list of GuideRecord
    nuclease : Nuclease
    vcf_paths : str, Path or list of them
        VCF(.gz) files: samples with genotypes (phased or not) or population files.
    mismatches, dna_bulges, rna_bulges, threads
        As for :class:`pmcore.offtarget.GuideSearch`.
    chrom_alias : path, mapping, name groups or ChromMap, optional
        Maps VCF contig names onto the genome's (``--chrom-alias``).
    samples : collection of str, optional
        Only these samples' genotypes (default: every sample; an error if one is in no
        file). A file holding none of them, or every file when the collection is empty,
        is read as a population file: every ALT allele applied alone.
    max_allele_len : int
        Alleles changing more bases are skipped with a warning.
    warnings : list, optional
        Receives the warnings (skipped alleles, overlapping variants, unknown contigs).
    reference_hits : pyarrow.Table, optional
        The reference genome's hits of these guides at these limits (``HITS_SCHEMA``, as
        ``GuideSearch(...).batches()`` gives them), when the caller already has them: the
        reference is then not scanned again.

    Returns
    -------
    pyarrow.Table
        ``VARIANT_HITS_SCHEMA``: the hits columns then the variant columns.
    """
    check_limits(mismatches, dna_bulges, rna_bulges)
    if isinstance(vcf_paths, (str, os.PathLike)):
        vcf_paths = [vcf_paths]
    if not vcf_paths:
        raise InputError("no VCF file given")
    if not guide_records:
        raise InputError("no guides to search")
    cmap = _chrom_map(store, chrom_alias)
    vcf_paths = [str(p) for p in vcf_paths]
    base = [os.path.basename(p) for p in vcf_paths]
    labels = [b if base.count(b) == 1 else p for b, p in zip(base, vcf_paths)]
    haplotypes = []
    seen_samples = set()
    for path, label in zip(vcf_paths, labels):
        data = read_vcf(path, cmap, store=store, max_len=max_allele_len)
        seen_samples.update(data.samples)
        n_read = len(data.warnings)
        haps = haplotypes_of(data, samples, label)
        for w in data.warnings[n_read:]:
            log.warning(w)
        if warnings is not None:
            warnings.extend(data.warnings)
        haplotypes.extend(haps)
    missing = sorted(set(samples or ()) - seen_samples)
    if missing:
        raise InputError(f"sample(s) {', '.join(missing)} not in any VCF (samples there: "
                         f"{', '.join(sorted(seen_samples)[:6]) or 'none'})")
    if reference_hits is None:
        ref = _table(GuideSearch(store, guide_records, nuclease, mismatches=mismatches,
                                 dna_bulges=dna_bulges, rna_bulges=rna_bulges,
                                 threads=threads).batches())
    elif reference_hits.schema.remove_metadata() != HITS_SCHEMA.remove_metadata():
        raise InputError("reference_hits do not have the hits table's schema")
    else:
        ref = reference_hits
    alt = alternative_hits(store, haplotypes, guide_records, nuclease, mismatches=mismatches,
                           dna_bulges=dna_bulges, rna_bulges=rna_bulges, threads=threads)
    touched = touched_mask(ref, haplotypes)
    rows = merge_sites(ref.filter(pa.array(touched)).to_pylist(), alt, haplotypes)
    return to_table(rows, [c.name for c in store.contigs],
                    _untouched_table(ref.filter(pa.array(~touched))))


__all__ = [
    "VARIANT_FIELDS",
    "VARIANT_HITS_SCHEMA",
    "Haplotype",
    "alternative_hits",
    "haplotypes_of",
    "merge_sites",
    "search_with_variants",
]
