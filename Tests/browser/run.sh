#!/usr/bin/env bash
# Spool's browser tests: real headless Chromium against a real Spool and a loopback media server.
#
#   SPOOL_BIN=.build/debug/Spool Tests/browser/run.sh [--screenshots] [pytest args…]
#
# Needs: Debian's `chromium` and `chromium-driver`, `ffmpeg`, and Python with `selenium` and
# `pytest` (see requirements.txt). Builds nothing: SPOOL_BIN (default .build/debug/Spool,
# relative to the repository root) must exist. Everything it starts (media server, Spool — also
# a Spool that a test restarted) is stopped on exit. Exits with pytest's status.
#
# --screenshots  after the tests, also writes docs/screenshot-phone.png and
#                docs/screenshot-desktop.png (see screenshots.py; SCREENSHOT_DIR and
#                SCREENSHOT_SCHEME=dark change where and which colour scheme).
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
cd "$ROOT"

export PYTHONDONTWRITEBYTECODE=1  # leave no __pycache__ in the work tree
SCREENSHOTS=0
if [[ "${1:-}" == "--screenshots" ]]; then
    SCREENSHOTS=1
    shift
fi

SPOOL_BIN="${SPOOL_BIN:-.build/debug/Spool}"
[[ "$SPOOL_BIN" = /* ]] || SPOOL_BIN="$ROOT/$SPOOL_BIN"
if [[ ! -x "$SPOOL_BIN" ]]; then
    echo "run.sh: no Spool binary at $SPOOL_BIN (build it: swift build --product Spool)" >&2
    exit 2
fi
for tool in ffmpeg python3 curl; do
    command -v "$tool" >/dev/null || { echo "run.sh: $tool is required" >&2; exit 2; }
done
for file in /usr/bin/chromium /usr/bin/chromedriver; do
    [[ -x "$file" ]] || { echo "run.sh: $file is missing (apt-get install -y chromium chromium-driver)" >&2; exit 2; }
done
python3 -c 'import selenium, pytest' 2>/dev/null || {
    echo "run.sh: Python needs selenium and pytest (pip install -r Tests/browser/requirements.txt)" >&2
    exit 2
}

WORK="$(mktemp -d "${TMPDIR:-/tmp}/spool-browser.XXXXXX")"
MEDIA_PID=""
KEEP_WORK="${KEEP_WORK:-0}"

stop_pid() {
    local pid="$1"
    [[ -n "$pid" ]] || return 0
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || return 0
        # A zombie (exited, not yet reaped) counts as stopped.
        grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null && return 0
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null
}

cleanup() {
    local status=$?
    # The Spool running now may be one a test restarted: its pid is in the pid file.
    [[ -f "$WORK/spool.pid" ]] && stop_pid "$(cat "$WORK/spool.pid")"
    stop_pid "$MEDIA_PID"
    wait 2>/dev/null
    if [[ $status -ne 0 || "$KEEP_WORK" == 1 ]]; then
        echo "run.sh: logs kept in $WORK (spool.log, media.log)"
    else
        rm -rf "$WORK"
    fi
    exit $status
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# 1. Test media, made here with ffmpeg's lavfi sources (H.264 + AAC, 640x360).
mkdir -p "$WORK/media" "$WORK/storage"
make_clip() { # name seconds tone-frequency
    ffmpeg -hide_banner -loglevel error -nostdin -y \
        -f lavfi -i "testsrc2=size=640x360:rate=25" -f lavfi -i "sine=frequency=$3:sample_rate=44100" \
        -t "$2" -c:v libx264 -preset veryfast -pix_fmt yuv420p -c:a aac -b:a 96k -shortest -movflags +faststart \
        "$WORK/media/$1"
}
make_clip clip.mp4 6 440 || { echo "run.sh: ffmpeg could not make test media" >&2; exit 2; }
make_clip long.mp4 40 330 || { echo "run.sh: ffmpeg could not make test media" >&2; exit 2; }

# 2. The loopback media server (/media/<file>, throttled /slow/<file>, 404 for anything else).
python3 "$HERE/media_server.py" --dir "$WORK/media" --port 0 --port-file "$WORK/media.port" \
    --slow-seconds "${SLOW_SECONDS:-12}" >"$WORK/media.log" 2>&1 &
MEDIA_PID=$!
for _ in $(seq 1 100); do [[ -s "$WORK/media.port" ]] && break; sleep 0.1; done
[[ -s "$WORK/media.port" ]] || { echo "run.sh: the media server did not start" >&2; cat "$WORK/media.log" >&2; exit 2; }
MEDIA_PORT="$(cat "$WORK/media.port")"

# 3. Spool on a free loopback port with fresh storage.
SPOOL_PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
"$SPOOL_BIN" --http-host 127.0.0.1 --http-port "$SPOOL_PORT" --storage-path "$WORK/storage" --public-path "$ROOT/Public" \
    >>"$WORK/spool.log" 2>&1 &
echo $! >"$WORK/spool.pid"
ready=0
for _ in $(seq 1 600); do
    if curl -fsS "http://127.0.0.1:$SPOOL_PORT/readyz" >/dev/null 2>&1; then ready=1; break; fi
    kill -0 "$(cat "$WORK/spool.pid")" 2>/dev/null || break
    sleep 0.1
done
if [[ $ready != 1 ]]; then
    echo "run.sh: Spool did not become ready on port $SPOOL_PORT" >&2
    tail -n 30 "$WORK/spool.log" >&2
    exit 2
fi
echo "run.sh: Spool on http://127.0.0.1:$SPOOL_PORT/, media on http://127.0.0.1:$MEDIA_PORT/, work dir $WORK"

export SPOOL_BIN SPOOL_PORT MEDIA_PORT
export SPOOL_URL="http://127.0.0.1:$SPOOL_PORT"
export MEDIA_URL="http://127.0.0.1:$MEDIA_PORT"
export MEDIA_DIR="$WORK/media"
export SPOOL_STORAGE="$WORK/storage"
export SPOOL_PUBLIC="$ROOT/Public"
export SPOOL_LOG="$WORK/spool.log"
export SPOOL_PID_FILE="$WORK/spool.pid"

# 4. The tests.
python3 -m pytest "$HERE" -p no:cacheprovider -v -ra --tb=short "$@"
status=$?
if [[ $status -eq 0 && $SCREENSHOTS == 1 ]]; then
    python3 "$HERE/screenshots.py" --out "${SCREENSHOT_DIR:-$ROOT/docs}" --scheme "${SCREENSHOT_SCHEME:-light}" || status=1
fi
exit $status
