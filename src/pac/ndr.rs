//! The slice of NDR (DCE 1.1 RPC, chapter 14, as profiled by MS-RPCE §2.2) that the PAC's
//! RPC-encoded buffers use: the type serialization version 1 envelope (MS-RPCE §2.2.6),
//! little-endian primitives aligned to their size (hyper/FILETIME to 4 in these
//! structures, as Windows and Samba encode them), unique pointers (a non-zero referent
//! id; the pointee follows later, in the order the pointers appeared), conformant and
//! conformant-varying arrays (a leading maximum count, plus offset and actual count), the
//! RPC_UNICODE_STRING of MS-DTYP §2.3.10 and the RPC_SID of MS-DTYP §2.4.2.3.
//!
//! The reader works on the whole PAC and hands out absolute offsets, so that the parsed
//! layout of a buffer refers into the PAC bytes without copying them. Every read is
//! bounded by the end of the serialized object.

use super::malformed;
use super::sid::{check_header, Sid, MAX_SUB_AUTHORITIES};
use crate::error::Error;

/// A UTF-16LE string inside the PAC: byte offset and byte length (even), already checked
/// to be well-formed UTF-16 (no unpaired surrogates).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Utf16Ref {
    pub(super) start: u32,
    pub(super) len: u32,
}

impl Utf16Ref {
    pub(super) fn bytes<'a>(&self, pac: &'a [u8]) -> &'a [u8] {
        &pac[self.start as usize..(self.start + self.len) as usize]
    }
    /// The string as UTF-8 (the range was validated when parsed).
    pub(super) fn to_string(self, pac: &[u8]) -> String {
        let units = self
            .bytes(pac)
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]));
        char::decode_utf16(units)
            .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
            .collect()
    }
    /// Compares with a string given as UTF-16 code units, without allocating.
    pub(super) fn eq_units(self, pac: &[u8], mut theirs: impl Iterator<Item = u16>) -> bool {
        let mut units = self
            .bytes(pac)
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]));
        loop {
            match (units.next(), theirs.next()) {
                (None, None) => return true,
                (Some(a), Some(b)) if a == b => {}
                _ => return false,
            }
        }
    }
}

/// Checks that `pac[start..start+len]` is well-formed UTF-16LE (even length, surrogates
/// paired) and returns its reference.
pub(super) fn utf16(pac: &[u8], start: usize, len: usize, what: &str) -> Result<Utf16Ref, Error> {
    if !len.is_multiple_of(2) {
        return Err(malformed(format!(
            "{what}: UTF-16 string of odd length {len}"
        )));
    }
    let bytes = start
        .checked_add(len)
        .and_then(|end| pac.get(start..end))
        .ok_or_else(|| malformed(format!("{what}: string of {len} bytes past the buffer")))?;
    // Fast path: no surrogate code unit (0xD800..=0xDFFF: high byte 0xD8..=0xDF) at all.
    let has_surrogate = bytes.chunks_exact(2).any(|c| c[1] & 0xf8 == 0xd8);
    let units = bytes
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]));
    if has_surrogate && char::decode_utf16(units).any(|c| c.is_err()) {
        return Err(malformed(format!(
            "{what}: string is not valid UTF-16 (unpaired surrogate)"
        )));
    }
    Ok(Utf16Ref {
        start: start as u32,
        len: len as u32,
    })
}

/// The inline part of an RPC_UNICODE_STRING (MS-DTYP §2.3.10): Length and MaximumLength in
/// bytes and whether the Buffer pointer is non-null.
#[derive(Clone, Copy, Debug)]
pub(super) struct StringHeader {
    length: u16,
    maximum: u16,
    present: bool,
}

/// A bounded NDR reader over one serialized object of the PAC.
#[derive(Clone)]
pub(super) struct Reader<'a> {
    pac: &'a [u8],
    /// Absolute offset of the object's first byte (alignment is relative to it).
    start: usize,
    end: usize,
    pos: usize,
    what: &'static str,
}

