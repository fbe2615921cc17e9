//! The memory replay cache under sustained load and under abuse (issue #19), through the whole
//! accept path: krbap's initiator mints fresh authenticators from one ticket (alice's captured
//! ticket for test/localhost) and the acceptor accepts them. One test function, so that this
//! process's RSS is the test's own; the acceptor's and initiator's clocks run together from
//! the capture time, a second per real second.
//!
//! 1. Soak (40 s after a 6 s warm-up without a replay cache): two threads at full speed, skew
//!    5 s, so that a generation (1 s of client time) expires every second. While it runs:
//!    - the cache holds what the skew check can still let through: its entry count follows
//!      the stores of the last skew + 1 seconds of client time (within 10 %);
//!    - the RSS plateaus at the predicted size, within ±20 %: the design's 20.5 bytes per entry
//!      of each complete generation (16-byte digests at 71-85 % load), the table of the
//!      generation being filled (at least 50 % of the one before, at 85 % load), and a fixed
//!      256 KiB; the cache's own byte count stays under 32 bytes per entry;
//!    - sampled tokens offered again are refused as replays while `now ≤ ctime + skew`, and
//!      afterwards only by the skew check: the cache has let them go (offering the same tag
//!      to the cache directly stores it as new).
//! 2. Abuse (15 s): one client minting authenticators as fast as it can against a cache
//!    capped at about half of what it would need: the cache's bytes never pass the cap and the
//!    RSS stays under it; the acceptor fails closed with FAILURE / KRB5_RC_MALLOC (counted in
//!    the stats) while stored tokens stay refused as replays; accepts resume each time a
//!    generation expires; once the client stops, everything drains and a token is accepted.

mod common;

use common::{capture_acceptor, capture_initiator, capture_time};
use krbap::asn1::{ApReq, Der};
use krbap::cred::{AcceptorCredential, InitiatorCredential};
use krbap::crypto::Enctype;
use krbap::error::{major, minor};
use krbap::gss::context::{InitOptions, SecurityContext};
use krbap::gss::name::{Name, NameType};
use krbap::gss::token::unframe;
use krbap::principal::Principal;
use krbap::rcache::{AuthenticatorId, ReplayCache};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const SKEW: i64 = 5;
/// Seconds of client time counted per slot of [`PerSecond`].
const SLOTS: usize = 4096;
/// The design's bytes per entry of a generation that is complete: 16-byte digests in tables
/// whose load stays within 71-85 % (grown by 19 % at 85 %): 16 / 0.78 ≈ 20.5 bytes.
const MODEL_BYTES_PER_ENTRY: f64 = 16.0 / 0.78;
/// The generation being filled already has a table for at least 50 % of the smaller of the two
/// before it, at 85 % load.
const MODEL_BYTES_PER_FILLING_ENTRY: f64 = 16.0 / 0.85;
/// What the cache costs beyond its tables, measured once: the allocator's pages left over from
/// the first seconds, when the tables start small and grow (≈ 200 KiB).
const MODEL_FIXED_BYTES: f64 = 256.0 * 1024.0;
/// Slack per table for the cache's own byte count (small tables, the spare of each shard).
const SLACK_BYTES_PER_TABLE: f64 = 4096.0;
const SHARDS: f64 = 16.0;

fn rss() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: u64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    // SAFETY: sysconf has no preconditions.
    pages * unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as u64
}

fn mib(b: f64) -> String {
    format!("{:.2} MiB", b / (1024.0 * 1024.0))
}

/// Stores per second of client time.
struct PerSecond {
    t0: i64,
    counts: Vec<AtomicU64>,
}

