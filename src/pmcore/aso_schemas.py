"""Arrow schemas of the ASO risk tables (versioned; every table is built against them).

Coordinates follow the rest of pmcore: 0-based half-open on the forward strand of the contig.
ASO positions are 1-based from the ASO 5' end and say so in their column names (``*_pos1``).
Energies in kcal/mol, entropies in cal/(mol*K), temperatures in degrees C.
"""

from __future__ import annotations

import pyarrow as pa

#: Bumped whenever a column is added, removed or changes meaning.
ASO_SITES_SCHEMA_VERSION = "1"
ASO_SUMMARY_SCHEMA_VERSION = "1"


def _f(name, typ, doc, nullable=False):
    return pa.field(name, typ, nullable=nullable, metadata={"doc": doc})


ASO_SITES_SCHEMA = pa.schema([
    _f("aso_id", pa.string(), "ASO identifier"),
    _f("site_id", pa.string(), "site identifier from the search (or <aso_id>:<row>)"),
    _f("chrom", pa.string(), "contig or transcript name", True),
    _f("start", pa.int64(), "0-based start of the target site", True),
    _f("end", pa.int64(), "0-based exclusive end of the target site", True),
    _f("strand", pa.string(), "'+' or '-': strand of the target RNA on the contig", True),
    _f("region", pa.string(), "annotation of the site (exonic, intronic, ...) as given", True),
    _f("region_class", pa.string(), "exonic / intronic / other (from region)"),
    _f("gene", pa.string(), "gene name or id", True),
    _f("is_on_target", pa.bool_(), "the intended target site (given by the search)"),
    _f("aso_aligned", pa.string(), "ASO 5'->3' as aligned, '-' opposite extra target bases"),
    _f("target_aligned", pa.string(), "target RNA 5'->3' as aligned, '-' opposite extra ASO "
                                      "bases"),
    _f("dg37", pa.float64(), "duplex dG at 37 C under the run's conditions, kcal/mol"),
    _f("dh", pa.float64(), "duplex dH, kcal/mol"),
    _f("ds", pa.float64(), "duplex dS (salt-corrected / effective), cal/(mol*K)"),
    _f("tm", pa.float64(), "two-state melting temperature, degrees C"),
    _f("ddg", pa.float64(), "dg37 minus the ASO's perfect on-target dg37, kcal/mol "
                            "(larger = weaker than on-target)"),
    _f("proxy", pa.bool_(), "some term used a DNA/DNA value in place of missing RNA/DNA data"),
    _f("n_mismatches", pa.int16(), "mismatched columns"),
    _f("n_bulges", pa.int16(), "bulge nucleotides (gap columns), either strand"),
    _f("mismatch_pos1", pa.list_(pa.int16()), "1-based ASO positions of mismatches"),
    _f("mismatch_regions", pa.list_(pa.string()),
       "design region of each mismatch: gap, wing5, wing3 or none"),
    _f("bulge_pos1", pa.list_(pa.int16()),
       "1-based ASO position of each bulge (an unpaired ASO base, or the ASO base 5' of an "
       "extra target base)"),
    _f("n_gap", pa.int16(), "mismatches + bulges in the gapmer gap"),
    _f("n_wing", pa.int16(), "mismatches + bulges in either wing"),
    _f("n_end", pa.int16(), "mismatches + bulges within 2 nt of either ASO end"),
    _f("risk_class", pa.string(), "on-target, high, medium or low"),
    _f("risk_reason", pa.string(), "which rule set the class"),
], metadata={
    b"pmcore.schema": b"aso_sites",
    b"pmcore.schema_version": ASO_SITES_SCHEMA_VERSION.encode(),
    b"pmcore.coordinates": b"0-based half-open, forward strand; ASO positions 1-based from 5'",
})

ASO_SUMMARY_SCHEMA = pa.schema([
    _f("aso_id", pa.string(), "ASO identifier"),
    _f("sequence", pa.string(), "ASO DNA 5'->3' (chemistry marks removed)"),
    _f("design", pa.string(), "design pattern as given", True),
    _f("chemistry", pa.string(), "per-position chemistry codes"),
    _f("length", pa.int16(), "ASO length"),
    _f("on_target_dg37", pa.float64(), "dG37 of the perfect ASO:RNA duplex, kcal/mol"),
    _f("on_target_tm", pa.float64(), "Tm of the perfect ASO:RNA duplex, degrees C"),
    _f("n_sites", pa.int64(), "scored sites, on-target sites excluded"),
    _f("n_high", pa.int64(), "high-risk sites"),
    _f("n_medium", pa.int64(), "medium-risk sites"),
    _f("n_low", pa.int64(), "low-risk sites"),
    _f("n_exonic", pa.int64(), "sites in exons (spliced transcripts, CDS, UTR)"),
    _f("n_intronic", pa.int64(), "sites in introns / pre-mRNA only"),
    _f("n_other_region", pa.int64(), "sites elsewhere or not annotated"),
    _f("n_high_exonic", pa.int64(), "high-risk exonic sites"),
    _f("n_high_intronic", pa.int64(), "high-risk intronic sites"),
    _f("n_perfect", pa.int64(), "off-target sites with no mismatch and no bulge"),
    _f("n_proxy", pa.int64(), "sites whose energy used a DNA/DNA proxy value"),
    _f("min_ddg", pa.float64(), "smallest ddg among off-target sites", True),
    _f("worst_sites", pa.string(),
       "up to N most stable off-target sites: site_id (class, dG37, mismatches), ';'-joined"),
], metadata={
    b"pmcore.schema": b"aso_summary",
    b"pmcore.schema_version": ASO_SUMMARY_SCHEMA_VERSION.encode(),
})


