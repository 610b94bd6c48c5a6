#!/usr/bin/env bash
# tests/bench/run.sh - siphon beside curl, aria2c and wget2 on a local nginx.
#
# Serves generated files from a tmpfs through nginx on 127.0.0.1 (one worker,
# sendfile, keep-alive), downloads them into the same tmpfs with siphon
# (--headless) and each peer, RUNS times each, and reports median wall time,
# CPU (user+sys) and peak RSS per workload and tool, siphon's ratio to the
# best peer, and the targets of issue 6.  See tests/bench/README.md.
#
#   bash tests/bench/run.sh [--quick] [--only big,small,...] [--peers-only]
#                           [--runs N] [--no-install] [--keep]
#
# Everything is bounded: every run by BENCH_TIMEOUT seconds, every wait by a
# loop count.  nginx, the tmux server and the tmpfs are torn down on exit.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)

usage() {
  sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
  cat <<'EOF'

Workloads: big small queue single screen https scale segthrottled segsingle
(default: all).
  scale = SCALE_N URLs of 1 KiB at -j SCALE_J (row "wide") and at -j QUEUE_J
  (row "scale32", whose peak RSS is the 80,000-queued-URLs target); siphon and
  curl only by default (SCALE_TOOLS), aria2c and wget2 take minutes there.
  segthrottled = one SEG_MIB file from a location with nginx's limit_rate
  SEG_RATE per connection, over SEG_N connections: siphon -s SEG_N beside
  aria2c -x/-s, axel -n and wget2 --chunk-size (SEG_TOOLS); the limit is
  SEG_MIB / (SEG_N x SEG_RATE).  segsingle = the same file unthrottled, with
  siphon -s 1 (row tool "siphon-s1") beside -s SEG_N and the same peers.
Environment (defaults for a full run; --quick uses the second value):
  BENCH_RUNS=3|1          runs per tool and workload (median reported)
  BENCH_WARMUP=1          unrecorded rounds before them (first touches of
                          fresh memory in this VM are slow)
  BENCH_PREFAULT=1        before each run, write and delete as much as the
                          run will write (see README: free page reporting)
  BIG_N=8 BIG_MIB=512|32  BIG_J=8         big: N files of MIB, J at once
  SMALL_N=5000|500 SMALL_KIB=16 SMALL_J=16   (https: the same over TLS + HTTP/2)
  QUEUE_N=20000|2000 QUEUE_KIB=1 QUEUE_J=32
  SINGLE_MIB=2048|256     single: one file, one connection
  SCALE_N=80000|4000 SCALE_J=1000 SCALE_TOOLS="siphon curl"
  SEG_MIB=2048|256 SEG_RATE=64m SEG_N=8   (SEG_RATE in nginx's units: k, m = KiB, MiB per s)
  SEG_TIMER=1ms           timer_resolution of the segthrottled nginx (a second
                          instance; empty = nginx's default, whose limit_rate
                          gives readers that keep up ~1.35x the limit: NOTES.md)
  SEG_TOOLS="siphon aria2c axel wget2"    (segsingle adds siphon-s1)
  SIPHON=build/siphon     the binary under test
  SIPHON_ARGS=            extra siphon options (e.g. --buffer-size 1M)
  SIPHON_BUF_KIB=128      siphon's buffer size for the RSS target (passed as
                          --buffer-size when set)
  BENCH_PORT=18089        first port tried for nginx
  BENCH_DIR=/tmp/siphon-bench.PID   the tmpfs mount point
  BENCH_TIMEOUT=300       seconds one run may take before it is killed
  BENCH_TOOLS="siphon curl aria2c wget2 curl-null"   a subset to run (axel and
                          siphon-s1 count only in the segmented rows, curl outside them)
  BENCH_RESULTS=tests/bench/RESULTS.md  (quick: build/bench/RESULTS-quick.md)
EOF
}

QUICK=0 ONLY="" PEERS_ONLY=0 NO_INSTALL=0 KEEP=0 RUNS_ARG=""
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1 ;;
    --only) ONLY=${2:?--only needs a list}; shift ;;
    --only=*) ONLY=${1#--only=} ;;
    --peers-only) PEERS_ONLY=1 ;;
    --runs) RUNS_ARG=${2:?--runs needs N}; shift ;;
    --no-install) NO_INSTALL=1 ;;
    --keep) KEEP=1 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
  shift
done

q() { [ "$QUICK" = 1 ] && echo "$2" || echo "$1"; }
RUNS=${RUNS_ARG:-${BENCH_RUNS:-$(q 3 1)}}
WARMUP=${BENCH_WARMUP:-1}
PREFAULT=${BENCH_PREFAULT:-1}
BIG_N=${BIG_N:-$(q 8 4)};         BIG_MIB=${BIG_MIB:-$(q 512 32)};  BIG_J=${BIG_J:-$(q 8 4)}
SMALL_N=${SMALL_N:-$(q 5000 500)}; SMALL_KIB=${SMALL_KIB:-16};      SMALL_J=${SMALL_J:-16}
QUEUE_N=${QUEUE_N:-$(q 20000 2000)}; QUEUE_KIB=${QUEUE_KIB:-1};     QUEUE_J=${QUEUE_J:-32}
SINGLE_MIB=${SINGLE_MIB:-$(q 2048 256)}
SCALE_N=${SCALE_N:-$(q 80000 4000)}; SCALE_J=${SCALE_J:-1000}; SCALE_TOOLS=${SCALE_TOOLS:-siphon curl}
SEG_MIB=${SEG_MIB:-$(q 2048 256)}; SEG_RATE=${SEG_RATE:-64m}; SEG_N=${SEG_N:-8}
SEG_TIMER=${SEG_TIMER-1ms}
SEG_TOOLS=${SEG_TOOLS:-siphon aria2c axel wget2}
SIPHON_ARGS=${SIPHON_ARGS:-}
BUF_KIB=${SIPHON_BUF_KIB:-128}
[ -n "${SIPHON_BUF_KIB:-}" ] && SIPHON_ARGS="--buffer-size ${BUF_KIB}K $SIPHON_ARGS"
PORT=${BENCH_PORT:-18089}
RUN_TIMEOUT=${BENCH_TIMEOUT:-300}
if [ "$QUICK" = 1 ]; then RESULTS=${BENCH_RESULTS:-$ROOT/build/bench/RESULTS-quick.md}
else RESULTS=${BENCH_RESULTS:-$HERE/RESULTS.md}; fi
WORKLOADS=${ONLY:-big,screen,small,queue,scale,single,https,segthrottled,segsingle}
WORKLOADS=${WORKLOADS//,/ }
for w in $WORKLOADS; do
  case "$w" in big|small|queue|single|screen|scale|https|segthrottled|segsingle) ;; *) echo "run.sh: unknown workload '$w'" >&2; exit 2 ;; esac
