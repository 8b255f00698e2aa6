//! Every call Mooring makes on someone else's behalf — SEP callbacks, tenant webhooks,
//! rate feeds, `client_domain` look-ups, a tenant's own Horizon — goes through
//! [`FencedClient`], which refuses any address that is not on the public internet
//! unless the operator allowed private outbound calls. It judges the address actually
//! dialled, three times over:
//! - IP literals (which reqwest never hands to a resolver) before the request is built,
//!   in the WHATWG-normalized form reqwest dials (`http://2130706433/` is 127.0.0.1);
//! - names in the resolver, on every address they resolve to (DNS rebinding);
//! - and, after connecting, the peer address of the socket itself (a connector layer),
//!   so a path nobody thought of (a proxy, a future reqwest change) still fails closed.
//!
//! Redirects are never followed and environment proxies are ignored.

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper_util::client::legacy::connect::{Connection, HttpInfo};
pub use mooring_tenants::public_net::{UrlPolicy, is_public};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The operator's rule for outbound calls, shared by every fenced client.
#[derive(Clone, Default)]
pub struct Fence {
    /// Loopback and private addresses allowed (tests and local development only).
    pub allow_private: bool,
    /// Names answered without DNS, like `/etc/hosts` (tests: a name that "resolves" to
    /// loopback). Their addresses are judged like any resolved address.
    pub static_hosts: Arc<HashMap<String, Vec<IpAddr>>>,
}

/// A request the fence refused before any packet left.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

/// Resolves names and refuses addresses that are not on the public internet. Checking
/// the resolved addresses (not the name) closes the DNS-rebinding trick.
struct PublicOnlyResolver(Fence);

impl Resolve for PublicOnlyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_ascii_lowercase();
        let fence = self.0.clone();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = match fence.static_hosts.get(&host) {
                Some(ips) => ips.iter().map(|ip| SocketAddr::new(*ip, 0)).collect(),
                None => tokio::net::lookup_host((host.as_str(), 0)).await?.collect(),
            };
            if !fence.allow_private && addrs.iter().any(|a| !is_public(a.ip())) {
                return Err(format!("{host} resolves to a non-public address").into());
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// The connector layer that checks the socket's peer address once connected.
#[derive(Clone)]
struct CheckDialled;

impl<S> tower::Layer<S> for CheckDialled {
    type Service = CheckDialledService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        CheckDialledService(inner)
    }
}

#[derive(Clone)]
struct CheckDialledService<S>(S);

impl<S, R> tower::Service<R> for CheckDialledService<S>
where
    S: tower::Service<R>,
    S::Response: Connection + Send + 'static,
    S::Error: Into<BoxError>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.0.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, dst: R) -> Self::Future {
        let connecting = self.0.call(dst);
        Box::pin(async move {
            let conn = connecting.await.map_err(Into::into)?;
            match dialled(&conn) {
                Some(addr) if is_public(addr.ip()) => Ok(conn),
                // Fail closed: an address we cannot see is not known to be public.
                _ => Err("the dialled address is not public".into()),
            }
        })
    }
}

/// The peer address of a connection (TLS connections report their TCP stream's).
fn dialled(conn: &impl Connection) -> Option<SocketAddr> {
    let mut extensions = axum::http::Extensions::new();
    conn.connected().get_extras(&mut extensions);
    extensions.get::<HttpInfo>().map(HttpInfo::remote_addr)
}

/// An HTTP client for addresses that someone other than the operator chose.
#[derive(Clone)]
pub struct FencedClient {
    http: reqwest::Client,
    allow_private: bool,
}

impl FencedClient {
    /// `timeout`: the whole request (None: as long as the body streams, for SSE).
    pub fn new(fence: &Fence, timeout: Option<Duration>, connect_timeout: Duration) -> Self {
        crate::install_crypto_provider();
        let mut builder = reqwest::Client::builder()
            .connect_timeout(connect_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .user_agent(concat!("mooring/", env!("CARGO_PKG_VERSION")))
            .dns_resolver(Arc::new(PublicOnlyResolver(fence.clone())));
        if let Some(timeout) = timeout {
            builder = builder.timeout(timeout);
        }
        if !fence.allow_private {
            builder = builder.connector_layer(CheckDialled);
        }
        Self { http: builder.build().expect("HTTP client"), allow_private: fence.allow_private }
    }

    /// A request to `url`, or why the fence refuses it before anything is sent.
    pub fn request(&self, method: reqwest::Method, url: &str) -> Result<reqwest::RequestBuilder, Refused> {
        let url = url::Url::parse(url).map_err(|_| Refused("not a URL".into()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Refused(format!("{} URLs are not called", url.scheme())));
        }
        let literal = match url.host() {
            Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
            Some(url::Host::Domain(_)) => None,
            None => return Err(Refused("the URL has no host".into())),
        };
        if !self.allow_private && literal.is_some_and(|ip| !is_public(ip)) {
            return Err(Refused("the URL points to a private or reserved address".into()));
        }
        Ok(self.http.request(method, url))
    }

    pub fn get(&self, url: &str) -> Result<reqwest::RequestBuilder, Refused> {
        self.request(reqwest::Method::GET, url)
    }

    pub fn post(&self, url: &str) -> Result<reqwest::RequestBuilder, Refused> {
        self.request(reqwest::Method::POST, url)
    }
}

/// A failed request, said in full but without its URL (which may carry a token): the
/// whole chain of causes, so a refusal by the fence reads as one ("… resolves to a
/// non-public address") rather than as "error sending request".
pub fn describe(error: reqwest::Error) -> String {
    let error = error.without_url();
    let mut text = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        let part = cause.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = cause.source();
    }
    text
}

