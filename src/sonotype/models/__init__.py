"""Supervised networks (torch): architectures, training, classification, export."""
