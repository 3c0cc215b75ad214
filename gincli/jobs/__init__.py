"""Jobs over many images or frames: the batch and video pipelines, temporal smoothing, evaluation.
Imports core, io and masks."""
