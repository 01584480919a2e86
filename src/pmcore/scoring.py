"""Off-target site scores: CFD (Doench et al. 2016) and MIT (Hsu et al. 2013).

Both follow CRISPOR 5.2 to the last convention (``docs/scoring.md``): CFD keys are
``(guide base as RNA, complement of the site base, position)``; CFD is -1.0 when the spacer
or the 3-nt PAM holds a letter other than ACGT; MIT compares the spacers only, upper-cased,
with CRISPOR's rules for 19-nt and shorter spacers. Rules for what CRISPOR does not score:

* CFD needs a 20-nt spacer and a 3-nt PAM on the 3' side; otherwise it is null.
* MIT needs a 3' PAM of 2-3 nt (the SpCas9 family); otherwise (SaCas9, Cas12a) it is null.
* Bulged sites: MIT is null (Hsu's model has no bulge term); CFD uses Doench's Supp. Table
  19 bulge factors, maximised over the bulge placements (``cfd_bulge_score``).

The scalar functions (:func:`cfd_score`, :func:`mit_score`) and the table path
(:func:`score_hits`) share the same numpy kernels over 2-bit-style codes, so one number never
depends on which door it came through.

>>> cfd_score("ATGTGGAGATTGCCACCTAC", "ATCTGGAGATTGCCACCTACAGG")
0.384615385
>>> round(mit_score("GGGGGGGGGGGGGGGGGGGG", "GGGGGGGGGGGGGGGGGGGAAGG"), 3)
41.7
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

from .errors import InputError, PmcoreError

# --------------------------------------------------------------------------- tables

#: sha256 of the shipped tables; a mismatch means the package data was altered.
TABLE_SHA256 = {
    "cfd_mismatch.csv": "f7659279da7647ef6b8780021db8db63bf73092da6dd8799f2b8e7394f15f109",
    "cfd_pam.csv": "2d7872efca3072ea8a7323c2004807deaa4a52b6c64304c68cba15202a4028ea",
    "cfd_bulges.csv": "b455c2b5e2a07e352014642cf7610879436f0bd885e1ff7285a480ca2f0bd6d2",
    "mit_weights.csv": "c469a5fb51290f71c3dd742bfa7655902a2d76af46afbfeed852b5525fd6c8f9",
}

#: Base codes used by every kernel here: A C G T = 0..3; other IUPAC letters (N...) = 4;
#: '-' = 5; anything else = 255 (invalid).
A, C, G, T, OTHER, GAP, INVALID = 0, 1, 2, 3, 4, 5, 255
_LUT = np.full(256, INVALID, dtype=np.uint8)
for _ch, _code in (("A", A), ("C", C), ("G", G), ("T", T), ("U", T)):
    _LUT[ord(_ch)] = _code
    _LUT[ord(_ch.lower())] = _code
for _ch in "RYSWKMBDHVN":
    _LUT[ord(_ch)] = OTHER
    _LUT[ord(_ch.lower())] = OTHER
_LUT[ord("-")] = GAP
_RNA = "ACGU"
_COMP = np.array([T, G, C, A], dtype=np.uint8)  # complement of A C G T

#: CRISPOR's threshold for keeping NAG/NGA hits (unscaled MIT, strict) and its scaling.
ALT_PAM_MIN_MIT = 1.0
ALT_PAM_MIT_FACTOR = 0.2
#: CRISPOR's mismatch limit for its hit set and its repeat limit.
CRISPOR_MAX_MISMATCHES = 4
CRISPOR_MAXOCC = 60000


def _read_table(name: str) -> list[dict]:
    raw = resources.files("pmcore").joinpath("data", "scoring", name).read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    if digest != TABLE_SHA256[name]:
        raise PmcoreError(f"scoring table {name} has sha256 {digest}, expected "
                         f"{TABLE_SHA256[name]}: the package data was altered")
    return list(csv.DictReader(io.StringIO(raw.decode("ascii"))))


@dataclass(frozen=True)
class Tables:
    """The scoring tables as numpy arrays indexed by base codes."""

    #: mm[p, g, s]: CFD factor for guide base g facing site base s at 0-based position p
    #: (1.0 where g == s).
    mm: np.ndarray
    #: pam[a, b]: CFD factor of PAM positions 2-3.
    pam: np.ndarray
    #: dna_bulge[b, p] / rna_bulge[b, p]: ST19 "Deletion" / "Insertion" factor of RNA letter
    #: b at 1-based position p (2-20; other positions hold nan).
    dna_bulge: np.ndarray
    rna_bulge: np.ndarray
    #: Hsu weights M_1..M_20 (index 0..19).
    mit: np.ndarray


@lru_cache(maxsize=1)
def tables() -> Tables:
    """Load (once) and check the shipped tables."""
    mm = np.ones((20, 4, 4), dtype=np.float64)
    seen = set()
    for row in _read_table("cfd_mismatch.csv"):
        g = _RNA.index(row["rna_base"])
        dna = "ACGT".index(row["dna_base"])
        p = int(row["position"]) - 1
        s = int(_COMP[dna])  # the site letter is the complement of the target-strand base
        if g == s:
            raise PmcoreError(f"cfd_mismatch.csv lists a Watson-Crick pair: {row}")
        mm[p, g, s] = float(row["score"])
        seen.add((p, g, s))
    if len(seen) != 240:
        raise PmcoreError(f"cfd_mismatch.csv has {len(seen)} distinct keys, expected 240")
    pam = np.full((4, 4), np.nan)
    for row in _read_table("cfd_pam.csv"):
        a, b = ("ACGT".index(x) for x in row["pam_dinucleotide"])
        pam[a, b] = float(row["score"])
    if np.isnan(pam).any():
        raise PmcoreError("cfd_pam.csv does not cover the 16 dinucleotides")
    dna_bulge = np.full((4, 21), np.nan)
    rna_bulge = np.full((4, 21), np.nan)
    for row in _read_table("cfd_bulges.csv"):
        target = dna_bulge if row["st19_sheet"] == "deletion" else rna_bulge
        target[_RNA.index(row["rna_base"]), int(row["position"])] = float(row["score"])
    for arr in (dna_bulge, rna_bulge):
        if np.isnan(arr[:, 2:]).any():
            raise PmcoreError("cfd_bulges.csv does not cover positions 2-20 for A/C/G/U")
    mit = np.zeros(20)
    for row in _read_table("mit_weights.csv"):
        mit[int(row["position"]) - 1] = float(row["weight"])
    for arr in (mm, pam, dna_bulge, rna_bulge, mit):
        arr.setflags(write=False)
    return Tables(mm, pam, dna_bulge, rna_bulge, mit)


# --------------------------------------------------------------------------- encoding

def encode(seqs, width: int) -> np.ndarray:
    """Codes of equal-length sequences as an ``(n, width)`` uint8 array.

    ``seqs`` is a str, a list of str, or a Polars string Series (joined in Rust).
    """
    if isinstance(seqs, str):
        seqs = [seqs]
    if hasattr(seqs, "str") and hasattr(seqs, "len"):  # polars Series
        n = seqs.len()
        joined = seqs.str.join("").item() if n else ""
    else:
        n = len(seqs)
        joined = "".join(seqs)
    try:
        raw = joined.encode("ascii")
    except UnicodeEncodeError:
        raw = joined.encode("ascii", "replace")
    if len(raw) != n * width:
        raise InputError(f"sequences are not all {width} letters long")
    return _LUT[np.frombuffer(raw, dtype=np.uint8)].reshape(n, width)


# --------------------------------------------------------------------------- kernels

def cfd_codes(guide: np.ndarray, proto: np.ndarray, pam: np.ndarray) -> np.ndarray:
    """CFD of 20-nt spacers against 20-nt protospacers and 3-nt PAMs (all as codes).

    Rows with a code other than ACGT anywhere in guide, protospacer or PAM give -1.0.
    Factors are multiplied from position 1 to 20, then the PAM, as CRISPOR does.
    """
    tb = tables()
    n = guide.shape[0]
    bad = (guide > T).any(axis=1) | (proto > T).any(axis=1) | (pam > T).any(axis=1)
    g = np.where(guide > T, 0, guide)
    s = np.where(proto > T, 0, proto)
    pm = np.where(pam > T, 0, pam)
    score = np.ones(n)
    for p in range(20):
        score *= tb.mm[p, g[:, p], s[:, p]]
    score *= tb.pam[pm[:, 1], pm[:, 2]]
    score[bad] = -1.0
    return score


def _mit_layout(length: int, filter_variant: bool = False):
    """CRISPOR's handling of spacer length: (columns kept, prepend an A, start, max dist)."""
    if length > 20:
        return slice(length - 20, length), False, 0, 19.0
    if length == 19:
        return slice(0, 19), True, 0, 19.0
    if length < 19:
        # CRISPOR compares string positions 20-len .. len-1 with the weights of the same
        # index; its crispor.py uses len-1 as the distance normaliser, filterFaToBed keeps 19
        return slice(0, length), False, 20 - length, (19.0 if filter_variant else length - 1.0)
    return slice(0, 20), False, 0, 19.0


