//! Seal + open of one 32 KiB packet: our `PacketSealer`/`PacketOpener` next to the bare
//! aws-lc-rs calls doing the same work on the same buffer (encrypt and tag, then
//! verify and decrypt), so the ratio shows what our layer costs.
//!
//! `cargo bench -p sansh-core --bench seal_open -- --quick`
//!
//! After criterion's report, an interleaved measurement prints one line per cipher:
//! `seal_open CIPHER ours=X bare=Y ratio=Z MB/s` (ratio = ours / bare throughput).

use std::hint::black_box;
use std::time::{Duration, Instant};

use aws_lc_rs::aead::chacha20_poly1305_openssh as openssh;
use aws_lc_rs::aead::{AES_128_GCM, AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::cipher::{
    AES_128, AES_256, DecryptingKey, DecryptionContext, EncryptingKey, EncryptionContext,
    UnboundCipherKey,
};
use aws_lc_rs::iv::FixedLength;
use aws_lc_rs::{constant_time, hmac};
use bytes::BytesMut;
use criterion::{BenchmarkId, Criterion, Throughput};
use sansh_core::cipher::{CipherAlgorithm, MacAlgorithm, PacketOpener, PacketSealer};

/// Bytes after the length field: 32 KiB, a whole number of blocks for every cipher
/// here (all of them leave the length out of the aligned region).
const BODY: usize = 32 * 1024;
const PACKET: usize = 4 + BODY;

#[derive(Clone, Copy)]
struct Suite {
    label: &'static str,
    cipher: CipherAlgorithm,
    mac: Option<MacAlgorithm>,
}

const SUITES: [Suite; 5] = [
    Suite {
        label: "chacha20-poly1305",
        cipher: CipherAlgorithm::Chacha20Poly1305,
        mac: None,
    },
    Suite {
        label: "aes128-gcm",
        cipher: CipherAlgorithm::Aes128Gcm,
        mac: None,
    },
    Suite {
        label: "aes256-gcm",
        cipher: CipherAlgorithm::Aes256Gcm,
        mac: None,
    },
    Suite {
        label: "aes128-ctr+hmac-sha2-256-etm",
        cipher: CipherAlgorithm::Aes128Ctr,
        mac: Some(MacAlgorithm::HmacSha256Etm),
    },
    Suite {
        label: "aes256-ctr+hmac-sha2-256-etm",
        cipher: CipherAlgorithm::Aes256Ctr,
        mac: Some(MacAlgorithm::HmacSha256Etm),
    },
];

fn packet() -> BytesMut {
    let mut buf = BytesMut::with_capacity(PACKET + 64);
    buf.extend_from_slice(&(BODY as u32).to_be_bytes());
    buf.extend((0..BODY).map(|i| i as u8));
    buf
}

/// Something that seals and opens one packet per call, leaving `buf` ready for the
/// next round.
trait RoundTrip {
    fn run(&mut self, buf: &mut BytesMut);
}

/// Our API, as the transport will call it.
struct Ours {
    sealer: PacketSealer,
    opener: PacketOpener,
    seq: u32,
}

impl Ours {
    fn new(suite: Suite) -> Self {
        let (key, iv, mac_key) = material(suite);
        Self {
            sealer: PacketSealer::new(suite.cipher, suite.mac, &key, &iv, &mac_key).expect("keys"),
            opener: PacketOpener::new(suite.cipher, suite.mac, &key, &iv, &mac_key).expect("keys"),
            seq: 0,
        }
    }
}

impl RoundTrip for Ours {
    fn run(&mut self, buf: &mut BytesMut) {
        self.sealer.seal(self.seq, buf);
        let n = self.opener.length_prefix_len();
        let len = self.opener.decrypt_length(self.seq, &mut buf[..n]) as usize;
        self.opener.open(self.seq, buf).expect("opens");
        buf.truncate(4 + len);
        self.seq = self.seq.wrapping_add(1);
    }
}

fn material(suite: Suite) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    (
        vec![0x11; suite.cipher.key_len()],
        vec![0x22; suite.cipher.iv_len()],
        vec![0x33; suite.mac.map_or(0, MacAlgorithm::key_len)],
    )
}

