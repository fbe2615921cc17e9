//! SPNEGO (RFC 4178) around the krb5 mechanism, acceptor and initiator.
//!
//! The acceptor selects Kerberos when the initiator lists it under either OID
//! (1.2.840.113554.1.2.2 or Microsoft's 1.2.840.48018.1.2.2) and answers `supportedMech`
//! with the OID exactly as listed (Windows expects its own OID back). When Kerberos is the
//! initiator's first choice the optimistic token goes to the krb5 acceptor at once;
//! otherwise (NTLM or NegoEx first) the optimistic token belongs to another mechanism and
//! is ignored, the answer is request-mic, and the Kerberos token comes in the next round
//! (§3.2). The mechListMIC exchange (§5) follows MIT's `handle_mic`: required when
//! Kerberos was not the initiator's first choice, verified whenever present, answered
//! whenever received, and a failure ends the negotiation with a reject token.
//!
//! The initiator offers Kerberos alone with the optimistic AP-REQ, accepts an answer
//! naming krb5 under any of its three OIDs (or naming none, as Java acceptors do),
//! verifies and answers a mechListMIC, and, like MIT, always waits for the acceptor's
//! first reply, even when the krb5 context is complete without mutual authentication.
//!
//! Per-message protection after SPNEGO is the krb5 context's ([`SpnegoContext::krb5`]).

pub mod der;

use crate::asn1::{Der as _, KrbError};
use crate::cred::{AcceptorCredential, InitiatorCredential};
use crate::error::{major, minor, Error, Result};
use crate::gss::checksum::ChannelBindings;
use crate::gss::context::{AcceptFailure, InitOptions, SecurityContext};
use crate::gss::mech::Step;
use crate::gss::name::Name;
use crate::gss::token::{split_initial, unframe, TOK_KRB_ERROR};
use der::{oid, NegState, NegTokenResp};
use std::borrow::Cow;

/// One side of a SPNEGO negotiation and, once Kerberos has run, its krb5 context.
pub struct SpnegoContext {
    initiator: bool,
    /// The initiator's MechTypeList in DER, as sent: the mechListMIC input (§5 a).
    mech_types: Vec<u8>,
    /// The mechanism OID as the acceptor named it (acceptor: the element of the
    /// initiator's list it selected, answered as supportedMech).
    selected: Vec<u8>,
    krb5: Option<SecurityContext>,
    /// The acceptor's first NegTokenResp was sent (acceptor) or received (initiator).
    first_reply_done: bool,
    mic_required: bool,
    mic_sent: bool,
    mic_received: bool,
    complete: bool,
    failed: bool,
    /// A clock fixed before the krb5 context existed (krbap_ctx_set_time).
    fixed_time: Option<Option<i64>>,
}

impl std::fmt::Debug for SpnegoContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpnegoContext")
            .field("initiator", &self.initiator)
            .field("selected", &oid::dotted(&self.selected))
            .field("complete", &self.complete)
            .field("mic_required", &self.mic_required)
            .field("krb5", &self.krb5)
            .finish_non_exhaustive()
    }
}

/// The acceptor's reject answer, with the krb5 error token (KRB-ERROR) when there is one,
/// as MIT sends it.
fn reject_token(response: Option<&[u8]>) -> Vec<u8> {
    der::encode_resp(&NegTokenResp {
        neg_state: Some(NegState::Reject),
        response_token: response,
        ..Default::default()
    })
}

/// A failed step: the error and the reject token for the peer.
fn rejected(error: Error) -> AcceptFailure {
    AcceptFailure {
        error,
        token: Some(reject_token(None)),
    }
}

/// A token that does not fit the state of the negotiation.
fn out_of_sequence(detail: impl Into<String>) -> Error {
    Error::defective_token(minor::SPNEGO_NEGOTIATION_FAILED, detail)
}

