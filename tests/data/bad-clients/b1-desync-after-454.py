#!/usr/bin/env python3
"""Deliberately bad SMTP client (c.inject.after-454): it reads one line per command from a
buffer it never flushes, so lines appended to the 454 answer its later commands
(curl < 7.79.0, CVE-2021-22947 style). Opportunistic: continues in plaintext. Usage: HOST PORT"""
import socket
import sys

s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
buf = b""


def line():
    global buf
    while b"\r\n" not in buf:
        data = s.recv(4096)
        if not data:
            sys.exit(1)
        buf += data
    first, buf = buf.split(b"\r\n", 1)
    return first


def reply():
    while True:
        l = line()
        if l[3:4] != b"-":
            return l


reply()
s.sendall(b"EHLO bad.test\r\n")
reply()
s.sendall(b"STARTTLS\r\n")
reply()  # 454: continue in plaintext; the forged lines stay in buf
for cmd in (b"MAIL FROM:<a@bad.test>", b"RCPT TO:<b@mx.test>", b"DATA"):
    s.sendall(cmd + b"\r\n")
    if not reply().startswith((b"2", b"3")):
        break
s.sendall(b"QUIT\r\n")
s.close()
