"""The ``features`` embedder: standardised acoustic features, with NaN handled openly."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.preprocessing import StandardScaler

from sonotype.embed.base import Embedder, register_embedder
from sonotype.errors import ParameterError


@register_embedder("features")
class FeatureEmbedder(Embedder):
    """Acoustic features (e.g. from :func:`sonotype.features.acoustic_features`), each
    scaled to zero mean and unit variance (scikit-learn's
    :class:`~sklearn.preprocessing.StandardScaler`).

    Missing values: infinite values count as NaN. A column with NaN (an unvoiced
    syllable has no pitch) has them replaced by the column's median over the fitted rows
    (also in :meth:`transform`); such columns are listed in ``imputed_columns_``. A column
    that is NaN in every fitted row carries no information and is dropped; those are
    listed in ``dropped_columns_``. A constant column is kept and scaled to zeros.

    Parameters
    ----------
    columns : sequence of str, optional
        Columns of a DataFrame to use; by default every numeric column.

    Attributes
    ----------
    input_columns_ : list of str
        The columns considered when fitting (for an array, its column indices as strings);
        an array passed to :meth:`transform` must have these columns in this order.
    columns_ : list of str
        The columns embedded, in order: ``input_columns_`` less ``dropped_columns_``.
    imputed_columns_ : list of str
        Columns that held NaN when fitted.
    dropped_columns_ : list of str
        Columns dropped because they were entirely NaN.
    medians_ : ndarray, shape (len(columns_),)
        The values that replace NaN.
    scaler_ : sklearn.preprocessing.StandardScaler
    n_components_ : int
        Width of the embedding, ``len(columns_)``.

    Examples
    --------
    >>> table = pd.DataFrame({"pitch_hz": [400.0, np.nan, 600.0], "x": [np.nan] * 3})
    >>> emb = FeatureEmbedder().fit(table)
    >>> emb.columns_, emb.imputed_columns_, emb.dropped_columns_
    (['pitch_hz'], ['pitch_hz'], ['x'])
    >>> emb.transform(table).ravel().tolist()
    [-1.224744..., 0.0, 1.224744...]
    """

    def __init__(self, columns: list[str] | None = None) -> None:
        self.columns = columns

    def fit(self, X, y=None) -> FeatureEmbedder:
        """Choose columns, medians and scaling from ``X`` (DataFrame or ``(n, d)`` array)."""
        names, values = self._table(X, self.columns)
        if len(values) == 0:
            raise ParameterError("X has no rows; there is nothing to embed")
        missing = np.isnan(values)
        empty = missing.all(axis=0)
        if empty.all():
            raise ParameterError(
                f"every column of X is entirely NaN ({', '.join(names)}); there is nothing to embed"
            )
        self.dropped_columns_ = [n for n, e in zip(names, empty, strict=True) if e]
        self.columns_ = [n for n, e in zip(names, empty, strict=True) if not e]
        values = values[:, ~empty]
        missing = missing[:, ~empty]
        self.imputed_columns_ = [
            n for n, m in zip(self.columns_, missing.any(axis=0), strict=True) if m
        ]
        self.medians_ = np.nanmedian(values, axis=0)
        values = np.where(missing, self.medians_, values)
        self.scaler_ = StandardScaler().fit(values)
        self.input_columns_ = names
        self.n_features_in_ = len(names)
        self.n_components_ = len(self.columns_)
        return self

    def transform(self, X) -> np.ndarray:
        """Scaled features of ``X``, NaN replaced by the fitted medians: float32,
        shape ``(n, n_components_)``."""
        self._check_fitted()
        if isinstance(X, pd.DataFrame):
            names, values = self._table(X, self.columns_)
        else:
            names, values = self._table(X, None)
            if len(names) != self.n_features_in_:
                raise ParameterError(
                    f"X has {len(names)} columns, but this embedder was fitted on "
                    f"{self.n_features_in_}; pass the same features"
                )
            keep = [self.input_columns_.index(n) for n in self.columns_]
            values = values[:, keep]
        values = np.where(np.isnan(values), self.medians_, values)
        return self.scaler_.transform(values).astype(np.float32)

    @staticmethod
    def _table(X, columns) -> tuple[list[str], np.ndarray]:
        """Column names and float64 values (inf as NaN) of ``X``."""
        if isinstance(X, pd.DataFrame):
            if columns is None:
                chosen = [c for c in X.columns if pd.api.types.is_numeric_dtype(X[c])]
                chosen = [c for c in chosen if not pd.api.types.is_bool_dtype(X[c])]
                if not chosen:
                    raise ParameterError(
                        "X has no numeric columns; pass acoustic features, e.g. from "
                        "sonotype.features.acoustic_features"
                    )
            else:
                chosen = list(columns)
                absent = [c for c in chosen if c not in X.columns]
                if absent:
                    raise ParameterError(
                        f"X lacks column{'s' if len(absent) > 1 else ''} "
                        f"{', '.join(map(str, absent))}; it has {', '.join(map(str, X.columns))}"
                    )
            try:
                values = X[chosen].to_numpy(dtype=np.float64, na_value=np.nan, copy=True)
            except (TypeError, ValueError):
                raise ParameterError(
                    f"columns {', '.join(map(str, chosen))} of X must be numeric"
                ) from None
            names = [str(c) for c in chosen]
        else:
            array = np.asarray(X)
            if array.ndim != 2 or array.dtype.kind not in "fiub":
                raise ParameterError(
                    f"X has shape {array.shape} and dtype {array.dtype}; pass a DataFrame of "
                    "features or a numeric (n, d) array"
                )
            if columns is not None:
                raise ParameterError(
                    "columns names DataFrame columns; X is an array, so pass columns=None"
                )
            values = array.astype(np.float64)
            names = [str(i) for i in range(array.shape[1])]
        values[~np.isfinite(values)] = np.nan
        return names, values