/// The krb5 token with Microsoft's OID in its RFC 2743 header read as the krb5 OID: the
/// two OIDs have the same length and differ in one byte. Windows frames its tokens with
/// the standard OID; accepting both costs nothing (PITFALLS: MIT refuses the MS one).
fn krb5_token(token: &[u8]) -> Cow<'_, [u8]> {
    if let Ok((oid_tlv, _)) = split_initial(token) {
        if oid_tlv.get(2..) == Some(oid::KRB5_MS) {
            let at = oid_tlv.as_ptr() as usize - token.as_ptr() as usize + 2;
            let mut fixed = token.to_vec();
            fixed[at..at + oid::KRB5.len()].copy_from_slice(oid::KRB5);
            return Cow::Owned(fixed);
        }
    }
    Cow::Borrowed(token)
}

/// The error for an acceptor's reject: the KRB-ERROR inside says why (MIT's initiator
/// reports only that the negotiation failed).
fn reject_error(response: Option<&[u8]>) -> Error {
    let krb_error = response.and_then(|t| {
        let t = krb5_token(t);
        let (id, inner) = unframe(&t).ok()?;
        (id == TOK_KRB_ERROR).then(|| KrbError::from_der(inner).ok())?
    });
    match krb_error {
        Some(e) => {
            let text = e
                .e_text
                .as_deref()
                .map(String::from_utf8_lossy)
                .unwrap_or_default();
            Error::minor(
                crate::ap::krb_error_minor(&e),
                format!(
                    "the acceptor rejected the negotiation with KRB-ERROR {}{}{}",
                    e.error_code,
                    if text.is_empty() { "" } else { ": " },
                    text
                ),
            )
        }
        None => Error::new(
            major::FAILURE,
            minor::SPNEGO_NEGOTIATION_FAILED,
            "the acceptor rejected the negotiation (negState reject)",
        ),
    }
}

impl SpnegoContext {
    fn new(initiator: bool, mech_types: Vec<u8>, selected: Vec<u8>) -> SpnegoContext {
        SpnegoContext {
            initiator,
            mech_types,
            selected,
            krb5: None,
            first_reply_done: false,
            mic_required: false,
            mic_sent: false,
            mic_received: false,
            complete: false,
            failed: false,
            fixed_time: None,
        }
    }

