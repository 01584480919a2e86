"""Genome indexing and off-target search commands: ``index``, ``scan``, ``cas-offinder``."""

from __future__ import annotations

import logging

import click

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
@threads_option
def scan(genome, guides, nuclease, pam, pam_side, mismatches, dna_bulges, rna_bulges, output,
         fmt, max_hits_per_guide, all_placements, guide_summary, errors_path, strict, threads):
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
    nuc = resolve_nuclease(nuclease, pam, int(pam_side) if pam_side else None)
    records, errors = read_guides(guides, nuc, strict=strict)
    for err in errors:
        log.warning("%s:%d: guide %s skipped: %s", guides, err.line, err.record, err.reason)
    if errors_path:
        _write_errors(errors_path, errors, guides)
    threads = resolve_threads(threads)
    progress = Progress("scan")
    with open_genome(genome) as store:
        search = GuideSearch(store, records, nuc, mismatches=mismatches,
                             dna_bulges=dna_bulges, rna_bulges=rna_bulges, threads=threads,
                             max_hits_per_guide=max_hits_per_guide,
                             all_placements=all_placements, progress=progress)
        record = provenance(inputs=[genome, guides], nuclease=nuc.name, pam=nuc.pam,
                            pam_side=nuc.pam_side, mismatches=mismatches,
                            dna_bulges=dna_bulges, rna_bulges=rna_bulges,
                            all_placements=all_placements,
                            max_hits_per_guide=max_hits_per_guide,
                            schema_version=HITS_SCHEMA.metadata[b"pmcore.schema_version"].decode())
        n = 0
        with hit_writer(output, fmt, HITS_SCHEMA, record) as write:
            for batch in search.batches():
                write(batch)
                n += batch.num_rows
        progress.close()
        status = search.guide_status()
    truncated = [q for q, t in zip(status["query_id"].to_pylist(),
                                   status["truncated"].to_pylist()) if t]
    if truncated:
        log.warning("%d guide(s) reached --max-hits-per-guide and were truncated: %s",
                    len(truncated), ", ".join(truncated[:10]))
    if guide_summary:
        with atomic_path(guide_summary) as tmp:
            pl.from_arrow(status).write_csv(tmp, separator="\t")
    log.info("%d hits for %d guides", n, len(records))


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
