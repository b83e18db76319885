#!/usr/bin/env python3
"""A hostile SMTP client for the harness tests: connects, reads the greeting, then says nothing."""
import socket
import sys
import time

sock = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
sock.recv(4096)
time.sleep(60)
