#!/usr/bin/env bash
# Runs the progress, scale and copy benches in one go and prints the machine, every figure and the
# ratios against the targets of BENCHMARKS.md as a Markdown table (medians from criterion's
# target/criterion/<group>/<bench>/new/estimates.json, memory from the scale bench's output).
#
#   bash scripts/bench.sh                 # everything (about 12 minutes on 2 cores, 4 GiB of disk)
#   BENCHES="progress scale" bash scripts/bench.sh   # a subset (the other rows read "-")
#   bash scripts/bench.sh --report        # only print the table again from the last run
#
# The HTTP benches (`http`, `segments`, in the default set) install curl and aria2 with apt-get
# when they are missing, and start nginx on loopback with the 1 GiB file (.ci/nginx.sh with
# BGCOPY_NGINX_HUGE=1); their figures follow the table.
#
# Only this script's groups are cleared before a run, so every figure in the table comes from the
# same run. Run it on a quiet machine (see `uptime`): the ratios are taken within one run, but a
# busy second core still disturbs the two-thread benches.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${CARGO_TARGET_DIR:-target}
crit="$target/criterion"
log="$target/bench-report.log"
benches=${BENCHES:-progress scale copy store http segments}
http_log="$target/bench-http.log"
groups="update_1_writer update_2_writers writer_polled read_idle read_with_writer read_whole_struct copy scale_10000_jobs store_calls store_open"

machine() {
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "- cores: $(nproc); CPU: $(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1)"
  echo "- memory: $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
  echo "- kernel: $(uname -sr); $(rustc --version)"
  echo "- load before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
}

