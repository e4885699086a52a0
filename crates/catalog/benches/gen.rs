//! A generated platform of N modules, shaped like a real catalog mid-migration: one compose
//! file per stack with anchors, merge keys and `${VAR:-default}` tags; a third of the modules
//! with source/artifact/update metadata; a few digest-pinned. Shared by the criterion bench
//! and `examples/gen_platform.rs` (which the whole-command benchmark scripts use).

use std::fmt::Write as _;
use std::path::Path;

const STACKS: [&str; 3] = ["apps", "edge", "infra"];
const TIERS: [&str; 4] = ["core", "infra", "edge", "app"];

/// Writes a platform repo with `n` modules under `root`.
pub fn generate(root: &Path, n: usize) -> std::io::Result<()> {
    std::fs::create_dir_all(root.join("modules"))?;
    std::fs::write(
        root.join("platform.toml"),
        "[platform]\nname = \"generated\"\ncompose_project = \"generated\"\n\n\
         [hosts.rs2000]\ntransport = \"ssh\"\nssh = \"deploy@rs2000\"\n\n\
         [hosts.nas]\ntransport = \"ssh\"\nssh = \"ssh://admin@nas.internal:2222\"\n",
    )?;
    let mut compose: Vec<String> = STACKS
        .iter()
        .map(|_| {
            String::from(
                "name: generated\n\nx-common: &common\n  restart: unless-stopped\n  \
                 logging:\n    driver: json-file\n    options: {max-size: 10m}\n\nservices:\n",
            )
        })
        .collect();
    for i in 0..n {
        let name = format!("svc-{i:05}");
        let stack = i % STACKS.len();
        let host = if i % 4 == 0 { "nas" } else { "rs2000" };
        let repo = format!("ghcr.io/example/app-{}", i % 500);
        let tag = format!("1.{}.{}", i % 40, i % 7);
        let pinned = i % 25 == 0;
        let digest = format!("sha256:{:064x}", i as u128 * 0x9e37_79b9_7f4a_7c15);
        let image = if pinned {
            format!("{repo}:{tag}@{digest}")
        } else {
            format!("{repo}:{tag}")
        };
        let var = format!("APP_{i}_TAG");
        let compose_image = if pinned {
            image.clone()
        } else {
            format!("{repo}:${{{var}:-{tag}}}")
        };
        let _ = write!(
            compose[stack],
            "  {name}:\n    <<: *common\n    image: {compose_image}\n    \
             environment:\n      TZ: ${{TZ:-Europe/Berlin}}\n    \
             labels:\n      traefik.enable: \"true\"\n"
        );
        let mut m = format!(
            "apiVersion: platform/v2\nkind: Module\nmetadata:\n  name: {name}\n  \
             description: generated service {i} for benchmarks\n  owner: ops\n  \
             tier: {tier}\n  stateful: {stateful}\nspec:\n  runtime:\n    host: {host}\n    \
             orchestrator: docker-compose\n    compose_file: compose/{stack}/compose.yaml\n    \
             compose_service: {name}\n    image_observed: {image}\n    \
             image_observed_at: 2026-05-20\n    image_digest_pinned_in_compose: {pinned}\n",
            tier = TIERS[i % TIERS.len()],
            stateful = i % 2 == 0,
            stack = STACKS[stack],
        );
        if i % 3 == 0 {
            let _ = write!(
                m,
                "  source:\n    type: upstream-image\n    repository: {repo}\n    \
                 registry: upstream-registry\n    release_tracking: upstream-tag\n  \
                 artifact:\n    type: oci-image\n    reference: {image}\n  \
                 update:\n    policy: manual\n    reason: generated\n"
            );
        }
        let dir = root.join("modules").join(&name);
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join("module.yaml"), m)?;
    }
    for (stack, text) in STACKS.iter().zip(compose) {
        let dir = root.join("compose").join(stack);
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join("compose.yaml"), text)?;
        std::fs::write(dir.join(".env"), "TZ=Europe/Berlin\n")?;
    }
    Ok(())
}
