"""Arrow schemas of every table pmcore writes: the one source of truth.

Coordinates are 0-based half-open on the forward strand of the contig everywhere inside
pmcore; they are converted only at file edges (BED stays 0-based, Cas-OFFinder text is
0-based, 1-based reports say so in their column names).
"""

from __future__ import annotations

import pyarrow as pa

#: Bumped whenever a column is added, removed or changes meaning.
HITS_SCHEMA_VERSION = "1"

_hit_fields = [
    pa.field("query_id", pa.string(), nullable=False,
             metadata={"doc": "guide identifier from the guides file (or q<N>)"}),
    pa.field("guide", pa.string(), nullable=False,
             metadata={"doc": "spacer 5'->3' as searched (DNA letters, uppercase)"}),
    pa.field("chrom", pa.string(), nullable=False,
             metadata={"doc": "contig name: first word of the FASTA header"}),
    pa.field("start", pa.int64(), nullable=False,
             metadata={"doc": "0-based start of the whole site (protospacer+PAM+bulge)"}),
    pa.field("end", pa.int64(), nullable=False,
             metadata={"doc": "0-based exclusive end of the whole site"}),
    pa.field("strand", pa.string(), nullable=False,
             metadata={"doc": "'+' site on the forward strand, '-' on the reverse"}),
    pa.field("aligned_guide", pa.string(), nullable=False,
             metadata={"doc": "guide aligned to the site, PAM pattern included, '-' opposite "
                              "a DNA bulge (extra genome base)"}),
    pa.field("site", pa.string(), nullable=False,
             metadata={"doc": "genome site 5'->3' on the guide's strand, PAM included; "
                              "mismatches lowercase, '-' opposite an RNA bulge"}),
    pa.field("pam", pa.string(), nullable=False,
             metadata={"doc": "genome bases at the PAM, guide's strand"}),
    pa.field("mismatches", pa.int8(), nullable=False),
    pa.field("bulge_type", pa.string(), nullable=False,
             metadata={"doc": "'X' none, 'DNA' extra genome bases, 'RNA' missing genome bases"}),
    pa.field("bulge_size", pa.int8(), nullable=False),
    pa.field("bulge_pos", pa.int8(), nullable=False,
             metadata={"doc": "0-based guide position (5'->3'): first skipped guide base of "
                              "an RNA bulge, or the guide base the extra genome bases of a "
                              "DNA bulge precede; -1 without bulge"}),
    pa.field("dna_bulges", pa.int8(), nullable=False),
    pa.field("rna_bulges", pa.int8(), nullable=False),
    pa.field("softmasked", pa.bool_(), nullable=False,
             metadata={"doc": "any site base lowercase (repeat) in the genome"}),
]

HITS_SCHEMA = pa.schema(_hit_fields, metadata={
    b"pmcore.schema": b"hits",
    b"pmcore.schema_version": HITS_SCHEMA_VERSION.encode(),
    b"pmcore.coordinates": b"0-based half-open, forward strand",
})

GUIDE_STATUS_SCHEMA = pa.schema([
    pa.field("query_id", pa.string(), nullable=False),
    pa.field("guide", pa.string(), nullable=False),
    pa.field("n_hits", pa.int64(), nullable=False),
    pa.field("truncated", pa.bool_(), nullable=False),
], metadata={b"pmcore.schema": b"guide_status", b"pmcore.schema_version": b"1"})
