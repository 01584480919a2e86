"""VCF reader: parsing, normalisation, genotypes, and bad input (file, line, reason)."""

from __future__ import annotations

import gzip

import pytest

from pmcore.chroms import ChromMap
from pmcore.errors import InputError
from pmcore.genome import GenomeStore, build_store
from pmcore.vcf import normalise, read_vcf

GENOME = {"chr1": "ACGTACGTAC" * 10, "chr2": "TTGGCCAAGG" * 5}
HEAD = "##fileformat=VCFv4.2\n##contig=<ID=chr1>\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO"


@pytest.fixture()
def store(tmp_path):
    fa = tmp_path / "g.fa"
    fa.write_text("".join(f">{k}\n{v}\n" for k, v in GENOME.items()))
    build_store(fa, tmp_path / "g.pmg")
    with GenomeStore(tmp_path / "g.pmg") as st:
        yield st


def vcf(tmp_path, body, head=HEAD, name="v.vcf", gz=False):
    text = head + "\n" + body.strip("\n") + "\n"
    path = tmp_path / (name + (".gz" if gz else ""))
    if gz:
        with gzip.open(path, "wt") as fh:
            fh.write(text)
    else:
        path.write_text(text)
    return path


def cmap(aliases=None):
    return ChromMap(list(GENOME), aliases)


@pytest.mark.parametrize("pos,ref,alt,want", [
    (9, "A", "G", (9, "A", "G")),
    (9, "ACG", "ATG", (10, "C", "T")),  # MNV written with shared flanks
    (9, "A", "ATT", (10, "", "TT")),  # insertion after the anchor base
    (9, "ACG", "A", (10, "CG", "")),  # deletion after the anchor base
    (9, "AC", "GTT", (9, "AC", "GTT")),  # complex
    (9, "CAAA", "CAA", (10, "A", "")),  # homopolymer deletion: trimmed from the right first
])
def test_normalise(pos, ref, alt, want):
    assert normalise(pos, ref, alt) == want


def test_sites_only_file_multiallelic_af_and_gzip(tmp_path, store):
    # chr1 1-based 5 is 'A' (ACGTACGTAC...), 15..17 'ACG'
    body = ("chr1\t5\trs1\tA\tG,T\t.\tPASS\tDP=3;AF=0.25,0.05\n"
            "chr1\t15\t.\tACG\tA\t.\t.\t.\n"
            "chr2\t3\tins\tG\tGAAA\t.\t.\tAF=0.5\n")
    for gz in (False, True):
        data = read_vcf(vcf(tmp_path, body, gz=gz), cmap(), store=store)
        vs = data.variants
        assert data.samples == []
        assert [(v.chrom, v.pos, v.ref, v.alt, v.allele, v.af, v.id) for v in vs] == [
            ("chr1", 4, "A", "G", 1, 0.25, "rs1:G"),
            ("chr1", 4, "A", "T", 2, 0.05, "rs1:T"),
            ("chr1", 15, "CG", "", 1, None, "chr1:15:ACG:A"),
            ("chr2", 3, "", "AAA", 1, 0.5, "ins"),
        ]
        assert [v.line for v in vs] == [4, 4, 5, 6]


def test_genotypes_phased_unphased_haploid_missing(tmp_path, store):
    head = HEAD + "\tFORMAT\tS1\tS2"
    body = ("chr1\t5\ta\tA\tG\t.\t.\t.\tGT:DP\t0|1:9\t1/1\n"
            "chr1\t11\tb\tA\tC,T\t.\t.\t.\tGT\t1/2\t.\n"
            "chr1\t21\tc\tA\tC\t.\t.\t.\tGT\t1\t./.\n")
    data = read_vcf(vcf(tmp_path, body, head), cmap(), store=store)
    assert data.samples == ["S1", "S2"]
    c = [[(x.alleles, x.phased, x.text) for x in r.calls] for r in data.records]
    assert c[0] == [((0, 1), True, "0|1"), ((1, 1), False, "1/1")]
    assert c[1] == [((1, 2), False, "1/2"), ((None,), True, ".")]
    assert c[2] == [((1,), True, "1"), ((None, None), False, "./.")]


def test_skipped_alleles_warn(tmp_path, store):
    body = ("chr1\t5\tsv\tA\t<DEL>\t.\t.\t.\n"
            "chr1\t5\tstar\tA\t*,G\t.\t.\t.\n"
            "chr1\t5\tbnd\tA\tA]chr2:4]\t.\t.\t.\n"
            "chr1\t5\tnone\tA\t.\t.\t.\t.\n"
            "chr1\t5\tsame\tA\tA\t.\t.\t.\n"
            "chr1\t1\tbig\tA\tA" + "C" * 60 + "\t.\t.\t.\n")
    data = read_vcf(vcf(tmp_path, body), cmap(), store=store)
    assert [v.id for v in data.variants] == ["star:G"]
    assert len(data.warnings) == 6
    assert all(w.startswith(str(tmp_path / "v.vcf") + ":") for w in data.warnings)
    assert "changes more than 50 bases" in data.warnings[-1]