done
want() { case " $WORKLOADS " in *" $1 "*) return 0 ;; esac; return 1; }
want_seg() { want segthrottled || want segsingle; }
# SEG_RATE in bytes per second (nginx's k and m are powers of 1024)
case "$SEG_RATE" in
  *[kK]) SEG_RATE_B=$((${SEG_RATE%?} * 1024)) ;;
  *[mM]) SEG_RATE_B=$((${SEG_RATE%?} * 1024 * 1024)) ;;
  *[!0-9]*|"") echo "run.sh: SEG_RATE '$SEG_RATE' is not N, Nk or Nm" >&2; exit 2 ;;
  *) SEG_RATE_B=$SEG_RATE ;;
esac

NOTES=()        # lines for the report's notes
note() { NOTES+=("$*"); echo "note: $*"; }
say() { printf '== %s\n' "$*"; }

# --- the binary under test -------------------------------------------------
if [ -z "${SIPHON:-}" ]; then
  SIPHON=$ROOT/build/siphon
  [ -x "$SIPHON" ] || SIPHON=$ROOT/siphon
fi
case "$SIPHON" in /*) ;; *) SIPHON=$(pwd)/$SIPHON ;; esac
SIPHON_VERSION="(not run)"
if [ "$PEERS_ONLY" = 0 ]; then
  if [ ! -x "$SIPHON" ]; then
    note "siphon binary $SIPHON missing: peers only"; PEERS_ONLY=1
  elif ! SIPHON_VERSION=$(timeout 5 "$SIPHON" --version 2>&1 | head -1) || [ -z "$SIPHON_VERSION" ]; then
    note "'$SIPHON --version' failed: peers only"; PEERS_ONLY=1; SIPHON_VERSION="(broken)"
  fi
fi

# --- what it needs, installed only if missing --------------------------------
install_missing() {
  local need=() p
  command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
  command -v aria2c >/dev/null 2>&1 || need+=(aria2)
  command -v wget2 >/dev/null 2>&1 || need+=(wget2)
  command -v curl >/dev/null 2>&1 || need+=(curl)
  [ -x /usr/bin/time ] || need+=(time)
  [ -x /usr/bin/python3 ] || need+=(python3)
  if want screen && [ "$PEERS_ONLY" = 0 ]; then command -v tmux >/dev/null 2>&1 || need+=(tmux); fi
  if want_seg; then command -v axel >/dev/null 2>&1 || need+=(axel); fi
  [ ${#need[@]} = 0 ] && return 0
  if [ "$NO_INSTALL" = 1 ] || [ "$(id -u)" != 0 ]; then
    echo "run.sh: missing: ${need[*]} (install them, as root: apt-get install ${need[*]})" >&2
    exit 1
  fi
  say "installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  timeout 600 apt-get update -qq
  for p in "${need[@]}"; do
    if ! timeout 600 apt-get install -y -qq --no-install-recommends "$p"; then
      # Debian 13 dropped nginx-light: take plain nginx then.
      [ "$p" = nginx-light ] && timeout 600 apt-get install -y -qq --no-install-recommends nginx && continue
      echo "run.sh: could not install $p" >&2; exit 1
    fi
  done
}
install_missing
NGINX=$(command -v nginx 2>/dev/null || echo /usr/sbin/nginx)

# --- sizes and the tmpfs -----------------------------------------------------
KIB=1024; MIB=$((1024 * 1024))
# Each workload keeps its served set and one output set; small files take a
# page each on tmpfs.
need_mib() {
  local m=0 x
  if want big || want screen; then x=$((2 * BIG_N * BIG_MIB)); [ $x -gt $m ] && m=$x; fi
  if want single; then x=$((2 * SINGLE_MIB)); [ $x -gt $m ] && m=$x; fi
  if want small; then x=$((2 * SMALL_N * (SMALL_KIB < 4 ? 4 : SMALL_KIB) / 1024)); [ $x -gt $m ] && m=$x; fi
  if want queue; then x=$((2 * QUEUE_N * (QUEUE_KIB < 4 ? 4 : QUEUE_KIB) / 1024)); [ $x -gt $m ] && m=$x; fi
  if want scale; then x=$((2 * SCALE_N * 4 / 1024)); [ $x -gt $m ] && m=$x; fi
  if want_seg; then x=$((2 * SEG_MIB)); [ $x -gt $m ] && m=$x; fi
  echo $((m + m / 16 + 512))   # served + output (or the prefault, 1/8 more)
}
avail_mib=$(awk '/^MemAvailable:/ {print int($2 / 1024)}' /proc/meminfo)
budget=$((avail_mib * 80 / 100))
while [ "$(need_mib)" -gt "$budget" ] && [ "$BIG_MIB" -gt 8 -o "$SINGLE_MIB" -gt 16 -o "$SEG_MIB" -gt 64 ]; do
  [ "$BIG_MIB" -gt 8 ] && BIG_MIB=$((BIG_MIB / 2))
  [ "$SINGLE_MIB" -gt 16 ] && SINGLE_MIB=$((SINGLE_MIB / 2))
  [ "$SEG_MIB" -gt 64 ] && SEG_MIB=$((SEG_MIB / 2))
  SCALED=1
done
[ "${SCALED:-0}" = 1 ] && note "only ${avail_mib} MiB of memory available: scaled down to big ${BIG_N}x${BIG_MIB} MiB, single ${SINGLE_MIB} MiB, segmented ${SEG_MIB} MiB"
TMPFS_MIB=$(need_mib)

WORK=${BENCH_DIR:-/tmp/siphon-bench.$$}
MOUNTED=0 NGINX_PIDS=() TSOCK="siphon-bench-$$"
cleanup() {
  local rc=$? i pid
  trap - EXIT INT TERM
  for pid in "${NGINX_PIDS[@]}"; do
    kill -0 "$pid" 2>/dev/null || continue
    kill -QUIT "$pid" 2>/dev/null || true
    for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  command -v tmux >/dev/null 2>&1 && tmux -L "$TSOCK" kill-server 2>/dev/null || true
  cd /
  if [ "$KEEP" = 1 ]; then echo "kept $WORK"
  elif [ "$MOUNTED" = 1 ]; then umount "$WORK" 2>/dev/null || umount -l "$WORK" 2>/dev/null || true; rmdir "$WORK" 2>/dev/null || true
  elif [ -n "${WORK:-}" ] && [ -d "$WORK" ]; then rm -rf "$WORK"
  fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$WORK"
if [ "$(id -u)" = 0 ] && [ -z "$(ls -A "$WORK")" ] &&
   mount -t tmpfs -o "size=${TMPFS_MIB}m,mode=0755" siphon-bench "$WORK" 2>/dev/null; then
  MOUNTED=1
  TMPFS_WHERE="tmpfs of ${TMPFS_MIB} MiB mounted at $WORK"
else
  rmdir "$WORK" 2>/dev/null || true
  WORK=/dev/shm/siphon-bench.$$
  mkdir -p "$WORK"
  shm_avail=$(df -Pm /dev/shm | awk 'NR==2 {print $4}')
  note "could not mount a tmpfs (not root, or not allowed): using /dev/shm ($shm_avail MiB free)"
  if [ "$shm_avail" -lt "$TMPFS_MIB" ]; then
    note "/dev/shm has less than the $TMPFS_MIB MiB the workloads need: expect failures; lower BIG_MIB/SINGLE_MIB"
  fi
  TMPFS_WHERE="/dev/shm (fallback) at $WORK"
fi
say "work dir: $TMPFS_WHERE"
df -h "$WORK" | sed 's/^/   /'
WWW=$WORK/www OUT=$WORK/out LISTS=$WORK/lists LOGS=$WORK/logs
mkdir -p "$WWW" "$OUT" "$LISTS" "$LOGS"
RAW=$WORK/runs.tsv
: >"$RAW"

# --- nginx -------------------------------------------------------------------
port_busy() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }
# start_nginx NAME MAIN TLS: an nginx under $WORK/NAME on the first free port
# from $PORT (set in NGINX_PORT), MAIN added to its main context, the https
# server beside it when TLS is 1.  One worker each; the pid joins NGINX_PIDS.
start_nginx() {
  local name=$1 main=$2 want_tls=$3 dir=$WORK/$1 i user temps="" m port pid
  mkdir -p "$dir/tmp"
  for i in $(seq 0 20); do port_busy $((PORT + i)) || break; done
  port=$((PORT + i))
  user=""
  if [ "$(id -u)" = 0 ]; then
    if getent group nogroup >/dev/null; then user="user nobody nogroup;"; else user="user root root;"; fi
  fi
  for m in client_body proxy fastcgi uwsgi scgi; do
    [ $m != client_body ] && "$NGINX" -V 2>&1 | grep -q -- "--without-http_${m}_module" && continue
    temps+="    ${m}_temp_path $dir/tmp/$m;"$'\n'
  done
  # the https workload: TLS + HTTP/2 with a certificate made here
  local tls=""
  if [ "$want_tls" = 1 ]; then
    for i in $(seq 1 20); do port_busy $((port + i)) || break; done
    TLS_PORT=$((port + i))
    if openssl req -x509 -newkey rsa:2048 -nodes -keyout "$dir/key.pem" \
         -out "$dir/cert.pem" -days 2 -subj /CN=siphon-bench \
         -addext "subjectAltName=IP:127.0.0.1" >/dev/null 2>&1; then
      CERT=$dir/cert.pem
      tls="    server {
        listen 127.0.0.1:$TLS_PORT ssl http2 backlog=4096;
        ssl_certificate $CERT;
        ssl_certificate_key $dir/key.pem;
        http2_max_concurrent_streams 128;
        root $WWW;
        location / { }
    }"
    else
      note "https workload skipped: openssl could not make a certificate"
    fi
  fi
  sed -e "s|@DIR@|$dir|g" -e "s|@WWW@|$WWW|g" -e "s|@PORT@|$port|g" -e "s|@USER@|$user|" \
      -e "s|@SEGRATE@|$SEG_RATE|g" -e "s|@MAIN@|$main|" \
      "$HERE/nginx.conf.in" | awk -v t="$temps" -v s="$tls" \
        '$0 == "@TEMPS@" { printf "%s", t; next } $0 == "@TLS@" { print s; next } { print }' \
      >"$dir/nginx.conf"
  echo ok >"$WWW/ping"
  "$NGINX" -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" >"$dir/stdout.log" 2>&1 &
  pid=$!
  NGINX_PIDS+=("$pid")
  for i in $(seq 100); do
    if curl -s --max-time 1 "http://127.0.0.1:$port/ping" 2>/dev/null | grep -q ok; then
      say "$name $pid on 127.0.0.1:$port${main:+ ($main)}"; NGINX_PORT=$port; return 0
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "run.sh: $name did not start:" >&2
  cat "$dir/error.log" "$dir/stdout.log" >&2 2>/dev/null || true
  exit 1
}
CERT=""
start_nginx nginx "" "$(want https && echo 1)"
PORT=$NGINX_PORT
BASE=http://127.0.0.1:$PORT

# --- served files and lists ----------------------------------------------------
head -c $MIB /dev/urandom >"$WORK/block"
# make_file PATH MIB: MIB mebibytes of a repeated random block, fast.
make_file() {
  local path=$1 mib=$2 k chunk=$WORK/chunk
  if [ ! -f "$chunk" ]; then for k in $(seq 64); do cat "$WORK/block"; done >"$chunk"; fi
  {
    for ((k = 0; k + 64 <= mib; k += 64)); do cat "$chunk"; done
    [ $((mib % 64)) -gt 0 ] && head -c $(((mib % 64) * MIB)) "$chunk"
    true
  } >"$path"
}
# make_many DIR PREFIX N KIB: N files of KIB random bytes in one pass.
make_many() {
  local dir=$1 prefix=$2 n=$3 kib=$4 digits=${#3}
  [ "$digits" -lt 5 ] && digits=5
  mkdir -p "$dir"
  head -c $((n * kib * KIB)) /dev/urandom | split -a "$digits" -d -b $((kib * KIB)) - "$dir/$prefix"
}
# write_lists NAME DIRNAME [BASE]: NAME.txt (one URL a line) and NAME.curl (url/output pairs).
write_lists() {
  local name=$1 sub=$2 base=${3:-$BASE}
  (cd "$WWW/$sub" && ls) | awk -v b="$base/$sub/" '{print b $0}' >"$LISTS/$name.txt"
  (cd "$WWW/$sub" && ls) | awk -v b="$base/$sub/" -v o="$OUT/" \
    '{printf "url = \"%s%s\"\noutput = \"%s%s\"\n", b, $0, o, $0}' >"$LISTS/$name.curl"
}

# --- one measured run ------------------------------------------------------------
wipe_out() { rm -rf "$OUT"; mkdir -p "$OUT"; }
# prefault BYTES: write BYTES (+1/8) into the tmpfs and delete it right away.
# This VM's balloon hands free memory back to the host a few seconds after it
# is freed, and the next first touch of each page then costs ~1.5 s per GiB of
# guest sys time, charged to whichever tool runs next: 2 GiB into tmpfs takes
# 3.5 s cold and 0.4 s warm.  Writing just before a run gives it warm pages.
prefault() {
  [ "$PREFAULT" = 1 ] || return 0
  local mib=$(($1 / MIB + $1 / MIB / 8 + 16))
  dd if=/dev/zero of="$WORK/prefault" bs=1M count="$mib" status=none 2>/dev/null || true
  rm -f "$WORK/prefault"
}
# check_out N BYTES: the output dir holds exactly N files with BYTES in all.
check_out() {
  local got
  got=$(find "$OUT" -type f -printf '%s\n' | awk '{n++; s+=$1} END {printf "%d %.0f", n, s}')
  [ "$got" = "$1 $2" ] && return 0
  echo "   output check: want '$1 $2' (files bytes), got '$got'"
  return 1
}
fsub() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.4f", a - b}'; }

# watch_front FILE: the CPU seconds of the main thread (the front end: the
# screen or the headless printer) of the siphon writing into $OUT, sampled
# every 20 ms into FILE until it exits (the last ~20 ms are not seen, alike
# in both modes).  The screen row compares this thread between the modes:
# the engine's and the disk workers' threads do the same work in both, and
# their CPU spreads far more from run to run on this VM than the front end
# costs.  Started in the background, killed by the caller.
watch_front() {
  local file=$1 pid="" i f tck nfd
  tck=$(getconf CLK_TCK)
  : >"$file"
  exec {nfd}<> <(:)   # read -t on it sleeps without a fork
  for ((i = 0; i < RUN_TIMEOUT * 100; i++)); do
    pid=$(pgrep -n -f -- "^$SIPHON .*-d $OUT" 2>/dev/null) && break
    read -r -t 0.01 -u "$nfd" _ || true
  done
  [ -n "$pid" ] || return 0
  while read -r -a f <"/proc/$pid/task/$pid/stat" 2>/dev/null; do
    echo "$((f[13] + f[14])) $tck" >"$file"
    read -r -t 0.02 -u "$nfd" _ || true
  done
  exec {nfd}<&-
}
# front_cpu FILE: watch_front's last sample in seconds ("" when none).
front_cpu() { awk 'NF == 2 && $2 > 0 {printf "%.3f", $1 / $2}' "$1" 2>/dev/null || true; }

# run_one WORKLOAD TOOL RUN N BYTES CMD...: time CMD, check its output, log a row.
# N = -1 means no files are expected (the /dev/null stream): BYTES is then
# checked against curl's size_download on stdout.
run_one() {
  local wl=$1 tool=$2 run=$3 n=$4 bytes=$5; shift 5
  local tf=$WORK/time.out log=$LOGS/$wl.$tool.$run.log t0 t1 rc ok=1 user sys rss vcs ics
  local wpid="" front=""
  wipe_out; rm -f "$tf"
  prefault "$bytes"
  [ "$wl" = screen ] && { watch_front "$WORK/front.cpu" & wpid=$!; }
  t0=$EPOCHREALTIME
  set +e
  timeout -k 5 "$RUN_TIMEOUT" /usr/bin/time -f '%U %S %M %w %c' -o "$tf" "$@" >"$log" 2>&1
  rc=$?
  set -e
  t1=$EPOCHREALTIME
  if [ -n "$wpid" ]; then
    kill "$wpid" 2>/dev/null || true; wait "$wpid" 2>/dev/null || true
    front=$(front_cpu "$WORK/front.cpu")
  fi
  [ "$rc" = 0 ] || { ok=0; echo "   $tool exited $rc: $(tail -3 "$log" | tr '\n' ' ')"; }
  if [ "$n" -ge 0 ]; then check_out "$n" "$bytes" || ok=0
  elif [ "$(tail -1 "$log")" != "$bytes" ]; then echo "   $tool received '$(tail -1 "$log")' of $bytes"; ok=0; fi
  read -r user sys rss vcs ics < <(tail -1 "$tf" 2>/dev/null) || true
  user=${user:-0} sys=${sys:-0} rss=${rss:-0}
  record "$wl" "$tool" "$run" "$(fsub "$t1" "$t0")" "$user" "$sys" "$rss" "$rc" "$ok" \
    "${vcs:-0}" "${ics:-0}" "$bytes" "$front"
}
# record WL TOOL RUN WALL USER SYS RSS RC OK VCS ICS BYTES [FRONT]: one row of
# $RAW (FRONT: the front-end thread's CPU seconds, screen workload only).
record() {
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" \
    "$6" "$7" "$8" "$9" "${10}" "${11}" "${12}" "${13:-}" >>"$RAW"
  printf '   %-7s %-14s run %s: wall %6.2f s  cpu %6.2f s  rss %7.1f MiB  cs %8s  %s\n' \
    "$1" "$2" "$3" "$4" "$(awk -v u="$5" -v s="$6" 'BEGIN {print u + s}')" \
    "$(awk -v k="$7" 'BEGIN {print k / 1024}')" "$((${10} + ${11}))" \
    "$([ "$9" = 1 ] && echo ok || echo FAILED)"
}

# The command line of TOOL for a list NAME at concurrency J (the https list:
# trusting the bench's own certificate; curl -Z and wget2 multiplex over
# HTTP/2 by default, aria2c speaks HTTP/1.1 only).
tool_cmd() {
  local tool=$1 name=$2 j=$3
  TLS_ARGS=()
  case "$tool:$name" in
    siphon:https) TLS_ARGS=(--cacert "$CERT") ;;
    curl:https)   TLS_ARGS=(--cacert "$CERT") ;;
    aria2c:https) TLS_ARGS=(--ca-certificate="$CERT") ;;
    wget2:https)  TLS_ARGS=(--ca-certificate="$CERT") ;;
  esac
  tool_cmd_plain "$@"
  [ ${#TLS_ARGS[@]} -gt 0 ] && CMD=("${CMD[0]}" "${TLS_ARGS[@]}" "${CMD[@]:1}")
  true
}
tool_cmd_plain() {
  local tool=$1 name=$2 j=$3
  case "$tool" in
    siphon) CMD=("$SIPHON" --headless --no-config -j "$j" --per-host "$j" -d "$OUT")
            [ -n "$SIPHON_ARGS" ] && read -r -a extra <<<"$SIPHON_ARGS" && CMD+=("${extra[@]}")
            CMD+=("$LISTS/$name.txt") ;;
    curl)   CMD=(curl -s -S --parallel --parallel-max "$j" -K "$LISTS/$name.curl") ;;
    aria2c) CMD=(aria2c --no-conf -q -i "$LISTS/$name.txt" -j "$j" -x1 -s1
                 --max-connection-per-server=1 --file-allocation=none -d "$OUT"
                 --allow-overwrite=true --auto-file-renaming=false --summary-interval=0) ;;
    wget2)  CMD=(wget2 --no-config -q --max-threads "$j" -i "$LISTS/$name.txt" -P "$OUT"
                 --no-robots --no-hsts --no-hpkp --no-ocsp --no-xattr --no-netrc
                 --no-cookies --no-metalink) ;;
    *) echo "tool_cmd: $tool?" >&2; exit 1 ;;
  esac
}

PEERS="curl aria2c wget2"
# The tools to run: siphon (unless --peers-only) and the peers, or BENCH_TOOLS.
tools() {
  local t out=""
  local all=${BENCH_TOOLS:-siphon $PEERS curl-null}
  [ "${1:-}" = scale ] && all=${BENCH_TOOLS:-$SCALE_TOOLS}
  [ "${1:-}" = seg ] && all=${BENCH_TOOLS:-$SEG_TOOLS curl-null}
  [ "${1:-}" = segsingle ] && all=${BENCH_TOOLS:-siphon siphon-s1 ${SEG_TOOLS/siphon/}}
  for t in $all; do
    case "$t" in siphon|siphon-s1) [ "$PEERS_ONLY" = 1 ] && continue ;; esac
    [ "$t" = curl-null ] && [ "${1:-}" != single ] && [ "${1:-}" != seg ] && continue
    # axel and siphon -s 1 run only in the segmented rows, curl only outside them
    case "${1:-}:$t" in seg*:curl|seg*:siphon-screen) continue ;; seg*:*) ;; *:axel|*:siphon-s1) continue ;; esac
    out+="$t "
  done
  echo "$out"
}
# rotate LIST BY: the list starting at element BY, so no tool always goes first.
rotate() { local a=($1) k=$2 i out=(); for ((i = 0; i < ${#a[@]}; i++)); do out+=("${a[(i + k) % ${#a[@]}]}"); done; echo "${out[*]}"; }

# The labels of the rounds: warm-ups w1.. (not reported), then 1..RUNS.
rounds() { local r; for ((r = 1; r <= WARMUP; r++)); do echo "w$r"; done; seq "$RUNS"; }
# bench_list WORKLOAD LISTNAME J N BYTES [TOOLSET]: every tool RUNS times, interleaved.
bench_list() {
  local wl=$1 name=$2 j=$3 n=$4 bytes=$5 set=${6:-} r t
  for r in $(rounds); do
    for t in $(rotate "$(tools $set)" "${r#w}"); do
      tool_cmd "$t" "$name" "$j"
      run_one "$wl" "$t" "$r" "$n" "$bytes" "${CMD[@]}"
    done
  done
}

# seg_cmd TOOL URL MIB: one file over SEG_N connections (segthrottled,
# segsingle).  siphon needs --per-host SEG_N: its default of 6 connections
# to one host would hold -s 8 at 6.  aria2c -k = siphon's --min-segment
# default (4M): neither splits a range under twice that.  wget2 1.99.1
# fetches its chunks over one connection whatever --max-threads says; with
# 16M chunks it takes 2.7 s of CPU and 46 MiB for 2 GiB, with 256M chunks
# 25 s and 454 MiB.
seg_cmd() {
  local tool=$1 url=$2 mib=$3 extra=()
  [ -n "$SIPHON_ARGS" ] && read -r -a extra <<<"$SIPHON_ARGS"
  case "$tool" in
    siphon)    CMD=("$SIPHON" --headless --no-config -s "$SEG_N" --per-host "$SEG_N" -d "$OUT" "${extra[@]}" "$url") ;;
    siphon-s1) CMD=("$SIPHON" --headless --no-config -s 1 -d "$OUT" "${extra[@]}" "$url") ;;
    aria2c)    CMD=(aria2c --no-conf -q -x "$SEG_N" -s "$SEG_N" -k 4M --file-allocation=none -d "$OUT"
                    --allow-overwrite=true --auto-file-renaming=false --summary-interval=0 "$url") ;;
    axel)      CMD=(axel -q -n "$SEG_N" -o "$OUT/" "$url") ;;
    wget2)     CMD=(wget2 --no-config -q --max-threads "$SEG_N" --chunk-size 16M
                    -P "$OUT" --no-robots --no-hsts --no-hpkp --no-ocsp --no-xattr --no-netrc
                    --no-cookies --no-metalink "$url") ;;
    # what this machine's nginx really gives SEG_N connections at once: SEG_N
    # curls, each its SEG_N-th of the file into /dev/null (no disk, no
    # splitting); the bytes they got are summed on the last line
    curl-null) CMD=(bash -c 'n=$1 url=$2 size=$3
                    for ((i = 0; i < n; i++)); do
                      curl -s -S -o /dev/null -w "%{size_download}\n" \
                           -r "$((size * i / n))-$((size * (i + 1) / n - 1))" "$url" &
                    done | awk "{s += \$1} END {printf \"%.0f\\n\", s}"' _ "$SEG_N" "$url" "$((mib * MIB))") ;;
    *) echo "seg_cmd: $tool?" >&2; exit 1 ;;
  esac
}

# --- the interactive screen under tmux -----------------------------------------
# run_screen RUN: the big list on siphon's screen in a 120x40 tmux pane; q is
# sent once every file is complete (the screen stays open when all is done).
run_screen() {
  local run=$1 n=$BIG_N bytes=$((BIG_N * BIG_MIB * MIB)) i t0 t1 rc ok=1 user sys rss vcs ics
  local tf=$WORK/screen.time rcf=$WORK/screen.rc log=$LOGS/screen.siphon-screen.$run.log
  local extra=""
  [ -n "$SIPHON_ARGS" ] && extra=" $SIPHON_ARGS"
  wipe_out; rm -f "$tf" "$rcf"
  prefault "$bytes"
  local cmd="/usr/bin/time -f '%U %S %M %w %c' -o '$tf' '$SIPHON' --no-config -j $BIG_J --per-host $BIG_J -d '$OUT'$extra '$LISTS/big.txt' 2>'$log.stderr'; echo \$? >'$rcf'"
  local wpid front=""
  watch_front "$WORK/front.cpu" & wpid=$!
  t0=$EPOCHREALTIME
  tmux -L "$TSOCK" -f /dev/null new-session -d -s bench -x 120 -y 40 "$cmd"
  shopt -s nullglob
  local files done_n=0 f
  for ((i = 0; i < RUN_TIMEOUT * 50; i++)); do
    [ -f "$rcf" ] && break
    files=("$OUT"/*); done_n=0
    for f in "${files[@]}"; do case "$f" in *.part) ;; *) done_n=$((done_n + 1)) ;; esac; done
    [ "$done_n" -ge "$n" ] && [ "${#files[@]}" -eq "$n" ] && break
    sleep 0.02
  done
  t1=$EPOCHREALTIME
  shopt -u nullglob
  tmux -L "$TSOCK" capture-pane -p -t bench >"$log" 2>/dev/null || true
  if [ ! -f "$rcf" ]; then
    tmux -L "$TSOCK" send-keys -t bench q 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do [ -f "$rcf" ] && break; sleep 0.05; done
  fi
  if [ ! -f "$rcf" ]; then   # it asked y/n: something was not finished
    tmux -L "$TSOCK" capture-pane -p -t bench >>"$log" 2>/dev/null || true
    tmux -L "$TSOCK" send-keys -t bench y 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do [ -f "$rcf" ] && break; sleep 0.05; done
  fi
  if [ -f "$rcf" ]; then rc=$(cat "$rcf"); else rc=timeout; echo "   the screen did not exit after q, y"; fi
  tmux -L "$TSOCK" kill-server 2>/dev/null || true
  kill "$wpid" 2>/dev/null || true; wait "$wpid" 2>/dev/null || true
  front=$(front_cpu "$WORK/front.cpu")
  [ "$rc" = 0 ] || { ok=0; echo "   siphon (screen) exited $rc; screen:"; sed 's/^/     | /' "$log" | head -20; }
  check_out "$n" "$bytes" || ok=0
  read -r user sys rss vcs ics < <(tail -1 "$tf" 2>/dev/null) || true
  user=${user:-0} sys=${sys:-0} rss=${rss:-0}
  record screen siphon-screen "$run" "$(fsub "$t1" "$t0")" "$user" "$sys" "$rss" "$rc" "$ok" \
    "${vcs:-0}" "${ics:-0}" "$bytes" "$front"
}

# --- the workloads ---------------------------------------------------------------
START=$(date -u +%Y-%m-%dT%H:%M:%SZ)

if want big || want screen; then
  say "big: $BIG_N x $BIG_MIB MiB, $BIG_J at once (generating)"
  mkdir -p "$WWW/big"
  for i in $(seq -w 1 "$BIG_N"); do make_file "$WWW/big/big$i.bin" "$BIG_MIB"; done
  write_lists big big
  if want big; then
    say "big: $BIG_N x $BIG_MIB MiB, $BIG_J at once"
    bench_list big big "$BIG_J" "$BIG_N" $((BIG_N * BIG_MIB * MIB))
  fi
  if want screen; then
    if [ "$PEERS_ONLY" = 1 ]; then note "screen workload skipped: no siphon"
    else
      say "screen: the big workload on siphon's screen (tmux 120x40) beside --headless"
      for r in $(rounds); do
        tool_cmd siphon big "$BIG_J"
        # in a session of its own, as the tmux pane's siphon is: with the
        # kernel's autogroups a process in nginx's session shares one
        # scheduling group with it, and siphon then took 15-20 % less CPU
        # for the same bytes (fewer, larger reads) than in a session of
        # its own, whatever the front end
        CMD=(setsid -w "${CMD[@]}")
        if [ $((${r#w} % 2)) = 1 ]; then
          run_one screen siphon "$r" "$BIG_N" $((BIG_N * BIG_MIB * MIB)) "${CMD[@]}"; run_screen "$r"
        else
          run_screen "$r"; run_one screen siphon "$r" "$BIG_N" $((BIG_N * BIG_MIB * MIB)) "${CMD[@]}"
        fi
      done
    fi
  fi
  rm -rf "$WWW/big"; wipe_out
fi

if want small; then
  say "small: $SMALL_N x $SMALL_KIB KiB, $SMALL_J at once"
  make_many "$WWW/small" s "$SMALL_N" "$SMALL_KIB"
  write_lists small small
  bench_list small small "$SMALL_J" "$SMALL_N" $((SMALL_N * SMALL_KIB * KIB))
  rm -rf "$WWW/small"; wipe_out
fi

if want https && [ -n "$CERT" ]; then
  say "https: $SMALL_N x $SMALL_KIB KiB over TLS + HTTP/2, $SMALL_J at once"
  make_many "$WWW/https" h "$SMALL_N" "$SMALL_KIB"
  write_lists https https "https://127.0.0.1:$TLS_PORT"
  bench_list https https "$SMALL_J" "$SMALL_N" $((SMALL_N * SMALL_KIB * KIB))
  rm -rf "$WWW/https"; wipe_out
fi

if want queue; then
  # RSS per queued item is the slope between this run and one of the first
  # half of the URLs: the same transfers at once, so what differs is only
  # the N/2 more URLs waiting (fixed start-up costs cancel out).
  QUEUE_HALF=$((QUEUE_N / 2))
  say "queue: $QUEUE_N x $QUEUE_KIB KiB, $QUEUE_J at once (and a $QUEUE_HALF-URL run per tool)"
  make_many "$WWW/queue" q "$QUEUE_N" "$QUEUE_KIB"
  write_lists queue queue
  head -"$QUEUE_HALF" "$LISTS/queue.txt" >"$LISTS/queue1.txt"
  head -$((2 * QUEUE_HALF + 1)) "$LISTS/queue.curl" >"$LISTS/queue1.curl"
  bench_list queue queue "$QUEUE_J" "$QUEUE_N" $((QUEUE_N * QUEUE_KIB * KIB))
  bench_list queue1 queue1 "$QUEUE_J" "$QUEUE_HALF" $((QUEUE_HALF * QUEUE_KIB * KIB))
  QUEUE_URL_BYTES=$(awk '{s += length($0)} END {printf "%.1f", s / NR}' "$LISTS/queue.txt")
  rm -rf "$WWW/queue"; wipe_out
fi

if want scale; then
  # issue 9: 80,000 x 1 KiB at -j 1000 must cost no more per file than at
  # -j 32, and the -j 32 run's peak RSS (80,000 URLs queued) at most curl's.
  say "scale: $SCALE_N x 1 KiB at -j $SCALE_J (wide) and at -j $QUEUE_J (scale32); tools: $(tools scale)"
  make_many "$WWW/scale" z "$SCALE_N" 1
  write_lists scale scale
  bench_list wide scale "$SCALE_J" "$SCALE_N" $((SCALE_N * KIB)) scale
  bench_list scale32 scale "$QUEUE_J" "$SCALE_N" $((SCALE_N * KIB)) scale
  rm -rf "$WWW/scale"; wipe_out
fi

if want single; then
  say "single: one $SINGLE_MIB MiB file, one connection"
  mkdir -p "$WWW/single"
  make_file "$WWW/single/single.bin" "$SINGLE_MIB"
  write_lists single single
  sbytes=$((SINGLE_MIB * MIB))
  for r in $(rounds); do
    for t in $(rotate "$(tools single)" "${r#w}"); do
      case "$t" in
        curl)      run_one single curl "$r" 1 "$sbytes" curl -s -S -o "$OUT/single.bin" "$BASE/single/single.bin" ;;
        curl-null) run_one single curl-null "$r" -1 "$sbytes" curl -s -S -o /dev/null -w '%{size_download}\n' "$BASE/single/single.bin" ;;
        *)         tool_cmd "$t" single 1; run_one single "$t" "$r" 1 "$sbytes" "${CMD[@]}" ;;
      esac
    done
  done
  rm -rf "$WWW/single"; wipe_out
fi

if want_seg; then
  # one served copy for both rows: segthrottled/ is nginx's limit_rate location
  say "segmented: one $SEG_MIB MiB file over $SEG_N connections (generating)"
  mkdir -p "$WWW/segsingle" "$WWW/segthrottled"
  make_file "$WWW/segsingle/seg.bin" "$SEG_MIB"
  ln "$WWW/segsingle/seg.bin" "$WWW/segthrottled/seg.bin"
  sbytes=$((SEG_MIB * MIB))
  # the throttled row has its own nginx with timer_resolution: with nginx's
  # default timers limit_rate arms each connection's next send from the time
  # its event-loop pass began, and epoll waits that long again from after
  # the pass, so connections that read as fast as data comes (8 curls into
  # /dev/null among them) get ~1.35x the limit and slow readers, whose
  # partial sends break the lockstep, get more (NOTES.md, "Issue 11").  1 ms
  # timers make the limit the limit for every client; SEG_TIMER= measures
  # with nginx's default.
  SEG_BASE=$BASE
  if want segthrottled && [ -n "$SEG_TIMER" ]; then
    start_nginx nginx-seg "timer_resolution $SEG_TIMER;" 0
    SEG_BASE=http://127.0.0.1:$NGINX_PORT
  fi
  for wl in segthrottled segsingle; do
    want "$wl" || continue
    set_=seg; [ "$wl" = segsingle ] && set_=segsingle
    if [ "$wl" = segthrottled ]; then
      say "segthrottled: one $SEG_MIB MiB file, $SEG_RATE/s per connection, $SEG_N connections (limit $(awk -v b="$sbytes" -v n="$SEG_N" -v r="$SEG_RATE_B" 'BEGIN {printf "%.2f", b / (n * r)}') s)"
    else
      say "segsingle: one $SEG_MIB MiB file, unthrottled, $SEG_N connections beside siphon -s 1"
    fi
    for r in $(rounds); do
      for t in $(rotate "$(tools $set_)" "${r#w}"); do
        base=$BASE; [ "$wl" = segthrottled ] && base=$SEG_BASE
        seg_cmd "$t" "$base/$wl/seg.bin" "$SEG_MIB"
        if [ "$t" = curl-null ]; then run_one "$wl" "$t" "$r" -1 "$sbytes" "${CMD[@]}"
        else run_one "$wl" "$t" "$r" 1 "$sbytes" "${CMD[@]}"; fi
      done
    done
  done
  rm -rf "$WWW/segsingle" "$WWW/segthrottled"; wipe_out
fi

# --- the report --------------------------------------------------------------------
for d in "$WORK"/nginx*/; do
  nerr=$(grep -c -E '\[(crit|error|alert|emerg)\]' "$d/error.log" 2>/dev/null || true)
  [ "${nerr:-0}" -gt 0 ] && note "$(basename "$d") logged $nerr errors, e.g.: $(grep -m1 -E '\[(crit|error|alert|emerg)\]' "$d/error.log" | cut -c1-200)"
