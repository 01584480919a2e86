"""Nearest-neighbour thermodynamics: tables, Biopython agreement, model rules, batch twin."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pmcore import thermo, thermo_tables
from pmcore.errors import InputError
from pmcore.thermo import Conditions, duplex_thermo, duplex_thermo_batch, perfect_target
from pmcore.thermo_tables import KIND_MEASURED, KIND_NONE, KIND_PROXY, KIND_STACK, T37

mt = pytest.importorskip("Bio.SeqUtils.MeltingTemp")

DNA_COMP = str.maketrans("ACGT", "TGCA")
WC = {("A", "T"), ("T", "A"), ("C", "G"), ("G", "C"), ("A", "U"), ("U", "A")}


def rand_dna(rng, n):
    return "".join(rng.choice("ACGT") for _ in range(n))


# ----------------------------------------------------------------------------- tables

def test_tables_complete():
    for params, measured, proxy in ((thermo_tables.hybrid_params(), 32, 64),
                                    (thermo_tables.dna_params(), 96, 0)):
        kind = params.kind
        assert (kind == KIND_STACK).sum() == 16
        assert (kind == KIND_MEASURED).sum() == measured
        assert (kind == KIND_PROXY).sum() == proxy
        assert (kind == KIND_NONE).sum() == 256 - 16 - 96
        # Exactly the doublets with two Watson-Crick pairs are stacks.
        t1, t2, b1, b2 = np.indices((4, 4, 4, 4))
        pairs = (t1 + b1 == 3).astype(int) + (t2 + b2 == 3).astype(int)
        assert np.array_equal(kind == KIND_STACK, pairs == 2)
        assert np.array_equal(kind == KIND_NONE, pairs == 0)
    # Terminal mismatch table: 4 pairs x 12 mismatches, all filled.
    t1, t2, b1, b2 = np.indices((4, 4, 4, 4))
    tm_dh = thermo_tables.dna_params().tmm_dh
    valid = (t1 + b1 == 3) & (t2 + b2 != 3)
    assert valid.sum() == 48
    assert np.all(tm_dh[valid] != 0)
    assert np.all(tm_dh[~valid] == 0)


def test_watkins_families_cover_eight_contexts():
    rows = thermo_tables._read("watkins2011_rna_dna_mismatch.csv")
    fam = {}
    for key, _h, _s in rows:
        dna, rna = key.split("/")
        pairs = [(dna[i], rna[i]) in WC for i in range(2)]
        assert sum(pairs) == 1, key
        mm = 1 - pairs.index(True)
        fam.setdefault((dna[mm], rna[mm]), set()).add(key)
    assert sorted(fam) == [("A", "A"), ("C", "C"), ("G", "G"), ("T", "U")]
    assert all(len(v) == 8 for v in fam.values())


def test_sugimoto_dg37_matches_published_column():
    # dG37 column of Sugimoto et al. (1995) Table 2 (kcal/mol, rounded to 0.1).
    published = {"AA/TT": -1.0, "AC/TG": -2.1, "AG/TC": -1.8, "AU/TA": -0.9, "CA/GT": -0.9,
                 "CC/GG": -2.1, "CG/GC": -1.7, "CU/GA": -0.9, "GA/CT": -1.3, "GC/CG": -2.7,
                 "GG/CC": -2.9, "GU/CA": -1.1, "UA/AT": -0.6, "UC/AG": -1.5, "UG/AC": -1.6,
                 "UU/AA": -0.2, "init": 3.1}
    rows = {k: (float(h), float(s)) for k, h, s in
            thermo_tables._read("sugimoto1995_rna_dna_nn.csv")}
    assert set(rows) == set(published)
    for key, dg in published.items():
        h, s = rows[key]
        assert h - T37 * s / 1000 == pytest.approx(dg, abs=0.051), key


# ----------------------------------------------------------------------------- Biopython

def _bio_hybrid(target_rna, c: Conditions):
    return mt.Tm_NN(target_rna.replace("U", "T"), nn_table=mt.R_DNA_NN1,
                    dnac1=max(c.oligo_nm, c.target_nm), dnac2=min(c.oligo_nm, c.target_nm),
                    Na=c.na_mm, Mg=c.mg_mm, saltcorr=5 if c.mg_mm == 0 else 7)


def test_perfect_hybrids_match_biopython():
    rng = random.Random(7)
    worst = 0.0
    for _ in range(600):
        aso = rand_dna(rng, rng.randint(8, 40))
        c = Conditions(na_mm=rng.choice([10, 50, 150, 1000]),
                       mg_mm=rng.choice([0, 0, 0.5, 2, 10]),
                       oligo_nm=rng.choice([50, 250, 1000]),
                       target_nm=rng.choice([1, 50, 1000]))
        got = duplex_thermo(aso, perfect_target(aso), **c.__dict__)
        worst = max(worst, abs(got.tm - _bio_hybrid(perfect_target(aso), c)))
        assert not got.proxy
    # Residual comes from R = 1.9872 (pmcore) vs 1.987 (Biopython).
    assert worst < 0.02


def test_dna_duplexes_with_internal_mismatches_match_biopython():
    rng = random.Random(11)
    worst = 0.0
    for _ in range(600):
        n = rng.randint(10, 30)
        top = rand_dna(rng, n)
        bot = list(top.translate(DNA_COMP))  # 3'->5' under the top strand
        used: set[int] = set()
        for _ in range(rng.randint(1, 3)):
            p = rng.randint(1, n - 2)
            if any(abs(p - q) < 2 for q in used):
                continue
            used.add(p)
            bot[p] = rng.choice([b for b in "ACGT" if b != bot[p]])
        bot = "".join(bot)
        na = rng.choice([20, 100, 1000])
        got = duplex_thermo(top, bot, target_orientation="3to5", target_kind="dna", na_mm=na)
        ref = mt.Tm_NN(top, c_seq=bot, nn_table=mt.DNA_NN3, imm_table=mt.DNA_IMM1,
                       dnac1=1000, dnac2=1000, Na=na, saltcorr=5)
        worst = max(worst, abs(got.tm - ref))
        assert got.n_mismatches == len(used)
    assert worst < 0.05  # R = 1.9872 vs 1.987; exact with Biopython's R (test below)


def test_exact_agreement_with_biopython_gas_constant(monkeypatch):
    """With Biopython's R = 1.987 the only residual disappears: same model, same numbers."""
    monkeypatch.setattr(thermo, "R_GAS", 1.987)
    rng = random.Random(13)
    for _ in range(300):
        aso = rand_dna(rng, rng.randint(8, 40))
        c = Conditions(na_mm=rng.choice([20, 150]), mg_mm=rng.choice([0, 2]),
                       oligo_nm=250, target_nm=50)
        got = duplex_thermo(aso, perfect_target(aso), **c.__dict__)
        assert got.tm == pytest.approx(_bio_hybrid(perfect_target(aso), c), abs=1e-9)
        top = rand_dna(rng, 20)
        bot = list(top.translate(DNA_COMP))
        bot[9] = rng.choice([b for b in "ACGT" if b != bot[9]])
        bot = "".join(bot)
        got = duplex_thermo(top, bot, target_orientation="3to5", target_kind="dna", na_mm=50)
        ref = mt.Tm_NN(top, c_seq=bot, nn_table=mt.DNA_NN3, dnac1=1000, dnac2=1000, Na=50,
                       saltcorr=5)
        assert got.tm == pytest.approx(ref, abs=1e-9)


