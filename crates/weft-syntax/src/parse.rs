//! pest parse tree → AST, one `visit_*` function per grammar rule.
//!
//! [`parse_module`] runs the pre-scan ([`crate::scan`]), parses each item
//! alone and turns pest's errors into diagnostics in plain words. It never
//! panics: a malformed tree (which would be a bug in this file) becomes a
//! diagnostic too.

use crate::ast::*;
use crate::diag::Diagnostic;
use crate::num;
use crate::scan;
use crate::span::{FileId, Span};
use pest::Parser;
use pest::iterators::{Pair, Pairs};
use unicode_normalization::UnicodeNormalization;
use weft_msg::t;

#[derive(pest_derive::Parser)]
#[grammar = "../../grammar/weft.pest"]
pub struct WeftParser;

/// A malformed parse tree: a bug in the visitor, reported as a diagnostic.
struct Malformed(usize);

type R<T> = Result<T, Malformed>;

struct Ctx {
    file: FileId,
    /// Offset of the item text in the file.
    base: usize,
    diags: Vec<Diagnostic>,
}

impl Ctx {
    /// The span of a pair, without the whitespace pest may leave at its end.
    fn span(&self, p: &Pair<'_, Rule>) -> Span {
        let s = p.as_span();
        let text = s.as_str();
        let trimmed = text.trim_end().len();
        Span::new(
            self.file,
            self.base + s.start(),
            self.base + s.start() + trimmed,
        )
    }

    fn err(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }
}

/// Contextual keywords appear in the parse tree; the visitors skip them.
fn not_kw(p: &Pair<'_, Rule>) -> bool {
    !is_keyword_rule(p.as_rule())
}

/// Rules that match a keyword and carry nothing else.
pub(crate) fn is_keyword_rule(rule: Rule) -> bool {
    matches!(
        rule,
        Rule::kw_money
            | Rule::kw_bands
            | Rule::kw_bands_lc
            | Rule::kw_of
            | Rule::kw_by
            | Rule::kw_synth
            | Rule::kw_check
            | Rule::kw_on
            | Rule::kw_input
            | Rule::kw_code
            | Rule::kw_pays
            | Rule::kw_remainder
            | Rule::kw_amounts
            | Rule::kw_recipients
            | Rule::kw_over
            | Rule::kw_as
            | Rule::kw_with
            | Rule::kw_every
            | Rule::kw_force
            | Rule::k_adjust
            | Rule::k_and
            | Rule::k_assert
            | Rule::k_at
            | Rule::k_band
            | Rule::k_cascade
            | Rule::k_defaults
            | Rule::k_each
            | Rule::k_else
            | Rule::k_enum
            | Rule::k_except
            | Rule::k_exception
            | Rule::k_expect
            | Rule::k_fails
            | Rule::k_for
            | Rule::k_from
            | Rule::k_given
            | Rule::k_hit
            | Rule::k_if
            | Rule::k_iff
            | Rule::k_import
            | Rule::k_in
            | Rule::k_let
            | Rule::k_match
            | Rule::k_or
            | Rule::k_output
            | Rule::k_param
            | Rule::k_per
            | Rule::k_programme
            | Rule::k_rate
            | Rule::k_record
            | Rule::k_round
            | Rule::k_rule
            | Rule::k_scale
            | Rule::k_series
            | Rule::k_source
            | Rule::k_table
            | Rule::k_test
            | Rule::k_then
            | Rule::k_total
            | Rule::k_when
            | Rule::k_where
    )
}

type In<'i> = std::iter::Filter<Pairs<'i, Rule>, fn(&Pair<'i, Rule>) -> bool>;

trait Kids<'i> {
    /// The children of a pair, without contextual keywords.
    fn kids(self) -> In<'i>;
}

impl<'i> Kids<'i> for Pair<'i, Rule> {
    fn kids(self) -> In<'i> {
        self.into_inner()
            .filter(not_kw as fn(&Pair<'i, Rule>) -> bool)
    }
}

fn next<'i>(pairs: &mut impl Iterator<Item = Pair<'i, Rule>>, at: usize) -> R<Pair<'i, Rule>> {
    pairs.next().ok_or(Malformed(at))
}

/// Parse one file. Returns the items that parsed and every diagnostic found.
pub fn parse_module(file: FileId, src: &str) -> (Module, Vec<Diagnostic>) {
    let scanned = scan::scan(file, src);
    let mut diags = scanned.diagnostics;
    let mut module = Module::default();
    for (i, &(start, end)) in scanned.items.iter().enumerate() {
        if scanned.skip.get(i).copied().unwrap_or(false) {
            continue;
        }
        let text = scanned.text.get(start..end).unwrap_or("");
        let mut ctx = Ctx {
            file,
            base: start,
            diags: Vec::new(),
        };
        match WeftParser::parse(Rule::item, text) {
            Ok(mut pairs) => {
                let item = pairs
                    .next()
                    .and_then(|p| p.kids().next())
                    .ok_or(Malformed(0))
                    .and_then(|p| visit_item(&mut ctx, p));
                match item {
                    Ok(Some(item)) => module.items.push(item),
                    Ok(None) => {}
                    Err(Malformed(at)) => ctx.err(
                        Diagnostic::error("E0199", "internal error: the parse tree was malformed")
                            .with_label(Span::new(file, start + at, start + at), "here")
                            .with_help("please report this with the file that caused it"),
                    ),
                }
            }
            Err(e) => {
                ctx.err(syntax_error(file, start, text, &e));
                if let Some(item) = recover(file, start, text) {
                    module.items.push(item);
                }
            }
        }
        diags.extend(ctx.diags);
    }
    (module, diags)
}

// ------------------------------------------------------------- recovery

/// A small cursor over the text of an item that failed to parse.
struct Cursor<'t> {
    text: &'t str,
    pos: usize,
}

impl<'t> Cursor<'t> {
    fn rest(&self) -> &'t str {
        self.text.get(self.pos..).unwrap_or("")
    }

    /// Skip whitespace and comments (doc comments included).
    fn skip_trivia(&mut self) {
        loop {
            let rest = self.rest();
            let trimmed = rest.trim_start();
            self.pos += rest.len() - trimmed.len();
            if trimmed.starts_with("//") {
                self.pos += trimmed.find('\n').unwrap_or(trimmed.len());
            } else {
                return;
            }
        }
    }

    fn word(&mut self) -> Option<(usize, &'t str)> {
        self.skip_trivia();
        let rest = self.rest();
        let first = rest.chars().next()?;
        if !(first.is_alphabetic() || first == '_') {
            return None;
        }
        let len: usize = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .map(char::len_utf8)
            .sum();
        let start = self.pos;
        self.pos += len;
        Some((start, &rest[..len]))
    }

    fn eat(&mut self, c: char) -> bool {
        self.skip_trivia();
        if self.rest().starts_with(c) {
            self.pos += c.len_utf8();
            true
        } else {
            false
        }
    }
}

/// The declaration an item that failed to parse still makes, so that its
/// uses elsewhere are not reported as unknown names: one mistake, one
/// error. A rule, table or cascade keeps its name and its record
/// parameter (`rule r(p: Person): …`); a parameter or series its name.
/// Their type is [`TypeKind::Unparsed`], which the checker takes as
/// already reported. Other items declare nothing that a mistake in them
/// could hide, or too much to guess (records, enums, scales).
fn recover(file: FileId, base: usize, text: &str) -> Option<Item> {
    let mut c = Cursor { text, pos: 0 };
    let (_, kw) = c.word()?;
    let (at, name) = c.word()?;
    if KEYWORDS.contains(&name) {
        return None;
    }
    let span = Span::new(file, base + at, base + at + name.len());
    let name = Ident {
        name: nfc(name),
        span,
    };
    let whole = Span::new(file, base, base + text.trim_end().len());
    let unparsed = TypeExpr {
        kind: TypeKind::Unparsed,
        optional: false,
        span,
    };
    match kw {
        "rule" | "table" | "cascade" => {
            let mut params = Vec::new();
            if c.eat('(') {
                let (pat, pname) = c.word()?;
                if !c.eat(':') {
                    return None;
                }
                let (tat, tname) = c.word()?;
                params.push(Param {
                    name: Ident {
                        name: nfc(pname),
                        span: Span::new(file, base + pat, base + pat + pname.len()),
                    },
                    ty: TypeExpr {
                        kind: TypeKind::Named(Ident {
                            name: nfc(tname),
                            span: Span::new(file, base + tat, base + tat + tname.len()),
                        }),
                        optional: false,
                        span: Span::new(file, base + tat, base + tat + tname.len()),
                    },
                });
            }
            Some(Item::Rule(RuleDecl {
                doc: None,
                name,
                params,
                ret: unparsed,
                source: None,
                body: Expr {
                    kind: ExprKind::Error,
                    span,
                },
                versions: Vec::new(),
                span: whole,
            }))
        }
        "param" | "series" => Some(Item::Param(ParamDecl {
            doc: None,
            name,
            keys: Vec::new(),
            ty: unparsed,
            source: None,
            versions: Vec::new(),
            span: whole,
        })),
        _ => None,
    }
}

