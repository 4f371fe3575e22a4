//! Tokens for HTTP stacks you already have: a [`reqwest-middleware`] middleware (feature
//! `reqwest-middleware`) and a tower [`Layer`](tower_layer::Layer) for hyper and tonic
//! clients (feature `tower`).
//!
//! Both take their tokens from an [`AuthorizedClient`] (its [`TokenManager`], with its store,
//! single flight and refresh), and both send a token only where the vendor's API is: a request
//! to any other origin, or over plain HTTP to a host other than loopback, fails before it is
//! sent. The vendor's `api.token_header` and `api.token_scheme` are honoured; a vendor that
//! takes the token in the query is for [`AuthorizedClient`] only.
//!
//! [`reqwest-middleware`]: https://docs.rs/reqwest-middleware
//! [`TokenManager`]: crate::TokenManager

#[cfg(feature = "reqwest-middleware")]
pub use self::reqwest_mw::BearerMiddleware;
#[cfg(feature = "tower")]
pub use self::tower_mw::{BearerLayer, BearerService};

use crate::lifecycle::AuthorizedClient;

/// Reports a refused token to the manager after a `401`, so that the next request gets a fresh
/// one; a failed refresh is logged, not returned (the caller holds the `401` answer).
async fn report_refused(
    api: &AuthorizedClient,
    token: &crate::Token,
) -> Option<std::sync::Arc<crate::Token>> {
    match api.manager().refresh_rejected(token.access_token()).await {
        Ok(fresh) => Some(fresh),
        Err(err) => {
            tracing::warn!(
                vendor = %api.client().provider().id(),
                error = %err,
                "the vendor refused the access token (401) and no new one could be had"
            );
            None
        }
    }
}

#[cfg(feature = "reqwest-middleware")]
mod reqwest_mw {
    use http::Extensions;
    use reqwest_middleware::{Middleware, Next};

    use crate::lifecycle::AuthorizedClient;

    /// A [`reqwest_middleware::Middleware`] that adds the vendor's access token to every
    /// request and, when the vendor answers `401`, has the token refreshed (once for all
    /// callers that saw it) and sends the request once more, if its body can be replayed.
    ///
    /// The request URL is checked first: the token goes only to the API's origin (see the
    /// [module](crate::middleware) docs). URL rewrites of the client's options apply, so the
    /// vendor's URL reaches a sandbox in tests.
    ///
    /// ```no_run
    /// # async fn run(client: oauth_clients_core::Client) -> Result<(), Box<dyn std::error::Error>> {
    /// use oauth_clients_core::AuthorizedClient;
    /// use oauth_clients_core::middleware::BearerMiddleware;
    ///
    /// let http = reqwest_middleware::ClientBuilder::new(
    ///     oauth_clients_core::http_client_builder().build()?,
    /// )
    /// .with(BearerMiddleware::new(AuthorizedClient::new(client)))
    /// .build();
    /// let me = http.get("https://api.vendor.example/v1/me").send().await?;
    /// println!("{}", me.status());
    /// # Ok(())
    /// # }
    /// ```
    #[derive(Clone, Debug)]
    pub struct BearerMiddleware {
        api: AuthorizedClient,
    }

    impl BearerMiddleware {
        /// Adds the tokens of `api`'s manager to requests.
        pub fn new(api: AuthorizedClient) -> BearerMiddleware {
            BearerMiddleware { api }
        }
    }

    #[async_trait::async_trait]
    impl Middleware for BearerMiddleware {
        async fn handle(
            &self,
            mut request: reqwest::Request,
            extensions: &mut Extensions,
            next: Next<'_>,
        ) -> reqwest_middleware::Result<reqwest::Response> {
            let client = self.api.client();
            let token = self
                .api
                .manager()
                .token()
                .await
                .map_err(reqwest_middleware::Error::middleware)?;
            let (name, value) = client
                .token_header_for(&token, Some(request.url()))
                .map_err(reqwest_middleware::Error::middleware)?;
            let target = client
                .effective_url(request.url())
                .map_err(reqwest_middleware::Error::middleware)?;
            *request.url_mut() = target;
            request.headers_mut().insert(name.clone(), value);
            let replay = request.try_clone();
            let response = next.clone().run(request, extensions).await?;
            if response.status() != reqwest::StatusCode::UNAUTHORIZED {
                return Ok(response);
            }
            let Some(mut replay) = replay else {
                // A streamed body cannot be sent twice; the next request gets the new token.
                super::report_refused(&self.api, &token).await;
                return Ok(response);
            };
            let Some(fresh) = super::report_refused(&self.api, &token).await else {
                return Ok(response);
            };
            let (_, value) = client
                .token_header_for(&fresh, None)
                .map_err(reqwest_middleware::Error::middleware)?;
            replay.headers_mut().insert(name, value);
            next.run(replay, extensions).await
        }
    }
}

