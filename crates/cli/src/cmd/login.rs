//! `oauth-clients login`: the authorization code flow through the browser (loopback receiver)
//! or out of band (a pasted code).

use std::time::Duration;

use oauth_clients_core::{AuthorizationCode, AuthorizationRequest, Provider, Token};

use crate::cli::Common;
use crate::failure::Failure;
use crate::loopback;
use crate::output::{note, token_json};
use crate::session::Session;
use crate::term::{self, Spinner};

/// How `login` gets the code back.
pub(crate) enum Via {
    /// A loopback receiver on this port (a free one when `None`), waiting this long.
    Loopback { port: Option<u16>, wait: Duration },
    /// The vendor shows the code; the user pastes it.
    OutOfBand,
    /// The device flow: the user enters a code on another device.
    Device,
}

/// Runs `login`; the token JSON is the command's output.
pub(crate) async fn run(
    vendor: Option<&str>,
    common: &Common,
    via: Via,
    open_browser: bool,
) -> Result<String, Failure> {
    let provider = crate::session::resolve_vendor(vendor, common).await?;
    if !matches!(via, Via::Device) {
        require_authorization_code(&provider)?;
    }
    let (session, token) = match via {
        Via::Device => {
            let session = Session::with_provider(provider, common, None)?;
            let token = login_device(&session).await?;
            (session, token)
        }
        Via::OutOfBand => {
            let session = Session::with_provider(provider, common, None)?;
            let token = login_oob(&session, open_browser).await?;
            (session, token)
        }
        Via::Loopback { port, wait } => {
            let receiver = loopback::Receiver::bind(port, provider.id()).await?;
            let redirect = receiver.redirect_uri();
            let session = Session::with_provider(provider, common, Some(redirect))?;
            let token = login_loopback(&session, receiver, open_browser, wait).await?;
            (session, token)
        }
    };
    session.store_token(&session.manager(true), &token).await?;
    Ok(token_json(session.vendor(), &token))
}

fn require_authorization_code(provider: &Provider) -> Result<(), Failure> {
    if provider.descriptor().grants.authorization_code.is_none() {
        return Err(Failure::usage(format!(
            "{}: the vendor does not offer the authorization code grant",
            provider.id()
        )));
    }
    Ok(())
}

/// Prints the authorize URL (rewrites applied) and opens the browser on it.
fn show_authorize_url(
    session: &Session,
    open_browser: bool,
) -> Result<AuthorizationRequest, Failure> {
    let request = session.client.authorize_url()?;
    note(&format!(
        "Open this URL in your browser to log in to {}:",
        session.vendor()
    ));
    note(request.url.as_str());
    if open_browser {
        term::open_in_browser(request.url.as_str());
    }
    Ok(request)
}

async fn login_loopback(
    session: &Session,
    receiver: loopback::Receiver,
    open_browser: bool,
    wait: Duration,
) -> Result<Token, Failure> {
    let request = show_authorize_url(session, open_browser)?;
    let spinner = Spinner::start("waiting for the browser to come back");
    let client = session.client.clone();
    let pending = request.clone();
    let outcome = tokio::time::timeout(
        wait,
        receiver.serve(&pending, move |callback| {
            let client = client.clone();
            let request = request.clone();
            async move { client.exchange_code(&request, &callback).await }
        }),
    )
    .await;
    spinner.stop();
    match outcome {
        Ok(result) => result,
        Err(_) => Err(Failure::vendor(format!(
            "{}: no answer from the browser within {} s; run `login` again",
            session.vendor(),
            wait.as_secs()
        ))),
    }
}

/// The vendor shows the code in the browser; the user pastes it on stdin.
async fn login_oob(session: &Session, open_browser: bool) -> Result<Token, Failure> {
    let out_of_band = session
        .client
        .provider()
        .descriptor()
        .grants
        .authorization_code
        .as_ref()
        .is_some_and(|grant| grant.out_of_band);
    if !out_of_band {
        return Err(Failure::usage(format!(
            "{}: the vendor's descriptor does not allow the out-of-band redirect; use `login` \
             without --oob",
            session.vendor()
        )));
    }
    let request = show_authorize_url(session, open_browser)?;
    crate::output::note_inline("Paste the authorization code shown by the vendor: ");
    let code = term::read_line("code").await?;
    if code.is_empty() {
        return Err(Failure::usage("no authorization code was pasted"));
    }
    Ok(session
        .client
        .exchange_code_oob(
            &AuthorizationCode::new(code),
            request.pkce_verifier.as_ref(),
        )
        .await?)
}

/// The device flow: the code and where to enter it (and a QR code of the URL that carries the
/// code) on stderr, a spinner while it polls.
async fn login_device(session: &Session) -> Result<Token, Failure> {
    if session
        .client
        .provider()
        .descriptor()
        .grants
        .device_code
        .is_none()
    {
        return Err(Failure::usage(format!(
            "{}: the vendor does not offer the device flow (grant `device_code`)",
            session.vendor()
        )));
    }
    let authorization = session.client.start_device_authorization().await?;
    note(&format!(
        "To log in to {}, open {} and enter the code {}",
        session.vendor(),
        authorization.verification_uri,
        authorization.user_code
    ));
    if let Some(complete) = &authorization.verification_uri_complete {
        note(&format!("or open {complete}"));
        if std::io::IsTerminal::is_terminal(&std::io::stderr())
            && let Some(qr) = term::qr_code(complete)
        {
            note(&qr);
        }
    }
    let spinner = Spinner::start("waiting for the approval");
    let result = session.client.poll_device_token(&authorization).await;
    spinner.stop();
    Ok(result?)
}
