"""Variant-aware search on hand-made cases: every column checked against values worked
out by hand (the brute-force comparison lives in test_variant_search_bruteforce.py)."""

from __future__ import annotations

import random

import pyarrow as pa
import pytest

from pmcore.errors import InputError
from pmcore.genome import GenomeStore, build_store
from pmcore.guides import GuideRecord
from pmcore.nucleases import resolve_nuclease
from pmcore.scoring import cfd_score, mit_score
from pmcore.variant_schemas import VARIANT_HITS_SCHEMA
from pmcore.variant_search import search_with_variants

GUIDE = "GACGTTACCGATGCATGCAA"
NUC = resolve_nuclease("SpCas9")
HEAD = "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO"


def background(seed, n):
    rng = random.Random(seed)
    return "".join(rng.choice("ACGT") for _ in range(n))


# chr1: the guide's perfect site + AGG at 100..123 (0-based); a 1-mismatch site with a
# dead PAM (AGC) at 200..223 that a PAM variant revives
SEQ = list(background(7, 320))
SEQ[100:123] = GUIDE + "AGG"
SEQ[200:223] = GUIDE[:5] + "A" + GUIDE[6:] + "AGC"
CHR1 = "".join(SEQ)


@pytest.fixture()
def store(tmp_path):
    fa = tmp_path / "g.fa"
    fa.write_text(f">chr1\n{CHR1}\n>chr2\n{background(8, 200)}\n")
    build_store(fa, tmp_path / "g.pmg")
    with GenomeStore(tmp_path / "g.pmg") as st:
        yield st


def write(tmp_path, body, samples=(), name="v.vcf"):
    head = HEAD + ("\tFORMAT\t" + "\t".join(samples) if samples else "")
    path = tmp_path / name
    path.write_text(head + "\n" + body)
    return path


def run(store, paths, **kw):
    kw.setdefault("mismatches", 2)
    return search_with_variants(store, [GuideRecord("g1", GUIDE, 1)], NUC, paths, **kw)


def rows(table, **match):
    return [r for r in table.to_pylist() if all(r[k] == v for k, v in match.items())]


def vline(pos0, ref, alt, vid, info=".", gts=()):
    cols = ["chr1", str(pos0 + 1), vid, ref, alt, ".", ".", info]
    if gts:
        cols += ["GT", *gts]
    return "\t".join(cols) + "\n"


def test_snvs_change_remove_and_create_sites(tmp_path, store):
    mm_pos = 100 + 3  # guide C -> A inside the perfect site: one mismatch
    body = (vline(mm_pos, CHR1[mm_pos], "A", "rsMM", "AF=0.3")
            + vline(121, "G", "T", "rsPAM", "AF=0.01")  # AGG -> ATG: PAM gone
            + vline(221, "G", "T", "rsNEW", "AF=0.2"))  # AGC -> ATC: still no PAM
    body += vline(222, "C", "G", "rsNEW2", "AF=0.4")  # AGC -> AGG: PAM born
    t = run(store, write(tmp_path, body))
    assert t.schema == VARIANT_HITS_SCHEMA
    site = rows(t, start=100, end=123, bulge_type="X")
    by_var = {tuple(r["variant_ids"]): r for r in site}
    assert set(by_var) == {("rsMM",), ("rsPAM",)}
    mm = by_var[("rsMM",)]
    assert mm["presence"] == "both" and mm["mismatches"] == 0
    alt_site = GUIDE[:3] + "a" + GUIDE[4:] + "AGG"
    assert (mm["alt_site"], mm["alt_mismatches"], mm["alt_pam"]) == (alt_site, 1, "AGG")
    assert (mm["alt_start"], mm["alt_end"]) == (100, 123)
    assert mm["allele_frequency"] == [0.3] and mm["genotype"] == [None]
    assert mm["sample"] is None and mm["haplotype"] is None and mm["vcf"] == "v.vcf"
    assert mm["alt_cfd"] == pytest.approx(cfd_score(GUIDE, alt_site.upper()))
    assert mm["alt_mit"] == pytest.approx(mit_score(GUIDE, alt_site.upper()))
    gone = by_var[("rsPAM",)]
    assert gone["presence"] == "reference" and gone["alt_site"] is None
    assert gone["alt_cfd"] is None
    born = rows(t, start=200, end=223, presence="alternative")
    assert len(born) == 1 and born[0]["variant_ids"] == ["rsNEW2"]
    assert born[0]["site"] == born[0]["alt_site"] == GUIDE[:5] + "a" + GUIDE[6:] + "AGG"
    assert born[0]["mismatches"] == 1 and born[0]["pam"] == "AGG"
    assert not rows(t, start=200, end=223, presence="both")
    # no variant touches the reverse-strand / other sites: reported once, presence both
    for r in t.to_pylist():
        if not r["variant_ids"]:
            assert r["presence"] == "both" and r["vcf"] is None


