//! The positions of the bytes that structure a CSV record — `,`, `\n` and
//! `"` — found 64 bytes at a time.
//!
//! A record's fields are found by walking these positions in order, so a
//! line is looked at once, whatever the number of its fields (searching for
//! each comma separately restarts a search per field, and fields are short).
//! On x86-64 the 64 bytes are compared 16 at a time with SSE2, which every
//! x86-64 processor has; elsewhere byte by byte.

/// An iterator over the positions of `,`, `\n` and `"` in a byte slice.
pub struct Marks<'a> {
    b: &'a [u8],
    /// Offset of the 64 bytes `mask` describes.
    base: usize,
    /// Bit `k`: byte `base + k` is a mark not yet returned.
    mask: u64,
}

impl<'a> Marks<'a> {
    /// The marks of `b` from offset `from` on.
    pub fn new(b: &'a [u8], from: usize) -> Marks<'a> {
        Marks {
            b,
            base: from,
            mask: classify(b, from),
        }
    }

    /// Continue from offset `from` (forward or backward).
    pub fn seek(&mut self, from: usize) {
        self.base = from;
        self.mask = classify(self.b, from);
    }
}

impl Iterator for Marks<'_> {
    type Item = usize;

    #[inline]
    fn next(&mut self) -> Option<usize> {
        while self.mask == 0 {
            self.base += 64;
            if self.base >= self.b.len() {
                return None;
            }
            self.mask = classify(self.b, self.base);
        }
        let at = self.base + self.mask.trailing_zeros() as usize;
        self.mask &= self.mask - 1;
        Some(at)
    }
}

/// Bit `k` set when `b[at + k]` is `,`, `\n` or `"` (0 past the end).
#[inline]
fn classify(b: &[u8], at: usize) -> u64 {
    match b
        .get(at..at + 64)
        .and_then(|s| <&[u8; 64]>::try_from(s).ok())
    {
        Some(chunk) => classify64(chunk),
        None => {
            let mut pad = [0u8; 64];
            let tail = b.get(at..).unwrap_or(&[]);
            pad[..tail.len()].copy_from_slice(tail);
            classify64(&pad)
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[inline]
fn classify64(chunk: &[u8; 64]) -> u64 {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
    };
    // SAFETY: SSE2 is part of the x86-64 baseline (so these intrinsics can
    // run on any x86-64 processor), and each 16 bytes loaded (unaligned) at
    // `16 * k` lie inside the 64-byte `chunk`.
    let mut mask = 0u64;
    unsafe {
        let comma = _mm_set1_epi8(b',' as i8);
        let nl = _mm_set1_epi8(b'\n' as i8);
        let quote = _mm_set1_epi8(b'"' as i8);
        for k in 0..4 {
            let v = _mm_loadu_si128(chunk.as_ptr().add(16 * k).cast::<__m128i>());
            let hit = _mm_or_si128(
                _mm_or_si128(_mm_cmpeq_epi8(v, comma), _mm_cmpeq_epi8(v, nl)),
                _mm_cmpeq_epi8(v, quote),
            );
            mask |= u64::from(_mm_movemask_epi8(hit) as u16) << (16 * k);
        }
    }
    mask
}

#[cfg(not(target_arch = "x86_64"))]
#[inline]
fn classify64(chunk: &[u8; 64]) -> u64 {
    let mut mask = 0u64;
    for (k, c) in chunk.iter().enumerate() {
        if matches!(c, b',' | b'\n' | b'"') {
            mask |= 1 << k;
        }
    }
    mask
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(b: &[u8], from: usize) -> Vec<usize> {
        (from..b.len())
            .filter(|&i| matches!(b[i], b',' | b'\n' | b'"'))
            .collect()
    }

    #[test]
    fn finds_every_mark_at_every_length_and_offset() {
        // Lengths around the 64-byte steps, marks at the chunk edges.
        for len in [0, 1, 15, 16, 17, 63, 64, 65, 127, 128, 129, 200] {
            let b: Vec<u8> = (0..len)
                .map(|i| match i % 7 {
                    0 => b',',
                    3 => b'\n',
                    5 if i % 2 == 0 => b'"',
                    _ => b'a' + (i % 26) as u8,
                })
                .collect();
            for from in [0, 1, 63, 64, 65] {
                if from > len {
                    continue;
                }
                assert_eq!(Marks::new(&b, from).collect::<Vec<_>>(), naive(&b, from));
            }
        }
    }

    #[test]
    fn non_ascii_bytes_are_not_marks() {
        // Bytes ≥ 0x80 (UTF-8 text) must not be mistaken for marks.
        let s = "户主,城镇\n\"张三\",x".as_bytes();
        assert_eq!(Marks::new(s, 0).collect::<Vec<_>>(), naive(s, 0));
    }

    #[test]
    fn seek_restarts_anywhere() {
        let b = b"a,b,c\nd,\"e\"\n".repeat(20);
        let mut m = Marks::new(&b, 0);
        m.next();
        m.seek(100);
        assert_eq!(m.collect::<Vec<_>>(), naive(&b, 100));
        let mut m = Marks::new(&b, 150);
        m.seek(3);
        assert_eq!(m.collect::<Vec<_>>(), naive(&b, 3));
    }
}
