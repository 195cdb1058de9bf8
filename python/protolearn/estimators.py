"""scikit-learn estimators over protolearn's Rust estimator: every family of ``protolearn fit``.

Constructor arguments are the parameters (``get_params`` / ``set_params`` / ``clone`` work); a
parameter left at ``None`` takes the library's default (the papers' settings, as in a
``MODEL.toml`` that omits the key). Nested settings (an autoencoder, a schedule, an update rule)
are dicts in the ``MODEL.toml`` form, e.g. ``autoencoder={"kind": "dense", "hidden": [500, 500,
2000], "latent_dim": 10}``.
"""

import inspect
import json

import numpy as np

from . import _inputs, _native
from ._progress import ProgressBar

try:  # scikit-learn is optional: with it the estimators are its BaseEstimators (tags, HTML repr, clone)
    from sklearn.base import BaseEstimator as _Base
    from sklearn.base import ClassifierMixin as _ClassifierMixin
    from sklearn.base import ClusterMixin as _ClusterMixin
    from sklearn.base import TransformerMixin as _TransformerMixin
except ImportError:  # pragma: no cover - exercised only without scikit-learn

    class _Base:
        """``get_params`` / ``set_params`` as scikit-learn defines them."""

        def get_params(self, deep=True):
            return {name: getattr(self, name) for name in inspect.signature(type(self).__init__).parameters if name != "self"}

        def set_params(self, **params):
            for name, value in params.items():
                if name not in self.get_params():
                    raise ValueError(f"invalid parameter {name!r} for {type(self).__name__}")
                setattr(self, name, value)
            return self

    class _ClassifierMixin:
        _estimator_type = "classifier"

    class _ClusterMixin:
        _estimator_type = "clusterer"

    class _TransformerMixin:
        pass


#: Parameters every estimator takes, with their defaults.
COMMON = {"scaling": "none", "missing": "reject", "seed": 0, "device": "cpu", "verbose": True}


def _with_parameters(family):
    """Gives the class an ``__init__`` whose keyword-only signature is ``family`` (name -> default)
    followed by :data:`COMMON`: scikit-learn reads the parameters from that signature."""

    def decorate(cls):
        defaults = {**family, **COMMON}

        def __init__(self, **params):
            unknown = sorted(set(params) - set(defaults))
            if unknown:
                raise TypeError(f"{cls.__name__}() got unexpected parameter(s) {', '.join(unknown)}; "
                                f"its parameters are {', '.join(defaults)}")
            for name, default in defaults.items():
                setattr(self, name, params.get(name, default))

        __init__.__signature__ = inspect.Signature(
            [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
            + [inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, default=d) for n, d in defaults.items()]
        )
        __init__.__doc__ = f"{cls.__name__}({', '.join(f'{n}={d!r}' for n, d in defaults.items())})"
        cls.__init__ = __init__
        cls._family_parameters = tuple(family)
        return cls

    return decorate


def _flat_record(record):
    """A log record as one flat dict (``pandas.DataFrame(history_)`` makes the training curves):
    phase, step, seconds, then each logged column (a number, or a list with one value per replica)."""
    columns = {c["name"]: c["values"][0] if len(c["values"]) == 1 else c["values"] for c in record["columns"]}
    return {"phase": record["phase"], "step": record["step"], "seconds": record["seconds"], **columns}


def _present(**values):
    """The entries that are not ``None`` (left out: the library's default)."""
    return {k: v for k, v in values.items() if v is not None}


