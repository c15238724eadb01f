//! `weft fmt`: one canonical layout for policy files.
//!
//! The formatter works on a token stream (the logos lexer below), so every
//! comment (`//`, `////`) and doc comment (`///`) is kept on the line where
//! the author wrote it. The pest parse tree of each item is consulted only to
//! tell what a token *is* (a unary or a binary `-`, a call's `(` or a
//! bracketed expression's, a table row's `|` or a cell separator), never to
//! re-print the file from the tree. The formatter is conservative: it keeps
//! every token, in order, and the author's line breaks; it changes only
//! horizontal space, indentation and blank lines.
//!
//! # The canonical layout
//!
//! * **Lines.** Every line break of the author is kept, except that an item
//!   that starts in the middle of a line is moved to a line of its own. Long
//!   expressions are never re-wrapped.
//! * **Indentation** is two spaces a level:
//!   - an item starts in column 0, and so do its doc comments;
//!   - a clause of an item on a line of its own (`source`, `= expr`,
//!     `from DATE = …`, `hit`, `given`, table and scale rows, cascade steps,
//!     `on`, `remainder`, `every`, `in force`, `: expr`, `when`, `for`,
//!     `recipients`, …) is indented one level;
//!   - a bracket (`{`, `(` or `[`) that ends its line opens a block: each
//!     element that starts a line (enum variant, record field, `check`, test
//!     record, `expect`, key of a map, match arm, output column, argument)
//!     is indented one level more than the block's anchor, and a closing
//!     bracket that starts a line sits at the anchor. The anchor of a
//!     `match` block or of a call's arguments is the column where the
//!     `match` or the call starts; of any other block, the indentation of
//!     the line that opens it;
//!   - the body of `let x = … in` on a line of its own lines up with `let`;
//!   - a continuation line (the rest of an expression, or a sub-clause such
//!     as `on …` under `check`) keeps the author's alignment: if it started
//!     in the column of a token of an earlier line of the same clause, it
//!     starts in that token's new column (so `then`/`else` under `if`,
//!     arguments under the first argument, `and`/`or` chains stay aligned);
//!     otherwise it keeps its depth relative to the clause it continues,
//!     rounded down to an even number of columns and at least one level (a
//!     continuation is always deeper than its clause's first token). In the
//!     input, a tab advances to the next multiple of four columns;
//!   - a comment line takes the indentation of the code line after it (one
//!     level deeper if that line closes a block), and a doc comment always
//!     does; an indented comment directly under the last line of an item,
//!     with a blank line before the next item, stays with the item before
//!     it (one level deep, or none if that line is not indented).
//! * **Spacing.** One space between tokens, except: none before `,` `:` `?`
//!   `)` `]`, none after `(` `[`, none around `.` and before `..`/`..=` (and
//!   none after them before a bound), none after a unary `-`, none before
//!   the `(` of a call or parameter list and the `[` of an index or key
//!   list. Braces of records, maps and blocks have a space inside
//!   (`{ a: 1 }`, `{ }`); the braces of a set and of an import list do not
//!   (`in {a, b}`, `import m.{a, b}`). Binary operators, `=`, `=>` and `|`
//!   have a space on each side. A comment at the end of a line follows one
//!   space.
//! * **Alignment** (columns are counted in display width, so Chinese
//!   characters count two):
//!   - the rows of a decision table line up as a table: each cell is padded
//!     to its column's width, so the `|` separators and the `=>` of every row
//!     are in the same columns (a row with fewer cells, such as
//!     `| otherwise`, spans the remaining columns);
//!   - the `=>` of the rows of a scale line up;
//!   - the `pays` of the steps of a cascade line up;
//!   - the values of `key: value` entries of test records, `defaults` and
//!     parameter maps line up when the entries are on lines of their own
//!     (a run of such lines, broken by a blank line).
//!
//!   A row, step or entry that is not on one line (or that does not start
//!   its line) is left out of the alignment.
//! * **Blank lines.** Exactly one blank line between items (with the
//!   comments and doc comments directly above an item counted as part of
//!   it), except between two items that are each written on one line and
//!   are both imports or both not imports (a group of imports, of one-line
//!   rules or parameters): these keep none or one, as written. Inside an
//!   item at most one blank line, and none after a line that opens a block,
//!   before a line that closes one, or between a doc comment and what it
//!   documents. No blank lines at the start or the end of the file. A test
//!   marker `//~^ CODE` on a line of its own stays right under the line it
//!   points at.
//! * **Text.** Lines end with `\n` (CRLF becomes LF), no line has trailing
//!   white space, the file ends with one newline, a byte-order mark is
//!   dropped. Comments, doc comments and strings are kept as written (less
//!   trailing white space).
//!
//! # Safety
//!
//! A file that does not parse is not formatted: [`format_source`] returns
//! its diagnostics. After formatting, the result is parsed again and its
//! syntax tree (spans aside) compared with the original's, and its tokens
//! and comments with the original's; if anything differs the formatter
//! returns [`FmtError::Internal`] instead of a text that could mean
//! something else.

use crate::diag::Diagnostic;
use crate::parse::{Rule, WeftParser};
use crate::scan;
use crate::span::FileId;
use logos::Logos;
use pest::Parser;
use std::collections::HashMap;
use unicode_width::UnicodeWidthChar;

/// Why a text was not formatted.
#[derive(Debug)]
pub enum FmtError {
    /// The text does not parse; these are its diagnostics.
    Syntax(Vec<Diagnostic>),
    /// The formatter could not format this text without risk of changing
    /// its meaning (a bug in the formatter); the text should be left as it
    /// is.
    Internal(String),
}

