//! Running the binary against the hostile vendor, and judging what it printed: exit status,
//! messages, secrets in every encoding, control characters.

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::Secrets;

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_oauth-clients");

/// How long any child process may run before it is killed.
pub const CHILD_LIMIT: Duration = Duration::from_secs(20);

// ---------------------------------------------------------------------------------------------
// Encodings (written here, independently of the product's sanitizer).

const STD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn b64(bytes: &[u8], alphabet: &[u8; 64], pad: bool) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk.len();
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let v = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= n {
                out.push(char::from(alphabet[((v >> (18 - 6 * i)) & 63) as usize]));
            } else if pad {
                out.push('=');
            }
        }
    }
    out
}

pub fn b64_std(bytes: &[u8]) -> String {
    b64(bytes, STD, true)
}

pub fn b64_url_nopad(bytes: &[u8]) -> String {
    b64(bytes, URL, false)
}

/// `application/x-www-form-urlencoded` of a value (space as `+`).
pub fn form_encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// The HTML escape of text (`& < > " '`).
pub fn html_escape(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A JSON string's content (the escaped text between the quotes).
pub fn json_inner(text: &str) -> String {
    let quoted = serde_json::to_string(text).unwrap_or_default();
    quoted[1..quoted.len() - 1].to_owned()
}

/// The parts of base64 text that stand for `secret` wherever it sits in a longer base64-encoded
/// text: one per alignment (0, 1 or 2 bytes before it), standard and URL-safe alphabets.
fn base64_cores(secret: &[u8]) -> Vec<String> {
    let mut cores = Vec::new();
    for shift in 0..3usize {
        let mut shifted = vec![0u8; shift];
        shifted.extend_from_slice(secret);
        for alphabet in [STD, URL] {
            let encoded = b64(&shifted, alphabet, false);
            // Character i stands for bits 6i..6i+6: only those wholly inside the secret.
            let start = (shift * 4).div_ceil(3);
            let end = (shifted.len() * 4) / 3;
            if end > start + 8 {
                cores.push(encoded[start..end].to_owned());
            }
        }
    }
    cores
}

/// Every form of a secret that must not be printed, with the encoding's name.
pub fn forms(secret: &str, basic_client_id: Option<&str>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut add = |name: &str, form: String| {
        if !out.iter().any(|(_, f)| *f == form) {
            out.push((name.to_owned(), form));
        }
    };
    add("raw", secret.to_owned());
    let json = json_inner(secret);
    add("JSON-escaped", json.clone());
    add("JSON-escaped with \\/", json.replace('/', "\\/"));
    add(
        "JSON-escaped Go-style",
        json.replace('/', "\\/")
            .replace('&', "\\u0026")
            .replace('<', "\\u003c")
            .replace('>', "\\u003e"),
    );
    let html = html_escape(secret);
    add("HTML-escaped", html.clone());
    add("HTML-escaped with &#x2F;", html.replace('/', "&#x2F;"));
    add(
        "HTML numeric",
        secret
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_string()
                } else {
                    format!("&#{};", u32::from(c))
                }
            })
            .collect(),
    );
    let form = form_encode(secret);
    add("form-encoded", form.clone());
    add("percent-encoded", form.replace('+', "%20"));
    add(
        "percent-encoded lower-case",
        lower_hex(&form.replace('+', "%20")),
    );
    for (label, bytes) in [
        ("", secret.as_bytes()),
        (" of the form-encoded", form.as_bytes()),
    ] {
        add(&format!("base64{label}"), b64(bytes, STD, true));
        add(&format!("base64 unpadded{label}"), b64(bytes, STD, false));
        add(&format!("base64url{label}"), b64(bytes, URL, true));
        add(
            &format!("base64url unpadded{label}"),
            b64(bytes, URL, false),
        );
        for core in base64_cores(bytes) {
            add(&format!("base64 inside a longer text{label}"), core);
        }
    }
    if let Some(id) = basic_client_id {
        let basic = format!("{}:{}", form_encode(id), form_encode(secret));
        add("Basic credentials", b64(basic.as_bytes(), STD, true));
        add(
            "Basic credentials without encoding",
            b64(format!("{id}:{secret}").as_bytes(), STD, true),
        );
    }
    out
}