class ProtolearnEstimator(_Base):
    """What every protolearn estimator shares: ``fit`` through the Rust estimator, then the fitted
    model's answers. Fitted attributes: ``model_`` (the Rust model), ``prototypes_`` (in input
    units: unscaled, decoded for autoencoder families; DeepCluster's in its feature space), ``labels_`` (each training sample's winning unit), ``history_`` (one dict per log
    point), ``summary_``, ``n_features_in_``, ``feature_names_in_`` (DataFrames) and ``classes_``
    (when fitted with labels)."""

    _kind = None

    def _model_spec(self, n_features):
        """The ``[model]`` table of the config (without ``kind``)."""
        return _present(**{name: getattr(self, name) for name in self._family_parameters})

    def config(self, n_features=None):
        """The estimator's config in ``MODEL.toml`` form (a dict), as ``fit`` sends it."""
        return {
            "model": {"kind": self._kind, **self._model_spec(n_features)},
            "scaling": self.scaling,
            "missing": self.missing,
            "seed": int(self.seed),
            "device": self.device,
        }

    def fit(self, X, y=None):
        """Fits on ``X`` ``[n, ...]`` (labels ``y``, if given, for the scores and class maps of
        unsupervised families; required by the LVQ classifiers)."""
        x, names = _inputs.features(X)
        indices, classes = (None, None) if y is None else _inputs.labels(y, x.shape[0])
        progress = ProgressBar() if self.verbose else None
        config = json.dumps(self.config(int(np.prod(x.shape[1:]))))
        model = _native.fit(config, x, indices, names, None if classes is None else [str(c) for c in classes], progress)
        self._set_fitted(model, classes)
        self.labels_ = np.asarray(model.predict(x), dtype=np.int64)
        if names:
            self.feature_names_in_ = np.asarray(names, dtype=object)
        return self

    def _set_fitted(self, model, classes):
        self.model_ = model
        self.classes_ = classes
        info = json.loads(model.input())
        self.n_features_in_ = int(np.prod(info["sample_shape"]))
        try:
            self.prototypes_ = model.input_space_prototypes().numpy()
        except ValueError:  # DeepCluster's centroids of whitened features have no input-space image
            self.prototypes_ = model.prototypes().numpy()
        self.history_ = [_flat_record(r) for r in json.loads(model.history())]
        self.summary_ = json.loads(model.summary())

    def _check_fitted(self):
        if not hasattr(self, "model_"):
            raise _not_fitted(f"this {type(self).__name__} is not fitted yet; call fit first")
        return self.model_

    def _x(self, X):
        return _inputs.features(X)[0]

    def transform(self, X):
        """Distances ``[n, k]`` from each sample to every prototype (in the model's space)."""
        return self._check_fitted().transform(self._x(X)).numpy()

    def fit_transform(self, X, y=None):
        return self.fit(X, y).transform(X)

    def encode(self, X):
        """The codes of ``X`` (an encoder's output; the scaled input for input-space models)."""
        return self._check_fitted().encode(self._x(X)).numpy()

    def scores(self, X, y=None):
        """QE, TE, purity, NMI and accuracy of ``X`` (with labels ``y``) as a dict, as the command line reports them."""
        model = self._check_fitted()
        indices = None if y is None else self._indices(y)
        return json.loads(model.score(self._x(X), indices))

    def _indices(self, y):
        if self.classes_ is None:
            raise ValueError("y: the model was fitted without labels, so it has no classes to score against")
        return _inputs.class_indices(y, self.classes_)

    def unit_summary(self, X, y=None):
        """Per-unit arrays on ``X`` (with labels ``y``): ``hits`` (samples won), ``majority`` (the
        most frequent class, ``None`` for a unit without labelled samples) and ``purity`` (its share;
        0 for an empty unit) — the numbers behind the hit map and the class map."""
        model = self._check_fitted()
        units = json.loads(model.unit_summary(self._x(X), None if y is None else self._indices(y)))
        majority = [None if m is None else self.classes_[m] for m in units["majority"]]
        return {"hits": np.asarray(units["hits"], dtype=np.int64), "majority": np.asarray(majority, dtype=object),
                "purity": np.asarray(units["purity"], dtype=np.float64)}

    def figures(self, X, directory, y=None):
        """Draws the figures of ``protolearn fit`` for ``X`` (with labels ``y``) into ``directory``
        (U-matrix, hit map, component planes and class map for a map; the prototypes on the first
        two features otherwise): the paths of the PNG files (an SVG lies beside each)."""
        model = self._check_fitted()
        return [str(p) for p in model.figures(self._x(X), str(directory), None if y is None else self._indices(y))]

    @property
    def umatrix_(self):
        """The U-matrix ``[rows, cols]`` of a map (``None`` without a grid)."""
        u = self._check_fitted().umatrix()
        return None if u is None else u.numpy()

    def save(self, path):
        """Writes the model file (safetensors), readable by :func:`protolearn.load`, ``protolearn predict`` and Rust's ``Fitted::load``."""
        self._check_fitted().save(str(path))