impl std::fmt::Display for FmtError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FmtError::Syntax(d) => {
                let n = d.iter().filter(|d| d.is_error()).count();
                write!(
                    f,
                    "the file does not parse ({n} syntax error{})",
                    if n == 1 { "" } else { "s" }
                )
            }
            FmtError::Internal(m) => write!(f, "internal error of the formatter: {m}"),
        }
    }
}

impl std::error::Error for FmtError {}

/// Format one policy file. Returns the formatted text (which may equal the
/// input), or why it was left alone.
pub fn format_source(src: &str) -> Result<String, FmtError> {
    let (module, diags) = crate::parse_module(FileId(0), src);
    if diags.iter().any(|d| d.is_error()) {
        return Err(FmtError::Syntax(diags));
    }
    let f = Fmt::new(src)?;
    let out = f.format();
    verify(src, &module, &out)?;
    Ok(out)
}

// ----------------------------------------------------------------- tokens

#[derive(Logos, Debug, Clone, Copy, PartialEq, Eq)]
enum K {
    #[regex(r"[ \t\r\u{FEFF}]+")]
    Space,
    #[token("\n")]
    Newline,
    #[regex(r"///([^/\n][^\n]*)?", priority = 10)]
    Doc,
    #[regex(r"//[^\n]*", priority = 5)]
    Comment,
    #[regex(r#""([^"\\\n]|\\[^\n])*""#)]
    Str,
    #[regex(r"[\p{XID_Start}_]\p{XID_Continue}*")]
    Word,
    #[regex(r"[0-9]+")]
    #[regex(r"[0-9]+\.[0-9]+")]
    #[regex(r"[0-9]+(\.[0-9]+)?%")]
    #[regex(r"[0-9][0-9][0-9][0-9]-[0-9][0-9]")]
    #[regex(r"[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]")]
    Number,
    #[regex(r"[¥￥][0-9]+(,[0-9]+)*(\.[0-9]+)?")]
    Money,
    #[token("(")]
    LParen,
    #[token(")")]
    RParen,
    #[token("[")]
    LBracket,
    #[token("]")]
    RBracket,
    #[token("{")]
    LBrace,
    #[token("}")]
    RBrace,
    #[token(",")]
    Comma,
    #[token(":")]
    Colon,
    #[token(".")]
    Dot,
    #[token("..")]
    #[token("..=")]
    Range,
    #[token("?")]
    Question,
    #[token("|")]
    Pipe,
    #[token("-")]
    Minus,
    #[token("=")]
    #[token("=>")]
    #[token("+")]
    #[token("*")]
    #[token("/")]
    #[token("×")]
    #[token("÷")]
    #[token("==")]
    #[token("!=")]
    #[token("<")]
    #[token("<=")]
    #[token(">")]
    #[token(">=")]
    #[token("≤")]
    #[token("≥")]
    #[token("≠")]
    Op,
}

impl K {
    fn is_trivia(self) -> bool {
        matches!(self, K::Comment | K::Doc)
    }
    fn is_open(self) -> bool {
        matches!(self, K::LParen | K::LBracket | K::LBrace)
    }
    fn is_close(self) -> bool {
        matches!(self, K::RParen | K::RBracket | K::RBrace)
    }
}

#[derive(Debug, Clone)]
struct Tok {
    k: K,
    start: usize,
    end: usize,
    /// The innermost parse-tree node containing the token.
    ctx: Option<usize>,
    /// The item (index into `Fmt::items`) the token belongs to.
    item: Option<usize>,
}

/// Split a text into tokens (without white space, with newlines).
fn lex(src: &str) -> Result<Vec<Tok>, FmtError> {
    let mut out: Vec<Tok> = Vec::new();
    let mut lx = K::lexer(src);
    while let Some(r) = lx.next() {
        let span = lx.span();
        let Ok(k) = r else {
            return Err(FmtError::Internal(format!(
                "cannot read the text at byte {}",
                span.start
            )));
        };
        if k == K::Space {
            continue;
        }
        out.push(Tok {
            k,
            start: span.start,
            end: span.end,
            ctx: None,
            item: None,
        });
    }
    // `..=>` is `..` then `=>` (an open range before a row's arrow).
    let mut i = 0;
    while i + 1 < out.len() {
        let (a, b) = (&out[i], &out[i + 1]);
        if a.k == K::Range
            && a.end - a.start == 3
            && b.start == a.end
            && src.get(b.start..b.end) == Some(">")
        {
            let (s, e) = (a.start, b.end);
            out[i].end = s + 2;
            out[i + 1] = Tok {
                k: K::Op,
                start: s + 2,
                end: e,
                ctx: None,
                item: None,
            };
        }
        i += 1;
    }
    Ok(out)
}

// ------------------------------------------------------------- parse tree

#[derive(Debug)]
struct Node {
    rule: Rule,
    start: usize,
    end: usize,
    parent: Option<usize>,
    children: Vec<usize>,
}

/// Display columns: tabs to the next multiple of 4, wide characters 2.
fn advance(col: usize, s: &str) -> usize {
    let mut c = col;
    for ch in s.chars() {
        if ch == '\t' {
            c = (c / 4 + 1) * 4;
        } else {
            c += ch.width().unwrap_or(0);
        }
    }
    c
}

fn width(s: &str) -> usize {
    advance(0, s)
}

#[derive(Debug, Default)]
struct Line {
    /// Tokens (code and comments), in order.
    toks: Vec<usize>,
    /// Blank lines before this line in the input.
    blank_before: usize,
    /// Column of each token in the input.
    orig_cols: Vec<usize>,
    orig_indent: usize,
}