impl PerSecond {
    fn new(t0: i64) -> PerSecond {
        PerSecond {
            t0,
            counts: (0..SLOTS).map(|_| AtomicU64::new(0)).collect(),
        }
    }
    fn add(&self, ctime: i64) {
        self.counts[(ctime - self.t0) as usize % SLOTS].fetch_add(1, Ordering::Relaxed);
    }
    /// Stores with a client time in `from..=to`.
    fn sum(&self, from: i64, to: i64) -> u64 {
        (from..=to)
            .filter(|&c| c >= self.t0)
            .map(|c| self.counts[(c - self.t0) as usize % SLOTS].load(Ordering::Relaxed))
            .sum()
    }
}

/// A token kept to be offered again, with its client time and its replay tag.
struct Sample {
    token: Vec<u8>,
    ctime: i64,
    cipher: Vec<u8>,
    mac_len: usize,
    seen_within: bool,
}

struct World {
    ic: InitiatorCredential,
    ac: AcceptorCredential,
    target: Name,
    t0: i64,
    start: Instant,
}

impl World {
    fn now(&self) -> i64 {
        self.ac.clock.now().0
    }

    /// Moves both clocks to the capture time plus the whole seconds elapsed.
    fn tick(&self) -> i64 {
        let now = self.t0 + self.start.elapsed().as_secs() as i64;
        self.ic.clock.set_fixed(Some(now));
        self.ac.clock.set_fixed(Some(now));
        now
    }

    /// One fresh authenticator: (token, its client time when unambiguous).
    fn mint(&self) -> (Vec<u8>, Option<i64>) {
        let opts = InitOptions {
            req_flags: 0,
            channel_bindings: None,
        };
        let before = self.ic.clock.now().0;
        let (_, token) = SecurityContext::initiate(&self.ic, &self.target, &opts).unwrap();
        let after = self.ic.clock.now().0;
        (token, (before == after).then_some(before))
    }
}

fn sample(token: Vec<u8>, ctime: i64) -> Sample {
    let (_, inner) = unframe(&token).unwrap();
    let ap = ApReq::from_der(inner).unwrap();
    let mac_len = Enctype::from_number(ap.authenticator.etype)
        .unwrap()
        .mac_len();
    Sample {
        cipher: ap.authenticator.cipher.clone(),
        token,
        ctime,
        mac_len,
        seen_within: false,
    }
}

#[derive(Default)]
struct Tally {
    accepted: u64,
    full: u64,
    other: Vec<String>,
}

/// Mints and accepts until `stop`; keeps every `every`th token (with a known client time).
fn run(
    w: &World,
    stop: &AtomicBool,
    per: &PerSecond,
    keep: &Mutex<Vec<Sample>>,
    every: u64,
) -> Tally {
    let mut t = Tally::default();
    let mut n = 0u64;
    while !stop.load(Ordering::Relaxed) {
        let (token, ctime) = w.mint();
        n += 1;
        match SecurityContext::accept(&w.ac, &token, None) {
            Ok(_) => {
                t.accepted += 1;
                if let Some(c) = ctime {
                    per.add(c);
                    if n.is_multiple_of(every) {
                        keep.lock().unwrap().push(sample(token, c));
                    }
                } else {
                    per.add(w.now());
                }
            }
            Err(f) if f.error.minor == minor::RC_MALLOC => {
                assert_eq!(f.error.major, major::FAILURE, "{:?}", f.error);
                t.full += 1;
            }
            Err(f) => {
                if t.other.len() < 5 {
                    t.other.push(format!(
                        "{:#x}/{}: {}",
                        f.error.major, f.error.minor, f.error.detail
                    ));
                }
            }
        }
    }
    t
}

