#!/usr/bin/env python3
"""Markdown tables from the benchmark parts' results (hyperfine --export-json, peak RSS files,
meta.json, machine.json).

Usage:
  table.py validate DIR   the validate part's table (DIR = bench/validate-peers.sh's BENCH_OUT)
  table.py drift DIR      the drift part's table (DIR = bench/drift.sh's BENCH_OUT)
  table.py all DIR        bench/compare.sh's document: the machine, the main table (every
                          figure issue 5 asks for, with its ratio and target), then both parts'
                          tables; DIR holds machine.json, load_end and validate/, drift/
"""
import json
import os
import sys


def load(path):
    with open(path) as f:
        return json.load(f)


def maybe(path):
    return load(path) if os.path.exists(path) else None


def hf(d, name):
    """hyperfine results of DIR/NAME.json, or [] when that measurement was skipped."""
    p = os.path.join(d, f"{name}.json")
    if not os.path.exists(p):
        return []
    out = []
    for r in load(p)["results"]:
        out.append(dict(name=r["command"], med=r["median"], mean=r["mean"], sd=r["stddev"] or 0.0,
                        lo=r["min"], hi=r["max"], cpu=r["user"] + r["system"],
                        runs=len(r["times"])))
    return out


def rss(d, name):
    """Largest peak RSS (MB) in DIR/rss-NAME.txt (one `%M [...]` line per run), or None."""
    p = os.path.join(d, f"rss-{name}.txt")
    if not os.path.exists(p):
        return None
    vals = [int(l.split()[0]) for l in open(p) if l.strip() and l.split()[0].isdigit()]
    return max(vals) / 1024 if vals else None


def t(s, like=None):
    """seconds -> '451 ms' or '23.6 s' (like: format as that figure's unit)."""
    ref = s if like is None else like
    return f"{s * 1000:,.0f} ms" if ref < 10 else f"{s:,.1f} s"


def verdict(ok):
    return "met" if ok else "**MISSED**"


def detail_row(r):
    return (f"| {r['name']} | {t(r['med'])} | {t(r['mean'])} ± {t(r['sd'], r['mean'])} "
            f"| {t(r['lo'])} … {t(r['hi'])} | {t(r['cpu'])} | {r['runs']} |")


DETAIL_HEAD = ("| command | median | mean ± sd | min … max | CPU user+sys (mean) | runs |\n"
               "|---|---|---|---|---|---|")


def machine_line(m, load_end):
    return (f"{m['nproc']} cores ({m['cpu']}), {m['mem_gib']} GiB; load average (1/5/15 min) "
            f"{m['load']} at the start, {load_end} at the end; {m['date']}; platformctl {m['commit']}")


# ------------------------------------------------------------------------------------ validate
def validate_figures(d):
    res = {r["name"]: r for r in hf(d, "platformctl") + hf(d, "check-jsonschema") + hf(d, "ajv")}
    meta = load(os.path.join(d, "meta.json"))
    return dict(p=res.get("platformctl"), c=res.get("check-jsonschema"), a=res.get("ajv"),
                rss_p=rss(d, "platformctl"), rss_c=rss(d, "check-jsonschema"),
                rss_a=rss(d, "ajv"), meta=meta)


