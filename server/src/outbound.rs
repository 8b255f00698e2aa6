//! Calls Mooring makes to addresses that clients chose (SEP-10 `client_domain`,
//! SEP-12/31 callback URLs) must not reach the platform's own network: names are
//! resolved here and non-public addresses refused, unless tests allow them.

use std::net::{IpAddr, SocketAddr};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Resolves names and refuses addresses that are not on the public internet. Checking
/// the resolved addresses (not the name) closes the DNS-rebinding trick.
pub struct PublicOnlyResolver;

impl Resolve for PublicOnlyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if addrs.iter().any(|a| !is_public(a.ip())) {
                return Err(format!("{host} resolves to a non-public address").into());
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
                || (a == 100 && (b & 0xc0) == 64) // CGNAT 100.64/10
                || a == 0)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            !(v6.is_loopback()
                || v6.is_unspecified()
                || (v6.segments()[0] & 0xfe00) == 0xfc00 // unique local
                || (v6.segments()[0] & 0xffc0) == 0xfe80) // link local
        }
    }
}

/// An HTTP client for addresses clients chose: no redirects (a redirect could lead
/// anywhere), and, unless tests allow it, only public addresses.
pub fn client(
    timeout: std::time::Duration,
    connect_timeout: std::time::Duration,
    allow_private: bool,
) -> reqwest::Client {
    crate::install_crypto_provider();
    let mut builder = reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(connect_timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("mooring/", env!("CARGO_PKG_VERSION")));
    if !allow_private {
        builder = builder.dns_resolver(std::sync::Arc::new(PublicOnlyResolver));
    }
    builder.build().expect("HTTP client")
}

/// Checks a callback URL a client registers: https (http only where private outbound
/// calls are allowed, i.e. tests), a host, and no literal private address.
pub fn check_callback_url(raw: &str, allow_private: bool) -> Result<url::Url, String> {
    let url = url::Url::parse(raw).map_err(|_| format!("{raw:?} is not a URL"))?;
    match url.scheme() {
        "https" => {}
        "http" if allow_private => {}
        _ => return Err("callback URLs must use https".into()),
    }
    let host = url.host_str().filter(|h| !h.is_empty()).ok_or("callback URL has no host")?;
    let literal: Option<IpAddr> = host.trim_matches(['[', ']']).parse().ok();
    if !allow_private && (literal.is_some_and(|ip| !is_public(ip)) || mooring_tenants::host::is_local(host)) {
        return Err("callback URL points to a private address".into());
    }
    if raw.len() > 2000 {
        return Err("callback URL is too long".into());
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_addresses_are_not_public() {
        let private = [
            "127.0.0.1",
            "10.1.2.3",
            "192.168.0.1",
            "172.16.5.4",
            "169.254.169.254",
            "::1",
            "fd00::1",
            "0.0.0.0",
            "100.64.0.1",
            "::ffff:127.0.0.1",
        ];
        for ip in private {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        assert!(is_public("8.8.8.8".parse().unwrap()));
    }

    #[test]
    fn callback_urls_must_be_public_https() {
        assert!(check_callback_url("https://sa.example/cb", false).is_ok());
        assert!(check_callback_url("http://sa.example/cb", false).is_err());
        assert!(check_callback_url("https://127.0.0.1/cb", false).is_err());
        assert!(check_callback_url("https://localhost:9/cb", false).is_err());
        assert!(check_callback_url("ftp://sa.example", false).is_err());
        assert!(check_callback_url("http://127.0.0.1:9/cb", true).is_ok());
    }
}
