"""Arrow schema of variant-aware hits (``pmcore scan --vcf``): the hits columns
(:data:`pmcore.tables.HITS_SCHEMA`) followed by the variant columns below.

Coordinates: ``start``/``end`` are 0-based half-open on the reference contig (for a site
that exists only on an alternative haplotype they are lifted as docs/variants.md says);
``alt_start``/``alt_end`` are 0-based half-open on the alternative haplotype's own
sequence (the reference contig with that haplotype's variants applied).
"""

from __future__ import annotations

import pyarrow as pa

from .tables import HITS_SCHEMA

#: Bumped whenever a variant column is added, removed or changes meaning.
VARIANT_HITS_SCHEMA_VERSION = "1"

#: Values of the ``presence`` column.
PRESENCE_VALUES = ("reference", "alternative", "both")

VARIANT_FIELDS = [
    pa.field("presence", pa.string(), nullable=False,
             metadata={"doc": "'both': the site exists in the reference and on the "
                              "haplotype (always so for sites no variant touches); "
                              "'reference': the haplotype's variants remove it; "
                              "'alternative': only the haplotype has it"}),
    pa.field("vcf", pa.string(), nullable=True,
             metadata={"doc": "VCF file of the haplotype; null for sites no variant touches"}),
    pa.field("sample", pa.string(), nullable=True,
             metadata={"doc": "sample of the haplotype; null for a population file"}),
    pa.field("haplotype", pa.string(), nullable=True,
             metadata={"doc": "'1', '2' or '1,2' (same result on both) for phased or "
                              "homozygous genotypes; null when one allele is applied alone "
                              "(unphased heterozygous call or population file)"}),
    pa.field("variant_ids", pa.list_(pa.string()), nullable=True,
             metadata={"doc": "variants of the haplotype that change the site (reference "
                              "or alternative version); VCF ID or CHROM:POS:REF:ALT"}),
    pa.field("genotype", pa.list_(pa.string()), nullable=True,
             metadata={"doc": "GT of the sample for each of variant_ids (null entries for "
                              "a population file)"}),
    pa.field("allele_frequency", pa.list_(pa.float64()), nullable=True,
             metadata={"doc": "INFO AF of each of variant_ids' alleles (null if absent)"}),
    pa.field("alt_start", pa.int64(), nullable=True,
             metadata={"doc": "0-based start of the site on the haplotype's sequence"}),
    pa.field("alt_end", pa.int64(), nullable=True,
             metadata={"doc": "0-based exclusive end on the haplotype's sequence"}),
    pa.field("alt_aligned_guide", pa.string(), nullable=True),
    pa.field("alt_site", pa.string(), nullable=True,
             metadata={"doc": "the site on the haplotype, as the site column writes it; "
                              "null when the haplotype removes the site"}),
    pa.field("alt_pam", pa.string(), nullable=True),
    pa.field("alt_mismatches", pa.int8(), nullable=True),
    pa.field("alt_cfd", pa.float64(), nullable=True,
             metadata={"doc": "CFD of the alternative site (docs/scoring.md)"}),
    pa.field("alt_mit", pa.float64(), nullable=True,
             metadata={"doc": "MIT of the alternative site (docs/scoring.md)"}),
]

VARIANT_COLUMNS = tuple(f.name for f in VARIANT_FIELDS)

VARIANT_HITS_SCHEMA = pa.schema(list(HITS_SCHEMA) + VARIANT_FIELDS, metadata={
    b"pmcore.schema": b"variant_hits",
    b"pmcore.schema_version": VARIANT_HITS_SCHEMA_VERSION.encode(),
    b"pmcore.hits_schema_version": HITS_SCHEMA.metadata[b"pmcore.schema_version"],
    b"pmcore.coordinates": b"0-based half-open, forward strand; start/end on the reference, "
                           b"alt_start/alt_end on the haplotype",
})
