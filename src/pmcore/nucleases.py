"""IUPAC codes, PAM patterns and nuclease presets.

A nuclease preset fixes the PAM pattern, the side of the protospacer it sits on, and the
spacer lengths it accepts. ``--pam`` gives any IUPAC pattern instead (3' side unless
``--pam-side 5``).
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import InputError

#: IUPAC nucleotide codes -> set of bases they admit.
IUPAC = {
    "A": "A", "C": "C", "G": "G", "T": "T", "U": "T",
    "R": "AG", "Y": "CT", "S": "CG", "W": "AT", "K": "GT", "M": "AC",
    "B": "CGT", "D": "AGT", "H": "ACT", "V": "ACG", "N": "ACGT",
}
_COMPLEMENT_CODE = {
    "A": "T", "C": "G", "G": "C", "T": "A", "U": "A", "R": "Y", "Y": "R", "S": "S", "W": "W",
    "K": "M", "M": "K", "B": "V", "V": "B", "D": "H", "H": "D", "N": "N",
}
_BASE_BIT = {"A": 1, "C": 2, "G": 4, "T": 8}
_REVCOMP_TABLE = str.maketrans("ACGTURYSWKMBDHVNacgturyswkmbdhvn-", "TGCAAYRSWMKVHDBNtgcaayrswmkvhdbn-")


def revcomp(seq: str) -> str:
    """Reverse complement, IUPAC-aware, case kept."""
    return seq.translate(_REVCOMP_TABLE)[::-1]


def complement_code(code: str) -> str:
    return _COMPLEMENT_CODE[code]


def code_mask(code: str) -> int:
    """4-bit mask (A=1, C=2, G=4, T=8) of the bases an IUPAC code admits."""
    mask = 0
    for base in IUPAC[code]:
        mask |= _BASE_BIT[base]
    return mask


def check_iupac(seq: str, what: str, *, record=None, path=None, line=None) -> str:
    """Upper-case ``seq`` (U read as T) and check every letter is an IUPAC code."""
    s = seq.strip().upper().replace("U", "T")
    if not s:
        raise InputError(f"empty {what}", record=record, path=path, line=line)
    bad = sorted({c for c in s if c not in IUPAC})
    if bad:
        raise InputError(f"{what} {seq!r} has letters that are not IUPAC codes: {''.join(bad)}",
                         record=record, path=path, line=line)
    return s


@dataclass(frozen=True)
class Nuclease:
    """A PAM pattern with its side and accepted spacer lengths."""

    name: str
    pam: str
    pam_side: int  # 3: PAM follows the protospacer (SpCas9); 5: PAM precedes it (Cas12a)
    min_spacer: int = 17
    max_spacer: int = 24
    default_spacer: int = 20

    def check_spacer_length(self, length: int, *, record=None, path=None, line=None) -> None:
        if not self.min_spacer <= length <= self.max_spacer:
            raise InputError(
                f"guide length {length} is outside {self.min_spacer}-{self.max_spacer} nt "
                f"accepted for {self.name}", record=record, path=path, line=line)


PRESETS = {
    "SpCas9": Nuclease("SpCas9", "NGG", 3),
    "SpCas9-NRG": Nuclease("SpCas9-NRG", "NRG", 3),
    "SpCas9-NG": Nuclease("SpCas9-NG", "NG", 3),
    "SaCas9": Nuclease("SaCas9", "NNGRRT", 3, min_spacer=20, max_spacer=24, default_spacer=21),
    "Cas12a": Nuclease("Cas12a", "TTTV", 5, min_spacer=18, max_spacer=24, default_spacer=23),
}


def resolve_nuclease(preset: str | None = None, pam: str | None = None,
                     pam_side: int | None = None) -> Nuclease:
    """Nuclease from a preset name or an explicit PAM (``--pam`` wins over the preset PAM)."""
    if preset is not None:
        match = {k.lower(): v for k, v in PRESETS.items()}.get(preset.lower())
        if match is None:
            raise InputError(f"unknown nuclease preset {preset!r}; choose one of "
                             + ", ".join(PRESETS))
        if pam is None:
            return match
        base = match
    else:
        base = PRESETS["SpCas9"]
    if pam is None:
        return base
    pam = check_iupac(pam, "PAM")
    if len(pam) > 8:
        raise InputError(f"PAM {pam!r} is longer than 8 nt")
    side = base.pam_side if pam_side is None else pam_side
    if side not in (3, 5):
        raise InputError(f"PAM side must be 3 or 5, not {side}")
    return Nuclease(f"custom:{pam}", pam, side)
