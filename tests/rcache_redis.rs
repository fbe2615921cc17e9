//! The `redis:` replay cache against real Redis servers (Debian's redis-server, started per
//! test on a free loopback port by tests/interop/redis.sh, no persistence, stopped by pid):
//! one decision shared by several caches and threads, full accepts, the C entry points
//! (KRB5RCACHENAME and fork() are in tests/rcache_redis_process.rs),
//! failing closed (server stopped, restarted, slow), configuration errors, a unix socket,
//! a Redis Cluster, and TLS (`rediss:`: CA, host name and client certificate checks). The farm of krbap-server processes is tests/redis-farm.sh.

mod common;

use common::TempDir;
use std::collections::HashSet;
use std::ffi::CString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use krbap::ap::{mint_ticket, MintRequest, ServiceKey};
use krbap::asn1::Der;
use krbap::ccache::Credential;
use krbap::cred::{AcceptorCredential, InitiatorCredential};
use krbap::crypto::{Enctype, Key};
use krbap::error::{major, minor};
use krbap::gss::checksum::ctx_flags;
use krbap::gss::context::{InitOptions, SecurityContext};
use krbap::gss::name::{Name, NameType};
use krbap::principal::Principal;
use krbap::rcache::{AuthenticatorId, ReplayCache, RC_PARSE, RC_TYPE_NOTFOUND};

const SKEW: i64 = 300;

/// Throwaway Redis server(s) in a scratch directory; stopped when dropped.
struct Redis {
    dir: TempDir,
    port: u16,
    cluster_ports: Vec<u16>,
    sock: Option<String>,
    tls: Option<Tls>,
}

/// The PEM files of a `--tls` server's throwaway CA (tests/interop/redis.sh).
struct Tls {
    ca: String,
    cert: String,
    key: String,
    other_ca: String,
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/redis.sh")
}

