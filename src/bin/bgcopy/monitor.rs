//! `monitor`: a live view of every job, like `bitsadmin /monitor`: state, bytes, rate, ETA and
//! errors, redrawn in place on a terminal, as plain `key=value` lines otherwise. It never holds
//! the store for longer than one read (so a `transfer` can start meanwhile): each refresh reads
//! the holder's published view, or opens the store, reads it and lets go. Rate and ETA come from
//! one [`RateMeter`] per job fed with those figures, so the transfers do nothing for it. Ends on
//! Ctrl-C (130; SIGTERM 143, SIGHUP 129), when stdout closes, or when stdin (if it is not a terminal) reaches its end.

use crate::events::{Event, Events};
use crate::failure::{Failure, Outcome};
use crate::json::JobInfo;
use crate::open::{self, View};
use crate::progress::LINE_EVERY;
use crate::verbs::figures;
use crate::{output, snapshot, text};
use bgcopy::meter::{Rate, RateMeter};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::IsTerminal;
use std::path::Path;
use std::time::{Duration, Instant};

/// How often a terminal view is redrawn.
const REDRAW_EVERY: Duration = Duration::from_secs(1);

/// One read of the store.
struct Frame {
    /// Where the figures come from, as the plain header says it.
    source: String,
    /// Where they come from, in words.
    said: String,
    jobs: Vec<JobInfo>,
    /// When the figures were taken, and an identity of the read (the view's time stamp) so
    /// that one view is fed to the meters once.
    taken: Instant,
    stamp: Option<u64>,
}

/// `monitor`.
pub(crate) fn monitor(dir: &Path) -> Outcome {
    let events = Events::with_interrupts();
    if !std::io::stdin().is_terminal() {
        events.watch_input();
    }
    let terminal = std::io::stdout().is_terminal();
    let screen = terminal.then(|| {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stdout());
        if let Ok(style) = ProgressStyle::with_template("{msg}") {
            bar.set_style(style);
        }
        bar
    });
    let mut meters: HashMap<String, RateMeter> = HashMap::new();
    let mut last_stamp = None;
    loop {
        let frame = read(dir)?;
        let fresh = frame.stamp.is_none() || frame.stamp != last_stamp;
        last_stamp = frame.stamp;
        meters.retain(|id, _| frame.jobs.iter().any(|job| &job.summary.id == id));
        let now = Instant::now();
        let rates: Vec<Rate> = frame
            .jobs
            .iter()
            .map(|job| {
                let meter = meters.entry(job.summary.id.clone()).or_default();
                if fresh {
                    meter.record(frame.taken, &figures(&job.summary));
                }
                meter.rate(now)
            })
            .collect();
        match &screen {
            Some(bar) => bar.set_message(table(dir, &frame, &rates)),
            None => match plain(&frame, &rates) {
                Err(Failure::ReaderLeft) => return Ok(()),
                other => other?,
            },
        }
        let wait = if terminal { REDRAW_EVERY } else { LINE_EVERY };
        match events.next(wait) {
            Some(Event::Interrupted(stop)) => {
                if let Some(bar) = &screen {
                    bar.abandon();
                }
                return Err(Failure::Interrupted(stop));
            }
            Some(Event::InputClosed) => return Ok(()),
            _ => {}
        }
    }
}

/// Reads the store once: the holder's view, or the store itself (held only while reading).
fn read(dir: &Path) -> Result<Frame, Failure> {
    let taken = Instant::now();
    match open::for_reading(dir, Duration::ZERO) {
        Ok(View::Direct(manager)) => Ok(Frame {
            source: "view=store".to_owned(),
            said: "read from the store".to_owned(),
            jobs: snapshot::jobs_of(&manager),
            taken,
            stamp: None,
        }),
        Ok(View::Holder(view)) => {
            let age = view.age();
            Ok(Frame {
                source: format!("view=holder pid={} age_ms={}", view.pid, age.as_millis()),
                said: format!("view of process {}, {:.1} s old", view.pid, age.as_secs_f64()),
                jobs: view.jobs,
                taken: taken.checked_sub(age).unwrap_or(taken),
                stamp: Some(view.written_at_ms),
            })
        }
        // Held by a short command (or a program that publishes no view): try again later.
        Err(Failure::Locked { pid, .. }) => {
            let pid = pid.map_or_else(|| "-".to_owned(), |pid| pid.to_string());
            Ok(Frame {
                source: format!("view=locked pid={pid}"),
                said: format!("held by process {pid}, which publishes no view"),
                jobs: Vec::new(),
                taken,
                stamp: Some(0),
            })
        }
        Err(other) => Err(other),
    }
}

/// The plain lines of a frame, on stdout: a header, then one line per job.
/// [`Failure::ReaderLeft`] once stdout is closed.
fn plain(frame: &Frame, rates: &[Rate]) -> Outcome {
    let mut out = format!("{} jobs={}\n", frame.source, frame.jobs.len());
    for (job, rate) in frame.jobs.iter().zip(rates) {
        let summary = &job.summary;
        out.push_str(&text::plain(&summary.id, summary.state, &figures(summary), rate));
        let _ = write!(out, " name={:?}", summary.display_name);
        if let Some(error) = &job.error {
            let _ = write!(out, " error={}", error.hresult_hex);
        }
        out.push('\n');
    }
    output::print(&out)
}

/// The terminal view of a frame.
fn table(dir: &Path, frame: &Frame, rates: &[Rate]) -> String {
    let mut out = format!(
        "bgcopy monitor: {} ({}), {} job(s); Ctrl-C stops\n",
        dir.display(),
        frame.said,
        frame.jobs.len()
    );
    for (job, rate) in frame.jobs.iter().zip(rates) {
        let summary = &job.summary;
        let progress = figures(summary);
        let bar = match progress.fraction() {
            Some(fraction) => {
                let filled = (fraction * 20.0).round() as usize;
                format!("[{}{}]", "=".repeat(filled.min(20)), " ".repeat(20 - filled.min(20)))
            }
            None => format!("[{:^20}]", "?"),
        };
        // Two lines a job, each within 80 columns.
        let _ = writeln!(out, "{} {:?} {:?}", summary.id, summary.state, summary.display_name);
        let _ = writeln!(
            out,
            "    {bar} {}  {}  {}/{} files",
            text::bytes(&progress),
            text::rate(rate),
            summary.files_transferred,
            summary.files_total,
        );
        if let Some(error) = &job.error {
            let _ = writeln!(out, "    {} {}", error.hresult_hex, error.description);
            if !error.message.is_empty() {
                let _ = writeln!(out, "    {}", error.message);
            }
        }
    }
    out.trim_end().to_owned()
}
