"""The Python side of `protolearn speed` (docs/results/speed.md): scikit-learn's KMeans, minisom's
SOM and a PyTorch DESOM, each timed on the same data and thread count as the Rust side.

Every subcommand reads the IDX files itself (raw or .gz, pixels / 255 as float32), limits the
BLAS / OpenMP / torch threads to --threads, times only the fit (data loading and evaluation are
outside the clock) and prints one JSON line per run. Where the Rust side evaluates quality with
its own metric code, the model is written as .npy (--save) so both sides are scored alike.
`kmeans` and `minisom` need numpy (and scikit-learn, minisom); `desom` needs torch alone, so that
it runs with whatever python3 has torch (the GPU machine's, or .libtorch/site on PYTHONPATH).

By hand (from the repository root):
    python3 benches/python/speed_baselines.py kmeans --data ../shared/datasets/fashion-mnist --k 64 --seed 0 --threads 2
    python3 benches/python/speed_baselines.py minisom --data ../shared/datasets/fashion-mnist --iterations 60000 --save w.npy
    PYTHONPATH=.libtorch/site python3 benches/python/speed_baselines.py desom --data ../shared/datasets/mnist --iterations 500
"""

import argparse
import gzip
import json
import os
import struct
import sys
import time


def read_idx_bytes(directory, stem):
    """The IDX file `stem` (or `stem.gz`) in `directory`: its unsigned bytes and its shape."""
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
    return data[4 + 4 * rank :], dims


def split_bytes(directory, split):
    """`split`'s image bytes, image shape and label bytes."""
    xb, xdims = read_idx_bytes(directory, f"{split}-images-idx3-ubyte")
    yb, _ = read_idx_bytes(directory, f"{split}-labels-idx1-ubyte")
    return xb, xdims, yb


def images(directory, split, samples=None):
    """`split` ('train' or 't10k') images as numpy float32 [n, 784] in [0, 1], and the labels."""
    import numpy as np

    xb, xdims, yb = split_bytes(directory, split)
    x, y = np.frombuffer(xb, dtype=np.uint8).reshape(xdims), np.frombuffer(yb, dtype=np.uint8)
    n = len(x) if samples is None else samples
    return (x[:n].reshape(n, -1).astype(np.float32) / 255.0), y[:n].astype(np.int64)


def images_torch(directory, split, samples=None):
    """The same as `images`, as torch tensors (float32 [n, 784], int64 [n]), without numpy."""
    import torch

    xb, xdims, yb = split_bytes(directory, split)
    x = torch.frombuffer(bytearray(xb), dtype=torch.uint8).view(*xdims)
    y = torch.frombuffer(bytearray(yb), dtype=torch.uint8)
    n = len(x) if samples is None else samples
    return x[:n].reshape(n, -1).float() / 255.0, y[:n].long()


def emit(row):
    print(json.dumps(row), flush=True)


def kmeans(args):
    """scikit-learn KMeans: lloyd, k-means++, n_init, max_iter and tol as given."""
    import sklearn
    from sklearn.cluster import KMeans
    from threadpoolctl import threadpool_limits

    x, _ = images(args.data, "train", args.samples)
    with threadpool_limits(limits=args.threads):
        model = KMeans(n_clusters=args.k, n_init=args.n_init, max_iter=args.max_iter, tol=args.tol,
                       algorithm="lloyd", init="k-means++", random_state=args.seed)
        start = time.perf_counter()
        model.fit(x)
        seconds = time.perf_counter() - start
    emit({"side": "scikit-learn", "version": sklearn.__version__, "seed": args.seed, "seconds": seconds,
          "inertia": float(model.inertia_), "iterations": int(model.n_iter_)})


def minisom(args):
    """minisom's `train` (random order, Gaussian neighbourhood) for --iterations presentations."""
    from importlib.metadata import version
    from minisom import MiniSom
    from threadpoolctl import threadpool_limits

    x, _ = images(args.data, "train", args.samples)
    with threadpool_limits(limits=args.threads):
        som = MiniSom(args.rows, args.cols, x.shape[1], sigma=args.sigma, learning_rate=args.lr,
                      neighborhood_function="gaussian", random_seed=args.seed)
        som.random_weights_init(x)
        start = time.perf_counter()
        som.train(x, args.iterations, random_order=True)
        seconds = time.perf_counter() - start
    if args.save:
        import numpy as np

        np.save(args.save, som.get_weights().reshape(args.rows * args.cols, -1).astype(np.float32))
    emit({"side": "minisom", "version": version("minisom"), "seed": args.seed, "seconds": seconds,
          "iterations": args.iterations})