impl<'a> Reader<'a> {
    /// The object inside a buffer encoded with the type serialization version 1 envelope
    /// (MS-RPCE §2.2.6): an 8-byte common header (version 1, little-endian 0x10, header
    /// length 8, filler) and an 8-byte private header (object length, filler), then the
    /// object. Big-endian NDR (which no KDC sends in a PAC) is refused.
    pub(super) fn type_serialized(
        pac: &'a [u8],
        offset: usize,
        size: usize,
        what: &'static str,
    ) -> Result<Reader<'a>, Error> {
        let buf = &pac[offset..offset + size];
        let head = buf.get(..16).ok_or_else(|| {
            malformed(format!(
                "{what}: {size} bytes, shorter than the 16-byte NDR header"
            ))
        })?;
        if head[0] != 1 {
            return Err(malformed(format!(
                "{what}: NDR type serialization version {}, not 1",
                head[0]
            )));
        }
        if head[1] != 0x10 {
            return Err(malformed(format!(
                "{what}: NDR data representation {:#04x} is not little-endian ASCII (0x10)",
                head[1]
            )));
        }
        let common_len = u16::from_le_bytes([head[2], head[3]]);
        if common_len != 8 {
            return Err(malformed(format!(
                "{what}: NDR common header length {common_len}, not 8"
            )));
        }
        let object_len = u32::from_le_bytes([head[8], head[9], head[10], head[11]]) as usize;
        if object_len > size - 16 {
            return Err(malformed(format!(
                "{what}: NDR object of {object_len} bytes in a buffer of {size}"
            )));
        }
        Ok(Reader {
            pac,
            start: offset + 16,
            end: offset + 16 + object_len,
            pos: offset + 16,
            what,
        })
    }

    /// The absolute offset of the next byte.
    pub(super) fn pos(&self) -> usize {
        self.pos
    }

    // Errors are the rare path: kept out of line so the reads inline to a few instructions
    // (the accept path parses a LOGON_INFO per ticket).
    #[cold]
    #[inline(never)]
    pub(super) fn err(&self, detail: impl std::fmt::Display) -> Error {
        malformed(format!(
            "{}: {detail} (at byte {} of the NDR object)",
            self.what,
            self.pos - self.start
        ))
    }

    #[cold]
    #[inline(never)]
    fn short(&self, n: usize) -> Error {
        self.err(format_args!(
            "{n} bytes needed, {} left",
            self.end - self.pos
        ))
    }

    /// Skips to a multiple of `n` (a power of two) from the object's start.
    #[inline(always)]
    fn align(&mut self, n: usize) -> Result<(), Error> {
        let pad = (self.start.wrapping_sub(self.pos)) & (n - 1);
        if pad > self.end - self.pos {
            return Err(self.short(pad));
        }
        self.pos += pad;
        Ok(())
    }

    #[inline(always)]
    fn take(&mut self, n: usize) -> Result<&'a [u8], Error> {
        if n > self.end - self.pos {
            return Err(self.short(n));
        }
        let b = &self.pac[self.pos..self.pos + n];
        self.pos += n;
        Ok(b)
    }

    #[inline(always)]
    fn array<const N: usize>(&mut self) -> Result<[u8; N], Error> {
        if N > self.end - self.pos {
            return Err(self.short(N));
        }
        let mut a = [0u8; N];
        a.copy_from_slice(&self.pac[self.pos..self.pos + N]);
        self.pos += N;
        Ok(a)
    }

    #[inline(always)]
    pub(super) fn u8(&mut self) -> Result<u8, Error> {
        Ok(self.array::<1>()?[0])
    }
    #[inline(always)]
    pub(super) fn u16(&mut self) -> Result<u16, Error> {
        self.align(2)?;
        Ok(u16::from_le_bytes(self.array()?))
    }
    #[inline(always)]
    pub(super) fn u32(&mut self) -> Result<u32, Error> {
        self.align(4)?;
        Ok(u32::from_le_bytes(self.array()?))
    }
    /// A FILETIME (two ULONGs, low first) or NTTIME: aligned to 4 in these structures.
    #[inline(always)]
    pub(super) fn filetime(&mut self) -> Result<u64, Error> {
        let lo = self.u32()? as u64;
        let hi = self.u32()? as u64;
        Ok(hi << 32 | lo)
    }
    pub(super) fn bytes(&mut self, n: usize) -> Result<&'a [u8], Error> {
        self.take(n)
    }
    /// A unique pointer: its referent id, non-zero when the pointee follows later.
    #[inline(always)]
    pub(super) fn pointer(&mut self) -> Result<bool, Error> {
        Ok(self.u32()? != 0)
    }
    /// A top-level unique pointer that must not be null (the serialized object itself).
    pub(super) fn top_pointer(&mut self) -> Result<(), Error> {
        if !self.pointer()? {
            return Err(self.err("the top-level pointer is null"));
        }
        Ok(())
    }

    /// The conformance (maximum count) of a conformant array, which must equal the count
    /// field the structure declared; also checks that `count` elements of `elem` bytes
    /// can still follow.
    pub(super) fn conformance(
        &mut self,
        declared: u32,
        elem: usize,
        field: &str,
    ) -> Result<(), Error> {
        let max = self.u32()?;
        if max != declared {
            return Err(self.err(format_args!(
                "{field}: array maximum count {max} differs from the declared count {declared}"
            )));
        }
        if (declared as usize).saturating_mul(elem) > self.end - self.pos {
            return Err(self.err(format_args!(
                "{field}: {declared} elements of {elem} bytes do not fit in the {} bytes left",
                self.end - self.pos
            )));
        }
        Ok(())
    }

    /// The inline part of an RPC_UNICODE_STRING.
    pub(super) fn string_header(&mut self, field: &str) -> Result<StringHeader, Error> {
        let length = self.u16()?;
        let maximum = self.u16()?;
        let present = self.pointer()?;
        if length > maximum || length % 2 != 0 || maximum % 2 != 0 {
            return Err(self.err(format_args!(
                "{field}: Length {length} and MaximumLength {maximum} are not even with Length <= MaximumLength"
            )));
        }
        if !present && length != 0 {
            return Err(self.err(format_args!("{field}: Length {length} with a null buffer")));
        }
        Ok(StringHeader {
            length,
            maximum,
            present,
        })
    }

    /// The deferred part of an RPC_UNICODE_STRING: the conformant-varying WCHAR array
    /// (maximum count = MaximumLength/2, offset 0, actual count = Length/2), when the
    /// pointer was non-null. An absent string reads as empty.
    pub(super) fn string_body(&mut self, h: StringHeader, field: &str) -> Result<Utf16Ref, Error> {
        if !h.present {
            return Ok(Utf16Ref::default());
        }
        let max = self.u32()?;
        let offset = self.u32()?;
        let actual = self.u32()?;
        if max as usize * 2 != h.maximum as usize
            || offset != 0
            || actual as usize * 2 != h.length as usize
        {
            return Err(self.err(format_args!(
                "{field}: conformant-varying array (max {max}, offset {offset}, actual {actual}) does not match Length {} / MaximumLength {}",
                h.length, h.maximum
            )));
        }
        let at = self.pos;
        self.take(h.length as usize)?;
        utf16(self.pac, at, h.length as usize, self.what)
    }

    /// An RPC_SID (MS-DTYP §2.4.2.3): the conformance (sub-authority count) first, then
    /// Revision, SubAuthorityCount, IdentifierAuthority and the sub-authorities.
    pub(super) fn sid(&mut self, field: &str) -> Result<Sid, Error> {
        let max = self.u32()? as usize;
        let revision = self.u8()?;
        let count = self.u8()? as usize;
        check_header(revision, count, self.what)?;
        if max != count {
            return Err(self.err(format_args!(
                "{field}: SID conformance {max} differs from its SubAuthorityCount {count}"
            )));
        }
        let auth = self.bytes(6)?;
        let mut sub = [0u32; MAX_SUB_AUTHORITIES];
        for s in sub.iter_mut().take(count) {
            *s = self.u32()?;
        }
        let authority =
            u64::from_be_bytes([0, 0, auth[0], auth[1], auth[2], auth[3], auth[4], auth[5]]);
        Sid::new(authority, &sub[..count]).ok_or_else(|| self.err(format_args!("{field}: bad SID")))
    }
}
