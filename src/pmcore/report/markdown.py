"""``report.md``: the same content as the HTML report, as GitHub-flavoured Markdown."""

from __future__ import annotations

import html

from . import _text as T


def _md(x, nd: int = 2) -> str:
    """User text for Markdown: HTML-escaped (renderers pass raw HTML through), one line."""
    return html.escape(T.num(x, nd), quote=False).replace("\n", " ")


def _cell(x) -> str:
    return _md(x, 3).replace("|", "\\|")


def _table(header: list, rows: list) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(_cell(c) for c in r) + " |" for r in rows]
    return out + [""]


def render_markdown(rows: dict, tables: dict, info: dict) -> str:
    p = info.get("platform", {})
    prov = info.get("provenance", {})
    out = [f"# {_md(p.get('name', 'platform'))}: per-variant safety and CMC summary", "",
           f"pmcore {prov.get('pmcore_version', '?')}; command `{prov.get('command', '?')}`", ""]
    out += ["## Platform", ""]
    out += _table(["setting", "value"], T.settings_lines(info))
    out += ["## Overview", ""]
    out += _table(
        ["variant", "modality", "patient / mutation", "gene", "on-target", "off-targets",
         "0-1 mm", "coding", "flagged", "patient-specific", "specificity (MIT/CFD)",
         "potency", "min shelf life", "flags"],
        [[r["variant_id"], T.MODALITY.get(r["modality"], r["modality"]),
          " / ".join(x for x in (r.get("patient"), r.get("mutation")) if x) or None,
          r.get("gene"), T.found(r.get("on_target_found")), r.get("n_offtargets"),
          None if r.get("n_offtargets") is None else (r.get("n_mm0") or 0) + (r.get("n_mm1") or 0),
          r.get("n_coding_exon"), r.get("n_flagged_region"), r.get("n_patient_specific"),
          None if r.get("mit_specificity") is None else
          f"{T.num(r.get('mit_specificity'), 0)} / {T.num(r.get('cfd_specificity'), 0)}",
          r.get("potency_verdict"),
          None if r.get("min_proposed_shelf_life_months") is None else
          f"{r['min_proposed_shelf_life_months']} mo", len(r.get("flags") or [])]
         for r in rows.values()])
    for note in (info.get("notes") or {}).get("*", []):
        out.append(f"> Note: {_md(note)}")
    out.append("")
    for r in rows.values():
        out += [f"## {r['variant_id']} ({T.MODALITY.get(r['modality'], r['modality'])})", ""]
        facts = [("patient", r.get("patient")), ("mutation", r.get("mutation")),
                 ("target gene", r.get("gene")), ("sequence", f"`{r['sequence']}`"),
                 ("on-target locus", r.get("on_target_locus")),
                 ("on-target", T.found(r.get("on_target_found")))]
        if r["modality"] == "aso":
            facts.append(("on-target duplex", (f"dG37 {T.num(r.get('aso_dg37'))} kcal/mol, "
                                               f"Tm {T.num(r.get('aso_tm'), 1)} C")))
        else:
            facts.append(("specificity", (f"MIT {T.num(r.get('mit_specificity'), 0)}, CFD "
                                          f"{T.num(r.get('cfd_specificity'), 0)}")))
        facts.append(("off-targets", T.offtarget_line(r)))
        facts += [("in coding exons", r.get("n_coding_exon")),
                  ("in flagged regions", f"{T.num(r.get('n_flagged_region'))} "
                   f"{r.get('flagged_regions') or ''}".strip()),
                  ("patient-specific sites", r.get("n_patient_specific"))]
        out += [f"* **{k}**: {v if k == 'sequence' else _md(v)}" for k, v in facts] + [""]
        if r.get("flags"):
            out += ["**Flags**", ""] + [f"* ⚠ {_md(f)}" for f in r["flags"]] + [""]
        if r.get("top_sites"):
            out += ["**Top off-target sites**", ""]
            grna = r["modality"] != "aso"
            out += _table(["site", "sequence", "mm", "bulge", "score", "region", "gene",
                           "flagged", "origin" if grna else "risk"],
                          [[T.site_label(t), t.get("site"), t["mismatches"], T.bulge(t),
                            None if t.get("score") is None else
                            f"{t['score_name']} {t['score']:.3f}", t.get("region"),
                            t.get("gene"), t.get("flagged"),
                            t.get("origin") if grna else t.get("risk")]
                           for t in r["top_sites"]])
        out += ["**Relative potency**", ""]
        if r.get("potency_lots"):
            out += _table(["lot", "RP (95% CI)", "parallelism F p", "similar"],
                          [[p_["lot"], T.rp_ci(p_), T.pvalue(p_.get("parallel_f_p")),
                            p_.get("parallel_equivalent")] for p_ in r["potency_lots"]])
        else:
            out += ["no potency data", ""]
        out += ["**Shelf life (ICH Q1E)**", ""]
        if r.get("shelf_life"):
            out += _table(["condition", "attribute", "model", "lots", "estimate (mo)",
                           "proposed", "limiting lot", "leveraged"],
                          [[s["condition"], s["attribute"], s["model"], s["n_lots"],
                            T.num(s.get("shelf_life_months"), 1), T.shelf_text(s), s.get("limiting_lot"),
                            s.get("leveraged") or "no"] for s in r["shelf_life"]])
        else:
            out += ["no stability data", ""]
        out += ["**CMC evidence**", ""]
        out += [f"* variant-specific: {_md(x)}" for x in r.get("cmc_variant_specific") or []]
        out += [f"* leveraged from the platform: {_md(x)}"
                for x in r.get("cmc_leveraged") or []]
        out.append("")
        for n in r.get("notes") or []:
            out.append(f"> Note: {_md(n)}")
        figs = tables.get("figures")
        if figs is not None:
            for f in figs.filter(figs["variant_id"] == r["variant_id"]).iter_rows(named=True):
                out.append(f"![{_md(f['caption'])}]({f['file']})")
        out.append("")
    inputs = prov.get("inputs") or []
    if inputs:
        out += ["## Inputs", ""]
        out += _table(["file", "sha256"], [[i.get("path"), (i.get("sha256") or "")[:16]]
                                           for i in inputs])
    return "\n".join(out) + "\n"
