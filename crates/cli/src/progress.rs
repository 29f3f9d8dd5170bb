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
        if self.started == 0 && self.bar.is_none() {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn read(callback: &Option<ProgressFn>, bytes_read: u64) {
        let callback = callback.as_ref().expect("a bar");
        callback(Progress {
            bytes_read,
            total_bytes: Some(100),
            file: Arc::from("signins.json"),
        });
    }

    #[test]
    fn one_bar_runs_once_over_every_reading() {
        let bar = ProgressBar::hidden();
        let mut readings = Readings::new(2);
        readings.bar = Some(bar.clone());
        let first = readings.next();
        read(&first, 40);
        assert_eq!((bar.position(), bar.length()), (40, Some(200)));
        assert_eq!(bar.message(), "reading 1 of 2: signins.json");
        read(&first, 100);
        let second = readings.next();
        read(&second, 30);
        assert_eq!((bar.position(), bar.length()), (130, Some(200)));
        assert_eq!(bar.message(), "reading 2 of 2: signins.json");
        // A reading not planned (the chains' issuers) lengthens the bar.
        let third = readings.next();
        read(&third, 100);
        assert_eq!((bar.position(), bar.length()), (300, Some(300)));
        assert_eq!(bar.message(), "reading 3 of 3: signins.json");
        drop(readings);
        assert!(bar.is_finished());
    }

    #[test]
    fn a_single_reading_names_only_its_file() {
        let bar = ProgressBar::hidden();
        let mut readings = Readings::new(1);
        readings.bar = Some(bar.clone());
        read(&readings.next(), 60);
        assert_eq!((bar.position(), bar.length()), (60, Some(100)));
        assert_eq!(bar.message(), "signins.json");
    }
}
