#!/usr/bin/env bash
# Install sktransfer as a user does and run the README's Python examples with it:
# build the wheel, install it (not editable) with only the cpu and lite0 extras
# into a fresh virtual environment, and run scripts/readme_examples.py there, from
# a folder outside the checkout so that the installed package is the one imported.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
# The set-up's interpreter has pip; the new environment gets none of its packages.
default_python=python3
[ -x .venv/bin/python ] && default_python=$PWD/.venv/bin/python
python=${PYTHON:-$default_python}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$python" -m pip wheel -q --no-deps -w "$work/dist" .
wheel=$(ls "$work"/dist/sktransfer-*.whl)
"$python" -m venv "$work/venv"
"$work/venv/bin/python" -m pip install -q --upgrade pip
"$work/venv/bin/python" -m pip install -q "${wheel}[cpu,lite0]"
cd "$work"
"$work/venv/bin/python" "$root/scripts/readme_examples.py"
