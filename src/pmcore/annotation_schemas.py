"""Arrow schema of the columns that genome annotation adds to a hits table.

:func:`pmcore.annotation.annotate_hits` appends exactly these columns, in this order, to
any table with ``chrom``/``start``/``end`` (0-based half-open, forward strand). The schema
is versioned on its own so the hits schema and the annotation can evolve separately.
"""

from __future__ import annotations

import polars as pl
import pyarrow as pa

#: Bumped whenever an annotation column is added, removed or changes meaning.
ANNOTATION_SCHEMA_VERSION = "1"

#: Region classes from most to least severe. A site gets the most severe class over every
#: transcript it touches; see docs/annotation.md for the exact rules.
REGION_CLASSES = ("CDS", "UTR", "noncoding_exon", "intron", "promoter", "intergenic")

#: Severity code of each class (higher is more severe); 0 is intergenic.
REGION_SEVERITY = {name: len(REGION_CLASSES) - 1 - i for i, name in enumerate(REGION_CLASSES)}

#: Default promoter window: bases immediately upstream of a transcript start (strand-aware).
DEFAULT_PROMOTER_WINDOW = 1000

_annotation_fields = [
    pa.field("gene_id", pa.string(), nullable=True,
             metadata={"doc": "gene(s) giving the most severe region, comma-joined in genome "
                              "order; null when intergenic"}),
    pa.field("gene_name", pa.string(), nullable=True,
             metadata={"doc": "names of those genes, aligned with gene_id ('.' for a gene "
                              "without a name when several are listed)"}),
    pa.field("gene_biotype", pa.string(), nullable=True,
             metadata={"doc": "biotypes of those genes (gene_biotype / gene_type / biotype), "
                              "aligned with gene_id"}),
    pa.field("region", pa.string(), nullable=True,
             metadata={"doc": "most severe region: CDS > UTR > noncoding_exon > intron > "
                              "promoter > intergenic; null without a gene model"}),
    pa.field("nearest_gene", pa.string(), nullable=True,
             metadata={"doc": "closest gene body (name, else id); ties go to the gene "
                              "first in genome order; null if the contig has no gene"}),
    pa.field("distance_to_gene", pa.int64(), nullable=True,
             metadata={"doc": "0 if the site overlaps the gene body, else the distance "
                              "between the closest bases (1 = adjacent)"}),
    pa.field("regions_flagged", pa.string(), nullable=True,
             metadata={"doc": "names of overlapping user BED regions, distinct, sorted, "
                              "comma-joined; null if none"}),
]

ANNOTATION_SCHEMA = pa.schema(_annotation_fields, metadata={
    b"pmcore.schema": b"annotation",
    b"pmcore.schema_version": ANNOTATION_SCHEMA_VERSION.encode(),
    b"pmcore.coordinates": b"0-based half-open, forward strand",
})

#: The same columns as Polars dtypes (Polars does not keep Arrow field metadata).
ANNOTATION_POLARS_SCHEMA = {
    "gene_id": pl.String,
    "gene_name": pl.String,
    "gene_biotype": pl.String,
    "region": pl.String,
    "nearest_gene": pl.String,
    "distance_to_gene": pl.Int64,
    "regions_flagged": pl.String,
}

#: Column written when a soft-mask source is given (same meaning as in the hits schema).
SOFTMASK_FIELD = pa.field("softmasked", pa.bool_(), nullable=False,
                          metadata={"doc": "any site base lowercase (repeat) in the genome"})

assert list(ANNOTATION_POLARS_SCHEMA) == ANNOTATION_SCHEMA.names
