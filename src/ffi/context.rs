//! Security contexts (RFC 2744 §5.19 init, §5.1 accept, §5.9 delete, §5.21 inquire) and
//! what an accepted context tells (session, authorization data, PAC).

use super::*;

/// Context flags (RFC 2744 GSS_C_*_FLAG values).
pub const KRBAP_C_DELEG_FLAG: u32 = 1;
pub const KRBAP_C_MUTUAL_FLAG: u32 = 2;
pub const KRBAP_C_REPLAY_FLAG: u32 = 4;
pub const KRBAP_C_SEQUENCE_FLAG: u32 = 8;
pub const KRBAP_C_CONF_FLAG: u32 = 16;
pub const KRBAP_C_INTEG_FLAG: u32 = 32;
pub const KRBAP_C_ANON_FLAG: u32 = 64;
pub const KRBAP_C_PROT_READY_FLAG: u32 = 128;
pub const KRBAP_C_TRANS_FLAG: u32 = 256;

/// Channel bindings (RFC 2744 gss_channel_bindings_struct). Address buffers and
/// application data may be empty.
#[repr(C)]
pub struct krbap_channel_bindings {
    pub initiator_addrtype: u32,
    pub initiator_address: krbap_buffer,
    pub acceptor_addrtype: u32,
    pub acceptor_address: krbap_buffer,
    pub application_data: krbap_buffer,
}

const CTX_MAGIC: u64 = 0x6b72_6261_7043_7478;

/// An opaque security-context handle (raw krb5 or SPNEGO). Use from one thread at a time.
pub struct krbap_ctx {
    // The only field: the handle's first bytes are its magic whatever the size of the
    // context, so a smaller handle of another type passed as a context is told apart by
    // reading its own magic, never memory past its end.
    h: CtxHandle,
}

#[doc(hidden)]
#[repr(C)]
pub struct CtxHandle {
    pub(crate) magic: u64,
    pub(crate) ctx: Context,
}

/// Boxes a new context into a handle.
pub(crate) fn new_ctx(ctx: Context) -> *mut krbap_ctx {
    Box::into_raw(Box::new(krbap_ctx::new(ctx)))
}

fn no_krb5_context() -> Error {
    Error::new(
        major::NO_CONTEXT,
        minor::G_BAD_MSG_CTX,
        "the SPNEGO negotiation has not run Kerberos yet",
    )
}

/// The krb5 context of a handle (for SPNEGO, once the Kerberos token was processed).
pub(crate) fn krb5_of(c: &Context) -> Result<&SecurityContext, Error> {
    c.krb5().ok_or_else(no_krb5_context)
}

pub(crate) fn krb5_of_mut(c: &mut Context) -> Result<&mut SecurityContext, Error> {
    c.krb5_mut().ok_or_else(no_krb5_context)
}

impl krbap_ctx {
    pub(crate) fn new(ctx: Context) -> krbap_ctx {
        krbap_ctx {
            h: CtxHandle {
                magic: CTX_MAGIC,
                ctx,
            },
        }
    }
}

impl std::ops::Deref for krbap_ctx {
    type Target = CtxHandle;
    fn deref(&self) -> &CtxHandle {
        &self.h
    }
}

impl std::ops::DerefMut for krbap_ctx {
    fn deref_mut(&mut self) -> &mut CtxHandle {
        &mut self.h
    }
}

pub(crate) fn bindings_from_c(
    cb: *const krbap_channel_bindings,
) -> Result<Option<ChannelBindings>, Error> {
    if cb.is_null() {
        return Ok(None);
    }
    // SAFETY: non-null pointer to a caller-owned struct.
    let cb = unsafe { &*cb };
    Ok(Some(ChannelBindings {
        initiator_addrtype: cb.initiator_addrtype,
        initiator_address: input_bytes(&cb.initiator_address)?.to_vec(),
        acceptor_addrtype: cb.acceptor_addrtype,
        acceptor_address: input_bytes(&cb.acceptor_address)?.to_vec(),
        application_data: input_bytes(&cb.application_data)?.to_vec(),
    }))
}