// ------------------------------------------------------- syntax errors

fn describe(rule: Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::k_adjust => "`adjust`",
        Rule::k_and => "`and`",
        Rule::k_assert => "`assert`",
        Rule::k_at => "`at`",
        Rule::k_band => "`band`",
        Rule::k_cascade => "`cascade`",
        Rule::k_defaults => "`defaults`",
        Rule::k_each => "`each`",
        Rule::k_else => "`else`",
        Rule::k_enum => "`enum`",
        Rule::k_except => "`except`",
        Rule::k_exception => "`exception`",
        Rule::k_expect => "`expect`",
        Rule::k_fails => "`fails`",
        Rule::k_for => "`for`",
        Rule::k_from => "`from`",
        Rule::k_given => "`given`",
        Rule::k_hit => "`hit`",
        Rule::k_if => "`if`",
        Rule::k_iff => "`iff`",
        Rule::k_import => "`import`",
        Rule::k_in => "`in`",
        Rule::k_let => "`let`",
        Rule::k_match => "`match`",
        Rule::k_or => "`or`",
        Rule::k_output => "`output`",
        Rule::k_param => "`param`",
        Rule::k_per => "`per`",
        Rule::k_programme => "`programme`",
        Rule::k_rate => "`rate`",
        Rule::k_record => "`record`",
        Rule::k_round => "`round`",
        Rule::k_rule => "`rule`",
        Rule::k_scale => "`scale`",
        Rule::k_series => "`series`",
        Rule::k_source => "`source \"…\"`",
        Rule::k_table => "`table`",
        Rule::k_test => "`test`",
        Rule::k_then => "`then`",
        Rule::k_total => "`total`",
        Rule::k_when => "`when`",
        Rule::k_where => "`where`",
        Rule::EOI => "the end of the item",
        Rule::ident | Rule::word | Rule::name | Rule::dotted => "a name",
        Rule::ty | Rule::named_ty | Rule::money_ty | Rule::list_ty | Rule::bands_ty => "a type",
        Rule::expr
        | Rule::iff_expr
        | Rule::or_expr
        | Rule::and_expr
        | Rule::not_expr
        | Rule::cmp_expr
        | Rule::add_expr
        | Rule::mul_expr
        | Rule::unary
        | Rule::postfix
        | Rule::paren
        | Rule::call
        | Rule::agg_expr
        | Rule::match_expr
        | Rule::if_expr
        | Rule::let_expr => "an expression",
        Rule::date_lit => "a date like `2019-07-01`",
        Rule::month_lit => "a month like `2018-01`",
        Rule::money_lit => "an amount like `¥1,234.50`",
        Rule::int_lit | Rule::decimal_lit | Rule::percent_lit => "a number",
        Rule::string => "text in double quotes",
        Rule::const_lit | Rule::pvalue_scalar | Rule::duration_lit => "a value",
        Rule::cmp_op => "a comparison such as `==` or `<`",
        Rule::add_op | Rule::mul_op => "an operator",
        Rule::source_clause => "`source \"…\"`",
        Rule::param_version | Rule::rule_version | Rule::row_from => "`from DATE`",
        Rule::hit_clause => "`hit unique`, `hit first`, `hit sum`, `hit max` or `hit min`",
        Rule::hit_policy => "`unique`, `first`, `sum`, `max` or `min`",
        Rule::table_row | Rule::scale_row => "a row starting with `|`",
        Rule::cascade_step => "a step starting with `|`",
        Rule::given_clause => "`given …`",
        Rule::variant => "an enum variant",
        Rule::field => "a field like `name: Type`",
        Rule::record_check => "`check …`",
        Rule::field_attr | Rule::key_attr | Rule::by_attr | Rule::in_attr | Rule::synth_attr => {
            "`key`, `by`, `in` or `synth`"
        }
        Rule::opt_mark => "`?`",
        Rule::period => "a period such as `per month`",
        Rule::per_suffix => "a period such as `per month`",
        Rule::index => "`[`",
        Rule::field_access => "`.`",
        Rule::at_date => "`at DATE`",
        Rule::rule_params => "`(`",
        Rule::param_keys => "`[`",
        Rule::pvalue_map | Rule::pvalue_bands => "a value",
        Rule::match_arm => "a match arm like `variant => value`",
        Rule::test_record => "a record like `Person P1 { … }`",
        Rule::test_expect => "`expect …`",
        Rule::expect_fails => "`fails`",
        Rule::output_col => "an output column",
        Rule::recipients => "`recipients …`",
        Rule::over_clause => "`over …`",
        Rule::severity => "`warning` or `error`",
        Rule::assert_every => "`every …`",
        Rule::assert_window => "`in force …`",
        Rule::scale_kind => "`marginal` or `flat`",
        Rule::scale_round => "`round each band` or `round total`",
        Rule::scale_adjust => "`adjust rate + …`",
        Rule::scale_bands_param => "`bands NAME`",
        Rule::agg_where => "`where …`",
        Rule::import_names => "`.{ … }`",
        Rule::variant_code => "`code \"…\"`",
        Rule::exclude_mark => "`exclude`",
        Rule::series_entry => "a month like `2018-01 = …`",
        Rule::docs | Rule::doc => return None,
        Rule::neg_op | Rule::not_op => return None,
        _ => return None,
    })
}

/// `count(h.members where …)`: a filter without a name for each member.
/// The aggregation written the way the language reads it, as `E0355`.
fn where_without_binder(text: &str, pos: usize, span: Span) -> Option<Diagnostic> {
    let before = text.get(..pos)?;
    // The innermost bracket still open before `where`.
    let mut depth = 0i32;
    let mut open = None;
    for (i, c) in before.char_indices().rev() {
        match c {
            ')' | ']' | '}' => depth += 1,
            '(' | '[' | '{' if depth == 0 => {
                open = Some(i);
                break;
            }
            '(' | '[' | '{' => depth -= 1,
            _ => {}
        }
    }
    let open = open?;
    let head = before.get(..open)?;
    let name: String = head
        .chars()
        .rev()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect::<Vec<char>>()
        .into_iter()
        .rev()
        .collect();
    if !["count", "sum", "any", "all", "min", "max"].contains(&name.as_str()) {
        return None;
    }
    let over = before.get(open + 1..)?.trim();
    if over.is_empty() || over.contains(" in ") || over.contains(" for ") {
        return None;
    }
    let shape = match name.as_str() {
        "count" => format!("count(m in {over} where …)"),
        "any" | "all" => format!("{name}(CONDITION for m in {over} where …)"),
        _ => format!("{name}(m.FIELD for m in {over} where …)"),
    };
    Some(
        Diagnostic::error("E0355", t!("agg-where-without-name", name = &name))
            .with_label(span, t!("agg-where-without-name.label"))
            .with_help(t!("agg-where-without-name.help", shape = shape)),
    )
}

/// The token at `pos`, for "found …".
fn found_at(text: &str, pos: usize) -> String {
    let rest = text.get(pos..).unwrap_or("");
    let Some(c) = rest.chars().next() else {
        return "the end of the item".to_string();
    };
    if c.is_alphanumeric() || c == '_' || c == '¥' {
        let w: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '¥' || *c == '.' || *c == ',')
            .collect();
        let w = w.trim_end_matches([',', '.']);
        format!("`{w}`")
    } else {
        format!("`{c}`")
    }
}

/// The language's reserved words (no name may be one).
pub const KEYWORDS: &[&str] = &[
    "import",
    "record",
    "enum",
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
    "if",
    "then",
    "else",
    "match",
    "let",
    "in",
    "and",
    "or",
    "not",
    "iff",
    "true",
    "false",
    "for",
    "where",
    "source",
    "from",
    "at",
    "expect",
    "otherwise",
    "when",
    "per",
    "as_of",
    "remains",
    "given",
    "hit",
    "fails",
];

/// Punctuation that pest tried at the failing position and that is worth
/// naming to a drafter (whitespace, comments and operators are not).
const NAMED_TOKENS: &[&str] = &["=", ":", "(", ")", "{", "}", "[", "]", "..", "=>", "|", ","];

/// The literal tokens pest expected at the furthest position it reached,
/// learnt by parsing the item again with pest's error detail switched on
/// (a process-wide flag, so it is switched on only for that parse; another
/// thread parsing meanwhile is only slower, never wrong).
fn attempts(text: &str) -> Option<(usize, Vec<String>)> {
    pest::set_error_detail(true);
    let again = WeftParser::parse(Rule::item, text);
    pest::set_error_detail(false);
    let a = again.err()?.parse_attempts()?;
    let mut tokens = Vec::new();
    for t in a.expected_tokens() {
        // `ParsingToken` is not nameable outside pest; its display is the
        // token itself.
        let token = t.to_string();
        if NAMED_TOKENS.contains(&token.as_str()) && !tokens.contains(&token) {
            tokens.push(token);
        }
    }
    Some((a.max_position, tokens))
}

