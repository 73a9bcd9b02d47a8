//! A small blocking HTTP client for the Hub (ureq 3, rustls).

use std::fmt;
use std::time::Duration;

use ureq::Body;
use ureq::http::Response;

use super::error::HubError;

/// The public Hugging Face Hub.
pub const DEFAULT_HUB_URL: &str = "https://huggingface.co";

/// The environment variable holding an access token for gated and private repositories.
pub const TOKEN_ENV_VAR: &str = "HF_TOKEN";

/// How long one socket read may wait for data before the transfer counts as failed. A stalled
/// transfer also delays a cancel by up to this long, since cancel is checked between reads.
const READ_TIMEOUT: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(20);
/// Redirects followed per request (the Hub sends LFS files to a CDN with one redirect).
const MAX_REDIRECTS: u32 = 5;

/// A blocking Hub client: base URL, `User-Agent: iris/<version>` and an optional token.
///
/// The token goes only to the Hub itself: ureq drops `Authorization` when it follows a redirect
/// (its default `RedirectAuthHeaders::Never`), so CDN hosts never see it.
#[derive(Clone)]
pub struct HubClient {
    agent: ureq::Agent,
    base_url: String,
    token: Option<String>,
}

impl fmt::Debug for HubClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HubClient")
            .field("base_url", &self.base_url)
            .field("token", &self.token.as_ref().map(|_| "<set>"))
            .finish()
    }
}

impl HubClient {
    /// A client for `base_url` (e.g. [`DEFAULT_HUB_URL`]) without a token.
    pub fn new(base_url: &str) -> Result<Self, HubError> {
        let base_url = check_base_url(base_url)?;
        let config = ureq::Agent::config_builder()
            .user_agent(format!("iris/{}", env!("CARGO_PKG_VERSION")))
            .http_status_as_error(false)
            .max_redirects(MAX_REDIRECTS)
            .timeout_connect(Some(CONNECT_TIMEOUT))
            .timeout_per_read(Some(READ_TIMEOUT))
            .build();
        Ok(HubClient {
            agent: config.new_agent(),
            base_url,
            token: None,
        })
    }

    /// A client for `base_url` with the token from `HF_TOKEN`, if that is set and not empty.
    pub fn from_env(base_url: &str) -> Result<Self, HubError> {
        let token = std::env::var(TOKEN_ENV_VAR).ok();
        Ok(Self::new(base_url)?.with_token(token))
    }

    /// Replaces the access token (`None` or an empty string: no token).
    pub fn with_token(mut self, token: Option<String>) -> Self {
        self.token = token.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty());
        self
    }

    /// The base URL, without a trailing `/`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// `GET url`, optionally with `Range: bytes=<from>-`. Redirects are followed; any HTTP
    /// status comes back as a response, transport failures as [`HubError::Network`].
    pub(crate) fn get(
        &self,
        url: &str,
        range_from: Option<u64>,
    ) -> Result<Response<Body>, HubError> {
        let mut request = self.agent.get(url);
        if let Some(token) = &self.token {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        if let Some(from) = range_from {
            request = request.header("Range", format!("bytes={from}-"));
        }
        tracing::debug!(url, ?range_from, "GET");
        request.call().map_err(|err| HubError::Network {
            url: url.to_owned(),
            detail: err.to_string(),
        })
    }
}

fn check_base_url(url: &str) -> Result<String, HubError> {
    let trimmed = url.trim().trim_end_matches('/');
    let invalid = |reason| HubError::InvalidHubUrl {
        url: url.to_owned(),
        reason,
    };
    let rest = trimmed
        .strip_prefix("https://")
        .or_else(|| trimmed.strip_prefix("http://"))
        .ok_or_else(|| invalid("must start with http:// or https://"))?;
    if rest.is_empty() || rest.contains(char::is_whitespace) {
        return Err(invalid("has no host"));
    }
    if rest.contains(['?', '#']) {
        return Err(invalid("must not contain a query or fragment"));
    }
    Ok(trimmed.to_owned())
}
