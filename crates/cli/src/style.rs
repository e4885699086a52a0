//! Colour for humans, never for machines: decided for the stream the text is written to
//! (`platformctl_diagnostics::use_color`: `--color`, then `NO_COLOR`, `CLICOLOR_FORCE`,
//! `CLICOLOR`, and whether *that* stream is a terminal).

use anstyle::{AnsiColor, Effects};
use platformctl_diagnostics::{Renderer, Stream, use_color};

use crate::cli::ColorChoice;

impl From<ColorChoice> for platformctl_diagnostics::ColorChoice {
    fn from(c: ColorChoice) -> Self {
        match c {
            ColorChoice::Auto => platformctl_diagnostics::ColorChoice::Auto,
            ColorChoice::Always => platformctl_diagnostics::ColorChoice::Always,
            ColorChoice::Never => platformctl_diagnostics::ColorChoice::Never,
        }
    }
}

/// ANSI styling that is either on or off.
#[derive(Clone, Copy, Debug)]
pub struct Style {
    on: bool,
}

impl Style {
    /// For text written to stdout.
    pub fn new(choice: ColorChoice) -> Self {
        Self::for_stream(choice, Stream::Stdout)
    }

    /// For text written to stderr.
    pub fn stderr(choice: ColorChoice) -> Self {
        Self::for_stream(choice, Stream::Stderr)
    }

    /// For text written to `stream`.
    pub fn for_stream(choice: ColorChoice, stream: Stream) -> Self {
        Style {
            on: use_color(choice.into(), stream),
        }
    }

    /// Whether colour is on.
    pub fn on(&self) -> bool {
        self.on
    }

    /// The diagnostics renderer with the same decision.
    pub fn renderer(&self) -> Renderer {
        Renderer::new(self.on)
    }

    fn paint(&self, style: anstyle::Style, s: &str) -> String {
        if self.on {
            format!("{}{s}{}", style.render(), style.render_reset())
        } else {
            s.to_string()
        }
    }

    fn strong(color: AnsiColor) -> anstyle::Style {
        color.on_default().effects(Effects::BOLD)
    }

    /// Errors.
    pub fn red(&self, s: &str) -> String {
        self.paint(Self::strong(AnsiColor::Red), s)
    }
    /// Warnings.
    pub fn yellow(&self, s: &str) -> String {
        self.paint(Self::strong(AnsiColor::Yellow), s)
    }
    /// Good news.
    pub fn green(&self, s: &str) -> String {
        self.paint(Self::strong(AnsiColor::Green), s)
    }
    /// Emphasis.
    pub fn bold(&self, s: &str) -> String {
        self.paint(anstyle::Style::new().effects(Effects::BOLD), s)
    }
    /// Less important.
    pub fn dim(&self, s: &str) -> String {
        self.paint(anstyle::Style::new().effects(Effects::DIMMED), s)
    }
}
