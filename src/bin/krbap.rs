//! The `krbap` command-line tool (being written).
fn main() {}
