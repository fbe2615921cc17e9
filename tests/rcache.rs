//! Replay cache tests: memory, none and MIT file2 (including interop with MIT krb5 1.20's own
//! acceptor through /usr/bin/python3 + python-gssapi).

mod common;

use common::{capture_time, TempDir};
use std::fs;
use std::hash::Hasher;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Barrier};

use krbap::error::{major, minor};
use krbap::principal::Principal;
use krbap::rcache::{AuthenticatorId, FileReplayCache, ReplayCache, RC_PARSE, RC_TYPE_NOTFOUND};
use siphasher::sip::SipHasher24;

const SKEW: i64 = 300;
const NOW: i64 = 1_795_697_147;

/// A stand-in authenticator ciphertext whose trailing `mac_len` bytes are `tag`.
fn ciphertext(tag: &[u8]) -> Vec<u8> {
    let mut c = vec![0x5a; 40];
    c.extend_from_slice(tag);
    c
}

/// A distinct 12-byte tag per (a, b).
fn tag12(a: u32, b: u32) -> [u8; 12] {
    let mut t = [0xc3; 12];
    t[..4].copy_from_slice(&a.to_be_bytes());
    t[4..8].copy_from_slice(&b.to_be_bytes());
    t
}

fn store(cache: &ReplayCache, tag: &[u8], now: i64) -> krbap::Result<()> {
    cache.check_and_store(&ciphertext(tag), tag.len(), now, SKEW)
}

fn assert_replay(r: krbap::Result<()>) {
    let e = r.expect_err("a replay must be refused");
    assert_eq!(e.minor, minor::AP_ERR_REPEAT, "{e:?}");
    assert!(major::is_error(e.major), "{e:?}");
    assert_eq!(e.major & major::DUPLICATE_TOKEN, major::DUPLICATE_TOKEN);
}

fn each_storing_cache(dir: &TempDir) -> Vec<ReplayCache> {
    vec![
        ReplayCache::memory(),
        ReplayCache::file2(dir.path("basic.rcache2")),
    ]
}

#[test]
fn fresh_tag_accepted_replay_refused() {
    let dir = TempDir::new("basic");
    for cache in each_storing_cache(&dir) {
        store(&cache, &tag12(1, 1), NOW).unwrap();
        assert_replay(store(&cache, &tag12(1, 1), NOW));
        assert_replay(store(&cache, &tag12(1, 1), NOW + 10));
        // Different tags, and tags of other lengths, do not collide.
        store(&cache, &tag12(1, 2), NOW).unwrap();
        store(&cache, &tag12(2, 1), NOW).unwrap();
        store(&cache, &[9u8; 24], NOW).unwrap();
        store(&cache, &[8u8; 16], NOW).unwrap();
        assert_replay(store(&cache, &[9u8; 24], NOW));
        assert_replay(store(&cache, &[8u8; 16], NOW));
        // A longer ciphertext with the same trailing MAC is the same authenticator.
        let mut longer = vec![1u8; 100];
        longer.extend_from_slice(&tag12(1, 2));
        assert_replay(cache.check_and_store(&longer, 12, NOW, SKEW));
    }
}

#[test]
fn memory_tag_is_the_full_mac() {
    let cache = ReplayCache::memory();
    // MACs equal in their first 12 bytes, or zero-padded equal, are still different tags
    // (the file2 format could not tell them apart).
    let mac24: Vec<u8> = (1..=24).collect();
    let mut other = mac24.clone();
    other[20] ^= 1;
    store(&cache, &mac24, NOW).unwrap();
    store(&cache, &other, NOW).unwrap();
    store(&cache, &[9u8; 12], NOW).unwrap();
    store(&cache, &[[9u8; 12].as_slice(), &[0u8; 4]].concat(), NOW).unwrap();
    assert_replay(store(&cache, &other, NOW));
}

#[test]
fn none_never_refuses() {
    let cache = ReplayCache::none();
    for _ in 0..3 {
        store(&cache, &tag12(7, 7), NOW).unwrap();
    }
    assert_eq!(cache.name(), "none:");
}