def test_insertion_and_deletion_coordinates(tmp_path, store):
    # insert 'T' after site base 109 (between guide positions 9 and 10): the perfect site
    # becomes a DNA-bulge site; delete guide base 14 (0-based pos 114): an RNA-bulge site
    body = (vline(109, CHR1[109], CHR1[109] + "T", "ins1")
            + vline(113, CHR1[113:115], CHR1[113], "del1"))
    t = run(store, write(tmp_path, body), dna_bulges=1, rna_bulges=1, mismatches=0)
    ref_x = rows(t, start=100, end=123, bulge_type="X")
    assert {(r["presence"], tuple(r["variant_ids"])) for r in ref_x} == {
        ("reference", ("ins1",)), ("reference", ("del1",))}
    ins = rows(t, presence="alternative", variant_ids=["ins1"], bulge_type="DNA")
    assert len(ins) == 1
    # 24 haplotype bases at 100..124; on the reference the site still spans 100..123
    assert (ins[0]["start"], ins[0]["end"]) == (100, 123)
    assert (ins[0]["alt_start"], ins[0]["alt_end"]) == (100, 124)
    assert ins[0]["alt_site"].replace("-", "").upper() == (GUIDE[:10] + "T" + GUIDE[10:]
                                                            + "AGG")
    dele = rows(t, presence="alternative", variant_ids=["del1"], bulge_type="RNA")
    assert len(dele) == 1
    # 22 haplotype bases at 100..122; on the reference the site covers the deleted base
    assert (dele[0]["start"], dele[0]["end"]) == (100, 123)
    assert (dele[0]["alt_start"], dele[0]["alt_end"]) == (100, 122)
    assert dele[0]["alt_site"].replace("-", "") == GUIDE[:14] + GUIDE[15:] + "AGG"


def test_phased_unphased_and_homozygous_genotypes(tmp_path, store):
    a, b = 100 + 2, 100 + 6  # two mismatches in the perfect site, one each
    alt = {a: "T" if CHR1[a] != "T" else "A", b: "T" if CHR1[b] != "T" else "A"}
    # S1: both on haplotype 2 (phased) -> one row with 2 mismatches; S2: unphased het ->
    # each alone; S3: homozygous unphased -> haplotypes 1 and 2 identical, one row '1,2'
    body = (vline(a, CHR1[a], alt[a], "va", gts=("0|1", "0/1", "1/1"))
            + vline(b, CHR1[b], alt[b], "vb", gts=("0|1", "1/0", "0/0")))
    t = run(store, write(tmp_path, body, ("S1", "S2", "S3")), mismatches=2)
    s1 = rows(t, sample="S1", start=100, end=123, bulge_type="X")
    assert len(s1) == 1
    assert (s1[0]["haplotype"], s1[0]["variant_ids"], s1[0]["genotype"]) == (
        "2", ["va", "vb"], ["0|1", "0|1"])
    assert s1[0]["alt_mismatches"] == 2 and s1[0]["presence"] == "both"
    s2 = rows(t, sample="S2", start=100, end=123, bulge_type="X")
    assert sorted((r["haplotype"], tuple(r["variant_ids"]), tuple(r["genotype"]),
                   r["alt_mismatches"]) for r in s2) == [
        (None, ("va",), ("0/1",), 1), (None, ("vb",), ("1/0",), 1)]
    s3 = rows(t, sample="S3", start=100, end=123, bulge_type="X")
    assert [(r["haplotype"], r["variant_ids"], r["genotype"]) for r in s3] == [
        ("1,2", ["va"], ["1/1"])]
    # samples= restricts; with 1 mismatch allowed S1's haplotype 2 loses the site
    t = run(store, write(tmp_path, body, ("S1", "S2", "S3")), mismatches=1, samples=["S1"])
    assert {r["sample"] for r in t.to_pylist()} <= {"S1", None}
    s1 = rows(t, sample="S1", start=100, end=123, bulge_type="X")
    assert [(r["presence"], r["haplotype"]) for r in s1] == [("reference", "2")]