fn join_or(items: &[String]) -> String {
    match items.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, head)) => format!("{} or {last}", head.join(", ")),
    }
}

fn syntax_error(file: FileId, base: usize, text: &str, e: &pest::error::Error<Rule>) -> Diagnostic {
    let mut pos = match e.location {
        pest::error::InputLocation::Pos(p) => p,
        pest::error::InputLocation::Span((s, _)) => s,
    };
    let mut expected: Vec<String> = Vec::new();
    if let pest::error::ErrorVariant::ParsingError { positives, .. } = &e.variant {
        for r in positives {
            if let Some(d) = describe(*r)
                && !expected.iter().any(|e| e == d)
            {
                expected.push(d.to_string());
            }
        }
    }
    if let Some((max, tokens)) = attempts(text) {
        let quoted: Vec<String> = tokens.iter().map(|t| format!("`{t}`")).collect();
        if max > pos && !quoted.is_empty() {
            // pest got further inside a rule than the rules it reports:
            // what it wanted there is punctuation, such as the `..` of a band.
            pos = max;
            expected = quoted;
        } else if max == pos && !expected.iter().any(|e| e == "an expression") {
            // Punctuation first: `=` is a likelier fix than an optional clause.
            let mut merged: Vec<String> = quoted;
            for e in expected {
                if !merged.contains(&e) {
                    merged.push(e);
                }
            }
            expected = merged;
        }
    }
    let found = found_at(text, pos);
    // Underline the whole word found, or its first character.
    let rest = text.get(pos..).unwrap_or("");
    let word_len: usize = rest
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .map(char::len_utf8)
        .sum();
    let end = pos
        + if word_len > 0 {
            word_len
        } else {
            rest.chars().next().map(|c| c.len_utf8()).unwrap_or(0)
        };
    let span = Span::new(file, base + pos, base + end);
    let word = found.trim_matches('`');
    if KEYWORDS.contains(&word) && expected.iter().any(|e| e == "a name") {
        return Diagnostic::error("E0106", t!("syntax-keyword-as-name", word = word))
            .with_label(span, t!("syntax-keyword-as-name.label"))
            .with_help(t!("syntax-keyword-as-name.help", word = word));
    }
    let expected_text = join_or(&expected);
    if word == "where"
        && let Some(d) = where_without_binder(text, pos, span)
    {
        return d;
    }
    let currency = match found.as_str() {
        "`€`" | "`$`" | "`£`" => Some(t!("help-currency")),
        "`￥`" => Some(t!("help-fullwidth-yen")),
        _ => None,
    };
    let special_help = if currency.is_some() {
        currency
    } else if found == "`=`" && expected.iter().any(|e| e.contains("comparison")) {
        Some(t!("help-compare-equals"))
    } else if found == "`;`" {
        Some(t!("syntax-semicolon.help"))
    } else if found == "`'`" {
        Some(t!("help-single-quotes"))
    } else if pos >= text.trim_end().len() {
        Some(t!("help-ends-early"))
    } else if pos == 0 {
        Some(t!("help-item-keyword"))
    } else {
        None
    };
    // `other.helper(…)`: a rule is called by its own name, once imported.
    let before = text.get(..pos).unwrap_or("");
    let dotted: String = before
        .chars()
        .rev()
        .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '.')
        .collect::<Vec<char>>()
        .into_iter()
        .rev()
        .collect();
    let qualified_call = found == "`(`" && dotted.contains('.') && !dotted.ends_with('.');
    let qualified_help = qualified_call.then(|| {
        let (module, name) = dotted.rsplit_once('.').unwrap_or(("", ""));
        format!("a rule of another module is called by its name alone: `import {module}.{{{name}}}`, then `{name}(…)`")
    });
    // A short list reads as a sentence; a long one (after a complete
    // expression, where any operator could follow) is only noise.
    let short = !expected.is_empty() && expected.len() <= 4;
    let mut d = if short {
        Diagnostic::error("E0101", format!("expected {expected_text}, found {found}"))
            .with_label(span, format!("expected {expected_text}"))
    } else {
        Diagnostic::error("E0101", format!("unexpected {found}"))
            .with_label(span, "not expected here")
    };
    if let Some(h) = qualified_help {
        d = d.with_help(h);
    } else if let Some(h) = special_help {
        d = d.with_help(h);
    } else if !short && !expected.is_empty() {
        d = d.with_help(format!("Weft expected {expected_text} here"));
    }
    d
}

// -------------------------------------------------------------- helpers

/// An argument of a call (an `arg`, or what one holds): `name: value` or
/// `value`.
fn visit_arg(ctx: &mut Ctx, a: Pair<'_, Rule>) -> R<Arg> {
    let aat = a.as_span().start();
    let inner = match a.as_rule() {
        Rule::arg => next(&mut a.kids(), aat)?,
        _ => a,
    };
    if inner.as_rule() == Rule::named_arg {
        let mut ni = inner.kids();
        let n = ident(ctx, &next(&mut ni, aat)?);
        let v = visit_expr(ctx, next(&mut ni, aat)?)?;
        Ok(Arg {
            name: Some(n),
            value: v,
        })
    } else {
        Ok(Arg {
            name: None,
            value: visit_expr(ctx, inner)?,
        })
    }
}

fn nfc(s: &str) -> String {
    s.nfc().collect()
}

fn ident(ctx: &Ctx, p: &Pair<'_, Rule>) -> Ident {
    Ident {
        name: nfc(p.as_str()),
        span: ctx.span(p),
    }
}

fn string_value(p: &Pair<'_, Rule>) -> String {
    let inner = p.clone().kids().next().map(|i| i.as_str()).unwrap_or("");
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some(c) => out.push(c),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn docs(p: Option<Pair<'_, Rule>>) -> Option<String> {
    let p = p?;
    let lines: Vec<String> = p
        .kids()
        .map(|d| {
            let t = d.as_str().trim_start_matches("///");
            t.strip_prefix(' ').unwrap_or(t).trim_end().to_string()
        })
        .collect();
    if lines.is_empty() {
        None
    } else {
        Some(lines.join("\n"))
    }
}

/// Split off a leading `docs` pair.
fn take_docs<'i>(pairs: &mut std::iter::Peekable<In<'i>>) -> Option<String> {
    if pairs.peek().map(|p| p.as_rule()) == Some(Rule::docs) {
        docs(pairs.next())
    } else {
        None
    }
}

fn take_if<'i>(pairs: &mut std::iter::Peekable<In<'i>>, rule: Rule) -> Option<Pair<'i, Rule>> {
    if pairs.peek().map(|p| p.as_rule()) == Some(rule) {
        pairs.next()
    } else {
        None
    }
}

fn date_of(ctx: &mut Ctx, p: &Pair<'_, Rule>) -> i32 {
    match num::parse_date(p.as_str()) {
        Some(d) => d,
        None => {
            let span = ctx.span(p);
            ctx.err(
                Diagnostic::error("E0110", format!("`{}` is not a date", p.as_str()))
                    .with_label(span, "no such day in the calendar")
                    .with_help("write a real date as YYYY-MM-DD, e.g. `2019-07-01`"),
            );
            0
        }
    }
}

fn month_of(ctx: &mut Ctx, p: &Pair<'_, Rule>) -> (i32, u32) {
    let s = p.as_str();
    let y = s.get(0..4).and_then(|y| y.parse().ok()).unwrap_or(0);
    let m = s.get(5..7).and_then(|m| m.parse().ok()).unwrap_or(0);
    if !(1..=9999).contains(&y) || !(1..=12).contains(&m) {
        let span = ctx.span(p);
        ctx.err(
            Diagnostic::error("E0110", format!("`{s}` is not a month"))
                .with_label(span, "no such month")
                .with_help("write a month as YYYY-MM, e.g. `2018-01`"),
        );
        return (1970, 1);
    }
    (y, m)
}

