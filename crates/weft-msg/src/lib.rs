//! Weft's message catalogue: the texts Weft shows people, in English and
//! Simplified Chinese, from one Fluent catalogue per language
//! (`locales/en/weft.ftl`, `locales/zh-CN/weft.ftl`) compiled into the
//! binary. A message has the same id in both languages; a test fails when
//! an id exists in one language only.
//!
//! The language is chosen once per process ([`set_lang`], from `--lang`
//! or the locale environment, see [`detect`]) and can be overridden for
//! the current thread ([`with_lang`], used by tests and by work handed to
//! another thread). Diagnostics keep their stable codes (`E0101`) in every
//! language.

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use std::cell::Cell;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU8, Ordering};

/// A language Weft speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    En,
    ZhCn,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::ZhCn];

    /// The BCP 47 tag: `en`, `zh-CN`.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::ZhCn => "zh-CN",
        }
    }

    /// A language from a tag or a POSIX locale: `zh-CN`, `zh_CN.UTF-8`,
    /// `zh`, `zh-Hans` → Chinese; `en`, `en_US.UTF-8`, `C`, `POSIX` →
    /// English. `None` for anything else.
    pub fn parse(s: &str) -> Option<Lang> {
        let base = s
            .split(['.', '@'])
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
            .replace('_', "-");
        if base == "zh"
            || base.starts_with("zh-cn")
            || base.starts_with("zh-hans")
            || base.starts_with("zh-sg")
        {
            Some(Lang::ZhCn)
        } else if base == "c" || base == "posix" || base == "en" || base.starts_with("en-") {
            Some(Lang::En)
        } else {
            None
        }
    }

    fn code(self) -> u8 {
        match self {
            Lang::En => 0,
            Lang::ZhCn => 1,
        }
    }

    fn from_code(c: u8) -> Lang {
        if c == 1 { Lang::ZhCn } else { Lang::En }
    }
}

static PROCESS: AtomicU8 = AtomicU8::new(0);

thread_local! {
    static THREAD: Cell<Option<Lang>> = const { Cell::new(None) };
}

/// Set the language of the whole process.
pub fn set_lang(lang: Lang) {
    PROCESS.store(lang.code(), Ordering::Relaxed);
}

/// The language in force on this thread.
pub fn lang() -> Lang {
    THREAD
        .with(Cell::get)
        .unwrap_or_else(|| Lang::from_code(PROCESS.load(Ordering::Relaxed)))
}

/// Run `f` with `lang` in force on this thread (restored afterwards).
pub fn with_lang<T>(lang: Lang, f: impl FnOnce() -> T) -> T {
    let before = THREAD.with(|t| t.replace(Some(lang)));
    struct Restore(Option<Lang>);
    impl Drop for Restore {
        fn drop(&mut self) {
            THREAD.with(|t| t.set(self.0));
        }
    }
    let _restore = Restore(before);
    f()
}

/// The language to use: the one asked for (`--lang`), else the first of
/// `LC_ALL`, `LC_MESSAGES` and `LANG` that is set and not empty (as POSIX
/// orders them), else English. `Err` names a `--lang` Weft does not speak.
pub fn detect(asked: Option<&str>) -> Result<Lang, String> {
    if let Some(a) = asked {
        return Lang::parse(a).ok_or_else(|| a.to_string());
    }
    for var in ["LC_ALL", "LC_MESSAGES", "LANG"] {
        if let Ok(v) = std::env::var(var)
            && !v.is_empty()
        {
            return Ok(Lang::parse(&v).unwrap_or(Lang::En));
        }
    }
    Ok(Lang::En)
}

const EN: &str = include_str!("../locales/en/weft.ftl");
const ZH_CN: &str = include_str!("../locales/zh-CN/weft.ftl");

/// The catalogue source of a language.
pub fn source(lang: Lang) -> &'static str {
    match lang {
        Lang::En => EN,
        Lang::ZhCn => ZH_CN,
    }
}

fn bundle(lang: Lang) -> &'static FluentBundle<FluentResource> {
    static BUNDLES: [OnceLock<FluentBundle<FluentResource>>; 2] =
        [OnceLock::new(), OnceLock::new()];
    BUNDLES[usize::from(lang.code())].get_or_init(|| {
        let id = lang.tag().parse().unwrap_or_default();
        let mut b = FluentBundle::new_concurrent(vec![id]);
        // No Unicode isolation marks around arguments: the texts go to
        // terminals, files and snapshots.
        b.set_use_isolating(false);
        let res = FluentResource::try_new(source(lang).to_string()).unwrap_or_else(|(res, _)| res);
        // Overriding is impossible (one resource); errors are caught by the
        // catalogue's tests.
        let _ = b.add_resource(res);
        b
    })
}

/// An argument of a message.
pub enum Arg<'a> {
    Text(&'a str),
    Owned(String),
    Int(i64),
}

impl<'a> From<&'a str> for Arg<'a> {
    fn from(s: &'a str) -> Self {
        Arg::Text(s)
    }
}

impl<'a> From<&'a String> for Arg<'a> {
    fn from(s: &'a String) -> Self {
        Arg::Text(s)
    }
}

