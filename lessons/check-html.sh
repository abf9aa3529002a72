#!/bin/sh
# The documented browser check for the HTML export (not part of the test suite):
# export every lesson, open each page in headless Chromium, fail on any console message
# (a Content-Security-Policy violation, a script, a blocked load), and keep a screenshot
# of each page to look at. Usage: lessons/check-html.sh [OUT_DIR]   (default /tmp/gradgraph-html)
set -eu
out="${1:-/tmp/gradgraph-html}"
browser="$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)"
[ -n "$browser" ] || { echo "no Chromium found (apt-get install chromium)" >&2; exit 2; }
sandbox=""
[ "$(id -u)" = 0 ] && sandbox="--no-sandbox"  # Chromium refuses to sandbox as root
gradgraph lesson export --all --html "$out" >/dev/null
status=0
for page in "$out"/*.html; do
  name="$(basename "$page" .html)"
  log="$("$browser" --headless=new $sandbox --disable-gpu --hide-scrollbars \
      --enable-logging=stderr --v=0 --window-size=1100,2400 \
      --screenshot="$out/$name.png" "file://$page" 2>&1 || true)"
  if printf '%s\n' "$log" | grep -q ':CONSOLE:'; then
    echo "FAIL $name:"; printf '%s\n' "$log" | grep ':CONSOLE:'; status=1
  elif [ ! -s "$out/$name.png" ]; then
    echo "FAIL $name: no screenshot"; status=1
  else
    echo "ok   $name  ($out/$name.png)"
  fi
done
exit $status
