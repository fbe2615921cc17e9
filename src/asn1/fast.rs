//! Hand-written DER decoding of the messages on the acceptor's hot path: AP-REQ (with its
//! Ticket), EncTicketPart and Authenticator (RFC 4120 §5.3, §5.5.1), AuthorizationData and
//! the RFC 4537 EtypeList; and encoding of the acceptor's reply, EncAPRepPart and AP-REP
//! (RFC 4120 §5.5.2), byte for byte as the rasn path encodes them.
//!
//! Why: through rasn, DER decoding was the largest non-crypto cost of an accept
//! (callgrind: ~35k instructions of ~160k per accept, see README "Benchmarks").
//!
//! Contract: each function returns `Some(value)` only for input it decodes exactly as the
//! rasn path (`convert::decode`) would, and `None` for anything else — malformed input,
//! but also valid encodings it does not handle (high tag numbers, long-form lengths of
//! more than 4 bytes). The caller then runs the rasn path, which produces the value or
//! the error, so errors (and their MIT minor codes) are the reference decoder's. To stay
//! on the safe side of that contract this decoder is stricter than rasn's: minimal
//! lengths and integers, exact tags, no trailing bytes anywhere, and the element bound
//! of `tlv::check`. Tests check that both decoders agree on every fixture and that on
//! mutated input `Some` always equals the rasn result.

use super::convert::{
    check_msg_type, check_pvno, flags_from_bytes, int32_from_wire, uint32_from_wire,
};
use super::length::tlv_size;
use super::tlv::MAX_ELEMENTS;
use super::*;

const INTEGER: u8 = 0x02;
const BIT_STRING: u8 = 0x03;
const OCTET_STRING: u8 = 0x04;
const GENERALIZED_TIME: u8 = 0x18;
const GENERAL_STRING: u8 = 0x1b;
const SEQUENCE: u8 = 0x30;
const fn app(n: u8) -> u8 {
    0x60 | n
}
const fn ctx(n: u8) -> u8 {
    0xa0 | n
}

/// A cursor over the contents of one constructed value.
///
/// `tlv::check` bounds a message to `MAX_ELEMENTS` TLVs. A TLV takes at least two bytes,
/// so the entry points ([`whole`], [`walk_authorization_data`]) decline input longer than
/// `2 * MAX_ELEMENTS` bytes (the reference decoder takes it) and the cursor need not count.
struct Reader<'a> {
    buf: &'a [u8],
}

/// Whether `bytes` is short enough to hold no more TLVs than `tlv::check` allows.
fn within_element_bound(bytes: &[u8]) -> bool {
    bytes.len() <= 2 * MAX_ELEMENTS
}

impl<'a> Reader<'a> {
    fn peek(&self) -> Option<u8> {
        self.buf.first().copied()
    }

    /// The next TLV with identifier `ident` (one octet: tag numbers below 31); its contents.
    fn expect(&mut self, ident: u8) -> Option<&'a [u8]> {
        if self.buf.first() != Some(&ident) {
            return None;
        }
        let (_, contents, rest) = split_tlv(self.buf)?;
        self.buf = rest;
        Some(contents)
    }

    /// A constructed value `ident` whose contents `f` must consume entirely.
    fn nested<T>(&mut self, ident: u8, f: impl FnOnce(&mut Reader<'a>) -> Option<T>) -> Option<T> {
        let contents = self.expect(ident)?;
        let mut inner = Reader { buf: contents };
        let v = f(&mut inner)?;
        inner.buf.is_empty().then_some(v)
    }

    /// `[n] EXPLICIT` field.
    fn field<T>(&mut self, n: u8, f: impl FnOnce(&mut Reader<'a>) -> Option<T>) -> Option<T> {
        self.nested(ctx(n), f)
    }

    /// `[n] EXPLICIT ... OPTIONAL`: `Some(None)` when absent.
    fn opt_field<T>(
        &mut self,
        n: u8,
        f: impl FnOnce(&mut Reader<'a>) -> Option<T>,
    ) -> Option<Option<T>> {
        if self.peek() == Some(ctx(n)) {
            self.field(n, f).map(Some)
        } else {
            Some(None)
        }
    }

    /// INTEGER, minimal two's complement (X.690 §8.3.2), at most 64 bits.
    fn int(&mut self) -> Option<i64> {
        let c = self.expect(INTEGER)?;
        if c.is_empty() || c.len() > 8 {
            return None;
        }
        if c.len() > 1 && ((c[0] == 0 && c[1] & 0x80 == 0) || (c[0] == 0xff && c[1] & 0x80 != 0)) {
            return None;
        }
        let init: i64 = if c[0] & 0x80 != 0 { -1 } else { 0 };
        Some(c.iter().fold(init, |v, &b| (v << 8) | i64::from(b)))
    }

    fn int32(&mut self) -> Option<i32> {
        i32::try_from(self.int()?).ok()
    }

    fn octets(&mut self) -> Option<Vec<u8>> {
        self.expect(OCTET_STRING).map(<[u8]>::to_vec)
    }

    fn kstring(&mut self) -> Option<Vec<u8>> {
        self.expect(GENERAL_STRING).map(<[u8]>::to_vec)
    }

    fn time(&mut self) -> Option<KerberosTime> {
        time::decode(self.expect(GENERALIZED_TIME)?).ok()
    }

    fn flags(&mut self) -> Option<u32> {
        flags_from_bytes(self.expect(BIT_STRING)?).ok()
    }

    /// `SEQUENCE OF` elements, each decoded by `f`, in a vector of exactly their number
    /// (a principal's components and authorization data are kept per context).
    fn seq_of<T>(&mut self, mut f: impl FnMut(&mut Reader<'a>) -> Option<T>) -> Option<Vec<T>> {
        self.nested(SEQUENCE, |r| {
            let mut out = Vec::with_capacity(count_tlvs(r.buf));
            while !r.buf.is_empty() {
                out.push(f(r)?);
            }
            Some(out)
        })
    }

    /// A PrincipalName with its components left in the input (checked): (name type,
    /// contents of the `SEQUENCE OF KerberosString`).
    fn principal_name_ref(&mut self) -> Option<(i32, &'a [u8])> {
        self.nested(SEQUENCE, |r| {
            let name_type = r.field(0, Reader::int32)?;
            let components = r.field(1, |r| {
                r.nested(SEQUENCE, |r| {
                    let all = r.buf;
                    while !r.buf.is_empty() {
                        r.expect(GENERAL_STRING)?;
                    }
                    Some(all)
                })
            })?;
            Some((name_type, components))
        })
    }

    fn principal_name(&mut self) -> Option<PrincipalName> {
        self.nested(SEQUENCE, |r| {
            Some(PrincipalName {
                name_type: r.field(0, Reader::int32)?,
                components: r.field(1, |r| r.seq_of(Reader::kstring))?,
            })
        })
    }

    /// A PrincipalName compared with `expected` by its components (the name type is not
    /// compared, as in [`PrincipalName::same_components`]), without building it.
    fn principal_name_matches(&mut self, expected: &PrincipalName) -> Option<bool> {
        let (name_type, components) = self.principal_name_ref()?;
        Some(PrincipalRef::from_der(&[], name_type, components).same_components(expected))
    }

    fn encrypted_data(&mut self) -> Option<EncryptedDataRef<'a>> {
        self.nested(SEQUENCE, |r| {
            Some(EncryptedDataRef {
                etype: r.field(0, Reader::int32)?,
                kvno: match r.opt_field(1, Reader::int)? {
                    Some(v) => Some(uint32_from_wire(v).ok()?),
                    None => None,
                },
                cipher: r.field(2, |r| r.expect(OCTET_STRING))?,
            })
        })
    }

    /// EncryptionKey as (keytype, keyvalue still in the input): a key the caller turns
    /// into a `Key` at once need not be copied into a vector first.
    fn encryption_key(&mut self) -> Option<KeyRef<'a>> {
        self.nested(SEQUENCE, |r| {
            let keytype = r.field(0, Reader::int32)?;
            let keyvalue = r.field(1, |r| r.expect(OCTET_STRING))?;
            Some((keytype, keyvalue))
        })
    }

    /// `SEQUENCE { [0] Int32, [1] OCTET STRING }`: Checksum, HostAddress, TransitedEncoding,
    /// an AuthorizationData entry.
    fn int_and_octets(&mut self) -> Option<(i32, Vec<u8>)> {
        self.nested(SEQUENCE, |r| {
            Some((r.field(0, Reader::int32)?, r.field(1, Reader::octets)?))
        })
    }

    fn authorization_data(&mut self) -> Option<AuthorizationData> {
        self.seq_of(|r| {
            let (ad_type, ad_data) = r.int_and_octets()?;
            Some(AuthorizationDataEntry { ad_type, ad_data })
        })
    }
}

/// The first TLV of `buf` with a one-octet identifier: (identifier, contents, rest). DER
/// lengths only: the short form below 128, else 1..=4 minimal length octets.
pub(super) fn split_tlv(buf: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&ident, rest) = buf.split_first()?;
    let (&l0, rest) = rest.split_first()?;
    let (len, rest) = if l0 < 0x80 {
        (usize::from(l0), rest)
    } else {
        // DER long form: 1..=4 length octets, minimal (no leading zero, value >= 128).
        let k = usize::from(l0 & 0x7f);
        if !(1..=4).contains(&k) || rest.len() < k || rest[0] == 0 {
            return None;
        }
        let len = rest[..k]
            .iter()
            .fold(0usize, |v, &b| (v << 8) | usize::from(b));
        if len < 0x80 {
            return None;
        }
        (len, &rest[k..])
    };
    if len > rest.len() {
        return None;
    }
    let (contents, rest) = rest.split_at(len);
    Some((ident, contents, rest))
}

