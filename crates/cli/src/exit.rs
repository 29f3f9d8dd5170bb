//! Exit codes, shared by every subcommand.

/// Everything was read and the command did its job.
pub const OK: u8 = 0;
/// The command finished, but some input records or files could not be read (they are listed on
/// stderr and in the machine output).
pub const PARTIAL: u8 = 1;
/// Unusable arguments or configuration, no input could be read at all, or the inputs hold no
/// sign-in and no access to judge (never reported as an all-clear).
pub const USAGE: u8 = 2;

/// Shown at the end of `--help`.
pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  done, every input record read
  1  done, but some input could not be read (each place is reported on stderr)
  2  unusable arguments or configuration, nothing readable, or no sign-in and no
     access in the inputs (nothing to judge is not an all-clear)";

/// True when the error chain is a closed stdout (e.g. `tokentrail ... | head`), which is not a
/// failure.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            // JSON written straight to stdout fails as a serde_json error holding the io one.
            || e.downcast_ref::<serde_json::Error>()
                .is_some_and(|j| j.io_error_kind() == Some(std::io::ErrorKind::BrokenPipe))
    })
}

/// The error and its causes as one line, `context: cause: cause`, each text once. Library
/// errors often quote their cause in their own message as well as chaining it (thiserror's
/// `{source}`), and a context may repeat the message it wraps: printed as is, the chain says
/// "(os error 2)" twice.
pub fn error_text(err: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if parts.iter().any(|p| p.contains(&text)) {
            continue;
        }
        match parts.last_mut() {
            // The cause repeats its wrapper and says more: keep the longer one.
            Some(last) if text.contains(last.as_str()) => *last = text,
            _ => parts.push(text),
        }
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("cannot read {path}: {source}")]
    struct Quoting {
        path: &'static str,
        source: std::io::Error,
    }

    #[test]
    fn each_cause_is_said_once() {
        let missing = || std::io::Error::from_raw_os_error(2);
        let err = anyhow::Error::new(Quoting {
            path: "findings.jsonl",
            source: missing(),
        });
        let os = missing().to_string();
        assert_eq!(
            error_text(&err),
            format!("cannot read findings.jsonl: {os}")
        );
        let wrapped = err.context("cannot read findings.jsonl");
        assert_eq!(
            error_text(&wrapped),
            format!("cannot read findings.jsonl: {os}")
        );
        let plain = anyhow::Error::new(missing()).context("cannot open ASN database x.mmdb");
        assert_eq!(
            error_text(&plain),
            format!("cannot open ASN database x.mmdb: {os}")
        );
    }
}
