//! Colour decided for the stream actually written.
//!
//! A finding printed to stderr is coloured when *stderr* is a terminal, whatever stdout is
//! (`platformctl validate > report.txt` still colours the messages left on the terminal, and
//! `2> log` keeps the log free of escape codes). `--color=always|never` decides for every
//! stream; under `auto` the decision is anstream's for that stream, in this order:
//!
//! 1. `NO_COLOR` set and not empty: no colour;
//! 2. `CLICOLOR_FORCE` set and not `0`: colour;
//! 3. `CLICOLOR=0`: no colour;
//! 4. colour when the stream is a terminal whose `TERM` supports colour (not `dumb`), or
//!    `CLICOLOR` is set, or a CI is detected.
//!
//! (`--color=always` wins over `NO_COLOR`: an explicit flag is the operator's latest word.)

use std::io::IsTerminal;

/// `--color`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ColorChoice {
    /// Decide per stream (see the module documentation).
    #[default]
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

/// The stream a text is written to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

/// Whether text written to `stream` is coloured under `choice`.
pub fn use_color(choice: ColorChoice, stream: Stream) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            let decided = match stream {
                Stream::Stdout => auto_choice(&std::io::stdout()),
                Stream::Stderr => auto_choice(&std::io::stderr()),
            };
            decided != anstream::ColorChoice::Never
        }
    }
}

fn auto_choice<S: anstream::stream::RawStream + IsTerminal>(s: &S) -> anstream::ColorChoice {
    anstream::AutoStream::choice(s)
}

/// Removes ANSI escape sequences from `text` (for a JSON document carrying a message that
/// was styled for a terminal).
pub fn strip_ansi(text: &str) -> String {
    anstream::adapter::strip_str(text).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_choices_win() {
        for s in [Stream::Stdout, Stream::Stderr] {
            assert!(use_color(ColorChoice::Always, s));
            assert!(!use_color(ColorChoice::Never, s));
        }
    }

    #[test]
    fn stripping() {
        assert_eq!(strip_ansi("\x1b[1;31merror\x1b[0m: x"), "error: x");
    }
}
