#!/usr/bin/env bash
# Runs `dotnet ARGS...` under Debian 13's C and C++ runtime (glibc 2.41, libstdc++ 14), unpacked into a private
# cache folder. Why: TorchSharp-cpu 0.107's libLibTorchSharp.so is built with GCC 13+ and needs GLIBCXX_3.4.32;
# Debian 12 ships GCC 12's libstdc++ (GLIBCXX_3.4.30), so loading TorchSharp there fails with
#   libstdc++.so.6: version `GLIBCXX_3.4.32' not found (required by .../libLibTorchSharp.so)
# and Debian 13's libstdc++ in turn needs glibc 2.38 (__isoc23_strtoul), hence the whole runtime.
# Nothing on the system changes: apt only downloads (with its own lists in the cache), dpkg -x unpacks, and the
# dotnet muxer is copied with its ELF interpreter pointed at the private loader. Run a built DLL, not `dotnet run`
# or `dotnet build` (their child tools would start under the system loader with the private libraries), and give
# BenchmarkDotNet --inProcess for the same reason.
#
#   benchmarks/ConvEngine.Benchmarks/Training/debian13-runtime.sh \
#       benchmarks/ConvEngine.Benchmarks/bin/Release/net10.0/ConvEngine.Benchmarks.dll --check-training
set -euo pipefail

cache="${CONVENGINE_DEBIAN13_RUNTIME:-${XDG_CACHE_HOME:-$HOME/.cache}/convengine-debian13-runtime}"
# The interpreter path is patched into the muxer in place, so it must be short (the original is 27 bytes).
loader_link="/tmp/convengine-ld-$(id -u).so"
lib="$cache/root/usr/lib/x86_64-linux-gnu"

if [[ ! -x "$lib/ld-linux-x86-64.so.2" || ! -e "$lib/libstdc++.so.6.0.33" ]]; then
    echo "debian13-runtime: fetching libc6, libgcc-s1, libstdc++6 from Debian 13 into $cache" >&2
    mkdir -p "$cache/apt/lists/partial" "$cache/apt/archives/partial" "$cache/debs" "$cache/root"
    echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main" \
        > "$cache/apt/sources.list"
    apt_options=(-o "Dir::Etc::SourceList=$cache/apt/sources.list" -o "Dir::Etc::SourceParts=/nonexistent"
                 -o "Dir::State::Lists=$cache/apt/lists" -o "Dir::Cache=$cache/apt" -o "APT::Sandbox::User=root")
    apt-get "${apt_options[@]}" -qq update
    (cd "$cache/debs" && apt-get "${apt_options[@]}" -qq download libc6 libgcc-s1 libstdc++6)
    for deb in "$cache"/debs/*.deb; do dpkg -x "$deb" "$cache/root"; done
fi

dotnet_root="$(dirname "$(readlink -f "$(command -v dotnet)")")"
muxer="$cache/dotnet/dotnet"
if [[ ! -x "$muxer" || "$dotnet_root/dotnet" -nt "$muxer" ]]; then
    mkdir -p "$cache/dotnet"
    for part in host shared; do ln -sfn "$dotnet_root/$part" "$cache/dotnet/$part"; done
    python3 - "$dotnet_root/dotnet" "$muxer" "$loader_link" <<'PY'
import sys
source, target, loader = sys.argv[1], sys.argv[2], sys.argv[3].encode()
data = bytearray(open(source, "rb").read())
old = b"/lib64/ld-linux-x86-64.so.2\0"
at = data.find(old)
if at < 0 or data.find(old, at + 1) >= 0 or len(loader) >= len(old):
    sys.exit(f"debian13-runtime: cannot patch the interpreter of {source}")
data[at:at + len(old)] = loader + b"\0" * (len(old) - len(loader))
open(target, "wb").write(data)
PY
    chmod +x "$muxer"
fi
ln -sfn "$lib/ld-linux-x86-64.so.2" "$loader_link"

exec env LD_LIBRARY_PATH="$lib" "$muxer" "$@"