/// Through the interface without the authenticator's time (`check_and_store`), the memory
/// cache files a tag under the latest time it can carry, `now + skew`: it stays a replay for
/// at least 2 · skew, and is let go within one generation (skew / 8) after that.
#[test]
fn memory_entries_expire_after_twice_the_skew() {
    let cache = ReplayCache::memory();
    store(&cache, &tag12(3, 3), NOW).unwrap();
    // Still a replay while an authenticator sent with a clock `skew` ahead could be accepted.
    assert_replay(store(&cache, &tag12(3, 3), NOW + SKEW));
    assert_replay(store(&cache, &tag12(3, 3), NOW + 2 * SKEW));
    let gone = NOW + 2 * SKEW + SKEW / 8 + 1;
    store(&cache, &tag12(3, 3), gone).unwrap();
    assert_replay(store(&cache, &tag12(3, 3), gone));
}

/// The acceptor's interface: with the authenticator's time `ctime`, a replay is refused while
/// `now <= ctime + skew` (what the skew check lets through) and let go right after the
/// generation of `ctime` (skew / 8 seconds of client time) has passed that point.
#[test]
fn memory_entries_kept_while_the_skew_check_passes() {
    let cache = ReplayCache::memory();
    let c = &ciphertext(&tag12(4, 4));
    let ctime = NOW - 100;
    let server = Principal::parse("test/localhost@TEST.LOCAL", None).unwrap();
    let client = Principal::parse("alice@TEST.LOCAL", None).unwrap();
    let id = &AuthenticatorId {
        server: &server,
        client: &client,
        ctime,
        cusec: 0,
    };
    cache
        .check_and_store_authenticator(c, 12, id, NOW, SKEW)
        .unwrap();
    for now in [NOW, ctime + SKEW] {
        assert_replay(cache.check_and_store_authenticator(c, 12, id, now, SKEW));
    }
    let gone = ctime + SKEW + SKEW / 8 + 1;
    cache
        .check_and_store_authenticator(c, 12, id, gone, SKEW)
        .unwrap();
    let st = cache.stats().unwrap();
    assert_eq!((st.stored, st.replays, st.rejected_full), (2, 2, 0));
}

/// MIT's file2 format under a steady rate for ten times the skew (simulated time): the file
/// grows by tables (1023, 2048, 4096, ... slots) only while every slot on a tag's chain holds a
/// live record, reuses expired slots in place, and so starts no new table after about two
/// skews (it ends at the highest slot written, so it creeps up to the end of its last table);
/// every tag of the last skew is still refused at the end and the file is whole (16-byte
/// records after the 16-byte seed). krbap writes where MIT writes
/// (`file2_write_position_follows_mit`), so this is MIT's growth too.
#[test]
fn file2_long_run_stops_growing() {
    const RATE: u32 = 50;
    let dir = TempDir::new("longrun");
    let path = dir.path("long.rcache2");
    let cache = ReplayCache::file2(&path);
    let mut sizes = Vec::new();
    let seconds = 10 * SKEW as u32;
    for sec in 0..seconds {
        for i in 0..RATE {
            store(&cache, &tag12(sec, i), NOW + sec as i64).unwrap();
        }
        if (sec + 1) % SKEW as u32 == 0 {
            sizes.push(fs::metadata(&path).unwrap().len());
        }
    }
    let live = RATE as u64 * SKEW as u64;
    let size = *sizes.last().unwrap();
    println!(
        "file2 at {RATE}/s, skew {SKEW} s ({live} live records), size after each skew: {sizes:?};          {:.1} slots per live record",
        (size - 16) as f64 / 16.0 / live as f64
    );
    assert_eq!((size - 16) % 16, 0, "whole records");
    // The file ends at the highest slot written, so it creeps up to the end of its last
    // table. Slots are picked by a seeded hash, as MIT's are, so now and then a record finds
    // its slot taken by a live record in every table and starts one more (about 1 run in 10
    // here, at any skew): what must hold is that the growth stops, at most one table beyond
    // those of the third skew and none after that one.
    let tables = |len: u64| {
        let (mut end, mut records, mut n) = (16u64, 1023u64, 0u32);
        while end < len {
            end += records * 16;
            records = if records == 1023 { 2048 } else { records * 2 };
            n += 1;
        }
        (n, end)
    };
    let (at_three, _) = tables(sizes[2]);
    assert!(
        sizes[2..].iter().all(|&s| tables(s).0 <= at_three + 1),
        "more than one new table after 3 skews: {sizes:?}"
    );
    // Six tables (64 511 slots) hold the 15 000 live records; a seventh ends at 130 047.
    assert!(
        size <= 16 + 16 * 9 * live,
        "{size} bytes for {live} live records"
    );
    let end = NOW + seconds as i64 - 1;
    for sec in seconds - SKEW as u32..seconds {
        for i in (0..RATE).step_by(7) {
            assert_replay(store(&cache, &tag12(sec, i), end));
        }
    }
}

