"""Checks run inside a fresh sandbox, built exactly like the kernel's, before the kernel.

The runner passes this file's text to ``python -I -c`` with one JSON argument (the host's
namespace ids, a TCP port the runner listens on at 127.0.0.1, the host paths the sandbox
must not see and the mount points whose parents it may see) and reads one JSON line back:
``[[ok, "what was checked"], ...]``. The feedback states only what passed here.
No imports from outside the standard library: this runs before anything else.

Each ``_check_*`` step appends its entries to ``results``; :func:`main` runs them in the
order the feedback lists them.
"""

import ctypes
import errno
import json
import os
import resource
import socket
import sys


def _check(results, ok, text):
    results.append([bool(ok), text])


def _check_identity(results):
    """Unprivileged uid/gid, and no capabilities."""
    status = open("/proc/self/status").read()
    caps = {
        line.split(":")[0]: int(line.split()[1], 16)
        for line in status.splitlines()
        if line.startswith("Cap")
    }
    _check(
        results,
        os.getuid() == os.geteuid() == 65534 and os.getgid() == 65534,
        f"runs as the unprivileged uid/gid {os.getuid()}/{os.getgid()}",
    )
    _check(
        results,
        caps.get("CapEff") == 0 and caps.get("CapPrm") == 0,
        "no capabilities (effective and permitted sets empty)",
    )


def _check_namespaces(results, spec):
    """Every namespace its own, its own processes only, and no new user namespaces."""
    differs = [
        kind
        for kind, host in spec["host_ns"].items()
        if os.readlink(f"/proc/self/ns/{kind}") != host
    ]
    _check(
        results,
        sorted(differs) == sorted(spec["host_ns"]),
        "own namespaces, none shared with the grader: " + ", ".join(sorted(differs)),
    )
    pids = [p for p in os.listdir("/proc") if p.isdigit()]
    _check(
        results,
        len(pids) <= 3,
        f"own PID namespace: sees {len(pids)} processes, all its own (no grader, no classmate)",
    )
    libc = ctypes.CDLL(None, use_errno=True)
    refused = libc.unshare(0x10000000) != 0  # CLONE_NEWUSER
    _check(results, refused, "cannot create user namespaces (so cannot regain capabilities)")


def _check_network(results, spec):
    """Only a loopback interface, and the grader's listening port out of reach."""
    interfaces = [name for _, name in socket.if_nameindex()]
    reached = False
    try:
        socket.create_connection(("127.0.0.1", spec["port"]), timeout=3).close()
        reached = True
    except OSError:
        pass
    _check(
        results,
        interfaces == ["lo"] and not reached,
        "no network: its own network namespace with only a loopback interface; the "
        "grader's 127.0.0.1 is unreachable",
    )


def _allowed_entries(spec):
    """``{folder: names}``: what each parent folder of a mount point may show."""
    allowed = {}
    for mount in spec["allowed"]:
        parts = mount.strip("/").split("/")
        for i in range(len(parts)):
            allowed.setdefault("/" + "/".join(parts[:i]), set()).add(parts[i])
    return allowed


def _check_private_paths(results, spec, allowed):
    """None of the host's private paths is visible (beyond a mount point's parents)."""
    leaks = []
    for path in spec["private"]:
        if not os.path.lexists(path):
            continue
        if os.path.isdir(path) and path.rstrip("/") in allowed:
            extra = set(os.listdir(path)) - allowed[path.rstrip("/")]
            if not extra:
                continue
        leaks.append(path)
    _check(
        results,
        not leaks,
        "cannot see the submissions folder, the output folder, the rubric, the home folder, "
        "the repository or other submissions' copies"
        + (f" (visible: {leaks})" if leaks else ""),
    )