/// How many TLVs `buf` holds, by their headers alone, for a vector's capacity: at most 64
/// (more grow the vector as it fills), and a malformed header ends the count (the decoder
/// rejects it).
fn count_tlvs(mut buf: &[u8]) -> usize {
    let mut n = 0;
    while n < 64 {
        let Some((_, _, rest)) = split_tlv(buf) else {
            break;
        };
        buf = rest;
        n += 1;
    }
    n
}

/// Runs `f` on the whole of `bytes` (no trailing bytes).
fn whole<'a, T>(bytes: &'a [u8], f: impl FnOnce(&mut Reader<'a>) -> Option<T>) -> Option<T> {
    if !within_element_bound(bytes) {
        return None;
    }
    let mut r = Reader { buf: bytes };
    let v = f(&mut r)?;
    r.buf.is_empty().then_some(v)
}

// The decoders below fill a value field by field, rather than building it as the result
// of nested closures: each level of `nested` would otherwise move the whole struct (a few
// hundred bytes, memcpy'd at every level, ~2% of an accept).

/// AP-REQ (RFC 4120 §5.5.1), its ciphertexts borrowed.
pub(super) fn ap_req_ref(bytes: &[u8]) -> Option<ApReqRef<'_>> {
    let mut ap_options = 0;
    let mut ticket_server = None;
    let mut ticket_enc_part = None;
    let mut authenticator = None;
    whole(bytes, |r| {
        r.nested(app(14), |r| {
            r.nested(SEQUENCE, |r| {
                check_pvno(r.field(0, Reader::int)?).ok()?;
                check_msg_type(r.field(1, Reader::int)?, msg_type::AP_REQ).ok()?;
                ap_options = r.field(2, Reader::flags)?;
                r.field(3, |r| {
                    r.nested(app(1), |r| {
                        r.nested(SEQUENCE, |r| {
                            check_pvno(r.field(0, Reader::int)?).ok()?;
                            let realm = r.field(1, |r| r.expect(GENERAL_STRING))?;
                            let (name_type, components) = r.field(2, Reader::principal_name_ref)?;
                            ticket_server =
                                Some(PrincipalRef::from_der(realm, name_type, components));
                            ticket_enc_part = Some(r.field(3, Reader::encrypted_data)?);
                            Some(())
                        })
                    })
                })?;
                authenticator = Some(r.field(4, Reader::encrypted_data)?);
                Some(())
            })
        })
    })?;
    Some(ApReqRef {
        ap_options,
        ticket_server: ticket_server?,
        ticket_enc_part: ticket_enc_part?,
        authenticator: authenticator?,
    })
}

/// AP-REQ (RFC 4120 §5.5.1), owned.
pub(super) fn ap_req(bytes: &[u8]) -> Option<ApReq> {
    ap_req_ref(bytes).map(|r| r.to_ap_req())
}

/// An EncryptionKey's keytype and keyvalue, borrowed from the decoder's input.
pub(crate) type KeyRef<'a> = (i32, &'a [u8]);

fn owned_key((keytype, keyvalue): KeyRef) -> EncryptionKey {
    EncryptionKey {
        keytype,
        keyvalue: Zeroizing::new(keyvalue.to_vec()),
    }
}

/// EncTicketPart (RFC 4120 §5.3).
pub(super) fn enc_ticket_part(bytes: &[u8]) -> Option<EncTicketPart> {
    let (mut v, key) = enc_ticket_part_key_apart(bytes)?;
    v.key = owned_key(key);
    Some(v)
}

