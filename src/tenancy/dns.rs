//! DNS lookups: TXT for custom-domain verification, behind a trait so an embedding app (or a
//! test) can answer them, and A and AAAA for the outgoing client's names (webhooks). The
//! default asks a DNS server over UDP: the one in `tenant.dns_server`, else the first
//! `nameserver` of `/etc/resolv.conf`.

use std::fmt::Debug;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::time::Duration;

use tokio::net::UdpSocket;

/// The future a lookup returns.
pub type LookupFuture<'a> = Pin<Box<dyn Future<Output = anyhow::Result<Vec<String>>> + Send + 'a>>;

/// Answers "which TXT records does this name have?".
pub trait TxtLookup: Send + Sync + Debug {
    /// The TXT records of `name`, each as one string; empty when there are none.
    fn lookup_txt<'a>(&'a self, name: &'a str) -> LookupFuture<'a>;
}

/// A stub resolver speaking DNS over UDP.
#[derive(Clone, Debug)]
pub struct UdpDns {
    server: Option<SocketAddr>,
}

impl UdpDns {
    /// Asks `server`, or the system's resolver when `None`.
    pub fn new(server: Option<SocketAddr>) -> Self {
        Self { server }
    }

    fn server(&self) -> anyhow::Result<SocketAddr> {
        if let Some(server) = self.server {
            return Ok(server);
        }
        let conf = std::fs::read_to_string("/etc/resolv.conf")
            .map_err(|e| anyhow::anyhow!("no DNS server: set tenant.dns_server ({e})"))?;
        conf.lines()
            .filter_map(|line| line.trim().strip_prefix("nameserver"))
            .filter_map(|rest| rest.trim().parse::<std::net::IpAddr>().ok())
            .map(|ip| SocketAddr::new(ip, 53))
            .next()
            .ok_or_else(|| {
                anyhow::anyhow!("no nameserver in /etc/resolv.conf; set tenant.dns_server")
            })
    }
}

impl UdpDns {
    /// The records of type `kind` of `name`, each as its raw data.
    async fn ask(&self, name: &str, kind: u16) -> anyhow::Result<Vec<Vec<u8>>> {
        let server = self.server()?;
        let id: u16 = rand::random();
        let query = encode_question(id, name, kind)?;
        let bind = if server.is_ipv4() {
            "0.0.0.0:0"
        } else {
            "[::]:0"
        };
        let socket = UdpSocket::bind(bind).await?;
        socket.connect(server).await?;
        let mut buffer = vec![0u8; 4096];
        for _ in 0..2 {
            socket.send(&query).await?;
            match tokio::time::timeout(Duration::from_secs(3), socket.recv(&mut buffer)).await {
                Ok(Ok(n)) => return parse_records(id, &buffer[..n], kind),
                Ok(Err(e)) => return Err(e.into()),
                Err(_) => continue,
            }
        }
        anyhow::bail!("the DNS server {server} did not answer")
    }
}

impl crate::net::client::Resolve for UdpDns {
    fn resolve<'a>(&'a self, name: &'a str) -> crate::net::client::ResolveFuture<'a> {
        Box::pin(async move {
            let fail = |e: anyhow::Error| std::io::Error::other(e.to_string());
            let mut ips = Vec::new();
            for (kind, len) in [(1u16, 4usize), (28, 16)] {
                let records = match self.ask(name, kind).await {
                    Ok(records) => records,
                    // A server that answers A but not AAAA still names the host.
                    Err(_) if !ips.is_empty() => continue,
                    Err(error) => return Err(fail(error)),
                };
                for data in records {
                    match (len, data.len()) {
                        (4, 4) => ips.push(IpAddr::from([data[0], data[1], data[2], data[3]])),
                        (16, 16) => {
                            let mut octets = [0u8; 16];
                            octets.copy_from_slice(&data);
                            ips.push(IpAddr::from(octets));
                        }
                        _ => {}
                    }
                }
            }
            Ok(ips)
        })
    }
}