fn lower_hex(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '%' {
            for _ in 0..2 {
                if let Some(h) = chars.next() {
                    out.push(h.to_ascii_lowercase());
                }
            }
        }
    }
    out
}

/// The first piece of `form` of at least `window` characters found in `text`.
fn find_piece(text: &str, form: &str, window: usize) -> Option<String> {
    let chars: Vec<char> = form.chars().collect();
    if chars.len() < window {
        return text.contains(form).then(|| form.to_owned());
    }
    (0..=chars.len() - window)
        .map(|i| chars[i..i + window].iter().collect::<String>())
        .find(|piece| text.contains(piece.as_str()))
}

// ---------------------------------------------------------------------------------------------
// Child processes.

/// What a finished child printed, and how it ended.
pub struct Outcome {
    pub label: String,
    pub status: Option<ExitStatus>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub elapsed: Duration,
    pub timed_out: bool,
}

impl Outcome {
    pub fn code(&self) -> Option<i32> {
        self.status.and_then(|s| s.code())
    }

    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }

    /// The exact output, for failure messages (invalid UTF-8 and control bytes made visible).
    pub fn dump(&self) -> String {
        format!(
            "--- {} ---\nstatus: {:?} (timed out: {}, {:.2?})\n--- stdout ({} bytes) ---\n{}\n\
             --- stderr ({} bytes) ---\n{}\n--- end ---",
            self.label,
            self.status,
            self.timed_out,
            self.elapsed,
            self.stdout.len(),
            visible(&self.stdout),
            self.stderr.len(),
            visible(&self.stderr)
        )
    }
}

