#!/usr/bin/env python3
"""Deliberately bad opportunistic (policy may) STARTTLS client for smtpsim: it verifies the
server certificate during the handshake (system trust store, host name), and when that fails it
reconnects and delivers in plaintext without STARTTLS -- a downgrade caused purely by the
certificate. Should FAIL c.broken.cert-invalid and c.tls.incomplete-chain under policy may.
Usage: b2-may-downgrade-on-bad-cert.py HOST PORT"""
import socket, ssl, sys

host, port = sys.argv[1], int(sys.argv[2])


def reply(f):
    data = b""
    while True:
        chunk = f.recv(4096)
        if not chunk:
            return data
        data += chunk
        lines = data.split(b"\r\n")
        if len(lines) >= 2 and len(lines[-2]) >= 4 and lines[-2][3:4] == b" ":
            return data


def deliver(f):
    for c in ["MAIL FROM:<sender@client.test>", "RCPT TO:<rcpt@mx.test>", "DATA"]:
        f.sendall(c.encode() + b"\r\n"); reply(f)
    f.sendall(b"Subject: x\r\n\r\nbody\r\n.\r\n"); reply(f)
    f.sendall(b"QUIT\r\n"); reply(f)


s = socket.create_connection((host, port), timeout=10)
if not reply(s).startswith(b"220"):
    s.sendall(b"QUIT\r\n")
    sys.exit(1)
s.sendall(b"EHLO bad.client.test\r\n"); reply(s)
s.sendall(b"STARTTLS\r\n")
if reply(s).startswith(b"220"):
    ctx = ssl.create_default_context()  # CERT_REQUIRED, check_hostname
    try:
        t = ctx.wrap_socket(s, server_hostname="localhost")
        t.sendall(b"EHLO bad.client.test\r\n"); reply(t)
        deliver(t)
        t.close()
        sys.exit(0)
    except ssl.SSLError:
        s.close()
# The downgrade: a new connection, no STARTTLS.
s = socket.create_connection((host, port), timeout=10)
reply(s)
s.sendall(b"EHLO bad.client.test\r\n"); reply(s)
deliver(s)
s.close()
