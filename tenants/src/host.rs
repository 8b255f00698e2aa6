//! Host names as they arrive in `Host` headers.

/// The lookup key for a `Host` header: lowercase, port and trailing dot removed.
/// IPv6 literals keep their brackets.
pub fn normalize(host: &str) -> String {
    let host = host.trim();
    let without_port = if host.starts_with('[') {
        host.split_once(']').map_or(host, |(h, _)| h).trim_start_matches('[')
    } else {
        host.rsplit_once(':').map_or(host, |(h, _)| h)
    };
    without_port.trim_end_matches('.').to_ascii_lowercase()
}

/// Whether a `Host` header is a plain `host[:port]`: a DNS name or IP literal and an
/// optional numeric port, nothing else. Anything more (userinfo such as
/// `localhost:1@evil.example`, paths, spaces) would end up in URLs we publish.
pub fn is_valid(header: &str) -> bool {
    let (host, port) = match header.strip_prefix('[') {
        Some(rest) => match rest.split_once(']') {
            Some((ip, after)) if ip.parse::<std::net::Ipv6Addr>().is_ok() => match after {
                "" => (ip, None),
                _ => match after.strip_prefix(':') {
                    Some(port) => (ip, Some(port)),
                    None => return false,
                },
            },
            _ => return false,
        },
        None => {
            let (host, port) = header.rsplit_once(':').map_or((header, None), |(h, p)| (h, Some(p)));
            let name_ok = !host.is_empty()
                && host.len() <= 253
                && host.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
            if !name_ok {
                return false;
            }
            (host, port)
        }
    };
    let port_ok = port.is_none_or(|p| (1..=5).contains(&p.len()) && p.parse::<u16>().is_ok());
    !host.is_empty() && port_ok
}

/// Hosts that may be served over plain HTTP: development on one's own machine.
pub fn is_local(host: &str) -> bool {
    matches!(normalize(host).as_str(), "localhost" | "127.0.0.1" | "::1")
}

/// What a client sees as our domain: `host` for public domains, `host:port` for a local
/// one (where the port is part of the URL the client must follow).
pub fn public_authority(host_header: &str) -> String {
    if is_local(host_header) { host_header.trim().to_ascii_lowercase() } else { normalize(host_header) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_ports_and_case() {
        assert_eq!(normalize("Anchor.Example:443"), "anchor.example");
        assert_eq!(normalize("anchor.example."), "anchor.example");
        assert_eq!(normalize("localhost:8000"), "localhost");
        assert_eq!(normalize("[::1]:8000"), "::1");
    }

    #[test]
    fn only_plain_host_and_port_is_valid() {
        for ok in
            ["anchor.example", "anchor.example:443", "localhost:8000", "127.0.0.1:9", "[::1]:8000", "[::1]"]
        {
            assert!(is_valid(ok), "{ok}");
        }
        for bad in [
            "localhost:1@evil.example",
            "user@anchor.example",
            "anchor.example:80:80",
            "anchor.example:port",
            "anchor.example/path",
            "anchor example",
            "",
            "[::1",
            "[nope]:80",
            "anchor.example:99999",
        ] {
            assert!(!is_valid(bad), "{bad}");
        }
    }

    #[test]
    fn local_hosts_keep_their_port() {
        assert_eq!(public_authority("LOCALHOST:8000"), "localhost:8000");
        assert_eq!(public_authority("127.0.0.1:9"), "127.0.0.1:9");
        assert_eq!(public_authority("anchor.example:8443"), "anchor.example");
        assert!(!is_local("localhost.evil.example"));
    }
}
