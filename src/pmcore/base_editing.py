"""Base-editor window check: does an off-target site hold an editable base in the window?

A base editor's risk at a site is editing, not cutting: an adenine base editor (ABE)
deaminates A, a cytosine base editor (CBE) C, on the non-target strand, i.e. the strand the
site is written on, within a window of protospacer positions (default 4-8, position 1 being
the PAM-distal end of a 20-nt protospacer).

Positions are counted from the PAM: position p of an L-nt spacer is the genome base
``L - p`` bases upstream of the PAM. On a bulged site this keeps the window at the same
distance from the PAM, where the editor acts, whatever the bulge did PAM-distally.
Defined for 3' PAMs (SpCas9-type editors); other sites get null with a note.

>>> editable_positions("GACGTACGTAAGCTTGCAAC" + "AGG", "ABE")
[6]
>>> editable_positions("GACGTACGTAAGCTTGCAAC" + "AGG", "CBE", window=(1, 4))
[3]
"""

from __future__ import annotations

import numpy as np

from .errors import InputError

EDITORS = {"ABE": "A", "CBE": "C"}
DEFAULT_WINDOW = (4, 8)


def check_editor(editor: str | None) -> str | None:
    if editor is None:
        return None
    e = editor.strip().upper()
    if e not in EDITORS:
        raise InputError(f"base editor {editor!r} is not one of {', '.join(EDITORS)}")
    return e


def parse_window(window) -> tuple[int, int]:
    """``(a, b)`` or ``'a-b'`` -> ``(a, b)``, 1-based inclusive, 1 <= a <= b <= 30."""
    if isinstance(window, str):
        parts = window.replace(",", "-").split("-")
        try:
            window = tuple(int(p) for p in parts)
        except ValueError:
            raise InputError(f"editing window {window!r} is not 'START-END'") from None
    if len(window) != 2:
        raise InputError(f"editing window {window!r} is not 'START-END'")
    a, b = int(window[0]), int(window[1])
    if not 1 <= a <= b <= 30:
        raise InputError(f"editing window {a}-{b} must satisfy 1 <= START <= END <= 30")
    return a, b


def editable_positions(site: str, editor: str, window=DEFAULT_WINDOW, *,
                       guide_length: int = 20, pam_length: int = 3) -> list[int]:
    """1-based protospacer positions in ``window`` that hold the editor's base.

    ``site`` is protospacer + PAM on the guide's strand (``-`` gaps are dropped; case is
    ignored). Positions are counted from the PAM, as in the module docstring.
    """
    e = check_editor(editor)
    a, b = parse_window(window)
    bases = site.replace("-", "").upper()
    proto = bases[:len(bases) - pam_length]
    target = EDITORS[e]
    found = []
    for p in range(a, min(b, guide_length) + 1):
        idx = len(proto) - 1 - (guide_length - p)
        if 0 <= idx < len(proto) and proto[idx] == target:
            found.append(p)
    return found


def add_window_columns(scored, editor: str | None, window=DEFAULT_WINDOW):
    """Append ``base_editor``, ``be_window``, ``be_positions``, ``be_editable`` (all null
    when ``editor`` is None) to a frame from :func:`pmcore.scoring.score_site_columns`."""
    import polars as pl

    e = check_editor(editor)
    n = scored.height
    if e is None:
        return scored.with_columns(
            pl.lit(None, dtype=pl.String).alias("base_editor"),
            pl.lit(None, dtype=pl.String).alias("be_window"),
            pl.lit(None, dtype=pl.String).alias("be_positions"),
            pl.lit(None, dtype=pl.Boolean).alias("be_editable"))
    a, b = parse_window(window)
    target = ord(EDITORS[e])
    positions = np.full(n, None, dtype=object)
    editable = np.full(n, None, dtype=object)
    notes = scored["score_note"].to_list()
    work = scored.select(
        pl.col("_bases"), pl.col("_pam_len"), pl.col("_pam_side"),
        pl.col("guide").str.len_bytes().alias("L"),
    ).with_row_index("_i").with_columns(pl.col("_bases").str.len_bytes().alias("W"))
    for key in work.group_by(["L", "W", "_pam_len", "_pam_side"]).agg(
            pl.col("_i")).iter_rows(named=True):
        idx = np.asarray(key["_i"], dtype=np.int64)
        L, W, P = key["L"], key["W"], key["_pam_len"]
        if key["_pam_side"] != 3:
            for i in idx:
                text = "base-editing window is defined for 3' PAM editors"
                notes[i] = text if notes[i] is None else notes[i] + "; " + text
            continue
        joined = work["_bases"].gather(idx).str.join("").item()
        raw = np.frombuffer(joined.encode("ascii", "replace"),
                            dtype=np.uint8).reshape(len(idx), W)
        proto_len = W - P
        # one bit per window position, then one string per distinct bit pattern
        window_pos = [p for p in range(a, min(b, L) + 1) if 0 <= proto_len - 1 - (L - p)]
        mask = np.zeros(len(idx), dtype=np.int64)
        for k, p in enumerate(window_pos):
            mask |= (raw[:, proto_len - 1 - (L - p)] == target).astype(np.int64) << k
        for value in np.unique(mask).tolist():
            rows = idx[mask == value]
            text = ",".join(str(p) for k, p in enumerate(window_pos) if value >> k & 1)
            positions[rows] = text
            editable[rows] = value != 0
    return scored.with_columns(
        pl.lit(e, dtype=pl.String).alias("base_editor"),
        pl.lit(f"{a}-{b}", dtype=pl.String).alias("be_window"),
        pl.Series("be_positions", positions.tolist(), dtype=pl.String),
        pl.Series("be_editable", editable.tolist(), dtype=pl.Boolean),
        pl.Series("score_note", notes, dtype=pl.String),
    )
