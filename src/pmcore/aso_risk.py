"""ASO hybridization risk: per-site ddG and risk class, per-ASO summary (Polars / Arrow).

Input contract (what the ASO search hands over)
-----------------------------------------------
``sites``: a Polars frame or Arrow table with

- ``aso_id`` (str), ``aso_aligned`` (ASO 5'->3' with ``-`` opposite extra target bases),
  ``target_aligned`` (target RNA 5'->3' by default, ``-`` opposite extra ASO bases; same
  length as ``aso_aligned``; see :mod:`pmcore.thermo` for the conventions);
- optional: ``site_id``, ``chrom``, ``start``, ``end``, ``strand``, ``region`` (e.g.
  ``exonic``/``intronic``; the search's annotation), ``gene``, ``is_on_target`` (bool).

``asos``: the ASO designs, as a mapping ``aso_id -> AsoDesign`` or a frame with ``aso_id``,
``sequence`` and optional ``design`` columns (see :mod:`pmcore.aso_design`).

Risk class (defaults; every threshold is an option of :class:`RiskThresholds`)
------------------------------------------------------------------------------
edits = mismatches + bulge nucleotides

- ``high``: edits <= 1, or ddG <= 3.0 kcal/mol
- ``medium``: edits <= 2 (or ddG <= ``medium_ddg`` when set)
- ``low``: everything else (>= 3 edits and ddG > 3.0)
- ``on-target``: sites the search marked ``is_on_target`` (excluded from the counts)

Basis: knock-down by RNase H gapmers is regularly observed at sites with one or two
mismatches and rarely beyond (Kamola et al. 2015, Nucleic Acids Res 43:8638; Yoshida et al.
2019, Genes Cells 24:827; Burel et al. 2016, Nucleic Acids Res 44:2093, who also show that
duplex stability predicts intronic off-target reduction), which is why reviews of
individualized ASOs list sites up to two mismatches (FDA draft guidance for individualized ASO
products, 2021). The 3 kcal/mol ddG window -- about a 130-fold weaker affinity at 37 C -- is a
pmcore default that keeps strongly binding mismatched sites (e.g. wobble-like or terminal
mismatches) in the high class; it is a heuristic, not a published cut-off.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import polars as pl
import pyarrow as pa

from . import aso_design
from .aso_design import REGION_GAP, REGION_LABELS, REGION_WING3, REGION_WING5, AsoDesign
from .aso_schemas import (
    ASO_SITES_SCHEMA,
    ASO_SITES_SCHEMA_VERSION,
    ASO_SUMMARY_SCHEMA,
    ASO_SUMMARY_SCHEMA_VERSION,
)
from .errors import InputError
from .thermo import (
    _LUT,
    Conditions,
    duplex_thermo_batch,
    perfect_target,
)
from .thermo_tables import GAP

#: Region annotations counted as exonic / intronic (lower case); anything else is "other".
EXONIC = frozenset({"exon", "exonic", "cds", "utr", "5utr", "3utr", "utr5", "utr3",
                    "five_prime_utr", "three_prime_utr", "transcript", "mrna", "ncrna",
                    "noncoding_exon"})  # the annotation layer's name for exons of non-coding RNAs
INTRONIC = frozenset({"intron", "intronic", "pre-mrna", "premrna"})


@dataclass(frozen=True)
class RiskThresholds:
    """Thresholds of the risk classes (see the module docstring for the basis)."""

    high_max_edits: int = 1
    high_ddg: float = 3.0
    medium_max_edits: int = 2
    medium_ddg: float | None = None
    end_window: int = aso_design.END_WINDOW

    def __post_init__(self):
        if self.high_max_edits < 0 or self.medium_max_edits < self.high_max_edits:
            raise InputError("risk thresholds need 0 <= high_max_edits <= medium_max_edits",
                             record="thresholds")
        if not np.isfinite(self.high_ddg) or self.high_ddg < 0:
            raise InputError("high_ddg must be a finite number >= 0", record="thresholds")
        if self.medium_ddg is not None and self.medium_ddg < self.high_ddg:
            raise InputError("medium_ddg must be >= high_ddg", record="thresholds")
        if self.end_window < 0:
            raise InputError("end_window must be >= 0", record="thresholds")


def classify(edits, ddg, thresholds: RiskThresholds = RiskThresholds()):
    """Vectorised risk class and reason for arrays of edit counts and ddG values.

    >>> classify([0, 2, 4, 4], [0.0, 5.0, 2.0, 6.0])[0].tolist()
    ['high', 'medium', 'high', 'low']
    """
    edits = np.asarray(edits)
    ddg = np.asarray(ddg, dtype=float)
    t = thresholds
    cls = np.full(edits.shape, "low", dtype=object)
    why = np.full(edits.shape, f"edits > {t.medium_max_edits} and ddG > {t.high_ddg:g}",
                  dtype=object)
    medium = edits <= t.medium_max_edits
    if t.medium_ddg is not None:
        medium_d = ddg <= t.medium_ddg
        cls[medium_d] = "medium"
        why[medium_d] = f"ddG <= {t.medium_ddg:g} kcal/mol"
    cls[medium] = "medium"
    why[medium] = f"edits <= {t.medium_max_edits}"
    high_d = ddg <= t.high_ddg
    cls[high_d] = "high"
    why[high_d] = f"ddG <= {t.high_ddg:g} kcal/mol"
    high_e = edits <= t.high_max_edits
    cls[high_e] = "high"
    why[high_e] = f"edits <= {t.high_max_edits}"
    return cls, why


# ----------------------------------------------------------------------------- designs

def _designs(asos) -> dict[str, AsoDesign]:
    if isinstance(asos, Mapping):
        out = {}
        for k, v in asos.items():
            if isinstance(v, AsoDesign):
                out[str(k)] = v
            else:
                out[str(k)] = aso_design.parse_aso(str(v), aso_id=str(k))
        return out
    frame = _to_polars(asos, "ASO table")
    for col in ("aso_id", "sequence"):
        if col not in frame.columns:
            raise InputError(f"ASO table lacks column {col!r}")
    has_design = "design" in frame.columns
    out = {}
    for row in frame.iter_rows(named=True):
        aid = str(row["aso_id"])
        if aid in out:
            raise InputError("duplicate ASO id", record=aid)
        out[aid] = aso_design.parse_aso(row["sequence"] or "",
                                        row["design"] if has_design else None, aso_id=aid)
    return out


def _to_polars(data, what: str) -> pl.DataFrame:
    if isinstance(data, pl.DataFrame):
        return data
    if isinstance(data, (pa.Table, pa.RecordBatch)):
        return pl.from_arrow(data)
    try:
        return pl.DataFrame(data)
    except Exception as exc:  # noqa: BLE001 - any conversion failure is bad input
        raise InputError(f"{what} is not a table: {exc}") from None


# ----------------------------------------------------------------------------- features

def _alignment_features(asos_aln: list[str], targets_aln: list[str], regions: np.ndarray,
                        lengths: np.ndarray, aso_index: np.ndarray, orientation: str,
                        window: int, ids: list[str]):
    """Mismatch / bulge positions and region counts of every site (numpy where possible)."""
    n = len(asos_aln)
    mm_rows, mm_pos, bu_rows, bu_pos = [], [], [], []
    groups: dict[int, list[int]] = {}
    slow = []
    for i, (a, t) in enumerate(zip(asos_aln, targets_aln)):
        if len(a) == len(t) and "-" not in a and "-" not in t:
            groups.setdefault(len(a), []).append(i)
        else:
            slow.append(i)
    for L, members in groups.items():
        sel = np.asarray(members)
        top = _LUT[np.frombuffer("".join(asos_aln[i] for i in members).encode(),
                                 dtype=np.uint8)].reshape(-1, L).astype(np.int16)
        bot = _LUT[np.frombuffer("".join(targets_aln[i] for i in members).encode(),
                                 dtype=np.uint8)].reshape(-1, L).astype(np.int16)
        if orientation == "5to3":
            bot = bot[:, ::-1]
        r, c = np.nonzero(top + bot != 3)
        mm_rows.append(sel[r])
        mm_pos.append((c + 1).astype(np.int16))
    for i in slow:
        a, t = asos_aln[i], targets_aln[i]
        top = _LUT[np.frombuffer(a.encode(), dtype=np.uint8)]
        bot = _LUT[np.frombuffer(t.encode(), dtype=np.uint8)]
        if orientation == "5to3":
            bot = bot[::-1]
        pos = 0
        for tc, bc in zip(top.tolist(), bot.tolist()):
            if tc != GAP:
                pos += 1
            if tc == GAP or bc == GAP:
                bu_rows.append(np.array([i]))
                bu_pos.append(np.array([max(pos, 1)], dtype=np.int16))
            elif tc + bc != 3:
                mm_rows.append(np.array([i]))
                mm_pos.append(np.array([pos], dtype=np.int16))

    def lists(rows_parts, pos_parts):
        if rows_parts:
            rows = np.concatenate(rows_parts)
            pos = np.concatenate(pos_parts).astype(np.int16)
        else:
            rows = np.zeros(0, dtype=np.intp)
            pos = np.zeros(0, dtype=np.int16)
        order = np.lexsort((pos, rows))
        rows, pos = rows[order], pos[order]
        counts = np.bincount(rows, minlength=n)
        offsets = np.zeros(n + 1, dtype=np.int32)
        np.cumsum(counts, out=offsets[1:])
        return rows, pos, offsets

    mrows, mpos, moff = lists(mm_rows, mm_pos)
    brows, bpos, boff = lists(bu_rows, bu_pos)

    def region_of(rows, pos):
        return regions[aso_index[rows], pos - 1]

    mreg = region_of(mrows, mpos)
    labels = np.asarray(REGION_LABELS, dtype=object)[mreg]
    all_rows = np.concatenate([mrows, brows])
    all_pos = np.concatenate([mpos, bpos])
    all_reg = np.concatenate([mreg, region_of(brows, bpos)])
    all_len = lengths[aso_index[all_rows]]
    near = (all_pos <= window) | (all_pos > all_len - window)
    n_gap = np.bincount(all_rows, weights=(all_reg == REGION_GAP), minlength=n)
    n_wing = np.bincount(all_rows, weights=((all_reg == REGION_WING5) |
                                            (all_reg == REGION_WING3)), minlength=n)
    n_end = np.bincount(all_rows, weights=near, minlength=n)
    mm_list = pa.ListArray.from_arrays(pa.array(moff), pa.array(mpos, pa.int16()))
    reg_list = pa.ListArray.from_arrays(pa.array(moff), pa.array(labels.tolist(), pa.string()))
    bu_list = pa.ListArray.from_arrays(pa.array(boff), pa.array(bpos, pa.int16()))
    return (mm_list, reg_list, bu_list, n_gap.astype(np.int16), n_wing.astype(np.int16),
            n_end.astype(np.int16))


def _region_class(region: pl.Series) -> pl.Series:
    low = region.str.to_lowercase()
    return (pl.select(pl.when(low.is_in(list(EXONIC))).then(pl.lit("exonic"))
                      .when(low.is_in(list(INTRONIC))).then(pl.lit("intronic"))
                      .otherwise(pl.lit("other")).alias("region_class"))
            .to_series())


# ----------------------------------------------------------------------------- scoring

def on_target_thermo(designs: Mapping[str, AsoDesign], conditions: Conditions):
    """dG37 and Tm of each ASO's perfect ASO:RNA duplex: ``{aso_id: (dg37, tm)}``."""
    ids = list(designs)
    seqs = [designs[k].sequence for k in ids]
    res = duplex_thermo_batch(seqs, [perfect_target(s) for s in seqs], ids=ids,
                              **_cond_kwargs(conditions))
    return {k: (float(res.dg37[i]), float(res.tm[i])) for i, k in enumerate(ids)}


