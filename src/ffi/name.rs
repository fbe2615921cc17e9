//! Names (RFC 2744 §5.16, §5.10, §5.28: import, display, release).

use super::*;

/// `name_type` for `krbap_import_name`: `service@host` (GSS_C_NT_HOSTBASED_SERVICE).
pub const KRBAP_NT_HOSTBASED_SERVICE: i32 = 1;
/// `name_type` for `krbap_import_name`: `comp/comp@REALM` (GSS_KRB5_NT_PRINCIPAL_NAME).
pub const KRBAP_NT_KRB5_PRINCIPAL: i32 = 2;
/// `name_type` for `krbap_import_name`: a user name (GSS_C_NT_USER_NAME).
pub const KRBAP_NT_USER_NAME: i32 = 3;

const NAME_MAGIC: u64 = 0x6b72_6261_704e_616d;

/// An opaque name handle. Immutable; may be shared between threads.
pub struct krbap_name {
    pub(crate) magic: u64,
    pub(crate) name: Name,
}

pub(crate) fn name_ref<'a>(p: *const krbap_name) -> Result<Option<&'a krbap_name>, Error> {
    // SAFETY: the caller passes a handle from krbap_import_name or NULL.
    unsafe { handle(p, NAME_MAGIC, "name", |n| n.magic) }
}

pub(crate) fn default_realm() -> Option<Vec<u8>> {
    crate::config::default_profile()
        .ok()
        .and_then(|p| p.default_realm().map(|r| r.as_bytes().to_vec()))
}

pub(crate) fn new_name(name: Name) -> *mut krbap_name {
    Box::into_raw(Box::new(krbap_name {
        magic: NAME_MAGIC,
        name,
    }))
}

/// Imports a name (RFC 2744 gss_import_name). `name_type` is one of KRBAP_NT_*.
/// A principal without `@REALM` gets the default realm of krb5.conf (if any); a
/// host-based name matches its principal in any realm.
#[no_mangle]
pub extern "C" fn krbap_import_name(
    minor_status: *mut u32,
    input_name: *const krbap_buffer,
    name_type: i32,
    output_name: *mut *mut krbap_name,
) -> u32 {
    guard(minor_status, || {
        require_out(output_name, "output_name")?;
        write_out(output_name, std::ptr::null_mut());
        let text = input_bytes(input_name)?;
        let ty = match name_type {
            KRBAP_NT_HOSTBASED_SERVICE => NameType::HostbasedService,
            KRBAP_NT_KRB5_PRINCIPAL => NameType::KerberosPrincipal,
            KRBAP_NT_USER_NAME => NameType::UserName,
            _ => {
                return Err(Error::new(
                    major::BAD_NAMETYPE,
                    minor::EINVAL,
                    "unknown name type",
                ))
            }
        };
        let realm = if ty == NameType::HostbasedService {
            None
        } else {
            default_realm()
        };
        let name = Name::import(text, ty, realm.as_deref())?;
        write_out(output_name, new_name(name));
        Ok(major::COMPLETE)
    })
}

/// The display form of a name: `comp/comp@REALM` (MIT escaping).
#[no_mangle]
pub extern "C" fn krbap_display_name(
    minor_status: *mut u32,
    name: *const krbap_name,
    output_name: *mut krbap_buffer,
) -> u32 {
    guard(minor_status, || {
        clear_output(output_name);
        let n = name_ref(name)?
            .ok_or_else(|| Error::new(major::BAD_NAME, minor::EINVAL, "name is NULL"))?;
        output_bytes(output_name, n.name.display())?;
        Ok(major::COMPLETE)
    })
}

/// Releases a name and sets `*name` to NULL; a NULL `*name` is a no-op.
#[no_mangle]
pub extern "C" fn krbap_release_name(minor_status: *mut u32, name: *mut *mut krbap_name) -> u32 {
    guard(minor_status, || {
        if name.is_null() {
            return Ok(major::COMPLETE);
        }
        // SAFETY: non-null pointer to the caller's handle variable.
        let p = unsafe { std::mem::replace(&mut *name, std::ptr::null_mut()) };
        if let Some(n) = name_ref(p)? {
            let mut b = unsafe { Box::from_raw(n as *const krbap_name as *mut krbap_name) };
            b.magic = 0;
        }
        Ok(major::COMPLETE)
    })
}