struct Fmt<'a> {
    src: &'a str,
    toks: Vec<Tok>,
    nodes: Vec<Node>,
    /// The node of each item, in order.
    items: Vec<usize>,
    lines: Vec<Line>,
    line_of: Vec<usize>,
    /// Per token: the matching bracket.
    partner: Vec<Option<usize>>,
    /// Per token: the innermost open bracket around it (for a closing
    /// bracket, the bracket it closes).
    encl: Vec<Option<usize>>,
}

impl<'a> Fmt<'a> {
    fn new(src: &'a str) -> Result<Fmt<'a>, FmtError> {
        let mut toks = lex(src)?;
        let (nodes, items) = build_tree(src)?;
        // Innermost node of each token: visit nodes parents first.
        for (ni, n) in nodes.iter().enumerate() {
            let lo = toks.partition_point(|t| t.start < n.start);
            let hi = toks.partition_point(|t| t.start < n.end);
            for t in toks.iter_mut().take(hi).skip(lo) {
                t.ctx = Some(ni);
            }
        }
        for (ii, &n) in items.iter().enumerate() {
            let (s, e) = (nodes[n].start, nodes[n].end);
            let lo = toks.partition_point(|t| t.start < s);
            let hi = toks.partition_point(|t| t.start < e);
            for t in toks.iter_mut().take(hi).skip(lo) {
                t.item = Some(ii);
            }
        }
        // Every significant token must be inside an item.
        if let Some(t) = toks
            .iter()
            .find(|t| t.k != K::Newline && !t.k.is_trivia() && t.item.is_none())
        {
            return Err(FmtError::Internal(format!(
                "a token at byte {} is outside every item",
                t.start
            )));
        }
        // Brackets.
        let n = toks.len();
        let mut partner = vec![None; n];
        let mut encl = vec![None; n];
        let mut stack: Vec<usize> = Vec::new();
        for (i, t) in toks.iter().enumerate() {
            if t.k == K::Newline || t.k.is_trivia() {
                continue;
            }
            if t.k.is_close() {
                let Some(o) = stack.pop() else {
                    return Err(FmtError::Internal("unbalanced brackets".into()));
                };
                partner[o] = Some(i);
                partner[i] = Some(o);
                encl[i] = Some(o);
            } else {
                encl[i] = stack.last().copied();
                if t.k.is_open() {
                    stack.push(i);
                }
            }
        }
        if !stack.is_empty() {
            return Err(FmtError::Internal("unbalanced brackets".into()));
        }
        let mut f = Fmt {
            src,
            toks,
            nodes,
            items,
            lines: Vec::new(),
            line_of: vec![0; n],
            partner,
            encl,
        };
        f.build_lines();
        Ok(f)
    }

    fn build_lines(&mut self) {
        let item_starts: std::collections::HashSet<usize> = self
            .items
            .iter()
            .filter_map(|&n| self.code_start(n))
            .collect();
        let mut lines: Vec<Line> = Vec::new();
        let mut cur = Line::default();
        let mut blank = 0usize;
        let mut line_start = 0usize;
        for i in 0..self.toks.len() {
            let t = &self.toks[i];
            if t.k == K::Newline {
                if cur.toks.is_empty() {
                    blank += 1;
                } else {
                    lines.push(std::mem::take(&mut cur));
                }
                line_start = t.end;
                continue;
            }
            if !cur.toks.is_empty() && item_starts.contains(&i) {
                // An item starting mid-line goes to a line of its own.
                lines.push(std::mem::take(&mut cur));
            }
            let col = advance(0, self.src.get(line_start..t.start).unwrap_or(""));
            if cur.toks.is_empty() {
                cur.blank_before = if lines.is_empty() && blank > 0 {
                    0
                } else {
                    blank
                };
                cur.orig_indent = col;
                blank = 0;
            }
            cur.toks.push(i);
            cur.orig_cols.push(col);
            self.line_of[i] = lines.len();
        }
        if !cur.toks.is_empty() {
            lines.push(cur);
        }
        self.lines = lines;
    }

    // ------------------------------------------------------------ queries

    fn text(&self, t: usize) -> &'a str {
        let tok = &self.toks[t];
        let s = self.src.get(tok.start..tok.end).unwrap_or("");
        if tok.k.is_trivia() { s.trim_end() } else { s }
    }

    fn is_sig(&self, t: usize) -> bool {
        let k = self.toks[t].k;
        k != K::Newline && !k.is_trivia()
    }

    fn rule(&self, t: usize) -> Option<Rule> {
        self.toks[t].ctx.map(|n| self.nodes[n].rule)
    }

    /// The first code token of a node (after its doc comments).
    fn code_start(&self, n: usize) -> Option<usize> {
        let node = &self.nodes[n];
        let mut i = self.toks.partition_point(|t| t.start < node.start);
        while i < self.toks.len() && self.toks[i].start < node.end {
            if self.is_sig(i) {
                return Some(i);
            }
            i += 1;
        }
        None
    }

    /// The last code token of a node.
    fn last_sig_of(&self, n: usize) -> Option<usize> {
        let node = &self.nodes[n];
        let hi = self.toks.partition_point(|t| t.start < node.end);
        (0..hi)
            .rev()
            .take_while(|&i| self.toks[i].start >= node.start)
            .find(|&i| self.is_sig(i))
    }

    fn first_sig(&self, li: usize) -> Option<usize> {
        self.lines[li]
            .toks
            .iter()
            .copied()
            .find(|&t| self.is_sig(t))
    }

