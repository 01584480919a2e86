"""Genome indexing and off-target search commands: ``index``, ``scan``, ``cas-offinder``."""

from __future__ import annotations

import logging

import click
import pyarrow as pa

from ._common import Progress, resolve_threads, threads_option

log = logging.getLogger("pmcore")


@click.command("index")
@click.argument("genome", type=click.Path(dir_okay=True))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="Genome store to write (.pmg).")
def index(genome, output):
    """Pack a FASTA / FASTA.gz / 2bit GENOME (or a folder of them) into a store."""
    from pmcore.genome import GenomeStore, build_store

    progress = Progress("index")

    def on_contig(contig):
        log.info("indexed %s (%d bp)", contig.name, contig.length)

    build_store(genome, output, progress=on_contig)
    progress.close()
    with GenomeStore(output) as store:
        d = store.describe()
    click.echo(f"{output}: {d['contigs']} contigs, {d['bases']:,} bp", err=True)


@click.command("scan")
@click.option("--genome", "-g", required=True, type=click.Path(),
              help="Genome store (.pmg), or FASTA / FASTA.gz / 2bit indexed on the fly.")
@click.option("--guides", required=True, type=click.Path(allow_dash=True),
              help="Guides: TSV/CSV with a 'guide'/'sequence' column, 'SEQ [ID]' lines, "
                   "or FASTA.")
@click.option("--nuclease", default="SpCas9", show_default=True,
              help="Preset: SpCas9 (NGG), SpCas9-NRG, SpCas9-NG, SaCas9 (NNGRRT), "
                   "Cas12a (TTTV, 5').")
@click.option("--pam", default=None, help="Any IUPAC PAM (overrides the preset's).")
@click.option("--pam-side", type=click.Choice(["3", "5"]), default=None,
              help="Side of the protospacer the PAM is on (default: the preset's).")
@click.option("--mismatches", "-m", type=int, default=4, show_default=True)
@click.option("--dna-bulges", type=int, default=0, show_default=True)
@click.option("--rna-bulges", type=int, default=0, show_default=True)
@click.option("-o", "--output", required=True, type=click.Path(allow_dash=True),
              help="Output: .parquet, .tsv, .bed; '-' streams TSV to stdout.")
@click.option("--format", "fmt", type=click.Choice(["parquet", "tsv", "bed"]), default=None)
@click.option("--max-hits-per-guide", type=click.IntRange(1), default=None,
              help="Keep at most N hits per guide (genome order); the guide is marked "
                   "truncated.")
@click.option("--all-placements", is_flag=True,
              help="Report every bulge placement, not only the best one per site.")
@click.option("--guide-summary", type=click.Path(dir_okay=False), default=None,
              help="Also write per-guide hit counts and truncation flags (TSV).")
@click.option("--errors", "errors_path", type=click.Path(dir_okay=False), default=None,
              help="Write rejected guide records here (TSV).")
@click.option("--strict", is_flag=True, help="Stop at the first bad guide record.")
@click.option("--score", is_flag=True,
              help="Add CFD/MIT site scores and write per-guide specificities "
                   "(--guide-summary); see docs/scoring.md.")
@click.option("--base-editor", type=click.Choice(["ABE", "CBE"]), default=None,
              help="With --score: flag sites with an editable base in the editing window.")
@click.option("--window", default="4-8", show_default=True,
              help="Base-editor window, protospacer positions (1 = PAM-distal).")
@click.option("--annotate", "gtf", type=click.Path(dir_okay=False), default=None,
              help="GTF/GFF3 (gzip ok): gene, biotype, region, nearest gene per site.")
@click.option("--regions", "beds", type=click.Path(dir_okay=False), multiple=True,
              help="BED file of named regions to flag (repeatable).")
@click.option("--chrom-alias", type=click.Path(dir_okay=False), default=None,
              help="Two-column TSV mapping annotation/VCF contig names to the genome's.")
@click.option("--vcf", "vcfs", type=click.Path(dir_okay=False), multiple=True,
              help="Patient or population VCF (gzip ok; repeatable): sites created, removed "
                   "or changed by its variants are reported (docs/variants.md).")
@click.option("--sample", "samples", multiple=True,
              help="With --vcf: use only these samples' genotypes (default: all).")