/// Offers the kept tokens again: within the window they must be refused as replays; after it
/// only by the skew check, and the cache must have dropped them. Returns problems found.
/// `checked`: replays refused within the window, tokens let go after it, and how many of
/// the latter the cache itself refused to store again at its cap (those count in its
/// `rejected_full` too).
fn check_samples(
    w: &World,
    keep: &Mutex<Vec<Sample>>,
    checked: &mut (u64, u64, u64),
) -> Vec<String> {
    let anyone = Principal::parse("alice@TEST.LOCAL", None).unwrap();
    let mut problems = Vec::new();
    let mut samples = keep.lock().unwrap();
    let now = w.now();
    samples.retain_mut(|s| {
        let e = SecurityContext::accept(&w.ac, &s.token, None)
            .err()
            .map(|f| f.error);
        let now_after = w.now();
        if now_after != now {
            return true; // the clock moved while checking: look again next time
        }
        if now <= s.ctime + SKEW {
            match e {
                Some(e) if e.minor == minor::AP_ERR_REPEAT => {
                    s.seen_within = true;
                    checked.0 += 1;
                }
                other => problems.push(format!(
                    "ctime {} at {now}: not refused as a replay: {other:?}",
                    s.ctime
                )),
            }
            true
        } else {
            match e {
                Some(e) if e.minor == minor::AP_ERR_SKEW => {}
                other => problems.push(format!(
                    "ctime {} at {now}: expected the skew error: {other:?}",
                    s.ctime
                )),
            }
            // The cache itself no longer knows the tag (at the cap it may refuse to store it
            // again, but not call it a replay).
            let rc = w.ac.replay_cache();
            // The memory cache files by the client time alone (the names are redis:'s).
            let id = AuthenticatorId {
                server: &anyone,
                client: &anyone,
                ctime: s.ctime,
                cusec: 0,
            };
            match rc.check_and_store_authenticator(&s.cipher, s.mac_len, &id, now, SKEW) {
                Err(e) if e.minor == minor::AP_ERR_REPEAT => problems.push(format!(
                    "ctime {} at {now}: the cache still has it: {e:?}",
                    s.ctime
                )),
                Err(e) if e.minor == minor::RC_MALLOC => checked.2 += 1,
                _ => {}
            }
            checked.1 += 1;
            false
        }
    });
    problems
}

#[test]
fn soak_and_abuse() {
    let t0 = capture_time("mutual");
    let w = Arc::new(World {
        ic: capture_initiator(t0),
        ac: capture_acceptor(t0),
        target: Name::import(b"test@localhost", NameType::HostbasedService, None).unwrap(),
        t0,
        start: Instant::now(),
    });
    w.ac.set_clock_skew(SKEW).unwrap();
    let ticker_stop = Arc::new(AtomicBool::new(false));
    let ticker = {
        let (w, stop) = (w.clone(), ticker_stop.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                w.tick();
                std::thread::sleep(Duration::from_millis(10));
            }
        })
    };
    w.tick();
    soak(&w);
    abuse(&w);
    ticker_stop.store(true, Ordering::Relaxed);
    ticker.join().unwrap();
}