/// Checks a callback URL a sending anchor registers (SEP-12, SEP-31).
pub fn check_callback_url(raw: &str, policy: UrlPolicy) -> Result<url::Url, String> {
    mooring_tenants::public_net::check_outbound_url(raw, "callback URL", policy)
}

/// A client for the operator's own services (its Horizons, RPCs, Friendbot), which
/// may sit on a private network and so skip the fence. `timeout`: the whole request;
/// `None` for streams, which live as long as the server keeps them open.
pub fn platform_client(
    timeout: Option<std::time::Duration>,
    connect: std::time::Duration,
) -> reqwest::Client {
    crate::install_crypto_provider();
    let builder = reqwest::Client::builder()
        .connect_timeout(connect)
        .user_agent(concat!("mooring/", env!("CARGO_PKG_VERSION")));
    let builder = match timeout {
        Some(t) => builder.timeout(t),
        None => builder,
    };
    builder.build().expect("HTTP client")
}

/// The origins of the operator's configured service URLs (called without the fence).
pub fn origins(urls: &[String]) -> Vec<url::Origin> {
    urls.iter().filter_map(|u| url::Url::parse(u).ok()).map(|u| u.origin()).collect()
}

/// (service URL, account) → signers for SEP-10, single flight, for `ttl` (`None`: no
/// cache when `ttl` is zero).
pub fn signer_cache<V: Clone + Send + Sync + 'static>(
    ttl: std::time::Duration,
) -> Option<moka::future::Cache<(String, String), V>> {
    (!ttl.is_zero()).then(|| moka::future::Cache::builder().max_capacity(100_000).time_to_live(ttl).build())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strict() -> Fence {
        Fence { allow_private: false, static_hosts: Arc::new(HashMap::new()) }
    }

    #[test]
    fn literal_private_addresses_are_refused_before_sending_in_every_spelling() {
        let client = FencedClient::new(&strict(), Some(Duration::from_secs(1)), Duration::from_secs(1));
        for url in [
            "http://127.0.0.1:6379/",
            "http://2130706433/",
            "http://0x7f000001/",
            "http://0177.0.0.1/",
            "http://127.1/",
            "http://0.0.0.0/",
            "http://0/",
            "http://[::ffff:127.0.0.1]/",
            "http://[::1]/",
            "http://[64:ff9b::a9fe:a9fe]/",
            "http://169.254.169.254/latest/meta-data/",
            "http://10.0.0.1/",
            "https://[fd00::1]/",
            "https://[fe80::1]/",
            "http://224.0.0.1/",
        ] {
            let refused = client.post(url).expect_err(url);
            assert!(refused.0.contains("private or reserved"), "{url}: {refused}");
        }
        assert!(client.get("https://8.8.8.8/").is_ok(), "a public literal is only built, not sent");
        assert!(client.get("file:///etc/passwd").is_err());
    }

    #[tokio::test]
    async fn a_name_resolving_to_loopback_is_refused_by_the_resolver() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let hosts = HashMap::from([("hook.example".to_string(), vec!["127.0.0.1".parse().unwrap()])]);
        let fence = Fence { allow_private: false, static_hosts: Arc::new(hosts) };
        let client = FencedClient::new(&fence, Some(Duration::from_secs(2)), Duration::from_secs(2));
        let err = client.get(&format!("http://hook.example:{port}/")).unwrap().send().await.unwrap_err();
        assert!(format!("{err:?}").contains("non-public"), "{err:?}");
        // Nothing reached the listener.
        let accepted = tokio::time::timeout(Duration::from_millis(50), listener.accept()).await;
        assert!(accepted.is_err(), "the fence let a connection through");
    }

    #[tokio::test]
    async fn the_connector_refuses_a_private_peer_that_got_past_every_earlier_check() {
        // A client whose resolver would let loopback through (as a forgotten path might):
        // the check on the connected socket still refuses it.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let client = reqwest::Client::builder().no_proxy().connector_layer(CheckDialled).build().unwrap();
        let err = client.get(format!("http://127.0.0.1:{port}/")).send().await.unwrap_err();
        assert!(format!("{err:?}").contains("dialled address is not public"), "{err:?}");
        // Allowed where the operator allows private calls (tests): the same request works.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let open = FencedClient::new(
            &Fence { allow_private: true, static_hosts: Arc::default() },
            Some(Duration::from_secs(2)),
            Duration::from_secs(2),
        );
        let serve = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 1024];
            let _ = tokio::io::AsyncReadExt::read(&mut socket, &mut buf).await;
            tokio::io::AsyncWriteExt::write_all(&mut socket, b"HTTP/1.1 204 No Content\r\n\r\n")
                .await
                .unwrap();
        });
        let res = open.get(&format!("http://127.0.0.1:{port}/")).unwrap().send().await.unwrap();
        assert_eq!(res.status().as_u16(), 204);
        serve.await.unwrap();
    }

    #[test]
    fn callback_urls_must_be_public_https() {
        let strict = UrlPolicy::default();
        assert!(check_callback_url("https://sa.example/cb", strict).is_ok());
        assert!(check_callback_url("http://sa.example/cb", strict).is_err());
        assert!(check_callback_url("https://127.0.0.1/cb", strict).is_err());
        assert!(check_callback_url("https://localhost:9/cb", strict).is_err());
        assert!(check_callback_url("ftp://sa.example", strict).is_err());
        let tests = UrlPolicy { allow_private: true, allow_http: false };
        assert!(check_callback_url("http://127.0.0.1:9/cb", tests).is_ok());
    }
}
