"""Nearest-neighbour parameter tables for ASO:RNA (and DNA:DNA) duplexes, as numpy lookup arrays.

The numbers live in ``pmcore/data/thermo/*.csv`` with their sources in the file headers (and in
``data/thermo/README.md``); this module only loads them and lays them out for fast lookup.

Orientation used everywhere in pmcore's thermodynamics: the *top* strand is the ASO read
5'->3' and the *bottom* strand is the target written 3'->5' under it, column by column. A
doublet (two adjacent columns) is indexed ``[t1, t2, b1, b2]`` with base codes
A=0, C=1, G=2, T/U=3. A column is a Watson-Crick pair iff ``t + b == 3``.

Sources (see the CSV headers for details):

- RNA/DNA hybrid stacks and initiation: Sugimoto et al. (1995) Biochemistry 34:11211-11216.
- RNA/DNA single internal mismatches rA.dA, rC.dC, rG.dG, rU.dT: Watkins et al. (2011)
  Nucleic Acids Res 39:1894-1902.
- DNA/DNA stacks: Allawi & SantaLucia (1997) Biochemistry 36:10581-10594 (= SantaLucia 1998).
- DNA/DNA single internal mismatches: Allawi & SantaLucia (1997; 1998 a, b, c), Peyret et al.
  (1999) Biochemistry 38:3468-3477.
- DNA/DNA terminal mismatches: SantaLucia & Peyret (2001) WO 01/94611, as compiled in
  SantaLucia & Hicks (2004) Annu Rev Biophys Biomol Struct 33:415-440.
- Bulge and internal-loop initiation: SantaLucia & Hicks (2004), Table 4.
"""

from __future__ import annotations

import csv
import functools
import math
from dataclasses import dataclass
from importlib import resources

import numpy as np

#: Base codes shared with the rest of the thermodynamics code; 4 marks an alignment gap.
CODE = {"A": 0, "C": 1, "G": 2, "T": 3, "U": 3}
GAP = 4

#: Kinds of doublet in :attr:`NNParams.kind`.
KIND_NONE = -1      # no parameter (two non-pairs: handled as a loop)
KIND_STACK = 0      # Watson-Crick stack
KIND_MEASURED = 1   # single mismatch measured for this duplex type
KIND_PROXY = 2      # single mismatch taken from the DNA/DNA table (hybrid only)

#: Temperature of the 37 C reference state, K.
T37 = 310.15
#: Gas constant, cal/(mol*K).
R_GAS = 1.9872


def _read(name: str) -> list[tuple[str, ...]]:
    text = resources.files("pmcore").joinpath("data", "thermo", name).read_text()
    rows = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    reader = csv.reader(rows)
    next(reader)  # header
    return [tuple(r) for r in reader]


def _idx(t1: str, t2: str, b1: str, b2: str) -> tuple[int, int, int, int]:
    return CODE[t1], CODE[t2], CODE[b1], CODE[b2]


def _is_wc(t: str, b: str) -> bool:
    return CODE[t] + CODE[b] == 3


@dataclass(frozen=True)
class NNParams:
    """One duplex type's parameters laid out as arrays (read-only).

    ``dh``/``ds``/``kind`` are ``(4, 4, 4, 4)`` doublet arrays indexed ``[t1, t2, b1, b2]``;
    ``tmm_dh``/``tmm_ds`` hold terminal mismatches indexed ``[pair_top, mm_top, pair_bottom,
    mm_bottom]`` read from the helix outwards (pair first). ``init`` is the duplex initiation,
    ``init_at``/``init_gc`` are added per terminal A.T / G.C pair (zero for the hybrid set) and
    also close every loop of more than one nucleotide.
    """

    name: str
    dh: np.ndarray
    ds: np.ndarray
    kind: np.ndarray
    tmm_dh: np.ndarray
    tmm_ds: np.ndarray
    init: tuple[float, float]
    init_at: tuple[float, float]
    init_gc: tuple[float, float]
    hybrid: bool

    @property
    def flat_dh(self) -> np.ndarray:
        return self.dh.reshape(-1)

    @property
    def flat_ds(self) -> np.ndarray:
        return self.ds.reshape(-1)

    @property
    def flat_kind(self) -> np.ndarray:
        return self.kind.reshape(-1)


def _empty():
    dh = np.zeros((4, 4, 4, 4))
    ds = np.zeros((4, 4, 4, 4))
    kind = np.full((4, 4, 4, 4), KIND_NONE, dtype=np.int8)
    return dh, ds, kind


def _dna_symmetric(rows, dh, ds, kind, kind_value, *, overwrite=True):
    """Fill a doublet and its reverse reading (the same doublet seen from the other strand)."""
    for key, h, s in rows:
        top, bot = key.split("/")
        for t1, t2, b1, b2 in ((top[0], top[1], bot[0], bot[1]),
                               (bot[1], bot[0], top[1], top[0])):
            i = _idx(t1, t2, b1, b2)
            if not overwrite and kind[i] != KIND_NONE:
                continue
            dh[i], ds[i], kind[i] = float(h), float(s), kind_value


