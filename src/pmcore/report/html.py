"""``report.html``: one self-contained page (inline CSS, base64 figures, no script, no
network). Every user-provided string passes through :func:`esc`."""

from __future__ import annotations

import base64
import datetime as _dt
import html
from pathlib import Path

from . import _text as T
from . import plots


def esc(x, nd: int = 2) -> str:
    return html.escape(T.num(x, nd), quote=True)


CSS = """
:root{--ink:#0f172a;--muted:#64748b;--line:#e2e8f0;--bg:#f8fafc;--accent:#0f4c81;
--ok:#15803d;--okbg:#dcfce7;--warn:#b45309;--warnbg:#fef3c7;--bad:#b91c1c;--badbg:#fee2e2}
*{box-sizing:border-box}
body{margin:0;font:14px/1.5 -apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;
color:var(--ink);background:var(--bg)}
header.top{background:linear-gradient(135deg,#0f4c81,#1e3a5f);color:#fff;padding:28px 40px 22px}
header.top h1{margin:0 0 4px;font-size:24px;font-weight:650;letter-spacing:.2px}
header.top .sub{opacity:.85;font-size:13px}
main{max-width:1180px;margin:0 auto;padding:24px 32px 48px}
nav.toc{display:flex;flex-wrap:wrap;gap:8px;margin:0 0 18px}
nav.toc a{font-size:12.5px;text-decoration:none;color:var(--accent);background:#fff;
border:1px solid var(--line);border-radius:999px;padding:3px 12px}
section.card{background:#fff;border:1px solid var(--line);border-radius:10px;
padding:20px 24px;margin:0 0 20px;box-shadow:0 1px 2px rgba(15,23,42,.04)}
h2{font-size:18px;margin:0 0 12px;display:flex;align-items:center;gap:10px}
h3{font-size:14px;margin:18px 0 8px;color:#334155;text-transform:uppercase;letter-spacing:.5px}
table{border-collapse:collapse;width:100%;font-size:12.5px;margin:4px 0 8px}
th{text-align:left;font-weight:600;color:#475569;background:#f1f5f9;border-bottom:1px solid var(--line);
padding:6px 8px;vertical-align:bottom}
.scroll{overflow-x:auto}
table.overview{font-size:12px}table.overview td{padding:6px 6px}
td{border-bottom:1px solid #f1f5f9;padding:5px 8px;vertical-align:top}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
code,.seq{font-family:"SFMono-Regular",Menlo,Consolas,monospace;font-size:12px}
.seq{letter-spacing:.5px}
.badge{display:inline-block;font-size:11px;font-weight:600;padding:2px 8px;border-radius:999px;
background:#e0e7ff;color:#3730a3;white-space:nowrap}
.badge.ok{background:var(--okbg);color:var(--ok)}.badge.warn{background:var(--warnbg);color:var(--warn)}
.badge.bad{background:var(--badbg);color:var(--bad)}.badge.grey{background:#f1f5f9;color:var(--muted)}
.kv{display:grid;grid-template-columns:180px 1fr;gap:4px 16px;font-size:13px;margin:0}
.kv dt{color:var(--muted)}.kv dd{margin:0}
.facts{display:grid;grid-template-columns:repeat(auto-fit,minmax(165px,1fr));gap:10px;margin:6px 0 14px}
.fact{border:1px solid var(--line);border-radius:8px;padding:10px 12px;background:#fcfdff}
.fact .label{font-size:11px;color:var(--muted);text-transform:uppercase;letter-spacing:.4px}
.fact .value{font-size:19px;font-weight:650;margin-top:2px}
.fact .detail{font-size:11.5px;color:var(--muted)}
.fact.bad{border-color:#fecaca;background:#fff7f7}.fact.warn{border-color:#fde68a;background:#fffcf2}
.fact.ok{border-color:#bbf7d0;background:#f7fef9}
ul.flags{margin:4px 0 8px;padding:0;list-style:none}
ul.flags li{background:var(--warnbg);color:#78350f;border-left:3px solid #f59e0b;padding:5px 10px;
margin:0 0 4px;border-radius:4px;font-size:13px}
ul.plain{margin:4px 0 8px 18px;padding:0}
.note{background:#f1f5f9;border-left:3px solid #94a3b8;padding:6px 10px;border-radius:4px;
font-size:12.5px;color:#334155;margin:6px 0}
.figs{display:grid;grid-template-columns:repeat(auto-fill,minmax(340px,1fr));gap:14px;margin-top:6px}
.safety{display:grid;grid-template-columns:minmax(0,1fr) 380px;gap:18px;align-items:start}
@media (max-width:1000px){.safety{grid-template-columns:1fr}}
figure{margin:0;border:1px solid var(--line);border-radius:8px;padding:8px;background:#fff}
figure img{width:100%;height:auto;display:block}
figcaption{font-size:11.5px;color:var(--muted);margin-top:4px}
.two{display:grid;grid-template-columns:1fr 1fr;gap:18px}
@media (max-width:900px){.two{grid-template-columns:1fr}}
footer{color:var(--muted);font-size:11.5px;max-width:1180px;margin:0 auto;padding:0 32px 32px}
@media print{body{background:#fff}section.card{box-shadow:none;break-inside:avoid}}
"""


