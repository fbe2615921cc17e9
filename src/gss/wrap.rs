//! Per-message tokens of the krb5 mechanism (RFC 4121 §4.2): MIC (TOK_ID 04 04) and Wrap
//! (TOK_ID 05 04), produced and accepted as MIT krb5 1.20 (k5sealv3.c) and Heimdal do.
//!
//! - Key usages (RFC 4121 §2): a sender that is the initiator seals with 24 and signs
//!   with 25, the acceptor with 22 / 23. A Wrap token without confidentiality uses the
//!   SEAL usage for its checksum, as MIT and Heimdal do; MIC tokens use SIGN.
//! - We send RRC 0 and, for sealed tokens, EC 0 (MIT's choice: AES-CTS needs no filler);
//!   we accept any RRC (RFC 4121 §4.2.5, Windows and Heimdal rotate) and any EC in sealed
//!   tokens. In unsealed tokens EC is the checksum length and must be that.
//! - A received token is checked completely before the replay/sequence state moves, so a
//!   failed token changes nothing (RFC 2743 §1.2.3).

use super::seqstate::SeqState;
use super::token;
use crate::crypto::{usage, Key};
use crate::error::{major, minor, Error};

/// TOK_ID of MIC tokens (RFC 4121 §4.2.6.1).
pub const TOK_MIC: [u8; 2] = [0x04, 0x04];
/// TOK_ID of Wrap tokens (RFC 4121 §4.2.6.2).
pub const TOK_WRAP: [u8; 2] = [0x05, 0x04];

/// Flags octet bits (RFC 4121 §4.2.2).
pub const FLAG_SENT_BY_ACCEPTOR: u8 = 0x01;
pub const FLAG_SEALED: u8 = 0x02;
pub const FLAG_ACCEPTOR_SUBKEY: u8 = 0x04;

/// Length of the per-message token header.
pub const HEADER_LEN: usize = 16;

/// The result of [`MessageProtection::unwrap`].
#[derive(Clone, PartialEq, Eq)]
pub struct Unwrapped {
    pub message: Vec<u8>,
    /// Whether the token was sealed (confidentiality).
    pub conf: bool,
    /// Always the default QOP (0): RFC 4121 has no other.
    pub qop: u32,
    /// Supplementary status bits from replay / sequence detection (`major::DUPLICATE_TOKEN`,
    /// `OLD_TOKEN`, `UNSEQ_TOKEN`, `GAP_TOKEN`), 0 when in order.
    pub supplementary: u32,
}

impl std::fmt::Debug for Unwrapped {
    // The message may be confidential: show only its size.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Unwrapped")
            .field("message_len", &self.message.len())
            .field("conf", &self.conf)
            .field("qop", &self.qop)
            .field("supplementary", &self.supplementary)
            .finish()
    }
}

/// Per-message protection state of one established context.
pub struct MessageProtection {
    /// The key for tokens we send, and for received tokens that claim the same key.
    key: Key,
    /// When `key` is the acceptor subkey: the initiator subkey (or session key), used like
    /// MIT for received tokens without the AcceptorSubkey flag (an initiator may send
    /// before it has the AP-REP).
    initiator_key: Option<Key>,
    acceptor_subkey: bool,
    we_are_initiator: bool,
    send_seq: u64,
    recv_state: SeqState,
}

impl std::fmt::Debug for MessageProtection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MessageProtection")
            .field("enctype", &self.key.enctype())
            .field("acceptor_subkey", &self.acceptor_subkey)
            .field("we_are_initiator", &self.we_are_initiator)
            .field("send_seq", &self.send_seq)
            .finish_non_exhaustive()
    }
}

fn defective(minor_code: i32, detail: &str) -> Error {
    Error::defective_token(minor_code, detail)
}

fn bad_sig(minor_code: i32, detail: &str) -> Error {
    Error::new(major::BAD_SIG, minor_code, detail)
}

/// The header fields common to MIC and Wrap tokens.
struct Header {
    flags: u8,
    seq: u64,
}

impl MessageProtection {
    /// `key` is the context's protection key (acceptor subkey if any, else the initiator
    /// subkey, else the ticket session key — RFC 4121 §2); `acceptor_subkey` says it is the
    /// acceptor's. `send_seq` is our initial sequence number, `recv_seq` the peer's.
    pub fn new(
        key: Key,
        acceptor_subkey: bool,
        we_are_initiator: bool,
        send_seq: u64,
        recv_seq: u64,
        replay_detect: bool,
        sequence: bool,
    ) -> MessageProtection {
        MessageProtection {
            key,
            initiator_key: None,
            acceptor_subkey,
            we_are_initiator,
            send_seq,
            // RFC 4121 sequence numbers are 64 bits wide (MIT: wide when proto == 1).
            recv_state: SeqState::new(recv_seq, replay_detect, sequence, true),
        }
    }