/// chacha20-poly1305@openssh.com straight from aws-lc-rs.
struct BareChacha {
    sealing: openssh::SealingKey,
    opening: openssh::OpeningKey,
    seq: u32,
}

impl RoundTrip for BareChacha {
    fn run(&mut self, buf: &mut BytesMut) {
        let mut tag = [0u8; openssh::TAG_LEN];
        self.sealing.seal_in_place(self.seq, buf, &mut tag);
        let length = [buf[0], buf[1], buf[2], buf[3]];
        black_box(self.opening.decrypt_packet_length(self.seq, length));
        self.opening
            .open_in_place(self.seq, buf, &tag)
            .expect("opens");
        self.seq = self.seq.wrapping_add(1);
    }
}

/// AES-GCM with the SSH nonce and AAD, straight from aws-lc-rs.
struct BareGcm {
    key: LessSafeKey,
    nonce: [u8; 12],
    counter: u64,
}

impl BareGcm {
    fn nonce(&self) -> Nonce {
        let mut n = self.nonce;
        n[4..].copy_from_slice(&self.counter.to_be_bytes());
        Nonce::assume_unique_for_key(n)
    }
}

impl RoundTrip for BareGcm {
    fn run(&mut self, buf: &mut BytesMut) {
        let (length, body) = buf.split_at_mut(4);
        let tag = self
            .key
            .seal_in_place_separate_tag(self.nonce(), Aad::from(&*length), body)
            .expect("seals");
        self.key
            .open_in_place_separate_tag(self.nonce(), Aad::from(&*length), tag.as_ref(), body)
            .expect("opens");
        self.counter = self.counter.wrapping_add(1);
    }
}

/// AES-CTR + HMAC (encrypt-then-MAC) straight from aws-lc-rs.
struct BareCtrEtm {
    encrypting: EncryptingKey,
    decrypting: DecryptingKey,
    mac: hmac::Key,
    counter: u128,
    seq: u32,
}

impl BareCtrEtm {
    fn tag(&self, data: &[u8]) -> hmac::Tag {
        let mut ctx = hmac::Context::with_key(&self.mac);
        ctx.update(&self.seq.to_be_bytes());
        ctx.update(data);
        ctx.sign()
    }
}

impl RoundTrip for BareCtrEtm {
    fn run(&mut self, buf: &mut BytesMut) {
        let iv = FixedLength::from(self.counter.to_be_bytes());
        self.encrypting
            .less_safe_encrypt(&mut buf[4..], EncryptionContext::Iv128(iv))
            .expect("encrypts");
        let tag = self.tag(buf);
        let check = self.tag(buf);
        constant_time::verify_slices_are_equal(tag.as_ref(), check.as_ref()).expect("verifies");
        let iv = FixedLength::from(self.counter.to_be_bytes());
        self.decrypting
            .decrypt(&mut buf[4..], DecryptionContext::Iv128(iv))
            .expect("decrypts");
        self.counter = self.counter.wrapping_add((BODY / 16) as u128);
        self.seq = self.seq.wrapping_add(1);
    }
}