def test_hybrid_watkins_mismatches_match_biopython_with_same_table():
    """Orientation check: feed the Watkins values to Biopython in its RNA-top convention."""
    imm = {}
    for key, h, s in thermo_tables._read("watkins2011_rna_dna_mismatch.csv"):
        dna, rna = key.split("/")  # DNA 5'->3' / RNA 3'->5'
        imm[(rna[::-1] + "/" + dna[::-1]).replace("U", "T")] = (float(h), float(s))
    rng = random.Random(3)
    same = {"A": "A", "C": "C", "G": "G", "T": "U"}
    for _ in range(300):
        n = rng.randint(12, 25)
        aso = rand_dna(rng, n)
        tgt = list(perfect_target(aso))
        p = rng.randint(1, n - 2)  # ASO position (0-based), internal
        tgt[n - 1 - p] = same[aso[p]]  # rA.dA, rC.dC, rG.dG or rU.dT
        tgt = "".join(tgt)
        got = duplex_thermo(aso, tgt)
        assert not got.proxy and got.n_mismatches == 1
        ref = mt.Tm_NN(tgt.replace("U", "T"), c_seq=aso[::-1], nn_table=mt.R_DNA_NN1,
                       imm_table=imm, dnac1=1000, dnac2=1000, Na=1000, saltcorr=5)
        assert got.tm == pytest.approx(ref, abs=0.02)


