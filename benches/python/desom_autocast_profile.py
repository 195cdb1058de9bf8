"""Where a step of paper 002's DESOM goes in PyTorch's bfloat16 autocast on CPU (issue 28: the
target of being 1.1x faster than it), written to docs/results/speed/desom_autocast_profile.md.

The model of `docs/results/speed/speed_baselines.py`'s DESOM (784-500-500-2000-10 dense
autoencoder, Glorot weights, an 8x8 map, Adam(fused=True), batches of 256 random rows of
uniform random data in place of MNIST: the time does not depend on the values) inside
`torch.autocast("cpu", dtype=torch.bfloat16)`; the SOM term is the distance to the nearest
prototype (the kernel weighting adds one small [256, 64] product). Prints the median step over 5
rounds of 50 after 20 warm-up steps, then torch.profiler's operators of 30 steps by self CPU
time, then the cost of casting the autoencoder's 3.33 million parameters once per step: into
fresh bfloat16 tensors (what autocast does) and into kept bfloat16 buffers."""

import statistics
import sys
import time

import torch
from torch import nn
from torch.profiler import ProfilerActivity, profile


def main():
    torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
    torch.manual_seed(0)
    x = torch.rand(60000, 784)
    widths = [784, 500, 500, 2000, 10]

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

    encoder, decoder = mlp(widths), mlp(widths[::-1])
    prototypes = nn.Parameter(encoder(x[:64]).detach().clone())
    params = list(encoder.parameters()) + list(decoder.parameters())
    optimizer = torch.optim.Adam(params + [prototypes], lr=1e-3, fused=True)

    def step():
        batch = x[torch.randint(len(x), (256,))]
        with torch.autocast("cpu", dtype=torch.bfloat16):
            z = encoder(batch)
            out = decoder(z)
        z, out = z.float(), out.float()
        reconstruction = nn.functional.mse_loss(out, batch)
        dist = (z.square().sum(1, keepdim=True) - 2 * z @ prototypes.T + prototypes.square().sum(1)).clamp_min(0)
        loss = reconstruction + 1e-3 * dist.min(1).values.mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    def median_ms(f, warmup, rounds, per_round):
        for _ in range(warmup):
            f()
        times = []
        for _ in range(rounds):
            start = time.perf_counter()
            for _ in range(per_round):
                f()
            times.append((time.perf_counter() - start) / per_round * 1e3)
        return statistics.median(times)

    print(f"# DESOM step in bfloat16 autocast, torch {torch.__version__}, {torch.get_num_threads()} threads\n")
    print(f"median step: {median_ms(step, 20, 5, 50):.2f} ms\n")
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(30):
            step()
    print("30 steps, operators by self CPU time:\n")
    print("```text")
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=15))
    print("```\n")
    weights = [p.detach() for p in params]
    kept = [w.to(torch.bfloat16) for w in weights]
    fresh = median_ms(lambda: [w.to(torch.bfloat16) for w in weights], 20, 5, 40)
    into = median_ms(lambda: [k.copy_(w) for k, w in zip(kept, weights)], 20, 5, 40)
    count = sum(w.numel() for w in weights)
    print(f"casting the {count:,} autoencoder parameters to bfloat16 once: {fresh:.2f} ms into fresh tensors, "
          f"{into:.2f} ms into kept buffers (median of 5 rounds of 40)")


if __name__ == "__main__":
    main()
