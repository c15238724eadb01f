//! Source files and byte spans into them.
//!
//! A [`Span`] is a file id plus a byte range; line and column numbers are
//! only computed when a diagnostic is rendered, from a line index built
//! the first time a file needs one.

use std::sync::{Arc, OnceLock};

/// Index of a file in a [`SourceMap`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct FileId(pub u32);

/// A byte range in one source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    pub file: FileId,
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(file: FileId, start: usize, end: usize) -> Span {
        Span {
            file,
            start: u32::try_from(start).unwrap_or(u32::MAX),
            end: u32::try_from(end).unwrap_or(u32::MAX),
        }
    }

    /// The smallest span covering both (they must be in the same file).
    pub fn to(self, other: Span) -> Span {
        Span {
            file: self.file,
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }

    pub fn len(self) -> usize {
        self.end.saturating_sub(self.start) as usize
    }

    pub fn is_empty(self) -> bool {
        self.end <= self.start
    }
}

/// One source file: its display name (a path relative to the policy
/// directory, or a name given by the caller) and its text.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub name: String,
    pub text: Arc<str>,
    /// Built on first use: a file without diagnostics never needs it.
    lines: OnceLock<Arc<Lines>>,
}

/// Where the lines of a text start, so that the line of a position is a
/// binary search rather than a scan from the start of the file (which made
/// placing N diagnostics in one file O(N × file length)).
#[derive(Debug, Default)]
pub(crate) struct Lines {
    /// Offset of each line's first byte: 0, then one past each `\n`.
    starts: Vec<usize>,
    /// Offsets of each `\r` not followed by `\n`. miette counts these as
    /// line ends too; they are rare, so they are kept apart.
    lone_cr: Vec<usize>,
    /// The number of characters before each multiple of [`CHAR_BLOCK`]
    /// bytes, so that a column is counted from the nearest of these rather
    /// than from the start of a line, however long.
    chars_before_block: Vec<usize>,
}

/// Bytes between two entries of `Lines::chars_before_block`.
const CHAR_BLOCK: usize = 1024;

/// Whether a byte starts a character (is not a UTF-8 continuation byte).
fn starts_char(b: u8) -> bool {
    b & 0xC0 != 0x80
}

impl Lines {
    fn new(text: &str) -> Lines {
        let bytes = text.as_bytes();
        let mut lines = Lines {
            starts: vec![0],
            lone_cr: Vec::new(),
            chars_before_block: Vec::with_capacity(bytes.len() / CHAR_BLOCK + 1),
        };
        let mut chars = 0;
        for (i, &b) in bytes.iter().enumerate() {
            if i % CHAR_BLOCK == 0 {
                lines.chars_before_block.push(chars);
            }
            chars += usize::from(starts_char(b));
            match b {
                b'\n' => lines.starts.push(i + 1),
                b'\r' if bytes.get(i + 1) != Some(&b'\n') => lines.lone_cr.push(i),
                _ => {}
            }
        }
        lines
    }

    /// The number of characters of `text` (the text indexed) before byte
    /// `offset`, a character boundary.
    fn chars_before(&self, text: &str, offset: usize) -> usize {
        let block = offset / CHAR_BLOCK;
        let from = block * CHAR_BLOCK;
        let before = self.chars_before_block.get(block).copied().unwrap_or(0);
        let rest = text.as_bytes().get(from..offset).unwrap_or_default();
        before + rest.iter().filter(|&&b| starts_char(b)).count()
    }

    /// The 0-based index of the line (ended by `\n`) holding `offset`.
    pub(crate) fn line_of(&self, offset: usize) -> usize {
        self.starts
            .partition_point(|&s| s <= offset)
            .saturating_sub(1)
    }

    /// The length in bytes of the longest line from `n` lines above the
    /// line holding `start` to `n` lines below the one holding `end`, in a
    /// text of `len` bytes.
    pub(crate) fn longest(&self, start: usize, end: usize, n: usize, len: usize) -> usize {
        let first = self.line_of(start).saturating_sub(n);
        let last = self.line_of(end).saturating_add(n);
        (first..=last)
            .map_while(|i| {
                let from = *self.starts.get(i)?;
                Some(
                    self.starts
                        .get(i + 1)
                        .copied()
                        .unwrap_or(len)
                        .saturating_sub(from),
                )
            })
            .max()
            .unwrap_or(0)
    }

    /// The start of the line `n` lines above the line holding `offset`
    /// (the first line if there are fewer), and how many line ends,
    /// counted as miette counts them (`\r\n`, `\n` or a lone `\r`), come
    /// before it.
    pub(crate) fn start_above(&self, offset: usize, n: usize) -> (usize, usize) {
        let line = self.line_of(offset).saturating_sub(n);
        let start = self.starts.get(line).copied().unwrap_or(0);
        (start, line + self.lone_cr.partition_point(|&p| p < start))
    }
}

/// Every file of a policy, by [`FileId`].
#[derive(Debug, Clone, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    pub fn new() -> SourceMap {
        SourceMap::default()
    }

    pub fn add(&mut self, name: impl Into<String>, text: impl Into<Arc<str>>) -> FileId {
        let id = FileId(u32::try_from(self.files.len()).unwrap_or(u32::MAX));
        self.files.push(SourceFile {
            name: name.into(),
            text: text.into(),
            lines: OnceLock::new(),
        });
        id
    }

    pub fn get(&self, id: FileId) -> Option<&SourceFile> {
        self.files.get(id.0 as usize)
    }

    pub fn name(&self, id: FileId) -> &str {
        self.get(id).map(|f| f.name.as_str()).unwrap_or("<unknown>")
    }

    pub fn text(&self, id: FileId) -> &str {
        self.get(id).map(|f| &*f.text).unwrap_or("")
    }

    /// The text a span covers ("" when out of range).
    pub fn slice(&self, span: Span) -> &str {
        self.text(span.file)
            .get(span.start as usize..span.end as usize)
            .unwrap_or("")
    }

    /// The line index of a file, built on first use.
    pub(crate) fn lines(&self, file: FileId) -> Arc<Lines> {
        match self.get(file) {
            Some(f) => f
                .lines
                .get_or_init(|| Arc::new(Lines::new(&f.text)))
                .clone(),
            None => Arc::new(Lines::default()),
        }
    }

    /// 1-based line and column (in characters) of a byte offset; (1, 1)
    /// inside a character.
    pub fn line_col(&self, file: FileId, offset: u32) -> (usize, usize) {
        let text = self.text(file);
        let offset = (offset as usize).min(text.len());
        if !text.is_char_boundary(offset) {
            return (1, 1);
        }
        let lines = self.lines(file);
        let line = lines.line_of(offset);
        let start = lines.starts.get(line).copied().unwrap_or(0);
        let col = lines
            .chars_before(text, offset)
            .saturating_sub(lines.chars_before(text, start))
            + 1;
        (line + 1, col)
    }

    pub fn iter(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files
            .iter()
            .enumerate()
            .map(|(i, f)| (FileId(u32::try_from(i).unwrap_or(u32::MAX)), f))
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}
