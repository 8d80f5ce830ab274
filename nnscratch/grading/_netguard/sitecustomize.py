"""Best-effort network guard for notebooks run by ``nnscratch grade``.

Python imports ``sitecustomize`` at start-up, and the grader puts this folder first on
``PYTHONPATH``, so the runner and the kernel both load it. It refuses connections over
IP sockets (IPv4 and IPv6) and name look-ups; Unix sockets, which the kernel uses to talk
to the grader, keep working. This is a guard against accidents, not a wall: C extensions,
subprocesses or ``importlib.reload(socket)`` get around it. Where the system allows it,
the grader also runs everything in a network namespace with no interfaces, which is the
real isolation.
"""

from __future__ import annotations

import os
import socket

_MESSAGE = "network access is disabled while a notebook is graded"
_BLOCKED = {socket.AF_INET, getattr(socket, "AF_INET6", socket.AF_INET)}
_LOCAL_NAMES = {None, "", "localhost", "127.0.0.1", "::1"}


def _refuse(*args: object, **kwargs: object) -> None:
    raise OSError(_MESSAGE)


def _install() -> None:
    original_connect = socket.socket.connect
    original_connect_ex = socket.socket.connect_ex
    original_sendto = socket.socket.sendto
    original_getaddrinfo = socket.getaddrinfo

    def connect(self: socket.socket, address: object) -> None:
        if self.family in _BLOCKED:
            _refuse()
        return original_connect(self, address)

    def connect_ex(self: socket.socket, address: object) -> int:
        if self.family in _BLOCKED:
            _refuse()
        return original_connect_ex(self, address)

    def sendto(self: socket.socket, *args: object) -> int:
        if self.family in _BLOCKED:
            _refuse()
        return original_sendto(self, *args)

    def getaddrinfo(host: object, *args: object, **kwargs: object) -> list:
        if host not in _LOCAL_NAMES:
            _refuse()
        return original_getaddrinfo(host, *args, **kwargs)

    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
    socket.socket.sendto = sendto  # type: ignore[method-assign]
    socket.getaddrinfo = getaddrinfo  # type: ignore[assignment]


if os.environ.get("NNSCRATCH_GRADING") == "1":
    _install()
