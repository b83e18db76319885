#!/usr/bin/env python3
"""Deliberately bad wrapper-mode (implicit TLS, RFC 8314) client for smtpsim: it behaves like a
STARTTLS-port client on port 465 -- it waits for a plaintext greeting (4 s, none comes), then
sends EHLO in the clear. Should FAIL c.wrapper.tls-first.
Usage: b2-wrapper-plaintext-first.py HOST PORT"""
import socket, sys

s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
s.settimeout(4)
try:
    s.recv(4096)  # waiting for a "220" that an implicit-TLS server never sends
except socket.timeout:
    pass
s.settimeout(5)
s.sendall(b"EHLO bad.client.test\r\n")
try:
    s.recv(4096)
except OSError:
    pass
s.close()
sys.exit(1)