done
ver() { "$@" 2>&1 | head -1 | tr -d '\r'; }
META=$WORK/meta.tsv
{
  printf 'date\t%s\n' "$START"
  printf 'quick\t%s\n' "$QUICK"
  printf 'runs\t%s\n' "$RUNS"
  printf 'warmup\t%s\n' "$WARMUP"
  printf 'prefault\t%s\n' "$PREFAULT"
  printf 'cpu\t%s\n' "$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
  printf 'nproc\t%s\n' "$(nproc)"
  printf 'memory\t%s\n' "$(awk '/^MemTotal:/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
  printf 'kernel\t%s\n' "$(uname -sr)"
  printf 'os\t%s\n' "$(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME")"
  printf 'tmpfs\t%s\n' "$TMPFS_WHERE"
  printf 'siphon\t%s\n' "$SIPHON_VERSION"
  printf 'siphon_commit\t%s\n' "$(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo '?')"
  printf 'siphon_args\t%s\n' "$SIPHON_ARGS"
  printf 'curl\t%s\n' "$(ver curl --version)"
  printf 'aria2c\t%s\n' "$(ver aria2c --version)"
  printf 'wget2\t%s\n' "$(ver wget2 --version)"
  want_seg && printf 'axel\t%s\n' "$(ver axel --version)"
  printf 'nginx\t%s\n' "$(ver "$NGINX" -v)"
  printf 'big\t%s\t%s\t%s\n' "$BIG_N" "$BIG_MIB" "$BIG_J"
  printf 'small\t%s\t%s\t%s\n' "$SMALL_N" "$SMALL_KIB" "$SMALL_J"
  printf 'queue\t%s\t%s\t%s\n' "$QUEUE_N" "$QUEUE_KIB" "$QUEUE_J"
  printf 'single\t%s\n' "$SINGLE_MIB"
  printf 'scale\t%s\t%s\t%s\n' "$SCALE_N" "$SCALE_J" "$QUEUE_J"
  printf 'seg\t%s\t%s\t%s\t%s\n' "$SEG_MIB" "$SEG_N" "$SEG_RATE" "$SEG_RATE_B"
  printf 'seg_timer\t%s\n' "$SEG_TIMER"
  printf 'buf_kib\t%s\n' "$BUF_KIB"
  printf 'queue_url_bytes\t%s\n' "${QUEUE_URL_BYTES:-0}"
  printf 'workloads\t%s\n' "$WORKLOADS"
  for n in "${NOTES[@]}"; do printf 'note\t%s\n' "$n"; done
} >"$META"
mkdir -p "$ROOT/build/bench" "$(dirname "$RESULTS")"
cp "$RAW" "$ROOT/build/bench/runs.tsv"; cp "$META" "$ROOT/build/bench/meta.tsv"
/usr/bin/python3 "$HERE/report.py" "$RAW" "$META" "$RESULTS" "$HERE/NOTES.md"
say "raw runs in build/bench/runs.tsv; table in ${RESULTS#$ROOT/}"
