//! The exchange hash and key derivation of
//! [RFC 4253 §7.2](https://www.rfc-editor.org/rfc/rfc4253#section-7.2) and §8.

use zeroize::Zeroizing;

use super::{HashAlgorithm, SharedSecret};

/// The inputs of the exchange hash that come from outside the key exchange method.
#[derive(Debug, Clone, Copy)]
pub struct ExchangeHashInput<'a> {
    /// `V_C`: the client's identification string, without CR LF.
    pub client_version: &'a [u8],
    /// `V_S`: the server's identification string, without CR LF.
    pub server_version: &'a [u8],
    /// `I_C`: the payload of the client's KEXINIT, message number 20 included.
    pub client_kexinit: &'a [u8],
    /// `I_S`: the payload of the server's KEXINIT, message number 20 included.
    pub server_kexinit: &'a [u8],
    /// `K_S`: the server's public host key blob.
    pub host_key_blob: &'a [u8],
}

/// Computes the exchange hash
/// `H = HASH(string V_C || string V_S || string I_C || string I_S || string K_S || hash_body || K)`.
///
/// `hash_body` is the method-specific middle part ([`KexReply::hash_body`](super::KexReply)
/// or [`ServerReply::hash_body`](super::ServerReply)); `k` is already encoded as the method
/// requires (mpint or string), so it is fed as is.
pub fn exchange_hash(
    hash: HashAlgorithm,
    input: &ExchangeHashInput<'_>,
    hash_body: &[u8],
    k: &SharedSecret,
) -> Vec<u8> {
    let mut h = hash.hasher();
    h.update_string(input.client_version);
    h.update_string(input.server_version);
    h.update_string(input.client_kexinit);
    h.update_string(input.server_kexinit);
    h.update_string(input.host_key_blob);
    h.update(hash_body);
    h.update(k.encoded());
    h.finish()
}

