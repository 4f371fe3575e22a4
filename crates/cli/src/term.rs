//! The terminal side of `login`: opening the browser, a spinner, reading a pasted line.

use std::io::IsTerminal as _;
use std::time::Duration;

use crate::failure::Failure;
use crate::output::{note, note_inline};

/// Opens the system browser; a failure is only a note (the URL was printed).
pub(crate) fn open_in_browser(url: &str) {
    let program = if cfg!(target_os = "macos") {
        "open"
    } else if cfg!(target_os = "windows") {
        "explorer"
    } else {
        "xdg-open"
    };
    let spawned = std::process::Command::new(program)
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    if spawned.is_err() {
        note(&format!(
            "note: could not start `{program}`; open the URL above yourself"
        ));
    }
}

/// Reads one line from stdin, trimmed.
pub(crate) async fn read_line(what: &str) -> Result<String, Failure> {
    let read = tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).map(|_| line)
    })
    .await;
    match read {
        Ok(Ok(line)) => Ok(line.trim().to_owned()),
        Ok(Err(err)) => Err(Failure::usage(format!(
            "cannot read the {what} from stdin: {err}"
        ))),
        Err(err) => Err(Failure::usage(format!(
            "cannot read the {what} from stdin: {err}"
        ))),
    }
}

/// A spinner on stderr, shown only when stderr is a terminal.
pub(crate) struct Spinner {
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Spinner {
    pub(crate) fn start(message: &'static str) -> Spinner {
        if !std::io::stderr().is_terminal() {
            note(&format!("{message}…"));
            return Spinner { task: None };
        }
        let task = tokio::spawn(async move {
            const FRAMES: [char; 10] = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
            let mut interval = tokio::time::interval(Duration::from_millis(100));
            for frame in FRAMES.iter().cycle() {
                interval.tick().await;
                note_inline(&format!("\r{frame} {message}…"));
            }
        });
        Spinner { task: Some(task) }
    }

    pub(crate) fn stop(self) {
        if let Some(task) = self.task {
            task.abort();
            note_inline("\r\x1b[2K");
        }
    }
}

/// A QR code of `text` drawn with Unicode half blocks, for a terminal; `None` when the text is
/// too long for one.
pub(crate) fn qr_code(text: &str) -> Option<String> {
    use qrcode::QrCode;
    use qrcode::render::unicode::Dense1x2;
    let code = QrCode::new(text.as_bytes()).ok()?;
    Some(
        code.render::<Dense1x2>()
            .dark_color(Dense1x2::Light)
            .light_color(Dense1x2::Dark)
            .build(),
    )
}