def _img(data: bytes, alt: str, caption: str | None = None) -> str:
    b64 = base64.b64encode(data).decode()
    cap = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
    return (f'<figure><img alt="{html.escape(alt)}" src="data:image/png;base64,{b64}">'
            f"{cap}</figure>")


def _table(header: list, rows: list, num_cols=(), cls: str = "") -> str:
    th = "".join(f'<th class="num">{html.escape(h)}</th>' if i in num_cols
                 else f"<th>{html.escape(h)}</th>" for i, h in enumerate(header))
    body = []
    for r in rows:
        cells = []
        for i, c in enumerate(r):
            cls = ' class="num"' if i in num_cols else ""
            # cells given as ("html", text) are pre-built markup from escaped parts
            text = c[1] if isinstance(c, tuple) and c and c[0] == "html" else esc(c, 3)
            cells.append(f"<td{cls}>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    klass = f' class="{cls}"' if cls else ""
    return (f'<div class="scroll"><table{klass}><thead><tr>{th}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table></div>")


def _short_genes(genes, n: int = 3):
    if not genes:
        return genes
    parts = genes.split(",")
    return genes if len(parts) <= n else ",".join(parts[:n]) + f" +{len(parts) - n}"


def _badge(text: str, kind: str = "") -> str:
    return f'<span class="badge {kind}">{html.escape(text)}</span>'


def _fact(label, value, detail="", kind="") -> str:
    return (f'<div class="fact {kind}"><div class="label">{html.escape(label)}</div>'
            f'<div class="value">{html.escape(str(value))}</div>'
            f'<div class="detail">{html.escape(detail)}</div></div>')


def _ontarget_badge(r) -> str:
    v = r.get("on_target_found")
    return _badge("on-target found", "ok") if v else (
        _badge("on-target NOT found", "bad") if v is False else _badge("on-target –", "grey"))


def _potency_badge(r) -> str:
    v = r.get("potency_verdict") or "no data"
    kind = "ok" if v == "similar" else ("grey" if v == "no data" else "warn")
    return _badge(v, kind)


def _variant_section(r: dict, tables: dict, base: Path) -> str:
    vid = r["variant_id"]
    grna = r["modality"] != "aso"
    out = [f'<section class="card" id="v-{html.escape(vid)}">',
           (f"<h2>{html.escape(vid)} {_badge(T.MODALITY.get(r['modality'], r['modality']))} "
            f"{_ontarget_badge(r)}</h2>")]
    kv = [("Patient", r.get("patient")), ("Mutation", r.get("mutation")),
          ("Target gene", r.get("gene")),
          ("Sequence", ("html", f'<span class="seq">{esc(r["sequence"])}</span>')),
          ("On-target locus", r.get("on_target_locus"))]
    out.append('<dl class="kv">' + "".join(
        f"<dt>{html.escape(k)}</dt><dd>{v[1] if isinstance(v, tuple) else esc(v)}</dd>"
        for k, v in kv) + "</dl>")
    # key facts
    facts = []
    n_off = r.get("n_offtargets")
    close = (r.get("n_mm0") or 0) + (r.get("n_mm1") or 0)
    facts.append(_fact("off-target sites", "–" if n_off is None else n_off,
                       "not searched" if n_off is None else f"{close} with 0-1 mismatches",
                       "" if n_off is None else ("warn" if close else "ok")))
    if grna:
        facts.append(_fact("specificity MIT / CFD",
                           f"{T.num(r.get('mit_specificity'), 0)} / "
                           f"{T.num(r.get('cfd_specificity'), 0)}",
                           f"max off-target CFD {T.num(r.get('max_offtarget_cfd'), 3)}"))
    else:
        facts.append(_fact("on-target duplex", f"{T.num(r.get('aso_dg37'), 1)} kcal/mol",
                           f"dG37; Tm {T.num(r.get('aso_tm'), 1)} °C"))
        if r.get("n_risk_high") is not None:
            facts.append(_fact("high-risk sites", r.get("n_risk_high"),
                               f"medium {T.num(r.get('n_risk_medium'))}, low "
                               f"{T.num(r.get('n_risk_low'))}",
                               "warn" if r.get("n_risk_high") else "ok"))
    cds, flg = r.get("n_coding_exon"), r.get("n_flagged_region")
    facts.append(_fact("in coding exons / flagged", f"{T.num(cds)} / {T.num(flg)}",
                       r.get("flagged_regions") or "", "bad" if flg else
                       ("warn" if cds else ("ok" if cds is not None else ""))))
    ps = r.get("n_patient_specific")
    facts.append(_fact("patient-specific sites", T.num(ps),
                       f"{T.num(r.get('n_patient_removed'))} removed by patient alleles"
                       if ps is not None else "no VCF-aware search",
                       "warn" if ps else ("ok" if ps is not None else "")))
    lots = r.get("potency_lots") or []
    n_sim = sum(1 for p in lots if p.get("parallel_equivalent"))
    facts.append(_fact("potency similarity", f"{n_sim} / {len(lots)} lots" if lots else "–",
                       r.get("potency_verdict") or "",
                       "ok" if r.get("potency_similar") else ("warn" if lots else "")))
    ms = r.get("min_proposed_shelf_life_months")
    facts.append(_fact("proposed shelf life", "–" if ms is None else f"{ms} mo",
                       "shortest over long-term conditions",
                       "" if ms is None else ("ok" if ms >= 12 else "warn")))
    out.append('<div class="facts">' + "".join(facts) + "</div>")
    if r.get("flags"):
        out.append("<h3>Flags</h3><ul class=\"flags\">" + "".join(
            f"<li>{html.escape(f)}</li>" for f in r["flags"]) + "</ul>")
    # safety
    out.append("<h3>Off-target safety</h3>")
    out.append(f"<p>{esc(T.offtarget_line(r))}"
               + (f"; alignments by class (mismatches:bulges=count) "
                  f"<code>{esc(r.get('class_counts'))}</code>"
                  if r.get("class_counts") else "") + "</p>")
    left = []
    if r.get("top_sites"):
        left.append(_table(
            ["site", "sequence", "mm", "bulge", "score", "region", "gene", "flagged",
             "risk" if not grna else "origin"],
            [[T.site_label(t), ("html", f'<span class="seq">{esc(t.get("site"))}</span>'),
              t["mismatches"], T.bulge(t),
              None if t.get("score") is None else f"{t['score_name']} {t['score']:.3f}",
              t.get("region"), _short_genes(t.get("gene")), t.get("flagged"),
              t.get("risk") if not grna else t.get("origin")] for t in r["top_sites"]],
            num_cols=(2,)))
        left.append('<p class="note">Top sites: the highest-risk loci (gRNA: by CFD, '
                    'patient-specific sites included; ASO: by ddG). Alignments of one locus '
                    'are shown once, by their best alignment.</p>')
    figs = []
    if grna:
        png = plots.site_scores(tables.get("hits"), vid)
        if png:
            figs.append(_img(png, f"{vid} off-target CFD by mismatches",
                             "Off-target sites: CFD score by mismatch count, coloured by "
                             "genomic region (on-target excluded)."))
    else:
        png = plots.aso_sites(tables.get("aso_hits"), vid)
        if png:
            figs.append(_img(png, f"{vid} ASO hybridization sites",
                             "Hybridization sites: duplex dG37 by mismatch count, coloured by "
                             "risk class (dotted: on-target duplex)."))
    out.extend(left)
    if figs:
        out.append('<div class="figs">' + "".join(figs) + "</div>")
    # CMC
    out.append("<h3>Relative potency</h3>")
    if lots:
        out.append(_table(["lot", "RP (95% CI)", "parallelism F p", "equivalence"],
                          [[p["lot"], T.rp_ci(p), T.pvalue(p.get("parallel_f_p")),
                            ("html", _badge("similar", "ok") if p.get("parallel_equivalent")
                             else _badge("not shown", "warn"))] for p in lots],
                          num_cols=(1, 2)))
    else:
        out.append('<p class="note">No potency data for this variant.</p>')
    out.append("<h3>Stability and shelf life (ICH Q1E)</h3>")
    shelf = r.get("shelf_life") or []
    if shelf:
        out.append(_table(["condition", "attribute", "model", "lots", "estimate (mo)",
                           "proposed", "limiting lot", "platform leverage"],
                          [[s["condition"], s["attribute"], (s.get("model") or "").replace("_", " "),
                            s["n_lots"], T.num(s.get("shelf_life_months"), 1), T.shelf_text(s),
                            s.get("limiting_lot"), s.get("leveraged") or "none"]
                           for s in shelf], num_cols=(3, 4)))
    else:
        out.append('<p class="note">No stability data for this variant.</p>')
    own, lev = r.get("cmc_variant_specific") or [], r.get("cmc_leveraged") or []
    out.append('<div class="two"><div><h3>Variant-specific CMC data</h3>'
               + ("<ul class=\"plain\">" + "".join(f"<li>{html.escape(x)}</li>" for x in own)
                  + "</ul>" if own else "<p>none</p>")
               + '</div><div><h3>Leveraged from the platform</h3>'
               + ("<ul class=\"plain\">" + "".join(f"<li>{html.escape(x)}</li>" for x in lev)
                  + "</ul>" if lev else "<p>none</p>") + "</div></div>")
    fig_table = tables.get("figures")
    cmc_figs = []
    if fig_table is not None:
        for f in fig_table.filter(fig_table["variant_id"] == vid).iter_rows(named=True):
            p = base / f["file"]
            if p.is_file():
                cmc_figs.append(_img(p.read_bytes(), f["caption"], f["caption"]))
    if cmc_figs:
        out.append('<div class="figs">' + "".join(cmc_figs) + "</div>")
    for n in r.get("notes") or []:
        out.append(f'<p class="note">{html.escape(n)}</p>')
    out.append("</section>")
    return "\n".join(out)


def render_html(rows: dict, tables: dict, info: dict, base) -> str:
    base = Path(base)
    p = info.get("platform", {})
    prov = info.get("provenance", {})
    name = p.get("name") or "platform"
    when = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             f"<title>{html.escape(name)}: safety and CMC summary</title>",
             f"<style>{CSS}</style></head><body>",
             '<header class="top">',
             f"<h1>{html.escape(name)} — per-variant safety and CMC summary</h1>",
             (f'<div class="sub">{len(rows)} product variant(s) · '
              f"{html.escape(T.MODALITY.get(p.get('modality'), p.get('modality') or ''))} "
              f"platform · generated {html.escape(when)} by pmcore "
              f"{html.escape(str(prov.get('pmcore_version', '?')))}</div></header><main>")]
    parts.append('<nav class="toc"><a href="#overview">Platform overview</a>' + "".join(
        f'<a href="#v-{html.escape(v)}">{html.escape(v)}</a>' for v in rows) + "</nav>")
    # overview
    parts.append('<section class="card" id="overview"><h2>Platform overview</h2>')
    parts.append('<div class="two"><div><dl class="kv">' + "".join(
        f"<dt>{html.escape(k)}</dt><dd>{html.escape(str(v))}</dd>"
        for k, v in T.settings_lines(info)) + "</dl></div><div>")
    png = plots.class_bars(list(rows.values()))
    if png:
        parts.append(_img(png, "off-target sites by class per variant",
                          "Off-target sites per variant by mismatch / bulge class."))
    parts.append("</div></div>")
    ov = []
    for r in rows.values():
        close = None if r.get("n_offtargets") is None else (r.get("n_mm0") or 0) + (
            r.get("n_mm1") or 0)
        nflags = len(r.get("flags") or [])
        ov.append([
            ("html", f'<a href="#v-{esc(r["variant_id"])}">{esc(r["variant_id"])}</a>'),
            T.MODALITY.get(r["modality"], r["modality"]),
            " / ".join(x for x in (r.get("patient"), r.get("mutation")) if x) or None,
            r.get("gene"), ("html", _ontarget_badge(r)), r.get("n_offtargets"), close,
            r.get("n_coding_exon"), r.get("n_flagged_region"), r.get("n_patient_specific"),
            None if r.get("mit_specificity") is None else
            f"{T.num(r.get('mit_specificity'), 0)} / {T.num(r.get('cfd_specificity'), 0)}",
            ("html", _potency_badge(r)),
            None if r.get("min_proposed_shelf_life_months") is None else
            f"{r['min_proposed_shelf_life_months']} mo",
            ("html", _badge(f"{nflags} flag(s)", "warn" if nflags else "ok"))])
    parts.append(_table(["variant", "modality", "patient / mutation", "gene", "on-target",
                         "off-targets", "0-1 mm", "coding", "flagged", "patient-specific",
                         "MIT / CFD spec.", "potency", "shelf life", "flags"], ov,
                        num_cols=(5, 6, 7, 8, 9), cls="overview"))
    for n in (info.get("notes") or {}).get("*", []):
        parts.append(f'<p class="note">{html.escape(n)}</p>')
    parts.append("</section>")
    for r in rows.values():
        parts.append(_variant_section(r, tables, base))
    parts.append("</main><footer>")
    inputs = prov.get("inputs") or []
    if inputs:
        parts.append("<details><summary>Inputs and checksums</summary>" + _table(
            ["file", "sha256"], [[i.get("path"), (i.get("sha256") or "")[:16]]
                                 for i in inputs]) + "</details>")
    parts.append(f"<p>Command: <code>{html.escape(str(prov.get('command', '')))}</code>. "
                 "Coordinates are 0-based, half-open, forward strand. Tables: "
                 "summary.parquet (schema variant_summary) and the detail tables beside "
                 "this file.</p></footer></body></html>")
    return "\n".join(parts)
