//! The choice of mechanism (RFC 2744 `mech_type` of gss_init_sec_context, RFC 4178
//! SPNEGO): initiating with raw krb5 or with SPNEGO around krb5, and asking a context
//! which one it uses. Accepting needs no choice: krbap_accept_sec_context tells the
//! mechanism by the first token.

use super::*;

/// Mechanism: Kerberos 5 itself, raw RFC 4121 tokens (what krbap_init_sec_context makes).
pub const KRBAP_MECH_KRB5: i32 = 1;
/// Mechanism: SPNEGO (RFC 4178) negotiating Kerberos 5, as browsers, curl --negotiate and
/// Windows "Negotiate" speak it.
pub const KRBAP_MECH_SPNEGO: i32 = 2;

fn mechanism_from_c(mech: i32) -> Result<Mechanism, Error> {
    match mech {
        KRBAP_MECH_KRB5 => Ok(Mechanism::Krb5),
        KRBAP_MECH_SPNEGO => Ok(Mechanism::Spnego),
        other => Err(Error::new(
            major::BAD_MECH,
            minor::EINVAL,
            format!(
                "unknown mechanism {other} (KRBAP_MECH_KRB5 = {KRBAP_MECH_KRB5}, \
                 KRBAP_MECH_SPNEGO = {KRBAP_MECH_SPNEGO})"
            ),
        )),
    }
}

fn mechanism_to_c(m: Mechanism) -> i32 {
    match m {
        Mechanism::Krb5 => KRBAP_MECH_KRB5,
        Mechanism::Spnego => KRBAP_MECH_SPNEGO,
    }
}

/// Initiates a context with the mechanism `mech` (RFC 2744 gss_init_sec_context with a
/// `mech_type`): KRBAP_MECH_KRB5 (exactly krbap_init_sec_context) or KRBAP_MECH_SPNEGO.
/// First call with `*context == NULL` and no input token; then call again with each token
/// of the acceptor while KRBAP_S_CONTINUE_NEEDED is returned. Send `output_token` to the
/// acceptor whenever it is non-empty, also together with KRBAP_S_COMPLETE (SPNEGO's last
/// mechListMIC). With SPNEGO the first call always returns KRBAP_S_CONTINUE_NEEDED: the
/// acceptor's answer is awaited even without mutual authentication, as MIT's initiator
/// does. Later calls use the context's own mechanism (`mech` is then not consulted). On
/// failure the context is deleted and `*context` set to NULL, and with SPNEGO
/// `output_token` holds a reject NegTokenResp for the acceptor (as MIT's initiator makes
/// one; sending it is optional); an acceptor's reject is
/// KRBAP_S_FAILURE with the minor code of the KRB-ERROR inside it (e.g.
/// KRB5KRB_AP_ERR_SKEW), else ERR_SPNEGO_NEGOTIATION_FAILED (0x20000004, MIT's value). An
/// unknown `mech`: KRBAP_S_BAD_MECH. The other arguments are those of
/// krbap_init_sec_context; `ret_flags` and `time_rec` are those of the krb5 context.
#[no_mangle]
pub extern "C" fn krbap_init_sec_context_mech(
    minor_status: *mut u32,
    cred: *const krbap_cred,
    context: *mut *mut krbap_ctx,
    target: *const krbap_name,
    mech: i32,
    req_flags: u32,
    channel_bindings: *const krbap_channel_bindings,
    input_token: *const krbap_buffer,
    ret_flags: *mut u32,
    time_rec: *mut u32,
    output_token: *mut krbap_buffer,
) -> u32 {
    guard(minor_status, || {
        clear_output(output_token);
        require_out(context, "context")?;
        // SAFETY: checked non-null.
        let existing = unsafe { *context };
        let step = if existing.is_null() {
            let mechanism = mechanism_from_c(mech)?;
            let target = name_ref(target)?
                .ok_or_else(|| Error::new(major::BAD_NAME, minor::EINVAL, "target name is NULL"))?;
            let owned;
            let ic: &InitiatorCredential = match cred_ref(cred)?.map(|c| &c.kind) {
                Some(CredKind::Initiator(i)) | Some(CredKind::Both(i, _)) => i,
                Some(_) => {
                    return Err(Error::new(
                        major::NO_CRED,
                        minor::G_CRED_USAGE_MISMATCH,
                        "not an initiator credential",
                    ))
                }
                None => {
                    owned = InitiatorCredential::from_ccache(None, None)?;
                    &owned
                }
            };
            let options = InitOptions {
                req_flags,
                channel_bindings: bindings_from_c(channel_bindings)?,
            };
            let (ctx, step) = Context::initiate(ic, &target.name, mechanism, &options)?;
            if step.token.is_some() {
                // Before the handle exists: a failed call leaves *context NULL.
                require_output(output_token)?;
            }
            write_out(context, new_ctx(ctx));
            step
        } else {
            let c = ctx_mut(existing)?;
            let token = input_bytes(input_token)?;
            match c.ctx.continue_init(token).and_then(|step| {
                if step.token.is_some() {
                    require_output(output_token).map_err(AcceptFailure::from)?;
                }
                Ok(step)
            }) {
                Ok(step) => step,
                Err(f) => {
                    free_ctx(existing);
                    write_out(context, std::ptr::null_mut());
                    if let (Some(t), false) = (f.token, output_token.is_null()) {
                        output_bytes(output_token, t)?;
                    }
                    return Err(f.error);
                }
            }
        };
        // SAFETY: set above or given by the caller, and still valid.
        let c = ctx_ref(unsafe { *context })?;
        if let Some(k) = c.ctx.krb5() {
            write_out(ret_flags, k.flags());
            write_out(time_rec, k.lifetime(now_of(k)));
        }
        if let Some(t) = step.token {
            output_bytes(output_token, t)?;
        }
        Ok(if step.complete {
            major::COMPLETE
        } else {
            major::CONTINUE_NEEDED
        })
    })
}

/// The mechanism of a context: KRBAP_MECH_KRB5 or KRBAP_MECH_SPNEGO (the one chosen by
/// the initiator; for an acceptor, the one the first token was framed for). After SPNEGO,
/// per-message calls (wrap, MIC) use the negotiated Kerberos 5 context.
#[no_mangle]
pub extern "C" fn krbap_inquire_mech(
    minor_status: *mut u32,
    context: *const krbap_ctx,
    mech: *mut i32,
) -> u32 {
    guard(minor_status, || {
        let c = ctx_ref(context)?;
        write_out(mech, mechanism_to_c(c.ctx.mechanism()));
        Ok(major::COMPLETE)
    })
}
