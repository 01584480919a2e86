"""Slow, obviously correct off-target search used as the oracle in tests.

It follows the Cas-OFFinder model literally: every bulge placement becomes its own
pattern/query pair (N's inserted for DNA bulges, letters deleted for RNA bulges), and each
pair is compared letter by letter at every genome position on both strands.
"""

from __future__ import annotations

SETS = {
    "A": "A", "C": "C", "G": "G", "T": "T", "R": "AG", "Y": "CT", "S": "CG", "W": "AT",
    "K": "GT", "M": "AC", "B": "CGT", "D": "AGT", "H": "ACT", "V": "ACG", "N": "ACGT",
}
COMP = {"A": "T", "C": "G", "G": "C", "T": "A", "R": "Y", "Y": "R", "S": "S", "W": "W",
        "K": "M", "M": "K", "B": "V", "V": "B", "D": "H", "H": "D", "N": "N"}


def revcomp(s: str) -> str:
    return "".join(COMP[c] for c in reversed(s))


def rejects(code: str, letter: str) -> bool:
    """Does IUPAC ``code`` reject genome ``letter`` (Cas-OFFinder rules)?"""
    if code == "N":
        return False
    if len(SETS[code]) == 1:
        return letter != code
    return letter in "ACGT" and letter not in SETS[code]


def variants(pattern: str, query: str, spacer_len: int, pam_side: int, max_dna: int,
             max_rna: int):
    """(type, size, pos, pattern, query) for the plain site and every bulge placement.

    Positions are 0-based guide positions 5'->3' (Cas-OFFinder 3 crRNA string order)."""
    W = len(pattern)
    L = spacer_len
    out = [(0, 0, -1, pattern, query)]

    s0 = 0 if pam_side == 3 else W - L  # string index of guide position 0
    dna_js = range(1, L + 1) if pam_side == 3 else range(0, L)
    for b in range(1, max_dna + 1):
        for j in dna_js:
            i = s0 + j
            ins = lambda s: s[:i] + "N" * b + s[i:]  # noqa: E731
            out.append((1, b, j, ins(pattern), ins(query)))
    for b in range(1, max_rna + 1):
        for j in range(0, L - b):
            a, z = s0 + j, s0 + j + b
            out.append((2, b, j, pattern[:a] + pattern[z:], query[:a] + query[z:]))
    return out


def search(genome: dict, queries, pattern: str, spacer_len: int, pam_side: int,
           max_dna: int = 0, max_rna: int = 0):
    """All placements: rows (query_index, chrom, start, end, strand, type, size, pos, mm).

    ``queries``: list of (window_query, max_mismatches), each as long as ``pattern``.
    """
    return [(qi, chrom, start, start + len(window), strand, btype, bsize, bpos, mm)
            for qi, (btype, bsize, bpos, _, _), strand, chrom, start, window, mm
            in matches(genome, [(q, m, spacer_len) for q, m in queries], pattern, pam_side,
                       max_dna, max_rna)]


def matches(genome: dict, queries, pattern: str, pam_side: int, max_dna: int, max_rna: int):
    """Every accepted placement: (query index, variant, strand, chrom, start, window, mm)
    for ``queries`` = [(window_query, max_mismatches, spacer_len)]."""
    upper = {chrom: seq.upper() for chrom, seq in genome.items()}
    for qi, (query, m, spacer_len) in enumerate(queries):
        for variant in variants(pattern, query, spacer_len, pam_side, max_dna, max_rna):
            _, _, _, pat, qry = variant
            for strand, p_s, q_s in (("+", pat, qry), ("-", revcomp(pat), revcomp(qry))):
                w = len(p_s)
                for chrom, seq in upper.items():
                    for start in range(0, len(seq) - w + 1):
                        window = seq[start:start + w]
                        if any(rejects(c, g) for c, g in zip(p_s, window)):
                            continue
                        mm = sum(rejects(c, g) for c, g in zip(q_s, window))
                        if mm <= m:
                            yield qi, variant, strand, chrom, start, window, mm


def best_per_site(rows, pam_side=3):
    """Merge placements: fewest mismatches per (query, site, strand, type, size); ties go to
    the most PAM-distal placement (smallest pos with a 3' PAM, largest with a 5' PAM)."""
    best = {}
    sign = 1 if pam_side == 3 else -1
    for r in rows:
        key = r[:7]
        if key not in best or (r[8], sign * r[7]) < (best[key][8], sign * best[key][7]):
            best[key] = r
    return sorted(best.values())


def casoffinder_lines(genome: dict, pattern: str, queries, max_dna: int, max_rna: int):
    """Expected Cas-OFFinder 3 rows (all placements) for ``queries`` = [(query, mm, id)].

    Strings are built from the expanded pattern/query pairs: the crRNA gets '-' where a DNA
    bulge's extra bases sit, the DNA gets '-' where RNA bulge bases are skipped, and
    mismatched genome letters are lower case.
    """
    side = 5 if pattern[0] != "N" else 3
    spans = []
    for query, m, _ in queries:
        letters = [i for i, c in enumerate(query) if c != "N"]
        spans.append(letters[-1] + 1 if side == 3 else len(query) - letters[0])
    out = []
    for qi, (btype, bsize, bpos, _, qry), strand, chrom, start, window, mm in matches(
            genome, [(q, m, L) for (q, m, _), L in zip(queries, spans)], pattern, side,
            max_dna, max_rna):
        query, _, qid = queries[qi]
        s0 = 0 if side == 3 else len(query) - spans[qi]
        site = window if strand == "+" else revcomp(window)
        dna = "".join(g.lower() if rejects(c, g) else g for c, g in zip(qry, site))
        crrna = query
        if btype == 1:
            crrna = query[:s0 + bpos] + "-" * bsize + query[s0 + bpos:]
        elif btype == 2:
            dna = dna[:s0 + bpos] + "-" * bsize + dna[s0 + bpos:]
        out.append((qid if qid is not None else str(qi), {0: "X", 1: "DNA", 2: "RNA"}[btype],
                    crrna, dna, chrom, str(start), strand, str(mm), str(bsize)))
    return sorted(out)