    /// Gives the initiator's key (its subkey, else the session key) for received tokens
    /// that do not have the AcceptorSubkey flag while `key` is the acceptor subkey. MIT
    /// verifies such tokens with that key; without it they fail as BAD_SIG.
    pub fn with_initiator_key(mut self, initiator_key: Key) -> MessageProtection {
        self.initiator_key = Some(initiator_key);
        self
    }

    /// The sequence number the next token we send will carry.
    pub fn next_send_seq(&self) -> u64 {
        self.send_seq
    }

    fn seal_usage_send(&self) -> u32 {
        if self.we_are_initiator {
            usage::INITIATOR_SEAL
        } else {
            usage::ACCEPTOR_SEAL
        }
    }
    fn sign_usage_send(&self) -> u32 {
        if self.we_are_initiator {
            usage::INITIATOR_SIGN
        } else {
            usage::ACCEPTOR_SIGN
        }
    }
    fn seal_usage_recv(&self) -> u32 {
        if self.we_are_initiator {
            usage::ACCEPTOR_SEAL
        } else {
            usage::INITIATOR_SEAL
        }
    }
    fn sign_usage_recv(&self) -> u32 {
        if self.we_are_initiator {
            usage::ACCEPTOR_SIGN
        } else {
            usage::INITIATOR_SIGN
        }
    }

    fn send_flags(&self) -> u8 {
        let mut flags = 0;
        if !self.we_are_initiator {
            flags |= FLAG_SENT_BY_ACCEPTOR;
        }
        if self.acceptor_subkey {
            flags |= FLAG_ACCEPTOR_SUBKEY;
        }
        flags
    }

    fn take_send_seq(&mut self) -> u64 {
        let seq = self.send_seq;
        self.send_seq = seq.wrapping_add(1);
        seq
    }

    fn wrap_header(flags: u8, ec: u16, seq: u64) -> [u8; HEADER_LEN] {
        let mut h = [0u8; HEADER_LEN];
        h[..2].copy_from_slice(&TOK_WRAP);
        h[2] = flags;
        h[3] = 0xff;
        h[4..6].copy_from_slice(&ec.to_be_bytes());
        // RRC (h[6..8]) is 0 in what we send and in every checksummed/encrypted copy.
        h[8..].copy_from_slice(&seq.to_be_bytes());
        h
    }

    /// GSS_Wrap (RFC 4121 §4.2.4, §4.2.6.2). `conf` selects confidentiality.
    pub fn wrap(&mut self, conf: bool, message: &[u8]) -> Vec<u8> {
        let seq = self.take_send_seq();
        let usage = self.seal_usage_send();
        if conf {
            let header = Self::wrap_header(self.send_flags() | FLAG_SEALED, 0, seq);
            // {header | encrypt(message | filler(EC=0) | header)}, encrypted straight after
            // the header in one exactly-sized buffer (no second copy of the message to
            // make room for the header: that was ~20% of a 16 KiB Wrap, see README).
            let overhead = self.key.enctype().ciphertext_overhead();
            let mut out = Vec::with_capacity(HEADER_LEN + overhead + message.len() + HEADER_LEN);
            out.extend_from_slice(&header);
            self.key
                .encrypt_parts_append(usage, &[message, &header], &mut out);
            out
        } else {
            let flags = self.send_flags();
            let signed_header = Self::wrap_header(flags, 0, seq);
            let checksum = self.key.checksum_parts(usage, &[message, &signed_header]);
            // EC carries the checksum length in the sent header only.
            let ec = checksum.len() as u16;
            let mut out = Vec::with_capacity(HEADER_LEN + message.len() + checksum.len());
            out.extend_from_slice(&Self::wrap_header(flags, ec, seq));
            out.extend_from_slice(message);
            out.extend_from_slice(&checksum);
            out
        }
    }