def test_overlapping_variants_on_one_haplotype_warn(tmp_path, store):
    body = (vline(104, CHR1[104:107], CHR1[104], "del", gts=("1|0",))
            + vline(105, CHR1[105], "A" if CHR1[105] != "A" else "C", "snv", gts=("1|0",)))
    warnings = []
    t = run(store, write(tmp_path, body, ("S1",)), warnings=warnings)
    assert any("snv overlaps del" in w for w in warnings)
    assert all("snv" not in r["variant_ids"] for r in t.to_pylist())


def test_several_files_and_chromosome_aliases(tmp_path, store):
    mm_pos = 100 + 3
    pop = write(tmp_path, vline(mm_pos, CHR1[mm_pos], "A", "p1", "AF=0.3"), name="pop.vcf")
    pat = write(tmp_path, vline(121, "G", "T", "x1", gts=("0|1",)).replace("chr1", "1"),
                ("P",), name="patient.vcf")
    with pytest.raises(InputError) as err:
        run(store, [pop, pat])
    assert err.value.path == str(pat) and err.value.line == 3
    assert "did you mean 'chr1'" in str(err.value)
    alias = tmp_path / "alias.tsv"
    alias.write_text("1\tchr1\n")
    t = run(store, [pop, pat], chrom_alias=str(alias))
    site = rows(t, start=100, end=123, bulge_type="X")
    assert {(r["vcf"], r["presence"], tuple(r["variant_ids"])) for r in site} == {
        ("pop.vcf", "both", ("p1",)), ("patient.vcf", "reference", ("x1",))}
    t2 = run(store, [pop, pat], chrom_alias={"1": "chr1"})
    assert t2.equals(t)


def test_ref_mismatch_is_an_error(tmp_path, store):
    wrong = "A" if CHR1[150] != "A" else "C"
    path = write(tmp_path, vline(150, wrong, "G", "rsBad"))
    with pytest.raises(InputError) as err:
        run(store, path)
    assert (err.value.line, err.value.record) == (3, "rsBad")
    assert "does not match the genome" in err.value.reason


def test_samples_option(tmp_path, store):
    mm_pos = 100 + 3
    path = write(tmp_path, vline(mm_pos, CHR1[mm_pos], "A", "p1", "AF=0.3", ("0|0", "1|0")),
                 ("S1", "S2"))
    t = run(store, path)
    assert [(r["sample"], r["haplotype"]) for r in rows(t, start=100, end=123,
                                                        bulge_type="X")] == [("S2", "1")]
    # no samples: genotypes ignored, the allele applied alone (population view)
    t = run(store, path, samples=[])
    got = rows(t, start=100, end=123, bulge_type="X")
    assert [(r["sample"], r["haplotype"], r["genotype"], r["allele_frequency"])
            for r in got] == [(None, None, [None], [0.3])]
    with pytest.raises(InputError, match="sample.s. S9 not in any VCF"):
        run(store, path, samples=["S9"])


