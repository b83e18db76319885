#!/usr/bin/env python3
"""A hostile SMTP client for the harness tests: connects and writes endless plaintext lines,
MAIL commands among them, without reading a reply."""
import socket
import sys

sock = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
chunk = b"MAIL FROM:<flood@client.test>\r\n" + b"X" * 200 + b"\r\n"
try:
    for _ in range(200000):
        sock.sendall(chunk * 16)
except OSError:
    pass
