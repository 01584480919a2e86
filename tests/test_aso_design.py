"""ASO design parsing (gapmer patterns, chemistry codes, inline marks) and mismatch locations."""

from __future__ import annotations

import pytest

from pmcore.aso_design import (
    REGION_GAP,
    REGION_NONE,
    REGION_WING3,
    REGION_WING5,
    classify_positions,
    parse_aso,
    region_counts,
)
from pmcore.errors import InputError

SEQ = "GCTACGTAGCATGCATGCAA"


def test_gapmer_pattern_regions_and_ends():
    d = parse_aso(SEQ.lower(), "5-10-5", aso_id="a1")
    assert d.sequence == SEQ and d.is_gapmer
    assert (d.wing5, d.gap, d.wing3) == (5, 10, 5)
    assert d.chemistry == "xxxxx" + "d" * 10 + "xxxxx"
    regions = d.regions().tolist()
    assert regions == [REGION_WING5] * 5 + [REGION_GAP] * 10 + [REGION_WING3] * 5
    assert [d.region(p) for p in (1, 5, 6, 15, 16, 20)] == \
        ["wing5", "wing5", "gap", "gap", "wing3", "wing3"]
    assert [d.near_end(p) for p in (1, 2, 3, 18, 19, 20)] == \
        [True, True, False, False, True, True]


def test_wing_chemistry_names():
    assert parse_aso(SEQ, "5-10-5 MOE").chemistry[:5] == "eeeee"
    assert parse_aso(SEQ, "3-14-3:LNA").chemistry[:3] == "lll"
    assert parse_aso(SEQ, "3-14-3 cEt").chemistry[-3:] == "kkk"


def test_per_position_chemistry_and_fully_modified():
    d = parse_aso(SEQ, "eeeedddddddddddeeeee")
    assert (d.wing5, d.gap, d.wing3) == (4, 11, 5)
    full = parse_aso(SEQ, "e" * 20)
    assert not full.is_gapmer
    assert set(full.regions().tolist()) == {REGION_NONE}


def test_inline_lna_and_phosphorothioate():
    d = parse_aso("+G*+C*+T*A*C*G*T*A*G*C*A*T*G*C*A*T*G*+C*+A*+A", aso_id="x")
    assert d.sequence == SEQ
    assert d.chemistry == "lll" + "d" * 14 + "lll"
    assert (d.wing5, d.gap, d.wing3) == (3, 14, 3)
    assert d.phosphorothioate == "s" * 19
    # U is read as T; no design means no regions.
    plain = parse_aso(SEQ.replace("T", "U"))
    assert plain.sequence == SEQ and not plain.is_gapmer


def test_classify_positions():
    d = parse_aso(SEQ, "5-10-5")
    locs = classify_positions(d, [1, 4, 8, 16, 20])
    assert [loc.region for loc in locs] == ["wing5", "wing5", "gap", "wing3", "wing3"]
    assert [loc.near_end for loc in locs] == [True, False, False, False, True]
    assert [loc.label for loc in locs] == ["end", "wing", "gap", "wing", "end"]
    assert region_counts(d, [1, 4, 8, 16, 20]) == {"gap": 1, "wing": 4, "end": 2}
    with pytest.raises(ValueError):
        classify_positions(d, [21])


@pytest.mark.parametrize("seq, pattern, needle", [
    ("GCTACGTAGCATGCATGCAX", None, "letter 'X'"),
    ("GCTACGTAGCATGC#TGCAA", None, "unexpected character '#'"),
    ("GCTACGT", None, "length 7"),
    ("A" * 41, None, "length 41"),
    (SEQ, "5-10-4", "covers 19"),
    (SEQ, "5-10-6", "covers 21"),
    (SEQ, "10-0-10", "no gap"),
    (SEQ, "5-10-5 XNA", "unknown wing chemistry"),
    (SEQ, "eeeedd", "neither a gapmer"),
    ("GCTACGTAGCATGCATGCA*", None, "ends with a linkage"),
    ("", None, "empty"),
])
def test_bad_designs_name_the_record(seq, pattern, needle):
    with pytest.raises(InputError, match=needle) as info:
        parse_aso(seq, pattern, aso_id="aso-7")
    assert info.value.record == "aso-7"
    assert "aso-7" in str(info.value)
