//! Status codes: GSS-API major status (RFC 2744 §3.9.1, values identical to MIT's
//! `GSS_S_*`) and minor status equal to MIT krb5's com_err codes, so that a C caller
//! can compare a krbap minor status with MIT's `KRB5KRB_AP_ERR_*` constants.

use std::fmt;

/// GSS-API major status values (RFC 2744 §3.9.1).
pub mod major {
    pub const COMPLETE: u32 = 0;
    pub const CALL_INACCESSIBLE_READ: u32 = 1 << 24;
    pub const CALL_INACCESSIBLE_WRITE: u32 = 2 << 24;
    pub const CALL_BAD_STRUCTURE: u32 = 3 << 24;
    pub const BAD_MECH: u32 = 1 << 16;
    pub const BAD_NAME: u32 = 2 << 16;
    pub const BAD_NAMETYPE: u32 = 3 << 16;
    pub const BAD_BINDINGS: u32 = 4 << 16;
    pub const BAD_STATUS: u32 = 5 << 16;
    pub const BAD_SIG: u32 = 6 << 16;
    pub const BAD_MIC: u32 = BAD_SIG;
    pub const NO_CRED: u32 = 7 << 16;
    pub const NO_CONTEXT: u32 = 8 << 16;
    pub const DEFECTIVE_TOKEN: u32 = 9 << 16;
    pub const DEFECTIVE_CREDENTIAL: u32 = 10 << 16;
    pub const CREDENTIALS_EXPIRED: u32 = 11 << 16;
    pub const CONTEXT_EXPIRED: u32 = 12 << 16;
    pub const FAILURE: u32 = 13 << 16;
    pub const BAD_QOP: u32 = 14 << 16;
    pub const UNAUTHORIZED: u32 = 15 << 16;
    pub const UNAVAILABLE: u32 = 16 << 16;
    pub const DUPLICATE_ELEMENT: u32 = 17 << 16;
    pub const NAME_NOT_MN: u32 = 18 << 16;
    // Supplementary bits.
    pub const CONTINUE_NEEDED: u32 = 1 << 0;
    pub const DUPLICATE_TOKEN: u32 = 1 << 1;
    pub const OLD_TOKEN: u32 = 1 << 2;
    pub const UNSEQ_TOKEN: u32 = 1 << 3;
    pub const GAP_TOKEN: u32 = 1 << 4;

    /// Mask of the routine-error field.
    pub const ROUTINE_ERROR_MASK: u32 = 0xff << 16;
    /// Mask of the calling-error field.
    pub const CALLING_ERROR_MASK: u32 = 0xff << 24;
    /// Mask of the supplementary-information field.
    pub const SUPPLEMENTARY_MASK: u32 = 0xffff;

    /// True when `status` carries a calling or routine error.
    pub const fn is_error(status: u32) -> bool {
        status & (ROUTINE_ERROR_MASK | CALLING_ERROR_MASK) != 0
    }
}

