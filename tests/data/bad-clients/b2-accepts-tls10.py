#!/usr/bin/env python3
"""Deliberately bad STARTTLS client for smtpsim: it allows TLS 1.0 and 1.1 (security level 0)
and delivers over whatever version the server offers, without checking the certificate. Run as
policy verify it should FAIL c.tls.min-version (both variants); as policy encrypt, WARN.
Usage: b2-accepts-tls10.py HOST PORT"""
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
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
ctx.minimum_version = ssl.TLSVersion.TLSv1
ctx.set_ciphers("DEFAULT@SECLEVEL=0")
t = ctx.wrap_socket(s, server_hostname="localhost")
for c in ["EHLO bad.client.test", "MAIL FROM:<sender@client.test>", "RCPT TO:<rcpt@mx.test>", "DATA"]:
    t.sendall(c.encode() + b"\r\n"); reply(t)
t.sendall(b"Subject: x\r\n\r\nbody\r\n.\r\n"); reply(t)
t.sendall(b"QUIT\r\n"); reply(t)
t.close()
