"""The Python side of `protolearn speed` (docs/results/speed.md): scikit-learn's KMeans and FAISS
k-means, the SOMs of minisom, somoclu, XPySom and torchsom, a PyTorch DESOM and a PyTorch twin of
paper 003's kernel-prototype CNN, each timed on the same data and thread count as the Rust side.

Every subcommand reads the IDX files itself (raw or .gz, pixels / 255 as float32), limits the
BLAS / OpenMP / torch threads to --threads, times only the fit (data loading and evaluation are
outside the clock) and prints one JSON line per run. Where the Rust side evaluates quality with
its own metric code, the model is written as .npy (--save) so both sides are scored alike.
`kmeans`, `lloyd` and `som` need numpy (and the tool they run); `desom` and `kernel` need torch alone, so that
it runs with whatever python3 has torch (the GPU machine's, or .libtorch/site on PYTHONPATH).
`lloyd` and `som` start from the centroids / prototypes in --init (.npy, [K, d], units row-major)
that the Rust side wrote, so every tool starts from the same point.

By hand (from the repository root):
    python3 benches/python/speed_baselines.py kmeans --data ../shared/datasets/fashion-mnist --k 64 --seed 0 --threads 2
    python3 benches/python/speed_baselines.py lloyd --tool faiss --data ../shared/datasets/fashion-mnist --init c.npy --iterations 50
    python3 benches/python/speed_baselines.py som --tool somoclu --data ../shared/datasets/fashion-mnist --init w0.npy --save w.npy
    PYTHONPATH=.libtorch/site python3 benches/python/speed_baselines.py desom --data ../shared/datasets/mnist --iterations 500
    PYTHONPATH=.libtorch/site python3 benches/python/speed_baselines.py kernel --data ../shared/datasets/mnist --layer hard
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


def train_features(args):
    """The training features of --data: an IDX folder (pixels / 255) or a .npy file of [n, d] floats."""
    import numpy as np

    if args.data.endswith(".npy"):
        x = np.load(args.data).astype(np.float32)
        return np.ascontiguousarray(x if args.samples is None else x[: args.samples])
    return images(args.data, "train", args.samples)[0]


def lloyd(args):
    """Lloyd's algorithm from the centroids in --init for --iterations steps (no early stop):
    FAISS's `Kmeans` (no subsampling, no restarts) or scikit-learn's `KMeans(init=..., tol=0)`."""
    import numpy as np
    from importlib.metadata import version
    from threadpoolctl import threadpool_limits

    x, init = train_features(args), np.load(args.init).astype(np.float32)
    with threadpool_limits(limits=args.threads):
        if args.tool == "faiss":
            import faiss

            faiss.omp_set_num_threads(args.threads)
            model = faiss.Kmeans(x.shape[1], len(init), niter=args.iterations, nredo=1, seed=args.seed, verbose=False,
                                 max_points_per_centroid=len(x), min_points_per_centroid=1)
            start = time.perf_counter()
            model.train(x, init_centroids=init)
            seconds = time.perf_counter() - start
            centroids, iterations, tool = model.centroids, args.iterations, "faiss-cpu"
        else:
            from sklearn.cluster import KMeans

            model = KMeans(n_clusters=len(init), init=init, n_init=1, max_iter=args.iterations, tol=0.0, algorithm="lloyd")
            start = time.perf_counter()
            model.fit(x)
            seconds = time.perf_counter() - start
            centroids, iterations, tool = model.cluster_centers_, int(model.n_iter_), "scikit-learn"
    np.save(args.save, np.asarray(centroids, dtype=np.float32))
    emit({"side": tool, "version": version(tool), "seed": args.seed, "seconds": seconds, "iterations": iterations})


def som(args):
    """One SOM tool from the prototypes in --init for --epochs passes over the data, saving the
    trained [K, d] prototypes (units row-major) to --save. The batch SOMs (somoclu, XPySom) get
    protolearn's schedule: Gaussian exp(-d^2 / T^2) with T decayed exponentially from --t-start to
    --t-end (their exp(-d^2 / (2 (c r)^2)) with c = 0.5 and r = sqrt(2) T); minisom (online, one
    presentation per step, --presentations of them) and torchsom (mini-batches of --batch-size)
    run with their own default sigma, learning rate and decay."""
    import numpy as np
    from importlib.metadata import version
    from threadpoolctl import threadpool_limits

    x, init = train_features(args), np.load(args.init).astype(np.float32)
    rows, cols, d = args.rows, args.cols, x.shape[1]
    grid_start = init.reshape(rows, cols, d)
    with threadpool_limits(limits=args.threads):
        if args.tool == "minisom":
            from minisom import MiniSom

            model = MiniSom(rows, cols, d, sigma=1.0, learning_rate=0.5, neighborhood_function="gaussian",
                            random_seed=args.seed)
            model._weights = grid_start.astype(np.float64)
            start = time.perf_counter()
            model.train(x, args.presentations, random_order=True)
            seconds = time.perf_counter() - start
            weights = model.get_weights()
        elif args.tool == "somoclu":
            import somoclu

            model = somoclu.Somoclu(cols, rows, initialcodebook=grid_start.copy(), compactsupport=False,
                                    neighborhood="gaussian", std_coeff=0.5)
            start = time.perf_counter()
            model.train(x, epochs=args.epochs, radius0=np.sqrt(2) * args.t_start, radiusN=np.sqrt(2) * args.t_end,
                        radiuscooling="exponential", scale0=1.0, scaleN=1.0)
            seconds = time.perf_counter() - start
            weights = model.codebook
        elif args.tool == "xpysom":
            from xpysom import XPySom

            model = XPySom(rows, cols, d, sigma=np.sqrt(2) * args.t_start, sigmaN=np.sqrt(2) * args.t_end,
                           decay_function="exponential", neighborhood_function="gaussian", std_coeff=0.5,
                           random_seed=args.seed, xp=np)
            model._weights = grid_start.copy()
            start = time.perf_counter()
            model.train(x, args.epochs)
            seconds = time.perf_counter() - start
            weights = model.get_weights()
        else:
            import torch
            from torchsom import SOM

            torch.set_num_threads(args.threads)
            model = SOM(rows, cols, d, epochs=args.epochs, batch_size=args.batch_size, device="cpu",
                        random_seed=args.seed)
            model.weights.data = torch.from_numpy(grid_start.copy())
            data = torch.from_numpy(x)
            start = time.perf_counter()
            model.fit(data, verbose=False)
            seconds = time.perf_counter() - start
            weights = model.weights.detach().numpy()
    np.save(args.save, np.asarray(weights, dtype=np.float32).reshape(rows * cols, d))
    emit({"side": args.tool, "version": version(args.tool), "seed": args.seed, "seconds": seconds})


def desom(args):
    """Paper 002's DESOM in PyTorch eager: 784-500-500-2000-10 (ReLU, linear code and output,
    Glorot-uniform weights, zero biases), an 8x8 map started at the codes of random samples,
    L = MSE + gamma * mean_i sum_k exp(-delta(b_i, k)^2 / T^2) ||z_i - m_k||^2 with Manhattan
    delta and T decayed exponentially from the map size to 0.1, batches of random samples, Adam."""
    import torch
    from torch import nn

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    if args.tf32:
        torch.set_float32_matmul_precision("high")
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

    def autoencode(batch):
        """Codes and reconstructions, float32 (in bfloat16 autocast with --autocast-bf16)."""
        if not args.autocast_bf16:
            z = encoder(batch)
            return z, decoder(z)
        with torch.autocast(device.type, dtype=torch.bfloat16):
            z = encoder(batch)
            out = decoder(z)
        return z.float(), out.float()

    def step(i):
        batch = x[torch.randint(len(x), (args.batch_size,), device=device)]
        z, out = autoencode(batch)
        reconstruction = nn.functional.mse_loss(out, batch)
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


def kernel(args):
    """Paper 003's kernel-prototype CNN in PyTorch eager, written as a user of PyTorch would: each
    3x3 layer computes d = conv(x^2, ones) - 2 conv(x, k) + ||k||^2 (clamped at 0), then
    softmax(-d / sigma) over the kernel-prototypes; `hard` puts the one-hot winner in the forward
    pass and keeps the softmax's gradient (soft + (hard - soft).detach()). 2x2 max-pooling after
    each, a dense layer to 64 features, a linear head, cross-entropy, Adam, shuffled batches;
    Glorot-uniform weights, zero biases. Seconds per epoch of the training alone; the test
    accuracy after training is outside the clock."""
    import torch
    from torch import nn

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    x, y = images_torch(args.data, "train", args.samples)
    x = x.view(-1, 1, 28, 28)

    def glorot(layer):
        nn.init.xavier_uniform_(layer.weight)
        nn.init.zeros_(layer.bias)
        return layer

    class KernelPrototypeConv(nn.Module):
        def __init__(self, channels, prototypes):
            super().__init__()
            self.kernels = nn.Parameter(nn.init.xavier_uniform_(torch.empty(prototypes, channels, 3, 3)))
            self.register_buffer("ones", torch.ones(1, channels, 3, 3))

        def forward(self, h):
            k = self.kernels
            d = torch.conv2d(h * h, self.ones, padding=1) - 2 * torch.conv2d(h, k, padding=1) + k.square().sum((1, 2, 3)).view(1, -1, 1, 1)
            soft = torch.softmax(-d.clamp_min(0) / args.sigma, 1)
            if args.layer == "soft":
                return soft
            winner = torch.zeros_like(soft).scatter_(1, d.argmin(1, keepdim=True), 1.0)
            return soft + (winner - soft).detach()

    net = nn.Sequential(
        KernelPrototypeConv(1, 32), nn.MaxPool2d(2), KernelPrototypeConv(32, 64), nn.MaxPool2d(2), nn.Flatten(),
        glorot(nn.Linear(64 * 7 * 7, 64)), glorot(nn.Linear(64, 10)),
    )
    optimizer = torch.optim.Adam(net.parameters(), lr=args.lr)
    generator = torch.Generator().manual_seed(args.seed)
    start = time.perf_counter()
    for _ in range(args.epochs):
        order = torch.randperm(len(x), generator=generator)
        for i in range(0, len(x), args.batch_size):
            index = order[i : i + args.batch_size]
            loss = nn.functional.cross_entropy(net(x[index]), y[index])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    seconds = time.perf_counter() - start
    tx, ty = images_torch(args.data, "t10k")
    with torch.no_grad():
        predicted = torch.cat([net(tx[i : i + 1000].view(-1, 1, 28, 28)).argmax(1) for i in range(0, len(tx), 1000)])
    emit({"side": "pytorch", "version": torch.__version__, "layer": args.layer, "seed": args.seed,
          "seconds_per_epoch": seconds / args.epochs, "test_accuracy": (predicted == ty).double().mean().item()})


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("kmeans", "lloyd", "som", "desom", "kernel"):
        p = sub.add_parser(name)
        p.add_argument("--data", required=True, help="folder with the four IDX files (som, lloyd: or a .npy file)")
        p.add_argument("--threads", type=int, default=2)
        p.add_argument("--seed", type=int, default=0)
        p.add_argument("--samples", type=int, default=None, help="first n training images (default all)")
    k = sub.choices["kmeans"]
    k.add_argument("--k", type=int, default=64)
    k.add_argument("--n-init", type=int, default=1)
    k.add_argument("--max-iter", type=int, default=300)
    k.add_argument("--tol", type=float, default=1e-4)
    for name in ("lloyd", "som"):
        sub.choices[name].add_argument("--init", required=True, help="starting [K, d] centroids / prototypes (.npy)")
        sub.choices[name].add_argument("--save", required=True, help="write the trained [K, d] ones here (.npy)")
    ll = sub.choices["lloyd"]
    ll.add_argument("--tool", choices=("faiss", "sklearn"), required=True)
    ll.add_argument("--iterations", type=int, default=50)
    for name in ("som", "desom"):
        sub.choices[name].add_argument("--rows", type=int, default=8)
        sub.choices[name].add_argument("--cols", type=int, default=8)
    m = sub.choices["som"]
    m.add_argument("--tool", choices=("minisom", "somoclu", "xpysom", "torchsom"), required=True)
    m.add_argument("--epochs", type=int, default=10, help="passes over the data (batch tools, torchsom)")
    m.add_argument("--presentations", type=int, default=60000, help="minisom: sample presentations")
    m.add_argument("--t-start", type=float, default=8.0)
    m.add_argument("--t-end", type=float, default=0.5)
    m.add_argument("--batch-size", type=int, default=256, help="torchsom: samples per update")
    d = sub.choices["desom"]
    d.add_argument("--iterations", type=int, default=500, help="timed iterations")
    d.add_argument("--warmup", type=int, default=20)
    d.add_argument("--batch-size", type=int, default=256)
    d.add_argument("--lr", type=float, default=1e-3)
    d.add_argument("--gamma", type=float, default=1e-3)
    d.add_argument("--fused", action="store_true", help="Adam(fused=True) instead of the default (foreach)")
    d.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    d.add_argument("--autocast-bf16", action="store_true", help="encoder and decoder in torch.autocast(dtype=bfloat16)")
    d.add_argument("--tf32", action="store_true", help="float32 matmul precision 'high' (TF32 tensor cores on CUDA)")
    kp = sub.choices["kernel"]
    kp.add_argument("--layer", choices=("soft", "hard"), required=True)
    kp.add_argument("--epochs", type=int, default=1)
    kp.add_argument("--batch-size", type=int, default=128)
    kp.add_argument("--lr", type=float, default=1e-3)
    kp.add_argument("--sigma", type=float, default=1.0, help="softmax width over the kernel-prototypes")
    args = parser.parse_args()
    # OpenMP tools (somoclu, FAISS) and BLAS read these when they load: before any tool's import.
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = str(args.threads)
    {"kmeans": kmeans, "lloyd": lloyd, "som": som, "desom": desom, "kernel": kernel}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
