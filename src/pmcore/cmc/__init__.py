"""CMC statistics: stability shelf life (ICH Q1E) and relative potency (4PL).

Public entry points: :func:`analyze_stability` and :func:`analyze_potency`.
"""

from .potency import PotencyOptions, PotencyResult, analyze_potency, load_potency
from .stability import StabilityOptions, StabilityResult, analyze_stability, load_stability

__all__ = [
    "PotencyOptions",
    "PotencyResult",
    "StabilityOptions",
    "StabilityResult",
    "analyze_potency",
    "analyze_stability",
    "load_potency",
    "load_stability",
]
