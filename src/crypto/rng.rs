//! The process CSPRNG: a ChaCha20 keystream per thread, keyed from the OS.
//!
//! A getrandom syscall costs about as much as the rest of the crypto of an AP-REQ
//! accept (pitfalls.md), so the OS is asked once per thread and then every
//! `RESEED_AFTER` bytes. Each refill re-keys from the keystream itself ("fast key
//! erasure"), so the state held at any time cannot reproduce earlier output; handed-out
//! bytes are wiped from the buffer. After fork() the child reseeds before its next
//! output, so parent and child never share a keystream.

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use chacha20::cipher::{KeyIvInit, StreamCipher};
use chacha20::ChaCha20;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// Keystream buffered per refill (a multiple of the 64-byte ChaCha block).
const BUFFER_LEN: usize = 512;
/// Mix in fresh OS entropy after this much output.
const RESEED_AFTER: u64 = 4 << 20;

/// Bumped in the child by a pthread_atfork handler: a cheap per-call fork check.
static FORK_GENERATION: AtomicU64 = AtomicU64::new(0);

/// Whether the handler is registered. Only if `pthread_atfork` failed (or there is no
/// such handler on this platform) does a refill compare the process id, a system call.
/// (A child made by a raw clone system call, bypassing libc's fork and its handlers, is
/// not detected then; it does not get a consistent libc either.)
static FORK_HANDLER_REGISTERED: AtomicBool = AtomicBool::new(false);

#[cfg(unix)]
extern "C" fn after_fork_in_child() {
    // Async-signal-safe: a single atomic add.
    FORK_GENERATION.fetch_add(1, Ordering::Relaxed);
}

/// Registers the atfork handler once per process; true if it is registered.
fn register_fork_handler() -> bool {
    #[cfg(unix)]
    {
        static REGISTERED: std::sync::Once = std::sync::Once::new();
        REGISTERED.call_once(|| {
            // SAFETY: registers a plain extern "C" fn that only touches an atomic.
            // If registration fails (ENOMEM), each refill compares the pid instead.
            let status = unsafe { libc::pthread_atfork(None, None, Some(after_fork_in_child)) };
            FORK_HANDLER_REGISTERED.store(status == 0, Ordering::Relaxed);
        });
    }
    FORK_HANDLER_REGISTERED.load(Ordering::Relaxed)
}

/// Changes in the child of every fork (pthread_atfork), so that what holds per-process
/// resources, such as the sockets of the Redis replay cache's pool, can tell it was inherited.
pub(crate) fn fork_generation() -> u64 {
    register_fork_handler();
    FORK_GENERATION.load(Ordering::Relaxed)
}

#[derive(Zeroize, ZeroizeOnDrop)]
struct State {
    key: [u8; 32],
    buffer: [u8; BUFFER_LEN],
    /// `buffer[unused_from..]` is keystream not yet handed out.
    unused_from: usize,
    since_seed: u64,
    seeded: bool,
    fork_generation: u64,
    /// Compare `pid` with the process id at each refill: the atfork handler is missing.
    check_pid: bool,
    pid: u32,
}

impl State {
    const fn new() -> State {
        State {
            key: [0; 32],
            buffer: [0; BUFFER_LEN],
            unused_from: BUFFER_LEN,
            since_seed: 0,
            seeded: false,
            fork_generation: 0,
            check_pid: true,
            pid: 0,
        }
    }

    fn fill(&mut self, mut dest: &mut [u8]) {
        let generation = FORK_GENERATION.load(Ordering::Relaxed);
        if !self.seeded || generation != self.fork_generation {
            // Discard the buffered keystream: the other side of the fork has it too.
            self.reseed(generation);
            self.refill();
        }
        while !dest.is_empty() {
            if self.unused_from == BUFFER_LEN {
                // Without the atfork handler, a fork is seen by its pid (a system call,
                // so once per refill, not per call): the child reseeds within one buffer.
                let forked = self.check_pid && self.pid != std::process::id();
                if forked || self.since_seed >= RESEED_AFTER {
                    self.reseed(FORK_GENERATION.load(Ordering::Relaxed));
                }
                self.refill();
            }
            let available = &mut self.buffer[self.unused_from..];
            let n = available.len().min(dest.len());
            dest[..n].copy_from_slice(&available[..n]);
            available[..n].zeroize();
            self.unused_from += n;
            dest = &mut dest[n..];
        }
    }

    /// XOR fresh OS entropy into the key.
    fn reseed(&mut self, generation: u64) {
        self.check_pid = !register_fork_handler();
        let mut fresh = [0u8; 32];
        os_fill(&mut fresh);
        for (k, f) in self.key.iter_mut().zip(&fresh) {
            *k ^= f;
        }
        fresh.zeroize();
        self.seeded = true;
        self.since_seed = 0;
        self.fork_generation = generation;
        if self.check_pid {
            self.pid = std::process::id();
        }
    }

    /// Next key and a buffer of output from one ChaCha20 keystream.
    fn refill(&mut self) {
        let mut next_key = [0u8; 32];
        let mut cipher = ChaCha20::new(&self.key.into(), &[0u8; 12].into());
        cipher.apply_keystream(&mut next_key);
        self.buffer.fill(0);
        cipher.apply_keystream(&mut self.buffer);
        self.key = next_key;
        next_key.zeroize();
        // chacha20 is built without its `zeroize` feature: overwrite the cipher state
        // (which holds the old key) with one under an all-zero key.
        cipher = ChaCha20::new(&[0u8; 32].into(), &[0u8; 12].into());
        std::hint::black_box(&mut cipher);
        self.unused_from = 0;
        self.since_seed += BUFFER_LEN as u64;
    }
}

