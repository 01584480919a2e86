"""pmcore: off-target search, ASO hybridization risk and CMC statistics for
individualized genetic therapies (one product variant per patient mutation)."""

__version__ = "0.1.0"