/// [`enc_ticket_part`] for an acceptor that makes the session key straight from the
/// plaintext: the key is returned borrowed, `key.keyvalue` is left empty.
pub(super) fn enc_ticket_part_key_apart(bytes: &[u8]) -> Option<(EncTicketPart, KeyRef<'_>)> {
    let mut v = EncTicketPart::default();
    let mut key = (0, &[][..]);
    whole(bytes, |r| {
        r.nested(app(3), |r| {
            r.nested(SEQUENCE, |r| {
                v.flags = r.field(0, Reader::flags)?;
                key = r.field(1, Reader::encryption_key)?;
                v.key.keytype = key.0;
                v.crealm = r.field(2, Reader::kstring)?;
                v.cname = r.field(3, Reader::principal_name)?;
                v.transited = r.field(4, |r| {
                    let (tr_type, contents) = r.int_and_octets()?;
                    Some(TransitedEncoding { tr_type, contents })
                })?;
                v.authtime = r.field(5, Reader::time)?;
                v.starttime = r.opt_field(6, Reader::time)?;
                v.endtime = r.field(7, Reader::time)?;
                v.renew_till = r.opt_field(8, Reader::time)?;
                v.caddr = r.opt_field(9, |r| {
                    r.seq_of(|r| {
                        let (addr_type, address) = r.int_and_octets()?;
                        Some(HostAddress { addr_type, address })
                    })
                })?;
                v.authorization_data = r.opt_field(10, Reader::authorization_data)?;
                Some(())
            })
        })
    })?;
    Some((v, key))
}

/// Authenticator (RFC 4120 §5.5.1).
pub(super) fn authenticator(bytes: &[u8]) -> Option<Authenticator> {
    authenticator_impl(bytes, None).map(|(mut a, _, subkey)| {
        a.subkey = subkey.map(owned_key);
        a
    })
}

/// [`authenticator`] for an acceptor that only compares its client with the ticket's:
/// `crealm` and `cname` are compared with `client` instead of copied (and left empty);
/// the flag says whether they are the same. The subkey is returned borrowed (`subkey` is
/// left `None`), for the acceptor to make its `Key` straight from the plaintext.
pub(super) fn authenticator_of<'a>(
    bytes: &'a [u8],
    client: (&[u8], &PrincipalName),
) -> Option<(Authenticator, bool, Option<KeyRef<'a>>)> {
    authenticator_impl(bytes, Some(client))
}

fn authenticator_impl<'a>(
    bytes: &'a [u8],
    client: Option<(&[u8], &PrincipalName)>,
) -> Option<(Authenticator, bool, Option<KeyRef<'a>>)> {
    let mut v = Authenticator::default();
    let mut same_client = true;
    let mut subkey = None;
    whole(bytes, |r| {
        r.nested(app(2), |r| {
            r.nested(SEQUENCE, |r| {
                check_pvno(r.field(0, Reader::int)?).ok()?;
                match client {
                    None => {
                        v.crealm = r.field(1, Reader::kstring)?;
                        v.cname = r.field(2, Reader::principal_name)?;
                    }
                    Some((realm, name)) => {
                        let realm_same = r.field(1, |r| r.expect(GENERAL_STRING))? == realm;
                        let name_same = r.field(2, |r| r.principal_name_matches(name))?;
                        same_client = realm_same && name_same;
                    }
                }
                v.cksum = r.opt_field(3, |r| {
                    let (cksumtype, checksum) = r.int_and_octets()?;
                    Some(Checksum {
                        cksumtype,
                        checksum,
                    })
                })?;
                v.cusec = int32_from_wire(r.field(4, Reader::int)?).ok()?;
                v.ctime = r.field(5, Reader::time)?;
                subkey = r.opt_field(6, Reader::encryption_key)?;
                v.seq_number = match r.opt_field(7, Reader::int)? {
                    Some(n) => Some(uint32_from_wire(n).ok()?),
                    None => None,
                };
                v.authorization_data = r.opt_field(8, Reader::authorization_data)?;
                Some(())
            })
        })
    })?;
    Some((v, same_client, subkey))
}

/// AuthorizationData (RFC 4120 §5.2.6), e.g. the contents of AD-IF-RELEVANT.
pub(super) fn authorization_data(bytes: &[u8]) -> Option<AuthorizationData> {
    whole(bytes, |r| r.authorization_data())
}

/// AuthorizationData's entries, (ad-type, ad-data as a slice of `bytes`), handed to `f`
/// in order once the whole decodes; `false`, with `f` not called, when it does not. No
/// copy and no allocation: the acceptor looks for the PAC in AD-IF-RELEVANT on every
/// accept. (Two walks over a few TLVs cost less than collecting the entries.)
pub(super) fn for_each_authorization_data(bytes: &[u8], f: impl FnMut(i32, &[u8])) -> bool {
    walk_authorization_data(bytes, |_, _| {}).is_some()
        && walk_authorization_data(bytes, f).is_some()
}

fn walk_authorization_data<'a>(bytes: &'a [u8], mut f: impl FnMut(i32, &'a [u8])) -> Option<()> {
    if !within_element_bound(bytes) {
        return None;
    }
    let mut r = Reader { buf: bytes };
    r.nested(SEQUENCE, |r| {
        while !r.buf.is_empty() {
            let (ad_type, data) = r.nested(SEQUENCE, |r| {
                let ad_type = r.field(0, Reader::int32)?;
                let data = r.field(1, |r| r.expect(OCTET_STRING))?;
                Some((ad_type, data))
            })?;
            f(ad_type, data);
        }
        Some(())
    })?;
    r.buf.is_empty().then_some(())
}

/// EtypeList ::= SEQUENCE OF Int32 (RFC 4537 §3).
pub(super) fn etype_list(bytes: &[u8]) -> Option<Vec<i32>> {
    whole(bytes, |r| r.seq_of(Reader::int32))
}

// ---------------------------------------------------------------- encoding

/// Appends a TLV whose contents `f` writes, then fixes the DER length (X.690 §8.1.3: short
/// form below 128, else the minimal long form).
fn cons(out: &mut Vec<u8>, ident: u8, f: impl FnOnce(&mut Vec<u8>)) {
    out.push(ident);
    out.push(0);
    let start = out.len();
    f(out);
    let len = out.len() - start;
    if len < 0x80 {
        out[start - 1] = len as u8;
    } else {
        let bytes = (len as u64).to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        let long = &bytes[skip..];
        out[start - 1] = 0x80 | long.len() as u8;
        // Shift the contents right by the extra length octets (one memmove; callers
        // reserve room for them, so no reallocation).
        let end = out.len();
        out.resize(end + long.len(), 0);
        out.copy_within(start..end, start + long.len());
        out[start..start + long.len()].copy_from_slice(long);
    }
}

