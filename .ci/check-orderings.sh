#!/usr/bin/env bash
# Every atomic operation names its ordering and the invariant it protects in a comment on the same
# line or in the comment block right above its statement (STYLE.md habit 9), and atomics live only
# in the counters module (habit 8), the loom shim, and the engine's stop flag (its own module, as
# issue 8 asks: one atomic per worker, read between chunks).
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
allowed='^src/(job/state/counters\.rs|job/loom_tests\.rs|sync\.rs|engine/stop\.rs|limit/limiter\.rs|job/state/segments\.rs|job/state/on_demand\.rs)$'
while IFS= read -r file; do
  if ! [[ "$file" =~ $allowed ]]; then
    echo "atomic ordering outside the counters module: $file" >&2
    grep -n 'Ordering::' "$file" >&2
    status=1
    continue
  fi
  # A line with Ordering:: passes if it has a // comment, or if walking up from it (through the
  # lines of the same statement, which do not end in ';' '{' or '}') reaches a // comment line.
  awk -v f="$file" '
    { line[NR] = $0 }
    /Ordering::/ && !/^\s*(pub\(crate\) )?use / {
      if ($0 ~ /\/\//) next
      ok = 0
      for (i = NR - 1; i > 0 && i >= NR - 6; i--) {
        if (line[i] ~ /^[ \t]*\/\//) { ok = 1; break }
        if (line[i] ~ /[;{}][ \t]*$/) break
      }
      if (!ok) { printf "%s:%d: atomic operation without an ordering comment\n", f, NR; bad = 1 }
    }
    END { exit bad }
  ' "$file" || status=1
done < <(grep -rl 'Ordering::' src || true)
exit $status
