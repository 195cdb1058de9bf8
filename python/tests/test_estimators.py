"""Every family fits, predicts, transforms and scores from NumPy, pandas and torch inputs."""

import numpy as np
import pandas as pd
import pytest
import torch

import protolearn

CLUSTERERS = [
    lambda: protolearn.SOM(rows=4, cols=4, iterations=30),
    lambda: protolearn.SOM(rows=4, cols=4, rule={"kind": "online", "lr": {"start": 0.5, "end": 0.01}}, iterations=3000),
    lambda: protolearn.KMeans(n_clusters=3),
    lambda: protolearn.VCL(n_prototypes=3),
    lambda: protolearn.DCL(n_prototypes=3),
    lambda: protolearn.NeuralGas(n_prototypes=3, epochs=20),
    lambda: protolearn.DESOM(rows=3, cols=3, autoencoder={"kind": "dense", "hidden": [16], "latent_dim": 2},
                             iterations=200, pretrain_iterations=200, batch_size=32),
    lambda: protolearn.DDCL(n_prototypes=3, autoencoder={"kind": "dense", "hidden": [16], "latent_dim": 2}, epochs=3,
                            pretrain_iterations=100),
    lambda: protolearn.DeepCluster(n_clusters=3, autoencoder={"kind": "dense", "hidden": [16], "latent_dim": 3}, epochs=3),
    lambda: protolearn.TwoStage(autoencoder={"kind": "dense", "hidden": [16], "latent_dim": 2}, pretrain_iterations=100,
                                clustering={"kind": "kmeans", "k": 3}),
]

CLASSIFIERS = [protolearn.GLVQ, protolearn.GMLVQ, protolearn.LGMLVQ, protolearn.GRLVQ, protolearn.RSLVQ,
               protolearn.CELVQ, protolearn.LVQ1, protolearn.Softmax]


@pytest.mark.parametrize("make", CLUSTERERS)
def test_clusterers_fit_predict_transform_and_score(make, blobs):
    X, y = blobs
    est = make().set_params(scaling="standard", verbose=False).fit(X, y)
    k = est.prototypes_.shape[0]
    assert est.labels_.shape == (300,) and est.labels_.min() >= 0 and est.labels_.max() < k
    assert np.array_equal(est.predict(X), est.labels_)
    d = est.transform(X)
    assert d.shape == (300, k) and np.all(d >= 0)
    assert np.array_equal(d.argmin(1), est.labels_)
    scores = est.scores(X, y)
    # Three blobs six standard deviations apart: every family separates them.
    assert scores["purity"] > 0.9, scores
    assert est.score(X) == pytest.approx(-scores["quantization_error"])
    # Every family but k-means (Lloyd's loop runs in one go) logs through the trainer.
    assert isinstance(est.history_, list) and (est.history_ or isinstance(est, protolearn.KMeans))
    assert all({"phase", "step", "seconds"} <= set(r) for r in est.history_)


@pytest.mark.parametrize("cls", CLASSIFIERS)
def test_classifiers_predict_the_labels_given(cls, blobs):
    X, y = blobs
    est = cls(scaling="standard", epochs=30, verbose=False).fit(X[:200], y[:200])
    assert set(est.classes_) == {"ash", "birch", "cedar"}
    assert est.predict(X[200:]).dtype == y.dtype
    assert est.score(X[200:], y[200:]) > 0.95


def test_an_lvq_head_learns_a_reject_threshold_with_reject_costs(blobs):
    X, y = blobs
    costs = {"error": 1.0, "reject": 0.25, "width": 0.05}
    est = protolearn.GLVQ(scaling="standard", epochs=20, reject=costs, verbose=False).fit(X, y)
    assert est.reject_threshold_ is not None and -1.0 < est.reject_threshold_ < 1.0 and est.reject_threshold_ != 0.0
    assert protolearn.GLVQ(scaling="standard", epochs=20, verbose=False).fit(X, y).reject_threshold_ is None
    with pytest.raises(ValueError, match="reject"):
        protolearn.GLVQ(reject={"error": 1.0, "reject": 2.0, "width": 0.05}, verbose=False).fit(X, y)


