"""Workflows: stages chained over a project (the layer above the science modules)."""