pub(crate) fn ctx_mut<'a>(p: *mut krbap_ctx) -> Result<&'a mut krbap_ctx, Error> {
    if p.is_null() {
        return Err(Error::new(
            major::NO_CONTEXT,
            minor::G_BAD_MSG_CTX,
            "no context",
        ));
    }
    // SAFETY: non-null handle from krbap_init/accept_sec_context; one thread at a time.
    let c = unsafe { &mut *p };
    if c.magic != CTX_MAGIC {
        return Err(bad_handle("context"));
    }
    Ok(c)
}

pub(crate) fn ctx_ref<'a>(p: *const krbap_ctx) -> Result<&'a krbap_ctx, Error> {
    ctx_mut(p as *mut krbap_ctx).map(|c| &*c)
}

pub(crate) fn free_ctx(p: *mut krbap_ctx) {
    if let Ok(c) = ctx_mut(p) {
        c.magic = 0;
        // SAFETY: the handle came from Box::into_raw in this module.
        drop(unsafe { Box::from_raw(c as *mut krbap_ctx) });
    }
}

/// Initiates a raw krb5 context (RFC 2744 gss_init_sec_context with the krb5 mechanism):
/// krbap_init_sec_context_mech with KRBAP_MECH_KRB5. First call with `*context == NULL`
/// and no input token: produces the initial token (AP-REQ) and returns
/// KRBAP_S_CONTINUE_NEEDED when mutual authentication was requested (else COMPLETE).
/// Second call with the acceptor's token (AP-REP or KRB-ERROR): completes or fails; on
/// failure the context is deleted and `*context` set to NULL. `cred` NULL: the default
/// ccache. `target` names the acceptor (host-based `service@host` or a principal; a
/// host's realm comes from krb5.conf `[domain_realm]`, else the client's realm).
/// A service ticket missing from the ccache is fetched from the KDC with the TGT and
/// stored in the ccache (KDC errors: KRBAP_S_FAILURE with the KDC's minor code, e.g.
/// KRB5KDC_ERR_S_PRINCIPAL_UNKNOWN; no TGT: KRBAP_S_NO_CRED). With KRBAP_C_DELEG_FLAG and
/// a forwardable TGT, a forwarded TGT is delegated to the acceptor; `ret_flags` has
/// KRBAP_C_DELEG_FLAG only when that happened (otherwise the context proceeds without).
#[no_mangle]
pub extern "C" fn krbap_init_sec_context(
    minor_status: *mut u32,
    cred: *const krbap_cred,
    context: *mut *mut krbap_ctx,
    target: *const krbap_name,
    req_flags: u32,
    channel_bindings: *const krbap_channel_bindings,
    input_token: *const krbap_buffer,
    ret_flags: *mut u32,
    time_rec: *mut u32,
    output_token: *mut krbap_buffer,
) -> u32 {
    krbap_init_sec_context_mech(
        minor_status,
        cred,
        context,
        target,
        KRBAP_MECH_KRB5,
        req_flags,
        channel_bindings,
        input_token,
        ret_flags,
        time_rec,
        output_token,
    )
}

pub(crate) fn now_of(ctx: &SecurityContext) -> i64 {
    ctx.now()
}

/// Fixes a context's clock at `unix_time` (0: back to the system clock), e.g. to test
/// expiry or to process captured tokens.
#[no_mangle]
pub extern "C" fn krbap_ctx_set_time(
    minor_status: *mut u32,
    context: *mut krbap_ctx,
    unix_time: i64,
) -> u32 {
    guard(minor_status, || {
        let c = ctx_mut(context)?;
        c.ctx.set_fixed_time((unix_time != 0).then_some(unix_time));
        Ok(major::COMPLETE)
    })
}

