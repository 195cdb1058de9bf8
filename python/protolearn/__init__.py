"""protolearn: prototype-based and competitive learning on libtorch, from Python.

Estimators follow scikit-learn's conventions (``fit`` / ``predict`` / ``transform`` / ``score``,
``get_params`` / ``set_params``, fitted attributes ending in ``_``) and take NumPy arrays, pandas
DataFrames or torch tensors::

    import pandas as pd, protolearn
    table = pd.read_csv("flowers.csv")
    som = protolearn.SOM(rows=8, cols=8, scaling="standard").fit(table.drop(columns="species"), table["species"])

The layers of :mod:`protolearn.nn` are ``torch.nn.Module`` s whose forward runs protolearn's
implementation on your tensors, inside PyTorch's autograd. Models saved with ``save`` are the
model files of the ``protolearn`` command line and the Rust crates; :func:`load` reads them.
"""

# torch first: it loads libtorch, which the extension module links against (the wheel does not
# carry its own copy).
import torch  # noqa: F401

from . import _native
from ._native import ProtolearnError
from .estimators import (
    CELVQ,
    DCL,
    DDCL,
    DESOM,
    GLVQ,
    GMLVQ,
    GRLVQ,
    LGMLVQ,
    LVQ1,
    LVQ21,
    RSLVQ,
    SOM,
    VCL,
    DeepCluster,
    KMeans,
    NeuralGas,
    ProtolearnEstimator,
    TwoStage,
    load,
)
from . import nn

__version__ = _native.__version__

__all__ = [
    "CELVQ", "DCL", "DDCL", "DESOM", "GLVQ", "GMLVQ", "GRLVQ", "LGMLVQ", "LVQ1", "LVQ21", "RSLVQ", "SOM", "VCL",
    "DeepCluster", "KMeans", "NeuralGas", "ProtolearnEstimator", "ProtolearnError", "TwoStage", "load", "nn",
]
