//! Generation speed: a 50-user, 1-day tenant with every attack, in the default formats.

// criterion's macros generate undocumented public functions.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use tokentrail_sim::{parse_attacks, simulate, Formats, SimConfig};

fn generate(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let cfg = SimConfig {
        users: 50,
        days: 1,
        seed: 7,
        start: SimConfig::default_start(),
        out: dir.path().to_path_buf(),
        attacks: parse_attacks("all").expect("kinds"),
        formats: Formats::default(),
        profile: tokentrail_sim::Profile::Default,
    };
    let records = simulate(&cfg).expect("simulate").records();
    let mut group = c.benchmark_group("simulate");
    group.throughput(Throughput::Elements(records));
    group.sample_size(10);
    group.bench_function("50 users x 1 day", |b| {
        b.iter(|| simulate(&cfg).expect("simulate"))
    });
    group.finish();
}

criterion_group!(benches, generate);
criterion_main!(benches);
