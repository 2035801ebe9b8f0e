//! PEM files (RFC 7468) of private and public keys, including OpenSSL's legacy
//! encrypted PEM (`Proc-Type: 4,ENCRYPTED` and `DEK-Info` headers, RFC 1421 style).

use base64ct::{Base64, Encoding};
use pem_rfc7468::LineEnding;
use zeroize::Zeroizing;

use super::pbe::{self, CbcCipher, Pkcs8Encryption};
use super::{KeyError, PrivateKey, PublicKey};
use crate::crypto::SecureRandom;

const RSA_PRIVATE: &str = "RSA PRIVATE KEY";
const EC_PRIVATE: &str = "EC PRIVATE KEY";
const PRIVATE: &str = "PRIVATE KEY";
const ENCRYPTED_PRIVATE: &str = "ENCRYPTED PRIVATE KEY";
const PUBLIC: &str = "PUBLIC KEY";
const RSA_PUBLIC: &str = "RSA PUBLIC KEY";

/// The private key PEM layouts we write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PemFormat {
    /// PKCS#1 `RSA PRIVATE KEY` or SEC1 `EC PRIVATE KEY` (`ssh-keygen -m PEM`);
    /// encrypted with legacy OpenSSL PEM encryption (AES-128-CBC, as ssh-keygen).
    Traditional,
    /// PKCS#8 `PRIVATE KEY` (`ssh-keygen -m PKCS8`); encrypted as
    /// `ENCRYPTED PRIVATE KEY` with PBES2.
    Pkcs8,
}

/// A decoded PEM block.
struct Block {
    label: String,
    headers: Vec<(String, String)>,
    der: Zeroizing<Vec<u8>>,
}

/// Decodes the first PEM block of `text`. Strict RFC 7468 blocks go through
/// pem-rfc7468; blocks with RFC 1421 headers (legacy encryption) are read here.
fn decode(text: &str) -> Result<Block, KeyError> {
    let start = text.find("-----BEGIN ").ok_or(KeyError::MissingArmor {
        expected: "-----BEGIN ... -----",
    })?;
    let text = &text[start..];
    match pem_rfc7468::decode_vec(text.as_bytes()) {
        Ok((label, der)) => Ok(Block {
            label: label.to_owned(),
            headers: Vec::new(),
            der: Zeroizing::new(der),
        }),
        Err(pem_rfc7468::Error::HeaderDisallowed) => decode_with_headers(text),
        Err(e) => Err(KeyError::MalformedPem(e.to_string())),
    }
}

fn decode_with_headers(text: &str) -> Result<Block, KeyError> {
    let malformed = |what: &str| KeyError::MalformedPem(what.to_owned());
    let mut lines = text.lines().map(str::trim_end);
    let label = lines
        .next()
        .and_then(|l| l.strip_prefix("-----BEGIN "))
        .and_then(|l| l.strip_suffix("-----"))
        .ok_or_else(|| malformed("bad BEGIN line"))?
        .to_owned();
    let end = format!("-----END {label}-----");
    let mut headers = Vec::new();
    let mut body = Zeroizing::new(String::new());
    let mut in_headers = true;
    let mut ended = false;
    for line in lines {
        if line == end {
            ended = true;
            break;
        }
        if in_headers {
            if line.is_empty() {
                in_headers = false;
                continue;
            }
            if let Some((name, value)) = line.split_once(':') {
                headers.push((name.trim().to_owned(), value.trim().to_owned()));
                continue;
            }
            in_headers = false;
        }
        body.push_str(line.trim());
    }
    if !ended {
        return Err(malformed("missing END line"));
    }
    let der = Base64::decode_vec(&body).map_err(|_| KeyError::InvalidBase64)?;
    Ok(Block {
        label,
        headers,
        der: Zeroizing::new(der),
    })
}

fn encode(label: &str, der: &[u8]) -> Result<Zeroizing<String>, KeyError> {
    pem_rfc7468::encode_string(label, LineEnding::LF, der)
        .map(Zeroizing::new)
        .map_err(|e| KeyError::MalformedPem(e.to_string()))
}

