//! MIT/Heimdal FILE keytabs (format: MIT's keytab_file_format.rst, kept in
//! shared/specs/mit-keytab_file_format.rst).
//!
//! File layout: `05 02` (or `05 01`, native byte order, read only), then records, each a
//! signed 32-bit length followed by that many bytes. A negative length is a hole left by a
//! deleted entry (skipped), 0 ends the file. A record holds
//! `principal, timestamp u32, kvno u8, enctype i16, key (u16 length + bytes)` and, since MIT
//! 1.14, an optional 32-bit kvno that overrides the 8-bit one when present and non-zero.
//!
//! Parsing never trusts a length: every length is checked against the bytes that remain
//! before anything is sliced or allocated, and every error names the file and byte offset.

use crate::byte_reader::{ByteOrder, ByteReader};
use crate::error::{minor, Error, Result};
use crate::file_lock::{open_locked, FileStamp, LockError, LockKind, LockedFile};
use crate::file_name::FileKind;
use crate::principal::{name_type, Principal, PrincipalName};
use std::collections::HashMap;
use std::fmt;
use std::fs::OpenOptions;
use std::io::Read;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// Largest keytab file `load` reads; real keytabs are a few KiB, and a bound keeps a
/// pathological path (a device, a huge file) from exhausting memory.
pub const MAX_KEYTAB_FILE_SIZE: u64 = 16 * 1024 * 1024;

/// The largest component/realm/key length and component count MIT reads back: it reads
/// these fields as signed 16-bit integers and rejects negative values.
const MAX_FIELD_LEN: usize = i16::MAX as usize;

/// One key of one principal.
#[derive(Clone, PartialEq, Eq)]
pub struct KeytabEntry {
    pub principal: Principal,
    /// When the entry was written (Unix seconds, as MIT's `krb5_timestamp`).
    pub timestamp: u32,
    /// Key version; the full 32 bits when the file carries the 1.14+ extension.
    pub kvno: u32,
    pub enctype: i32,
    pub key: Zeroizing<Vec<u8>>,
}

impl fmt::Debug for KeytabEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeytabEntry")
            .field("principal", &self.principal)
            .field("timestamp", &self.timestamp)
            .field("kvno", &self.kvno)
            .field("enctype", &self.enctype)
            .field("key", &format_args!("<{} bytes redacted>", self.key.len()))
            .finish()
    }
}

/// The entries of a keytab file, in file order (holes dropped).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Keytab {
    pub entries: Vec<KeytabEntry>,
}

/// (realm, name components, enctype): the entries `find` chooses among.
type GroupKey<'a> = (&'a [u8], &'a [Vec<u8>], i32);

fn format_error(file: &str, offset: usize, what: &str) -> Error {
    Error::minor(
        minor::KT_FORMAT,
        format!("keytab {file}: {what} at byte offset {offset}"),
    )
}

impl Keytab {
    /// Parses a whole keytab file; `name` (usually the path) is used in error messages.
    pub fn parse(bytes: &[u8], name: &str) -> Result<Keytab> {
        if bytes.len() < 2 {
            return Err(format_error(
                name,
                0,
                "file too short for the version header",
            ));
        }
        if bytes[0] != 5 {
            return Err(format_error(
                name,
                0,
                &format!("first byte is {:#04x}, not 0x05: not a keytab", bytes[0]),
            ));
        }
        let order = match bytes[1] {
            2 => ByteOrder::Big,
            1 => ByteOrder::Native,
            v => {
                return Err(format_error(
                    name,
                    1,
                    &format!("unsupported keytab version 5.{v}"),
                ))
            }
        };
        let version = bytes[1];
        let mut entries = Vec::new();
        let mut pos = 2usize;
        while pos < bytes.len() {
            let left = bytes.len() - pos;
            if left < 4 {
                return Err(format_error(
                    name,
                    pos,
                    &format!("truncated record length ({left} bytes)"),
                ));
            }
            let raw: [u8; 4] = bytes[pos..pos + 4].try_into().expect("4 bytes");
            let len = match order {
                ByteOrder::Big => i32::from_be_bytes(raw),
                ByteOrder::Native => i32::from_ne_bytes(raw),
            };
            let body = pos + 4;
            let avail = bytes.len() - body;
            if len == 0 {
                // A zero length marks the end of the entries; MIT ignores what follows.
                break;
            }
            if len < 0 {
                // A hole left by a deleted entry; i32::MIN has no positive inverse (MIT
                // rejects it too).
                let hole = len
                    .checked_neg()
                    .ok_or_else(|| format_error(name, pos, "record length -2^31 (invalid hole)"))?
                    as usize;
                if hole > avail {
                    return Err(format_error(
                        name,
                        pos,
                        &format!(
                            "hole of {hole} bytes runs past the end of the file ({avail} left)"
                        ),
                    ));
                }
                pos = body + hole;
                continue;
            }
            let len = len as usize;
            if len > avail {
                return Err(format_error(
                    name,
                    pos,
                    &format!("record length {len} exceeds the {avail} bytes left"),
                ));
            }
            let record = &bytes[body..body + len];
            let mut r = ByteReader {
                base: body,
                order,
                within: " in the record",
                ..ByteReader::new(record, 0, name, format_error)
            };
            entries.push(parse_entry(&mut r, version)?);
            pos = body + len;
        }
        Ok(Keytab { entries })
    }