# ----------------------------------------------------------------------------- model rules

ASO = "GCTACGTAGCATGCATGCAA"


def test_orientations_and_trivial_alignment_agree():
    tgt = perfect_target(ASO)
    a = duplex_thermo(ASO, tgt)
    b = duplex_thermo(ASO, tgt[::-1], target_orientation="3to5")
    c = duplex_thermo(ASO.lower(), tgt.replace("U", "T"))
    assert a.dg37 == b.dg37 == c.dg37
    assert a.tm == b.tm == c.tm


def test_single_target_bulge_costs_exactly_the_bulge_penalty():
    tgt = perfect_target(ASO)
    perfect = duplex_thermo(ASO, tgt)
    # Extra RNA base opposite a gap after ASO position 10.
    bulged = duplex_thermo(ASO[:10] + "-" + ASO[10:], tgt[:10] + "A" + tgt[10:])
    assert bulged.dg37 - perfect.dg37 == pytest.approx(4.0, abs=1e-9)
    assert bulged.dh == pytest.approx(perfect.dh)
    assert bulged.proxy and bulged.n_bulges == 1 and bulged.n_mismatches == 0


def test_two_nt_aso_bulge_and_internal_loop_use_loop_table():
    tgt = perfect_target(ASO)
    # Remove two target bases opposite ASO positions 10-11: a 2-nt bulge on the ASO.
    bot = tgt[::-1]  # 3'->5' under the ASO
    gapped = bot[:9] + "--" + bot[11:]
    r = duplex_thermo(ASO, gapped, target_orientation="3to5")
    top_codes, bot_codes = thermo.encode_aligned(ASO, gapped, target_orientation="3to5")
    p = thermo_tables.hybrid_params()
    core = sum(p.dh[tuple(int(x) for x in (top_codes[i], top_codes[i + 1], bot_codes[i],
                                           bot_codes[i + 1]))] for i in range(19)
               if i not in (8, 9, 10))
    assert r.dh == pytest.approx(core + p.init[0])
    assert r.n_bulges == 2 and r.proxy
    # 2x2 internal loop: two adjacent mismatches.
    swap = {"A": "C", "C": "A", "G": "U", "U": "G"}
    t = list(tgt)
    for j in (9, 10):
        t[j] = swap[t[j]]
    loop = duplex_thermo(ASO, "".join(t))
    assert loop.n_mismatches == 2 and loop.proxy
    assert any("2x2 internal loop" in n for n in loop.notes)


