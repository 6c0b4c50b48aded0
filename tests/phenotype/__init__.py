"""Tests of sonotype.phenotype."""
