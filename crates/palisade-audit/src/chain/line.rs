//! The fixed head of every line (`{"seq":N,"prev":"<64 hex>",`) and the checkpoint line,
//! written and read without a JSON parser so verification runs at hashing speed.

use sha2::{Digest as _, Sha256};

const SEQ: &[u8] = b"{\"seq\":";
const PREV: &[u8] = b",\"prev\":\"";
const CHECKPOINT: &[u8] = b"\"type\":\"checkpoint\",\"records\":";
const MAC: &[u8] = b",\"mac\":\"";
const RESUME: &[u8] = b"\"type\":\"resume\",\"sealed_seq\":";
const UNSEALED: &[u8] = b",\"unsealed\":";
const TORN: &[u8] = b",\"torn\":";

/// The longest line the writer writes is far below this; a longer one is not a record.
pub(super) const MAX_LINE_BYTES: usize = 1024 * 1024;

/// The `prev` of the very first record of a log.
pub(super) const GENESIS: [u8; 32] = [0; 32];

/// SHA-256 of one line, without its newline.
pub(super) fn hash(line: &[u8]) -> [u8; 32] {
    Sha256::digest(line).into()
}

/// Appends `{"seq":N,"prev":"<hex>",` to `out`.
pub(super) fn write_head(out: &mut Vec<u8>, seq: u64, prev: &[u8; 32]) {
    out.extend_from_slice(SEQ);
    out.extend_from_slice(seq.to_string().as_bytes());
    out.extend_from_slice(PREV);
    write_hex(out, prev);
    out.extend_from_slice(b"\",");
}

/// Appends the rest of a checkpoint line (after its head), newline included.
pub(super) fn write_checkpoint(out: &mut Vec<u8>, records: u64, mac: &[u8; 32]) {
    out.extend_from_slice(CHECKPOINT);
    out.extend_from_slice(records.to_string().as_bytes());
    out.extend_from_slice(MAC);
    write_hex(out, mac);
    out.extend_from_slice(b"\"}\n");
}

/// A line's sequence number, previous hash and the bytes after its head.
pub(super) fn read_head(line: &[u8]) -> Option<(u64, [u8; 32], &[u8])> {
    let rest = line.strip_prefix(SEQ)?;
    let (seq, rest) = read_number(rest)?;
    let rest = rest.strip_prefix(PREV)?;
    let (prev, rest) = rest.split_at_checked(64)?;
    let rest = rest.strip_prefix(b"\",")?;
    Some((seq, read_hex(prev)?, rest))
}

/// A decimal number as the writer writes it (no sign, no leading zero, at most 20 digits)
/// and the bytes after it.
fn read_number(text: &[u8]) -> Option<(u64, &[u8])> {
    let digits = text.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 || digits > 20 || (digits > 1 && text.first() == Some(&b'0')) {
        return None;
    }
    let (number, rest) = text.split_at(digits);
    Some((std::str::from_utf8(number).ok()?.parse().ok()?, rest))
}

/// What the bytes after a head say the record is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Body {
    /// A query or security event.
    Event,
    /// A checkpoint sealing `records` records with `mac`.
    Checkpoint { records: u64, mac: [u8; 32] },
    /// A writer's first record after a run that ended without sealing: the last checkpoint
    /// it found and the records after it.
    Resume {
        sealed_seq: u64,
        unsealed: u64,
        /// The SHA-256 of the part of a line the previous run's last file ended with.
        torn: Option<[u8; 32]>,
    },
}

/// What `body` is, or `None` when it is none of the writer's records (or a checkpoint or
/// resume record not exactly as the writer writes it).
pub(super) fn read_body(body: &[u8]) -> Option<Body> {
    if let Some(rest) = body.strip_prefix(CHECKPOINT) {
        let (records, rest) = read_number(rest)?;
        let rest = rest.strip_prefix(MAC)?;
        let (mac, rest) = rest.split_at_checked(64)?;
        (rest == b"\"}").then_some(())?;
        return Some(Body::Checkpoint {
            records,
            mac: read_hex(mac)?,
        });
    }
    if let Some(rest) = body.strip_prefix(RESUME) {
        let (sealed_seq, rest) = read_number(rest)?;
        let rest = rest.strip_prefix(UNSEALED)?;
        let (unsealed, rest) = read_number(rest)?;
        let rest = rest.strip_prefix(TORN)?;
        let torn = match rest {
            b"null}" => None,
            _ => {
                let hex = rest.strip_prefix(b"\"")?.strip_suffix(b"\"}")?;
                Some(read_hex(hex)?)
            }
        };
        return Some(Body::Resume {
            sealed_seq,
            unsealed,
            torn,
        });
    }
    let event = [
        &b"\"type\":\"query.start\","[..],
        b"\"type\":\"query.end\",",
        b"\"type\":\"security\",",
    ]
    .iter()
    .any(|kind| body.starts_with(kind));
    (event && body.ends_with(b"}")).then_some(Body::Event)
}

