//! The progress bar drawn on stderr while inputs are read: only when stderr is a terminal, so
//! pipes and CI logs stay clean.

use std::io::IsTerminal as _;
use std::sync::Arc;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokentrail_ingest::source::{Progress, ProgressFn};

/// A bar over the bytes read, or `None` when stderr is not a terminal.
pub fn bytes_bar() -> Option<ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {bar:30} {bytes}/{total_bytes} ({bytes_per_sec}) {wide_msg}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    Some(bar)
}

/// One bar for a command that reads its inputs more than once (`investigate` and `timeline`
/// read them two or three times): its length the bytes of every reading planned, its message
/// which reading it is, so that it runs once from start to end instead of once per reading.
/// Drawn from the first reading on (a command that ends up reading otherwise draws nothing),
/// cleared when dropped.
pub struct Readings {
    bar: Option<ProgressBar>,
    planned: u64,
    started: u64,
}

impl Readings {
    /// A bar for `planned` readings (when stderr is a terminal).
    pub fn new(planned: u64) -> Readings {
        Readings {
            bar: None,
            planned,
            started: 0,
        }
    }

    /// The progress callback of the next reading; a reading beyond those planned adds one to
    /// the plan.
    pub fn next(&mut self) -> Option<ProgressFn> {
        if self.started == 0 {
            self.bar = bytes_bar();
        }
        self.started += 1;
        self.planned = self.planned.max(self.started);
        let (nth, of) = (self.started, self.planned);
        self.bar.clone().map(|bar| {
            let callback: ProgressFn = Arc::new(move |p: Progress| {
                // Every reading reads the same inputs: the earlier ones are `total` bytes each.
                let done = match p.total_bytes {
                    Some(total) => {
                        let total = total.max(p.bytes_read);
                        bar.set_length(total * of);
                        total * (nth - 1)
                    }
                    None => 0,
                };
                bar.set_position(done + p.bytes_read);
                // A file or zip member name is any text the exporter (or an attacker) chose.
                let file = tokentrail_model::escape::terminal(&p.file);
                bar.set_message(if of > 1 {
                    format!("reading {nth} of {of}: {file}")
                } else {
                    file.into_owned()
                });
            });
            callback
        })
    }

    /// Run `f` (which writes to stderr) with the bar hidden.
    pub fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        match &self.bar {
            Some(bar) => bar.suspend(f),
            None => f(),
        }
    }
}

impl Drop for Readings {
    fn drop(&mut self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
