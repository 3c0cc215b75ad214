"""Image quality metrics on float images in [0, 1] (pure numpy / OpenCV)."""

from __future__ import annotations

import numpy as np

from gincli.core.lazy import cv2


def psnr(a: np.ndarray, b: np.ndarray, peak: float = 1.0) -> float:
    """Peak signal-to-noise ratio in dB; infinite for identical inputs."""
    mse = float(np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2))
    return float("inf") if mse == 0 else 10.0 * np.log10(peak**2 / mse)


def ssim(a: np.ndarray, b: np.ndarray, peak: float = 1.0) -> float:
    """SSIM (Wang et al. 2004): Gaussian window 11, sigma 1.5, K1 0.01, K2 0.03,
    computed per channel on H x W (x C) images and averaged."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.ndim == 2:
        a, b = a[..., None], b[..., None]
    c1, c2 = (0.01 * peak) ** 2, (0.03 * peak) ** 2
    blur = lambda x: cv2.GaussianBlur(x, (11, 11), 1.5, borderType=cv2.BORDER_REFLECT)  # noqa: E731
    scores = []
    for ch in range(a.shape[-1]):
        x, y = a[..., ch], b[..., ch]
        mx, my = blur(x), blur(y)
        vx, vy, cov = blur(x * x) - mx * mx, blur(y * y) - my * my, blur(x * y) - mx * my
        ssim_map = ((2 * mx * my + c1) * (2 * cov + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
        scores.append(ssim_map[5:-5, 5:-5].mean() if min(x.shape) > 10 else ssim_map.mean())
    return float(np.mean(scores))


def mean_l1_percent(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute error in percent of the [0, 1] range."""
    return 100.0 * float(np.mean(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64))))
