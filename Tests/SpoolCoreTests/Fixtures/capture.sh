#!/usr/bin/env bash
# Regenerates the parser fixtures in this directory from the REAL installed tools
# (ffmpeg, ffprobe, yt-dlp), so the parsers are tested against what the tools actually
# print rather than against what we believe they print.
#
# Everything happens on loopback: media is synthesised with `ffmpeg -f lavfi`, served by a
# small Python HTTP server, and fetched back with yt-dlp. Run from anywhere:
#     Tests/SpoolCoreTests/Fixtures/capture.sh
# The outputs are committed; rerun only when a tool is upgraded (and review the diff).
set -euo pipefail

OUT="$(cd "$(dirname "$0")" && pwd)"
WORK="$(mktemp -d)"
SERVER_PID=""
cleanup() {
    if [[ -n "$SERVER_PID" ]]; then kill "$SERVER_PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

# Must stay identical to YtDlpProgressParser.template (a test checks this).
TEMPLATE='download:spool-dl %(progress.status)s %(progress.downloaded_bytes)s %(progress.total_bytes)s %(progress.total_bytes_estimate)s %(progress.speed)s %(progress.eta)s %(progress.fragment_index)s %(progress.fragment_count)s'

cd "$WORK"
mkdir -p www dl

# --- media --------------------------------------------------------------------------------
# 8 s of test pattern + 440 Hz tone. Keyframes every 2 s so HLS can cut 2 s segments.
ffmpeg -hide_banner -v error -y \
    -f lavfi -i testsrc2=size=640x360:rate=25 -f lavfi -i sine=frequency=440 -t 8 \
    -c:v libx264 -g 50 -keyint_min 50 -sc_threshold 0 -pix_fmt yuv420p \
    -c:a aac -b:a 128k -shortest www/src.mp4
# A cover picture, then an mp3 carrying it as an attached picture (a video stream that
# is not really video: MediaInfo must ignore it).
ffmpeg -hide_banner -v error -y -f lavfi -i testsrc2=size=320x320 -frames:v 1 www/cover.png
ffmpeg -hide_banner -v error -y -i www/src.mp4 -i www/cover.png -map 0:a -map 1:v \
    -c:a libmp3lame -b:a 128k -c:v mjpeg -disposition:v attached_pic \
    -metadata title="Spool tone" www/src.mp3
# Another container/codec pair: WebM with VP9 + Opus (2 s keeps it quick).
ffmpeg -hide_banner -v error -y -i www/src.mp4 -t 2 -vf scale=320:180 \
    -c:v libvpx-vp9 -deadline realtime -cpu-used 8 -b:v 300k -c:a libopus -b:a 64k www/src.webm
# HLS: a master playlist with an audio+video variant and an audio-only variant, so the
# yt-dlp JSON has real codecs/heights and the download reports fragment indexes.
# Re-encoded (not copied) because only then does ffmpeg write CODECS= for the video variant.
mkdir -p www/hls
ffmpeg -hide_banner -v error -y -i www/src.mp4 -map 0:v -map 0:a -map 0:a \
    -c:v libx264 -g 50 -keyint_min 50 -sc_threshold 0 -c:a aac -b:a 128k -f hls -hls_time 2 -hls_playlist_type vod \
    -hls_segment_filename 'www/hls/v%v_%03d.ts' -master_pl_name master.m3u8 \
    -var_stream_map 'v:0,a:0 a:1' 'www/hls/v%v.m3u8'

# --- HTTP server ----------------------------------------------------------------------------
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
BASE="http://127.0.0.1:$PORT"

# /nolength/NAME streams www/NAME slowly with no Content-Length (HTTP/1.0, end = close),
# which is how yt-dlp ends up with unknown totals (NA) in its progress.
cat > server.py <<'PY'
import http.server, os, sys, time

ROOT = sys.argv[2]

class Handler(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, directory=ROOT, **kwargs)

    def log_message(self, *args):
        pass

    def do_GET(self):
        if not self.path.startswith("/nolength/"):
            return super().do_GET()
        path = os.path.join(ROOT, os.path.basename(self.path))
        if not os.path.isfile(path):
            return self.send_error(404)
        self.send_response(200)
        self.send_header("Content-Type", "video/mp4")
        self.end_headers()
        try:
            with open(path, "rb") as f:
                while chunk := f.read(128 * 1024):
                    self.wfile.write(chunk)
                    self.wfile.flush()
                    time.sleep(0.15)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the generic extractor reads only the start of the "webpage", then hangs up

http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
PY
python3 server.py "$PORT" "$WORK/www" &
SERVER_PID=$!
for _ in $(seq 50); do curl -fs -o /dev/null "$BASE/src.mp4" 2>/dev/null && break; python3 -c 'import time; time.sleep(0.1)'; done

# A page (html5 extractor: thumbnail, og:title) and an RSS feed (a playlist, which Spool refuses).
cat > www/page.html <<EOF
<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Spool test page</title>
<meta property="og:title" content="A 440 Hz test tone">
<meta property="og:image" content="$BASE/cover.png">
</head><body>
<video controls poster="$BASE/cover.png"><source src="$BASE/src.mp4" type="video/mp4"></video>
</body></html>
EOF
cat > www/feed.xml <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Spool test feed</title><link>$BASE/</link><description>two items</description>
<item><title>Tone one</title><link>$BASE/src.mp4</link><enclosure url="$BASE/src.mp4" type="video/mp4" length="1"/><guid>one</guid></item>
<item><title>Tone two</title><link>$BASE/src.mp3</link><enclosure url="$BASE/src.mp3" type="audio/mpeg" length="1"/><guid>two</guid></item>
</channel></rss>
EOF

# --- yt-dlp progress -----------------------------------------------------------------------
ytdl() { (cd dl && rm -f out.* && yt-dlp --newline --no-playlist --no-part --progress-template "$TEMPLATE" -o 'out.%(ext)s' "$@"); }
# Known total (Content-Length); rate-limited so there are several lines.
ytdl --rate-limit 200K -- "$BASE/src.mp4" > "$OUT/ytdlp-progress-known-total.txt"
# No Content-Length: total, estimate and eta are all NA until the end.
ytdl -- "$BASE/nolength/src.mp4" > "$OUT/ytdlp-progress-unknown-total.txt"
# HLS: fragment index/count, and only an estimate of the total.
ytdl -- "$BASE/hls/master.m3u8" > "$OUT/ytdlp-progress-hls.txt"
stat -c %s www/src.mp4 > "$OUT/src-mp4-size.txt"

# --- yt-dlp -J ------------------------------------------------------------------------------
yt-dlp -J --no-playlist -- "$BASE/src.mp4" > "$OUT/ytdlp-direct-mp4.json"
yt-dlp -J --no-playlist -- "$BASE/hls/master.m3u8" > "$OUT/ytdlp-hls.json"
yt-dlp -J --no-playlist -- "$BASE/page.html" > "$OUT/ytdlp-html5-page.json" 2>/dev/null
yt-dlp -J --no-playlist -- "$BASE/feed.xml" > "$OUT/ytdlp-rss-playlist.json" 2>/dev/null

# --- ffmpeg -progress -----------------------------------------------------------------------
# Audio extraction to mp3 (fast: one start block and the end block).
ffmpeg -hide_banner -nostats -progress pipe:1 -y -i www/src.mp4 -c:a libmp3lame -b:a 128k dl/out.mp3 \
    > "$OUT/ffmpeg-progress-mp3.txt" 2>/dev/null
# Full H.264/AAC re-encode, reporting every 0.2 s.
ffmpeg -hide_banner -nostats -progress pipe:1 -stats_period 0.2 -y -i www/src.mp4 \
    -c:v libx264 -preset slow -c:a aac dl/out.mp4 > "$OUT/ffmpeg-progress-mp4.txt" 2>/dev/null
# Stream copy from a seek point (keyframe before it) at real-time pace: the first block has a
# NEGATIVE out_time and speed=N/A; -f null makes total_size and bitrate N/A throughout.
ffmpeg -hide_banner -nostats -progress pipe:1 -stats_period 0.5 -re -ss 2.5 -t 1.5 -i www/src.mp4 \
    -c:v copy -an -f null - > "$OUT/ffmpeg-progress-seek-copy.txt" 2>/dev/null

# --- ffprobe --------------------------------------------------------------------------------
for f in src.mp4 src.mp3 src.webm; do
    ffprobe -v error -print_format json -show_format -show_streams "www/$f" > "$OUT/ffprobe-${f/./-}.json"
done

echo "fixtures written to $OUT"