def desom(args):
    """Paper 002's DESOM in PyTorch eager: 784-500-500-2000-10 (ReLU, linear code and output,
    Glorot-uniform weights, zero biases), an 8x8 map started at the codes of random samples,
    L = MSE + gamma * mean_i sum_k exp(-delta(b_i, k)^2 / T^2) ||z_i - m_k||^2 with Manhattan
    delta and T decayed exponentially from the map size to 0.1, batches of random samples, Adam."""
    import torch
    from torch import nn

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    device = torch.device(args.device)
    x, _ = images_torch(args.data, "train")
    x = x.to(device)
    widths = [x.shape[1], 500, 500, 2000, 10]

    def mlp(dims):
        layers = []
        for i, (a, b) in enumerate(zip(dims, dims[1:])):
            layer = nn.Linear(a, b)
            nn.init.xavier_uniform_(layer.weight)
            nn.init.zeros_(layer.bias)
            layers.append(layer)
            if i < len(dims) - 2:
                layers.append(nn.ReLU())
        return nn.Sequential(*layers)

    encoder, decoder = mlp(widths).to(device), mlp(widths[::-1]).to(device)
    rows, cols = args.rows, args.cols
    grid = torch.stack(torch.meshgrid(torch.arange(rows), torch.arange(cols), indexing="ij"), -1).view(-1, 2).float().to(device)
    manhattan = (grid[:, None, :] - grid[None, :, :]).abs().sum(-1)  # [K, K]
    with torch.no_grad():
        start_codes = encoder(x[torch.randint(len(x), (rows * cols,), device=device)])
    prototypes = nn.Parameter(start_codes.clone())
    params = list(encoder.parameters()) + list(decoder.parameters()) + [prototypes]
    optimizer = torch.optim.Adam(params, lr=args.lr, fused=True) if args.fused else torch.optim.Adam(params, lr=args.lr)
    t_max, t_min = float(max(rows, cols)), 0.1

    def step(i):
        batch = x[torch.randint(len(x), (args.batch_size,), device=device)]
        z = encoder(batch)
        reconstruction = nn.functional.mse_loss(decoder(z), batch)
        dist = (z.square().sum(1, keepdim=True) - 2 * z @ prototypes.T + prototypes.square().sum(1)).clamp_min(0)
        temperature = t_max * (t_min / t_max) ** (i / args.iterations)
        weights = torch.exp(-manhattan[dist.detach().argmin(1)].square() / temperature**2)
        loss = reconstruction + args.gamma * (weights * dist).sum(1).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return loss.detach()

    def synchronise():
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    for i in range(args.warmup):
        step(i)
    synchronise()
    start = time.perf_counter()
    loss_sum = torch.zeros((), device=device)
    for i in range(args.iterations):
        loss_sum += step(i)  # summed on the device, read once (as protolearn's trainer logs)
    mean_loss = loss_sum.item() / args.iterations  # .item() waits for the device
    seconds = time.perf_counter() - start
    with torch.no_grad():
        tx, ty = images_torch(args.data, "t10k")
        codes = encoder(tx.to(device))
        bmus = ((codes.square().sum(1, keepdim=True) - 2 * codes @ prototypes.T + prototypes.square().sum(1))).argmin(1).cpu()
    counts = torch.zeros(rows * cols * 10, dtype=torch.int64).index_add_(0, bmus * 10 + ty, torch.ones_like(ty)).view(rows * cols, 10)
    emit({"side": "pytorch", "version": torch.__version__, "device": str(device), "seed": args.seed, "seconds": seconds,
          "iterations": args.iterations, "iterations_per_second": args.iterations / seconds,
          "mean_loss": mean_loss, "purity": counts.max(1).values.sum().item() / len(ty)})


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("kmeans", "minisom", "desom"):
        p = sub.add_parser(name)
        p.add_argument("--data", required=True, help="folder with the four IDX files")
        p.add_argument("--threads", type=int, default=2)
        p.add_argument("--seed", type=int, default=0)
        p.add_argument("--samples", type=int, default=None, help="first n training images (default all)")
    k = sub.choices["kmeans"]
    k.add_argument("--k", type=int, default=64)
    k.add_argument("--n-init", type=int, default=1)
    k.add_argument("--max-iter", type=int, default=300)
    k.add_argument("--tol", type=float, default=1e-4)
    for name in ("minisom", "desom"):
        sub.choices[name].add_argument("--rows", type=int, default=8)
        sub.choices[name].add_argument("--cols", type=int, default=8)
    m = sub.choices["minisom"]
    m.add_argument("--iterations", type=int, default=60000, help="sample presentations")
    m.add_argument("--sigma", type=float, default=1.0)
    m.add_argument("--lr", type=float, default=0.5)
    m.add_argument("--save", default=None, help="write the [K, d] prototypes here (.npy)")
    d = sub.choices["desom"]
    d.add_argument("--iterations", type=int, default=500, help="timed iterations")
    d.add_argument("--warmup", type=int, default=20)
    d.add_argument("--batch-size", type=int, default=256)
    d.add_argument("--lr", type=float, default=1e-3)
    d.add_argument("--gamma", type=float, default=1e-3)
    d.add_argument("--fused", action="store_true", help="Adam(fused=True) instead of the default (foreach)")
    d.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    args = parser.parse_args()
    {"kmeans": kmeans, "minisom": minisom, "desom": desom}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