fn soak(w: &Arc<World>) {
    let per = Arc::new(PerSecond::new(w.t0));
    let keep = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let spawn = |every: u64| {
        let (w, stop, per, keep) = (w.clone(), stop.clone(), per.clone(), keep.clone());
        std::thread::spawn(move || run(&w, &stop, &per, &keep, every))
    };
    // Warm-up without a replay cache, the same threads, samples and checks: the allocator
    // settles at the size of everything but the cache (no sample is refused: no cache).
    w.ac.set_replay_cache(ReplayCache::none());
    let workers = [spawn(1_500), spawn(1_500)];
    let warm_until = Instant::now() + Duration::from_secs(6);
    let mut baseline = 0;
    let mut ignored = (0, 0, 0);
    while Instant::now() < warm_until {
        std::thread::sleep(Duration::from_millis(250));
        let _ = check_samples(w, &keep, &mut ignored);
        if warm_until - Instant::now() < Duration::from_secs(2) {
            baseline = baseline.max(rss());
        }
    }
    stop.store(true, Ordering::Relaxed);
    for h in workers {
        let t = h.join().unwrap();
        assert!(t.other.is_empty(), "warm-up: {:?}", t.other);
    }
    keep.lock().unwrap().clear();

    w.ac.set_replay_cache(ReplayCache::memory_with_max_bytes(1 << 30));
    let rc = w.ac.replay_cache();
    stop.store(false, Ordering::Relaxed);
    let started = w.now();
    let workers = [spawn(1_500), spawn(1_500)];
    let mut checked = (0u64, 0u64, 0u64);
    let mut problems = Vec::new();
    let mut rows = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(40);
    while Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(250));
        problems.extend(check_samples(w, &keep, &mut checked));
        let now = w.now();
        let st = rc.stats().unwrap();
        let expected = per.sum(now - SKEW, now + 1) as f64;
        let n = |c: i64| per.sum(c, c) as f64;
        let complete: f64 = (now - SKEW..now).map(n).sum();
        let filling = (0.5 * n(now - 1).min(n(now - 2))).max(n(now)) + n(now + 1);
        let predicted = MODEL_FIXED_BYTES
            + complete * MODEL_BYTES_PER_ENTRY
            + filling * MODEL_BYTES_PER_FILLING_ENTRY;
        let delta = rss().saturating_sub(baseline) as f64;
        rows.push((now - started, delta, st, expected, predicted));
    }
    stop.store(true, Ordering::Relaxed);
    let mut accepted = 0;
    for h in workers {
        let t = h.join().unwrap();
        assert!(t.other.is_empty() && t.full == 0, "soak: {:?}", t.other);
        accepted += t.accepted;
    }
    assert!(problems.is_empty(), "replays: {}", problems.join("\n"));

    // The plateau: from 10 s on (after the first skew + 1 s of generations came and went).
    let plateau: Vec<_> = rows.iter().filter(|r| r.0 >= 10).collect();
    let mut ratios = Vec::new();
    let mut worst_entries: f64 = 0.0;
    for (at, delta, st, expected, predicted) in &plateau {
        let tables = (SKEW as f64 + 3.0) * SHARDS;
        ratios.push(delta / predicted);
        worst_entries = worst_entries.max((st.entries as f64 - expected).abs() / expected);
        assert!(
            st.bytes as f64 <= 32.0 * st.entries as f64 + tables * SLACK_BYTES_PER_TABLE,
            "at {at} s: {} bytes for {} entries",
            st.bytes,
            st.entries
        );
    }
    ratios.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let median = ratios[ratios.len() / 2];
    let last = plateau.last().unwrap();
    println!(
        "soak: {accepted} accepts in 40 s ({:.0}/s), {} generations expired; plateau: {:.0} entries, \
         cache {}, RSS +{} (baseline {}), predicted {} ; RSS/predicted median {median:.2} \
         (min {:.2}, max {:.2}); entries within {:.1} % of the stores of the last {} s; \
         replays refused within the window {}, let go after it {}",
        accepted as f64 / 40.0,
        last.0 - SKEW,
        last.2.entries as f64,
        mib(last.2.bytes as f64),
        mib(last.1),
        mib(baseline as f64),
        mib(last.4),
        ratios[0],
        ratios[ratios.len() - 1],
        worst_entries * 100.0,
        SKEW + 1,
        checked.0,
        checked.1,
    );
    assert!(
        worst_entries <= 0.10,
        "entries off the windowed store count by {worst_entries:.3}"
    );
    assert!(
        (0.8..=1.2).contains(&median),
        "RSS/predicted median {median:.2}"
    );
    assert!(
        checked.0 >= 20 && checked.1 >= 20,
        "too few replay checks: {checked:?}"
    );
}

