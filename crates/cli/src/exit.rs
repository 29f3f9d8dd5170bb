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
    })
}
