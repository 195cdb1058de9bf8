"""The README's pandas example runs as written (from a folder that has the repository's examples/)."""

import os
import pathlib
import re

from conftest import ROOT


def test_readme_pandas_som_example_runs(tmp_path, monkeypatch):
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## From Python"):]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    assert "pd.read_csv" in code and "protolearn.SOM" in code
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    monkeypatch.chdir(tmp_path)
    namespace = {}
    exec(compile(code, "README.md", "exec"), namespace)
    som = namespace["som"]
    assert som.umatrix_.shape == (8, 8)
    assert pathlib.Path("figures/umatrix.png").exists() and os.path.getsize("figures/class_map.png") > 1000
