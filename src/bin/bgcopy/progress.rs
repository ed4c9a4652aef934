//! [`Progress`]: how a job a verb waits for is shown on stderr. On a terminal, one indicatif
//! bar per job; otherwise plain `key=value` lines (`text::plain`), one on every state change and
//! one every [`LINE_EVERY`] while it moves. The figures come from the job's notifications; rate
//! and ETA from a [`RateMeter`] fed with them (this session's bytes over a recent window, decaying
//! while stalled).

use crate::text;
use bgcopy::meter::{Rate, RateMeter};
use bgcopy::{BackgroundCopyJob, BgJobProgress, BgJobState, Job, JobId};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// A plain progress line at most this often (state changes have one each, at once).
pub(crate) const LINE_EVERY: Duration = Duration::from_secs(2);
/// A bar is redrawn this often while nothing arrives, so that a stalled rate decays on screen.
const REDRAW_EVERY: Duration = Duration::from_millis(500);

/// The display of one job.
#[derive(Debug)]
pub(crate) struct Progress {
    id: JobId,
    state: BgJobState,
    figures: BgJobProgress,
    meter: RateMeter,
    style: Style,
}

#[derive(Debug)]
enum Style {
    /// The bar; whether its total is known (the style differs).
    Bar(ProgressBar, Option<bool>),
    /// Plain lines; when the last one was written.
    Lines(Option<Instant>),
}

impl Progress {
    /// The display of `job`, as a bar if stderr is a terminal. Made before the job is started,
    /// so that the state changes that follow are its own notifications, in order (a plain line
    /// is written for each, none for the state it has now).
    pub(crate) fn new(job: &Job) -> Progress {
        let style = if std::io::stderr().is_terminal() {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            let name: String = job.get_display_name().chars().take(20).collect();
            bar.set_prefix(name);
            Style::Bar(bar, None)
        } else {
            Style::Lines(None)
        };
        let figures = job.get_progress();
        let mut meter = RateMeter::new();
        meter.record(Instant::now(), &figures);
        let mut progress =
            Progress { id: job.get_id(), state: job.get_state(), figures, meter, style };
        if let Style::Bar(..) = progress.style {
            progress.draw(false);
        }
        progress
    }

    /// New figures from the job's notification.
    pub(crate) fn progress(&mut self, figures: BgJobProgress) {
        self.figures = figures;
        self.meter.record(Instant::now(), &figures);
        self.draw(false);
    }

    /// The job entered `state`.
    pub(crate) fn state(&mut self, state: BgJobState) {
        let changed = state != self.state;
        self.state = state;
        self.draw(changed);
    }

    /// Nothing arrived for a while: let the rate decay on screen.
    pub(crate) fn tick(&mut self) {
        self.draw(false);
    }

    /// How long the verb may wait for the next event before [`tick`](Self::tick) is due.
    pub(crate) fn next_refresh(&self) -> Duration {
        match &self.style {
            Style::Bar(..) => REDRAW_EVERY,
            Style::Lines(last) => {
                last.map_or(LINE_EVERY, |last| LINE_EVERY.saturating_sub(last.elapsed()))
            }
        }
        .max(Duration::from_millis(10))
    }

    /// A message between the figures, on stderr.
    pub(crate) fn note(&self, message: &str) {
        match &self.style {
            Style::Bar(bar, _) => bar.println(format!("bgcopy: {message}")),
            Style::Lines(_) => say!("bgcopy: {message}"),
        }
    }

    /// Leaves the last figures on screen and stops drawing.
    pub(crate) fn finish(&mut self) {
        match &self.style {
            Style::Bar(bar, _) => bar.abandon(),
            Style::Lines(_) => {}
        }
    }

    /// Stops drawing and clears the bar (the message that follows says where the job is).
    pub(crate) fn clear(&mut self) {
        match &self.style {
            Style::Bar(bar, _) => bar.finish_and_clear(),
            Style::Lines(_) => {}
        }
    }

    /// Draws the figures: a bar always, a plain line if `now` (a state change) or one is due.
    fn draw(&mut self, now: bool) {
        let rate = self.meter.rate(Instant::now());
        match &mut self.style {
            Style::Bar(bar, known) => {
                draw_bar(bar, known, self.state, &self.figures, &rate);
            }
            Style::Lines(last) => {
                if now || last.is_none_or(|last| last.elapsed() >= LINE_EVERY) {
                    say!("{}", text::plain(&self.id, self.state, &self.figures, &rate));
                    *last = Some(Instant::now());
                }
            }
        }
    }
}

/// Redraws `bar` for these figures; `known` is whether the style in use is the one for a
/// known total.
fn draw_bar(
    bar: &ProgressBar,
    known: &mut Option<bool>,
    state: BgJobState,
    figures: &BgJobProgress,
    rate: &Rate,
) {
    let total = figures.total();
    if *known != Some(total.is_some()) {
        let template = match total {
            Some(_) => "{prefix:.bold} [{bar:20.cyan/blue}] {msg}",
            None => "{prefix:.bold} {spinner} {msg}",
        };
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style.progress_chars("=> "));
        }
        *known = Some(total.is_some());
    }
    match total {
        Some(total) => bar.set_length(total.max(1)),
        None => bar.unset_length(),
    }
    bar.set_position(figures.bytes_transferred);
    // Short enough for 80 columns: a line that wraps (an echoed ^C) cannot be redrawn in place.
    let mut message = format!("{}  {}", text::bytes(figures), text::rate(rate));
    if figures.files_total > 1 {
        message.push_str(&format!("  {}/{} files", figures.files_transferred, figures.files_total));
    }
    if state != BgJobState::Transferring {
        message.push_str(&format!("  {state:?}"));
    }
    bar.set_message(message);
}