/// Appends the rest of a resume line (after its head), newline included.
pub(super) fn write_resume(
    out: &mut Vec<u8>,
    sealed_seq: u64,
    unsealed: u64,
    torn: Option<&[u8; 32]>,
) {
    out.extend_from_slice(RESUME);
    out.extend_from_slice(sealed_seq.to_string().as_bytes());
    out.extend_from_slice(UNSEALED);
    out.extend_from_slice(unsealed.to_string().as_bytes());
    out.extend_from_slice(TORN);
    match torn {
        Some(hash) => {
            out.push(b'"');
            write_hex(out, hash);
            out.extend_from_slice(b"\"}\n");
        }
        None => out.extend_from_slice(b"null}\n"),
    }
}

pub(super) fn write_hex(out: &mut Vec<u8>, bytes: &[u8; 32]) {
    let digit = |nibble: u8| match nibble {
        0..=9 => b'0' + nibble,
        _ => b'a' + (nibble - 10),
    };
    for byte in bytes {
        out.push(digit(byte >> 4));
        out.push(digit(byte & 0x0f));
    }
}

fn read_hex(text: &[u8]) -> Option<[u8; 32]> {
    let mut bytes = [0_u8; 32];
    if text.len() != 64 {
        return None;
    }
    for (byte, pair) in bytes.iter_mut().zip(text.chunks_exact(2)) {
        let digit = |c: u8| match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        };
        *byte = (digit(*pair.first()?)? << 4) | digit(*pair.get(1)?)?;
    }
    Some(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_head_reads_back() {
        let mut line = Vec::new();
        let prev = hash(b"x");
        write_head(&mut line, 42, &prev);
        line.extend_from_slice(b"\"type\":\"security\"}");
        let (seq, read_prev, body) = read_head(&line).unwrap();
        assert_eq!(
            (seq, read_prev, body),
            (42, prev, &b"\"type\":\"security\"}"[..])
        );
    }

    #[test]
    fn malformed_heads_are_refused() {
        for line in [
            &b"{\"seq\":01,\"prev\":\"00\","[..],
            b"{\"seq\":,\"prev\":",
            b"{\"seq\":1,\"prev\":\"zz00000000000000000000000000000000000000000000000000000000000000\",",
            b"{\"prev\":\"\",\"seq\":1}",
            b"{\"seq\":999999999999999999999,\"prev\":\"0000000000000000000000000000000000000000000000000000000000000000\",",
        ] {
            assert!(read_head(line).is_none(), "{}", String::from_utf8_lossy(line));
        }
    }

    #[test]
    fn a_checkpoint_and_a_resume_read_back() {
        let mut line = Vec::new();
        write_checkpoint(&mut line, 7, &[0xab; 32]);
        line.pop();
        assert_eq!(
            read_body(&line),
            Some(Body::Checkpoint {
                records: 7,
                mac: [0xab; 32]
            })
        );
        let mut line = Vec::new();
        write_resume(&mut line, 12, 3, None);
        line.pop();
        assert_eq!(
            read_body(&line),
            Some(Body::Resume {
                sealed_seq: 12,
                unsealed: 3,
                torn: None
            })
        );
        let mut line = Vec::new();
        write_resume(&mut line, 12, 0, Some(&[7; 32]));
        line.pop();
        assert_eq!(
            read_body(&line),
            Some(Body::Resume {
                sealed_seq: 12,
                unsealed: 0,
                torn: Some([7; 32])
            })
        );
        for other in [
            &b"\"type\":\"checkpoint\",\"records\":7}"[..],
            b"\"type\":\"checkpoint\",\"records\":07,\"mac\":\"abababababababababababababababababababababababababababababababab\"}",
            b"\"type\":\"query.end\",\"x\":1",
            b"\"type\":\"checkpoinX\",\"records\":7}",
        ] {
            assert_eq!(read_body(other), None, "{}", String::from_utf8_lossy(other));
        }
        assert_eq!(
            read_body(b"\"type\":\"security\",\"x\":1}"),
            Some(Body::Event)
        );
    }
}
