//! The wire decoders on arbitrary bytes: `KexInit::decode`, `TransportMessage::decode`,
//! and a `Reader` walked through name-lists, mpints, strings and integers in an order
//! the input chooses. Never a panic, and whatever decodes survives a re-encode and
//! decode unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sansh_core::wire::transport::{self as tmsg, KexInit, TransportMessage};
use sansh_core::wire::{NameList, Reader, WireError, Writer};

fuzz_target!(|data: &[u8]| {
    kexinit(data);
    transport_message(data);
    reader_walk(data);
});

fn kexinit(data: &[u8]) {
    if let Ok(kexinit) = KexInit::decode(data) {
        let encoded = kexinit.encode();
        assert_eq!(
            KexInit::decode(&encoded),
            Ok(kexinit),
            "KEXINIT re-encode round trip"
        );
    }
}

fn transport_message(data: &[u8]) {
    let Ok(Some(message)) = TransportMessage::decode(data) else {
        return;
    };
    let encoded = match message {
        TransportMessage::Disconnect {
            reason,
            description,
        } => tmsg::encode_disconnect(reason, description),
        TransportMessage::Debug {
            always_display,
            message,
        } => tmsg::encode_debug(always_display, message),
        TransportMessage::Unimplemented(seq) => tmsg::encode_unimplemented(seq),
        TransportMessage::ServiceRequest(name) | TransportMessage::ServiceAccept(name) => {
            tmsg::encode_with_string(data[0], name.as_bytes())
        }
        TransportMessage::ExtInfo(ref extensions) => tmsg::encode_ext_info(extensions),
        TransportMessage::Ignore | TransportMessage::NewKeys => return,
    };
    assert_eq!(
        TransportMessage::decode(&encoded),
        Ok(Some(message)),
        "transport message re-encode round trip"
    );
}

/// Reads fields in the order the input's own selector bytes choose, checking what each
/// decoder promises about its result.
fn reader_walk(data: &[u8]) {
    let mut r = Reader::new(data);
    while let Ok(selector) = r.u8() {
        let step = match selector % 8 {
            0 => r.name_list().map(check_name_list),
            1 => r.mpint_unsigned().map(check_mpint),
            2 => r.string().map(drop),
            3 => r.utf8().map(drop),
            4 => r.u32().map(drop),
            5 => r.u64().map(drop),
            6 => r.bool().map(drop),
            _ => {
                let len = r.u8().map(usize::from);
                len.and_then(|len| r.bytes(len)).map(drop)
            }
        };
        if let Err(error) = step {
            assert!(
                !matches!(error, WireError::TrailingBytes(_)),
                "only finish() reports trailing bytes"
            );
            break;
        }
    }
    assert_eq!(r.rest().len(), r.remaining());
    assert_eq!(r.finish().is_ok(), r.remaining() == 0);
}

fn check_name_list(list: NameList<'_>) {
    let names: Vec<&str> = list.iter().collect();
    for name in &names {
        assert!(!name.is_empty() && !name.contains(','), "bad name {name:?}");
        assert!(
            name.bytes().all(|b| b.is_ascii_graphic()),
            "bad name {name:?}"
        );
        assert!(list.contains(name));
    }
    assert_eq!(
        names.join(","),
        list.as_str(),
        "names do not rebuild the list"
    );
    let mut encoded = Vec::new();
    encoded.put_name_list(&names);
    let reread = Reader::new(&encoded)
        .name_list()
        .expect("our own name-list reads back");
    assert_eq!(reread, list);
}

fn check_mpint(magnitude: &[u8]) {
    assert_ne!(
        magnitude.first(),
        Some(&0),
        "mpint magnitude has a leading zero"
    );
    let mut encoded = Vec::new();
    encoded.put_mpint_unsigned(magnitude);
    let mut r = Reader::new(&encoded);
    assert_eq!(r.mpint_unsigned(), Ok(magnitude), "mpint round trip");
    assert_eq!(r.finish(), Ok(()));
}
