//! Running regie in the benchmarks: the release binary, timed as a whole
//! process, its success asserted (with its output when it failed) unless
//! the benchmark expects failures.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};
use std::time::Instant;

/// `regie ARGS -i INV`, whatever its exit: seconds taken and its output.
/// The user's ~/.ssh/config is left out.
pub fn regie_output(inv: &Path, args: &[&str]) -> (f64, Output) {
    let t = Instant::now();
    let o = Command::new(env!("CARGO_BIN_EXE_regie"))
        .args(args)
        .arg("-i")
        .arg(inv)
        .env("REGIE_SSH_CONFIG", "/dev/null")
        .output()
        .unwrap();
    (t.elapsed().as_secs_f64(), o)
}

/// The same, which must succeed: seconds taken and standard output.
/// REGIE_BENCH_VERBOSE prints the output.
pub fn regie(inv: &Path, args: &[&str]) -> (f64, String) {
    let (s, o) = regie_output(inv, args);
    assert!(
        o.status.success(),
        "regie {args:?}: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    if std::env::var_os("REGIE_BENCH_VERBOSE").is_some() {
        eprint!("{out}");
    }
    (s, out)
}
