#!/usr/bin/env python3
"""plain-sink.py PORT LOGFILE: a minimal plaintext SMTP sink on 127.0.0.1 for checking by hand
that a real MTA relays to SINK_PORT (smtpsim's harness has its own capture sink for runs).
Accepts every command, no STARTTLS, no AUTH; appends everything received to LOGFILE, one
'--- message' separator line per accepted message. Runs until killed."""
import socket
import sys
import threading

port, log = int(sys.argv[1]), open(sys.argv[2], "ab", buffering=0)
lock = threading.Lock()


def session(conn):
    try:
        talk(conn)
    except OSError:
        pass  # the MTA hung up (e.g. killed by ctl stop while caching the connection)
    finally:
        conn.close()


def talk(conn):
    reply = lambda text: conn.sendall(text.encode() + b"\r\n")
    reply("220 sink.test ESMTP plain-sink")
    in_data = False
    for line in conn.makefile("rb"):
        with lock:
            log.write(line)
        if in_data:
            if line == b".\r\n":
                in_data = False
                with lock:
                    log.write(b"--- message\n")
                reply("250 2.0.0 queued")
            continue
        verb = line[:4].upper()
        if verb in (b"EHLO", b"HELO"):
            reply("250 sink.test")
        elif verb == b"DATA":
            in_data = True
            reply("354 go ahead")
        elif verb == b"QUIT":
            reply("221 2.0.0 bye")
            break
        else:
            reply("250 2.0.0 ok")


srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", port))
srv.listen(64)
while True:
    c, _ = srv.accept()
    threading.Thread(target=session, args=(c,), daemon=True).start()
