"""gin: DeepGIN image inpainting. Inference runs on ONNX Runtime and never imports torch."""

__version__ = "0.1.0"
