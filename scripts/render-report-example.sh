#!/usr/bin/env bash
# Regenerate docs/report-example.png: page 1 of the demo ISO/IEC 17025 test report at 80 dpi.
# Needs poppler-utils (pdftoppm); Korean/Japanese names show only if CJK fonts are installed
# (Debian: fonts-nanum fonts-ipafont-mincho), because the PDF's CID fonts are not embedded.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v pdftoppm >/dev/null || { echo "pdftoppm missing: apt-get install -y poppler-utils" >&2; exit 1; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
PYTHONPATH=src .venv/bin/python - "$tmp/report.pdf" <<'PY'
import sys
from customslab.adapters.report_pdf import render_report_pdf
from customslab.domain.quality.report_example import example_report
with open(sys.argv[1], "wb") as out:
    out.write(render_report_pdf(example_report()))
PY
pdftoppm -png -r 80 -singlefile -f 1 -l 1 "$tmp/report.pdf" docs/report-example
echo "wrote docs/report-example.png"