def mit_codes(guide: np.ndarray, proto: np.ndarray, *, filter_variant: bool = False):
    """MIT hit scores of spacers against protospacers of the same length (codes).

    Bases are compared as codes: any two ACGT differ when their codes differ, a site letter
    outside ACGT is a mismatch against the (ACGT) guide. ``filter_variant`` reproduces the
    copy of the score in CRISPOR's alternative-PAM filter (differs only below 19 nt).
    Returns ``(score, n_mismatches)``.
    """
    tb = tables()
    length = guide.shape[1]
    cols, prepend, start, max_dist = _mit_layout(length, filter_variant)
    g, s = guide[:, cols], proto[:, cols]
    if prepend:
        pad = np.zeros((g.shape[0], 1), dtype=g.dtype)
        g, s = np.hstack([pad, g]), np.hstack([pad, s])
    n = g.shape[0]
    mism = g != s
    mism[:, :start] = False
    score1 = np.ones(n)
    count = np.zeros(n, dtype=np.int64)
    first = np.full(n, -1, dtype=np.int64)
    last = np.full(n, -1, dtype=np.int64)
    for pos in range(start, g.shape[1]):
        m = mism[:, pos]
        score1[m] *= 1.0 - tb.mit[pos]
        count += m
        first[m & (first < 0)] = pos
        last[m] = pos
    score2 = np.ones(n)
    many = count >= 2
    avg = (last[many] - first[many]) / (count[many] - 1)
    score2[many] = 1.0 / (((max_dist - avg) / max_dist) * 4 + 1)
    score3 = np.ones(n)
    some = count >= 1
    score3[some] = 1.0 / (count[some] ** 2)
    return score1 * score2 * score3 * 100, count


