"""How good are the labels: predictions scored against a reference, annotators compared.

Pure functions over Events tables (see :mod:`sonotype.annotations.events`):

- :func:`match_events` pairs predicted with reference events one to one (optimal
  assignment), by onset/offset tolerance or by overlap (IoU);
- :func:`event_scores` gives precision, recall, F1, hits, misses, false alarms and timing
  errors per label, with a micro-averaged ``"(all)"`` row;
- :func:`overlap_scores` gives time-based ("tic") precision and recall, by exact interval
  arithmetic;
- :func:`syllable_error_rates` / :func:`syllable_error_rate` compare label sequences by
  edit distance (:func:`edit_distance`);
- :func:`annotator_agreement` summarises two annotators symmetrically (F1, Cohen's kappa
  over time);
- :func:`recording_scores` gives the same counts and scores per recording;
- :func:`evaluate_events` computes all of the prediction scores at once (per label and per
  recording; with ``ignore_labels``, segments matched regardless of label);
  :func:`align_recordings` reconciles recording names that differ by their folders;
- :func:`frame_error_rate`, :func:`frame_labels` and :func:`segment_accuracy` score labels
  frame by frame (DAS, TweetyNet); :func:`sparse_scores` scores against a sparse
  annotation with known-negative stretches;
- :func:`misses` lists the detected sounds that no prediction covers.
"""

from sonotype.evaluate._checks import ALL_LABELS, TIME_EPSILON_S
from sonotype.evaluate.agreement import (
    AGREEMENT_COLUMNS,
    annotator_agreement,
    cohen_kappa_durations,
)
from sonotype.evaluate.coverage import misses
from sonotype.evaluate.frames import (
    SEGMENT_COLUMNS,
    SPARSE_KEYS,
    frame_error_rate,
    frame_labels,
    segment_accuracy,
    sparse_scores,
)
from sonotype.evaluate.matching import MATCH_COLUMNS, align_recordings, match_events
from sonotype.evaluate.metrics import (
    RECORDING_SCORE_COLUMNS,
    SCORE_COLUMNS,
    SEGMENT_LABEL,
    EventEvaluation,
    as_segments,
    evaluate_events,
    event_scores,
    recording_scores,
    scores_from_matches,
)
from sonotype.evaluate.overlap import OVERLAP_COLUMNS, overlap_scores
from sonotype.evaluate.sequences import (
    SEQUENCE_COLUMNS,
    edit_distance,
    syllable_error_rate,
    syllable_error_rates,
)

__all__ = [
    "AGREEMENT_COLUMNS",
    "ALL_LABELS",
    "MATCH_COLUMNS",
    "OVERLAP_COLUMNS",
    "RECORDING_SCORE_COLUMNS",
    "SCORE_COLUMNS",
    "SEGMENT_COLUMNS",
    "SEGMENT_LABEL",
    "SEQUENCE_COLUMNS",
    "SPARSE_KEYS",
    "TIME_EPSILON_S",
    "EventEvaluation",
    "align_recordings",
    "annotator_agreement",
    "as_segments",
    "cohen_kappa_durations",
    "edit_distance",
    "evaluate_events",
    "event_scores",
    "frame_error_rate",
    "frame_labels",
    "match_events",
    "misses",
    "overlap_scores",
    "recording_scores",
    "scores_from_matches",
    "segment_accuracy",
    "sparse_scores",
    "syllable_error_rate",
    "syllable_error_rates",
]
