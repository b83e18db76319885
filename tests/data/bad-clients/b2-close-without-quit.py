#!/usr/bin/env python3
"""Deliberately impolite verifying (policy verify) STARTTLS client for smtpsim: it completes the
handshake, finds the certificate untrusted (system trust store) and then ends the TLS session
with a close_notify but without the QUIT RFC 3207 §4.1 asks for. It never sends mail. Should
WARN c.broken.quit-when-inadequate (and PASS c.broken.cert-invalid under verify).
Usage: b2-close-without-quit.py HOST PORT"""
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


s = socket.create_connection((host, port), timeout=10)
if not reply(s).startswith(b"220"):
    s.sendall(b"QUIT\r\n")
    sys.exit(1)
s.sendall(b"EHLO bad.client.test\r\n"); reply(s)
s.sendall(b"STARTTLS\r\n")
if not reply(s).startswith(b"220"):
    sys.exit(1)
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE  # complete the handshake; it then judges the session inadequate
t = ctx.wrap_socket(s, server_hostname="localhost")
try:
    t.unwrap()  # close_notify, no QUIT
except (ssl.SSLError, OSError):
    pass
s.close()
sys.exit(1)