def _bulge_factor(table: np.ndarray, base_codes: np.ndarray, position: int) -> np.ndarray:
    # ST19 has no position 1 (a 5'-end bulge is a shorter guide): use position 2, the
    # nearest measured one
    return table[np.where(base_codes > T, 0, base_codes), max(position, 2)]


def cfd_bulge_codes(guide: np.ndarray, proto: np.ndarray, pam: np.ndarray, kind: str,
                    size: int):
    """CFD of bulged alignments: the maximum over the bulge placements (codes).

    ``kind`` 'DNA': ``proto`` holds 20 + size genome bases; placement j = 1..20 puts the
    extra bases after guide position j and multiplies ST19 "Deletion" factors keyed by each
    extra base (site strand, as RNA) at position j. ``kind`` 'RNA': ``proto`` holds
    20 - size bases; placement i = 0..19-size leaves guide bases i..i+size-1 unpaired and
    multiplies ST19 "Insertion" factors keyed by each unpaired guide base at its position.
    Paired positions use the mismatch table with the guide's numbering; the PAM factor
    comes last. Returns ``(score, best_placement)``: for DNA the j above, for RNA the
    1-based position of the first unpaired guide base; -1 on rows scored -1.0.
    """
    tb = tables()
    n = guide.shape[0]
    bad = (guide > T).any(axis=1) | (proto > T).any(axis=1) | (pam > T).any(axis=1)
    g = np.where(guide > T, 0, guide)
    s = np.where(proto > T, 0, proto)
    best = np.full(n, -np.inf)
    where = np.full(n, -1, dtype=np.int64)
    if kind == "DNA":
        placements = range(1, 21)
    elif kind == "RNA":
        placements = range(20 - size)
    else:
        raise ValueError(kind)
    for j in placements:
        score = np.ones(n)
        if kind == "DNA":
            for p in range(20):
                if p == j:
                    for k in range(size):
                        score *= _bulge_factor(tb.dna_bulge, s[:, j + k], j)
                sp = p if p < j else p + size
                score *= tb.mm[p, g[:, p], s[:, sp]]
            if j == 20:
                for k in range(size):
                    score *= _bulge_factor(tb.dna_bulge, s[:, 20 + k], 20)
            label = j
        else:
            for p in range(20):
                if j <= p < j + size:
                    score *= _bulge_factor(tb.rna_bulge, g[:, p], p + 1)
                else:
                    sp = p if p < j else p - size
                    score *= tb.mm[p, g[:, p], s[:, sp]]
            label = j + 1
        better = score > best
        best[better] = score[better]
        where[better] = label
    pm = np.where(pam > T, 0, pam)
    best = best * tb.pam[pm[:, 1], pm[:, 2]]
    best[bad] = -1.0
    where[bad] = -1
    return best, where


