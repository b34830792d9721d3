//! Who the client is: the socket's peer, or, when that peer is one of
//! `[server] trusted_proxies`, the client its `X-Forwarded-For` names.
//!
//! The header is read from the right (the entry the nearest proxy appended)
//! leftwards, skipping trusted proxies: the first address that is not one is
//! the client. Entries left of it were written by the client itself and are
//! never believed. A header that is missing or unreadable leaves the proxy's
//! own address. Only the sign-in throttle uses this; signatures never look at
//! forwarded headers.

use std::net::IpAddr;

use ipnet::IpNet;

/// The client of a request from `peer` carrying these `X-Forwarded-For` values.
pub fn client_address<'a>(peer: IpAddr, forwarded_for: impl IntoIterator<Item = &'a str>, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let values: Vec<&str> = forwarded_for.into_iter().collect();
    let entries = values.iter().rev().flat_map(|value| value.rsplit(','));
    let mut client = peer;
    for entry in entries {
        match parse_entry(entry) {
            Some(ip) if is_trusted(&ip) => client = ip,
            Some(ip) => return ip,
            None => break,
        }
    }
    client
}

/// One entry: an address, possibly `[v6]` or with a port (`1.2.3.4:5678`).
fn parse_entry(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    if let Ok(ip) = entry.parse::<IpAddr>() {
        return Some(ip);
    }
    entry
        .parse::<std::net::SocketAddr>()
        .ok()
        .map(|addr| addr.ip())
        .or_else(|| {
            entry
                .strip_prefix('[')
                .and_then(|rest| rest.strip_suffix(']'))
                .and_then(|inner| inner.parse().ok())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|n| n.parse().unwrap()).collect()
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let trusted = nets(&["127.0.0.1/32"]);
        assert_eq!(
            client_address(ip("203.0.113.9"), ["198.51.100.1"], &trusted),
            ip("203.0.113.9")
        );
        assert_eq!(client_address(ip("127.0.0.1"), ["198.51.100.1"], &[]), ip("127.0.0.1"));
    }

    #[test]
    fn a_trusted_proxy_names_the_client_from_the_right() {
        let trusted = nets(&["127.0.0.1/32", "10.0.0.0/8"]);
        let peer = ip("127.0.0.1");
        assert_eq!(client_address(peer, ["198.51.100.7"], &trusted), ip("198.51.100.7"));
        assert_eq!(
            client_address(peer, ["6.6.6.6, 198.51.100.7, 10.1.2.3"], &trusted),
            ip("198.51.100.7"),
            "what the client wrote itself (left) is not believed"
        );
        assert_eq!(
            client_address(peer, ["6.6.6.6", "198.51.100.7:4711"], &trusted),
            ip("198.51.100.7"),
            "several headers, a port"
        );
        assert_eq!(client_address(peer, ["[2001:db8::1]:443"], &trusted), ip("2001:db8::1"));
        assert_eq!(client_address(peer, ["[2001:db8::1]"], &trusted), ip("2001:db8::1"));
    }

    #[test]
    fn without_a_readable_header_the_proxy_is_the_client() {
        let trusted = nets(&["127.0.0.1/32", "10.0.0.0/8"]);
        let peer = ip("127.0.0.1");
        assert_eq!(client_address(peer, [], &trusted), peer);
        assert_eq!(client_address(peer, ["unknown"], &trusted), peer);
        assert_eq!(client_address(peer, ["garbage, 10.0.0.5"], &trusted), ip("10.0.0.5"));
    }
}
