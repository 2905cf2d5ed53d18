#!/usr/bin/env bash
# test-report.sh RESULTS.trx... : what a test run left to look at, from its .trx files: each
# failed test with its message, and the skipped tests grouped by the reason they give.
# Used by ./test.sh; prints nothing when every test passed.
set -uo pipefail

files=()
for f in "$@"; do [ -f "$f" ] && files+=("$f"); done
[ "${#files[@]}" -gt 0 ] || exit 0

# One line per failed or skipped test: OUTCOME <TAB> TEST <TAB> MESSAGE (its lines joined by \x1f).
results=$(awk '
  function unxml(s) { gsub(/&quot;/, "\"", s); gsub(/&apos;/, "\047", s); gsub(/&lt;/, "<", s); gsub(/&gt;/, ">", s); gsub(/&#xD;/, "", s); gsub(/&#xA;/, "\x1f", s); gsub(/&amp;/, "\\&", s); return s }
  function emit() { if (outcome == "Failed" || outcome == "NotExecuted") print outcome "\t" unxml(name) "\t" unxml(msg); outcome = "" }
  /<UnitTestResult / {
    if (outcome != "") emit()
    name = $0; sub(/.*testName="/, "", name); sub(/".*/, "", name)
    outcome = $0; sub(/.*outcome="/, "", outcome); sub(/".*/, "", outcome)
    msg = ""; inmsg = 0
    if ($0 ~ /\/>[[:space:]]*$/) outcome = ""
    next
  }
  outcome != "" && !inmsg && /<Message>/ {
    line = $0; sub(/.*<Message>/, "", line)
    if (line ~ /<\/Message>/) { sub(/<\/Message>.*/, "", line); msg = line; emit() } else { msg = line; inmsg = 1 }
    next
  }
  inmsg {
    line = $0
    if (line ~ /<\/Message>/) { sub(/<\/Message>.*/, "", line); msg = msg "\x1f" line; inmsg = 0; emit() } else msg = msg "\x1f" line
    next
  }
  /<\/UnitTestResult>/ { if (outcome != "") emit() }
' "${files[@]}")

failed=$(printf '%s\n' "$results" | grep -c $'^Failed\t' || true)
if [ "$failed" -gt 0 ]; then
  echo "== failed tests ($failed)"
  printf '%s\n' "$results" | grep $'^Failed\t' | while IFS=$'\t' read -r _ test message; do
    echo "  $test"
    printf '%s\n' "$message" | tr '\037' '\n' | head -n 15 | sed 's/^/      /'
  done
fi

skipped=$(printf '%s\n' "$results" | grep -c $'^NotExecuted\t' || true)
if [ "$skipped" -gt 0 ]; then
  echo "== skipped tests ($skipped), by reason"
  printf '%s\n' "$results" | grep $'^NotExecuted\t' | cut -f3 | tr '\037' ' ' | sort | uniq -c | sort -rn |
    while read -r count reason; do
      echo "  $count: ${reason:-(no reason given)}"
      printf '%s\n' "$results" | grep $'^NotExecuted\t' | awk -F'\t' -v r="$reason" '{ m = $3; gsub(/\037/, " ", m); if (m == r) print "      " $2 }' | head -n 3
      [ "$count" -gt 3 ] && echo "      ... and $((count - 3)) more"
    done
fi
exit 0