impl TxtLookup for UdpDns {
    fn lookup_txt<'a>(&'a self, name: &'a str) -> LookupFuture<'a> {
        Box::pin(async move {
            Ok(self
                .ask(name, 16)
                .await?
                .iter()
                .map(|d| txt_of(d))
                .collect())
        })
    }
}

/// The strings of one TXT record's data, joined.
fn txt_of(data: &[u8]) -> String {
    let mut text = Vec::new();
    let mut i = 0;
    while i < data.len() {
        let n = usize::from(data[i]);
        text.extend_from_slice(data.get(i + 1..i + 1 + n).unwrap_or_default());
        i += 1 + n;
    }
    String::from_utf8_lossy(&text).into_owned()
}

/// A DNS query for the TXT records of `name` (recursion desired).
pub fn encode_query(id: u16, name: &str) -> anyhow::Result<Vec<u8>> {
    encode_question(id, name, 16)
}

/// A DNS query for the records of type `kind` (1 A, 28 AAAA, 16 TXT) of `name`.
pub fn encode_question(id: u16, name: &str, kind: u16) -> anyhow::Result<Vec<u8>> {
    let mut packet = Vec::with_capacity(32 + name.len());
    packet.extend_from_slice(&id.to_be_bytes());
    packet.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    for label in name.trim_end_matches('.').split('.') {
        if label.is_empty() || label.len() > 63 {
            anyhow::bail!("`{name}` is not a DNS name");
        }
        packet.push(label.len() as u8);
        packet.extend_from_slice(label.as_bytes());
    }
    packet.push(0);
    packet.extend_from_slice(&kind.to_be_bytes());
    packet.extend_from_slice(&[0, 1]);
    Ok(packet)
}

fn skip_name(packet: &[u8], mut at: usize) -> anyhow::Result<usize> {
    loop {
        let len = *packet
            .get(at)
            .ok_or_else(|| anyhow::anyhow!("truncated name"))?;
        if len & 0xC0 == 0xC0 {
            return Ok(at + 2);
        }
        if len == 0 {
            return Ok(at + 1);
        }
        at += 1 + usize::from(len);
    }
}

fn u16_at(packet: &[u8], at: usize) -> anyhow::Result<u16> {
    let bytes = packet
        .get(at..at + 2)
        .ok_or_else(|| anyhow::anyhow!("truncated answer"))?;
    Ok(u16::from_be_bytes([bytes[0], bytes[1]]))
}

/// The TXT strings in a DNS answer to query `id` (the strings of one record joined).
pub fn parse_txt_answer(id: u16, packet: &[u8]) -> anyhow::Result<Vec<String>> {
    Ok(parse_records(id, packet, 16)?
        .iter()
        .map(|data| txt_of(data))
        .collect())
}

/// The data of the records of type `kind` in a DNS answer to query `id`.
fn parse_records(id: u16, packet: &[u8], wanted: u16) -> anyhow::Result<Vec<Vec<u8>>> {
    if u16_at(packet, 0)? != id {
        anyhow::bail!("the DNS answer does not match the question");
    }
    let flags = u16_at(packet, 2)?;
    if flags & 0x0200 != 0 {
        anyhow::bail!("the DNS answer was truncated");
    }
    match flags & 0x000F {
        0 => {}
        3 => return Ok(Vec::new()),
        code => anyhow::bail!("the DNS server answered with error code {code}"),
    }
    let questions = u16_at(packet, 4)?;
    let answers = u16_at(packet, 6)?;
    let mut at = 12;
    for _ in 0..questions {
        at = skip_name(packet, at)? + 4;
    }
    let mut records = Vec::new();
    for _ in 0..answers {
        at = skip_name(packet, at)?;
        let kind = u16_at(packet, at)?;
        let len = usize::from(u16_at(packet, at + 8)?);
        let data = packet
            .get(at + 10..at + 10 + len)
            .ok_or_else(|| anyhow::anyhow!("truncated record"))?;
        at += 10 + len;
        if kind == wanted {
            records.push(data.to_vec());
        }
    }
    Ok(records)
}