#[cfg(feature = "tower")]
mod tower_mw {
    use std::future::Future;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use tower_layer::Layer;
    use tower_service::Service;
    use url::Url;

    use crate::lifecycle::AuthorizedClient;

    /// The errors of a [`BearerService`]: the engine's ([`crate::Error`]) or the inner
    /// service's, boxed.
    pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

    /// A tower [`Layer`] that adds the vendor's access token to every request of a hyper or
    /// tonic client (any `Service<http::Request<B>>`).
    ///
    /// An absolute request URI must be on the API's origin (see the [module](crate::middleware)
    /// docs); a relative one (path only, as tonic's generated clients send through a channel
    /// that adds the origin) is taken to go where that channel was built to go. On a `401`
    /// answer the token is reported refused, so the next request carries a new one; the
    /// request is not sent again (a streamed body cannot be replayed): put a tower retry
    /// layer outside this one for that.
    ///
    /// ```no_run
    /// # fn run(client: oauth_clients_core::Client) {
    /// use http_body_util::Full;
    /// use hyper::body::Bytes;
    /// use hyper_util::client::legacy::Client as HyperClient;
    /// use hyper_util::rt::TokioExecutor;
    /// use oauth_clients_core::AuthorizedClient;
    /// use oauth_clients_core::middleware::BearerLayer;
    /// use tower::ServiceBuilder;
    ///
    /// let hyper = HyperClient::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    /// let service = ServiceBuilder::new()
    ///     .layer(BearerLayer::new(AuthorizedClient::new(client)))
    ///     .service(hyper);
    /// # let _ = service;
    /// # }
    /// ```
    #[derive(Clone, Debug)]
    pub struct BearerLayer {
        api: AuthorizedClient,
    }

    impl BearerLayer {
        /// Adds the tokens of `api`'s manager to requests.
        pub fn new(api: AuthorizedClient) -> BearerLayer {
            BearerLayer { api }
        }
    }

    impl<S> Layer<S> for BearerLayer {
        type Service = BearerService<S>;

        fn layer(&self, inner: S) -> BearerService<S> {
            BearerService {
                inner,
                api: self.api.clone(),
            }
        }
    }

    /// The service of a [`BearerLayer`].
    #[derive(Clone, Debug)]
    pub struct BearerService<S> {
        inner: S,
        api: AuthorizedClient,
    }

    impl<S, B, R> Service<http::Request<B>> for BearerService<S>
    where
        S: Service<http::Request<B>, Response = http::Response<R>> + Clone + Send + 'static,
        S::Future: Send,
        S::Error: Into<BoxError>,
        B: Send + 'static,
        R: Send + 'static,
    {
        type Response = http::Response<R>;
        type Error = BoxError;
        type Future = Pin<Box<dyn Future<Output = Result<Self::Response, BoxError>> + Send>>;

        fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
            self.inner.poll_ready(cx).map_err(Into::into)
        }

        fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
            // The clone that was made ready is the one that calls (tower's usual swap).
            let clone = self.inner.clone();
            let mut inner = std::mem::replace(&mut self.inner, clone);
            let api = self.api.clone();
            Box::pin(async move {
                let token = api.manager().token().await?;
                let url = match request.uri().authority() {
                    Some(_) => Some(Url::parse(&request.uri().to_string()).map_err(|err| {
                        crate::Error::config(
                            api.client().provider().id(),
                            format!("the request URI is not a URL: {err}"),
                        )
                    })?),
                    None => None,
                };
                let (name, value) = api.client().token_header_for(&token, url.as_ref())?;
                request.headers_mut().insert(name, value);
                let response = inner.call(request).await.map_err(Into::into)?;
                if response.status() == http::StatusCode::UNAUTHORIZED {
                    super::report_refused(&api, &token).await;
                }
                Ok(response)
            })
        }
    }
}
