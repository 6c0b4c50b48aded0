"""The denoising regime: what happens to a clean batch before the network sees it.

Each spectrogram in [0, 1] independently gets (feature_extraction_saec's data loader):

1. a small time shift of up to ``shift_frames`` columns, edges filled with zeros (the clean
   target is shifted too: the network learns shift-robust features, not to undo the shift);
2. a random noise floor: uniform noise up to a random level below ``noise_floor``, combined
   by maximum, as a quiet recording's background fills the low end of a spectrogram;
3. additive Gaussian noise with a random std up to ``noise_std``;
4. brightness (an offset within +-``brightness``) and contrast (a factor within
   1 +- ``contrast`` about the spectrogram's mean) jitter;

and is clipped back to [0, 1].
"""

from __future__ import annotations

import torch

from sonotype.autoencoder.config import AutoencoderConfig


class Corruptor:
    """Corrupts batches ``(b, 1, F, T)`` with the regime of ``config``, drawing from
    ``generator`` (seeded, so a session repeats)."""

    def __init__(self, config: AutoencoderConfig, generator: torch.Generator) -> None:
        self.config, self.generator = config, generator

    def _uniform(self, n: int, low: float, high: float) -> torch.Tensor:
        return low + (high - low) * torch.rand(n, 1, 1, 1, generator=self.generator)

    def shift(self, clean: torch.Tensor) -> torch.Tensor:
        """``clean`` with each spectrogram moved in time by up to ``shift_frames`` columns."""
        limit = self.config.shift_frames
        if not limit:
            return clean
        n, _, _, t = clean.shape
        shifts = torch.randint(-limit, limit + 1, (n,), generator=self.generator)
        columns = torch.arange(t)[None, :] - shifts[:, None]  # source column of each column
        valid = (columns >= 0) & (columns < t)
        index = columns.clamp(0, t - 1)[:, None, None, :].expand_as(clean)
        return torch.gather(clean, 3, index) * valid[:, None, None, :]

    def __call__(self, clean: torch.Tensor) -> torch.Tensor:
        """The noisy version of ``clean`` (already shifted by :meth:`shift`)."""
        c, n = self.config, clean.shape[0]
        x = clean
        if c.noise_floor:
            level = self._uniform(n, 0, c.noise_floor)
            x = torch.maximum(x, level * torch.rand(x.shape, generator=self.generator))
        if c.noise_std:
            std = self._uniform(n, 0, c.noise_std)
            x = x + std * torch.randn(x.shape, generator=self.generator)
        if c.contrast:
            mean = x.mean(dim=(1, 2, 3), keepdim=True)
            x = mean + (x - mean) * self._uniform(n, 1 - c.contrast, 1 + c.contrast)
        if c.brightness:
            x = x + self._uniform(n, -c.brightness, c.brightness)
        return x.clamp(0, 1)