# --------------------------------------------------------------------------- scalar API

def _check_guide(guide: str, *, what: str = "guide") -> str:
    if not isinstance(guide, str) or not guide.strip():
        raise InputError(f"empty {what}")
    g = guide.strip().upper().replace("U", "T")
    bad = sorted({c for c in g if c not in "ACGT"})
    if bad:
        raise InputError(f"{what} {guide!r} has letters other than ACGT: {''.join(bad)}")
    if not 12 <= len(g) <= 30:
        raise InputError(f"{what} {guide!r} is {len(g)} nt; scoring accepts 12-30 nt spacers")
    return g


def _check_site(site: str, length: int, *, pam_len: int = 3, allow_bare: bool = False) -> str:
    if not isinstance(site, str) or not site.strip():
        raise InputError("empty site")
    s = site.strip()
    bad = sorted({c for c in s if _LUT[ord(c)] > OTHER} if s.isascii() else set(s))
    if bad:
        raise InputError(f"site {site!r} has letters that are not IUPAC codes: {''.join(bad)}")
    ok = (length + pam_len,) + ((length,) if allow_bare else ())
    if len(s) not in ok:
        raise InputError(f"site {site!r} is {len(s)} nt; expected {length + pam_len} "
                         f"({length}-nt protospacer + {pam_len}-nt PAM)")
    return s


def cfd_score(guide: str, site: str) -> float | None:
    """CFD of one (guide, site) pair, as CRISPOR's ``calcCfdScore``.

    Parameters
    ----------
    guide : str
        Spacer, 5'->3' (ACGT, any case; U read as T).
    site : str
        Protospacer + 3-nt PAM, 5'->3' on the guide's strand (any case, IUPAC letters).

    Returns
    -------
    float or None
        CFD in [0, 1]; -1.0 when the site holds a letter other than ACGT (CRISPOR's
        "no score"); None when the guide is not 20 nt (CFD is defined for 20-mers only).

    >>> cfd_score("GGGGGGGGGGGGGGGGGGGG", "GGGGGGGGGGGGGGGGGAAAGGG")
    0.4635989007074176
    """
    g = _check_guide(guide)
    s = _check_site(site, len(g))
    if len(g) != 20:
        return None
    gc, sc = encode(g, 20), encode(s, 23)
    return float(cfd_codes(gc, sc[:, :20], sc[:, 20:])[0])


def mit_score(guide: str, site: str) -> float:
    """MIT (Hsu 2013) hit score of one pair, as CRISPOR's ``calcHitScore``.

    ``site`` is the protospacer, with or without its 3-nt PAM (the PAM is never compared).
    Case is ignored; a site letter outside ACGT is a mismatch. Spacers longer than 20 use
    their last 20 nt, 19-mers get an 'A' prepended to both, shorter ones follow CRISPOR's
    rule (``docs/scoring.md``).

    >>> mit_score("GGGGGGGGGGGGGGGGGGGG", "AGGGGGGGGGGGGGGGGGGGCGG")
    100.0
    """
    g = _check_guide(guide)
    s = _check_site(site, len(g), allow_bare=True)
    L = len(g)
    return float(mit_codes(encode(g, L), encode(s[:L], L))[0][0])


@dataclass(frozen=True)
class SiteScore:
    cfd: float | None
    mit: float | None
    note: str | None = None

    def as_dict(self) -> dict:
        return {"cfd": self.cfd, "mit": self.mit}


