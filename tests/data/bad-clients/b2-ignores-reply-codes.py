#!/usr/bin/env python3
"""Deliberately bad STARTTLS client for smtpsim (run it as policy may): it ignores every reply
code -- a 421 or 554 greeting, a 421 to any command -- and just goes on (EHLO, STARTTLS when the
reply is 220, EHLO, MAIL, RCPT, DATA, QUIT). When the server closes the connection it reconnects
at once, up to 5 connections. Should FAIL c.broken.554-greeting and c.broken.421-anytime/greeting
(it delivers after the 421 greeting) and WARN the other c.broken.421-anytime variants (it hammers
the server with immediate reconnections).
Usage: b2-ignores-reply-codes.py HOST PORT"""
import socket, ssl, sys

host, port = sys.argv[1], int(sys.argv[2])


def reply(f):
    data = b""
    while True:
        chunk = f.recv(4096)
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
        lines = data.split(b"\r\n")
        if len(lines) >= 2 and len(lines[-2]) >= 4 and lines[-2][3:4] == b" ":
            return data


def session():
    s = socket.create_connection((host, port), timeout=10)
    f = s
    reply(f)
    f.sendall(b"EHLO bad.client.test\r\n"); reply(f)
    f.sendall(b"STARTTLS\r\n")
    if reply(f).startswith(b"220"):
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        f = ctx.wrap_socket(s, server_hostname="localhost")
        f.sendall(b"EHLO bad.client.test\r\n"); reply(f)
    for c in ["MAIL FROM:<sender@client.test>", "RCPT TO:<rcpt@mx.test>", "DATA"]:
        f.sendall(c.encode() + b"\r\n"); reply(f)
    f.sendall(b"Subject: x\r\n\r\nbody\r\n.\r\n"); reply(f)
    f.sendall(b"QUIT\r\n"); reply(f)


for attempt in range(5):
    try:
        session()
        break
    except (OSError, ConnectionError):
        continue
