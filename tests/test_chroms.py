"""Chromosome-name reconciliation: suggestions, alias files, errors."""

from __future__ import annotations

import pytest

from pmcore.chroms import ChromMap, read_alias_file, suggest
from pmcore.errors import InputError

UCSC = ["chr1", "chr2", "chrX", "chrM"]
ENSEMBL = ["1", "2", "X", "MT"]


@pytest.mark.parametrize("name,known,expect", [
    ("1", UCSC, "chr1"),
    ("chr1", ENSEMBL, "1"),
    ("MT", UCSC, "chrM"),
    ("chrM", ENSEMBL, "MT"),
    ("M", ENSEMBL, "MT"),
    ("chrx", UCSC, "chrX"),
    ("x", ENSEMBL, "X"),
    ("Chr2", ENSEMBL, "2"),
    ("scaffold_1", UCSC, None),
    ("chr1", UCSC, None),  # already known: nothing to suggest
])
def test_suggest(name, known, expect):
    assert suggest(name, known) == expect


def test_alias_groups_either_direction(tmp_path):
    p = tmp_path / "alias.tsv"
    p.write_text("# ucsc\tensembl\tgenbank\n"
                 "chr1\t1\tCM000663.2\n"
                 "MT\tchrM\n"
                 "chr9\t9\n"          # not in the genome: ignored
                 "\n")
    groups = read_alias_file(p)
    assert groups[0] == ["chr1", "1", "CM000663.2"]
    cm = ChromMap.from_alias_file(ENSEMBL, p)
    assert cm.get("chr1") == "1" and cm.get("CM000663.2") == "1"
    assert cm.get("chrM") == "MT" and cm.get("X") == "X"
    assert cm.get("chr9") is None and cm.get("9") is None


def test_alias_errors(tmp_path):
    p = tmp_path / "alias.tsv"
    p.write_text("chr1\t1\nlonely\n")
    with pytest.raises(InputError, match="at least two names") as err:
        read_alias_file(p)
    assert err.value.line == 2
    with pytest.raises(InputError, match="several genome contigs"):
        ChromMap(["1", "chr1"], [["1", "chr1"]])


def test_resolve_and_reconcile():
    cm = ChromMap(UCSC)
    assert cm.resolve("chrX") == "chrX"
    with pytest.raises(InputError) as err:
        cm.resolve("X", what="VCF", path="v.vcf", line=12)
    msg = str(err.value)
    assert msg.startswith("v.vcf:12")
    assert "did you mean 'chrX'" in msg and "--chrom-alias" in msg and "X<TAB>chrX" in msg
    # extra contigs absent from the genome are dropped; spelling mismatches are not
    assert cm.reconcile(["chr1", "chr7", "chrUn_gl000220"], what="GTF") == {"chr1": "chr1"}
    with pytest.raises(InputError, match="'chr7' of the GTF is not in the genome"):
        cm.reconcile(["chr1", "chr7"], what="GTF", allow_missing=False)
    with pytest.raises(InputError, match="did you mean 'chr2'") as err:
        cm.reconcile(["chr1", "2"], what="GTF", path="a.gtf", lines={"2": 40})
    assert err.value.line == 40
    with pytest.raises(InputError, match="none of the 2 chromosome names"):
        cm.reconcile(["NC_000001.11", "NC_000002.12"], what="GTF")
    assert ChromMap(UCSC, {"NC_000001.11": "chr1"}).reconcile(["NC_000001.11"]) == {
        "NC_000001.11": "chr1"}
