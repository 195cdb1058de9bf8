"""Bad input is a Python exception with the Rust message; a Rust panic does not crash the interpreter."""

import numpy as np
import pytest

import protolearn


def test_bad_inputs_are_value_errors_that_say_what_was_expected(blobs):
    X, y = blobs
    with pytest.raises(ValueError, match="2-D"):
        protolearn.SOM(verbose=False).fit(X[:, 0])
    som = protolearn.SOM(rows=3, cols=3, verbose=False).fit(X)
    with pytest.raises(ValueError, match="4 features per sample"):
        som.predict(X[:, :3])
    with pytest.raises(ValueError, match="iterations"):
        protolearn.SOM(iterations=0, verbose=False).fit(X)
    with pytest.raises(ValueError, match="unknown variant"):
        protolearn.SOM(rule="sideways", verbose=False).fit(X)
    with pytest.raises(ValueError, match="needs labels"):
        protolearn.GLVQ(verbose=False).fit(X, None)
    with pytest.raises(ValueError, match="not seen in fit"):
        protolearn.GLVQ(epochs=2, verbose=False).fit(X, y).scores(X, np.repeat("oak", 300))


def test_files_and_fitting_errors(tmp_path, blobs):
    with pytest.raises(FileNotFoundError, match="nowhere.safetensors"):
        protolearn.load(tmp_path / "nowhere.safetensors")
    (tmp_path / "junk.safetensors").write_bytes(b"not a model")
    with pytest.raises(ValueError, match="junk.safetensors"):
        protolearn.load(tmp_path / "junk.safetensors")
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        protolearn.SOM().predict(blobs[0])


def test_a_rust_panic_is_an_exception_and_the_interpreter_goes_on(blobs):
    with pytest.raises(protolearn.ProtolearnError, match="internal error.*deliberate"):
        protolearn._native._panic_for_test("deliberate")
    X, _ = blobs
    assert protolearn.KMeans(n_clusters=2, verbose=False).fit(X).labels_.shape == (300,)
