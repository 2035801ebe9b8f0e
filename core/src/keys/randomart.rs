//! The "randomart" picture of a fingerprint that `ssh-keygen -lv` draws.
//!
//! The algorithm is the "drunken bishop" walk of Loss, Limmer and von Gernler: a bishop
//! starts at the centre of a 17×9 board and, for every two bits of the digest (low bits
//! of each byte first), steps diagonally, sliding along a wall when it would leave the
//! board. Each square shows how often it was visited; `S` and `E` mark start and end.

use super::{FingerprintHash, PublicKey};

const WIDTH: usize = 17;
const HEIGHT: usize = 9;
/// Symbols by visit count; the last two are the start and end marks.
const SYMBOLS: &[u8; 17] = b" .o+=*BOX@%&#/^SE";
const START: u8 = 15;
const END: u8 = 16;

impl PublicKey {
    /// The randomart picture of this key's `hash` fingerprint, as `ssh-keygen -lv`
    /// prints it: 11 lines, the first framing `[TYPE BITS]`, the last `[HASH]`, no
    /// newline after the last line.
    pub fn randomart(&self, hash: FingerprintHash) -> String {
        let title = format!("[{} {}]", self.key_type().label(), self.bits());
        let title = if title.len() > WIDTH {
            format!("[{}]", self.key_type().label())
        } else {
            title
        };
        draw(
            &hash.digest(&self.to_blob()),
            &title,
            &format!("[{}]", hash.name()),
        )
    }
}

fn draw(digest: &[u8], title: &str, footer: &str) -> String {
    let mut field = [[0u8; HEIGHT]; WIDTH];
    let (mut x, mut y) = (WIDTH / 2, HEIGHT / 2);
    for &byte in digest {
        let mut bits = byte;
        for _ in 0..4 {
            x = if bits & 1 != 0 {
                (x + 1).min(WIDTH - 1)
            } else {
                x.saturating_sub(1)
            };
            y = if bits & 2 != 0 {
                (y + 1).min(HEIGHT - 1)
            } else {
                y.saturating_sub(1)
            };
            // Counts stop below the marks so a busy square never reads as S or E.
            if field[x][y] < START - 1 {
                field[x][y] += 1;
            }
            bits >>= 2;
        }
    }
    field[WIDTH / 2][HEIGHT / 2] = START;
    field[x][y] = END;

    let mut out = String::with_capacity((WIDTH + 3) * (HEIGHT + 2));
    border(&mut out, title);
    out.push('\n');
    for row in 0..HEIGHT {
        out.push('|');
        for column in &field {
            out.push(char::from(SYMBOLS[usize::from(column[row])]));
        }
        out.push_str("|\n");
    }
    border(&mut out, footer);
    out
}

/// A frame line with `label` centred (the extra dash goes to the right).
fn border(out: &mut String, label: &str) {
    let left = WIDTH.saturating_sub(label.len()) / 2;
    let right = WIDTH.saturating_sub(label.len() + left);
    out.push('+');
    out.extend(std::iter::repeat_n('-', left));
    out.push_str(label);
    out.extend(std::iter::repeat_n('-', right));
    out.push('+');
}
