#!/bin/sh
# Regenerate the pictures in docs/ (needs Chromium: Debian `apt-get install -y chromium`, and the fleet extra).
# Run from the repository root: sh docs/make-images.sh
set -eu
T=${TOPOLET:-.venv/bin/topolet}
CHROMIUM=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || command -v google-chrome)}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
shot() {  # shot PAGE PNG WIDTH HEIGHT
    "$CHROMIUM" --headless --no-sandbox --disable-gpu --no-first-run --hide-scrollbars \
        --user-data-dir="$tmp/profile" --host-resolver-rules="MAP * ~NOTFOUND" \
        --window-size="$3,$4" --screenshot="$2" "file://$(realpath "$1")" 2>/dev/null
}
$T report --html docs/report.html -f examples/tightly-coupled-database.yaml --config examples/kubelet-config.yaml
$T report --html docs/report-compare.html --compare -f examples/tightly-coupled-database.yaml \
    --config examples/kubelet-config.yaml
shot docs/report.html docs/report.png 1280 1180
shot docs/report-compare.html docs/report-compare.png 1280 2360
$T fleet example fleet > "$tmp/fleet.yaml"
$T fleet example workload > "$tmp/workload-mix.yaml"
$T fleet example kubelet > "$tmp/kubelet-pod-scope.yaml"
$T fleet run --fleet "$tmp/fleet.yaml" -f "$tmp/workload-mix.yaml" --seed 1 --nodes-needed --out "$tmp/out" \
    --no-progress --compare per-container --compare as-written --compare per-container+numa-aware \
    --compare as-written+numa-aware --compare as-written+policy=restricted --compare per-container+recreate=3 \
    > /dev/null
cp "$tmp/out/summary.png" docs/fleet-report.png
$T map -f examples/tightly-coupled-database.yaml --config examples/kubelet-config.yaml --width 120 > docs/map.txt
