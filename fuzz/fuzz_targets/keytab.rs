//! MIT keytab files (format 0x0501/0x0502, keytab.txt in the specs): parsing, MIT's key
//! selection rules, the write-read round trip, and adding an entry in place
//! (`Keytab::add_to_file` on a copy of the input: it either refuses, or the file keeps every
//! entry it had and gains the new one).
#![no_main]

use krbap::keytab::{Keytab, KeytabEntry};
use libfuzzer_sys::fuzz_target;
use std::path::PathBuf;
use std::sync::OnceLock;

/// A file of this process to run the in-place add on (tmpfs when there is one).
fn scratch() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let base = ["/dev/shm", "/tmp"]
            .iter()
            .map(PathBuf::from)
            .find(|d| d.is_dir())
            .unwrap_or_else(std::env::temp_dir);
        let dir = base.join(format!("krbap-fuzz-keytab-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("scratch directory");
        dir.join("kt")
    })
}

/// The entry added: fuzz/added@FUZZ.TEST, kvno 300, aes256 (one 0x0502 record).
fn added_entry() -> KeytabEntry {
    let mut rec = vec![0, 2, 0, 9];
    rec.extend_from_slice(b"FUZZ.TEST");
    rec.extend_from_slice(&[0, 4]);
    rec.extend_from_slice(b"fuzz");
    rec.extend_from_slice(&[0, 5]);
    rec.extend_from_slice(b"added");
    rec.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 7, 44, 0, 18, 0, 32]);
    rec.extend_from_slice(&[0x5a; 32]);
    rec.extend_from_slice(&300u32.to_be_bytes());
    let mut file = vec![5, 2];
    file.extend_from_slice(&(rec.len() as i32).to_be_bytes());
    file.extend_from_slice(&rec);
    Keytab::parse(&file, "entry")
        .expect("entry")
        .entries
        .remove(0)
}

fn add_in_place(data: &[u8], parsed: Option<&Keytab>) {
    let path = scratch();
    std::fs::write(path, data).expect("scratch write");
    let new = added_entry();
    let added = Keytab::add_to_file(path, std::slice::from_ref(&new));
    let Some(old) = parsed else { return };
    if data.len() >= 2 && data[1] == 1 {
        assert!(added.is_err(), "0x0501 keytabs are not written");
        return;
    }
    added.expect("adding to a well-formed keytab");
    let after = Keytab::parse(&std::fs::read(path).expect("read back"), "added").expect("parses");
    let at = after
        .entries
        .iter()
        .position(|e| *e == new)
        .expect("the new entry is there");
    let mut rest = after.entries.clone();
    rest.remove(at);
    assert_eq!(rest, old.entries, "old entries kept, in order");
}

fuzz_target!(|data: &[u8]| {
    let parsed = Keytab::parse(data, "fuzz.keytab");
    add_in_place(data, parsed.as_ref().ok());
    let Ok(kt) = parsed else {
        return;
    };
    for e in kt.entries.iter().take(8) {
        let _ = kt.find(Some(&e.principal), Some(e.kvno), None);
        let _ = kt.get(&e.principal, None, Some(e.enctype));
        let _ = e.principal.to_string();
    }
    let again = Keytab::parse(&kt.to_bytes(), "rewritten").expect("a written keytab parses");
    assert_eq!(again, kt, "keytab round trip");
});