    /// A sealed Wrap token with a given confounder, for reproducing test vectors
    /// byte for byte. Not for production use: confounders must be random.
    #[doc(hidden)]
    pub fn wrap_conf_with_confounder(&mut self, message: &[u8], confounder: &[u8]) -> Vec<u8> {
        let seq = self.take_send_seq();
        let header = Self::wrap_header(self.send_flags() | FLAG_SEALED, 0, seq);
        let mut plaintext = Vec::with_capacity(message.len() + HEADER_LEN);
        plaintext.extend_from_slice(message);
        plaintext.extend_from_slice(&header);
        let ciphertext =
            self.key
                .encrypt_with_confounder(self.seal_usage_send(), confounder, &plaintext);
        prepend_header(ciphertext, &header)
    }

    /// GSS_GetMIC (RFC 4121 §4.2.6.1).
    pub fn get_mic(&mut self, message: &[u8]) -> Vec<u8> {
        let seq = self.take_send_seq();
        let mut header = [0xffu8; HEADER_LEN];
        header[..2].copy_from_slice(&TOK_MIC);
        header[2] = self.send_flags();
        header[8..].copy_from_slice(&seq.to_be_bytes());
        let checksum = self
            .key
            .checksum_parts(self.sign_usage_send(), &[message, &header]);
        let mut out = Vec::with_capacity(HEADER_LEN + checksum.len());
        out.extend_from_slice(&header);
        out.extend_from_slice(&checksum);
        out
    }

    /// Common header checks; returns the parsed fields and the key to verify with.
    fn check_header(&self, token: &[u8], tok_id: [u8; 2]) -> Result<(Header, &Key), Error> {
        if token.len() < HEADER_LEN {
            return Err(defective(
                minor::G_TOK_TRUNC,
                "per-message token shorter than its header",
            ));
        }
        if token[..2] != tok_id {
            return Err(defective(
                minor::G_WRONG_TOKID,
                "unexpected per-message TOK_ID",
            ));
        }
        let flags = token[2];
        let expected_direction = if self.we_are_initiator {
            FLAG_SENT_BY_ACCEPTOR
        } else {
            0
        };
        if flags & FLAG_SENT_BY_ACCEPTOR != expected_direction {
            return Err(bad_sig(
                minor::G_BAD_DIRECTION,
                "token sent in the wrong direction",
            ));
        }
        // MIT (k5sealv3.c): the acceptor subkey only when we have one and the token claims
        // it; otherwise the initiator's key. The flag cannot be enforced on an acceptor:
        // an initiator may send before it has seen the AP-REP.
        let key = if self.acceptor_subkey && flags & FLAG_ACCEPTOR_SUBKEY == 0 {
            self.initiator_key.as_ref().unwrap_or(&self.key)
        } else {
            &self.key
        };
        let mut seq = [0u8; 8];
        seq.copy_from_slice(&token[8..16]);
        Ok((
            Header {
                flags,
                seq: u64::from_be_bytes(seq),
            },
            key,
        ))
    }

