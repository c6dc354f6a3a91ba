#!/usr/bin/env bash
# Builds, here (needs the .NET SDK), what a GPU machine without .NET runs: a self-contained linux-x64 publish of the test
# runner (tests/ConvEngine.TestRunner) and of the benchmark runner without TorchSharp, in one folder with
# run-gpu-checks.sh and torch_convs.py, packed as convengine-gpu.tar.xz (must stay under 64 MiB).
#   benchmarks/gpu/prepare.sh [OUTDIR]        (default benchmarks/gpu/out)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
out="$(mkdir -p "${1:-$root/benchmarks/gpu/out}" && cd "${1:-$root/benchmarks/gpu/out}" && pwd)"
stage="$out/convengine-gpu"
rm -rf "$stage" "$out/convengine-gpu.tar.xz"
mkdir -p "$stage/bin"
# The tests reference the CLI (an exe too), whose apphost and deps files would otherwise stop the publish as duplicates.
publish=(-c Release -r linux-x64 --self-contained -nologo -v q -p:DebugType=none -p:SatelliteResourceLanguages=en
         -p:ErrorOnDuplicatePublishOutputFiles=false -o "$stage/bin")
# Both apps in one folder share one copy of the runtime and of every package they have in common.
dotnet publish "$root/tests/ConvEngine.TestRunner" "${publish[@]}"
dotnet publish "$root/benchmarks/ConvEngine.Benchmarks" "${publish[@]}" -p:ConvEngineTorch=false
cp "$root/benchmarks/gpu/run-gpu-checks.sh" "$root/benchmarks/gpu/torch_convs.py" "$stage/"
git -C "$root" rev-parse HEAD > "$stage/COMMIT" 2>/dev/null || true
tar -C "$out" -cf - convengine-gpu | xz -9 -T0 > "$out/convengine-gpu.tar.xz"
size=$(stat -c %s "$out/convengine-gpu.tar.xz")
echo "prepare: $out/convengine-gpu.tar.xz is $((size / 1048576)) MiB ($(du -sm "$stage" | cut -f1) MiB unpacked)"
if (( size >= 64 * 1048576 )); then echo "prepare: over the 64 MiB limit" >&2; exit 1; fi