if [[ "${1:-}" != "--report" ]]; then
  mkdir -p "$target"
  machine > "$target/bench-machine.txt"
  for group in $groups; do rm -rf "${crit:?}/$group"; done
  args=()
  http_args=()
  for bench in $benches; do
    case $bench in
      http | segments) http_args+=(--bench "$bench") ;;
      *) args+=(--bench "$bench") ;;
    esac
  done
  rm -rf "${crit:?}/http_large_64MiB" "${crit:?}/http_small_200x16KiB"
  if ((${#args[@]})); then cargo bench "${args[@]}" 2>&1 | tee "$log"; else : > "$log"; fi
  if ((${#http_args[@]})); then
    for tool in curl aria2c; do
      command -v "$tool" >/dev/null || {
        package=$tool; [[ $tool == aria2c ]] && package=aria2
        apt-get install -y -qq "$package" >/dev/null 2>&1 ||
          { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq "$package" >/dev/null 2>&1; } || true
      }
    done
    BGCOPY_NGINX_URL="$(BGCOPY_NGINX_HUGE=1 bash .ci/nginx.sh)"
    export BGCOPY_NGINX_URL
    cargo bench --features http "${http_args[@]}" 2>&1 | tee "$http_log"
  fi
  # fsyncs per changing call on a store: the store bench binary makes N calls under strace, once
  # with 0 and once with 1000, and the difference is divided by 1000 (installs strace if needed).
  if [[ " $benches " == *" store "* ]]; then
    command -v strace >/dev/null || { apt-get install -y -qq strace >/dev/null 2>&1 || true; }
    bin=$(ls -t "$target"/release/deps/store-* 2>/dev/null | grep -v '\.d$' | head -1)
    if command -v strace >/dev/null && [[ -n "$bin" ]]; then
      count() {
        strace -f -qq -c -e trace=fsync,fdatasync -o "$target/strace-$1.txt" "$bin" --count-calls "$1" >/dev/null 2>&1
        awk '$NF ~ /^(fsync|fdatasync)$/ { n += $4 } END { print n + 0 }' "$target/strace-$1.txt"
      }
      f0=$(count 0)
      f1=$(count 1000)
      echo "bgcopy-bench fsyncs: calls=1000 base=$f0 with_calls=$f1" | tee -a "$log"
    fi
  fi
fi

# Median of one bench, in ns ("" if it did not run).
median() {
  local file="$crit/$1/new/estimates.json"
  [[ -f "$file" ]] || return 0
  sed -E 's/.*"median":\{"confidence_interval":\{[^}]*\},"point_estimate":([^,]*),.*/\1/' "$file"
}

# A figure from the scale bench's "bgcopy-bench memory:" lines.
memory() {
  [[ -f "$log" ]] || return 0
  sed -n "s/.*bgcopy-bench memory:.* $1=\([0-9.]*\).*/\1/p" "$log" | tail -1
}

# ns -> a readable time.
fmt() {
  awk -v t="$1" 'BEGIN {
    if (t == "") { print "-"; exit }
    if (t >= 1e9) printf "%.2f s", t / 1e9; else if (t >= 1e6) printf "%.2f ms", t / 1e6;
    else if (t >= 1e3) printf "%.2f µs", t / 1e3; else printf "%.2f ns", t }'
}

# row MEASURE BGCOPY BASELINE_NAME BASELINE RATIO_KIND TARGET
#   RATIO_KIND: "slower" (bgcopy / baseline <= target) or "faster" (baseline / bgcopy >= target)
row() {
  local what=$1 ours=$2 name=$3 base=$4 kind=$5 goal=$6
  awk -v what="$what" -v ours="$ours" -v name="$name" -v base="$base" -v kind="$kind" \
      -v goal="$goal" -v o="$(fmt "$ours")" -v b="$(fmt "$base")" 'BEGIN {
    t = kind == "slower" ? "<= " goal "x" : ">= " goal "x faster"
    if (ours == "" || base == "") { printf "| %s | %s | %s %s | - | %s | - |\n", what, o, name, b, t; exit }
    if (kind == "slower") { r = ours / base; met = r <= goal; s = sprintf("%.2fx", r) }
    else { r = base / ours; met = r >= goal; s = sprintf("%.2fx faster", r) }
    printf "| %s | %s | %s %s | %s | %s | %s |\n", what, o, name, b, s, t, met ? "yes" : "**no**" }'
}

# limit MEASURE VALUE UNIT LIMIT LIMIT_TEXT   (UNIT: ns or B; met when VALUE <= LIMIT)
limit() {
  local what=$1 value=$2 unit=$3 goal=$4 text=$5
  awk -v what="$what" -v v="$value" -v unit="$unit" -v goal="$goal" -v text="$text" \
      -v f="$(fmt "$value")" 'BEGIN {
    if (v == "") { printf "| %s | - | | | %s | - |\n", what, text; exit }
    shown = unit == "B" ? sprintf("%d B", v) : f
    printf "| %s | %s | | | %s | %s |\n", what, shown, text, (v + 0 <= goal + 0) ? "yes" : "**no**" }'
}

echo
echo "## Machine"
cat "$target/bench-machine.txt" 2>/dev/null || machine
echo
echo "## Figures (medians) and ratios, one run"
echo
echo "| measure | bgcopy | baseline | ratio | target | met |"
echo "|---|---|---|---|---|---|"
u1=$(median update_1_writer/bgcopy_add_bytes)
row "update, 1 writer" "$u1" "1 relaxed fetch_add" "$(median update_1_writer/fetch_add_x1)" slower 1.5
row "update, 1 writer" "$u1" "2 relaxed fetch_adds" "$(median update_1_writer/fetch_add_x2)" slower 1.5
row "update, 1 writer" "$u1" "parking_lot mutex" "$(median update_1_writer/mutex)" faster 1
row "update, 1 writer" "$u1" "indicatif inc" "$(median update_1_writer/indicatif_inc)" faster 1
u2=$(median update_2_writers/bgcopy_add_bytes)
row "update, 2 writers, 2 files" "$u2" "1 shared fetch_add" "$(median update_2_writers/shared_fetch_add)" slower 1.5
row "update, 2 writers, 2 files" "$u2" "own + shared fetch_add" "$(median update_2_writers/own_plus_shared_fetch_add)" slower 1.5
row "update, 2 writers, 2 files" "$u2" "parking_lot mutex" "$(median update_2_writers/mutex)" faster 1.8
row "update, 2 writers, 2 files" "$u2" "indicatif inc" "$(median update_2_writers/indicatif_inc)" faster 2
u2s=$(median update_2_writers/bgcopy_add_bytes_3_open)
row "update, 2 of 3 open writers on one stripe (worst case)" "$u2s" "1 shared fetch_add" "$(median update_2_writers/shared_fetch_add)" slower 1.5
row "update, 2 of 3 open writers on one stripe (worst case)" "$u2s" "parking_lot mutex" "$(median update_2_writers/mutex)" faster 1.8
row "update, 2 of 3 open writers on one stripe (worst case)" "$u2s" "indicatif inc" "$(median update_2_writers/indicatif_inc)" faster 2
row "writer polled every 1 ms" "$(median writer_polled/polled_every_1ms)" "writer alone" "$(median writer_polled/alone)" slower 1.05
for mode in read_idle read_with_writer; do
  label=${mode/read_idle/idle}
  label=${label/read_with_writer/with a writer}
  g10=$(median "$mode/get_progress_10_files")
  row "get_progress 10 files, $label" "$g10" "4 atomic loads" "$(median "$mode/four_atomic_loads")" slower 3
  row "get_progress 10 files, $label" "$g10" "indicatif position" "$(median "$mode/indicatif_position")" faster 5
  row "get_progress 10 files, $label" "$g10" "mutex copy-out" "$(median "$mode/mutex_copy_out")" faster 1
  limit "get_progress 1 file, $label" "$(median "$mode/get_progress_1_files")" ns 100 "< 100 ns"
  limit "get_progress 200 files, $label" "$(median "$mode/get_progress_200_files")" ns 100 "< 100 ns"
done
gw=$(median read_whole_struct/get_progress_10_files)
row "get_progress 10 files, whole struct used" "$gw" "4 atomic loads" "$(median read_whole_struct/four_atomic_loads)" slower 2
row "get_progress 10 files, whole struct used" "$gw" "3 loads, counts packed (floor)" "$(median read_whole_struct/three_atomic_loads_packed)" slower 2
job=$(median copy/bgcopy_job)
std=$(median copy/std_copy_fsync)
awk -v j="$job" -v s="$std" -v fj="$(fmt "$job")" -v fs="$(fmt "$std")" 'BEGIN {
  if (j == "" || s == "") { print "| local copy, 1 GiB (speed vs std) | - | std::fs::copy + fsync - | - | >= 0.9x | - |"; exit }
  r = s / j
  printf "| local copy, 1 GiB (speed vs std) | %s | std::fs::copy + fsync %s | %.3fx | >= 0.9x | %s |\n", fj, fs, r, (r >= 0.9) ? "yes" : "**no**" }'
limit "memory per job (allocator)" "$(memory per_job_bytes)" B 2048 "<= 2 KiB"
limit "memory per file (allocator)" "$(memory per_file_bytes)" B 512 "<= 512 B"
limit "memory per job (resident set)" "$(memory rss_per_job_bytes)" B 2048 "<= 2 KiB"
limit "memory per file (resident set)" "$(memory rss_per_file_bytes)" B 512 "<= 512 B"
limit "enum_jobs, 10 000 jobs" "$(median scale_10000_jobs/enum_jobs)" ns 10000000 "< 10 ms"
echo "| get_progress of all 10 000 jobs | $(fmt "$(median scale_10000_jobs/get_progress_all)") | | | | |"
stored=$(median store_calls/set_description_store)
echo "| a changing call (set_description) with a store | $(fmt "$stored") | without a store $(fmt "$(median store_calls/set_description_memory)") | | | |"
fsyncs=$(sed -n 's/.*bgcopy-bench fsyncs: calls=\([0-9]*\) base=\([0-9]*\) with_calls=\([0-9]*\).*/\1 \2 \3/p' "$log" 2>/dev/null | tail -1)
if [[ -n "$fsyncs" ]]; then
  read -r calls base with <<<"$fsyncs"
  awk -v c="$calls" -v b="$base" -v w="$with" 'BEGIN { r = (w - b) / c; printf "| fsyncs per changing call with a store (strace) | %.2f | | | <= 1 | %s |\n", r, (r <= 1.0001) ? "yes" : "**no**" }'
else
  echo "| fsyncs per changing call with a store (strace) | - | | | <= 1 | - |"
fi
limit "open a store of 10 000 jobs of 10 files" "$(median store_open/open_10000_jobs_of_10_files)" ns 300000000 "< 300 ms"
per_job=$(sed -n 's/.*bgcopy-bench store:.* size_per_job_bytes=\([0-9]*\).*/\1/p' "$log" 2>/dev/null | tail -1)
echo "| store size on disk per job of 10 files | ${per_job:--} B | | | | |"
plain=$(median copy/bgcopy_job)
stored_copy=$(median copy/bgcopy_job_store)
awk -v p="$plain" -v s="$stored_copy" -v fp="$(fmt "$plain")" -v fs="$(fmt "$stored_copy")" 'BEGIN {
  if (p == "" || s == "") { print "| local copy, 1 GiB, with a store (speed vs without) | - | without - | - | >= 0.95x | - |"; exit }
  r = p / s
  printf "| local copy, 1 GiB, with a store (speed vs without) | %s | without %s | %.3fx | >= 0.95x | %s |\n", fs, fp, r, (r >= 0.95) ? "yes" : "**no**" }'
echo "| create 10 000 jobs, add 10 files to each | $(fmt "$(median scale_10000_jobs/create_with_10_files_each)") | | | | |"

if [[ -s "$http_log" ]]; then
  echo
  echo "## HTTP against curl and aria2c (benches/http.rs, criterion medians)"
  echo
  grep -E '^  http_' "$http_log" | sed 's/^  /- /' || true
  echo
  echo "## Several connections and caps (benches/segments.rs, interleaved rounds)"
  grep -E '^(\||capped|nginx|cap:)' "$http_log" | grep -v 'round [0-9]' | sed -E 's/^(capped \(|nginx 1 GiB)/\n\1/' || true
fi