def _cond_kwargs(c: Conditions) -> dict:
    return {"na_mm": c.na_mm, "mg_mm": c.mg_mm, "oligo_nm": c.oligo_nm,
            "target_nm": c.target_nm}


def score_sites(sites, asos, *, conditions: Conditions | None = None,
                thresholds: RiskThresholds | None = None,
                target_orientation: str = "5to3") -> pl.DataFrame:
    """Score ASO sites: thermodynamics, ddG to on-target, mismatch locations, risk class.

    Returns a Polars frame with the columns of
    :data:`~pmcore.aso_schemas.ASO_SITES_SCHEMA` (in that order). Raises
    :class:`~pmcore.errors.InputError` naming the site on any bad record; nothing is
    returned partially.
    """
    conditions = conditions or Conditions()
    thresholds = thresholds or RiskThresholds()
    designs = _designs(asos)
    df = _to_polars(sites, "site table")
    for col in ("aso_id", "aso_aligned", "target_aligned"):
        if col not in df.columns:
            raise InputError(f"site table lacks column {col!r}")
    n = df.height
    aso_ids = df["aso_id"].cast(pl.String).to_list()
    given = df["site_id"].cast(pl.String).to_list() if "site_id" in df.columns else [None] * n
    site_ids = [s if s is not None else f"{a}:{i}"
                for i, (a, s) in enumerate(zip(aso_ids, given, strict=True))]
    a_aln = df["aso_aligned"].cast(pl.String).to_list()
    t_aln = df["target_aligned"].cast(pl.String).to_list()

    id_list = list(designs)
    id_pos = {k: i for i, k in enumerate(id_list)}
    aso_index = np.empty(n, dtype=np.intp)
    for i, (aid, a, t) in enumerate(zip(aso_ids, a_aln, t_aln)):
        if aid not in id_pos:
            raise InputError(f"site refers to unknown ASO {aid!r}", record=site_ids[i])
        if a is None or t is None:
            raise InputError("missing aligned sequence", record=site_ids[i])
        d = designs[aid]
        if a.replace("-", "").upper().replace("U", "T") != d.sequence:
            raise InputError(f"aligned ASO {a!r} is not ASO {aid!r} ({d.sequence})",
                             record=site_ids[i])
        aso_index[i] = id_pos[aid]

    res = duplex_thermo_batch(a_aln, t_aln, ids=site_ids,
                              target_orientation=target_orientation,
                              **_cond_kwargs(conditions))
    on = on_target_thermo(designs, conditions)
    on_dg = np.array([on[k][0] for k in id_list])
    ddg = res.dg37 - on_dg[aso_index] if n else np.zeros(0)

    maxlen = max((len(d) for d in designs.values()), default=1)
    regions = np.zeros((len(id_list), maxlen), dtype=np.int8)
    lengths = np.zeros(len(id_list), dtype=np.int64)
    for k, d in designs.items():
        regions[id_pos[k], :len(d)] = d.regions()
        lengths[id_pos[k]] = len(d)
    mm_list, reg_list, bu_list, n_gap, n_wing, n_end = _alignment_features(
        a_aln, t_aln, regions, lengths, aso_index, target_orientation,
        thresholds.end_window, site_ids)

    edits = res.n_mismatches + res.n_bulges
    cls, why = classify(edits, ddg, thresholds)
    if "is_on_target" in df.columns:
        on_flag = df["is_on_target"].fill_null(False).cast(pl.Boolean).to_numpy()
    else:
        on_flag = np.zeros(n, dtype=bool)
    cls[on_flag] = "on-target"
    why[on_flag] = "marked on-target by the search"

    def opt(name, dtype):
        if name in df.columns:
            return pa.array(df[name].cast(dtype).to_list(), _arrow(dtype))
        return pa.nulls(n, _arrow(dtype))

    region = df["region"].cast(pl.String) if "region" in df.columns else pl.Series(
        "region", [None] * n, dtype=pl.String)
    if target_orientation == "3to5":
        t_out = [t[::-1] for t in t_aln]
    else:
        t_out = t_aln
    columns = {
        "aso_id": pa.array(aso_ids, pa.string()),
        "site_id": pa.array(site_ids, pa.string()),
        "chrom": opt("chrom", pl.String),
        "start": opt("start", pl.Int64),
        "end": opt("end", pl.Int64),
        "strand": opt("strand", pl.String),
        "region": pa.array(region.to_list(), pa.string()),
        "region_class": pa.array(_region_class(region).to_list(), pa.string()),
        "gene": opt("gene", pl.String),
        "is_on_target": pa.array(on_flag, pa.bool_()),
        "aso_aligned": pa.array(a_aln, pa.string()),
        "target_aligned": pa.array(t_out, pa.string()),
        "dg37": pa.array(res.dg37), "dh": pa.array(res.dh), "ds": pa.array(res.ds),
        "tm": pa.array(res.tm), "ddg": pa.array(ddg, pa.float64()),
        "proxy": pa.array(res.proxy),
        "n_mismatches": pa.array(res.n_mismatches.astype(np.int16)),
        "n_bulges": pa.array(res.n_bulges.astype(np.int16)),
        "mismatch_pos1": mm_list, "mismatch_regions": reg_list, "bulge_pos1": bu_list,
        "n_gap": pa.array(n_gap), "n_wing": pa.array(n_wing), "n_end": pa.array(n_end),
        "risk_class": pa.array(cls.tolist(), pa.string()),
        "risk_reason": pa.array(why.tolist(), pa.string()),
    }
    table = pa.Table.from_pydict(columns, schema=ASO_SITES_SCHEMA)
    return pl.from_arrow(table)