def test_table_scores_like_any_hits_table(tmp_path, store):
    from pmcore.scoring import score_hits

    mm_pos = 100 + 3
    t = run(store, write(tmp_path, vline(mm_pos, CHR1[mm_pos], "A", "p1", "AF=0.3")
                         + vline(222, "C", "G", "born")))
    scored = score_hits(t)
    assert scored.height == t.num_rows
    assert "presence" in scored.columns and "cfd" in scored.columns
    born = scored.filter(scored["presence"] == "alternative").row(0, named=True)
    # an alternative row's own columns are the haplotype's site: cfd equals alt_cfd
    assert born["cfd"] == pytest.approx(born["alt_cfd"])


def test_text_view_writes_as_tsv(tmp_path, store):
    import polars as pl

    from pmcore.variant_search import for_text

    mm_pos = 100 + 3
    t = run(store, write(tmp_path, vline(mm_pos, CHR1[mm_pos], "A", "p1", "AF=0.3")))
    text = for_text(t)
    assert text.column_names == t.column_names
    tsv = pl.from_arrow(text).write_csv(separator="\t")
    row = next(r for r in text.to_pylist() if r["variant_ids"] == "p1")
    assert (row["genotype"], row["allele_frequency"]) == (".", "0.3")
    assert "\tp1\t" in tsv
    batch = for_text(t.to_batches()[0])
    assert isinstance(batch, pa.RecordBatch) and batch.schema == text.schema


def test_samples_without_gt_fall_back_to_alleles_alone(tmp_path, store):
    mm_pos = 100 + 3
    body = "\t".join(["chr1", str(mm_pos + 1), "p1", CHR1[mm_pos], "A", ".", ".", ".", "DP",
                      "12"]) + "\n"
    warnings = []
    t = run(store, write(tmp_path, body, ("S1",)), warnings=warnings)
    assert any("no GT field" in w for w in warnings)
    got = rows(t, start=100, end=123, bulge_type="X", presence="both")
    assert [(r["sample"], r["variant_ids"]) for r in got] == [(None, ["p1"])]


def test_cohort_file_without_the_requested_sample_is_a_population_file(tmp_path, store):
    mm_pos = 100 + 3
    patient = write(tmp_path, vline(121, "G", "T", "x1", gts=("0|1",)), ("P1",),
                    name="patient.vcf")
    cohort = write(tmp_path, vline(mm_pos, CHR1[mm_pos], "A", "c1", "AF=0.2",
                                   ("0|0", "0|0")), ("K1", "K2"), name="cohort.vcf")
    warnings = []
    t = run(store, [patient, cohort], samples=["P1"], warnings=warnings)
    got = {(r["vcf"], r["sample"], r["haplotype"], tuple(r["variant_ids"]), r["presence"])
           for r in rows(t, start=100, end=123, bulge_type="X")}
    assert got == {("patient.vcf", "P1", "2", ("x1",), "reference"),
                   ("cohort.vcf", None, None, ("c1",), "both")}
    assert any("none of the requested samples" in w for w in warnings)


def test_reference_hits_given_are_not_scanned_again(tmp_path, store, monkeypatch):
    from pmcore import variant_search
    from pmcore.offtarget import GuideSearch

    body = vline(103, CHR1[103], "A", "rsMM", "AF=0.3") + vline(222, "C", "G", "rsNEW2", "AF=0.4")
    path = write(tmp_path, body)
    plain = run(store, path)
    ref = pa.Table.from_batches(list(GuideSearch(store, [GuideRecord("g1", GUIDE, 1)], NUC,
                                                 mismatches=2).batches()))
    scans = []
    real = variant_search.GuideSearch

    def counting(st, records, *a, **kw):
        scans.append(st is store)
        return real(st, records, *a, **kw)

    monkeypatch.setattr(variant_search, "GuideSearch", counting)
    given = run(store, path, reference_hits=ref)
    assert given.equals(plain)
    assert True not in scans  # only haplotype stores were scanned
    assert scans  # ... and they were
    with pytest.raises(InputError, match="schema"):
        run(store, path, reference_hits=ref.drop_columns(["mismatches"]))
