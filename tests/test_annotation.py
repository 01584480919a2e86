"""Gene models from GTF / GFF3 and site annotation, checked against a per-base brute force."""

from __future__ import annotations

import gzip
import io

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pmcore.annotation import (
    GeneModel,
    annotate_hits,
    read_annotation,
    read_gff3,
    read_gtf,
    revcomp,
    synthetic_gtf,
)
from pmcore.annotation_schemas import ANNOTATION_POLARS_SCHEMA, ANNOTATION_SCHEMA
from pmcore.errors import InputError
from pmcore.regions import RegionSet

SEVERITY = {"CDS": 5, "UTR": 4, "noncoding_exon": 3, "intron": 2, "promoter": 1,
            "intergenic": 0}


# ----------------------------------------------------------------- a random truth model
def random_model(rng, contigs=("c1", "c2"), length=3000, n_genes=8):
    """Genes as plain Python: the truth the brute force works from."""
    genes = []
    for gi in range(n_genes):
        chrom = contigs[int(rng.integers(len(contigs)))]
        strand = "+-"[int(rng.integers(2))]
        txs = []
        for ti in range(int(rng.integers(1, 4))):
            n_ex = int(rng.integers(1, 5))
            cuts = sorted({int(x) for x in rng.integers(0, length, 2 * n_ex)})
            if len(cuts) % 2:
                cuts = cuts[:-1]
            if not cuts:
                cuts = [10, 20]
            exons = [(cuts[2 * k], cuts[2 * k + 1]) for k in range(len(cuts) // 2)]
            cds = None
            total = sum(e - s for s, e in exons)
            if rng.random() < 0.6 and total >= 3:
                # CDS: a contiguous run of exonic bases.
                flat = [p for s, e in exons for p in range(s, e)]
                a = int(rng.integers(0, len(flat) - 1))
                b = int(rng.integers(a + 1, len(flat) + 1))
                cds = (flat[a], flat[b - 1] + 1)
            txs.append({"id": f"T{gi}.{ti}", "exons": exons, "cds": cds})
        genes.append({"id": f"G{gi}", "name": None if gi % 4 == 3 else f"GENE{gi}",
                      "biotype": "protein_coding" if any(t["cds"] for t in txs) else "lncRNA",
                      "chrom": chrom, "strand": strand, "txs": txs})
    return genes


def to_gtf(genes, with_gene_lines=True) -> str:
    out = []
    for g in genes:
        attrs = f'gene_id "{g["id"]}";'
        if g["name"]:
            attrs += f' gene_name "{g["name"]}";'
        attrs += f' gene_type "{g["biotype"]}";'
        gs = min(t["exons"][0][0] for t in g["txs"])
        ge = max(t["exons"][-1][1] for t in g["txs"])
        if with_gene_lines:
            out.append(f'{g["chrom"]}\tt\tgene\t{gs + 1}\t{ge}\t.\t{g["strand"]}\t.\t{attrs}')
        for t in g["txs"]:
            ta = attrs + f' transcript_id "{t["id"]}";'
            for s, e in t["exons"]:
                out.append(f'{g["chrom"]}\tt\texon\t{s + 1}\t{e}\t.\t{g["strand"]}\t.\t{ta}')
                if t["cds"] and max(s, t["cds"][0]) < min(e, t["cds"][1]):
                    out.append(f'{g["chrom"]}\tt\tCDS\t{max(s, t["cds"][0]) + 1}\t'
                               f'{min(e, t["cds"][1])}\t.\t{g["strand"]}\t0\t{ta}')
    return "\n".join(out) + "\n"


def to_gff3(genes) -> str:
    """The same model as GFF3, children written before parents to exercise linking."""
    out = ["##gff-version 3"]
    for g in genes:
        gs = min(t["exons"][0][0] for t in g["txs"])
        ge = max(t["exons"][-1][1] for t in g["txs"])
        for t in g["txs"]:
            for s, e in t["exons"]:
                out.append(f'{g["chrom"]}\tt\texon\t{s + 1}\t{e}\t.\t{g["strand"]}\t.\t'
                           f'Parent=tx:{t["id"]}')
                if t["cds"] and max(s, t["cds"][0]) < min(e, t["cds"][1]):
                    out.append(f'{g["chrom"]}\tt\tCDS\t{max(s, t["cds"][0]) + 1}\t'
                               f'{min(e, t["cds"][1])}\t.\t{g["strand"]}\t0\t'
                               f'ID=cds:{t["id"]};Parent=tx:{t["id"]}')
            out.append(f'{g["chrom"]}\tt\tmRNA\t{t["exons"][0][0] + 1}\t{t["exons"][-1][1]}\t.'
                       f'\t{g["strand"]}\t.\tID=tx:{t["id"]};Parent=gene:{g["id"]};'
                       f'transcript_id={t["id"]}')
        name = f';Name={g["name"]}' if g["name"] else ""
        out.append(f'{g["chrom"]}\tt\tgene\t{gs + 1}\t{ge}\t.\t{g["strand"]}\t.\t'
                   f'ID=gene:{g["id"]};gene_id={g["id"]}{name};biotype={g["biotype"]}')
    return "\n".join(out) + "\n"


def brute_annotate(genes, chrom, qs, qe, window):
    """Per-base classification over every transcript; independent of the index code."""
    best, best_genes = 0, set()
    for g in genes:
        if g["chrom"] != chrom:
            continue
        for t in g["txs"]:
            ts, te = t["exons"][0][0], t["exons"][-1][1]
            prom = (max(0, ts - window), ts) if g["strand"] == "+" else (te, te + window)
            for p in range(qs, qe):
                exonic = any(s <= p < e for s, e in t["exons"])
                if exonic and t["cds"]:
                    c = 5 if t["cds"][0] <= p < t["cds"][1] else 4
                elif exonic:
                    c = 3
                elif ts <= p < te:
                    c = 2
                elif prom[0] <= p < prom[1]:
                    c = 1
                else:
                    c = 0
                if c > best:
                    best, best_genes = c, set()
                if c == best and c > 0:
                    best_genes.add(g["id"])
    return best, best_genes


def brute_nearest(genes, chrom, qs, qe):
    cands = []
    for g in genes:
        if g["chrom"] != chrom:
            continue
        gs = min(t["exons"][0][0] for t in g["txs"])
        ge = max(t["exons"][-1][1] for t in g["txs"])
        if gs < qe and qs < ge:
            d = 0
        elif ge <= qs:
            d = qs - (ge - 1)
        else:
            d = gs - (qe - 1)
        cands.append((d, gs, ge, g["id"], g["name"] or g["id"]))
    if not cands:
        return None, -1
    d, *_, label = min(cands)
    return label, d


def gene_order(genes):
    key = {}
    for g in genes:
        gs = min(t["exons"][0][0] for t in g["txs"])
        ge = max(t["exons"][-1][1] for t in g["txs"])
        key[g["id"]] = (gs, ge, g["id"])
    return key


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.sampled_from([0, 1, 25, 1000]),
       st.sampled_from(["gtf", "gtf-no-gene-lines", "gff3"]))
def test_annotate_matches_brute_force(seed, window, fmt):
    rng = np.random.default_rng(seed)
    genes = random_model(rng, n_genes=int(rng.integers(1, 10)))
    if fmt == "gff3":
        gm = read_gff3(io.StringIO(to_gff3(genes)), promoter_window=window)
    else:
        gm = read_gtf(io.StringIO(to_gtf(genes, fmt == "gtf")), promoter_window=window)
    n = 120
    chrom = rng.choice(["c1", "c2", "c3"], n).astype(object)  # c3: no genes
    qs = rng.integers(0, 3100, n)
    qe = qs + rng.integers(1, 40, n)
    res = gm.annotate(chrom, qs, qe)
    order = gene_order(genes)
    by_id = {g["id"]: g for g in genes}
    for i in range(n):
        best, ids = brute_annotate(genes, chrom[i], int(qs[i]), int(qe[i]), window)
        assert SEVERITY[res["region"][i]] == best, (i, chrom[i], qs[i], qe[i])
        ids = sorted(ids, key=order.get)
        assert res["gene_id"][i] == (",".join(ids) if ids else None)
        if ids:
            names = [by_id[x]["name"] or "." for x in ids]
            expect_name = names[0] if len(ids) == 1 and by_id[ids[0]]["name"] else (
                None if len(ids) == 1 else ",".join(names))
            assert res["gene_name"][i] == expect_name
            assert res["gene_biotype"][i] == ",".join(by_id[x]["biotype"] for x in ids)
        label, dist = brute_nearest(genes, chrom[i], int(qs[i]), int(qe[i]))
        assert res["nearest_gene"][i] == label
        assert res["distance_to_gene"][i] == dist


# ----------------------------------------------------------------- a hand-made model
HAND_GTF = """\
#!genome-build test
chr1\tt\tgene\t1001\t2000\t.\t+\t.\tgene_id "G1"; gene_name "ONC1"; gene_biotype "protein_coding";
chr1\tt\ttranscript\t1001\t2000\t.\t+\t.\tgene_id "G1"; transcript_id "T1"; gene_name "ONC1"; gene_biotype "protein_coding";
chr1\tt\texon\t1001\t1100\t.\t+\t.\tgene_id "G1"; transcript_id "T1"; exon_number 1;
chr1\tt\texon\t1501\t1600\t.\t+\t.\tgene_id "G1"; transcript_id "T1"; exon_number 2;
chr1\tt\texon\t1901\t2000\t.\t+\t.\tgene_id "G1"; transcript_id "T1"; exon_number 3;
chr1\tt\tCDS\t1051\t1100\t.\t+\t0\tgene_id "G1"; transcript_id "T1";
chr1\tt\tCDS\t1501\t1600\t.\t+\t1\tgene_id "G1"; transcript_id "T1";
chr1\tt\tCDS\t1901\t1947\t.\t+\t0\tgene_id "G1"; transcript_id "T1";
chr1\tt\tstop_codon\t1948\t1950\t.\t+\t0\tgene_id "G1"; transcript_id "T1";
chr1\tt\texon\t5001\t5200\t.\t-\t.\tgene_id "G2"; transcript_id "T2"; gene_name "LNC2"; gene_type "lncRNA"; transcript_type "lncRNA";
chr1\tt\texon\t5401\t5500\t.\t-\t.\tgene_id "G2"; transcript_id "T2"; gene_name "LNC2"; gene_type "lncRNA";
chr1\tt\tCDS\t8001\t8030\t.\t-\t0\tgene_id "G3"; transcript_id "T3"; gene_name "CDSONLY";
chr1\tt\tfive_prime_utr\t8031\t8060\t.\t-\t.\tgene_id "G3"; transcript_id "T3";
chr1\tt\tthree_prime_utr\t7971\t8000\t.\t-\t.\tgene_id "G3"; transcript_id "T3";
"""


@pytest.fixture
def hand(tmp_path):
    p = tmp_path / "hand.gtf.gz"
    with gzip.open(p, "wt") as fh:
        fh.write(HAND_GTF)
    return read_annotation(p)


def test_hand_model_structure(hand):
    assert hand.n_genes == 3 and hand.n_transcripts == 3
    t1 = hand.transcript("T1")
    assert (t1.exon_starts.tolist(), t1.exon_ends.tolist()) == ([1000, 1500, 1900],
                                                                [1100, 1600, 2000])
    assert (t1.cds_start, t1.cds_end) == (1050, 1950)  # stop codon included
    t2 = hand.transcript("T2")
    assert t2.strand == "-" and not t2.is_coding and t2.biotype == "lncRNA"
    t3 = hand.transcript("T3")  # exons derived from CDS + UTR pieces
    assert (t3.exon_starts.tolist(), t3.exon_ends.tolist()) == ([7970], [8060])
    assert (t3.cds_start, t3.cds_end) == (8000, 8030)
    genes = hand.genes()
    assert genes["gene_biotype"].to_list() == ["protein_coding", "lncRNA", None]
    assert genes["start"].to_list() == [1000, 5000, 7970]
    assert hand.transcripts()["n_exons"].to_list() == [3, 2, 1]


@pytest.mark.parametrize("start,end,region,gene,dist", [
    (1060, 1070, "CDS", "G1", 0),
    (1000, 1010, "UTR", "G1", 0),       # 5' UTR
    (1960, 1970, "UTR", "G1", 0),       # 3' UTR after the stop codon
    (1945, 1955, "CDS", "G1", 0),       # stop codon counts as coding
    (1200, 1210, "intron", "G1", 0),
    (990, 1001, "UTR", "G1", 0),        # one base of exon beats the promoter
    (0, 10, "promoter", "G1", 991),      # + strand: upstream is to the left
    (2000, 2010, "intergenic", None, 1),  # adjacent to the gene end
    (5300, 5310, "intron", "G2", 0),
    (5100, 5110, "noncoding_exon", "G2", 0),
    (5500, 5510, "promoter", "G2", 1),   # - strand: upstream is to the right
    (6499, 6500, "promoter", "G2", 1000),
    (6500, 6501, "intergenic", None, 1001),
    (4000, 4010, "intergenic", None, 991),  # G2 at 991 (5000-4009), G1 at 2001
    (8040, 8050, "UTR", "G3", 0),
    (7990, 8010, "CDS", "G3", 0),
])
def test_hand_model_regions(hand, start, end, region, gene, dist):
    res = hand.annotate("chr1", [start], [end])
    assert res["region"][0] == region
    assert res["gene_id"][0] == gene
    assert res["distance_to_gene"][0] == dist


def test_promoter_window_override_and_unknown_contig(hand):
    res = hand.annotate("chr1", [400], [410], promoter_window=500)
    assert res["region"][0] == "intergenic"
    res = hand.annotate("chr1", [600], [610], promoter_window=500)
    assert res["region"][0] == "promoter"
    res = hand.annotate("chrUn", [0], [10])
    assert res["region"][0] == "intergenic" and res["nearest_gene"][0] is None
    assert res["distance_to_gene"][0] == -1


def test_overlapping_genes_are_joined(tmp_path):
    gtf = ('c\tt\texon\t101\t300\t.\t+\t.\tgene_id "B"; transcript_id "b"; gene_name "GB";\n'
           'c\tt\texon\t51\t200\t.\t-\t.\tgene_id "A"; transcript_id "a";\n')
    gm = read_gtf(io.StringIO(gtf))
    res = gm.annotate("c", [150, 250], [160, 260])
    assert res["gene_id"].tolist() == ["A,B", "B"]
    assert res["gene_name"].tolist() == [".,GB", "GB"]
    assert res["nearest_gene"].tolist() == ["A", "GB"]  # tie at 0: first in genome order


# ----------------------------------------------------------------- spliced sequences
def test_spliced_sequence_and_coordinate_maps():
    rng = np.random.default_rng(11)
    genome = {"c": "".join(rng.choice(list("ACGTacgt"), 500))}

    def fetch(chrom, s, e):
        return genome[chrom][s:e]

    gtf = "".join(
        f'c\tt\texon\t{s + 1}\t{e}\t.\t{strand}\t.\tgene_id "g{strand}"; '
        f'transcript_id "t{strand}";\n'
        for strand in "+-" for s, e in ((10, 30), (100, 140), (300, 305)))
    gm = read_gtf(io.StringIO(gtf))
    for strand in "+-":
        t = gm.transcript(f"t{strand}")
        sp = t.spliced_sequence(fetch)
        fwd = genome["c"][10:30] + genome["c"][100:140] + genome["c"][300:305]
        assert sp.sequence == (fwd if strand == "+" else revcomp(fwd))
        assert len(sp.sequence) == t.length == sp.genome_pos.size == 65
        for i in range(t.length):
            base = genome["c"][sp.genome_pos[i]]
            assert sp.sequence[i] == (base if strand == "+" else revcomp(base))
        assert t.to_genome(np.arange(t.length)).tolist() == sp.genome_pos.tolist()
        assert t.to_transcript(sp.genome_pos).tolist() == list(range(t.length))
        assert t.to_transcript([50, 0, 499]).tolist() == [-1, -1, -1]
        pre = t.pre_mrna_sequence(fetch)
        assert len(pre.sequence) == 295
        assert pre.sequence[0] == (genome["c"][10] if strand == "+"
                                   else revcomp(genome["c"][304]))
    with pytest.raises(IndexError):
        gm.transcript("t+").to_genome([65])
    with pytest.raises(InputError, match="outside contig"):
        gm.transcript("t+").spliced_sequence(lambda c, s, e: genome[c][s:e][:3])


# ----------------------------------------------------------------- genome agreement
def test_validate_against_names_the_record(hand):
    hand.validate_against({"chr1": 10_000})
    with pytest.raises(InputError) as err:
        hand.validate_against({"chr1": 5_300})
    msg = str(err.value)
    assert "T2" in msg and "5300" in msg and err.value.line == 11
    assert err.value.path.endswith("hand.gtf.gz")
    with pytest.raises(InputError, match="contig 'chr1', which is not in the genome; did you "
                                         "mean '1'"):
        hand.validate_against({"1": 10_000})


def test_for_genome_renames_drops_and_suggests(tmp_path):
    gtf = ('1\tt\texon\t11\t20\t.\t+\t.\tgene_id "a"; transcript_id "a1";\n'
           'GL000\tt\texon\t11\t20\t.\t+\t.\tgene_id "b"; transcript_id "b1";\n')
    gm = read_gtf(io.StringIO(gtf))
    with pytest.raises(InputError, match="did you mean 'chr1'.*--chrom-alias"):
        gm.for_genome({"chr1": 100})
    alias = tmp_path / "alias.tsv"
    alias.write_text("# input\tgenome\n1\tchr1\n")
    fixed = gm.for_genome({"chr1": 100, "chr2": 50}, chrom_alias=alias)
    assert fixed.chroms == ["chr1"] and fixed.n_genes == 1 and fixed.n_transcripts == 1
    assert fixed.annotate("chr1", [12], [13])["gene_id"].tolist() == ["a"]
    assert fixed.transcript("a1").chrom == "chr1"
    with pytest.raises(InputError, match="none of the 2 chromosome names"):
        gm.for_genome({"chrZ": 100})


# ----------------------------------------------------------------- bad input
@pytest.mark.parametrize("line,reason", [
    ("c\tt\texon\t10\t20\t.\t+\t.", "expected 9 tab-separated columns, found 8"),
    ("c t exon 10 20 . + . x", "found 1 (columns must be separated by tabs)"),
    ('c\tt\texon\tten\t20\t.\t+\t.\tgene_id "g"; transcript_id "t";', "not integers"),
    ('c\tt\texon\t30\t20\t.\t+\t.\tgene_id "g"; transcript_id "t";', "end 20 < start 30"),
    ('c\tt\texon\t0\t20\t.\t+\t.\tgene_id "g"; transcript_id "t";', "1-based"),
    ('c\tt\texon\t10\t20\t.\tx\t.\tgene_id "g"; transcript_id "t";', "strand 'x'"),
    ('c\tt\texon\t10\t20\t.\t+\t.\ttranscript_id "t";', "without a gene_id"),
    ('c\tt\texon\t10\t20\t.\t+\t.\tgene_id "g";', "without a transcript_id"),
    ("c\tt\texon\t10\t20\t.\t+\t.\tgene_id=g;transcript_id=t", "look like GFF3"),
])
def test_malformed_gtf_gives_file_line_reason(tmp_path, line, reason):
    p = tmp_path / "bad.gtf"
    good = 'c\tt\texon\t1\t5\t.\t+\t.\tgene_id "g0"; transcript_id "t0";\n'
    p.write_text("# header\n" + good + line + "\n")
    with pytest.raises(InputError) as err:
        read_annotation(p)
    assert err.value.line == 3 and err.value.path == str(p)
    assert reason in str(err.value)
    assert str(err.value).startswith(f"{p}:3")


def test_inconsistent_transcripts_are_errors():
    both = ('c\tt\texon\t1\t5\t.\t+\t.\tgene_id "g"; transcript_id "t";\n'
            'c\tt\texon\t10\t15\t.\t-\t.\tgene_id "g"; transcript_id "t";\n')
    with pytest.raises(InputError, match="both strands") as err:
        read_gtf(io.StringIO(both))
    assert err.value.line == 2
    two_genes = ('c\tt\texon\t1\t5\t.\t+\t.\tgene_id "g"; transcript_id "t";\n'
                 'c\tt\texon\t10\t15\t.\t+\t.\tgene_id "h"; transcript_id "t";\n')
    with pytest.raises(InputError, match="belongs to gene 'g'"):
        read_gtf(io.StringIO(two_genes))


@pytest.mark.parametrize("text,reason,line", [
    ("##gff-version 3\nc\tt\texon\t1\t5\t.\t+\t.\tParent=nowhere\n", "'nowhere' is not defined",
     2),
    ("##gff-version 3\nc\tt\texon\t1\t5\t.\t+\t.\tID=e1\n", "without a Parent", 2),
    ('##gff-version 3\nc\tt\tgene\t1\t5\t.\t+\t.\tgene_id "g"\n', "look like GTF", 2),
    (("##gff-version 3\nc\tt\tmRNA\t1\t5\t.\t+\t.\tID=m;Parent=ghost\n"
      "c\tt\texon\t1\t5\t.\t+\t.\tParent=m\n"), "'ghost' is not defined", 2),
])
def test_malformed_gff3(tmp_path, text, reason, line):
    p = tmp_path / "bad.gff3"
    p.write_text(text)
    with pytest.raises(InputError, match=reason) as err:
        read_annotation(p)
    assert err.value.line == line


def test_gff3_features_and_fasta_section():
    text = ("##gff-version 3\n"
            "c\tt\tgene\t100\t200\t.\t+\t.\tID=g1;Name=Solo%3B1;biotype=snRNA\n"
            "c\tt\tncRNA_gene\t300\t400\t.\t-\t.\tID=g2;gene_name=NC\n"
            "c\tt\texon\t300\t350\t.\t-\t.\tParent=g2\n"
            "c\tt\tgene\t500\t900\t.\t+\t.\tID=g3\n"
            "c\tt\tmRNA\t500\t900\t.\t+\t.\tID=m3;Parent=g3;biotype=protein_coding\n"
            "c\tt\tfive_prime_UTR\t500\t549\t.\t+\t.\tParent=m3\n"
            "c\tt\tCDS\t550\t700\t.\t+\t0\tParent=m3\n"
            "c\tt\tCDS\t800\t850\t.\t+\t0\tParent=m3\n"
            "c\tt\tthree_prime_UTR\t851\t900\t.\t+\t.\tParent=m3\n"
            "##FASTA\n>c\nACGT\n")
    gm = read_gff3(io.StringIO(text))
    assert gm.gene_name.tolist() == ["Solo;1", "NC", None]
    assert gm.n_transcripts == 3
    m3 = gm.transcript("m3")
    assert m3.exon_starts.tolist() == [499, 799] and m3.exon_ends.tolist() == [700, 900]
    assert (m3.cds_start, m3.cds_end) == (549, 850) and m3.biotype == "protein_coding"
    res = gm.annotate("c", [150, 320, 700, 560, 860], [151, 321, 710, 561, 861])
    # a gene with no transcript counts as one non-coding exon over its span
    assert res["region"].tolist() == ["noncoding_exon", "noncoding_exon", "intron", "CDS",
                                      "UTR"]


def test_synthetic_gtf_round_trip(tmp_path):
    text = synthetic_gtf({"a": 200_000, "b": 80_000}, 40, seed=5)
    gm = read_gtf(io.StringIO(text))
    assert gm.n_genes == 40
    p = tmp_path / "again.gtf"
    gm.to_gtf(p)
    again = read_gtf(p)
    for col in ("gene_id", "gene_start", "gene_end", "gene_strand", "tx_id", "tx_start",
                "tx_cds_start", "tx_cds_end", "exon_start", "exon_end"):
        assert np.array_equal(getattr(gm, col), getattr(again, col)), col
    gm.validate_against({"a": 200_000, "b": 80_000})


# ----------------------------------------------------------------- hits table
def test_annotate_hits_schema_and_values(hand):
    hits = pl.DataFrame({"query_id": ["q1", "q2", "q3", "q4"],
                         "chrom": ["chr1", "chr1", "chr1", "chrUn"],
                         "start": [1060, 1200, 3000, 5], "end": [1083, 1223, 3023, 28],
                         "strand": ["+", "-", "+", "+"]})
    bed = RegionSet.from_bed(io.StringIO("chr1\t1000\t2000\tONC1_locus\nchr1\t0\t1100\tX\n"))
    out = annotate_hits(hits, hand, bed, softmask={"chr1": np.arange(10_000) % 1000 == 210})
    assert out.columns == hits.columns + ANNOTATION_SCHEMA.names + ["softmasked"]
    assert dict(zip(ANNOTATION_SCHEMA.names,
                    [out.schema[c] for c in ANNOTATION_SCHEMA.names])) == \
        ANNOTATION_POLARS_SCHEMA
    assert out["region"].to_list() == ["CDS", "intron", "intergenic", "intergenic"]
    assert out["gene_name"].to_list() == ["ONC1", "ONC1", None, None]
    assert out["nearest_gene"].to_list() == ["ONC1", "ONC1", "ONC1", None]
    assert out["distance_to_gene"].to_list() == [0, 0, 1001, None]
    assert out["regions_flagged"].to_list() == ["ONC1_locus,X", "ONC1_locus", None, None]
    assert out["softmasked"].to_list() == [False, True, False, False]
    # The Polars columns cast losslessly onto the versioned Arrow schema.
    table = out.select(ANNOTATION_SCHEMA.names).to_arrow().cast(ANNOTATION_SCHEMA)
    assert table.schema.metadata[b"pmcore.schema_version"] == b"1"
    assert table.column("region").to_pylist() == out["region"].to_list()


def test_annotate_hits_without_sources_and_empty(hand):
    hits = pl.DataFrame({"chrom": ["chr1"], "start": [1], "end": [5], "strand": ["+"]})
    out = annotate_hits(hits)
    assert out.select(ANNOTATION_SCHEMA.names).null_count().row(0) == (1,) * 7
    empty = hits.clear()
    out = annotate_hits(empty, hand)
    assert out.height == 0 and out.columns[-7:] == ANNOTATION_SCHEMA.names


def test_annotate_hits_refuses_misspelled_contigs(hand):
    hits = pl.DataFrame({"chrom": ["1"], "start": [1], "end": [5], "strand": ["+"]})
    with pytest.raises(InputError, match="names it 'chr1'"):
        annotate_hits(hits, hand)


def test_gene_model_repr_and_lookup(hand):
    assert "3 genes" in repr(hand)
    assert [t.transcript_id for t in hand.transcripts_of("G1")] == ["T1"]
    assert [t.transcript_id for t in hand.iter_transcripts("chr1")] == ["T1", "T2", "T3"]
    assert next(hand.gene_bodies())[:2] == ("G1", "ONC1")
    with pytest.raises(KeyError):
        hand.transcript("nope")
    assert isinstance(hand, GeneModel)


def test_annotate_hits_with_leading_nulls(hand):
    # Regression: Polars infers a column's type from its first values; mostly-null string
    # columns must still come out as String.
    n = 3000
    hits = pl.DataFrame({"chrom": ["chr1"] * n,
                         "start": [20_000] * (n - 1) + [1060],
                         "end": [20_023] * (n - 1) + [1083], "strand": ["+"] * n})
    bed = RegionSet.from_bed(io.StringIO("chr1\t1000\t1100\tR\n"))
    out = annotate_hits(hits, hand, bed)
    assert out["gene_id"].to_list()[-1] == "G1" and out["gene_id"].null_count() == n - 1
    assert out["regions_flagged"].to_list()[-1] == "R"
    assert out.schema["regions_flagged"] == pl.String


def test_annotate_accepts_series_and_lists(hand):
    a = hand.annotate(pl.Series(["chr1", "chr1"]), [1060, 1200], [1061, 1201])
    b = hand.annotate(["chr1", "chr1"], np.array([1060, 1200]), np.array([1061, 1201]))
    assert a["region"].tolist() == b["region"].tolist() == ["CDS", "intron"]


def test_overlapping_transcripts_brute_force():
    rng = np.random.default_rng(4)
    genes = random_model(rng, n_genes=12)
    gm = read_gtf(io.StringIO(to_gtf(genes)))
    chrom = rng.choice(["c1", "c2"], 200).astype(object)
    qs = rng.integers(0, 3000, 200)
    qe = qs + rng.integers(1, 30, 200)
    q, t = gm.overlapping_transcripts(chrom, qs, qe)
    got = sorted((int(a), gm.tx_id[b]) for a, b in zip(q, t))
    expect = sorted((i, tx["id"]) for i in range(200) for g in genes for tx in g["txs"]
                    if g["chrom"] == chrom[i] and tx["exons"][0][0] < qe[i]
                    and qs[i] < tx["exons"][-1][1])
    assert got == expect


def test_embedded_demo_annotation():
    from importlib.resources import files

    folder = files("pmcore") / "data" / "annotation"
    gm = read_annotation(str(folder / "demo.gtf"))
    gm = gm.for_genome({"demo1": 200_000, "demo2": 100_000})
    rs = RegionSet.from_bed(str(folder / "demo_regions.bed"))
    hits = pl.DataFrame({"chrom": ["demo1", "demo2"], "start": [20_250, 40_800],
                         "end": [20_273, 40_823], "strand": ["+", "-"]})
    out = annotate_hits(hits, gm, rs)
    assert "ONCO1" in out["gene_name"][0] and "TSG1" in out["gene_name"][1]
    assert out["region"].to_list() == ["CDS", "CDS"]
    assert out["regions_flagged"].to_list() == ["ONCO1_oncogene", "TSG1_tumour_suppressor"]
    tsg = gm.transcript("DEMO_TSG1.1")
    assert tsg.strand == "-" and tsg.length == 1000 + 200 + 500


def test_gene_line_without_transcripts_counts_as_exon():
    gtf = 'c\tt\tgene\t101\t200\t.\t-\t.\tgene_id "g"; gene_name "LONE";\n'
    gm = read_gtf(io.StringIO(gtf))
    assert gm.n_transcripts == 1 and gm.transcript("g").gene_name == "LONE"
    res = gm.annotate("c", [150, 250], [151, 251])
    assert res["region"].tolist() == ["noncoding_exon", "promoter"]


GTF_COLUMNS = ("gene_id", "gene_name", "gene_biotype", "gene_chrom", "gene_start", "gene_end",
               "gene_strand", "gene_line", "tx_id", "tx_gene", "tx_chrom", "tx_start",
               "tx_end", "tx_strand", "tx_cds_start", "tx_cds_end", "tx_biotype", "tx_line",
               "exon_start", "exon_end", "_exon_ptr")


def _noisy_gtf(rng, genes) -> str:
    """The model's GTF with comments, blank lines, CRLF, unused features, odd spacing."""
    out = []
    for line in to_gtf(genes, with_gene_lines=bool(rng.integers(2))).splitlines():
        r = rng.random()
        if r < 0.05:
            out.append("# a comment")
        elif r < 0.08:
            out.append("   ")
        elif r < 0.12:
            cols = line.split("\t")
            out.append("\t".join(cols[:2] + ["Selenocysteine"] + cols[3:]))
        if rng.random() < 0.1:
            line = line.replace('transcript_id "', 'transcript_id  "')
        if rng.random() < 0.1:
            line = line.replace('gene_type "', 'gene_biotype "')
        out.append(line)
    eol = "\r\n" if rng.random() < 0.3 else "\n"
    return eol.join(out) + eol


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_noisy_gtf_gives_the_same_model(tmp_path_factory, seed):
    rng = np.random.default_rng(seed)
    genes = random_model(rng, n_genes=int(rng.integers(1, 9)))
    d = tmp_path_factory.mktemp("gtf")
    clean = d / "clean.gtf"
    clean.write_text(to_gtf(genes))
    noisy = d / "noisy.gtf.gz"
    with gzip.open(noisy, "wb") as fh:
        fh.write(_noisy_gtf(rng, genes).encode())
    ref, got = read_gtf(clean), read_gtf(noisy)
    for col in GTF_COLUMNS:
        if not col.endswith("_line"):
            assert np.array_equal(getattr(ref, col), getattr(got, col)), col


def test_load_annotation_sources(tmp_path):
    from pmcore.annotation import load_annotation_sources

    gtf = tmp_path / "a.gtf"
    gtf.write_text('1\tt\texon\t11\t20\t.\t+\t.\tgene_id "a"; transcript_id "a1";\n')
    bed = tmp_path / "r.bed"
    bed.write_text("1\t0\t50\tR1\n")
    alias = tmp_path / "alias.tsv"
    alias.write_text("1\tchr1\n")
    lengths = {"chr1": 100}
    gm, rs = load_annotation_sources(lengths, gtf=gtf, beds=[bed], chrom_alias=alias)
    assert gm.chroms == rs.chroms == ["chr1"]
    assert gm.describe()["transcripts"] == 1
    hits = pl.DataFrame({"chrom": ["chr1"], "start": [12], "end": [15], "strand": ["+"]})
    out = annotate_hits(hits, gm, rs)
    assert out.row(0, named=True)["regions_flagged"] == "R1"
    assert load_annotation_sources(lengths) == (None, None)
    with pytest.raises(InputError, match="did you mean 'chr1'") as err:
        load_annotation_sources(lengths, gtf=gtf)
    assert err.value.path == str(gtf) and err.value.line == 1


def test_format_sniffing(tmp_path):
    gff = "##gff-version 3\nc\tt\tgene\t1\t50\t.\t+\t.\tID=g1;Name=A\n"
    gtf = 'c\tt\texon\t1\t50\t.\t+\t.\tgene_id "g1"; transcript_id "t1";\n'
    for name, text, n_tx in (("a.txt", gff, 1), ("b.txt", gtf, 1)):
        p = tmp_path / name
        with gzip.open(p, "wt") as fh:
            fh.write(text)
        gm = read_annotation(p)
        assert gm.n_genes == 1 and gm.n_transcripts == n_tx
    assert read_annotation(tmp_path / "a.txt", format="gff3").gene_name.tolist() == ["A"]
    with pytest.raises(InputError, match="unknown annotation format"):
        read_annotation(tmp_path / "a.txt", format="bed")


def test_annotate_numpy_unicode_and_missing_contigs(hand):
    chrom = np.array([None] * 300 + ["chr1"], dtype=object)
    res = hand.annotate(chrom, np.full(301, 1060), np.full(301, 1070))
    assert res["region"][-1] == "CDS" and res["region"][0] == "intergenic"
    res = hand.annotate(np.array(["chr1", "chr1"]), [1060, 1200], [1070, 1210])
    assert res["region"].tolist() == ["CDS", "intron"]


def _ov(a0, a1, b0, b1):
    return max(a0, b0) < min(a1, b1)


def test_annotate_long_genes_vs_interval_brute_force():
    """Megabase genes (several length buckets) on a synthetic model, checked site by site."""
    lengths = {"big": 3_000_000, "small": 400_000}
    gm = read_gtf(io.StringIO(synthetic_gtf(lengths, 150, seed=9)))
    txs = list(gm.iter_transcripts())
    assert max(t.end - t.start for t in txs) > 200_000
    rng = np.random.default_rng(2)
    n = 400
    chrom = rng.choice(list(lengths), n, p=[0.85, 0.15]).astype(object)
    qs = (rng.random(n) * np.array([lengths[c] - 30 for c in chrom])).astype(np.int64)
    # half the sites sit at exon edges, where the classes change
    edges = [(t.chrom, int(e)) for t in txs for e in np.concatenate((t.exon_starts,
                                                                    t.exon_ends))]
    for i in range(0, n, 2):
        c, e = edges[int(rng.integers(len(edges)))]
        chrom[i], qs[i] = c, max(0, e - int(rng.integers(0, 23)))
    qe = qs + 23
    res = gm.annotate(chrom, qs, qe)
    w = gm.promoter_window
    for i in range(n):
        c, s, e = chrom[i], int(qs[i]), int(qe[i])
        best, genes = 0, set()
        for t in txs:
            if t.chrom != c:
                continue
            cls = 0
            for a, b in zip(t.exon_starts.tolist(), t.exon_ends.tolist()):
                if not _ov(a, b, s, e):
                    continue
                if not t.is_coding:
                    cls = max(cls, 3)
                    continue
                if _ov(a, b, max(s, t.cds_start), min(e, t.cds_end)):
                    cls = max(cls, 5)
                if _ov(a, b, s, min(e, t.cds_start)) or _ov(a, b, max(s, t.cds_end), e):
                    cls = max(cls, 4)
            if cls == 0 and _ov(t.start, t.end, s, e):
                cls = 2
            prom = (t.start - w, t.start) if t.strand == "+" else (t.end, t.end + w)
            if cls == 0 and _ov(max(prom[0], 0), prom[1], s, e):
                cls = 1
            if cls > best:
                best, genes = cls, set()
            if cls == best and cls:
                genes.add(t.gene_id)
        assert SEVERITY[res["region"][i]] == best, i
        got = set(res["gene_id"][i].split(",")) if res["gene_id"][i] else set()
        assert got == genes, i
