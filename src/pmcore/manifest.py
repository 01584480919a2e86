"""Platform manifest: one TOML file describing a platform and its product variants.

The schema is strict: an unknown key, a wrong type, a missing file or a duplicate variant
id raises :class:`~pmcore.errors.InputError` naming the key (``variant[2].guide``) or the
variant, so a typo never silently drops a setting. Paths are relative to the manifest's
folder. ``docs/summary.md`` documents every key; in short::

    manifest_version = 1

    [platform]
    name = "ABE-PLAT"              # required
    modality = "base_editor"       # nuclease | base_editor | aso (variants may override)
    description = "..."

    [genome]
    path = "genome.fa"             # FASTA(.gz), 2bit or .pmg; required
    annotation = "genes.gtf"       # GTF/GFF3, optional
    regions = ["flagged.bed"]      # BED files of flagged regions, optional
    chrom_alias = "alias.tsv"      # optional
    label = "GRCh38"               # optional, shown in the report

    [vcf]
    patient = ["patient.vcf.gz"]   # optional; sites created by these are patient-specific
    population = ["gnomad.vcf.gz"] # optional
    samples = ["P1"]               # optional subset of patient samples

    [editor]                       # gRNA variants
    nuclease = "SpCas9"            # preset, or pam = "NGG" with pam_side = 3
    base_editor = "ABE"            # ABE | CBE (base_editor modality; default ABE)
    window = [4, 8]
    mismatches = 4
    dna_bulges = 1
    rna_bulges = 1

    [aso]                          # ASO variants
    chemistry = "5-10-5"
    mismatches = 3                 # 0-4
    bulges = 1                     # 0-2
    mode = "premrna+transcripts"   # default with an annotation; "genome" without
    na_mm = 150.0
    mg_mm = 2.0

    [cmc]
    stability = "stability.csv"    # shared tables, rows selected by variant_id
    potency = "potency.csv"
    reference = "RS"               # potency reference standard (required with potency)
    platform_leverage = true
    lower = 90.0                   # default limits where the data give none
    upper = 110.0
    min_shelf_life_months = 12     # flag below this
    long_term = ["5C"]             # conditions of the label claim (default: every
                                   # refrigerated / room / frozen condition)

    [[variant]]
    id = "VAR-A"                   # required, unique
    patient = "Patient 1"
    mutation = "TSG1 c.1234G>A (p.W412*)"
    gene = "TSG1"
    modality = "base_editor"       # default: platform.modality
    guide = "ACGT..."              # gRNA spacer (nuclease / base_editor)
    aso = "ACGT..."                # ASO sequence 5'->3' (aso)
    chemistry = "5-10-5"           # ASO design override
    on_target = "chr2:45050-45073" # 0-based half-open; the site must lie inside
    stability = "var_a_stab.csv"   # variant-specific tables (override shared rows)
    potency = "var_a_pot.csv"
    notes = "..."
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

import tomllib

from .errors import InputError

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the same parser, packaged as tomli
    import tomli as tomllib

#: Highest manifest format version this pmcore reads.
MANIFEST_VERSION = 1

MODALITIES = ("nuclease", "base_editor", "aso")
GRNA_MODALITIES = ("nuclease", "base_editor")
ASO_MODES = ("premrna+transcripts", "premrna", "transcripts", "genome")

_LOCUS = re.compile(r"^\s*([^:\s]+):([0-9][0-9,_]*)-([0-9][0-9,_]*)\s*$")
_SEQ = re.compile(r"^[ACGTUacgtu]+$")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:+-]*$")


@dataclass(frozen=True)
class Locus:
    """0-based half-open interval on the forward strand."""

    chrom: str
    start: int
    end: int

    def __str__(self) -> str:
        return f"{self.chrom}:{self.start}-{self.end}"


@dataclass(frozen=True)
class Variant:
    id: str
    modality: str
    sequence: str
    on_target: Locus | None
    patient: str | None = None
    mutation: str | None = None
    gene: str | None = None
    chemistry: str | None = None
    stability: Path | None = None
    potency: Path | None = None
    notes: str | None = None

    @property
    def is_grna(self) -> bool:
        return self.modality in GRNA_MODALITIES


@dataclass(frozen=True)
class EditorSettings:
    nuclease: str | None = "SpCas9"
    pam: str | None = None
    pam_side: int | None = None
    base_editor: str | None = None
    window: tuple = (4, 8)
    mismatches: int = 4
    dna_bulges: int = 1
    rna_bulges: int = 1


@dataclass(frozen=True)
class AsoSettings:
    chemistry: str | None = "5-10-5"
    mismatches: int = 3
    bulges: int = 1
    mode: str | None = None
    na_mm: float = 150.0
    mg_mm: float = 2.0


@dataclass(frozen=True)
class CmcSettings:
    stability: Path | None = None
    potency: Path | None = None
    reference: str | None = None
    platform_leverage: bool = False
    lower: float | None = None
    upper: float | None = None
    min_shelf_life_months: float = 12.0
    long_term: tuple | None = None


@dataclass(frozen=True)
class Manifest:
    path: Path
    platform: str
    modality: str
    description: str | None
    genome: Path
    genome_label: str | None
    annotation: Path | None
    regions: tuple
    chrom_alias: Path | None
    patient_vcfs: tuple
    population_vcfs: tuple
    samples: tuple | None
    editor: EditorSettings
    aso: AsoSettings
    cmc: CmcSettings
    variants: tuple = field(default_factory=tuple)

    def grna_variants(self) -> list:
        return [v for v in self.variants if v.is_grna]

    def aso_variants(self) -> list:
        return [v for v in self.variants if v.modality == "aso"]

    def input_files(self) -> list:
        """Every file the manifest names (for provenance and digests)."""
        files = [self.genome, self.annotation, *self.regions, self.chrom_alias,
                 *self.patient_vcfs, *self.population_vcfs, self.cmc.stability,
                 self.cmc.potency]
        for v in self.variants:
            files += [v.stability, v.potency]
        return [f for f in files if f is not None]

    def to_dict(self) -> dict:
        """JSON-ready view (paths as text), stored with the results."""

        def conv(x):
            if isinstance(x, Path):
                return str(x)
            if isinstance(x, Locus):
                return str(x)
            if isinstance(x, dict):
                return {k: conv(v) for k, v in x.items()}
            if isinstance(x, (list, tuple)):
                return [conv(v) for v in x]
            return x

        return conv(asdict(self))

    def digest(self) -> str:
        """Digest of the parsed settings (not of the file text: comments do not count)."""
        return hashlib.sha256(json.dumps(self.to_dict(), sort_keys=True).encode()).hexdigest()


# --------------------------------------------------------------------------- schema

class _Reader:
    """Type-checked access to one TOML table; remembers which keys were read."""

    def __init__(self, table, where: str, path: Path, record=None):
        if not isinstance(table, dict):
            raise InputError(f"'{where}' must be a table", path=path, record=record)
        self.table, self.where, self.path, self.record = table, where, path, record
        self.seen: set = set()

    def _key(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def _err(self, key: str, reason: str):
        return InputError(f"key '{self._key(key)}': {reason}", path=self.path,
                          record=self.record)

    def get(self, key, types, default=None, required=False):
        self.seen.add(key)
        if key not in self.table:
            if required:
                raise InputError(f"missing required key '{self._key(key)}'", path=self.path,
                                 record=self.record)
            return default
        value = self.table[key]
        if isinstance(value, bool) and bool not in types:
            raise self._err(key, f"expected {_names(types)}, got a boolean")
        if not isinstance(value, types):
            raise self._err(key, f"expected {_names(types)}, got {type(value).__name__}")
        return value

    def text(self, key, required=False, default=None):
        value = self.get(key, (str,), default, required)
        if value is not None and not value.strip():
            raise self._err(key, "must not be empty")
        return value

    def number(self, key, default=None, lo=None, hi=None, integer=False):
        value = self.get(key, (int,) if integer else (int, float), default)
        if value is not None and ((lo is not None and value < lo)
                                  or (hi is not None and value > hi)):
            raise self._err(key, f"must be in {lo}..{hi}, not {value}")
        return value

    def file(self, key, required=False):
        value = self.text(key, required=required)
        return None if value is None else self.resolve(key, value)

    def files(self, key):
        value = self.get(key, (str, list), [])
        items = [value] if isinstance(value, str) else value
        out = []
        for i, item in enumerate(items):
            if not isinstance(item, str):
                raise self._err(key, f"item {i + 1} must be a path (text)")
            out.append(self.resolve(key, item))
        return tuple(out)

    def resolve(self, key, value: str) -> Path:
        p = Path(value).expanduser()
        if not p.is_absolute():
            p = self.path.parent / p
        if not p.exists():
            raise self._err(key, f"file not found: {p}")
        return p

    def finish(self):
        unknown = [k for k in self.table if k not in self.seen]
        if unknown:
            known = ", ".join(sorted(self.seen))
            raise InputError(f"unknown key '{self._key(unknown[0])}' (known keys here: "
                             f"{known})", path=self.path, record=self.record)


def _names(types) -> str:
    names = {str: "text", int: "an integer", float: "a number", list: "a list",
             dict: "a table", bool: "true/false"}
    return " or ".join(names.get(t, t.__name__) for t in types)


def _text_list(reader: _Reader, key: str):
    value = reader.get(key, (str, list))
    if value is None:
        return None
    items = [value] if isinstance(value, str) else value
    if not all(isinstance(x, str) and x.strip() for x in items):
        raise reader._err(key, "must be a list of condition labels")
    return tuple(items)


def parse_locus(text: str) -> Locus:
    """``chrom:start-end`` (0-based half-open; commas and underscores allowed in numbers)."""
    m = _LOCUS.match(text)
    if not m:
        raise ValueError(f"expected CHROM:START-END (0-based half-open), got {text!r}")
    start, end = (int(m.group(i).replace(",", "").replace("_", "")) for i in (2, 3))
    if end <= start:
        raise ValueError(f"end must be greater than start in {text!r}")
    return Locus(m.group(1), start, end)


def load_manifest(path) -> Manifest:
    """Read and check a manifest (files must exist; sequences are checked for letters).

    The genome-dependent check (each guide or ASO matches its stated on-target locus) is
    :func:`pmcore.pipeline.check_on_targets`, run before anything is written.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("manifest not found", path=path)
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"not valid TOML: {exc}", path=path) from None
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text: {exc}", path=path) from None
    top = _Reader(data, "", path)
    version = top.number("manifest_version", default=MANIFEST_VERSION, integer=True)
    if version > MANIFEST_VERSION or version < 1:
        raise InputError(f"manifest_version {version} is not supported (this pmcore reads "
                         f"1..{MANIFEST_VERSION})", path=path)

    plat = _Reader(top.get("platform", (dict,), required=True), "platform", path)
    name = plat.text("name", required=True)
    modality = plat.text("modality", required=True)
    if modality not in MODALITIES:
        raise plat._err("modality", f"must be one of {', '.join(MODALITIES)}, not {modality!r}")
    description = plat.text("description")
    plat.finish()

    gen = _Reader(top.get("genome", (dict,), required=True), "genome", path)
    genome = gen.file("path", required=True)
    genome_label = gen.text("label")
    annotation = gen.file("annotation")
    regions = gen.files("regions")
    chrom_alias = gen.file("chrom_alias")
    gen.finish()

    vcf = _Reader(top.get("vcf", (dict,), default={}), "vcf", path)
    patient = vcf.files("patient")
    population = vcf.files("population")
    samples = vcf.get("samples", (list,))
    if samples is not None and not all(isinstance(s, str) for s in samples):
        raise vcf._err("samples", "must be a list of sample names")
    vcf.finish()

    ed = _Reader(top.get("editor", (dict,), default={}), "editor", path)
    pam = ed.text("pam")
    nuclease = ed.text("nuclease", default=None if pam else "SpCas9")
    pam_side = ed.number("pam_side", integer=True)
    if pam_side is not None and pam_side not in (3, 5):
        raise ed._err("pam_side", "must be 3 or 5")
    base_editor = ed.text("base_editor")
    if base_editor is not None and base_editor.upper() not in ("ABE", "CBE"):
        raise ed._err("base_editor", f"must be ABE or CBE, not {base_editor!r}")
    window = ed.get("window", (list,), [4, 8])
    if (len(window) != 2 or not all(isinstance(w, int) and not isinstance(w, bool)
                                    for w in window) or not 1 <= window[0] <= window[1]):
        raise ed._err("window", "must be two 1-based positions [first, last]")
    editor = EditorSettings(
        nuclease=nuclease, pam=pam, pam_side=pam_side,
        base_editor=None if base_editor is None else base_editor.upper(),
        window=tuple(window),
        mismatches=ed.number("mismatches", 4, 0, 8, integer=True),
        dna_bulges=ed.number("dna_bulges", 1, 0, 3, integer=True),
        rna_bulges=ed.number("rna_bulges", 1, 0, 3, integer=True))
    ed.finish()

    asr = _Reader(top.get("aso", (dict,), default={}), "aso", path)
    aso_mode = asr.text("mode")
    if aso_mode is not None and aso_mode not in ASO_MODES:
        raise asr._err("mode", f"must be one of {', '.join(ASO_MODES)}, not {aso_mode!r}")
    aso = AsoSettings(chemistry=asr.text("chemistry", default="5-10-5"),
                      mismatches=asr.number("mismatches", 3, 0, 4, integer=True),
                      bulges=asr.number("bulges", 1, 0, 2, integer=True), mode=aso_mode,
                      na_mm=float(asr.number("na_mm", 150.0, 0)),
                      mg_mm=float(asr.number("mg_mm", 2.0, 0)))
    asr.finish()

    cm = _Reader(top.get("cmc", (dict,), default={}), "cmc", path)
    cmc = CmcSettings(stability=cm.file("stability"), potency=cm.file("potency"),
                      reference=cm.text("reference"),
                      platform_leverage=cm.get("platform_leverage", (bool,), False),
                      lower=cm.number("lower"), upper=cm.number("upper"),
                      min_shelf_life_months=float(cm.number("min_shelf_life_months", 12.0, 0)),
                      long_term=_text_list(cm, "long_term"))
    cm.finish()

    raw_variants = top.get("variant", (list,), required=True)
    top.finish()
    if not raw_variants:
        raise InputError("the manifest lists no [[variant]]", path=path)
    variants, seen = [], {}
    for i, raw in enumerate(raw_variants, 1):
        rid = raw.get("id") if isinstance(raw, dict) else None
        v = _Reader(raw, f"variant[{i}]", path, record=rid if isinstance(rid, str) else None)
        vid = v.text("id", required=True)
        if not _ID.match(vid):
            raise v._err("id", f"{vid!r}: use letters, digits and . _ : + - only")
        if vid in seen:
            raise InputError(f"duplicate variant id {vid!r} (variant[{seen[vid]}] and "
                             f"variant[{i}])", path=path, record=vid)
        seen[vid] = i
        vmod = v.text("modality", default=modality)
        if vmod not in MODALITIES:
            raise v._err("modality", f"must be one of {', '.join(MODALITIES)}, not {vmod!r}")
        guide, aso_seq = v.text("guide"), v.text("aso")
        if vmod == "aso":
            if guide is not None:
                raise v._err("guide", "an ASO variant takes 'aso', not 'guide'")
            if aso_seq is None:
                raise InputError(f"missing required key 'variant[{i}].aso'", path=path,
                                 record=vid)
            seq = aso_seq
        else:
            if aso_seq is not None:
                raise v._err("aso", f"a {vmod} variant takes 'guide', not 'aso'")
            if guide is None:
                raise InputError(f"missing required key 'variant[{i}].guide'", path=path,
                                 record=vid)
            seq = guide
        key = "aso" if vmod == "aso" else "guide"
        if not _SEQ.match(seq.strip()):
            raise v._err(key, f"{seq!r} holds letters other than A, C, G, T/U")
        seq = seq.strip().upper().replace("U", "T")
        locus_text = v.text("on_target")
        locus = None
        if locus_text is not None:
            try:
                locus = parse_locus(locus_text)
            except ValueError as exc:
                raise v._err("on_target", str(exc)) from None
        variants.append(Variant(
            id=vid, modality=vmod, sequence=seq, on_target=locus,
            patient=v.text("patient"), mutation=v.text("mutation"), gene=v.text("gene"),
            chemistry=v.text("chemistry"), stability=v.file("stability"),
            potency=v.file("potency"), notes=v.text("notes")))
        v.finish()
    if (cmc.potency is not None or any(v.potency for v in variants)) and cmc.reference is None:
        raise InputError("key 'cmc.reference': the potency reference standard's sample "
                         "name is required when potency data are given", path=path)
    return Manifest(
        path=path, platform=name, modality=modality, description=description,
        genome=genome, genome_label=genome_label, annotation=annotation, regions=regions,
        chrom_alias=chrom_alias, patient_vcfs=patient, population_vcfs=population,
        samples=None if samples is None else tuple(samples), editor=editor, aso=aso,
        cmc=cmc, variants=tuple(variants))


__all__ = [
    "MANIFEST_VERSION",
    "MODALITIES",
    "AsoSettings",
    "CmcSettings",
    "EditorSettings",
    "Locus",
    "Manifest",
    "Variant",
    "load_manifest",
    "parse_locus",
]
