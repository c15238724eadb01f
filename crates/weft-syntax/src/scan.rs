//! The token pre-scan (logos) that runs before pest.
//!
//! It splits a file into top-level items, so each item is parsed alone and
//! one syntax error does not hide the others; it finds full-width
//! punctuation typed with a Chinese input method and replaces it, in a copy
//! of the text of the same byte length, by the ASCII character meant; and it
//! caps nesting depth and expression size so that no input can overflow the
//! stack of the parser or of any later phase.

use crate::diag::Diagnostic;
use crate::span::{FileId, Span};
use logos::Logos;
use weft_msg::t;

/// Deepest nesting of brackets allowed in one item.
pub const MAX_DEPTH: usize = 64;
/// Most operators and `if`/`let`/`match` keywords allowed in one item.
pub const MAX_OPERATORS: usize = 20_000;

#[derive(Logos, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tok {
    #[regex(r"[ \t\r\n\u{FEFF}]+")]
    Ws,
    #[regex(r"///[^\n]*", priority = 10)]
    Doc,
    #[regex(r"//[^\n]*", priority = 5)]
    Comment,
    #[regex(r#""([^"\\\n]|\\[^\n])*""#)]
    Str,
    #[regex(r#""([^"\\\n]|\\[^\n])*"#, priority = 1)]
    OpenStr,
    #[token("(")]
    #[token("[")]
    #[token("{")]
    Open,
    #[token(")")]
    #[token("]")]
    #[token("}")]
    Close,
    #[regex(r"[\p{XID_Start}_][\p{XID_Continue}]*")]
    Word,
    #[regex(r"[0-9][0-9A-Za-z_.,%-]*")]
    Number,
    #[token("+")]
    #[token("-")]
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
    Operator,
    #[regex(r"[，（）：；“”‘’【】。、！？｛｝＝＜＞｜－＋＊／　．]")]
    FullWidth,
    /// `;`, which Weft never uses: reported once and blanked, so that the
    /// item around it still parses (one mistake, one error).
    #[token(";")]
    Semi,
}

/// Item keywords: a new item starts at each of these at nesting depth 0.
pub const ITEM_KEYWORDS: &[&str] = &[
    "import",
    "enum",
    "record",
    "param",
    "series",
    "rule",
    "table",
    "scale",
    "cascade",
    "exception",
    "assert",
    "test",
    "defaults",
    "output",
    "programme",
];

/// What the pre-scan found in one file.
#[derive(Debug, Default)]
pub struct Scan {
    /// The text with full-width punctuation replaced (same byte length).
    pub text: String,
    /// Byte ranges of the items, in order.
    pub items: Vec<(usize, usize)>,
    /// Items not to parse (too deep, too large); their problems are reported.
    pub skip: Vec<bool>,
    pub diagnostics: Vec<Diagnostic>,
}

/// The ASCII character a full-width one stands for.
pub fn ascii_for(c: char) -> Option<char> {
    Some(match c {
        '，' => ',',
        '（' => '(',
        '）' => ')',
        '：' => ':',
        '；' => ';',
        '“' | '”' => '"',
        '‘' | '’' => '\'',
        '【' => '[',
        '】' => ']',
        '。' => '.',
        '、' => ',',
        '！' => '!',
        '？' => '?',
        '｛' => '{',
        '｝' => '}',
        '＝' => '=',
        '＜' => '<',
        '＞' => '>',
        '｜' => '|',
        '－' => '-',
        '＋' => '+',
        '＊' => '*',
        '／' => '/',
        '　' => ' ',
        '．' => '.',
        _ => return None,
    })
}

fn replace_same_len(text: &mut String, start: usize, end: usize, c: char) {
    let mut rep = String::with_capacity(end - start);
    rep.push(c);
    while rep.len() < end - start {
        rep.push(' ');
    }
    text.replace_range(start..end, &rep);
}

