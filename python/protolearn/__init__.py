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
    Softmax,
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


def init_distributed():
    """Joins the data-parallel run the launcher started this process in.

    Under ``torchrun --nproc-per-node N script.py`` (or Slurm, or Kubernetes' PyTorchJob: any
    launcher that sets ``MASTER_ADDR``, ``MASTER_PORT``, ``RANK`` and ``WORLD_SIZE``), this joins
    PyTorch's own c10d process group (Gloo) through protolearn's Rust core, and every later
    ``fit`` in the process is data-parallel: each rank trains on its part of every batch, the
    gradient families average their gradients and the batch SOM and k-means sum their statistics
    across ranks, so every rank ends with the model one process would have fitted. Call it once,
    before fitting; save results on rank 0 only.

    Returns ``(rank, world_size)``, or ``None`` when no launcher started the process.
    Raises ``ValueError`` for a missing or inconsistent launcher variable and ``RuntimeError``
    when a peer does not join within ``PROTOLEARN_DIST_TIMEOUT`` seconds (default 300).
    """
    return _native.init_distributed()

__all__ = [
    "CELVQ", "DCL", "DDCL", "DESOM", "GLVQ", "GMLVQ", "GRLVQ", "LGMLVQ", "LVQ1", "LVQ21", "RSLVQ", "SOM", "Softmax", "VCL",
    "DeepCluster", "KMeans", "NeuralGas", "ProtolearnEstimator", "ProtolearnError", "TwoStage", "init_distributed", "load",
    "nn",
]
