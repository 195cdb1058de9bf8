"""Whether the CPU kernels of a sequence autoencoder depend on the CPU they run on, and what
switching oneDNN off costs (docs/results/quick-sequences-avx2/onednn.md).

The LSTM (32 units over 150 steps of 3 features, batch 32) and three dilated 1-D convolutions
(1 -> 16 -> 32 -> 32 channels, kernel 3, dilations 1, 2, 4, 150 steps) of paper 004's
autoencoders, forward and backward from fixed weights and inputs: a SHA-1 of the outputs and
gradients with oneDNN on and off, and the milliseconds per forward + backward (median of 5
rounds of 20, after 5 warm-up runs). Run it under `ONEDNN_MAX_CPU_ISA=AVX2` (or another ISA)
to imitate another CPU: a hash that changes with the ISA is a result that changes with the CPU.
Prints one JSON line per (oneDNN, network)."""

import hashlib
import json
import os
import statistics
import sys
import time

import torch


def main():
    torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(3, 32, batch_first=True)
    conv = torch.nn.Sequential(
        torch.nn.Conv1d(1, 16, 3, dilation=1, padding=2),
        torch.nn.Conv1d(16, 32, 3, dilation=2, padding=4),
        torch.nn.Conv1d(32, 32, 3, dilation=4, padding=8),
    )
    inputs = {"lstm": torch.randn(32, 150, 3), "conv1d": torch.randn(32, 1, 150)}
    nets = {"lstm": lambda x: lstm(x)[0], "conv1d": conv}
    for enabled in (True, False):
        torch.backends.mkldnn.enabled = enabled
        for name, net in nets.items():
            def step():
                for p in (lstm if name == "lstm" else conv).parameters():
                    p.grad = None
                out = net(inputs[name])
                out.square().sum().backward()
                return out

            out = step()
            digest = hashlib.sha1(out.detach().numpy().tobytes())
            for p in (lstm if name == "lstm" else conv).parameters():
                digest.update(p.grad.numpy().tobytes())
            for _ in range(5):
                step()
            rounds = []
            for _ in range(5):
                start = time.perf_counter()
                for _ in range(20):
                    step()
                rounds.append((time.perf_counter() - start) / 20 * 1e3)
            print(json.dumps({
                "network": name, "onednn": enabled, "onednn_max_cpu_isa": os.environ.get("ONEDNN_MAX_CPU_ISA", "(default)"),
                "sha1": digest.hexdigest(), "ms_per_step": round(statistics.median(rounds), 3),
                "threads": torch.get_num_threads(), "torch": torch.__version__,
            }))


if __name__ == "__main__":
    main()
