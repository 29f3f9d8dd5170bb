//! One module per subcommand: its arguments and the function that runs it.

pub mod inspect;
