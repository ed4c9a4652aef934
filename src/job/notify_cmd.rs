//! Running a job's notify command line (`SetNotifyCmdLine`, DESIGN 6.2): when the job enters
//! `Transferred` or `Error`, the notify flags select that event and no callback is registered,
//! the process that holds the job (the one with the store: an application, or `bgcopy serve`)
//! runs the program, without a shell. The parameters start with the program's name, as in BITS,
//! and are split as a Windows command line splits them (double quotes group words); the program
//! gets the rest as its arguments. If it exits non-zero (or cannot be started) and the job is
//! still in the state that called it (neither completed nor cancelled, nor moved on), it runs
//! again after the job's minimum retry delay, counted on the manager's clock from the start of
//! the run that failed. A manager with an engine that reopens the store runs the program of
//! each job still in one of those states ([`resume_after_reopen`]).

use crate::BgJobState;
use crate::job::state::shared::JobShared;
use parking_lot::{Condvar, Mutex};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Arc, Weak};
use std::time::Duration;

/// Splits a command line as Windows does (`CommandLineToArgvW`): words are separated by spaces
/// and tabs; double quotes group words and are removed; `2n` backslashes before a quote give `n`
/// backslashes and the quote groups, `2n + 1` give `n` and a literal quote; other backslashes
/// are literal; `""` inside quotes is a literal quote. The first word, the program's name, ends
/// at the first space or tab outside quotes and keeps its backslashes.
pub(crate) fn split_command_line(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut chars = line.chars().peekable();
    // The program's name.
    let mut first = String::new();
    let mut quoted = false;
    let mut any = false;
    while let Some(&c) = chars.peek() {
        if !quoted && (c == ' ' || c == '\t') {
            break;
        }
        chars.next();
        any = true;
        if c == '"' {
            quoted = !quoted;
        } else {
            first.push(c);
        }
    }
    if any {
        words.push(first);
    }
    loop {
        while chars.peek().is_some_and(|c| *c == ' ' || *c == '\t') {
            chars.next();
        }
        if chars.peek().is_none() {
            return words;
        }
        let mut word = String::new();
        let mut quoted = false;
        while let Some(&c) = chars.peek() {
            match c {
                ' ' | '\t' if !quoted => break,
                '\\' => {
                    let mut backslashes = 0;
                    while chars.peek() == Some(&'\\') {
                        chars.next();
                        backslashes += 1;
                    }
                    if chars.peek() == Some(&'"') {
                        word.extend(std::iter::repeat_n('\\', backslashes / 2));
                        if backslashes % 2 == 1 {
                            chars.next();
                            word.push('"');
                        }
                    } else {
                        word.extend(std::iter::repeat_n('\\', backslashes));
                    }
                }
                '"' => {
                    chars.next();
                    if quoted && chars.peek() == Some(&'"') {
                        chars.next();
                        word.push('"');
                    } else {
                        quoted = !quoted;
                    }
                }
                other => {
                    chars.next();
                    word.push(other);
                }
            }
        }
        words.push(word);
    }
}

/// Starts the job's notify program for its entry into `state` (`Transferred` or `Error`), on a
/// thread of its own, retried as the module docs say. Does nothing without a program.
pub(crate) fn start(shared: &Arc<JobShared>, state: BgJobState) {
    if shared.inner.lock().sources.notify.is_none() {
        return;
    }
    let job = Arc::downgrade(shared);
    let spawned = std::thread::Builder::new()
        .name("bgcopy-notify-cmd".to_owned())
        .spawn(move || run_until_done(&job, state));
    // Without a thread (the system refuses one) the program is not run: nothing else to do.
    drop(spawned);
}

/// For a job just reopened from the store by a manager with an engine: if it is still in
/// `Transferred` or `Error`, its notify flags select that event, and it has a program (no
/// callback can be registered yet), runs the program as on entering that state. BITS runs it
/// again while the job stays there; after the end of a process, a run that was cut (or never
/// started, if the process ended first) is not lost. A program may so run once more than
/// needed, never once less.
pub(crate) fn resume_after_reopen(shared: &Arc<JobShared>) {
    let state = shared.counters.state();
    let event = match state {
        BgJobState::Transferred => crate::BgNotify::JOB_TRANSFERRED,
        BgJobState::Error => crate::BgNotify::JOB_ERROR,
        _ => return,
    };
    let fires = {
        let inner = shared.inner.lock();
        inner.callback.is_none() && inner.notify_flags.fires(event)
    };
    if fires {
        start(shared, state);
    }
}

