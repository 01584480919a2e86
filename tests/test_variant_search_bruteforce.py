"""Variant-aware search equals searching every haplotype's whole genome.

For random small genomes with planted guide sites and random VCFs (SNVs, MNVs, insertions,
deletions and complex alleles in and around the sites and their PAMs), the oracle applies
each haplotype's variants to the whole genome, writes it as a FASTA, searches it entirely
with the engine, lifts every hit to the reference with a per-base map built here, and
pairs haplotype sites with reference sites by the rules of docs/variants.md. The result of
:func:`pmcore.variant_search.search_with_variants` must be the same set of rows.
"""

from __future__ import annotations

import random

import pyarrow as pa
import pytest

from pmcore.genome import GenomeStore, build_store
from pmcore.guides import GuideRecord
from pmcore.nucleases import resolve_nuclease
from pmcore.offtarget import GuideSearch
from pmcore.tables import HITS_SCHEMA
from pmcore.variant_search import search_with_variants

COMP = str.maketrans("ACGT", "TGCA")


def revcomp(s):
    return s.translate(COMP)[::-1]


def rand_seq(rng, n):
    return "".join(rng.choice("ACGT") for _ in range(n))


def mutate(rng, s, k):
    s = list(s)
    for i in rng.sample(range(len(s)), k):
        s[i] = rng.choice([b for b in "ACGT" if b != s[i]])
    return "".join(s)


def make_genome(rng, guides, pam_for, pam_side=3, limit=3, n_contigs=2, length=480, plants=6):
    """Random contigs with mutated copies of the guides (+ PAM) planted on both strands."""
    genome = {}
    sites = []
    for c in range(n_contigs):
        seq = list(rand_seq(rng, length))
        for k_ in range(plants):
            g = rng.choice(guides)
            pam = pam_for(rng)
            # up to 5 mismatches or a broken PAM: a variant may then create the site
            spacer = mutate(rng, g, rng.choice([0, 1, limit, limit + 1, limit + 1]))
            bad_pam = pam if rng.random() < 0.7 else mutate(rng, pam, 1)
            if pam_side == 3:
                intended, site = g + pam, spacer + bad_pam
            else:
                intended, site = pam + g, bad_pam + spacer
            if rng.random() < 0.3:  # an RNA-bulge or DNA-bulge flavour
                k = rng.randrange(1, len(g) - 2)
                site = site[:k] + site[k + 1:] if rng.random() < 0.5 else \
                    site[:k] + rng.choice("ACGT") + site[k:]
            if rng.random() < 0.5:
                site, intended = revcomp(site), revcomp(intended)
            slot = length // plants  # one planted site per slot: plants never overlap
            p = k_ * slot + rng.randrange(5, slot - len(site) - 5)
            seq[p:p + len(site)] = site
            sites.append((f"c{c}", p, p + len(site), intended))
        genome[f"c{c}"] = "".join(seq)[:length]
    return genome, sites


def random_variants(rng, genome, sites, n, *, non_overlapping):
    """(chrom, pos0, REF, ALT) with VCF-style anchors, mostly in or near planted sites."""
    out = []
    taken = {c: set() for c in genome}
    tries = 0
    while len(out) < n and tries < 50 * n:
        tries += 1
        chrom, s, e, intended = rng.choice(sites)
        seq = genome[chrom]
        p = rng.randrange(max(1, s - 4), min(len(seq) - 8, e + 4))
        kind = rng.random()
        fixes = [s + i for i in range(min(len(intended), e - s))
                 if seq[s + i] != intended[i]]
        if kind < 0.35 and fixes:  # restore a base of the planted site (or its PAM)
            p = rng.choice(fixes)
            ref, alt = seq[p], intended[p - s]
        elif kind < 0.45:  # SNV
            ref = seq[p]
            alt = rng.choice([b for b in "ACGT" if b != ref])
        elif kind < 0.55:  # MNV
            ref = seq[p:p + 2]
            alt = mutate(rng, ref, 2)
        elif kind < 0.75:  # insertion, anchored
            ref = seq[p]
            alt = ref + rand_seq(rng, rng.randint(1, 4))
        elif kind < 0.95:  # deletion, anchored
            d = rng.randint(1, 4)
            ref = seq[p:p + 1 + d]
            alt = ref[0]
        elif kind < 0.97:  # complex
            ref = seq[p:p + 2]
            alt = rand_seq(rng, 3)
        elif kind < 0.985:  # a whole site inside an insertion
            ref = seq[p]
            alt = ref + rand_seq(rng, 2) + intended + rand_seq(rng, 2)
        else:  # anywhere, contig ends included
            p = rng.choice([0, 1, len(seq) - 3, rng.randrange(len(seq) - 3)])
            ref = seq[p:p + rng.randint(1, 3)]
            alt = rng.choice([ref[0], ref + "GA", mutate(rng, ref, 1)])
        span = set(range(p - 1, p + len(ref) + 1))
        if non_overlapping and span & taken[chrom]:
            continue
        taken[chrom] |= span
        out.append((chrom, p, ref, alt))
    return out


