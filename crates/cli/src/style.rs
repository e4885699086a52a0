//! Colour for humans, never for machines.

use std::io::IsTerminal;

use crate::cli::ColorChoice;

/// ANSI styling that is either on or off.
#[derive(Clone, Copy, Debug)]
pub struct Style {
    on: bool,
}

impl Style {
    /// Decides from `--color`, `NO_COLOR` and whether stdout is a terminal.
    pub fn new(choice: ColorChoice) -> Self {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let on = match choice {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => !no_color && std::io::stdout().is_terminal(),
        };
        Style { on }
    }

    fn paint(&self, code: &str, s: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }

    /// Errors.
    pub fn red(&self, s: &str) -> String {
        self.paint("1;31", s)
    }
    /// Warnings.
    pub fn yellow(&self, s: &str) -> String {
        self.paint("1;33", s)
    }
    /// Good news.
    pub fn green(&self, s: &str) -> String {
        self.paint("1;32", s)
    }
    /// Gutters and locations.
    pub fn blue(&self, s: &str) -> String {
        self.paint("1;34", s)
    }
    /// Emphasis.
    pub fn bold(&self, s: &str) -> String {
        self.paint("1", s)
    }
    /// Less important.
    pub fn dim(&self, s: &str) -> String {
        self.paint("2", s)
    }
}
