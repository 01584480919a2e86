"""Nearest-neighbour thermodynamics of ASO:RNA duplexes (dG37, dH, dS, Tm).

Conventions
-----------
- The ASO is DNA written 5'->3' (``U`` is read as ``T``). The target is RNA written 5'->3'
  (``T`` is read as ``U``) unless ``target_orientation="3to5"``, in which case it is written
  3'->5' under the ASO, column by column (Biopython's ``c_seq`` convention).
- Equal-length ungapped strings are the common case: ASO position ``i`` pairs with target
  position ``L-1-i`` (5'->3'), and non-complementary pairs are mismatches. An explicit alignment
  uses ``-`` for gaps: a ``-`` in the ASO string marks an extra target base (bulge on the RNA),
  a ``-`` in the target string an extra ASO base. Both strings then have the same length; the
  target string is reversed when given 5'->3'.
- Units: ``dh`` and ``dg37`` in kcal/mol, ``ds`` in cal/(mol*K), ``tm`` in degrees C.

Energy model (see ``docs/thermo.md`` for sources and the reasoning)
-------------------------------------------------------------------
1. Helix core: from the first to the last Watson-Crick pair. Watson-Crick stacks use Sugimoto
   et al. (1995) for the ASO:RNA hybrid (Allawi & SantaLucia 1997 for DNA targets), plus the
   duplex initiation term (and per-terminal-pair terms of the DNA set).
2. A single mismatch between two pairs adds the two mismatch doublets: Watkins et al. (2011)
   where measured (rA.dA, rC.dC, rG.dG, rU.dT), otherwise the DNA/DNA value (Allawi &
   SantaLucia; Peyret 1999) with U read as T -- the site is then flagged ``proxy``.
3. Each end beyond the helix core is frayed. When the column next to the terminal pair is a
   mismatch, the better (lower dG37) of two models is used: the DNA/DNA terminal-mismatch
   parameter, or fraying with no contribution. Terminal-mismatch values are proxies for the
   hybrid.
4. Bulges and internal loops (two or more adjacent non-pairs) use the DNA/DNA loop initiation
   of SantaLucia & Hicks (2004) (purely entropic; a single-nucleotide bulge keeps the stack
   across it; larger loops get the terminal A.T penalty of the parameter set on each closing
   pair; internal loops add 0.3 kcal/mol per nucleotide of asymmetry). Always a proxy for the
   hybrid.
5. Salt: with Mg2+ = 0, the SantaLucia (1998) entropy correction
   ``dS += 0.368 * (N - 1) * ln[Na+]`` (N = ASO length); with Mg2+ > 0, Owczarzy et al. (2008)
   applied to 1/Tm (its decision tree falls back to Owczarzy 2004 when monovalent ions dominate),
   and ``dS`` reported as the effective entropy reproducing that Tm with ``dH`` unchanged.
   These match Biopython's ``saltcorr=5`` and ``saltcorr=7``.
6. Two-state Tm of a non-self-complementary duplex:
   ``Tm = dH / (dS + R ln(C_high - C_low / 2))`` with the two strand concentrations (M).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np

from .errors import InputError
from .thermo_tables import (
    GAP,
    KIND_MEASURED,
    KIND_NONE,
    KIND_PROXY,
    R_GAS,
    T37,
    NNParams,
    loop_dg37,
    params_for,
)

__all__ = [
    "BatchThermo",
    "Conditions",
    "Thermo",
    "duplex_thermo",
    "duplex_thermo_batch",
    "encode_aligned",
    "perfect_target",
    "thermo_codes",
]

#: ASCII -> base code (0..3), GAP for '-', 255 for anything else.
_LUT = np.full(256, 255, dtype=np.uint8)
for _ch, _code in {"A": 0, "C": 1, "G": 2, "T": 3, "U": 3}.items():
    _LUT[ord(_ch)] = _code
    _LUT[ord(_ch.lower())] = _code
_LUT[ord("-")] = GAP

_COMPLEMENT_RNA = str.maketrans("ACGTUacgtu", "UGCAAugcaa")

#: ASO length limits enforced by :func:`duplex_thermo` (see also :mod:`pmcore.aso_design`).
MIN_ASO, MAX_ASO = 8, 40

#: Asymmetry penalty of internal loops, kcal/mol per nucleotide (SantaLucia & Hicks 2004).
LOOP_ASYMMETRY = 0.3


@dataclass(frozen=True)
class Conditions:
    """Solution conditions: cations (mM) and the two strand concentrations (nM)."""

    na_mm: float = 1000.0
    mg_mm: float = 0.0
    oligo_nm: float = 1000.0
    target_nm: float = 1000.0

    def __post_init__(self):
        for name in ("na_mm", "mg_mm", "oligo_nm", "target_nm"):
            value = getattr(self, name)
            try:
                value = float(value)
            except (TypeError, ValueError):
                raise InputError(f"{name} must be a number, not {value!r}",
                                 record=name) from None
            if not math.isfinite(value):
                raise InputError(f"{name} must be finite, not {value}", record=name)
            object.__setattr__(self, name, value)
        if self.na_mm < 0 or self.mg_mm < 0:
            raise InputError(f"negative cation concentration (Na+ {self.na_mm} mM, "
                             f"Mg2+ {self.mg_mm} mM)", record="conditions")
        if self.na_mm == 0 and self.mg_mm == 0:
            raise InputError("no cations: Na+ and Mg2+ are both 0 mM", record="conditions")
        for name in ("oligo_nm", "target_nm"):
            if getattr(self, name) <= 0:
                raise InputError(f"{name} must be > 0 nM, not {getattr(self, name)}",
                                 record=name)

    @property
    def log_k(self) -> float:
        """ln of the effective concentration term (M) of the two-state Tm."""
        hi, lo = max(self.oligo_nm, self.target_nm), min(self.oligo_nm, self.target_nm)
        return math.log((hi - lo / 2.0) * 1e-9)

    @property
    def salt_method(self) -> str:
        return "SantaLucia1998" if self.mg_mm == 0 else "Owczarzy2008"


@dataclass(frozen=True)
class Thermo:
    """Thermodynamics of one duplex.

    ``dg37``/``dh`` kcal/mol, ``ds`` cal/(mol*K) (salt-corrected), ``tm`` degrees C.
    ``proxy`` is True when any term came from a DNA/DNA table standing in for missing
    RNA/DNA hybrid data; ``notes`` says which.
    """

    dg37: float
    dh: float
    ds: float
    tm: float
    proxy: bool = False
    notes: tuple[str, ...] = field(default_factory=tuple)
    n_mismatches: int = 0
    n_bulges: int = 0

    def to_dict(self, details: bool = False) -> dict:
        out = {"dg37": self.dg37, "dh": self.dh, "ds": self.ds, "tm": self.tm}
        if details:
            out.update(proxy=self.proxy, notes=list(self.notes),
                       n_mismatches=self.n_mismatches, n_bulges=self.n_bulges)
        return out


# ----------------------------------------------------------------------------- encoding

def _encode(seq: str, what: str, record) -> np.ndarray:
    if not isinstance(seq, str):
        raise InputError(f"{what} must be a string, not {type(seq).__name__}", record=record)
    try:
        raw = np.frombuffer(seq.encode("ascii"), dtype=np.uint8)
    except UnicodeEncodeError:
        raise InputError(f"{what} {seq!r} has non-ASCII characters", record=record) from None
    codes = _LUT[raw]
    bad = np.flatnonzero(codes == 255)
    if bad.size:
        ch = seq[bad[0]]
        raise InputError(f"{what} {seq!r} has letter {ch!r} at position {bad[0] + 1} "
                         "(allowed: A C G T U and '-' for alignment gaps)", record=record)
    return codes


def encode_aligned(aso: str, target: str, *, target_orientation: str = "5to3",
                   record=None) -> tuple[np.ndarray, np.ndarray]:
    """Codes of the aligned top (ASO 5'->3') and bottom (target 3'->5') rows.

    Raises :class:`InputError` for bad letters, unequal aligned lengths or a gap opposite a gap.
    """
    if target_orientation not in ("5to3", "3to5"):
        raise InputError(f"target orientation must be '5to3' or '3to5', not "
                         f"{target_orientation!r}", record=record)
    top = _encode(aso, "ASO", record)
    bot = _encode(target, "target", record)
    if top.size != bot.size:
        raise InputError(f"ASO ({top.size} columns) and target ({bot.size} columns) differ in "
                         "length; give equal-length strings, with '-' for bulges", record=record)
    if top.size == 0:
        raise InputError("empty sequence", record=record)
    if target_orientation == "5to3":
        bot = bot[::-1].copy()
    if np.any((top == GAP) & (bot == GAP)):
        raise InputError("alignment has a gap opposite a gap", record=record)
    return top, bot


def perfect_target(aso: str) -> str:
    """The fully complementary target RNA, 5'->3', of an ASO given 5'->3'.

    >>> perfect_target("ACGT")
    'ACGU'
    """
    return aso.replace("-", "").translate(_COMPLEMENT_RNA)[::-1].upper()


# ----------------------------------------------------------------------------- salt / Tm

def _salt_terms(cond: Conditions, n_aso: np.ndarray | int, f_gc):
    """Return (entropy correction, 1/Tm correction) arrays for method 5 / method 7."""
    n_aso = np.asarray(n_aso, dtype=float)
    f_gc = np.asarray(f_gc, dtype=float)
    if cond.mg_mm == 0:
        ds_corr = 0.368 * (n_aso - 1.0) * math.log(cond.na_mm * 1e-3)
        return ds_corr, np.zeros_like(ds_corr)
    mon = cond.na_mm * 1e-3
    mg = cond.mg_mm * 1e-3
    a, b, c, d, e, f, g = 3.92, -0.911, 6.26, 1.42, -48.2, 52.5, 8.31
    if mon > 0:
        ratio = math.sqrt(mg) / mon
        if ratio < 0.22:
            # Monovalent ions dominate: Owczarzy et al. (2004) correction.
            lm = math.log(mon)
            inv = (4.29 * f_gc - 3.95) * 1e-5 * lm + 9.40e-6 * lm ** 2
            return np.zeros_like(inv), inv
        if ratio < 6.0:
            lm = math.log(mon)
            a = 3.92 * (0.843 - 0.352 * math.sqrt(mon) * lm)
            d = 1.42 * (1.279 - 4.03e-3 * lm - 8.03e-3 * lm ** 2)
            g = 8.31 * (0.486 - 0.258 * lm + 5.25e-3 * lm ** 3)
    lg = math.log(mg)
    inv = (a + b * lg + f_gc * (c + d * lg)
           + (1.0 / (2.0 * (n_aso - 1.0))) * (e + f * lg + g * lg ** 2)) * 1e-5
    return np.zeros_like(inv), inv


def _finish(dh, ds, cond: Conditions, n_aso, f_gc):
    """Salt-correct, then return (dg37, dh, ds, tm) arrays."""
    dh = np.asarray(dh, dtype=float)
    ds = np.asarray(ds, dtype=float)
    ds_corr, inv_corr = _salt_terms(cond, n_aso, f_gc)
    ds = ds + ds_corr
    rlnk = R_GAS * cond.log_k
    with np.errstate(divide="ignore", invalid="ignore"):
        tm_k = 1000.0 * dh / (ds + rlnk)
        if cond.mg_mm > 0:
            tm_k = 1.0 / (1.0 / tm_k + inv_corr)
            # Effective entropy reproducing the corrected Tm with dH unchanged.
            ds = 1000.0 * dh / tm_k - rlnk
    dg37 = dh - T37 * ds / 1000.0
    return dg37, dh, ds, tm_k - 273.15


# ----------------------------------------------------------------------------- scalar model

def _term(params: NNParams, t1, t2, b1, b2):
    i = (int(t1), int(t2), int(b1), int(b2))
    return params.dh[i], params.ds[i], int(params.kind[i])


def _closing_at(params: NNParams, t: int) -> tuple[float, float]:
    return params.init_at if t in (0, 3) else (0.0, 0.0)


def _loop_term(dg: float) -> tuple[float, float]:
    """(dh, ds) of a purely entropic loop penalty dg (kcal/mol at 37 C)."""
    return 0.0, -1000.0 * dg / T37


def nn_sum(top: np.ndarray, bot: np.ndarray, params: NNParams, record=None):
    """Sum the 1 M NaCl nearest-neighbour terms of an aligned duplex (pure Python).

    Returns ``(dh, ds, proxy, notes, n_mismatches, n_bulges)``. This is the reference model;
    :func:`thermo_codes` is its vectorised twin for ungapped duplexes.
    """
    L = top.size
    is_pair = [(top[i] < 4 and bot[i] < 4 and top[i] + bot[i] == 3) for i in range(L)]
    pairs = [i for i in range(L) if is_pair[i]]
    n_mm = sum(1 for i in range(L) if top[i] < 4 and bot[i] < 4 and not is_pair[i])
    n_bulge = sum(1 for i in range(L) if top[i] == GAP or bot[i] == GAP)
    if len(pairs) < 2:
        raise InputError("duplex has fewer than two Watson-Crick pairs; nothing to score",
                         record=record)
    notes: list[str] = []
    proxy = False
    f, last = pairs[0], pairs[-1]
    dh, ds = params.init
    for p in (f, last):
        h, s = params.init_at if top[p] in (0, 3) else params.init_gc
        dh += h
        ds += s

    # Ends: the better of terminal mismatch (DNA/DNA value) and fraying.
    for side, pos, nxt in (("5'", f, f - 1), ("3'", last, last + 1)):
        if not 0 <= nxt < L:
            continue
        frayed = (f if side == "5'" else L - 1 - last)
        if top[nxt] < 4 and bot[nxt] < 4:
            if side == "3'":
                i = (int(top[pos]), int(top[nxt]), int(bot[pos]), int(bot[nxt]))
            else:  # read from the other strand so that the pair comes first
                i = (int(bot[pos]), int(bot[nxt]), int(top[pos]), int(top[nxt]))
            h, s = params.tmm_dh[i], params.tmm_ds[i]
            if h - T37 * s / 1000.0 < 0.0:
                dh += h
                ds += s
                if params.hybrid:
                    proxy = True
                notes.append(f"ASO {side} terminal mismatch: DNA/DNA terminal-mismatch value"
                             + (" (proxy)" if params.hybrid else ""))
                frayed -= 1
            else:
                notes.append(f"ASO {side} terminal mismatch frayed (no contribution)")
                frayed -= 1
        if frayed > 0:
            notes.append(f"ASO {side} end: {frayed} unpaired column(s) frayed")

    for p, q in itertools.pairwise(pairs):
        if q == p + 1:
            h, s, _ = _term(params, top[p], top[q], bot[p], bot[q])
            dh += h
            ds += s
            continue
        nt = int(np.count_nonzero(top[p + 1:q] < 4))
        nb = int(np.count_nonzero(bot[p + 1:q] < 4))
        if nt == 1 and nb == 1:
            m = p + 1
            for a, b in ((p, m), (m, q)):
                h, s, kind = _term(params, top[a], top[b], bot[a], bot[b])
                if kind == KIND_NONE:  # pragma: no cover - tables are complete
                    raise AssertionError("missing single-mismatch parameter")
                dh += h
                ds += s
            kinds = {int(params.kind[int(top[a]), int(top[b]), int(bot[a]), int(bot[b])])
                     for a, b in ((p, m), (m, q))}
            if KIND_PROXY in kinds:
                proxy = True
                notes.append(f"mismatch at ASO position {_aso_pos(top, m)}: DNA/DNA value "
                             "(proxy)")
            elif params.hybrid and KIND_MEASURED in kinds:
                notes.append(f"mismatch at ASO position {_aso_pos(top, m)}: Watkins 2011")
            continue
        if nt == 0 or nb == 0:
            size = nt + nb
            if size == 1:
                h, s, _ = _term(params, top[p], top[q], bot[p], bot[q])
                dh += h
                ds += s
            else:
                for c in (p, q):
                    h, s = _closing_at(params, int(top[c]))
                    dh += h
                    ds += s
            h, s = _loop_term(loop_dg37(size, internal=False))
            strand = "target" if nt == 0 else "ASO"
            notes.append(f"{size}-nt bulge on the {strand} after ASO position "
                         f"{_aso_pos(top, p)}: DNA/DNA loop value"
                         + (" (proxy)" if params.hybrid else ""))
        else:
            size = nt + nb
            dg = loop_dg37(size, internal=True) + LOOP_ASYMMETRY * abs(nt - nb)
            for c in (p, q):
                h, s = _closing_at(params, int(top[c]))
                dh += h
                ds += s
            h, s = _loop_term(dg)
            notes.append(f"{nt}x{nb} internal loop after ASO position {_aso_pos(top, p)}: "
                         "DNA/DNA loop value" + (" (proxy)" if params.hybrid else ""))
        dh += h
        ds += s
        if params.hybrid:
            proxy = True
    return float(dh), float(ds), proxy, tuple(notes), n_mm, n_bulge


def _aso_pos(top: np.ndarray, col: int) -> int:
    """1-based ASO position (from the 5' end) of alignment column ``col``."""
    return int(np.count_nonzero(top[:col + 1] < 4))


def _aso_stats(top: np.ndarray) -> tuple[int, float]:
    bases = top[top < 4]
    n = int(bases.size)
    gc = float(np.count_nonzero((bases == 1) | (bases == 2))) / n if n else 0.0
    return n, gc


def duplex_thermo(aso: str, target: str, *, na_mm: float = 1000.0, mg_mm: float = 0.0,
                  oligo_nm: float = 1000.0, target_nm: float = 1000.0,
                  target_orientation: str = "5to3", target_kind: str = "rna",
                  check_length: bool = True, record=None) -> Thermo:
    """dG37, dH, dS and Tm of an ASO:target duplex by nearest-neighbour parameters.

    Parameters
    ----------
    aso : str
        ASO, DNA 5'->3'; ``-`` opposite extra target bases when an alignment is given.
    target : str
        Target RNA, 5'->3' by default, same aligned length as ``aso``; ``-`` opposite extra
        ASO bases. Mismatches are implied by non-complementary columns.
    na_mm, mg_mm : float
        Na+ and Mg2+ (mM).
    oligo_nm, target_nm : float
        Strand concentrations (nM) for the two-state Tm.
    target_orientation : {"5to3", "3to5"}
        How ``target`` is written; ``"3to5"`` means aligned under the ASO as is.
    target_kind : {"rna", "dna"}
        ``"rna"`` (default) scores the ASO:RNA hybrid; ``"dna"`` a DNA/DNA duplex.
    check_length : bool
        Reject ASOs outside 8-40 nt (the batch path leaves this to the caller).
    record : str, optional
        Name used in error messages.

    Examples
    --------
    >>> t = duplex_thermo("GCTACGTAGCAT", perfect_target("GCTACGTAGCAT"))
    >>> round(t.dg37, 2), round(t.tm, 1), t.proxy
    (-13.55, 52.9, False)
    >>> t = duplex_thermo("GCTACGTAGCAT", "AUGCUACGUAGU")  # dG.rU at the ASO 5' end
    >>> round(t.dg37, 2), t.proxy
    (-11.76, True)
    """
    cond = Conditions(na_mm, mg_mm, oligo_nm, target_nm)
    params = params_for(target_kind)
    top, bot = encode_aligned(aso, target, target_orientation=target_orientation,
                              record=record)
    n_aso = int(np.count_nonzero(top < 4))
    if check_length and not MIN_ASO <= n_aso <= MAX_ASO:
        raise InputError(f"ASO length {n_aso} outside the accepted {MIN_ASO}-{MAX_ASO} nt",
                         record=record)
    dh, ds, proxy, notes, n_mm, n_bulge = nn_sum(top, bot, params, record=record)
    n_aso, f_gc = _aso_stats(top)
    dg37, dh, ds, tm = _finish(dh, ds, cond, n_aso, f_gc)
    return Thermo(float(dg37), float(dh), float(ds), float(tm), proxy, notes, n_mm, n_bulge)


# ----------------------------------------------------------------------------- batch path

@dataclass(frozen=True)
class BatchThermo:
    """Column results of :func:`duplex_thermo_batch` (one entry per duplex)."""

    dg37: np.ndarray
    dh: np.ndarray
    ds: np.ndarray
    tm: np.ndarray
    proxy: np.ndarray
    n_mismatches: np.ndarray
    n_bulges: np.ndarray

    def __len__(self) -> int:
        return int(self.dg37.size)


def thermo_codes(top: np.ndarray, bot: np.ndarray, cond: Conditions | None = None, *,
                 target_kind: str = "rna"):
    """Vectorised scoring of ungapped duplexes of one length, given as base codes.

    ``top`` (ASO 5'->3') and ``bot`` (target 3'->5' under it) are ``(n, L)`` arrays of codes
    0..3 (A, C, G, T/U). Returns ``(dg37, dh, ds, tm, proxy, n_mismatches)`` arrays. Same
    model as :func:`nn_sum` (its pure-Python twin): runs of two or more adjacent internal
    mismatches are symmetric internal loops.
    """
    cond = cond or Conditions()
    params = params_for(target_kind)
    # int16 keeps the (n, L) temporaries small; doublet indices stay below 256.
    top = np.ascontiguousarray(top, dtype=np.int16)
    bot = np.ascontiguousarray(bot, dtype=np.int16)
    n, L = top.shape
    pair = (top + bot) == 3
    n_pairs = pair.sum(axis=1)
    if np.any(n_pairs < 2):
        bad = int(np.flatnonzero(n_pairs < 2)[0])
        raise InputError("duplex has fewer than two Watson-Crick pairs; nothing to score",
                         record=f"#{bad}")
    rows = np.arange(n)
    cols = np.arange(L)
    f = pair.argmax(axis=1)
    last = L - 1 - pair[:, ::-1].argmax(axis=1)

    # Mismatch columns inside the helix core and the length of the run each belongs to.
    core = (cols[None, :] >= f[:, None]) & (cols[None, :] <= last[:, None])
    mm = core & ~pair
    run = np.zeros((n, L), dtype=np.int16)
    acc = np.zeros(n, dtype=np.int16)
    for j in range(L):
        acc = np.where(mm[:, j], acc + 1, 0)
        run[:, j] = acc
    for j in range(L - 2, -1, -1):
        run[:, j] = np.where(mm[:, j] & mm[:, j + 1], run[:, j + 1], run[:, j])
    single = mm & (run == 1)

    idx = top[:, :-1] * 64 + top[:, 1:] * 16 + bot[:, :-1] * 4 + bot[:, 1:]
    use = ((pair[:, :-1] & pair[:, 1:])
           | (pair[:, :-1] & single[:, 1:]) | (single[:, :-1] & pair[:, 1:]))
    use &= core[:, :-1] & core[:, 1:]
    kind = params.flat_kind[idx]
    dh = np.where(use, params.flat_dh[idx], 0.0).sum(axis=1)
    ds = np.where(use, params.flat_ds[idx], 0.0).sum(axis=1)
    proxy = np.any(use & (kind == KIND_PROXY), axis=1)

    # Internal loops: one term per run of r >= 2 mismatches (an r x r loop), closed by pairs.
    loop_end = mm & (run >= 2)
    loop_end[:, :-1] &= ~mm[:, 1:]
    if loop_end.any():
        r_i, c_i = np.nonzero(loop_end)
        size = run[r_i, c_i].astype(np.intp)
        dg_tab = np.array([0.0] * 4 + [loop_dg37(k, internal=True) for k in range(4, 2 * L)])
        np.add.at(ds, r_i, -1000.0 * dg_tab[2 * size] / T37)
        at_h, at_s = params.init_at
        for closing in (c_i + 1, c_i - size):
            is_at = np.isin(top[r_i, closing], (0, 3))
            np.add.at(dh, r_i, np.where(is_at, at_h, 0.0))
            np.add.at(ds, r_i, np.where(is_at, at_s, 0.0))
        if params.hybrid:
            proxy[r_i] = True

    dh = dh + params.init[0]
    ds = ds + params.init[1]
    at = np.asarray(params.init_at)
    gc = np.asarray(params.init_gc)
    for p in (f, last):
        is_at = np.isin(top[rows, p], (0, 3))
        dh = dh + np.where(is_at, at[0], gc[0])
        ds = ds + np.where(is_at, at[1], gc[1])

    tflat_dh = params.tmm_dh.reshape(-1)
    tflat_ds = params.tmm_ds.reshape(-1)
    # 5' end: a mismatch next to the first pair, read from the other strand (pair first).
    has = f >= 1
    nx = np.maximum(f - 1, 0)
    ti = bot[rows, f] * 64 + bot[rows, nx] * 16 + top[rows, f] * 4 + top[rows, nx]
    h, s = tflat_dh[ti], tflat_ds[ti]
    use5 = has & (h - T37 * s / 1000.0 < 0.0)
    dh = dh + np.where(use5, h, 0.0)
    ds = ds + np.where(use5, s, 0.0)
    # 3' end.
    has = last <= L - 2
    nx = np.minimum(last + 1, L - 1)
    ti = top[rows, last] * 64 + top[rows, nx] * 16 + bot[rows, last] * 4 + bot[rows, nx]
    h, s = tflat_dh[ti], tflat_ds[ti]
    use3 = has & (h - T37 * s / 1000.0 < 0.0)
    dh = dh + np.where(use3, h, 0.0)
    ds = ds + np.where(use3, s, 0.0)
    if params.hybrid:
        proxy = proxy | use5 | use3

    n_mm = L - n_pairs
    f_gc = np.count_nonzero((top == 1) | (top == 2), axis=1) / L
    dg37, dh, ds, tm = _finish(dh, ds, cond, np.full(n, L), f_gc)
    return dg37, dh, ds, tm, proxy, n_mm


def duplex_thermo_batch(asos, targets, *, na_mm: float = 1000.0, mg_mm: float = 0.0,
                        oligo_nm: float = 1000.0, target_nm: float = 1000.0,
                        target_orientation: str = "5to3", target_kind: str = "rna",
                        ids=None, chunk_size: int = 100_000) -> BatchThermo:
    """Score many duplexes; same model and conventions as :func:`duplex_thermo`.

    Ungapped duplexes are grouped by length and scored with numpy (:func:`thermo_codes`);
    gapped alignments (bulges) go through the scalar model.
    ``ids`` (optional) names the records in error messages; ``chunk_size`` bounds the rows
    scored per numpy call (and so the temporary memory, about 0.3 kB per row).
    """
    cond = Conditions(na_mm, mg_mm, oligo_nm, target_nm)
    params = params_for(target_kind)
    asos = list(asos)
    targets = list(targets)
    if len(asos) != len(targets):
        raise InputError(f"{len(asos)} ASOs but {len(targets)} targets")
    n = len(asos)
    out = {k: np.empty(n) for k in ("dg37", "dh", "ds", "tm")}
    proxy = np.zeros(n, dtype=bool)
    n_mm = np.zeros(n, dtype=np.int32)
    n_bulge = np.zeros(n, dtype=np.int32)

    def rec(i):
        return ids[i] if ids is not None else f"#{i}"

    slow: list[int] = []
    groups: dict[int, list[int]] = {}
    for i, (a, t) in enumerate(zip(asos, targets)):
        if not isinstance(a, str) or not isinstance(t, str):
            raise InputError("ASO and target must be strings", record=rec(i))
        if len(a) == len(t) and "-" not in a and "-" not in t:
            groups.setdefault(len(a), []).append(i)
        else:
            slow.append(i)

    chunks = [(L, members[k:k + chunk_size]) for L, members in groups.items()
              for k in range(0, len(members), chunk_size)]
    for L, members in chunks:
        if L == 0:
            raise InputError("empty sequence", record=rec(members[0]))
        sel = np.asarray(members)
        top = _LUT[np.frombuffer("".join(asos[i] for i in members).encode("ascii", "replace"),
                                 dtype=np.uint8)].reshape(-1, L)
        bot = _LUT[np.frombuffer("".join(targets[i] for i in members).encode("ascii", "replace"),
                                 dtype=np.uint8)].reshape(-1, L)
        bad = np.flatnonzero((top > 3).any(axis=1) | (bot > 3).any(axis=1))
        if bad.size:
            i = members[int(bad[0])]
            encode_aligned(asos[i], targets[i], target_orientation=target_orientation,
                           record=rec(i))  # raises with the exact letter
        if target_orientation == "5to3":
            bot = bot[:, ::-1]
        elif target_orientation != "3to5":
            raise InputError(f"target orientation must be '5to3' or '3to5', not "
                             f"{target_orientation!r}")
        few = np.flatnonzero(((top.astype(np.intp) + bot) == 3).sum(axis=1) < 2)
        if few.size:
            raise InputError("duplex has fewer than two Watson-Crick pairs; nothing to score",
                             record=rec(members[int(few[0])]))
        dg37, dh, ds, tm, px, mm = thermo_codes(top, bot, cond, target_kind=target_kind)
        out["dg37"][sel] = dg37
        out["dh"][sel] = dh
        out["ds"][sel] = ds
        out["tm"][sel] = tm
        proxy[sel] = px
        n_mm[sel] = mm

    for i in slow:
        top, bot = encode_aligned(asos[i], targets[i], target_orientation=target_orientation,
                                  record=rec(i))
        dh, ds, px, _notes, mm, nb = nn_sum(top, bot, params, record=rec(i))
        n_aso, f_gc = _aso_stats(top)
        dg37, dh, ds, tm = _finish(dh, ds, cond, n_aso, f_gc)
        out["dg37"][i], out["dh"][i], out["ds"][i], out["tm"][i] = dg37, dh, ds, tm
        proxy[i], n_mm[i], n_bulge[i] = px, mm, nb
    return BatchThermo(out["dg37"], out["dh"], out["ds"], out["tm"], proxy, n_mm, n_bulge)