fn visit_literal(ctx: &mut Ctx, p: Pair<'_, Rule>) -> R<Lit> {
    let span = ctx.span(&p);
    let s = p.as_str();
    let kind = match p.as_rule() {
        Rule::date_lit => LitKind::Date(date_of(ctx, &p)),
        Rule::bool_lit => LitKind::Bool(s == "true"),
        Rule::string => LitKind::Text(string_value(&p)),
        Rule::int_lit => match s.parse::<i64>() {
            Ok(v) => LitKind::Int(v),
            Err(_) => {
                ctx.err(
                    Diagnostic::error("E0111", format!("the number `{s}` is too large"))
                        .with_label(span, "does not fit in 64 bits")
                        .with_help("whole numbers range up to 9,223,372,036,854,775,807"),
                );
                LitKind::Int(0)
            }
        },
        Rule::decimal_lit => match num::parse_fixed(s, 6) {
            Some(v) => LitKind::Decimal(v),
            None => {
                let frac = s.split_once('.').map(|(_, f)| f.len()).unwrap_or(0);
                if frac > 6 {
                    ctx.err(
                        Diagnostic::error(
                            "E0112",
                            format!("the decimal `{s}` has {frac} digits after the point"),
                        )
                        .with_label(span, "more than 6 decimal places")
                        .with_help("decimals are exact to 6 places (millionths); shorten it"),
                    );
                } else {
                    ctx.err(
                        Diagnostic::error("E0111", format!("the number `{s}` is too large"))
                            .with_label(span, "out of range")
                            .with_help("decimals range up to about 9.2 × 10^12"),
                    );
                }
                LitKind::Decimal(0)
            }
        },
        Rule::percent_lit => {
            let digits = &s[..s.len() - 1];
            match num::parse_fixed(digits, 4) {
                Some(v) => LitKind::Decimal(v),
                None => {
                    ctx.err(
                        Diagnostic::error(
                            "E0112",
                            format!("the percentage `{s}` is more precise than a decimal can be"),
                        )
                        .with_label(span, "at most 4 decimal places in a percentage")
                        .with_help("decimals are exact to 6 places: 12.3456% is the finest"),
                    );
                    LitKind::Decimal(0)
                }
            }
        }
        Rule::money_lit => LitKind::Money(money_value(ctx, s, span)),
        Rule::duration_lit => {
            let mut parts = s.split_whitespace();
            let n = parts.next().and_then(|n| n.parse::<i64>().ok());
            let unit = match parts.next() {
                Some("day" | "days") => DurationUnit::Days,
                Some("month" | "months") => DurationUnit::Months,
                _ => DurationUnit::Years,
            };
            match n {
                Some(n) => LitKind::Duration(n, unit),
                None => {
                    ctx.err(
                        Diagnostic::error("E0111", format!("the number in `{s}` is too large"))
                            .with_label(span, "does not fit in 64 bits"),
                    );
                    LitKind::Duration(0, unit)
                }
            }
        }
        _ => return Err(Malformed(p.as_span().start())),
    };
    Ok(Lit { kind, span })
}

fn money_value(ctx: &mut Ctx, s: &str, span: Span) -> i64 {
    let body = s.trim_start_matches(['¥', '￥']);
    let (int, frac) = match body.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (body, None),
    };
    let groups: Vec<&str> = int.split(',').collect();
    let grouping_ok = groups.len() == 1
        || (groups
            .first()
            .map(|g| (1..=3).contains(&g.len()))
            .unwrap_or(false)
            && groups.iter().skip(1).all(|g| g.len() == 3));
    if !grouping_ok {
        ctx.err(
            Diagnostic::error("E0113", format!("`{s}` groups its digits wrongly"))
                .with_label(span, "a comma must separate groups of three digits")
                .with_help("write `¥1,234,567.00` or `¥1234567.00`"),
        );
        return 0;
    }
    if let Some(f) = frac
        && f.len() > 2
    {
        ctx.err(
            Diagnostic::error("E0113", format!("`{s}` has more than two decimals"))
                .with_label(span, "money is exact to the fen (two decimals)")
                .with_help("round the amount to the fen, or use a decimal rate instead"),
        );
        return 0;
    }
    let digits: String = int.chars().filter(|c| *c != ',').collect();
    let text = match frac {
        Some(f) => format!("{digits}.{f}"),
        None => digits,
    };
    match num::parse_fixed(&text, 2) {
        Some(v) => v,
        None => {
            ctx.err(
                Diagnostic::error("E0111", format!("the amount `{s}` is too large"))
                    .with_label(span, "does not fit in 64 bits of fen"),
            );
            0
        }
    }
}

fn visit_const(ctx: &mut Ctx, p: Pair<'_, Rule>) -> R<Lit> {
    let at = p.as_span().start();
    let span = ctx.span(&p);
    let text = p.as_str().trim_start();
    let neg = text.starts_with('-');
    let inner = next(&mut p.kids(), at)?;
    let mut lit = visit_literal(ctx, inner)?;
    lit.span = span;
    if neg {
        let negated = match &lit.kind {
            LitKind::Int(v) => Some(LitKind::Int(-v)),
            LitKind::Decimal(v) => Some(LitKind::Decimal(-v)),
            LitKind::Money(v) => Some(LitKind::Money(-v)),
            LitKind::Duration(v, u) => Some(LitKind::Duration(-v, *u)),
            _ => None,
        };
        match negated {
            Some(k) => lit.kind = k,
            None => ctx.err(
                Diagnostic::error(
                    "E0114",
                    "only numbers, amounts and durations can be negative",
                )
                .with_label(span, "cannot be negated"),
            ),
        }
    }
    Ok(lit)
}

// ---------------------------------------------------------------- items

fn visit_item(ctx: &mut Ctx, p: Pair<'_, Rule>) -> R<Option<Item>> {
    Ok(Some(match p.as_rule() {
        Rule::import_item => Item::Import(visit_import(ctx, p)?),
        Rule::enum_item => Item::Enum(visit_enum(ctx, p)?),
        Rule::record_item => Item::Record(visit_record(ctx, p)?),
        Rule::param_item => Item::Param(visit_param(ctx, p)?),
        Rule::series_item => Item::Series(visit_series(ctx, p)?),
        Rule::rule_item => Item::Rule(visit_rule(ctx, p)?),
        Rule::table_item => Item::Table(visit_table(ctx, p)?),
        Rule::scale_item => Item::Scale(visit_scale(ctx, p)?),
        Rule::cascade_item => Item::Cascade(visit_cascade(ctx, p)?),
        Rule::exception_item => Item::Exception(visit_exception(ctx, p)?),
        Rule::assert_item => Item::Assert(visit_assert(ctx, p)?),
        Rule::test_item => Item::Test(visit_test(ctx, p)?),
        Rule::defaults_item => Item::Defaults(visit_defaults(ctx, p)?),
        Rule::output_item => Item::Output(visit_output(ctx, p)?),
        Rule::programme_item => Item::Programme(visit_programme(ctx, p)?),
        Rule::EOI => return Ok(None),
        _ => return Err(Malformed(p.as_span().start())),
    }))
}

fn visit_import(ctx: &mut Ctx, p: Pair<'_, Rule>) -> R<Import> {
    let span = ctx.span(&p);
    let at = p.as_span().start();
    let mut it = p.kids();
    let module = ident(ctx, &next(&mut it, at)?);
    let names = it
        .next()
        .map(|n| n.kids().map(|i| ident(ctx, &i)).collect());
    Ok(Import {
        module,
        names,
        span,
    })
}

fn visit_enum(ctx: &mut Ctx, p: Pair<'_, Rule>) -> R<EnumDecl> {
    let span = ctx.span(&p);
    let at = p.as_span().start();
    let mut it = p.kids().peekable();
    let doc = take_docs(&mut it);
    let name = ident(ctx, &next_peek(&mut it, at)?);
    let display = take_if(&mut it, Rule::string).map(|s| string_value(&s));
    let mut variants = Vec::new();
    for v in it {
        let vspan = ctx.span(&v);
        let vat = v.as_span().start();
        let mut vi = v.kids().peekable();
        let vdoc = take_docs(&mut vi);
        let vname = ident(ctx, &next_peek(&mut vi, vat)?);
        let vdisplay = take_if(&mut vi, Rule::string).map(|s| string_value(&s));
        let code = take_if(&mut vi, Rule::variant_code).and_then(|c| {
            let s = c.kids().next()?;
            Some((string_value(&s), ctx.span(&s)))
        });
        variants.push(Variant {
            doc: vdoc,
            name: vname,
            display: vdisplay,
            code,
            span: vspan,
        });
    }
    Ok(EnumDecl {
        doc,
        name,
        display,
        variants,
        span,
    })
}

fn next_peek<'i>(it: &mut std::iter::Peekable<In<'i>>, at: usize) -> R<Pair<'i, Rule>> {
    it.next().ok_or(Malformed(at))
}

fn visit_type(ctx: &mut Ctx, p: Pair<'_, Rule>) -> R<TypeExpr> {
    let span = ctx.span(&p);
    let at = p.as_span().start();
    let mut it = p.kids();
    let base = next(&mut it, at)?;
    let optional = it.next().is_some();
    let kind = match base.as_rule() {
        Rule::list_ty => {
            let i = next(&mut base.kids(), at)?;
            TypeKind::List(ident(ctx, &i))
        }
        Rule::money_ty => TypeKind::Money(period_of(base.kids().next())),
        Rule::bands_ty => {
            let m = next(&mut base.kids(), at)?;
            TypeKind::Bands(period_of(m.kids().next()))
        }
        Rule::named_ty => {
            let i = next(&mut base.kids(), at)?;
            TypeKind::Named(ident(ctx, &i))
        }
        _ => return Err(Malformed(at)),
    };
    Ok(TypeExpr {
        kind,
        optional,
        span,
    })
}

