//! Sending one request to the KDCs of a realm (RFC 4120 §7.2.1 UDP, §7.2.2 TCP).
//!
//! KDCs are tried in the order of the realm's `kdc` lines. UDP is used for requests up to
//! `udp_preference_limit` bytes, TCP above it or when the KDC answers
//! KRB_ERR_RESPONSE_TOO_BIG. Every wait is bounded by the per-try timeout and an overall
//! deadline; reply sizes are bounded before anything is allocated. Like MIT, a UDP
//! datagram that is not an acceptable reply is ignored and the wait goes on.

use crate::config::{KdcTransport, Profile};
use crate::error::{minor, Error, Result};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs, UdpSocket};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Largest UDP reply read (the largest datagram).
pub const MAX_UDP_REPLY: usize = 65_536;
/// Largest TCP reply accepted; a length prefix above it is refused before allocating.
pub const MAX_TCP_REPLY: usize = 1 << 20;
/// Bound on the whole send to one realm (all KDCs, all tries).
pub const OVERALL_TIMEOUT: Duration = Duration::from_secs(10);
/// KRB_ERR_RESPONSE_TOO_BIG (RFC 4120 §7.5.9).
const RESPONSE_TOO_BIG: i32 = 52;

/// Requests sent per transport (shared by the clones of a KdcClient).
#[derive(Debug, Default)]
pub struct Counters {
    pub udp: AtomicU64,
    pub tcp: AtomicU64,
}

/// What the caller accepts as a reply (checked structurally; a UDP datagram failing it is
/// ignored as MIT ignores one it cannot parse).
pub type Acceptable<'a> = &'a dyn Fn(&[u8]) -> bool;

/// Sends `request` to the KDCs of `realm`; returns the first acceptable reply.
pub fn send_to_realm(
    profile: &Profile,
    realm: &str,
    request: &[u8],
    per_try: Duration,
    counters: &Counters,
    acceptable: Acceptable,
) -> Result<Vec<u8>> {
    let kdcs = profile.kdcs(realm);
    if kdcs.is_empty() {
        return Err(Error::minor(
            minor::REALM_UNKNOWN,
            format!("no kdc for realm {realm} in the configuration"),
        ));
    }
    let deadline = Instant::now() + OVERALL_TIMEOUT;
    let prefer_tcp = request.len() > profile.udp_preference_limit();
    let mut failures: Vec<String> = Vec::new();
    let mut resolved_any = false;
    for kdc in &kdcs {
        let addrs: Vec<SocketAddr> = match (kdc.host.as_str(), kdc.port).to_socket_addrs() {
            Ok(a) => a.collect(),
            Err(e) => {
                failures.push(format!("{}: {e}", kdc.host));
                continue;
            }
        };
        resolved_any |= !addrs.is_empty();
        for addr in addrs {
            if Instant::now() >= deadline {
                break;
            }
            let use_tcp = match kdc.transport {
                Some(KdcTransport::Tcp) => true,
                Some(KdcTransport::Udp) => false,
                None => prefer_tcp,
            };
            let result = if use_tcp {
                counters.tcp.fetch_add(1, Ordering::Relaxed);
                tcp_exchange(addr, request, per_try, deadline)
            } else {
                counters.udp.fetch_add(1, Ordering::Relaxed);
                match udp_exchange(addr, request, per_try, deadline, acceptable) {
                    Ok(reply) if is_response_too_big(&reply) && kdc.transport.is_none() => {
                        counters.tcp.fetch_add(1, Ordering::Relaxed);
                        tcp_exchange(addr, request, per_try, deadline)
                    }
                    other => other,
                }
            };
            match result {
                Ok(reply) if acceptable(&reply) => return Ok(reply),
                Ok(_) => failures.push(format!("{addr}: unparseable reply")),
                Err(e) => failures.push(format!("{addr}: {e}")),
            }
        }
    }
    let code = if resolved_any {
        minor::KDC_UNREACH
    } else {
        minor::REALM_CANT_RESOLVE
    };
    Err(Error::minor(
        code,
        format!("realm {realm}: {}", failures.join("; ")),
    ))
}

