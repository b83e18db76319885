#!/usr/bin/env python3
"""Deliberately bad SMTP client (c.auth.empty-ir): it sends an empty initial response as
"AUTH EXTERNAL " (nothing after the space) instead of "AUTH EXTERNAL =". STARTTLS first, with
a client certificate. Usage: HOST PORT CERT_FILE KEY_FILE"""
import socket
import ssl
import sys

s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
f = s.makefile("rb")


def reply():
    while True:
        line = f.readline()
        if not line or line[3:4] != b"-":
            return line


def cmd(c):
    s.sendall(c + b"\r\n")
    return reply()


reply()  # greeting
f = s.makefile("rb")  # drop anything that came with the greeting
cmd(b"EHLO bad.test")
cmd(b"STARTTLS")
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
ctx.load_cert_chain(sys.argv[3], sys.argv[4])
s = ctx.wrap_socket(s, server_hostname="localhost")
f = s.makefile("rb")
cmd(b"EHLO bad.test")
if cmd(b"AUTH EXTERNAL ").startswith(b"334"):
    cmd(b"")
cmd(b"QUIT")
s.close()
