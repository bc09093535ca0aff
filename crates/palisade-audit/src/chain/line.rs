//! The fixed head of every line (`{"seq":N,"prev":"<64 hex>",`) and the checkpoint line,
//! written and read without a JSON parser so verification runs at hashing speed.

use sha2::{Digest as _, Sha256};

const SEQ: &[u8] = b"{\"seq\":";
const PREV: &[u8] = b",\"prev\":\"";
const CHECKPOINT: &[u8] = b"\"type\":\"checkpoint\",\"records\":";
const MAC: &[u8] = b",\"mac\":\"";

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
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 || digits > 20 || (digits > 1 && rest.first() == Some(&b'0')) {
        return None;
    }
    let (number, rest) = rest.split_at(digits);
    let seq = std::str::from_utf8(number).ok()?.parse().ok()?;
    let rest = rest.strip_prefix(PREV)?;
    let (prev, rest) = rest.split_at_checked(64)?;
    let rest = rest.strip_prefix(b"\",")?;
    Some((seq, read_hex(prev)?, rest))
}

/// When the bytes after a head are a checkpoint's: its record count and MAC. `Err` when it
/// says it is a checkpoint but is not well formed.
pub(super) fn read_checkpoint(body: &[u8]) -> Option<Result<(u64, [u8; 32]), ()>> {
    let rest = body.strip_prefix(CHECKPOINT)?;
    Some(read_checkpoint_fields(rest).ok_or(()))
}

fn read_checkpoint_fields(rest: &[u8]) -> Option<(u64, [u8; 32])> {
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    let (number, rest) = rest.split_at(digits);
    let records = std::str::from_utf8(number).ok()?.parse().ok()?;
    let rest = rest.strip_prefix(MAC)?;
    let (mac, rest) = rest.split_at_checked(64)?;
    (rest == b"\"}").then_some(())?;
    Some((records, read_hex(mac)?))
}

/// Whether the bytes after a head are an event record's (not a checkpoint whose marker was
/// changed, which would otherwise pass for one).
pub(super) fn is_event(body: &[u8]) -> bool {
    [
        &b"\"type\":\"query.start\","[..],
        b"\"type\":\"query.end\",",
        b"\"type\":\"security\",",
    ]
    .iter()
    .any(|kind| body.starts_with(kind))
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
    fn a_checkpoint_reads_back() {
        let mut line = Vec::new();
        write_checkpoint(&mut line, 7, &[0xab; 32]);
        line.pop();
        assert_eq!(read_checkpoint(&line), Some(Ok((7, [0xab; 32]))));
        assert_eq!(
            read_checkpoint(b"\"type\":\"checkpoint\",\"records\":7}"),
            Some(Err(()))
        );
        assert_eq!(read_checkpoint(b"\"type\":\"query.end\"}"), None);
    }
}
