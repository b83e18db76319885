#!/usr/bin/env python3
"""Deliberately bad wrapper-mode (implicit TLS) client for smtpsim: it sends a real TLS
ClientHello, and when the server answers in plaintext ("220 ... ESMTP") it gives up on TLS and
goes on speaking SMTP in the clear on the same connection. Should FAIL
c.wrapper.no-plaintext-downgrade.
Usage: b2-wrapper-downgrade.py HOST PORT"""
import socket, ssl, sys

host, port = sys.argv[1], int(sys.argv[2])
s = socket.create_connection((host, port), timeout=10)
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
buf = s.recv(4096)
if not buf.startswith(b"220"):
    sys.exit(1)  # a real TLS answer: nothing to downgrade


def cmd(line):
    s.sendall(line.encode() + b"\r\n")
    return s.recv(4096)


cmd("EHLO bad.client.test")
cmd("MAIL FROM:<sender@client.test>")
cmd("RCPT TO:<rcpt@mx.test>")
r = cmd("DATA")
if r.startswith(b"354"):
    cmd("Subject: downgraded\r\n\r\nsent in the clear\r\n.")
cmd("QUIT")
s.close()
