"""The pmcore command line (installed as the package ``pmcore.cli``)."""