@pytest.mark.parametrize("body,line,reason", [
    ("chr1\t5\tx\tA\n", 4, "needs at least 8"),
    ("chr1\tfive\tx\tA\tG\t.\t.\t.\n", 4, "POS 'five' is not a positive integer"),
    ("chr1\t0\tx\tA\tG\t.\t.\t.\n", 4, "POS '0'"),
    ("chr1\t5\tx\tA\tG\t.\t.\t.\nchr1\t6\tx\tAZ\tG\t.\t.\t.\n", 5, "REF 'AZ' has letters"),
    ("chr1\t5\tx\tA\tGQ\t.\t.\t.\n", 4, "ALT allele 'GQ'"),
    ("chr1\t5\tx\tA\t\t.\t.\t.\n", 4, "ALT is empty"),
])
def test_malformed_records_name_file_line_reason(tmp_path, store, body, line, reason):
    path = vcf(tmp_path, body)
    with pytest.raises(InputError) as err:
        read_vcf(path, cmap(), store=store)
    assert err.value.path == str(path)
    assert err.value.line == line
    assert reason in err.value.reason
    assert str(err.value).startswith(f"{path}:{line}: ")


def test_bad_genotypes_and_sample_columns(tmp_path, store):
    head = HEAD + "\tFORMAT\tS1"
    with pytest.raises(InputError, match=r"names allele 2 but ALT has 1") as err:
        read_vcf(vcf(tmp_path, "chr1\t5\tx\tA\tG\t.\t.\t.\tGT\t0|2\n", head), cmap(),
                 store=store)
    assert err.value.line == 4
    with pytest.raises(InputError, match="not a GT value"):
        read_vcf(vcf(tmp_path, "chr1\t5\tx\tA\tG\t.\t.\t.\tGT\tA|B\n", head), cmap())
    with pytest.raises(InputError, match=r"1 sample\(s\), so 10 are expected"):
        read_vcf(vcf(tmp_path, "chr1\t5\tx\tA\tG\t.\t.\t.\tGT\t0|1\t1|1\n", head), cmap())


def test_header_problems(tmp_path):
    p = tmp_path / "nohead.vcf"
    p.write_text("chr1\t5\tx\tA\tG\t.\t.\t.\n")
    with pytest.raises(InputError, match="before the '#CHROM' header") as err:
        read_vcf(p, cmap())
    assert err.value.line == 1
    p.write_text("##fileformat=VCFv4.2\n")
    with pytest.raises(InputError, match="no '#CHROM' header"):
        read_vcf(p, cmap())
    p.write_text("#CHROM POS ID REF ALT QUAL FILTER INFO\n")
    with pytest.raises(InputError, match="tab-separated"):
        read_vcf(p, cmap())


def test_ref_mismatch_names_the_record(tmp_path, store):
    # chr1 1-based 6 is 'C'
    path = vcf(tmp_path, "chr1\t5\tok\tA\tG\t.\t.\t.\nchr1\t6\trs99\tG\tT\t.\t.\t.\n")
    with pytest.raises(InputError) as err:
        read_vcf(path, cmap(), store=store)
    e = err.value
    assert (e.path, e.line, e.record) == (str(path), 5, "rs99")
    assert "REF G of record chr1:6 does not match the genome (C at chr1:6)" in e.reason
    # without an ID the record is named by its position; N in REF matches anything
    path = vcf(tmp_path, "chr1\t6\t.\tN\tT\t.\t.\t.\nchr1\t7\t.\tT\tA\t.\t.\t.\n")
    with pytest.raises(InputError) as err:
        read_vcf(path, cmap(), store=store)
    assert (err.value.line, err.value.record) == (5, "chr1:7")
    path = vcf(tmp_path, "chr2\t49\t.\tGGA\tG\t.\t.\t.\n")
    with pytest.raises(InputError, match="runs past the end of contig 'chr2'"):
        read_vcf(path, cmap(), store=store)


def test_chromosome_names_suggestion_alias_and_missing(tmp_path, store):
    path = vcf(tmp_path, "chr1\t5\ta\tA\tG\t.\t.\t.\n1\t5\tb\tA\tG\t.\t.\t.\n")
    with pytest.raises(InputError) as err:
        read_vcf(path, cmap(), store=store)
    assert err.value.line == 5
    assert "did you mean 'chr1'" in err.value.reason
    assert "--chrom-alias" in err.value.reason
    data = read_vcf(path, cmap({"1": "chr1"}), store=store)
    assert [(v.chrom, v.id) for v in data.variants] == [("chr1", "a"), ("chr1", "b")]
    # a contig the genome lacks entirely is skipped with a warning...
    path = vcf(tmp_path, "chr1\t5\ta\tA\tG\t.\t.\t.\nscaffold9\t5\tb\tA\tG\t.\t.\t.\n")
    data = read_vcf(path, cmap(), store=store)
    assert [v.id for v in data.variants] == ["a"]
    assert "scaffold9" in data.warnings[0] and ":5:" in data.warnings[0]
    # ...unless no record maps at all
    path = vcf(tmp_path, "scaffold9\t5\tb\tA\tG\t.\t.\t.\n")
    with pytest.raises(InputError, match="scaffold9"):
        read_vcf(path, cmap(), store=store)