fn period_of(p: Option<Pair<'_, Rule>>) -> Option<Period> {
    let p = p?;
    let inner = p.kids().next()?;
    Some(match inner.as_rule() {
        Rule::period_month => Period::Month,
        _ => Period::Year,
    })
}

fn visit_range(ctx: &mut Ctx, p: Pair<'_, Rule>) -> R<RangeLit> {
    let span = ctx.span(&p);
    let at = p.as_span().start();
    let mut it = p.kids();
    let lo = visit_const(ctx, next(&mut it, at)?)?;
    let op = next(&mut it, at)?;
    let inclusive = op.as_str() == "..=";
    let hi = match it.next() {
        Some(h) => Some(visit_const(ctx, h)?),
        None => None,
    };
    Ok(RangeLit {
        lo,
        hi,
        inclusive,
        span,
    })
}

fn visit_synth_alt(ctx: &mut Ctx, p: Pair<'_, Rule>) -> R<SynthAlt> {
    let at = p.as_span().start();
    let inner = next(&mut p.kids(), at)?;
    Ok(match inner.as_rule() {
        Rule::synth_absent => SynthAlt::Absent(ctx.span(&inner)),
        Rule::range_lit => SynthAlt::Range(visit_range(ctx, inner)?),
        Rule::const_lit => SynthAlt::Value(visit_const(ctx, inner)?),
        Rule::word => SynthAlt::Word(ident(ctx, &inner)),
        _ => return Err(Malformed(at)),
    })
}

fn visit_record(ctx: &mut Ctx, p: Pair<'_, Rule>) -> R<RecordDecl> {
    let span = ctx.span(&p);
    let at = p.as_span().start();
    let mut it = p.kids().peekable();
    let doc = take_docs(&mut it);
    let name = ident(ctx, &next_peek(&mut it, at)?);
    let display = take_if(&mut it, Rule::string).map(|s| string_value(&s));
    let input = match take_if(&mut it, Rule::record_input) {
        Some(i) => Some(ident(ctx, &next(&mut i.kids(), at)?)),
        None => None,
    };
    let mut fields = Vec::new();
    let mut checks = Vec::new();
    for f in it {
        let fspan = ctx.span(&f);
        let fat = f.as_span().start();
        match f.as_rule() {
            Rule::record_check => {
                let mut ci = f.kids();
                let cond = visit_expr(ctx, next(&mut ci, fat)?)?;
                let column = ident(ctx, &next(&mut ci, fat)?);
                let message = string_value(&next(&mut ci, fat)?);
                let exclude = ci.next().is_some();
                checks.push(RecordCheck {
                    cond,
                    column,
                    message,
                    exclude,
                    span: fspan,
                });
            }
            Rule::field => {
                let mut fi = f.kids().peekable();
                let fdoc = take_docs(&mut fi);
                let fname = ident(ctx, &next_peek(&mut fi, fat)?);
                let ty = visit_type(ctx, next_peek(&mut fi, fat)?)?;
                let mut field = FieldDecl {
                    doc: fdoc,
                    name: fname,
                    ty,
                    key: false,
                    by: None,
                    range: None,
                    synth: None,
                    span: fspan,
                };
                for a in fi {
                    let aat = a.as_span().start();
                    match a.as_rule() {
                        Rule::key_attr => field.key = true,
                        Rule::by_attr => field.by = Some(ident(ctx, &next(&mut a.kids(), aat)?)),
                        Rule::in_attr => {
                            field.range = Some(visit_range(ctx, next(&mut a.kids(), aat)?)?)
                        }
                        Rule::synth_attr => {
                            let s = next(&mut a.kids(), aat)?;
                            field.synth = Some(match s.as_rule() {
                                Rule::synth_weights => {
                                    let mut ws = Vec::new();
                                    for w in s.kids() {
                                        let wspan = ctx.span(&w);
                                        let wat = w.as_span().start();
                                        let mut wi = w.kids();
                                        let alt = visit_synth_alt(ctx, next(&mut wi, wat)?)?;
                                        let n = next(&mut wi, wat)?;
                                        let weight = n.as_str().parse::<u64>().unwrap_or(0);
                                        ws.push((alt, weight, wspan));
                                    }
                                    Synth::Weighted(ws)
                                }
                                _ => Synth::One(visit_synth_alt(ctx, s)?),
                            });
                        }
                        _ => return Err(Malformed(aat)),
                    }
                }
                fields.push(field);
            }
            _ => return Err(Malformed(fat)),
        }
    }
    Ok(RecordDecl {
        doc,
        name,
        display,
        input,
        fields,
        checks,
        span,
    })
}

fn visit_source(p: Option<Pair<'_, Rule>>) -> Option<String> {
    p.and_then(|s| s.kids().next()).map(|s| string_value(&s))
}

fn visit_pvalue(ctx: &mut Ctx, p: Pair<'_, Rule>) -> R<PValue> {
    let span = ctx.span(&p);
    let at = p.as_span().start();
    Ok(match p.as_rule() {
        Rule::pvalue_scalar => PValue::Scalar(visit_const(ctx, next(&mut p.kids(), at)?)?),
        Rule::pvalue_map => {
            let mut entries = Vec::new();
            for e in p.kids() {
                let eat = e.as_span().start();
                let mut ei = e.kids();
                let k = ident(ctx, &next(&mut ei, eat)?);
                let v = visit_pvalue(ctx, next(&mut ei, eat)?)?;
                entries.push((k, v));
            }
            PValue::Map(entries, span)
        }
        Rule::pvalue_bands => {
            let mut bands = Vec::new();
            for b in p.kids() {
                let bspan = ctx.span(&b);
                let bat = b.as_span().start();
                let parts: Vec<Pair<'_, Rule>> = b.kids().collect();
                let (lo, hi, rate) = match parts.len() {
                    2 => (parts[0].clone(), None, parts[1].clone()),
                    3 => (parts[0].clone(), Some(parts[1].clone()), parts[2].clone()),
                    _ => return Err(Malformed(bat)),
                };
                bands.push(BandLit {
                    lo: visit_const(ctx, lo)?,
                    hi: match hi {
                        Some(h) => Some(visit_const(ctx, h)?),
                        None => None,
                    },
                    rate: visit_const(ctx, rate)?,
                    span: bspan,
                });
            }
            PValue::Bands(bands, span)
        }
        _ => return Err(Malformed(at)),
    })
}

fn visit_param(ctx: &mut Ctx, p: Pair<'_, Rule>) -> R<ParamDecl> {
    let span = ctx.span(&p);
    let at = p.as_span().start();
    let mut it = p.kids().peekable();
    let doc = take_docs(&mut it);
    let name = ident(ctx, &next_peek(&mut it, at)?);
    let mut keys = Vec::new();
    if let Some(k) = take_if(&mut it, Rule::param_keys) {
        for ks in k.kids() {
            keys.push(visit_key_set(ctx, ks)?);
        }
    }
    let ty = visit_type(ctx, next_peek(&mut it, at)?)?;
    let source = visit_source(take_if(&mut it, Rule::source_clause));
    let mut versions = Vec::new();
    for v in it {
        let vspan = ctx.span(&v);
        let vat = v.as_span().start();
        let mut vi = v.kids();
        let d = next(&mut vi, vat)?;
        let effective_span = ctx.span(&d);
        let effective = date_of(ctx, &d);
        let value = visit_pvalue(ctx, next(&mut vi, vat)?)?;
        versions.push(ParamVersion {
            effective,
            effective_span,
            value,
            span: vspan,
        });
    }
    Ok(ParamDecl {
        doc,
        name,
        keys,
        ty,
        source,
        versions,
        span,
    })
}

fn visit_key_set(ctx: &mut Ctx, ks: Pair<'_, Rule>) -> R<KeySet> {
    let kspan = ctx.span(&ks);
    let kat = ks.as_span().start();
    let mut ki = ks.kids();
    let enum_name = ident(ctx, &next(&mut ki, kat)?);
    let except = match ki.next() {
        Some(e) => e.kids().map(|w| ident(ctx, &w)).collect(),
        None => Vec::new(),
    };
    Ok(KeySet {
        enum_name,
        except,
        span: kspan,
    })
}

fn visit_series(ctx: &mut Ctx, p: Pair<'_, Rule>) -> R<SeriesDecl> {
    let span = ctx.span(&p);
    let at = p.as_span().start();
    let mut it = p.kids().peekable();
    let doc = take_docs(&mut it);
    let name = ident(ctx, &next_peek(&mut it, at)?);
    let ty = visit_type(ctx, next_peek(&mut it, at)?)?;
    let source = visit_source(take_if(&mut it, Rule::source_clause));
    let mut entries = Vec::new();
    for e in it {
        let espan = ctx.span(&e);
        let eat = e.as_span().start();
        let mut ei = e.kids();
        let m = next(&mut ei, eat)?;
        let (y, mo) = month_of(ctx, &m);
        let v = visit_const(ctx, next(&mut ei, eat)?)?;
        entries.push((y, mo, v, espan));
    }
    Ok(SeriesDecl {
        doc,
        name,
        ty,
        source,
        entries,
        span,
    })
}

