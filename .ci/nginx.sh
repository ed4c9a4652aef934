#!/usr/bin/env bash
# Starts an nginx on loopback that serves test files for tests/http/nginx.rs and benches/http.rs, and
# prints its base URL (the only line on stdout):
#
#   export BGCOPY_NGINX_URL="$(bash .ci/nginx.sh)"
#   bash .ci/nginx.sh stop
#
# Served from $BGCOPY_NGINX_DIR/www (default /tmp/bgcopy-nginx/www):
#   large.bin           64 MiB of random bytes
#   small/NNN.bin       200 files of 16 KiB
#   SHA256SUMS          sha256sum of every file above (paths relative to www/)
#   huge.bin, cap.bin   1 GiB and 40 MiB of random bytes, only with BGCOPY_NGINX_HUGE=1
#                       (benches/segments.rs)
#
# A second server on the next port ($BGCOPY_NGINX_CACHE_PORT, default 18081) is an HTTP cache in
# front of any origin, as a LAN cache host (DESIGN 6.2): it fetches `http://<cacheHostOrigin>/<path>`
# (the query parameter bgcopy adds) in 1 MiB slices, keeps each slice, and lets one request per
# slice reach the origin while the others wait for it (`proxy_cache_lock`). Logs, one line per
# request, with the bytes sent and the Range asked for:
#   logs/origin.log     what the origin (the first server) sent: the tests' byte count
#   logs/cache.log      what the cache sent, and whether it was a hit
# `bash .ci/nginx.sh cache-url` prints the cache's base URL.
#
# Idempotent: files are generated once, a running server is reused. Installs nginx with apt-get
# when it is missing. Listens on 127.0.0.1 only ($BGCOPY_NGINX_PORT, default 18080); no gzip.
set -euo pipefail

dir="${BGCOPY_NGINX_DIR:-/tmp/bgcopy-nginx}"
port="${BGCOPY_NGINX_PORT:-18080}"
cache_port="${BGCOPY_NGINX_CACHE_PORT:-$((port + 1))}"
url="http://127.0.0.1:${port}"
say() { echo "nginx.sh: $*" >&2; }

nginx_bin() {
  command -v nginx 2>/dev/null || { [ -x /usr/sbin/nginx ] && echo /usr/sbin/nginx; } || true
}

running() {
  [ -s "$dir/nginx.pid" ] && kill -0 "$(cat "$dir/nginx.pid")" 2>/dev/null &&
    curl -fsS -o /dev/null --max-time 5 "$url/SHA256SUMS" 2>/dev/null
}

if [ "${1:-start}" = cache-url ]; then
  echo "http://127.0.0.1:${cache_port}"
  exit 0
fi

if [ "${1:-start}" = stop ]; then
  if [ -s "$dir/nginx.pid" ] && kill -0 "$(cat "$dir/nginx.pid")" 2>/dev/null; then
    "$(nginx_bin)" -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" -s quit
    say "stopped"
  fi
  exit 0
fi

# The 1 GiB file of benches/segments.rs, on request (CI does not need it).
huge() {
  if [ "${BGCOPY_NGINX_HUGE:-0}" = 1 ] && [ ! -s "$dir/www/huge.bin" ]; then
    say "generating $dir/www/huge.bin (1 GiB)"
    mkdir -p "$dir/www"
    head -c $((1024 * 1024 * 1024)) /dev/urandom > "$dir/www/huge.bin.tmp"
    chmod a+r "$dir/www/huge.bin.tmp"
    mv "$dir/www/huge.bin.tmp" "$dir/www/huge.bin"
  fi
  if [ "${BGCOPY_NGINX_HUGE:-0}" = 1 ] && [ ! -s "$dir/www/cap.bin" ]; then
    head -c $((40 * 1024 * 1024)) /dev/urandom > "$dir/www/cap.bin.tmp"
    chmod a+r "$dir/www/cap.bin.tmp"
    mv "$dir/www/cap.bin.tmp" "$dir/www/cap.bin"
  fi
}

if running; then
  huge
  echo "$url"
  exit 0
fi

if [ -z "$(nginx_bin)" ]; then
  say "installing nginx"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends nginx-light >&2 2>/dev/null ||
    apt-get install -y -qq --no-install-recommends nginx >&2
  # The package may start a system instance on port 80: this script does not need it.
  if command -v service >/dev/null 2>&1; then service nginx stop >&2 2>/dev/null || true; fi
fi
nginx="$(nginx_bin)"
[ -n "$nginx" ] || { say "nginx is not available"; exit 1; }

mkdir -p "$dir/www/small" "$dir/tmp" "$dir/logs" "$dir/cache"
chmod 755 "$dir" "$dir/www" "$dir/www/small"
if [ ! -s "$dir/www/SHA256SUMS" ]; then
  say "generating test files in $dir/www"
  head -c $((64 * 1024 * 1024)) /dev/urandom > "$dir/www/large.bin"
  for i in $(seq -w 0 199); do
    head -c $((16 * 1024)) /dev/urandom > "$dir/www/small/$i.bin"
  done
  (cd "$dir/www" && sha256sum large.bin small/*.bin > SHA256SUMS.tmp && mv SHA256SUMS.tmp SHA256SUMS)
  chmod -R a+rX "$dir/www"
fi
huge

user_line=""
if [ "$(id -u)" = 0 ]; then user_line="user root;"; fi
cat > "$dir/nginx.conf" <<EOF
$user_line
worker_processes 2;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 512; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
    keepalive_timeout 60s;
    gzip off;
    default_type application/octet-stream;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    log_format bytes '\$msec \$request_method \$request_uri \$status \$body_bytes_sent "\$http_range" \$upstream_cache_status';
    server {
        listen 127.0.0.1:$port;
        root $dir/www;
        access_log $dir/logs/origin.log bytes;
        location / { }
    }
    proxy_cache_path $dir/cache levels=1:2 keys_zone=bgcopy_cache:16m max_size=4g inactive=1d use_temp_path=off;
    server {
        listen 127.0.0.1:$cache_port;
        access_log $dir/logs/cache.log bytes;
        location / {
            if (\$arg_cacheHostOrigin = "") { return 400; }
            slice 1m;
            proxy_cache bgcopy_cache;
            proxy_cache_key \$arg_cacheHostOrigin\$uri\$slice_range;
            proxy_set_header Range \$slice_range;
            proxy_cache_valid 200 206 1d;
            proxy_cache_lock on;
            proxy_cache_lock_age 120s;
            proxy_cache_lock_timeout 120s;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_connect_timeout 3s;
            proxy_pass http://\$arg_cacheHostOrigin\$uri;
        }
    }
}
EOF

# A stale pid file from an earlier run that died is harmless: nginx rewrites it.
"$nginx" -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" -t -q >&2
"$nginx" -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log"
for _ in $(seq 1 50); do
  if running; then
    say "serving $dir/www at $url"
    echo "$url"
    exit 0
  fi
  sleep 0.1
done
say "nginx did not come up; see $dir/error.log"
cat "$dir/error.log" >&2 || true
exit 1
