"""Writes garden.csv and garden-new.csv: a small mixed table of the kind people cluster every day.

Each row is a plant: a text id, a categorical soil and colour, three measurements, and its
species (the label). About 8% of the measurement cells and 5% of the categorical cells are
missing, written as "NA", "" or "?". garden-new.csv holds 30 further plants (with missing cells)
for `protolearn predict`. Standard library only; fixed seed, so both files are reproduced byte
for byte: python3 examples/data/make_garden.py
"""
import random

rng = random.Random(20261204)
species = {
    # name: (height, width, weight) centres and spreads, soil and colour preferences
    "fern": ([30.0, 40.0, 0.8], [5.0, 6.0, 0.15], ["clay", "loam"], ["green", "green", "white"]),
    "rose": ([90.0, 60.0, 2.5], [12.0, 8.0, 0.40], ["loam", "loam", "sand"], ["red", "white", "red"]),
    "thyme": ([20.0, 25.0, 0.3], [4.0, 5.0, 0.08], ["sand", "sand", "loam"], ["white", "green", "green"]),
}
MISSING = ["NA", "", "?"]


def plant(name):
    centre, spread, soils, colours = species[name]
    numbers = [round(rng.gauss(c, s), 2) for c, s in zip(centre, spread)]
    cells = [str(v) if rng.random() > 0.08 else rng.choice(MISSING) for v in numbers]
    soil = rng.choice(soils) if rng.random() > 0.05 else rng.choice(MISSING)
    colour = rng.choice(colours) if rng.random() > 0.05 else rng.choice(MISSING)
    return [soil, colour] + cells + [name]


def write(path, rows, first_id):
    with open(path, "w") as f:
        f.write("id,soil,colour,height,width,weight,species\n")
        for i, r in enumerate(rows):
            f.write(",".join([f"g{first_id + i:03d}"] + r) + "\n")


rows = [plant(name) for name in species for _ in range(60)]
rng.shuffle(rows)
write("examples/data/garden.csv", rows, 1)
new = [plant(rng.choice(list(species))) for _ in range(30)]
write("examples/data/garden-new.csv", new, len(rows) + 1)
