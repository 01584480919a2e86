"""BED user regions: parsing, bad input, and flagging against brute force."""

from __future__ import annotations

import gzip
import io

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pmcore.errors import InputError
from pmcore.regions import RegionSet, read_bed


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["a", "b"]), st.integers(0, 300),
                          st.integers(0, 120), st.sampled_from(["TP53", "MYC", "KRAS", "."])),
                max_size=25),
       st.lists(st.tuples(st.sampled_from(["a", "b", "z"]), st.integers(0, 400),
                          st.integers(0, 30)), max_size=30))
def test_flag_matches_brute_force(regions, sites):
    bed = "".join(f"{c}\t{s}\t{s + ln}\t{n}\n" for c, s, ln, n in regions)
    rs = RegionSet.from_bed(io.StringIO(bed))
    chrom = np.array([c for c, _, _ in sites], dtype=object)
    start = np.array([s for _, s, _ in sites], dtype=np.int64)
    end = start + np.array([ln for _, _, ln in sites], dtype=np.int64)
    got = rs.flag(chrom, start, end).tolist()
    for i, (c, s, e) in enumerate(zip(chrom, start, end)):
        names = sorted({n if n != "." else f"{rc}:{rs_}-{rs_ + ln}"
                        for rc, rs_, ln, n in regions
                        if rc == c and rs_ < e and s < rs_ + ln})
        assert got[i] == (",".join(names) if names else None)


def test_bed_variants(tmp_path):
    text = ("browser position chr1:1-100\n"
            "track name=onco description=\"oncogenes\"\n"
            "# comment\n\n"
            "chr1\t100\t200\tMYC\t0\t+\textra\tcols\n"
            "chr1 300 400\n"          # whitespace-separated, 3 columns
            "chr2\t5\t5\tINS\t0\t.\n")  # zero-length point
    p = tmp_path / "r.bed.gz"
    with gzip.open(p, "wt") as fh:
        fh.write(text)
    rs = RegionSet.from_bed(p)
    assert len(rs) == 3 and rs.chroms == ["chr1", "chr2"]
    assert rs.flag("chr1", [150, 350, 250], [151, 351, 260]).tolist() == [
        "MYC", "chr1:300-400", None]
    # a zero-length region is hit by a site that strictly contains its position
    assert rs.flag("chr2", [4, 5, 0], [6, 9, 5]).tolist() == ["INS", None, None]
    labelled = read_bed(io.StringIO("c\t1\t2\tX\n"), label="onco")
    assert labelled[3] == ["onco:X"]


def test_from_beds_and_rename(tmp_path):
    a = tmp_path / "a.bed"
    b = tmp_path / "b.bed"
    a.write_text("1\t10\t20\tA\n")
    b.write_text("1\t15\t25\tB\nGL1\t1\t5\tC\n")
    rs = RegionSet.from_beds([a, b])
    assert rs.flag("1", [16], [17]).tolist() == ["A,B"]
    with pytest.raises(InputError, match="did you mean 'chr1'"):
        rs.for_genome({"chr1": 100})
    fixed = rs.for_genome({"chr1": 100}, chrom_alias={"1": "chr1"})
    assert fixed.chroms == ["chr1"] and len(fixed) == 2
    assert fixed.flag("chr1", [16], [17]).tolist() == ["A,B"]
    with pytest.raises(InputError, match="beyond the length 22"):
        rs.for_genome({"chr1": 22}, chrom_alias={"1": "chr1"})


@pytest.mark.parametrize("line,reason", [
    ("chr1\t10", "at least 3 columns"),
    ("chr1\tx\t20", "not integers"),
    ("chr1\t30\t20", "0 <= start <= end"),
    ("chr1\t-1\t20", "0 <= start <= end"),
    ("chr1\t1\t20\tn\t0\tx", "strand 'x'"),
])
def test_bad_bed_lines(tmp_path, line, reason):
    p = tmp_path / "bad.bed"
    p.write_text("track name=x\nchr1\t1\t2\tok\n" + line + "\n")
    with pytest.raises(InputError, match=reason) as err:
        RegionSet.from_bed(p)
    assert err.value.line == 3 and err.value.path == str(p)


def test_empty_region_set():
    rs = RegionSet.from_bed(io.StringIO("# nothing\n"))
    assert len(rs) == 0
    assert rs.flag(np.array(["a"], dtype=object), [0], [5]).tolist() == [None]
