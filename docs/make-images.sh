#!/usr/bin/env bash
# Regenerates the README's pictures with flamediff itself, from the shipped sample profiles.
# Run from the repository root after `make venv`: bash docs/make-images.sh
#
# - docs/images/diff-flamegraph.png: headless Chromium's screenshot of `diff v1 v2 --svg`,
#   with the pointer on apply_discounts so the details line shows.
# - docs/images/delta.png: `diff v1 v2 --png`.
# - docs/images/history.png: `history --png` over v1, v2 and a v3 captured here: v2's code
#   with v1's discount lookup put back (the regression fixed, the faster invoice kept).
#
# Needs py-spy allowed to trace (for v3) and chromium (apt-get install -y chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
flamediff=.venv/bin/flamediff
chromium=$(command -v chromium || command -v chromium-browser)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
archive="$work/archive"

$flamediff import v1 sample_profiles/v1/run-*.folded --rate 500 --archive "$archive"
$flamediff import v2 sample_profiles/v2/run-*.folded --rate 500 --archive "$archive"
cp -r sample_profiles/load/v2 "$work/v3"
cp sample_profiles/load/v1/shop/pricing.py "$work/v3/shop/pricing.py"
$flamediff capture v3 --runs 8 --rate 500 --archive "$archive" \
  -- .venv/bin/python "$work/v3/load.py"

mkdir -p docs/images
$flamediff diff v1 v2 --top 12 --svg "$work/diff.svg" --png docs/images/delta.png \
  --archive "$archive" > /dev/null
$flamediff history apply_discounts render_invoice --png docs/images/history.png \
  --archive "$archive"

# The SVG inline in a page zoomed 2x, so the text stays sharp on high-density screens; a
# mouseover on apply_discounts fills the graph's details line as a reader's pointer would.
height=$(grep -o -m1 '<svg [^>]*>' "$work/diff.svg" | sed 's/.* height="\([0-9]*\)".*/\1/')
{
  echo '<!doctype html><html><head><meta charset="utf-8"></head><body style="margin:0;zoom:2">'
  sed 1d "$work/diff.svg"
  cat <<'HTML'
<script>
  for (const title of document.querySelectorAll("g.frames > g > title")) {
    if (title.textContent.startsWith("apply_discounts ")) {
      title.nextElementSibling.dispatchEvent(new MouseEvent("mouseover", {bubbles: true}));
    }
  }
</script></body></html>
HTML
} > "$work/diff.html"
"$chromium" --headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run \
  --user-data-dir="$work/chromium" --window-size="2400,$((2 * height))" \
  --screenshot="$work/diff.png" "file://$work/diff.html" 2>/dev/null
mv "$work/diff.png" docs/images/diff-flamegraph.png
echo "wrote docs/images/diff-flamegraph.png, docs/images/delta.png, docs/images/history.png"