def check_pair(guide: str, site: str) -> tuple[str, str]:
    """Checked ``(spacer, site)`` of a pair given as spacer + (protospacer + 3-nt PAM).

    A guide given with its PAM, as CRISPOR's ``calcCfdScore`` takes it (guide and site
    both 23 nt), is read as its first 20 nt; only the site's PAM is ever scored.
    """
    if (isinstance(guide, str) and isinstance(site, str)
            and len(guide.strip()) == len(site.strip()) == 23):
        head, pam = guide.strip()[:20], guide.strip()[20:]
        bad = sorted({c for c in pam.upper() if c not in "ACGTURYSWKMBDHVN"})
        if bad:
            raise InputError(f"guide {guide!r}: PAM letters {''.join(bad)} are not IUPAC")
        guide = head
    g = _check_guide(guide)
    return g, _check_site(site, len(g))


def score_site(guide: str, site: str) -> SiteScore:
    """CFD and MIT of one pair (site = protospacer + 3-nt PAM), with a note when CFD is
    -1 or null."""
    g, site = check_pair(guide, site)
    cfd = cfd_score(g, site)
    mit = mit_score(g, site)
    note = None
    if cfd is None:
        note = f"CFD is defined for 20-nt spacers; this one is {len(g)} nt"
    elif cfd == -1.0:
        note = "site has a letter other than ACGT: CFD -1 (CRISPOR's no-score value)"
    return SiteScore(cfd, mit, note)


def score_pairs(guides, sites) -> tuple[list, list]:
    """CFD and MIT of many pairs (each already accepted by :func:`score_site`'s checks),
    vectorised per spacer length. Returns two lists in input order (CFD None for spacers
    that are not 20 nt)."""
    n = len(guides)
    cfd: list = [None] * n
    mit: list = [None] * n
    by_len: dict[int, list[int]] = {}
    for i, g in enumerate(guides):
        by_len.setdefault(len(g), []).append(i)
    for L, idx in by_len.items():
        gc = encode([guides[i].upper().replace("U", "T") for i in idx], L)
        sc = encode([sites[i] for i in idx], L + 3)
        m, _ = mit_codes(gc, sc[:, :L])
        c = cfd_codes(gc, sc[:, :20], sc[:, 20:]) if L == 20 else None
        for k, i in enumerate(idx):
            mit[i] = float(m[k])
            if c is not None:
                cfd[i] = float(c[k])
    return cfd, mit


# --------------------------------------------------------------------------- tables of hits

def score_hits(table, *, base_editor: str | None = None, window=(4, 8), on_target=None,
               max_occ: int = CRISPOR_MAXOCC, summary: bool = False):
    """Score a hits table (``HITS_SCHEMA``): append the ``SCORE_FIELDS`` columns.

    Parameters
    ----------
    table : polars.DataFrame or pyarrow.Table
        Hits with at least the ``HITS_SCHEMA`` columns used here (``query_id``, ``guide``,
        ``chrom``, ``start``, ``end``, ``strand``, ``aligned_guide``, ``site``, ``pam``,
        ``mismatches``, ``bulge_type``, ``bulge_size``).
    base_editor : {'ABE', 'CBE'}, optional
        Flag sites with an editable base in ``window`` (1-based protospacer positions).
    on_target : dict, optional
        ``query_id -> (chrom, start, end)``: the on-target is the perfect match inside that
        range (CRISPOR's position mode); without it, a perfect match with an xGG PAM.
    max_occ : int
        Repeat limit (CRISPOR's MAXOCC): above it the guide's specificities are 0.
    summary : bool
        Also return the per-guide summary (``GUIDE_SUMMARY_SCHEMA``).

    Returns
    -------
    polars.DataFrame or (polars.DataFrame, polars.DataFrame)
        The input rows in their order with the scoring columns appended (and the summary).
    """
    import polars as pl

    from . import base_editing, specificity

    df = table if isinstance(table, pl.DataFrame) else pl.from_arrow(table)
    inner = score_site_columns(df)
    inner = specificity.mark_crispor_set(inner, on_target=on_target)
    inner = base_editing.add_window_columns(inner, base_editor, window)
    public = inner.select([c for c in inner.columns if not c.startswith("_")])
    if summary:
        return public, specificity.summarize_guides(inner, max_occ=max_occ)
    return public


