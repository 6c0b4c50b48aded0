"""The HTML report of autoencoder training sessions: settings, losses, previews."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sonotype.atomic import atomic_path
from sonotype.report.html import figure, page, table


def write_autoencoder_report(
    folder: Path, sessions: list[dict], *, title: str = "Autoencoders"
) -> Path:
    """Write ``folder/index.html`` from ``sessions``: dicts with ``name``, ``architecture``,
    ``latent_channels``, ``parameters``, ``epochs``, ``best_epoch``, ``validation_loss``,
    ``noisy_loss`` (the corrupted previews against the clean ones), ``seconds``, and the
    PNG file names ``previews`` and ``curve`` (relative to ``folder``)."""
    header = [
        "model",
        "architecture",
        "latent channels",
        "parameters",
        "epochs",
        "best epoch",
        "validation MSE",
        "corrupted-input MSE",
        "reconstruction MSE",
        "seconds",
    ]
    rows = [
        [
            s["name"],
            s["architecture"],
            s["latent_channels"],
            s["parameters"],
            s["epochs"],
            s["best_epoch"] or "",
            _num(s.get("validation_loss")),
            _num(s.get("noisy_loss")),
            _num(s.get("denoised_loss")),
            _num(s.get("seconds")),
        ]
        for s in sessions
    ]
    body = [
        '<p class="note">Each model learnt to give back clean spectrograms from corrupted '
        "ones (noise floor, additive noise, time shifts, brightness and contrast jitter). "
        "Corrupted-input MSE: how far the previews' corrupted spectrograms are from the clean "
        "ones; reconstruction MSE: how far the network's reconstructions of them are.</p>",
        table(header, rows),
    ]
    for s in sessions:
        body.append(f"<h2>{s['name']}</h2>")
        body.append(figure(s["previews"], "clean, corrupted and reconstructed spectrograms"))
        body.append(figure(s["curve"], "loss per epoch"))
    path = Path(folder) / "index.html"
    with atomic_path(path) as tmp:
        tmp.write_text(page(title, "\n".join(body)), encoding="utf-8")
    return path


def _num(value) -> float | str:
    return "" if value is None or not np.isfinite(value) else float(value)