/// Bytes as text with control characters and invalid UTF-8 shown escaped (`\x1b`).
pub fn visible(bytes: &[u8]) -> String {
    let shown = if bytes.len() > 6000 {
        &bytes[..6000]
    } else {
        bytes
    };
    let mut out = String::new();
    for chunk in shown.utf8_chunks() {
        for c in chunk.valid().chars() {
            if c == '\n' || !(c.is_control() || is_bidi(c)) {
                out.push(c);
            } else {
                out.push_str(&c.escape_unicode().to_string());
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    if bytes.len() > shown.len() {
        out.push_str(&format!("… ({} more bytes)", bytes.len() - shown.len()));
    }
    out
}

fn is_bidi(c: char) -> bool {
    matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// A running child whose stdout and stderr are read as they come.
pub struct Running {
    label: String,
    child: Child,
    started: Instant,
    stdout: Arc<Mutex<Vec<u8>>>,
    stderr: Arc<Mutex<Vec<u8>>>,
    readers: Vec<std::thread::JoinHandle<()>>,
}

fn drain(
    mut from: impl std::io::Read + Send + 'static,
    into: Arc<Mutex<Vec<u8>>>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        // Ends at end of file, which comes at the latest when the child is killed.
        while let Ok(n) = from.read(&mut buf) {
            if n == 0 {
                break;
            }
            into.lock()
                .unwrap_or_else(|p| p.into_inner())
                .extend_from_slice(&buf[..n]);
        }
    })
}

impl Running {
    pub fn spawn(label: &str, command: &mut Command) -> Running {
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let started = Instant::now();
        let mut child = command.spawn().expect("spawn the child");
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let mut readers = Vec::new();
        if let Some(out) = child.stdout.take() {
            readers.push(drain(out, Arc::clone(&stdout)));
        }
        if let Some(err) = child.stderr.take() {
            readers.push(drain(err, Arc::clone(&stderr)));
        }
        Running {
            label: label.to_owned(),
            child,
            started,
            stdout,
            stderr,
            readers,
        }
    }

    /// Waits until a line of stderr satisfies `pred` (at most `limit`); that line.
    pub fn stderr_line(&self, limit: Duration, pred: impl Fn(&str) -> bool) -> Option<String> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            let text =
                String::from_utf8_lossy(&self.stderr.lock().unwrap_or_else(|p| p.into_inner()))
                    .into_owned();
            if let Some(line) = text.lines().find(|l| pred(l)) {
                return Some(line.to_owned());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        None
    }

    /// Waits for the child (killing it after `limit`) and collects its output.
    pub fn wait(mut self, limit: Duration) -> Outcome {
        let deadline = self.started + limit;
        let mut timed_out = false;
        let status = loop {
            match self.child.try_wait() {
                Ok(Some(status)) => break Some(status),
                Ok(None) => {}
                Err(_) => break None,
            }
            if Instant::now() >= deadline {
                timed_out = true;
                let _ = self.child.kill();
                break self.child.wait().ok();
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        let elapsed = self.started.elapsed();
        for reader in self.readers.drain(..) {
            let _ = reader.join();
        }
        let take = |buf: &Arc<Mutex<Vec<u8>>>| {
            std::mem::take(&mut *buf.lock().unwrap_or_else(|p| p.into_inner()))
        };
        Outcome {
            label: self.label.clone(),
            status,
            stdout: take(&self.stdout),
            stderr: take(&self.stderr),
            elapsed,
            timed_out,
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // A child still running when a test fails is killed and reaped.
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Runs a command to its end (at most [`CHILD_LIMIT`]).
pub fn run(label: &str, command: &mut Command) -> Outcome {
    Running::spawn(label, command).wait(CHILD_LIMIT)
}

/// The binary with a clean environment: the test's client id and secret, `RUST_LOG=trace`.
pub fn oauth_clients(secrets: &Secrets) -> Command {
    let mut command = Command::new(BIN);
    command
        .env_clear()
        .env("RUST_LOG", "trace")
        .env("OAUTH_CLIENT_ID", &secrets.client_id)
        .env("OAUTH_CLIENT_SECRET", &secrets.client_secret)
        .env("OAUTH_USERNAME", &secrets.username)
        .env("OAUTH_PASSWORD", &secrets.password);
    command
}

/// The binary run through `/bin/sh -c 'exec "$0" "$@" <redirection>'`, e.g. `>&-` to close
/// stdout before it starts.
pub fn through_sh(secrets: &Secrets, redirection: &str, args: &[String]) -> Command {
    let mut command = Command::new("/bin/sh");
    command
        .env_clear()
        .env("RUST_LOG", "trace")
        .env("OAUTH_CLIENT_ID", &secrets.client_id)
        .env("OAUTH_CLIENT_SECRET", &secrets.client_secret)
        .env("OAUTH_USERNAME", &secrets.username)
        .env("OAUTH_PASSWORD", &secrets.password)
        .arg("-c")
        .arg(format!("exec \"$0\" \"$@\" {redirection}"))
        .arg(BIN)
        .args(args);
    command
}

// ---------------------------------------------------------------------------------------------
// Judging an outcome. Every check adds to one list; `finish` fails with all of them and the
// exact output, so one run reports every way it went wrong.

pub struct Verdict<'a> {
    outcome: &'a Outcome,
    problems: Vec<String>,
}

impl<'a> Verdict<'a> {
    pub fn new(outcome: &'a Outcome) -> Verdict<'a> {
        let mut verdict = Verdict {
            outcome,
            problems: Vec::new(),
        };
        if outcome.timed_out {
            verdict.problem(format!(
                "the process did not end within {CHILD_LIMIT:?} and was killed"
            ));
        }
        if outcome.code() == Some(101) {
            verdict.problem("exit status 101: the process panicked".to_owned());
        }
        verdict
    }

    pub fn problem(&mut self, text: String) {
        self.problems.push(text);
    }

    pub fn exit(mut self, code: i32) -> Self {
        if self.outcome.code() != Some(code) {
            self.problem(format!(
                "exit status {:?}, expected {code}",
                self.outcome.code()
            ));
        }
        self
    }

    pub fn stderr_has(mut self, needle: &str) -> Self {
        if !self.outcome.stderr_text().contains(needle) {
            self.problem(format!("stderr does not contain {needle:?}"));
        }
        self
    }

    pub fn stderr_lacks(mut self, needle: &str) -> Self {
        if self.outcome.stderr_text().contains(needle) {
            self.problem(format!("stderr contains {needle:?}"));
        }
        self
    }

    pub fn stdout_empty(mut self) -> Self {
        if !self.outcome.stdout.is_empty() {
            self.problem("stdout is not empty on failure".to_owned());
        }
        self
    }

    pub fn within(mut self, limit: Duration) -> Self {
        if self.outcome.elapsed > limit {
            self.problem(format!(
                "took {:.2?}, more than {limit:?}",
                self.outcome.elapsed
            ));
        }
        self
    }

    /// No secret of `secrets` (and of `more`) in any encoding on stdout or stderr, except
    /// `allowed_on_stdout` (the token a successful `token` prints) on stdout. A raw secret may not
    /// show even 8 characters of itself; an encoded one not half of itself.
    pub fn no_secrets(
        mut self,
        secrets: &Secrets,
        more: &[&str],
        allowed_on_stdout: &[&str],
    ) -> Self {
        let mut all: Vec<(String, String)> = secrets
            .all()
            .into_iter()
            .map(|(n, s)| (n.to_owned(), s.to_owned()))
            .collect();
        all.extend(
            more.iter()
                .map(|s| ("extra secret".to_owned(), (*s).to_owned())),
        );
        let streams = [
            ("stdout", self.outcome.stdout_text()),
            ("stderr", self.outcome.stderr_text()),
        ];
        for (name, secret) in &all {
            let basic = (name == "client secret").then_some(secrets.client_id.as_str());
            for (stream, text) in &streams {
                if *stream == "stdout" && allowed_on_stdout.contains(&secret.as_str()) {
                    continue;
                }
                for (encoding, form) in forms(secret, basic) {
                    let window = if encoding == "raw" {
                        8
                    } else {
                        form.chars().count().div_ceil(2).max(8)
                    };
                    if let Some(piece) = find_piece(text, &form, window) {
                        self.problem(format!("{stream} shows the {name} ({encoding}): {piece:?}"));
                        break;
                    }
                }
            }
        }
        self
    }

    /// stderr is UTF-8 and holds no control character but `\n` (no ESC, BEL, C1, direction
    /// override).
    pub fn clean_stderr(mut self) -> Self {
        let bytes = &self.outcome.stderr;
        match std::str::from_utf8(bytes) {
            Err(err) => self.problem(format!(
                "stderr is not UTF-8 (raw bytes from the vendor reach the terminal): {err}"
            )),
            Ok(text) => {
                let bad: Vec<String> = text
                    .chars()
                    .filter(|&c| c != '\n' && (c.is_control() || is_bidi(c)))
                    .map(|c| c.escape_unicode().to_string())
                    .collect();
                if !bad.is_empty() {
                    let mut kinds = bad.clone();
                    kinds.sort();
                    kinds.dedup();
                    self.problem(format!(
                        "stderr holds {} control character(s): {}",
                        bad.len(),
                        kinds.join(" ")
                    ));
                }
            }
        }
        self
    }

    /// Fails with every problem and the exact output. With `HOSTILE_DUMP` set in the test's
    /// environment, prints the output of passing runs too.
    pub fn finish(self) {
        if std::env::var_os("HOSTILE_DUMP").is_some() {
            eprintln!("{}", self.outcome.dump());
        }
        if !self.problems.is_empty() {
            panic!(
                "{} problem(s):\n  - {}\n{}",
                self.problems.len(),
                self.problems.join("\n  - "),
                self.outcome.dump()
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Files and descriptors.

/// A directory removed when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let path = std::env::temp_dir().join(format!(
            "oauth-clients-hostile-{}-{name}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&path).expect("create the temp dir");
        TempDir(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    /// Writes a file in the directory; its path as text.
    pub fn write(&self, name: &str, text: &str) -> String {
        let path = self.0.join(name);
        std::fs::write(&path, text).expect("write a temp file");
        path.display().to_string()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A descriptor whose token endpoint and API base are modes of the server at `base`.
pub struct Descriptor {
    pub client_auth: &'static str,
    pub encoding: &'static str,
    pub token: String,
    pub refresh: Option<String>,
    pub authorization: Option<String>,
    pub authz: Option<String>,
    pub api_base: Option<String>,
    pub issuer: Option<String>,
    pub grants: String,
    pub variables: String,
}

impl Descriptor {
    /// Client credentials: token at `/mode/<token_mode>/token`, API at `/mode/<api_mode>/api/`.
    pub fn client_credentials(base: &str, token_mode: &str, api_mode: &str) -> Descriptor {
        Descriptor {
            client_auth: "client_secret_post",
            encoding: "form",
            token: format!("{base}/mode/{token_mode}/token"),
            refresh: None,
            authorization: None,
            authz: None,
            api_base: Some(format!("{base}/mode/{api_mode}/api/")),
            issuer: None,
            grants: "  client_credentials: {}\n".to_owned(),
            variables: String::new(),
        }
    }

    /// The legacy credentials flow (authz at `/mode/<authz_mode>/authz`) and refreshes at
    /// `/mode/<refresh_mode>/refresh`; codes are exchanged at `/mode/ok/token`.
    pub fn legacy(base: &str, authz_mode: &str, refresh_mode: &str) -> Descriptor {
        Descriptor {
            client_auth: "client_secret_post",
            encoding: "form",
            token: format!("{base}/mode/ok/token"),
            refresh: Some(format!("{base}/mode/{refresh_mode}/refresh")),
            authorization: None,
            authz: Some(format!("{base}/mode/{authz_mode}/authz")),
            api_base: Some(format!("{base}/mode/ok/api/")),
            issuer: None,
            grants: "  legacy_credentials:\n    credentials_endpoint: authz\n  refresh_token: {}\n"
                .to_owned(),
            variables: String::new(),
        }
    }

    /// The authorization code flow with PKCE: authorize at `/mode/<mode>/authorize`, codes
    /// exchanged at `/mode/ok/token`, issuer `base`.
    pub fn login(base: &str, mode: &str) -> Descriptor {
        Descriptor {
            client_auth: "client_secret_post",
            encoding: "form",
            token: format!("{base}/mode/ok/token"),
            refresh: None,
            authorization: Some(format!("{base}/mode/{mode}/authorize")),
            authz: None,
            api_base: Some(format!("{base}/mode/ok/api/")),
            issuer: Some(base.to_owned()),
            grants: "  authorization_code:\n    pkce: supported\n  refresh_token: {}\n".to_owned(),
            variables: String::new(),
        }
    }

    pub fn yaml(&self) -> String {
        let mut out = String::from("id: hostile\nname: Hostile Vendor\n");
        if let Some(issuer) = &self.issuer {
            out.push_str(&format!("issuer: {issuer}\n"));
        }
        out.push_str(&self.variables);
        out.push_str(&format!("endpoints:\n  token: {}\n", self.token));
        for (name, url) in [
            ("refresh", &self.refresh),
            ("authorization", &self.authorization),
            ("api_base", &self.api_base),
        ] {
            if let Some(url) = url {
                out.push_str(&format!("  {name}: {url}\n"));
            }
        }
        if let Some(authz) = &self.authz {
            out.push_str(&format!("  extra:\n    authz: {authz}\n"));
        }
        out.push_str("grants:\n");
        out.push_str(&self.grants);
        out.push_str(&format!(
            "client_auth: {}\ntoken_request:\n  encoding: {}\n",
            self.client_auth, self.encoding
        ));
        out
    }

    /// Writes the descriptor into `dir`; its path.
    pub fn write(&self, dir: &TempDir) -> String {
        dir.write("hostile.yaml", &self.yaml())
    }
}

// ---------------------------------------------------------------------------------------------
// A minimal browser.

/// An HTTP answer: status, headers (lower-case names), body.
pub type Answer = (u16, Vec<(String, String)>, String);

/// A raw `GET` of an `http://127.0.0.1:PORT/...` URL.
pub fn http_get(url: &str) -> Result<Answer, String> {
    let parsed = url::Url::parse(url).map_err(|e| format!("bad URL {url}: {e}"))?;
    let host = parsed.host_str().ok_or("no host")?.to_owned();
    let port = parsed.port_or_known_default().ok_or("no port")?;
    let mut target = parsed.path().to_owned();
    if let Some(query) = parsed.query() {
        target.push('?');
        target.push_str(query);
    }
    let addr = format!("{host}:{port}");
    let sock: std::net::SocketAddr = addr.parse().map_err(|e| format!("{addr}: {e}"))?;
    let mut stream = std::net::TcpStream::connect_timeout(&sock, Duration::from_secs(5))
        .map_err(|e| format!("connect {addr}: {e}"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(15)))
        .map_err(|e| e.to_string())?;
    write!(
        stream,
        "GET {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nUser-Agent: hostile-test\r\n\r\n"
    )
    .map_err(|e| e.to_string())?;
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .map_err(|e| format!("read {addr}: {e}"))?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("no status line from {addr}: {text}"))?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Ok((status, headers, body.to_owned()))
}
