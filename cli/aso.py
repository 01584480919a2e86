"""``pmcore aso``: ASO hybridization sites in pre-mRNA, spliced transcripts or the genome."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from pmcore.errors import InputError

from ._common import Progress, resolve_threads, threads_option
from .thermo import conditions_options, risk_options

log = logging.getLogger("pmcore")


@click.command("aso")
@click.option("--asos", "asos_path", required=True, type=click.Path(dir_okay=False),
              help="ASOs: TSV/CSV with aso_id, sequence[, design][, target] (or headerless "
                   "'id sequence [design]'), Parquet, or FASTA ('>id design=5-10-5').")
@click.option("--genome", "genome_path", type=click.Path(),
              help="Genome store (.pmg from 'pmcore index') or FASTA/2bit (indexed to a "
                   "temporary store).")
@click.option("--annotation", "gtf", type=click.Path(dir_okay=False),
              help="GTF/GFF3 gene model: pre-mRNA and spliced transcripts are built from it.")
@click.option("--transcripts", "transcripts_fasta", type=click.Path(dir_okay=False),
              help="Transcript FASTA (5'->3') to search instead of the gene model's.")
@click.option("--mode", type=click.Choice(["premrna+transcripts", "premrna", "transcripts",
                                           "genome"]),
              default=None, show_default="premrna+transcripts with --annotation, genome "
                                         "without",
              help="What to search.")
@click.option("--chrom-alias", type=click.Path(dir_okay=False),
              help="Contig alias file reconciling the annotation's names with the genome's.")
@click.option("--skip-missing-contigs", is_flag=True,
              help="Drop annotation contigs absent from the genome instead of failing.")
@click.option("-m", "--mismatches", type=int, default=3, show_default=True,
              help="Maximum mismatches (0-4).")
@click.option("-b", "--bulges", type=int, default=1, show_default=True,
              help="Maximum bulge size, target or ASO side (0-2).")
@click.option("-o", "--out", required=True,
              help="Output: PATH(.parquet) writes PATH.parquet/.tsv and "
                   "PATH.summary.parquet/.tsv.")
@click.option("--no-tsv", is_flag=True, help="Write the Parquet files only.")
@conditions_options
@risk_options
@click.option("--worst", type=int, default=5, show_default=True,
              help="Worst sites listed per ASO in the summary.")
@threads_option
def aso(asos_path, genome_path, gtf, transcripts_fasta, mode, chrom_alias,
        skip_missing_contigs, mismatches, bulges, out, no_tsv, na_mm, mg_mm, oligo_nm,
        target_nm, high_max_edits, high_ddg, medium_max_edits, worst, threads):
    """Search ASO hybridization sites and score them (dG37, ddG, risk class).

    Sites: up to --mismatches mismatches and one internal bulge of up to --bulges nt on the
    target or the ASO; every distinct target window once with its fewest mismatches.
    Coordinates are 0-based half-open; ASO positions 1-based from the 5' end.
    """
    import tempfile

    from pmcore import aso as aso_mod
    from pmcore import aso_risk
    from pmcore.genome import build_store, open_genome, sniff_format
    from pmcore.io import provenance
    from pmcore.thermo import Conditions

    # every check before any work, so bad input never leaves output behind
    if out.strip() in ("", "-"):
        raise InputError("-o needs a file path (four files are written beside it)",
                         record="-o")
    aso_mod.check_limits(mismatches, bulges)
    cond = Conditions(na_mm, mg_mm, oligo_nm, target_nm)
    thresholds = aso_risk.RiskThresholds(high_max_edits, high_ddg, medium_max_edits)
    if worst < 0:
        raise InputError("--worst must be >= 0", record="--worst")
    if mode is None:
        mode = "transcripts" if transcripts_fasta else (
            "premrna+transcripts" if gtf else "genome")
    if transcripts_fasta and mode != "transcripts":
        raise InputError("--transcripts searches transcripts only; drop --mode or use "
                         "--mode transcripts", record="--mode")
    if mode in ("premrna+transcripts", "premrna") or (mode == "transcripts"
                                                      and not transcripts_fasta):
        if not gtf:
            raise InputError(f"--mode {mode} needs --annotation (or --transcripts)",
                             record="--annotation")
        if not genome_path:
            raise InputError(f"--mode {mode} needs --genome", record="--genome")
    if mode == "genome" and not genome_path:
        raise InputError("--mode genome needs --genome", record="--genome")
    for opt, path in (("--asos", asos_path), ("--genome", genome_path), ("--annotation", gtf),
                      ("--transcripts", transcripts_fasta), ("--chrom-alias", chrom_alias)):
        if path and not Path(path).exists():
            raise InputError("file not found", path=path, record=opt)
    aso_set = aso_mod.read_asos(asos_path)

    with tempfile.TemporaryDirectory(prefix="pmcore-aso-cli-") as tmp:
        store = None
        if genome_path:
            is_store = Path(genome_path).is_file() and sniff_format(genome_path) == "pmg"
            if not is_store:
                log.info("indexing %s to a temporary store", genome_path)
                genome_store = build_store(genome_path, Path(tmp) / "genome.pmg")
            else:
                genome_store = genome_path
            store = open_genome(genome_store)
        try:
            gm = None
            if gtf:
                if store is None:
                    raise InputError("--annotation needs --genome", record="--genome")
                gm = _load_model(gtf, store, chrom_alias, skip_missing_contigs)
            progress = Progress("aso")
            result = aso_mod.search_asos(
                store, aso_set, gene_model=gm, mode=mode, transcripts_fasta=transcripts_fasta,
                max_mismatches=mismatches, max_bulges=bulges,
                threads=resolve_threads(threads), conditions=cond, thresholds=thresholds,
                worst_n=worst, progress=progress, tmpdir=None)
            progress.close()
        finally:
            if store is not None:
                store.close()
    record = provenance(inputs=[p for p in (asos_path, genome_path, gtf, transcripts_fasta)
                                if p],
                        conditions=cond.__dict__, thresholds=thresholds.__dict__,
                        search=result.stats,
                        annotation=gm.describe() if gm is not None else None)
    paths = aso_mod.write_outputs(result, out, record=record, tsv=not no_tsv)
    log.info("wrote %s", ", ".join(paths))
    n_high = int((result.hits["risk_class"] == "high").sum())
    print(f"pmcore: {len(aso_set)} ASOs, {result.hits.height} sites ({n_high} high risk, "
          f"{result.stats['redundant']} redundant) -> {', '.join(paths)}", file=sys.stderr)


def _load_model(gtf, store, chrom_alias, skip_missing):
    from pmcore.annotation import read_annotation

    lengths = {c.name: c.length for c in store.contigs}
    gm = read_annotation(gtf)
    if gm.n_transcripts == 0:
        raise InputError("no transcripts in the annotation", path=gtf)
    model = gm.for_genome(lengths, chrom_alias=chrom_alias)
    n_missing = len(gm.chroms) - len(model.chroms)
    if n_missing and not skip_missing:
        # without an alias file the dropped contigs are those the genome lacks
        missing = [c for c in gm.chroms if c not in lengths] if chrom_alias is None else []
        if missing:
            i = int(gm.gene_chrom.tolist().index(missing[0]))
            raise InputError(
                f"transcripts of gene {gm.gene_id[i]!r} lie on contig {missing[0]!r}, which "
                f"is not in the genome ({n_missing} annotation contig(s) missing); pass "
                "--skip-missing-contigs to ignore them or --chrom-alias to rename",
                path=gtf, line=int(gm.gene_line[i]) or None, record=gm.gene_id[i])
        raise InputError(f"{n_missing} annotation contig(s) are not in the genome; pass "
                         "--skip-missing-contigs to ignore them", path=gtf)
    if n_missing:
        log.warning("%d annotation contig(s) absent from the genome were skipped", n_missing)
    if model.n_transcripts == 0:
        raise InputError("no transcript of the annotation lies on the genome's contigs",
                         path=gtf)
    return model


commands = [aso]