impl Redis {
    fn run(dir: &Path, args: &[&str]) -> String {
        let out = Command::new(script())
            .arg(args[0])
            .arg(dir)
            .args(&args[1..])
            .output()
            .expect("tests/interop/redis.sh runs");
        assert!(
            out.status.success(),
            "redis.sh {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn env(dir: &Path, name: &str) -> Option<String> {
        let env = std::fs::read_to_string(dir.join("env")).unwrap();
        env.lines()
            .find_map(|l| l.strip_prefix(&format!("export {name}=")))
            .map(|v| v.replace("\\ ", " ").trim_matches('\'').to_string())
    }

    fn start(label: &str, args: &[&str]) -> Redis {
        let dir = TempDir::new(label);
        let mut all = vec!["start"];
        all.extend_from_slice(args);
        Redis::run(&dir.0, &all);
        Redis::from_env(dir)
    }

    fn cluster(label: &str, password: &str) -> Redis {
        let dir = TempDir::new(label);
        Redis::run(&dir.0, &["cluster", "3", "--password", password]);
        Redis::from_env(dir)
    }

    fn from_env(dir: TempDir) -> Redis {
        let port = Redis::env(&dir.0, "REDIS_PORT").unwrap().parse().unwrap();
        let cluster_ports = Redis::env(&dir.0, "REDIS_CLUSTER_PORTS")
            .map(|s| s.split(' ').map(|p| p.parse().unwrap()).collect())
            .unwrap_or_default();
        let sock = Redis::env(&dir.0, "REDIS_SOCK");
        let tls = Redis::env(&dir.0, "REDIS_TLS_CA").map(|ca| Tls {
            ca,
            cert: Redis::env(&dir.0, "REDIS_TLS_CERT").unwrap(),
            key: Redis::env(&dir.0, "REDIS_TLS_KEY").unwrap(),
            other_ca: Redis::env(&dir.0, "REDIS_TLS_OTHER_CA").unwrap(),
        });
        Redis {
            dir,
            port,
            cluster_ports,
            sock,
            tls,
        }
    }

    fn cli(&self, args: &[&str]) -> String {
        let mut all = vec!["cli"];
        all.extend_from_slice(args);
        Redis::run(&self.dir.0, &all).trim().to_string()
    }

    fn cli_port(&self, port: u16, args: &[&str]) -> String {
        let p = port.to_string();
        let mut all = vec!["cli", p.as_str()];
        all.extend_from_slice(args);
        Redis::run(&self.dir.0, &all).trim().to_string()
    }

    fn down(&self) {
        Redis::run(&self.dir.0, &["down"]);
    }

    fn up(&self) {
        Redis::run(&self.dir.0, &["up"]);
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = Command::new(script()).arg("stop").arg(&self.dir.0).output();
    }
}

fn open(name: &str) -> ReplayCache {
    ReplayCache::from_name(name).unwrap_or_else(|e| panic!("{name}: {e:?}"))
}

fn principal(s: &str) -> Principal {
    Principal::parse(s, None).unwrap()
}

/// A stand-in authenticator ciphertext whose 12-byte checksum is unique to (a, b).
fn ciphertext(a: u32, b: u32) -> Vec<u8> {
    let mut c = vec![0x5a; 40];
    c.extend_from_slice(&a.to_be_bytes());
    c.extend_from_slice(&b.to_be_bytes());
    c.extend_from_slice(&[0xc3; 4]);
    c
}

fn store(cache: &ReplayCache, a: u32, b: u32) -> krbap::Result<()> {
    let server = principal("test/localhost@TEST.LOCAL");
    let client = principal("alice@TEST.LOCAL");
    let id = AuthenticatorId {
        server: &server,
        client: &client,
        ctime: 1_800_000_000,
        cusec: a,
    };
    cache.check_and_store_authenticator(&ciphertext(a, b), 12, &id, 1_800_000_000, SKEW)
}

fn assert_replay(r: krbap::Result<()>) {
    let e = r.expect_err("a replay must be refused");
    assert_eq!(e.minor, minor::AP_ERR_REPEAT, "{e:?}");
    assert_eq!(e.major, major::FAILURE | major::DUPLICATE_TOKEN, "{e:?}");
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// The test service key of tests/data/mit-capture/service.keytab (test/localhost, aes256).
fn service_key() -> ServiceKey {
    let kt = krbap::keytab::Keytab::load(&common::capture_path("service.keytab")).unwrap();
    let e = kt
        .entries
        .iter()
        .find(|e| e.principal.to_string() == "test/localhost@TEST.LOCAL" && e.enctype == 18)
        .unwrap();
    ServiceKey {
        principal: e.principal.clone(),
        kvno: e.kvno,
        key: Key::new(Enctype::Aes256CtsHmacSha196, &e.key).unwrap(),
    }
}

/// An initiator holding a ticket minted with the service key, valid for an hour from now.
fn initiator() -> InitiatorCredential {
    let sk = service_key();
    let t = now();
    let client = principal("alice@TEST.LOCAL");
    let (ticket, session_key) = mint_ticket(&MintRequest {
        service_key: &sk,
        client: &client,
        session_enctype: Enctype::Aes256CtsHmacSha196,
        authtime: t,
        endtime: t + 3600,
        flags: 0,
        authorization_data: None,
    });
    let cred = Credential {
        client: client.clone(),
        server: sk.principal.clone(),
        key: krbap::ap::key_to_asn1(&session_key),
        authtime: t as u32,
        starttime: t as u32,
        endtime: t as u32 + 3600,
        renew_till: 0,
        is_skey: false,
        ticket_flags: 0,
        addresses: vec![],
        authdata: vec![],
        ticket: ticket.to_der(),
        second_ticket: vec![],
    };
    InitiatorCredential::from_credentials(client, vec![cred])
}

fn token(ic: &InitiatorCredential) -> Vec<u8> {
    let target = Name::import(b"test@localhost", NameType::HostbasedService, None).unwrap();
    let opts = InitOptions {
        req_flags: ctx_flags::MUTUAL,
        channel_bindings: None,
    };
    SecurityContext::initiate(ic, &target, &opts).unwrap().1
}

fn acceptor(rcache: &str) -> AcceptorCredential {
    let ac = AcceptorCredential::from_keys(None, vec![service_key()]);
    ac.set_replay_cache(open(rcache));
    ac
}

/// `tok` accepted by `ac`, then refused by it as a replay.
fn accepted_once(ac: &AcceptorCredential, tok: &[u8]) {
    SecurityContext::accept(ac, tok, None).unwrap();
    assert_eq!(
        SecurityContext::accept(ac, tok, None)
            .unwrap_err()
            .error
            .minor,
        minor::AP_ERR_REPEAT
    );
}

/// Two acceptors on the cache `name`: `n` fresh tokens, each accepted by the first and then
/// refused as a replay by both, the reason naming `server`. Returns the first acceptor.
fn share_one_decision(name: &str, n: usize, server: &str) -> AcceptorCredential {
    let (a, b) = (acceptor(name), acceptor(name));
    let ic = initiator();
    for _ in 0..n {
        let tok = token(&ic);
        let (ctx, rep) = SecurityContext::accept(&a, &tok, None).unwrap();
        assert!(rep.is_some());
        assert_eq!(ctx.client().to_string(), "alice@TEST.LOCAL");
        for other in [&b, &a] {
            let f = SecurityContext::accept(other, &tok, None).unwrap_err();
            assert_eq!(f.error.minor, minor::AP_ERR_REPEAT, "{:?}", f.error);
            assert!(f.error.detail.contains(server), "{}", f.error.detail);
        }
    }
    a
}

#[test]
fn one_decision_for_every_cache_and_thread() {
    let r = Redis::start("redis-threads", &["--password", "s3cret pw"]);
    let name = format!(
        "redis://:s3cret%20pw@127.0.0.1:{}/2?prefix=threads:&timeout_ms=2000",
        r.port
    );
    // Two caches, as two credentials (or two processes) of a farm would have.
    let caches = Arc::new([open(&name), open(&name)]);
    const THREADS: usize = 8;
    const PER_THREAD: u32 = 250;
    let barrier = Arc::new(Barrier::new(THREADS));
    let accepted = Arc::new(Mutex::new(Vec::new()));
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let (caches, barrier, accepted) = (caches.clone(), barrier.clone(), accepted.clone());
            std::thread::spawn(move || {
                barrier.wait();
                let mut mine = Vec::new();
                // Thread pairs offer the same authenticators, each through another cache.
                let group = (t / 2) as u32;
                for i in 0..PER_THREAD {
                    match store(&caches[t % 2], group, i) {
                        Ok(()) => mine.push((group, i)),
                        Err(e) if e.minor == minor::AP_ERR_REPEAT => {}
                        Err(e) => panic!("thread {t}: {e:?}"),
                    }
                }
                accepted.lock().unwrap().extend(mine);
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let accepted = accepted.lock().unwrap();
    let distinct: HashSet<_> = accepted.iter().collect();
    assert_eq!(
        distinct.len(),
        accepted.len(),
        "an authenticator was accepted twice"
    );
    assert_eq!(accepted.len(), THREADS / 2 * PER_THREAD as usize);
    for c in caches.iter() {
        assert_replay(store(c, 0, 0));
    }
    // Pooled: a connection per concurrently accepting thread, not per accept.
    for c in caches.iter() {
        let ReplayCache::Redis(rc) = c else {
            unreachable!()
        };
        assert!(
            rc.connections_opened() <= THREADS as u64 + 1,
            "{} connections",
            rc.connections_opened()
        );
    }
    assert_eq!(r.cli(&["-n", "2", "DBSIZE"]), "1000");
    // The entry's lifetime is 2 × skew + 1 s.
    let key = r.cli(&["-n", "2", "--scan", "--pattern", "threads:*"]);
    let key = key.lines().next().unwrap();
    assert_eq!(key.len(), "threads:".len() + 32, "{key}");
    let pttl: i64 = r.cli(&["-n", "2", "PTTL", key]).parse().unwrap();
    assert!(pttl > 590_000 && pttl <= 601_000, "PTTL {pttl}");
}

#[test]
fn accepts_share_one_decision() {
    let r = Redis::start("redis-accept", &[]);
    let name = format!("redis://127.0.0.1:{}?prefix=accept:", r.port);
    let a = share_one_decision(&name, 20, &format!("127.0.0.1:{}", r.port));
    // One key per accepted token.
    assert_eq!(r.cli(&["DBSIZE"]), "20");
    assert!(a.replay_cache().name().starts_with("redis://127.0.0.1:"));
}

#[test]
fn c_entry_points_select_it() {
    use krbap::ffi::*;
    let r = Redis::start("redis-ffi", &[]);
    let name = format!("redis://127.0.0.1:{}/1?prefix=ffi:", r.port);
    let keytab = common::capture_path("service.keytab");
    let (kt, rc) = (
        CString::new(keytab.to_str().unwrap()).unwrap(),
        CString::new(name.clone()).unwrap(),
    );
    let (k_keytab, k_rcache) = (
        CString::new("keytab").unwrap(),
        CString::new("rcache").unwrap(),
    );
    let mut minor_status = 0u32;
    // The credential-store key.
    let elements = [
        krbap_cred_store_element {
            key: k_keytab.as_ptr(),
            value: kt.as_ptr(),
        },
        krbap_cred_store_element {
            key: k_rcache.as_ptr(),
            value: rc.as_ptr(),
        },
    ];
    let mut cred = std::ptr::null_mut();
    let m = krbap_acquire_cred_from(
        &mut minor_status,
        std::ptr::null(),
        KRBAP_C_ACCEPT,
        elements.as_ptr(),
        2,
        &mut cred,
        std::ptr::null_mut(),
    );
    assert_eq!(m, 0, "minor {minor_status}");
    // krbap_cred_set_replay_cache (KRB5RCACHENAME: tests/rcache_redis_process.rs).
    assert_eq!(
        krbap_cred_set_replay_cache(&mut minor_status, cred, rc.as_ptr()),
        0
    );
    let bad = CString::new(format!("redis://127.0.0.1:{}?colour=blue", r.port)).unwrap();
    let m = krbap_cred_set_replay_cache(&mut minor_status, cred, bad.as_ptr());
    assert_eq!((m, minor_status as i32), (major::FAILURE, RC_PARSE));
    krbap_release_cred(&mut minor_status, &mut cred);
    assert_eq!(r.cli(&["-n", "1", "PING"]), "PONG");
}

#[test]
fn fails_closed_while_redis_is_down_and_resumes_after_restart() {
    let r = Redis::start("redis-down", &[]);
    let name = format!("redis://127.0.0.1:{}?timeout_ms=1000", r.port);
    let cache = open(&name);
    store(&cache, 1, 1).unwrap();
    r.down();
    for i in 0..3 {
        let e = store(&cache, 1, 100 + i).unwrap_err();
        assert_eq!((e.major, e.minor), (major::FAILURE, minor::RC_IO), "{e:?}");
        assert!(
            e.detail.contains(&format!("127.0.0.1:{} db 0", r.port))
                && e.detail.contains("refused"),
            "{}",
            e.detail
        );
        assert_eq!(e.minor_message(), "Replay cache I/O operation failed");
    }
    r.up();
    // Same cache object, no restart of the acceptor.
    store(&cache, 1, 2).unwrap();
    assert_replay(store(&cache, 1, 2));
    // A restart between two accepts: the first accept afterwards finds its pooled
    // connection dead and succeeds on a new one at once.
    r.down();
    r.up();
    store(&cache, 1, 3).unwrap();
    assert_replay(store(&cache, 1, 3));
    // An acceptor fails closed too, and its credential keeps working afterwards.
    let ac = acceptor(&name);
    let ic = initiator();
    r.down();
    let tok = token(&ic);
    let f = SecurityContext::accept(&ac, &tok, None).unwrap_err();
    assert_eq!(f.error.minor, minor::RC_IO);
    r.up();
    accepted_once(&ac, &tok);
}

#[test]
fn slow_redis_times_out_and_fails_closed() {
    let r = Redis::start("redis-slow", &[]);
    let cache = open(&format!("redis://127.0.0.1:{}?timeout_ms=200", r.port));
    store(&cache, 2, 0).unwrap();
    let dir = r.dir.0.clone();
    let sleeper = std::thread::spawn(move || Redis::run(&dir, &["cli", "DEBUG", "SLEEP", "1.5"]));
    std::thread::sleep(Duration::from_millis(300));
    let t0 = Instant::now();
    let e = store(&cache, 2, 1).unwrap_err();
    let waited = t0.elapsed();
    assert_eq!(e.minor, minor::RC_IO, "{e:?}");
    assert!(e.detail.contains("within 200 ms"), "{}", e.detail);
    assert!(waited < Duration::from_millis(1000), "waited {waited:?}");
    sleeper.join().unwrap();
    // The timed-out connection was dropped: the next answers belong to the next commands.
    for i in 10..20 {
        store(&cache, 2, i).unwrap();
        assert_replay(store(&cache, 2, i));
    }
}

#[test]
fn bad_configuration_is_an_error_when_set() {
    let r = Redis::start("redis-config", &["--password", "right"]);
    let p = r.port;
    let cases: [(String, i32, &str); 5] = [
        (
            format!("redis://:wrong@127.0.0.1:{p}"),
            minor::RC_IO_PERM,
            "refused the user name or password",
        ),
        (
            format!("redis://127.0.0.1:{p}"),
            minor::RC_IO_PERM,
            "NOAUTH",
        ),
        (
            format!("redis://:right@127.0.0.1:{p}/99"),
            minor::RC_IO,
            "DB index",
        ),
        (
            format!("redis://:right@127.0.0.1:{p}?prefix=a&bogus=1"),
            RC_PARSE,
            "\"bogus\"",
        ),
        (
            format!("rediss+cluster://:right@127.0.0.1:{p}"),
            RC_TYPE_NOTFOUND,
            "TLS",
        ),
    ];
    for (name, want, text) in &cases {
        let e = ReplayCache::from_name(name).unwrap_err();
        assert_eq!((e.major, e.minor), (major::FAILURE, *want), "{name}: {e:?}");
        assert!(e.detail.contains(text), "{name}: {}", e.detail);
        assert!(!e.detail.contains("right") && !e.detail.contains("wrong"));
    }
    // An ACL user.
    assert_eq!(
        r.cli(&["ACL", "SETUSER", "app", "on", ">apppw", "~*", "+@all"]),
        "OK"
    );
    let good = open(&format!("redis://app:apppw@127.0.0.1:{p}/3"));
    store(&good, 3, 1).unwrap();
    let e = ReplayCache::from_name(&format!("redis://app:nope@127.0.0.1:{p}/3")).unwrap_err();
    assert_eq!(e.minor, minor::RC_IO_PERM, "{e:?}");
    // The least a farm's user needs (README): SET on its prefix, PING.
    assert_eq!(
        r.cli(&[
            "ACL",
            "SETUSER",
            "rc",
            "on",
            ">rcpw",
            "~krbap:rc:*",
            "+set",
            "+ping"
        ]),
        "OK"
    );
    let least = open(&format!("redis://rc:rcpw@127.0.0.1:{p}"));
    store(&least, 3, 3).unwrap();
    assert_replay(store(&least, 3, 3));
    // A user Redis lets in but not write: each accept fails closed, KRB5_RC_IO_PERM.
    assert_eq!(
        r.cli(&["ACL", "SETUSER", "ro", "on", ">ropw", "~*", "+ping", "+get"]),
        "OK"
    );
    let read_only = open(&format!("redis://ro:ropw@127.0.0.1:{p}"));
    let e = store(&read_only, 3, 4).unwrap_err();
    assert_eq!(e.minor, minor::RC_IO_PERM, "{e:?}");
    assert!(
        e.detail.contains("SET: the Redis user may not do this"),
        "{}",
        e.detail
    );
    // Nobody listening: not a configuration error (Redis may come up later), but every
    // accept fails closed naming the server until it does.
    let r2 = Redis::start("redis-config-2", &[]);
    let port2 = r2.port;
    drop(r2);
    let later = open(&format!("redis://127.0.0.1:{port2}"));
    let e = store(&later, 3, 2).unwrap_err();
    assert_eq!(e.minor, minor::RC_IO);
    assert!(
        e.detail.contains(&format!("127.0.0.1:{port2}")),
        "{}",
        e.detail
    );
}

#[test]
fn unix_socket() {
    let r = Redis::start("redis-unix", &["--unix", "--password", "pw&1"]);
    let sock = r.sock.clone().unwrap();
    let cache = open(&format!(
        "redis+unix://{sock}?db=5&password=pw%261&prefix=u:"
    ));
    for i in 0..50 {
        store(&cache, 5, i).unwrap();
        assert_replay(store(&cache, 5, i));
    }
    assert_eq!(r.cli(&["-n", "5", "DBSIZE"]), "50");
    let e = ReplayCache::from_name(&format!("redis+unix://{sock}?password=bad")).unwrap_err();
    assert_eq!(e.minor, minor::RC_IO_PERM, "{e:?}");
}

#[test]
fn redis_cluster_spreads_keys_and_follows_redirections() {
    let r = Redis::cluster("redis-cluster", "cpw");
    assert_eq!(r.cluster_ports.len(), 3);
    // A wrong password is seen when the cache is set; seeds nobody answers on are not an
    // error then, but every accept fails closed.
    let e = ReplayCache::from_name(&format!(
        "redis+cluster://:wrong@127.0.0.1:{}",
        r.cluster_ports[0]
    ))
    .unwrap_err();
    assert_eq!(e.minor, minor::RC_IO_PERM, "{e:?}");
    let nobody = open("redis+cluster://:cpw@127.0.0.1:1,127.0.0.1:2?timeout_ms=300");
    let e = store(&nobody, 7, 0).unwrap_err();
    assert_eq!(e.minor, minor::RC_IO, "{e:?}");
    assert!(
        e.detail.contains("cluster 127.0.0.1:1,127.0.0.1:2"),
        "{}",
        e.detail
    );
    // One seed node is enough: the client learns the slot map and follows MOVED.
    let name = format!(
        "redis+cluster://:cpw@127.0.0.1:{}?prefix=c:&timeout_ms=2000",
        r.cluster_ports[1]
    );
    let caches = Arc::new([open(&name), open(&name)]);
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let caches = caches.clone();
            std::thread::spawn(move || {
                let mut accepted = 0;
                for i in 0..150 {
                    match store(&caches[t % 2], 7, i) {
                        Ok(()) => accepted += 1,
                        Err(e) if e.minor == minor::AP_ERR_REPEAT => {}
                        Err(e) => panic!("{e:?}"),
                    }
                }
                accepted
            })
        })
        .collect();
    let accepted: u32 = threads.into_iter().map(|t| t.join().unwrap()).sum();
    assert_eq!(accepted, 150);
    let mut total = 0;
    for p in &r.cluster_ports {
        let n: u32 = r.cli_port(*p, &["DBSIZE"]).parse().unwrap();
        assert!(n > 10, "node {p} holds {n} keys");
        total += n;
    }
    assert_eq!(total, 150);
    // A node down: keys of its slots fail closed, naming the cluster.
    let victim = r.cluster_ports[2];
    let pid = std::fs::read_to_string(r.dir.path(&format!("pid-{victim}"))).unwrap();
    assert!(Command::new("kill")
        .args(["-KILL", pid.trim()])
        .status()
        .unwrap()
        .success());
    let cache = open(&name);
    let mut failed = 0;
    for i in 0..60 {
        match store(&cache, 8, i) {
            Ok(()) => {}
            Err(e) => {
                assert_eq!(e.minor, minor::RC_IO, "{e:?}");
                assert!(e.detail.contains("cluster 127.0.0.1:"), "{}", e.detail);
                failed += 1;
            }
        }
    }
    // Its share of the slots at least (all of them once the others see the cluster down).
    assert!(failed > 0, "no store failed with a third of the slots gone");
}

// --- TLS (rediss:) ---

fn tls(r: &Redis) -> &Tls {
    r.tls.as_ref().expect("a --tls server")
}

/// A `redis:` cache made without the check `ReplayCache::from_name` does when the cache is
/// set: what an acceptor has when its Redis was down then, or changed since.
fn unprobed(name: &str) -> ReplayCache {
    let config = krbap::rcache::RedisConfig::parse(name).unwrap();
    ReplayCache::Redis(Box::new(
        krbap::rcache::RedisReplayCache::from_config(config).unwrap(),
    ))
}

#[test]
fn tls_one_decision_for_two_caches() {
    let r = Redis::start("redis-tls-share", &["--tls", "--password", "tls pw"]);
    let t = tls(&r);
    let name = format!(
        "rediss://:tls%20pw@127.0.0.1:{}/1?prefix=tls:&ca={}",
        r.port, t.ca
    );
    // By IP address and by host name (the certificate names both).
    let by_name = format!(
        "rediss://:tls%20pw@localhost:{}/1?prefix=tls:&ca={}",
        r.port, t.ca
    );
    let caches = [open(&name), open(&by_name)];
    for i in 0..50 {
        store(&caches[i as usize % 2], 20, i).unwrap();
        assert_replay(store(&caches[(i as usize + 1) % 2], 20, i));
        assert_replay(store(&caches[i as usize % 2], 20, i));
    }
    assert_eq!(r.cli(&["-n", "1", "DBSIZE"]), "50");
    // Pooled over TLS too: one connection each (plus the check when set).
    for c in &caches {
        let ReplayCache::Redis(rc) = c else {
            unreachable!()
        };
        assert!(rc.connections_opened() <= 2, "{}", rc.connections_opened());
    }
    let shown = caches[0].name();
    assert_eq!(
        shown,
        format!(
            "rediss://:***@127.0.0.1:{}/1?prefix=tls:&timeout_ms=500&ca={}",
            r.port, t.ca
        )
    );
    // A client certificate the server does not require is presented and accepted.
    let with_cert = open(&format!(
        "rediss://:tls%20pw@127.0.0.1:{}/1?prefix=tls:&ca={}&cert={}&key={}",
        r.port, t.ca, t.cert, t.key
    ));
    assert_replay(store(&with_cert, 20, 0));
    store(&with_cert, 20, 1000).unwrap();
}

#[test]
fn tls_accepts_share_one_decision() {
    let r = Redis::start("redis-tls-accept", &["--tls"]);
    let name = format!(
        "rediss://127.0.0.1:{}?prefix=tlsaccept:&ca={}",
        r.port,
        tls(&r).ca
    );
    share_one_decision(&name, 10, &format!("127.0.0.1:{} db 0 over TLS", r.port));
    assert_eq!(r.cli(&["DBSIZE"]), "10");
}

#[test]
fn tls_client_certificate_required() {
    let r = Redis::start("redis-tls-mtls", &["--tls", "--tls-auth-clients", "yes"]);
    let t = tls(&r);
    let without = format!("rediss://127.0.0.1:{}?ca={}", r.port, t.ca);
    // Seen when the cache is set...
    let e = ReplayCache::from_name(&without).unwrap_err();
    assert_eq!(
        (e.major, e.minor),
        (major::FAILURE, minor::RC_IO_PERM),
        "{e:?}"
    );
    assert!(
        e.detail.contains("requires a client certificate") && e.detail.contains("cert="),
        "{}",
        e.detail
    );
    // ...and at each accept by a cache set before (fails closed).
    let cache = unprobed(&without);
    let ac = AcceptorCredential::from_keys(None, vec![service_key()]);
    ac.set_replay_cache(unprobed(&without));
    let tok = token(&initiator());
    let f = SecurityContext::accept(&ac, &tok, None).unwrap_err();
    assert_eq!(f.error.minor, minor::RC_IO_PERM, "{:?}", f.error);
    assert!(
        f.error
            .detail
            .contains(&format!("127.0.0.1:{} db 0 over TLS", r.port))
            && f.error.detail.contains("requires a client certificate")
            && f.error.detail.contains("the accept is refused"),
        "{}",
        f.error.detail
    );
    let e = store(&cache, 21, 0).unwrap_err();
    assert_eq!(e.minor, minor::RC_IO_PERM, "{e:?}");
    // With the client certificate.
    let with = format!(
        "rediss://127.0.0.1:{}?ca={}&cert={}&key={}",
        r.port, t.ca, t.cert, t.key
    );
    ac.set_replay_cache(open(&with));
    accepted_once(&ac, &tok);
}

#[test]
fn tls_server_certificate_must_verify() {
    let r = Redis::start("redis-tls-verify", &["--tls"]);
    let t = tls(&r);
    let p = r.port;
    let cases = [
        // A CA that did not sign the server's certificate.
        (
            format!("rediss://127.0.0.1:{p}?ca={}", t.other_ca),
            vec!["did not verify", "UnknownIssuer", &t.other_ca],
        ),
        // The system's roots do not know the throwaway CA.
        (
            format!("rediss://127.0.0.1:{p}"),
            vec!["did not verify", "system's CA certificates"],
        ),
        // The right CA, but a name the certificate does not have (127.0.0.2 reaches it).
        (
            format!("rediss://127.0.0.2:{p}?ca={}", t.ca),
            vec![
                "did not verify",
                "not valid for name \"127.0.0.2\"",
                "127.0.0.1",
            ],
        ),
    ];
    for (name, texts) in &cases {
        // When the cache is set.
        let e = ReplayCache::from_name(name).unwrap_err();
        assert_eq!(
            (e.major, e.minor),
            (major::FAILURE, minor::RC_IO),
            "{name}: {e:?}"
        );
        for text in texts {
            assert!(e.detail.contains(text), "{name}: {}", e.detail);
        }
        // At an accept, by a cache set while the server was not yet (or differently)
        // configured: refused, never accepted without a decision.
        let ac = AcceptorCredential::from_keys(None, vec![service_key()]);
        ac.set_replay_cache(unprobed(name));
        let f = SecurityContext::accept(&ac, &token(&initiator()), None).unwrap_err();
        assert_eq!(f.error.minor, minor::RC_IO, "{name}: {:?}", f.error);
        assert!(
            f.error.detail.contains("over TLS")
                && f.error
                    .detail
                    .contains("the server's TLS certificate did not verify")
                && f.error.detail.contains("the accept is refused"),
            "{name}: {}",
            f.error.detail
        );
    }
    // A rediss: name for a port without TLS: Redis waits for the end of a line that never
    // comes, so the handshake times out (fails closed, as a server that does not answer).
    let plain = Redis::start("redis-tls-plain", &[]);
    let cache = open(&format!(
        "rediss://127.0.0.1:{}?ca={}&timeout_ms=200",
        plain.port, t.ca
    ));
    let e = store(&cache, 23, 0).unwrap_err();
    assert_eq!(e.minor, minor::RC_IO, "{e:?}");
    assert!(
        e.detail.contains("over TLS")
            && e.detail.contains("within 200 ms")
            && e.detail.contains("a port without TLS looks the same")
            && e.detail.contains("tls-port"),
        "{}",
        e.detail
    );
}

#[test]
fn tls_fails_closed_while_redis_is_down_and_resumes_after_restart() {
    let r = Redis::start("redis-tls-down", &["--tls"]);
    let name = format!(
        "rediss://127.0.0.1:{}?timeout_ms=1000&ca={}",
        r.port,
        tls(&r).ca
    );
    let cache = open(&name);
    store(&cache, 22, 1).unwrap();
    r.down();
    for i in 0..3 {
        let e = store(&cache, 22, 100 + i).unwrap_err();
        assert_eq!((e.major, e.minor), (major::FAILURE, minor::RC_IO), "{e:?}");
        assert!(
            e.detail
                .contains(&format!("127.0.0.1:{} db 0 over TLS", r.port))
                && e.detail.contains("refused"),
            "{}",
            e.detail
        );
    }
    r.up();
    store(&cache, 22, 2).unwrap();
    assert_replay(store(&cache, 22, 2));
    // A restart between two accepts: the dead pooled TLS connection is replaced at once.
    r.down();
    r.up();
    store(&cache, 22, 3).unwrap();
    assert_replay(store(&cache, 22, 3));
    // Nobody listening when the cache is set: not an error then, accepts fail closed.
    r.down();
    let later = open(&name);
    assert_eq!(store(&later, 22, 4).unwrap_err().minor, minor::RC_IO);
    r.up();
    store(&later, 22, 4).unwrap();
}

#[test]
fn tls_bad_names_and_files() {
    let r = Redis::start("redis-tls-names", &["--tls"]);
    let t = tls(&r);
    let p = r.port;
    let junk = r.dir.path("junk.pem");
    std::fs::write(&junk, "not a PEM file\n").unwrap();
    let junk = junk.to_str().unwrap().to_string();
    let missing = r.dir.path("missing.pem").to_str().unwrap().to_string();
    let other_key = r.dir.path("server.key").to_str().unwrap().to_string();
    let cases: Vec<(String, &str)> = vec![
        (
            format!("rediss://127.0.0.1:{p}?cert={}", t.cert),
            "cert= without key=",
        ),
        (
            format!("rediss://127.0.0.1:{p}?key={}", t.key),
            "key= without cert=",
        ),
        (format!("rediss://127.0.0.1:{p}?ca="), "empty ca="),
        (format!("rediss://127.0.0.1:{p}?ca=ca.crt"), "absolute path"),
        (
            format!("rediss://127.0.0.1:{p}?ca={}&ca={}", t.ca, t.ca),
            "given twice",
        ),
        (
            format!("rediss://127.0.0.1:{p}?insecure=1"),
            "unknown parameter \"insecure\"",
        ),
        (
            format!("redis://127.0.0.1:{p}?ca={}", t.ca),
            "only a rediss:// name",
        ),
        (
            format!("redis+unix:///tmp/r.sock?cert={}", t.cert),
            "only a rediss:// name",
        ),
        (
            format!("rediss://127.0.0.1:{p}?ca={missing}"),
            "cannot be read",
        ),
        (
            format!("rediss://127.0.0.1:{p}?ca={}", r.dir.0.display()),
            "cannot be read",
        ),
        (
            format!("rediss://127.0.0.1:{p}?ca={junk}"),
            "holds no certificate",
        ),
        (
            format!("rediss://127.0.0.1:{p}?ca={}", t.key),
            "holds no certificate",
        ),
        (
            format!(
                "rediss://127.0.0.1:{p}?ca={}&cert={}&key={}",
                t.ca, t.cert, t.cert
            ),
            "holds no private key",
        ),
        (
            format!(
                "rediss://127.0.0.1:{p}?ca={}&cert={}&key={other_key}",
                t.ca, t.cert
            ),
            "cannot be used together",
        ),
    ];
    for (name, text) in &cases {
        let e = ReplayCache::from_name(name).unwrap_err();
        assert_eq!(
            (e.major, e.minor),
            (major::FAILURE, RC_PARSE),
            "{name}: {e:?}"
        );
        assert!(e.detail.contains(text), "{name}: {}", e.detail);
    }
    // The file problems name the file.
    for (file, name) in [
        (&missing, format!("rediss://127.0.0.1:{p}?ca={missing}")),
        (&junk, format!("rediss://127.0.0.1:{p}?ca={junk}")),
    ] {
        let e = ReplayCache::from_name(&name).unwrap_err();
        assert!(e.detail.contains(file.as_str()), "{}", e.detail);
    }
    let e = ReplayCache::from_name(&format!("rediss+cluster://127.0.0.1:{p}")).unwrap_err();
    assert_eq!(e.minor, RC_TYPE_NOTFOUND, "{e:?}");
}
