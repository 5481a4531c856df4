//! Writing to stdout and stderr without panicking: a reader that went away (`urne … |
//! head -1`) ends the command quietly (spec/15 §4), instead of `println!`'s panic.

use std::fmt;
use std::io::{ErrorKind, Write};

use urne_client::ClientError;

/// Why a command stopped.
#[derive(Debug)]
pub enum Failure {
    /// Something went wrong: printed on stderr, exit status 1.
    Message(String),
    /// Stdout was closed by its reader: nothing more to say, exit status 0.
    StdoutClosed,
}

impl From<String> for Failure {
    fn from(message: String) -> Self {
        Self::Message(message)
    }
}

impl From<&str> for Failure {
    fn from(message: &str) -> Self {
        Self::Message(message.to_owned())
    }
}

impl From<ClientError> for Failure {
    fn from(e: ClientError) -> Self {
        Self::Message(e.to_string())
    }
}

/// Writes one line to stdout; a closed pipe is [`Failure::StdoutClosed`].
pub fn line(args: fmt::Arguments<'_>) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{args}").and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == ErrorKind::BrokenPipe => Err(Failure::StdoutClosed),
        Err(e) => Err(Failure::Message(format!("writing to stdout: {e}"))),
    }
}

/// Writes one line to stdout for a long-running command whose output is a log (`serve`):
/// a closed stdout must not stop the board or skip its last checkpoint, so errors are
/// dropped.
pub fn log_line(args: fmt::Arguments<'_>) {
    let _ = line(args);
}

/// Writes to stderr, dropping errors (there is nowhere left to report them).
pub fn err(args: fmt::Arguments<'_>) {
    let _ = std::io::stderr().lock().write_fmt(args);
}

/// `say!(…)?`: one line on stdout, ending the command quietly if stdout is closed.
macro_rules! say {
    ($($arg:tt)*) => { $crate::output::line(format_args!($($arg)*)) };
}

/// `note!(…)`: one line of `serve`'s log on stdout; a closed stdout is ignored.
macro_rules! note {
    ($($arg:tt)*) => { $crate::output::log_line(format_args!($($arg)*)) };
}

/// `stderr_line!(…)`: one line on stderr.
macro_rules! stderr_line {
    ($($arg:tt)*) => { $crate::output::err(format_args!("{}\n", format_args!($($arg)*))) };
}

pub(crate) use {note, say, stderr_line};
