"""scikit-learn conventions: parameters, clone, Pipeline, GridSearchCV, cross_val_score."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import protolearn


def test_parameters_are_the_constructor_arguments():
    som = protolearn.SOM(rows=5, cols=7, iterations=20)
    params = som.get_params()
    assert params["rows"] == 5 and params["cols"] == 7 and params["iterations"] == 20 and params["scaling"] == "none"
    assert som.set_params(rows=6) is som and som.rows == 6
    with pytest.raises(TypeError, match="unexpected parameter"):
        protolearn.SOM(rowz=5)
    with pytest.raises(ValueError):
        som.set_params(rowz=5)
    twin = clone(som)
    assert twin is not som and twin.get_params() == som.get_params() and not hasattr(twin, "model_")


def test_config_is_the_model_toml_of_the_parameters():
    config = protolearn.GMLVQ(dim=2, per_class=3).config(n_features=4)
    assert config["model"] == {"kind": "lvq", "per_class": 3, "dissimilarity": {"kind": "omega", "dim": 2, "trace_normalize": True},
                               "loss": {"kind": "glvq", "transfer": {"kind": "identity"}}}


def test_pipeline_with_a_scaler(blobs):
    X, y = blobs
    pipe = make_pipeline(StandardScaler(), protolearn.SOM(rows=3, cols=3, verbose=False)).fit(X, y)
    assert pipe.predict(X).shape == (300,)
    assert pipe.transform(X).shape == (300, 9)
    classifier = make_pipeline(StandardScaler(), protolearn.GLVQ(epochs=20, verbose=False)).fit(X, y)
    assert classifier.score(X, y) > 0.95


def test_grid_search_and_cross_validation(blobs):
    X, y = blobs
    search = GridSearchCV(protolearn.GLVQ(epochs=10, verbose=False), {"per_class": [1, 2]}, cv=3).fit(X, y)
    assert search.best_params_["per_class"] in (1, 2) and search.best_score_ > 0.9
    scores = cross_val_score(protolearn.GLVQ(epochs=10, verbose=False), X, y, cv=3)
    assert scores.shape == (3,) and np.all(scores > 0.9)
    # Clusterers score by minus the quantization error: more units quantize better.
    search = GridSearchCV(protolearn.KMeans(verbose=False), {"n_clusters": [2, 6]}, cv=3).fit(X)
    assert search.best_params_["n_clusters"] == 6
