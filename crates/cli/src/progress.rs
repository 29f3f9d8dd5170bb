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

/// The reader's progress callback that moves `bar`.
pub fn callback(bar: &Option<ProgressBar>) -> Option<ProgressFn> {
    bar.clone().map(|bar| {
        let callback: ProgressFn = Arc::new(move |p: Progress| {
            if let Some(total) = p.total_bytes {
                bar.set_length(total.max(p.bytes_read));
            }
            bar.set_position(p.bytes_read);
            // A file or zip member name is any text the exporter (or an attacker) chose.
            bar.set_message(tokentrail_model::escape::terminal(&p.file).into_owned());
        });
        callback
    })
}
