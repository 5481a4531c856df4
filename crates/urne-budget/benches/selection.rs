//! Selection time (spec/26): greedy, and the exact rule by each of its methods —
//! meet in the middle at 30 and 40 projects, the dynamic programme at 100 projects under a
//! budget of 2^20 units.
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use urne_budget::{Project, Rule, select};

fn projects(n: u64) -> Vec<Project> {
    // Costs and approvals spread like a city's budget: no two alike, no order between them.
    (0..n)
        .map(|i| Project {
            cost: 20_000 + (i * 7_919 % 97) * 1_000,
            approvals: 1_000 + (i * 104_729 % 89) * 37,
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("selection");
    group.sample_size(10);
    for (n, budget) in [(30u64, 1u64 << 20), (40, 1 << 20), (100, 1 << 20)] {
        let list = projects(n);
        for rule in [Rule::Greedy, Rule::MaxApprovals] {
            group.bench_function(format!("{} {n} projects", rule.name()), |b| {
                b.iter(|| select(rule, black_box(budget), black_box(&list)))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
