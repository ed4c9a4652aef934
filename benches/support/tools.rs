//! What the benches that race command-line tools share (included by path).

use std::process::{Command, Stdio};

/// Whether `program --version` runs: the tool is installed.
pub(crate) fn installed(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}
