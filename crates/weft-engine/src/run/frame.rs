//! A plain binary encoding of parsed rows and output blocks, for the
//! scratch files of the order-free mode ([`super::sorted`]).
//!
//! Little-endian integers, every sequence preceded by its length. The files
//! are written and read by the same process, so there is no version and no
//! checksum; a file that does not decode (it was truncated or changed under
//! the run) is an error of the run, never a wrong row. A file is a sequence
//! of frames, each its length then its bytes ([`write_frame`],
//! [`read_frame`]).

use std::io::{self, Read, Write};

/// Bytes being encoded.
#[derive(Default)]
pub struct Out(pub Vec<u8>);

impl Out {
    pub fn u64(&mut self, x: u64) {
        self.0.extend_from_slice(&x.to_le_bytes());
    }

    pub fn u64s(&mut self, v: &[u64]) {
        self.u64(v.len() as u64);
        self.0.reserve(v.len() * 8);
        for x in v {
            self.0.extend_from_slice(&x.to_le_bytes());
        }
    }

    pub fn i64s(&mut self, v: &[i64]) {
        self.u64(v.len() as u64);
        self.0.reserve(v.len() * 8);
        for x in v {
            self.0.extend_from_slice(&x.to_le_bytes());
        }
    }

    pub fn u128s(&mut self, v: &[u128]) {
        self.u64(v.len() as u64);
        self.0.reserve(v.len() * 16);
        for x in v {
            self.0.extend_from_slice(&x.to_le_bytes());
        }
    }

    pub fn bools(&mut self, v: &[bool]) {
        self.u64(v.len() as u64);
        self.0.extend(v.iter().map(|b| u8::from(*b)));
    }

    pub fn str(&mut self, s: &str) {
        self.u64(s.len() as u64);
        self.0.extend_from_slice(s.as_bytes());
    }
}

/// Bytes being decoded; every read is `None` past the end.
pub struct In<'a> {
    bytes: &'a [u8],
}

impl<'a> In<'a> {
    pub fn new(bytes: &'a [u8]) -> In<'a> {
        In { bytes }
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if n > self.bytes.len() {
            return None;
        }
        let (a, b) = self.bytes.split_at(n);
        self.bytes = b;
        Some(a)
    }

    pub fn u64(&mut self) -> Option<u64> {
        let b = self.take(8)?;
        Some(u64::from_le_bytes(b.try_into().ok()?))
    }

    /// A length, refused when more items than bytes remain.
    fn len(&mut self, item: usize) -> Option<usize> {
        let n = usize::try_from(self.u64()?).ok()?;
        (n.checked_mul(item)? <= self.bytes.len()).then_some(n)
    }

    pub fn u64s(&mut self) -> Option<Vec<u64>> {
        let n = self.len(8)?;
        let b = self.take(n * 8)?;
        Some(
            b.chunks_exact(8)
                .map(|c| u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
                .collect(),
        )
    }

    pub fn i64s(&mut self) -> Option<Vec<i64>> {
        let n = self.len(8)?;
        let b = self.take(n * 8)?;
        Some(
            b.chunks_exact(8)
                .map(|c| i64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
                .collect(),
        )
    }

    pub fn u128s(&mut self) -> Option<Vec<u128>> {
        let n = self.len(16)?;
        let b = self.take(n * 16)?;
        b.chunks_exact(16)
            .map(|c| c.try_into().ok().map(u128::from_le_bytes))
            .collect()
    }

    pub fn bools(&mut self) -> Option<Vec<bool>> {
        let n = self.len(1)?;
        Some(self.take(n)?.iter().map(|b| *b != 0).collect())
    }

    pub fn str(&mut self) -> Option<String> {
        let n = self.len(1)?;
        String::from_utf8(self.take(n)?.to_vec()).ok()
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
}

/// Write one frame: its length, then its bytes.
pub fn write_frame(w: &mut impl Write, body: &[u8]) -> io::Result<()> {
    w.write_all(&(body.len() as u64).to_le_bytes())?;
    w.write_all(body)
}

/// Read the next frame into `buf`; `false` at the end of the file.
pub fn read_frame(r: &mut impl Read, buf: &mut Vec<u8>) -> io::Result<bool> {
    let mut len = [0u8; 8];
    let mut got = 0;
    while got < 8 {
        let n = r.read(&mut len[got..])?;
        if n == 0 {
            if got == 0 {
                return Ok(false);
            }
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "a scratch file ends inside a frame",
            ));
        }
        got += n;
    }
    let len = usize::try_from(u64::from_le_bytes(len))
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "a frame too long"))?;
    buf.clear();
    buf.resize(len, 0);
    r.read_exact(buf)?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn values_come_back_and_truncation_is_refused() {
        let mut o = Out::default();
        o.u64(7);
        o.u64s(&[1, u64::MAX]);
        o.i64s(&[-5, i64::MIN, i64::MAX]);
        o.u128s(&[u128::MAX, 3]);
        o.bools(&[true, false, true]);
        o.str("城镇,\"x\"");
        let mut i = In::new(&o.0);
        assert_eq!(i.u64(), Some(7));
        assert_eq!(i.u64s(), Some(vec![1, u64::MAX]));
        assert_eq!(i.i64s(), Some(vec![-5, i64::MIN, i64::MAX]));
        assert_eq!(i.u128s(), Some(vec![u128::MAX, 3]));
        assert_eq!(i.bools(), Some(vec![true, false, true]));
        assert_eq!(i.str().as_deref(), Some("城镇,\"x\""));
        assert!(i.is_empty());
        assert_eq!(i.u64(), None);
        // Every truncation fails somewhere, and never panics.
        for cut in 0..o.0.len() {
            let mut i = In::new(&o.0[..cut]);
            let all = (|| {
                i.u64()?;
                i.u64s()?;
                i.i64s()?;
                i.u128s()?;
                i.bools()?;
                i.str()
            })();
            assert!(all.is_none(), "cut at {cut}");
        }
        // A length larger than what remains is refused before allocating.
        let mut big = Out::default();
        big.u64(u64::MAX);
        assert_eq!(In::new(&big.0).i64s(), None);
    }

    #[test]
    fn frames_round_trip() {
        let mut f = Vec::new();
        write_frame(&mut f, b"abc").unwrap();
        write_frame(&mut f, b"").unwrap();
        let mut r = std::io::Cursor::new(f.clone());
        let mut buf = Vec::new();
        assert!(read_frame(&mut r, &mut buf).unwrap());
        assert_eq!(buf, b"abc");
        assert!(read_frame(&mut r, &mut buf).unwrap());
        assert!(buf.is_empty());
        assert!(!read_frame(&mut r, &mut buf).unwrap());
        let mut r = std::io::Cursor::new(&f[..5]);
        assert!(read_frame(&mut r, &mut buf).is_err());
    }
}
