#!/usr/bin/env bash
# Install Topaz (PyPI topaz-em 0.3.20) into its own CPU-only virtual environment, for
# benchmarking pickflow side by side with it. Topaz is only installed and called, never
# vendored into this repository.
#
# Usage: benchmarks/topaz_setup.sh [VENV_DIR]     (default: $HOME/.cache/pickflow/topaz-venv)
#
# Idempotent: a second run that finds a working install exits within seconds.
# Set PYTHON to choose the interpreter (default python3, must be 3.11 for the torch wheel).
set -euo pipefail

VENV_DIR="${1:-$HOME/.cache/pickflow/topaz-venv}"
PYTHON="${PYTHON:-python3}"
MARKER="$VENV_DIR/.pickflow-topaz-ok"
STAMP="torch==2.13.0 torchvision==0.28.0 topaz-em==0.3.20 mrcfile"

# `topaz --help` imports torch and torchvision, so it also proves the patch below is in place.
works() {
    [[ -x "$VENV_DIR/bin/topaz" ]] \
        && "$VENV_DIR/bin/python" -c "import mrcfile" >/dev/null 2>&1 \
        && "$VENV_DIR/bin/topaz" --help >/dev/null 2>&1
}

if [[ -f "$MARKER" && "$(cat "$MARKER")" == "$STAMP" ]] && works; then
    echo "topaz_setup: working install found in $VENV_DIR"
    exit 0
fi

start=$(date +%s)
[[ -x "$VENV_DIR/bin/python" ]] || "$PYTHON" -m venv "$VENV_DIR"
# pip install, minus the harmless "Location 'file:///...' is ignored" warnings that this
# machine's extra local indexes produce for every package they do not carry.
pipi() {
    local rc=0
    "$VENV_DIR/bin/python" -m pip install --quiet --disable-pip-version-check "$@" 2>&1 \
        | { grep -v "is ignored: it is neither a file nor a directory" || true; } || rc=$?
    return "$rc"
}

# 1. torch: exactly this spec. It resolves to the CPU wheel on local disk; a looser spec
#    (or letting torchvision/topaz pull torch in) downloads several GB of CUDA packages.
pipi "torch==2.13.0"
# 2. torchvision: the release that pins torch 2.13.0. --no-deps so it cannot swap torch.
pipi --no-deps "torchvision==0.28.0"
# 3. topaz itself, --no-deps for the same reason.
pipi --no-deps "topaz-em==0.3.20"
# 4. Topaz's own requirements, by hand; mrcfile is only for our benchmark's PNG->MRC step.
pipi tqdm h5py numpy pandas scikit-learn scipy pillow future psutil mrcfile

# 5. Patch torchvision. PyPI's torchvision wheels are CUDA builds whose C++ ops do not load
#    next to the CPU torch, so `import torchvision` fails with "operator torchvision::nms
#    does not exist": the two register_fake decorators for nms/qnms in
#    _meta_registrations.py are not guarded by torchvision.extension._has_ops() as the
#    other registrations in that file are. We add that same guard to those two lines
#    (the decorator becomes a no-op when the ops are missing). Topaz only uses
#    torchvision's pure-torch rotate/hflip/vflip, so nothing it needs is lost.
#    Idempotent: lines already guarded no longer match.
"$VENV_DIR/bin/python" - <<'EOF'
import pathlib, re, sysconfig
path = pathlib.Path(sysconfig.get_paths()["purelib"]) / "torchvision" / "_meta_registrations.py"
text = path.read_text()
pattern = re.compile(r'^@torch\.library\.register_fake\("torchvision::(q?nms)"\)$', re.M)
new, n = pattern.subn(
    r'@(torch.library.register_fake("torchvision::\1") if torchvision.extension._has_ops() else (lambda fn: fn))',
    text,
)
if n:
    path.write_text(new)
print(f"topaz_setup: guarded {n} decorator(s) in {path}")
EOF

if ! "$VENV_DIR/bin/topaz" --help >/dev/null; then
    echo "topaz_setup: '$VENV_DIR/bin/topaz --help' failed" >&2
    exit 1
fi
works
echo "$STAMP" >"$MARKER"
echo "topaz_setup: Topaz ready in $VENV_DIR ($(( $(date +%s) - start )) s)"