# ----------------------------------------------------------------------------- search hits
ASO_HITS_SCHEMA_VERSION = "1"

ASO_HITS_SCHEMA = pa.schema([
    _f("aso_id", pa.string(), "ASO identifier"),
    _f("site_id", pa.string(), "<aso_id>|<chrom>:<genome blocks>:<strand> (or "
                               "<aso_id>|<transcript>:<start>-<end> for a transcript FASTA)"),
    _f("found_in", pa.string(), "pre-mRNA (not inside a mature transcript), pre-mRNA+mRNA "
                                "(inside an exon), mRNA (across an exon-exon junction), "
                                "genome, or transcript (transcript FASTA)"),
    _f("gene_id", pa.string(), "genes whose transcripts contain the site on the site's "
                               "strand, comma-joined", True),
    _f("gene", pa.string(), "their names (id where unnamed), comma-joined", True),
    _f("transcripts", pa.list_(pa.string()),
       "spliced transcripts containing the whole site (model order)"),
    _f("tx_starts", pa.list_(pa.int64()),
       "0-based start of the site in each transcript (5'->3' transcript coordinates)"),
    _f("tx_ends", pa.list_(pa.int64()), "0-based exclusive end in each transcript"),
    _f("premrna_transcripts", pa.list_(pa.string()),
       "transcripts whose unspliced pre-mRNA holds the site (empty for junction sites)"),
    _f("premrna_starts", pa.list_(pa.int64()),
       "0-based start of the site on each of those pre-mRNAs, from the transcript's 5' end "
       "(end = start + end - start of the genome span)"),
    _f("region", pa.string(), "CDS, UTR, noncoding_exon, exon_intron (crosses an exon "
                              "boundary on the pre-mRNA), intron, antisense (only "
                              "opposite-strand transcripts), intergenic, transcript; "
                              "most severe over the transcripts", True),
    _f("region_class", pa.string(), "exonic / intronic / other (from region)"),
    _f("spans_junction", pa.bool_(), "the site crosses an exon-exon junction"),
    _f("chrom", pa.string(), "contig (null for an unmapped transcript FASTA record)", True),
    _f("start", pa.int64(), "0-based genome start of the site's first block", True),
    _f("end", pa.int64(), "0-based exclusive genome end of its last block", True),
    _f("strand", pa.string(), "'+'/'-': strand of the target RNA (the sense strand)", True),
    _f("genome_blocks", pa.string(), "0-based half-open genome blocks 's-e[,s-e]' of the "
                                     "target bases", True),
    _f("aso_aligned", pa.string(), "ASO 5'->3', '-' opposite extra target bases"),
    _f("target_aligned", pa.string(), "target RNA 5'->3' (U), mismatches lowercase, '-' "
                                      "opposite extra ASO bases"),
    _f("target_3to5", pa.string(), "target_aligned reversed: written 3'->5' under the ASO"),
    _f("match_line", pa.string(), "per column under the ASO: '|' pair, '.' mismatch, ' ' gap"),
    _f("n_mismatches", pa.int16(), "mismatched columns"),
    _f("bulge_type", pa.string(), "none, target (extra RNA bases) or aso (extra ASO bases)"),
    _f("n_bulges", pa.int16(), "bulge nucleotides (one internal bulge at most)"),
    _f("mismatch_pos1", pa.list_(pa.int16()), "1-based ASO positions (from 5') of mismatches"),
    _f("mismatch_regions", pa.list_(pa.string()), "gap, wing5, wing3 or none per mismatch"),
    _f("mismatch_location", pa.list_(pa.string()),
       "end (within 2 nt of an ASO end), else gap / wing / none, per mismatch"),
    _f("bulge_pos1", pa.list_(pa.int16()),
       "1-based ASO position of each bulge nt (an unpaired ASO base, or the ASO base 5' of "
       "an extra target base)"),
    _f("n_gap", pa.int16(), "mismatches + bulges in the gapmer gap"),
    _f("n_wing", pa.int16(), "mismatches + bulges in either wing"),
    _f("n_end", pa.int16(), "mismatches + bulges within 2 nt of either ASO end"),
    _f("dg37", pa.float64(), "duplex dG at 37 C, kcal/mol"),
    _f("dh", pa.float64(), "duplex dH, kcal/mol"),
    _f("ds", pa.float64(), "duplex dS, cal/(mol*K)"),
    _f("tm", pa.float64(), "two-state Tm, degrees C"),
    _f("ddg", pa.float64(), "dg37 minus the perfect on-target dg37, kcal/mol"),
    _f("proxy", pa.bool_(), "energy used a DNA/DNA proxy value"),
    _f("risk_class", pa.string(), "on-target, high, medium or low"),
    _f("risk_reason", pa.string(), "which rule set the class"),
    _f("is_on_target", pa.bool_(), "perfect site in the ASO's target (see docs/aso.md)"),
    _f("redundant", pa.bool_(), "overlaps a better site of the same ASO on the same strand "
                                "(left out of the summary)"),
], metadata={
    b"pmcore.schema": b"aso_hits",
    b"pmcore.schema_version": ASO_HITS_SCHEMA_VERSION.encode(),
    b"pmcore.coordinates": b"0-based half-open, forward strand; ASO positions 1-based from 5'",
})
