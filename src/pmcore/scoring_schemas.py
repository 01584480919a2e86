"""Arrow schemas of the scoring outputs: columns added to the hits table and the per-guide
summary table. Versioned like ``pmcore.tables``; see ``docs/scoring.md`` for the meaning of
every column and the rules behind them.
"""

from __future__ import annotations

import pyarrow as pa

from .tables import HITS_SCHEMA

#: Bumped whenever a scoring column is added, removed or changes meaning.
SCORING_SCHEMA_VERSION = "1"


def _f(name, typ, doc, nullable=True):
    return pa.field(name, typ, nullable=nullable, metadata={"doc": doc})


#: Columns ``score_hits`` appends to a hits table (``HITS_SCHEMA``), in this order.
SCORE_FIELDS = [
    _f("cfd", pa.float64(),
       "CFD score (Doench 2016), 0-1; -1.0 when the spacer+PAM holds a letter other than "
       "ACGT (CRISPOR's 'no score'); null when CFD is undefined (see score_note)"),
    _f("mit", pa.float64(),
       "MIT hit score (Hsu 2013), 0-100, spacer only (PAM excluded), unscaled; null when "
       "undefined (bulged sites, non-SpCas9 nucleases; see score_note)"),
    _f("score_note", pa.string(),
       "why cfd/mit is -1 or null; null when both are ordinary numbers"),
    _f("crispor_set", pa.bool_(),
       "site enters the CRISPOR-style specificities: no bulge, <= 4 mismatches, PAM xGG, or "
       "xAG/xGA with unscaled MIT > 1.0", nullable=False),
    _f("mit_weighted", pa.float64(),
       "MIT as summed into the MIT specificity: mit x 0.2 for PAMs not ending in GG; null "
       "when crispor_set is false"),
    _f("is_on_target", pa.bool_(),
       "the perfect match taken as the guide's on-target and left out of the specificities",
       nullable=False),
    _f("base_editor", pa.string(), "base editor checked ('ABE' or 'CBE'); null if none"),
    _f("be_window", pa.string(), "editing window, 1-based protospacer positions 'a-b'"),
    _f("be_positions", pa.string(),
       "comma-separated protospacer positions (1 = PAM-distal) in the window holding the "
       "editable base (A for ABE, C for CBE) on the guide's strand; '' if none"),
    _f("be_editable", pa.bool_(),
       "an editable base lies in the window; null when no base editor was asked for or the "
       "rule does not apply (see score_note)"),
]

SCORED_HITS_SCHEMA = pa.schema(
    list(HITS_SCHEMA) + SCORE_FIELDS,
    metadata={
        b"pmcore.schema": b"scored_hits",
        b"pmcore.schema_version": SCORING_SCHEMA_VERSION.encode(),
        b"pmcore.hits_schema_version": (HITS_SCHEMA.metadata or {}).get(
            b"pmcore.schema_version", b"?"),
        b"pmcore.coordinates": b"0-based half-open, forward strand",
    },
)

#: One row per guide (query_id, guide).
GUIDE_SUMMARY_SCHEMA = pa.schema([
    _f("query_id", pa.string(), "guide identifier", nullable=False),
    _f("guide", pa.string(), "spacer 5'->3'", nullable=False),
    _f("guide_length", pa.int16(), "spacer length", nullable=False),
    _f("pam_pattern", pa.string(), "PAM pattern searched (from aligned_guide)"),
    _f("n_sites", pa.int64(), "rows of this guide in the hits table", nullable=False),
    _f("n_perfect", pa.int64(),
       "perfect matches: 0 mismatches, no bulge, PAM ending in GG (SpCas9)", nullable=False),
    _f("on_target_status", pa.string(),
       "'unique' (one perfect match), 'absent' (none), 'multiple' (several)", nullable=False),
    _f("on_target_flag", pa.bool_(), "true unless on_target_status is 'unique'",
       nullable=False),
    _f("on_target_chrom", pa.string(), "contig of the site taken as the on-target"),
    _f("on_target_start", pa.int64(), "0-based start of that site"),
    _f("on_target_strand", pa.string(), "strand of that site"),
    _f("n_offtargets", pa.int64(),
       "sites in the CRISPOR set, on-target excluded", nullable=False),
    _f("offtarget_counts", pa.string(),
       "CRISPOR-style '0-1-2-3-4': off-targets of the CRISPOR set per mismatch count"),
    _f("class_counts", pa.string(),
       "all sites but the on-target per (mismatches, bulges) class: 'mm:bulges=count' joined "
       "with ';', sorted by bulges then mismatches; null when there is no such site"),
    _f("mit_sum", pa.float64(), "sum of mit_weighted over the off-targets"),
    _f("cfd_sum", pa.float64(), "sum of cfd (>= 0) over the off-targets"),
    _f("mit_specificity", pa.int32(),
       "CRISPOR 5.2 guide MIT specificity: int(round(100/(100+mit_sum)*100))"),
    _f("cfd_specificity", pa.int32(),
       "CRISPOR 5.2 guide CFD specificity: int(round(100/(100+cfd_sum)*100))"),
    _f("guidescan_specificity", pa.float64(),
       "GuideScan-style 1/sum(CFD) over every unbulged site, the on-target included "
       "(+1 in the sum when no perfect match)"),
    _f("guidescan_specificity_bulges", pa.float64(),
       "as guidescan_specificity, with the bulged sites' CFD added to the sum"),
    _f("repeat", pa.bool_(),
       "more than max_occ sites: both CRISPOR specificities set to 0 as CRISPOR does",
       nullable=False),
    _f("n_be_editable", pa.int64(), "sites (on-target excluded) with be_editable true"),
    _f("specificity_note", pa.string(), "why a specificity is null; null otherwise"),
], metadata={
    b"pmcore.schema": b"guide_summary",
    b"pmcore.schema_version": SCORING_SCHEMA_VERSION.encode(),
})

#: Output of ``pmcore score-site --pairs``: the input columns plus these two.
PAIR_SCORE_COLUMNS = ("cfd", "mit")

#: Rows ``pmcore score-site --pairs`` could not score.
PAIR_ERRORS_SCHEMA = pa.schema([
    _f("line", pa.int64(), "1-based line in the pairs file", nullable=False),
    _f("guide", pa.string(), "guide field as read"),
    _f("site", pa.string(), "site field as read"),
    _f("reason", pa.string(), "what is wrong", nullable=False),
], metadata={b"pmcore.schema": b"pair_errors",
             b"pmcore.schema_version": SCORING_SCHEMA_VERSION.encode()})