def validate_section(d, machine=True):
    f = validate_figures(d)
    p, c, a, meta = f["p"], f["c"], f["a"], f["meta"]
    out = [f"### validate, {meta['n']:,} generated modules, vs schema-only peers", ""]
    if machine:
        out += [machine_line(load(os.path.join(d, "machine.json")), meta["load_end"]) + ".", ""]
    out += [f"check-jsonschema {meta['cjs_version']} (Python {meta['python']}), ajv-cli "
            f"{meta['ajv_version']} (Node {meta['node']}). ajv-cli input: {meta['ajv_note']}.", ""]
    out += ["| command | median | mean ± sd | min … max | CPU user+sys (mean) | runs "
            "| median / platformctl | peak RSS |", "|---|---|---|---|---|---|---|---|"]
    for label, r, k in (("`platformctl validate all --json` (full validation)", p, "rss_p"),
                        ("check-jsonschema (YAML, schema only)", c, "rss_c"),
                        (f"ajv-cli --spec=draft2020 ({meta['ajv_input']}, schema only)", a, "rss_a")):
        if r is None:
            out.append(f"| {label} | skipped | | | | | | |")
            continue
        m = f"{f[k]:,.0f} MB" if f[k] else "?"
        out.append(f"| {label} | {t(r['med'])} | {t(r['mean'])} ± {t(r['sd'], r['mean'])} "
                   f"| {t(r['lo'])} … {t(r['hi'])} | {t(r['cpu'])} | {r['runs']} "
                   f"| {r['med'] / p['med']:.1f}× | {m} |")
    out.append("")
    if c:
        out.append(f"- check-jsonschema / platformctl: **{c['med'] / p['med']:.0f}×** by median wall "
                   f"time (target ≥ 50×: {verdict(c['med'] / p['med'] >= 50)}), "
                   f"{c['cpu'] / p['cpu']:.0f}× by CPU time.")
    if a:
        out.append(f"- ajv-cli / platformctl: {a['med'] / p['med']:.1f}× wall, "
                   f"{a['cpu'] / p['cpu']:.1f}× CPU.")
    out.append(f"- All three exit 0 on the {meta['n']:,} generated manifests and non-zero on one "
               "with `tier: bogus`. Peak RSS: `/usr/bin/time -f %M`, one run each (platformctl: "
               "the largest of 3).")
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------------------- drift
def drift_figures(d):
    meta = load(os.path.join(d, "meta.json"))
    main = hf(d, "main")
    f = dict(meta=meta, main=main, hosts=hf(d, "hosts"), delay=hf(d, "delay"), kex=hf(d, "kex"),
             design=hf(d, "design"), aloop=hf(d, "ansible-loop"), ahost=hf(d, "ansible-hostinfo"),
             big=hf(d, "big"), rss_big=rss(d, "big"), rss_n=rss(d, "n"),
             cpu1=maybe(os.path.join(d, "cpu-1.json")), cpu5=maybe(os.path.join(d, "cpu-5.json")))
    f["a"], f["b"], f["ssh"], f["engine"], f["local"], f["rootshell"] = main
    return f