fn visit_params(ctx: &mut Ctx, p: Option<Pair<'_, Rule>>) -> R<Vec<Param>> {
    let mut out = Vec::new();
    if let Some(p) = p {
        for rp in p.kids() {
            out.push(visit_rule_param(ctx, rp)?);
        }
    }
    Ok(out)
}

fn visit_rule_param(ctx: &mut Ctx, rp: Pair<'_, Rule>) -> R<Param> {
    let at = rp.as_span().start();
    let mut ri = rp.kids();
    let name = ident(ctx, &next(&mut ri, at)?);
    let ty = visit_type(ctx, next(&mut ri, at)?)?;
    Ok(Param { name, ty })
}

fn visit_rule(ctx: &mut Ctx, p: Pair<'_, Rule>) -> R<RuleDecl> {
    let span = ctx.span(&p);
    let at = p.as_span().start();
    let mut it = p.kids().peekable();
    let doc = take_docs(&mut it);
    let name = ident(ctx, &next_peek(&mut it, at)?);
    let params = visit_params(ctx, take_if(&mut it, Rule::rule_params))?;
    let ret = visit_type(ctx, next_peek(&mut it, at)?)?;
    let source = visit_source(take_if(&mut it, Rule::source_clause));
    let body = visit_expr(ctx, next_peek(&mut it, at)?)?;
    let mut versions = Vec::new();
    for v in it {
        let vat = v.as_span().start();
        let mut vi = v.kids();
        let d = next(&mut vi, vat)?;
        let dspan = ctx.span(&d);
        let date = date_of(ctx, &d);
        let e = visit_expr(ctx, next(&mut vi, vat)?)?;
        versions.push((date, dspan, e));
    }
    Ok(RuleDecl {
        doc,
        name,
        params,
        ret,
        source,
        body,
        versions,
        span,
    })
}

fn visit_exception(ctx: &mut Ctx, p: Pair<'_, Rule>) -> R<ExceptionDecl> {
    let span = ctx.span(&p);
    let at = p.as_span().start();
    let mut it = p.kids().peekable();
    let doc = take_docs(&mut it);
    let label = ident(ctx, &next_peek(&mut it, at)?);
    let rule = ident(ctx, &next_peek(&mut it, at)?);
    let binder = take_if(&mut it, Rule::ident).map(|b| ident(ctx, &b));
    let over = take_if(&mut it, Rule::over_clause)
        .map(|o| o.kids().map(|i| ident(ctx, &i)).collect())
        .unwrap_or_default();
    let source = visit_source(take_if(&mut it, Rule::source_clause));
    let cond = visit_expr(ctx, next_peek(&mut it, at)?)?;
    let value = visit_expr(ctx, next_peek(&mut it, at)?)?;
    Ok(ExceptionDecl {
        doc,
        label,
        rule,
        binder,
        over,
        source,
        cond,
        value,
        span,
    })
}

fn visit_table(ctx: &mut Ctx, p: Pair<'_, Rule>) -> R<TableDecl> {
    let span = ctx.span(&p);
    let at = p.as_span().start();
    let mut it = p.kids().peekable();
    let doc = take_docs(&mut it);
    let name = ident(ctx, &next_peek(&mut it, at)?);
    let params = visit_params(ctx, take_if(&mut it, Rule::rule_params))?;
    let ret = visit_type(ctx, next_peek(&mut it, at)?)?;
    let source = visit_source(take_if(&mut it, Rule::source_clause));
    let hit_pair = next_peek(&mut it, at)?;
    let hit_span = ctx.span(&hit_pair);
    let hit = match hit_pair
        .kids()
        .next()
        .map(|h| h.as_str().to_string())
        .as_deref()
    {
        Some("unique") => HitPolicy::Unique,
        Some("first") => HitPolicy::First,
        Some("sum") => HitPolicy::Sum,
        Some("max") => HitPolicy::Max,
        Some("min") => HitPolicy::Min,
        _ => return Err(Malformed(at)),
    };
    let mut given = Vec::new();
    if let Some(g) = take_if(&mut it, Rule::given_clause) {
        for e in g.kids() {
            given.push(visit_expr(ctx, e)?);
        }
    }
    let mut rows = Vec::new();
    for r in it {
        let rspan = ctx.span(&r);
        let rat = r.as_span().start();
        let mut ri = r.kids().peekable();
        let from = match take_if(&mut ri, Rule::row_from) {
            Some(f) => {
                let d = next(&mut f.kids(), rat)?;
                Some((date_of(ctx, &d), ctx.span(&d)))
            }
            None => None,
        };
        let body = next_peek(&mut ri, rat)?;
        let cells = match body.as_rule() {
            Rule::row_otherwise => None,
            Rule::row_cells => {
                let mut cells = Vec::new();
                for c in body.kids() {
                    let cspan = ctx.span(&c);
                    let mut items = Vec::new();
                    for ci in c.kids() {
                        if ci.as_rule() == Rule::cell_any {
                            continue;
                        }
                        items.push(visit_cell_item(ctx, ci)?);
                    }
                    cells.push(Cell { items, span: cspan });
                }
                Some(cells)
            }
            _ => return Err(Malformed(rat)),
        };
        let value = visit_expr(ctx, next_peek(&mut ri, rat)?)?;
        rows.push(TableRow {
            from,
            cells,
            value,
            span: rspan,
        });
    }
    Ok(TableDecl {
        doc,
        name,
        params,
        ret,
        source,
        hit,
        hit_span,
        given,
        rows,
        span,
    })
}

fn visit_cell_item(ctx: &mut Ctx, ci: Pair<'_, Rule>) -> R<CellItem> {
    let at = ci.as_span().start();
    let inner = next(&mut ci.kids(), at)?;
    let span = ctx.span(&inner);
    Ok(match inner.as_rule() {
        Rule::cell_range => {
            let parts: Vec<Pair<'_, Rule>> = inner.kids().collect();
            let open = parts.first().ok_or(Malformed(at))?;
            let close = parts.last().ok_or(Malformed(at))?;
            let lo_closed = open.as_str() == "[";
            let hi_closed = close.as_str() == "]";
            let lo = visit_expr(ctx, parts.get(1).cloned().ok_or(Malformed(at))?)?;
            let hi = if parts.len() == 4 {
                Some(visit_expr(ctx, parts[2].clone())?)
            } else {
                None
            };
            CellItem::Range {
                lo,
                lo_closed,
                hi,
                hi_closed,
                span,
            }
        }
        Rule::cell_cmp => {
            let mut i = inner.kids();
            let op = cmp_op(next(&mut i, at)?.as_str());
            let e = visit_expr(ctx, next(&mut i, at)?)?;
            CellItem::Cmp(op, e, span)
        }
        Rule::expr => CellItem::Expr(visit_expr(ctx, inner)?),
        _ => return Err(Malformed(at)),
    })
}

fn visit_scale(ctx: &mut Ctx, p: Pair<'_, Rule>) -> R<ScaleDecl> {
    let span = ctx.span(&p);
    let at = p.as_span().start();
    let mut it = p.kids().peekable();
    let doc = take_docs(&mut it);
    let name = ident(ctx, &next_peek(&mut it, at)?);
    let params = visit_params(ctx, take_if(&mut it, Rule::rule_params))?;
    let ret = visit_type(ctx, next_peek(&mut it, at)?)?;
    let source = visit_source(take_if(&mut it, Rule::source_clause));
    let kind = match next_peek(&mut it, at)?.as_str().trim() {
        "flat" => ScaleKind::Flat,
        _ => ScaleKind::Marginal,
    };
    let round_each_band = take_if(&mut it, Rule::scale_round)
        .map(|r| !r.as_str().contains("total"))
        .unwrap_or(true);
    let adjust = match take_if(&mut it, Rule::scale_adjust) {
        Some(a) => Some(visit_expr(ctx, next(&mut a.kids(), at)?)?),
        None => None,
    };
    let bands = match take_if(&mut it, Rule::scale_bands_param) {
        Some(b) => ScaleBands::Param(ident(ctx, &next(&mut b.kids(), at)?)),
        None => {
            let mut rows = Vec::new();
            for r in it {
                let rspan = ctx.span(&r);
                let rat = r.as_span().start();
                let parts: Vec<Pair<'_, Rule>> = r.kids().collect();
                let (lo, hi, value) = match parts.len() {
                    2 => (parts[0].clone(), None, parts[1].clone()),
                    3 => (parts[0].clone(), Some(parts[1].clone()), parts[2].clone()),
                    _ => return Err(Malformed(rat)),
                };
                rows.push(ScaleRow {
                    lo: visit_const(ctx, lo)?,
                    hi: match hi {
                        Some(h) => Some(visit_const(ctx, h)?),
                        None => None,
                    },
                    value: visit_expr(ctx, value)?,
                    span: rspan,
                });
            }
            ScaleBands::Rows(rows)
        }
    };
    Ok(ScaleDecl {
        doc,
        name,
        params,
        ret,
        source,
        kind,
        round_each_band,
        adjust,
        bands,
        span,
    })
}