fn remaining(deadline: Instant, per_try: Duration) -> Option<Duration> {
    let left = deadline.checked_duration_since(Instant::now())?;
    let t = left.min(per_try);
    (!t.is_zero()).then_some(t)
}

/// A KRB-ERROR with error-code 52, recognised without a full decode.
fn is_response_too_big(reply: &[u8]) -> bool {
    use crate::asn1::Der;
    reply.first() == Some(&0x7e)
        && crate::asn1::KrbError::from_der(reply)
            .map(|e| e.error_code == RESPONSE_TOO_BIG)
            .unwrap_or(false)
}

fn udp_exchange(
    addr: SocketAddr,
    request: &[u8],
    per_try: Duration,
    deadline: Instant,
    acceptable: Acceptable,
) -> std::io::Result<Vec<u8>> {
    let timeout = |_: ()| std::io::Error::new(std::io::ErrorKind::TimedOut, "no reply");
    let local: SocketAddr = if addr.is_ipv4() {
        "0.0.0.0:0".parse().expect("literal address")
    } else {
        "[::]:0".parse().expect("literal address")
    };
    let sock = UdpSocket::bind(local)?;
    // Connected: only this KDC's datagrams arrive, and ICMP port-unreachable surfaces as
    // ECONNREFUSED so that a dead KDC is skipped at once.
    sock.connect(addr)?;
    sock.send(request)?;
    let try_deadline = Instant::now() + per_try;
    let mut buf = vec![0u8; MAX_UDP_REPLY];
    loop {
        let wait = remaining(deadline.min(try_deadline), per_try).ok_or_else(|| timeout(()))?;
        sock.set_read_timeout(Some(wait))?;
        match sock.recv(&mut buf) {
            Ok(n) if acceptable(&buf[..n]) || is_response_too_big(&buf[..n]) => {
                buf.truncate(n);
                return Ok(buf);
            }
            Ok(_) => continue, // not a reply to us: keep waiting, as MIT does
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return Err(timeout(()))
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
}

fn tcp_exchange(
    addr: SocketAddr,
    request: &[u8],
    per_try: Duration,
    deadline: Instant,
) -> std::io::Result<Vec<u8>> {
    let timed_out = || std::io::Error::new(std::io::ErrorKind::TimedOut, "no reply");
    let try_deadline = (Instant::now() + per_try).min(deadline);
    let wait = || remaining(try_deadline, per_try).ok_or_else(timed_out);
    let mut stream = TcpStream::connect_timeout(&addr, wait()?)?;
    stream.set_nodelay(true)?;
    // RFC 4120 §7.2.2: a 4-byte big-endian length, then the message.
    let len = u32::try_from(request.len())
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidInput, "request too large"))?;
    let mut framed = Vec::with_capacity(request.len() + 4);
    framed.extend_from_slice(&len.to_be_bytes());
    framed.extend_from_slice(request);
    stream.set_write_timeout(Some(wait()?))?;
    stream.write_all(&framed)?;
    let mut prefix = [0u8; 4];
    read_exact_by(&mut stream, &mut prefix, &wait)?;
    let n = u32::from_be_bytes(prefix);
    if n & 0x8000_0000 != 0 {
        // The high bit is reserved for future extensions (RFC 4120 §7.2.2).
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "reply length has the reserved high bit set",
        ));
    }
    let n = n as usize;
    if n > MAX_TCP_REPLY || n == 0 {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("reply length {n} outside 1..={MAX_TCP_REPLY}"),
        ));
    }
    let mut reply = vec![0u8; n];
    read_exact_by(&mut stream, &mut reply, &wait)?;
    Ok(reply)
}

/// read_exact with the read timeout reset to the time left before every read.
fn read_exact_by(
    stream: &mut TcpStream,
    buf: &mut [u8],
    wait: &dyn Fn() -> std::io::Result<Duration>,
) -> std::io::Result<()> {
    let mut done = 0;
    while done < buf.len() {
        stream.set_read_timeout(Some(wait()?))?;
        match stream.read(&mut buf[done..]) {
            Ok(0) => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "connection closed before the whole reply",
                ))
            }
            Ok(k) => done += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "no reply",
                ))
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
