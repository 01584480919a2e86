"""``pmcore demo``: the per-variant safety and CMC job on data shipped with the package.

Everything is generated here (seeded) or read from ``pmcore/data``: a 300 kb synthetic
genome whose contigs match the embedded demo annotation (``data/annotation/demo.gtf``,
genes ONCO1 and TSG1 flagged in ``demo_regions.bed``), a platform of three variants of one
adenine base-editor / ASO programme (two gRNAs with planted near-copies, including one in
an ONCO1 coding exon, and one ASO), and the embedded stability and potency data
(``data/cmc``). Nothing is downloaded.

The job: index, scan (<= 4 mismatches, 1 DNA / 1 RNA bulge), score (CFD/MIT, ABE window),
annotate (GTF regions, BED flags, repeats), ASO duplex thermodynamics, stability shelf
life and relative potency, then per-variant summary tables and a Markdown report.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

SEED = 20261122
CONTIGS = {"demo1": 200_000, "demo2": 100_000}


@dataclass(frozen=True)
class Plant:
    contig: str
    pos: int  # 0-based start of the site (protospacer + PAM) on the forward strand
    strand: str
    mismatches: tuple = ()  # protospacer positions to change
    dna_bulge: int | None = None  # insert one genome base before this guide position
    rna_bulge: int | None = None  # delete this guide position from the genome


# Variant -> (on-target plant, off-target plants). Positions avoid each other; ONCO1's
# coding exon 2 is demo1:22000-22150 and TSG1's coding exon 2 is demo2:45000-45200.
GRNA_VARIANTS = {
    "VAR-A": (Plant("demo2", 45050, "+"), [
        Plant("demo1", 22010, "+", (3,)),            # 1 mismatch in an ONCO1 coding exon
        Plant("demo1", 100_000, "-", (1, 12)),
        Plant("demo2", 70_000, "+", (0, 5, 9)),
        Plant("demo1", 150_000, "+", (), dna_bulge=10),
    ]),
    "VAR-B": (Plant("demo1", 60_000, "-"), [
        Plant("demo2", 10_000, "+", (2, 7)),
        Plant("demo1", 180_000, "+", (4,), rna_bulge=8),
        Plant("demo1", 120_000, "-", (16, 17, 18)),
    ]),
}
ASO_VARIANT = ("VAR-C", "demo2", 51_600, 20)  # ASO against TSG1 exon 3 (minus-strand gene)

_COMP = str.maketrans("ACGT", "TGCA")


def _revcomp(s: str) -> str:
    return s.translate(_COMP)[::-1]


def make_genome(rng) -> tuple[dict, dict]:
    """Seeded genome with the planted sites; returns (contigs, guides)."""
    genome = {name: list(np.array(list("ACGT"))[rng.choice(4, n, p=[0.28, 0.22, 0.22, 0.28])])
              for name, n in CONTIGS.items()}
    guides = {}
    for variant, (on, offs) in GRNA_VARIANTS.items():
        guide = "".join(rng.choice(list("ACGT"), 20))
        guides[variant] = guide
        for plant in [on, *offs]:
            proto = list(guide)
            for p in plant.mismatches:
                proto[p] = {"A": "C", "C": "G", "G": "T", "T": "A"}[proto[p]]
            if plant.dna_bulge is not None:
                proto.insert(plant.dna_bulge, "T")
            if plant.rna_bulge is not None:
                del proto[plant.rna_bulge]
            site = "".join(proto) + "AGG"
            if plant.strand == "-":
                site = _revcomp(site)
            genome[plant.contig][plant.pos:plant.pos + len(site)] = list(site)
    # a soft-masked repeat stretch, as in a real assembly
    text = {k: "".join(v) for k, v in genome.items()}
    text["demo1"] = text["demo1"][:130_000] + text["demo1"][130_000:131_000].lower() + text["demo1"][131_000:]
    return text, guides


def _data(path: str) -> Path:
    return Path(str(resources.files("pmcore") / "data" / path))


def run_demo(outdir, *, threads: int = 2, log=print) -> Path:
    """Run the whole demo into ``outdir`` (written in a temporary folder, moved into place)."""
    import polars as pl

    from . import cmc
    from .annotation import annotate_hits, load_annotation_sources
    from .genome import GenomeStore, build_store
    from .guides import GuideRecord
    from .io import provenance, write_parquet
    from .nucleases import PRESETS
    from .offtarget import GuideSearch
    from .scoring import score_hits
    from .thermo import duplex_thermo

    outdir = Path(outdir)
    outdir.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".pmcore-demo-", dir=outdir.parent))
    try:
        rng = np.random.default_rng(SEED)
        genome, guides = make_genome(rng)
        fa = work / "demo_genome.fa"
        with open(fa, "w") as fh:
            for name, seq in genome.items():
                fh.write(f">{name} pmcore demo contig (synthetic, seed {SEED})\n")
                fh.writelines(seq[i:i + 70] + "\n" for i in range(0, len(seq), 70))
        build_store(fa, work / "genome.pmg")
        log(f"genome: {sum(CONTIGS.values()):,} bp in {len(CONTIGS)} contigs")
        summary = {"platform": "AAV-PLAT demo (adenine base editor + ASO)", "variants": {}}
        with GenomeStore(work / "genome.pmg") as store:
            records = [GuideRecord(v, g, i + 1, v) for i, (v, g) in enumerate(guides.items())]
            search = GuideSearch(store, records, PRESETS["SpCas9"], mismatches=4,
                                 dna_bulges=1, rna_bulges=1, threads=threads)
            batches = list(search.batches())
            import pyarrow as pa

            hits = pa.Table.from_batches(batches) if batches else None
            on_target = {}
            for v, (on, _) in GRNA_VARIANTS.items():
                on_target[v] = (on.contig, on.pos, on.pos + 23)
            scored, guide_summary = score_hits(hits, base_editor="ABE", on_target=on_target,
                                               summary=True)
            lengths = {c.name: c.length for c in store.contigs}
            gm, regions = load_annotation_sources(
                lengths, gtf=_data("annotation/demo.gtf"),
                beds=[_data("annotation/demo_regions.bed")])
            annotated = annotate_hits(scored, gene_model=gm, regions=regions, softmask=store)
            record = provenance(command="pmcore demo", inputs=[fa], seed=SEED)
            write_parquet(annotated, work / "hits.parquet", record)
            write_parquet(guide_summary, work / "guides.parquet", record)
            log(f"off-target scan: {annotated.height} sites for {len(guides)} gRNA variants")

            # alignments that share the on-target's PAM (the on-target seen through a
            # bulge) are the on-target locus, not off-targets
            loci = annotated.with_columns(
                pam_pos=pl.when(pl.col("strand") == "+").then(pl.col("end") - 3)
                .otherwise(pl.col("start")))
            on_loci = loci.filter(pl.col("is_on_target")).select("query_id", "chrom", "strand",
                                                                 "pam_pos")
            for v in guides:
                h = loci.filter(pl.col("query_id") == v)
                gs = guide_summary.filter(pl.col("query_id") == v).to_dicts()[0]
                off = h.join(on_loci, on=["query_id", "chrom", "strand", "pam_pos"], how="anti")
                top = (off.sort("cfd", descending=True, nulls_last=True).head(5)
                       .select("chrom", "start", "strand", "site", "mismatches", "bulge_type",
                               "cfd", "region", "gene_name", "regions_flagged").to_dicts())
                summary["variants"][v] = {
                    "modality": "gRNA (adenine base editor, SpCas9 NGG)",
                    "guide": guides[v],
                    "on_target": {k: gs.get(k) for k in ("on_target_status",)},
                    "off_targets": off.height,
                    "mit_specificity": gs.get("mit_specificity"),
                    "cfd_specificity": gs.get("cfd_specificity"),
                    "class_counts": gs.get("mm_counts"),
                    "in_coding_exons": off.filter(pl.col("region") == "CDS").height,
                    "in_flagged_regions": off.filter(pl.col("regions_flagged").is_not_null()).height,
                    "abe_window_editable": off.filter(pl.col("be_editable").fill_null(False)).height
                    if "be_editable" in off.columns else None,
                    "top_sites": top,
                }

            variant, contig, start, length = ASO_VARIANT
            target_dna = store.fetch(contig, start, start + length, soft=False)
            # TSG1 is on the minus strand: its RNA is the reverse complement of the genome
            rna = _revcomp(target_dna).replace("T", "U")
            aso = target_dna  # antisense to the RNA: the forward-strand DNA letters
            th = duplex_thermo(aso, rna)
            summary["variants"][variant] = {
                "modality": "ASO (5-10-5 gapmer)", "aso": aso,
                "target": f"TSG1 exon 3 {contig}:{start}-{start + length}",
                "on_target_duplex": {"dg37": th.dg37, "dh": th.dh, "ds": th.ds, "tm": th.tm},
                "note": "genome-wide ASO hybridization search is not part of this release",
            }
            log(f"ASO {variant}: dG37 {th.dg37:.1f} kcal/mol, Tm {th.tm:.1f} C")

        stab = cmc.analyze_stability(cmc.load_stability(_data("cmc/demo_stability.csv")))
        write_parquet(stab.shelf_life, work / "stability.parquet", record)
        pot = cmc.analyze_potency(cmc.load_potency(_data("cmc/demo_potency.csv")),
                                  cmc.PotencyOptions(reference="RS"))
        write_parquet(pot.rp, work / "potency.parquet", record)
        shelf = pl.from_arrow(stab.shelf_life)
        rp = pl.from_arrow(pot.rp)
        for v, entry in summary["variants"].items():
            s = shelf.filter(pl.col("variant_id") == v)
            entry["shelf_life"] = s.select(
                "condition", "model", "shelf_life_months", "shelf_life_proposed_months",
                "limiting_lot").to_dicts()
            entry["potency"] = rp.filter(pl.col("variant_id") == v).select(
                "lot", "rp", "rp_ci_low", "rp_ci_high", "parallel_equivalent").to_dicts()
        log(f"stability: {shelf.height} series; potency: {rp.height} lots")
        (work / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
        (work / "report.md").write_text(_report(summary))
        if outdir.exists():
            shutil.rmtree(outdir)
        work.rename(outdir)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return outdir / "report.md"


def _fmt(x, nd=2):
    if x is None:
        return "-"
    if isinstance(x, float):
        return f"{x:.{nd}f}"
    return str(x)


def _report(summary: dict) -> str:
    out = [f"# pmcore demo: {summary['platform']}", ""]
    for v, e in summary["variants"].items():
        out += [f"## {v}: {e['modality']}", ""]
        if "guide" in e:
            out += [f"* guide `{e['guide']}`; on-target: {e['on_target']['on_target_status']}",
                    f"* off-target sites (<=4 mm, <=1 bulge): {e['off_targets']}; "
                    f"MIT specificity {_fmt(e['mit_specificity'])}, CFD specificity "
                    f"{_fmt(e['cfd_specificity'])}",
                    f"* in coding exons: {e['in_coding_exons']}; in flagged regions: "
                    f"{e['in_flagged_regions']}; ABE-editable A in window 4-8: "
                    f"{_fmt(e['abe_window_editable'])}", "",
                    "| chrom | start | strand | site | mm | bulge | CFD | region | gene | flagged |",
                    "|---|---|---|---|---|---|---|---|---|---|"]
            for t in e["top_sites"]:
                out.append("| " + " | ".join(_fmt(t[k], 3) for k in (
                    "chrom", "start", "strand", "site", "mismatches", "bulge_type", "cfd",
                    "region", "gene_name", "regions_flagged")) + " |")
            out.append("")
        else:
            d = e["on_target_duplex"]
            out += [f"* ASO `{e['aso']}` against {e['target']}",
                    f"* duplex: dG37 {_fmt(d['dg37'])} kcal/mol, Tm {_fmt(d['tm'], 1)} C",
                    f"* {e['note']}", ""]
        out += ["Shelf life:", "", "| condition | model | months | proposed | limiting lot |",
                "|---|---|---|---|---|"]
        for s in e["shelf_life"]:
            out.append(f"| {s['condition']} | {s['model']} | {_fmt(s['shelf_life_months'], 1)} "
                       f"| {_fmt(s['shelf_life_proposed_months'])} | {_fmt(s['limiting_lot'])} |")
        out += ["", "Relative potency:", "", "| lot | RP | 95% CI | parallel |", "|---|---|---|---|"]
        for p in e["potency"]:
            out.append(f"| {p['lot']} | {_fmt(p['rp'], 3)} | {_fmt(p['rp_ci_low'], 3)}-"
                       f"{_fmt(p['rp_ci_high'], 3)} | {_fmt(p['parallel_equivalent'])} |")
        out.append("")
    return "\n".join(out)
