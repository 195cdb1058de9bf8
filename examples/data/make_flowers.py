"""Writes flowers.csv: 300 rows of three Gaussian blobs in 4 named features with a text label.

A small offline table for the `protolearn fit` walk-through (README). Standard library only;
fixed seed, so the file is reproduced byte for byte: python3 examples/data/make_flowers.py
"""
import random

rng = random.Random(20261203)
species = {
    # name: (centre, spread) per feature: petal_length, petal_width, sepal_length, sepal_width
    "setosa": ([1.5, 0.25, 5.0, 3.4], [0.20, 0.10, 0.35, 0.35]),
    "versicolor": ([4.3, 1.3, 5.9, 2.8], [0.45, 0.20, 0.50, 0.30]),
    "virginica": ([5.6, 2.0, 6.6, 3.0], [0.55, 0.27, 0.60, 0.30]),
}
rows = []
for name, (centre, spread) in species.items():
    for _ in range(100):
        rows.append([round(rng.gauss(c, s), 2) for c, s in zip(centre, spread)] + [name])
rng.shuffle(rows)
with open("examples/data/flowers.csv", "w") as f:
    f.write("petal_length,petal_width,sepal_length,sepal_width,species\n")
    for r in rows:
        f.write(",".join(str(v) for v in r) + "\n")
