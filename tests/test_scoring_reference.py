"""Site scores against a slow reference written straight from the formulas in
``data/scoring/README.md`` (per-character loops, string keys ``rX:dY,p``), plus the values
printed by CRISPOR 5.2's own doctests (``crispor.py`` ``calcCfdScore`` / ``calcHitScore``).

The reference reads the CSV files itself and shares no code with ``pmcore.scoring``.
"""

from __future__ import annotations

import csv
import random
from importlib import resources

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pmcore import scoring
from pmcore.errors import InputError

# --------------------------------------------------------------------------- the reference


def _csv(name):
    text = resources.files("pmcore").joinpath("data", "scoring", name).read_text()
    return list(csv.DictReader(text.splitlines()))


REF_MM = {f"r{r['rna_base']}:d{r['dna_base']},{r['position']}": float(r["score"])
          for r in _csv("cfd_mismatch.csv")}
REF_PAM = {r["pam_dinucleotide"]: float(r["score"]) for r in _csv("cfd_pam.csv")}
REF_M = [float(r["weight"]) for r in sorted(_csv("mit_weights.csv"),
                                            key=lambda r: int(r["position"]))]
REF_BULGE = {(r["st19_sheet"], r["rna_base"], int(r["position"])): float(r["score"])
             for r in _csv("cfd_bulges.csv")}
COMPLEMENT = {"A": "T", "C": "G", "G": "C", "T": "A"}


def ref_cfd(guide: str, site: str) -> float:
    """README formula: product over mismatched positions of mm[(rna(g), comp(s), p)] times
    pam[site[21:23]]; -1 if any letter of guide or site is not ACGT; case ignored."""
    g, s = guide.upper(), site.upper()
    if any(c not in "ACGT" for c in g + s):
        return -1.0
    score = 1.0
    for i in range(20):
        if g[i] != s[i]:
            key = "r" + g[i].replace("T", "U") + ":d" + COMPLEMENT[s[i]] + "," + str(i + 1)
            score *= REF_MM[key]
    return score * REF_PAM[s[-2:]]


def ref_mit(guide: str, site: str, *, filter_copy: bool = False) -> float:
    """README formula with CRISPOR's length rules (site = protospacer [+ PAM])."""
    g, s = guide.upper(), site.upper()[:len(guide)]
    start, max_dist = 0, 19.0
    if len(g) > 20:
        g, s = g[-20:], s[-20:]
    elif len(g) == 19:
        g, s = "A" + g, "A" + s
    elif len(g) < 19:
        start = 20 - len(g)
        max_dist = 19.0 if filter_copy else len(g) - 1.0
    mm = [p for p in range(start, len(g)) if g[p] != s[p]]
    t1 = 1.0
    for p in mm:
        t1 *= 1 - REF_M[p]
    n = len(mm)
    t2 = 1.0 if n < 2 else 1 / (((max_dist - (mm[-1] - mm[0]) / (n - 1)) / max_dist) * 4 + 1)
    t3 = 1.0 if n == 0 else 1 / n ** 2
    return 100 * t1 * t2 * t3


def ref_cfd_bulge(guide: str, site: str, kind: str, size: int) -> float:
    """pmcore's documented bulge rule, by brute force over placements with strings."""
    g = guide.upper()
    bases = site.replace("-", "").upper()
    proto, pam = bases[:-3], bases[-3:]
    if any(c not in "ACGT" for c in g + bases):
        return -1.0
    best = -1.0
    if kind == "DNA":
        for j in range(1, 21):  # extra bases after guide position j (1-based)
            paired = list(zip(range(1, 21), g, proto[:j] + proto[j + size:]))
            extra = proto[j:j + size]
            score = 1.0
            for b in extra:
                score *= REF_BULGE[("deletion", b.replace("T", "U"), max(j, 2))]
            for p, a, b in paired:
                if a != b:
                    score *= REF_MM[f"r{a.replace('T', 'U')}:d{COMPLEMENT[b]},{p}"]
            best = max(best, score)
    else:
        for i in range(20 - size):  # guide bases i..i+size-1 (0-based) unpaired
            kept = [(p + 1, g[p]) for p in range(20) if not i <= p < i + size]
            score = 1.0
            for p in range(i, i + size):
                score *= REF_BULGE[("insertion", g[p].replace("T", "U"), max(p + 1, 2))]
            for (p, a), b in zip(kept, proto):
                if a != b:
                    score *= REF_MM[f"r{a.replace('T', 'U')}:d{COMPLEMENT[b]},{p}"]
            best = max(best, score)
    return best * REF_PAM[pam[1:]]