/// Octets of `v`'s minimal two's complement (X.690 §8.3.2).
fn int_len(v: i64) -> usize {
    // Magnitude bits (of `!v` for a negative value) plus the sign bit, in whole octets.
    let m = if v < 0 { !v } else { v } as u64;
    (64 - m.leading_zeros() as usize + 1).div_ceil(8)
}

/// INTEGER, minimal two's complement.
fn put_int(out: &mut Vec<u8>, v: i64) {
    let n = int_len(v);
    out.push(INTEGER);
    out.push(n as u8);
    out.extend_from_slice(&v.to_be_bytes()[8 - n..]);
}

fn put_octets(out: &mut Vec<u8>, ident: u8, v: &[u8]) {
    cons(out, ident, |o| o.extend_from_slice(v));
}

fn put_key(out: &mut Vec<u8>, k: &EncryptionKey) {
    cons(out, SEQUENCE, |o| {
        cons(o, ctx(0), |o| put_int(o, i64::from(k.keytype)));
        cons(o, ctx(1), |o| put_octets(o, OCTET_STRING, &k.keyvalue));
    });
}

/// EncAPRepPart; cusec encoded signed and seq-number unsigned, as the rasn path (and MIT).
pub(super) fn encode_enc_ap_rep_part(v: &EncApRepPart) -> Vec<u8> {
    // One allocation of the exact size (the buffer holds the acceptor subkey; the caller
    // wipes it).
    let mut out = Vec::with_capacity(enc_ap_rep_part_len(v));
    put_enc_ap_rep_part(&mut out, v);
    out
}

/// EncAPRepPart appended to `out` (the AP-REP's plaintext, written where it is encrypted).
pub(crate) fn put_enc_ap_rep_part(out: &mut Vec<u8>, v: &EncApRepPart) {
    cons(out, app(27), |o| {
        cons(o, SEQUENCE, |o| {
            cons(o, ctx(0), |o| {
                put_octets(o, GENERALIZED_TIME, &time::encode(v.ctime))
            });
            cons(o, ctx(1), |o| put_int(o, i64::from(v.cusec as i32)));
            if let Some(k) = &v.subkey {
                cons(o, ctx(2), |o| put_key(o, k));
            }
            if let Some(seq) = v.seq_number {
                cons(o, ctx(3), |o| put_int(o, i64::from(seq)));
            }
        })
    });
}

/// The length of [`put_enc_ap_rep_part`]'s encoding of `v`.
pub(crate) fn enc_ap_rep_part_len(v: &EncApRepPart) -> usize {
    let int = |n: i64| tlv_size(int_len(n));
    let mut seq = tlv_size(tlv_size(15)) + tlv_size(int(i64::from(v.cusec as i32)));
    if let Some(k) = &v.subkey {
        // [2] SEQUENCE { [0] INTEGER, [1] OCTET STRING }
        let key = tlv_size(int(i64::from(k.keytype))) + tlv_size(tlv_size(k.keyvalue.len()));
        seq += tlv_size(tlv_size(key));
    }
    if let Some(n) = v.seq_number {
        seq += tlv_size(int(i64::from(n)));
    }
    tlv_size(tlv_size(seq))
}

fn put_name(out: &mut Vec<u8>, n: &PrincipalName) {
    cons(out, SEQUENCE, |o| {
        cons(o, ctx(0), |o| put_int(o, i64::from(n.name_type)));
        cons(o, ctx(1), |o| {
            cons(o, SEQUENCE, |o| {
                for c in &n.components {
                    put_octets(o, GENERAL_STRING, c);
                }
            })
        });
    });
}

/// EncryptedData whose cipher `cipher` appends (kvno unsigned, as the rasn path).
fn put_enc(out: &mut Vec<u8>, etype: i32, kvno: Option<u32>, cipher: impl FnOnce(&mut Vec<u8>)) {
    cons(out, SEQUENCE, |o| {
        cons(o, ctx(0), |o| put_int(o, i64::from(etype)));
        if let Some(kvno) = kvno {
            cons(o, ctx(1), |o| put_int(o, i64::from(kvno)));
        }
        cons(o, ctx(2), |o| cons(o, OCTET_STRING, cipher));
    });
}

/// Ticket (tkt-vno 5).
fn put_ticket(out: &mut Vec<u8>, t: &Ticket) {
    cons(out, app(1), |o| {
        cons(o, SEQUENCE, |o| {
            cons(o, ctx(0), |o| put_int(o, 5));
            cons(o, ctx(1), |o| put_octets(o, GENERAL_STRING, &t.realm));
            cons(o, ctx(2), |o| put_name(o, &t.sname));
            cons(o, ctx(3), |o| {
                let e = &t.enc_part;
                put_enc(o, e.etype, e.kvno, |o| o.extend_from_slice(&e.cipher))
            });
        })
    });
}

/// Authenticator (authenticator-vno 5); cusec signed and seq-number unsigned, as the
/// rasn path (and MIT). The buffer holds the subkey: the caller wipes it.
pub(super) fn encode_authenticator(v: &Authenticator) -> Vec<u8> {
    let ad_len: usize = v
        .authorization_data
        .iter()
        .flatten()
        .map(|e| e.ad_data.len() + 16)
        .sum();
    let name_len: usize = v.cname.components.iter().map(|c| c.len() + 4).sum();
    let mut out = Vec::with_capacity(
        128 + v.crealm.len()
            + name_len
            + v.cksum.as_ref().map_or(0, |c| c.checksum.len())
            + v.subkey.as_ref().map_or(0, |k| k.keyvalue.len())
            + ad_len,
    );
    cons(&mut out, app(2), |o| {
        cons(o, SEQUENCE, |o| {
            cons(o, ctx(0), |o| put_int(o, 5));
            cons(o, ctx(1), |o| put_octets(o, GENERAL_STRING, &v.crealm));
            cons(o, ctx(2), |o| put_name(o, &v.cname));
            if let Some(c) = &v.cksum {
                cons(o, ctx(3), |o| {
                    cons(o, SEQUENCE, |o| {
                        cons(o, ctx(0), |o| put_int(o, i64::from(c.cksumtype)));
                        cons(o, ctx(1), |o| put_octets(o, OCTET_STRING, &c.checksum));
                    })
                });
            }
            cons(o, ctx(4), |o| put_int(o, i64::from(v.cusec as i32)));
            cons(o, ctx(5), |o| {
                put_octets(o, GENERALIZED_TIME, &time::encode(v.ctime))
            });
            if let Some(k) = &v.subkey {
                cons(o, ctx(6), |o| put_key(o, k));
            }
            if let Some(seq) = v.seq_number {
                cons(o, ctx(7), |o| put_int(o, i64::from(seq)));
            }
            if let Some(ad) = &v.authorization_data {
                cons(o, ctx(8), |o| {
                    cons(o, SEQUENCE, |o| {
                        for e in ad {
                            cons(o, SEQUENCE, |o| {
                                cons(o, ctx(0), |o| put_int(o, i64::from(e.ad_type)));
                                cons(o, ctx(1), |o| put_octets(o, OCTET_STRING, &e.ad_data));
                            });
                        }
                    })
                });
            }
        })
    });
    out
}

