"""``pmcore run``: every step of the per-variant safety and CMC job, from a manifest.

Steps: index the genome (unless it is a ``.pmg``), check every variant against its stated
on-target locus, gRNA off-target scan + scoring + annotation, VCF-aware search (patient
and population variants), ASO on-target duplex and genome-wide ASO search (when the
engine has it), stability shelf life and relative potency, then the summary tables and
reports (:mod:`pmcore.summary`, :mod:`pmcore.report`).

Everything is written to a temporary folder beside the output folder and moved into place
at the end, so bad input (exit 2) or a failure leaves the previous results untouched and
nothing half-written. Expensive steps (index, scans, ASO search) are cached in
``OUTDIR/.cache`` under a digest of their inputs' content and settings; a rerun with
unchanged inputs reuses them (hard links, so the cache costs no extra disk).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
import pyarrow as pa

from .errors import InputError
from .io import file_digest, provenance, write_parquet
from .manifest import Manifest, load_manifest
from .summary_schemas import (
    FIGURES_SCHEMA,
    RUN_ERRORS_SCHEMA,
    SUMMARY_SCHEMA_VERSION,
    VARIANTS_SCHEMA,
)

log = logging.getLogger("pmcore.pipeline")

#: Marker file that identifies a pmcore results folder (the only kind ``run`` replaces).
MARKER = ".pmcore-results"
CACHE_DIR = ".cache"
CACHE_VERSION = "1"

_COMP = str.maketrans("ACGTN", "TGCAN")


def revcomp(s: str) -> str:
    return s.translate(_COMP)[::-1]


@dataclass
class RunResult:
    outdir: Path
    report_html: Path
    report_md: Path
    summary: pa.Table
    reused: list = field(default_factory=list)
    computed: list = field(default_factory=list)
    seconds: float = 0.0


# ------------------------------------------------------------------------------ cache

class StepCache:
    """Content-addressed step results: ``.cache/<step>-<digest>/`` with a ``done`` marker.

    Entries are read from the previous results folder's cache and linked into the new
    one, so the cache always holds exactly what the current results were built from.
    """

    def __init__(self, old_root: Path | None, new_root: Path):
        self.old_root, self.new_root = old_root, new_root
        self.reused: list = []
        self.computed: list = []

    @staticmethod
    def key(*parts) -> str:
        return hashlib.sha256(json.dumps([CACHE_VERSION, *parts], sort_keys=True,
                                         default=str).encode()).hexdigest()[:32]

    def lookup(self, step: str, key: str) -> Path | None:
        name = f"{step}-{key}"
        new = self.new_root / name
        if (new / "done").is_file():
            return new
        if self.old_root is None:
            return None
        old = self.old_root / name
        if not (old / "done").is_file():
            return None
        new.mkdir(parents=True, exist_ok=True)
        for f in old.iterdir():
            try:
                os.link(f, new / f.name)
            except OSError:
                shutil.copy2(f, new / f.name)
        self.reused.append(step)
        return new

    @contextlib.contextmanager
    def entry(self, step: str, key: str):
        """A fresh entry folder; marked done only when the block succeeds."""
        d = self.new_root / f"{step}-{key}"
        if d.exists():
            shutil.rmtree(d)
        d.mkdir(parents=True)
        yield d
        (d / "done").write_text("")
        self.computed.append(step)


def _digest(path) -> str:
    return file_digest(path) if path is not None else ""


# --------------------------------------------------------------------- on-target checks

def _iupac_ok(pattern: str, seq: str) -> bool:
    from .nucleases import IUPAC

    return len(pattern) == len(seq) and all(b in IUPAC[p] for p, b in zip(pattern, seq))


def _guide_at_locus(seq: str, guide: str, nuclease) -> bool:
    """Does the locus sequence hold guide + PAM (3') or PAM + guide (5') on either strand?"""
    pam, L, P = nuclease.pam, len(guide), len(nuclease.pam)
    for s in (seq, revcomp(seq)):
        i = s.find(guide)
        while i >= 0:
            window = s[i + L:i + L + P] if nuclease.pam_side == 3 else s[max(i - P, 0):i]
            if _iupac_ok(pam, window):
                return True
            i = s.find(guide, i + 1)
    return False


def check_on_targets(m: Manifest, store, nuclease) -> dict:
    """Raise :class:`InputError` naming the variant whose sequence does not match its
    stated on-target locus; returns ``variant_id -> True`` for the checked ones."""
    names = {c.name: c.length for c in store.contigs}
    checked = {}
    for v in m.variants:
        if v.on_target is None:
            continue
        loc = v.on_target
        if loc.chrom not in names:
            raise InputError(f"on_target contig {loc.chrom!r} is not in the genome (contigs: "
                             f"{', '.join(list(names)[:5])}{'...' if len(names) > 5 else ''})",
                             path=m.path, record=v.id)
        if loc.end > names[loc.chrom]:
            raise InputError(f"on_target {loc} runs past the end of {loc.chrom} "
                             f"({names[loc.chrom]} bp)", path=m.path, record=v.id)
        seq = store.fetch(loc.chrom, loc.start, loc.end, soft=False).upper()
        if v.is_grna:
            nuclease.check_spacer_length(len(v.sequence), record=v.id, path=m.path)
            ok = _guide_at_locus(seq, v.sequence, nuclease)
            what = f"guide {v.sequence} with a {nuclease.pam} PAM"
        else:
            target = revcomp(v.sequence)  # the target RNA, as DNA letters
            ok = target in seq or v.sequence in seq
            what = f"the target of ASO {v.sequence}"
        if not ok:
            raise InputError(f"the stated on-target locus {loc} does not contain {what} on "
                             f"either strand (locus sequence {seq[:60]}"
                             f"{'...' if len(seq) > 60 else ''})", path=m.path, record=v.id)
        checked[v.id] = True
    return checked


# ------------------------------------------------------------------------------ steps

def _index(m: Manifest, cache: StepCache, progress=None) -> tuple[Path, str]:
    from .genome import build_store, sniff_format

    if not m.genome.is_dir() and sniff_format(m.genome) == "pmg":
        return m.genome, _digest(m.genome)
    if m.genome.is_dir():
        from .genome import genome_sources

        digest = StepCache.key([file_digest(p) for p in genome_sources(m.genome)])
    else:
        digest = file_digest(m.genome)
    key = StepCache.key("index", digest)
    hit = cache.lookup("index", key)
    if hit is not None:
        return hit / "genome.pmg", digest
    with cache.entry("index", key) as d:
        build_store(m.genome, d / "genome.pmg", progress=progress)
    return d / "genome.pmg", digest


def _nuclease(m: Manifest):
    from .nucleases import resolve_nuclease

    e = m.editor
    return resolve_nuclease(e.nuclease, e.pam, e.pam_side)


def _empty_hits() -> pa.Table:
    from .tables import HITS_SCHEMA

    return HITS_SCHEMA.empty_table()


def _grna_scan(m, store, nuclease, genome_digest, cache, threads, progress=None) -> pa.Table:
    import pyarrow.parquet as pq

    from .guides import GuideRecord
    from .offtarget import GuideSearch

    grna = m.grna_variants()
    e = m.editor
    key = StepCache.key("scan", genome_digest, [(v.id, v.sequence) for v in grna],
                        nuclease.pam, nuclease.pam_side, e.mismatches, e.dna_bulges,
                        e.rna_bulges)
    hit = cache.lookup("scan", key)
    if hit is not None:
        return pq.read_table(hit / "hits.parquet")
    records = [GuideRecord(v.id, v.sequence, i + 1, v.id) for i, v in enumerate(grna)]
    search = GuideSearch(store, records, nuclease, mismatches=e.mismatches,
                         dna_bulges=e.dna_bulges, rna_bulges=e.rna_bulges, threads=threads,
                         progress=progress)
    batches = list(search.batches())
    table = pa.Table.from_batches(batches) if batches else _empty_hits()
    with cache.entry("scan", key) as d:
        pq.write_table(table, d / "hits.parquet")
    return table


def _variant_scan(m, store, nuclease, genome_digest, cache, threads, notes,
                  reference_hits: pa.Table | None = None) -> pa.Table | None:
    import pyarrow.parquet as pq

    vcfs = [*m.patient_vcfs, *m.population_vcfs]
    if not vcfs or not m.grna_variants():
        return None
    try:
        from .variant_search import search_with_variants
    except ImportError as exc:  # the VCF-aware engine is not part of this build
        notes.setdefault("*", []).append(
            f"VCF-aware off-target search is not available in this pmcore build ({exc}); "
            "patient- and population-specific sites were not searched")
        return None
    from .guides import GuideRecord

    grna = m.grna_variants()
    e = m.editor
    key = StepCache.key("variants", genome_digest, [(v.id, v.sequence) for v in grna],
                        nuclease.pam, nuclease.pam_side, e.mismatches, e.dna_bulges,
                        e.rna_bulges, [file_digest(p) for p in vcfs],
                        [str(p) for p in vcfs], m.samples, _digest(m.chrom_alias))
    hit = cache.lookup("variants", key)
    if hit is not None:
        return pq.read_table(hit / "variant_hits.parquet")
    records = [GuideRecord(v.id, v.sequence, i + 1, v.id) for i, v in enumerate(grna)]
    warnings: list = []
    table = search_with_variants(store, records, nuclease, [str(p) for p in vcfs],
                                 mismatches=e.mismatches, dna_bulges=e.dna_bulges,
                                 rna_bulges=e.rna_bulges, threads=threads,
                                 chrom_alias=None if m.chrom_alias is None else str(m.chrom_alias),
                                 samples=m.samples, warnings=warnings,
                                 reference_hits=reference_hits)
    for w in warnings[:20]:
        notes.setdefault("*", []).append(f"VCF: {w}")
    with cache.entry("variants", key) as d:
        pq.write_table(table, d / "variant_hits.parquet")
    return table


def _aso_steps(m, store, gm, regions, checked, cache, genome_digest, threads, notes, errors):
    """On-target duplex of every ASO variant, and the genome-wide search when present."""
    from .aso_design import parse_aso
    from .thermo import duplex_thermo, perfect_target

    rows, designs = [], {}
    for v in m.aso_variants():
        chem = v.chemistry or m.aso.chemistry
        designs[v.id] = parse_aso(v.sequence, chem, aso_id=v.id)
        th = duplex_thermo(v.sequence, perfect_target(v.sequence), na_mm=m.aso.na_mm,
                           mg_mm=m.aso.mg_mm)
        rows.append({"variant_id": v.id, "sequence": v.sequence, "chemistry": chem,
                     "dg37": th.dg37, "dh": th.dh, "ds": th.ds, "tm": th.tm,
                     "na_mm": m.aso.na_mm, "mg_mm": m.aso.mg_mm,
                     "on_target_found": checked.get(v.id)})
    if not rows:
        return None, None
    ontarget = pl.DataFrame(rows)
    hits = None
    try:
        from . import aso as aso_engine
        search = aso_engine.search_asos
    except (ImportError, AttributeError):
        search = None
    if search is None:
        for v in m.aso_variants():
            notes.setdefault(v.id, []).append(
                "genome-wide ASO hybridization search is not available in this pmcore "
                "build: only the on-target duplex was computed")
        return ontarget, None
    try:
        hits = _run_aso_search(search, m, store, gm, designs, cache, genome_digest, threads)
        if regions is not None and hits.height:
            flags = regions.flag(hits["chrom"].to_numpy(), hits["start"].to_numpy(),
                                 hits["end"].to_numpy())
            hits = hits.with_columns(pl.Series("regions_flagged", list(flags), pl.String))
    except InputError:
        raise
    except Exception as exc:  # an engine failure must not hide the rest of the report
        log.exception("ASO search failed")
        for v in m.aso_variants():
            errors.append({"step": "aso_search", "variant_id": v.id, "record": None,
                           "reason": f"ASO search failed: {exc}"})
        return ontarget, None
    return ontarget, hits


def _run_aso_search(search, m, store, gm, designs, cache, genome_digest, threads):
    """Genome-wide / transcriptome ASO hybridization search (:func:`pmcore.aso.search_asos`)."""
    import pyarrow.parquet as pq

    from .thermo import Conditions

    mode = m.aso.mode or ("premrna+transcripts" if gm is not None else "genome")
    key = StepCache.key("aso", genome_digest, _digest(m.annotation), _digest(m.chrom_alias),
                        [(k, repr(d)) for k, d in designs.items()],
                        m.aso.mismatches, m.aso.bulges, mode, m.aso.na_mm, m.aso.mg_mm)
    hit = cache.lookup("aso", key)
    if hit is not None:
        return pl.from_arrow(pq.read_table(hit / "aso_hits.parquet"))
    result = search(store, designs, gene_model=gm, mode=mode,
                    max_mismatches=m.aso.mismatches, max_bulges=m.aso.bulges,
                    threads=threads, conditions=Conditions(na_mm=m.aso.na_mm,
                                                           mg_mm=m.aso.mg_mm))
    df = result.hits
    with cache.entry("aso", key) as d:
        df.write_parquet(d / "aso_hits.parquet")
    return df


def _load_cmc(m: Manifest, kind: str):
    """Concatenate the shared table's rows and the variants' own files; a variant file
    replaces the shared rows of that variant. Returns (frame or None, sources)."""
    from . import cmc

    loader = cmc.load_stability if kind == "stability" else cmc.load_potency
    shared_path = getattr(m.cmc, kind)
    frames, sources = [], {}
    own = {v.id: getattr(v, kind) for v in m.variants if getattr(v, kind) is not None}
    if shared_path is not None:
        df = loader(shared_path)
        if "variant_id" not in df.columns:
            raise InputError(f"the shared {kind} table needs a variant_id column to say "
                             "which rows belong to which variant", path=shared_path)
        df = df.with_columns(pl.col("variant_id").cast(pl.String))
        df = df.filter(~pl.col("variant_id").is_in(list(own)))
        present = set(df["variant_id"].drop_nulls().unique().to_list())
        for v in m.variants:
            if v.id in present:
                sources[v.id] = "shared file"
        frames.append(df)
    for vid, path in own.items():
        df = loader(path)
        if "variant_id" in df.columns:
            other = set(df["variant_id"].cast(pl.String).drop_nulls().unique().to_list()) - {vid}
            if other:
                raise InputError(f"variant {vid}'s {kind} file holds rows of other variants "
                                 f"({', '.join(sorted(other))})", path=path, record=vid)
        df = df.with_columns(pl.lit(vid).alias("variant_id"))
        sources[vid] = f"variant file {path.name}"
        frames.append(df)
    if not frames:
        return None, sources
    casted = [f.with_columns(pl.all().cast(pl.String)) for f in frames]
    return pl.concat(casted, how="diagonal"), sources


def _cmc_steps(m: Manifest, work: Path, errors: list, figures: list, draw: bool = True):
    from . import cmc
    from .cmc import plots

    shelf = rp = None
    stab_df, stab_src = _load_cmc(m, "stability")
    pot_df, pot_src = _load_cmc(m, "potency")
    fig_dir = work / "figures"
    variant_ids = {v.id for v in m.variants}
    if stab_df is not None:
        opts = cmc.StabilityOptions(lower=m.cmc.lower, upper=m.cmc.upper,
                                    platform_leverage=m.cmc.platform_leverage)
        res = cmc.analyze_stability(stab_df, opts)
        shelf = pl.from_arrow(res.shelf_life)
        for e in pl.from_arrow(res.errors).iter_rows(named=True):
            errors.append({"step": "stability", "variant_id": e["variant_id"],
                           "record": e["series"], "reason": e["reason"]})
        write_parquet(res.lots, work / "stability_lots.parquet")
        write_parquet(res.poolability, work / "stability_poolability.parquet")
        try:
            # only the manifest's variants are drawn (platform rows only lend slopes)
            mine = pl.from_arrow(res.shelf_life).with_row_index("_i").filter(
                pl.col("variant_id").is_in(list(variant_ids)))["_i"].to_list()
            sub = dataclasses.replace(res, shelf_life=res.shelf_life.take(mine))
            files = plots.plot_stability(sub, fig_dir, options=opts) if draw else []
            for row, f in zip(pl.from_arrow(sub.shelf_life).iter_rows(named=True), files):
                if row["variant_id"] in variant_ids:
                    figures.append({
                        "variant_id": row["variant_id"], "kind": "stability",
                        "caption": f"Stability, {row['condition']} {row['attribute']}: "
                                   f"{row['model'].replace('_', ' ')} model",
                        "file": str(Path(f).relative_to(work))})
        except Exception as exc:  # noqa: BLE001 - a plot never stops the run
            errors.append({"step": "plots", "variant_id": None, "record": "stability",
                           "reason": str(exc)})
    if pot_df is not None:
        popts = cmc.PotencyOptions(reference=m.cmc.reference)
        for c in ("dose", "response"):
            if c in pot_df.columns:
                pot_df = pot_df.with_columns(pl.col(c).cast(pl.Float64, strict=False))
        pres = cmc.analyze_potency(pot_df, popts)
        rp = pl.from_arrow(pres.rp)
        for e in pl.from_arrow(pres.errors).iter_rows(named=True):
            errors.append({"step": "potency", "variant_id": e["variant_id"],
                           "record": e["series"], "reason": e["reason"]})
        write_parquet(pres.params, work / "potency_params.parquet")
        try:
            files = plots.plot_potency(pres, fig_dir) if draw else []
            labels = []
            for c in pres.curves:
                if c["label"] not in [x[0] for x in labels]:
                    key = c.get("key") if isinstance(c.get("key"), dict) else {}
                    where = ", ".join(f"{k} {v}" for k, v in key.items()
                                      if v and k != "variant_id")
                    labels.append((c["label"], key.get("variant_id"), where))
            for (_, vid, where), f in zip(labels, files):
                if vid in variant_ids:
                    figures.append({"variant_id": vid, "kind": "potency",
                                    "caption": f"Potency against {m.cmc.reference}: {where} "
                                               "(4PL fits; dashed: parallel fit)",
                                    "file": str(Path(f).relative_to(work))})
        except Exception as exc:  # noqa: BLE001 - a plot never stops the run
            errors.append({"step": "plots", "variant_id": None, "record": "potency",
                           "reason": str(exc)})
    return shelf, rp, stab_src, pot_src


def _variants_table(m: Manifest, nuclease, stab_src, pot_src) -> pa.Table:
    rows = []
    for v in m.variants:
        if v.is_grna:
            editor = f"{nuclease.name} ({nuclease.pam})"
            if v.modality == "base_editor":
                editor = f"{m.editor.base_editor or 'ABE'} base editor, {editor}"
        else:
            editor = None
        rows.append({
            "variant_id": v.id, "platform": m.platform, "modality": v.modality,
            "patient": v.patient, "mutation": v.mutation, "gene": v.gene,
            "sequence": v.sequence,
            "chemistry": (v.chemistry or m.aso.chemistry) if v.modality == "aso" else None,
            "editor": editor,
            "on_target_chrom": v.on_target.chrom if v.on_target else None,
            "on_target_start": v.on_target.start if v.on_target else None,
            "on_target_end": v.on_target.end if v.on_target else None,
            "stability_source": stab_src.get(v.id), "potency_source": pot_src.get(v.id),
            "notes": v.notes})
    return pa.Table.from_pylist(rows, schema=VARIANTS_SCHEMA)


def run_info(m: Manifest, nuclease, notes: dict, record: dict) -> dict:
    """What the summary and the reports need to know about the run (``run.json``)."""
    return {
        "platform": {"name": m.platform, "modality": m.modality, "description": m.description,
                     "genome": m.genome_label or m.genome.name,
                     "annotation": m.annotation and m.annotation.name,
                     "regions": [p.name for p in m.regions],
                     "patient_vcfs": [p.name for p in m.patient_vcfs],
                     "population_vcfs": [p.name for p in m.population_vcfs],
                     "editor": None if nuclease is None else {
                         "nuclease": nuclease.name, "pam": nuclease.pam,
                         "base_editor": m.editor.base_editor,
                         "window": list(m.editor.window), "mismatches": m.editor.mismatches,
                         "dna_bulges": m.editor.dna_bulges, "rna_bulges": m.editor.rna_bulges},
                     "aso": {"chemistry": m.aso.chemistry, "mismatches": m.aso.mismatches,
                             "na_mm": m.aso.na_mm, "mg_mm": m.aso.mg_mm}
                     if m.aso_variants() else None,
                     "cmc": {"reference": m.cmc.reference,
                             "platform_leverage": m.cmc.platform_leverage}},
        "patient_vcfs": [str(p) for p in m.patient_vcfs],
        "min_shelf_life_months": m.cmc.min_shelf_life_months,
        "long_term_conditions": None if m.cmc.long_term is None else list(m.cmc.long_term),
        "notes": notes,
        "provenance": record,
        "manifest": m.to_dict(),
    }


# --------------------------------------------------------------------------- the run

def _prepare_outdir(outdir: Path) -> Path | None:
    """Refuse to replace a folder pmcore did not write; return its cache, if any."""
    if outdir.exists():
        if not outdir.is_dir():
            raise InputError("output exists and is not a folder", path=outdir)
        if any(outdir.iterdir()) and not (outdir / MARKER).exists():
            raise InputError("output folder exists, is not empty and was not written by "
                             "pmcore run; choose another -o", path=outdir)
        cache = outdir / CACHE_DIR
        return cache if cache.is_dir() else None
    return None


def _swap_into_place(work: Path, outdir: Path) -> None:
    if outdir.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{outdir.name}.old-", dir=outdir.parent))
        old.rmdir()
        outdir.rename(old)
        work.rename(outdir)
        shutil.rmtree(old, ignore_errors=True)
    else:
        work.rename(outdir)


def run_pipeline(manifest, outdir, *, threads: int = 1, command: str | None = None,
                 progress=None, echo=None, extra_info: dict | None = None,
                 figures: bool = True, scan_progress=None) -> RunResult:
    """Run a manifest into ``outdir`` (see module docs); returns what was written.

    ``figures=False`` skips the stability and potency plots (the slowest part of a small
    run); the safety figures of the HTML report are always drawn. ``progress`` is called
    per indexed contig and ``scan_progress(done, total)`` during the gRNA scan."""
    from .annotation import annotate_hits, load_annotation_sources
    from .genome import GenomeStore
    from .scoring import score_hits

    t0 = time.perf_counter()
    say = echo or (lambda msg: log.info(msg))
    m = manifest if isinstance(manifest, Manifest) else load_manifest(manifest)
    outdir = Path(outdir).absolute()
    old_cache = _prepare_outdir(outdir)
    outdir.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{outdir.name}.tmp-", dir=outdir.parent))
    try:
        (work / MARKER).write_text("pmcore run results\n")
        cache = StepCache(old_cache, work / CACHE_DIR)
        notes: dict = {}
        errors: list = []
        nuclease = _nuclease(m) if m.grna_variants() else None
        store_path, genome_digest = _index(
            m, cache, progress or (lambda c: log.info("indexed %s (%d bp)", c.name, c.length)))
        record = provenance(command=command, inputs=[m.path, *m.input_files()],
                            manifest_digest=m.digest(),
                            summary_schema_version=SUMMARY_SCHEMA_VERSION)
        with GenomeStore(store_path) as store:
            say(f"genome: {store.total_bases:,} bp in {len(store.contigs)} contig(s)")
            checked = check_on_targets(m, store, nuclease)
            lengths = {c.name: c.length for c in store.contigs}
            gm, regions = load_annotation_sources(
                lengths, gtf=m.annotation, beds=list(m.regions),
                chrom_alias=None if m.chrom_alias is None else str(m.chrom_alias))
            if m.annotation is None:
                notes.setdefault("*", []).append("no annotation: regions are not classified")
            if m.grna_variants():
                raw = _grna_scan(m, store, nuclease, genome_digest, cache, threads,
                                 scan_progress)
                on_target = {v.id: (v.on_target.chrom, v.on_target.start, v.on_target.end)
                             for v in m.grna_variants() if v.on_target is not None}
                be = m.editor.base_editor or ("ABE" if any(
                    v.modality == "base_editor" for v in m.grna_variants()) else None)
                scored, guides = score_hits(raw, base_editor=be, window=m.editor.window,
                                            on_target=on_target or None, summary=True)
                if be is not None:
                    nucl_ids = [v.id for v in m.grna_variants() if v.modality == "nuclease"]
                    if nucl_ids:
                        scored = scored.with_columns(
                            pl.when(pl.col("query_id").is_in(nucl_ids)).then(None)
                            .otherwise(pl.col("be_editable")).alias("be_editable"))
                hits = annotate_hits(scored, gene_model=gm, regions=regions, softmask=store)
                write_parquet(hits, work / "hits.parquet", record)
                write_parquet(guides, work / "guides.parquet", record)
                say(f"off-target scan: {hits.height} site(s) for {len(m.grna_variants())} "
                    "gRNA variant(s)")
                vh = _variant_scan(m, store, nuclease, genome_digest, cache, threads, notes,
                                   reference_hits=raw)
                if vh is not None:
                    vh = annotate_hits(pl.from_arrow(vh), gene_model=gm, regions=regions)
                    write_parquet(vh, work / "variant_hits.parquet", record)
                    say(f"VCF-aware search: {vh.height} row(s)")
            ontarget, aso_hits = _aso_steps(m, store, gm, regions, checked, cache, genome_digest,
                                            threads, notes, errors)
            if ontarget is not None:
                write_parquet(ontarget, work / "aso_ontarget.parquet", record)
            if aso_hits is not None:
                write_parquet(aso_hits, work / "aso_hits.parquet", record)
                say(f"ASO search: {aso_hits.height} site(s)")
        fig_rows: list = []
        shelf, rp, stab_src, pot_src = _cmc_steps(m, work, errors, fig_rows, figures)
        if shelf is not None:
            write_parquet(shelf, work / "stability.parquet", record)
        if rp is not None:
            write_parquet(rp, work / "potency.parquet", record)
        say(f"CMC: {0 if shelf is None else shelf.height} stability series, "
            f"{0 if rp is None else rp.height} potency lot(s)")
        write_parquet(_variants_table(m, nuclease, stab_src, pot_src),
                      work / "variants.parquet", record)
        write_parquet(pa.Table.from_pylist(errors, schema=RUN_ERRORS_SCHEMA),
                      work / "errors.parquet", record)
        write_parquet(pa.Table.from_pylist(fig_rows, schema=FIGURES_SCHEMA),
                      work / "figures.parquet", record)
        info = run_info(m, nuclease, notes, record)
        info.update(extra_info or {})
        (work / "run.json").write_text(json.dumps(info, indent=2, default=str))
        from .report import write_reports
        from .summary import build_summary, load_results

        tables, info = load_results(work)
        summary = build_summary(tables, info)
        write_parquet(summary, work / "summary.parquet", record)
        write_reports(work, summary, tables, info)
        _swap_into_place(work, outdir)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return RunResult(outdir=outdir, report_html=outdir / "report.html",
                     report_md=outdir / "report.md", summary=summary,
                     reused=cache.reused, computed=cache.computed,
                     seconds=time.perf_counter() - t0)


def summarize_results(folder, outdir=None, *, manifest=None,
                      command: str | None = None) -> pa.Table:
    """``pmcore summarize``: rebuild summary.parquet/json and the reports from the detail
    tables of a results folder (into ``outdir``, default the folder itself).

    With ``manifest``, the folder may hold tables made by separate commands (``hits``,
    ``guides``, ``variant_hits``, ``aso_hits``, ``stability``, ``potency`` Parquet files
    named as ``pmcore run`` names them): the variants and platform settings come from the
    manifest instead of ``variants.parquet`` / ``run.json``."""
    from .report import write_reports
    from .summary import build_summary, load_results

    folder = Path(folder)
    outdir = Path(outdir) if outdir is not None else folder
    outdir.mkdir(parents=True, exist_ok=True)
    record = provenance(command=command, inputs=sorted(folder.glob("*.parquet")),
                        summary_schema_version=SUMMARY_SCHEMA_VERSION)
    if manifest is not None:
        m = manifest if isinstance(manifest, Manifest) else load_manifest(manifest)
        nuclease = _nuclease(m) if m.grna_variants() else None
        tables, _ = load_results(folder, require_variants=False)
        sources = {k: {v.id: "results table" for v in m.variants}
                   if tables.get(k) is not None else {} for k in ("stability", "potency")}
        variants = _variants_table(m, nuclease, sources["stability"], sources["potency"])
        tables["variants"] = pl.from_arrow(variants)
        info = run_info(m, nuclease, {}, record)
        write_parquet(variants, outdir / "variants.parquet", record)
        (outdir / "run.json").write_text(json.dumps(info, indent=2, default=str))
    else:
        tables, info = load_results(folder)
    summary = build_summary(tables, info)
    write_parquet(summary, outdir / "summary.parquet", record)
    if outdir != folder:
        src = folder / "figures"
        if src.is_dir() and not (outdir / "figures").exists():
            shutil.copytree(src, outdir / "figures")
    write_reports(outdir, summary, tables, info, base=folder)
    return summary


__all__ = ["MARKER", "RunResult", "StepCache", "check_on_targets", "run_pipeline",
           "summarize_results"]