/// The question type of a DNS query (1 A, 28 AAAA, 16 TXT), for tests and fake servers.
pub fn question_type(query: &[u8]) -> Option<u16> {
    let end = skip_name(query, 12).ok()?;
    u16_at(query, end).ok()
}

/// A DNS answer to `query` with the given addresses, those of the question's type (for tests
/// and fake servers).
pub fn encode_ip_answer(query: &[u8], ips: &[IpAddr]) -> Vec<u8> {
    let kind = question_type(query).unwrap_or(1);
    let data: Vec<Vec<u8>> = ips
        .iter()
        .filter_map(|ip| match (ip, kind) {
            (IpAddr::V4(v4), 1) => Some(v4.octets().to_vec()),
            (IpAddr::V6(v6), 28) => Some(v6.octets().to_vec()),
            _ => None,
        })
        .collect();
    let mut packet = query.to_vec();
    packet[2] = 0x81;
    packet[3] = 0x80;
    packet[6..8].copy_from_slice(&(data.len() as u16).to_be_bytes());
    for record in data {
        packet.extend_from_slice(&[0xC0, 12]);
        packet.extend_from_slice(&kind.to_be_bytes());
        packet.extend_from_slice(&[0, 1, 0, 0, 0, 60]);
        packet.extend_from_slice(&(record.len() as u16).to_be_bytes());
        packet.extend_from_slice(&record);
    }
    packet
}

/// A DNS answer to `query` with the given TXT strings (for tests and fake servers).
pub fn encode_txt_answer(query: &[u8], txt: &[&str]) -> Vec<u8> {
    let mut packet = query.to_vec();
    packet[2] = 0x81;
    packet[3] = 0x80;
    packet[6..8].copy_from_slice(&(txt.len() as u16).to_be_bytes());
    for value in txt {
        packet.extend_from_slice(&[0xC0, 12, 0, 16, 0, 1, 0, 0, 0, 60]);
        let bytes = value.as_bytes();
        let chunks: Vec<&[u8]> = bytes.chunks(255).collect();
        let rdlen = chunks.iter().map(|c| c.len() + 1).sum::<usize>();
        packet.extend_from_slice(&(rdlen as u16).to_be_bytes());
        for chunk in chunks {
            packet.push(chunk.len() as u8);
            packet.extend_from_slice(chunk);
        }
    }
    packet
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_round_trips_through_an_answer() {
        let query = encode_query(0xBEEF, "_orgs-challenge.example.com").unwrap();
        let answer = encode_txt_answer(&query, &["orgs-verify=abc", &"x".repeat(300)]);
        let txt = parse_txt_answer(0xBEEF, &answer).unwrap();
        assert_eq!(txt, vec!["orgs-verify=abc".to_string(), "x".repeat(300)]);
    }

    #[test]
    fn a_mismatched_or_broken_answer_is_an_error() {
        let query = encode_query(1, "example.com").unwrap();
        let answer = encode_txt_answer(&query, &["v"]);
        assert!(parse_txt_answer(2, &answer).is_err());
        assert!(parse_txt_answer(1, &answer[..answer.len() - 3]).is_err());
        assert!(encode_query(1, "bad..name").is_err());
    }

    #[test]
    fn address_questions_round_trip_through_their_answers() {
        let ips: Vec<IpAddr> = vec![
            "10.0.0.1".parse().unwrap(),
            "::ffff:127.0.0.1".parse().unwrap(),
        ];
        let a = encode_question(7, "hooks.example.com", 1).unwrap();
        assert_eq!(question_type(&a), Some(1));
        let answer = encode_ip_answer(&a, &ips);
        assert_eq!(
            parse_records(7, &answer, 1).unwrap(),
            vec![vec![10, 0, 0, 1]]
        );
        let aaaa = encode_question(8, "hooks.example.com", 28).unwrap();
        let answer = encode_ip_answer(&aaaa, &ips);
        let records = parse_records(8, &answer, 28).unwrap();
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].len(), 16);
    }
}
