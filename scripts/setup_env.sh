#!/usr/bin/env bash
# Create .venv/ at the repository root and install the verified stack (see README "Set-up").
# Idempotent: when neither this script nor setup.cfg changed since the last successful run and the
# environment imports, it exits in seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null 2>&1 || PY=python3
VENV="$ROOT/.venv"
STAMP="$VENV/.setup-stamp"
want=$(cat scripts/setup_env.sh scripts/constraints.txt setup.cfg | sha256sum | cut -d' ' -f1)

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ] \
   && "$VENV/bin/python" -c "import torch, mmcv.ops, mmpose.models, mediapipe, optuna, sklearn, onnxruntime" \
      2>/dev/null \
   && "$VENV/bin/ruff" --version >/dev/null 2>&1; then
  echo "setup: .venv is up to date"
  exit 0
fi

[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
PIP="$VENV/bin/python -m pip install --quiet --constraint $ROOT/scripts/constraints.txt"
export MAX_JOBS=${MAX_JOBS:-2}

# 1. torch first, pinned to the local CPU build; numpy < 2 (xtcocotools, mediapipe); setuptools < 82
#    because mmcv's build imports pkg_resources.
$PIP "torch==2.13.0" "numpy<2" "setuptools>=77,<82" wheel
# 2. full mmcv, built against the installed torch (build isolation would pull a CUDA torch).
if ! "$VENV/bin/python" -c "import mmcv.ops" 2>/dev/null; then
  echo "setup: building mmcv 2.1.0 (about 9 minutes the first time on 2 cores; pip caches the wheel)"
  $PIP --no-build-isolation "mmcv==2.1.0"
fi
# 3. mmpose and mmdet without their declared dependencies (chumpy, torchvision must stay out).
$PIP --no-deps "mmpose==1.3.2" "mmdet==3.2.0"
# 4. everything else, keeping numpy < 2 in the same command; then the project itself (editable).
$PIP "numpy<2" "mmengine==0.10.7" "mediapipe==0.10.21" "opencv-python==4.11.0.86" \
  "opencv-contrib-python==4.11.0.86" json_tricks munkres scipy six xtcocotools pycocotools shapely \
  terminaltables tqdm matplotlib pyyaml scikit-learn optuna pytest "ruff==0.17.6" \
  onnx onnxruntime psycopg2-binary
$PIP --no-build-isolation --no-deps -e .

"$VENV/bin/python" -c "import torch, mmcv.ops, mmpose.models, mediapipe, optuna, sklearn, onnxruntime, psycopg2"
echo "$want" > "$STAMP"
echo "setup: done ($VENV)"
