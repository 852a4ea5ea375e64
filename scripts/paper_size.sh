#!/usr/bin/env bash
# The paper-size book and the GPU benchmark in one command, for a lent GPU machine (issue 24).
#
#   Here, once:   .venv/bin/python scripts/gpu_wheels.py      # .whl/: what executes notebooks
#   There:        OUT=<folder> bash scripts/paper_size.sh     # run tool: carry [".whl"], timeout_s 600
#   Back here:    cat <files_at>/chapters.tar.gz.* | tar xz   # the executed chapters, in place
#
# It installs the carried wheels if nbclient/ipykernel are missing, executes in the full profile
# every chapter whose committed page is not already a full-profile GPU run (JOBS at a time, each
# interrupted past DEADLINE s; a failing one's partial run goes to failed/), then spends what is
# left of BUDGET s on `bench/run.py --targets`, which rewrites its JSON after every configuration,
# so a cut-short benchmark keeps what it measured. Everything lands in $OUT as at most 8 files.
#
# Settings (environment): OUT (required), PY=python3, PROFILE=full, JOBS=3, DEADLINE=240,
# BUDGET=540 (seconds for the whole run), CHAPTERS (default: the ones not yet full on a GPU),
# CHAPTERS=none for the benchmark alone, STEPS=2000 (benchmark steps per fit), BENCH_DEVICE=cuda,
# BENCH_ARGS (more arguments for bench/run.py, e.g. "--configs 'siren 256'"), WHEELS=.whl.
# A CPU rehearsal: OUT=/tmp/o PY=.venv/bin/python PROFILE=quick BENCH_DEVICE=cpu STEPS=30 \
#   CHAPTERS=chapters/01_quickstart.ipynb bash scripts/paper_size.sh
set -uo pipefail
cd "$(dirname "$0")/.."
: "${OUT:?set OUT to the folder for the results}"
PY=${PY:-python3} PROFILE=${PROFILE:-full} JOBS=${JOBS:-3} DEADLINE=${DEADLINE:-240}
BUDGET=${BUDGET:-540} STEPS=${STEPS:-2000} BENCH_DEVICE=${BENCH_DEVICE:-cuda} WHEELS=${WHEELS:-.whl}
export PYTHONUNBUFFERED=1
mkdir -p "$OUT"
log() { echo "[paper-size $(( SECONDS ))s] $*" | tee -a "$OUT/run.log"; }

if ! "$PY" -c "import nbclient, ipykernel, ipywidgets" 2>/dev/null; then
  ls "$WHEELS"/*.whl >/dev/null 2>&1 || { log "no wheels in $WHEELS: run scripts/gpu_wheels.py here and carry it"; exit 1; }
  "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site "$WHEELS"/*.whl || { log "installing the carried wheels failed"; exit 1; }
  export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
  log "installed $(ls "$WHEELS"/*.whl | wc -l) carried wheels"
fi
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}   # inrlib from this checkout, in every kernel too
"$PY" -c "import torch, inrlib; print('torch', torch.__version__, '| device', inrlib.device())" 2>&1 | tee -a "$OUT/run.log"

if [ -z "${CHAPTERS:-}" ]; then
  CHAPTERS=$("$PY" - <<'EOF'
import json, pathlib
for p in sorted(pathlib.Path("chapters").glob("*.ipynb")):
    m = json.loads(p.read_text())["metadata"].get("inrbook", {})
    if m.get("profile") != "full" or m.get("device", "cpu") == "cpu":
        print(p)
EOF
)
fi
[ "$CHAPTERS" = none ] && CHAPTERS=
log "chapters: $(echo $CHAPTERS | wc -w) in the $PROFILE profile, $JOBS at a time, deadline ${DEADLINE}s each"
if [ -n "$CHAPTERS" ]; then
  rm -rf /tmp/failed; touch /tmp/paper-size-start   # execute_chapters.py rewrites only passing chapters
  "$PY" scripts/execute_chapters.py --profile "$PROFILE" --jobs "$JOBS" --deadline "$DEADLINE" \
    --failed-dir /tmp/failed $CHAPTERS 2>&1 | tee -a "$OUT/chapters.log"
  written=$(find chapters -name '*.ipynb' -newer /tmp/paper-size-start | sort)
  if [ -n "$(echo $written)" ]; then
    tar czf /tmp/chapters.tar.gz $written && split -b 15M -d /tmp/chapters.tar.gz "$OUT/chapters.tar.gz."
  fi
  [ -d /tmp/failed ] && tar czf "$OUT/failed.tar.gz" -C /tmp failed
  log "chapters done; written: $(echo $written | wc -w)"
fi

left=$(( BUDGET - SECONDS - 15 ))
if [ "$left" -lt 60 ]; then
  log "benchmark skipped: ${left}s left of the ${BUDGET}s budget"
else
  log "benchmark: bench/run.py --targets --device $BENCH_DEVICE --steps $STEPS, at most ${left}s"
  before=$(date +%s)
  timeout "$left" "$PY" bench/run.py --targets --device "$BENCH_DEVICE" --steps "$STEPS" \
    ${BENCH_ARGS:+$BENCH_ARGS} 2>&1 | tee "$OUT/bench.log"
  for f in bench/results/*.json; do
    [ "$(stat -c %Y "$f")" -ge "$before" ] && cp "$f" "$OUT/"
  done
fi
log "done"
