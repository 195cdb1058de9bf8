"""One model file for Python, the command line and Rust: saved in one, loaded in the other."""

import csv
import os
import subprocess

import numpy as np
import pandas as pd
import pytest

import protolearn


def read_winners(path):
    with open(path) as f:
        return np.asarray([int(row["winner"]) for row in csv.DictReader(f)])


@pytest.mark.parametrize("make", [
    lambda: protolearn.SOM(rows=4, cols=4, scaling="standard"),
    lambda: protolearn.KMeans(n_clusters=4),
    lambda: protolearn.GMLVQ(dim=2, epochs=10),
])
def test_saved_in_python_loaded_in_python_and_by_the_command_line(make, blobs, tmp_path, cli):
    X, y = blobs
    est = make().set_params(verbose=False).fit(X, y)
    est.save(tmp_path / "model.safetensors")
    loaded = protolearn.load(tmp_path / "model.safetensors")
    assert type(loaded) is type(est)
    assert np.array_equal(loaded.predict(X), est.predict(X))
    assert np.array_equal(loaded.transform(X), est.transform(X))
    np.save(tmp_path / "x.npy", X)
    subprocess.run([cli, "predict", "--model", tmp_path / "model.safetensors", "--data", tmp_path / "x.npy",
                    "--out", tmp_path / "predicted.csv"], check=True, capture_output=True)
    assert np.array_equal(read_winners(tmp_path / "predicted.csv"), est.transform(X).argmin(1))


def test_fitted_by_the_command_line_loaded_in_python(tmp_path, cli):
    examples = os.environ.get("PROTOLEARN_EXAMPLES")
    assert examples, "PROTOLEARN_EXAMPLES must name the repository's examples/ folder (set by cargo xtask python)"
    data = os.path.join(examples, "data", "flowers.csv")
    subprocess.run([cli, "fit", "--model", os.path.join(examples, "models", "som.toml"), "--data", data,
                    "--labels", "species", "--out", tmp_path / "fit"], check=True, capture_output=True)
    som = protolearn.load(tmp_path / "fit" / "model.safetensors")
    table = pd.read_csv(data)
    assert isinstance(som, protolearn.SOM) and som.rows == 8 and som.lattice == "hexagonal"
    assert np.array_equal(som.predict(table.drop(columns="species")), read_winners(tmp_path / "fit" / "assignments.csv"))
    assert set(som.classes_) == {"setosa", "versicolor", "virginica"}
