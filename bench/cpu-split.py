#!/usr/bin/env python3
"""Where the CPU of one command goes on the benchmark rig: the command itself with its children
(platformctl and its ssh clients), the benchmark's sshd (every session it served and reaped)
and the private dockerd engines.

Usage: cpu-split.py OUT.json RUNS SSHD_PID DOCKERD_PID[,DOCKERD_PID...] -- CMD [ARG...]

Runs CMD RUNS times, one after the other, and writes the means per run (milliseconds) to
OUT.json: wall, client (the command's own rusage, children included), sshd (the listener's
utime+stime+cutime+cstime from /proc: sessions are its children, reaped when they end),
dockerd (utime+stime of each engine, all threads) and total. On the rig both ends of every
ssh connection share the same cores, so total / cores bounds the wall time from below;
against real hosts only the client share is spent locally.
"""
import json
import os
import resource
import subprocess
import sys
import time

TICK = os.sysconf("SC_CLK_TCK")


def proc_cpu(pid, children):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # fields[0] is field 3 (state); utime, stime, cutime, cstime are fields 14..17.
    ut, st, cut, cst = (int(x) for x in fields[11:15])
    return (ut + st + (cut + cst if children else 0)) / TICK


def main():
    if len(sys.argv) < 7 or sys.argv[5] != "--":
        sys.exit(__doc__)
    out, runs, sshd = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    dockerds = [int(p) for p in sys.argv[4].split(",")]
    cmd = sys.argv[6:]

    def snapshot():
        return (time.monotonic(), proc_cpu(sshd, True), sum(proc_cpu(p, False) for p in dockerds))

    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0, s0, d0 = snapshot()
    for _ in range(runs):
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    time.sleep(0.3)  # let sshd reap the last sessions
    t1, s1, d1 = snapshot()
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    client = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    res = {k: round(v * 1000 / runs) for k, v in (
        ("wall", t1 - t0 - 0.3), ("client", client), ("sshd", s1 - s0), ("dockerd", d1 - d0))}
    res["total"] = res["client"] + res["sshd"] + res["dockerd"]
    res["runs"] = runs
    res["cores"] = os.cpu_count()
    with open(out, "w") as f:
        json.dump(res, f)
    print(json.dumps(res))


if __name__ == "__main__":
    main()
