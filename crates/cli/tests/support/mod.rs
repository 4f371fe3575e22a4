//! Scaffolding shared by the CLI's integration tests. Each test binary uses a part of it.
#![allow(dead_code)]

use std::process::{ExitStatus, Output};
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, BufReader};
use tokio::process::{Child, ChildStderr};

/// Waits (at most 20 s) for a running `login` to end, then reads the rest of its stderr.
pub async fn wait_and_drain(
    child: &mut Child,
    stderr: &mut BufReader<ChildStderr>,
) -> Result<(ExitStatus, String), Box<dyn std::error::Error>> {
    let status = tokio::time::timeout(Duration::from_secs(20), child.wait()).await??;
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).await?;
    Ok((status, rest))
}

/// Finishes a running `login`: reads its stdout to the end, waits for it (at most 20 s) and
/// reads the rest of its stderr. The output's stderr is `seen` (what was read before) and
/// the rest.
pub async fn finish_login(
    mut child: Child,
    mut stderr: BufReader<ChildStderr>,
    seen: String,
) -> Result<Output, Box<dyn std::error::Error>> {
    let mut stdout = Vec::new();
    child
        .stdout
        .take()
        .ok_or("no stdout")?
        .read_to_end(&mut stdout)
        .await?;
    let (status, rest) = wait_and_drain(&mut child, &mut stderr).await?;
    Ok(Output {
        status,
        stdout,
        stderr: (seen + &rest).into_bytes(),
    })
}

/// `reqwest::get` with the engine's TLS set up (reqwest brings no crypto provider here).
pub async fn http_get(url: impl reqwest::IntoUrl) -> reqwest::Result<reqwest::Response> {
    oauth_clients_core::http_client_builder()
        .build()?
        .get(url)
        .send()
        .await
}