def _terminal_mismatch():
    tdh = np.zeros((4, 4, 4, 4))
    tds = np.zeros((4, 4, 4, 4))
    filled = np.zeros((4, 4, 4, 4), dtype=bool)
    for key, h, s in _read("dna_terminal_mismatch.csv"):
        top, bot = key.split("/")
        if not _is_wc(top[0], bot[0]) or _is_wc(top[1], bot[1]):
            raise ValueError(f"terminal mismatch key {key} is not pair-then-mismatch")
        i = _idx(top[0], top[1], bot[0], bot[1])
        tdh[i], tds[i], filled[i] = float(h), float(s), True
    return tdh, tds, filled


def _loops():
    bulge, internal = {}, {}
    for size, b, i in _read("loops.csv"):
        bulge[int(size)] = float(b)
        if i:
            internal[int(size)] = float(i)
    return bulge, internal


@functools.cache
def loop_tables() -> tuple[dict[int, float], dict[int, float]]:
    """Bulge and internal-loop initiation dG37 by size (kcal/mol), SantaLucia & Hicks 2004."""
    return _loops()


def loop_dg37(size: int, internal: bool) -> float:
    """Loop initiation dG37 (kcal/mol); Jacobson-Stockmayer extrapolation beyond the table."""
    bulge, inner = loop_tables()
    table = inner if internal else bulge
    top = max(table)
    if size in table:
        return table[size]
    if size > top:
        return table[top] + 2.44 * R_GAS * 1e-3 * T37 * math.log(size / top)
    raise ValueError(f"no {'internal loop' if internal else 'bulge'} of size {size}")


@functools.cache
def dna_params() -> NNParams:
    """DNA/DNA set: Allawi & SantaLucia 1997 stacks + DNA single mismatches (all measured)."""
    dh, ds, kind = _empty()
    init_at = init_gc = (0.0, 0.0)
    stacks = []
    for key, h, s in _read("allawi_santalucia1997_dna_nn.csv"):
        if key == "init_AT":
            init_at = (float(h), float(s))
        elif key == "init_GC":
            init_gc = (float(h), float(s))
        else:
            stacks.append((key, h, s))
    _dna_symmetric(stacks, dh, ds, kind, KIND_STACK)
    _dna_symmetric(_read("dna_internal_mismatch.csv"), dh, ds, kind, KIND_MEASURED)
    tdh, tds, _ = _terminal_mismatch()
    for a in (dh, ds, kind, tdh, tds):
        a.setflags(write=False)
    return NNParams("DNA/DNA (Allawi & SantaLucia 1997; Peyret 1999)", dh, ds, kind, tdh, tds,
                    (0.0, 0.0), init_at, init_gc, hybrid=False)


@functools.cache
def hybrid_params() -> NNParams:
    """ASO(DNA):RNA set: Sugimoto 1995 stacks, Watkins 2011 mismatches, DNA/DNA fallback."""
    dh, ds, kind = _empty()
    init = (0.0, 0.0)
    for key, h, s in _read("sugimoto1995_rna_dna_nn.csv"):
        if key == "init":
            init = (float(h), float(s))
            continue
        rna, dna = key.split("/")
        # Paper orientation rXY (5'->3') over dX'Y' (3'->5'); the ASO (DNA) read 5'->3' is
        # dY'X' and the RNA under it (3'->5') is rYX.
        i = _idx(dna[1], dna[0], rna[1], rna[0])
        dh[i], ds[i], kind[i] = float(h), float(s), KIND_STACK
    for key, h, s in _read("watkins2011_rna_dna_mismatch.csv"):
        dna, rna = key.split("/")
        i = _idx(dna[0], dna[1], rna[0], rna[1])
        dh[i], ds[i], kind[i] = float(h), float(s), KIND_MEASURED
    # Everything else with one pair and one mismatch: DNA/DNA value (U read as T), a proxy.
    _dna_symmetric(_read("dna_internal_mismatch.csv"), dh, ds, kind, KIND_PROXY,
                   overwrite=False)
    tdh, tds, _ = _terminal_mismatch()
    for a in (dh, ds, kind, tdh, tds):
        a.setflags(write=False)
    return NNParams("RNA/DNA hybrid (Sugimoto 1995; Watkins 2011; DNA/DNA fallback)", dh, ds,
                    kind, tdh, tds, init, (0.0, 0.0), (0.0, 0.0), hybrid=True)


def params_for(target_kind: str) -> NNParams:
    """Parameter set for a target of kind ``"rna"`` (ASO:RNA hybrid) or ``"dna"``."""
    if target_kind == "rna":
        return hybrid_params()
    if target_kind == "dna":
        return dna_params()
    raise ValueError(f"target kind must be 'rna' or 'dna', not {target_kind!r}")
