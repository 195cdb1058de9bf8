"""Shared fixtures of the Python package's tests: small labelled blobs, the `protolearn` command
(`PROTOLEARN_CLI`, set by `cargo xtask python`) and MNIST (`PROTOLEARN_DATA` or the repository's
data/ folder; with `PROTOLEARN_REQUIRE_DATA=1` a missing dataset fails instead of skipping)."""

import gzip
import os
import pathlib

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture
def blobs():
    """300 samples of 3 well-separated 4-D Gaussian blobs with text labels."""
    rng = np.random.default_rng(0)
    centres = np.array([[0, 0, 0, 0], [6, 6, 0, 0], [0, 6, 6, 6]], dtype=np.float32)
    y = np.repeat(np.array(["ash", "birch", "cedar"]), 100)
    X = (np.repeat(centres, 100, axis=0) + rng.normal(0, 1, (300, 4))).astype(np.float32)
    order = rng.permutation(300)
    return X[order], y[order]


@pytest.fixture
def cli():
    """The `protolearn` command (built by `cargo xtask python`)."""
    path = os.environ.get("PROTOLEARN_CLI")
    if not path or not pathlib.Path(path).exists():
        pytest.fail("PROTOLEARN_CLI does not name the protolearn binary: run the tests with `cargo xtask python`")
    return path


def _idx(path):
    with gzip.open(path) if path.suffix == ".gz" else open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


@pytest.fixture
def mnist():
    """MNIST as ``(train_images, train_labels, test_images, test_labels)``, uint8 images [n, 28, 28]."""
    roots = [pathlib.Path(p) for p in [os.environ.get("PROTOLEARN_DATA"), ROOT / "data"] if p]
    for root in roots:
        files = {}
        for stem in ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]:
            found = [root / "mnist" / (stem + ext) for ext in (".gz", "") if (root / "mnist" / (stem + ext)).exists()]
            if found:
                files[stem] = found[0]
        if len(files) == 4:
            return tuple(_idx(files[s]) for s in ["train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                                 "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"])
    message = f"MNIST not found under {', '.join(str(r) for r in roots)} (mnist/*-idx*-ubyte[.gz])"
    if os.environ.get("PROTOLEARN_REQUIRE_DATA") == "1":
        pytest.fail(message)
    pytest.skip(message)
