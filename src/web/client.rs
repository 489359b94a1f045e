//! Who is asking, and for which host: the socket's peer and the `Host` header, unless the peer
//! is one of `server.trusted_proxies`, whose `Forwarded` (RFC 7239) or `X-Forwarded-*` headers
//! then say. From any other peer those headers are ignored, so nobody can pick the address
//! their failures are counted against or the host their tenant is resolved from.

use std::net::{IpAddr, SocketAddr};

use actix_web::dev::RequestHead;
use actix_web::http::header::{self, HeaderMap};

use crate::config::TrustedProxies;

/// What the request says about its client, after the trusted-proxy rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Client {
    /// The client's address: the peer, or what a trusted proxy reported.
    pub ip: Option<IpAddr>,
    /// The host asked for, with its port if any.
    pub host: String,
    /// `http` or `https`.
    pub scheme: String,
}

impl Client {
    /// Reads `head` as it came from `peer`.
    pub fn of(head: &RequestHead, peer: Option<SocketAddr>, proxies: &TrustedProxies) -> Self {
        let peer_ip = peer.map(|p| p.ip().to_canonical());
        let headers = &head.headers;
        let direct_host = headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .or_else(|| head.uri.authority().map(ToString::to_string))
            .unwrap_or_default();
        let direct_scheme = head.uri.scheme_str().unwrap_or("http").to_string();
        let trusted = peer_ip.is_some_and(|ip| proxies.contains(ip));
        if !trusted {
            return Self {
                ip: peer_ip,
                host: direct_host,
                scheme: direct_scheme,
            };
        }
        let forwarded = forwarded_elements(headers);
        let hops: Vec<String> = if forwarded.is_empty() {
            list_values(headers, "x-forwarded-for")
        } else {
            forwarded
                .iter()
                .filter_map(|e| e.get("for").cloned())
                .collect()
        };
        // The rightmost hop that is not a proxy of ours is the client: what is left of it was
        // written by the client itself and proves nothing.
        let mut ip = peer_ip;
        for hop in hops.iter().rev() {
            match parse_node(hop) {
                Some(address) if proxies.contains(address) => ip = Some(address),
                Some(address) => {
                    ip = Some(address);
                    break;
                }
                None => break,
            }
        }
        let first = |name: &str| -> Option<String> {
            forwarded
                .first()
                .and_then(|e| e.get(name).cloned())
                .or_else(|| {
                    list_values(headers, &format!("x-forwarded-{name}"))
                        .into_iter()
                        .next()
                })
                .filter(|v| !v.is_empty())
        };
        let host = first("host").unwrap_or(direct_host);
        let scheme = first("proto")
            .map(|p| p.to_ascii_lowercase())
            .filter(|p| p == "http" || p == "https")
            .unwrap_or(direct_scheme);
        Self { ip, host, scheme }
    }

    /// [`Client::of`] an `HttpRequest`: the one the tenant-resolving middleware read, when it
    /// ran (the headers are read once per request).
    pub fn of_request(req: &actix_web::HttpRequest, proxies: &TrustedProxies) -> Self {
        use actix_web::HttpMessage as _;
        if let Some(client) = req.extensions().get::<Self>() {
            return client.clone();
        }
        Self::of(req.head(), req.peer_addr(), proxies)
    }

    /// The address, as text, of the client of `req` under the app's `server.trusted_proxies`:
    /// what counters and security logs record.
    pub fn ip_of(req: &actix_web::HttpRequest, state: &crate::state::AppState) -> String {
        Self::of_request(req, &state.settings.server.trusted_proxies).ip_text()
    }

    /// The client's address as text (for counters), `unknown` when the socket has none.
    pub fn ip_text(&self) -> String {
        self.ip
            .map_or_else(|| "unknown".to_string(), |ip| ip.to_string())
    }
}

/// The comma-separated values of every `name` header, in order.
fn list_values(headers: &HeaderMap, name: &str) -> Vec<String> {
    headers
        .get_all(name)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .collect()
}