#[test]
fn memory_four_threads() {
    const THREADS: u32 = 4;
    const PER_THREAD: u32 = 20_000;
    let cache = Arc::new(ReplayCache::memory());
    let barrier = Arc::new(Barrier::new(THREADS as usize));
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let cache = Arc::clone(&cache);
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                for i in 0..PER_THREAD {
                    store(&cache, &tag12(t, i), NOW).unwrap();
                }
                barrier.wait();
                // Replays of another thread's tags are refused.
                let other = (t + 1) % THREADS;
                for i in (0..PER_THREAD).step_by(7) {
                    assert_replay(store(&cache, &tag12(other, i), NOW + 1));
                }
                barrier.wait();
                // All threads race on the same fresh tags: each is accepted exactly once.
                let mut won = 0u32;
                for i in 0..5_000 {
                    if store(&cache, &tag12(1_000, i), NOW + 2).is_ok() {
                        won += 1;
                    }
                }
                won
            })
        })
        .collect();
    let won: u32 = handles.into_iter().map(|h| h.join().unwrap()).sum();
    assert_eq!(won, 5_000);
    match &*cache {
        ReplayCache::Memory(m) => assert_eq!(m.len(), (THREADS * PER_THREAD + 5_000) as usize),
        _ => unreachable!(),
    }
}

#[test]
fn file2_two_instances_see_each_other() {
    let dir = TempDir::new("two");
    let path = dir.path("shared.rcache2");
    let a = FileReplayCache::new(&path);
    let b = FileReplayCache::new(&path);
    a.check_and_store(&ciphertext(&tag12(1, 0)), 12, NOW, SKEW)
        .unwrap();
    assert_replay(b.check_and_store(&ciphertext(&tag12(1, 0)), 12, NOW, SKEW));
    b.check_and_store(&ciphertext(&tag12(2, 0)), 12, NOW, SKEW)
        .unwrap();
    assert_replay(a.check_and_store(&ciphertext(&tag12(2, 0)), 12, NOW, SKEW));
    assert_eq!(
        ReplayCache::file2(&path).name(),
        format!("file2:{}", path.display())
    );
    let meta = fs::metadata(&path).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
}

#[test]
fn file2_grows_beyond_the_first_table() {
    let dir = TempDir::new("grow");
    let path = dir.path("grow.rcache2");
    let writer = ReplayCache::file2(&path);
    for i in 0..3_000 {
        store(&writer, &tag12(5, i), NOW).unwrap();
    }
    // 3000 records cannot fit in table 1 (1023 slots): table 2 starts at byte 16384.
    assert!(fs::metadata(&path).unwrap().len() > 16_384);
    let reader = ReplayCache::file2(&path);
    for i in 0..3_000 {
        assert_replay(store(&reader, &tag12(5, i), NOW + 1));
    }
    store(&reader, &tag12(6, 0), NOW + 1).unwrap();
}

#[test]
fn file2_threads_accept_each_tag_once() {
    let dir = TempDir::new("threads");
    let path = dir.path("threads.rcache2");
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let path = path.clone();
            std::thread::spawn(move || {
                // Each thread uses its own instance: its own open file, as another process would.
                let cache = ReplayCache::file2(&path);
                (0..400)
                    .filter(|&i| store(&cache, &tag12(8, i), NOW).is_ok())
                    .count()
            })
        })
        .collect();
    let won: usize = handles.into_iter().map(|h| h.join().unwrap()).sum();
    assert_eq!(won, 400);
}

