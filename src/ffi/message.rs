//! Per-message protection (RFC 2744 §5.33/5.34 wrap/unwrap, §5.15/5.32 MIC, RFC 4121
//! §4.2 tokens).

use super::*;

pub(crate) fn check_qop(qop: u32) -> Result<(), Error> {
    if qop != 0 {
        return Err(Error::new(
            major::BAD_QOP,
            minor::G_UNKNOWN_QOP,
            "only the default QOP (0) exists",
        ));
    }
    Ok(())
}

/// Wraps a message (RFC 2744 gss_wrap): with confidentiality when `conf_req_flag` is
/// non-zero. `conf_state` (may be NULL) tells whether it was applied.
#[no_mangle]
pub extern "C" fn krbap_wrap(
    minor_status: *mut u32,
    context: *mut krbap_ctx,
    conf_req_flag: i32,
    qop_req: u32,
    input_message: *const krbap_buffer,
    conf_state: *mut i32,
    output_message: *mut krbap_buffer,
) -> u32 {
    guard(minor_status, || {
        clear_output(output_message);
        check_qop(qop_req)?;
        let c = ctx_mut(context)?;
        require_output(output_message)?;
        let msg = input_bytes(input_message)?;
        let token = krb5_of_mut(&mut c.ctx)?.wrap(conf_req_flag != 0, msg)?;
        write_out(conf_state, (conf_req_flag != 0) as i32);
        output_bytes(output_message, token)?;
        Ok(major::COMPLETE)
    })
}

/// Unwraps a Wrap token (RFC 2744 gss_unwrap). The major status may carry the
/// supplementary bits KRBAP_S_DUPLICATE_TOKEN / OLD_TOKEN / UNSEQ_TOKEN / GAP_TOKEN.
#[no_mangle]
pub extern "C" fn krbap_unwrap(
    minor_status: *mut u32,
    context: *mut krbap_ctx,
    input_message: *const krbap_buffer,
    output_message: *mut krbap_buffer,
    conf_state: *mut i32,
    qop_state: *mut u32,
) -> u32 {
    guard(minor_status, || {
        clear_output(output_message);
        let c = ctx_mut(context)?;
        require_output(output_message)?;
        let token = input_bytes(input_message)?;
        let u = krb5_of_mut(&mut c.ctx)?.unwrap(token)?;
        write_out(conf_state, u.conf as i32);
        write_out(qop_state, u.qop);
        output_bytes(output_message, u.message)?;
        Ok(major::COMPLETE | u.supplementary)
    })
}

/// Computes a MIC token over a message (RFC 2744 gss_get_mic).
#[no_mangle]
pub extern "C" fn krbap_get_mic(
    minor_status: *mut u32,
    context: *mut krbap_ctx,
    qop_req: u32,
    message: *const krbap_buffer,
    message_token: *mut krbap_buffer,
) -> u32 {
    guard(minor_status, || {
        clear_output(message_token);
        check_qop(qop_req)?;
        let c = ctx_mut(context)?;
        require_output(message_token)?;
        let token = krb5_of_mut(&mut c.ctx)?.get_mic(input_bytes(message)?)?;
        output_bytes(message_token, token)?;
        Ok(major::COMPLETE)
    })
}

/// Verifies a MIC token (RFC 2744 gss_verify_mic); supplementary bits as for unwrap.
#[no_mangle]
pub extern "C" fn krbap_verify_mic(
    minor_status: *mut u32,
    context: *mut krbap_ctx,
    message: *const krbap_buffer,
    message_token: *const krbap_buffer,
    qop_state: *mut u32,
) -> u32 {
    guard(minor_status, || {
        let c = ctx_mut(context)?;
        let supp = krb5_of_mut(&mut c.ctx)?
            .verify_mic(input_bytes(message)?, input_bytes(message_token)?)?;
        write_out(qop_state, 0);
        Ok(major::COMPLETE | supp)
    })
}

/// The largest message whose Wrap token fits in `req_output_size` bytes (RFC 2744
/// gss_wrap_size_limit).
#[no_mangle]
pub extern "C" fn krbap_wrap_size_limit(
    minor_status: *mut u32,
    context: *mut krbap_ctx,
    conf_req_flag: i32,
    qop_req: u32,
    req_output_size: u32,
    max_input_size: *mut u32,
) -> u32 {
    guard(minor_status, || {
        check_qop(qop_req)?;
        let c = ctx_mut(context)?;
        let n = krb5_of_mut(&mut c.ctx)?.wrap_size_limit(conf_req_flag != 0, req_output_size)?;
        write_out(max_input_size, n);
        Ok(major::COMPLETE)
    })
}
