//! What ends a command unsuccessfully, and its exit status.

use oauth_clients_core::Error;

/// A failed command: the message for stderr and the exit status.
#[derive(Debug)]
pub(crate) enum Failure {
    /// Bad usage or an unusable descriptor: exit status 2.
    Usage(String),
    /// The vendor or the network failed: exit status 1.
    Vendor(String),
    /// The command got its result but could not store it (a new token the store refused): the
    /// result still goes to stdout, so that a rotated refresh token is not lost, and the message
    /// to stderr; exit status 1.
    NotStored {
        /// What goes to stdout.
        output: String,
        /// What went wrong.
        message: String,
    },
    /// A report whose findings include failures (`doctor`): the report goes to stdout, the
    /// summary to stderr; exit status 1.
    Findings {
        /// The report.
        output: String,
        /// The summary.
        message: String,
    },
}

impl Failure {
    /// A usage or descriptor error.
    pub(crate) fn usage(message: impl Into<String>) -> Failure {
        Failure::Usage(message.into())
    }

    /// A vendor or network failure.
    pub(crate) fn vendor(message: impl Into<String>) -> Failure {
        Failure::Vendor(message.into())
    }

    /// The exit status.
    pub(crate) fn exit_code(&self) -> i32 {
        match self {
            Failure::Usage(_) => 2,
            Failure::Vendor(_) | Failure::NotStored { .. } | Failure::Findings { .. } => 1,
        }
    }

    /// The message for stderr.
    pub(crate) fn message(&self) -> &str {
        match self {
            Failure::Usage(m)
            | Failure::Vendor(m)
            | Failure::NotStored { message: m, .. }
            | Failure::Findings { message: m, .. } => m,
        }
    }

    /// What goes to stdout even though the command failed.
    pub(crate) fn output(&self) -> Option<&str> {
        match self {
            Failure::NotStored { output, .. } | Failure::Findings { output, .. } => Some(output),
            _ => None,
        }
    }
}

impl From<Error> for Failure {
    fn from(err: Error) -> Failure {
        let message = render_failure(&err);
        if err.is_configuration() {
            Failure::Usage(message)
        } else {
            Failure::Vendor(message)
        }
    }
}

/// The error's own text, plus its OAuth details on separate lines and a hint where one helps.
/// Hints speak of the tool's options, never of library calls.
fn render_failure(err: &Error) -> String {
    let mut message = err.to_string();
    if let Some(code) = err.oauth_error_code() {
        message.push_str(&format!("\n  oauth error: {code}"));
    }
    if let Some(status) = err.status() {
        message.push_str(&format!("\n  http status: {status}"));
    }
    if let Some(id) = err.request_id() {
        message.push_str(&format!("\n  request id: {id}"));
    }
    if err.oauth_error_code() == Some("invalid_client") {
        message.push_str("\n  hint: check --client-id and the OAUTH_CLIENT_SECRET variable");
    }
    match err {
        Error::MissingVariable { variable, .. } => message.push_str(&format!(
            "\n  hint: pass --var {variable}=VALUE (or --env NAME for an environment that sets it)"
        )),
        Error::AuthorizationRequired { vendor, .. } => message.push_str(&format!(
            "\n  hint: run `oauth-clients login {vendor} --store …` first, with the same --store \
             (and the same --user=NAME, if one was given)"
        )),
        Error::Timeout { .. } => {
            message.push_str("\n  hint: --timeout SECS and --retries N set how long to wait")
        }
        _ => {}
    }
    message
}
