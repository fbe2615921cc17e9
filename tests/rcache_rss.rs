//! Issue #19's measure of the memory replay cache's cost: one process initiating and accepting
//! 1 000 000 distinct tokens with the default memory cache (300 s skew, the clocks running with
//! real time from the capture time), RSS before and after; prints the growth per token. Run by
//! hand, it takes about a minute: `cargo test --release --test rcache_rss -- --ignored
//! --nocapture` (README "Replay caches" has the numbers before and after issue #19).

mod common;

use common::{capture_acceptor, capture_initiator, capture_time};
use krbap::gss::context::{InitOptions, SecurityContext};
use krbap::gss::name::{Name, NameType};
use krbap::rcache::ReplayCache;
use std::time::Instant;

fn rss() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: u64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    // SAFETY: sysconf has no preconditions.
    pages * unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as u64
}

#[test]
#[ignore]
fn million_tokens_rss() {
    let t0 = capture_time("mutual");
    let ic = capture_initiator(t0);
    let ac = capture_acceptor(t0);
    let target = Name::import(b"test@localhost", NameType::HostbasedService, None).unwrap();
    let opts = InitOptions {
        req_flags: 0,
        channel_bindings: None,
    };
    let start = Instant::now();
    let round = |n: u32| {
        for i in 0..n {
            if i % 1024 == 0 {
                let now = t0 + start.elapsed().as_secs() as i64;
                ic.clock.set_fixed(Some(now));
                ac.clock.set_fixed(Some(now));
            }
            let (_, token) = SecurityContext::initiate(&ic, &target, &opts).unwrap();
            SecurityContext::accept(&ac, &token, None).unwrap();
        }
    };
    // Warm-up without a cache, so that the allocator has settled before the baseline.
    ac.set_replay_cache(ReplayCache::none());
    round(20_000);
    let before = rss();
    ac.set_replay_cache(ReplayCache::memory());
    let timer = Instant::now();
    round(1_000_000);
    let secs = timer.elapsed().as_secs_f64();
    let after = rss();
    println!(
        "1 000 000 tokens in {secs:.1} s: RSS {:.1} MB -> {:.1} MB, {:.1} bytes per token",
        before as f64 / 1e6,
        after as f64 / 1e6,
        (after.saturating_sub(before)) as f64 / 1e6
    );
}

/// A fixed workload to count instructions with (same before and after issue #19):
/// `valgrind --tool=callgrind --toggle-collect='*SecurityContext*6accept*' <test binary>
/// --ignored accepts_for_callgrind` counts the 20 000 accepts (default memory cache) only.
#[test]
#[ignore]
fn accepts_for_callgrind() {
    let t0 = capture_time("mutual");
    let ic = capture_initiator(t0);
    let ac = capture_acceptor(t0);
    let target = Name::import(b"test@localhost", NameType::HostbasedService, None).unwrap();
    let opts = InitOptions {
        req_flags: 0,
        channel_bindings: None,
    };
    ac.set_replay_cache(ReplayCache::memory());
    for i in 0..20_000i64 {
        // 1 000 accepts per second of the clocks.
        let now = t0 + i / 1_000;
        ic.clock.set_fixed(Some(now));
        ac.clock.set_fixed(Some(now));
        let (_, token) = SecurityContext::initiate(&ic, &target, &opts).unwrap();
        SecurityContext::accept(&ac, &token, None).unwrap();
    }
}
