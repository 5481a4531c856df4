//! Placeholder replaced by the criterion benches in the next commit.
fn main() {}
