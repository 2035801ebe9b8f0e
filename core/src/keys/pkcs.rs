//! DER key structures: PKCS#1 (RFC 8017 §A.1), SEC1 (RFC 5915), PKCS#8 (RFC 5208,
//! RFC 5958), SubjectPublicKeyInfo (RFC 5280 §4.1.2.7, RFC 5480, RFC 8410).

use zeroize::Zeroizing;

use super::der::{
    self, CONTEXT_0, CONTEXT_1, CONTEXT_1_PRIMITIVE, DerReader, NULL, OCTET_STRING, OID,
};
use super::ecdsa::{Curve, EcdsaPrivate, EcdsaPublic};
use super::ed25519::{Ed25519Private, Ed25519Public};
use super::private::PrivateData;
use super::public::KeyData;
use super::rsa::{RsaPrivate, RsaPublic};
use super::{KeyError, PrivateKey, PublicKey};

/// rsaEncryption, 1.2.840.113549.1.1.1.
const OID_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
/// id-ecPublicKey, 1.2.840.10045.2.1.
const OID_EC: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
/// id-Ed25519, 1.3.101.112.
const OID_ED25519: &[u8] = &[0x2b, 0x65, 0x70];
/// prime256v1, 1.2.840.10045.3.1.7.
const OID_P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
/// secp384r1, 1.3.132.0.34.
const OID_P384: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];
/// secp521r1, 1.3.132.0.35.
const OID_P521: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x23];

fn curve_oid(curve: Curve) -> &'static [u8] {
    match curve {
        Curve::P256 => OID_P256,
        Curve::P384 => OID_P384,
        Curve::P521 => OID_P521,
    }
}

fn curve_from_oid(oid: &[u8]) -> Result<Curve, KeyError> {
    match oid {
        OID_P256 => Ok(Curve::P256),
        OID_P384 => Ok(Curve::P384),
        OID_P521 => Ok(Curve::P521),
        other => Err(KeyError::UnsupportedAlgorithm(der::oid_to_string(other))),
    }
}

/// The key algorithm an AlgorithmIdentifier names.
enum Algorithm {
    Rsa,
    Ec(Curve),
    Ed25519,
}

/// Reads an AlgorithmIdentifier for a key (RFC 5280 §4.1.1.2).
fn read_algorithm(r: &mut DerReader<'_>) -> Result<Algorithm, KeyError> {
    let mut alg = r.sequence("AlgorithmIdentifier")?;
    let oid = alg.expect(OID, "algorithm OID")?;
    let out = match oid {
        OID_RSA => {
            // The parameters are NULL, but some writers omit them.
            alg.optional(NULL)?;
            Algorithm::Rsa
        }
        OID_EC => Algorithm::Ec(curve_from_oid(alg.expect(OID, "named curve")?)?),
        OID_ED25519 => Algorithm::Ed25519,
        other => return Err(KeyError::UnsupportedAlgorithm(der::oid_to_string(other))),
    };
    alg.finish()?;
    Ok(out)
}

fn write_algorithm(out: &mut Vec<u8>, key: &PublicKey) {
    let mut alg = Vec::new();
    match &key.0 {
        KeyData::Rsa(_) => {
            der::put_tlv(&mut alg, OID, OID_RSA);
            der::put_tlv(&mut alg, NULL, &[]);
        }
        KeyData::Ecdsa(k) => {
            der::put_tlv(&mut alg, OID, OID_EC);
            der::put_tlv(&mut alg, OID, curve_oid(k.curve));
        }
        KeyData::Ed25519(_) => der::put_tlv(&mut alg, OID, OID_ED25519),
    }
    out.extend_from_slice(&der::sequence(&alg));
}

impl PrivateKey {
    /// Reads a PKCS#1 `RSAPrivateKey` (DER, two primes; RFC 8017 §A.1.2).
    pub fn from_pkcs1_der(der: &[u8]) -> Result<Self, KeyError> {
        Ok(Self::from_data(PrivateData::Rsa(Box::new(
            RsaPrivate::from_pkcs1(der)?,
        ))))
    }

    /// Reads a SEC1 `ECPrivateKey` (DER, RFC 5915 §3) that names its curve.
    pub fn from_sec1_der(der: &[u8]) -> Result<Self, KeyError> {
        Ok(Self::from_data(PrivateData::Ecdsa(read_sec1(der, None)?)))
    }

