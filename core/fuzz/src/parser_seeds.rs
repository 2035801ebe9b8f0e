//! Seed inputs for the parser targets: real files of every key type and format, made
//! by our own writers at each run (the same way as the engine seeds: nothing in git to
//! keep in step), from seeded generators.

use sansh_core::crypto::SeededRandom;
use sansh_core::keys::{
    CbcCipher, CertType, CertificateBuilder, KeyType, OpenSshCipher, OpenSshEncryption, Pbkdf2Prf,
    PemFormat, Pkcs8Encryption, PrivateKey,
};

use crate::fixtures::{self, HOST, PASSPHRASE, USER, VALID_AFTER, VALID_BEFORE};
use crate::seeds::Seed;

/// One key of every type (RSA at 2048 bits), with a comment.
fn keys(seed: u64) -> Vec<PrivateKey> {
    let mut rng = SeededRandom::new(seed);
    KeyType::ALL
        .iter()
        .map(|&key_type| {
            let bits = (key_type == KeyType::Rsa).then_some(2048);
            let mut key = PrivateKey::generate(key_type, bits, &mut rng).expect("key generation");
            key.set_comment(format!("fuzz {}", key_type.name()));
            key
        })
        .collect()
}

fn seed(name: String, data: impl Into<Vec<u8>>) -> Seed {
    Seed {
        name,
        data: data.into(),
    }
}

/// Seeds for `public_key_line`: OpenSSH lines, RFC 4716 files and SPKI PEM and DER of
/// every key type, and PKCS#1 PEM for RSA.
pub fn public_key_line_seeds() -> Vec<Seed> {
    let mut out = Vec::new();
    for key in keys(21) {
        let public = key.public_key();
        let name = key.key_type().name();
        out.push(seed(format!("line-{name}"), public.to_openssh("user@host")));
        out.push(seed(
            format!("rfc4716-{name}"),
            public.to_rfc4716("a \"quoted\" comment"),
        ));
        if let Ok(pem) = public.to_spki_pem() {
            out.push(seed(format!("spki-pem-{name}"), pem));
        }
        out.push(seed(format!("spki-der-{name}"), public.to_spki_der()));
        if let Ok(pem) = public.to_pkcs1_pem() {
            out.push(seed(format!("pkcs1-pem-{name}"), pem));
        }
    }
    out
}

/// Seeds for `private_key_file`: each key type as OpenSSH (plain and encrypted with
/// each cipher at one bcrypt round), traditional and PKCS#8 PEM (plain and encrypted,
/// with few PBKDF2 iterations) and DER.
pub fn private_key_file_seeds() -> Vec<Seed> {
    let mut rng = SeededRandom::new(22);
    let mut out = Vec::new();
    for (key, &cipher) in keys(23).iter().zip(OpenSshCipher::ALL.iter().cycle()) {
        let name = key.key_type().name();
        let plain = key.to_openssh(None, &mut rng).expect("OpenSSH plain");
        out.push(seed(format!("openssh-{name}"), plain.as_bytes()));
        let encryption = OpenSshEncryption {
            passphrase: PASSPHRASE,
            cipher,
            rounds: 1,
        };
        let encrypted = key
            .to_openssh(Some(&encryption), &mut rng)
            .expect("OpenSSH encrypted");
        out.push(seed(
            format!("openssh-{}-{name}", cipher.name()),
            encrypted.as_bytes(),
        ));
        for format in [PemFormat::Traditional, PemFormat::Pkcs8] {
            for passphrase in [None, Some(PASSPHRASE)] {
                if let Ok(pem) = key.to_pem(format, passphrase, &mut rng) {
                    let kind = if passphrase.is_some() {
                        "encrypted"
                    } else {
                        "plain"
                    };
                    out.push(seed(
                        format!("pem-{format:?}-{kind}-{name}"),
                        pem.as_bytes(),
                    ));
                }
            }
        }
        if let Ok(der) = key.to_traditional_der() {
            out.push(seed(format!("der-traditional-{name}"), der.as_slice()));
        }
        let der = key.to_pkcs8_der().expect("PKCS#8");
        out.push(seed(format!("der-pkcs8-{name}"), der.as_slice()));
        let pbes2 = Pkcs8Encryption {
            passphrase: PASSPHRASE,
            cipher: CbcCipher::Aes128Cbc,
            prf: Pbkdf2Prf::HmacSha1,
            iterations: 3,
        };
        let der = key.to_encrypted_pkcs8_der(&pbes2, &mut rng).expect("PBES2");
        out.push(seed(format!("der-pkcs8-encrypted-{name}"), der));
    }
    out
}

