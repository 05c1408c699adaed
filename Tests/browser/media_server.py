#!/usr/bin/env python3
"""A tiny loopback media server for Spool's browser tests.

Serves the files of one folder on 127.0.0.1 only:

  GET/HEAD /media/<file>   the file at full speed, with Content-Type, Content-Length and
                           single-range support (yt-dlp's generic extractor and its HTTP
                           downloader are happy with that)
  GET/HEAD /slow/<file>    the same bytes, throttled: small chunks with short sleeps so that the
                           whole body takes about --slow-seconds (default 15 s)
  anything else            404 Not Found (a plain-text body)

Usage: media_server.py --dir DIR [--port 0] [--port-file FILE] [--slow-seconds 15]
With --port 0 the OS picks a free port; it is written to --port-file (and printed) once the
server is listening, so a runner can wait for the file to appear.
"""

import argparse
import mimetypes
import os
import re
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

TYPES = {".mp4": "video/mp4", ".m4a": "audio/mp4", ".mp3": "audio/mpeg", ".webm": "video/webm"}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "SpoolTestMedia/1"

    def log_message(self, fmt, *args):  # keep the test output readable
        if os.environ.get("MEDIA_SERVER_LOG"):
            sys.stderr.write("media: " + (fmt % args) + "\n")

    def do_HEAD(self):
        self.handle_request(head=True)

    def do_GET(self):
        self.handle_request(head=False)

    def not_found(self, head):
        body = b"Not Found\n"
        self.send_response(404)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def handle_request(self, head):
        path = unquote(self.path.split("?", 1)[0])
        match = re.fullmatch(r"/(media|slow)/([A-Za-z0-9._-]+)", path)
        if not match:
            return self.not_found(head)
        mode, name = match.groups()
        file_path = os.path.join(self.server.media_dir, name)
        if not os.path.isfile(file_path):
            return self.not_found(head)
        size = os.path.getsize(file_path)
        start, end = 0, size - 1
        status = 200
        header = self.headers.get("Range")
        if header:
            m = re.fullmatch(r"bytes=(\d*)-(\d*)", header.strip())
            if m and (m.group(1) or m.group(2)):
                if m.group(1):
                    start = int(m.group(1))
                    end = min(int(m.group(2)), size - 1) if m.group(2) else size - 1
                else:
                    start = max(0, size - int(m.group(2)))
                if start > end or start >= size:
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{size}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                status = 206
        length = end - start + 1
        ext = os.path.splitext(name)[1].lower()
        self.send_response(status)
        self.send_header("Content-Type", TYPES.get(ext) or mimetypes.guess_type(name)[0] or "application/octet-stream")
        self.send_header("Content-Length", str(length))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Last-Modified", self.date_time_string(int(os.path.getmtime(file_path))))
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.end_headers()
        if head:
            return
        # Whole-file pace for /slow/: ~20 chunks a second spread over --slow-seconds.
        ticks = max(1, int(self.server.slow_seconds * 20))
        chunk = max(1024, size // ticks) if mode == "slow" else 64 * 1024
        try:
            with open(file_path, "rb") as f:
                f.seek(start)
                remaining = length
                while remaining > 0:
                    data = f.read(min(chunk, remaining))
                    if not data:
                        break
                    self.wfile.write(data)
                    self.wfile.flush()
                    remaining -= len(data)
                    if mode == "slow":
                        time.sleep(0.05)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client (yt-dlp reading headers only) hung up: fine


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--port-file")
    parser.add_argument("--slow-seconds", type=float, default=15.0)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.media_dir = os.path.abspath(args.dir)
    server.slow_seconds = args.slow_seconds
    port = server.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(str(port))
        os.replace(tmp, args.port_file)
    print(f"media server on http://127.0.0.1:{port}/", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
