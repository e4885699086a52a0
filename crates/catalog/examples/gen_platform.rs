//! `cargo run --release -p platformctl-catalog --example gen_platform -- DIR N`: writes a
//! generated platform of N modules (default 10,000) for the whole-command benchmarks.

#[path = "../benches/gen.rs"]
mod generator;

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(dir) = args.next() else {
        eprintln!("usage: gen_platform DIR [N]");
        std::process::exit(2);
    };
    let n = args.next().and_then(|s| s.parse().ok()).unwrap_or(10_000);
    if let Err(e) = generator::generate(std::path::Path::new(&dir), n) {
        eprintln!("gen_platform: {dir}: {e}");
        std::process::exit(1);
    }
}