    /// Reads and parses a keytab file. A missing or unreadable file gives the errno as
    /// the minor code (as MIT does: ENOENT with "Key table file '...' not found").
    pub fn load(path: &Path) -> Result<Keytab> {
        let bytes = read_bounded(path, MAX_KEYTAB_FILE_SIZE, "Key table file")?;
        Keytab::parse(&bytes, &path.display().to_string())
    }

    /// Serializes as format 0x0502 with the 32-bit kvno extension on every entry.
    /// Entries MIT could not read back (a realm, component or key longer than 32767 bytes,
    /// or more than 32767 components) are left out; [`Keytab::save`] refuses them instead.
    /// The buffer holds keys: it is sized exactly up front (no reallocation leaves a copy
    /// behind) and wiped on drop.
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        let records: Vec<Zeroizing<Vec<u8>>> = self
            .entries
            .iter()
            .filter(|e| encodable(e).is_ok())
            .map(encode_entry)
            .collect();
        let len = 2 + records.iter().map(|r| 4 + r.len()).sum::<usize>();
        let mut out = Zeroizing::new(Vec::with_capacity(len));
        out.extend_from_slice(&[5u8, 2]);
        for rec in &records {
            out.extend_from_slice(&(rec.len() as i32).to_be_bytes());
            out.extend_from_slice(rec);
        }
        out
    }

    /// Writes the keytab atomically: a temporary file (mode 0600) in the same directory,
    /// fsync, then rename over `path`.
    pub fn save(&self, path: &Path) -> Result<()> {
        for e in &self.entries {
            encodable(e)?;
        }
        let bytes = self.to_bytes();
        write_atomic(path, &bytes).map(|_| ()).map_err(|err| {
            Error::minor(
                minor::KT_IOERR,
                format!("writing keytab {}: {err}", path.display()),
            )
        })
    }

    /// Adds `entries` to the keytab file in place, as MIT's `krb5_kt_add_entry` does
    /// (kt_file.c `krb5_ktfileint_write_entry`), so that `ktutil`, `kadmin ktadd` and krbap
    /// writing the same keytab at once lose nothing:
    /// - a missing file is created (mode 0600) already holding the 0x0502 header, by
    ///   hard-linking a complete temporary file: MIT refuses an empty keytab ("Unsupported
    ///   key table format version number"), so a file created empty and headed only after the
    ///   lock would make a `ktadd` or `wkt` that opens it in between fail;
    /// - the file is opened and locked exclusively (MIT's lock; a wait bounded by
    ///   [`crate::file_lock::lock_timeout`]); an empty file (MIT creates it empty, then locks
    ///   it) gets the header;
    /// - each entry goes into the first hole (a deleted entry, negative length) large enough
    ///   for it, keeping the hole's length (the rest stays zero padding, which readers skip),
    ///   else at the end-of-entries mark (length 0: what follows it is cut off) or the end of
    ///   the file;
    /// - the record body is written before its length, and synced, so a reader that does not
    ///   lock sees the old end or hole until the entry is complete.
    ///
    /// A damaged file (a record running past the end) or a 0x0501 (native byte order) keytab
    /// is not written to: KRB5_KT_FORMAT.
    pub fn add_to_file(path: &Path, entries: &[KeytabEntry]) -> Result<()> {
        for e in entries {
            encodable(e)?;
        }
        let what = "Key table file";
        let io_err = |e: std::io::Error| io_error(path, what, e);
        let locked = open_locked_creating(path, &[5, 2])
            .map_err(|e| lock_error(path, what, LockKind::Exclusive, e))?;
        let file = locked.file();
        let mut bytes = read_secret_file(file, MAX_KEYTAB_FILE_SIZE).map_err(io_err)?;
        if bytes.len() as u64 > MAX_KEYTAB_FILE_SIZE {
            return Err(Error::minor(
                minor::KT_FORMAT,
                format!(
                    "{what} '{}' is larger than {MAX_KEYTAB_FILE_SIZE} bytes",
                    path.display()
                ),
            ));
        }
        let name = path.display().to_string();
        if bytes.is_empty() {
            file.write_all_at(&[5, 2], 0).map_err(io_err)?;
            bytes.extend_from_slice(&[5, 2]);
        } else if bytes.len() < 2 || bytes[0] != 5 || bytes[1] != 2 {
            // Let the parser name the problem; a readable 0x0501 file is refused here.
            Keytab::parse(&bytes, &name)?;
            return Err(format_error(
                &name,
                1,
                "keytab format 0x0501 (native byte order) is read, not written, by krbap",
            ));
        }
        for e in entries {
            let body = encode_entry(e);
            let (slot, len) = find_slot(&bytes, body.len(), &name)?;
            let end = slot + 4 + len;
            if slot + 4 > bytes.len() || bytes[slot..slot + 4] == [0; 4] {
                // At the end of the entries: nothing after the mark is an entry any more.
                file.set_len(slot as u64).map_err(io_err)?;
                bytes.truncate(slot);
            }
            // The body first (the length still says hole or end), synced, then the length.
            let mut record = Zeroizing::new(vec![0u8; len]);
            record[..body.len()].copy_from_slice(&body);
            file.write_all_at(&record, slot as u64 + 4)
                .map_err(io_err)?;
            file.sync_data().map_err(io_err)?;
            let len32 = (len as i32).to_be_bytes();
            file.write_all_at(&len32, slot as u64).map_err(io_err)?;
            file.sync_data().map_err(io_err)?;
            if bytes.len() < end {
                bytes.resize(end, 0);
            }
            bytes[slot..slot + 4].copy_from_slice(&len32);
            bytes[slot + 4..end].copy_from_slice(&record);
        }
        Ok(())
    }

    /// Appends an entry (MIT's krb5_kt_add_entry appends too; duplicates are kept).
    pub fn add(&mut self, e: KeytabEntry) {
        self.entries.push(e);
    }

    /// The entries MIT's `krb5_kt_get_entry` would pick, one per (principal, enctype) pair
    /// among the entries that match the filters, in file order. Rules (MIT 1.20 kt_file.c,
    /// krb5_ktfile_get_entry):
    /// - `principal`: realm and components must match; the name type is ignored. `None`
    ///   matches every principal.
    /// - `enctype`: exact match; `None` matches all.
    /// - `kvno` `None` or `Some(0)` (MIT's IGNORE_VNO): the most recent entry, where
    ///   "more recent" is the larger kvno except for 8-bit wrap-around: a kvno < 128 written
    ///   at the same time or later than a kvno > 240 is taken as newer (and vice versa).
    /// - `kvno` `Some(k)`: an entry with kvno == k wins at once; otherwise the first entry
    ///   whose kvno equals `k & 0xff` (its kvno was truncated by the pre-1.14 format or
    ///   the old kadmin protocol). Entries with kvno 0 are wildcards: they compete as in
    ///   the "most recent" rule even when a kvno is asked for.
    pub fn find(
        &self,
        principal: Option<&Principal>,
        kvno: Option<u32>,
        enctype: Option<i32>,
    ) -> Vec<&KeytabEntry> {
        // Group candidate indexes per (realm, components, enctype), keeping file order.
        let mut groups: Vec<Vec<usize>> = Vec::new();
        let mut index: HashMap<GroupKey<'_>, usize> = HashMap::new();
        for (i, e) in self.entries.iter().enumerate() {
            if principal.is_some_and(|p| !p.matches(&e.principal)) {
                continue;
            }
            if enctype.is_some_and(|t| t != e.enctype) {
                continue;
            }
            let key = (
                &e.principal.realm[..],
                &e.principal.name.components[..],
                e.enctype,
            );
            let g = *index.entry(key).or_insert_with(|| {
                groups.push(Vec::new());
                groups.len() - 1
            });
            groups[g].push(i);
        }
        let mut chosen: Vec<usize> = groups
            .iter()
            .filter_map(|g| self.select(g, kvno.unwrap_or(0)).ok())
            .collect();
        chosen.sort_unstable();
        chosen.into_iter().map(|i| &self.entries[i]).collect()
    }

    /// One entry, as MIT's `krb5_kt_get_entry` returns it (enctype `None` = any enctype,
    /// the rules of [`Keytab::find`] applied across all of them). Errors as MIT:
    /// KRB5_KT_KVNONOTFOUND when the principal has keys but not of that kvno, otherwise
    /// KRB5_KT_NOTFOUND.
    pub fn get(
        &self,
        principal: &Principal,
        kvno: Option<u32>,
        enctype: Option<i32>,
    ) -> Result<&KeytabEntry> {
        let candidates: Vec<usize> = (0..self.entries.len())
            .filter(|&i| {
                let e = &self.entries[i];
                principal.matches(&e.principal) && enctype.is_none_or(|t| t == e.enctype)
            })
            .collect();
        match self.select(&candidates, kvno.unwrap_or(0)) {
            Ok(i) => Ok(&self.entries[i]),
            Err(code) => {
                let what = match code {
                    minor::KT_KVNONOTFOUND => format!(
                        "no key with kvno {} for {principal} in the keytab",
                        kvno.unwrap_or(0)
                    ),
                    _ => format!("No key table entry found for {principal}"),
                };
                Err(Error::minor(code, what))
            }
        }
    }

    /// MIT's selection loop over `candidates` (indexes in file order); `kvno` 0 = newest.
    fn select(&self, candidates: &[usize], kvno: u32) -> std::result::Result<usize, i32> {
        let mut current: Option<usize> = None;
        let mut wrong_kvno = false;
        for &i in candidates {
            let e = &self.entries[i];
            if kvno == 0 || e.kvno == 0 {
                if current.is_none_or(|c| more_recent(e, &self.entries[c])) {
                    current = Some(i);
                }
            } else if e.kvno == kvno {
                current = Some(i);
                break;
            } else if e.kvno == (kvno & 0xff) && current.is_none() {
                current = Some(i);
            } else {
                wrong_kvno = true;
            }
        }
        match current {
            Some(i) => Ok(i),
            None if wrong_kvno => Err(minor::KT_KVNONOTFOUND),
            None => Err(minor::KT_NOTFOUND),
        }
    }
}