/// What one run needs, read under the job lock.
struct Run {
    program: PathBuf,
    arguments: Vec<String>,
    delay: Duration,
}

/// The program to run while the job is still in `state`, else `None`.
fn next_run(job: &Weak<JobShared>, state: BgJobState) -> Option<Run> {
    let shared = job.upgrade()?;
    let inner = shared.inner.lock();
    if shared.counters.state() != state {
        return None;
    }
    let (program, parameters) = inner.sources.notify.clone()?;
    let arguments = split_command_line(&parameters).into_iter().skip(1).collect();
    Some(Run { program, arguments, delay: inner.min_retry_delay })
}

fn run_until_done(job: &Weak<JobShared>, state: BgJobState) {
    loop {
        let Some(run) = next_run(job, state) else { return };
        let Some(clock) = job.upgrade().map(|shared| Arc::clone(shared.ctx.limiter.clock())) else {
            return;
        };
        let started = clock.now();
        let status = Command::new(&run.program)
            .args(&run.arguments)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        if status.is_ok_and(|status| status.success()) {
            return;
        }
        let Some(at) = crate::clock::deadline(started, run.delay) else { return };
        wait_until(&*clock, at);
    }
}

/// Waits until `clock` reaches `at`: woken by the clock when it is moved by hand (a test's
/// `ManualClock`), else by a timed wait.
fn wait_until(clock: &dyn crate::clock::Clock, at: Duration) {
    let signal = Arc::new((Mutex::new(()), Condvar::new()));
    let woken = Arc::downgrade(&signal);
    clock.subscribe(Box::new(move || match woken.upgrade() {
        Some(signal) => {
            let _guard = signal.0.lock();
            signal.1.notify_all();
            true
        }
        None => false,
    }));
    let mut guard = signal.0.lock();
    loop {
        let now = clock.now();
        if now >= at {
            return;
        }
        signal.1.wait_for(&mut guard, (at - now).min(Duration::from_secs(60)));
    }
}

#[cfg(test)]
mod tests {
    use super::split_command_line;

    fn split(line: &str) -> Vec<String> {
        split_command_line(line)
    }

    #[test]
    fn words_are_split_at_spaces_and_tabs_and_quotes_group_them() {
        assert_eq!(split("prog a  b\tc"), ["prog", "a", "b", "c"]);
        assert_eq!(split("prog \"a b\" c"), ["prog", "a b", "c"]);
        assert_eq!(split("prog a\"b c\"d"), ["prog", "ab cd"]);
        assert_eq!(split("prog \"\""), ["prog", ""]);
        assert_eq!(split(""), Vec::<String>::new());
        assert_eq!(split("prog"), ["prog"]);
    }

    #[test]
    fn the_program_name_keeps_its_backslashes_and_may_be_quoted() {
        assert_eq!(split("C:\\Tools\\a.exe x"), ["C:\\Tools\\a.exe", "x"]);
        assert_eq!(split("\"C:\\Program Files\\a.exe\" x"), ["C:\\Program Files\\a.exe", "x"]);
    }

    #[test]
    fn backslashes_before_a_quote_follow_the_windows_rules() {
        assert_eq!(split(r#"p a\\b"#), ["p", r"a\\b"]);
        assert_eq!(split(r#"p a\"b"#), ["p", "a\"b"]);
        assert_eq!(split(r#"p "a\\" b"#), ["p", "a\\", "b"]);
        assert_eq!(split(r#"p a\\\"b"#), ["p", "a\\\"b"]);
        assert_eq!(split(r#"p "a""b""#), ["p", "a\"b"]);
    }

    #[test]
    fn no_shell_syntax_is_interpreted() {
        assert_eq!(split("p $HOME;rm -rf / |x"), ["p", "$HOME;rm", "-rf", "/", "|x"]);
    }
}
