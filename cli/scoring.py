"""``pmcore score-site`` and ``pmcore score``: CFD / MIT scores of guide-site pairs and of
hits tables, with per-guide specificity summaries (``docs/scoring.md``)."""

from __future__ import annotations

import json
import logging
import math
import sys
from pathlib import Path

import click

from pmcore.errors import InputError
from pmcore.scoring import score_hits

log = logging.getLogger("pmcore")

_PARQUET_SUFFIXES = (".parquet", ".pq")


def _fmt(value) -> str:
    """TSV cell of a score: shortest round-trip float text, empty for null."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return repr(float(value))


# --------------------------------------------------------------------------- score-site

def _looks_like_pair(fields) -> bool:
    return len(fields) >= 2 and all(
        len(f) >= 12 and f.isalpha() and set(f.upper()) <= set("ACGTUNRYSWKMBDHV")
        for f in fields[:2])


def _read_pairs(path: str):
    """Yield ``(line_number, header, fields)``; the header must name ``guide`` and ``site``."""
    from pmcore.io import open_text_input

    try:
        handle = open_text_input(path)
    except OSError as exc:
        raise InputError(f"cannot read pairs file: {exc.strerror}", path=path) from None
    with handle:
        header = None
        for number, raw in enumerate(handle, start=1):
            line = raw.rstrip("\r\n")
            if not line.strip() or line.startswith("#"):
                continue
            fields = line.split("\t")
            if header is None:
                header = [f.strip() for f in fields]
                lowered = [h.lower() for h in header]
                missing = [c for c in ("guide", "site") if c not in lowered]
                if missing and _looks_like_pair(header):
                    # no header line: the first two columns are guide and site
                    header = ["guide", "site"] + [f"column_{k}" for k in
                                                  range(3, len(fields) + 1)]
                    log.info("%s has no header line; reading columns 1-2 as guide, site",
                             path)
                    yield number, header, None
                    yield number, header, fields
                    continue
                if missing:
                    raise InputError("pairs file header lacks column(s) " + ", ".join(missing)
                                     + " (tab-separated, first line)", path=path, line=number)
                if len(set(lowered)) != len(lowered):
                    raise InputError("pairs file header repeats a column name", path=path,
                                     line=number)
                yield number, header, None
                continue
            yield number, header, fields
        if header is None:
            raise InputError("pairs file is empty (no header line with guide and site)",
                             path=path)


def _score_pairs_file(pairs: str, output: str, errors_path: str | None, strict: bool) -> None:
    from pmcore.io import open_output_text
    from pmcore.scoring import check_pair, score_pairs

    header = None
    kept_rows: list[list[str]] = []
    guides: list[str] = []
    sites: list[str] = []
    errors: list[tuple[int, str, str, str]] = []
    gi = si = -1
    for number, hdr, fields in _read_pairs(pairs):
        if fields is None:
            header = hdr
            lowered = [h.lower() for h in header]
            gi, si = lowered.index("guide"), lowered.index("site")
            continue
        guide = fields[gi].strip() if gi < len(fields) else ""
        site = fields[si].strip() if si < len(fields) else ""
        try:
            if len(fields) != len(header):
                raise InputError(f"row has {len(fields)} fields, header has {len(header)}")
            g, site = check_pair(guide, site)
        except InputError as exc:
            if strict:
                raise InputError(exc.reason, path=pairs, line=number) from None
            errors.append((number, guide, site, exc.reason))
            click.echo(f"pmcore: warning: {pairs}:{number}: {exc.reason} (row skipped)",
                       err=True)
            continue
        kept_rows.append(fields)
        guides.append(g)
        sites.append(site)
    cfd, mit = score_pairs(guides, sites)
    lowered = [h.lower() for h in header]
    out_header = list(header)
    # an input that already has cfd/mit columns gets them overwritten, not duplicated
    slots = {}
    for name in ("cfd", "mit"):
        if name in lowered:
            slots[name] = lowered.index(name)
        else:
            slots[name] = len(out_header)
            out_header.append(name)
    with open_output_text(output) as out:
        out.write("\t".join(out_header) + "\n")
        for fields, c, m in zip(kept_rows, cfd, mit):
            row = list(fields) + [""] * (len(out_header) - len(fields))
            row[slots["cfd"]] = _fmt(c)
            row[slots["mit"]] = _fmt(m)
            out.write("\t".join(row) + "\n")
    if errors_path:
        with open_output_text(errors_path) as out:
            out.write("line\tguide\tsite\treason\n")
            for number, guide, site, reason in errors:
                out.write(f"{number}\t{guide}\t{site}\t{reason}\n")
    if errors:
        log.warning("%d of %d rows of %s could not be scored", len(errors),
                    len(errors) + len(kept_rows), pairs)


@click.command("score-site")
@click.argument("guide", required=False)
@click.argument("site", required=False)
@click.option("--json", "as_json", is_flag=True,
              help='Print {"cfd": ..., "mit": ...} (one pair).')
@click.option("--pairs", type=click.Path(dir_okay=False, allow_dash=True),
              help="TSV with a header naming columns guide and site; scores every row.")
@click.option("-o", "--output", default="-", show_default=True,
              help="Output TSV for --pairs: the input columns plus cfd and mit, in input "
                   "order ('-' = stdout).")
@click.option("--errors", "errors_path", type=click.Path(dir_okay=False, allow_dash=True),
              help="With --pairs: write the rows that could not be scored here (TSV: line, "
                   "guide, site, reason).")
@click.option("--strict", is_flag=True,
              help="With --pairs: stop at the first bad row (exit 2, no output).")
def score_site(guide, site, as_json, pairs, output, errors_path, strict):
    """CFD and MIT scores of GUIDE against SITE, or of every row of --pairs.

    GUIDE is the spacer (20 nt for CFD; MIT also scores other lengths as CRISPOR does).
    SITE is the protospacer + 3-nt PAM, 5'->3' on the guide's strand. CFD is -1 when SITE
    holds a letter other than ACGT (CRISPOR's convention) and null for non-20-nt spacers;
    MIT is the Hsu hit score (0-100, PAM not compared).
    """
    if pairs is not None:
        if guide is not None or site is not None:
            raise click.UsageError("give either GUIDE SITE or --pairs, not both")
        if as_json:
            raise click.UsageError("--json prints one pair; --pairs writes a TSV")
        _score_pairs_file(pairs, output, errors_path, strict)
        return
    if guide is None or site is None:
        raise click.UsageError("give GUIDE and SITE, or --pairs FILE")
    from pmcore.scoring import score_site as score_one

    result = score_one(guide, site)
    if result.note:
        log.info("%s", result.note)
    if as_json:
        click.echo(json.dumps(result.as_dict()))
    else:
        click.echo("cfd\tmit")
        click.echo(f"{_fmt(result.cfd)}\t{_fmt(result.mit)}")


# --------------------------------------------------------------------------- score

def _is_parquet(path: str) -> bool:
    if path == "-":
        return False
    if path.lower().endswith(_PARQUET_SUFFIXES):
        return True
    try:
        with open(path, "rb") as handle:
            return handle.read(4) == b"PAR1"
    except OSError:
        return False


def read_hits(path: str):
    """A hits table from Parquet or TSV (``-`` = TSV on stdin) as a Polars frame."""
    import polars as pl

    from pmcore.tables import HITS_SCHEMA

    if path != "-" and not Path(path).is_file():
        raise InputError("no such file", path=path)
    try:
        if _is_parquet(path):
            df = pl.read_parquet(path)
        else:
            overrides = {f.name: (pl.String if str(f.type) == "string" else
                                  pl.Boolean if str(f.type) == "bool" else pl.Int64)
                         for f in HITS_SCHEMA}
            source = sys.stdin.buffer if path == "-" else path
            df = pl.read_csv(source, separator="\t", schema_overrides=overrides,
                             comment_prefix="#", null_values=[""])
    except (pl.exceptions.PolarsError, OSError, ValueError) as exc:
        if isinstance(exc, InputError):
            raise
        raise InputError(f"cannot read hits table: {str(exc).splitlines()[0]}",
                         path=path) from None
    from pmcore.scoring_schemas import SCORE_FIELDS

    # a table scored before is scored again from its hits columns
    stale = [f.name for f in SCORE_FIELDS if f.name in df.columns]
    if stale:
        df = df.drop(stale)
    return df


def _write_table(df, path: str, record: dict, schema_cast=None) -> None:
    from pmcore.io import open_output_text, write_parquet

    if path != "-" and path.lower().endswith(_PARQUET_SUFFIXES):
        table = schema_cast(df) if schema_cast else df.to_arrow()
        write_parquet(table, path, record=record)
        return
    with open_output_text(path) as out:
        df.write_csv(out, separator="\t", null_value="")


def _parse_on_target(values) -> dict:
    loci = {}
    for text in values:
        try:
            qid, locus = text.rsplit("=", 1)
            chrom, span = locus.rsplit(":", 1)
            start, end = (int(v.replace(",", "")) for v in span.split("-"))
        except ValueError:
            raise InputError(f"--on-target {text!r} is not QUERY_ID=CHROM:START-END") from None
        if start < 0 or end <= start:
            raise InputError(f"--on-target {text!r}: need 0 <= START < END")
        loci[qid] = (chrom, start, end)
    return loci


@click.command("score")
@click.argument("hits", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("-o", "--output", required=True,
              help="Scored hits: .parquet, or TSV otherwise ('-' = stdout).")
@click.option("--summary", "summary_path", default=None,
              help="Per-guide summary table: .parquet, or TSV otherwise.")
@click.option("--base-editor", type=click.Choice(["ABE", "CBE"], case_sensitive=False),
              default=None, help="Flag sites with an editable A (ABE) or C (CBE) in the window.")
@click.option("--window", default="4-8", show_default=True,
              help="Base-editing window, 1-based protospacer positions (1 = PAM-distal).")
@click.option("--on-target", "on_target", multiple=True, metavar="QID=CHROM:START-END",
              help="On-target locus of a guide (0-based half-open); repeatable. Without it "
                   "the on-target is a perfect match with an xGG PAM.")
@click.option("--max-occ", default=60000, show_default=True, type=click.IntRange(min=1),
              help="Above this many unbulged <=4-mismatch sites a guide is a repeat and "
                   "its CRISPOR specificities are 0 (CRISPOR's MAXOCC).")
def score(hits, output, summary_path, base_editor, window, on_target, max_occ):
    """Score an existing hits table (Parquet or TSV): CFD, MIT, CRISPOR specificity
    inputs, on-target flag and, with --base-editor, the editing-window flag."""
    from pmcore.base_editing import parse_window
    from pmcore.io import provenance
    from pmcore.scoring import to_arrow
    from pmcore.scoring_schemas import SCORING_SCHEMA_VERSION

    win = parse_window(window)
    loci = _parse_on_target(on_target)
    df = read_hits(hits)
    try:
        result = score_hits(df, base_editor=base_editor, window=win, on_target=loci or None,
                            max_occ=max_occ, summary=summary_path is not None)
    except InputError as exc:
        raise InputError(exc.reason, path=None if hits == "-" else hits,
                         record=exc.record) from None
    scored, summary = result if summary_path is not None else (result, None)
    record = provenance(inputs=[] if hits == "-" else [hits],
                        scoring_schema_version=SCORING_SCHEMA_VERSION,
                        coordinates="0-based half-open, forward strand")
    _write_table(scored, output, dict(record, table="scored_hits"), schema_cast=to_arrow)
    if summary is not None:
        from pmcore.scoring_schemas import GUIDE_SUMMARY_SCHEMA

        _write_table(summary, summary_path, dict(record, table="guide_summary"),
                     schema_cast=lambda d: d.to_arrow().cast(GUIDE_SUMMARY_SCHEMA))
    log.info("scored %d sites of %d guides", scored.height,
             scored.select(["query_id", "guide"]).n_unique())


commands = [score_site, score]
