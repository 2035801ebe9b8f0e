//! The certificate listing of `ssh-keygen -L`, built from [`Certificate`]'s accessors.

use std::fmt::Write as _;

use sansh_core::keys::{
    CertOption, CertType, Certificate, FingerprintHash, PublicKey, critical, extension,
};

use super::time::Validity;

const INDENT: &str = "        ";
const ITEM: &str = "                ";

/// The listing of `cert` read from `path`, as `ssh-keygen -L -f path` prints it.
pub(crate) fn listing(path: &str, cert: &Certificate) -> String {
    let kind = match cert.cert_type() {
        CertType::User => "user",
        CertType::Host => "host",
    };
    let ca = cert.signature_key();
    let ca_algorithm = cert
        .signature_algorithm()
        .map_or("unknown", |alg| alg.name());
    let validity = Validity {
        after: cert.valid_after(),
        before: cert.valid_before(),
    };
    let mut out = format!("{path}:\n");
    let mut line = |text: String| {
        out.push_str(INDENT);
        out.push_str(&text);
        out.push('\n');
    };
    line(format!("Type: {} {kind} certificate", cert.type_name()));
    line(format!(
        "Public key: {}-CERT {}",
        cert.key().key_type().label(),
        cert.key().fingerprint_sha256()
    ));
    line(format!(
        "Signing CA: {} {} (using {ca_algorithm})",
        ca.key_type().label(),
        ca.fingerprint_sha256()
    ));
    line(format!("Key ID: \"{}\"", cert.key_id()));
    line(format!("Serial: {}", cert.serial()));
    line(format!("Valid: {}", validity.describe()));
    let principals: Vec<String> = cert.principals().to_vec();
    section(&mut out, "Principals", &principals);
    let critical: Vec<String> = cert.critical_options().iter().map(critical_item).collect();
    section(&mut out, "Critical Options", &critical);
    let extensions: Vec<String> = cert.extensions().iter().map(extension_item).collect();
    section(&mut out, "Extensions", &extensions);
    out
}

/// `Title: (none)`, or `Title: ` followed by one indented line per item (ssh-keygen
/// leaves the space after the colon).
fn section(out: &mut String, title: &str, items: &[String]) {
    let _ = write!(out, "{INDENT}{title}: ");
    if items.is_empty() {
        out.push_str("(none)\n");
        return;
    }
    out.push('\n');
    for item in items {
        let _ = writeln!(out, "{ITEM}{item}");
    }
}

fn critical_item(option: &CertOption) -> String {
    match option.name.as_str() {
        critical::FORCE_COMMAND | critical::SOURCE_ADDRESS => match option.value() {
            Some(value) => format!("{} {value}", option.name),
            None => unknown(option),
        },
        critical::VERIFY_REQUIRED => option.name.clone(),
        _ => unknown(option),
    }
}

fn extension_item(option: &CertOption) -> String {
    let known = [
        extension::PERMIT_X11_FORWARDING,
        extension::PERMIT_AGENT_FORWARDING,
        extension::PERMIT_PORT_FORWARDING,
        extension::PERMIT_PTY,
        extension::PERMIT_USER_RC,
        extension::NO_TOUCH_REQUIRED,
    ];
    if known.contains(&option.name.as_str()) {
        option.name.clone()
    } else {
        unknown(option)
    }
}

/// An option ssh-keygen does not interpret: a flag, or its raw data in hex.
fn unknown(option: &CertOption) -> String {
    if option.data.is_empty() {
        return format!("{} UNKNOWN FLAG OPTION", option.name);
    }
    let hex: String = option.data.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{} UNKNOWN OPTION: {hex} (len {})",
        option.name,
        option.data.len()
    )
}

/// The randomart of a certificate's key under the title `ssh-keygen -lv` gives a
/// certificate: `[ED25519-CERT 256]`, or `[ED25519-CERT]` when that overflows the
/// 17-column frame.
pub(crate) fn certificate_randomart(cert_key: &PublicKey, hash: FingerprintHash) -> String {
    const WIDTH: usize = 17;
    let label = format!("{}-CERT", cert_key.key_type().label());
    let mut title = format!("[{label} {}]", cert_key.bits());
    if title.len() > WIDTH {
        title = format!("[{label}]");
    }
    let left = WIDTH.saturating_sub(title.len()) / 2;
    let right = WIDTH.saturating_sub(title.len() + left);
    let top = format!("+{}{title}{}+", "-".repeat(left), "-".repeat(right));
    let art = cert_key.randomart(hash);
    let body = art.split_once('\n').map_or("", |(_, rest)| rest);
    format!("{top}\n{body}")
}