def to_arrow(scored):
    """A scored Polars frame as an Arrow table cast to ``SCORED_HITS_SCHEMA`` (extra
    columns of the input are kept after the schema's columns)."""
    import pyarrow as pa

    from .scoring_schemas import SCORED_HITS_SCHEMA

    table = scored.to_arrow()
    fields, arrays = [], []
    for field in SCORED_HITS_SCHEMA:
        if field.name in table.column_names:
            col = table.column(field.name)
            fields.append(field.with_nullable(True) if col.null_count else field)
            arrays.append(col.cast(field.type))
    for name in table.column_names:
        if SCORED_HITS_SCHEMA.get_field_index(name) < 0:
            fields.append(table.schema.field(name))
            arrays.append(table.column(name))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields,
                                metadata=SCORED_HITS_SCHEMA.metadata))


_REQUIRED = ("query_id", "guide", "chrom", "start", "end", "strand", "aligned_guide", "site",
             "pam", "mismatches", "bulge_type", "bulge_size")


def check_hits_columns(df, path=None) -> None:
    """The columns scoring reads are present and hold no nulls."""
    missing = [c for c in _REQUIRED if c not in df.columns]
    if missing:
        raise InputError("hits table lacks column(s) " + ", ".join(missing), path=path)
    for name in _REQUIRED:
        nulls = df[name].null_count()
        if nulls:
            first = int(df[name].is_null().arg_true()[0])
            raise InputError(f"hits table column {name!r} is empty in {nulls} row(s)",
                             path=path, record=f"hits row {first + 1}")


def hits_layout(df):
    """Per-row layout of a hits frame, checked: upper-cased guide ``g``, genome bases of
    the site ``b`` (gaps removed), bulge type ``bt`` and size ``bs``, spacer length ``L``,
    PAM length ``P``, PAM side ``side`` (3 or 5) and pattern, from ``aligned_guide``."""
    import polars as pl

    check_hits_columns(df)
    work = df.select(
        pl.col("guide").str.to_uppercase().str.replace_all("U", "T").alias("g"),
        pl.col("aligned_guide").str.replace_all("-", "", literal=True).str.to_uppercase()
        .alias("ag"),
        pl.col("site").str.replace_all("-", "", literal=True).str.to_uppercase().alias("b"),
        pl.col("bulge_type").str.to_uppercase().alias("bt"),
        pl.col("bulge_size").cast(pl.Int64).alias("bs"),
    ).with_row_index("_i").with_columns(
        pl.col("g").str.len_bytes().alias("L"),
        pl.col("b").str.len_bytes().alias("blen"),
        pl.when(pl.col("ag").str.starts_with(pl.col("g"))).then(3)
        .when(pl.col("ag").str.ends_with(pl.col("g"))).then(5).otherwise(0).alias("side"),
    ).with_columns(
        (pl.col("ag").str.len_bytes() - pl.col("L")).alias("P"),
        pl.when(pl.col("side") == 3).then(pl.col("ag").str.slice(pl.col("L")))
        .otherwise(pl.col("ag").str.slice(0, pl.col("ag").str.len_bytes() - pl.col("L")))
        .alias("pattern"),
    )
    work = work.with_columns(pl.col("g").str.contains(r"^[ACGT]+$").alias("gok"))
    bad_side = work.filter(pl.col("side") == 0)
    if bad_side.height:
        row = bad_side.row(0, named=True)
        raise InputError(f"aligned_guide {row['ag']!r} does not hold guide {row['g']!r}",
                         record=f"hits row {row['_i'] + 1}")
    bad_bt = work.filter(~pl.col("bt").is_in(["X", "DNA", "RNA"]))
    if bad_bt.height:
        row = bad_bt.row(0, named=True)
        raise InputError(f"bulge_type {row['bt']!r} is not X, DNA or RNA",
                         record=f"hits row {row['_i'] + 1}")
    work = work.with_columns(
        pl.when(pl.col("bt") == "X").then(0).otherwise(pl.col("bs")).alias("bs"))
    work = work.with_columns(
        (pl.col("L") + pl.col("P")
         + pl.when(pl.col("bt") == "DNA").then(pl.col("bs")).otherwise(0)
         - pl.when(pl.col("bt") == "RNA").then(pl.col("bs")).otherwise(0)).alias("want"))
    bad_len = work.filter(pl.col("blen") != pl.col("want"))
    if bad_len.height:
        row = bad_len.row(0, named=True)
        raise InputError(f"site has {row['blen']} genome bases; guide {row['L']} nt, PAM "
                         f"{row['P']} nt and a {row['bt']} bulge of {row['bs']} need "
                         f"{row['want']}", record=f"hits row {row['_i'] + 1}")

    return work


