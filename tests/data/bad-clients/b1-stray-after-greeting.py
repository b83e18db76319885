#!/usr/bin/env python3
"""Deliberately bad SMTP client (c.inject.extra-after-greeting): it keeps the lines that came
with the greeting and takes the next one as the EHLO reply. Opportunistic: without STARTTLS in
that "reply" it sends mail in plaintext. Usage: HOST PORT"""
import socket
import sys

s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
buf = b""


def reply():
    global buf
    while True:
        while b"\r\n" not in buf:
            data = s.recv(4096)
            if not data:
                sys.exit(1)
            buf += data
        first, buf = buf.split(b"\r\n", 1)
        if first[3:4] != b"-":
            return first


reply()  # greeting; "250 PIPELINING" stays in buf
s.sendall(b"EHLO bad.test\r\n")
ehlo = reply()
if b"STARTTLS" not in ehlo.upper():
    s.sendall(b"MAIL FROM:<a@bad.test>\r\n")
    reply()
s.sendall(b"QUIT\r\n")
s.close()