/// MIT's `ts_after`: timestamps compared modulo 2^32 (they are unsigned since 1.17).
fn ts_after(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) > 0
}

/// MIT's `more_recent` (kt_file.c): kvno order with a wrap-around heuristic, since an
/// 8-bit (or 16-bit, in the KDB) kvno can wrap from 255 to small values.
fn more_recent(k1: &KeytabEntry, k2: &KeytabEntry) -> bool {
    if !ts_after(k2.timestamp, k1.timestamp) && k1.kvno < 128 && k2.kvno > 240 {
        return true;
    }
    if !ts_after(k1.timestamp, k2.timestamp) && k1.kvno > 240 && k2.kvno < 128 {
        return false;
    }
    k1.kvno > k2.kvno
}

fn parse_entry(r: &mut ByteReader<'_>, version: u8) -> Result<KeytabEntry> {
    let mut count = r.u16("principal component count")? as usize;
    if version == 1 {
        // Version 1 counts the realm as a component.
        count = count
            .checked_sub(1)
            .ok_or_else(|| r.err("component count 0 in a v1 entry"))?;
    }
    if count == 0 {
        return Err(r.err("principal with no name components"));
    }
    let realm = r.data16("realm")?.to_vec();
    // Each component needs at least its 2-byte length: bound the count before allocating.
    if count > r.remaining() / 2 {
        return Err(r.err(&format!("component count {count} exceeds the record")));
    }
    let mut components = Vec::with_capacity(count);
    for _ in 0..count {
        components.push(r.data16("principal component")?.to_vec());
    }
    let ntype = if version == 1 {
        name_type::UNKNOWN
    } else {
        r.u32("principal name type")? as i32
    };
    let timestamp = r.u32("timestamp")?;
    let kvno8 = r.u8("key version")?;
    // MIT reads the enctype as a signed 16-bit value.
    let enctype = r.u16("enctype")? as i16 as i32;
    let key = Zeroizing::new(r.data16("key")?.to_vec());
    // The 32-bit kvno is present when at least 4 bytes remain in the record and it is
    // non-zero (zero bytes are padding of a reused hole).
    let mut kvno = kvno8 as u32;
    if r.remaining() >= 4 {
        let kvno32 = r.u32("32-bit key version")?;
        if kvno32 != 0 {
            kvno = kvno32;
        }
    }
    Ok(KeytabEntry {
        principal: Principal {
            realm,
            name: PrincipalName {
                name_type: ntype,
                components,
            },
        },
        timestamp,
        kvno,
        enctype,
        key,
    })
}

