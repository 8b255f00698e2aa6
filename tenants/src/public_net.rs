//! Which addresses and URLs the platform may call on someone else's behalf. Pure: the
//! server's fenced HTTP client (`server/src/outbound.rs`) judges the address it is
//! about to dial with [`is_public`], and every tenant- or client-given URL is refused
//! at registration with [`check_outbound_url`], so a tenant learns at once.

use std::net::IpAddr;

/// What the operator allows for URLs given by tenants and sending anchors.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UrlPolicy {
    /// Loopback and private addresses, over plain http (tests and local development).
    pub allow_private: bool,
    /// Plain http to public addresses (an operator setting for testnet tenants).
    pub allow_http: bool,
}

/// The operator's settings, from which each tenant's [`UrlPolicy`] follows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboundRules {
    pub allow_private: bool,
    /// Testnet tenants may give plain-http URLs (public addresses still).
    pub testnet_allow_http: bool,
}

impl OutboundRules {
    /// Any network but the public one counts as a test network.
    pub fn for_network(&self, network: &mooring_stellar::Network) -> UrlPolicy {
        UrlPolicy {
            allow_private: self.allow_private,
            allow_http: self.testnet_allow_http && !network.is_public(),
        }
    }
}

/// Why a URL is refused, as the caller shows it (`what` names the URL).
pub fn check_outbound_url(raw: &str, what: &str, policy: UrlPolicy) -> Result<url::Url, String> {
    if raw.len() > 2000 {
        return Err(format!("{what} is too long"));
    }
    // The WHATWG parser normalizes the numeric IPv4 forms (`2130706433`, `0x7f000001`,
    // `0177.0.0.1`, `127.1`) to the address reqwest will dial, so the literal check
    // below sees what the connection would.
    let url = url::Url::parse(raw).map_err(|_| format!("{what} {raw:?} is not a URL"))?;
    match url.scheme() {
        "https" => {}
        "http" if policy.allow_http || policy.allow_private => {}
        "http" => return Err(format!("{what} must use https")),
        _ => return Err(format!("{what} {raw:?} is not an http(s) URL")),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!("{what} must not carry a user name or password"));
    }
    let private = match url.host() {
        None => return Err(format!("{what} has no host")),
        Some(url::Host::Ipv4(ip)) => !is_public(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => !is_public(IpAddr::V6(ip)),
        Some(url::Host::Domain(name)) => is_internal_name(name),
    };
    if private && !policy.allow_private {
        return Err(format!("{what} points to a private or reserved address"));
    }
    Ok(url)
}

/// Names that only ever resolve inside a network: single labels (`metadata`,
/// resolved through a search domain), and the special-use suffixes. Names that resolve
/// to a private address are refused again when dialled.
fn is_internal_name(name: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    const SUFFIXES: [&str; 6] = ["localhost", "local", "internal", "home.arpa", "intranet", "lan"];
    !name.contains('.')
        || SUFFIXES.iter().any(|s| name == *s || name.ends_with(&format!(".{s}")))
        || name.ends_with(".in-addr.arpa")
        || name.ends_with(".ip6.arpa")
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

#[cfg(test)]
mod tests {
    use super::*;

    const STRICT: UrlPolicy = UrlPolicy { allow_private: false, allow_http: false };

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

    /// Every spelling of an internal address the red team used, and more.
    const INTERNAL_URLS: [&str; 22] = [
        "https://127.0.0.1/",
        "https://127.0.0.1:6379/",
        "https://2130706433/",
        "https://0x7f000001/",
        "https://0177.0.0.1/",
        "https://127.1/",
        "https://0/",
        "https://0.0.0.0/",
        "https://[::ffff:127.0.0.1]/",
        "https://[::ffff:7f00:1]/",
        "https://[::1]/",
        "https://[64:ff9b::7f00:1]/",
        "https://169.254.169.254/latest/meta-data/",
        "https://[fe80::1]/",
        "https://[fd12:3456::1]/",
        "https://10.0.0.5/",
        "https://172.20.1.1/",
        "https://192.168.1.1/",
        "https://224.0.0.1/",
        "https://localhost/",
        "https://metadata/computeMetadata/v1/",
        "https://metadata.google.internal/",
    ];

    #[test]
    fn internal_addresses_are_refused_in_every_spelling() {
        for raw in INTERNAL_URLS {
            let err = check_outbound_url(raw, "webhook URL", STRICT).expect_err(raw);
            assert!(err.contains("private or reserved"), "{raw}: {err}");
            assert!(
                check_outbound_url(raw, "webhook URL", UrlPolicy { allow_private: true, allow_http: false })
                    .is_ok()
            );
        }
    }

    #[test]
    fn public_https_passes_and_http_needs_the_operator() {
        assert!(check_outbound_url("https://hooks.example.com/x?y=1", "u", STRICT).is_ok());
        assert!(check_outbound_url("https://8.8.8.8/", "u", STRICT).is_ok());
        let err = check_outbound_url("http://hooks.example.com/", "webhook URL", STRICT).unwrap_err();
        assert_eq!(err, "webhook URL must use https");
        let testnet = UrlPolicy { allow_private: false, allow_http: true };
        assert!(check_outbound_url("http://hooks.example.com/", "u", testnet).is_ok());
        assert!(check_outbound_url("http://127.0.0.1/", "u", testnet).is_err());
        assert!(check_outbound_url("ftp://hooks.example.com/", "u", STRICT).is_err());
        assert!(check_outbound_url("javascript:alert(1)", "u", STRICT).is_err());
        assert!(check_outbound_url("https://u:p@hooks.example.com/", "u", STRICT).is_err());
    }
}