    fn last_sig(&self, li: usize) -> Option<usize> {
        self.lines[li]
            .toks
            .iter()
            .rev()
            .copied()
            .find(|&t| self.is_sig(t))
    }

    /// An opening bracket that is the last code on its line.
    fn vertical(&self, o: usize) -> bool {
        self.last_sig(self.line_of[o]) == Some(o)
    }

    fn is_unary_minus(&self, t: usize) -> bool {
        self.toks[t].k == K::Minus && matches!(self.rule(t), Some(Rule::neg_op | Rule::const_lit))
    }

    /// Braces without space inside: sets and import lists.
    fn tight_brace(&self, t: usize) -> bool {
        matches!(self.rule(t), Some(Rule::in_set | Rule::import_names))
    }

    /// `(` and `[` written against what comes before: calls, parameter
    /// lists, indexes and key lists.
    fn attached_open(&self, t: usize) -> bool {
        matches!(
            self.rule(t),
            Some(
                Rule::call
                    | Rule::agg_expr
                    | Rule::rule_params
                    | Rule::index
                    | Rule::param_keys
                    | Rule::exception_item
                    | Rule::output_item
            )
        )
    }

    fn space_between(&self, a: usize, b: usize) -> bool {
        let (ka, kb) = (self.toks[a].k, self.toks[b].k);
        if kb.is_trivia() {
            return true;
        }
        if matches!(
            kb,
            K::Comma | K::Colon | K::Question | K::RParen | K::RBracket | K::Dot | K::Range
        ) {
            return false;
        }
        if ka == K::Dot || matches!(ka, K::LParen | K::LBracket) {
            return false;
        }
        if ka == K::Range {
            return !(matches!(kb, K::Number | K::Money) || self.is_unary_minus(b));
        }
        if ka == K::LBrace {
            // An empty `{}` stays tight.
            return kb != K::RBrace && !self.tight_brace(a);
        }
        if kb == K::RBrace {
            return !self.tight_brace(b);
        }
        if matches!(kb, K::LParen | K::LBracket) && self.attached_open(b) {
            return false;
        }
        if kb == K::LBrace && self.rule(b) == Some(Rule::import_names) {
            return false;
        }
        if self.is_unary_minus(a) {
            return false;
        }
        true
    }

    /// The line's text (without indentation), with `pads` extra spaces
    /// before some tokens, and the byte offset of each token in it.
    fn render(&self, li: usize, pads: &HashMap<usize, usize>) -> (String, Vec<usize>) {
        let mut s = String::new();
        let mut offs = Vec::new();
        let mut prev: Option<usize> = None;
        for &t in &self.lines[li].toks {
            if let Some(p) = prev
                && self.space_between(p, t)
            {
                s.push(' ');
            }
            if let Some(&n) = pads.get(&t) {
                s.extend(std::iter::repeat_n(' ', n));
            }
            offs.push(s.len());
            s.push_str(self.text(t));
            prev = Some(t);
        }
        (s, offs)
    }

    // ---------------------------------------------------------- alignment

    fn children_of(&self, n: usize, rule: Rule) -> Vec<usize> {
        self.nodes[n]
            .children
            .iter()
            .copied()
            .filter(|&c| self.nodes[c].rule == rule)
            .collect()
    }

    /// Significant tokens of a node, in order.
    fn sig_toks(&self, n: usize) -> Vec<usize> {
        let node = &self.nodes[n];
        let lo = self.toks.partition_point(|t| t.start < node.start);
        let hi = self.toks.partition_point(|t| t.start < node.end);
        (lo..hi).filter(|&t| self.is_sig(t)).collect()
    }

    /// Extra spaces before tokens, to align tables, cascades and maps.
    fn alignment_pads(&self) -> HashMap<usize, usize> {
        let none = HashMap::new();
        let plain: Vec<(String, Vec<usize>)> = (0..self.lines.len())
            .map(|li| self.render(li, &none))
            .collect();
        // Display width from the start of token `a` to the end of token `b`
        // (both on one line, unpadded).
        let span_w = |a: usize, b: usize| -> usize {
            let li = self.line_of[a];
            let (s, offs) = &plain[li];
            let pos = |t: usize| {
                self.lines[li]
                    .toks
                    .iter()
                    .position(|&x| x == t)
                    .unwrap_or(0)
            };
            let (ia, ib) = (pos(a), pos(b));
            let start = offs.get(ia).copied().unwrap_or(0);
            let end = offs.get(ib).copied().unwrap_or(0) + self.text(b).len();
            s.get(start..end).map(width).unwrap_or(0)
        };
        let mut pads = HashMap::new();
        for (ni, n) in self.nodes.iter().enumerate() {
            match n.rule {
                Rule::table_item => self.align_table(ni, &span_w, &mut pads),
                Rule::scale_item => self.align_scale(ni, &span_w, &mut pads),
                Rule::cascade_item => self.align_cascade(ni, &span_w, &mut pads),
                Rule::test_record | Rule::defaults_item | Rule::pvalue_map => {
                    self.align_entries(ni, &span_w, &mut pads)
                }
                _ => {}
            }
        }
        pads
    }

    /// A row-like node that starts its line with `first` and has `last` on
    /// the same line.
    fn one_line(&self, first: usize, last: usize) -> bool {
        let li = self.line_of[first];
        self.first_sig(li) == Some(first) && self.line_of[last] == li
    }

