//! Nothing here: see tests/crosscheck.rs and benches/compare.rs.