/// Accepts a context (RFC 2744 gss_accept_sec_context). The mechanism is told by the
/// first token, as MIT's mechglue does: a raw krb5 AP-REQ (RFC 4121) or a SPNEGO
/// NegTokenInit (RFC 4178) around one. krb5 completes in one call: `*context` becomes a
/// new established context and `output_token` holds the AP-REP when mutual
/// authentication was asked for (else it is empty). SPNEGO answers every call with a
/// NegTokenResp for the initiator (send `output_token` whenever it is non-empty, also with
/// COMPLETE) and may return KRBAP_S_CONTINUE_NEEDED with `*context` set (when Kerberos
/// was not the initiator's first choice, or a mechListMIC exchange is pending): pass the
/// initiator's next token with that context. On failure the minor status is MIT's code
/// (e.g. KRB5KRB_AP_ERR_SKEW; a SPNEGO list without Kerberos: KRBAP_S_BAD_MECH), a
/// context given in `*context` is deleted and set to NULL, and `output_token` may hold a
/// token to send back, as MIT does (a KRB-ERROR; for SPNEGO a reject NegTokenResp, with
/// the KRB-ERROR inside). `acceptor_cred` NULL: the default keytab. `src_name`,
/// `ret_flags`, `time_rec`, `delegated_cred` may be NULL and are set on COMPLETE;
/// `*delegated_cred` is set when the initiator delegated (KRBAP_C_DELEG_FLAG in
/// ret_flags) and must be released.
#[no_mangle]
pub extern "C" fn krbap_accept_sec_context(
    minor_status: *mut u32,
    context: *mut *mut krbap_ctx,
    acceptor_cred: *const krbap_cred,
    input_token: *const krbap_buffer,
    channel_bindings: *const krbap_channel_bindings,
    src_name: *mut *mut krbap_name,
    ret_flags: *mut u32,
    time_rec: *mut u32,
    output_token: *mut krbap_buffer,
    delegated_cred: *mut *mut krbap_cred,
) -> u32 {
    guard(minor_status, || {
        clear_output(output_token);
        write_out(src_name, std::ptr::null_mut());
        write_out(delegated_cred, std::ptr::null_mut());
        write_out(ret_flags, 0);
        write_out(time_rec, 0);
        require_out(context, "context")?;
        // SAFETY: checked non-null.
        let existing = unsafe { *context };
        if !existing.is_null() {
            let c = ctx_mut(existing)?;
            if c.ctx.is_initiator() {
                return Err(Error::new(
                    major::FAILURE,
                    minor::G_BAD_MSG_CTX,
                    "an initiator's context was given to accept",
                ));
            }
            if c.ctx.is_established() || c.ctx.mechanism() == Mechanism::Krb5 {
                return Err(Error::new(
                    major::FAILURE,
                    minor::G_BAD_MSG_CTX,
                    "the context is already established: a new exchange needs *context == NULL",
                ));
            }
        }
        let token = input_bytes(input_token)?;
        let default;
        let acc: &AcceptorCredential = match cred_ref(acceptor_cred)?.map(|c| &c.kind) {
            Some(CredKind::Acceptor(a)) | Some(CredKind::Both(_, a)) => a,
            Some(_) => {
                return Err(Error::new(
                    major::NO_CRED,
                    minor::G_CRED_USAGE_MISMATCH,
                    "not an acceptor credential",
                ))
            }
            None => {
                default = default_acceptor()?;
                &default
            }
        };
        let bindings = bindings_from_c(channel_bindings)?;
        let step = if existing.is_null() {
            match Context::accept(acc, token, bindings.as_ref()) {
                Ok((ctx, step)) => {
                    if step.token.is_some() {
                        // Before the handle exists: a failed call leaves *context NULL.
                        require_output(output_token)?;
                    }
                    write_out(context, new_ctx(ctx));
                    Ok(step)
                }
                Err(f) => Err(f),
            }
        } else {
            let c = ctx_mut(existing)?;
            let r = c
                .ctx
                .continue_accept(acc, token, bindings.as_ref())
                .and_then(|step| match step.token {
                    Some(_) if output_token.is_null() => Err(AcceptFailure::from(Error::new(
                        major::CALL_INACCESSIBLE_WRITE,
                        minor::EINVAL,
                        "output buffer is NULL",
                    ))),
                    _ => Ok(step),
                });
            if r.is_err() {
                // A failed step ends the negotiation (RFC 2743 §2.2.1), as MIT deletes it.
                free_ctx(existing);
                write_out(context, std::ptr::null_mut());
            }
            r
        };
        let step = match step {
            Ok(step) => step,
            Err(f) => {
                if let Some(t) = f.token {
                    output_bytes(output_token, t)?;
                }
                return Err(f.error);
            }
        };
        if let Some(t) = step.token {
            output_bytes(output_token, t)?;
        }
        if !step.complete {
            return Ok(major::CONTINUE_NEEDED);
        }
        // SAFETY: set above (new context) or given by the caller (continued one).
        let c = ctx_mut(unsafe { *context })?;
        let k = krb5_of_mut(&mut c.ctx)?;
        write_out(ret_flags, k.flags());
        if !time_rec.is_null() {
            // The clock only for a caller that asks (a read costs ~0.5% of an accept).
            write_out(time_rec, k.lifetime(acc.clock.now().0));
        }
        if !src_name.is_null() {
            write_out(src_name, new_name(Name::from_principal(k.client().clone())));
        }
        if let Some(d) = k.take_delegated_credential() {
            if delegated_cred.is_null() {
                // Nobody asked for it: drop it now (its keys are wiped).
            } else {
                write_out(delegated_cred, new_cred(CredKind::Delegated(d)));
            }
        }
        Ok(major::COMPLETE)
    })
}

