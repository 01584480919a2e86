"""``pmcore demo``: the per-variant safety and CMC job on data shipped with the package.

Everything is generated here (seeded) or read from ``pmcore/data``: a 300 kb synthetic
genome whose contigs match the embedded demo annotation (``data/annotation/demo.gtf``,
genes ONCO1 and TSG1 flagged in ``demo_regions.bed``), a platform of three variants of one
adenine base-editor platform (two gRNAs with planted near-copies, including one in an
ONCO1 coding exon, and one ASO), a patient VCF with one allele that creates an extra
off-target site and one that removes one, and the embedded stability and potency data
(``data/cmc``). Nothing is downloaded.

:func:`write_demo_inputs` writes these inputs and the manifest
(``data/demo/manifest.toml.in`` filled in) into a folder; :func:`run_demo` then runs
exactly what ``pmcore run manifest.toml`` runs.
"""

from __future__ import annotations

import shutil
import string
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
    pam: str = "AGG"


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
        Plant("demo2", 10_000, "+", (2, 7)),         # the patient's VCF removes its PAM
        Plant("demo1", 180_000, "+", (4,), rna_bulge=8),
        Plant("demo1", 120_000, "-", (16, 17, 18)),
    ]),
}
# Sites that exist only in the patient: a near-copy of VAR-A with a dead PAM (AGC) that
# the patient's allele turns into AGG (a 2-mismatch site on the patient's haplotype).
PATIENT_PLANTS = {"VAR-A": Plant("demo1", 140_000, "+", (5, 14), pam="AGC")}
ASO_VARIANT = ("VAR-C", "demo2", 51_600, 20)  # ASO against TSG1 exon 3 (minus-strand gene)
# Near-copies of the ASO's target in ONCO1 (plus-strand gene, flagged region): one
# mismatch in its intron 1, two mismatches in its coding exon 3 (target positions changed).
ASO_PLANTS = [("demo1", 21_000, (10,)), ("demo1", 25_100, (3, 15))]

_COMP = str.maketrans("ACGT", "TGCA")


def _revcomp(s: str) -> str:
    return s.translate(_COMP)[::-1]


def _plant_site(guide: str, plant: Plant) -> str:
    proto = list(guide)
    for p in plant.mismatches:
        proto[p] = {"A": "C", "C": "G", "G": "T", "T": "A"}[proto[p]]
    if plant.dna_bulge is not None:
        proto.insert(plant.dna_bulge, "T")
    if plant.rna_bulge is not None:
        del proto[plant.rna_bulge]
    site = "".join(proto) + plant.pam
    return _revcomp(site) if plant.strand == "-" else site


def make_genome(rng) -> tuple[dict, dict]:
    """Seeded genome with the planted sites; returns (contigs, guides)."""
    genome = {name: list(np.array(list("ACGT"))[rng.choice(4, n, p=[0.28, 0.22, 0.22, 0.28])])
              for name, n in CONTIGS.items()}
    guides = {}
    for variant, (on, offs) in GRNA_VARIANTS.items():
        guide = "".join(rng.choice(list("ACGT"), 20))
        guides[variant] = guide
        plants = [on, *offs]
        if variant in PATIENT_PLANTS:
            plants.append(PATIENT_PLANTS[variant])
        for plant in plants:
            site = _plant_site(guide, plant)
            genome[plant.contig][plant.pos:plant.pos + len(site)] = list(site)
    _, contig, start, length = ASO_VARIANT
    aso = "".join(genome[contig][start:start + length])
    for c, pos, mms in ASO_PLANTS:
        target = list(_revcomp(aso))  # the RNA (DNA letters) of a plus-strand gene
        for p in mms:
            target[p] = {"A": "C", "C": "G", "G": "T", "T": "A"}[target[p]]
        genome[c][pos:pos + length] = target
    # a soft-masked repeat stretch, as in a real assembly
    text = {k: "".join(v) for k, v in genome.items()}
    text["demo1"] = text["demo1"][:130_000] + text["demo1"][130_000:131_000].lower() + text["demo1"][131_000:]
    return text, guides


# --------------------------------------------------------------------------- CMC data
# Stability: (variant, platform group, lots, last month at 5C). VAR-B is a new variant with
# one lot and six months: with platform leverage it borrows the common slope of the
# base-editor platform (VAR-A and the earlier product ABE-PRIOR), as ICH Q1E allows for
# related presentations when the slopes are poolable.
STABILITY_LOTS = {
    "VAR-A": ("ABE-PLAT", 3, 24),
    "VAR-B": ("ABE-PLAT", 1, 6),
    "ABE-PRIOR": ("ABE-PLAT", 3, 36),
    "VAR-C": ("ASO-PLAT", 3, 24),
}
LONG_TERM = (0, 3, 6, 9, 12, 18, 24, 36)
ACCELERATED = (0, 1, 3, 6)
# attribute -> (start, slope per month at 5C, at 25C, noise sd, lower, upper limit)
ATTRIBUTES = {"potency (% LC)": (100.5, -0.13, -0.60, 0.45, 90, 110),
              "purity (%)": (99.2, -0.045, -0.22, 0.12, 95, None)}
# potency plates: lot -> (true relative potency, test hill / reference hill)
POTENCY_LOTS = {
    "VAR-A": {"VAR-A-L1": (1.00, 1.0), "VAR-A-L2": (0.93, 1.0), "VAR-A-L3": (1.06, 1.0)},
    "VAR-B": {"VAR-B-L1": (0.97, 1.0)},
    "VAR-C": {"VAR-C-L1": (1.02, 1.0), "VAR-C-L2": (0.96, 1.0), "VAR-C-L3": (1.08, 0.62)},
}
DOSES = (0.0, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0)


