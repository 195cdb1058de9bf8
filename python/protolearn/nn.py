"""protolearn's layers as ``torch.nn.Module`` s for your own PyTorch models.

The parameters are ordinary ``torch.nn.Parameter`` s of the module; ``forward`` hands them and
your tensors to protolearn's Rust implementation (protolearn-layers, on the same libtorch), and
the result stays in PyTorch's autograd graph: gradients reach the parameters and whatever came
before the layer. Any dtype and device libtorch supports works (float64 for ``gradcheck``).
"""

import json
import math

import torch

from . import _native


def _pair(value):
    return [int(value), int(value)] if isinstance(value, int) else [int(v) for v in value]


class SOMLayer(torch.nn.Module):
    """A self-organizing map of ``rows x cols`` prototypes ``[K, in_features]`` (paper 002,
    Sec. 2.1). ``forward(x, temperature)`` returns ``(distances [n, K], bmus [n], loss)``: squared
    distances to every prototype, the best-matching units, and the SOM distortion
    ``(1/n) Σ_i Σ_k h(δ(b_i, k), T) ||x_i - m_k||²`` (paper 002, Eq. 5) to minimise (the gradient
    SOM; DESOM's ``L_SOM`` when ``x`` are an encoder's codes)."""

    def __init__(self, in_features, rows, cols, lattice="rectangular", boundary="bounded",
                 neighbourhood="gaussian", map_distance="topographic"):
        super().__init__()
        self.config = json.dumps({"grid": {"rows": rows, "cols": cols, "lattice": lattice, "boundary": boundary},
                                  "neighbourhood": neighbourhood, "map_distance": map_distance})
        self.prototypes = torch.nn.Parameter(torch.rand(rows * cols, in_features))

    def forward(self, x, temperature):
        return _native.som_forward(x, self.prototypes, self.config, float(temperature))


class LVQHead(torch.nn.Module):
    """A prototype classifier head (paper 003): ``per_class`` prototypes per class, a
    dissimilarity ``metric`` (``"squared-euclidean"``, ``"omega"`` for GMLVQ with ``Ω`` ``[dim,
    in_features]``, ``"local-omega"``, ``"relevance"`` for GRLVQ, ``"projection"`` ``||Ωx - w||²``
    and ``"nonlinear-projection"`` ``||φ(Ωx - b) - w||²`` with prototypes in the ``dim``-sized
    projection and ``activation`` ``"tanh"``, ``"relu"`` or ``"sigmoid"``) and a ``loss``
    (``"glvq"`` with optional sigmoid ``beta``, ``"rslvq"`` with ``sigma``, ``"celvq"``).
    ``forward(x)`` gives the distances ``[n, K]``; ``loss(d, y)`` the head's loss; ``predict(d)``
    the nearest prototype's class."""

    def __init__(self, in_features, classes, per_class=1, metric="squared-euclidean", dim=None,
                 loss="glvq", beta=None, sigma=1.0, normalize=True, activation="tanh"):
        super().__init__()
        self.classes, self.metric, self.loss_kind = int(classes), metric, loss
        self.beta, self.sigma, self.normalize = beta, float(sigma), bool(normalize)
        self.activation, self.bias = activation, None
        k = self.classes * int(per_class)
        m = in_features if dim is None else int(dim)
        projected = metric in ("projection", "nonlinear-projection")
        self.prototypes = torch.nn.Parameter(torch.randn(k, m if projected else in_features) * 0.1)
        self.register_buffer("labels", torch.arange(self.classes).repeat_interleave(int(per_class)))
        if projected:
            self.matrix = torch.nn.Parameter(torch.randn(m, in_features) / math.sqrt(in_features))
            if metric == "nonlinear-projection":
                self.bias = torch.nn.Parameter(torch.zeros(m))
        elif metric == "omega":
            self.matrix = torch.nn.Parameter(torch.eye(m, in_features))
        elif metric == "local-omega":
            self.matrix = torch.nn.Parameter(torch.eye(m, in_features).repeat(k, 1, 1))
        elif metric == "relevance":
            self.matrix = torch.nn.Parameter(torch.zeros(in_features))
        elif metric == "squared-euclidean":
            self.matrix = None
        else:
            raise ValueError("metric: expected squared-euclidean, omega, local-omega, relevance, projection or "
                             f"nonlinear-projection, found {metric!r}")
        if loss not in ("glvq", "rslvq", "celvq"):
            raise ValueError(f"loss: expected glvq, rslvq or celvq, found {loss!r}")

    @torch.no_grad()
    def init_from(self, x, y):
        """Puts every class's prototypes at that class's mean of ``x`` (projected for the
        projection metrics; a common LVQ start)."""
        if self.metric in ("projection", "nonlinear-projection"):
            x = self._project(x)
        for c in range(self.classes):
            rows = x[y == c]
            if len(rows):
                self.prototypes[self.labels == c] = rows.mean(0).to(self.prototypes.dtype)
        return self

    def _project(self, x):
        u = x @ self.matrix.T
        if self.metric == "nonlinear-projection":
            u = {"tanh": torch.tanh, "relu": torch.relu, "sigmoid": torch.sigmoid}[self.activation](u - self.bias)
        return u

    def forward(self, x):
        return _native.lvq_distances(x, self.prototypes, self.metric, self.matrix, self.normalize, self.bias, self.activation)

    def loss(self, d, y):
        """The head's loss on distances ``d`` ``[n, K]`` and class indices ``y`` ``[n]``."""
        if self.loss_kind == "glvq":
            return _native.glvq_loss(d, y, self.labels, self.classes, self.beta)
        if self.loss_kind == "rslvq":
            return _native.rslvq_loss(d, y, self.labels, self.classes, self.sigma)
        return _native.celvq_loss(d, y, self.labels, self.classes)

    def predict(self, d):
        """The class of the nearest prototype for distances ``d`` ``[n, K]``."""
        return self.labels[d.argmin(-1)]


