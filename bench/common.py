"""Plumbing shared by the benchmarks that need their own database.

Each such benchmark creates a throwaway database on the project-local PostgreSQL,
runs ``manage.py`` and a ``--worker`` copy of itself as subprocesses against it, and
drops it at the end.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_SERVER = "postgresql://postgres@127.0.0.1:55432"


def admin_execute(sql: str) -> None:
    """Run one statement on the maintenance database (CREATE/DROP DATABASE)."""
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        conn.execute(sql)


def recreate_database(name: str) -> None:
    drop_database(name)
    admin_execute(f'CREATE DATABASE "{name}"')


def drop_database(name: str) -> None:
    admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def bench_env(database: str, **extra: str) -> dict[str, str]:
    """The environment of a subprocess that uses ``database`` with portal settings.

    Mail stays in memory and Celery runs inline, so nothing leaves the process;
    ``extra`` adds or overrides variables.
    """
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": f"{PG_SERVER}/{database}",
            "DJANGO_SETTINGS_MODULE": "portal.settings",
            "DJANGO_ENV": "development",
            "PORTAL_TENANT_CLONE_TEMPLATE": "1",
            "PORTAL_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
            "CELERY_TASK_ALWAYS_EAGER": "1",
            "PORTAL_LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.setdefault("REDIS_URL", "redis://127.0.0.1:56379/0")
    # The migration executor is chosen per command, never inherited.
    env.pop("EXECUTOR", None)
    env.update(extra)
    return env


def run_command(
    cmd: list[str],
    env: dict[str, str],
    label: str,
    *,
    timeout: int,
    echo_stderr: bool = False,
) -> tuple[float, str]:
    """Run ``cmd`` in the repository; return (wall seconds, stdout).

    Raises RuntimeError with the tail of both streams when it fails.
    """
    started = time.perf_counter()
    proc = subprocess.run(
        cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )
    elapsed = time.perf_counter() - started
    if echo_stderr:
        print(proc.stderr[-12000:])
    if proc.returncode != 0:
        tail = (proc.stdout[-2000:] + "\n" + proc.stderr[-4000:]).strip()
        raise RuntimeError(f"{label} failed (exit {proc.returncode}):\n{tail}")
    return elapsed, proc.stdout


def cpu_seconds(pid: int | str = "self") -> float:
    """user + system CPU seconds of a process so far (all its threads), from /proc."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # Fields 14 and 15 of proc(5) (utime, stime), counted after the ")".
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cluster_cpu_seconds(backend_pid: int) -> float:
    """CPU seconds of the whole PostgreSQL cluster so far: the postmaster (parent
    of ``backend_pid``) and every child it has, live or already exited (an exited
    child's time is in the parent's cutime/cstime once reaped)."""
    try:
        with open(f"/proc/{backend_pid}/stat") as stat:
            postmaster = int(stat.read().rsplit(")", 1)[1].split()[1])
        with open(f"/proc/{postmaster}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    tck = os.sysconf("SC_CLK_TCK")
    total = sum(int(f) for f in fields[11:15]) / tck  # utime stime cutime cstime
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                child = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(child[1]) == postmaster:
            total += (int(child[11]) + int(child[12])) / tck
    return total


def tree_rss_mb(pid: int) -> float:
    """VmRSS of a process and all its descendants, in MB (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                ppid = int(stat.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    total = 0.0
    stack = [pid]
    while stack:
        current = stack.pop()
        stack.extend(children.get(current, []))
        try:
            with open(f"/proc/{current}/status") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) / 1024
        except OSError:
            continue
    return total