/// MIT's slot index of a 12-byte tag in table 1 for a file with `seed`.
fn table1_index(seed: &[u8; 16], tag: &[u8; 12]) -> u64 {
    let mut h = SipHasher24::new_with_key(seed);
    h.write(tag);
    h.finish() % 1023
}

/// Two distinct tags hashing to the same table-1 slot (below the last slot), and that slot.
fn colliding_tags(seed: &[u8; 16]) -> ([u8; 12], [u8; 12], u64) {
    let mut seen = std::collections::HashMap::new();
    for i in 0u32.. {
        let tag = tag12(77, i);
        let index = table1_index(seed, &tag);
        if index == 1022 {
            continue;
        }
        if let Some(first) = seen.insert(index, tag) {
            return (first, tag, index);
        }
    }
    unreachable!()
}

fn record_at(path: &Path, slot_offset: u64) -> ([u8; 12], u32) {
    let bytes = fs::read(path).unwrap();
    let o = slot_offset as usize;
    let mut tag = [0u8; 12];
    tag.copy_from_slice(&bytes[o..o + 12]);
    (
        tag,
        u32::from_be_bytes(bytes[o + 12..o + 16].try_into().unwrap()),
    )
}

#[test]
fn file2_write_position_follows_mit() {
    let dir = TempDir::new("position");
    let seed = [0x11u8; 16];
    let (a, b, index) = colliding_tags(&seed);
    let slot = 16 + index * 16;

    // Both slots live: the second tag goes to the next slot; the stamp is `now`.
    let path = dir.path("live.rcache2");
    fs::write(&path, seed).unwrap();
    let cache = ReplayCache::file2(&path);
    store(&cache, &a, NOW).unwrap();
    assert_eq!(record_at(&path, slot), (a, NOW as u32));
    store(&cache, &b, NOW + SKEW).unwrap();
    assert_eq!(record_at(&path, slot + 16), (b, (NOW + SKEW) as u32));
    // The file ends right after the last record written: nothing is written past it.
    assert_eq!(fs::metadata(&path).unwrap().len(), slot + 32);

    // The first record expired (older than now - skew): the second tag overwrites it, and the
    // first tag is then no longer known (MIT forgets it the same way).
    let path = dir.path("expired.rcache2");
    fs::write(&path, seed).unwrap();
    let cache = ReplayCache::file2(&path);
    store(&cache, &a, NOW).unwrap();
    store(&cache, &b, NOW + SKEW + 1).unwrap();
    assert_eq!(record_at(&path, slot), (b, (NOW + SKEW + 1) as u32));
    store(&cache, &a, NOW + SKEW + 2).unwrap();
    assert_eq!(record_at(&path, slot + 16), (a, (NOW + SKEW + 2) as u32));
    // An expired record with the same tag is still a replay (found before expiry matters).
    assert_replay(store(&cache, &b, NOW + 10 * SKEW));
}

#[test]
fn file2_tag_is_first_12_checksum_bytes() {
    let dir = TempDir::new("tag");
    let seed = [0x22u8; 16];
    let path = dir.path("tag.rcache2");
    fs::write(&path, seed).unwrap();
    let cache = ReplayCache::file2(&path);
    // A 24-byte MAC (aes256-sha384) is truncated to its first 12 bytes ...
    let mac24: Vec<u8> = (1..=24).collect();
    store(&cache, &mac24, NOW).unwrap();
    let mut tag: [u8; 12] = mac24[..12].try_into().unwrap();
    assert_eq!(
        record_at(&path, 16 + table1_index(&seed, &tag) * 16),
        (tag, NOW as u32)
    );
    // ... so a MAC differing only after byte 12 is taken for a replay (as MIT would).
    let mut other = mac24.clone();
    other[20] ^= 1;
    assert_replay(store(&cache, &other, NOW));
    // A short MAC is zero-padded.
    store(&cache, &[0xab; 8], NOW).unwrap();
    tag = [0; 12];
    tag[..8].copy_from_slice(&[0xab; 8]);
    assert_eq!(
        record_at(&path, 16 + table1_index(&seed, &tag) * 16),
        (tag, NOW as u32)
    );
}