/// The elements of every `Forwarded` header: `for=...;host=...;proto=...` pairs, keys lower-case,
/// quotes removed.
fn forwarded_elements(headers: &HeaderMap) -> Vec<std::collections::HashMap<String, String>> {
    list_values(headers, "forwarded")
        .iter()
        .map(|element| {
            element
                .split(';')
                .filter_map(|pair| {
                    let (key, value) = pair.split_once('=')?;
                    Some((
                        key.trim().to_ascii_lowercase(),
                        value.trim().trim_matches('"').to_string(),
                    ))
                })
                .collect()
        })
        .collect()
}

/// An address from a hop: `1.2.3.4`, `1.2.3.4:5678`, `[2001:db8::1]:80` or `2001:db8::1`.
fn parse_node(node: &str) -> Option<IpAddr> {
    let node = node.trim();
    if let Ok(ip) = node.parse::<IpAddr>() {
        return Some(ip.to_canonical());
    }
    if let Ok(socket) = node.parse::<SocketAddr>() {
        return Some(socket.ip().to_canonical());
    }
    let inner = node.strip_prefix('[')?.split(']').next()?;
    inner.parse::<IpAddr>().ok().map(|ip| ip.to_canonical())
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn proxies(list: &[&str]) -> TrustedProxies {
        TrustedProxies::try_from(list.iter().map(ToString::to_string).collect::<Vec<_>>()).unwrap()
    }

    fn client(peer: &str, headers: &[(&str, &str)], trusted: &[&str]) -> Client {
        let mut req = TestRequest::default()
            .peer_addr(peer.parse().unwrap())
            .insert_header(("host", "app.example.com"));
        for (name, value) in headers {
            req = req.append_header((*name, *value));
        }
        let req = req.to_http_request();
        Client::of(req.head(), req.peer_addr(), &proxies(trusted))
    }

    #[test]
    fn forwarded_headers_from_an_untrusted_peer_are_ignored() {
        let c = client(
            "203.0.113.9:5000",
            &[
                ("x-forwarded-for", "198.51.100.1"),
                ("x-forwarded-host", "acme.example.com"),
                (
                    "forwarded",
                    "for=198.51.100.2;host=globex.example.com;proto=https",
                ),
            ],
            &[],
        );
        assert_eq!(c.ip, Some("203.0.113.9".parse().unwrap()));
        assert_eq!(c.host, "app.example.com");
        assert_eq!(c.scheme, "http");
    }

    #[test]
    fn a_trusted_proxy_names_the_client_and_the_host() {
        let c = client(
            "10.0.0.5:5000",
            &[
                ("x-forwarded-for", "6.6.6.6, 198.51.100.7, 10.0.0.4"),
                ("x-forwarded-host", "acme.example.com"),
                ("x-forwarded-proto", "https"),
            ],
            &["10.0.0.0/8"],
        );
        assert_eq!(
            c.ip,
            Some("198.51.100.7".parse().unwrap()),
            "the rightmost address that is not a proxy; the client's own claim (6.6.6.6) is not believed"
        );
        assert_eq!(c.host, "acme.example.com");
        assert_eq!(c.scheme, "https");
    }

    #[test]
    fn forwarded_wins_over_x_forwarded_and_understands_ports_and_ipv6() {
        let c = client(
            "127.0.0.1:5000",
            &[
                (
                    "forwarded",
                    "for=\"[2001:db8::7]:4711\";host=acme.example.com;proto=https",
                ),
                ("x-forwarded-for", "198.51.100.7"),
            ],
            &["127.0.0.1"],
        );
        assert_eq!(c.ip, Some("2001:db8::7".parse().unwrap()));
        assert_eq!(c.host, "acme.example.com");
        assert_eq!(c.scheme, "https");
        assert_eq!(
            parse_node("198.51.100.7:80"),
            Some("198.51.100.7".parse().unwrap())
        );
        assert_eq!(parse_node("unknown"), None);
    }

    #[test]
    fn a_bad_list_entry_is_refused() {
        assert!(TrustedProxies::try_from(vec!["10.0.0.0/33".to_string()]).is_err());
        assert!(TrustedProxies::try_from(vec!["proxy.local".to_string()]).is_err());
        assert!(proxies(&["10.0.0.1"]).contains("::ffff:10.0.0.1".parse().unwrap()));
    }
}