def _arrow(dtype):
    return {pl.String: pa.string(), pl.Int64: pa.int64()}[dtype]


def summarize(scored: pl.DataFrame, asos, *, conditions: Conditions | None = None,
              worst_n: int = 5) -> pl.DataFrame:
    """Per-ASO summary of scored sites (columns of :data:`ASO_SUMMARY_SCHEMA`).

    Every ASO in ``asos`` gets a row, also those without any site.
    """
    conditions = conditions or Conditions()
    designs = _designs(asos)
    on = on_target_thermo(designs, conditions)
    off = scored.filter(~pl.col("is_on_target"))
    counts = off.group_by("aso_id").agg(
        pl.len().alias("n_sites"),
        (pl.col("risk_class") == "high").sum().alias("n_high"),
        (pl.col("risk_class") == "medium").sum().alias("n_medium"),
        (pl.col("risk_class") == "low").sum().alias("n_low"),
        (pl.col("region_class") == "exonic").sum().alias("n_exonic"),
        (pl.col("region_class") == "intronic").sum().alias("n_intronic"),
        (pl.col("region_class") == "other").sum().alias("n_other_region"),
        ((pl.col("risk_class") == "high") & (pl.col("region_class") == "exonic")).sum()
        .alias("n_high_exonic"),
        ((pl.col("risk_class") == "high") & (pl.col("region_class") == "intronic")).sum()
        .alias("n_high_intronic"),
        ((pl.col("n_mismatches") + pl.col("n_bulges")) == 0).sum().alias("n_perfect"),
        pl.col("proxy").sum().alias("n_proxy"),
        pl.col("ddg").min().alias("min_ddg"),
    )
    worst = (off.sort(["aso_id", "dg37", "site_id"])
             .group_by("aso_id", maintain_order=True).head(worst_n)
             .with_columns(pl.format("{} ({}, {} kcal/mol, {} mm)", pl.col("site_id"),
                                     pl.col("risk_class"), pl.col("dg37").round(2),
                                     pl.col("n_mismatches")).alias("w"))
             .group_by("aso_id", maintain_order=True)
             .agg(pl.col("w").str.join("; ").alias("worst_sites")))
    base = pl.DataFrame({
        "aso_id": list(designs),
        "sequence": [d.sequence for d in designs.values()],
        "design": [d.pattern for d in designs.values()],
        "chemistry": [d.chemistry for d in designs.values()],
        "length": [len(d) for d in designs.values()],
        "on_target_dg37": [on[k][0] for k in designs],
        "on_target_tm": [on[k][1] for k in designs],
    }, schema_overrides={"design": pl.String})
    out = base.join(counts, on="aso_id", how="left").join(worst, on="aso_id", how="left")
    int_cols = [f.name for f in ASO_SUMMARY_SCHEMA if pa.types.is_integer(f.type)
                and f.name != "length"]
    out = out.with_columns([pl.col(c).fill_null(0) for c in int_cols]
                           + [pl.col("worst_sites").fill_null("")])
    table = out.select([f.name for f in ASO_SUMMARY_SCHEMA]).to_arrow()
    return pl.from_arrow(table.cast(ASO_SUMMARY_SCHEMA))