pub fn scan(file: FileId, src: &str) -> Scan {
    let mut out = Scan {
        text: src.to_string(),
        ..Scan::default()
    };
    let mut lex = Tok::lexer(src);
    // (start of item, start of its doc comments)
    let mut item_start: Option<usize> = None;
    let mut pending_doc: Option<usize> = None;
    let mut depth: usize = 0;
    let mut too_deep: Option<Span> = None;
    // Open brackets of the current item, and whether the item is already
    // reported as broken (an unclosed bracket or text), so not parsed.
    let mut opens: Vec<(usize, usize, char)> = Vec::new();
    let mut broken = false;
    let mut operators: usize = 0;
    let mut fullwidth_reported = 0usize;
    // The first token that is not part of any item (before the first item).
    let mut stray: Option<usize> = None;
    let mut items: Vec<(usize, usize, bool)> = Vec::new();
    let close_item = |items: &mut Vec<(usize, usize, bool)>,
                      start: usize,
                      end: usize,
                      too_deep: &mut Option<Span>,
                      operators: &mut usize,
                      diags: &mut Vec<Diagnostic>| {
        let mut skip = false;
        if let Some(sp) = too_deep.take() {
            diags.push(
                Diagnostic::error(
                    "E0103",
                    format!("brackets are nested more than {MAX_DEPTH} deep"),
                )
                .with_label(sp, "this bracket is too deep")
                .with_help("split the expression into smaller rules"),
            );
            skip = true;
        }
        if *operators > MAX_OPERATORS {
            diags.push(
                Diagnostic::error(
                    "E0104",
                    format!("this item has more than {MAX_OPERATORS} operators"),
                )
                .with_label(Span::new(file, start, start), "in this item")
                .with_help("split it into smaller rules"),
            );
            skip = true;
        }
        *operators = 0;
        items.push((start, end, skip));
    };
    while let Some(tok) = lex.next() {
        let span = lex.span();
        let slice = lex.slice();
        let trivial = matches!(tok, Ok(Tok::Ws) | Ok(Tok::Comment) | Ok(Tok::Doc));
        let at_line_start = span.start == 0 || src.as_bytes().get(span.start - 1) == Some(&b'\n');
        if matches!(tok, Ok(Tok::Word))
            && depth > 0
            && at_line_start
            && ITEM_KEYWORDS.contains(&slice)
        {
            // An item keyword at the start of a line inside brackets: the
            // bracket was never closed. Say so, and start the new item.
            if let Some(&(start, end, c)) = opens.first() {
                let close = match c {
                    '(' => ')',
                    '[' => ']',
                    _ => '}',
                };
                out.diagnostics.push(
                    Diagnostic::error("E0107", format!("this `{c}` is never closed"))
                        .with_label(Span::new(file, start, end), "opened here")
                        .with_help(format!("add `{close}` where the bracketed part ends")),
                );
            }
            broken = true;
            depth = 0;
            opens.clear();
        }
        let starts_item =
            matches!(tok, Ok(Tok::Word)) && depth == 0 && ITEM_KEYWORDS.contains(&slice);
        if !trivial && !starts_item && item_start.is_none() && stray.is_none() {
            stray = Some(span.start);
        }
        match tok {
            Ok(Tok::Ws) | Ok(Tok::Comment) => continue,
            Ok(Tok::Doc) => {
                if slice.starts_with("////") {
                    continue;
                }
                if pending_doc.is_none() {
                    pending_doc = Some(span.start);
                }
                continue;
            }
            Ok(Tok::Word) if depth == 0 && ITEM_KEYWORDS.contains(&slice) => {
                let start = pending_doc.unwrap_or(span.start);
                if let Some(s) = item_start {
                    close_item(
                        &mut items,
                        s,
                        start,
                        &mut too_deep,
                        &mut operators,
                        &mut out.diagnostics,
                    );
                    if broken {
                        if let Some(last) = items.last_mut() {
                            last.2 = true;
                        }
                        broken = false;
                    }
                } else if let Some(first) = stray {
                    // Text before the first item.
                    items.push((first, start, false));
                }
                item_start = Some(start);
            }
            Ok(Tok::Word) => {
                if matches!(slice, "if" | "let" | "match" | "and" | "or" | "not") {
                    operators += 1;
                }
            }
            Ok(Tok::Operator) => operators += 1,
            Ok(Tok::Open) => {
                depth += 1;
                if opens.len() < MAX_DEPTH + 1 {
                    opens.push((span.start, span.end, slice.chars().next().unwrap_or('(')));
                }
                if depth > MAX_DEPTH && too_deep.is_none() {
                    too_deep = Some(Span::new(file, span.start, span.end));
                }
            }
            Ok(Tok::Close) => {
                depth = depth.saturating_sub(1);
                if opens.len() > depth {
                    opens.truncate(depth);
                }
            }
            Ok(Tok::OpenStr) => {
                out.diagnostics.push(
                    Diagnostic::error("E0105", "this text has no closing quote")
                        .with_label(Span::new(file, span.start, span.end), "text starts here")
                        .with_help("end the text with `\"` on the same line"),
                );
                broken = true;
            }
            Ok(Tok::Semi) => {
                out.diagnostics.push(
                    Diagnostic::error("E0101", t!("syntax-semicolon"))
                        .with_label(
                            Span::new(file, span.start, span.end),
                            t!("syntax-semicolon.label"),
                        )
                        .with_help(t!("syntax-semicolon.help")),
                );
                replace_same_len(&mut out.text, span.start, span.end, ' ');
            }
            Ok(Tok::FullWidth) if slice == "；" => {
                // A full-width semicolon: not even its ASCII form is Weft.
                out.diagnostics.push(
                    Diagnostic::error("E0102", t!("fullwidth-semicolon"))
                        .with_label(
                            Span::new(file, span.start, span.end),
                            t!("fullwidth-semicolon.label"),
                        )
                        .with_help(t!("syntax-semicolon.help")),
                );
                replace_same_len(&mut out.text, span.start, span.end, ' ');
            }
            Ok(Tok::FullWidth) => {
                let c = slice.chars().next().unwrap_or(' ');
                let a = ascii_for(c).unwrap_or(' ');
                if fullwidth_reported < 50 {
                    let what = if c == '　' {
                        t!("fullwidth-space")
                    } else {
                        format!("`{a}`")
                    };
                    let char = c.to_string();
                    out.diagnostics.push(
                        Diagnostic::error("E0102", t!("fullwidth", char = &char))
                            .with_label(
                                Span::new(file, span.start, span.end),
                                t!("fullwidth.label", meant = &what),
                            )
                            .with_help(t!("fullwidth.help", meant = &what)),
                    );
                }
                fullwidth_reported += 1;
                replace_same_len(&mut out.text, span.start, span.end, a);
                // The replacement may open or close a bracket or a string.
                match a {
                    '(' | '[' | '{' => {
                        depth += 1;
                        if depth > MAX_DEPTH && too_deep.is_none() {
                            too_deep = Some(Span::new(file, span.start, span.end));
                        }
                    }
                    ')' | ']' | '}' => depth = depth.saturating_sub(1),
                    _ => {}
                }
            }
            Ok(_) | Err(_) => {}
        }
        pending_doc = None;
    }
    if fullwidth_reported > 50
        && let Some(last) = out.diagnostics.iter().rev().find(|d| d.code == "E0102")
    {
        let span = last.span();
        let mut d = Diagnostic::error(
            "E0102",
            t!("fullwidth-more", count = fullwidth_reported - 50),
        );
        if let Some(s) = span {
            d = d.with_label(s, t!("fullwidth-more.label"));
        }
        out.diagnostics.push(d);
    }
    if depth > 0
        && !broken
        && let Some(&(start, end, c)) = opens.first()
    {
        let close = match c {
            '(' => ')',
            '[' => ']',
            _ => '}',
        };
        out.diagnostics.push(
            Diagnostic::error("E0107", format!("this `{c}` is never closed"))
                .with_label(Span::new(file, start, end), "opened here")
                .with_help(format!("add `{close}` where the bracketed part ends")),
        );
        broken = true;
    }
    match item_start {
        Some(s) => close_item(
            &mut items,
            s,
            src.len(),
            &mut too_deep,
            &mut operators,
            &mut out.diagnostics,
        ),
        None => {
            if let Some(first) = stray {
                close_item(
                    &mut items,
                    first,
                    src.len(),
                    &mut too_deep,
                    &mut operators,
                    &mut out.diagnostics,
                );
            }
        }
    }
    if broken && let Some(last) = items.last_mut() {
        last.2 = true;
    }
    for (s, e, skip) in items {
        out.items.push((s, e));
        out.skip.push(skip);
    }
    out
}