def drift_section(d, machine=True):
    f = drift_figures(d)
    meta, n, big = f["meta"], f["meta"]["n"], f["meta"]["big"]
    rtt = meta["delay_rtt_ms"]
    out = [f"### drift-check, {n} containers per ssh host (and {big:,} on one)", ""]
    if machine:
        out += [machine_line(load(os.path.join(d, "machine.json")), meta["load_end"]) + ".", ""]
    out += [f"Docker {meta['docker']} ({meta['driver']} storage), {meta['ssh']}, Ansible "
            f"{meta['ansible']} (ansible-core {meta['ansible_core']}, docker {meta['docker_py']}). "
            f"Delay: {meta['delay_note']}.", "", DETAIL_HEAD]
    for group in ("main", "hosts", "kex", "delay", "design", "aloop", "ahost", "big"):
        for r in f[group]:
            out.append(detail_row(r))
    if f["rss_big"] is not None:
        out.append(f"| peak RSS, drift-check at {big:,} containers (max of 3 runs, with the ssh "
                   f"children) | {f['rss_big']:.1f} MB | | | | 3 |")
    if f["rss_n"] is not None:
        out.append(f"| peak RSS, drift-check at {n} containers | {f['rss_n']:.1f} MB | | | | 3 |")
    out.append("")
    a, b = f["a"], f["b"]
    phys = f["ssh"]["med"] + f["engine"]["med"]
    out.append(f"- drift-check / floor: {a['med'] / b['med']:.2f}×; drift-check / physical floor "
               f"estimate (ssh connection + engine answer = {t(phys)}): {a['med'] / phys:.2f}×.")
    if f["delay"]:
        d1, d5, fl = f["delay"][0], f["delay"][1], f["delay"][2]
        out.append(f"- with +{rtt} ms RTT: 5 hosts / 1 host {d5['med'] / d1['med']:.2f}×, "
                   f"drift-check / floor {d1['med'] / fl['med']:.2f}×.")
    if f["hosts"]:
        h1, h5 = f["hosts"]
        out.append(f"- 5 hosts / 1 host, no added delay: {h5['med'] / h1['med']:.2f}× wall; "
                   f"CPU of platformctl and its ssh clients {h5['cpu'] / h1['cpu']:.1f}× (the sshd "
                   f"and dockerd side of each host runs on the same cores here).")
    if f["kex"]:
        k1, k5 = f["kex"]
        out.append(f"- 5 hosts / 1 host with KexAlgorithms=curve25519-sha256 (no post-quantum key "
                   f"generation in the ssh client): {k5['med'] / k1['med']:.2f}× wall, client CPU "
                   f"{k1['cpu'] * 1000:.0f} ms → {k5['cpu'] * 1000:.0f} ms.")
    for k, h in (("cpu1", 1), ("cpu5", 5)):
        c = f[k]
        if c:
            out.append(f"- CPU of one run, {h} host{'s' if h > 1 else ''} (bench/cpu-split.py, "
                       f"{c['runs']} runs): platformctl + ssh clients {c['client']} ms, sshd "
                       f"{c['sshd']} ms, dockerd {c['dockerd']} ms; total {c['total']} ms, i.e. at "
                       f"least {c['total'] / c['cores']:.0f} ms of wall time on {c['cores']} cores "
                       f"(measured {c['wall']} ms).")
    return "\n".join(out) + "\n"