# --------------------------------------------------------------------------- helpers

BASES = "ACGT"


def mutate(rng: random.Random, guide: str, n_mm: int, pam: str, lower=False, n_letters=0):
    s = list(guide)
    for p in rng.sample(range(len(guide)), n_mm):
        s[p] = rng.choice([b for b in BASES if b != guide[p]])
        if lower:
            s[p] = s[p].lower()
    site = "".join(s) + pam
    for _ in range(n_letters):
        k = rng.randrange(len(site))
        site = site[:k] + "N" + site[k + 1:]
    return site


def random_pairs(seed=7, n=600):
    rng = random.Random(seed)
    pairs = []
    for k in range(n):
        guide = "".join(rng.choice(BASES) for _ in range(20))
        pam = rng.choice(BASES) + rng.choice(BASES) + rng.choice(BASES)
        pairs.append((guide, mutate(rng, guide, k % 7, pam, lower=k % 5 == 0,
                                    n_letters=1 if k % 11 == 0 else 0)))
    # every one of the 240 mismatch keys, each in a pair with other random mismatches
    for pos in range(20):
        for g in BASES:
            for s in BASES:
                if g == s:
                    continue
                guide = "".join(rng.choice(BASES) for _ in range(20))
                guide = guide[:pos] + g + guide[pos + 1:]
                site = mutate(rng, guide, rng.randrange(3), rng.choice(BASES) + "GG")
                site = site[:pos] + s + site[pos + 1:]
                pairs.append((guide, site))
    return pairs


PAIRS = random_pairs()


# --------------------------------------------------------------------------- tests


def test_worked_example_is_exact():
    # README / CRISPOR doctest: rG:dG,3 = 0.384615385, PAM GG = 1.0
    assert scoring.cfd_score("ATGTGGAGATTGCCACCTAC", "ATCTGGAGATTGCCACCTACAGG") == 0.384615385


@pytest.mark.parametrize("guide, site, expected", [
    # values printed by CRISPOR 5.2's calcCfdScore doctests (crispor.py)
    ("GGGGGGGGGGGGGGGGGGGG", "GGGGGGGGGGGGGGGGGAAAGGG", 0.4635989007074176),
    ("GGGGGGGGGGGGGGGGGGGG", "GGGGGGGGGGGGGGGGGGGGGGG", 1.0),
    ("GGGGGGGGGGGGGGGGGGGG", "aaaaGaGaGGGGGGGGGGGGGGG", 0.5140384614450001),
    ("ATGGTCGGACTCCCTGCCAG", "ATGGTGGGACTCCCTGCCAGAGG", 0.5),
    ("ATGGTCGGACTCCCTGCCAG", "ATGATCCAAATCCCTGCCAGAGG", 0.53625000020625),
])
def test_crispor_doctest_cfd_values(guide, site, expected):
    assert scoring.cfd_score(guide, site) == expected


@pytest.mark.parametrize("guide, site, expected", [
    # CRISPOR calcHitScore doctests print int(score)
    ("GGGGGGGGGGGGGGGGGGGG", "GGGGGGGGGGGGGGGGGGGG", 100),
    ("AGGGGGGGGGGGGGGGGGGG", "GGGGGGGGGGGGGGGGGGGG", 100),
    ("GGGGGGGGGGGGGGGGGGGG", "GGGGGGGGGGGGGGGGGGGA", 41),
])
def test_crispor_doctest_mit_values(guide, site, expected):
    assert int(scoring.mit_score(guide, site)) == expected