#[test]
fn file2_damaged_files() {
    let dir = TempDir::new("damaged");

    // Shorter than a seed: reinitialized with a fresh seed at offset 0.
    let path = dir.path("short.rcache2");
    fs::write(&path, [0xee; 5]).unwrap();
    let cache = ReplayCache::file2(&path);
    store(&cache, &tag12(1, 1), NOW).unwrap();
    assert_replay(store(&cache, &tag12(1, 1), NOW));
    let bytes = fs::read(&path).unwrap();
    assert!(
        bytes.len() >= 32 && (bytes.len() - 16).is_multiple_of(16),
        "len {}",
        bytes.len()
    );
    assert_ne!(&bytes[..5], &[0xee; 5]);

    // Garbage everywhere (random stamps, some far in the future): still no crash, new tags are
    // stored and found again.
    let path = dir.path("garbage.rcache2");
    let mut garbage = vec![0u8; 70_001];
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for byte in garbage.iter_mut() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *byte = x as u8;
    }
    fs::write(&path, &garbage).unwrap();
    let cache = ReplayCache::file2(&path);
    for i in 0..50 {
        store(&cache, &tag12(2, i), NOW).unwrap();
    }
    for i in 0..50 {
        assert_replay(store(&cache, &tag12(2, i), NOW));
    }

    // A trailing partial record counts as beyond the end of the file and is overwritten.
    let seed = [0x33u8; 16];
    let tag = tag12(3, 3);
    let slot = 16 + table1_index(&seed, &tag) * 16;
    let path = dir.path("partial.rcache2");
    let mut bytes = seed.to_vec();
    bytes.resize(slot as usize, 0);
    bytes.extend_from_slice(&[0xff; 7]);
    fs::write(&path, &bytes).unwrap();
    let cache = ReplayCache::file2(&path);
    store(&cache, &tag, NOW).unwrap();
    assert_eq!(record_at(&path, slot), (tag, NOW as u32));
    assert_eq!(fs::metadata(&path).unwrap().len(), slot + 16);
    assert_replay(store(&cache, &tag, NOW));
}

#[test]
fn file2_unusable_path_fails_closed() {
    let dir = TempDir::new("unusable");
    let not_a_dir = dir.path("plain");
    fs::write(&not_a_dir, b"x").unwrap();
    let cases = [
        dir.path("missing/dir/rc"), // ENOENT
        not_a_dir.join("rc"),       // ENOTDIR
        dir.0.clone(),              // EISDIR
        PathBuf::from("/dev/null"), // not a regular file
    ];
    for path in cases {
        let e = ReplayCache::file2(&path)
            .check_and_store(&ciphertext(&tag12(1, 1)), 12, NOW, SKEW)
            .unwrap_err();
        assert_eq!(e.minor, minor::RC_IO, "{path:?}: {e:?}");
        assert!(major::is_error(e.major));
        assert!(e.detail.contains(&path.display().to_string()), "{e:?}");
    }
    // Permission denied (only observable without root's override).
    // SAFETY: geteuid cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        let locked = dir.path("locked");
        fs::create_dir(&locked).unwrap();
        fs::set_permissions(&locked, fs::Permissions::from_mode(0o500)).unwrap();
        let path = locked.join("rc");
        let e = ReplayCache::file2(&path)
            .check_and_store(&ciphertext(&tag12(1, 1)), 12, NOW, SKEW)
            .unwrap_err();
        assert_eq!(e.minor, minor::RC_IO_PERM, "{e:?}");
        fs::set_permissions(&locked, fs::Permissions::from_mode(0o700)).unwrap();
    } else {
        println!("running as root: the EACCES case of file2_unusable_path_fails_closed is not observable");
    }
}