/// Deletes a context and sets `*context` to NULL (RFC 2744 gss_delete_sec_context).
/// Session keys are wiped. `output_token` (may be NULL) is always empty, as for MIT.
#[no_mangle]
pub extern "C" fn krbap_delete_sec_context(
    minor_status: *mut u32,
    context: *mut *mut krbap_ctx,
    output_token: *mut krbap_buffer,
) -> u32 {
    guard(minor_status, || {
        clear_output(output_token);
        if context.is_null() {
            return Err(Error::new(
                major::CALL_INACCESSIBLE_READ | major::NO_CONTEXT,
                minor::EINVAL,
                "context is NULL",
            ));
        }
        // SAFETY: non-null pointer to the caller's handle variable.
        let p = unsafe { std::mem::replace(&mut *context, std::ptr::null_mut()) };
        if p.is_null() {
            return Err(Error::new(
                major::NO_CONTEXT,
                minor::G_BAD_MSG_CTX,
                "no context",
            ));
        }
        ctx_mut(p)?;
        free_ctx(p);
        Ok(major::COMPLETE)
    })
}

/// Information about a context (RFC 2744 gss_inquire_context). Any output may be NULL;
/// names returned must be released with krbap_release_name. `open` is 1 once the context
/// is fully established (for SPNEGO, the negotiation too); a SPNEGO acceptor context that
/// has not seen the Kerberos token yet has no names (NULL), lifetime and flags 0.
#[no_mangle]
pub extern "C" fn krbap_inquire_context(
    minor_status: *mut u32,
    context: *const krbap_ctx,
    src_name: *mut *mut krbap_name,
    targ_name: *mut *mut krbap_name,
    lifetime_rec: *mut u32,
    ctx_flags: *mut u32,
    locally_initiated: *mut i32,
    open: *mut i32,
) -> u32 {
    guard(minor_status, || {
        write_out(src_name, std::ptr::null_mut());
        write_out(targ_name, std::ptr::null_mut());
        let ctx = &ctx_ref(context)?.ctx;
        write_out(locally_initiated, ctx.is_initiator() as i32);
        write_out(open, ctx.is_established() as i32);
        // A SPNEGO acceptor that has not seen the Kerberos token yet knows no names (MIT
        // answers the same way for a partial context).
        let Some(c) = ctx.krb5() else {
            write_out(lifetime_rec, 0);
            write_out(ctx_flags, 0);
            return Ok(major::COMPLETE);
        };
        if !src_name.is_null() {
            write_out(src_name, new_name(Name::from_principal(c.client().clone())));
        }
        if !targ_name.is_null() {
            write_out(
                targ_name,
                new_name(Name::from_principal(c.server().clone())),
            );
        }
        write_out(lifetime_rec, c.lifetime(now_of(c)));
        write_out(ctx_flags, c.flags());
        Ok(major::COMPLETE)
    })
}