def write_fasta(path, genome):
    with open(path, "w") as fh:
        fh.writelines(f">{name}\n{seq}\n" for name, seq in genome.items())


def write_vcf(path, genome, records, samples=()):
    """records: (chrom, pos0, ref, alt, id, info, [gt per sample])."""
    order = {c: i for i, c in enumerate(genome)}
    with open(path, "w") as fh:
        fh.write("##fileformat=VCFv4.2\n")
        head = "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO"
        if samples:
            head += "\tFORMAT\t" + "\t".join(samples)
        fh.write(head + "\n")
        for chrom, p, ref, alt, vid, info, gts in sorted(
                records, key=lambda r: (order[r[0]], r[1])):
            line = f"{chrom}\t{p + 1}\t{vid}\t{ref}\t{alt}\t.\t.\t{info}"
            if samples:
                line += "\tGT\t" + "\t".join(gts)
            fh.write(line + "\n")


# --------------------------------------------------------------------------- the oracle
def trim(p, ref, alt):
    while ref and alt and ref[-1] == alt[-1]:
        ref, alt = ref[:-1], alt[:-1]
    while ref and alt and ref[0] == alt[0]:
        ref, alt, p = ref[1:], alt[1:], p + 1
    return p, ref, alt


def apply_whole(genome, variants):
    """Alternative genome plus, per contig, the map of its bases: reference position (-1
    for an inserted base), id of the variant whose allele holds the base (None for a
    reference base), insertion point of inserted bases, and ``(index, id)`` of the
    junctions that deletions with an empty allele leave. ``variants``: trimmed
    ``(chrom, pos0, ref, alt, id)``."""
    alt_genome, maps = {}, {}
    for chrom, seq in genome.items():
        vs = sorted(v for v in variants if v[0] == chrom)
        out, refpos, src, ins_at, junctions = [], [], [], [], []
        cur = 0
        for _, p, ref, alt, vid in vs:
            for q in range(cur, p):
                out.append(seq[q])
                refpos.append(q)
                src.append(None)
                ins_at.append(None)
            if not alt:
                junctions.append((len(out), vid))
            for k, b in enumerate(alt):
                out.append(b)
                refpos.append(p + k if k < len(ref) else -1)
                src.append(vid)
                ins_at.append(p + len(ref))
            cur = p + len(ref)
        for q in range(cur, len(seq)):
            out.append(seq[q])
            refpos.append(q)
            src.append(None)
            ins_at.append(None)
        alt_genome[chrom] = "".join(out)
        maps[chrom] = (refpos, src, ins_at, junctions)
    return alt_genome, maps


def search_all(tmp, name, genome, guides, nuc, limits):
    fa = tmp / f"{name}.fa"
    write_fasta(fa, genome)
    build_store(fa, tmp / f"{name}.pmg")
    with GenomeStore(tmp / f"{name}.pmg") as st:
        return pa.Table.from_batches(list(GuideSearch(st, guides, nuc, **limits).batches()),
                                     schema=HITS_SCHEMA).to_pylist()