fn os_fill(buf: &mut [u8]) {
    // Without OS entropy no key or confounder can be made safely; there is no fallback.
    if let Err(e) = getrandom::fill(buf) {
        panic!("OS random number generator failed: {e}");
    }
}

thread_local! {
    static STATE: RefCell<State> = const { RefCell::new(State::new()) };
}

/// Fill `buf` from this thread's CSPRNG.
pub fn fill(buf: &mut [u8]) {
    let used_tls = STATE.try_with(|state| match state.try_borrow_mut() {
        Ok(mut state) => {
            state.fill(buf);
            true
        }
        Err(_) => false,
    });
    if used_tls != Ok(true) {
        // Thread-local storage already torn down (called from another TLS destructor)
        // or re-entered: take the bytes from the OS directly.
        os_fill(buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_differs_and_is_not_zero() {
        let mut a = [0u8; 64];
        let mut b = [0u8; 64];
        fill(&mut a);
        fill(&mut b);
        assert_ne!(a, b);
        assert_ne!(a, [0u8; 64]);
    }

    #[test]
    fn large_and_odd_sized_requests() {
        let mut big = vec![0u8; 3 * BUFFER_LEN + 7];
        fill(&mut big);
        // A 16-byte window repeating would mean the keystream was reused.
        let first = &big[..16];
        assert!(big[16..].windows(16).all(|w| w != first));
        let mut one = [0u8; 1];
        for _ in 0..1000 {
            fill(&mut one);
        }
    }

    #[test]
    fn threads_get_different_streams() {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                std::thread::spawn(|| {
                    let mut b = [0u8; 32];
                    fill(&mut b);
                    b
                })
            })
            .collect();
        let outs: Vec<[u8; 32]> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        for i in 0..outs.len() {
            for j in i + 1..outs.len() {
                assert_ne!(outs[i], outs[j]);
            }
        }
    }

    #[test]
    fn reseeds_after_the_limit() {
        let mut state = State::new();
        let mut b = [0u8; 16];
        state.fill(&mut b);
        assert!(state.seeded);
        state.since_seed = RESEED_AFTER;
        state.unused_from = BUFFER_LEN;
        state.fill(&mut b);
        assert!(state.since_seed <= BUFFER_LEN as u64);
    }

    #[test]
    fn fork_generation_change_forces_reseed() {
        let mut state = State::new();
        let mut b = [0u8; 16];
        state.fill(&mut b);
        let key_before = state.key;
        state.fork_generation = state.fork_generation.wrapping_add(1);
        state.fill(&mut b);
        assert_eq!(
            state.fork_generation,
            FORK_GENERATION.load(Ordering::Relaxed)
        );
        assert_ne!(state.key, key_before);
        assert_eq!(state.unused_from, 16);
    }

    #[test]
    fn without_the_fork_handler_a_pid_change_forces_reseed() {
        let mut state = State::new();
        let mut b = [0u8; 16];
        state.fill(&mut b);
        #[cfg(unix)]
        assert!(
            !state.check_pid,
            "the handler is registered: no pid system call"
        );
        // As if pthread_atfork had failed and this state were inherited from a parent.
        state.check_pid = true;
        state.pid = std::process::id().wrapping_add(1);
        state.since_seed = 1000 * BUFFER_LEN as u64;
        state.unused_from = BUFFER_LEN;
        let key_before = state.key;
        state.fill(&mut b);
        assert_eq!(state.since_seed, BUFFER_LEN as u64, "reseeded");
        assert_ne!(state.key, key_before);
        // With the handler registered, a refill does not compare the pid.
        #[cfg(unix)]
        {
            assert!(!state.check_pid);
            state.pid = std::process::id().wrapping_add(1);
            state.unused_from = BUFFER_LEN;
            state.fill(&mut b);
            assert_eq!(
                state.since_seed,
                2 * BUFFER_LEN as u64,
                "refilled, not reseeded"
            );
        }
        #[cfg(not(unix))]
        assert_eq!(state.pid, std::process::id());
    }

    #[cfg(unix)]
    #[test]
    fn child_after_fork_does_not_repeat_the_parent_stream() {
        // Warm this thread's state so the child inherits a buffer with unused keystream.
        let mut warm = [0u8; 8];
        fill(&mut warm);
        let mut fds = [0i32; 2];
        // SAFETY: plain libc calls; the child only touches its own stack, the
        // thread-local state (already initialised, no allocation) and the pipe, then _exits.
        unsafe {
            assert_eq!(libc::pipe(fds.as_mut_ptr()), 0);
            let pid = libc::fork();
            assert!(pid >= 0);
            if pid == 0 {
                let mut child = [0u8; 32];
                fill(&mut child);
                libc::write(fds[1], child.as_ptr().cast(), child.len());
                libc::_exit(0);
            }
            let mut parent = [0u8; 32];
            fill(&mut parent);
            let mut child = [0u8; 32];
            let n = libc::read(fds[0], child.as_mut_ptr().cast(), child.len());
            let mut status = 0;
            libc::waitpid(pid, &mut status, 0);
            libc::close(fds[0]);
            libc::close(fds[1]);
            assert_eq!(n, 32);
            assert_ne!(parent, child);
        }
    }
}