def test_terminal_mismatch_better_of_tmm_and_fraying():
    # GG/CG has a positive dG37 in the compilation: fraying (no term) must win.
    aso = "ACGTTGCAATGCGG"
    tgt = perfect_target(aso)
    bad_end = "G" + tgt[1:]  # RNA 5' base faces the ASO 3'-terminal G: a G.G mismatch
    r = duplex_thermo(aso, bad_end)
    frayed = duplex_thermo(aso[:-1], tgt[1:])
    assert r.dg37 == pytest.approx(frayed.dg37)  # 1 M Na+: salt term is 0 either way
    assert any("frayed" in n for n in r.notes)
    # A stabilising terminal mismatch is used and flagged as a proxy.
    r2 = duplex_thermo(aso, "A" + tgt[1:])
    assert r2.dg37 < frayed.dg37 and r2.proxy


def test_mismatches_destabilise_and_proxy_flag_follows_source():
    rng = random.Random(5)
    for _ in range(200):
        aso = rand_dna(rng, 18)
        tgt = list(perfect_target(aso))
        p = rng.randint(2, 15)
        j = 17 - p
        choice = rng.choice([b for b in "ACGU" if (aso[p], b) not in WC])
        tgt[j] = choice
        r = duplex_thermo(aso, "".join(tgt))
        assert r.dg37 > duplex_thermo(aso, perfect_target(aso)).dg37
        measured = (aso[p], choice) in {("A", "A"), ("C", "C"), ("G", "G"), ("T", "U")}
        assert r.proxy == (not measured)


def test_salt_and_concentration_behaviour():
    tgt = perfect_target(ASO)
    tms = [duplex_thermo(ASO, tgt, na_mm=na).tm for na in (10, 50, 150, 1000)]
    assert tms == sorted(tms)
    mg = [duplex_thermo(ASO, tgt, na_mm=50, mg_mm=m).tm for m in (0.5, 2, 10)]
    assert mg == sorted(mg)
    a = duplex_thermo(ASO, tgt, oligo_nm=1000, target_nm=10)
    b = duplex_thermo(ASO, tgt, oligo_nm=10, target_nm=1000)
    assert a.tm == b.tm
    # Two-state Tm with C_high - C_low/2.
    c = duplex_thermo(ASO, tgt, oligo_nm=1000, target_nm=1000)
    expect = 1000 * c.dh / (c.ds + thermo_tables.R_GAS * math.log(500e-9)) - 273.15
    assert c.tm == pytest.approx(expect)
    # With Mg2+ the reported dS reproduces Tm and dG37 with dH unchanged.
    d = duplex_thermo(ASO, tgt, na_mm=50, mg_mm=2)
    assert 1000 * d.dh / (d.ds + thermo_tables.R_GAS * math.log(500e-9)) - 273.15 == \
        pytest.approx(d.tm)
    assert d.dg37 == pytest.approx(d.dh - T37 * d.ds / 1000)


@pytest.mark.parametrize("kwargs, msg", [
    ({"aso": "GCTAXGTAGCAT"}, "letter 'X'"),
    ({"aso": "GCTACGT", "target": "ACGUAGC"}, "length 7"),
    ({"aso": "A" * 41, "target": "U" * 41}, "length 41"),
    ({"target": "AUGCUACGUAG"}, "differ in length"),
    ({"na_mm": -1}, "negative"),
    ({"na_mm": 0, "mg_mm": 0}, "no cations"),
    ({"oligo_nm": 0}, "oligo_nm"),
    ({"target_nm": float("nan")}, "finite"),
    ({"aso": "GCTACG-TAGCAT", "target": "AUGCUA-CGUAGC"}, "gap opposite a gap"),
    ({"aso": "GGGGGGGGGGGG", "target": "GGGGGGGGGGGG"}, "fewer than two"),
    ({"target_orientation": "up"}, "orientation"),
])
def test_bad_input(kwargs, msg):
    args = {"aso": "GCTACGTAGCAT", "target": "AUGCUACGUAGC"}
    args.update(kwargs)
    with pytest.raises(InputError, match=msg):
        duplex_thermo(args.pop("aso"), args.pop("target"), record="r1", **args)


