"""Words and numbers shared by the Markdown and HTML reports."""

from __future__ import annotations

import math

MODALITY = {"nuclease": "gRNA, nuclease", "base_editor": "gRNA, base editor", "aso": "ASO"}


def num(x, nd: int = 2) -> str:
    if x is None:
        return "–"
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, float):
        if math.isnan(x):
            return "–"
        return f"{x:.{nd}f}"
    return str(x)


def pvalue(p) -> str:
    if p is None or math.isnan(p):
        return "–"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def found(x) -> str:
    return {True: "found", False: "NOT FOUND", None: "–"}[x]


def site_label(t: dict) -> str:
    return f"{t['chrom']}:{t['start']}-{t['end']} ({t['strand']})"


def bulge(t: dict) -> str:
    return t.get("bulge") or "–"


def shelf_text(s: dict) -> str:
    if s.get("proposed_months") is None:
        return "not estimable" if s.get("shelf_life_months") is None else \
            f"{s['shelf_life_months']:.1f} mo (no proposal)"
    return f"{s['proposed_months']} mo"


def rp_ci(p: dict) -> str:
    if p.get("rp") is None:
        return "–"
    lo, hi = p.get("rp_ci_low"), p.get("rp_ci_high")
    text = (f"{p['rp']:.3f} (CI unbounded)" if lo is None or hi is None
            else f"{p['rp']:.3f} ({lo:.3f}–{hi:.3f})")
    # without similarity the relative potency is not reportable (USP <1032>)
    return text if p.get("parallel_equivalent") else text + ", not reportable"


def offtarget_line(r: dict) -> str:
    if r.get("n_offtargets") is None:
        return "not searched"
    return (f"{r['n_offtargets']} (0 mm {r.get('n_mm0') or 0}, 1 mm {r.get('n_mm1') or 0}, "
            f"2 mm {r.get('n_mm2') or 0}, 3 mm {r.get('n_mm3') or 0}, "
            f"4+ mm {r.get('n_mm4plus') or 0}, bulged {r.get('n_bulged') or 0})")


def settings_lines(info: dict) -> list[tuple[str, str]]:
    p = info.get("platform", {})
    out = [("Platform", p.get("name") or "–"), ("Modality", MODALITY.get(p.get("modality"),
                                                                         p.get("modality") or "–"))]
    if p.get("description"):
        out.append(("Description", p["description"]))
    out.append(("Genome", p.get("genome") or "–"))
    out.append(("Annotation", p.get("annotation") or "none"))
    out.append(("Flagged regions", ", ".join(p.get("regions") or []) or "none"))
    out.append(("Patient VCF", ", ".join(p.get("patient_vcfs") or []) or "none"))
    out.append(("Population VCF", ", ".join(p.get("population_vcfs") or []) or "none"))
    e = p.get("editor")
    if e:
        be = f"{e['base_editor']} base editor on " if e.get("base_editor") else ""
        out.append(("gRNA search", f"{be}{e['nuclease']} ({e['pam']}), ≤ {e['mismatches']} "
                    f"mismatches, ≤ {e['dna_bulges']} DNA / {e['rna_bulges']} RNA bulge"
                    + (f", editing window {e['window'][0]}-{e['window'][1]}"
                       if e.get("base_editor") else "")))
    a = p.get("aso")
    if a:
        out.append(("ASO search", (f"{a['chemistry']}, ≤ {a['mismatches']} mismatches, "
                                   f"Na+ {a['na_mm']:g} mM, Mg2+ {a['mg_mm']:g} mM")))
    c = p.get("cmc") or {}
    out.append(("CMC", (f"potency reference {c.get('reference') or '–'}; platform leverage "
                        f"{'on' if c.get('platform_leverage') else 'off'}")))
    return out
