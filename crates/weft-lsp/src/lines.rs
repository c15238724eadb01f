//! Byte offsets ↔ LSP positions (lines and UTF-16 columns).

use lsp_types::Position;

/// The starts of a text's lines, to convert offsets both ways.
pub struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    /// Index a text (a line ends at `\n`; a `\r` before it belongs to the
    /// line).
    pub fn new(text: &'a str) -> LineIndex<'a> {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { text, starts }
    }

    /// The position of a byte offset (clamped to the text, and to a
    /// character boundary).
    pub fn position(&self, offset: usize) -> Position {
        let mut offset = offset.min(self.text.len());
        while offset > 0 && !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self
            .starts
            .partition_point(|&s| s <= offset)
            .saturating_sub(1);
        let start = self.starts.get(line).copied().unwrap_or(0);
        let col: usize = self
            .text
            .get(start..offset)
            .unwrap_or("")
            .chars()
            .map(char::len_utf16)
            .sum();
        Position::new(line as u32, col as u32)
    }

    /// The byte offset of a position (a position past the end of its line
    /// is the line's end; past the last line, the text's end).
    pub fn offset(&self, pos: Position) -> usize {
        let Some(&start) = self.starts.get(pos.line as usize) else {
            return self.text.len();
        };
        let end = self
            .starts
            .get(pos.line as usize + 1)
            .map(|e| e - 1)
            .unwrap_or(self.text.len());
        let line = self.text.get(start..end).unwrap_or("");
        let line = line.strip_suffix('\r').unwrap_or(line);
        let mut units = 0usize;
        for (i, c) in line.char_indices() {
            if units >= pos.character as usize {
                return start + i;
            }
            units += c.len_utf16();
        }
        start + line.len()
    }

    /// An LSP range of a byte range.
    pub fn range(&self, start: usize, end: usize) -> lsp_types::Range {
        lsp_types::Range::new(self.position(start), self.position(end))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_and_positions_round_trip_through_utf16() {
        let text = "rule 标准: Int = 1\r\n  x😀y\n";
        let ix = LineIndex::new(text);
        let y = text.find('y').unwrap();
        // `😀` is two UTF-16 units: `y` is at column 2 + 1 + 2.
        assert_eq!(ix.position(y), Position::new(1, 5));
        assert_eq!(ix.offset(Position::new(1, 5)), y);
        let colon = text.find(':').unwrap();
        assert_eq!(ix.position(colon), Position::new(0, 7));
        assert_eq!(ix.offset(Position::new(0, 7)), colon);
        // Past the end of a line: its end, before `\r\n`.
        assert_eq!(ix.offset(Position::new(0, 99)), text.find('\r').unwrap());
        assert_eq!(ix.offset(Position::new(9, 0)), text.len());
        // Inside a character: its start.
        assert_eq!(
            ix.position(text.find('标').unwrap() + 1),
            Position::new(0, 5)
        );
    }
}