    /// Reads an unencrypted PKCS#8 `PrivateKeyInfo` or `OneAsymmetricKey` (DER,
    /// RFC 5208 §5, RFC 5958 §2) holding an RSA, ECDSA or Ed25519 key.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, KeyError> {
        let mut outer = DerReader::new(der);
        let mut info = outer.sequence("PrivateKeyInfo")?;
        outer.finish()?;
        let version = info.small_uint("PrivateKeyInfo version")?;
        if version > 1 {
            return Err(KeyError::MalformedDer("unknown PrivateKeyInfo version"));
        }
        let algorithm = read_algorithm(&mut info)?;
        let inner = info.expect(OCTET_STRING, "privateKey")?;
        info.optional(CONTEXT_0)?; // attributes: none we use
        let public = info.optional(CONTEXT_1_PRIMITIVE)?;
        info.finish()?;
        let data = match algorithm {
            Algorithm::Rsa => PrivateData::Rsa(Box::new(RsaPrivate::from_pkcs1(inner)?)),
            Algorithm::Ec(curve) => PrivateData::Ecdsa(read_sec1(inner, Some(curve))?),
            Algorithm::Ed25519 => {
                let mut r = DerReader::new(inner);
                let seed = r.expect(OCTET_STRING, "Ed25519 private key")?;
                r.finish()?;
                let public = match public {
                    Some([0, key @ ..]) => Some(key),
                    Some(_) => return Err(KeyError::MalformedDer("publicKey BIT STRING")),
                    None => None,
                };
                PrivateData::Ed25519(Ed25519Private::from_seed(seed, public)?)
            }
        };
        Ok(Self::from_data(data))
    }

    /// Writes the key as PKCS#1 (RSA) or SEC1 (ECDSA) DER, the "traditional" forms
    /// `ssh-keygen -m PEM` writes. Ed25519 has no such form.
    pub fn to_traditional_der(&self) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        match &self.inner {
            PrivateData::Rsa(k) => Ok(write_pkcs1(k)),
            PrivateData::Ecdsa(k) => Ok(write_sec1(k, true)),
            PrivateData::Ed25519(_) => Err(KeyError::UnsupportedFormat(
                "Ed25519 keys have no PKCS#1/SEC1 form; use PKCS#8",
            )),
        }
    }

    /// Writes the key as an unencrypted PKCS#8 `PrivateKeyInfo` (version 0, DER).
    pub fn to_pkcs8_der(&self) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        let mut body = Zeroizing::new(Vec::new());
        der::put_uint(&mut body, &[]);
        write_algorithm(&mut body, &self.public_key());
        let inner = match &self.inner {
            PrivateData::Rsa(k) => write_pkcs1(k),
            PrivateData::Ecdsa(k) => write_sec1(k, false),
            PrivateData::Ed25519(k) => {
                let mut seed = Zeroizing::new(Vec::new());
                der::put_tlv(&mut seed, OCTET_STRING, k.seed());
                seed
            }
        };
        der::put_tlv(&mut body, OCTET_STRING, &inner);
        Ok(der::sequence(&body))
    }
}

/// Reads an ECPrivateKey; `curve` is the one named outside it (PKCS#8), if any.
fn read_sec1(der: &[u8], curve: Option<Curve>) -> Result<EcdsaPrivate, KeyError> {
    let mut outer = DerReader::new(der);
    let mut seq = outer.sequence("ECPrivateKey")?;
    outer.finish()?;
    if seq.small_uint("ECPrivateKey version")? != 1 {
        return Err(KeyError::MalformedDer("ECPrivateKey version is not 1"));
    }
    let scalar = seq.expect(OCTET_STRING, "ECPrivateKey privateKey")?;
    let named = match seq.optional(CONTEXT_0)? {
        Some(params) => {
            let mut r = DerReader::new(params);
            let curve = curve_from_oid(r.expect(OID, "named curve")?)?;
            r.finish()?;
            Some(curve)
        }
        None => None,
    };
    let point = match seq.optional(CONTEXT_1)? {
        Some(field) => {
            let mut r = DerReader::new(field);
            let point = r.bit_string("ECPrivateKey publicKey")?;
            r.finish()?;
            Some(point)
        }
        None => None,
    };
    seq.finish()?;
    let curve = match (curve, named) {
        (Some(a), Some(b)) if a != b => {
            return Err(KeyError::MalformedDer("ECPrivateKey names another curve"));
        }
        (Some(c), _) | (None, Some(c)) => c,
        (None, None) => return Err(KeyError::MalformedDer("ECPrivateKey names no curve")),
    };
    if scalar.len() != curve.field_len() {
        return Err(KeyError::MalformedDer(
            "ECPrivateKey scalar has the wrong length",
        ));
    }
    EcdsaPrivate::from_scalar(curve, scalar, point)
}