def test_pairs_cover_every_key_and_pam():
    keys, pams, counts = set(), set(), set()
    for g, s in PAIRS:
        S = s.upper()
        if "N" in S:
            continue
        pams.add(S[-2:])
        counts.add(sum(a != b for a, b in zip(g, S[:20])))
        for p in range(20):
            if g[p] != S[p]:
                keys.add((p, g[p], S[p]))
    assert len(keys) == 240 and len(pams) == 16 and counts >= set(range(7))


def test_scalar_cfd_and_mit_equal_reference():
    for g, s in PAIRS:
        # same multiplication order as the formula: equal to the last bit
        assert scoring.cfd_score(g, s) == ref_cfd(g, s), (g, s)
        assert scoring.mit_score(g, s) == pytest.approx(ref_mit(g, s), rel=1e-12, abs=1e-12)


def test_vectorised_pairs_equal_scalar_bitwise():
    guides = [g for g, _ in PAIRS]
    sites = [s for _, s in PAIRS]
    cfd, mit = scoring.score_pairs(guides, sites)
    for (g, s), c, m in zip(PAIRS, cfd, mit):
        assert c == scoring.cfd_score(g, s)
        assert m == scoring.mit_score(g, s)


def test_cfd_minus_one_for_non_acgt_anywhere_in_site():
    g = "ATGTGGAGATTGCCACCTAC"
    for k in range(23):  # N in the PAM's first base too, although it is never looked at
        site = g + "AGG"
        site = site[:k] + "N" + site[k + 1:]
        assert scoring.cfd_score(g, site) == -1.0
        assert scoring.cfd_score(g, site[:k] + "R" + site[k + 1:]) == -1.0
    assert scoring.cfd_score(g, g + "AGG") == 1.0


def test_mit_n_is_a_mismatch_and_pam_is_ignored():
    g = "ATGTGGAGATTGCCACCTAC"
    site = g[:13] + "N" + g[14:]
    assert scoring.mit_score(g, site + "AGG") == pytest.approx(100 * (1 - 0.851))
    for pam in ("AGG", "TTT", "NNN"):
        assert scoring.mit_score(g, g + pam) == 100.0
    # a single mismatch at a zero-weight position still gives 100
    assert scoring.mit_score(g, "C" + g[1:] + "TGG") == 100.0


def test_lowercase_scores_like_uppercase():
    for g, s in PAIRS[:200]:
        assert scoring.cfd_score(g.lower(), s.lower()) == scoring.cfd_score(g, s.upper())
        assert scoring.mit_score(g.lower(), s.lower()) == scoring.mit_score(g, s.upper())


@pytest.mark.parametrize("length", [12, 15, 17, 18, 19, 21, 22, 24])
def test_mit_other_lengths_follow_crispor_rules(length):
    rng = random.Random(length)
    for k in range(120):
        g = "".join(rng.choice(BASES) for _ in range(length))
        s = mutate(rng, g, k % 6, "TGG")
        assert scoring.mit_score(g, s) == pytest.approx(ref_mit(g, s), rel=1e-12, abs=1e-12)
        if length != 20:
            assert scoring.cfd_score(g, s) is None  # CFD: 20-mers only, never a silent number


def test_mit_19mer_equals_20mer_with_prepended_a():
    rng = random.Random(19)
    for k in range(100):
        g = "".join(rng.choice(BASES) for _ in range(19))
        s = mutate(rng, g, k % 5, "AGG")
        assert scoring.mit_score(g, s) == scoring.mit_score("A" + g, "A" + s)


def test_mit_short_guides_ignore_the_first_bases_as_crispor_does():
    # CRISPOR compares string positions 20-len..len-1 for spacers under 19 nt, so a
    # mismatch in the first 20-len bases is not seen, and the normaliser is len-1
    g = "ACGTACGTACGTACGTAC"  # 18 nt: positions 0 and 1 are ignored
    assert scoring.mit_score(g, "T" + g[1:]) == 100.0
    s = g[:5] + "A" + g[6:10] + "A" + g[11:]
    d = 5.0
    expected = 100 * (1 - REF_M[5]) * (1 - REF_M[10]) / (((17 - d) / 17) * 4 + 1) / 4
    assert scoring.mit_score(g, s) == pytest.approx(expected, rel=1e-14)
    # the copy in CRISPOR's alternative-PAM filter keeps 19 as normaliser
    gc, sc = scoring.encode(g, 18), scoring.encode(s, 18)
    filt = scoring.mit_codes(gc, sc, filter_variant=True)[0][0]
    assert filt == pytest.approx(ref_mit(g, s, filter_copy=True), rel=1e-14)
    assert filt != pytest.approx(expected)