class _Clusterer(_ClusterMixin, _TransformerMixin, ProtolearnEstimator):
    """Unsupervised families: ``predict`` gives the winning unit (cluster) of each sample."""

    def predict(self, X):
        """The winning unit (prototype index) of each sample."""
        return np.asarray(self._check_fitted().predict(self._x(X)), dtype=np.int64)

    def fit_predict(self, X, y=None):
        return self.fit(X, y).labels_

    def score(self, X, y=None):
        """Minus the quantization error of ``X`` (higher is better, as scikit-learn's ``KMeans.score``)."""
        return -self.scores(X)["quantization_error"]

    def predict_class(self, X):
        """The class of each sample's winning unit (its majority label in training; ``None`` where
        that unit won no labelled sample). Needs a fit with labels."""
        if self.classes_ is None:
            raise ValueError("predict_class: the model was fitted without labels")
        indices = self._check_fitted().predict_labels(self._x(X))
        return np.asarray([self.classes_[i] if i >= 0 else None for i in indices], dtype=object)


class _Classifier(_ClassifierMixin, ProtolearnEstimator):
    """Prototype classifiers: ``predict`` gives the class of the nearest prototype."""

    def fit(self, X, y):
        if y is None:
            raise ValueError(f"{type(self).__name__} is a classifier: fit needs labels y")
        return super().fit(X, y)

    def predict(self, X):
        """The predicted class of each sample (labels as given to ``fit``)."""
        indices = self._check_fitted().predict_labels(self._x(X))
        return self.classes_[np.asarray(indices, dtype=np.int64)]

    def score(self, X, y):
        """Classification accuracy on ``X``, ``y``."""
        return float(np.mean(self.predict(X) == np.asarray(y)))


def _grid(estimator):
    return {"rows": estimator.rows, "cols": estimator.cols, "lattice": estimator.lattice, "boundary": estimator.boundary}


_GRID = {"rows": 8, "cols": 8, "lattice": "rectangular", "boundary": "bounded"}


def _tagged(value):
    """A rule or setting given as a string is ``{"kind": value}``."""
    return {"kind": value} if isinstance(value, str) else value


@_with_parameters({**_GRID, "rule": "batch", "iterations": None, "init": None, "neighbourhood": None,
                   "map_distance": None, "temperature": None, "log_every": None})
class SOM(_Clusterer):
    """A self-organizing map (paper 002, Sec. 2.1): ``rule`` ``"batch"`` (default), ``"online"``
    or ``"gradient"`` (or their dict, e.g. ``{"kind": "online", "lr": {"start": 0.5, "end": 0.01}}``);
    ``iterations`` are passes (batch), presentations (online) or steps (gradient)."""

    _kind = "som"

    def _model_spec(self, n_features):
        return _present(grid=_grid(self), rule=_tagged(self.rule), iterations=self.iterations, init=self.init,
                        neighbourhood=self.neighbourhood, map_distance=self.map_distance,
                        temperature=self.temperature, log_every=self.log_every)


@_with_parameters({**_GRID, "autoencoder": None, "gamma": None, "iterations": None, "pretrain_iterations": None,
                   "batch_size": None, "lr": None, "init": None, "neighbourhood": None, "temperature": None,
                   "log_every": None, "precision": None})
class DESOM(_Clusterer):
    """DESOM (paper 002, Algorithm 3): an autoencoder and a SOM on its codes trained jointly on
    ``L_R + γ L_SOM``; ``autoencoder`` a dict (dense, conv, lstm, temporal-conv)."""

    _kind = "desom"

    def _model_spec(self, n_features):
        spec = {n: getattr(self, n) for n in self._family_parameters if n not in _GRID}
        return _present(grid=_grid(self), **spec)