#[test]
fn from_name_parsing() {
    assert_eq!(ReplayCache::from_name("none:").unwrap().name(), "none:");
    assert!(matches!(
        ReplayCache::from_name("none:ignored").unwrap(),
        ReplayCache::None
    ));
    assert_eq!(ReplayCache::from_name("memory:").unwrap().name(), "memory:");
    let f = ReplayCache::from_name("file2:/some/where/rc2").unwrap();
    assert_eq!(f.name(), "file2:/some/where/rc2");
    match &f {
        ReplayCache::File2(f) => assert_eq!(f.path(), Path::new("/some/where/rc2")),
        _ => panic!("not file2"),
    }
    // A ':' inside the path belongs to the path (only the first ':' separates).
    assert_eq!(
        ReplayCache::from_name("file2:/a:b").unwrap().name(),
        "file2:/a:b"
    );
    assert_eq!(ReplayCache::from_name("dfl:").unwrap().name(), "dfl:");
    for (name, code) in [
        ("bogus:x", RC_TYPE_NOTFOUND),
        ("FILE2:/x", RC_TYPE_NOTFOUND),
        (":", RC_TYPE_NOTFOUND),
        ("file2", RC_PARSE),
        ("", RC_PARSE),
        ("file2:", RC_PARSE),
    ] {
        let e = ReplayCache::from_name(name).expect_err(name);
        assert_eq!(e.minor, code, "{name:?}: {e:?}");
    }
}

/// Everything that reads or sets the environment, in one test (tests run in parallel threads).
#[test]
fn environment_and_default_cache() {
    let dir = TempDir::new("env");
    std::env::remove_var("KRB5RCACHENAME");
    std::env::remove_var("KRB5RCACHETYPE");
    std::env::remove_var("KRB5RCACHEDIR");
    assert_eq!(ReplayCache::from_env().unwrap().name(), "memory:");

    // SAFETY: geteuid cannot fail.
    let euid = unsafe { libc::geteuid() };
    // Without KRB5RCACHEDIR: $TMPDIR, else /var/tmp (MIT's RCTMPDIR).
    let tmp = std::env::var_os("TMPDIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/tmp"));
    assert_eq!(
        FileReplayCache::mit_default_path(),
        PathBuf::from(format!("{}/krb5_{euid}.rcache2", tmp.display()))
    );

    std::env::set_var("KRB5RCACHETYPE", "none");
    assert_eq!(ReplayCache::from_env().unwrap().name(), "none:");
    std::env::set_var("KRB5RCACHETYPE", "file2");
    assert_eq!(ReplayCache::from_env().unwrap_err().minor, RC_PARSE);
    std::env::set_var("KRB5RCACHETYPE", "nonsense");
    assert_eq!(ReplayCache::from_env().unwrap_err().minor, RC_TYPE_NOTFOUND);
    // KRB5RCACHENAME wins over KRB5RCACHETYPE.
    let explicit = dir.path("explicit.rcache2");
    std::env::set_var("KRB5RCACHENAME", format!("file2:{}", explicit.display()));
    let cache = ReplayCache::from_env().unwrap();
    assert_eq!(cache.name(), format!("file2:{}", explicit.display()));
    store(&cache, &tag12(4, 4), NOW).unwrap();
    assert!(explicit.exists());
    std::env::set_var("KRB5RCACHENAME", "none:");
    assert_eq!(ReplayCache::from_env().unwrap().name(), "none:");
    std::env::remove_var("KRB5RCACHENAME");

    // dfl: under KRB5RCACHEDIR.
    std::env::set_var("KRB5RCACHETYPE", "dfl");
    std::env::set_var("KRB5RCACHEDIR", &dir.0);
    let cache = ReplayCache::from_env().unwrap();
    assert_eq!(cache.name(), "dfl:");
    let default_path = dir.path(&format!("krb5_{euid}.rcache2"));
    assert_eq!(FileReplayCache::mit_default_path(), default_path);
    store(&cache, &tag12(4, 5), NOW).unwrap();
    assert_replay(store(&ReplayCache::file2(&default_path), &tag12(4, 5), NOW));

    // dfl refuses a symlink at its file name (O_NOFOLLOW), where file2 follows it.
    fs::remove_file(&default_path).unwrap();
    let target = dir.path("target.rcache2");
    std::os::unix::fs::symlink(&target, &default_path).unwrap();
    let e = store(&cache, &tag12(4, 6), NOW).unwrap_err();
    assert_eq!(e.minor, minor::RC_IO, "{e:?}");
    assert!(!target.exists());
    store(&ReplayCache::file2(&default_path), &tag12(4, 6), NOW).unwrap();
    assert!(target.exists());

    // dfl refuses a file owned by someone else (root can arrange one).
    fs::remove_file(&default_path).unwrap();
    fs::write(&default_path, [0u8; 16]).unwrap();
    if euid == 0 {
        std::os::unix::fs::chown(&default_path, Some(65534), None).unwrap();
        let e = store(&cache, &tag12(4, 7), NOW).unwrap_err();
        assert_eq!(e.minor, minor::RC_IO, "{e:?}");
        assert!(e.detail.contains("not owned"), "{e:?}");
    } else {
        store(&cache, &tag12(4, 7), NOW).unwrap();
    }
    std::env::remove_var("KRB5RCACHETYPE");
    std::env::remove_var("KRB5RCACHEDIR");
}

