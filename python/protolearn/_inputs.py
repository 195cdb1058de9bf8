"""Inputs of the estimators: NumPy arrays, pandas DataFrames and torch tensors become one float32
tensor (a torch tensor is passed as it is), and labels of any type become class indices."""

import numpy as np
import torch


def features(X):
    """``(tensor, feature_names)`` for ``X`` of shape ``[n, ...]``; a DataFrame keeps its column names
    and must be numeric (a text or categorical column is an error naming it)."""
    names = []
    if hasattr(X, "columns") and hasattr(X, "dtypes"):  # a pandas DataFrame
        from pandas.api.types import is_numeric_dtype

        bad = [str(c) for c, t in X.dtypes.items() if not is_numeric_dtype(t)]
        if bad:
            raise ValueError(
                f"X: column(s) {', '.join(repr(b) for b in bad)} are not numeric; encode them first "
                "(e.g. pandas.get_dummies) or drop them"
            )
        names = [str(c) for c in X.columns]
        X = X.to_numpy(dtype=np.float32, na_value=np.nan)
    if isinstance(X, torch.Tensor):
        if not X.is_floating_point():
            X = X.to(torch.float32)
        return X, names
    array = np.asarray(X)
    if array.dtype == object or not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise ValueError(f"X: expected numbers, found an array of dtype {array.dtype}")
    array = np.ascontiguousarray(array, dtype=np.float32)
    if array.ndim == 1:
        raise ValueError(f"X: expected a 2-D array [n_samples, n_features], found a 1-D array of {array.shape[0]} values; "
                         "use X.reshape(-1, 1) for one feature")
    return torch.from_numpy(array), names


def labels(y, n):
    """``(indices, classes)``: ``y`` of any values as int64 class indices into the sorted unique
    ``classes`` (a NumPy array)."""
    values = y.detach().cpu().numpy() if isinstance(y, torch.Tensor) else np.asarray(y)
    if values.ndim != 1 or values.shape[0] != n:
        raise ValueError(f"y: expected one label per sample ({n}), found shape {values.shape}")
    classes, indices = np.unique(values, return_inverse=True)
    return [int(i) for i in indices], classes


def class_indices(y, classes):
    """The indices of labels ``y`` in the fitted ``classes`` (an unknown label is an error)."""
    values = y.detach().cpu().numpy() if isinstance(y, torch.Tensor) else np.asarray(y)
    positions = np.searchsorted(classes, values)
    positions = np.clip(positions, 0, len(classes) - 1)
    unknown = classes[positions] != values
    if np.any(unknown):
        raise ValueError(f"y: label(s) {sorted(set(values[unknown].tolist()))[:5]} were not seen in fit (classes: {list(classes)})")
    return [int(i) for i in positions]