    /// GSS_Unwrap of a Wrap token (RFC 4121 §4.2.6.2). MIT also accepts the token inside
    /// the RFC 2743 0x60 framing; so do we.
    pub fn unwrap(&mut self, token: &[u8]) -> Result<Unwrapped, Error> {
        let token = strip_optional_framing(token)?;
        let (header, key) = self.check_header(token, TOK_WRAP)?;
        if token[3] != 0xff {
            return Err(defective(
                minor::G_BAD_TOK_HEADER,
                "bad filler in Wrap token",
            ));
        }
        let ec = u16::from_be_bytes([token[4], token[5]]) as usize;
        let rrc = u16::from_be_bytes([token[6], token[7]]) as usize;
        let body = &token[HEADER_LEN..];
        let usage = self.seal_usage_recv();
        // RFC 4121 §4.2.5: undo a right rotation of the body by RRC (modulo its length).
        let rotation = if body.is_empty() { 0 } else { rrc % body.len() };
        let rotated: Option<Vec<u8>> = (rotation != 0).then(|| {
            let mut v = Vec::with_capacity(body.len());
            v.extend_from_slice(&body[rotation..]);
            v.extend_from_slice(&body[..rotation]);
            v
        });
        let body: &[u8] = rotated.as_deref().unwrap_or(body);

        let (message, conf) = if header.flags & FLAG_SEALED != 0 {
            let mut plaintext = key
                .decrypt(usage, body)
                .map_err(|e| bad_sig(e.minor(), "Wrap token decryption failed"))?;
            // plaintext = message | filler(EC) | header copy.
            let Some(message_len) = plaintext.len().checked_sub(ec + HEADER_LEN) else {
                return Err(defective(
                    minor::G_BAD_TOK_HEADER,
                    "Wrap token EC larger than its data",
                ));
            };
            let inner = &plaintext[plaintext.len() - HEADER_LEN..];
            // RFC 4121 §4.2.4: the encrypted copy is the header with RRC 0. MIT compares
            // TOK_ID, flags, filler and SND_SEQ; we also compare EC, which every sender
            // copies, so that a changed EC cannot shorten the message unnoticed.
            if inner[..6] != token[..6] || inner[8..] != token[8..16] {
                return Err(defective(
                    minor::G_BAD_TOK_HEADER,
                    "Wrap token header copy does not match",
                ));
            }
            plaintext.truncate(message_len);
            (plaintext, true)
        } else {
            let expected_len = key.enctype().mac_len();
            let Some(message_len) = body.len().checked_sub(ec) else {
                return Err(defective(
                    minor::G_TOK_TRUNC,
                    "Wrap token EC larger than its body",
                ));
            };
            if ec != expected_len {
                return Err(bad_sig(
                    minor::AP_ERR_BAD_INTEGRITY,
                    "Wrap token EC is not the checksum length",
                ));
            }
            let (message, checksum) = body.split_at(message_len);
            let mut signed_header = [0u8; HEADER_LEN];
            signed_header.copy_from_slice(&token[..HEADER_LEN]);
            signed_header[4..8].fill(0);
            key.verify_checksum_parts(usage, &[message, &signed_header], checksum)
                .map_err(|e| bad_sig(e.minor(), "Wrap token checksum does not verify"))?;
            let message = match rotated {
                // The rotated copy already holds the message first: reuse it.
                Some(mut v) => {
                    v.truncate(message_len);
                    v
                }
                None => token[HEADER_LEN..HEADER_LEN + message_len].to_vec(),
            };
            (message, false)
        };
        let supplementary = self.recv_state.check(header.seq);
        Ok(Unwrapped {
            message,
            conf,
            qop: 0,
            supplementary,
        })
    }

    /// GSS_VerifyMIC (RFC 4121 §4.2.6.1); returns the supplementary status bits.
    pub fn verify_mic(&mut self, message: &[u8], token: &[u8]) -> Result<u32, Error> {
        let token = strip_optional_framing(token)?;
        let (header, key) = self.check_header(token, TOK_MIC)?;
        if token[3..8].iter().any(|&b| b != 0xff) {
            return Err(defective(
                minor::G_BAD_TOK_HEADER,
                "bad filler in MIC token",
            ));
        }
        key.verify_checksum_parts(
            self.sign_usage_recv(),
            &[message, &token[..HEADER_LEN]],
            &token[HEADER_LEN..],
        )
        .map_err(|e| bad_sig(e.minor(), "MIC does not verify"))?;
        Ok(self.recv_state.check(header.seq))
    }

    /// The largest message whose Wrap token fits in `max_output` bytes, computed as MIT's
    /// `krb5_gss_wrap_size_limit` does for RFC 4121 contexts: header, confounder, MAC and
    /// the encrypted header copy when sealed; header and checksum otherwise.
    pub fn wrap_size_limit(&self, conf: bool, max_output: u32) -> u32 {
        let enctype = self.key.enctype();
        let overhead = if conf {
            HEADER_LEN + enctype.ciphertext_overhead() + HEADER_LEN
        } else {
            HEADER_LEN + enctype.mac_len()
        };
        max_output.saturating_sub(overhead as u32)
    }
}

/// `header | ciphertext` reusing the ciphertext's allocation.
fn prepend_header(mut ciphertext: Vec<u8>, header: &[u8; HEADER_LEN]) -> Vec<u8> {
    let n = ciphertext.len();
    ciphertext.resize(n + HEADER_LEN, 0);
    ciphertext.copy_within(..n, HEADER_LEN);
    ciphertext[..HEADER_LEN].copy_from_slice(header);
    ciphertext
}

/// MIT's `kg_unseal` passes per-message tokens through `g_verify_token_header` without
/// requiring the wrapper: a token starting with 0x60 is unwrapped first. RFC 4121 tokens
/// start with 04 or 05, so this cannot misread a bare token.
fn strip_optional_framing(token: &[u8]) -> Result<&[u8], Error> {
    if token.first() == Some(&0x60) {
        token::strip_wrapper(token)
    } else {
        Ok(token)
    }
}
