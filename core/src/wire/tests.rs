use super::*;

#[test]
fn string_longer_than_buffer_is_truncated_error() {
    let mut r = Reader::new(&[0xff, 0xff, 0xff, 0xff, 1, 2]);
    assert_eq!(
        r.string(),
        Err(WireError::Truncated {
            needed: 0xffff_ffff,
            remaining: 2
        })
    );
}

#[test]
fn trailing_bytes_are_reported() {
    let mut r = Reader::new(&[0, 0, 0, 1, 9]);
    r.u32().unwrap();
    assert_eq!(r.finish(), Err(WireError::TrailingBytes(1)));
}

#[test]
fn name_list_rejects_empty_names_and_spaces() {
    assert!(NameList::parse(b"a,,b").is_err());
    assert!(NameList::parse(b"a,").is_err());
    assert!(NameList::parse(b"a b").is_err());
    assert!(NameList::parse(b"\xff").is_err());
    let ok = NameList::parse(b"curve25519-sha256,ext-info-c").unwrap();
    assert_eq!(
        ok.iter().collect::<Vec<_>>(),
        ["curve25519-sha256", "ext-info-c"]
    );
    assert_eq!(NameList::parse(b"").unwrap().iter().count(), 0);
}

#[test]
fn mpint_round_trip_and_rfc4251_examples() {
    // RFC 4251 §5 examples.
    let mut out = Vec::new();
    out.put_mpint_unsigned(&[]);
    assert_eq!(out, [0, 0, 0, 0]);
    let mut out = Vec::new();
    out.put_mpint_unsigned(&[0x09, 0xa3, 0x78, 0xf9, 0xb2, 0xe3, 0x32, 0xa7]);
    assert_eq!(
        out,
        [0, 0, 0, 8, 0x09, 0xa3, 0x78, 0xf9, 0xb2, 0xe3, 0x32, 0xa7]
    );
    let mut out = Vec::new();
    out.put_mpint_unsigned(&[0, 0, 0x80]);
    assert_eq!(out, [0, 0, 0, 2, 0, 0x80]);
    assert_eq!(Reader::new(&out).mpint_unsigned().unwrap(), &[0x80]);
}

#[test]
fn mpint_rejects_negative_and_non_minimal() {
    assert_eq!(
        Reader::new(&[0, 0, 0, 1, 0x80]).mpint_unsigned(),
        Err(WireError::NegativeMpint)
    );
    assert_eq!(
        Reader::new(&[0, 0, 0, 2, 0, 0x10]).mpint_unsigned(),
        Err(WireError::NonMinimalMpint)
    );
}

#[test]
fn name_list_writer_matches_reader() {
    let mut out = Vec::new();
    out.put_name_list(&["aes128-ctr", "aes256-ctr"]);
    let mut r = Reader::new(&out);
    assert_eq!(r.name_list().unwrap().as_str(), "aes128-ctr,aes256-ctr");
    r.finish().unwrap();
}

#[test]
fn ext_info_with_more_than_64_extensions_is_too_many() {
    let mut payload = vec![msg::EXT_INFO];
    payload.put_u32(65);
    assert_eq!(
        transport::TransportMessage::decode(&payload),
        Err(WireError::TooMany {
            what: "EXT_INFO extensions",
            count: 65,
            limit: 64,
        })
    );
}