def _write_refused(folder):
    """Try to create a file in ``folder``: None when that worked (the folder is writable),
    else whether the refusal was read-only / not permitted (False for any other error)."""
    try:
        fd = os.open(os.path.join(folder, ".probe"), os.O_CREAT | os.O_WRONLY, 0o600)
    except OSError as exc:
        return exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM)
    os.close(fd)
    return None


def _check_read_only(results):
    """The Python installation, the environment, the library and / cannot be written."""
    readonly = []
    bad_dirs = []
    for folder in [sys.prefix, sys.base_prefix, *sys.path[1:], "/", "/usr", "/opt/nnscratch/lib"]:
        if not folder or not os.path.isdir(folder):
            continue
        refused = _write_refused(folder)
        readonly.append(bool(refused))
        if refused is None:
            bad_dirs.append(folder)
    _check(
        results,
        all(readonly),
        "read-only: the Python installation, the environment (site-packages, .pth files), "
        "the library copy and the root of the file system"
        + (f" (writable: {bad_dirs})" if bad_dirs else ""),
    )


def _check_private_tmp(results, allowed):
    """/tmp starts empty (but for mount points' parents)."""
    _check(
        results,
        set(os.listdir("/tmp")) <= allowed.get("/tmp", set()),
        "a private, empty /tmp (and a private working folder), memory-backed and size-capped",
    )


def _mount_types():
    """``{mount point: file-system type}`` from /proc/self/mountinfo."""
    types = {}
    for line in open("/proc/self/mountinfo"):
        fields = line.split()
        if " - " in line:
            types[fields[4]] = line.split(" - ")[1].split()[0]
    return types


def _check_writable_capped(results, spec):
    """Every folder the sandbox may write to: private, memory-backed, and capped."""
    writable = {"/tmp": spec["disk_bytes"], "/submission": spec["disk_bytes"],
                spec["kernel_dir"]: spec["kernel_dir_bytes"]}  # fmt: skip
    types = _mount_types()
    uncapped = []
    for folder, cap in writable.items():
        try:
            info = os.statvfs(folder)
            size = info.f_blocks * info.f_frsize
        except OSError:
            size = None
        if types.get(folder) != "tmpfs" or size is None or size > cap:
            uncapped.append(f"{folder} ({types.get(folder)}, {size} bytes)")
    _check(
        results,
        not uncapped,
        f"every writable folder is a private tmpfs with a size cap: /tmp and /submission "
        f"{spec['disk_bytes'] // 2**20} MiB each, the kernel's socket folder "
        f"{spec['kernel_dir']} {spec['kernel_dir_bytes'] // 1024} KiB"
        + (f" (not so: {uncapped})" if uncapped else ""),
    )


def _check_connection_folder(results, spec):
    """The host folder of the connection file is bound read-only."""
    _check(
        results,
        bool(_write_refused(spec["conn"])),
        "the host folder holding the connection file is read-only (nothing reaches the "
        "host's disk through it)",
    )


def _check_rlimits(results):
    """Address space, CPU time, file size and core dumps are limited."""
    limits = {
        name: resource.getrlimit(getattr(resource, name))[0]
        for name in ("RLIMIT_AS", "RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_CORE")
    }
    _check(
        results,
        all(v != resource.RLIM_INFINITY for v in limits.values()),
        f"per-process rlimits in force: address space {limits['RLIMIT_AS'] // 2**20} MiB, "
        f"CPU {limits['RLIMIT_CPU']} s, file size {limits['RLIMIT_FSIZE'] // 2**20} MiB, "
        "no core dumps",
    )


def main():
    spec = json.loads(sys.argv[1])
    results = []
    _check_identity(results)
    _check_namespaces(results, spec)
    _check_network(results, spec)
    allowed = _allowed_entries(spec)
    _check_private_paths(results, spec, allowed)
    _check_read_only(results)
    _check_private_tmp(results, allowed)
    _check_writable_capped(results, spec)
    _check_connection_folder(results, spec)
    _check_rlimits(results)
    print(json.dumps(results))


main()
