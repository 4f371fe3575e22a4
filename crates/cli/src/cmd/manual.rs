//! `oauth-clients completions` and `oauth-clients man`, generated from the clap definitions.

use clap::CommandFactory as _;

use crate::cli::Cli;
use crate::failure::Failure;

/// The completion script of `shell`.
pub(crate) fn completions(shell: clap_complete::Shell) -> String {
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "oauth-clients", &mut script);
    String::from_utf8_lossy(&script).into_owned()
}

/// The manual page, in roff.
pub(crate) fn man() -> Result<String, Failure> {
    let mut page = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut page)
        .map_err(|err| Failure::vendor(format!("cannot render the manual: {err}")))?;
    Ok(String::from_utf8_lossy(&page).into_owned())
}