/// MIT krb5 com_err codes (krb5_err.et, as in MIT's `<krb5/krb5.h>`).
///
/// Codes in the first 128 of the krb5 table are the RFC 4120 §7.5.9 protocol error
/// codes plus the table base, so `code - KRB5_ERR_BASE` is what goes into a KRB-ERROR.
pub mod minor {
    pub const KRB5_ERR_BASE: i32 = -1765328384;
    const fn krb(n: i32) -> i32 {
        KRB5_ERR_BASE + n
    }
    pub const KDC_ERR_BAD_PVNO: i32 = krb(3);
    pub const KDC_ERR_C_PRINCIPAL_UNKNOWN: i32 = krb(6);
    pub const KDC_ERR_S_PRINCIPAL_UNKNOWN: i32 = krb(7);
    pub const KDC_ERR_PREAUTH_FAILED: i32 = krb(24);
    pub const KDC_ERR_PREAUTH_REQUIRED: i32 = krb(25);
    pub const AP_ERR_BAD_INTEGRITY: i32 = krb(31);
    pub const AP_ERR_TKT_EXPIRED: i32 = krb(32);
    pub const AP_ERR_TKT_NYV: i32 = krb(33);
    pub const AP_ERR_REPEAT: i32 = krb(34);
    pub const AP_ERR_NOT_US: i32 = krb(35);
    pub const AP_ERR_BADMATCH: i32 = krb(36);
    pub const AP_ERR_SKEW: i32 = krb(37);
    pub const AP_ERR_BADADDR: i32 = krb(38);
    pub const AP_ERR_BADVERSION: i32 = krb(39);
    pub const AP_ERR_MSG_TYPE: i32 = krb(40);
    pub const AP_ERR_MODIFIED: i32 = krb(41);
    pub const AP_ERR_BADORDER: i32 = krb(42);
    pub const AP_ERR_ILL_CR_TKT: i32 = krb(43);
    pub const AP_ERR_BADKEYVER: i32 = krb(44);
    pub const AP_ERR_NOKEY: i32 = krb(45);
    pub const AP_ERR_MUT_FAIL: i32 = krb(46);
    pub const AP_ERR_BADDIRECTION: i32 = krb(47);
    pub const AP_ERR_METHOD: i32 = krb(48);
    pub const AP_ERR_BADSEQ: i32 = krb(49);
    pub const AP_ERR_INAPP_CKSUM: i32 = krb(50);
    pub const ERR_GENERIC: i32 = krb(60);
    pub const ERR_FIELD_TOOLONG: i32 = krb(61);
    pub const PARSE_MALFORMED: i32 = krb(134);
    pub const CONFIG_BADFORMAT: i32 = krb(136);
    pub const BADMSGTYPE: i32 = krb(138);
    pub const CC_BADNAME: i32 = krb(139);
    pub const CC_UNKNOWN_TYPE: i32 = krb(140);
    pub const CC_NOTFOUND: i32 = krb(141);
    pub const CC_END: i32 = krb(142);
    pub const NO_TKT_SUPPLIED: i32 = krb(143);
    pub const AP_WRONG_PRINC: i32 = krb(144);
    pub const AP_ERR_TKT_INVALID: i32 = krb(145);
    pub const PRINC_NOMATCH: i32 = krb(146);
    pub const PROG_ETYPE_NOSUPP: i32 = krb(150);
    pub const RC_TYPE_NOTFOUND: i32 = krb(161);
    pub const RC_UNKNOWN: i32 = krb(162);
    pub const RC_REPLAY: i32 = krb(163);
    pub const RC_IO: i32 = krb(164);
    pub const RC_PARSE: i32 = krb(166);
    pub const RC_IO_EOF: i32 = krb(167);
    pub const RC_IO_PERM: i32 = krb(169);
    pub const RC_IO_IO: i32 = krb(170);
    pub const RC_IO_SPACE: i32 = krb(172);
    pub const CRYPTO_INTERNAL: i32 = krb(178);
    pub const KT_BADNAME: i32 = krb(179);
    pub const KT_UNKNOWN_TYPE: i32 = krb(180);
    pub const KT_NOTFOUND: i32 = krb(181);
    pub const KT_END: i32 = krb(182);
    pub const KT_NOWRITE: i32 = krb(183);
    pub const KT_IOERR: i32 = krb(184);
    pub const BAD_ENCTYPE: i32 = krb(188);
    pub const BAD_KEYSIZE: i32 = krb(189);
    pub const BAD_MSIZE: i32 = krb(190);
    pub const CC_IO: i32 = krb(193);
    pub const FCC_NOFILE: i32 = krb(195);
    pub const CC_NOMEM: i32 = krb(198);
    pub const CC_FORMAT: i32 = krb(199);
    pub const NOCREDS_SUPPLIED: i32 = krb(203);
    pub const KT_NAME_TOOLONG: i32 = krb(229);
    pub const KT_KVNONOTFOUND: i32 = krb(230);
    pub const KT_FORMAT: i32 = krb(235);
    pub const CC_NOSUPP: i32 = krb(247);
    // KDC exchange codes (protocol errors from a KDC, and the client library's own).
    pub const KDC_ERR_NAME_EXP: i32 = krb(1);
    pub const KDC_ERR_SERVICE_EXP: i32 = krb(2);
    pub const KDC_ERR_C_OLD_MAST_KVNO: i32 = krb(4);
    pub const KDC_ERR_S_OLD_MAST_KVNO: i32 = krb(5);
    pub const KDC_ERR_PRINCIPAL_NOT_UNIQUE: i32 = krb(8);
    pub const KDC_ERR_NULL_KEY: i32 = krb(9);
    pub const KDC_ERR_CANNOT_POSTDATE: i32 = krb(10);
    pub const KDC_ERR_NEVER_VALID: i32 = krb(11);
    pub const KDC_ERR_POLICY: i32 = krb(12);
    pub const KDC_ERR_BADOPTION: i32 = krb(13);
    pub const KDC_ERR_ETYPE_NOSUPP: i32 = krb(14);
    pub const KDC_ERR_SUMTYPE_NOSUPP: i32 = krb(15);
    pub const KDC_ERR_PADATA_TYPE_NOSUPP: i32 = krb(16);
    pub const KDC_ERR_TRTYPE_NOSUPP: i32 = krb(17);
    pub const KDC_ERR_CLIENT_REVOKED: i32 = krb(18);
    pub const KDC_ERR_SERVICE_REVOKED: i32 = krb(19);
    pub const KDC_ERR_TGT_REVOKED: i32 = krb(20);
    pub const KDC_ERR_CLIENT_NOTYET: i32 = krb(21);
    pub const KDC_ERR_SERVICE_NOTYET: i32 = krb(22);
    pub const KDC_ERR_KEY_EXP: i32 = krb(23);
    pub const KDC_ERR_SERVER_NOMATCH: i32 = krb(26);
    pub const KDC_ERR_MUST_USE_USER2USER: i32 = krb(27);
    pub const KDC_ERR_PATH_NOT_ACCEPTED: i32 = krb(28);
    pub const KDC_ERR_SVC_UNAVAILABLE: i32 = krb(29);
    pub const AP_PATH_NOT_ACCEPTED: i32 = krb(51);
    pub const ERR_RESPONSE_TOO_BIG: i32 = krb(52);
    pub const KDC_ERR_CLIENT_NOT_TRUSTED: i32 = krb(62);
    pub const KDC_ERR_KDC_NOT_TRUSTED: i32 = krb(63);
    pub const KDC_ERR_INVALID_SIG: i32 = krb(64);
    pub const KDC_ERR_DH_KEY_PARAMETERS_NOT_ACCEPTED: i32 = krb(65);
    pub const KDC_ERR_CERTIFICATE_MISMATCH: i32 = krb(66);
    pub const AP_ERR_NO_TGT: i32 = krb(67);
    pub const KDC_ERR_WRONG_REALM: i32 = krb(68);
    pub const AP_ERR_USER_TO_USER_REQUIRED: i32 = krb(69);
    pub const KDC_ERR_CANT_VERIFY_CERTIFICATE: i32 = krb(70);
    pub const KDC_ERR_INVALID_CERTIFICATE: i32 = krb(71);
    pub const KDC_ERR_REVOKED_CERTIFICATE: i32 = krb(72);
    pub const KDC_ERR_REVOCATION_STATUS_UNKNOWN: i32 = krb(73);
    pub const KDC_ERR_REVOCATION_STATUS_UNAVAILABLE: i32 = krb(74);
    pub const KDC_ERR_CLIENT_NAME_MISMATCH: i32 = krb(75);
    pub const KDC_ERR_KDC_NAME_MISMATCH: i32 = krb(76);
    pub const KDC_ERR_INCONSISTENT_KEY_PURPOSE: i32 = krb(77);
    pub const KDC_ERR_DIGEST_IN_CERT_NOT_ACCEPTED: i32 = krb(78);
    pub const KDC_ERR_PA_CHECKSUM_MUST_BE_INCLUDED: i32 = krb(79);
    pub const KDC_ERR_DIGEST_IN_SIGNED_DATA_NOT_ACCEPTED: i32 = krb(80);
    pub const KDC_ERR_PUBLIC_KEY_ENCRYPTION_NOT_SUPPORTED: i32 = krb(81);
    pub const AP_ERR_IAKERB_KDC_NOT_FOUND: i32 = krb(85);
    pub const AP_ERR_IAKERB_KDC_NO_RESPONSE: i32 = krb(86);
    pub const KDC_ERR_PREAUTH_EXPIRED: i32 = krb(90);
    pub const KDC_ERR_MORE_PREAUTH_DATA_REQUIRED: i32 = krb(91);
    pub const KDC_ERR_UNKNOWN_CRITICAL_FAST_OPTION: i32 = krb(93);
    pub const KDCREP_MODIFIED: i32 = krb(147);
    pub const KDCREP_SKEW: i32 = krb(148);
    pub const REALM_UNKNOWN: i32 = krb(154);
    pub const SERVICE_UNKNOWN: i32 = krb(155);
    pub const KDC_UNREACH: i32 = krb(156);
    pub const PREAUTH_NO_KEY: i32 = krb(209);
    pub const PREAUTH_FAILED: i32 = krb(210);
    pub const ERR_HOST_REALM_UNKNOWN: i32 = krb(217);
    pub const REALM_CANT_RESOLVE: i32 = krb(220);
    pub const GET_IN_TKT_LOOP: i32 = krb(223);
    pub const CONFIG_ETYPE_NOSUPP: i32 = krb(237);
    /// MIT's ASN.1 table (asn1_err.et).
    pub const ASN1_BAD_TIMEFORMAT: i32 = 1859794432;
    pub const ASN1_MISSING_FIELD: i32 = 1859794433;
    pub const ASN1_OVERFLOW: i32 = 1859794436;
    pub const ASN1_OVERRUN: i32 = 1859794437;
    pub const ASN1_BAD_ID: i32 = 1859794438;
    pub const ASN1_BAD_LENGTH: i32 = 1859794439;
    pub const ASN1_BAD_FORMAT: i32 = 1859794440;
    pub const ASN1_PARSE_ERROR: i32 = 1859794441;
    /// MIT's GSS krb5 mechanism table (k5g, gssapi_err_krb5.et).
    pub const K5G_BASE: i32 = -2045022976;
    pub const G_BAD_SERVICE_NAME: i32 = K5G_BASE;
    pub const G_BAD_STRING_UID: i32 = K5G_BASE + 1;
    pub const G_NOUSER: i32 = K5G_BASE + 2;
    pub const G_VALIDATE_FAILED: i32 = K5G_BASE + 3;
    pub const G_BUFFER_ALLOC: i32 = K5G_BASE + 4;
    pub const G_BAD_MSG_CTX: i32 = K5G_BASE + 5;
    pub const G_WRONG_SIZE: i32 = K5G_BASE + 6;
    pub const G_BAD_USAGE: i32 = K5G_BASE + 7;
    pub const G_UNKNOWN_QOP: i32 = K5G_BASE + 8;
    pub const G_NO_CONFIDENTIALITY: i32 = K5G_BASE + 9;
    pub const G_BAD_TOK_HEADER: i32 = K5G_BASE + 10;
    pub const G_BAD_DIRECTION: i32 = K5G_BASE + 11;
    pub const G_TOK_TRUNC: i32 = K5G_BASE + 12;
    pub const G_REFLECT: i32 = K5G_BASE + 13;
    pub const G_WRONG_TOKID: i32 = K5G_BASE + 14;
    pub const G_CRED_USAGE_MISMATCH: i32 = K5G_BASE + 15;
    pub const G_STORE_ACCEPTOR_CRED_NOSUPP: i32 = K5G_BASE + 16;
    pub const G_STORE_NON_DEFAULT_CRED_NOSUPP: i32 = K5G_BASE + 17;
    pub const G_WRONG_MECH: i32 = K5G_BASE + 20;
    /// MIT's "kg" table (gssapi_err_krb5.et, second table).
    pub const KG_BAD_LENGTH: i32 = 39_756_038;
    /// POSIX errno values are passed through as minor codes, as MIT does.
    pub const ENOENT: i32 = 2;
    pub const EIO: i32 = 5;
    pub const ENOMEM: i32 = 12;
    pub const EACCES: i32 = 13;
    pub const EINVAL: i32 = 22;
    /// HTTP Negotiate header values (src/http): no token, malformed, too long, another scheme.
    pub const ENODATA: i32 = 61;
    pub const EBADMSG: i32 = 74;
    pub const EMSGSIZE: i32 = 90;
    pub const EPROTONOSUPPORT: i32 = 93;
    /// MIT's SPNEGO mechanism codes (gssapiP_spnego.h, not a com_err table).
    pub const SPNEGO_NO_MECHS_AVAILABLE: i32 = 0x2000_0001;
    pub const SPNEGO_NO_MECH_FROM_ACCEPTOR: i32 = 0x2000_0003;
    pub const SPNEGO_NEGOTIATION_FAILED: i32 = 0x2000_0004;
    pub const SPNEGO_NO_TOKEN_FROM_ACCEPTOR: i32 = 0x2000_0005;
    pub const EAGAIN: i32 = 11;
    /// The memory replay cache is at its cap (issue #19).
    pub const RC_MALLOC: i32 = krb(160);