# ----------------------------------------------------------------------------------------- all
def main_table(vd, dd):
    v, f = validate_figures(vd), drift_figures(dd)
    n, big, rtt = f["meta"]["n"], f["meta"]["big"], f["meta"]["delay_rtt_ms"]
    rows = []

    def row(what, mine, other, ratio, target, ok):
        rows.append(f"| {what} | {mine} | {other} | {ratio} | {target} | {ok} |")

    p, c, a = v["p"], v["c"], v["a"]
    nv = v["meta"]["n"]
    if c:
        r = c["med"] / p["med"]
        row(f"validate, {nv:,} modules, vs check-jsonschema", t(p["med"]),
            f"{t(c['med'])} (schema only)", f"**{r:.0f}×** faster", "≥ 50×", verdict(r >= 50))
    if a:
        r = a["med"] / p["med"]
        row(f"validate, {nv:,} modules, vs ajv-cli", t(p["med"]),
            f"{t(a['med'])} (schema only, pre-converted JSON)" if v["meta"]["ajv_input"] == "json"
            else f"{t(a['med'])} (schema only)", f"{r:.1f}× faster", "—", "")
    da, db = f["a"], f["b"]
    r = da["med"] / db["med"]
    row(f"drift-check, 1 ssh host × {n}, vs the one-round-trip floor", t(da["med"]),
        f"{t(db['med'])} (`ssh host 'docker inspect …'`)", f"**{r:.2f}×** the floor", "≤ 1.5×",
        verdict(r <= 1.5))
    if f["design"]:
        r = f["design"][0]["med"] / da["med"]
        row("… vs the per-module design (2 ssh+docker calls a module)", t(da["med"]),
            t(f["design"][0]["med"]), f"**{r:.0f}×** faster", "≥ 20×", verdict(r >= 20))
    else:
        row("… vs the per-module design", t(da["med"]), "skipped (BENCH_QUICK=1)", "", "≥ 20×", "")
    if f["aloop"]:
        r = f["aloop"][0]["med"] / da["med"]
        row(f"… vs Ansible, `docker_container_info` × {n} (loop)", t(da["med"]),
            t(f["aloop"][0]["med"]), f"**{r:.0f}×** faster", "a clear ratio", verdict(r >= 2))
    else:
        row("… vs Ansible, `docker_container_info` loop", t(da["med"]), "skipped (BENCH_QUICK=1)",
            "", "a clear ratio", "")
    if f["ahost"]:
        r = f["ahost"][0]["med"] / da["med"]
        row("… vs Ansible's best case, one `docker_host_info` (containers + images)", t(da["med"]),
            t(f["ahost"][0]["med"]), f"**{r:.1f}×** faster", "a clear ratio", verdict(r >= 2))
    if f["hosts"]:
        h1, h5 = f["hosts"]
        r = h5["med"] / h1["med"]
        row(f"drift-check, 5 ssh hosts × {n} vs 1 host × {n}", t(h5["med"]), t(h1["med"]),
            f"**{r:.2f}×** one host", "≤ 1.5×", verdict(r <= 1.5))
    if f["kex"]:
        k1, k5 = f["kex"]
        r = k5["med"] / k1["med"]
        row("… the same with `KexAlgorithms=curve25519-sha256` (info: the ssh client's CPU)",
            t(k5["med"]), t(k1["med"]), f"{r:.2f}× one host", "(≤ 1.5×)", verdict(r <= 1.5))
    if f["delay"]:
        d1, d5, fl = f["delay"][0], f["delay"][1], f["delay"][2]
        r = d5["med"] / d1["med"]
        how = "netem" if f["meta"]["delay_mode"] == "netem" else "userspace proxy, no netem here"
        row(f"… the same with +{rtt} ms RTT on the ssh path ({how})", t(d5["med"]), t(d1["med"]),
            f"**{r:.2f}×** one host", "≤ 1.5×", verdict(r <= 1.5))
        r = d1["med"] / fl["med"]
        row(f"drift-check, 1 host × {n}, +{rtt} ms RTT, vs the floor with the same RTT",
            t(d1["med"]), t(fl["med"]), f"{r:.2f}× the floor", "≤ 1.5×", verdict(r <= 1.5))
    if f["rss_big"] is not None:
        row(f"peak RSS, drift-check, {big:,} containers", f"{f['rss_big']:.1f} MB", "", "",
            "< 64 MB", verdict(f["rss_big"] < 64))
    if f["big"]:
        row(f"wall time, drift-check, {big:,} containers on 1 host", t(f["big"][0]["med"]), "", "",
            "—", "")
    if v["rss_p"] is not None:
        others = ", ".join(f"{k} {v[x]:,.0f} MB" for k, x in (("check-jsonschema", "rss_c"),
                                                                ("ajv-cli", "rss_a")) if v[x])
        row(f"peak RSS, validate, {nv:,} modules", f"{v['rss_p']:.0f} MB", others, "", "—", "")
    head = ["| figure | platformctl | compared with | ratio | target | |",
            "|---|---|---|---|---|---|"]
    return "\n".join(head + rows) + "\n"


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("validate", "drift", "all"):
        sys.exit(__doc__)
    mode, d = sys.argv[1], sys.argv[2]
    if mode == "validate":
        print(validate_section(d))
    elif mode == "drift":
        print(drift_section(d))
    else:
        m = load(os.path.join(d, "machine.json"))
        load_end = open(os.path.join(d, "load_end")).read().strip()
        print("## The figures of issue 5 (bench/compare.sh)\n")
        print(f"Machine: {machine_line(m, load_end)}.\n")
        print(main_table(os.path.join(d, "validate"), os.path.join(d, "drift")))
        print(validate_section(os.path.join(d, "validate")))
        print(drift_section(os.path.join(d, "drift")))


if __name__ == "__main__":
    main()
