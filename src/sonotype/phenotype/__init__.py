"""Phenotypes: each animal's repertoire and syntax, from its labelled syllables.

Pure functions over Events tables whose ``label`` is the syllable type (a person's label or
a cluster id), with optional embeddings row-aligned with the events:

- :func:`phenotype` describes every animal at once and returns :class:`Phenotypes`: one
  per-type table per animal, an across-animal summary, and transition matrices;
  :meth:`Phenotypes.to_csv` writes them (atomically);
- :func:`animal_of` finds the animal of each recording from a folder of its path or a
  regular expression;
- repertoire: :func:`type_counts`, :func:`repertoire_size`, :func:`stereotypy`;
- syntax: :func:`bout_ids`, :func:`bouts`, :func:`transition_matrix`,
  :func:`transition_probabilities`, :func:`transition_entropy`, :func:`linearity`,
  :func:`consistency` (Scharff and Nottebohm 1991), :func:`repeats`.
"""

from sonotype.phenotype.grouping import DEFAULT_ANIMAL, GROUPINGS, animal_of
from sonotype.phenotype.repertoire import MIN_COUNT, repertoire_size, stereotypy, type_counts
from sonotype.phenotype.syntax import (
    BOUT_GAP_S,
    END,
    START,
    bout_ids,
    bouts,
    consistency,
    linearity,
    next_type_entropy,
    repeats,
    transition_entropy,
    transition_matrix,
    transition_probabilities,
)
from sonotype.phenotype.table import SUMMARY_COLUMNS, TYPE_COLUMNS, Phenotypes, phenotype

__all__ = [
    "BOUT_GAP_S",
    "DEFAULT_ANIMAL",
    "END",
    "GROUPINGS",
    "MIN_COUNT",
    "START",
    "SUMMARY_COLUMNS",
    "TYPE_COLUMNS",
    "Phenotypes",
    "animal_of",
    "bout_ids",
    "bouts",
    "consistency",
    "linearity",
    "next_type_entropy",
    "phenotype",
    "repeats",
    "repertoire_size",
    "stereotypy",
    "transition_entropy",
    "transition_matrix",
    "transition_probabilities",
    "type_counts",
]