@threads_option
def scan(genome, guides, nuclease, pam, pam_side, mismatches, dna_bulges, rna_bulges, output,
         fmt, max_hits_per_guide, all_placements, guide_summary, errors_path, strict, score,
         base_editor, window, gtf, beds, chrom_alias, vcfs, samples, threads):
    """Find every off-target site of the GUIDES in a genome, both strands, with
    mismatches and DNA/RNA bulges."""
    import polars as pl

    from pmcore.genome import open_genome
    from pmcore.guides import read_guides
    from pmcore.hitio import hit_writer, infer_format
    from pmcore.io import atomic_path, provenance
    from pmcore.nucleases import resolve_nuclease
    from pmcore.offtarget import GuideSearch, check_limits
    from pmcore.tables import HITS_SCHEMA

    fmt = infer_format(output, fmt)
    check_limits(mismatches, dna_bulges, rna_bulges)
    if base_editor and not score:
        raise click.UsageError("--base-editor needs --score")
    if vcfs and (max_hits_per_guide or all_placements):
        raise click.UsageError("--max-hits-per-guide and --all-placements do not apply with "
                               "--vcf")
    be_window = _parse_window(window)
    nuc = resolve_nuclease(nuclease, pam, int(pam_side) if pam_side else None)
    records, errors = read_guides(guides, nuc, strict=strict)
    for err in errors:
        log.warning("%s:%d: guide %s skipped: %s", guides, err.line, err.record, err.reason)
    if errors_path:
        _write_errors(errors_path, errors, guides)
    threads = resolve_threads(threads)
    progress = Progress("scan")
    post = score or bool(gtf) or bool(beds)
    summaries = []
    n = 0
    with open_genome(genome) as store:
        gene_model = regions = None
        if gtf or beds:
            from pmcore.annotation import load_annotation_sources

            gene_model, regions = load_annotation_sources(
                {c.name: c.length for c in store.contigs}, gtf=gtf, beds=list(beds),
                chrom_alias=chrom_alias)
        record = provenance(inputs=[genome, guides, *vcfs], nuclease=nuc.name, pam=nuc.pam,
                            pam_side=nuc.pam_side, mismatches=mismatches,
                            dna_bulges=dna_bulges, rna_bulges=rna_bulges,
                            all_placements=all_placements,
                            max_hits_per_guide=max_hits_per_guide,
                            schema_version=HITS_SCHEMA.metadata[b"pmcore.schema_version"].decode())
        if vcfs:
            tables = _variant_tables(store, records, nuc, vcfs, samples, mismatches, dna_bulges,
                                     rna_bulges, threads, chrom_alias, score, base_editor,
                                     be_window, gene_model, regions)
            status = None
        else:
            search = GuideSearch(store, records, nuc, mismatches=mismatches,
                                 dna_bulges=dna_bulges, rna_bulges=rna_bulges, threads=threads,
                                 max_hits_per_guide=max_hits_per_guide,
                                 all_placements=all_placements, progress=progress)
            tables = (_post_process(search, score, base_editor, be_window, gene_model, regions)
                      if post else ((batch, None) for batch in search.batches()))
        with hit_writer(output, fmt, None if (post or vcfs) else HITS_SCHEMA, record) as write:
            for table, summary in tables:
                if vcfs and fmt != "parquet":
                    from pmcore.variant_search import for_text

                    table = for_text(table)
                for batch in (table.to_batches() if isinstance(table, pa.Table) else [table]):
                    write(batch)
                    n += batch.num_rows
                if summary is not None:
                    summaries.append(summary)
        progress.close()
        if not vcfs:
            status = search.guide_status()
    if status is not None:
        truncated = [q for q, t in zip(status["query_id"].to_pylist(),
                                       status["truncated"].to_pylist()) if t]
        if truncated:
            log.warning("%d guide(s) reached --max-hits-per-guide and were truncated: %s",
                        len(truncated), ", ".join(truncated[:10]))
    if guide_summary:
        if status is not None:
            table = pl.from_arrow(status)
            if summaries:
                table = table.join(pl.concat(summaries, how="diagonal_relaxed").drop(
                    "guide", strict=False), on="query_id", how="left")
        elif summaries:
            table = pl.concat(summaries, how="diagonal_relaxed")
        else:
            table = pl.DataFrame({"query_id": [r.id for r in records]})
        with atomic_path(guide_summary) as tmp:
            if str(guide_summary).endswith((".parquet", ".pq")):
                table.write_parquet(tmp)
            else:
                table.with_columns(pl.col(pl.List(pl.Utf8)).list.join(",")).write_csv(
                    tmp, separator="\t")
    log.info("%d hits for %d guides", n, len(records))


