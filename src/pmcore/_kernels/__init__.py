"""Compiled kernels and their pure-Python twins. Users never import this package directly:
the public modules pick an implementation through :mod:`pmcore.kernels`."""