fn write_sec1(k: &EcdsaPrivate, with_curve: bool) -> Zeroizing<Vec<u8>> {
    let mut body = Zeroizing::new(Vec::new());
    der::put_uint(&mut body, &[1]);
    der::put_tlv(&mut body, OCTET_STRING, k.scalar());
    if with_curve {
        let mut oid = Vec::new();
        der::put_tlv(&mut oid, OID, curve_oid(k.public().curve));
        der::put_tlv(&mut body, CONTEXT_0, &oid);
    }
    let mut point = Vec::new();
    der::put_bit_string(&mut point, &k.public().point);
    der::put_tlv(&mut body, CONTEXT_1, &point);
    der::sequence(&body)
}

fn write_pkcs1(k: &RsaPrivate) -> Zeroizing<Vec<u8>> {
    let s = k.secrets();
    let mut body = Zeroizing::new(Vec::new());
    der::put_uint(&mut body, &[]);
    for part in [
        &k.public().n[..],
        &k.public().e[..],
        &s.d,
        &s.p,
        &s.q,
        &s.dp,
        &s.dq,
        &s.iqmp,
    ] {
        der::put_uint(&mut body, part);
    }
    der::sequence(&body)
}

impl PublicKey {
    /// Reads a DER SubjectPublicKeyInfo (RFC 5280 §4.1.2.7): RSA, ECDSA or Ed25519.
    pub fn from_spki_der(der: &[u8]) -> Result<Self, KeyError> {
        let mut outer = DerReader::new(der);
        let mut spki = outer.sequence("SubjectPublicKeyInfo")?;
        outer.finish()?;
        let algorithm = read_algorithm(&mut spki)?;
        let key = spki.bit_string("subjectPublicKey")?;
        spki.finish()?;
        let data = match algorithm {
            Algorithm::Rsa => return Self::from_pkcs1_der(key),
            Algorithm::Ec(curve) => KeyData::Ecdsa(EcdsaPublic::from_point(curve, key)?),
            Algorithm::Ed25519 => KeyData::Ed25519(Ed25519Public::from_bytes(key)?),
        };
        Ok(Self(data))
    }

    /// Writes the key as a DER SubjectPublicKeyInfo.
    pub fn to_spki_der(&self) -> Vec<u8> {
        let mut body = Vec::new();
        write_algorithm(&mut body, self);
        let key = match &self.0 {
            KeyData::Rsa(k) => write_rsa_public(k),
            KeyData::Ecdsa(k) => k.point.to_vec(),
            KeyData::Ed25519(k) => k.0.to_vec(),
        };
        der::put_bit_string(&mut body, &key);
        der::sequence(&body).to_vec()
    }

    /// Reads a PKCS#1 `RSAPublicKey` (DER, RFC 8017 §A.1.1).
    pub fn from_pkcs1_der(der: &[u8]) -> Result<Self, KeyError> {
        let mut outer = DerReader::new(der);
        let mut seq = outer.sequence("RSAPublicKey")?;
        outer.finish()?;
        let n = seq.uint("RSA n")?;
        let e = seq.uint("RSA e")?;
        seq.finish()?;
        Ok(Self(KeyData::Rsa(RsaPublic::from_components(e, n)?)))
    }

    /// Writes an RSA key as a PKCS#1 `RSAPublicKey` (DER); other types have none.
    pub fn to_pkcs1_der(&self) -> Result<Vec<u8>, KeyError> {
        match &self.0 {
            KeyData::Rsa(k) => Ok(write_rsa_public(k)),
            _ => Err(KeyError::UnsupportedFormat(
                "only RSA keys have a PKCS#1 form",
            )),
        }
    }
}

fn write_rsa_public(k: &RsaPublic) -> Vec<u8> {
    let mut body = Vec::new();
    der::put_uint(&mut body, &k.n);
    der::put_uint(&mut body, &k.e);
    der::sequence(&body).to_vec()
}
