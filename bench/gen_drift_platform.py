#!/usr/bin/env python3
"""Writes a platform repo whose modules match containers bench/drift.sh created.

Usage: gen_drift_platform.py OUT SSH_CONFIG HOST...

HOST is NAME,TRANSPORT,DEST,SOCKET,PREFIX,WIDTH,COUNT,STATE:
  NAME       the platform.toml host name (h1 ... h5, big)
  TRANSPORT  ssh | local
  DEST       the ssh destination (an alias of SSH_CONFIG); ignored for local
  SOCKET     the engine's socket path on that host
  PREFIX, WIDTH, COUNT
             the containers are home-platform-PREFIX-NNN-1 (compose service PREFIX-NNN, NNN
             zero-padded to WIDTH, 1..COUNT), running image i % 3 of BENCH_IMGS
  STATE      running | stopped (desired_state)

BENCH_IMGS and BENCH_DIGS (environment) hold the three image references and their manifest
digests, space-separated, in the order drift.sh created the containers with. Each host gets
its own compose file compose/NAME/compose.yaml (project home-platform) and modules
modules/NAME-PREFIX-NNN/module.yaml, digest-pinned, so drift-check finds every module in sync.
"""
import os
import shutil
import sys


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    out, ssh_config, hosts = sys.argv[1], sys.argv[2], sys.argv[3:]
    imgs = os.environ["BENCH_IMGS"].split()
    digs = os.environ["BENCH_DIGS"].split()
    assert len(imgs) == len(digs) == 3, "BENCH_IMGS and BENCH_DIGS: three each"
    os.makedirs(f"{out}/ops", exist_ok=True)
    shutil.copy(ssh_config, f"{out}/ops/ssh_config")
    toml = ['[platform]\nname = "bench"\ncompose_project = "home-platform"\n',
            '[ssh]\nconfig = "ops/ssh_config"\n']
    for spec in hosts:
        name, transport, dest, sock, prefix, width, count, state = spec.split(",")
        width, count = int(width), int(count)
        if transport == "local":
            toml.append(f'[hosts.{name}]\ntransport = "local"\ndocker_socket = "{sock}"\n')
        else:
            toml.append(f'[hosts.{name}]\ntransport = "ssh"\nssh = "{dest}"\n'
                        f'docker_socket = "{sock}"\nconnect_timeout_s = 5\n')
        compose = f"compose/{name}/compose.yaml"
        os.makedirs(f"{out}/compose/{name}", exist_ok=True)
        lines = ["name: home-platform", "services:"]
        for i in range(1, count + 1):
            svc = f"{prefix}-{i:0{width}d}"
            ref = f"{imgs[i % 3]}@{digs[i % 3]}"
            # As bench/drift.sh runs them (`--network none`, `sleep 100000`): in sync, config
            # included (SPEC §9).
            lines += [f"  {svc}:", f"    image: {ref}", '    command: ["sleep", "100000"]',
                      "    network_mode: none"]
            mod = f"{name}-{svc}"
            os.makedirs(f"{out}/modules/{mod}", exist_ok=True)
            with open(f"{out}/modules/{mod}/module.yaml", "w") as f:
                f.write("\n".join([
                    "apiVersion: platform/v2", "kind: Module", "metadata:", f"  name: {mod}",
                    f"  description: benchmark module {i} on {name}", "  tier: app", "spec:",
                    "  runtime:", f"    host: {name}", "    orchestrator: docker-compose",
                    f"    compose_file: {compose}", f"    compose_service: {svc}",
                    f"    desired_state: {state}", f"    image_observed: {ref}",
                    "    image_digest_pinned_in_compose: true", "  artifact:",
                    "    type: oci-image", f"    reference: {ref}", ""]))
        with open(f"{out}/{compose}", "w") as f:
            f.write("\n".join(lines) + "\n")
    with open(f"{out}/platform.toml", "w") as f:
        f.write("\n".join(toml))


if __name__ == "__main__":
    main()
