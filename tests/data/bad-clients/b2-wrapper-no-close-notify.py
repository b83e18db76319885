#!/usr/bin/env python3
"""Deliberately bad wrapper-mode (implicit TLS) client for smtpsim: it delivers over implicit
TLS (without checking the certificate: run it as policy encrypt) and then drops the TCP connection without QUIT and without a TLS close_notify. Should WARN
c.wrapper.close-notify. (A client that QUITs cannot be judged there: the fake server closes first
after its 221; see the report.)
Usage: b2-wrapper-no-close-notify.py HOST PORT"""
import socket, ssl, sys

host, port = sys.argv[1], int(sys.argv[2])
raw = socket.create_connection((host, port), timeout=10)
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
t = ctx.wrap_socket(raw, server_hostname="localhost")


def reply():
    data = b""
    while True:
        data += t.recv(4096)
        lines = data.split(b"\r\n")
        if len(lines) >= 2 and len(lines[-2]) >= 4 and lines[-2][3:4] == b" ":
            return data


if not reply().startswith(b"220"):
    t.sendall(b"QUIT\r\n")
    reply()
    t.unwrap()
    raw.close()
    sys.exit(1)
for c in ["EHLO bad.client.test", "MAIL FROM:<sender@client.test>", "RCPT TO:<rcpt@mx.test>", "DATA"]:
    t.sendall(c.encode() + b"\r\n")
    reply()
t.sendall(b"Subject: x\r\n\r\nbody\r\n.\r\n")
reply()
# No QUIT, no close_notify (no unwrap): close the TCP socket under TLS.
raw.shutdown(socket.SHUT_RDWR)
raw.close()