def test_mit_uses_true_division_for_mean_distance():
    # mismatches at 1, 2, 4 (0-based 0, 1, 3): mean gap 1.5, not 1 (Python 2 floor)
    g = "A" * 20
    s = "CC" + "A" + "C" + "A" * 16
    expected = 100 * 1 * 1 * 1 / (((19 - 1.5) / 19) * 4 + 1) / 9
    assert scoring.mit_score(g, s) == pytest.approx(expected, rel=1e-14)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ACGT", min_size=20, max_size=20),
       st.lists(st.tuples(st.integers(0, 22), st.sampled_from("ACGTacgtN")), max_size=7),
       st.text(alphabet="ACGT", min_size=3, max_size=3))
def test_hypothesis_random_pairs(guide, edits, pam):
    site = list(guide + pam)
    for pos, letter in edits:
        site[pos] = letter
    site = "".join(site)
    assert scoring.cfd_score(guide, site) == pytest.approx(ref_cfd(guide, site), rel=1e-12)
    assert scoring.mit_score(guide, site) == pytest.approx(ref_mit(guide, site), rel=1e-12)


@pytest.mark.parametrize("guide, site", [
    ("ATGTGGAGATTGCCACCTAX", "ATGTGGAGATTGCCACCTACAGG"),  # non-ACGT guide
    ("ATGTGGAGATTGCCACCTAN", "ATGTGGAGATTGCCACCTACAGG"),
    ("ATGTGGAGATTGCCACCTAC", "ATGTGGAGATTGCCACCTACAG"),   # site too short
    ("ATGTGGAGATTGCCACCTAC", "ATGTGGAGATTGCCACCTACAGGA"),  # too long
    ("ATGTGGAGATTGCCACCTAC", "ATGTGGAGATTGCCACCTAC1GG"),   # not an IUPAC letter
    ("", "AGG"),
])
def test_bad_pairs_raise_input_error(guide, site):
    with pytest.raises(InputError):
        scoring.cfd_score(guide, site)


def test_tables_are_checked_and_complete():
    tb = scoring.tables()
    assert tb.mm.shape == (20, 4, 4)
    assert np.all(tb.mm[:, range(4), range(4)] == 1.0)  # matches are factor 1
    assert np.count_nonzero(tb.pam) == 7 and tb.pam[2, 2] == 1.0
    assert tb.mit.tolist() == REF_M
    assert float(np.nanmax(tb.dna_bulge)) < 1 and float(np.nanmax(tb.rna_bulge)) < 1


def test_shipped_tables_match_the_reference_copies(shared_data):
    import hashlib

    for name, digest in scoring.TABLE_SHA256.items():
        shipped = resources.files("pmcore").joinpath("data", "scoring", name).read_bytes()
        assert hashlib.sha256(shipped).hexdigest() == digest
        assert (shared_data / "scoring" / name).read_bytes() == shipped


def test_altered_table_is_refused(monkeypatch):
    from pmcore.errors import PmcoreError

    monkeypatch.setitem(scoring.TABLE_SHA256, "cfd_pam.csv", "0" * 64)
    scoring.tables.cache_clear()
    try:
        with pytest.raises(PmcoreError, match="altered"):
            scoring.tables()
    finally:
        monkeypatch.undo()
        scoring.tables.cache_clear()
    assert scoring.tables().pam[2, 2] == 1.0


def test_guide_given_with_its_pam_as_crispor_takes_it():
    g, s = "ATGTGGAGATTGCCACCTAC", "ATCTGGAGATTGCCACCTACAGG"
    assert scoring.score_site(g + "CGG", s) == scoring.score_site(g, s)
    assert scoring.score_site(g + "CGG", s).cfd == 0.384615385
    with pytest.raises(InputError):
        scoring.score_site(g + "C1G", s)
