//! Mechanism choice, as MIT's mechglue makes it: the initiator names the mechanism (raw
//! krb5, RFC 4121, or SPNEGO around krb5, RFC 4178), the acceptor tells them apart by the
//! OID in the first token's RFC 2743 §3.1 header. [`Context`] is the context of either
//! mechanism, as the C handle holds it.

use crate::cred::{AcceptorCredential, InitiatorCredential};
use crate::error::{major, minor, Error, Result};
use crate::gss::checksum::ChannelBindings;
use crate::gss::context::{AcceptFailure, InitOptions, SecurityContext};
use crate::gss::name::Name;
use crate::gss::spnego::{der, SpnegoContext};

/// A GSS-API mechanism krbap speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mechanism {
    /// Kerberos 5 itself (RFC 4121 tokens).
    Krb5,
    /// SPNEGO (RFC 4178) negotiating Kerberos 5.
    Spnego,
}

impl Mechanism {
    /// The mechanism's OID (DER contents).
    pub fn oid(self) -> &'static [u8] {
        match self {
            Mechanism::Krb5 => der::oid::KRB5,
            Mechanism::Spnego => der::oid::SPNEGO,
        }
    }
}

/// The outcome of one call of a context-establishment loop: a token for the peer (when
/// there is one: it must be sent even when the context is complete, e.g. SPNEGO's last
/// mechListMIC), and whether this side is done.
#[derive(Debug, Default)]
pub struct Step {
    pub token: Option<Vec<u8>>,
    pub complete: bool,
}

/// A security context of either mechanism.
// The raw krb5 context, the common case, stays inline: one allocation per handle.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Context {
    Krb5(SecurityContext),
    Spnego(Box<SpnegoContext>),
}

impl Context {
    /// The initiator's first call with the chosen mechanism.
    pub fn initiate(
        cred: &InitiatorCredential,
        target: &Name,
        mechanism: Mechanism,
        options: &InitOptions,
    ) -> Result<(Context, Step)> {
        Ok(match mechanism {
            Mechanism::Krb5 => {
                let (ctx, token) = SecurityContext::initiate(cred, target, options)?;
                let complete = ctx.is_established();
                let step = Step {
                    token: Some(token),
                    complete,
                };
                (Context::Krb5(ctx), step)
            }
            Mechanism::Spnego => {
                let (ctx, step) = SpnegoContext::initiate(cred, target, options)?;
                (Context::Spnego(Box::new(ctx)), step)
            }
        })
    }

    /// The acceptor's first call; the mechanism is the one named in the token's header
    /// (SPNEGO's OID, else the krb5 path, which reports any other OID as G_WRONG_MECH).
    pub fn accept(
        cred: &AcceptorCredential,
        token: &[u8],
        channel_bindings: Option<&ChannelBindings>,
    ) -> std::result::Result<(Context, Step), AcceptFailure> {
        if der::is_spnego_initial(token) {
            let (ctx, step) = SpnegoContext::accept(cred, token, channel_bindings)?;
            return Ok((Context::Spnego(Box::new(ctx)), step));
        }
        let (ctx, reply) = SecurityContext::accept(cred, token, channel_bindings)?;
        Ok((
            Context::Krb5(ctx),
            Step {
                token: reply,
                complete: true,
            },
        ))
    }

    /// The initiator's later calls, with the acceptor's token. A failure may come with a
    /// token for the acceptor (SPNEGO's reject, as MIT's initiator sends it).
    pub fn continue_init(&mut self, token: &[u8]) -> std::result::Result<Step, AcceptFailure> {
        match self {
            Context::Krb5(c) => {
                c.continue_init(token)?;
                Ok(Step {
                    token: None,
                    complete: true,
                })
            }
            Context::Spnego(s) => s.continue_init(token),
        }
    }

    /// The acceptor's later calls (SPNEGO only: krb5 completes in one).
    pub fn continue_accept(
        &mut self,
        cred: &AcceptorCredential,
        token: &[u8],
        channel_bindings: Option<&ChannelBindings>,
    ) -> std::result::Result<Step, AcceptFailure> {
        match self {
            Context::Krb5(_) => Err(Error::new(
                major::FAILURE,
                minor::G_BAD_MSG_CTX,
                "a krb5 context is accepted in one call: this one is already established",
            )
            .into()),
            Context::Spnego(s) => s.continue_accept(cred, token, channel_bindings),
        }
    }

    pub fn mechanism(&self) -> Mechanism {
        match self {
            Context::Krb5(_) => Mechanism::Krb5,
            Context::Spnego(_) => Mechanism::Spnego,
        }
    }

    pub fn is_initiator(&self) -> bool {
        match self {
            Context::Krb5(c) => c.is_initiator(),
            Context::Spnego(s) => s.is_initiator(),
        }
    }

    /// True once the context is fully established (for SPNEGO: the negotiation too).
    pub fn is_established(&self) -> bool {
        match self {
            Context::Krb5(c) => c.is_established(),
            Context::Spnego(s) => s.is_established(),
        }
    }

    /// The krb5 context (for SPNEGO, once the Kerberos token has been processed).
    pub fn krb5(&self) -> Option<&SecurityContext> {
        match self {
            Context::Krb5(c) => Some(c),
            Context::Spnego(s) => s.krb5(),
        }
    }

    pub fn krb5_mut(&mut self) -> Option<&mut SecurityContext> {
        match self {
            Context::Krb5(c) => Some(c),
            Context::Spnego(s) => s.krb5_mut(),
        }
    }

    /// Fixes the context's clock (tests, captured tokens); `None`: the system clock.
    pub fn set_fixed_time(&mut self, t: Option<i64>) {
        match self {
            Context::Krb5(c) => c.set_fixed_time(t),
            Context::Spnego(s) => s.set_fixed_time(t),
        }
    }
}
