#!/usr/bin/env bash
# The GPU checks of issue 12 item 5, on a machine without .NET (PyTorch in its python3). Unpack convengine-gpu.tar.xz
# (benchmarks/gpu/prepare.sh) and run, with OUT set to where the results go:
#   OUT=/some/dir convengine-gpu/run-gpu-checks.sh [--backend cuda|opencl|ilgpu-cpu] [--small]
# 1. the op suite against the independent double-precision reference on the backend (and on cpu, as CI runs it);
# 2. the training tests with the model on the backend (gradient checks, cross-backend training, the ILGPU fixture);
# 3. the layer convs and training steps on cpu and the backend side by side (--compare-backends);
# 4. the same convs in PyTorch/cuDNN FP32 with TF32 off (torch_convs.py; skipped, saying why, without torch).
# --small (for ilgpu-cpu standing in for a GPU): small conv shapes, one training step, the fast training tests.
# Each step writes OUT/<step>.txt; the exit code is the number of steps that failed.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="$here/bin"
backend=cuda small=""
while (( $# )); do
    case "$1" in
        --backend) backend="$2"; shift 2 ;;
        --small) small=--small; shift ;;
        *) echo "run-gpu-checks: unknown option '$1' (use --backend NAME, --small)" >&2; exit 2 ;;
    esac
done
: "${OUT:?run-gpu-checks: set OUT to the folder for the results}"
mkdir -p "$OUT"
failed=0
step() {   # step NAME COMMAND...: runs it, output to OUT/NAME.txt, and says how it ended
    local name="$1"; shift
    echo "[run-gpu-checks] $name: $*"
    "$@" > "$OUT/$name.txt" 2>&1
    local rc=$?
    echo "[run-gpu-checks] $name: exit $rc; $(tail -n 1 "$OUT/$name.txt")"
    (( rc == 0 )) || failed=$((failed + 1))
}
{ date -u; uname -a; command -v nvidia-smi >/dev/null && nvidia-smi -L; cat "$here/COMMIT" 2>/dev/null; } > "$OUT/machine.txt" 2>&1

# The op tests run every backend named in CONVENGINE_TEST_BACKENDS against the double reference, plus cpu.
step op-suite env CONVENGINE_TEST_BACKENDS="$backend" "$bin/ConvEngine.TestRunner" --list-skips \
    --filter '^ConvEngine\.Tests\.OpTests\.' --filter '^ConvEngine\.Tests\.Graph\.BatchNormKernelTests'
if [[ -n "$small" ]]; then
    training=(--filter 'GradientCheckTests' --filter 'FusedBackwardGraphTests' --filter 'CrossBackendTrainingTests')
else
    training=(--filter '^ConvEngine\.Tests\.Training\.' --filter '^ConvEngine\.Tests\.Graph\.' --filter '^ConvEngine\.Tests\.Kernels\.IlgpuBackendTests')
fi
step training-tests env CONVENGINE_TRAINING_TEST_BACKEND="$backend" CONVENGINE_TEST_BACKENDS="$backend" \
    "$bin/ConvEngine.TestRunner" --list-skips "${training[@]}"
step layers-and-training-step "$bin/ConvEngine.Benchmarks" --compare-backends "cpu,$backend" $small
if python3 -c 'import torch' 2>/dev/null; then
    device=cuda; [[ "$backend" == cuda ]] || device=cpu
    step torch-convs python3 "$here/torch_convs.py" --device "$device" $small
else
    echo "PyTorch is not importable by python3 here: the cuDNN comparison was not run." > "$OUT/torch-convs.txt"
    echo "[run-gpu-checks] torch-convs: skipped (no torch in python3)"
fi
echo "[run-gpu-checks] done: $failed step(s) failed; results in $OUT"
exit "$failed"