/// Seconds the context remains valid (RFC 2744 gss_context_time); 0 and
/// KRBAP_S_CONTEXT_EXPIRED once the ticket has expired.
#[no_mangle]
pub extern "C" fn krbap_context_time(
    minor_status: *mut u32,
    context: *const krbap_ctx,
    time_rec: *mut u32,
) -> u32 {
    guard(minor_status, || {
        let c = krb5_of(&ctx_ref(context)?.ctx)?;
        let t = c.lifetime(now_of(c));
        write_out(time_rec, t);
        if t == 0 {
            return Err(Error::new(
                major::CONTEXT_EXPIRED,
                minor::AP_ERR_TKT_EXPIRED,
                "context expired",
            ));
        }
        Ok(major::COMPLETE)
    })
}

/// The session key's enctype number (e.g. 18 for aes256-cts-hmac-sha1-96) and the
/// ticket's end time (Unix seconds). Either output may be NULL.
#[no_mangle]
pub extern "C" fn krbap_inquire_session(
    minor_status: *mut u32,
    context: *const krbap_ctx,
    session_enctype: *mut i32,
    ticket_endtime: *mut i64,
) -> u32 {
    guard(minor_status, || {
        let c = krb5_of(&ctx_ref(context)?.ctx)?;
        write_out(session_enctype, c.session_enctype().number());
        write_out(ticket_endtime, c.ticket_endtime());
        Ok(major::COMPLETE)
    })
}

/// The number of authorization-data elements of an accepted context (ticket and
/// authenticator, AD-IF-RELEVANT unwrapped).
#[no_mangle]
pub extern "C" fn krbap_inquire_authz_count(
    minor_status: *mut u32,
    context: *const krbap_ctx,
    count: *mut usize,
) -> u32 {
    guard(minor_status, || {
        let c = krb5_of(&ctx_ref(context)?.ctx)?;
        write_out(count, c.authorization_data().len());
        Ok(major::COMPLETE)
    })
}

/// Authorization-data element `index`: its ad-type, whether it came from the ticket
/// (1) or the authenticator (0), and its data. Past the end: KRBAP_S_UNAVAILABLE.
#[no_mangle]
pub extern "C" fn krbap_inquire_authz_element(
    minor_status: *mut u32,
    context: *const krbap_ctx,
    index: usize,
    ad_type: *mut i32,
    from_ticket: *mut i32,
    data: *mut krbap_buffer,
) -> u32 {
    guard(minor_status, || {
        clear_output(data);
        let c = krb5_of(&ctx_ref(context)?.ctx)?;
        let e = c.authorization_data().get(index).ok_or_else(|| {
            Error::new(
                major::UNAVAILABLE,
                0,
                "no authorization-data element at that index",
            )
        })?;
        write_out(ad_type, e.ad_type);
        write_out(from_ticket, (e.source == AuthzSource::Ticket) as i32);
        output_bytes(data, e.data.clone())?;
        Ok(major::COMPLETE)
    })
}

/// The raw AD-WIN2K-PAC blob of the ticket; KRBAP_S_UNAVAILABLE when there is none.
#[no_mangle]
pub extern "C" fn krbap_inquire_pac(
    minor_status: *mut u32,
    context: *const krbap_ctx,
    pac: *mut krbap_buffer,
) -> u32 {
    guard(minor_status, || {
        clear_output(pac);
        let c = krb5_of(&ctx_ref(context)?.ctx)?;
        let blob = c
            .pac()
            .ok_or_else(|| Error::new(major::UNAVAILABLE, 0, "the ticket carries no PAC"))?;
        output_bytes(pac, blob.to_vec())?;
        Ok(major::COMPLETE)
    })
}
