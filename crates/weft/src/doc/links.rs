//! Checking a site's links: every `href` and `src` names a file of the
//! site and, with a fragment, an `id` on that page.

use super::{BrokenLink, SiteFile};
use std::collections::{HashMap, HashSet};

/// The values of an attribute (`href="…"`) in a page, as written.
fn attribute_values<'t>(text: &'t str, attr: &str) -> Vec<&'t str> {
    let needle = format!(" {attr}=\"");
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find(&needle) {
        let after = rest.get(i + needle.len()..).unwrap_or_default();
        let Some(end) = after.find('"') else {
            break;
        };
        out.push(after.get(..end).unwrap_or_default());
        rest = after.get(end..).unwrap_or_default();
    }
    out
}

/// Undo `%XX` escapes (a link to `rule.特困.html` is written
/// `rule.%E7%89%B9%E5%9B%B0.html`) and `&amp;`.
pub(crate) fn decode(s: &str) -> Option<String> {
    let s = s.replace("&amp;", "&");
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

pub(crate) fn broken(files: &[SiteFile]) -> Vec<BrokenLink> {
    let paths: HashSet<&str> = files.iter().map(|f| f.path.as_str()).collect();
    let ids: HashMap<&str, HashSet<String>> = files
        .iter()
        .filter(|f| f.path.ends_with(".html"))
        .map(|f| {
            let ids = attribute_values(&f.text, "id")
                .into_iter()
                .filter_map(decode)
                .collect();
            (f.path.as_str(), ids)
        })
        .collect();
    let mut out = Vec::new();
    for f in files.iter().filter(|f| f.path.ends_with(".html")) {
        let links = attribute_values(&f.text, "href")
            .into_iter()
            .chain(attribute_values(&f.text, "src"));
        for href in links {
            let problem = check(href, &f.path, &paths, &ids);
            if let Some(problem) = problem {
                out.push(BrokenLink {
                    page: f.path.clone(),
                    href: href.to_string(),
                    problem,
                });
            }
        }
    }
    out
}

fn check(
    href: &str,
    page: &str,
    paths: &HashSet<&str>,
    ids: &HashMap<&str, HashSet<String>>,
) -> Option<String> {
    if href.starts_with("https:") || href.starts_with("http:") || href.starts_with("mailto:") {
        return None;
    }
    if href.is_empty() {
        return Some("an empty link".into());
    }
    let (path, fragment) = match href.split_once('#') {
        Some((p, f)) => (p, Some(f)),
        None => (href, None),
    };
    let Some(path) = decode(path) else {
        return Some("a malformed escape".into());
    };
    let target = if path.is_empty() { page } else { path.as_str() };
    if path.contains('/') || !paths.contains(target) {
        return Some(format!("no file `{target}` in the site"));
    }
    let fragment = fragment?;
    let Some(fragment) = decode(fragment) else {
        return Some("a malformed escape".into());
    };
    match ids.get(target) {
        Some(set) if set.contains(&fragment) => None,
        _ => Some(format!("`{target}` has no element with id `{fragment}`")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, text: &str) -> SiteFile {
        SiteFile {
            path: path.into(),
            text: text.into(),
        }
    }

    #[test]
    fn finds_missing_pages_and_anchors() {
        let files = vec![
            file(
                "index.html",
                r##"<a href="a.html">a</a> <a href="a.html#x">x</a> <a href="a.html#y">y</a> <a href="b.html">b</a> <a href="#top">top</a> <a href="%E7%89%B9.html">t</a> <script src="s.js"></script>"##,
            ),
            file("a.html", r#"<h2 id="x">x</h2>"#),
            file("特.html", ""),
            file("s.js", ""),
        ];
        let bad: Vec<(String, String)> = broken(&files)
            .into_iter()
            .map(|b| (b.href, b.problem))
            .collect();
        assert_eq!(
            bad,
            vec![
                (
                    "a.html#y".to_string(),
                    "`a.html` has no element with id `y`".to_string()
                ),
                (
                    "b.html".to_string(),
                    "no file `b.html` in the site".to_string()
                ),
                (
                    "#top".to_string(),
                    "`index.html` has no element with id `top`".to_string()
                ),
            ]
        );
    }
}