    /// The acceptor's first call: reads the NegTokenInit (RFC 4178 §4.2.1), selects
    /// Kerberos, runs the optimistic token when Kerberos is the initiator's first choice,
    /// and answers with a NegTokenResp (§4.2.2). On failure the token to send back is a
    /// reject NegTokenResp (carrying the KRB-ERROR when the krb5 acceptor made one).
    pub fn accept(
        cred: &AcceptorCredential,
        token: &[u8],
        channel_bindings: Option<&ChannelBindings>,
    ) -> std::result::Result<(SpnegoContext, Step), AcceptFailure> {
        let init = der::decode_init(token).map_err(rejected)?;
        let Some(pos) = init.mech_types.iter().position(|o| oid::is_krb5(o)) else {
            let offered = if init.mech_types.is_empty() {
                "no mechanism".to_string()
            } else {
                init.mech_types
                    .iter()
                    .map(|o| oid::describe(o))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            return Err(rejected(Error::new(
                major::BAD_MECH,
                minor::SPNEGO_NEGOTIATION_FAILED,
                format!(
                    "no mechanism in common: the initiator offered {offered}; this acceptor \
                     supports Kerberos 5 ({} or {})",
                    oid::dotted(oid::KRB5),
                    oid::dotted(oid::KRB5_MS)
                ),
            )));
        };
        let mut ctx = SpnegoContext::new(
            false,
            init.mech_types_der.to_vec(),
            init.mech_types[pos].to_vec(),
        );
        // §5: the MIC exchange is required unless Kerberos is the initiator's first choice
        // (it is always this acceptor's). As MIT: `(i == 0) ? accept-incomplete : request-mic`.
        ctx.mic_required = pos != 0;
        let mut state = if pos == 0 {
            NegState::AcceptIncomplete
        } else {
            NegState::RequestMic
        };
        let mut response = None;
        let mut mic_out = None;
        // §3.2: the optimistic token is for the initiator's first mechanism only.
        if let (0, Some(mech_token)) = (pos, init.mech_token) {
            response = ctx.accept_mech_token(cred, mech_token, channel_bindings)?;
            let (mic, s, complete) = ctx
                .handle_mic(init.mech_list_mic, response.is_some())
                .map_err(rejected)?;
            mic_out = mic;
            state = s;
            ctx.complete = complete;
        }
        ctx.first_reply_done = true;
        let token = der::encode_resp(&NegTokenResp {
            neg_state: Some(state),
            supported_mech: Some(&ctx.selected),
            response_token: response.as_deref(),
            mech_list_mic: mic_out.as_deref(),
        });
        let complete = ctx.complete;
        Ok((
            ctx,
            Step {
                token: Some(token),
                complete,
            },
        ))
    }

    /// The acceptor's later calls, with the initiator's NegTokenResp: the Kerberos token
    /// asked for by request-mic or accept-incomplete, and/or the initiator's mechListMIC.
    pub fn continue_accept(
        &mut self,
        cred: &AcceptorCredential,
        token: &[u8],
        channel_bindings: Option<&ChannelBindings>,
    ) -> std::result::Result<Step, AcceptFailure> {
        if self.initiator || self.complete || self.failed {
            return Err(Error::new(
                major::FAILURE,
                minor::G_BAD_MSG_CTX,
                "the SPNEGO context is not waiting for an initiator token",
            )
            .into());
        }
        let r = self.continue_accept_inner(cred, token, channel_bindings);
        self.failed = r.is_err();
        r
    }

    fn continue_accept_inner(
        &mut self,
        cred: &AcceptorCredential,
        token: &[u8],
        channel_bindings: Option<&ChannelBindings>,
    ) -> std::result::Result<Step, AcceptFailure> {
        let resp = der::decode_resp(token).map_err(rejected)?;
        if resp.neg_state == Some(NegState::Reject) {
            return Err(Error::new(
                major::FAILURE,
                minor::SPNEGO_NEGOTIATION_FAILED,
                "the initiator ended the negotiation (negState reject)",
            )
            .into());
        }
        if resp.supported_mech.is_some() {
            return Err(rejected(out_of_sequence(
                "the initiator's NegTokenResp names a supportedMech (only the acceptor's first \
                 reply may)",
            )));
        }
        if resp.response_token.is_none() && resp.mech_list_mic.is_none() {
            return Err(rejected(out_of_sequence(
                "the initiator's NegTokenResp carries neither a mechanism token nor a mechListMIC",
            )));
        }
        let mut response = None;
        if let Some(t) = resp.response_token {
            if self.krb5.is_some() {
                return Err(rejected(out_of_sequence(
                    "a second Kerberos token: the Kerberos exchange is already complete",
                )));
            }
            response = self.accept_mech_token(cred, t, channel_bindings)?;
        }
        if self.krb5.is_none() {
            return Err(rejected(out_of_sequence(
                "a mechListMIC before the Kerberos token",
            )));
        }
        let (mic_out, state, complete) = self
            .handle_mic(resp.mech_list_mic, response.is_some())
            .map_err(rejected)?;
        self.complete = complete;
        // MIT sends nothing once both MICs went across and this answer carries no MIC of
        // ours (observed: the last leg of a request-mic exchange has no output token).
        let token = if self.mic_sent && self.mic_received && mic_out.is_none() && response.is_none()
        {
            None
        } else {
            Some(der::encode_resp(&NegTokenResp {
                neg_state: Some(state),
                response_token: response.as_deref(),
                mech_list_mic: mic_out.as_deref(),
                ..Default::default()
            }))
        };
        Ok(Step { token, complete })
    }

    /// Runs the krb5 acceptor on the selected mechanism's token; returns the AP-REP (mutual
    /// authentication) to send as responseToken.
    fn accept_mech_token(
        &mut self,
        cred: &AcceptorCredential,
        mech_token: &[u8],
        channel_bindings: Option<&ChannelBindings>,
    ) -> std::result::Result<Option<Vec<u8>>, AcceptFailure> {
        // A token framed for another mechanism than the one negotiated: MIT's
        // acc_ctx_vfy_oid answers BAD_MECH.
        if let Ok((oid_tlv, _)) = split_initial(mech_token) {
            let inner = &oid_tlv[2..];
            if !oid::is_krb5(inner) {
                return Err(rejected(Error::new(
                    major::BAD_MECH,
                    minor::SPNEGO_NEGOTIATION_FAILED,
                    format!(
                        "the mechanism token is for {}, not the negotiated Kerberos 5",
                        oid::describe(inner)
                    ),
                )));
            }
        }
        match SecurityContext::accept(cred, &krb5_token(mech_token), channel_bindings) {
            Ok((mut krb5, reply)) => {
                if let Some(t) = self.fixed_time {
                    krb5.set_fixed_time(t);
                }
                self.krb5 = Some(krb5);
                Ok(reply)
            }
            Err(f) => Err(AcceptFailure {
                token: Some(reject_token(f.token.as_deref())),
                error: f.error,
            }),
        }
    }

    /// RFC 4178 §5 once the krb5 context is complete (MIT's `handle_mic`): verifies the
    /// peer's mechListMIC, makes ours when the exchange is required or the peer sent one
    /// ("if we got a MIC, we must send a MIC"), and decides whether the negotiation is
    /// complete. `sending_mech_token`: this answer carries a krb5 token, so the peer may
    /// still send its MIC with the next one; otherwise a required MIC must be here.
    fn handle_mic(
        &mut self,
        mic_in: Option<&[u8]>,
        sending_mech_token: bool,
    ) -> Result<(Option<Vec<u8>>, NegState, bool)> {
        let krb5 = self.krb5.as_mut().ok_or_else(|| {
            Error::new(major::FAILURE, minor::G_BAD_MSG_CTX, "no Kerberos context")
        })?;
        match mic_in {
            Some(_) if self.mic_received => {
                return Err(out_of_sequence("a second mechListMIC"));
            }
            None if self.mic_required && !sending_mech_token => {
                // §5 b-IV / c-V: the exchange was required and the peer's last token had no MIC.
                return Err(out_of_sequence(
                    "the mechListMIC is required (Kerberos was not the initiator's first \
                     choice) but the peer's last token has none",
                ));
            }
            _ => {}
        }
        if let Some(mic) = mic_in {
            match krb5.verify_mic(&self.mech_types, mic) {
                Ok(0) => {}
                Ok(supplementary) => {
                    return Err(Error::new(
                        major::BAD_SIG | supplementary,
                        minor::AP_ERR_BADORDER,
                        "mechListMIC: out of sequence",
                    ))
                }
                Err(e) => {
                    return Err(Error::new(
                        e.major,
                        e.minor,
                        format!("mechListMIC over the mechanism list: {}", e.detail),
                    ))
                }
            }
            self.mic_required = true;
            self.mic_received = true;
        }
        let mut mic_out = None;
        if self.mic_required && !self.mic_sent {
            mic_out = Some(krb5.get_mic(&self.mech_types)?);
            self.mic_sent = true;
        }
        Ok(if self.mic_sent && self.mic_received {
            (mic_out, NegState::AcceptCompleted, true)
        } else if self.mic_required {
            (mic_out, NegState::AcceptIncomplete, false)
        } else {
            (mic_out, NegState::AcceptCompleted, true)
        })
    }

    /// The initiator's first call: the krb5 AP-REQ as the optimistic token of a
    /// NegTokenInit offering Kerberos alone. Never complete yet: the acceptor's answer is
    /// awaited even without mutual authentication (as MIT's initiator does; Microsoft
    /// acceptors expect an even number of legs).
    pub fn initiate(
        cred: &InitiatorCredential,
        target: &Name,
        options: &InitOptions,
    ) -> Result<(SpnegoContext, Step)> {
        let (krb5, ap_req) = SecurityContext::initiate(cred, target, options)?;
        let mech_types = der::encode_mech_types(&[oid::KRB5]);
        let token = der::encode_init(&mech_types, Some(&ap_req), None);
        let mut ctx = SpnegoContext::new(true, mech_types, oid::KRB5.to_vec());
        ctx.krb5 = Some(krb5);
        Ok((
            ctx,
            Step {
                token: Some(token),
                complete: false,
            },
        ))
    }

    /// The initiator's later calls, with the acceptor's NegTokenResp. A failure comes
    /// with a reject NegTokenResp for the acceptor, as MIT's initiator sends one.
    pub fn continue_init(&mut self, token: &[u8]) -> std::result::Result<Step, AcceptFailure> {
        if !self.initiator || self.complete || self.failed {
            return Err(Error::new(
                major::FAILURE,
                minor::G_BAD_MSG_CTX,
                "the SPNEGO context is not waiting for an acceptor token",
            )
            .into());
        }
        let r = self.continue_init_inner(token);
        self.failed = r.is_err();
        r.map_err(rejected)
    }

    fn continue_init_inner(&mut self, token: &[u8]) -> Result<Step> {
        let resp = der::decode_resp(token)?;
        if resp.neg_state == Some(NegState::Reject) {
            return Err(reject_error(resp.response_token));
        }
        if !self.first_reply_done {
            self.first_reply_done = true;
            // No supportedMech: the optimistic mechanism (Java acceptors; MIT's own acceptor
            // when it answers an initiator's MIC at once).
            if let Some(m) = resp.supported_mech {
                if !oid::is_krb5_family(m) {
                    return Err(Error::defective_token(
                        minor::SPNEGO_NEGOTIATION_FAILED,
                        format!(
                            "the acceptor selected {}, which was not offered (only {})",
                            oid::describe(m),
                            oid::describe(oid::KRB5)
                        ),
                    ));
                }
                self.selected = m.to_vec();
            }
        }
        let krb5 = self.krb5.as_mut().ok_or_else(|| {
            Error::new(major::FAILURE, minor::G_BAD_MSG_CTX, "no Kerberos context")
        })?;
        match resp.response_token {
            None if !krb5.is_established() => {
                return Err(Error::defective_token(
                    minor::SPNEGO_NO_TOKEN_FROM_ACCEPTOR,
                    "the acceptor's answer has no Kerberos token, but the AP-REP of mutual \
                     authentication is due",
                ))
            }
            None => {}
            // Old IIS answers an empty token instead of none (MIT tolerates it too).
            Some([]) if krb5.is_established() => {}
            Some(_) if krb5.is_established() => {
                return Err(Error::defective_token(
                    minor::SPNEGO_NEGOTIATION_FAILED,
                    "the acceptor sent a mechanism token after the Kerberos exchange completed",
                ))
            }
            Some(t) => krb5.continue_init(&krb5_token(t))?,
        }
        // Windows 2000 repeats the response token in the mechListMIC field (MIT ignores it).
        let mic_in = resp
            .mech_list_mic
            .filter(|m| resp.response_token != Some(*m));
        let (mic_out, state, complete) = self.handle_mic(mic_in, false)?;
        self.complete = complete;
        let token = mic_out.map(|mic| {
            der::encode_resp(&NegTokenResp {
                neg_state: Some(state),
                mech_list_mic: Some(&mic),
                ..Default::default()
            })
        });
        Ok(Step { token, complete })
    }

    /// True once the negotiation is complete (the krb5 context and any MIC exchange).
    pub fn is_established(&self) -> bool {
        self.complete && !self.failed
    }
    pub fn is_initiator(&self) -> bool {
        self.initiator
    }
    /// The krb5 context, once the Kerberos token has been processed: names, flags, times,
    /// authorization data and per-message protection come from it.
    pub fn krb5(&self) -> Option<&SecurityContext> {
        self.krb5.as_ref()
    }
    pub fn krb5_mut(&mut self) -> Option<&mut SecurityContext> {
        self.krb5.as_mut()
    }
    /// The mechanism OID (DER contents) as the acceptor named it: the element of the
    /// initiator's list the acceptor selected, or the supportedMech it answered.
    pub fn selected_mech_oid(&self) -> &[u8] {
        &self.selected
    }
    /// The initiator's MechTypeList in DER (what both mechListMICs cover).
    pub fn mech_types_der(&self) -> &[u8] {
        &self.mech_types
    }
    /// Whether mechListMICs were exchanged (or are required).
    pub fn mic_required(&self) -> bool {
        self.mic_required
    }

    /// Fixes the clock of the krb5 context, now or when it is created.
    pub fn set_fixed_time(&mut self, t: Option<i64>) {
        match self.krb5.as_mut() {
            Some(k) => k.set_fixed_time(t),
            None => self.fixed_time = Some(t),
        }
    }
}