// ---------------------------------------------------------------------------------------------
// Interop with MIT krb5 1.20 (its gss_accept_sec_context, via python-gssapi)
// ---------------------------------------------------------------------------------------------

const PYTHON: &str = "/usr/bin/python3";

/// Accepts one initial token with MIT's acceptor; prints ACCEPTED or REFUSED <major> <minor>.
/// python-gssapi defers a step() error that comes with an error token until the context is
/// next inspected, hence the read of `complete`.
const MIT_ACCEPT: &str = r#"
import sys, gssapi
token = open(sys.argv[1], 'rb').read()
ctx = gssapi.SecurityContext(creds=gssapi.Credentials(usage='accept'), usage='accept')
try:
    ctx.step(token)
    print('ACCEPTED' if ctx.complete else 'INCOMPLETE')
except gssapi.exceptions.GSSError as e:
    print('REFUSED', e.maj_code, e.min_code, str(e).replace('\n', ' '))
"#;

/// The interop test needs MIT's acceptor through python3-gssapi (installed by
/// scripts/install-deps.sh); missing, the test fails rather than pass unseen.
fn require_mit() {
    let ok = Command::new(PYTHON)
        .args(["-c", "import gssapi"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(
        ok,
        "{PYTHON} cannot import gssapi: install python3-gssapi and MIT krb5 (scripts/install-deps.sh)"
    );
}

fn capture_dir(case: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/mit-capture")
        .join(case)
}

/// MIT's acceptor on `case`'s initial token with its replay cache at `rcache`; Ok(()) when
/// accepted, Err(minor) when refused.
fn mit_accept(dir: &TempDir, case: &str, rcache: &Path) -> Result<(), i64> {
    let conf = dir.path("krb5.conf");
    // The capture is old: a huge clockskew keeps its authenticator acceptable to MIT.
    fs::write(
        &conf,
        "[libdefaults]\n default_realm = TEST.LOCAL\n clockskew = 2000000000\n",
    )
    .unwrap();
    let out = Command::new(PYTHON)
        .args(["-c", MIT_ACCEPT])
        .arg(capture_dir(case).join("initial_token.bin"))
        .env("KRB5_CONFIG", &conf)
        .env("KRB5_KTNAME", capture_dir("").join("service.keytab"))
        .env("KRB5RCACHENAME", format!("file2:{}", rcache.display()))
        .env_remove("KRB5RCACHETYPE")
        .env_remove("KRB5RCACHEDIR")
        .env_remove("KRB5_TRACE")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(
        out.status.success(),
        "python failed: {stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    if stdout == "ACCEPTED" {
        return Ok(());
    }
    let fields: Vec<&str> = stdout.split_whitespace().collect();
    assert_eq!(fields.first(), Some(&"REFUSED"), "{stdout}");
    Err(fields[2].parse::<i64>().unwrap())
}

/// Minimal DER reader: (tag, content, rest) of the TLV at the start of `der`.
fn tlv(der: &[u8]) -> (u8, &[u8], &[u8]) {
    let tag = der[0];
    let (len, header) = match der[1] {
        n if n < 0x80 => (n as usize, 2),
        n => {
            let k = (n & 0x7f) as usize;
            (
                der[2..2 + k]
                    .iter()
                    .fold(0usize, |acc, &b| (acc << 8) | b as usize),
                2 + k,
            )
        }
    };
    (tag, &der[header..header + len], &der[header + len..])
}

/// The [context-tagged] field `want` of a DER SEQUENCE's content.
fn field(mut seq: &[u8], want: u8) -> &[u8] {
    while !seq.is_empty() {
        let (tag, content, rest) = tlv(seq);
        if tag == want {
            return content;
        }
        seq = rest;
    }
    panic!("field {want:#x} missing");
}

/// (enctype, authenticator ciphertext) of a captured AP-REQ (RFC 4120 §5.5.1:
/// AP-REQ ::= [APPLICATION 14] SEQUENCE { ..., authenticator [4] EncryptedData }).
fn authenticator_of(case: &str) -> (i64, Vec<u8>) {
    let der = fs::read(capture_dir(case).join("ap_req.der")).unwrap();
    let (app, body, _) = tlv(&der);
    assert_eq!(app, 0x6e);
    let (_, ap_req, _) = tlv(body);
    let (_, enc_data, _) = tlv(field(ap_req, 0xa4));
    let (_, etype, _) = tlv(field(enc_data, 0xa0));
    let etype = etype.iter().fold(0i64, |acc, &b| (acc << 8) | b as i64);
    let (tag, cipher, _) = tlv(field(enc_data, 0xa2));
    assert_eq!(tag, 0x04);
    (etype, cipher.to_vec())
}

/// RFC 3962 / RFC 8009 checksum (MAC) length of an enctype.
fn mac_len(etype: i64) -> usize {
    match etype {
        17 | 18 => 12,
        19 => 16,
        20 => 24,
        _ => panic!("enctype {etype} not in the capture"),
    }
}

#[test]
fn file2_interop_with_mit() {
    require_mit();
    for case in ["mutual", "aes128-sha256", "aes256-sha384"] {
        let dir = TempDir::new(&format!("mit-{case}"));
        let (etype, cipher) = authenticator_of(case);
        let mac = mac_len(etype);
        let now = capture_time(case);

        // MIT records, krbap refuses.
        let rc = dir.path("mit-first.rcache2");
        mit_accept(&dir, case, &rc)
            .unwrap_or_else(|m| panic!("{case}: MIT refused a fresh token: {m}"));
        let krbap_cache = FileReplayCache::new(&rc);
        assert_replay(krbap_cache.check_and_store(&cipher, mac, now, SKEW));
        // ... and MIT refuses its own replay (the harness sees replays).
        assert_eq!(
            mit_accept(&dir, case, &rc),
            Err(i64::from(minor::AP_ERR_REPEAT as u32))
        );

        // krbap records, MIT refuses.
        let rc = dir.path("krbap-first.rcache2");
        FileReplayCache::new(&rc)
            .check_and_store(&cipher, mac, now, SKEW)
            .unwrap();
        assert_eq!(
            mit_accept(&dir, case, &rc),
            Err(i64::from(minor::AP_ERR_REPEAT as u32)),
            "{case}: MIT accepted a token krbap recorded"
        );
    }

    // Beyond table 1: krbap fills 1500 records, then both sides must find each other's
    // record in the later tables (seed[0] + 1, table offsets, probing).
    let case = "mutual";
    let dir = TempDir::new("mit-grow");
    let (etype, cipher) = authenticator_of(case);
    let now = capture_time(case);
    let rc = dir.path("grow-krbap.rcache2");
    let cache = FileReplayCache::new(&rc);
    for i in 0..1_500 {
        cache
            .check_and_store(&ciphertext(&tag12(9, i)), 12, now, SKEW)
            .unwrap();
    }
    cache
        .check_and_store(&cipher, mac_len(etype), now, SKEW)
        .unwrap();
    assert_eq!(
        mit_accept(&dir, case, &rc),
        Err(i64::from(minor::AP_ERR_REPEAT as u32))
    );

    let rc = dir.path("grow-mit.rcache2");
    let cache = FileReplayCache::new(&rc);
    for i in 0..1_500 {
        cache
            .check_and_store(&ciphertext(&tag12(9, i)), 12, now, SKEW)
            .unwrap();
    }
    mit_accept(&dir, case, &rc).expect("MIT refused a fresh token in a grown file");
    assert_replay(cache.check_and_store(&cipher, mac_len(etype), now, SKEW));
    // MIT left krbap's records alone.
    for i in (0..1_500).step_by(10) {
        assert_replay(cache.check_and_store(&ciphertext(&tag12(9, i)), 12, now, SKEW));
    }
}