    fn align_table(
        &self,
        table: usize,
        span_w: &dyn Fn(usize, usize) -> usize,
        pads: &mut HashMap<usize, usize>,
    ) {
        // Per row: the cells (first, last token) and the arrow.
        let mut rows: Vec<(Vec<(usize, usize)>, usize)> = Vec::new();
        for row in self.children_of(table, Rule::table_row) {
            let toks = self.sig_toks(row);
            let Some(&bar) = toks.first() else { continue };
            let Some(&arrow) = toks
                .iter()
                .find(|&&t| self.toks[t].ctx == Some(row) && self.text(t) == "=>")
            else {
                continue;
            };
            if !self.one_line(bar, arrow) {
                continue;
            }
            let cells_node = self.children_of(row, Rule::row_cells).first().copied();
            let mut cells = Vec::new();
            let mut first: Option<usize> = None;
            let mut last = bar;
            for &t in toks.iter().skip(1) {
                if t == arrow {
                    break;
                }
                let sep = self.toks[t].k == K::Pipe
                    && cells_node.is_some()
                    && self.toks[t].ctx == cells_node;
                if sep {
                    if let Some(f) = first.take() {
                        cells.push((f, last));
                    }
                } else {
                    if first.is_none() {
                        first = Some(t);
                    }
                    last = t;
                }
            }
            if let Some(f) = first {
                cells.push((f, last));
            }
            if cells.is_empty() {
                continue;
            }
            rows.push((cells, arrow));
        }
        if rows.len() < 2 {
            return;
        }
        let ncols = rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
        let mut w = vec![0usize; ncols];
        let widths: Vec<Vec<usize>> = rows
            .iter()
            .map(|(cells, _)| cells.iter().map(|&(a, b)| span_w(a, b)).collect())
            .collect();
        for cw in &widths {
            let k = cw.len();
            for (j, &x) in cw.iter().enumerate() {
                let spans = j + 1 == k && k < ncols;
                if !spans {
                    w[j] = w[j].max(x);
                }
            }
        }
        // A last cell spanning the remaining columns may widen the last one.
        for cw in &widths {
            let k = cw.len();
            if k < ncols {
                let allowance: usize = w[k - 1..].iter().sum::<usize>() + 3 * (ncols - k);
                let x = cw[k - 1];
                if x > allowance {
                    w[ncols - 1] += x - allowance;
                }
            }
        }
        // The separator after cell j is the token just before the next
        // cell (the row is on one line, so no comment comes between).
        let seps_after = |cells: &[(usize, usize)], j: usize| -> Option<usize> {
            cells.get(j + 1).map(|&(f, _)| f - 1)
        };
        for ((cells, arrow), cw) in rows.iter().zip(&widths) {
            let k = cells.len();
            for j in 0..k {
                let target = if j + 1 == k {
                    w[j..].iter().sum::<usize>() + 3 * (ncols - k)
                } else {
                    w[j]
                };
                let pad = target.saturating_sub(cw[j]);
                let at = if j + 1 == k {
                    Some(*arrow)
                } else {
                    seps_after(cells, j)
                };
                if let Some(at) = at
                    && pad > 0
                {
                    pads.insert(at, pad);
                }
            }
        }
    }

    fn align_scale(
        &self,
        scale: usize,
        span_w: &dyn Fn(usize, usize) -> usize,
        pads: &mut HashMap<usize, usize>,
    ) {
        let mut rows = Vec::new();
        for row in self.children_of(scale, Rule::scale_row) {
            let toks = self.sig_toks(row);
            let Some(&bar) = toks.first() else { continue };
            let Some(pos) = toks
                .iter()
                .position(|&t| self.toks[t].ctx == Some(row) && self.text(t) == "=>")
            else {
                continue;
            };
            if pos < 2 || !self.one_line(bar, toks[pos]) {
                continue;
            }
            rows.push((span_w(toks[1], toks[pos - 1]), toks[pos]));
        }
        pad_to_max(&rows, pads);
    }

    fn align_cascade(
        &self,
        cascade: usize,
        span_w: &dyn Fn(usize, usize) -> usize,
        pads: &mut HashMap<usize, usize>,
    ) {
        let mut rows = Vec::new();
        for step in self.children_of(cascade, Rule::cascade_step) {
            let Some(bar) = self.code_start(step) else {
                continue;
            };
            let toks = self.sig_toks(step);
            let Some(i) = toks.iter().position(|&t| t == bar) else {
                continue;
            };
            let (Some(&name), Some(&pays)) = (toks.get(i + 1), toks.get(i + 2)) else {
                continue;
            };
            if !self.one_line(bar, pays) {
                continue;
            }
            rows.push((span_w(name, name), pays));
        }
        pad_to_max(&rows, pads);
    }

    fn align_entries(
        &self,
        owner: usize,
        span_w: &dyn Fn(usize, usize) -> usize,
        pads: &mut HashMap<usize, usize>,
    ) {
        let rule = if self.nodes[owner].rule == Rule::pvalue_map {
            Rule::pvalue_entry
        } else {
            Rule::test_field
        };
        // (line, key width, first token of the value)
        let mut group: Vec<(usize, usize, usize)> = Vec::new();
        let flush = |group: &mut Vec<(usize, usize, usize)>, pads: &mut HashMap<usize, usize>| {
            if group.len() >= 2 {
                let rows: Vec<(usize, usize)> = group.iter().map(|&(_, w, v)| (w, v)).collect();
                pad_to_max(&rows, pads);
            }
            group.clear();
        };
        for e in self.children_of(owner, rule) {
            let toks = self.sig_toks(e);
            let (Some(&key), Some(&colon), Some(&value)) = (toks.first(), toks.get(1), toks.get(2))
            else {
                continue;
            };
            if self.toks[colon].k != K::Colon || !self.one_line(key, value) {
                flush(&mut group, pads);
                continue;
            }
            let li = self.line_of[key];
            if let Some(&(prev_li, _, _)) = group.last() {
                // Only comment lines (and no blank line) in between.
                let adjacent = (prev_li + 1..=li).all(|l| {
                    self.lines[l].blank_before == 0 && (l == li || self.first_sig(l).is_none())
                });
                if !adjacent {
                    flush(&mut group, pads);
                }
            }
            group.push((li, span_w(key, key), value));
        }
        flush(&mut group, pads);
    }

