//! Who the client is, behind proxies. A TLS-terminating proxy appends the address it
//! saw to `X-Forwarded-For`; everything to the left of that was written by the client
//! (or by proxies further out) and may be forged. So the client is the rightmost
//! entry that is not one of our own proxies, found by walking from the right and
//! believing an entry only while every hop to its right is trusted.
//!
//! `Forwarded` (RFC 7239) is not read: proxies that only send it must be configured to
//! send `X-Forwarded-For` too.

use std::net::{IpAddr, SocketAddr};

use ipnet::IpNet;

pub struct ClientIpPolicy {
    /// The direct peer is a proxy (MOORING_TRUST_FORWARDED_FOR).
    trust_peer: bool,
    /// More proxies, for multi-hop set-ups (MOORING_TRUSTED_PROXIES).
    trusted: Vec<IpNet>,
}

impl ClientIpPolicy {
    /// `trusted_proxies`: CIDRs or addresses.
    pub fn new(trust_peer: bool, trusted_proxies: &[String]) -> Result<Self, String> {
        let trusted = trusted_proxies
            .iter()
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<IpNet>()
                    .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| format!("MOORING_TRUSTED_PROXIES: {s:?} is not a CIDR or an address"))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { trust_peer, trusted })
    }

    fn is_trusted(&self, ip: IpAddr) -> bool {
        self.trusted.iter().any(|net| net.contains(&ip))
    }

    /// The client's address, from the direct peer and the `X-Forwarded-For` header
    /// values (in the order received).
    pub fn client<'a>(&self, peer: IpAddr, forwarded_for: impl Iterator<Item = &'a str>) -> IpAddr {
        if !(self.trust_peer || self.is_trusted(peer)) {
            return peer;
        }
        let entries: Vec<&str> = forwarded_for.flat_map(|v| v.split(',')).collect();
        // The nearest hop known to be ours; a malformed entry stops the walk there, so
        // garbage never becomes a key (it lands in that proxy's bucket).
        let mut client = peer;
        for entry in entries.iter().rev() {
            let Some(ip) = parse_entry(entry) else { return client };
            client = ip;
            if !self.is_trusted(ip) {
                return ip;
            }
        }
        client
    }
}

/// `192.0.2.1`, `2001:db8::1`, and the forms with a port some proxies write.
fn parse_entry(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    entry.parse::<IpAddr>().ok().or_else(|| entry.parse::<SocketAddr>().ok().map(|s| s.ip()))
}

/// The rate-limit key for a client: its address, or for IPv6 its /64 (one subscriber's
/// network; rotating addresses inside it buys nothing).
pub fn limit_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn without_trust_the_peer_is_the_client() {
        let policy = ClientIpPolicy::new(false, &[]).unwrap();
        assert_eq!(policy.client(ip("198.51.100.9"), ["1.2.3.4"].into_iter()), ip("198.51.100.9"));
    }

    #[test]
    fn the_rightmost_untrusted_entry_is_the_client() {
        let policy = ClientIpPolicy::new(true, &[]).unwrap();
        let peer = ip("10.0.0.2");
        // A spoofed first entry changes nothing.
        assert_eq!(policy.client(peer, ["10.9.8.7, 198.51.100.1"].into_iter()), ip("198.51.100.1"));
        assert_eq!(policy.client(peer, ["6.6.6.6", "198.51.100.1"].into_iter()), ip("198.51.100.1"));
        assert_eq!(policy.client(peer, std::iter::empty()), peer);
    }

    #[test]
    fn trusted_proxies_extend_the_chain() {
        let policy = ClientIpPolicy::new(true, &["10.0.0.0/8".into(), "192.0.2.7".into()]).unwrap();
        let chain = ["6.6.6.6, 203.0.113.5, 192.0.2.7, 10.1.1.1"];
        assert_eq!(policy.client(ip("10.0.0.2"), chain.into_iter()), ip("203.0.113.5"));
        // Only trusted CIDRs configured: the peer must be one of them.
        let policy = ClientIpPolicy::new(false, &["10.0.0.0/8".into()]).unwrap();
        assert_eq!(policy.client(ip("10.0.0.2"), ["203.0.113.5"].into_iter()), ip("203.0.113.5"));
        assert_eq!(policy.client(ip("203.0.113.9"), ["1.1.1.1"].into_iter()), ip("203.0.113.9"));
        // Every hop trusted: the leftmost is the client.
        let policy = ClientIpPolicy::new(true, &["10.0.0.0/8".into()]).unwrap();
        assert_eq!(policy.client(ip("10.0.0.2"), ["10.3.3.3, 10.1.1.1"].into_iter()), ip("10.3.3.3"));
    }

    #[test]
    fn garbage_never_becomes_a_key() {
        let policy = ClientIpPolicy::new(true, &["10.0.0.0/8".into()]).unwrap();
        let peer = ip("10.0.0.2");
        for chain in ["unknown", "", "not-an-ip, ", "1.2.3.4, <script>", "999.1.1.1"] {
            let client = policy.client(peer, [chain].into_iter());
            assert_eq!(client, peer, "{chain:?}");
        }
        assert_eq!(policy.client(peer, ["[2001:db8::1]:443"].into_iter()), ip("2001:db8::1"));
        assert_eq!(policy.client(peer, ["198.51.100.1:8080"].into_iter()), ip("198.51.100.1"));
        assert!(ClientIpPolicy::new(true, &["10.0.0.0/33".into()]).is_err());
    }

    #[test]
    fn ipv6_clients_are_limited_by_their_64() {
        assert_eq!(limit_key(ip("2001:db8:1:2:aaaa::1")), limit_key(ip("2001:db8:1:2:bbbb::2")));
        assert_ne!(limit_key(ip("2001:db8:1:2::1")), limit_key(ip("2001:db8:1:3::1")));
        assert_eq!(limit_key(ip("::ffff:192.0.2.1")), "192.0.2.1");
    }
}
