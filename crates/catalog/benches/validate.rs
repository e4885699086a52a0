//! Loading and validating a generated catalog of 10,000 modules (issue 2's acceptance: the
//! median on the 2-core reference machine is under one second; see docs/PERFORMANCE.md).

use criterion::{Criterion, criterion_group, criterion_main};
use platformctl_catalog::{Catalog, LoadOptions};

#[path = "gen.rs"]
mod generator;

fn validate_10k(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    generator::generate(dir.path(), 10_000).expect("generate");
    let opts = LoadOptions::default();
    // Sanity: the generated catalog is valid, so the benchmark measures the full path.
    let cat = Catalog::load(dir.path(), &opts).expect("loads");
    assert_eq!(cat.modules.len(), 10_000);
    assert!(cat.findings.is_empty(), "{:?}", cat.findings.first());
    let mut group = c.benchmark_group("validate");
    group.sample_size(10);
    group.bench_function("10k_modules", |b| {
        b.iter(|| Catalog::load(dir.path(), &opts).expect("loads"))
    });
    group.finish();
}

criterion_group!(benches, validate_10k);
criterion_main!(benches);
