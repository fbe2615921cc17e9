//! HTTP Negotiate (RFC 4559) exchanges in memory: every token crosses the header helpers
//! (`krbap::http`) as it would cross HTTP, between krbap's initiator and acceptor (SPNEGO
//! and raw krb5, with and without mutual authentication), and MIT's captured token reaches
//! the acceptor through an Authorization value. The live exchanges with curl, Chromium,
//! python and Apache are in tests/http-negotiate.sh.

mod common;

use common::{capture_acceptor, capture_initiator, capture_path, capture_time};
use krbap::gss::checksum::ctx_flags;
use krbap::gss::context::InitOptions;
use krbap::gss::mech::{Context, Mechanism};
use krbap::gss::name::{Name, NameType};
use krbap::http;

/// One exchange: the client's token goes as `Authorization`, the server's answers as
/// `WWW-Authenticate` on a 401 (continue) or the 200 (complete). Returns the number of
/// round trips and whether the final header carried a token.
fn exchange(mechanism: Mechanism, flags: u32, t: i64) -> (usize, bool) {
    let ic = capture_initiator(t);
    let ac = capture_acceptor(t);
    let target = Name::import(b"test@localhost", NameType::HostbasedService, None).unwrap();
    let opts = InitOptions {
        req_flags: flags,
        channel_bindings: None,
    };
    let (mut client, step) = Context::initiate(&ic, &target, mechanism, &opts).unwrap();
    let mut client_done = step.complete;
    let mut authorization = http::authorization(&step.token.unwrap()).unwrap();
    assert!(authorization.starts_with("Negotiate YI"), "{authorization}");
    let mut server: Option<Context> = None;
    for round in 1..=4 {
        // Server side: parse, accept, answer.
        let token = http::parse_authorization(authorization.as_bytes()).unwrap();
        let step = match server.as_mut() {
            None => {
                let (ctx, step) = Context::accept(&ac, &token, None)
                    .map_err(|f| f.error)
                    .unwrap();
                server = Some(ctx);
                step
            }
            Some(ctx) => ctx
                .continue_accept(&ac, &token, None)
                .map_err(|f| f.error)
                .unwrap(),
        };
        let www = http::www_authenticate(step.token.as_deref().unwrap_or(&[]));
        let status = if step.complete { 200 } else { 401 };
        // Client side: the challenge's token, if any, goes to the initiator.
        let reply = http::parse_www_authenticate(www.as_bytes()).unwrap();
        if !reply.is_empty() {
            let s = client.continue_init(&reply).unwrap();
            client_done = s.complete;
            if let Some(next) = s.token {
                assert_eq!(status, 401, "a client token after the 200");
                authorization = http::authorization(&next).unwrap();
                continue;
            }
        }
        assert_eq!(status, 200, "round {round}: 401 and nothing to send");
        assert!(
            client_done,
            "round {round}: the client's context is not complete"
        );
        let server = server.unwrap();
        assert!(server.is_established());
        assert_eq!(server.mechanism(), mechanism);
        return (round, !reply.is_empty());
    }
    panic!("no 200 after 4 rounds");
}

#[test]
fn krbap_to_krbap_through_the_headers() {
    let t = capture_time("mutual");
    let mutual = ctx_flags::MUTUAL | ctx_flags::SEQUENCE | ctx_flags::REPLAY;
    // SPNEGO with the optimistic token: one round trip; the 200 carries the final token
    // (accept-completed with the AP-REP, or without one when mutual was not asked).
    assert_eq!(exchange(Mechanism::Spnego, mutual, t), (1, true));
    assert_eq!(
        exchange(Mechanism::Spnego, ctx_flags::SEQUENCE, t),
        (1, true)
    );
    // Raw krb5 in the header (older clients): the AP-REP on the 200 only with mutual.
    assert_eq!(exchange(Mechanism::Krb5, mutual, t), (1, true));
    assert_eq!(
        exchange(Mechanism::Krb5, ctx_flags::SEQUENCE, t),
        (1, false)
    );
}

#[test]
fn mit_token_through_an_authorization_value() {
    let t = capture_time("mutual");
    let tok = std::fs::read(capture_path("mutual/initial_token.bin")).unwrap();
    let value = http::authorization(&tok).unwrap();
    // As curl would put it, and with the liberties RFC 7235 allows.
    for v in [
        value.clone(),
        value.replacen("Negotiate", "NEGOTIATE", 1),
        format!(" \t{}  ", value.replacen(' ', "   ", 1)),
    ] {
        let parsed = http::parse_authorization(v.as_bytes()).unwrap();
        assert_eq!(parsed, tok);
    }
    let ac = capture_acceptor(t);
    let (ctx, step) = Context::accept(&ac, &tok, None)
        .map_err(|f| f.error)
        .unwrap();
    assert!(ctx.is_established() && step.complete);
    let www = http::www_authenticate(&step.token.unwrap());
    assert!(
        www.starts_with("Negotiate YI"),
        "an AP-REP in GSS framing: {www}"
    );
}