/// AP-REQ (pvno 5, msg-type 14) around `ticket`, with the authenticator's ciphertext
/// appended in place by `cipher` (no intermediate EncryptedData or ticket copy).
pub(crate) fn encode_ap_req_with(
    ap_options: u32,
    ticket: &Ticket,
    etype: i32,
    kvno: Option<u32>,
    cipher_len: usize,
    cipher: impl FnOnce(&mut Vec<u8>),
) -> Vec<u8> {
    let t = &ticket.enc_part.cipher;
    let names: usize = ticket.sname.components.iter().map(|c| c.len() + 4).sum();
    let mut out = Vec::with_capacity(96 + ticket.realm.len() + names + t.len() + cipher_len);
    cons(&mut out, app(14), |o| {
        cons(o, SEQUENCE, |o| {
            cons(o, ctx(0), |o| put_int(o, 5));
            cons(o, ctx(1), |o| put_int(o, i64::from(msg_type::AP_REQ)));
            cons(o, ctx(2), |o| {
                let b = ap_options.to_be_bytes();
                o.extend_from_slice(&[BIT_STRING, 5, 0, b[0], b[1], b[2], b[3]]);
            });
            cons(o, ctx(3), |o| put_ticket(o, ticket));
            cons(o, ctx(4), |o| put_enc(o, etype, kvno, cipher));
        })
    });
    out
}

pub(super) fn encode_ap_req(v: &ApReq) -> Vec<u8> {
    let a = &v.authenticator;
    encode_ap_req_with(
        v.ap_options,
        &v.ticket,
        a.etype,
        a.kvno,
        a.cipher.len(),
        |o| o.extend_from_slice(&a.cipher),
    )
}

/// AP-REP (pvno 5, msg-type 15); kvno encoded unsigned, as the rasn path.
pub(super) fn encode_ap_rep(v: &ApRep) -> Vec<u8> {
    let e = &v.enc_part;
    let mut out = Vec::with_capacity(48 + e.cipher.len());
    encode_ap_rep_with(&mut out, e.etype, e.kvno, |o| {
        o.extend_from_slice(&e.cipher)
    });
    out
}

/// AP-REP appended to `out`, with its ciphertext appended in place by `cipher` (the
/// acceptor encrypts straight into its reply token).
pub(crate) fn encode_ap_rep_with(
    out: &mut Vec<u8>,
    etype: i32,
    kvno: Option<u32>,
    cipher: impl FnOnce(&mut Vec<u8>),
) {
    cons(out, app(15), |o| {
        cons(o, SEQUENCE, |o| {
            cons(o, ctx(0), |o| put_int(o, 5));
            cons(o, ctx(1), |o| put_int(o, i64::from(msg_type::AP_REP)));
            cons(o, ctx(2), |o| put_enc(o, etype, kvno, cipher));
        })
    });
}

/// The length of [`encode_ap_rep_with`]'s output for a ciphertext of `cipher_len` bytes
/// (so that a reply buffer is allocated exactly once, at its final size).
pub(crate) fn ap_rep_len(etype: i32, kvno: Option<u32>, cipher_len: usize) -> usize {
    let int = |v: i64| tlv_size(int_len(v));
    let enc = tlv_size(int(i64::from(etype)))
        + kvno.map_or(0, |k| tlv_size(int(i64::from(k))))
        + tlv_size(tlv_size(cipher_len));
    let body =
        tlv_size(int(5)) + tlv_size(int(i64::from(msg_type::AP_REP))) + tlv_size(tlv_size(enc));
    tlv_size(tlv_size(body))
}

#[cfg(test)]
mod tests {
    use super::super::convert::{decode, AdSeq, EtypeSeq};
    use super::*;
    use std::path::{Path, PathBuf};

