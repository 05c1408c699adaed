"""permessage-deflate: offered by browsers (so every page test in this folder runs compressed),
checked here at the handshake, and with a raw compressed round trip."""

import base64
import json
import os
import socket
import struct
import zlib

from conftest import Env


def _handshake(extensions):
    port = int(os.environ["SPOOL_PORT"])
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET /api/ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
        f"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: {key}\r\n"
    )
    if extensions:
        request += f"Sec-WebSocket-Extensions: {extensions}\r\n"
    sock.sendall((request + "\r\n").encode())
    response = b""
    while b"\r\n\r\n" not in response:
        response += sock.recv(4096)
    head, rest = response.split(b"\r\n\r\n", 1)
    return sock, head.decode(), rest


def _read_frame(sock, buffered):
    data = buffered
    while len(data) < 2:
        data += sock.recv(4096)
    first, second = data[0], data[1]
    length, offset = second & 0x7F, 2
    if length == 126:
        while len(data) < 4:
            data += sock.recv(4096)
        length, offset = struct.unpack(">H", data[2:4])[0], 4
    while len(data) < offset + length:
        data += sock.recv(4096)
    return first, data[offset:offset + length], data[offset + length:]


def _send_compressed_text(sock, text):
    compressor = zlib.compressobj(wbits=-15)
    payload = compressor.compress(text.encode()) + compressor.flush(zlib.Z_SYNC_FLUSH)
    payload = payload[:-4]  # RFC 7692: drop the 00 00 ff ff tail
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    # FIN + RSV1 (compressed) + text opcode; masked, short length.
    sock.sendall(bytes([0x80 | 0x40 | 0x1, 0x80 | len(masked)]) + mask + masked)


def test_deflate_is_negotiated_and_round_trips():
    sock, head, rest = _handshake("permessage-deflate; client_max_window_bits")
    try:
        assert head.startswith("HTTP/1.1 101"), head
        assert "permessage-deflate" in head.lower(), head
        _send_compressed_text(sock, json.dumps({"type": "ping", "id": "z1"}))
        first, payload, rest = _read_frame(sock, rest)
        if first & 0x40:  # the server compressed its answer
            payload = zlib.decompress(payload + b"\x00\x00\xff\xff", wbits=-15)
        reply = json.loads(payload)
        assert reply["type"] == "pong" and reply["id"] == "z1", reply
    finally:
        sock.close()


def test_plain_clients_still_work_uncompressed():
    sock, head, rest = _handshake(None)
    try:
        assert head.startswith("HTTP/1.1 101"), head
        assert "permessage-deflate" not in head.lower(), head
    finally:
        sock.close()
    assert Env.spool_url