fn bare(suite: Suite) -> Box<dyn RoundTrip> {
    let (key, iv, mac_key) = material(suite);
    match suite.cipher {
        CipherAlgorithm::Chacha20Poly1305 => {
            let key: &[u8; 64] = key.as_slice().try_into().expect("64-byte key");
            Box::new(BareChacha {
                sealing: openssh::SealingKey::new(key),
                opening: openssh::OpeningKey::new(key),
                seq: 0,
            })
        }
        CipherAlgorithm::Aes128Gcm | CipherAlgorithm::Aes256Gcm => {
            let algorithm = if suite.cipher == CipherAlgorithm::Aes128Gcm {
                &AES_128_GCM
            } else {
                &AES_256_GCM
            };
            let mut nonce = [0u8; 12];
            nonce.copy_from_slice(&iv);
            Box::new(BareGcm {
                key: LessSafeKey::new(UnboundKey::new(algorithm, &key).expect("key")),
                nonce,
                counter: 0,
            })
        }
        _ => {
            let algorithm = if suite.cipher == CipherAlgorithm::Aes128Ctr {
                &AES_128
            } else {
                &AES_256
            };
            let unbound = || UnboundCipherKey::new(algorithm, &key).expect("key");
            let mut counter = [0u8; 16];
            counter.copy_from_slice(&iv);
            Box::new(BareCtrEtm {
                encrypting: EncryptingKey::ctr(unbound()).expect("key"),
                decrypting: DecryptingKey::ctr(unbound()).expect("key"),
                mac: hmac::Key::new(hmac::HMAC_SHA256, &mac_key),
                counter: u128::from_be_bytes(counter),
                seq: 0,
            })
        }
    }
}

fn criterion_report(c: &mut Criterion) {
    let mut group = c.benchmark_group("seal_open");
    group.throughput(Throughput::Bytes(PACKET as u64));
    group.measurement_time(Duration::from_secs(2));
    group.warm_up_time(Duration::from_millis(500));
    for suite in SUITES {
        let mut ours = Ours::new(suite);
        let mut buf = packet();
        group.bench_function(BenchmarkId::new("ours", suite.label), |b| {
            b.iter(|| ours.run(black_box(&mut buf)))
        });
        let mut raw = bare(suite);
        let mut buf = packet();
        group.bench_function(BenchmarkId::new("bare", suite.label), |b| {
            b.iter(|| raw.run(black_box(&mut buf)))
        });
    }
    group.finish();
}

/// Best-of-rounds throughput in MB/s of `ours` and `bare`, measured alternately so
/// that both see the same machine load (the benchmark host is shared).
// A benchmark is outside the engine: measuring wall time is its job.
#[allow(clippy::disallowed_methods)]
fn interleaved(suite: Suite) -> (f64, f64) {
    const ROUNDS: usize = 9;
    const ROUND: Duration = Duration::from_millis(25);
    let mut runners: [Box<dyn RoundTrip>; 2] = [Box::new(Ours::new(suite)), bare(suite)];
    let mut bufs = [packet(), packet()];
    // Calibrate the iteration count of one round on ours.
    let mut iters = 1u32;
    loop {
        let start = Instant::now();
        for _ in 0..iters {
            runners[0].run(&mut bufs[0]);
        }
        if start.elapsed() >= ROUND / 4 {
            iters = iters.saturating_mul(4);
            break;
        }
        iters = iters.saturating_mul(2);
    }
    let mut best = [Duration::MAX; 2];
    for round in 0..ROUNDS {
        for k in 0..2 {
            // Alternate which goes first, so neither always runs on a warmer cache.
            let which = (k + round) % 2;
            let start = Instant::now();
            for _ in 0..iters {
                runners[which].run(black_box(&mut bufs[which]));
            }
            best[which] = best[which].min(start.elapsed());
        }
    }
    let mbps = |d: Duration| (PACKET as f64 * f64::from(iters)) / d.as_secs_f64() / 1e6;
    (mbps(best[0]), mbps(best[1]))
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    criterion_report(&mut criterion);
    criterion.final_summary();
    // `cargo bench` passes --bench; `cargo test --benches` does not and only smoke-tests.
    if std::env::args().any(|a| a == "--bench") {
        for suite in SUITES {
            let (ours, bare) = interleaved(suite);
            println!(
                "seal_open {} ours={ours:.0} bare={bare:.0} ratio={:.3} MB/s",
                suite.label,
                ours / bare
            );
        }
    }
}
