import numpy as np
import pytest
import soundfile as sf

from sonotype.audio import Recording
from sonotype.motifs.find import motif_table, recording_motifs
from sonotype.synth.motif import planted_motif

SR = 16000


@pytest.fixture(scope="package")
def motif_set(tmp_path_factory):
    """Four recordings, each with its own planted 2 s motif: (folder, table, results)."""
    folder = tmp_path_factory.mktemp("triplets")
    rng = np.random.default_rng(11)
    results = []
    for k in range(4):
        y = planted_motif(duration_s=20.0, motif_s=2.0, starts_s=(3.0 + k, 12.0), rng=rng)
        sf.write(folder / f"r{k}.wav", y, SR)
        results.append(recording_motifs(Recording(folder / f"r{k}.wav"), name=f"r{k}.wav",
                                        window_s=2.0, engine="numpy"))  # fmt: skip
    return folder, motif_table(results), results
