"""Inference core: the model contract, engine backends, Inpainter, strategies, tiling, batching and
pure image math. Imports nothing else from gincli."""
