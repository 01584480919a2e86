"""Reports of a run: ``summary.json``, ``report.md`` and a self-contained ``report.html``.

The HTML file embeds its style and every figure (base64 PNG): it opens offline, from an
e-mail attachment or a review portal. Every text that comes from the user (platform and
variant names, labels, notes, file names, table cells) goes through :func:`html.escape`.
"""

from __future__ import annotations

import json
import math

from ..io import atomic_path
from .html import render_html
from .markdown import render_markdown


def _clean(x):
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    return x


def write_reports(outdir, summary, tables: dict, info: dict, base=None) -> dict:
    """Write the three reports into ``outdir``; ``base`` is where ``figures/`` lives
    (default ``outdir``). Returns ``{name: path}``."""
    from pathlib import Path

    from ..summary import summary_json

    outdir = Path(outdir)
    base = Path(base) if base is not None else outdir
    doc = _clean(summary_json(summary, info))
    rows = doc["variants"]
    paths = {"json": outdir / "summary.json", "md": outdir / "report.md",
             "html": outdir / "report.html"}
    with atomic_path(paths["json"]) as tmp:
        tmp.write_text(json.dumps(doc, indent=2, default=str, allow_nan=False) + "\n")
    with atomic_path(paths["md"]) as tmp:
        tmp.write_text(render_markdown(rows, tables, info))
    with atomic_path(paths["html"]) as tmp:
        tmp.write_text(render_html(rows, tables, info, base), encoding="utf-8")
    return paths


__all__ = ["render_html", "render_markdown", "write_reports"]