    fn files(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).expect("fixture directory").flatten() {
            let p = e.path();
            if p.is_dir() {
                files(&p, out);
            } else {
                out.push(p);
            }
        }
    }

    /// Every DER value with identifier `ident` found inside the fixture files (an AP-REQ
    /// inside a GSS token, a plaintext on its own).
    fn values(ident: u8) -> Vec<Vec<u8>> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
        let mut paths = Vec::new();
        files(&root.join("mit-capture"), &mut paths);
        files(&root.join("asn1"), &mut paths);
        let mut out = Vec::new();
        for p in paths {
            let Ok(data) = std::fs::read(&p) else {
                continue;
            };
            for at in 0..data.len() {
                if data[at] != ident {
                    continue;
                }
                if let Ok(h) = super::super::tlv::header(&data[at..]) {
                    if let Some(v) = data.get(at..at + h.header_len + h.len) {
                        out.push(v.to_vec());
                    }
                }
            }
        }
        out
    }

    /// `Some` from the fast decoder must equal the rasn decoder's value; returns whether
    /// the fast decoder took the input.
    fn agree<T: PartialEq + std::fmt::Debug>(
        bytes: &[u8],
        fast: fn(&[u8]) -> Option<T>,
        reference: fn(&[u8]) -> Result<T, DecodeError>,
    ) -> bool {
        match fast(bytes) {
            Some(v) => {
                assert_eq!(Ok(&v), reference(bytes).as_ref(), "input {bytes:02x?}");
                true
            }
            None => false,
        }
    }

    /// Both decoders on every fixture (the fast one must take each valid one), then on
    /// every truncation and every single-bit flip of it.
    fn check_type<T: PartialEq + std::fmt::Debug>(
        ident: u8,
        fast: fn(&[u8]) -> Option<T>,
        reference: fn(&[u8]) -> Result<T, DecodeError>,
        min_fixtures: usize,
    ) {
        let vals = values(ident);
        let mut valid = 0;
        let mut fast_taken_mutants = 0;
        for v in &vals {
            if reference(v).is_ok() {
                valid += 1;
                assert!(agree(v, fast, reference), "fast decoder refused {v:02x?}");
            } else {
                assert!(fast(v).is_none());
            }
            for n in 0..v.len() {
                agree(&v[..n], fast, reference);
            }
            let mut m = v.clone();
            for i in 0..m.len() {
                for bit in 0..8 {
                    m[i] ^= 1 << bit;
                    fast_taken_mutants += usize::from(agree(&m, fast, reference));
                    m[i] ^= 1 << bit;
                }
            }
        }
        assert!(
            valid >= min_fixtures,
            "{valid} valid fixtures for {ident:#x}"
        );
        // Flips inside strings and keys keep a value valid: the mutants exercise Some too.
        assert!(fast_taken_mutants > 0);
    }

    #[test]
    fn ap_req_decoders_agree() {
        check_type(app(14), ap_req, decode::<ApReq>, 9);
    }

    #[test]
    fn enc_ticket_part_decoders_agree() {
        check_type(app(3), enc_ticket_part, decode::<EncTicketPart>, 5);
    }

    #[test]
    fn authenticator_decoders_agree() {
        check_type(app(2), authenticator, decode::<Authenticator>, 5);
    }

    /// The acceptor's variant: the same value as the reference decoder with the client's
    /// names left empty, and the right verdict on them, for the fixtures' own client, for
    /// other clients and on every mutant.
    #[test]
    fn authenticator_of_agrees() {
        let other_name = PrincipalName {
            name_type: 1,
            components: vec![b"mallory".to_vec()],
        };
        let mut checked = 0;
        for v in values(app(2)) {
            let own = decode::<Authenticator>(&v).ok();
            let mut mutants = vec![v.clone()];
            for i in 0..v.len() {
                let mut m = v.clone();
                m[i] ^= 0x01;
                mutants.push(m);
            }
            for m in &mutants {
                let reference = decode::<Authenticator>(m);
                let mut clients = vec![(b"OTHER.REALM".to_vec(), other_name.clone())];
                if let Some(a) = &own {
                    let mut longer = a.cname.clone();
                    longer.components.push(b"x".to_vec());
                    let mut shorter = a.cname.clone();
                    shorter.components.pop();
                    clients.push((a.crealm.clone(), a.cname.clone()));
                    clients.push((a.crealm.clone(), longer));
                    clients.push((a.crealm.clone(), shorter));
                }
                for (realm, name) in &clients {
                    let Some((got, same, subkey)) = authenticator_of(m, (realm, name)) else {
                        continue;
                    };
                    let mut want = reference.clone().expect("fast took what rasn refuses");
                    assert_eq!(
                        same,
                        want.crealm == *realm && want.cname.same_components(name),
                        "input {m:02x?}"
                    );
                    want.crealm = Vec::new();
                    want.cname = PrincipalName::default();
                    assert_eq!(subkey.map(owned_key), want.subkey.take(), "input {m:02x?}");
                    assert_eq!(got, want, "input {m:02x?}");
                    checked += 1;
                }
            }
        }
        assert!(checked > 20, "{checked}");
    }

    #[test]
    fn authorization_data_and_etype_list_decoders_agree() {
        // AD-IF-RELEVANT contents (the authenticators' RFC 4537 lists) and the lists.
        let mut ad_seen = 0;
        let mut lists_seen = 0;
        for auth in values(app(2)) {
            let Ok(a) = decode::<Authenticator>(&auth) else {
                continue;
            };
            for e in a.authorization_data.iter().flatten() {
                let inner = &e.ad_data;
                if agree(inner, authorization_data, |b| {
                    decode::<AdSeq>(b).map(|a| a.0)
                }) {
                    ad_seen += 1;
                }
                for x in decode::<AdSeq>(inner).map(|a| a.0).unwrap_or_default() {
                    if x.ad_type == ad_type::ETYPE_NEGOTIATION
                        && agree(&x.ad_data, etype_list, |b| {
                            decode::<EtypeSeq>(b).map(|e| e.0)
                        })
                    {
                        lists_seen += 1;
                    }
                }
            }
        }
        assert!(ad_seen > 0 && lists_seen > 0, "{ad_seen} {lists_seen}");
        let list = [
            0x30, 0x09, 0x02, 0x01, 0x12, 0x02, 0x01, 0x11, 0x02, 0x01, 0x14,
        ];
        for n in 0..=list.len() {
            agree(&list[..n], etype_list, |b| {
                decode::<EtypeSeq>(b).map(|e| e.0)
            });
        }
        assert_eq!(etype_list(&list), Some(vec![18, 17, 20]));
        // an Int32 out of range is the reference decoder's business
        assert_eq!(
            etype_list(&[0x30, 0x07, 0x02, 0x05, 0x00, 0x80, 0, 0, 0]),
            None
        );
    }

    /// [`for_each_authorization_data`]'s entries, owned (`None` when it declines, which
    /// must leave its callback uncalled).
    fn ad_walked(bytes: &[u8]) -> Option<AuthorizationData> {
        let mut v = Vec::new();
        let taken = for_each_authorization_data(bytes, |ad_type, data| {
            v.push(AuthorizationDataEntry {
                ad_type,
                ad_data: data.to_vec(),
            })
        });
        assert!(taken || v.is_empty(), "callback called on declined input");
        taken.then_some(v)
    }

    #[test]
    fn authorization_data_walk_agrees() {
        // The contents of every AD-IF-RELEVANT in the tickets (the PAC's container) and
        // authenticators, then every truncation and single-bit flip of them.
        let reference = |b: &[u8]| decode::<AdSeq>(b).map(|a| a.0);
        let mut inners = Vec::new();
        for t in values(app(3)) {
            if let Ok(p) = decode::<EncTicketPart>(&t) {
                inners.extend(
                    p.authorization_data
                        .into_iter()
                        .flatten()
                        .map(|e| e.ad_data),
                );
            }
        }
        for a in values(app(2)) {
            if let Ok(a) = decode::<Authenticator>(&a) {
                inners.extend(
                    a.authorization_data
                        .into_iter()
                        .flatten()
                        .map(|e| e.ad_data),
                );
            }
        }
        let (mut taken, mut mutants_taken) = (0, 0);
        for inner in &inners {
            if reference(inner).is_ok() {
                assert!(agree(inner, ad_walked, reference), "declined {inner:02x?}");
                taken += 1;
            }
            for n in 0..inner.len() {
                agree(&inner[..n], ad_walked, reference);
            }
            for bit in 0..inner.len() * 8 {
                let mut m = inner.clone();
                m[bit / 8] ^= 1 << (bit % 8);
                mutants_taken += usize::from(agree(&m, ad_walked, reference));
            }
        }
        assert!(taken >= 2 && mutants_taken > 0, "{taken} {mutants_taken}");
    }

    /// A small deterministic generator for the encoder comparisons.
    fn next(state: &mut u64) -> u64 {
        *state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        *state >> 16
    }

    #[test]
    fn reply_encoders_equal_rasn() {
        // MIT's EncAPRepParts re-encode to their own bytes
        let mut fixtures = 0;
        for v in values(app(27)) {
            if let Ok(p) = decode::<EncApRepPart>(&v) {
                assert_eq!(encode_enc_ap_rep_part(&p), v);
                fixtures += 1;
            }
        }
        for v in values(app(15)) {
            if let Ok(p) = decode::<ApRep>(&v) {
                assert_eq!(encode_ap_rep(&p), v);
                fixtures += 1;
            }
        }
        assert!(fixtures >= 5, "{fixtures}");
        // and every shape of value encodes as rasn encodes it: edge integers, no/short/long
        // keys and ciphertexts (long-form lengths)
        let mut st = 7u64;
        let edge = [
            0u32,
            1,
            0x7f,
            0x80,
            0xff,
            0x7fff_ffff,
            0x8000_0000,
            u32::MAX,
        ];
        for i in 0..2000 {
            let pick = |st: &mut u64| {
                if next(st).is_multiple_of(3) {
                    edge[(next(st) % 8) as usize]
                } else {
                    next(st) as u32
                }
            };
            let key_len = [0usize, 16, 32, 127, 128, 300][i % 6];
            let rep = EncApRepPart {
                ctime: (next(&mut st) % 4_000_000_000) as i64,
                cusec: pick(&mut st),
                subkey: (key_len > 0).then(|| EncryptionKey {
                    keytype: pick(&mut st) as i32,
                    keyvalue: Zeroizing::new(vec![0x5a; key_len]),
                }),
                seq_number: (i % 5 != 0).then(|| pick(&mut st)),
            };
            assert_eq!(
                encode_enc_ap_rep_part(&rep),
                super::super::convert::encode(&rep)
            );
            let ap = ApRep {
                enc_part: EncryptedData {
                    etype: pick(&mut st) as i32,
                    kvno: (i % 3 == 0).then(|| pick(&mut st)),
                    cipher: vec![0xc3; [0usize, 44, 127, 128, 255, 256, 70_000][i % 7]],
                },
            };
            assert_eq!(encode_ap_rep(&ap), super::super::convert::encode(&ap));
        }
    }

    #[test]
    fn request_encoders_equal_rasn() {
        // MIT's AP-REQs and Authenticators re-encode to their own bytes
        let mut fixtures = 0;
        for v in values(app(14)) {
            if let Ok(p) = decode::<ApReq>(&v) {
                assert_eq!(encode_ap_req(&p), v);
                fixtures += 1;
            }
        }
        for v in values(app(2)) {
            if let Ok(p) = decode::<Authenticator>(&v) {
                assert_eq!(encode_authenticator(&p), v);
                fixtures += 1;
            }
        }
        assert!(fixtures >= 10, "{fixtures}");
        // and every shape encodes as rasn encodes it: edge integers, absent and present
        // options, empty and long strings, short- and long-form lengths
        let mut st = 11u64;
        let edge = [
            0u32,
            1,
            0x7f,
            0x80,
            0xff,
            0x7fff_ffff,
            0x8000_0000,
            u32::MAX,
        ];
        let pick = |st: &mut u64| {
            if next(st).is_multiple_of(3) {
                edge[(next(st) % 8) as usize]
            } else {
                next(st) as u32
            }
        };
        let lens = [0usize, 1, 16, 127, 128, 255, 256, 1000, 70_000];
        for i in 0..1500 {
            let name = PrincipalName {
                name_type: pick(&mut st) as i32,
                components: (0..i % 4)
                    .map(|c| vec![b'a' + c as u8; lens[(i + c) % 5]])
                    .collect(),
            };
            let a = Authenticator {
                crealm: vec![b'R'; lens[i % 6]],
                cname: name.clone(),
                cksum: (!i.is_multiple_of(3)).then(|| Checksum {
                    cksumtype: pick(&mut st) as i32,
                    checksum: vec![0x11; lens[(i / 3) % 8]],
                }),
                cusec: pick(&mut st),
                ctime: (next(&mut st) % 4_000_000_000) as i64,
                subkey: (!i.is_multiple_of(4)).then(|| EncryptionKey {
                    keytype: pick(&mut st) as i32,
                    keyvalue: Zeroizing::new(vec![0x5a; [16, 32, 128][i % 3]]),
                }),
                seq_number: (!i.is_multiple_of(5)).then(|| pick(&mut st)),
                authorization_data: (i.is_multiple_of(2)).then(|| {
                    (0..i % 3)
                        .map(|k| AuthorizationDataEntry {
                            ad_type: pick(&mut st) as i32,
                            ad_data: vec![0x77; lens[(i + k) % 7]],
                        })
                        .collect()
                }),
            };
            assert_eq!(
                encode_authenticator(&a),
                super::super::convert::encode(&a),
                "{a:?}"
            );
            let req = ApReq {
                ap_options: pick(&mut st),
                ticket: Ticket {
                    realm: vec![b'T'; lens[(i + 1) % 6]],
                    sname: name,
                    enc_part: EncryptedData {
                        etype: pick(&mut st) as i32,
                        kvno: (i % 3 == 1).then(|| pick(&mut st)),
                        cipher: vec![0xc3; lens[i % 9]],
                    },
                },
                authenticator: EncryptedData {
                    etype: pick(&mut st) as i32,
                    kvno: (i.is_multiple_of(7)).then(|| pick(&mut st)),
                    cipher: vec![0xa5; lens[(i + 2) % 9]],
                },
            };
            assert_eq!(encode_ap_req(&req), super::super::convert::encode(&req));
        }
    }

    #[test]
    fn hostile_shapes_fall_back() {
        // non-minimal length, long-form for a short value, indefinite length, high tag
        for bad in [
            &[0x6e, 0x81, 0x05, 0, 0, 0, 0, 0][..],
            &[0x6e, 0x80, 0x00, 0x00],
            &[0x7f, 0x8e, 0x00],
            &[0x6e, 0x84, 0xff, 0xff, 0xff, 0xff],
            &[],
        ] {
            assert!(ap_req(bad).is_none());
            assert!(decode::<ApReq>(bad).is_err());
        }
        // deep nesting far past MAX_DEPTH: refused without recursion trouble
        let mut deep = vec![0x30u8, 0x00];
        for _ in 0..200 {
            let mut outer = vec![0xa0, deep.len() as u8];
            if deep.len() >= 0x80 {
                outer = vec![0xa0, 0x81, deep.len() as u8];
            }
            if deep.len() > 250 {
                break;
            }
            outer.extend_from_slice(&deep);
            deep = outer;
        }
        assert!(ap_req(&deep).is_none());
        assert!(authenticator(&deep).is_none());
    }

    #[test]
    fn int_len_is_minimal() {
        // Against the definition (X.690 §8.3.2: drop a leading octet while it and the next
        // octet's top bit are all zeros or all ones) at every power-of-two boundary.
        let reference = |v: i64| {
            let b = v.to_be_bytes();
            let mut skip = 0;
            while skip < 7
                && ((b[skip] == 0 && b[skip + 1] & 0x80 == 0)
                    || (b[skip] == 0xff && b[skip + 1] & 0x80 != 0))
            {
                skip += 1;
            }
            8 - skip
        };
        for k in 0..64 {
            let p = 1i64.wrapping_shl(k);
            for v in [p, p - 1, p + 1, -p, -p - 1, -p + 1, !p] {
                assert_eq!(int_len(v), reference(v), "{v}");
            }
        }
        for v in [
            0,
            -1,
            i64::MIN,
            i64::MAX,
            127,
            128,
            -128,
            -129,
            255,
            256,
            32_767,
            32_768,
        ] {
            assert_eq!(int_len(v), reference(v), "{v}");
        }
    }

    /// The fast decoder does not count TLVs: it declines input longer than twice the
    /// element bound, which the reference decoder then takes (or refuses, past the bound).
    #[test]
    fn element_bound_without_counting() {
        let ad = |entries: usize| {
            let ad: AuthorizationData = (0..entries)
                .map(|i| AuthorizationDataEntry {
                    ad_type: 1,
                    ad_data: vec![i as u8],
                })
                .collect();
            super::super::encode_authorization_data(&ad)
        };
        // An entry is 12 bytes and 5 TLVs: over 2 * MAX_ELEMENTS bytes, under MAX_ELEMENTS
        // TLVs.
        assert_eq!(ad(1).len(), 2 + 12);
        let n = 2 * MAX_ELEMENTS / 12 + 1;
        let big = ad(n);
        assert!(big.len() > 2 * MAX_ELEMENTS && 5 * n + 1 < MAX_ELEMENTS);
        assert_eq!(authorization_data(&big), None);
        assert!(!for_each_authorization_data(&big, |_, _| {}));
        let decoded = super::super::decode_authorization_data(&big).expect("reference decoder");
        assert_eq!(decoded.len(), n);
        // Past the bound the reference decoder refuses, as before.
        let huge = ad(MAX_ELEMENTS / 5 + 1);
        assert!(super::super::decode_authorization_data(&huge).is_err());
        // Up to the limit the fast decoder decodes.
        let n = (2 * MAX_ELEMENTS - 5) / 12;
        let small = ad(n);
        assert!(small.len() <= 2 * MAX_ELEMENTS, "{}", small.len());
        assert_eq!(authorization_data(&small).map(|a| a.len()), Some(n));
    }

    #[test]
    fn integers_must_be_minimal() {
        let mut r = Reader {
            buf: &[0x02, 0x02, 0x00, 0x05],
        };
        assert_eq!(r.int(), None);
        let mut r = Reader {
            buf: &[0x02, 0x02, 0x00, 0x80],
        };
        assert_eq!(r.int(), Some(128));
        let mut r = Reader {
            buf: &[0x02, 0x02, 0xff, 0x80],
        };
        assert_eq!(r.int(), None);
        let mut r = Reader {
            buf: &[0x02, 0x01, 0x80],
        };
        assert_eq!(r.int(), Some(-128));
    }

    #[test]
    fn ap_rep_len_is_exact() {
        for etype in [-1i32, 0, 17, 18, 20, 127, 128, 255, 256, 40_000] {
            for kvno in [None, Some(0u32), Some(2), Some(200), Some(u32::MAX)] {
                for cipher_len in (0..300).chain([1000, 65_535, 65_536, 70_000]) {
                    let mut out = Vec::new();
                    encode_ap_rep_with(&mut out, etype, kvno, |o| {
                        o.resize(o.len() + cipher_len, 0xa5)
                    });
                    assert_eq!(ap_rep_len(etype, kvno, cipher_len), out.len());
                }
            }
        }
    }

    #[test]
    fn enc_ap_rep_part_len_is_exact() {
        let mut n = 0;
        for ctime in [0i64, 1_700_000_000, 253_402_300_799] {
            for cusec in [0u32, 127, 128, 999_999, u32::MAX] {
                for subkey in [None, Some((17, 16)), Some((18, 32)), Some((-5, 200))] {
                    for seq_number in [None, Some(0u32), Some(0x7f), Some(0x80), Some(u32::MAX)] {
                        let v = EncApRepPart {
                            ctime,
                            cusec,
                            subkey: subkey.map(|(keytype, len): (i32, usize)| EncryptionKey {
                                keytype,
                                keyvalue: Zeroizing::new(vec![7; len]),
                            }),
                            seq_number,
                        };
                        let der = encode_enc_ap_rep_part(&v);
                        assert_eq!(enc_ap_rep_part_len(&v), der.len(), "{v:?}");
                        assert_eq!(der.capacity(), der.len());
                        n += 1;
                    }
                }
            }
        }
        assert_eq!(n, 300);
    }

    /// The vectors a context keeps (principal components, authorization data) are exactly
    /// sized: no spare capacity per accepted context.
    #[test]
    fn sequences_are_exactly_sized() {
        let mut seen = 0;
        for der in values(app(14)) {
            let Some(req) = ap_req(&der) else { continue };
            let c = &req.ticket.sname.components;
            assert_eq!(c.capacity(), c.len());
            seen += 1;
        }
        for der in values(app(3)) {
            let Some(part) = enc_ticket_part(&der) else {
                continue;
            };
            assert_eq!(
                part.cname.components.capacity(),
                part.cname.components.len()
            );
            if let Some(ad) = &part.authorization_data {
                assert_eq!(ad.capacity(), ad.len());
            }
            seen += 1;
        }
        assert!(seen >= 4, "fixtures decoded: {seen}");
        // The count stops at a malformed header or at 64, whatever follows.
        assert_eq!(count_tlvs(&[0x1b, 0x01, b'a', 0x1b, 0x05, b'b']), 1);
        assert_eq!(count_tlvs(&[0x1b, 0x84, 0xff, 0xff, 0xff, 0xff]), 0);
        assert_eq!(
            count_tlvs(&[0x1b, 0x81, 0x05, b'a']),
            0,
            "non-minimal length"
        );
        assert_eq!(count_tlvs(&[0x04, 0x00].repeat(100)), 64);
    }
}
