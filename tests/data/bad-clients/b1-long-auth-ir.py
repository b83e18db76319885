#!/usr/bin/env python3
"""Deliberately bad SMTP client (c.auth.ir-length): with a 600-octet password it still sends
AUTH PLAIN with the initial response, making an AUTH line far over 512 octets. STARTTLS
first (certificate not checked). Usage: HOST PORT"""
import base64
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
s = ctx.wrap_socket(s, server_hostname="localhost")
f = s.makefile("rb")
cmd(b"EHLO bad.test")
cmd(b"AUTH PLAIN " + base64.b64encode(b"\0user\0" + b"p" * 600))
cmd(b"QUIT")
s.close()
