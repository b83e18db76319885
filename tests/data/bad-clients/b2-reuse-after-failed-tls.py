#!/usr/bin/env python3
"""Deliberately bad STARTTLS client for smtpsim: after the 220 to STARTTLS it sends a real
ClientHello; when the server answers with something that is not TLS (a plaintext "554 ..."), it
forgets about TLS and goes on with EHLO/MAIL/RCPT/DATA in plaintext on the SAME connection.
Should FAIL c.broken.220-then-plaintext-error under every policy (may included).
Usage: b2-reuse-after-failed-tls.py HOST PORT"""
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
ctx.verify_mode = ssl.CERT_NONE
inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
obj = ctx.wrap_bio(inc, out, server_hostname="localhost")
try:
    obj.do_handshake()
except ssl.SSLWantReadError:
    pass
s.sendall(out.read())  # the ClientHello
answer = s.recv(4096)
if answer[:1] == b"\x16":
    sys.exit(1)  # a real ServerHello: not the scenario this client is for
for c in ["EHLO bad.client.test", "MAIL FROM:<sender@client.test>", "RCPT TO:<rcpt@mx.test>", "DATA"]:
    s.sendall(c.encode() + b"\r\n"); reply(s)
s.sendall(b"Subject: x\r\n\r\nreused in plaintext\r\n.\r\n"); reply(s)
s.sendall(b"QUIT\r\n"); reply(s)
s.close()