/// Derives `len` bytes of key material for one `letter` (`b'A'` to `b'F'`)
/// ([RFC 4253 §7.2](https://www.rfc-editor.org/rfc/rfc4253#section-7.2)):
/// `K1 = HASH(K || H || letter || session_id)`, then `Kn = HASH(K || H || K1 || .. || Kn-1)`
/// until there are enough bytes; the result is `K1 || K2 || ..` truncated to `len`.
pub fn derive_key(
    hash: HashAlgorithm,
    k: &SharedSecret,
    exchange_hash: &[u8],
    letter: u8,
    session_id: &[u8],
    len: usize,
) -> Zeroizing<Vec<u8>> {
    let block = hash.output_len();
    // Reserving the rounded-up size up front means the buffer never reallocates, so no
    // copy of key material is left behind in freed memory.
    let mut out = Zeroizing::new(Vec::with_capacity(len.div_ceil(block).max(1) * block));
    let mut h = hash.hasher();
    h.update(k.encoded());
    h.update(exchange_hash);
    h.update(&[letter]);
    h.update(session_id);
    h.finish_into(&mut out);
    while out.len() < len {
        let mut h = hash.hasher();
        h.update(k.encoded());
        h.update(exchange_hash);
        h.update(&out);
        h.finish_into(&mut out);
    }
    out.truncate(len);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kex::test_util::hex;
    use crate::wire::Writer;

    struct Vector {
        hash: HashAlgorithm,
        k: &'static str,
        h: &'static str,
        session_id: &'static str,
        letter: u8,
        expected: &'static str,
    }

    /// Runs a NIST CAVS 14.1 SSH KDF (SP 800-135) vector. CAVS gives K already encoded
    /// as an mpint, exactly the form [`SharedSecret::encoded`] holds.
    fn check(v: &Vector) {
        let k = SharedSecret::from_encoded(&hex(v.k));
        let expected = hex(v.expected);
        let got = derive_key(
            v.hash,
            &k,
            &hex(v.h),
            v.letter,
            &hex(v.session_id),
            expected.len(),
        );
        assert_eq!(&got[..], &expected[..], "{:?} {}", v.hash, v.letter as char);
    }

    const SHA1_K: &str = concat!(
        "0000008055bae931c07fd824bf10add1902b6fbc7c665347383498a686929ff5a25f8e40cb6645ea81",
        "4fb1a5e0a11f852f86255641e5ed986e83a78bc8269480eac0b0dfd770cab92e7a28dd87ff452466d6",
        "ae867cead63b366b1c286e6c4811a9f14c27aea14c5171d49b78c06e3735d36e6a3be321dd5fc82308",
        "f34ee1cb17fba94a59"
    );
    const SHA1_H: &str = "a4ebd45934f56792b5112dcd75a1075fdc889245";

    #[test]
    fn derive_key_matches_cavs_sha1_iv() {
        check(&Vector {
            hash: HashAlgorithm::Sha1,
            k: SHA1_K,
            h: SHA1_H,
            session_id: SHA1_H,
            letter: b'A',
            expected: "e2f627c0b43f1ac1",
        });
    }

    #[test]
    fn derive_key_extends_past_one_sha1_block_like_cavs() {
        // 24 bytes from a 20-byte hash: exercises K2 = HASH(K || H || K1).
        check(&Vector {
            hash: HashAlgorithm::Sha1,
            k: SHA1_K,
            h: SHA1_H,
            session_id: SHA1_H,
            letter: b'C',
            expected: "1ca9d310f86d51f6cb8e7007cb2b220d55c5281ce680b533",
        });
    }

    #[test]
    fn derive_key_matches_cavs_sha1_integrity_key() {
        check(&Vector {
            hash: HashAlgorithm::Sha1,
            k: SHA1_K,
            h: SHA1_H,
            session_id: SHA1_H,
            letter: b'E',
            expected: "472eb8a26166ae6aa8e06868e45c3b26e6eeed06",
        });
    }

    #[test]
    fn derive_key_matches_cavs_sha256() {
        let k = concat!(
            "0000008100875c551cef526a4a8be1a7df27e9ed354bac9afb71f53dbae905679d14f9faf2469c5345",
            "7cf80a366be278965ba6255276ca2d9f4a97d271f71e50d8a9ec46253a6a906ac2c5e4f48b27a63ce0",
            "8d80390a492aa43bad9d882ccac23dac88bcada4b4d426a362083dab6569c54c224dd2d87643aa2276",
            "93e141ad1630ce13144e"
        );
        let h = "0e683fc8a9ed7c2ff02def23b2745ebc99b267daa86a4aa7697239088253f642";
        for (letter, expected) in [
            (b'A', "41ff2ead1683f1e6"),
            (b'C', "4a6314d2f7511bf88fad39fb6892f3f218cafd530e72fe43"),
            (
                b'F',
                "47d3c20aba60981e47b30533623613ff1cacbcf1642fb4ad86ee712f2aed9af8",
            ),
        ] {
            check(&Vector {
                hash: HashAlgorithm::Sha256,
                k,
                h,
                session_id: h,
                letter,
                expected,
            });
        }
    }

    #[test]
    fn derive_key_matches_cavs_sha512_with_distinct_session_id() {
        let k = concat!(
            "0000008045cafef6acb29ea351ad025a32cb0fb88fe52f138ac3cd7718140c883cffbc10778c2e6c57",
            "3bdbfaf32eceaa2fc1e106170dadcdf1cb0e1653f2361c76f5153262295b16371daf9ae2015dfb407f",
            "4920240eb10293c48971d2086723507d2eb7e1481f2b737df223628ee602a49bb7f1ac52068f5c1a24",
            "b445786e35042fc6c0"
        );
        let h = concat!(
            "b1ce6e766a7340f40cec52585087c60e456cc390d0ee294bbc460d50b93c2170344cca3dd2e3067e",
            "befe3efbd002ec4ed7f0fc1a8771eaffbc1fd4d5800aec21"
        );
        let session_id = concat!(
            "85ae5c53a8286dfddf295dd0b31237bc8c54e9858647e222db29a4f60ffb74a175e5de22c132a1a0",
            "6826c6e0122e63aa657fc670ca44943159560ce1c48b6906"
        );
        for (letter, expected) in [
            (b'A', "c5dffc4eb99a1c36"),
            (
                b'E',
                concat!(
                    "b4035effa78e6da307f4c096226150e5cab92794192bba492ff8576da3fdbbfdc87fbf79721de0",
                    "e8f38647261dcad096fd536c4f724f09782a4b684902a4b979"
                ),
            ),
        ] {
            check(&Vector {
                hash: HashAlgorithm::Sha512,
                k,
                h,
                session_id,
                letter,
                expected,
            });
        }
    }

    #[test]
    fn derive_key_chains_blocks_as_rfc4253_section_7_2_says() {
        let k = SharedSecret::from_encoded(&[0, 0, 0, 2, 0x12, 0x34]);
        let h = [7u8; 32];
        let session_id = [9u8; 32];
        let got = derive_key(HashAlgorithm::Sha256, &k, &h, b'D', &session_id, 80);

        let mut k1_input = k.encoded().to_vec();
        k1_input.extend_from_slice(&h);
        k1_input.push(b'D');
        k1_input.extend_from_slice(&session_id);
        let k1 = HashAlgorithm::Sha256.digest(&k1_input);
        let mut k2_input = k.encoded().to_vec();
        k2_input.extend_from_slice(&h);
        k2_input.extend_from_slice(&k1);
        let k2 = HashAlgorithm::Sha256.digest(&k2_input);
        let mut k3_input = k2_input.clone();
        k3_input.extend_from_slice(&k2);
        let k3 = HashAlgorithm::Sha256.digest(&k3_input);
        let expected: Vec<u8> = [k1, k2, k3].concat();
        assert_eq!(&got[..], &expected[..80]);
    }

    #[test]
    fn derive_key_of_zero_length_is_empty() {
        let k = SharedSecret::from_encoded(&[0, 0, 0, 1, 1]);
        assert!(derive_key(HashAlgorithm::Sha1, &k, b"h", b'A', b"s", 0).is_empty());
    }

    #[test]
    fn exchange_hash_frames_each_field_as_rfc4253_section_8_says() {
        let input = ExchangeHashInput {
            client_version: b"SSH-2.0-client",
            server_version: b"SSH-2.0-server",
            client_kexinit: &[20, 1, 2, 3],
            server_kexinit: &[20, 4, 5],
            host_key_blob: b"host key",
        };
        let hash_body = b"method part";
        let k = SharedSecret::from_encoded(&[0, 0, 0, 1, 0x42]);

        let mut expected_input = Vec::new();
        expected_input.put_string(b"SSH-2.0-client");
        expected_input.put_string(b"SSH-2.0-server");
        expected_input.put_string(&[20, 1, 2, 3]);
        expected_input.put_string(&[20, 4, 5]);
        expected_input.put_string(b"host key");
        expected_input.put_raw(hash_body);
        expected_input.put_raw(&[0, 0, 0, 1, 0x42]);
        for hash in [
            HashAlgorithm::Sha1,
            HashAlgorithm::Sha256,
            HashAlgorithm::Sha512,
        ] {
            assert_eq!(
                exchange_hash(hash, &input, hash_body, &k),
                hash.digest(&expected_input)
            );
        }
    }
}
