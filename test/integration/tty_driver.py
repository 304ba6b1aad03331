#!/usr/bin/env python3
# Host-side helpers for test/integration/tty.test.ts (Node has no pty and no SCM_RIGHTS receive).
# Each prints JSON lines on stdout; the test reads them.
#
#   console-recv SOCK        listen on the AF_UNIX stream socket SOCK, print {"listening":true}, wait
#                            for a line on stdin before accept() (the runtime must not wait for the
#                            accept), then recvmsg once as go-runc's recvFd does and print what came:
#                            {"payload", "nfds", "oobn", "oobn_want", "ctrunc", "isatty", "link"};
#                            then relay stdin lines to the master and read the master until EIO,
#                            printing {"output": "..."}.
#   pty-run ROWS COLS -- CMD...
#                            run CMD on a new pty of ROWS x COLS as its controlling terminal, print
#                            {"pid"}; then obey stdin commands ("write <json string>", "resize R C",
#                            "signal N", "close"), print {"output"} when the pty reaches EOF and
#                            {"exit", "signal", "echo", "icanon"} (the terminal's modes afterwards).
#   dgram-recv SOCK SECONDS  bind a datagram socket, print {"bound":true}, print {"dgram": "..."} for
#                            each datagram until SECONDS pass without one.
import array
import fcntl
import json
import os
import select
import signal
import socket
import struct
import subprocess
import sys
import termios
import threading


def out(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def console_recv(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(1)
    out({"listening": True})
    sys.stdin.readline()
    conn, _ = srv.accept()
    fds = array.array("i")
    # Room for more than one fd, to see whether more came; go-runc wants exactly CmsgSpace(4).
    msg, anc, flags, _ = conn.recvmsg(4096, socket.CMSG_SPACE(4 * 8))
    oobn = 0
    for level, typ, data in anc:
        oobn += socket.CMSG_SPACE(len(data))
        if level == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
            fds.frombytes(data[: len(data) - len(data) % fds.itemsize])
    conn.close()
    master = fds[0] if len(fds) else -1
    res = {
        "payload": msg.decode("latin-1"),
        "nfds": len(fds),
        "oobn": oobn,
        "oobn_want": socket.CMSG_SPACE(4),
        "ctrunc": bool(flags & socket.MSG_CTRUNC),
        "isatty": master >= 0 and os.isatty(master),
        "link": os.readlink("/proc/self/fd/%d" % master) if master >= 0 else "",
    }
    out(res)
    if master < 0:
        return

    def feed():
        for line in sys.stdin:
            try:
                os.write(master, json.loads(line).encode())
            except OSError:
                return

    threading.Thread(target=feed, daemon=True).start()
    buf = b""
    while True:
        try:
            d = os.read(master, 4096)
        except OSError:
            break
        if not d:
            break
        buf += d
    out({"output": buf.decode("latin-1")})


def pty_run(rows, cols, cmd):
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

    def child_setup():
        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    p = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=slave, preexec_fn=child_setup, close_fds=True)
    out({"pid": p.pid})
    done = threading.Event()

    def commands():
        for line in sys.stdin:
            word, _, rest = line.strip().partition(" ")
            try:
                if word == "write":
                    os.write(master, json.loads(rest).encode("latin-1"))
                elif word == "resize":
                    r, c = (int(x) for x in rest.split())
                    # The kernel sends SIGWINCH to the terminal's foreground process group.
                    fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", r, c, 0, 0))
                elif word == "signal":
                    os.kill(p.pid, int(rest))
            except OSError:
                pass
            if done.is_set():
                return

    threading.Thread(target=commands, daemon=True).start()
    buf = b""
    while True:
        r, _, _ = select.select([master], [], [], 0.2)
        if r:
            try:
                d = os.read(master, 4096)
            except OSError:
                d = b""
            if d:
                buf += d
                out({"chunk": d.decode("latin-1")})
                continue
        if p.poll() is not None:
            # drain what is left
            try:
                while select.select([master], [], [], 0.1)[0]:
                    d = os.read(master, 4096)
                    if not d:
                        break
                    buf += d
            except OSError:
                pass
            break
    done.set()
    attrs = termios.tcgetattr(slave)
    lflag = attrs[3]
    out({"output": buf.decode("latin-1")})
    rc = p.returncode
    out({
        "exit": rc if rc >= 0 else None,
        "signal": -rc if rc < 0 else None,
        "echo": bool(lflag & termios.ECHO),
        "icanon": bool(lflag & termios.ICANON),
    })


def dgram_recv(path, seconds):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    s.settimeout(seconds)
    out({"bound": True})
    try:
        while True:
            out({"dgram": s.recv(4096).decode("latin-1")})
    except socket.timeout:
        pass
    out({"end": True})


def main():
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    a = sys.argv[1:]
    if a[0] == "console-recv":
        console_recv(a[1])
    elif a[0] == "pty-run":
        i = a.index("--")
        pty_run(int(a[1]), int(a[2]), a[i + 1:])
    elif a[0] == "dgram-recv":
        dgram_recv(a[1], float(a[2]))
    else:
        sys.exit("unknown command")


if __name__ == "__main__":
    main()
