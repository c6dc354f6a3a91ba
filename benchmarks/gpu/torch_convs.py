"""The convs of ConvEngine's layer benchmark (VGG16's 3x3 layers, SAME, bias + ReLU) in PyTorch, FP32 with TF32 off,
timed on one device: the peer for `--compare-backends` (run-gpu-checks.sh). Prints a markdown table.
    python3 torch_convs.py [--device cuda|cpu] [--small] [--repeats N]
"""
import argparse
import time

import torch

# (batch, size, in, out): ConvEngine.Benchmarks Vgg16ConvShapes.Benchmarked, and BackendComparison's small shapes.
FULL = [(1, 224, 3, 64), (1, 224, 64, 64), (1, 112, 64, 128), (1, 112, 128, 128), (1, 56, 128, 256), (1, 56, 256, 256),
        (1, 28, 256, 512), (1, 28, 512, 512), (1, 14, 512, 512), (8, 128, 64, 64), (8, 64, 128, 128), (8, 32, 256, 256),
        (8, 16, 512, 512)]
SMALL = [(1, 16, 3, 16), (1, 16, 16, 32), (2, 8, 32, 32), (1, 4, 64, 64)]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--small", action="store_true")
    parser.add_argument("--repeats", type=int, default=None)
    args = parser.parse_args()
    device = torch.device(args.device)
    # FP32 as ConvEngine computes it: no TF32 tensor-core rounding of the inputs.
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.benchmark = True
    repeats = args.repeats or (3 if args.small else 20)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    print(f"# PyTorch {torch.__version__} on {name}; cuDNN {torch.backends.cudnn.version()}; TF32 off; {repeats} repeats, median")
    print("| conv (N, HxW, Cin->Cout, 3x3 same + relu) | torch ms | torch GFLOP/s |")
    print("|---|---:|---:|")
    for n, size, cin, cout in SMALL if args.small else FULL:
        conv = torch.nn.Conv2d(cin, cout, 3, padding=1).to(device)
        x = torch.rand(n, cin, size, size, device=device)
        with torch.no_grad():
            for _ in range(2):
                torch.relu(conv(x))
            times = []
            for _ in range(repeats):
                if device.type == "cuda":
                    torch.cuda.synchronize()
                start = time.perf_counter()
                torch.relu(conv(x))
                if device.type == "cuda":
                    torch.cuda.synchronize()
                times.append((time.perf_counter() - start) * 1e3)
        ms = sorted(times)[len(times) // 2]
        flops = 2.0 * n * size * size * cout * 9 * cin
        print(f"| N{n} {size}x{size} {cin}->{cout} | {ms:.3f} | {flops / ms / 1e6:.1f} |")


if __name__ == "__main__":
    main()
