"""A datagram socket standing in for systemd's NOTIFY_SOCKET (sd_notify(3)), for tests that run
`serve` as systemd would (test_systemd.py, Tests/package): every message as a dict, and the pid
that sent it (systemd's NotifyAccess=main heeds the main process's only)."""

import os
import socket
import sys

from conftest import wait_until


class Notifications:
    def __init__(self, path):
        self.path = str(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        self.sock.bind(self.path)
        os.chmod(self.path, 0o666)  # a service running as another user speaks to it too
        self.sock.setblocking(False)
        self.messages = []
        self.senders = []  # the pid of each message

    def poll(self):
        while True:
            try:
                data, ancillary, _, _ = self.sock.recvmsg(4096, socket.CMSG_SPACE(12))
            except BlockingIOError:
                return self.messages
            self.senders.append(next((int.from_bytes(d[:4], sys.byteorder) for level, kind, d in ancillary
                                      if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS), None))
            self.messages.append(dict(line.split("=", 1) for line in data.decode().splitlines() if "=" in line))

    def wait_for(self, key, value="1", after=0, timeout=15):
        """The index of the first message from `after` on with key=value."""
        def seen():
            return next((i for i, m in enumerate(self.poll()) if i >= after and m.get(key) == value), None)
        index = wait_until(lambda: (lambda i: i + 1 if i is not None else None)(seen()), timeout,
                           what=f"{key}={value} on the notify socket")
        return index - 1

    def close(self):
        self.sock.close()
        if os.path.exists(self.path):
            os.unlink(self.path)
