"""Training data: an image folder, resized, cropped, augmented and masked once per mask family.

Every random choice for sample ``index`` in ``epoch`` comes from a generator
seeded by (seed, epoch, index), so the data a step sees does not depend on
worker processes or on where a run was resumed.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

from gincli.core.classical import network_input
from gincli.io.images import IMAGE_EXTENSIONS, ImageReadError, iter_image_files, read_rgb
from gincli.masks.families import FAMILIES, PAPER_FAMILIES, resolve_family
from train.generator import SIZE_MULTIPLE


class InpaintingDataset(Dataset):
    """Items are ``(epoch, index)`` pairs; each yields an image (3 x S x S), one mask per
    family (K x 1 x S x S; by default rectangle, free-form, cellular automata) and the image as
    the generator reads it under each mask (K x 3 x S x S: the hole white, or pre-filled by
    Telea with ``hole_fill="telea"``; computed here, in the loader's workers)."""

    def __init__(
        self,
        root: str | Path,
        load_size: int = 512,
        crop_size: int = 256,
        seed: int = 0,
        families: tuple[str, ...] = PAPER_FAMILIES,
        hole_fill: str = "white",
    ) -> None:
        if not families:
            raise ValueError(f"no mask families: choose from {', '.join(FAMILIES)}")
        self.families = tuple(resolve_family(f) for f in families)
        self.root = Path(root)
        if not self.root.is_dir():
            raise FileNotFoundError(f"training data folder {self.root} does not exist")
        if crop_size > load_size:
            raise ValueError(f"crop size {crop_size} is larger than load size {load_size}")
        if crop_size % SIZE_MULTIPLE:  # else the first step fails deep inside G2 with a size mismatch
            below = max(SIZE_MULTIPLE, crop_size // SIZE_MULTIPLE * SIZE_MULTIPLE)
            raise ValueError(
                f"crop size {crop_size} is not a multiple of {SIZE_MULTIPLE}, as the network needs: try {below}"
            )
        self.files = list(iter_image_files(self.root))
        if not self.files:
            raise FileNotFoundError(
                f"no images in {self.root} (searched recursively for {', '.join(IMAGE_EXTENSIONS)})"
            )
        self.load_size, self.crop_size, self.seed, self.hole_fill = load_size, crop_size, seed, hole_fill
        self._warned: set[Path] = set()

    def __len__(self) -> int:
        return len(self.files)

    def _load(self, index: int) -> np.ndarray:
        """Decode file ``index``; an unreadable one is skipped (warned once) for the next readable."""
        for offset in range(len(self.files)):
            path = self.files[(index + offset) % len(self.files)]
            try:
                return read_rgb(path)
            except ImageReadError as exc:
                if path not in self._warned:
                    self._warned.add(path)
                    warnings.warn(f"skipping unreadable training image: {exc}", stacklevel=2)
        raise RuntimeError(f"none of the {len(self.files)} images in {self.root} could be read")

    def __getitem__(self, item: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        epoch, index = item
        rng = np.random.default_rng([self.seed, epoch, index])
        image = cv2.resize(self._load(index), (self.load_size, self.load_size), interpolation=cv2.INTER_AREA)
        top, left = (int(v) for v in rng.integers(0, self.load_size - self.crop_size + 1, size=2))
        image = image[top : top + self.crop_size, left : left + self.crop_size]
        if rng.random() < 0.5:
            image = image[:, ::-1]
        image = np.rot90(image, k=int(rng.integers(0, 4)))
        masks = np.stack([FAMILIES[f].draw(self.crop_size, self.crop_size, rng) for f in self.families])
        image = np.ascontiguousarray(image)
        inputs = np.stack([network_input(image, mask, self.hole_fill) for mask in masks])
        return (
            torch.from_numpy(image.transpose(2, 0, 1).copy()),
            torch.from_numpy(masks[:, None]),
            torch.from_numpy(inputs.transpose(0, 3, 1, 2).copy()),
        )


def expand_batch(
    images: torch.Tensor, masks: torch.Tensor, inputs: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(B x 3 x S x S, B x K x 1 x S x S, B x K x 3 x S x S) -> K B samples: each image once
    per mask family, with its mask and the generator's input under that mask."""
    b, k = masks.shape[:2]
    images = images.unsqueeze(1).expand(b, k, *images.shape[1:]).reshape(b * k, *images.shape[1:])
    flat = lambda t: t.reshape(b * k, *t.shape[2:])  # noqa: E731
    return images.contiguous(), flat(masks), flat(inputs)