fn encodable(e: &KeytabEntry) -> Result<()> {
    let p = &e.principal;
    let too_long = p.realm.len() > MAX_FIELD_LEN
        || p.name.components.len() > MAX_FIELD_LEN
        || p.name.components.is_empty()
        || p.name.components.iter().any(|c| c.len() > MAX_FIELD_LEN)
        || e.key.len() > MAX_FIELD_LEN;
    if too_long {
        return Err(Error::minor(
            minor::KT_IOERR,
            format!("keytab entry for {p} cannot be written: empty name or a field over {MAX_FIELD_LEN} bytes"),
        ));
    }
    Ok(())
}

fn put16(out: &mut Vec<u8>, n: usize) {
    out.extend_from_slice(&(n as u16).to_be_bytes());
}

/// Where a record of `needed` bytes goes in the (big-endian) keytab `bytes`, and the length
/// it gets (MIT `krb5_ktfileint_find_slot`): the first hole at least that large (its whole
/// size), else the end-of-entries mark or the end of the file.
fn find_slot(bytes: &[u8], needed: usize, name: &str) -> Result<(usize, usize)> {
    let mut pos = 2;
    while pos + 4 <= bytes.len() {
        let len = i32::from_be_bytes(bytes[pos..pos + 4].try_into().expect("4 bytes"));
        if len == 0 {
            return Ok((pos, needed));
        }
        let size = len.unsigned_abs() as usize;
        if len == i32::MIN || size > bytes.len() - pos - 4 {
            return Err(format_error(
                name,
                pos,
                &format!("record of {size} bytes runs past the end of the file; not writing to a damaged keytab"),
            ));
        }
        if len < 0 && size >= needed {
            return Ok((pos, size));
        }
        pos += 4 + size;
    }
    if pos != bytes.len() {
        return Err(format_error(
            name,
            pos,
            "truncated record length; not writing to a damaged keytab",
        ));
    }
    Ok((pos, needed))
}

/// One record body in format 0x0502 (lengths already checked by `encodable`).
fn encode_entry(e: &KeytabEntry) -> Zeroizing<Vec<u8>> {
    let p = &e.principal;
    let mut out = Zeroizing::new(Vec::with_capacity(64 + e.key.len()));
    put16(&mut out, p.name.components.len());
    put16(&mut out, p.realm.len());
    out.extend_from_slice(&p.realm);
    for c in &p.name.components {
        put16(&mut out, c.len());
        out.extend_from_slice(c);
    }
    out.extend_from_slice(&p.name.name_type.to_be_bytes());
    out.extend_from_slice(&e.timestamp.to_be_bytes());
    out.push(e.kvno as u8); // low 8 bits; the full value follows the key
    out.extend_from_slice(&(e.enctype as u16).to_be_bytes());
    put16(&mut out, e.key.len());
    out.extend_from_slice(&e.key);
    out.extend_from_slice(&e.kvno.to_be_bytes());
    out
}

/// Reads at most `limit` bytes of a file under a shared lock (MIT's readers take one too); a
/// larger file or an I/O error is an error whose minor code is the errno (MIT passes errno
/// through for keytab opens), a lock not granted in time is EAGAIN.
fn read_bounded(path: &Path, limit: u64, what: &str) -> Result<Zeroizing<Vec<u8>>> {
    let io_err = |e: std::io::Error| io_error(path, what, e);
    let locked = open_locked(path, OpenOptions::new().read(true), LockKind::Shared)
        .map_err(|e| lock_error(path, what, LockKind::Shared, e))?;
    let bytes = read_secret_file(locked.file(), limit).map_err(io_err)?;
    if bytes.len() as u64 > limit {
        return Err(Error::minor(
            minor::KT_FORMAT,
            format!("{what} '{}' is larger than {limit} bytes", path.display()),
        ));
    }
    Ok(bytes)
}