    /// The RFC 4120 §7.5.9 error code for a minor status in the protocol range, if any.
    pub fn protocol_error_code(code: i32) -> Option<i32> {
        let n = code.wrapping_sub(KRB5_ERR_BASE);
        (0..128).contains(&n).then_some(n)
    }

    /// MIT's text for a minor code (the strings of krb5_err.et / gssapi_err_krb5.et).
    pub fn message(code: i32) -> &'static str {
        match code {
            0 => "Success",
            KDC_ERR_BAD_PVNO => "Requested protocol version not supported",
            KDC_ERR_C_PRINCIPAL_UNKNOWN => "Client not found in Kerberos database",
            KDC_ERR_S_PRINCIPAL_UNKNOWN => "Server not found in Kerberos database",
            KDC_ERR_PREAUTH_FAILED => "Preauthentication failed",
            KDC_ERR_PREAUTH_REQUIRED => "Additional pre-authentication required",
            AP_ERR_BAD_INTEGRITY => "Decrypt integrity check failed",
            AP_ERR_TKT_EXPIRED => "Ticket expired",
            AP_ERR_TKT_NYV => "Ticket not yet valid",
            AP_ERR_REPEAT => "Request is a replay",
            AP_ERR_NOT_US => "The ticket isn't for us",
            AP_ERR_BADMATCH => "Ticket/authenticator don't match",
            AP_ERR_SKEW => "Clock skew too great",
            AP_ERR_BADADDR => "Incorrect net address",
            AP_ERR_BADVERSION => "Protocol version mismatch",
            AP_ERR_MSG_TYPE => "Invalid message type",
            AP_ERR_MODIFIED => "Message stream modified",
            AP_ERR_BADORDER => "Message out of order",
            AP_ERR_ILL_CR_TKT => "Illegal cross-realm ticket",
            AP_ERR_BADKEYVER => "Key version is not available",
            AP_ERR_NOKEY => "Service key not available",
            AP_ERR_MUT_FAIL => "Mutual authentication failed",
            AP_ERR_BADDIRECTION => "Incorrect message direction",
            AP_ERR_METHOD => "Alternative authentication method required",
            AP_ERR_BADSEQ => "Incorrect sequence number in message",
            AP_ERR_INAPP_CKSUM => "Inappropriate type of checksum in message",
            ERR_GENERIC => "Generic error (see e-text)",
            ERR_FIELD_TOOLONG => "Field is too long for this implementation",
            PARSE_MALFORMED => "Malformed representation of principal",
            CONFIG_BADFORMAT => "Improper format of Kerberos configuration file",
            BADMSGTYPE => "Invalid message type specified for encoding",
            CC_BADNAME => "Credential cache name malformed",
            CC_UNKNOWN_TYPE => "Unknown credential cache type",
            CC_NOTFOUND => "Matching credential not found",
            CC_END => "End of credential cache reached",
            NO_TKT_SUPPLIED => "Request did not supply a ticket",
            AP_WRONG_PRINC => "Wrong principal in request",
            AP_ERR_TKT_INVALID => "Ticket has invalid flag set",
            PRINC_NOMATCH => "Requested principal and ticket don't match",
            PROG_ETYPE_NOSUPP => "Program lacks support for encryption type",
            RC_TYPE_NOTFOUND => "Replay cache type is unknown",
            RC_UNKNOWN => "Generic unknown RC error",
            RC_REPLAY => "Message is a replay",
            RC_IO => "Replay cache I/O operation failed",
            RC_PARSE => "Replay cache name parse/format error",
            RC_IO_EOF => "End-of-file on replay cache I/O",
            RC_IO_PERM => "Permission denied in replay cache code",
            RC_IO_IO => "I/O error in replay cache i/o code",
            RC_IO_SPACE => "Insufficient system space to store replay information",
            CRYPTO_INTERNAL => "Cryptosystem internal error",
            KT_BADNAME => "Key table name malformed",
            KT_UNKNOWN_TYPE => "Unknown Key table type",
            KT_NOTFOUND => "Key table entry not found",
            KT_END => "End of key table reached",
            KT_NOWRITE => "Cannot write to specified key table",
            KT_IOERR => "Error writing to key table",
            BAD_ENCTYPE => "Bad encryption type",
            BAD_KEYSIZE => "Key size is incompatible with encryption type",
            BAD_MSIZE => "Message size is incompatible with encryption type",
            CC_IO => "Credentials cache I/O operation failed",
            FCC_NOFILE => "No credentials cache found",
            CC_NOMEM => "No more memory to allocate (in credentials cache code)",
            CC_FORMAT => "Bad format in credentials cache",
            NOCREDS_SUPPLIED => "No credentials supplied to library routine",
            KT_NAME_TOOLONG => "Keytab name too long",
            KT_KVNONOTFOUND => "Key version number for principal in key table is incorrect",
            KT_FORMAT => "Bad format in keytab",
            CC_NOSUPP => "Ccache function not supported: not implemented",
            KDC_ERR_NAME_EXP => "Client's entry in database has expired",
            KDC_ERR_SERVICE_EXP => "Server's entry in database has expired",
            KDC_ERR_C_OLD_MAST_KVNO => "Client's key is encrypted in an old master key",
            KDC_ERR_S_OLD_MAST_KVNO => "Server's key is encrypted in an old master key",
            KDC_ERR_PRINCIPAL_NOT_UNIQUE => "Principal has multiple entries in Kerberos database",
            KDC_ERR_NULL_KEY => "Client or server has a null key",
            KDC_ERR_CANNOT_POSTDATE => "Ticket is ineligible for postdating",
            KDC_ERR_NEVER_VALID => "Requested effective lifetime is negative or too short",
            KDC_ERR_POLICY => "KDC policy rejects request",
            KDC_ERR_BADOPTION => "KDC can't fulfill requested option",
            KDC_ERR_ETYPE_NOSUPP => "KDC has no support for encryption type",
            KDC_ERR_SUMTYPE_NOSUPP => "KDC has no support for checksum type",
            KDC_ERR_PADATA_TYPE_NOSUPP => "KDC has no support for padata type",
            KDC_ERR_TRTYPE_NOSUPP => "KDC has no support for transited type",
            KDC_ERR_CLIENT_REVOKED => "Client's credentials have been revoked",
            KDC_ERR_SERVICE_REVOKED => "Credentials for server have been revoked",
            KDC_ERR_TGT_REVOKED => "TGT has been revoked",
            KDC_ERR_CLIENT_NOTYET => "Client not yet valid - try again later",
            KDC_ERR_SERVICE_NOTYET => "Server not yet valid - try again later",
            KDC_ERR_KEY_EXP => "Password has expired",
            KDC_ERR_SERVER_NOMATCH => "Requested server and ticket don't match",
            KDC_ERR_MUST_USE_USER2USER => "Server principal valid for user2user only",
            KDC_ERR_PATH_NOT_ACCEPTED => "KDC policy rejects transited path",
            KDC_ERR_SVC_UNAVAILABLE => {
                "A service is not available that is required to process the request"
            }
            AP_PATH_NOT_ACCEPTED => "Policy rejects transited path",
            ERR_RESPONSE_TOO_BIG => "Response too big for UDP, retry with TCP",
            KDC_ERR_CLIENT_NOT_TRUSTED => "Client not trusted",
            KDC_ERR_KDC_NOT_TRUSTED => "KDC not trusted",
            KDC_ERR_INVALID_SIG => "Invalid signature",
            KDC_ERR_DH_KEY_PARAMETERS_NOT_ACCEPTED => "Key parameters not accepted",
            KDC_ERR_CERTIFICATE_MISMATCH => "Certificate mismatch",
            AP_ERR_NO_TGT => "No ticket granting ticket",
            KDC_ERR_WRONG_REALM => "Realm not local to KDC",
            AP_ERR_USER_TO_USER_REQUIRED => "User to user required",
            KDC_ERR_CANT_VERIFY_CERTIFICATE => "Can't verify certificate",
            KDC_ERR_INVALID_CERTIFICATE => "Invalid certificate",
            KDC_ERR_REVOKED_CERTIFICATE => "Revoked certificate",
            KDC_ERR_REVOCATION_STATUS_UNKNOWN => "Revocation status unknown",
            KDC_ERR_REVOCATION_STATUS_UNAVAILABLE => "Revocation status unavailable",
            KDC_ERR_CLIENT_NAME_MISMATCH => "Client name mismatch",
            KDC_ERR_KDC_NAME_MISMATCH => "KDC name mismatch",
            KDC_ERR_INCONSISTENT_KEY_PURPOSE => "Inconsistent key purpose",
            KDC_ERR_DIGEST_IN_CERT_NOT_ACCEPTED => "Digest in certificate not accepted",
            KDC_ERR_PA_CHECKSUM_MUST_BE_INCLUDED => "Checksum must be included",
            KDC_ERR_DIGEST_IN_SIGNED_DATA_NOT_ACCEPTED => "Digest in signed-data not accepted",
            KDC_ERR_PUBLIC_KEY_ENCRYPTION_NOT_SUPPORTED => "Public key encryption not supported",
            AP_ERR_IAKERB_KDC_NOT_FOUND => "The IAKERB proxy could not find a KDC",
            AP_ERR_IAKERB_KDC_NO_RESPONSE => "The KDC did not respond to the IAKERB proxy",
            KDC_ERR_PREAUTH_EXPIRED => "Preauthentication expired",
            KDC_ERR_MORE_PREAUTH_DATA_REQUIRED => "More preauthentication data is required",
            KDC_ERR_UNKNOWN_CRITICAL_FAST_OPTION => {
                "An unsupported critical FAST option was requested"
            }
            KDCREP_MODIFIED => "KDC reply did not match expectations",
            KDCREP_SKEW => "Clock skew too great in KDC reply",
            REALM_UNKNOWN => "Cannot find KDC for requested realm",
            SERVICE_UNKNOWN => "Kerberos service unknown",
            KDC_UNREACH => "Cannot contact any KDC for requested realm",
            PREAUTH_NO_KEY => "Required preauthentication key not supplied",
            PREAUTH_FAILED => "Generic preauthentication failure",
            ERR_HOST_REALM_UNKNOWN => "Cannot determine realm for host",
            REALM_CANT_RESOLVE => "Cannot resolve network address for KDC in requested realm",
            GET_IN_TKT_LOOP => "Looping detected inside krb5_get_in_tkt",
            CONFIG_ETYPE_NOSUPP => "No supported encryption types (config file error?)",
            ASN1_BAD_TIMEFORMAT => "ASN.1 failed call to system time library",
            ASN1_MISSING_FIELD => "ASN.1 structure is missing a required field",
            ASN1_OVERFLOW => "ASN.1 value too large",
            ASN1_OVERRUN => "ASN.1 encoding ended unexpectedly",
            ASN1_BAD_ID => "ASN.1 identifier doesn't match expected value",
            ASN1_BAD_LENGTH => "ASN.1 length doesn't match expected value",
            ASN1_BAD_FORMAT => "ASN.1 badly-formatted encoding",
            ASN1_PARSE_ERROR => "ASN.1 parse error",
            G_BAD_SERVICE_NAME => "No @ in SERVICE-NAME name string",
            G_BAD_STRING_UID => "STRING-UID-NAME contains nondigits",
            G_NOUSER => "UID does not resolve to username",
            G_VALIDATE_FAILED => "Validation error",
            G_BUFFER_ALLOC => "Couldn't allocate gss_buffer_t data",
            G_BAD_MSG_CTX => "Message context invalid",
            G_WRONG_SIZE => "Buffer is the wrong size",
            G_BAD_USAGE => "Credential usage type is unknown",
            G_UNKNOWN_QOP => "Unknown quality of protection specified",
            G_NO_CONFIDENTIALITY => "Confidentiality is not available",
            G_BAD_TOK_HEADER => "Invalid token header",
            G_BAD_DIRECTION => "Packet was replayed in wrong direction",
            G_TOK_TRUNC => "Token is truncated",
            G_REFLECT => "Token was reflected",
            G_WRONG_TOKID => "Received token ID does not match expected token ID",
            G_CRED_USAGE_MISMATCH => {
                "The given credential's usage does not match the requested usage"
            }
            G_STORE_ACCEPTOR_CRED_NOSUPP => {
                "Storing of acceptor credentials is not supported by the mechanism"
            }
            G_STORE_NON_DEFAULT_CRED_NOSUPP => {
                "Storing of non-default credentials is not supported by the mechanism"
            }
            G_WRONG_MECH => "Wrong mechanism OID in token",
            KG_BAD_LENGTH => "Invalid field length in token",
            ENOENT => "No such file or directory",
            EIO => "Input/output error",
            ENOMEM => "Cannot allocate memory",
            EACCES => "Permission denied",
            EINVAL => "Invalid argument",
            ENODATA => "No data available",
            EBADMSG => "Bad message",
            EMSGSIZE => "Message too long",
            EPROTONOSUPPORT => "Protocol not supported",
            SPNEGO_NO_MECHS_AVAILABLE => "SPNEGO cannot find mechanisms to negotiate",
            SPNEGO_NO_MECH_FROM_ACCEPTOR => "SPNEGO acceptor did not select a mechanism",
            SPNEGO_NEGOTIATION_FAILED => "SPNEGO failed to negotiate a mechanism",
            SPNEGO_NO_TOKEN_FROM_ACCEPTOR => "SPNEGO acceptor did not return a valid token",
            EAGAIN => "Resource temporarily unavailable",
            RC_MALLOC => "No more memory to allocate (in replay cache code)",
            _ => "Unknown code",
        }
    }

    /// MIT's symbolic name of a minor code (the identifier of its com_err table entry, e.g.
    /// `KRB5KRB_AP_ERR_SKEW`, `G_BAD_TOK_HEADER`, `ASN1_OVERRUN`; errno values by their
    /// POSIX name), NUL-terminated for the C ABI; `None` for a code krbap does not know.
    pub fn name(code: i32) -> Option<&'static std::ffi::CStr> {
        Some(match code {
            KDC_ERR_BAD_PVNO => c"KRB5KDC_ERR_BAD_PVNO",
            KDC_ERR_C_PRINCIPAL_UNKNOWN => c"KRB5KDC_ERR_C_PRINCIPAL_UNKNOWN",
            KDC_ERR_S_PRINCIPAL_UNKNOWN => c"KRB5KDC_ERR_S_PRINCIPAL_UNKNOWN",
            KDC_ERR_PREAUTH_FAILED => c"KRB5KDC_ERR_PREAUTH_FAILED",
            KDC_ERR_PREAUTH_REQUIRED => c"KRB5KDC_ERR_PREAUTH_REQUIRED",
            AP_ERR_BAD_INTEGRITY => c"KRB5KRB_AP_ERR_BAD_INTEGRITY",
            AP_ERR_TKT_EXPIRED => c"KRB5KRB_AP_ERR_TKT_EXPIRED",
            AP_ERR_TKT_NYV => c"KRB5KRB_AP_ERR_TKT_NYV",
            AP_ERR_REPEAT => c"KRB5KRB_AP_ERR_REPEAT",
            AP_ERR_NOT_US => c"KRB5KRB_AP_ERR_NOT_US",
            AP_ERR_BADMATCH => c"KRB5KRB_AP_ERR_BADMATCH",
            AP_ERR_SKEW => c"KRB5KRB_AP_ERR_SKEW",
            AP_ERR_BADADDR => c"KRB5KRB_AP_ERR_BADADDR",
            AP_ERR_BADVERSION => c"KRB5KRB_AP_ERR_BADVERSION",
            AP_ERR_MSG_TYPE => c"KRB5KRB_AP_ERR_MSG_TYPE",
            AP_ERR_MODIFIED => c"KRB5KRB_AP_ERR_MODIFIED",
            AP_ERR_BADORDER => c"KRB5KRB_AP_ERR_BADORDER",
            AP_ERR_ILL_CR_TKT => c"KRB5KRB_AP_ERR_ILL_CR_TKT",
            AP_ERR_BADKEYVER => c"KRB5KRB_AP_ERR_BADKEYVER",
            AP_ERR_NOKEY => c"KRB5KRB_AP_ERR_NOKEY",
            AP_ERR_MUT_FAIL => c"KRB5KRB_AP_ERR_MUT_FAIL",
            AP_ERR_BADDIRECTION => c"KRB5KRB_AP_ERR_BADDIRECTION",
            AP_ERR_METHOD => c"KRB5KRB_AP_ERR_METHOD",
            AP_ERR_BADSEQ => c"KRB5KRB_AP_ERR_BADSEQ",
            AP_ERR_INAPP_CKSUM => c"KRB5KRB_AP_ERR_INAPP_CKSUM",
            ERR_GENERIC => c"KRB5KRB_ERR_GENERIC",
            ERR_FIELD_TOOLONG => c"KRB5KRB_ERR_FIELD_TOOLONG",
            PARSE_MALFORMED => c"KRB5_PARSE_MALFORMED",
            CONFIG_BADFORMAT => c"KRB5_CONFIG_BADFORMAT",
            BADMSGTYPE => c"KRB5_BADMSGTYPE",
            CC_BADNAME => c"KRB5_CC_BADNAME",
            CC_UNKNOWN_TYPE => c"KRB5_CC_UNKNOWN_TYPE",
            CC_NOTFOUND => c"KRB5_CC_NOTFOUND",
            CC_END => c"KRB5_CC_END",
            NO_TKT_SUPPLIED => c"KRB5_NO_TKT_SUPPLIED",
            AP_WRONG_PRINC => c"KRB5KRB_AP_WRONG_PRINC",
            AP_ERR_TKT_INVALID => c"KRB5KRB_AP_ERR_TKT_INVALID",
            PRINC_NOMATCH => c"KRB5_PRINC_NOMATCH",
            PROG_ETYPE_NOSUPP => c"KRB5_PROG_ETYPE_NOSUPP",
            RC_TYPE_NOTFOUND => c"KRB5_RC_TYPE_NOTFOUND",
            RC_UNKNOWN => c"KRB5_RC_UNKNOWN",
            RC_REPLAY => c"KRB5_RC_REPLAY",
            RC_IO => c"KRB5_RC_IO",
            RC_PARSE => c"KRB5_RC_PARSE",
            RC_IO_EOF => c"KRB5_RC_IO_EOF",
            RC_IO_PERM => c"KRB5_RC_IO_PERM",
            RC_IO_IO => c"KRB5_RC_IO_IO",
            RC_IO_SPACE => c"KRB5_RC_IO_SPACE",
            CRYPTO_INTERNAL => c"KRB5_CRYPTO_INTERNAL",
            KT_BADNAME => c"KRB5_KT_BADNAME",
            KT_UNKNOWN_TYPE => c"KRB5_KT_UNKNOWN_TYPE",
            KT_NOTFOUND => c"KRB5_KT_NOTFOUND",
            KT_END => c"KRB5_KT_END",
            KT_NOWRITE => c"KRB5_KT_NOWRITE",
            KT_IOERR => c"KRB5_KT_IOERR",
            BAD_ENCTYPE => c"KRB5_BAD_ENCTYPE",
            BAD_KEYSIZE => c"KRB5_BAD_KEYSIZE",
            BAD_MSIZE => c"KRB5_BAD_MSIZE",
            CC_IO => c"KRB5_CC_IO",
            FCC_NOFILE => c"KRB5_FCC_NOFILE",
            CC_NOMEM => c"KRB5_CC_NOMEM",
            CC_FORMAT => c"KRB5_CC_FORMAT",
            NOCREDS_SUPPLIED => c"KRB5_NOCREDS_SUPPLIED",
            KT_NAME_TOOLONG => c"KRB5_KT_NAME_TOOLONG",
            KT_KVNONOTFOUND => c"KRB5_KT_KVNONOTFOUND",
            KT_FORMAT => c"KRB5_KT_FORMAT",
            CC_NOSUPP => c"KRB5_CC_NOSUPP",
            KDC_ERR_NAME_EXP => c"KRB5KDC_ERR_NAME_EXP",
            KDC_ERR_SERVICE_EXP => c"KRB5KDC_ERR_SERVICE_EXP",
            KDC_ERR_C_OLD_MAST_KVNO => c"KRB5KDC_ERR_C_OLD_MAST_KVNO",
            KDC_ERR_S_OLD_MAST_KVNO => c"KRB5KDC_ERR_S_OLD_MAST_KVNO",
            KDC_ERR_PRINCIPAL_NOT_UNIQUE => c"KRB5KDC_ERR_PRINCIPAL_NOT_UNIQUE",
            KDC_ERR_NULL_KEY => c"KRB5KDC_ERR_NULL_KEY",
            KDC_ERR_CANNOT_POSTDATE => c"KRB5KDC_ERR_CANNOT_POSTDATE",
            KDC_ERR_NEVER_VALID => c"KRB5KDC_ERR_NEVER_VALID",
            KDC_ERR_POLICY => c"KRB5KDC_ERR_POLICY",
            KDC_ERR_BADOPTION => c"KRB5KDC_ERR_BADOPTION",
            KDC_ERR_ETYPE_NOSUPP => c"KRB5KDC_ERR_ETYPE_NOSUPP",
            KDC_ERR_SUMTYPE_NOSUPP => c"KRB5KDC_ERR_SUMTYPE_NOSUPP",
            KDC_ERR_PADATA_TYPE_NOSUPP => c"KRB5KDC_ERR_PADATA_TYPE_NOSUPP",
            KDC_ERR_TRTYPE_NOSUPP => c"KRB5KDC_ERR_TRTYPE_NOSUPP",
            KDC_ERR_CLIENT_REVOKED => c"KRB5KDC_ERR_CLIENT_REVOKED",
            KDC_ERR_SERVICE_REVOKED => c"KRB5KDC_ERR_SERVICE_REVOKED",
            KDC_ERR_TGT_REVOKED => c"KRB5KDC_ERR_TGT_REVOKED",
            KDC_ERR_CLIENT_NOTYET => c"KRB5KDC_ERR_CLIENT_NOTYET",
            KDC_ERR_SERVICE_NOTYET => c"KRB5KDC_ERR_SERVICE_NOTYET",
            KDC_ERR_KEY_EXP => c"KRB5KDC_ERR_KEY_EXP",
            KDC_ERR_SERVER_NOMATCH => c"KRB5KDC_ERR_SERVER_NOMATCH",
            KDC_ERR_MUST_USE_USER2USER => c"KRB5KDC_ERR_MUST_USE_USER2USER",
            KDC_ERR_PATH_NOT_ACCEPTED => c"KRB5KDC_ERR_PATH_NOT_ACCEPTED",
            KDC_ERR_SVC_UNAVAILABLE => c"KRB5KDC_ERR_SVC_UNAVAILABLE",
            AP_PATH_NOT_ACCEPTED => c"KRB5KRB_AP_PATH_NOT_ACCEPTED",
            ERR_RESPONSE_TOO_BIG => c"KRB5KRB_ERR_RESPONSE_TOO_BIG",
            KDC_ERR_CLIENT_NOT_TRUSTED => c"KRB5KDC_ERR_CLIENT_NOT_TRUSTED",
            KDC_ERR_KDC_NOT_TRUSTED => c"KRB5KDC_ERR_KDC_NOT_TRUSTED",
            KDC_ERR_INVALID_SIG => c"KRB5KDC_ERR_INVALID_SIG",
            KDC_ERR_DH_KEY_PARAMETERS_NOT_ACCEPTED => c"KRB5KDC_ERR_DH_KEY_PARAMETERS_NOT_ACCEPTED",
            KDC_ERR_CERTIFICATE_MISMATCH => c"KRB5KDC_ERR_CERTIFICATE_MISMATCH",
            AP_ERR_NO_TGT => c"KRB5KRB_AP_ERR_NO_TGT",
            KDC_ERR_WRONG_REALM => c"KRB5KDC_ERR_WRONG_REALM",
            AP_ERR_USER_TO_USER_REQUIRED => c"KRB5KRB_AP_ERR_USER_TO_USER_REQUIRED",
            KDC_ERR_CANT_VERIFY_CERTIFICATE => c"KRB5KDC_ERR_CANT_VERIFY_CERTIFICATE",
            KDC_ERR_INVALID_CERTIFICATE => c"KRB5KDC_ERR_INVALID_CERTIFICATE",
            KDC_ERR_REVOKED_CERTIFICATE => c"KRB5KDC_ERR_REVOKED_CERTIFICATE",
            KDC_ERR_REVOCATION_STATUS_UNKNOWN => c"KRB5KDC_ERR_REVOCATION_STATUS_UNKNOWN",
            KDC_ERR_REVOCATION_STATUS_UNAVAILABLE => c"KRB5KDC_ERR_REVOCATION_STATUS_UNAVAILABLE",
            KDC_ERR_CLIENT_NAME_MISMATCH => c"KRB5KDC_ERR_CLIENT_NAME_MISMATCH",
            KDC_ERR_KDC_NAME_MISMATCH => c"KRB5KDC_ERR_KDC_NAME_MISMATCH",
            KDC_ERR_INCONSISTENT_KEY_PURPOSE => c"KRB5KDC_ERR_INCONSISTENT_KEY_PURPOSE",
            KDC_ERR_DIGEST_IN_CERT_NOT_ACCEPTED => c"KRB5KDC_ERR_DIGEST_IN_CERT_NOT_ACCEPTED",
            KDC_ERR_PA_CHECKSUM_MUST_BE_INCLUDED => c"KRB5KDC_ERR_PA_CHECKSUM_MUST_BE_INCLUDED",
            KDC_ERR_DIGEST_IN_SIGNED_DATA_NOT_ACCEPTED => {
                c"KRB5KDC_ERR_DIGEST_IN_SIGNED_DATA_NOT_ACCEPTED"
            }
            KDC_ERR_PUBLIC_KEY_ENCRYPTION_NOT_SUPPORTED => {
                c"KRB5KDC_ERR_PUBLIC_KEY_ENCRYPTION_NOT_SUPPORTED"
            }
            AP_ERR_IAKERB_KDC_NOT_FOUND => c"KRB5KRB_AP_ERR_IAKERB_KDC_NOT_FOUND",
            AP_ERR_IAKERB_KDC_NO_RESPONSE => c"KRB5KRB_AP_ERR_IAKERB_KDC_NO_RESPONSE",
            KDC_ERR_PREAUTH_EXPIRED => c"KRB5KDC_ERR_PREAUTH_EXPIRED",
            KDC_ERR_MORE_PREAUTH_DATA_REQUIRED => c"KRB5KDC_ERR_MORE_PREAUTH_DATA_REQUIRED",
            KDC_ERR_UNKNOWN_CRITICAL_FAST_OPTION => c"KRB5KDC_ERR_UNKNOWN_CRITICAL_FAST_OPTION",
            RC_MALLOC => c"KRB5_RC_MALLOC",
            KDCREP_MODIFIED => c"KRB5_KDCREP_MODIFIED",
            KDCREP_SKEW => c"KRB5_KDCREP_SKEW",
            REALM_UNKNOWN => c"KRB5_REALM_UNKNOWN",
            SERVICE_UNKNOWN => c"KRB5_SERVICE_UNKNOWN",
            KDC_UNREACH => c"KRB5_KDC_UNREACH",
            PREAUTH_NO_KEY => c"KRB5_PREAUTH_NO_KEY",
            PREAUTH_FAILED => c"KRB5_PREAUTH_FAILED",
            ERR_HOST_REALM_UNKNOWN => c"KRB5_ERR_HOST_REALM_UNKNOWN",
            REALM_CANT_RESOLVE => c"KRB5_REALM_CANT_RESOLVE",
            GET_IN_TKT_LOOP => c"KRB5_GET_IN_TKT_LOOP",
            CONFIG_ETYPE_NOSUPP => c"KRB5_CONFIG_ETYPE_NOSUPP",
            ASN1_BAD_TIMEFORMAT => c"ASN1_BAD_TIMEFORMAT",
            ASN1_MISSING_FIELD => c"ASN1_MISSING_FIELD",
            ASN1_OVERFLOW => c"ASN1_OVERFLOW",
            ASN1_OVERRUN => c"ASN1_OVERRUN",
            ASN1_BAD_ID => c"ASN1_BAD_ID",
            ASN1_BAD_LENGTH => c"ASN1_BAD_LENGTH",
            ASN1_BAD_FORMAT => c"ASN1_BAD_FORMAT",
            ASN1_PARSE_ERROR => c"ASN1_PARSE_ERROR",
            G_BAD_SERVICE_NAME => c"G_BAD_SERVICE_NAME",
            G_BAD_STRING_UID => c"G_BAD_STRING_UID",
            G_NOUSER => c"G_NOUSER",
            G_VALIDATE_FAILED => c"G_VALIDATE_FAILED",
            G_BUFFER_ALLOC => c"G_BUFFER_ALLOC",
            G_BAD_MSG_CTX => c"G_BAD_MSG_CTX",
            G_WRONG_SIZE => c"G_WRONG_SIZE",
            G_BAD_USAGE => c"G_BAD_USAGE",
            G_UNKNOWN_QOP => c"G_UNKNOWN_QOP",
            G_NO_CONFIDENTIALITY => c"G_NO_CONFIDENTIALITY",
            G_BAD_TOK_HEADER => c"G_BAD_TOK_HEADER",
            G_BAD_DIRECTION => c"G_BAD_DIRECTION",
            G_TOK_TRUNC => c"G_TOK_TRUNC",
            G_REFLECT => c"G_REFLECT",
            G_WRONG_TOKID => c"G_WRONG_TOKID",
            G_CRED_USAGE_MISMATCH => c"G_CRED_USAGE_MISMATCH",
            G_STORE_ACCEPTOR_CRED_NOSUPP => c"G_STORE_ACCEPTOR_CRED_NOSUPP",
            G_STORE_NON_DEFAULT_CRED_NOSUPP => c"G_STORE_NON_DEFAULT_CRED_NOSUPP",
            G_WRONG_MECH => c"G_WRONG_MECH",
            KG_BAD_LENGTH => c"KG_BAD_LENGTH",
            ENOENT => c"ENOENT",
            EIO => c"EIO",
            EAGAIN => c"EAGAIN",
            ENOMEM => c"ENOMEM",
            EACCES => c"EACCES",
            EINVAL => c"EINVAL",
            ENODATA => c"ENODATA",
            EBADMSG => c"EBADMSG",
            EMSGSIZE => c"EMSGSIZE",
            EPROTONOSUPPORT => c"EPROTONOSUPPORT",
            // MIT's gssapiP_spnego.h names.
            SPNEGO_NO_MECHS_AVAILABLE => c"ERR_SPNEGO_NO_MECHS_AVAILABLE",
            SPNEGO_NO_MECH_FROM_ACCEPTOR => c"ERR_SPNEGO_NO_MECH_FROM_ACCEPTOR",
            SPNEGO_NEGOTIATION_FAILED => c"ERR_SPNEGO_NEGOTIATION_FAILED",
            SPNEGO_NO_TOKEN_FROM_ACCEPTOR => c"ERR_SPNEGO_NO_TOKEN_FROM_ACCEPTOR",
            _ => return None,
        })
    }
}

/// An error from any part of krbap: a GSS major status, an MIT-compatible minor code and a
/// human-readable detail (which never contains key material).
#[derive(Clone, PartialEq, Eq)]
pub struct Error {
    pub major: u32,
    pub minor: i32,
    pub detail: String,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(major: u32, minor: i32, detail: impl Into<String>) -> Error {
        Error {
            major,
            minor,
            detail: detail.into(),
        }
    }
    /// A failure whose only useful information is the minor code.
    pub fn minor(minor: i32, detail: impl Into<String>) -> Error {
        Error::new(major::FAILURE, minor, detail)
    }
    pub fn defective_token(minor: i32, detail: impl Into<String>) -> Error {
        Error::new(major::DEFECTIVE_TOKEN, minor, detail)
    }
    /// MIT's text for the minor code.
    pub fn minor_message(&self) -> &'static str {
        minor::message(self.minor)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.detail.is_empty() {
            f.write_str(self.minor_message())
        } else {
            write!(f, "{} ({})", self.minor_message(), self.detail)
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Error {{ major: {:#x}, minor: {}, {} }}",
            self.major, self.minor, self
        )
    }
}

impl std::error::Error for Error {}