@_with_parameters({"n_clusters": 8, "n_init": None, "max_iter": None, "tol": None})
class KMeans(_Clusterer):
    """k-means: Lloyd's algorithm from greedy k-means++ seeds with restarts (scikit-learn's defaults)."""

    _kind = "kmeans"

    def _model_spec(self, n_features):
        return _present(k=self.n_clusters, n_init=self.n_init, max_iter=self.max_iter, tol=self.tol)


_LAYER = {"n_prototypes": 8, "hidden": None, "bias": None, "init": None, "dual_init": None, "training": None}


class _Competitive(_Clusterer):
    _kind = "competitive"
    _layer_kind = None

    def _model_spec(self, n_features):
        layer = _present(kind=self._layer_kind, n_prototypes=self.n_prototypes, hidden=self.hidden, bias=self.bias,
                         init=self.init, dual_init=self.dual_init)
        return _present(layer=layer, training=self.training)


@_with_parameters({k: v for k, v in _LAYER.items() if k not in ("hidden", "dual_init")})
class VCL(_Competitive):
    """The vanilla competitive layer (paper 000): the prototypes are the weights, trained full batch on ``Q + λT``."""

    _layer_kind = "vcl"
    hidden = None
    dual_init = None


@_with_parameters(_LAYER)
class DCL(_Competitive):
    """The dual competitive layer (paper 000): prototypes are dense layers on ``Xᵀ`` (deep DCL with ``hidden``)."""

    _layer_kind = "dcl"


@_with_parameters({"n_prototypes": 10, "autoencoder": None, "hidden": None, "dcl_input": None, "dcl_size": None,
                   "batch_size": None, "epochs": None, "pretrain_iterations": None, "lr": None, "dcl_lr": None,
                   "tau": None, "tau_end": None, "feature_norm": None, "separation_weight": None,
                   "running_momentum": None, "log_every": None, "reconstruction_weight": None, "variant": None,
                   "precision": None})
class DDCL(_Clusterer):
    """Deep dual competitive learning (paper 001): a backbone feeding a DCL, trained end to end on the soft quantization loss."""

    _kind = "ddcl"


@_with_parameters({"n_prototypes": 8, "epochs": None, "batch_size": None, "optimizer": None, "range": None})
class NeuralGas(_Clusterer):
    """Neural gas (paper 003, Sec. 8): rank-weighted gradient vector quantization."""

    _kind = "neural-gas"


@_with_parameters({"n_clusters": 10, "autoencoder": None, "epochs": None, "batch_size": None, "lr": None,
                   "reconstruction_weight": None, "features": None, "kmeans": None})
class DeepCluster(_Clusterer):
    """DeepCluster (paper 001's baseline): a backbone trained on k-means pseudo-labels of its own features."""

    _kind = "deepcluster"

    def _model_spec(self, n_features):
        spec = {n: getattr(self, n) for n in self._family_parameters if n != "n_clusters"}
        return _present(k=self.n_clusters, **spec)


@_with_parameters({"clustering": {"kind": "som", "grid": {"rows": 8, "cols": 8}}, "autoencoder": None,
                   "pretrain_iterations": None, "batch_size": None, "lr": None, "log_every": None})
class TwoStage(_Clusterer):
    """An autoencoder, then a SOM or k-means on its codes (paper 002's AE+SOM and AE+k-means)."""

    _kind = "two-stage"


@_with_parameters({"epochs": None, "batch_size": None, "lr": None, "backbone": None, "precision": None})
class Softmax(_Classifier):
    """The softmax baseline of paper 003 (Eq. 18): a linear layer and softmax on the inputs (a
    multinomial logistic regression) or on a ``backbone`` trained with it end to end, with the
    LVQ heads' defaults; ``transform`` gives the surprisals ``-log p_k``, ``prototypes_`` the
    weight rows."""

    _kind = "softmax"


