#!/usr/bin/env python3
"""Deliberately bad mandatory-TLS (run it as policy encrypt) STARTTLS client for smtpsim: it
delivers over TLS, but when the TLS session is dropped (reset) it reconnects and delivers in
plaintext without STARTTLS. Should FAIL c.broken.session-drop (every variant) under encrypt.
Usage: b2-fallback-after-drop.py HOST PORT"""
import socket, ssl, sys

host, port = sys.argv[1], int(sys.argv[2])


def reply(f):
    data = b""
    while True:
        chunk = f.recv(4096)
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
        lines = data.split(b"\r\n")
        if len(lines) >= 2 and len(lines[-2]) >= 4 and lines[-2][3:4] == b" ":
            return data


def deliver(f):
    for c in ["MAIL FROM:<sender@client.test>", "RCPT TO:<rcpt@mx.test>", "DATA"]:
        f.sendall(c.encode() + b"\r\n"); reply(f)
    f.sendall(b"Subject: x\r\n\r\nbody\r\n.\r\n"); reply(f)
    f.sendall(b"QUIT\r\n"); reply(f)


try:
    s = socket.create_connection((host, port), timeout=10)
    if not reply(s).startswith(b"220"):
        s.sendall(b"QUIT\r\n")
        sys.exit(1)
    s.sendall(b"EHLO bad.client.test\r\n"); reply(s)
    s.sendall(b"STARTTLS\r\n"); reply(s)
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    t = ctx.wrap_socket(s, server_hostname="localhost")
    t.sendall(b"EHLO bad.client.test\r\n"); reply(t)
    deliver(t)
    sys.exit(0)
except (OSError, ConnectionError):
    pass
s = socket.create_connection((host, port), timeout=10)
reply(s)
s.sendall(b"EHLO bad.client.test\r\n"); reply(s)
deliver(s)
s.close()