/// An I/O error on a keytab: the errno as the minor code, as MIT.
fn io_error(path: &Path, what: &str, e: std::io::Error) -> Error {
    let code = e.raw_os_error().unwrap_or(minor::KT_IOERR);
    let text = if e.kind() == std::io::ErrorKind::NotFound {
        format!("{what} '{}' not found", path.display())
    } else {
        format!("{what} '{}': {e}", path.display())
    };
    Error::minor(code, text)
}

fn lock_error(path: &Path, what: &str, kind: LockKind, e: LockError) -> Error {
    match e {
        LockError::Io(io) => io_error(path, what, io),
        e => e.to_error(&format!("{what} '{}'", path.display()), kind, None),
    }
}

/// Reads at most `limit` + 1 bytes of a file holding keys into one buffer sized from the
/// file's length up front (no reallocation leaves an unwiped copy), wiped on drop.
pub(crate) fn read_secret_file(
    mut file: &std::fs::File,
    limit: u64,
) -> std::io::Result<Zeroizing<Vec<u8>>> {
    let len = file.metadata().map_or(0, |m| m.len()).min(limit);
    // Room for the whole file and read_to_end's end-of-file probe.
    let mut bytes = Zeroizing::new(Vec::with_capacity(len as usize + 64));
    (&mut file).take(limit + 1).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Opens `path` for reading and writing and locks it exclusively; a missing file is first
/// created holding `initial` ([`create_complete`]), so nobody ever opens it empty. Where
/// hard links are refused (some network and FUSE file systems) the file is created with
/// `O_CREAT` as before, empty until the lock holder writes `initial`.
fn open_locked_creating(path: &Path, initial: &[u8]) -> Result<LockedFile, LockError> {
    use std::io::ErrorKind;
    use std::os::unix::fs::OpenOptionsExt;
    let mut existing = OpenOptions::new();
    existing.read(true).write(true);
    // Removed again between our create and open (another writer's rename, a cleanup): try
    // a few times, then report what the last open said.
    for _ in 0..3 {
        match open_locked(path, &existing, LockKind::Exclusive) {
            Err(LockError::Io(e)) if e.kind() == ErrorKind::NotFound => {}
            other => return other,
        }
        match create_complete(path, initial) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
            // Anything else (no hard links here, or an error the open repeats, such as a
            // missing directory) goes the old way.
            Err(_) => {
                let mut create = existing.clone();
                create.create(true).mode(0o600);
                return open_locked(path, &create, LockKind::Exclusive);
            }
        }
    }
    open_locked(path, &existing, LockKind::Exclusive)
}

/// A fresh 0600 file next to `path` holding `bytes`, synced; the caller links or renames it
/// into place and removes it on failure.
fn write_temp_sibling(path: &Path, bytes: &[u8]) -> std::io::Result<(PathBuf, FileStamp)> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let file_name = path
        .file_name()
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "no file name"))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(file_name);
    tmp_name.push(format!(
        ".tmp.{}.{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let tmp = path.with_file_name(tmp_name);
    let written = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        Ok(FileStamp::of(&f.metadata()?))
    })();
    match written {
        Ok(st) => Ok((tmp, st)),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// Writes `bytes` to a fresh 0600 file next to `path`, syncs it and renames it over `path`,
/// so readers see either the old or the new file, never a partial one. Returns the stamp of
/// the file written (a rename keeps it).
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<FileStamp> {
    let (tmp, st) = write_temp_sibling(path, bytes)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })?;
    Ok(st)
}

/// Creates `path` holding `bytes` if it does not exist, in one step: a complete temporary
/// file is hard-linked to `path` (link(2) never replaces, unlike rename), so no program can
/// open `path` before it holds `bytes`. An existing `path` is `AlreadyExists` and left alone.
pub(crate) fn create_complete(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let (tmp, _) = write_temp_sibling(path, bytes)?;
    let linked = std::fs::hard_link(&tmp, path);
    let _ = std::fs::remove_file(&tmp);
    linked
}

