"""ASO sequences and design patterns (gapmer wings/gap, per-position chemistry) as metadata.

An ASO is given 5'->3' in DNA letters (``U`` is read as ``T``; case is ignored). Sugar and
backbone chemistry never changes which bases are scored -- pmcore's thermodynamics use DNA/RNA
parameters for every position (see ``docs/thermo.md``) -- but it decides where a mismatch falls:
in the RNase H gap, in a wing, or near an end.

Accepted notations
------------------
Inline in the sequence (IDT style):
    ``+A`` an LNA nucleotide, ``*`` a phosphorothioate linkage between two nucleotides, e.g.
    ``+G*+C*A*T*...``.
Design pattern (separate argument):
    - gapmer ``W5-G-W3`` such as ``5-10-5`` (wings of 5, a DNA gap of 10), optionally followed by
      the wing chemistry: ``5-10-5 MOE``, ``3-10-3:LNA``, ``3-10-3 cEt``; the three numbers must
      add up to the ASO length;
    - per-position chemistry, one code per nucleotide: ``d`` DNA, ``e`` 2'-MOE, ``l`` LNA,
      ``k`` cEt, ``m`` 2'-OMe, ``f`` 2'-F, ``x`` modified (unspecified); e.g.
      ``eeeeeddddddddddeeeee``. The gap is the longest run of ``d``; the wings are what lies
      5' and 3' of it. A pattern without ``d`` (a fully modified, steric-blocking ASO) has no
      gap and its positions are in region ``none``.

Positions are 1-based from the ASO 5' end in reports (position 1 = 5'-terminal nucleotide);
the arrays below are indexed 0-based.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from .errors import InputError

#: Hard limits on ASO length (shorter or longer is an input error).
MIN_LENGTH = 8
MAX_LENGTH = 40
#: Typical therapeutic ASO lengths (outside them pmcore still scores, the report notes it).
TYPICAL_LENGTH = (12, 30)

#: Per-position chemistry codes.
CHEMISTRY = {"d": "DNA", "e": "2'-MOE", "l": "LNA", "k": "cEt", "m": "2'-OMe", "f": "2'-F",
             "x": "modified"}
_WING_NAMES = {"moe": "e", "2'-moe": "e", "lna": "l", "cet": "k", "ome": "m", "2'-ome": "m",
               "f": "f", "2'-f": "f", "e": "e", "l": "l", "k": "k", "m": "m"}

#: Region codes returned by :meth:`AsoDesign.regions`.
REGION_NONE, REGION_WING5, REGION_GAP, REGION_WING3 = 0, 1, 2, 3
REGION_LABELS = ("none", "wing5", "gap", "wing3")

#: A mismatch within this many nucleotides of either ASO end is flagged ``near_end``.
END_WINDOW = 2

_GAPMER = re.compile(r"^\s*(\d+)\s*-\s*(\d+)\s*-\s*(\d+)\s*(?:[\s:/]\s*(\S+))?\s*$")
_INLINE = re.compile(r"(\+?)([A-Za-z])(\*?)")


@dataclass(frozen=True)
class AsoDesign:
    """One ASO: plain sequence plus design metadata.

    Attributes
    ----------
    sequence : str
        DNA letters 5'->3', uppercase, chemistry marks removed.
    chemistry : str
        One code per nucleotide (see :data:`CHEMISTRY`); ``d`` where nothing was given.
    wing5, gap, wing3 : int
        Gapmer layout; all 0 when the ASO has no known gap.
    pattern : str or None
        The pattern as given.
    phosphorothioate : str or None
        Per linkage (length L-1), ``s`` phosphorothioate / ``o`` phosphodiester, when the
        inline ``*`` notation was used.
    """

    sequence: str
    chemistry: str
    wing5: int = 0
    gap: int = 0
    wing3: int = 0
    pattern: str | None = None
    phosphorothioate: str | None = None
    aso_id: str | None = None

    def __len__(self) -> int:
        return len(self.sequence)

    @property
    def is_gapmer(self) -> bool:
        return self.gap > 0

    @property
    def typical_length(self) -> bool:
        return TYPICAL_LENGTH[0] <= len(self.sequence) <= TYPICAL_LENGTH[1]

    def regions(self) -> np.ndarray:
        """Region code (:data:`REGION_LABELS`) of every position, 0-based, as int8."""
        out = np.full(len(self.sequence), REGION_NONE, dtype=np.int8)
        if self.gap:
            out[:self.wing5] = REGION_WING5
            out[self.wing5:self.wing5 + self.gap] = REGION_GAP
            out[self.wing5 + self.gap:] = REGION_WING3
        return out

    def region(self, pos1: int) -> str:
        """Region label of 1-based position ``pos1``."""
        self._check_pos(pos1)
        return REGION_LABELS[int(self.regions()[pos1 - 1])]

    def near_end(self, pos1: int, window: int = END_WINDOW) -> bool:
        """True when 1-based ``pos1`` is within ``window`` nt of either end."""
        self._check_pos(pos1)
        return pos1 <= window or pos1 > len(self.sequence) - window

    def _check_pos(self, pos1: int) -> None:
        if not 1 <= pos1 <= len(self.sequence):
            raise ValueError(f"position {pos1} outside ASO of length {len(self.sequence)}")

    def describe(self) -> dict:
        return {"aso_id": self.aso_id, "sequence": self.sequence, "length": len(self),
                "chemistry": self.chemistry, "wing5": self.wing5, "gap": self.gap,
                "wing3": self.wing3, "pattern": self.pattern,
                "phosphorothioate": self.phosphorothioate}


def _parse_inline(text: str, record) -> tuple[str, str, str | None]:
    """Split inline notation into (bases, chemistry, linkages)."""
    s = "".join(text.split())
    bases, chem, links = [], [], []
    pos = 0
    for m in _INLINE.finditer(s):
        if m.start() != pos:
            break
        plus, base, star = m.groups()
        b = base.upper()
        if b == "U":
            b = "T"
        if b not in "ACGT":
            raise InputError(f"ASO has letter {base!r} at position {len(bases) + 1} "
                             "(allowed: A C G T U, '+' before an LNA base, '*' linkages)",
                             record=record)
        bases.append(b)
        chem.append("l" if plus else "d")
        links.append("s" if star else "o")
        pos = m.end()
    if pos != len(s):
        bad = s[pos]
        raise InputError(f"ASO {text!r} has unexpected character {bad!r} "
                         f"after position {len(bases)} (allowed: A C G T U, '+' before an "
                         "LNA base, '*' between nucleotides)", record=record)
    if links and links[-1] == "s":
        raise InputError(f"ASO {text!r} ends with a linkage mark '*'", record=record)
    linkages = "".join(links[:-1]) if "s" in links else None
    return "".join(bases), "".join(chem), linkages


def _split_chemistry(chem: str) -> tuple[int, int, int]:
    """Gapmer layout from per-position codes: the longest run of DNA is the gap."""
    best_start, best_len = 0, 0
    for m in re.finditer(r"d+", chem):
        if m.end() - m.start() > best_len:
            best_start, best_len = m.start(), m.end() - m.start()
    if best_len == 0 or best_len == len(chem):
        return 0, 0, 0
    return best_start, best_len, len(chem) - best_start - best_len


def parse_aso(sequence: str, pattern: str | None = None, *, aso_id: str | None = None,
              min_length: int = MIN_LENGTH, max_length: int = MAX_LENGTH) -> AsoDesign:
    """Parse an ASO (inline chemistry allowed) and an optional design pattern.

    Raises :class:`~pmcore.errors.InputError` naming ``aso_id`` for letters outside ACGTU and
    the chemistry notation, a length outside ``[min_length, max_length]``, or a pattern that
    does not fit the sequence.

    Examples
    --------
    >>> d = parse_aso("GCTACGTAGCATGCATGCAA", "5-10-5 MOE", aso_id="a1")
    >>> d.wing5, d.gap, d.wing3, d.chemistry[:6]
    (5, 10, 5, 'eeeeed')
    >>> d.region(3), d.region(8), d.near_end(19)
    ('wing5', 'gap', True)
    """
    record = aso_id
    if not isinstance(sequence, str) or not sequence.strip():
        raise InputError("empty ASO sequence", record=record)
    bases, chem, linkages = _parse_inline(sequence, record)
    L = len(bases)
    if L < min_length or L > max_length:
        raise InputError(f"ASO length {L} outside the accepted {min_length}-{max_length} nt",
                         record=record)
    wing5 = gap = wing3 = 0
    if pattern is not None and str(pattern).strip():
        pattern = str(pattern).strip()
        m = _GAPMER.match(pattern)
        if m:
            wing5, gap, wing3 = (int(m.group(i)) for i in (1, 2, 3))
            if wing5 + gap + wing3 != L:
                raise InputError(f"design {pattern!r} covers {wing5 + gap + wing3} nt but the "
                                 f"ASO has {L}", record=record)
            if gap == 0:
                raise InputError(f"design {pattern!r} has no gap", record=record)
            wing_code = "x"
            if m.group(4):
                name = m.group(4).lower()
                if name not in _WING_NAMES:
                    raise InputError(f"unknown wing chemistry {m.group(4)!r} in {pattern!r} "
                                     f"(known: MOE, LNA, cEt, OMe, F)", record=record)
                wing_code = _WING_NAMES[name]
            wings = [wing_code] * L
            # Inline LNA marks are more specific than the pattern's wing chemistry.
            new = [("l" if c == "l" else w) if (i < wing5 or i >= wing5 + gap) else "d"
                   for i, (c, w) in enumerate(zip(chem, wings))]
            if any(chem[i] == "l" for i in range(wing5, wing5 + gap)):
                raise InputError(f"LNA mark inside the DNA gap of design {pattern!r}",
                                 record=record)
            chem = "".join(new)
        else:
            codes = pattern.lower()
            if len(codes) != L or any(c not in CHEMISTRY for c in codes):
                raise InputError(f"design pattern {pattern!r} is neither a gapmer 'W-G-W' "
                                 f"nor {L} chemistry codes from {''.join(CHEMISTRY)}",
                                 record=record)
            chem = codes
            wing5, gap, wing3 = _split_chemistry(chem)
    else:
        wing5, gap, wing3 = _split_chemistry(chem) if "l" in chem else (0, 0, 0)
    return AsoDesign(bases, chem, wing5, gap, wing3, pattern, linkages, aso_id)


@dataclass(frozen=True)
class MismatchLocation:
    """Where one mismatch (or ASO-side bulge) falls on the ASO."""

    pos: int            # 1-based from the ASO 5' end
    region: str         # none / wing5 / gap / wing3
    near_end: bool      # within END_WINDOW nt of either end

    @property
    def label(self) -> str:
        """``end`` when near an end, else ``gap`` / ``wing`` / ``none``."""
        if self.near_end:
            return "end"
        return "wing" if self.region.startswith("wing") else self.region


def classify_positions(design: AsoDesign, positions, window: int = END_WINDOW
                       ) -> list[MismatchLocation]:
    """Locate 1-based mismatch positions on the ASO design."""
    regions = design.regions()
    L = len(design)
    out = []
    for p in positions:
        p = int(p)
        if not 1 <= p <= L:
            raise ValueError(f"position {p} outside ASO of length {L}")
        out.append(MismatchLocation(p, REGION_LABELS[int(regions[p - 1])],
                                    p <= window or p > L - window))
    return out


def region_counts(design: AsoDesign, positions, window: int = END_WINDOW) -> dict[str, int]:
    """Counts of mismatches in the gap, in either wing, and near an end (overlapping)."""
    locs = classify_positions(design, positions, window)
    return {"gap": sum(loc.region == "gap" for loc in locs),
            "wing": sum(loc.region.startswith("wing") for loc in locs),
            "end": sum(loc.near_end for loc in locs)}