_LVQ = {"per_class": 1, "init": None, "epochs": None, "batch_size": None, "lr": None}
# Heads trained by gradient can sit on a backbone (a dict: ``{"kind": "cnn", "filters": [32, 64],
# "latent_dim": 64}`` on images, or ``{"kind": "dense", ...}``) trained with them end to end.
# ``reject`` (a dict ``{"error": 1.0, "reject": 0.25, "width": 0.05}``) trains a reject threshold
# on the relative similarity with the network (paper 003, Sec. 7.4): ``reject_threshold_`` after
# ``fit``; accept a sample iff its ``(d- - d+) / (d- + d+)`` (nearest wrong and right class
# distances of ``transform``) exceeds it.
_GRADIENT_LVQ = {**_LVQ, "backbone": None, "precision": None, "reject": None}


class _Lvq(_Classifier):
    _kind = "lvq"

    def _dissimilarity(self, n_features):
        return {"kind": "squared-euclidean"}

    def _loss(self):
        return {"kind": "glvq", "transfer": {"kind": "identity"}}

    def _training(self):
        return None

    def _model_spec(self, n_features):
        return _present(per_class=self.per_class, dissimilarity=self._dissimilarity(n_features), loss=self._loss(),
                        init=self.init, epochs=self.epochs, batch_size=self.batch_size, lr=self.lr,
                        training=self._training(), backbone=getattr(self, "backbone", None),
                        precision=getattr(self, "precision", None), reject=getattr(self, "reject", None))

    def _set_fitted(self, model, classes):
        super()._set_fitted(model, classes)
        #: The reject threshold θ learned with ``reject`` costs (accept a sample iff its
        #: relative similarity exceeds it), else None.
        self.reject_threshold_ = model.reject_threshold()


def _transfer(beta):
    return {"kind": "identity"} if beta is None else {"kind": "sigmoid", "beta": beta}


@_with_parameters({**_GRADIENT_LVQ, "beta": None})
class GLVQ(_Lvq):
    """GLVQ (paper 003, Eq. 20): squared Euclidean distance, ``f(μ) = μ`` or ``sigmoid(β μ)`` with ``beta``."""

    def _loss(self):
        return {"kind": "glvq", "transfer": _transfer(self.beta)}


class _Matrix(_Lvq):
    _metric = None

    def _dissimilarity(self, n_features):
        return {"kind": self._metric, "dim": self.dim if self.dim is not None else n_features,
                "trace_normalize": self.trace_normalize}

    def _loss(self):
        return {"kind": "glvq", "transfer": _transfer(self.beta)}


@_with_parameters({**_GRADIENT_LVQ, "dim": None, "trace_normalize": True, "beta": None})
class GMLVQ(_Matrix):
    """GMLVQ (paper 003, Eq. 6): ``d = ||Ω(x - w)||²`` with a learned ``Ω`` ``[dim, d]`` (``dim``
    defaults to the number of features)."""

    _metric = "omega"


@_with_parameters({**_GRADIENT_LVQ, "dim": None, "trace_normalize": True, "beta": None})
class LGMLVQ(_Matrix):
    """Localized GMLVQ (paper 003, Eq. 11): one ``Ω_k`` per prototype."""

    _metric = "local-omega"


@_with_parameters({**_GRADIENT_LVQ, "beta": None})
class GRLVQ(_Lvq):
    """GRLVQ (paper 003, Eq. 14): a learned relevance per feature."""

    def _dissimilarity(self, n_features):
        return {"kind": "relevance"}

    def _loss(self):
        return {"kind": "glvq", "transfer": _transfer(self.beta)}


@_with_parameters({**_GRADIENT_LVQ, "sigma": 1.0})
class RSLVQ(_Lvq):
    """RSLVQ (paper 003, Eq. 19): a Gaussian mixture per class of width ``sigma``."""

    def _loss(self):
        return {"kind": "rslvq", "sigma": self.sigma}


@_with_parameters(_GRADIENT_LVQ)
class CELVQ(_Lvq):
    """CELVQ: cross-entropy on the per-class nearest distances."""

    def _loss(self):
        return {"kind": "celvq"}


def _schedule(value):
    """A learning rate as a schedule: a number is constant, a pair ``(start, end)`` decays."""
    if isinstance(value, (int, float)):
        return {"start": float(value), "end": float(value)}
    if isinstance(value, (tuple, list)):
        return {"start": float(value[0]), "end": float(value[1])}
    return value