def ref_touches(v, s, e):
    _, p, ref, _, _ = v
    if ref:
        return p < e and s < p + len(ref)
    return s < p < e


def oracle(tmp, genome, guides, nuc, limits, haplotypes):
    """haplotypes: list of (label dict, [trimmed variants], genotype by id)."""
    ref_hits = search_all(tmp, "ref", genome, guides, nuc, limits)
    key = lambda r: (r["query_id"], r["chrom"], r["start"], r["end"], r["strand"],
                     r["bulge_type"], r["bulge_size"])
    alt_sites = []
    for h, (_, vs, _) in enumerate(haplotypes):
        alt_genome, maps = apply_whole(genome, vs)
        by_key = {}
        for r in search_all(tmp, f"hap{h}", alt_genome, guides, nuc, limits):
            refpos, src, ins_at, junctions = maps[r["chrom"]]
            s, e = r["start"], r["end"]
            mapped = [refpos[i] for i in range(s, e) if refpos[i] >= 0]
            ids = {src[i] for i in range(s, e) if src[i] is not None}
            ids |= {vid for j, vid in junctions if s < j < e}
            r = dict(r, alt_start=s, alt_end=e, touched=bool(ids))
            if mapped:
                r["start"], r["end"] = mapped[0], mapped[-1] + 1
            else:
                r["start"] = r["end"] = ins_at[s]
            r["alt_ids"] = ids
            by_key.setdefault(key(r), []).append(r)
        for rows in by_key.values():
            rows.sort(key=lambda r: (r["alt_start"], r["alt_end"]))
        alt_sites.append(by_key)

    rows = []
    for r in ref_hits:
        touched = [h for h, (_, vs, _) in enumerate(haplotypes)
                   if any(v[0] == r["chrom"] and ref_touches(v, r["start"], r["end"])
                          for v in vs)]
        if not touched:
            rows.append((key(r), r["site"], r["mismatches"], "both", None, None, None, (),
                         None, None, None, None))
            continue
        for h in touched:
            label, vs, _gts = haplotypes[h]
            ids = {v[4] for v in vs if v[0] == r["chrom"] and ref_touches(v, r["start"], r["end"])}
            cands = alt_sites[h].get(key(r))
            if cands:
                a = cands.pop(0)
                assert a["touched"]
                rows.append((key(r), r["site"], r["mismatches"], "both", label["sample"],
                             label["haplotype"], label["vcf"], tuple(sorted(ids | a["alt_ids"])),
                             a["alt_start"], a["alt_end"], a["site"], a["mismatches"]))
            else:
                rows.append((key(r), r["site"], r["mismatches"], "reference", label["sample"],
                             label["haplotype"], label["vcf"], tuple(sorted(ids)), None, None,
                             None, None))
    for h, by_key in enumerate(alt_sites):
        label = haplotypes[h][0]
        for k, rs in by_key.items():
            for a in rs:
                if a["touched"]:
                    rows.append((k, a["site"], a["mismatches"], "alternative", label["sample"],
                                 label["haplotype"], label["vcf"], tuple(sorted(a["alt_ids"])),
                                 a["alt_start"], a["alt_end"], a["site"], a["mismatches"]))
    # a site haplotypes 1 and 2 give identically is one row, haplotype '1,2'
    merged, seen = [], {}
    for row in rows:
        if row[5] in ("1", "2"):
            k = row[:5] + row[6:]
            if k in seen:
                merged[seen[k]] = merged[seen[k]][:5] + ("1,2",) + merged[seen[k]][6:]
                continue
            seen[k] = len(merged)
        merged.append(row)
    return sorted(merged, key=repr)


def ours(table):
    rows = []
    for r in table.to_pylist():
        k = (r["query_id"], r["chrom"], r["start"], r["end"], r["strand"], r["bulge_type"],
             r["bulge_size"])
        rows.append((k, r["site"], r["mismatches"], r["presence"], r["sample"],
                     r["haplotype"], r["vcf"], tuple(sorted(r["variant_ids"])),
                     r["alt_start"], r["alt_end"], r["alt_site"], r["alt_mismatches"]))
    return sorted(rows, key=repr)


