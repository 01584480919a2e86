"""Placeholder: commands of this CLI area are added by their module."""

commands: list = []