    // -------------------------------------------------------- indentation

    /// Is `a` (an opening bracket, or the top level) around `b`'s place?
    fn encloses(&self, a: Option<usize>, mut b: Option<usize>) -> bool {
        let Some(a) = a else { return true };
        while let Some(x) = b {
            if x == a {
                return true;
            }
            b = self.encl[x];
        }
        false
    }

    /// If `f` starts the body of a `let … in`, the `let`.
    fn let_of_body(&self, f: usize) -> Option<usize> {
        let mut n = self.toks[f].ctx?;
        // Walk up through the nodes that `f` starts.
        loop {
            let parent = self.nodes[n].parent?;
            if self.nodes[parent].rule == Rule::let_expr {
                if self.nodes[parent].children.last() == Some(&n) && self.code_start(n) == Some(f) {
                    return self.code_start(parent);
                }
                return None;
            }
            if self.code_start(parent) != Some(f) {
                return None;
            }
            n = parent;
        }
    }

    /// A line's first token directly in its item: a clause.
    fn is_clause_start(&self, f: usize, item: usize) -> bool {
        if self.toks[f].ctx == Some(item) {
            return true;
        }
        self.nodes[item].children.iter().any(|&c| {
            !matches!(
                self.nodes[c].rule,
                Rule::docs | Rule::ident | Rule::word | Rule::string
            ) && self.code_start(c) == Some(f)
        })
    }

    /// A line's first token starts an element of the block opened by `o`.
    fn is_element_start(&self, f: usize, o: usize) -> bool {
        let Some(owner) = self.toks[o].ctx else {
            return false;
        };
        self.nodes[owner]
            .children
            .iter()
            .any(|&c| self.nodes[c].rule != Rule::docs && self.code_start(c) == Some(f))
    }

    fn anchor(&self, o: usize, indent: &[Option<usize>], newcol: &[usize]) -> usize {
        if let Some(n) = self.toks[o].ctx
            && matches!(
                self.nodes[n].rule,
                Rule::match_expr | Rule::call | Rule::agg_expr
            )
            && let Some(m) = self.code_start(n)
        {
            return newcol[m];
        }
        indent[self.line_of[o]].unwrap_or(0)
    }

    fn format(&self) -> String {
        let nl = self.lines.len();
        let pads = self.alignment_pads();
        let rendered: Vec<(String, Vec<usize>)> =
            (0..nl).map(|li| self.render(li, &pads)).collect();
        let mut indent: Vec<Option<usize>> = vec![None; nl];
        let mut structural = vec![false; nl];
        let mut newcol = vec![0usize; self.toks.len()];
        for li in 0..nl {
            let Some(f) = self.first_sig(li) else {
                continue;
            };
            let ind = self.indent_of(li, f, &indent, &newcol, &mut structural);
            indent[li] = Some(ind);
            let (text, offs) = &rendered[li];
            for (j, &t) in self.lines[li].toks.iter().enumerate() {
                let off = offs.get(j).copied().unwrap_or(0);
                newcol[t] = advance(ind, text.get(..off).unwrap_or(""));
            }
        }
        // Comment lines.
        let mut next_code: Option<usize> = None;
        for li in (0..nl).rev() {
            if self.first_sig(li).is_some() {
                next_code = Some(li);
                continue;
            }
            indent[li] = Some(self.comment_indent(li, next_code, &indent));
        }
        // Blank lines and output.
        let leading = self.leading_blocks();
        let mut out = String::new();
        for li in 0..nl {
            let blanks = if li == 0 || self.is_caret_marker(li) {
                0
            } else if let Some(&forced) = leading.get(&li) {
                forced.unwrap_or(self.lines[li].blank_before.min(1))
            } else if self.no_blank_before(li) {
                0
            } else {
                self.lines[li].blank_before.min(1)
            };
            for _ in 0..blanks {
                out.push('\n');
            }
            let (text, _) = &rendered[li];
            out.extend(std::iter::repeat_n(' ', indent[li].unwrap_or(0)));
            out.push_str(text);
            out.push('\n');
        }
        out
    }

    fn indent_of(
        &self,
        li: usize,
        f: usize,
        indent: &[Option<usize>],
        newcol: &[usize],
        structural: &mut [bool],
    ) -> usize {
        let Some(item) = self.toks[f].item else {
            return 0;
        };
        let inode = self.items[item];
        if self.code_start(inode) == Some(f) {
            structural[li] = true;
            return 0;
        }
        if let Some(l) = self.let_of_body(f) {
            // The body of `let … in` on a line of its own lines up with `let`.
            if self.line_of[l] < li {
                structural[li] = true;
                return newcol[l];
            }
        }
        if self.toks[f].k.is_close() {
            if let Some(o) = self.partner[f]
                && self.line_of[o] != li
                && self.vertical(o)
            {
                return self.anchor(o, indent, newcol);
            }
        } else if let Some(o) = self.encl[f] {
            if self.vertical(o) && self.is_element_start(f, o) {
                structural[li] = true;
                return self.anchor(o, indent, newcol) + 2;
            }
        } else if self.is_clause_start(f, inode) {
            structural[li] = true;
            return 2;
        }
        self.continuation(li, f, indent, newcol, structural)
    }