GUIDE_SETS = [
    ("SpCas9", ["GACGTTACCGATGCATGCAA", "TTGCAGCTAGCCATGACGTA"], lambda r: r.choice("ACGT") + "GG"),
    ("Cas12a", ["ACGTTGCAAGCTAGGCTAACGTA"], lambda r: "TTT" + r.choice("ACG")),
]


def run_case(tmp, seed, gset, limits, phased):
    """One random genome + VCF; asserts equality with the oracle, returns our rows."""
    tmp.mkdir()
    rng = random.Random(seed)
    preset, guide_seqs, pam_for = GUIDE_SETS[gset]
    nuc = resolve_nuclease(preset)
    guides = [GuideRecord(f"g{i}", s, i + 1) for i, s in enumerate(guide_seqs)]
    genome, sites = make_genome(rng, guide_seqs, pam_for, nuc.pam_side, limits["mismatches"])
    write_fasta(tmp / "g.fa", genome)
    build_store(tmp / "g.fa", tmp / "g.pmg")
    haps = []
    if phased:
        vars_ = random_variants(rng, genome, sites, 16, non_overlapping=True)
        gts = ["0|1", "1|0", "1|1", "1|0", "0|1", "0|0", "0/1", "1/1", "./1", "1"]
        records = [(c, p, ref, alt, f"v{i}", ".", [rng.choice(gts)])
                   for i, (c, p, ref, alt) in enumerate(vars_)]
        write_vcf(tmp / "s.vcf", genome, records, samples=["NA1"])
        # phased calls by position, homozygous and haploid ones on their haplotypes,
        # unphased heterozygous ones each alone
        for k in (0, 1):
            vs = [(c, *trim(p, ref, alt), vid) for c, p, ref, alt, vid, _, (gt,) in records
                  if ("|" in gt and gt.split("|")[k] == "1") or gt == "1/1"
                  or (gt == "1" and k == 0)]
            if vs:
                haps.append(({"sample": "NA1", "haplotype": str(k + 1), "vcf": "s.vcf"},
                             vs, {}))
        for c, p, ref, alt, vid, _, (gt,) in records:
            if gt in ("0/1", "./1"):
                haps.append(({"sample": "NA1", "haplotype": None, "vcf": "s.vcf"},
                             [(c, *trim(p, ref, alt), vid)], {}))
        vcf = tmp / "s.vcf"
    else:
        vars_ = random_variants(rng, genome, sites, 14, non_overlapping=False)
        records = [(c, p, ref, alt, f"v{i}", f"AF=0.{i + 1}", [])
                   for i, (c, p, ref, alt) in enumerate(vars_)]
        write_vcf(tmp / "pop.vcf", genome, records)
        for c, p, ref, alt, vid, _, _ in records:
            haps.append(({"sample": None, "haplotype": None, "vcf": "pop.vcf"},
                         [(c, *trim(p, ref, alt), vid)], {}))
        vcf = tmp / "pop.vcf"
    with GenomeStore(tmp / "g.pmg") as st:
        table = search_with_variants(st, guides, nuc, [vcf], **limits)
    expected = oracle(tmp, genome, guides, nuc, limits, haps)
    got = ours(table)
    assert got == expected, seed
    return got


@pytest.mark.parametrize("gset,limits", [
    (0, {"mismatches": 3}),
    (0, {"mismatches": 2, "dna_bulges": 1, "rna_bulges": 1}),
    (1, {"mismatches": 3, "rna_bulges": 1}),
    (0, {"mismatches": 4, "dna_bulges": 2}),
    (1, {"mismatches": 2, "dna_bulges": 1}),
])
def test_population_file_equals_bruteforce(tmp_path, gset, limits):
    rows = []
    for seed in range(3):
        rows += run_case(tmp_path / f"s{seed}", 100 * gset + 10 * len(limits) + seed, gset,
                         limits, phased=False)
    # meaningful only if the variants really create, keep and remove sites
    assert {"both", "reference", "alternative"} <= {row[3] for row in rows}
    assert any(row[3] == "both" and row[7] for row in rows)


