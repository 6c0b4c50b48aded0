"""The app's REST API, one module per topic: recordings (audio, spectrograms, video),
events (edits, undo, redo, review, live changes), explore (embeddings, reductions,
clusterings, similarity), jobs (runs started from the page) and files."""