    fn continuation(
        &self,
        li: usize,
        f: usize,
        indent: &[Option<usize>],
        newcol: &[usize],
        structural: &[bool],
    ) -> usize {
        let item = self.toks[f].item;
        let here = self.encl[f];
        // The clause or element this line continues.
        let mut parent = None;
        for q in (0..li).rev() {
            let Some(fq) = self.first_sig(q) else {
                continue;
            };
            if self.toks[fq].item != item {
                break;
            }
            if structural[q] && self.encloses(self.encl[fq], here) {
                parent = Some(q);
                break;
            }
        }
        let Some(p) = parent else {
            return indent[li.saturating_sub(1)].unwrap_or(0) + 2;
        };
        let target = self.lines[li].orig_indent;
        // Aligned with a token of an earlier line of the clause?
        for q in (p..li).rev() {
            let line = &self.lines[q];
            for (j, &t) in line.toks.iter().enumerate() {
                if q == p && j == 0 {
                    continue;
                }
                if self.is_sig(t) && line.orig_cols[j] == target {
                    return newcol[t];
                }
            }
        }
        let pi = self.lines[p].orig_indent;
        let pn = indent[p].unwrap_or(0);
        if target > pi {
            let d = target - pi;
            pn + (d - d % 2).max(2)
        } else {
            pn + 2
        }
    }

    fn comment_indent(
        &self,
        li: usize,
        next_code: Option<usize>,
        indent: &[Option<usize>],
    ) -> usize {
        if self.is_caret_marker(li) {
            let above = (0..li).rev().find(|&l| self.first_sig(l).is_some());
            return above.and_then(|l| indent[l]).unwrap_or(0);
        }
        let Some(nc) = next_code else {
            return self.trailing_indent(li, indent);
        };
        let Some(f) = self.first_sig(nc) else {
            return 0;
        };
        let starts_item = self.toks[f]
            .item
            .and_then(|i| self.code_start(self.items[i]))
            == Some(f);
        if starts_item {
            // A comment after an item, with a blank line before the next
            // item, stays with the item before it.
            let blank_after = (li + 1..=nc).any(|l| self.lines[l].blank_before > 0);
            let doc = self.lines[li]
                .toks
                .iter()
                .any(|&t| self.toks[t].k == K::Doc);
            return if blank_after && !doc {
                self.trailing_indent(li, indent)
            } else {
                0
            };
        }
        let ind = indent[nc].unwrap_or(0);
        if self.toks[f].k.is_close()
            && let Some(o) = self.partner[f]
            && self.line_of[o] != nc
            && self.vertical(o)
        {
            return ind + 2;
        }
        ind
    }

    /// A test marker `//~^ CODE` on a line of its own points at the line
    /// above: it stays right under it.
    fn is_caret_marker(&self, li: usize) -> bool {
        self.first_sig(li).is_none()
            && self.lines[li]
                .toks
                .first()
                .is_some_and(|&t| self.text(t).starts_with("//~^"))
    }

    /// A comment line after the last code line of an item, with no blank
    /// line in between, indented by its author: one level (none if the
    /// item's last line is not indented).
    fn trailing_indent(&self, li: usize, indent: &[Option<usize>]) -> usize {
        let Some(pc) = (0..li).rev().find(|&l| self.first_sig(l).is_some()) else {
            return 0;
        };
        let attached = (pc + 1..=li).all(|l| self.lines[l].blank_before == 0);
        if attached && self.lines[li].orig_indent > 0 {
            indent[pc].unwrap_or(0).min(2)
        } else {
            0
        }
    }

    /// The first line of each item's leading block (its doc comments and
    /// the comments directly above it), with the blank lines it must have
    /// before it (`None`: as written, at most one).
    fn leading_blocks(&self) -> HashMap<usize, Option<usize>> {
        let mut out = HashMap::new();
        // (an import, on one line) of the item before
        let mut prev: Option<(bool, bool)> = None;
        for &n in &self.items {
            let Some(cs) = self.code_start(n) else {
                continue;
            };
            let is_import = self.nodes[n].rule == Rule::import_item;
            let one_line = self.last_sig_of(n).map(|t| self.line_of[t]) == Some(self.line_of[cs]);
            let mut start = self.line_of[cs];
            while start > 0 {
                let above = start - 1;
                let Some(&t0) = self.lines[above].toks.first() else {
                    break;
                };
                let comment_only = self.first_sig(above).is_none();
                if !comment_only || self.is_caret_marker(above) {
                    break;
                }
                let doc_only = self.lines[above]
                    .toks
                    .iter()
                    .all(|&t| self.toks[t].k == K::Doc);
                if doc_only || (self.lines[start].blank_before == 0 && self.toks[t0].k.is_trivia())
                {
                    start = above;
                } else {
                    break;
                }
            }
            // One-line items of a kind may stay together as written.
            let forced = match prev {
                None => None,
                Some((imp, one)) if one && one_line && imp == is_import => None,
                Some(_) => Some(1),
            };
            out.insert(start, forced);
            prev = Some((is_import, one_line));
        }
        out
    }

    /// No blank line after a line that opens a block, before a line that
    /// closes one, or between a doc comment and the code it documents.
    fn no_blank_before(&self, li: usize) -> bool {
        let prev = li - 1;
        if let Some(l) = self.last_sig(prev)
            && self.toks[l].k.is_open()
            && self.vertical(l)
        {
            return true;
        }
        if let Some(f) = self.first_sig(li) {
            if self.toks[f].k.is_close()
                && let Some(o) = self.partner[f]
                && self.vertical(o)
            {
                return true;
            }
            let prev_doc = self.lines[prev]
                .toks
                .last()
                .is_some_and(|&t| self.toks[t].k == K::Doc);
            if prev_doc {
                return true;
            }
        }
        false
    }
}

