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

/// Whether `ip` is a globally reachable unicast address: not in any of IANA's
/// special-purpose registries (IPv4 and IPv6) as non-global, and, for the IPv6 forms
/// that embed an IPv4 address, not embedding a non-public one. IPv6 is allowed only
/// inside 2000::/3 (global unicast), so new special ranges elsewhere stay refused.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

/// (network, prefix length) of IPv4 ranges that are not globally reachable.
const V4_SPECIAL: [([u8; 4], u8); 17] = [
    ([0, 0, 0, 0], 8),       // "this network"
    ([10, 0, 0, 0], 8),      // private
    ([100, 64, 0, 0], 10),   // shared address space (CGNAT)
    ([127, 0, 0, 0], 8),     // loopback
    ([169, 254, 0, 0], 16),  // link local (cloud metadata lives here)
    ([172, 16, 0, 0], 12),   // private
    ([192, 0, 0, 0], 24),    // IETF protocol assignments
    ([192, 0, 2, 0], 24),    // documentation (TEST-NET-1)
    ([192, 88, 99, 0], 24),  // deprecated 6to4 relay anycast
    ([192, 168, 0, 0], 16),  // private
    ([198, 18, 0, 0], 15),   // benchmarking
    ([198, 51, 100, 0], 24), // documentation (TEST-NET-2)
    ([203, 0, 113, 0], 24),  // documentation (TEST-NET-3)
    ([224, 0, 0, 0], 4),     // multicast
    ([240, 0, 0, 0], 4),     // reserved, and the limited broadcast address
    ([255, 255, 255, 255], 32),
    ([192, 31, 196, 0], 24), // AS112-v4: anycast DNS sinks, nothing to call
];

fn in_v4(ip: std::net::Ipv4Addr, (net, len): ([u8; 4], u8)) -> bool {
    let mask = if len == 0 { 0 } else { u32::MAX << (32 - u32::from(len)) };
    u32::from(ip) & mask == u32::from_be_bytes(net) & mask
}

fn is_public_v4(ip: std::net::Ipv4Addr) -> bool {
    !V4_SPECIAL.iter().any(|range| in_v4(ip, *range))
}

/// (network, prefix length) of IPv6 ranges inside 2000::/3 that are not globally
/// reachable.
const V6_SPECIAL: [(u128, u8); 5] = [
    (0x2001_0000_0000_0000_0000_0000_0000_0000, 23), // IETF protocol assignments (Teredo, ORCHID, benchmarking…)
    (0x2001_0db8_0000_0000_0000_0000_0000_0000, 32), // documentation
    (0x2002_0000_0000_0000_0000_0000_0000_0000, 16), // 6to4: embeds an IPv4 address, deprecated
    (0x3fff_0000_0000_0000_0000_0000_0000_0000, 20), // documentation
    (0x5f00_0000_0000_0000_0000_0000_0000_0000, 16), // SRv6 SIDs
];

fn in_v6(ip: u128, (net, len): (u128, u8)) -> bool {
    let mask = if len == 0 { 0 } else { u128::MAX << (128 - u32::from(len)) };
    ip & mask == net & mask
}

fn is_public_v6(ip: std::net::Ipv6Addr) -> bool {
    let bits = u128::from(ip);
    // IPv4-mapped (::ffff:a.b.c.d) and NAT64 (64:ff9b::a.b.c.d) reach the embedded
    // IPv4 address: public only if it is.
    let embedded = std::net::Ipv4Addr::from((bits & 0xffff_ffff) as u32);
    if in_v6(bits, (0xffff_0000_0000, 96)) || in_v6(bits, (0x0064_ff9b_0000_0000_0000_0000_0000_0000, 96)) {
        return is_public_v4(embedded);
    }
    // Everything else outside global unicast: ::, ::1, IPv4-compatible ::a.b.c.d,
    // 64:ff9b:1::/48, 100::/64, ULA fc00::/7, link local fe80::/10, site local
    // fec0::/10, multicast ff00::/8.
    in_v6(bits, (0x2000_0000_0000_0000_0000_0000_0000_0000, 3)) && !V6_SPECIAL.iter().any(|r| in_v6(bits, *r))
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
    fn special_purpose_addresses_are_not_public() {
        let private = [
            "127.0.0.1",
            "10.1.2.3",
            "192.168.0.1",
            "172.16.5.4",
            "169.254.169.254",
            "::1",
            "::",
            "fd00::1",
            "0.0.0.0",
            "100.64.0.1",
            "::ffff:127.0.0.1",
            "64:ff9b::a9fe:a9fe", // NAT64 of 169.254.169.254
            "::ffff:0:7f00:1",    // SIIT form of 127.0.0.1
            "2002:7f00:1::",      // 6to4 of 127.0.0.1
            "::127.0.0.1",        // IPv4-compatible
            "fec0::1",
            "ff02::1",
            "fe80::1",
            "2001:db8::1",
            "2001::1", // Teredo
            "64:ff9b:1::1",
            "100::1",
            "198.18.0.1",
            "240.0.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "192.0.0.8",
            "192.0.2.1",
            "203.0.113.9",
        ];
        for ip in private {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "64:ff9b::808:808", "::ffff:8.8.8.8"] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
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
