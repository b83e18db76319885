#!/usr/bin/env python3
"""Deliberately bad SMTP client (c.auth.cancel-bad-challenge): inside TLS it sends AUTH LOGIN and
answers every 334 challenge with base64 credentials, whether the challenge decodes or not,
instead of cancelling with "*". Usage: HOST PORT"""
import base64
import socket
import ssl
import sys

sock = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
f = sock.makefile("rb")


def reply(stream):
    while True:
        line = stream.readline()
        if not line:
            sys.exit(1)
        if line[3:4] != b"-":
            return line


def send(stream_sock, text):
    stream_sock.sendall(text + b"\r\n")


reply(f)
send(sock, b"EHLO bad.test")
reply(f)
send(sock, b"STARTTLS")
if not reply(f).startswith(b"220"):
    sys.exit(1)
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
tls = ctx.wrap_socket(sock, server_hostname="localhost")
g = tls.makefile("rb")
send(tls, b"EHLO bad.test")
reply(g)
send(tls, b"AUTH LOGIN")
answers = [base64.b64encode(b"alice"), base64.b64encode(b"secret")]
line = reply(g)
while line.startswith(b"334") and answers:
    send(tls, answers.pop(0))
    line = reply(g)
send(tls, b"QUIT")
reply(g)