/// Pad the token of each row so that all line up at the widest.
fn pad_to_max(rows: &[(usize, usize)], pads: &mut HashMap<usize, usize>) {
    if rows.len() < 2 {
        return;
    }
    let max = rows.iter().map(|r| r.0).max().unwrap_or(0);
    for &(w, t) in rows {
        if max > w {
            pads.insert(t, max - w);
        }
    }
}

/// The parse tree of every item, as a flat list of nodes (parents before
/// children), and the node of each item.
fn build_tree(src: &str) -> Result<(Vec<Node>, Vec<usize>), FmtError> {
    let scanned = scan::scan(FileId(0), src);
    let mut nodes: Vec<Node> = Vec::new();
    let mut items = Vec::new();
    for &(s, e) in &scanned.items {
        let text = scanned.text.get(s..e).unwrap_or("");
        let pairs = WeftParser::parse(Rule::item, text)
            .map_err(|_| FmtError::Internal(format!("the item at byte {s} did not parse")))?;
        // (pair, parent)
        let mut stack: Vec<(pest::iterators::Pair<'_, Rule>, Option<usize>)> =
            pairs.rev().map(|p| (p, None)).collect();
        let mut item_node = None;
        while let Some((p, parent)) = stack.pop() {
            let span = p.as_span();
            let id = nodes.len();
            nodes.push(Node {
                rule: p.as_rule(),
                start: s + span.start(),
                end: s + span.end(),
                parent,
                children: Vec::new(),
            });
            if let Some(par) = parent {
                nodes[par].children.push(id);
                if nodes[par].rule == Rule::item && item_node.is_none() && p.as_rule() != Rule::EOI
                {
                    item_node = Some(id);
                }
            }
            // Keywords are tokens of their construct, not nodes of their own.
            let kids: Vec<_> = p
                .into_inner()
                .filter(|k| !crate::parse::is_keyword_rule(k.as_rule()))
                .collect();
            for k in kids.into_iter().rev() {
                stack.push((k, Some(id)));
            }
        }
        match item_node {
            Some(n) => items.push(n),
            None => return Err(FmtError::Internal(format!("no item at byte {s}"))),
        }
    }
    Ok((nodes, items))
}

// -------------------------------------------------------------- checking

/// The debug form of a syntax tree without its spans.
fn without_spans(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    const OPEN: &str = "Span { file: FileId(";
    while let Some(i) = rest.find(OPEN) {
        out.push_str(&rest[..i]);
        let after = &rest[i..];
        match after.find('}') {
            Some(j) => {
                out.push_str("Span");
                rest = &after[j + 1..];
            }
            None => {
                rest = after;
                break;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The formatted text must parse to the same tree, with the same tokens and
/// comments in the same order.
fn verify(src: &str, module: &crate::ast::Module, out: &str) -> Result<(), FmtError> {
    let (m2, d2) = crate::parse_module(FileId(0), out);
    if let Some(d) = d2.iter().find(|d| d.is_error()) {
        return Err(FmtError::Internal(format!(
            "the formatted text does not parse: {}",
            d.message
        )));
    }
    if without_spans(&format!("{module:?}")) != without_spans(&format!("{m2:?}")) {
        return Err(FmtError::Internal(
            "the formatted text would parse differently".into(),
        ));
    }
    let words = |s: &str| -> Result<Vec<String>, FmtError> {
        Ok(lex(s)?
            .into_iter()
            .filter(|t| t.k != K::Newline)
            .map(|t| s.get(t.start..t.end).unwrap_or("").trim_end().to_string())
            .collect())
    };
    if words(src)? != words(out)? {
        return Err(FmtError::Internal(
            "the formatted text would lose or change a token or comment".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(s: &str) -> String {
        match format_source(s) {
            Ok(o) => o,
            Err(e) => format!("ERROR {e:?}"),
        }
    }

    #[test]
    fn lexer_backtracks() {
        let toks = |s: &str| -> Vec<String> {
            lex(s)
                .map(|v| v.iter().map(|t| s[t.start..t.end].to_string()).collect())
                .unwrap_or_default()
        };
        assert_eq!(toks("¥1, x"), vec!["¥1", ",", "x"]);
        assert_eq!(toks("¥1,000..¥2"), vec!["¥1,000", "..", "¥2"]);
        assert_eq!(toks("1..5"), vec!["1", "..", "5"]);
        assert_eq!(toks("0..=4"), vec!["0", "..=", "4"]);
        assert_eq!(toks("¥10..=> x"), vec!["¥10", "..", "=>", "x"]);
        assert_eq!(toks("2019-0x"), vec!["2019", "-", "0", "x"]);
        assert_eq!(
            toks("2019-07-01..2019-08"),
            vec!["2019-07-01", "..", "2019-08"]
        );
        assert_eq!(
            toks("//// c\n/// d\n// e"),
            vec!["//// c", "\n", "/// d", "\n", "// e"]
        );
        assert_eq!(toks("1.5%"), vec!["1.5%"]);
    }

    #[test]
    fn simple_rule() {
        assert_eq!(
            fmt("rule  x( p :Person ) :Int=-p.a+ 1*2\n"),
            "rule x(p: Person): Int = -p.a + 1 * 2\n"
        );
    }

    #[test]
    fn unparseable_is_refused() {
        assert!(matches!(
            format_source("rule x: Int = (1\n"),
            Err(FmtError::Syntax(_))
        ));
    }
}
