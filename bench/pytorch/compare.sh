#!/usr/bin/env bash
# LoRA training tokens/s of the kit against PyTorch eager on the same shape and thread count, measured side by side:
# the two alternate (kit, PyTorch, kit, PyTorch, ...) so that a change in machine load hits both, and the ratio of
# their medians is printed with each run's MFU against a matmul peak taken in the same process.
#
#   bash bench/pytorch/compare.sh [--repeats N] [--steps N] [--seq-len N] [--batch-size N] [--lora-r N] [--threads N]
#
# PyTorch comes from Debian's python3-torch (installed here when missing: PyPI is not always reachable, Debian's
# mirror is); the kit's side is `ftk bench train --preset smollm2-135m`, built in Release first.
set -euo pipefail
cd "$(dirname "$0")/../.."

repeats=3 steps=4 seq=512 batch=1 rank=16 threads=2
while [ $# -gt 0 ]; do
  case "$1" in
    --repeats) repeats="$2"; shift 2 ;;
    --steps) steps="$2"; shift 2 ;;
    --seq-len) seq="$2"; shift 2 ;;
    --batch-size) batch="$2"; shift 2 ;;
    --lora-r) rank="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    *) echo "compare.sh: unknown option $1 (expected --repeats, --steps, --seq-len, --batch-size, --lora-r, --threads)" >&2; exit 2 ;;
  esac
done
for pair in "repeats $repeats" "steps $steps" "seq-len $seq" "batch-size $batch" "lora-r $rank" "threads $threads"; do
  set -- $pair
  [[ "$2" =~ ^[1-9][0-9]*$ ]] || { echo "compare.sh: --$1 must be a positive integer, got '$2'" >&2; exit 2; }
done

python=/usr/bin/python3
# Debian's PyTorch calls the system BLAS: without OpenBLAS that is the reference BLAS, some 15 times slower
if ! "$python" -c "import torch" 2>/dev/null || ! dpkg -s libopenblas0-pthread >/dev/null 2>&1; then
  echo "installing Debian's python3-torch and OpenBLAS ..." >&2
  sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq python3-torch libopenblas0-pthread >/dev/null
fi
blas=$(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 || true)
case "$blas" in
  *openblas*) ;;
  *) echo "compare.sh: the system BLAS is $blas, not OpenBLAS; PyTorch would be measured on the reference BLAS" >&2; exit 1 ;;
esac

dotnet build lib/FineTune.Kit.Cli -c Release -v q -nologo >/dev/null
ftk=(dotnet lib/FineTune.Kit.Cli/bin/Release/net10.0/ftk.dll)
export OMP_NUM_THREADS="$threads"

kit_runs=() torch_runs=()
for i in $(seq 1 "$repeats"); do
  echo "run $i of $repeats: kit ..." >&2
  kit_runs+=("$("${ftk[@]}" bench train --preset smollm2-135m --seq-len "$seq" --batch-size "$batch" --steps "$steps" \
                --lora-r "$rank" --targets all-linear --json | tail -n 1)")
  echo "run $i of $repeats: pytorch ..." >&2
  torch_runs+=("$("$python" bench/pytorch/lora_train.py --preset smollm2-135m --seq-len "$seq" --batch-size "$batch" \
                  --steps "$steps" --lora-r "$rank" --lora-alpha 16 --threads "$threads" | tail -n 1)")
done

"$python" - "$repeats" "${kit_runs[@]}" "${torch_runs[@]}" <<'PY'
import json, statistics, sys
n = int(sys.argv[1])
kit = [json.loads(s) for s in sys.argv[2:2 + n]]
torch = [json.loads(s) for s in sys.argv[2 + n:2 + 2 * n]]
def line(name, runs):
    tps = [r["tokens_per_second"] for r in runs]
    mfu = [r["mfu"] for r in runs]
    peak = statistics.median(r["matmul_peak_gflops"] for r in runs)
    return (f"{name:28} tokens/s {' '.join(f'{t:7.1f}' for t in tps)}  median {statistics.median(tps):7.1f}  "
            f"MFU median {statistics.median(mfu):.1%} of its own {peak:.0f} GFLOP/s matmul peak")
print(line("kit (TorchSharp, libtorch)", kit))
print(line(torch[0]["framework"], torch))
ratio = statistics.median(r["tokens_per_second"] for r in kit) / statistics.median(r["tokens_per_second"] for r in torch)
print(f"kit / pytorch: {ratio:.2f}x the tokens/s ({kit[0]['threads']} threads each, same shape: {kit[0]['parameters']:,} parameters, "
      f"{kit[0]['trainable_params']:,} trainable in the kit, {torch[0]['trainable_params']:,} in pytorch)")
PY