/// Decrypts a legacy encrypted block body in place per its `DEK-Info` header.
fn decrypt_legacy(block: &mut Block, passphrase: Option<&[u8]>) -> Result<(), KeyError> {
    let header = |name: &str| {
        block
            .headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    match header("Proc-Type") {
        None => return Ok(()),
        Some("4,ENCRYPTED") => {}
        Some(_) => return Err(KeyError::MalformedPem("unsupported Proc-Type".into())),
    }
    let dek = header("DEK-Info").ok_or_else(|| KeyError::MalformedPem("no DEK-Info".into()))?;
    let (name, iv_hex) = dek
        .split_once(',')
        .ok_or_else(|| KeyError::MalformedPem("malformed DEK-Info".into()))?;
    let cipher =
        CbcCipher::from_pem_name(name).ok_or_else(|| KeyError::UnknownCipher(name.to_owned()))?;
    let iv =
        parse_iv(iv_hex).ok_or_else(|| KeyError::MalformedPem("malformed DEK-Info IV".into()))?;
    let passphrase = match passphrase {
        Some(p) if !p.is_empty() => p,
        _ => return Err(KeyError::PassphraseRequired),
    };
    let key = pbe::legacy_pem_key(passphrase, &iv[..8], cipher.key_len());
    cipher.decrypt(&key, &iv, &mut block.der)
}

fn parse_iv(hex: &str) -> Option<[u8; 16]> {
    let hex = hex.trim().as_bytes();
    if hex.len() != 32 {
        return None;
    }
    let mut iv = [0u8; 16];
    for (i, pair) in hex.chunks(2).enumerate() {
        let text = std::str::from_utf8(pair).ok()?;
        iv[i] = u8::from_str_radix(text, 16).ok()?;
    }
    Some(iv)
}

/// A wrong legacy passphrase usually fails the padding, but when it does not the DER
/// inside is garbage: report both as the passphrase.
fn legacy_result(encrypted: bool, r: Result<PrivateKey, KeyError>) -> Result<PrivateKey, KeyError> {
    match r {
        Err(KeyError::MalformedDer(_) | KeyError::Wire(_)) if encrypted => {
            Err(KeyError::WrongPassphrase)
        }
        other => other,
    }
}

impl PrivateKey {
    /// Reads a private key file in any supported text format: OpenSSH
    /// (`OPENSSH PRIVATE KEY`), PKCS#1 (`RSA PRIVATE KEY`), SEC1 (`EC PRIVATE KEY`),
    /// either of those with legacy OpenSSL encryption (AES-128/192/256-CBC), PKCS#8
    /// (`PRIVATE KEY`) and encrypted PKCS#8 (`ENCRYPTED PRIVATE KEY`, PBES2).
    pub fn from_pem(text: &str, passphrase: Option<&[u8]>) -> Result<Self, KeyError> {
        if text.contains("-----BEGIN OPENSSH PRIVATE KEY-----") {
            return Self::from_openssh(text, passphrase);
        }
        let mut block = decode(text)?;
        let encrypted = !block.headers.is_empty();
        match block.label.as_str() {
            RSA_PRIVATE => {
                decrypt_legacy(&mut block, passphrase)?;
                legacy_result(encrypted, Self::from_pkcs1_der(&block.der))
            }
            EC_PRIVATE => {
                decrypt_legacy(&mut block, passphrase)?;
                legacy_result(encrypted, Self::from_sec1_der(&block.der))
            }
            PRIVATE => Self::from_pkcs8_der(&block.der),
            ENCRYPTED_PRIVATE => match passphrase {
                Some(p) if !p.is_empty() => Self::from_encrypted_pkcs8_der(&block.der, p),
                _ => Err(KeyError::PassphraseRequired),
            },
            other => Err(KeyError::UnknownPemLabel(other.to_owned())),
        }
    }

    /// Reads a DER private key, telling the structures apart by their shape: PKCS#8
    /// (plain or, given a passphrase, encrypted), PKCS#1 or SEC1.
    pub fn from_der(der: &[u8], passphrase: Option<&[u8]>) -> Result<Self, KeyError> {
        let mut outer = super::der::DerReader::new(der);
        let mut seq = outer.sequence("private key")?;
        match seq.any()? {
            (super::der::SEQUENCE, _) => match passphrase {
                Some(p) if !p.is_empty() => Self::from_encrypted_pkcs8_der(der, p),
                _ => Err(KeyError::PassphraseRequired),
            },
            (super::der::INTEGER, version) => match (version, seq.peek_tag()) {
                (_, Some(super::der::SEQUENCE)) => Self::from_pkcs8_der(der),
                ([0], Some(super::der::INTEGER)) => Self::from_pkcs1_der(der),
                ([1], Some(super::der::OCTET_STRING)) => Self::from_sec1_der(der),
                _ => Err(KeyError::MalformedDer("not a known private key structure")),
            },
            _ => Err(KeyError::MalformedDer("not a known private key structure")),
        }
    }

    /// Writes the key as PEM in `format`, encrypted when `passphrase` is non-empty.
    ///
    /// [`PemFormat::Traditional`] is refused for Ed25519 (it has no such form, as with
    /// ssh-keygen). Encrypted PKCS#8 uses [`Pkcs8Encryption::new`]'s choices; `rng`
    /// gives the salt and IV.
    pub fn to_pem(
        &self,
        format: PemFormat,
        passphrase: Option<&[u8]>,
        rng: &mut dyn SecureRandom,
    ) -> Result<Zeroizing<String>, KeyError> {
        let passphrase = passphrase.filter(|p| !p.is_empty());
        match (format, passphrase) {
            (PemFormat::Pkcs8, None) => encode(PRIVATE, &self.to_pkcs8_der()?),
            (PemFormat::Pkcs8, Some(p)) => {
                let der = self.to_encrypted_pkcs8_der(&Pkcs8Encryption::new(p), rng)?;
                encode(ENCRYPTED_PRIVATE, &der)
            }
            (PemFormat::Traditional, passphrase) => {
                let label = match self.key_type() {
                    super::KeyType::Rsa => RSA_PRIVATE,
                    _ => EC_PRIVATE,
                };
                let der = self.to_traditional_der()?;
                match passphrase {
                    None => encode(label, &der),
                    Some(p) => encode_legacy(label, &der, p, rng),
                }
            }
        }
    }
}

/// Legacy OpenSSL PEM encryption with AES-128-CBC, as `ssh-keygen -m PEM` writes.
fn encode_legacy(
    label: &str,
    der: &[u8],
    passphrase: &[u8],
    rng: &mut dyn SecureRandom,
) -> Result<Zeroizing<String>, KeyError> {
    let cipher = CbcCipher::Aes128Cbc;
    let mut iv = [0u8; 16];
    rng.fill(&mut iv);
    let key = pbe::legacy_pem_key(passphrase, &iv[..8], cipher.key_len());
    let mut data = der.to_vec();
    cipher.encrypt(&key, &iv, &mut data)?;
    let iv_hex: String = iv.iter().map(|b| format!("{b:02X}")).collect();
    let b64 = Base64::encode_string(&data);
    let mut out = Zeroizing::new(format!(
        "-----BEGIN {label}-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: {},{iv_hex}\n\n",
        cipher.pem_name()
    ));
    for line in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    Ok(out)
}

impl PublicKey {
    /// Reads a PEM public key: SubjectPublicKeyInfo (`PUBLIC KEY`, as `ssh-keygen -e
    /// -m PKCS8` writes) or PKCS#1 (`RSA PUBLIC KEY`, as `ssh-keygen -e -m PEM` writes
    /// for RSA).
    pub fn from_pem(text: &str) -> Result<Self, KeyError> {
        let block = decode(text)?;
        match block.label.as_str() {
            PUBLIC => Self::from_spki_der(&block.der),
            RSA_PUBLIC => Self::from_pkcs1_der(&block.der),
            other => Err(KeyError::UnknownPemLabel(other.to_owned())),
        }
    }

    /// Writes the key as a PEM SubjectPublicKeyInfo (`PUBLIC KEY`).
    pub fn to_spki_pem(&self) -> Result<String, KeyError> {
        Ok(encode(PUBLIC, &self.to_spki_der())?.to_string())
    }

    /// Writes an RSA key as PEM PKCS#1 (`RSA PUBLIC KEY`), as `ssh-keygen -e -m PEM`.
    pub fn to_pkcs1_pem(&self) -> Result<String, KeyError> {
        Ok(encode(RSA_PUBLIC, &self.to_pkcs1_der()?)?.to_string())
    }
}
