#!/usr/bin/env bash
# Regenerate exp_show.json: a real `dvc exp show --json` of a temp repo whose stage writes PAW summaries.
# Three finished experiments over transfer.threshold, one queued. Given a file, also writes there the same
# experiments as `dvc.api.exp_show` returns them. Run from the repo root:
#   bash tests/reporting/data/capture_exp_show.sh tests/reporting/data/exp_show_api.json \
#     > tests/reporting/data/exp_show.json
set -euo pipefail
root=$(pwd)
api_out=${1:+$(realpath "$1")}
export PATH="$root/.venv/bin:$PATH" DVC_NO_ANALYTICS=1 PYTHONPATH="$root"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
git init -q && git config user.email paw@example.com && git config user.name paw && dvc init -q
printf 'transfer:\n  threshold: 1.0e-4\n  method: aligned\n' > params.yaml
cat > make_summary.py <<'PY'
from pathlib import Path
from ruamel.yaml import YAML
from paw.reporting.build import write_report
from paw.reporting.summary import ReportSettings
from tests.reporting.conftest import TRANSFER_DIAGNOSTICS, first, write_reports
import json
threshold = YAML(typ="safe").load(open("params.yaml"))["transfer"]["threshold"]
# A higher threshold keeps fewer modules: less coverage, less of the gain.
reports = write_reports(Path("reports"), {"transferred": first(60 + int(40 * min(1, 1e-4 / threshold)))})
share = round(int(28 * min(1, 1e-4 / threshold) ** 0.25) / 28, 4)
diag = dict(TRANSFER_DIAGNOSTICS, threshold=threshold, totals=dict(TRANSFER_DIAGNOSTICS["totals"], coverage=share))
(reports / "transfer" / "diagnostics.json").write_text(json.dumps(diag))
write_report(reports, reports, ReportSettings(bootstrap_samples=500), {"env": "quick", "seed": 0})
PY
cat > dvc.yaml <<'YAML'
stages:
  report:
    cmd: python make_summary.py
    deps: [make_summary.py]
    params: [transfer.threshold]
    metrics:
      - reports/summary.json:
          cache: false
YAML
echo "/reports/eval" > .gitignore; echo "/reports/train" >> .gitignore; echo "/reports/transfer" >> .gitignore
dvc repro -q && git add -A && git commit -qm baseline
dvc exp run -q -S transfer.threshold=1.0e-3 -n thr-1e-3 >/dev/null
dvc exp run -q -S transfer.threshold=1.0e-2 -n thr-1e-2 >/dev/null
dvc exp run -q -S transfer.threshold=1.0e-1 -n thr-1e-1 >/dev/null
dvc exp run --queue -q -S transfer.threshold=0.5 -n thr-queued >/dev/null
dvc exp show --json
if [ -n "$api_out" ]; then
  python -c 'import json, dvc.api; print(json.dumps(dvc.api.exp_show(), indent=2))' > "$api_out"
fi
