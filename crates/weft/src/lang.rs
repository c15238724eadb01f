//! The language of Weft's messages: English or Simplified Chinese, chosen
//! once per process by a front end (`weft --lang`, the locale, an editor's
//! locale). Diagnostics keep their codes in both languages.

use weft_msg as msg;

/// A language Weft speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    /// English.
    En,
    /// Simplified Chinese (`zh-CN`).
    ZhCn,
}

impl Lang {
    /// A language from a tag or a POSIX locale (`zh-CN`, `zh_CN.UTF-8`,
    /// `en`, `C`); `None` for one Weft does not speak.
    pub fn parse(s: &str) -> Option<Lang> {
        msg::Lang::parse(s).map(Lang::from_msg)
    }

    /// The BCP 47 tag: `en`, `zh-CN`.
    pub fn tag(self) -> &'static str {
        self.to_msg().tag()
    }

    fn from_msg(l: msg::Lang) -> Lang {
        match l {
            msg::Lang::En => Lang::En,
            msg::Lang::ZhCn => Lang::ZhCn,
        }
    }

    fn to_msg(self) -> msg::Lang {
        match self {
            Lang::En => msg::Lang::En,
            Lang::ZhCn => msg::Lang::ZhCn,
        }
    }
}

/// Set the language of the whole process.
pub fn set_lang(lang: Lang) {
    msg::set_lang(lang.to_msg());
}

/// The language in force.
pub fn lang() -> Lang {
    Lang::from_msg(msg::lang())
}

/// The language asked for (`--lang`), else the first of `LC_ALL`,
/// `LC_MESSAGES` and `LANG` that is set, else English. `Err` gives back a
/// `--lang` Weft does not speak.
pub fn detect(asked: Option<&str>) -> Result<Lang, String> {
    msg::detect(asked).map(Lang::from_msg)
}