def _four_pl(x, bottom, top, hill, ec50):
    with np.errstate(divide="ignore"):
        return bottom + (top - bottom) / (1.0 + np.exp(-hill * (np.log(x) - np.log(ec50))))


def make_cmc(rng) -> tuple[str, str]:
    """Seeded stability and potency tables (CSV text) of the demo platform."""
    st = [("platform_group,variant_id,condition,attribute,lot,time,time_unit,value,"
           "lower_limit,upper_limit")]
    for variant, (group, n_lots, last) in STABILITY_LOTS.items():
        for j in range(n_lots):
            lot = f"{variant}-L{j + 1}"
            for attr, (start, s5, s25, sd, lo, hi) in ATTRIBUTES.items():
                a = start + rng.normal(0, 3 * sd)
                for cond, slope, times in (("5C", s5, [t for t in LONG_TERM if t <= last]),
                                           ("25C/60%RH", s25, ACCELERATED)):
                    if variant == "ABE-PRIOR" and cond != "5C":
                        continue
                    for t in times:
                        v = a + slope * t + rng.normal(0, sd)
                        st.append(f"{group},{variant},{cond},{attr},{lot},{t},months,"
                                  f"{v:.2f},{lo},{'' if hi is None else hi}")
    po = ["variant_id,lot,plate,sample,dose,response"]
    for variant, lots in POTENCY_LOTS.items():
        for lot, (rp, hill_ratio) in lots.items():
            for sample, ec50, hill in (("RS", 1.0, 1.1), (lot, 1.0 / rp, 1.1 * hill_ratio)):
                for dose in DOSES:
                    for _ in range(3):
                        y = _four_pl(dose, 40.0, 1000.0, hill, ec50) * (1 + rng.normal(0, 0.025))
                        po.append(f"{variant},{lot},P-{lot},{sample},{dose},{y:.1f}")
    return "\n".join(st) + "\n", "\n".join(po) + "\n"


def _data(path: str) -> Path:
    return Path(str(resources.files("pmcore") / "data" / path))


def patient_vcf(genome: dict) -> str:
    """The demo patient's VCF (1-based POS): one allele creating a site, one removing one."""
    create = PATIENT_PLANTS["VAR-A"]
    pos_create = create.pos + 22          # 0-based: last PAM base (C of AGC)
    removed = GRNA_VARIANTS["VAR-B"][1][0]
    pos_remove = removed.pos + 22         # 0-based: last PAM base (G of AGG)
    records = []
    for contig, pos, alt in ((create.contig, pos_create, "G"),
                             (removed.contig, pos_remove, "T")):
        ref = genome[contig][pos].upper()
        records.append((contig, pos + 1, ref, alt))
    lines = ["##fileformat=VCFv4.2", "##source=pmcore demo (synthetic patient)"]
    lines += [f"##contig=<ID={c},length={n}>" for c, n in CONTIGS.items()]
    lines.append('##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">')
    lines.append("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tPATIENT1")
    for i, (c, p, r, a) in enumerate(sorted(records), 1):
        lines.append(f"{c}\t{p}\tpat{i}\t{r}\t{a}\t50\tPASS\t.\tGT\t0/1")
    return "\n".join(lines) + "\n"


def write_demo_inputs(folder) -> Path:
    """Write the demo genome, annotation, VCF, CMC tables and manifest; returns the
    manifest path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    genome, guides = make_genome(np.random.default_rng(SEED))
    with open(folder / "demo_genome.fa", "w") as fh:
        for name, seq in genome.items():
            fh.write(f">{name} pmcore demo contig (synthetic, seed {SEED})\n")
            fh.writelines(seq[i:i + 70] + "\n" for i in range(0, len(seq), 70))
    for src, dst in (("annotation/demo.gtf", "demo.gtf"),
                     ("annotation/demo_regions.bed", "demo_regions.bed")):
        shutil.copyfile(_data(src), folder / dst)
    stability, potency = make_cmc(np.random.default_rng(SEED + 1))
    (folder / "demo_stability.csv").write_text(stability)
    (folder / "demo_potency.csv").write_text(potency)
    (folder / "patient.vcf").write_text(patient_vcf(genome))
    _, contig, start, length = ASO_VARIANT
    # TSG1 is on the minus strand: its RNA is the reverse complement of the genome, so the
    # antisense oligo has the forward-strand letters
    aso = genome[contig][start:start + length].upper()
    values = {"VAR_C_ASO": aso, "VAR_C_LOCUS": f"{contig}:{start}-{start + length}"}
    for v, (on, _) in GRNA_VARIANTS.items():
        key = v.replace("-", "_")
        values[f"{key}_GUIDE"] = guides[v]
        values[f"{key}_LOCUS"] = f"{on.contig}:{on.pos}-{on.pos + 23}"
    template = string.Template(_data("demo/manifest.toml.in").read_text())
    manifest = folder / "manifest.toml"
    manifest.write_text(template.substitute(values))
    return manifest


def run_demo(outdir, *, threads: int = 2, log=print, inputs_dir=None):
    """Write the demo inputs (into ``inputs_dir``, default a temporary folder) and run the
    same pipeline as ``pmcore run``; returns the :class:`pmcore.pipeline.RunResult`."""
    from .pipeline import run_pipeline

    tmp = None
    if inputs_dir is None:
        tmp = tempfile.mkdtemp(prefix="pmcore-demo-inputs-")
        inputs_dir = tmp
    try:
        manifest = write_demo_inputs(inputs_dir)
        log(f"inputs written to {inputs_dir} (manifest {manifest.name})")
        result = run_pipeline(manifest, outdir, threads=threads, command="pmcore demo",
                              echo=log)
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    return result