class DCL(torch.nn.Module):
    """A dual competitive layer (paper 000, Eq. 16): its ``n_prototypes`` prototypes are dense
    layers (``tanh`` between them; deep DCL with ``hidden``) applied to ``Xᵀ`` of a batch of
    exactly ``n_inputs`` samples. ``forward(x)`` returns the prototypes ``[n_prototypes, d]`` of
    ``x`` ``[n_inputs, d]``; ``distances(x)`` the squared distances ``[n_inputs, n_prototypes]``."""

    def __init__(self, n_inputs, n_prototypes, hidden=(), bias=False):
        super().__init__()
        widths = [int(n_inputs), *[int(h) for h in hidden], int(n_prototypes)]
        self.weights = torch.nn.ParameterList(
            torch.nn.Parameter(torch.randn(a, b) * math.sqrt(2.0 / (a + b))) for a, b in zip(widths, widths[1:])
        )
        self.biases = torch.nn.ParameterList(torch.nn.Parameter(torch.zeros(b)) for b in widths[1:]) if bias else None
        self.minibatch = True

    def forward(self, x):
        biases = list(self.biases) if self.biases is not None else [None] * len(self.weights)
        return _native.dcl_prototypes(x, list(self.weights), biases, self.minibatch)

    def distances(self, x):
        """Squared distances of ``x`` to the prototypes it generates, clamped at 0."""
        return _native.lvq_distances(x, self.forward(x), "squared-euclidean")


class KernelPrototypeConv2d(torch.nn.Module):
    """The kernel-prototype convolution (paper 003, Sec. 6): ``out_channels`` kernel-prototypes
    compared with every receptive field by squared distance, then ``activation``: ``"none"`` (the
    distances, or ``r² - d`` with ``bias``), ``"relu"``, ``{"kind": "softmax", "sigma": s}`` or
    ``{"kind": "sigmoid", "sigma": s}``; ``hard`` makes the forward the hard assignment with the
    soft one's gradient."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=False, activation="none", hard=False):
        super().__init__()
        activation = {"kind": activation} if isinstance(activation, str) else dict(activation)
        self.config = json.dumps({
            "in_channels": int(in_channels), "prototypes": int(out_channels), "kernel": _pair(kernel_size),
            "stride": _pair(stride), "padding": _pair(padding), "dilation": _pair(dilation), "groups": int(groups),
            "bias": bool(bias), "activation": activation, "hard": bool(hard),
        })
        kh, kw = _pair(kernel_size)
        fan = in_channels // groups * kh * kw
        limit = math.sqrt(6.0 / (2 * fan))
        self.kernels = torch.nn.Parameter(torch.empty(out_channels, in_channels // groups, kh, kw).uniform_(-limit, limit))
        self.radius = torch.nn.Parameter(torch.ones(out_channels)) if bias else None

    def forward(self, x):
        return _native.kernel_prototype_conv(x, self.kernels, self.radius, self.config)


class NeuralGas(torch.nn.Module):
    """Neural gas (paper 003, Sec. 8): ``n_prototypes`` free prototypes; ``forward(x)`` gives the
    squared distances ``[n, k]``, ``loss(d, range)`` the rank-weighted cost with neighbourhood range ``λ``."""

    def __init__(self, in_features, n_prototypes):
        super().__init__()
        self.prototypes = torch.nn.Parameter(torch.randn(n_prototypes, in_features))

    def forward(self, x):
        return _native.lvq_distances(x, self.prototypes, "squared-euclidean")

    def loss(self, d, range):
        """``E = (1/n) Σ_i Σ_k h_ik d_ik / C(λ)``, ``h_ik = exp(-rank_ik / λ)``."""
        return _native.neural_gas_loss(d, float(range))


__all__ = ["DCL", "KernelPrototypeConv2d", "LVQHead", "NeuralGas", "SOMLayer"]
