//! SSH message numbers (RFC 4250 §4.1 and the RFCs that define them).

/// SSH_MSG_DISCONNECT.
pub const DISCONNECT: u8 = 1;
/// SSH_MSG_IGNORE.
pub const IGNORE: u8 = 2;
/// SSH_MSG_UNIMPLEMENTED.
pub const UNIMPLEMENTED: u8 = 3;
/// SSH_MSG_DEBUG.
pub const DEBUG: u8 = 4;
/// SSH_MSG_SERVICE_REQUEST.
pub const SERVICE_REQUEST: u8 = 5;
/// SSH_MSG_SERVICE_ACCEPT.
pub const SERVICE_ACCEPT: u8 = 6;
/// SSH_MSG_EXT_INFO (RFC 8308).
pub const EXT_INFO: u8 = 7;
/// SSH_MSG_NEWCOMPRESS (RFC 8308).
pub const NEWCOMPRESS: u8 = 8;
/// SSH_MSG_KEXINIT.
pub const KEXINIT: u8 = 20;
/// SSH_MSG_NEWKEYS.
pub const NEWKEYS: u8 = 21;
/// First message number of the key-exchange-method range (30..=49).
pub const KEX_METHOD_FIRST: u8 = 30;
/// Last message number of the key-exchange-method range.
pub const KEX_METHOD_LAST: u8 = 49;
/// SSH_MSG_KEXDH_INIT / KEX_ECDH_INIT / KEX_HYBRID_INIT.
pub const KEXDH_INIT: u8 = 30;
/// SSH_MSG_KEXDH_REPLY / KEX_ECDH_REPLY / KEX_HYBRID_REPLY.
pub const KEXDH_REPLY: u8 = 31;
/// SSH_MSG_KEX_DH_GEX_REQUEST_OLD (RFC 4419; rejected).
pub const KEX_DH_GEX_REQUEST_OLD: u8 = 30;
/// SSH_MSG_KEX_DH_GEX_GROUP (RFC 4419).
pub const KEX_DH_GEX_GROUP: u8 = 31;
/// SSH_MSG_KEX_DH_GEX_INIT (RFC 4419).
pub const KEX_DH_GEX_INIT: u8 = 32;
/// SSH_MSG_KEX_DH_GEX_REPLY (RFC 4419).
pub const KEX_DH_GEX_REPLY: u8 = 33;
/// SSH_MSG_KEX_DH_GEX_REQUEST (RFC 4419).
pub const KEX_DH_GEX_REQUEST: u8 = 34;
/// SSH_MSG_USERAUTH_REQUEST.
pub const USERAUTH_REQUEST: u8 = 50;
/// SSH_MSG_USERAUTH_FAILURE.
pub const USERAUTH_FAILURE: u8 = 51;
/// SSH_MSG_USERAUTH_SUCCESS.
pub const USERAUTH_SUCCESS: u8 = 52;
/// SSH_MSG_USERAUTH_BANNER.
pub const USERAUTH_BANNER: u8 = 53;
/// SSH_MSG_GLOBAL_REQUEST.
pub const GLOBAL_REQUEST: u8 = 80;
/// SSH_MSG_REQUEST_SUCCESS.
pub const REQUEST_SUCCESS: u8 = 81;
/// SSH_MSG_REQUEST_FAILURE.
pub const REQUEST_FAILURE: u8 = 82;
/// SSH_MSG_CHANNEL_OPEN.
pub const CHANNEL_OPEN: u8 = 90;
/// SSH_MSG_CHANNEL_OPEN_CONFIRMATION.
pub const CHANNEL_OPEN_CONFIRMATION: u8 = 91;
/// SSH_MSG_CHANNEL_OPEN_FAILURE.
pub const CHANNEL_OPEN_FAILURE: u8 = 92;
/// SSH_MSG_CHANNEL_WINDOW_ADJUST.
pub const CHANNEL_WINDOW_ADJUST: u8 = 93;
/// SSH_MSG_CHANNEL_DATA.
pub const CHANNEL_DATA: u8 = 94;
/// SSH_MSG_CHANNEL_EXTENDED_DATA.
pub const CHANNEL_EXTENDED_DATA: u8 = 95;
/// SSH_MSG_CHANNEL_EOF.
pub const CHANNEL_EOF: u8 = 96;
/// SSH_MSG_CHANNEL_CLOSE.
pub const CHANNEL_CLOSE: u8 = 97;
/// SSH_MSG_CHANNEL_REQUEST.
pub const CHANNEL_REQUEST: u8 = 98;
/// SSH_MSG_CHANNEL_SUCCESS.
pub const CHANNEL_SUCCESS: u8 = 99;
/// SSH_MSG_CHANNEL_FAILURE.
pub const CHANNEL_FAILURE: u8 = 100;

/// Messages only a server sends; a client sending one has broken the protocol.
pub fn sent_only_by_server(number: u8) -> bool {
    matches!(
        number,
        SERVICE_ACCEPT | USERAUTH_FAILURE | USERAUTH_SUCCESS | USERAUTH_BANNER | 60
    )
}

/// Messages only a client sends.
pub fn sent_only_by_client(number: u8) -> bool {
    matches!(number, SERVICE_REQUEST | USERAUTH_REQUEST | 61)
}