@pytest.mark.parametrize("limits", [
    {"mismatches": 3},
    {"mismatches": 2, "dna_bulges": 1, "rna_bulges": 1},
    {"mismatches": 3, "dna_bulges": 1},
])
def test_phased_sample_equals_bruteforce(tmp_path, limits):
    rows = []
    for seed in range(3):
        rows += run_case(tmp_path / f"s{seed}", 1000 + 10 * len(limits) + seed, 0, limits,
                         phased=True)
    assert {"both", "reference", "alternative"} <= {row[3] for row in rows}
    assert {"1", "2", None} <= {row[5] for row in rows}


def test_windows_packed_into_many_contigs(tmp_path, monkeypatch):
    """Windows split over many small pack contigs give the same (brute-force) result."""
    from pmcore import variant_search

    monkeypatch.setattr(variant_search, "PACK_BASES", 150)
    rows = run_case(tmp_path / "a", 7, 0, {"mismatches": 3, "dna_bulges": 1, "rna_bulges": 1},
                    phased=False)
    assert {"reference", "alternative"} <= {row[3] for row in rows}


def test_real_sequence_phased_sample_equals_bruteforce(tmp_path, shared_data):
    """E. coli sequence (first 150 kbp), guides taken from it, a phased sample with
    variants around the reference sites and elsewhere."""
    import gzip

    path = shared_data / "genomes" / "ecoli_mg1655.fa.gz"
    if not path.exists():
        pytest.skip(f"{path} not found")
    seq = []
    with gzip.open(path, "rt") as fh:
        name = fh.readline()[1:].split()[0]
        for line in fh:
            if line.startswith(">") or sum(map(len, seq)) > 150_000:
                break
            seq.append(line.strip().upper())
    genome = {name: "".join(seq)[:150_000]}
    rng = random.Random(5)
    nuc = resolve_nuclease("SpCas9")
    limits = {"mismatches": 4, "dna_bulges": 1, "rna_bulges": 1}
    text = genome[name]
    starts = [m for m in range(1000, len(text) - 30, 997) if text[m + 21:m + 23] == "GG"]
    guides = [GuideRecord(f"g{i}", text[p:p + 20], i + 1)
              for i, p in enumerate(rng.sample(starts, 6))]
    write_fasta(tmp_path / "g.fa", genome)
    build_store(tmp_path / "g.fa", tmp_path / "g.pmg")
    hits = search_all(tmp_path, "probe", genome, guides, nuc, limits)
    sites = [(h["chrom"], h["start"], h["end"], text[h["start"]:h["end"]]) for h in hits]
    vars_ = random_variants(rng, genome, sites, 40, non_overlapping=True)
    gts = ["0|1", "1|0", "1|1", "0/1"]
    records = [(c, p, ref, alt, f"v{i}", "AF=0.01", [rng.choice(gts)])
               for i, (c, p, ref, alt) in enumerate(vars_)]
    write_vcf(tmp_path / "s.vcf", genome, records, samples=["P"])
    haps = []
    for k in (0, 1):
        vs = [(c, *trim(p, ref, alt), vid) for c, p, ref, alt, vid, _, (gt,) in records
              if ("|" in gt and gt.split("|")[k] == "1")]
        haps.append(({"sample": "P", "haplotype": str(k + 1), "vcf": "s.vcf"}, vs, {}))
    for c, p, ref, alt, vid, _, (gt,) in records:
        if gt == "0/1":
            haps.append(({"sample": "P", "haplotype": None, "vcf": "s.vcf"},
                         [(c, *trim(p, ref, alt), vid)], {}))
    with GenomeStore(tmp_path / "g.pmg") as st:
        table = search_with_variants(st, guides, nuc, [tmp_path / "s.vcf"], threads=2,
                                     **limits)
    got = ours(table)
    assert got == oracle(tmp_path, genome, guides, nuc, limits, haps)
    assert {"both", "reference", "alternative"} <= {row[3] for row in got}