@_with_parameters({k: v for k, v in _LVQ.items() if k != "lr"} | {"lr": (0.3, 0.01)})
class LVQ1(_Lvq):
    """Kohonen's LVQ1: the winner moves towards a sample of its class, away from one of another;
    ``lr`` a number or a decaying ``(start, end)``."""

    def _training(self):
        return {"kind": "lvq1", "lr": _schedule(self.lr)}

    def _model_spec(self, n_features):
        spec = super()._model_spec(n_features)
        spec.pop("lr", None)
        return spec


@_with_parameters({k: v for k, v in _LVQ.items() if k != "lr"} | {"lr": (0.3, 0.01), "window": 0.3})
class LVQ21(LVQ1):
    """Kohonen's LVQ2.1: the two nearest prototypes move when they straddle the class border
    within the relative ``window``."""

    def _training(self):
        return {"kind": "lvq21", "lr": _schedule(self.lr), "window": self.window}


_FAMILIES = {"som": SOM, "desom": DESOM, "kmeans": KMeans, "ddcl": DDCL, "neural-gas": NeuralGas,
             "deepcluster": DeepCluster, "two-stage": TwoStage}


def _not_fitted(message):
    try:
        from sklearn.exceptions import NotFittedError

        return NotFittedError(message)
    except ImportError:  # pragma: no cover
        return AttributeError(message)


def _lvq_class(spec):
    training = (spec.get("training") or {}).get("kind", "gradient")
    if training != "gradient":
        return LVQ1 if training == "lvq1" else LVQ21
    loss = spec.get("loss", {}).get("kind", "glvq")
    if loss != "glvq":
        return RSLVQ if loss == "rslvq" else CELVQ
    metric = spec.get("dissimilarity", {}).get("kind", "squared-euclidean")
    return {"omega": GMLVQ, "local-omega": LGMLVQ, "relevance": GRLVQ}.get(metric, GLVQ)


def _estimator_for(spec):
    """The estimator class of a ``[model]`` table and the parameters it gives that class."""
    kind = spec["kind"]
    if kind == "competitive":
        layer = spec["layer"]
        cls = VCL if layer["kind"] == "vcl" else DCL
        values = {**layer, "training": spec.get("training")}
    elif kind == "lvq":
        cls = _lvq_class(spec)
        loss = spec.get("loss", {})
        training = spec.get("training") or {}
        values = {**spec, **spec.get("dissimilarity", {}), "beta": loss.get("transfer", {}).get("beta"),
                  "sigma": loss.get("sigma"), "window": training.get("window")}
        if "lr" in training:
            values["lr"] = (training["lr"]["start"], training["lr"]["end"])
    else:
        cls = _FAMILIES[kind]
        values = {**spec, **spec.get("grid", {}), "n_clusters": spec.get("k")}
    return cls, {k: v for k, v in values.items() if k in cls._family_parameters and v is not None}


def load(path):
    """Loads a model file (written by ``save``, ``protolearn fit`` or Rust's ``Fitted::save``) as a
    fitted estimator of its family, with the parameters of the file's config (all of it is in
    ``loaded_config_``). Class labels are stored as text: they come back as integers when every
    class name is an integer, else as strings."""
    model = _native.load(str(path))
    config = json.loads(model.config())
    cls, params = _estimator_for(config["model"])
    common = {k: config[k] for k in ("scaling", "missing", "seed", "device") if k in config}
    estimator = cls(**params, **common)
    estimator.loaded_config_ = config
    info = json.loads(model.input())
    classes = info.get("classes")
    if classes is None and info.get("labelled"):
        seen = [m for m in json.loads(model.summary())["units"]["majority"] if m is not None]
        classes = [str(c) for c in range(max(seen, default=0) + 1)]
    if classes is not None:
        try:
            classes = np.asarray([int(c) for c in classes])
        except ValueError:
            classes = np.asarray(classes)
    estimator._set_fitted(model, classes)
    return estimator