def _variant_tables(store, records, nuc, vcfs, samples, mismatches, dna_bulges, rna_bulges,
                    threads, chrom_alias, score, base_editor, window, gene_model, regions):
    """The VCF-aware search (held in memory: one table), scored and annotated on request."""
    from pmcore.variant_search import search_with_variants

    warnings: list = []
    table = search_with_variants(store, records, nuc, list(vcfs), mismatches=mismatches,
                                 dna_bulges=dna_bulges, rna_bulges=rna_bulges, threads=threads,
                                 chrom_alias=chrom_alias, samples=list(samples) or None,
                                 warnings=warnings)
    for w in warnings:
        log.warning("%s", w)
    summary = None
    if score:
        from pmcore.scoring import score_hits

        table, summary = score_hits(table, base_editor=base_editor, window=window, summary=True)
    if gene_model is not None or regions is not None:
        from pmcore.annotation import annotate_hits

        table = annotate_hits(table, gene_model=gene_model, regions=regions)
    if not isinstance(table, pa.Table):
        table = table.to_arrow()
    yield table, summary


def _parse_window(text: str) -> tuple[int, int]:
    try:
        lo, hi = (int(x) for x in text.split("-"))
    except ValueError:
        raise click.BadParameter(f"{text!r} is not FIRST-LAST, e.g. 4-8",
                                 param_hint="--window") from None
    if not 1 <= lo <= hi:
        raise click.BadParameter(f"{text!r}: need 1 <= FIRST <= LAST", param_hint="--window")
    return lo, hi


def _post_process(search, score, base_editor, window, gene_model, regions,
                  guides_per_pass: int = 64):
    """Score and annotate hits guide group by guide group.

    Raw hits are first streamed to a temporary Parquet file; each group of guides is then
    read back (row-group filters), scored (per-guide aggregates need all of a guide's
    hits) and annotated, so memory is bounded by the hits of one guide group.
    """
    import os
    import tempfile

    import pyarrow as pa
    import pyarrow.parquet as pq

    from pmcore.tables import HITS_SCHEMA

    fd, tmp = tempfile.mkstemp(prefix="pmcore-raw-", suffix=".parquet")
    os.close(fd)
    try:
        with pq.ParquetWriter(tmp, HITS_SCHEMA, compression="zstd") as writer:
            for batch in search.batches():
                writer.write_batch(batch)
        ids = [q.id for s in search.searches for q in s.queries]
        for i in range(0, len(ids), guides_per_pass):
            chunk = ids[i:i + guides_per_pass]
            table = pq.read_table(tmp, filters=[("query_id", "in", chunk)])
            if table.num_rows == 0:
                continue
            summary = None
            if score:
                from pmcore.scoring import score_hits

                scored, summary = score_hits(table, base_editor=base_editor, window=window,
                                             summary=True)
            else:
                import polars as pl

                scored = pl.from_arrow(table)
            if gene_model is not None or regions is not None:
                from pmcore.annotation import annotate_hits

                scored = annotate_hits(scored, gene_model=gene_model, regions=regions)
            yield scored.to_arrow() if not isinstance(scored, pa.Table) else scored, summary
    finally:
        os.unlink(tmp)


def _write_errors(path, errors, source):
    from pmcore.io import atomic_path

    with atomic_path(path) as tmp:
        with open(tmp, "w") as fh:
            fh.write("file\tline\trecord\treason\n")
            for e in errors:
                fh.write(f"{source}\t{e.line}\t{e.record}\t{e.reason}\n")


@click.command("cas-offinder", context_settings={"ignore_unknown_options": False})
@click.argument("input_file", type=click.Path(allow_dash=True))
@click.argument("device")
@click.argument("output", type=click.Path(allow_dash=True))
@click.option("--merge-placements", is_flag=True,
              help="One row per site and bulge type/size (fewest mismatches) instead of one "
                   "per bulge placement.")
@threads_option
def cas_offinder(input_file, device, output, merge_placements, threads):
    """Drop-in for Cas-OFFinder 2.4 / 3: same input file, same output formats.

    DEVICE (C, G or A, optionally with ids) is accepted for compatibility; pmcore always
    runs on the CPU with --threads workers.
    """
    from pmcore.casoffinder import DEVICE_RE, run

    if not DEVICE_RE.match(device):
        raise click.BadParameter(f"{device!r} is not C, G or A (optionally with device ids)",
                                 param_hint="DEVICE")
    progress = Progress("cas-offinder")
    n = run(input_file, output, threads=resolve_threads(threads),
            merge_placements=merge_placements, progress=progress)
    progress.close()
    log.info("%d rows written", n)


commands = [index, scan, cas_offinder]
