//! A minimal `tracing` subscriber: the core's warnings (a corrupt store file moved aside, a
//! token that could not be stored, a failed refresh while the old token is kept) reach the
//! user on stderr as `warning: …` lines. Only WARN and ERROR events are printed; spans are
//! ignored. Fields whose name suggests a secret are never printed (the core's messages and
//! errors are already free of secrets; this is a second line of defence).

use std::fmt::{self, Write as _};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Event, Level, Metadata, Subscriber};

/// Installs the stderr subscriber for the whole process (once; later calls do nothing).
pub(crate) fn install() {
    let _ = tracing::subscriber::set_global_default(StderrWarnings);
}

/// Prints WARN and ERROR events to stderr.
struct StderrWarnings;

impl StderrWarnings {
    fn wanted(metadata: &Metadata<'_>) -> bool {
        metadata.is_event() && *metadata.level() <= Level::WARN
    }
}

impl Subscriber for StderrWarnings {
    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        if Self::wanted(metadata) {
            Interest::always()
        } else {
            Interest::never()
        }
    }

    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        Self::wanted(metadata)
    }

    fn max_level_hint(&self) -> Option<tracing::level_filters::LevelFilter> {
        Some(tracing::level_filters::LevelFilter::WARN)
    }

    fn new_span(&self, _span: &Attributes<'_>) -> Id {
        // Spans are disabled (see `enabled`); an id is still required.
        Id::from_u64(1)
    }

    fn record(&self, _span: &Id, _values: &Record<'_>) {}

    fn record_follows_from(&self, _span: &Id, _follows: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut line = Line::default();
        event.record(&mut line);
        let label = if *event.metadata().level() == Level::ERROR {
            "error"
        } else {
            "warning"
        };
        eprintln!("{label}: {}", line.finish());
    }

    fn enter(&self, _span: &Id) {}

    fn exit(&self, _span: &Id) {}
}

/// One event as text: the message, then `name=value` of every other field.
#[derive(Default)]
struct Line {
    message: String,
    fields: String,
}

impl Line {
    fn finish(self) -> String {
        match (self.message.is_empty(), self.fields.is_empty()) {
            (_, true) => self.message,
            (true, false) => self.fields,
            (false, false) => format!("{} ({})", self.message, self.fields),
        }
    }

    fn push(&mut self, field: &Field, value: fmt::Arguments<'_>) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value}");
            return;
        }
        if looks_secret(field.name()) {
            return;
        }
        if !self.fields.is_empty() {
            self.fields.push_str(", ");
        }
        let _ = write!(self.fields, "{}: {value}", field.name());
    }
}

impl Visit for Line {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.push(field, format_args!("{value}"));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.push(field, format_args!("{value:?}"));
    }
}

/// Field names that may carry a secret, which are never printed.
fn looks_secret(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    [
        "token",
        "secret",
        "password",
        "code",
        "verifier",
        "credential",
    ]
    .iter()
    .any(|word| name.contains(word))
}

#[cfg(test)]
mod tests {
    use super::looks_secret;

    #[test]
    fn secret_looking_fields_are_recognised() {
        assert!(looks_secret("refresh_token"));
        assert!(looks_secret("client_secret"));
        assert!(!looks_secret("vendor"));
        assert!(!looks_secret("error"));
    }
}
