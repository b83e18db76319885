#!/usr/bin/env python3
"""Deliberately bad SMTP client (c.starttls.clienthello-next): after the 220 to STARTTLS it
sends EHLO in the clear instead of a TLS ClientHello. Usage: HOST PORT"""
import socket
import sys

s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
f = s.makefile("rb")


def reply():
    while True:
        line = f.readline()
        if not line or line[3:4] != b"-":
            return line


reply()  # greeting
f = s.makefile("rb")  # drop anything that came with the greeting
for cmd in (b"EHLO bad.test", b"STARTTLS", b"EHLO bad.test", b"QUIT"):
    s.sendall(cmd + b"\r\n")
    if not reply():
        break
s.close()
