"""PyTorch twin of bench-all's paper003_lvq CNN, for its speed comparison.

The same network (3x3 'same' convolutions with 32 and 64 filters, ReLU, 2x2 max-pooling, a
dense layer to 64 features, Glorot-uniform weights and zero biases), the same heads (softmax
linear; GLVQ with one prototype per class started at a random training sample of its class,
identity transfer), Adam, shuffled minibatches, and the test accuracy after every epoch, as
the Rust run measures it. Reads the IDX files itself (raw or .gz) and prints one JSON line per
head: seconds per epoch (training + test evaluation) and the final test accuracy.

Run by protolearn-experiments; by hand:
    PYTHONPATH=.libtorch/site python3 benches/python/paper003_cnn.py --data ../shared/datasets/mnist \
        --heads softmax,glvq --epochs 1 --batch-size 128 --lr 1e-3 --threads 2 --seed 0
"""

import argparse
import gzip
import json
import os
import struct
import time

import torch
from torch import nn


def read_idx(directory, stem):
    """The IDX file `stem` (or `stem.gz`) in `directory` as a uint8 tensor of its shape."""
    path = os.path.join(directory, stem)
    opener = open
    if not os.path.exists(path):
        path, opener = path + ".gz", gzip.open
    with opener(path, "rb") as f:
        data = f.read()
    zero, kind, rank = struct.unpack(">HBB", data[:4])
    if zero != 0 or kind != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file (magic {data[:4]!r})")
    dims = struct.unpack(">" + "I" * rank, data[4 : 4 + 4 * rank])
    return torch.frombuffer(bytearray(data[4 + 4 * rank :]), dtype=torch.uint8).view(*dims)


def glorot(layer):
    nn.init.xavier_uniform_(layer.weight)
    nn.init.zeros_(layer.bias)
    return layer


class Cnn(nn.Module):
    def __init__(self, features=64):
        super().__init__()
        self.conv1 = glorot(nn.Conv2d(1, 32, 3, padding=1))
        self.conv2 = glorot(nn.Conv2d(32, 64, 3, padding=1))
        self.code = glorot(nn.Linear(64 * 7 * 7, features))

    def forward(self, x):
        h = torch.max_pool2d(torch.relu(self.conv1(x)), 2)
        h = torch.max_pool2d(torch.relu(self.conv2(h)), 2)
        return self.code(h.flatten(1))


def squared_distances(z, w):
    """||z - w||^2 by the expansion, clamped at 0 (the Rust distance kernel)."""
    d = (z * z).sum(1, keepdim=True) - 2.0 * z @ w.T + (w * w).sum(1).unsqueeze(0)
    return d.clamp_min(0.0)


def glvq_loss(d, y, labels):
    same = y.unsqueeze(1) == labels.unsqueeze(0)
    plus = d.masked_fill(~same, float("inf")).amin(1)
    minus = d.masked_fill(same, float("inf")).amin(1)
    return ((plus - minus) / (plus + minus).clamp_min(1.1754944e-38)).mean()


def run(head, train_x, train_y, test_x, test_y, args):
    torch.manual_seed(args.seed)
    generator = torch.Generator().manual_seed(args.seed)
    backbone = Cnn()
    params = list(backbone.parameters())
    start = time.perf_counter()
    if head == "softmax":
        linear = glorot(nn.Linear(64, 10))
        params += list(linear.parameters())
        scores = lambda z: linear(z)  # noqa: E731
        loss_of = lambda z, y: torch.nn.functional.cross_entropy(linear(z), y)  # noqa: E731
    else:
        rows = [int(torch.nonzero(train_y == c)[torch.randint(0, int((train_y == c).sum()), (1,), generator=generator)]) for c in range(10)]
        with torch.no_grad():
            prototypes = nn.Parameter(backbone(train_x[rows]).clone())
        labels = torch.arange(10)
        params.append(prototypes)
        scores = lambda z: -squared_distances(z, prototypes)  # noqa: E731
        loss_of = lambda z, y: glvq_loss(squared_distances(z, prototypes), y, labels)  # noqa: E731
    optimizer = torch.optim.Adam(params, lr=args.lr)
    accuracy = float("nan")
    n = train_x.shape[0]
    for _ in range(args.epochs):
        order = torch.randperm(n, generator=generator)
        for i in range(0, n, args.batch_size):
            index = order[i : i + args.batch_size]
            optimizer.zero_grad(set_to_none=True)
            loss = loss_of(backbone(train_x[index]), train_y[index])
            loss.backward()
            optimizer.step()
        with torch.no_grad():
            correct = sum(int((scores(backbone(test_x[i : i + 1024])).argmax(1) == test_y[i : i + 1024]).sum()) for i in range(0, test_x.shape[0], 1024))
        accuracy = correct / test_x.shape[0]
    seconds = time.perf_counter() - start
    return {
        "head": head,
        "seconds_per_epoch": seconds / args.epochs,
        "test_accuracy": accuracy,
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="folder with the four IDX files")
    parser.add_argument("--heads", default="softmax,glvq")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    to_images = lambda t: (t.float() / 255.0).unsqueeze(1)  # noqa: E731
    train_x = to_images(read_idx(args.data, "train-images-idx3-ubyte"))
    train_y = read_idx(args.data, "train-labels-idx1-ubyte").long()
    test_x = to_images(read_idx(args.data, "t10k-images-idx3-ubyte"))
    test_y = read_idx(args.data, "t10k-labels-idx1-ubyte").long()
    for head in args.heads.split(","):
        print(json.dumps(run(head, train_x, train_y, test_x, test_y, args)), flush=True)


if __name__ == "__main__":
    main()
