//! Everything the tool writes. stdout carries only results and a failed write to it is an
//! error (exit 1): a token that could not be written is a token lost. stderr carries notes,
//! warnings and errors; a failed write there cannot be reported anywhere, so it is ignored,
//! never a panic.

use std::io::Write as _;

use oauth_clients_core::Token;
use oauth_clients_core::secrecy::ExposeSecret as _;
use serde_json::json;

use crate::failure::Failure;

/// Writes `text` to stdout and flushes it.
pub(crate) fn stdout(text: &[u8]) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    out.write_all(text)
        .and_then(|()| out.flush())
        .map_err(|err| Failure::vendor(format!("cannot write the result to stdout: {err}")))
}

/// Writes a line to stderr; a closed or broken stderr is ignored.
pub(crate) fn note(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{text}");
    let _ = err.flush();
}

/// Writes to stderr without a line break (prompts, spinners); failures are ignored.
pub(crate) fn note_inline(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ = write!(err, "{text}");
    let _ = err.flush();
}

/// The token as printed on stdout: the access token is the result, so it is shown.
pub(crate) fn token_json(vendor: &str, token: &Token) -> String {
    let mut value = json!({
        "vendor": vendor,
        "access_token": token.access_token().expose_secret(),
        "token_type": token.token_type(),
        "refresh_token": token.refresh_token().map(|t| t.expose_secret()),
        "expires_at": token.expires_at_unix(),
        "issued_at": token.issued_at_unix(),
        "scope": token.scope(),
        "id_token": token.id_token().map(|t| t.expose_secret()),
        "id_token_claims": token.id_token_claims(),
    });
    if let Some(object) = value.as_object_mut() {
        object.retain(|_, v| !v.is_null());
    }
    serde_json::to_string_pretty(&value).unwrap_or_default() + "\n"
}

/// A response body as it came, with a final line break.
pub(crate) fn body(body: &[u8]) -> Vec<u8> {
    let mut out = body.to_vec();
    if !out.is_empty() && !out.ends_with(b"\n") {
        out.push(b'\n');
    }
    out
}

/// Refuses to run when stdout was closed: the result (a token, perhaps a rotated refresh
/// token) would be lost. Rust's runtime reopens a closed standard descriptor on /dev/null
/// (read-write) before `main`, where writes then succeed silently; on Linux that reopened
/// descriptor is recognised (a shell's `>/dev/null` opens it write-only).
pub(crate) fn refuse_closed_stdout() -> Result<(), Failure> {
    if stdout_was_closed() {
        return Err(Failure::vendor(
            "stdout is closed: the result would be lost, so nothing was done",
        ));
    }
    Ok(())
}

#[cfg(target_os = "linux")]
fn stdout_was_closed() -> bool {
    use std::os::unix::fs::MetadataExt as _;
    let is_null = match (
        std::fs::metadata("/proc/self/fd/1"),
        std::fs::metadata("/dev/null"),
    ) {
        (Ok(fd), Ok(null)) => fd.rdev() == null.rdev() && fd.dev() == null.dev(),
        _ => false,
    };
    if !is_null {
        return false;
    }
    // `flags:` in fdinfo is octal; O_ACCMODE is 0o3 and O_RDWR 0o2.
    std::fs::read_to_string("/proc/self/fdinfo/1")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|line| line.strip_prefix("flags:"))
                .and_then(|flags| u32::from_str_radix(flags.trim(), 8).ok())
        })
        .is_some_and(|flags| flags & 0o3 == 0o2)
}

#[cfg(not(target_os = "linux"))]
fn stdout_was_closed() -> bool {
    false
}
