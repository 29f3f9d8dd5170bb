#!/bin/sh
# Regenerate the README's screenshots from the example tenant (examples/tenant):
#   docs/images/report.png       the HTML report's first screen (headless Chromium)
#   docs/images/investigate.svg  detect, then the investigation its table points at, in a
#                                terminal (tmux capture-pane, rendered by term2svg.py)
# Needs chromium, tmux and python3 (apt-get install chromium tmux python3).
set -eu
cd "$(dirname "$0")/../.."
cargo build --quiet -p tokentrail
bin_dir="$(cd "${CARGO_TARGET_DIR:-target}/debug" && pwd)"
work="$(mktemp -d)"
trap 'tmux -L tokentrail-shots kill-server 2>/dev/null || true; rm -rf "$work"' EXIT
# No installed ASN database: the screenshots show what a fresh install shows (a home that
# does not exist holds none).
unset XDG_DATA_HOME
export HOME=/home/analyst
tenant="examples/tenant/signins examples/tenant/graph examples/tenant/ual"

# The report's first screen, at a fixed run time so the page does not change from run to run.
"$bin_dir/tokentrail" report $tenant --now 2024-03-06T00:00:00Z -o "$work/report.html" 2>/dev/null
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run \
  --user-data-dir="$work/profile" --window-size=1280,900 \
  --screenshot="$work/report.png" "file://$work/report.html" >/dev/null 2>&1
cp "$work/report.png" docs/images/report.png

# A terminal 200 columns wide: detect's table, then the command its last line gives.
cat > "$work/session.sh" <<SCRIPT
export PATH="$bin_dir:\$PATH"
show() { printf '\033[32m\$\033[0m %s\n' "\$1"; sh -c "\$1"; }
show "tokentrail detect $tenant"
show "tokentrail investigate $tenant --finding b72c7366 2>/dev/null | head -n 24"
touch "$work/done"
sleep 60
SCRIPT
tmux -L tokentrail-shots -f /dev/null new-session -d -s shots -x 200 -y 52 "sh $work/session.sh"
while [ ! -e "$work/done" ]; do sleep 0.2; done
tmux -L tokentrail-shots capture-pane -p -e -t shots > "$work/capture.txt"
python3 docs/images/term2svg.py 200 < "$work/capture.txt" > docs/images/investigate.svg
ls -l docs/images/report.png docs/images/investigate.svg