def score_site_columns(df):
    """Append ``cfd``, ``mit``, ``score_note`` and the private ``_mit_filter`` (the MIT
    copy used by CRISPOR's alternative-PAM filter) to a Polars hits frame."""
    import polars as pl

    work = hits_layout(df)
    n = df.height

    cfd = np.full(n, np.nan)
    mit = np.full(n, np.nan)
    mit_filter = np.full(n, np.nan)
    notes = np.full(n, None, dtype=object)

    def add_note(idx, text):
        for i in idx:
            notes[i] = text if notes[i] is None else notes[i] + "; " + text

    groups = work.group_by(["L", "P", "side", "bt", "bs", "gok"], maintain_order=True).agg(
        pl.col("_i"), pl.col("pattern").first())
    for key in groups.iter_rows(named=True):
        idx = np.asarray(key["_i"], dtype=np.int64)
        L, P, side, bt, bs = key["L"], key["P"], key["side"], key["bt"], key["bs"]
        if not key["gok"]:
            # degenerate query letters (Cas-OFFinder mode): no published score applies
            add_note(idx, "guide has letters other than ACGT: not scored")
            continue
        spcas9 = side == 3 and P in (2, 3)
        if not spcas9:
            add_note(idx, f"CFD and MIT are defined for SpCas9-type 3' PAMs of 2-3 nt; PAM "
                          f"{key['pattern']!r} on the {side}' side is not scored")
            continue
        width = L + P + (bs if bt == "DNA" else -bs if bt == "RNA" else 0)
        gcodes = encode(work["g"].gather(idx), L)
        bcodes = encode(work["b"].gather(idx), width)
        proto, pam = bcodes[:, :width - P], bcodes[:, width - P:]
        if bt == "X":
            m, _ = mit_codes(gcodes, proto)
            mit[idx] = m
            mit_filter[idx] = mit_codes(gcodes, proto, filter_variant=True)[0] if L < 19 else m
            if L == 19:
                add_note(idx, "MIT of a 19-nt spacer: an A is prepended to both (CRISPOR)")
            elif L < 19:
                add_note(idx, f"MIT of a {L}-nt spacer follows CRISPOR's short-guide rule")
            elif L > 20:
                add_note(idx, f"MIT of a {L}-nt spacer uses its last 20 nt (CRISPOR)")
        else:
            add_note(idx, f"{bt} bulge: MIT has no bulge model (null)")
        if L != 20 or P != 3:
            add_note(idx, f"CFD needs a 20-nt spacer and a 3-nt PAM; here {L} nt and {P} nt")
            continue
        if bt == "X":
            c = cfd_codes(gcodes, proto, pam)
        else:
            if bs > 10:
                add_note(idx, f"{bt} bulge of {bs} nt is not scored")
                continue
            c, _ = cfd_bulge_codes(gcodes, proto, pam, bt, bs)
            add_note(idx, f"CFD of this {bt}-bulged site: Doench ST19 bulge factor, best "
                          "placement (docs/scoring.md)"
                     + (f"; {bs}-nt bulge scored as {bs} single-base factors" if bs > 1
                        else ""))
        cfd[idx] = c
        add_note(idx[c == -1.0], "letter other than ACGT in spacer or PAM: CFD -1 (CRISPOR)")

    out = df.with_columns(
        pl.Series("cfd", cfd, dtype=pl.Float64).fill_nan(None),
        pl.Series("mit", mit, dtype=pl.Float64).fill_nan(None),
        pl.Series("score_note", notes.tolist(), dtype=pl.String),
        pl.Series("_mit_filter", mit_filter, dtype=pl.Float64).fill_nan(None),
        work["P"].alias("_pam_len"),
        work["side"].alias("_pam_side"),
        work["pattern"].alias("_pam_pattern"),
        work["b"].alias("_bases"),
    )
    return out