impl From<String> for Arg<'_> {
    fn from(s: String) -> Self {
        Arg::Owned(s)
    }
}

impl From<usize> for Arg<'_> {
    fn from(n: usize) -> Self {
        Arg::Int(i64::try_from(n).unwrap_or(i64::MAX))
    }
}

impl From<i64> for Arg<'_> {
    fn from(n: i64) -> Self {
        Arg::Int(n)
    }
}

/// The message `id` (or its attribute, `id.attr`) in `lang`, with its
/// arguments. A message missing from the catalogue gives its id, so that a
/// gap shows rather than hides.
pub fn text_in(lang: Lang, id: &str, args: &[(&str, Arg<'_>)]) -> String {
    let b = bundle(lang);
    let (msg_id, attr) = match id.split_once('.') {
        Some((m, a)) => (m, Some(a)),
        None => (id, None),
    };
    let Some(msg) = b.get_message(msg_id) else {
        return id.to_string();
    };
    let pattern = match attr {
        Some(a) => msg.get_attribute(a).map(|x| x.value()),
        None => msg.value(),
    };
    let Some(pattern) = pattern else {
        return id.to_string();
    };
    let mut fargs = FluentArgs::new();
    for (k, v) in args {
        let v: FluentValue<'_> = match v {
            Arg::Text(s) => FluentValue::from(*s),
            Arg::Owned(s) => FluentValue::from(s.as_str()),
            // As digits, without grouping (`1,000` is not how codes and
            // counts are read back).
            Arg::Int(n) => FluentValue::from(n.to_string()),
        };
        fargs.set(*k, v);
    }
    let mut errors = Vec::new();
    b.format_pattern(pattern, Some(&fargs), &mut errors)
        .into_owned()
}

/// The message `id` in the language in force.
pub fn text(id: &str, args: &[(&str, Arg<'_>)]) -> String {
    text_in(lang(), id, args)
}

/// `t!("id")`, `t!("id", name = value, …)`: the message in the language in
/// force.
#[macro_export]
macro_rules! t {
    ($id:expr) => {
        $crate::text($id, &[])
    };
    ($id:expr, $($k:ident = $v:expr),+ $(,)?) => {
        $crate::text($id, &[$((stringify!($k), $crate::Arg::from($v))),+])
    };
}

/// The ids of a catalogue's messages and attributes (`id`, `id.attr`).
pub fn ids(lang: Lang) -> Vec<String> {
    let res = match FluentResource::try_new(source(lang).to_string()) {
        Ok(r) => r,
        Err((r, _)) => r,
    };
    let mut out = Vec::new();
    for entry in res.entries() {
        if let fluent_syntax::ast::Entry::Message(m) = entry {
            if m.value.is_some() {
                out.push(m.id.name.to_string());
            }
            for a in &m.attributes {
                out.push(format!("{}.{}", m.id.name, a.id.name));
            }
        }
    }
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_catalogues_parse_without_errors() {
        for lang in Lang::ALL {
            if let Err((_, errs)) = FluentResource::try_new(source(lang).to_string()) {
                panic!("{}: {errs:?}", lang.tag());
            }
        }
    }

    #[test]
    fn every_message_exists_in_both_languages() {
        let en = ids(Lang::En);
        let zh = ids(Lang::ZhCn);
        let only_en: Vec<_> = en.iter().filter(|i| !zh.contains(i)).collect();
        let only_zh: Vec<_> = zh.iter().filter(|i| !en.contains(i)).collect();
        assert!(
            only_en.is_empty() && only_zh.is_empty(),
            "only in en: {only_en:?}\nonly in zh-CN: {only_zh:?}"
        );
        assert!(!en.is_empty());
    }

    #[test]
    fn messages_format_in_each_language() {
        let en = text_in(Lang::En, "syntax-semicolon", &[]);
        let zh = text_in(Lang::ZhCn, "syntax-semicolon", &[]);
        assert_eq!(en, "unexpected `;`");
        assert_ne!(en, zh);
        assert_eq!(with_lang(Lang::ZhCn, || text("syntax-semicolon", &[])), zh);
        assert_eq!(text_in(Lang::En, "no-such-message", &[]), "no-such-message");
        let found = text_in(Lang::En, "did-you-mean", &[("name", Arg::from("dibao"))]);
        assert_eq!(found, "did you mean `dibao`?");
        let label = text_in(Lang::ZhCn, "no-field.label", &[]);
        assert_eq!(label, "没有这个字段");
    }

    #[test]
    fn locales_are_read_as_posix_orders_them() {
        assert_eq!(Lang::parse("zh_CN.UTF-8"), Some(Lang::ZhCn));
        assert_eq!(Lang::parse("zh-CN"), Some(Lang::ZhCn));
        assert_eq!(Lang::parse("en_US.UTF-8"), Some(Lang::En));
        assert_eq!(Lang::parse("C"), Some(Lang::En));
        assert_eq!(Lang::parse("fr_FR"), None);
        assert_eq!(detect(Some("zh-CN")), Ok(Lang::ZhCn));
        assert_eq!(detect(Some("klingon")), Err("klingon".to_string()));
    }
}