# ----------------------------------------------------------------------------- batch twin

@st.composite
def duplexes(draw):
    n = draw(st.integers(8, 24))
    aso = draw(st.text("ACGT", min_size=n, max_size=n))
    bot = list(perfect_target(aso)[::-1])
    top = list(aso)
    for _ in range(draw(st.integers(0, 4))):
        j = draw(st.integers(0, n - 1))
        bot[j] = draw(st.sampled_from("ACGU"))
    if draw(st.booleans()):
        j = draw(st.integers(1, n - 2))
        if draw(st.booleans()):
            bot[j] = "-"
        else:
            top.insert(j, "-")
            bot.insert(j, draw(st.sampled_from("ACGU")))
    return "".join(top), "".join(bot)[::-1]


@settings(max_examples=150, deadline=None)
@given(st.lists(duplexes(), min_size=1, max_size=20),
       st.sampled_from([(1000, 0), (50, 0), (50, 2), (0, 5)]))
def test_batch_equals_scalar(items, salt):
    na, mg = salt
    ok = []
    for a, t in items:
        try:
            duplex_thermo(a, t, na_mm=na, mg_mm=mg)
        except InputError:
            continue
        ok.append((a, t))
    if not ok:
        return
    asos, tgts = zip(*ok)
    batch = duplex_thermo_batch(asos, tgts, na_mm=na, mg_mm=mg)
    for i, (a, t) in enumerate(ok):
        s = duplex_thermo(a, t, na_mm=na, mg_mm=mg)
        assert batch.dg37[i] == pytest.approx(s.dg37, abs=1e-9)
        assert batch.tm[i] == pytest.approx(s.tm, abs=1e-9)
        assert batch.dh[i] == pytest.approx(s.dh, abs=1e-9)
        assert batch.proxy[i] == s.proxy
        assert batch.n_mismatches[i] == s.n_mismatches
        assert batch.n_bulges[i] == s.n_bulges


@pytest.mark.parametrize("kind", ["rna", "dna"])
def test_batch_loops_and_terminal_runs_equal_scalar(kind):
    """Runs of 2-4 adjacent mismatches (internal loops) and frayed ends, both parameter sets."""
    rng = random.Random(23)
    asos, tgts = [], []
    for _ in range(400):
        n = rng.randint(12, 30)
        aso = rand_dna(rng, n)
        tgt = list(perfect_target(aso) if kind == "rna" else aso.translate(DNA_COMP)[::-1])
        for _ in range(rng.randint(1, 2)):
            run = rng.randint(2, 4)
            start = rng.randint(0, n - run)
            for j in range(start, start + run):
                tgt[j] = rng.choice([b for b in ("ACGU" if kind == "rna" else "ACGT")
                                     if b != tgt[j]])
        tgt = "".join(tgt)
        try:
            duplex_thermo(aso, tgt, target_kind=kind)
        except InputError:
            continue
        asos.append(aso)
        tgts.append(tgt)
    batch = duplex_thermo_batch(asos, tgts, target_kind=kind, na_mm=100, chunk_size=97)
    loops = 0
    for i, (a, t) in enumerate(zip(asos, tgts)):
        s = duplex_thermo(a, t, target_kind=kind, na_mm=100)
        loops += any("internal loop" in note for note in s.notes)
        assert batch.dg37[i] == pytest.approx(s.dg37, abs=1e-9)
        assert batch.dh[i] == pytest.approx(s.dh, abs=1e-9)
        assert batch.proxy[i] == s.proxy
    assert loops > 100


def test_batch_names_bad_record():
    with pytest.raises(InputError, match="site-2"):
        duplex_thermo_batch(["GCTACGTAGCAT"] * 3,
                            ["AUGCUACGUAGC", "AUGCUACGUAGC", "AUGCUACGUAGZ"],
                            ids=["site-0", "site-1", "site-2"])