fn visit_cascade(ctx: &mut Ctx, p: Pair<'_, Rule>) -> R<CascadeDecl> {
    let span = ctx.span(&p);
    let at = p.as_span().start();
    let mut it = p.kids().peekable();
    let doc = take_docs(&mut it);
    let name = ident(ctx, &next_peek(&mut it, at)?);
    let params = visit_params(ctx, take_if(&mut it, Rule::rule_params))?;
    let ret = visit_type(ctx, next_peek(&mut it, at)?)?;
    let source = visit_source(take_if(&mut it, Rule::source_clause));
    let amount = visit_expr(ctx, next_peek(&mut it, at)?)?;
    let mut steps = Vec::new();
    let mut remainder = None;
    for s in it {
        let sspan = ctx.span(&s);
        let sat = s.as_span().start();
        match s.as_rule() {
            Rule::cascade_step => {
                let mut si = s.kids().peekable();
                let sdoc = take_docs(&mut si);
                let sname = ident(ctx, &next_peek(&mut si, sat)?);
                let expr = visit_expr(ctx, next_peek(&mut si, sat)?)?;
                steps.push(CascadeStep {
                    doc: sdoc,
                    name: sname,
                    expr,
                    span: sspan,
                });
            }
            Rule::ident => remainder = Some(ident(ctx, &s)),
            _ => return Err(Malformed(sat)),
        }
    }
    Ok(CascadeDecl {
        doc,
        name,
        params,
        ret,
        source,
        amount,
        steps,
        remainder: remainder.ok_or(Malformed(at))?,
        span,
    })
}

fn visit_assert(ctx: &mut Ctx, p: Pair<'_, Rule>) -> R<AssertDecl> {
    let span = ctx.span(&p);
    let at = p.as_span().start();
    let mut it = p.kids().peekable();
    let doc = take_docs(&mut it);
    let name = ident(ctx, &next_peek(&mut it, at)?);
    let param = ident(ctx, &next_peek(&mut it, at)?);
    let severity = match take_if(&mut it, Rule::severity).map(|s| s.as_str().trim().to_string()) {
        Some(s) if s == "warning" => Severity::Warning,
        _ => Severity::Error,
    };
    let mut every = Vec::new();
    if let Some(e) = take_if(&mut it, Rule::assert_every) {
        for ev in e.kids() {
            let mut ei = ev.kids();
            let v = ident(ctx, &next(&mut ei, at)?);
            let ks = next(&mut ei, at)?;
            every.push((v, visit_key_set(ctx, ks)?));
        }
    }
    let window = match take_if(&mut it, Rule::assert_window) {
        Some(w) => {
            let mut wi = w.kids();
            let a = next(&mut wi, at)?;
            let b = next(&mut wi, at)?;
            Some((date_of(ctx, &a), date_of(ctx, &b)))
        }
        None => None,
    };
    let source = visit_source(take_if(&mut it, Rule::source_clause));
    let cond = visit_expr(ctx, next_peek(&mut it, at)?)?;
    Ok(AssertDecl {
        doc,
        name,
        param,
        severity,
        every,
        window,
        source,
        cond,
        span,
    })
}

fn visit_test_fields<'i>(
    ctx: &mut Ctx,
    it: impl Iterator<Item = Pair<'i, Rule>>,
) -> R<Vec<(Ident, Expr)>> {
    let mut out = Vec::new();
    for f in it {
        let fat = f.as_span().start();
        let mut fi = f.kids();
        let name = ident(ctx, &next(&mut fi, fat)?);
        let value = visit_expr(ctx, next(&mut fi, fat)?)?;
        out.push((name, value));
    }
    Ok(out)
}

fn visit_test(ctx: &mut Ctx, p: Pair<'_, Rule>) -> R<TestDecl> {
    let span = ctx.span(&p);
    let at = p.as_span().start();
    let mut it = p.kids().peekable();
    let doc = take_docs(&mut it);
    let name_pair = next_peek(&mut it, at)?;
    let name = string_value(&name_pair);
    let name_span = ctx.span(&name_pair);
    let m = next_peek(&mut it, at)?;
    let (y, mo) = month_of(ctx, &m);
    let as_of = num::days_from_civil(y, mo, 1);
    let mut records = Vec::new();
    let mut expects = Vec::new();
    for s in it {
        let sspan = ctx.span(&s);
        let sat = s.as_span().start();
        match s.as_rule() {
            Rule::test_record => {
                let mut si = s.kids();
                let record = ident(ctx, &next(&mut si, sat)?);
                let idp = next(&mut si, sat)?;
                let id_inner = next(&mut idp.kids(), sat)?;
                let id = if id_inner.as_rule() == Rule::string {
                    Ident {
                        name: nfc(&string_value(&id_inner)),
                        span: ctx.span(&id_inner),
                    }
                } else {
                    ident(ctx, &id_inner)
                };
                let fields = visit_test_fields(ctx, si)?;
                records.push(TestRecord {
                    record,
                    id,
                    fields,
                    span: sspan,
                });
            }
            Rule::test_expect => {
                let mut si = s.kids();
                let expr = visit_expr(ctx, next(&mut si, sat)?)?;
                let fails = si.next().map(|f| f.kids().next().map(|k| ident(ctx, &k)));
                expects.push(TestExpect {
                    expr,
                    fails,
                    span: sspan,
                });
            }
            _ => return Err(Malformed(sat)),
        }
    }
    Ok(TestDecl {
        doc,
        name,
        name_span,
        as_of,
        records,
        expects,
        span,
    })
}

fn visit_defaults(ctx: &mut Ctx, p: Pair<'_, Rule>) -> R<DefaultsDecl> {
    let span = ctx.span(&p);
    let at = p.as_span().start();
    let mut it = p.kids().peekable();
    let _ = take_docs(&mut it);
    let record = ident(ctx, &next_peek(&mut it, at)?);
    let fields = visit_test_fields(ctx, it)?;
    Ok(DefaultsDecl {
        record,
        fields,
        span,
    })
}

fn visit_output(ctx: &mut Ctx, p: Pair<'_, Rule>) -> R<OutputDecl> {
    let span = ctx.span(&p);
    let at = p.as_span().start();
    let mut it = p.kids().peekable();
    let doc = take_docs(&mut it);
    let name = ident(ctx, &next_peek(&mut it, at)?);
    let binder = ident(ctx, &next_peek(&mut it, at)?);
    let record = ident(ctx, &next_peek(&mut it, at)?);
    let mut columns = Vec::new();
    for c in it {
        let cat = c.as_span().start();
        let mut ci = c.kids();
        let col = ident(ctx, &next(&mut ci, cat)?);
        let e = match ci.next() {
            Some(e) => Some(visit_expr(ctx, e)?),
            None => None,
        };
        columns.push((col, e));
    }
    Ok(OutputDecl {
        doc,
        name,
        binder,
        record,
        columns,
        span,
    })
}

fn visit_programme(ctx: &mut Ctx, p: Pair<'_, Rule>) -> R<ProgrammeDecl> {
    let span = ctx.span(&p);
    let at = p.as_span().start();
    let mut it = p.kids().peekable();
    let doc = take_docs(&mut it);
    let name = ident(ctx, &next_peek(&mut it, at)?);
    let display = take_if(&mut it, Rule::string).map(|s| string_value(&s));
    let source = visit_source(take_if(&mut it, Rule::source_clause));
    let output = ident(ctx, &next_peek(&mut it, at)?);
    let mut amounts = Vec::new();
    let mut recipients = None;
    for x in it {
        match x.as_rule() {
            Rule::word => amounts.push(ident(ctx, &x)),
            Rule::recipients => recipients = Some(visit_expr(ctx, next(&mut x.kids(), at)?)?),
            _ => return Err(Malformed(at)),
        }
    }
    Ok(ProgrammeDecl {
        doc,
        name,
        display,
        source,
        output,
        amounts,
        recipients,
        span,
    })
}

// ---------------------------------------------------------- expressions

fn cmp_op(s: &str) -> CmpOp {
    match s {
        "==" => CmpOp::Eq,
        "!=" | "≠" => CmpOp::Ne,
        "<" => CmpOp::Lt,
        "<=" | "≤" => CmpOp::Le,
        ">" => CmpOp::Gt,
        _ => CmpOp::Ge,
    }
}

fn bx(e: Expr) -> Box<Expr> {
    Box::new(e)
}

