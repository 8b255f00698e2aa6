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
    fn local_hosts_keep_their_port() {
        assert_eq!(public_authority("LOCALHOST:8000"), "localhost:8000");
        assert_eq!(public_authority("127.0.0.1:9"), "127.0.0.1:9");
        assert_eq!(public_authority("anchor.example:8443"), "anchor.example");
        assert!(!is_local("localhost.evil.example"));
    }
}
