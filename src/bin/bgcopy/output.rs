//! Stdout, where the data goes. Rust ignores SIGPIPE, so a write to a pipe whose reader left
//! (`bgcopy list | head -1` once `head` has its line) fails with `BrokenPipe` instead of ending
//! the process, and `println!` would panic on it. Every verb writes its data through [`print`]:
//! a reader that left stops the verb quietly ([`Failure::ReaderLeft`], exit 0, nothing on
//! stderr); any other write error is exit 1.

use crate::failure::Failure;
use std::io::{ErrorKind, Write};

/// Writes `text` to stdout and flushes it.
pub(crate) fn print(text: &str) -> Result<(), Failure> {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == ErrorKind::BrokenPipe => Err(Failure::ReaderLeft),
        Err(error) => Err(Failure::Output(error)),
    }
}