/// Resolves a keytab name as MIT's krb5_kt_resolve does for the FILE type: `FILE:path`,
/// `WRFILE:path`, or a bare path (no colon, or starting with `/`). `None` uses
/// `KRB5_KTNAME`, else krb5.conf's `default_keytab_name` (path tokens expanded), else
/// `/etc/krb5.keytab` (MIT's order). Other types (MEMORY:, KEYRING:, ...) are refused with
/// KRB5_KT_UNKNOWN_TYPE.
pub fn resolve_keytab_name(name: Option<&str>) -> Result<PathBuf> {
    const KIND: FileKind = FileKind {
        what: "keytab",
        env: "KRB5_KTNAME",
        profile_key: "default_keytab_name",
        file_types: &["FILE", "WRFILE"],
        unknown_type: minor::KT_UNKNOWN_TYPE,
        bad_name: minor::KT_BADNAME,
    };
    crate::file_name::resolve(name, &KIND, || "FILE:/etc/krb5.keytab".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn princ(s: &str) -> Principal {
        Principal::parse(s, None).unwrap()
    }

    fn entry(p: &str, kvno: u32, enctype: i32, ts: u32) -> KeytabEntry {
        KeytabEntry {
            principal: princ(p),
            timestamp: ts,
            kvno,
            enctype,
            key: Zeroizing::new(vec![kvno as u8; 16]),
        }
    }

    #[test]
    fn round_trip_with_32bit_kvno() {
        let mut kt = Keytab::default();
        kt.add(entry("host/a@R", 1, 18, 100));
        kt.add(entry("host/a@R", 300, 17, 200));
        let bytes = kt.to_bytes();
        assert_eq!(&bytes[..2], &[5, 2]);
        let back = Keytab::parse(&bytes, "mem").unwrap();
        assert_eq!(back, kt);
        assert_eq!(back.entries[1].kvno, 300);
    }

    #[test]
    fn debug_hides_key() {
        let mut e = entry("a@R", 1, 18, 0);
        e.key = Zeroizing::new(vec![0xab; 16]);
        let s = format!("{e:?}");
        assert!(
            !s.to_lowercase().contains("ab, ") && !s.contains("171"),
            "{s}"
        );
        assert!(s.contains("redacted"));
    }

    /// A record whose 32-bit kvno field is zero keeps the 8-bit kvno.
    #[test]
    fn zero_kvno32_is_padding() {
        let mut kt = Keytab::default();
        kt.add(entry("a@R", 7, 18, 0));
        let mut bytes = kt.to_bytes();
        let n = bytes.len();
        bytes[n - 4..].copy_from_slice(&[0, 0, 0, 0]);
        assert_eq!(Keytab::parse(&bytes, "m").unwrap().entries[0].kvno, 7);
        // Without the extension at all (record shortened by 4).
        let mut short = bytes[..n - 4].to_vec();
        let len = i32::from_be_bytes(short[2..6].try_into().unwrap()) - 4;
        short[2..6].copy_from_slice(&len.to_be_bytes());
        assert_eq!(Keytab::parse(&short, "m").unwrap().entries[0].kvno, 7);
    }

    #[test]
    fn holes_are_skipped_and_zero_length_ends() {
        let mut kt = Keytab::default();
        kt.add(entry("a@R", 1, 18, 0));
        let one = kt.to_bytes();
        let mut bytes = vec![5, 2];
        bytes.extend_from_slice(&(-10i32).to_be_bytes());
        bytes.extend_from_slice(&[0; 10]);
        bytes.extend_from_slice(&one[2..]);
        bytes.extend_from_slice(&0i32.to_be_bytes());
        bytes.extend_from_slice(b"trailing junk after the end marker");
        let back = Keytab::parse(&bytes, "m").unwrap();
        assert_eq!(back.entries.len(), 1);
        assert_eq!(back.entries[0].principal, princ("a@R"));
    }

    #[test]
    fn version_1_native_order() {
        // One v1 entry: count includes the realm, no name type, native byte order.
        let mut b = vec![5u8, 1];
        let mut rec = Vec::new();
        rec.extend_from_slice(&2u16.to_ne_bytes()); // realm + 1 component
        rec.extend_from_slice(&1u16.to_ne_bytes());
        rec.push(b'R');
        rec.extend_from_slice(&5u16.to_ne_bytes());
        rec.extend_from_slice(b"alice");
        rec.extend_from_slice(&1234u32.to_ne_bytes());
        rec.push(3);
        rec.extend_from_slice(&17u16.to_ne_bytes());
        rec.extend_from_slice(&16u16.to_ne_bytes());
        rec.extend_from_slice(&[9; 16]);
        b.extend_from_slice(&(rec.len() as i32).to_ne_bytes());
        b.extend_from_slice(&rec);
        let kt = Keytab::parse(&b, "v1").unwrap();
        let e = &kt.entries[0];
        assert!(e.principal.matches(&princ("alice@R")));
        assert_eq!(e.principal.name.name_type, name_type::UNKNOWN);
        assert_eq!((e.timestamp, e.kvno, e.enctype), (1234, 3, 17));
        assert_eq!(&e.key[..], &[9; 16]);
        // Writing always produces 0x0502.
        assert_eq!(&kt.to_bytes()[..2], &[5, 2]);
    }

    #[test]
    fn hostile_lengths_are_errors() {
        for len in [i32::MAX, i32::MIN, -1000] {
            let mut b = vec![5u8, 2];
            b.extend_from_slice(&len.to_be_bytes());
            b.extend_from_slice(&[0; 8]);
            let e = Keytab::parse(&b, "hostile").unwrap_err();
            assert_eq!(e.minor, minor::KT_FORMAT);
            assert!(
                e.detail.contains("hostile") && e.detail.contains("offset 2"),
                "{e}"
            );
        }
        for bad in [&b""[..], &[5], &[4, 2], &[5, 3], &[5, 2, 0]] {
            assert_eq!(Keytab::parse(bad, "x").unwrap_err().minor, minor::KT_FORMAT);
        }
    }

    #[test]
    fn find_kvno_rules() {
        let mut kt = Keytab::default();
        kt.add(entry("s/h@R", 1, 18, 10));
        kt.add(entry("s/h@R", 2, 18, 20));
        kt.add(entry("s/h@R", 1, 17, 10));
        kt.add(entry("other@R", 9, 18, 10));
        let p = princ("s/h@R");
        let newest: Vec<_> = kt
            .find(Some(&p), None, None)
            .iter()
            .map(|e| (e.kvno, e.enctype))
            .collect();
        assert_eq!(newest, vec![(2, 18), (1, 17)]);
        assert_eq!(kt.find(Some(&p), Some(0), Some(18))[0].kvno, 2);
        assert_eq!(kt.find(Some(&p), Some(1), Some(18))[0].kvno, 1);
        assert!(kt.find(Some(&p), Some(3), None).is_empty());
        assert_eq!(kt.find(None, None, Some(18)).len(), 2);
        assert_eq!(
            kt.get(&p, Some(3), None).unwrap_err().minor,
            minor::KT_KVNONOTFOUND
        );
        assert_eq!(
            kt.get(&princ("x@R"), None, None).unwrap_err().minor,
            minor::KT_NOTFOUND
        );
        assert_eq!(kt.get(&p, None, None).unwrap().kvno, 2);
        // The name type does not matter.
        let mut p3 = p.clone();
        p3.name.name_type = name_type::SRV_HST;
        assert_eq!(kt.get(&p3, Some(1), Some(17)).unwrap().kvno, 1);
    }

    #[test]
    fn find_kvno_wraparound_and_low_bits() {
        // 8-bit wrap: kvno 2 written after kvno 255 is newer.
        let mut kt = Keytab::default();
        kt.add(entry("a@R", 255, 18, 100));
        kt.add(entry("a@R", 2, 18, 200));
        assert_eq!(kt.find(None, None, None)[0].kvno, 2);
        // ...but not when it is older.
        let mut kt2 = Keytab::default();
        kt2.add(entry("a@R", 255, 18, 300));
        kt2.add(entry("a@R", 2, 18, 200));
        assert_eq!(kt2.find(None, None, None)[0].kvno, 255);
        // A request for kvno 300 matches an entry truncated to 300 & 0xff = 44, but an
        // exact match later in the file wins.
        let mut kt3 = Keytab::default();
        kt3.add(entry("a@R", 44, 18, 1));
        assert_eq!(kt3.find(None, Some(300), None)[0].kvno, 44);
        kt3.add(entry("a@R", 300, 18, 1));
        assert_eq!(kt3.find(None, Some(300), None)[0].kvno, 300);
        // kvno-0 entries are wildcards.
        let mut kt4 = Keytab::default();
        kt4.add(entry("a@R", 0, 18, 1));
        assert_eq!(kt4.find(None, Some(5), None)[0].kvno, 0);
    }

    #[test]
    fn resolve_names() {
        assert_eq!(
            resolve_keytab_name(Some("FILE:/x/y")).unwrap(),
            PathBuf::from("/x/y")
        );
        assert_eq!(
            resolve_keytab_name(Some("WRFILE:/x/y")).unwrap(),
            PathBuf::from("/x/y")
        );
        assert_eq!(
            resolve_keytab_name(Some("rel/kt")).unwrap(),
            PathBuf::from("rel/kt")
        );
        assert_eq!(
            resolve_keytab_name(Some("/a:b")).unwrap(),
            PathBuf::from("/a:b")
        );
        for bad in ["MEMORY:x", "KEYRING:persistent:0", "KDB:"] {
            let e = resolve_keytab_name(Some(bad)).unwrap_err();
            assert_eq!(e.minor, minor::KT_UNKNOWN_TYPE);
            assert!(e.detail.contains("unsupported"));
        }
        assert_eq!(
            resolve_keytab_name(Some("FILE:")).unwrap_err().minor,
            minor::KT_BADNAME
        );
    }

    #[test]
    fn save_and_load() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("krbap-kt-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("kt");
        let mut kt = Keytab::default();
        kt.add(entry("a@R", 1, 18, 5));
        kt.save(&path).unwrap();
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(Keytab::load(&path).unwrap(), kt);
        let missing = Keytab::load(&dir.join("nope")).unwrap_err();
        assert_eq!(missing.minor, libc::ENOENT);
        assert!(missing.detail.contains("not found"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    fn temp_path(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "krbap-kt-{name}-{}-{}",
            std::process::id(),
            crate::crypto::random_u32()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir.join("kt")
    }

    /// In-place adds as MIT's krb5_kt_add_entry: a new 0600 file with the header, appends at
    /// the end, a large enough hole reused (keeping its length, the rest zero padding), what
    /// follows an end-of-entries mark cut off, a damaged file left alone.
    #[test]
    fn add_to_file_in_place() {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let path = temp_path("add");
        Keytab::add_to_file(&path, &[entry("a@R", 1, 18, 1)]).unwrap();
        let meta = std::fs::metadata(&path).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        let ino = meta.ino();
        Keytab::add_to_file(&path, &[entry("b@R", 2, 17, 2), entry("c@R", 3, 18, 3)]).unwrap();
        let kt = Keytab::load(&path).unwrap();
        let names: Vec<_> = kt.entries.iter().map(|e| e.principal.to_string()).collect();
        assert_eq!(names, ["a@R", "b@R", "c@R"]);
        assert_eq!(
            std::fs::metadata(&path).unwrap().ino(),
            ino,
            "written in place"
        );
        // Delete b as MIT does (negative length, zeroed body): a hole.
        let mut bytes = std::fs::read(&path).unwrap();
        let a_len = i32::from_be_bytes(bytes[2..6].try_into().unwrap()) as usize;
        let b_at = 2 + 4 + a_len;
        let b_len = i32::from_be_bytes(bytes[b_at..b_at + 4].try_into().unwrap()) as usize;
        bytes[b_at..b_at + 4].copy_from_slice(&(-(b_len as i32)).to_be_bytes());
        bytes[b_at + 4..b_at + 4 + b_len].fill(0);
        std::fs::write(&path, &bytes).unwrap();
        // "d@R" is as long as "b@R": it takes the hole; a longer name goes to the end.
        Keytab::add_to_file(
            &path,
            &[entry("d@R", 4, 18, 4), entry("long/name@R", 5, 18, 5)],
        )
        .unwrap();
        let after = std::fs::read(&path).unwrap();
        assert_eq!(
            i32::from_be_bytes(after[b_at..b_at + 4].try_into().unwrap()),
            b_len as i32
        );
        let names: Vec<_> = Keytab::load(&path)
            .unwrap()
            .entries
            .iter()
            .map(|e| e.principal.to_string())
            .collect();
        assert_eq!(names, ["a@R", "d@R", "c@R", "long/name@R"]);
        // An end mark followed by leftovers: the entry goes at the mark, the rest is cut.
        let mut bytes = std::fs::read(&path).unwrap();
        let end = bytes.len();
        bytes.extend_from_slice(&[0, 0, 0, 0, 0xde, 0xad]);
        std::fs::write(&path, &bytes).unwrap();
        Keytab::add_to_file(&path, &[entry("e@R", 6, 18, 6)]).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(Keytab::parse(&bytes, "k").unwrap().entries.len(), 5);
        assert_eq!(
            bytes.len(),
            end + 4 + encode_entry(&entry("e@R", 6, 18, 6)).len()
        );
        // A record running past the end: refused, file untouched.
        let mut damaged = bytes.clone();
        damaged.truncate(damaged.len() - 3);
        std::fs::write(&path, &damaged).unwrap();
        let e = Keytab::add_to_file(&path, &[entry("f@R", 7, 18, 7)]).unwrap_err();
        assert_eq!(e.minor, minor::KT_FORMAT);
        assert_eq!(std::fs::read(&path).unwrap(), damaged);
        std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }

    /// A keytab that `add_to_file` creates is never seen empty by another program: MIT's
    /// writers refuse an empty keytab (KRB5_KEYTAB_BADVNO), so a `ktadd` racing our create
    /// would lose its entries. A reader polls the path while the file is created, 200 times;
    /// an existing file and an empty one (MIT's own create) are written to as before, and no
    /// temporary file is left behind.
    #[test]
    fn created_keytab_is_never_empty() {
        use std::os::unix::fs::PermissionsExt;
        use std::sync::atomic::{AtomicBool, Ordering};
        use std::sync::Arc;
        let path = temp_path("create");
        let dir = path.parent().unwrap().to_path_buf();
        for round in 0..200 {
            let _ = std::fs::remove_file(&path);
            let done = Arc::new(AtomicBool::new(false));
            let watching = Arc::new(AtomicBool::new(false));
            let watcher = {
                let (path, done, watching) = (path.clone(), done.clone(), watching.clone());
                std::thread::spawn(move || {
                    let mut empty_seen = 0u32;
                    while !done.load(Ordering::Acquire) {
                        if let Ok(f) = std::fs::File::open(&path) {
                            empty_seen += u32::from(f.metadata().unwrap().len() == 0);
                        }
                        watching.store(true, Ordering::Release);
                    }
                    empty_seen
                })
            };
            while !watching.load(Ordering::Acquire) {
                std::hint::spin_loop();
            }
            Keytab::add_to_file(&path, &[entry("a@R", 1, 18, round)]).unwrap();
            done.store(true, Ordering::Release);
            assert_eq!(
                watcher.join().unwrap(),
                0,
                "round {round}: an empty keytab was seen"
            );
            let meta = std::fs::metadata(&path).unwrap();
            assert_eq!(meta.permissions().mode() & 0o777, 0o600);
            assert_eq!(Keytab::load(&path).unwrap().entries.len(), 1);
        }
        // MIT creates the file empty and writes the header once it holds the lock.
        std::fs::write(&path, b"").unwrap();
        Keytab::add_to_file(&path, &[entry("b@R", 1, 18, 0)]).unwrap();
        assert_eq!(Keytab::load(&path).unwrap().entries.len(), 1);
        // An existing file is kept: create_complete leaves it as it is.
        let before = std::fs::read(&path).unwrap();
        let e = create_complete(&path, &[5, 2]).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&path).unwrap(), before);
        let names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|d| d.unwrap().file_name())
            .collect();
        assert_eq!(names, [path.file_name().unwrap()], "no temporary file left");
        // A missing directory is reported as the keytab not found.
        let gone = dir.join("no-such-dir").join("k");
        let e = Keytab::add_to_file(&gone, &[entry("c@R", 1, 18, 0)]).unwrap_err();
        assert!(e.to_string().contains("not found"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Threads of one process adding at once lose nothing (OFD locks exclude them).
    #[test]
    fn concurrent_adds_lose_nothing() {
        let path = temp_path("threads");
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let path = path.clone();
                std::thread::spawn(move || {
                    for i in 0..20 {
                        let e = entry(&format!("s{t}/h{i}@R"), 1, 18, 0);
                        Keytab::add_to_file(&path, &[e]).unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let kt = Keytab::parse(&std::fs::read(&path).unwrap(), "k").unwrap();
        assert_eq!(kt.entries.len(), 80);
        std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }
}