fn visit_expr(ctx: &mut Ctx, p: Pair<'_, Rule>) -> R<Expr> {
    let span = ctx.span(&p);
    let at = p.as_span().start();
    match p.as_rule() {
        Rule::expr | Rule::primary => visit_expr(ctx, next(&mut p.kids(), at)?),
        Rule::if_expr => {
            let mut it = p.kids();
            let c = visit_expr(ctx, next(&mut it, at)?)?;
            let t = visit_expr(ctx, next(&mut it, at)?)?;
            let e = visit_expr(ctx, next(&mut it, at)?)?;
            Ok(Expr {
                kind: ExprKind::If(bx(c), bx(t), bx(e)),
                span,
            })
        }
        Rule::let_expr => {
            let mut it = p.kids();
            let name = ident(ctx, &next(&mut it, at)?);
            let v = visit_expr(ctx, next(&mut it, at)?)?;
            let b = visit_expr(ctx, next(&mut it, at)?)?;
            Ok(Expr {
                kind: ExprKind::Let(name, bx(v), bx(b)),
                span,
            })
        }
        Rule::iff_expr | Rule::or_expr | Rule::and_expr => {
            let op = match p.as_rule() {
                Rule::iff_expr => BinOp::Iff,
                Rule::or_expr => BinOp::Or,
                _ => BinOp::And,
            };
            let mut it = p.kids();
            let mut acc = visit_expr(ctx, next(&mut it, at)?)?;
            for rhs in it {
                let r = visit_expr(ctx, rhs)?;
                let s = acc.span.to(r.span);
                acc = Expr {
                    kind: ExprKind::Binary(op, bx(acc), bx(r)),
                    span: s,
                };
            }
            Ok(acc)
        }
        Rule::not_expr => {
            let parts: Vec<Pair<'_, Rule>> = p.kids().collect();
            let (last, nots) = parts.split_last().ok_or(Malformed(at))?;
            let mut e = visit_expr(ctx, last.clone())?;
            for n in nots.iter().rev() {
                let s = ctx.span(n).to(e.span);
                e = Expr {
                    kind: ExprKind::Not(bx(e)),
                    span: s,
                };
            }
            Ok(e)
        }
        Rule::cmp_expr => {
            let mut it = p.kids().peekable();
            let first = visit_expr(ctx, next(&mut it, at)?)?;
            if let Some(set) = it.peek().filter(|p| p.as_rule() == Rule::in_set) {
                let mut items = Vec::new();
                for e in set.clone().kids() {
                    items.push(visit_expr(ctx, e)?);
                }
                return Ok(Expr {
                    kind: ExprKind::InSet(bx(first), items),
                    span,
                });
            }
            let mut rest = Vec::new();
            while let Some(op) = it.next() {
                let op = cmp_op(op.as_str());
                let rhs = visit_expr(ctx, next(&mut it, at)?)?;
                rest.push((op, rhs));
            }
            if rest.is_empty() {
                Ok(first)
            } else {
                Ok(Expr {
                    kind: ExprKind::Compare(bx(first), rest),
                    span,
                })
            }
        }
        Rule::add_expr | Rule::mul_expr => {
            let mut it = p.kids();
            let mut acc = visit_expr(ctx, next(&mut it, at)?)?;
            while let Some(op) = it.next() {
                let op = match op.as_str() {
                    "+" => BinOp::Add,
                    "-" => BinOp::Sub,
                    "*" | "×" => BinOp::Mul,
                    _ => BinOp::Div,
                };
                let r = visit_expr(ctx, next(&mut it, at)?)?;
                let s = acc.span.to(r.span);
                acc = Expr {
                    kind: ExprKind::Binary(op, bx(acc), bx(r)),
                    span: s,
                };
            }
            Ok(acc)
        }
        Rule::unary => {
            let parts: Vec<Pair<'_, Rule>> = p.kids().collect();
            let (last, negs) = parts.split_last().ok_or(Malformed(at))?;
            let mut e = visit_expr(ctx, last.clone())?;
            for n in negs.iter().rev() {
                let s = ctx.span(n).to(e.span);
                e = Expr {
                    kind: ExprKind::Neg(bx(e)),
                    span: s,
                };
            }
            Ok(e)
        }
        Rule::postfix => {
            let mut it = p.kids();
            let mut e = visit_expr(ctx, next(&mut it, at)?)?;
            for post in it {
                let pspan = ctx.span(&post);
                let s = e.span.to(pspan);
                let pat = post.as_span().start();
                e = match post.as_rule() {
                    Rule::field_access => {
                        let f = ident(ctx, &next(&mut post.kids(), pat)?);
                        Expr {
                            kind: ExprKind::Field(bx(e), f),
                            span: s,
                        }
                    }
                    Rule::index => {
                        let mut idx = Vec::new();
                        for i in post.kids() {
                            idx.push(visit_expr(ctx, i)?);
                        }
                        Expr {
                            kind: ExprKind::Index(bx(e), idx),
                            span: s,
                        }
                    }
                    Rule::at_date => {
                        let d = next(&mut post.kids(), pat)?;
                        let date = date_of(ctx, &d);
                        Expr {
                            kind: ExprKind::At(bx(e), date),
                            span: s,
                        }
                    }
                    Rule::per_suffix => {
                        let per = period_of(Some(post)).unwrap_or(Period::Month);
                        Expr {
                            kind: ExprKind::Per(bx(e), per),
                            span: s,
                        }
                    }
                    _ => return Err(Malformed(pat)),
                };
            }
            Ok(e)
        }
        Rule::paren => {
            let mut e = visit_expr(ctx, next(&mut p.kids(), at)?)?;
            e.span = span;
            Ok(e)
        }
        Rule::as_of => Ok(Expr {
            kind: ExprKind::AsOf,
            span,
        }),
        Rule::remains => Ok(Expr {
            kind: ExprKind::Remains,
            span,
        }),
        Rule::name => {
            let i = ident(ctx, &next(&mut p.kids(), at)?);
            Ok(Expr {
                kind: ExprKind::Name(i),
                span,
            })
        }
        Rule::call => {
            let mut it = p.kids();
            let f = ident(ctx, &next(&mut it, at)?);
            let args = it.map(|a| visit_arg(ctx, a)).collect::<R<Vec<Arg>>>()?;
            Ok(Expr {
                kind: ExprKind::Call(f, args),
                span,
            })
        }
        Rule::agg_expr => {
            let mut it = p.kids();
            let f = next(&mut it, at)?;
            let kind = match f.as_str() {
                "sum" => AggKind::Sum,
                "count" => AggKind::Count,
                "any" => AggKind::Any,
                "all" => AggKind::All,
                "min" => AggKind::Min,
                _ => AggKind::Max,
            };
            let (first, second) = (it.next(), it.next());
            let (body, tail) = match (first, second) {
                // `count(x in xs where …)`
                (Some(c), _) if c.as_rule() == Rule::agg_count => (None, c),
                // `sum(x.a for x in xs where …)`
                (Some(e), Some(t))
                    if e.as_rule() == Rule::expr && t.as_rule() == Rule::agg_comprehension =>
                {
                    (Some(bx(visit_expr(ctx, e)?)), t)
                }
                // `min(a, b)`: a call of a function named like an aggregate.
                (first, second) => {
                    let args = first
                        .into_iter()
                        .chain(second)
                        .chain(it)
                        .map(|a| visit_arg(ctx, a))
                        .collect::<R<Vec<Arg>>>()?;
                    return Ok(Expr {
                        kind: ExprKind::Call(ident(ctx, &f), args),
                        span,
                    });
                }
            };
            let mut bi = tail.kids();
            let var = ident(ctx, &next(&mut bi, at)?);
            let over = visit_expr(ctx, next(&mut bi, at)?)?;
            let filter = match bi.next() {
                Some(w) => Some(bx(visit_expr(ctx, next(&mut w.kids(), at)?)?)),
                None => None,
            };
            Ok(Expr {
                kind: ExprKind::Agg {
                    kind,
                    body,
                    var,
                    over: bx(over),
                    filter,
                },
                span,
            })
        }
        Rule::match_expr => {
            let mut it = p.kids();
            let scrut = visit_expr(ctx, next(&mut it, at)?)?;
            let mut arms = Vec::new();
            for a in it {
                let aspan = ctx.span(&a);
                let aat = a.as_span().start();
                let mut ai = a.kids();
                let pats = next(&mut ai, aat)?.kids().map(|w| ident(ctx, &w)).collect();
                let body = visit_expr(ctx, next(&mut ai, aat)?)?;
                arms.push(MatchArm {
                    patterns: pats,
                    body,
                    span: aspan,
                });
            }
            Ok(Expr {
                kind: ExprKind::Match(bx(scrut), arms),
                span,
            })
        }
        Rule::date_lit
        | Rule::money_lit
        | Rule::percent_lit
        | Rule::decimal_lit
        | Rule::int_lit
        | Rule::bool_lit
        | Rule::string
        | Rule::duration_lit => {
            let l = visit_literal(ctx, p)?;
            Ok(Expr {
                kind: ExprKind::Lit(l.kind),
                span,
            })
        }
        _ => Err(Malformed(at)),
    }
}
