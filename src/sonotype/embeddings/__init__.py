"""Embeddings of events and of whole-recording windows, stored as named sets.

See :mod:`sonotype.embeddings.sets` for how a set is stored and read.
"""

from sonotype.embeddings.sets import (
    EmbeddingSet,
    list_embedding_sets,
    load_embedding_set,
    save_embedding_set,
)

__all__ = ["EmbeddingSet", "list_embedding_sets", "load_embedding_set", "save_embedding_set"]
