"""Data-parallel fits from Python: two ranks on 127.0.0.1 (Gloo through protolearn's c10d
binding) give the one-process SOM and k-means; a half-set launch environment is a ValueError."""

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

import protolearn

# Largest difference between one process's prototypes and two ranks' (standardised features):
# the ranks add the same float32 member sums in another order (two halves, then one addition).
SUM_ORDER_TOLERANCE = 1e-4

RANK_SCRIPT = """
import json, sys
import numpy as np
import protolearn
joined = protolearn.init_distributed()
x = np.load(sys.argv[1])
som = protolearn.SOM(rows=4, cols=4, scaling="standard", verbose=False).fit(x)
km = protolearn.KMeans(n_clusters=5, scaling="standard", verbose=False).fit(x)
print(json.dumps({"joined": joined, "som": som.prototypes_.tolist(), "kmeans": km.prototypes_.tolist()}))
"""


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rows(tmp_path):
    rng = np.random.default_rng(3)
    centres = rng.normal(0, 4, size=(5, 6))
    x = (centres[rng.integers(0, 5, 600)] + rng.normal(0, 1, size=(600, 6))).astype(np.float32)
    path = tmp_path / "x.npy"
    np.save(path, x)
    return x, path


def test_two_ranks_fit_the_one_process_som_and_kmeans(tmp_path):
    x, path = _rows(tmp_path)
    port = _free_port()
    ranks = []
    for rank in range(2):
        env = dict(os.environ, MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE="2",
                   PROTOLEARN_DIST_TIMEOUT="60")
        env.pop("TORCHELASTIC_USE_AGENT_STORE", None)
        ranks.append(subprocess.Popen([sys.executable, "-P", "-c", RANK_SCRIPT, str(path)], env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    results = []
    for rank, process in enumerate(ranks):
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, f"rank {rank}: {err}"
        results.append(json.loads(out.strip().splitlines()[-1]))
    assert [r["joined"] for r in results] == [[0, 2], [1, 2]]
    som = protolearn.SOM(rows=4, cols=4, scaling="standard", verbose=False).fit(x)
    km = protolearn.KMeans(n_clusters=5, scaling="standard", verbose=False).fit(x)
    for result in results:
        np.testing.assert_allclose(np.array(result["som"]), som.prototypes_, atol=SUM_ORDER_TOLERANCE)
        np.testing.assert_allclose(np.array(result["kmeans"]), km.prototypes_, atol=SUM_ORDER_TOLERANCE)


def test_no_launcher_is_one_process_and_a_half_set_launch_is_an_error():
    script = "import protolearn; print(protolearn.init_distributed())"
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")}
    single = subprocess.run([sys.executable, "-P", "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert single.returncode == 0, single.stderr
    assert single.stdout.strip() == "None"
    half = subprocess.run([sys.executable, "-P", "-c", script], env=dict(env, RANK="0", WORLD_SIZE="2"),
                          capture_output=True, text=True, timeout=120)
    assert half.returncode != 0
    assert "ValueError: MASTER_ADDR is not set, but RANK is" in half.stderr
