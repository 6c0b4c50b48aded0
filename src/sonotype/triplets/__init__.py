"""Triplet embeddings learnt from motifs, after the birdclef-2022 motif/tile2vec work.

:mod:`~sonotype.triplets.sampling` draws anchor/positive/negative spans from a motif set
(``sonotype motifs``) in birdclef-2022's four partitions; :mod:`~sonotype.triplets.frontend`
cuts each span's log-mel spectrogram on the fly; :mod:`~sonotype.triplets.network` is the
tile2vec-style network (torch); :mod:`~sonotype.triplets.training` trains it with a triplet
margin loss and a NaN guard; :mod:`~sonotype.triplets.stage` makes training a cached stage.
torch is imported only by the network, training and stage modules.
"""
