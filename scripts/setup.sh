#!/usr/bin/env bash
# Make .venv (when missing or out of date) with inrlib and everything the book and tests need.
# An existing torch in the venv is kept (e.g. a CUDA build); otherwise the CPU build 2.13.0 is
# installed, because an unpinned `pip install torch` pulls a multi-GB CUDA build.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${INR_VENV:-.venv}
if [ ! -x "$VENV/bin/python" ]; then
  echo "setup: creating $VENV"
  python3 -m venv "$VENV"
fi
PY="$VENV/bin/python"
stamp="$VENV/.installed-$(cat requirements.txt pyproject.toml | sha1sum | cut -c1-12)"
if [ ! -f "$stamp" ]; then
  quiet() { grep -v "is ignored: it is neither a file nor a directory" || true; }
  if ! "$PY" -c "import torch" 2>/dev/null; then
    echo "setup: installing torch==2.13.0 (CPU)"
    "$PY" -m pip install -q "torch==2.13.0" 2>&1 | quiet
  fi
  echo "setup: installing requirements.txt and inrlib (editable)"
  "$PY" -m pip install -q -r requirements.txt -e . 2>&1 | quiet
  "$PY" -c "import inrlib, jupyter_book, nbval, playwright" # fail here, not later, if pip failed
  touch "$stamp"
fi
# The browser test drives Debian's Chromium (never a browser download).
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing chromium (apt-get) for the browser test"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null
  else
    echo "setup: chromium not found; install it (apt-get install chromium) or the browser test is skipped"
  fi
fi
