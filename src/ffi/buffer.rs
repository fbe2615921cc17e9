//! Byte buffers (RFC 2744 gss_buffer_desc): borrowed input, library-owned output and
//! its release.

use super::*;

/// A byte buffer (RFC 2744 gss_buffer_desc). Buffers returned by krbap own their bytes
/// and must be released with `krbap_buffer_free`; input buffers are borrowed.
#[repr(C)]
pub struct krbap_buffer {
    pub length: usize,
    pub value: *mut c_void,
}

/// The largest input buffer krbap accepts (tokens, messages): 1 GiB. Larger lengths
/// are treated as a corrupted buffer descriptor.
pub const KRBAP_MAX_BUFFER: usize = 1 << 30;

/// Borrows an input buffer as a slice. NULL buffer or zero length -> empty slice.
pub(crate) fn input_bytes<'a>(buf: *const krbap_buffer) -> Result<&'a [u8], Error> {
    if buf.is_null() {
        return Ok(&[]);
    }
    // SAFETY: non-null pointer to a caller-owned descriptor.
    let b = unsafe { &*buf };
    if b.length == 0 {
        return Ok(&[]);
    }
    if b.value.is_null() {
        return Err(Error::new(
            major::CALL_INACCESSIBLE_READ,
            minor::EINVAL,
            "buffer value is NULL",
        ));
    }
    if b.length > KRBAP_MAX_BUFFER {
        return Err(Error::new(
            major::CALL_BAD_STRUCTURE,
            minor::EINVAL,
            "buffer length is absurd",
        ));
    }
    // SAFETY: the caller promises `value` points to `length` readable bytes.
    Ok(unsafe { std::slice::from_raw_parts(b.value as *const u8, b.length) })
}

/// Refuses a NULL output buffer before an operation that changes state (a sequence number
/// sent or received), so that the misuse cannot consume a token or a sequence number.
pub(crate) fn require_output(out: *mut krbap_buffer) -> Result<(), Error> {
    if out.is_null() {
        return Err(Error::new(
            major::CALL_INACCESSIBLE_WRITE,
            minor::EINVAL,
            "output buffer is NULL",
        ));
    }
    Ok(())
}

/// Hands `bytes` to C through `out` (which must be non-null).
pub(crate) fn output_bytes(out: *mut krbap_buffer, bytes: Vec<u8>) -> Result<(), Error> {
    if out.is_null() {
        return Err(Error::new(
            major::CALL_INACCESSIBLE_WRITE,
            minor::EINVAL,
            "output buffer is NULL",
        ));
    }
    let mut boxed = bytes.into_boxed_slice();
    let length = boxed.len();
    let value = if length == 0 {
        std::ptr::null_mut()
    } else {
        boxed.as_mut_ptr() as *mut c_void
    };
    std::mem::forget(boxed);
    // SAFETY: `out` is non-null and points to caller-owned storage for a descriptor.
    unsafe { *out = krbap_buffer { length, value } };
    Ok(())
}

/// Empties an output buffer so that a failed call leaves `{0, NULL}`.
pub(crate) fn clear_output(out: *mut krbap_buffer) {
    if !out.is_null() {
        // SAFETY: non-null, caller-owned.
        unsafe {
            *out = krbap_buffer {
                length: 0,
                value: std::ptr::null_mut(),
            }
        };
    }
}

/// Releases a buffer returned by krbap and sets it to `{0, NULL}`. The bytes are wiped
/// first (tokens may contain key-derived material; wiping is cheap). A NULL `buffer` or
/// an already-empty buffer is fine (RFC 2744 gss_release_buffer).
#[no_mangle]
pub extern "C" fn krbap_buffer_free(minor_status: *mut u32, buffer: *mut krbap_buffer) -> u32 {
    guard(minor_status, || {
        if buffer.is_null() {
            return Ok(major::COMPLETE);
        }
        // SAFETY: non-null; when value is non-null it came from output_bytes (a boxed slice
        // of exactly `length` bytes).
        unsafe {
            let b = &mut *buffer;
            if !b.value.is_null() && b.length > 0 {
                let slice = std::slice::from_raw_parts_mut(b.value as *mut u8, b.length);
                zeroize::Zeroize::zeroize(slice);
                drop(Box::from_raw(slice as *mut [u8]));
            }
            *b = krbap_buffer {
                length: 0,
                value: std::ptr::null_mut(),
            };
        }
        Ok(major::COMPLETE)
    })
}