def test_lvq21_trains_from_lvq1_prototypes(blobs):
    X, y = blobs
    est = protolearn.LVQ21(scaling="standard", epochs=10, lr=(0.05, 0.01), verbose=False).fit(X, y)
    assert est.score(X, y) > 0.9


def test_dataframe_columns_are_feature_names_and_text_columns_are_named_errors(blobs):
    X, y = blobs
    frame = pd.DataFrame(X, columns=["height", "width", "depth", "mass"])
    som = protolearn.SOM(rows=3, cols=3, verbose=False).fit(frame, y)
    assert list(som.feature_names_in_) == ["height", "width", "depth", "mass"]
    assert np.array_equal(som.predict(frame), som.predict(X))
    frame["colour"] = "red"
    with pytest.raises(ValueError, match="'colour'"):
        protolearn.SOM(verbose=False).fit(frame)


def test_torch_tensors_are_taken_as_they_are(blobs):
    X, y = blobs
    som = protolearn.SOM(rows=3, cols=3, verbose=False).fit(torch.from_numpy(X), y)
    assert np.array_equal(som.predict(torch.from_numpy(X).double()), som.predict(X))


def test_missing_cells_are_imputed_when_asked(blobs):
    X, y = blobs
    X = X.copy()
    X[::7, 1] = np.nan
    with pytest.raises(ValueError, match="missing values"):
        protolearn.SOM(verbose=False).fit(X)
    som = protolearn.SOM(rows=3, cols=3, missing="impute-mean", verbose=False).fit(X, y)
    assert som.scores(X, y)["purity"] > 0.9


def test_same_seed_same_model_other_seed_other_model(blobs):
    X, _ = blobs
    a = protolearn.KMeans(n_clusters=5, seed=3, verbose=False).fit(X).prototypes_
    b = protolearn.KMeans(n_clusters=5, seed=3, verbose=False).fit(X).prototypes_
    c = protolearn.KMeans(n_clusters=5, seed=4, verbose=False).fit(X).prototypes_
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_map_arrays_and_figures(blobs, tmp_path):
    X, y = blobs
    som = protolearn.SOM(rows=4, cols=5, verbose=False).fit(X, y)
    assert som.umatrix_.shape == (4, 5) and np.all(som.umatrix_ >= 0)
    units = som.unit_summary(X, y)
    assert units["hits"].sum() == 300 and units["hits"].shape == (20,)
    assert set(units["majority"][units["hits"] > 0]) <= {"ash", "birch", "cedar"}
    assert np.all(units["majority"][units["hits"] == 0] == None)  # noqa: E711
    assert np.all((units["purity"] >= 0) & (units["purity"] <= 1))
    names = {p.split("/")[-1] for p in som.figures(X, tmp_path / "figures", y)}
    assert {"umatrix.png", "hit_map.png", "class_map.png"} <= names
    assert all((tmp_path / "figures" / n).stat().st_size > 1000 for n in names)
    assert set(som.predict_class(X)) <= {"ash", "birch", "cedar"}
    assert protolearn.KMeans(n_clusters=3, verbose=False).fit(X).umatrix_ is None


def test_progress_bar_writes_to_stderr_only_when_verbose(blobs, capfd):
    X, _ = blobs
    protolearn.SOM(rows=3, cols=3, verbose=True).fit(X)
    out, err = capfd.readouterr()
    assert out == "" and "som [" in err and "50/50" in err
    assert [r["step"] for r in protolearn.SOM(rows=3, cols=3, iterations=4, verbose=False).fit(X).history_] == [1, 2, 3, 4]
    protolearn.SOM(rows=3, cols=3, verbose=False).fit(X)
    assert capfd.readouterr() == ("", "")
