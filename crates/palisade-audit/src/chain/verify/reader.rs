//! Lines read with a cap, so a file of one endless line costs 1 MiB, not all memory.

use std::io::{self, BufRead, Read as _};

use super::super::line::MAX_LINE_BYTES;

/// What one read found.
pub(super) enum Line {
    /// A line with its newline (stripped from the buffer).
    Whole,
    /// Bytes without a newline before the end of the file.
    Torn,
    /// More than [`MAX_LINE_BYTES`] without a newline.
    TooLong,
    /// The end of the file.
    End,
}

/// Reads the next line of `reader` into `buffer`.
pub(super) fn next_line(reader: &mut impl BufRead, buffer: &mut Vec<u8>) -> io::Result<Line> {
    buffer.clear();
    let limit = u64::try_from(MAX_LINE_BYTES)
        .unwrap_or(u64::MAX)
        .saturating_add(1);
    let read = reader.by_ref().take(limit).read_until(b'\n', buffer)?;
    Ok(if read == 0 {
        Line::End
    } else if buffer.last() == Some(&b'\n') {
        buffer.pop();
        Line::Whole
    } else if buffer.len() > MAX_LINE_BYTES {
        Line::TooLong
    } else {
        Line::Torn
    })
}
