#!/usr/bin/env python3
"""Writes a platform repo of N modules for the `metadata derive` benchmark.

Usage: gen_derive_platform.py OUT N

Ten compose files (compose/cNN/compose.yaml) share the services; every module has a comment,
an `image_observed` that agrees with compose and no source/artifact/update, so a dry run
proposes all three blocks for each (the worst case: every manifest is read, edited three
times, verified and diffed). One module in 50 tracks `latest` and is refused.
"""
import os
import sys


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    out, n = sys.argv[1], int(sys.argv[2])
    os.makedirs(out, exist_ok=True)
    with open(f"{out}/platform.toml", "w") as f:
        f.write('[platform]\nname = "bench"\ncompose_project = "home-platform"\n\n'
                '[hosts.h1]\ntransport = "local"\ndocker_socket = "/var/run/docker.sock"\n')
    composes = {}
    for i in range(n):
        c = f"c{i % 10:02d}"
        svc = f"svc-{i:05d}"
        tag = "latest" if i % 50 == 0 else f"1.{i % 7}.{i % 13}"
        image = f"ghcr.io/bench/app-{i % 97}:{tag}"
        composes.setdefault(c, []).append(f"  {svc}:\n    image: {image}\n")
        os.makedirs(f"{out}/modules/{svc}", exist_ok=True)
        with open(f"{out}/modules/{svc}/module.yaml", "w") as f:
            f.write(
                "# yaml-language-server: $schema=../../schema/module.schema.json\n"
                "apiVersion: platform/v2\nkind: Module\nmetadata:\n"
                f"  name: {svc}\n  description: \"benchmark module {i}\"\n  owner: ops\n"
                f"  tier: {['core', 'infra', 'edge', 'app'][i % 4]}\n"
                f"  stateful: {'true' if i % 3 == 0 else 'false'}\n"
                "spec:\n  runtime:\n    host: h1\n    orchestrator: docker-compose\n"
                f"    compose_file: compose/{c}/compose.yaml\n    compose_service: {svc}\n"
                f"    image_observed: {image}   # audit snapshot\n"
                "    image_observed_at: 2026-05-20\n    image_digest_pinned_in_compose: false\n")
    for c, services in composes.items():
        os.makedirs(f"{out}/compose/{c}", exist_ok=True)
        with open(f"{out}/compose/{c}/compose.yaml", "w") as f:
            f.write("name: home-platform\nservices:\n" + "".join(services))


if __name__ == "__main__":
    main()