/// Seeds for `certificate`: a user and a host certificate for a key of each type,
/// each signed by a CA of another type, as a blob and as an OpenSSH line.
pub fn certificate_seeds() -> Vec<Seed> {
    let mut rng = SeededRandom::new(24);
    let keys = keys(25);
    let mut out = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        let ca = &keys[(i + 1) % keys.len()];
        let name = key.key_type().name();
        let user = CertificateBuilder::new(key.public_key(), CertType::User)
            .serial(i as u64)
            .key_id("fuzz user")
            .principal(USER)
            .principal("other")
            .validity(VALID_AFTER, VALID_BEFORE)
            .force_command("true")
            .source_address("10.0.0.0/8,::1")
            .verify_required();
        let host = CertificateBuilder::new(key.public_key(), CertType::Host)
            .key_id("fuzz host")
            .principal(HOST)
            .validity(VALID_AFTER, VALID_BEFORE);
        for (kind, builder) in [("user", user), ("host", host)] {
            let alg = ca.signature_algorithms()[0];
            let cert = builder.sign(ca, alg, &mut rng).expect("sign a certificate");
            out.push(seed(format!("blob-{kind}-{name}"), cert.to_blob()));
            out.push(seed(
                format!("line-{kind}-{name}"),
                cert.to_openssh("a comment"),
            ));
        }
    }
    out
}

/// Seeds for `known_hosts`: a file of mixed entries (plain, ports, wildcards,
/// negations, hashed, `@cert-authority` for the fixed CA, `@revoked`, comments, an
/// invalid line), then a NUL and queries for hosts it names.
pub fn known_hosts_seeds() -> Vec<Seed> {
    let f = fixtures::fixtures();
    let mut rng = SeededRandom::new(26);
    let keys = keys(27);
    let line = |key: &PrivateKey| key.public_key().to_openssh("");
    let mut file = String::from("# known hosts\n\n");
    file += &format!("{HOST},10.1.2.3 {}\n", line(&f.host_key));
    file += &format!("[{HOST}]:2222 {}\n", line(&keys[0]));
    file += &format!("*.example,!bad.example {} comment\n", line(&keys[1]));
    file += &format!("@cert-authority *.example {}\n", line(&f.ca));
    file += &format!("@revoked * {}\n", line(&keys[2]));
    file += "broken line\n";
    let mut known = sansh_core::known_hosts::KnownHosts::parse(&file);
    file += &known
        .add_hashed("hashed.example", 22, &keys[3].public_key(), &mut rng)
        .expect("a plain host name");
    file += "\n";
    let queries: [(u8, u16, &str); 5] = [
        (0, 22, HOST),
        (1, 2222, HOST),
        (2, 22, "www.example"),
        (3, 22, "bad.example"),
        (6, 22, "hashed.example"),
    ];
    queries
        .iter()
        .enumerate()
        .map(|(i, &(index, port, host))| {
            let mut data = file.clone().into_bytes();
            data.push(0);
            data.push(index);
            data.extend_from_slice(&port.to_be_bytes());
            data.extend_from_slice(host.as_bytes());
            data.push(b'\n');
            if i == 0 {
                data.extend_from_slice(&f.host_cert.to_blob());
            }
            seed(format!("hosts-{i}"), data)
        })
        .collect()
}

/// Seeds for `authorized_keys`: a file using every option, a `cert-authority` line for
/// the fixed CA, then a NUL and a query (entry index, address, user, host name, an
/// options field, a pattern and a text for the matchers).
pub fn authorized_keys_seeds() -> Vec<Seed> {
    let f = fixtures::fixtures();
    let keys = keys(28);
    let line = |key: &PrivateKey| key.public_key().to_openssh("comment");
    let mut file = String::from("# authorized keys\n");
    file += &format!("{}\n", line(&f.user_key));
    file += &format!(
        "restrict,pty,command=\"echo \\\"hi\\\"\",environment=\"A=b\",from=\"10.0.0.0/8,*.example,!bad.example\" {}\n",
        line(&keys[0])
    );
    file += &format!(
        "no-pty,no-port-forwarding,no-agent-forwarding,no-X11-forwarding,no-user-rc,permitopen=\"host:22\",permitlisten=\"localhost:8080\",expiry-time=\"20300101\",no-touch-required,verify-required {}\n",
        line(&keys[1])
    );
    file += &format!(
        "cert-authority,principals=\"{USER},other\" {}\n",
        line(&f.ca)
    );
    file += &format!("tunnel=\"1\",permitopen=\"*:*\" {}\n", line(&keys[2]));
    file += "not a key\n";
    let queries: [(u8, u8, [u8; 16], &str); 3] = [
        (
            0,
            4,
            [10, 1, 2, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            USER,
        ),
        (
            1,
            4,
            [10, 9, 9, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            "root",
        ),
        (2, 6, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], USER),
    ];
    queries
        .iter()
        .enumerate()
        .map(|(i, &(index, family, address, user))| {
            let mut data = file.clone().into_bytes();
            data.push(0);
            data.push(index);
            data.push(family);
            data.extend_from_slice(&address);
            let rest = format!(
                "{user}\nhost.example\nrestrict,pty,from=\"*.example\",permitopen=\"[::1]:22\" trailing\n*.ex?mple,!bad*\nwww.example"
            );
            data.extend_from_slice(rest.as_bytes());
            seed(format!("keys-{i}"), data)
        })
        .collect()
}
