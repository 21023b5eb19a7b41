"""Data layer: load a table, prepare it, split it, scale it. Never imports Keras."""