fn abuse(w: &Arc<World>) {
    // One client: measure its rate without a cache, then cap the cache at about half of what
    // that rate needs (it would hold rate × (skew + 1) entries of ~21 bytes).
    w.ac.set_replay_cache(ReplayCache::none());
    let per = Arc::new(PerSecond::new(w.t0));
    let keep = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let spawn = |every: u64| {
        let (w, stop, per, keep) = (w.clone(), stop.clone(), per.clone(), keep.clone());
        std::thread::spawn(move || run(&w, &stop, &per, &keep, every))
    };
    let h = spawn(u64::MAX);
    std::thread::sleep(Duration::from_secs(2));
    stop.store(true, Ordering::Relaxed);
    let rate = h.join().unwrap().accepted as f64 / 2.0;
    let cap = ((rate * (SKEW as f64 + 1.0) * 21.0 / 2.0) as usize).max(1 << 20);
    let baseline = rss();

    w.ac.set_replay_cache(ReplayCache::memory_with_max_bytes(cap));
    let rc = w.ac.replay_cache();
    stop.store(false, Ordering::Relaxed);
    let started = w.now();
    let h = spawn(500);
    let mut over_cap = Vec::new();
    let mut max_rss_delta = 0u64;
    let mut checked = (0u64, 0u64, 0u64);
    let mut problems = Vec::new();
    let mut seconds_with_accepts = std::collections::BTreeSet::new();
    let mut first_full = None;
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
        let st = rc.stats().unwrap();
        if st.bytes > cap as u64 {
            over_cap.push(st.bytes);
        }
        max_rss_delta = max_rss_delta.max(rss().saturating_sub(baseline));
        let now = w.now();
        if st.rejected_full > 0 && first_full.is_none() {
            first_full = Some(now);
        }
        if per.sum(now, now) > 0 {
            seconds_with_accepts.insert(now);
        }
        problems.extend(check_samples(w, &keep, &mut checked));
    }
    stop.store(true, Ordering::Relaxed);
    let t = h.join().unwrap();
    let st = rc.stats().unwrap();
    let first_full = first_full.expect("the cap was reached");
    let resumed = seconds_with_accepts
        .iter()
        .filter(|&&s| s > first_full + 1)
        .count();
    let after = w.now() - first_full - 1;
    println!(
        "abuse: one client at {rate:.0}/s against a cap of {}: {} accepted, {} refused at the cap \
         (FAILURE / KRB5_RC_MALLOC, first at {} s), cache at most {}, RSS +{} at most; accepts in \
         {resumed} of the {after} seconds after the cap was first hit; replays refused within the \
         window {}, let go after it {}",
        mib(cap as f64),
        t.accepted,
        t.full,
        first_full - started,
        mib(st.bytes.max(over_cap.iter().copied().max().unwrap_or(0)) as f64),
        mib(max_rss_delta as f64),
        checked.0,
        checked.1,
    );
    assert!(t.other.is_empty(), "abuse: other failures {:?}", t.other);
    assert!(
        over_cap.is_empty(),
        "bytes over the cap of {cap}: {over_cap:?}"
    );
    assert!(
        t.full > 0 && st.rejected_full == t.full + checked.2,
        "{} refusals to the client and {} to the checks, stats {st:?}",
        t.full,
        checked.2
    );
    assert!(problems.is_empty(), "replays: {}", problems.join("\n"));
    assert!(
        checked.0 >= 5,
        "too few replay checks within the window: {checked:?}"
    );
    assert!(
        resumed as i64 * 2 >= after,
        "accepts resumed in only {resumed} of {after} seconds"
    );
    assert!(
        (max_rss_delta as f64) <= cap as f64 * 1.2 + (2 << 20) as f64,
        "RSS grew by {max_rss_delta} with a cap of {cap}"
    );

    // The client stops: after skew + 2 s everything has expired and a token is accepted.
    let quiet = w.now();
    while w.now() <= quiet + SKEW + 1 {
        std::thread::sleep(Duration::from_millis(100));
    }
    let (token, _) = w.mint();
    SecurityContext::accept(&w.ac, &token, None).expect("accepted after the flood expired");
    let st = rc.stats().unwrap();
    assert_eq!(st.entries, 1, "{st:?}");
}
