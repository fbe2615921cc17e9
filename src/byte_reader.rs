//! A bounds-checked cursor over MIT's binary file formats (keytab, ccache): every read
//! checks the bytes left first, and errors name the file and the absolute byte offset in
//! the format's own words and minor code.

use crate::error::{Error, Result};

/// Byte order of a file's integers: big-endian, or the writer's native order (keytab 0x0501).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ByteOrder {
    Big,
    Native,
}

pub(crate) struct ByteReader<'a> {
    pub bytes: &'a [u8],
    pub pos: usize,
    /// Offset of `bytes` in the file (a keytab record is read from its own slice).
    pub base: usize,
    pub order: ByteOrder,
    pub file: &'a str,
    /// The format's error from (file, absolute offset, text).
    pub error: fn(&str, usize, &str) -> Error,
    /// Where a short read ran out, appended to its message (" in the record").
    pub within: &'static str,
}

impl<'a> ByteReader<'a> {
    /// A big-endian reader of a whole file's `bytes` from `pos`.
    pub fn new(
        bytes: &'a [u8],
        pos: usize,
        file: &'a str,
        error: fn(&str, usize, &str) -> Error,
    ) -> ByteReader<'a> {
        ByteReader {
            bytes,
            pos,
            base: 0,
            order: ByteOrder::Big,
            file,
            error,
            within: "",
        }
    }
    /// An error at the current position.
    pub fn err(&self, what: &str) -> Error {
        self.err_at(self.pos, what)
    }
    /// An error at position `at` of `bytes`.
    pub fn err_at(&self, at: usize, what: &str) -> Error {
        (self.error)(self.file, self.base + at, what)
    }
    pub fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }
    pub fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8]> {
        if n > self.remaining() {
            return Err(self.err(&format!(
                "{what}: need {n} bytes, only {} left{}",
                self.remaining(),
                self.within
            )));
        }
        let out = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }
    pub fn u8(&mut self, what: &str) -> Result<u8> {
        Ok(self.take(1, what)?[0])
    }
    pub fn u16(&mut self, what: &str) -> Result<u16> {
        let b: [u8; 2] = self.take(2, what)?.try_into().expect("2 bytes");
        Ok(match self.order {
            ByteOrder::Big => u16::from_be_bytes(b),
            ByteOrder::Native => u16::from_ne_bytes(b),
        })
    }
    pub fn u32(&mut self, what: &str) -> Result<u32> {
        let b: [u8; 4] = self.take(4, what)?.try_into().expect("4 bytes");
        Ok(match self.order {
            ByteOrder::Big => u32::from_be_bytes(b),
            ByteOrder::Native => u32::from_ne_bytes(b),
        })
    }
    /// A 16-bit length followed by that many bytes.
    pub fn data16(&mut self, what: &str) -> Result<&'a [u8]> {
        let len = self.u16(what)? as usize;
        self.take(len, what)
    }
    /// A 32-bit length followed by that many bytes.
    pub fn data32(&mut self, what: &str) -> Result<&'a [u8]> {
        let at = self.pos;
        let len = self.u32(what)? as usize;
        if len > self.remaining() {
            return Err(self.err_at(
                at,
                &format!(
                    "{what}: length {len} exceeds the {} bytes left",
                    self.remaining()
                ),
            ));
        }
        self.take(len, what)
    }
    /// A 32-bit count of items each at least `min_item` bytes long, checked against the
    /// remaining bytes so that a hostile count cannot drive a large allocation.
    pub fn count32(&mut self, min_item: usize, what: &str) -> Result<usize> {
        let at = self.pos;
        let n = self.u32(what)? as usize;
        if n > self.remaining() / min_item {
            return Err(self.err_at(
                at,
                &format!("{what} {n} exceeds the {} bytes left", self.remaining()),
            ));
        }
        Ok(n)
    }
}