# ----------------------------------------------------------------------------- output

def _tsv_frame(df: pl.DataFrame) -> pl.DataFrame:
    """Lists joined by ',' so the frame fits a TSV."""
    return df.with_columns([
        pl.when(pl.col(c).list.len() > 0)
        .then(pl.col(c).cast(pl.List(pl.String)).list.join(","))
        .otherwise(None).alias(c)
        for c, t in df.schema.items() if isinstance(t, pl.List)])


def write_risk_tables(sites: pl.DataFrame, summary: pl.DataFrame, prefix, *,
                      record: dict | None = None) -> list[str]:
    """Write ``PREFIX.sites.parquet/.tsv`` and ``PREFIX.summary.parquet/.tsv`` atomically.

    Parquet files carry the provenance ``record`` plus the schema versions. Returns the paths.
    """
    from .io import open_output_text, write_parquet

    record = dict(record or {})
    paths = []
    for name, df, schema, version in (
            ("sites", sites, ASO_SITES_SCHEMA, ASO_SITES_SCHEMA_VERSION),
            ("summary", summary, ASO_SUMMARY_SCHEMA, ASO_SUMMARY_SCHEMA_VERSION)):
        table = df.to_arrow().cast(schema)
        rec = dict(record, schema=f"aso_{name}", schema_version=version)
        pq_path = f"{prefix}.{name}.parquet"
        write_parquet(table, pq_path, record=rec)
        tsv_path = f"{prefix}.{name}.tsv"
        with open_output_text(tsv_path) as handle:
            _tsv_frame(df).write_csv(handle, separator="\t", null_value="")
        paths += [pq_path, tsv_path]
    return paths
