"""Generate the embedded CMC demo data (seeded; rerun to reproduce byte for byte).

One platform (``AAV-PLAT``) with three variants; stability of three lots each at 5C and
25C/60%RH over 0-24 months (attribute ``potency`` in % of label claim, acceptance
90-110), and potency plates (reference standard ``RS`` and each lot, 8 doses including a
zero-dose control, duplicates). Run ``python make_demo.py`` in this folder.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
TIMES = (0, 3, 6, 9, 12, 18, 24)
VARIANTS = {"VAR-A": (-0.10, -0.30), "VAR-B": (-0.12, -0.33), "VAR-C": (-0.09, -0.45)}
DOSES = (0.0, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0)


def four_pl(x, bottom, top, hill, ec50):
    x = np.asarray(x, dtype=float)
    with np.errstate(divide="ignore"):
        return bottom + (top - bottom) / (1.0 + np.exp(-hill * (np.log(x) - np.log(ec50))))


def main() -> None:
    rng = np.random.default_rng(20240611)
    with open(HERE / "demo_stability.csv", "w", newline="") as handle:
        w = csv.writer(handle, lineterminator="\n")
        w.writerow(["platform_group", "variant_id", "condition", "attribute", "lot", "time",
                    "time_unit", "value", "lower_limit", "upper_limit"])
        for variant, (slope5, slope25) in VARIANTS.items():
            for j in range(3):
                lot = f"{variant}-L{j + 1}"
                start = 100.5 + rng.normal(0, 0.8)
                for condition, slope in (("5C", slope5), ("25C/60%RH", slope25)):
                    b = slope + rng.normal(0, 0.02)
                    for t in TIMES:
                        value = start + b * t + rng.normal(0, 0.6)
                        w.writerow(["AAV-PLAT", variant, condition, "potency", lot, t,
                                    "months", f"{value:.2f}", 90, 110])
    with open(HERE / "demo_potency.csv", "w", newline="") as handle:
        w = csv.writer(handle, lineterminator="\n")
        w.writerow(["variant_id", "lot", "plate", "sample", "dose", "response"])
        for variant in VARIANTS:
            for j in range(3):
                lot = f"{variant}-L{j + 1}"
                rp = float(np.exp(rng.normal(0, 0.12)))
                for sample, ec50 in (("RS", 1.0), (lot, 1.0 / rp)):
                    for dose in DOSES:
                        for _ in range(2):
                            y = four_pl(dose, 50.0, 1000.0, 1.1, ec50) * (
                                1 + rng.normal(0, 0.04))
                            w.writerow([variant, lot, f"P-{lot}", sample, dose, f"{y:.1f}"])


if __name__ == "__main__":
    main()
