//! `weft doc`: a static, offline documentation site of a policy pack, for
//! drafters, auditors and the public.
//!
//! [`Site::build`] checks the pack again keeping the checker's semantic
//! model (`weft_check::model`), runs the pack's tests with the interpreter
//! for their outcomes and coverage, and renders, in memory:
//!
//! - `index.html` — the programmes (with their Chinese names), then every
//!   item of the pack by module;
//! - one page per programme (`programme.NAME.html`: its output columns and
//!   every rule and parameter its amounts depend on), rule
//!   (`rule.NAME.html`: citation, doc comment, the definition with every
//!   name linked — tables, scales and cascades as HTML tables —,
//!   exceptions, the inputs, rules and parameters it uses and the items
//!   that use it, its tests and their coverage), parameter
//!   (`param.NAME.html`: its versions as a step chart in inline SVG and as
//!   a table, with the citation and the file each version came from, and
//!   the assertions on it), record, enum and output;
//! - `tests.html` — every test with its outcome and the rules it checks,
//!   and what no test exercised;
//! - `style.css` (a system font stack with Noto/Source Han CJK fallbacks,
//!   so Chinese labels render without downloading a font) and
//!   `search.js` (the search box: an index of every item in the script
//!   itself, so it works from `file://` without a server).
//!
//! Names are unique across a pack, so a page's file is its kind and name.
//! Links are relative; [`Site::broken_links`] checks that every `href`
//! names a page of the site and, with a fragment, an `id` on that page.
//! The output holds no date or path of the machine: the same pack gives
//! the same site. [`Site::write`] puts it in a directory whole (staged
//! beside it, then renamed into place).

mod chart;
mod ctx;
mod html;
mod items;
mod links;
mod pages;
mod write;

use crate::{Engine, Error, Policy};

/// One file of a site: its path relative to the site's root and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SiteFile {
    /// `index.html`, `rule.dibao_benefit.html`, `style.css`, …
    pub path: String,
    /// The file's contents.
    pub text: String,
}

/// A link of a site that does not resolve.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BrokenLink {
    /// The page holding the link.
    pub page: String,
    /// The link as written (`rule.x.html#uses`).
    pub href: String,
    /// Why it does not resolve.
    pub problem: String,
}

/// The documentation site of a policy, in memory.
#[derive(Debug, Clone)]
pub struct Site {
    files: Vec<SiteFile>,
}

impl Site {
    /// Render the site of a policy. `title` names the pack (the command
    /// line gives its directory's name).
    ///
    /// ```
    /// let policy = weft::Policy::from_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../../policies/jilin"))?;
    /// let site = weft::doc::Site::build(&policy, "jilin")?;
    /// assert!(site.file("rule.dibao_benefit.html").is_some());
    /// assert!(site.broken_links().is_empty());
    /// # Ok::<(), weft::Error>(())
    /// ```
    pub fn build(policy: &Policy, title: &str) -> Result<Site, Error> {
        let compiled = weft_check::pack::compile_pack(&policy.inner.pack);
        if compiled.diagnostics.iter().any(|d| d.is_error()) {
            let sources = std::sync::Arc::new(compiled.sources);
            return Err(Error::Policy(crate::Diagnostics::new(
                compiled.diagnostics,
                sources,
            )));
        }
        let outcomes = policy.run_tests(Engine::Interpreter)?;
        let coverage = policy.test_coverage();
        let pack = &policy.inner.pack;
        let files = pack.modules.len() + pack.params.len() + pack.overlays.len();
        let doc = ctx::Doc::new(&compiled, title, files, &outcomes, &coverage);
        Ok(Site {
            files: pages::render(&doc),
        })
    }

    /// Every file, `index.html` first.
    pub fn files(&self) -> &[SiteFile] {
        &self.files
    }

    /// The text of one file.
    pub fn file(&self, path: &str) -> Option<&str> {
        self.files
            .iter()
            .find(|f| f.path == path)
            .map(|f| f.text.as_str())
    }

    /// Every link (`href`, `src`) that does not name a file of the site,
    /// or names an anchor its page does not have. Links out of the site
    /// (`https:`, `mailto:`) are not followed; the site has none.
    pub fn broken_links(&self) -> Vec<BrokenLink> {
        links::broken(&self.files)
    }

    /// Write the site to the directory `out`, whole: into a staging
    /// directory beside it, then renamed into place, so `out` holds the
    /// earlier site or the new one, never a mixture. `out` must not exist,
    /// be empty, or hold an earlier `weft doc` site (its `index.html` says
    /// so); anything else, a symbolic link included, is refused
    /// ([`Error::Usage`]) and left alone.
    /// One writer at a time ([`Error::Busy`]).
    pub fn write(&self, out: &std::path::Path) -> Result<(), Error> {
        write::write(&self.files, out)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn jilin() -> Policy {
        Policy::from_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../../policies/jilin")).unwrap()
    }

    /// Every rule, parameter, programme, record, enum and output of the
    /// Jilin pack has a page, the index links to every one of them, and
    /// every link of the site resolves.
    #[test]
    fn every_item_of_jilin_has_a_page_and_every_link_resolves() {
        let policy = jilin();
        let site = Site::build(&policy, "jilin").unwrap();
        let prog = &policy.inner.ir.hir;
        let index = site.file("index.html").unwrap();
        let mut pages: Vec<String> = Vec::new();
        pages.extend(prog.rules.iter().map(|r| format!("rule.{}.html", r.name)));
        pages.extend(prog.params.iter().map(|p| format!("param.{}.html", p.name)));
        pages.extend(
            prog.programmes
                .iter()
                .map(|p| format!("programme.{}.html", p.name)),
        );
        pages.extend(
            prog.records
                .iter()
                .map(|r| format!("record.{}.html", r.name)),
        );
        pages.extend(prog.enums.iter().map(|e| format!("enum.{}.html", e.name)));
        pages.extend(
            prog.outputs
                .iter()
                .map(|o| format!("output.{}.html", o.name)),
        );
        assert!(prog.rules.len() >= 40 && prog.params.len() > 20 && prog.programmes.len() > 10);
        for p in &pages {
            let text = site.file(p).unwrap_or_else(|| panic!("no page {p}"));
            assert!(text.contains("<h1>"), "{p}");
            assert!(
                index.contains(&format!("href=\"{p}\"")),
                "the index does not link {p}"
            );
        }
        // index, tests, the pages, the stylesheet and the script: nothing else.
        assert_eq!(site.files().len(), pages.len() + 4);
        assert_eq!(site.broken_links(), vec![]);
        // Links both ways: dibao_benefit uses dibao_eligible, which lists it
        // among its users.
        let benefit = site.file("rule.dibao_benefit.html").unwrap();
        let eligible = site.file("rule.dibao_eligible.html").unwrap();
        let uses = benefit.split("id=\"uses\"").nth(1).unwrap();
        assert!(uses.contains("href=\"rule.dibao_eligible.html\""));
        let used_by = eligible.split("id=\"used-by\"").nth(1).unwrap();
        assert!(used_by.contains("href=\"rule.dibao_benefit.html\""));
        // Chinese labels, marked as Chinese.
        assert!(index.contains("<span class=\"zh\" lang=\"zh-CN\">最低生活保障</span>"));
        // A parameter keyed by region has a chart with a line per region.
        let standard = site.file("param.dibao_standard_urban.html").unwrap();
        assert!(standard.contains("<svg class=\"chart\""));
        assert_eq!(standard.matches("<path d=").count(), 10);
        assert!(standard.contains("长春市"));
        // The search index names every item.
        let js = site.file("search.js").unwrap();
        for p in prog
            .rules
            .iter()
            .map(|r| &r.name)
            .chain(prog.params.iter().map(|p| &p.name))
        {
            assert!(
                js.contains(&format!("\"n\":\"{p}\"")),
                "{p} not in the search index"
            );
        }
    }

    #[test]
    fn a_broken_link_is_found() {
        let policy = jilin();
        let mut site = Site::build(&policy, "jilin").unwrap();
        let f = site
            .files
            .iter_mut()
            .find(|f| f.path == "rule.dibao_benefit.html")
            .unwrap();
        f.text = f.text.replace(
            "href=\"rule.dibao_eligible.html\"",
            "href=\"rule.dibao_eligble.html\"",
        );
        let broken = site.broken_links();
        assert!(!broken.is_empty());
        assert!(broken.iter().all(|b| b.page == "rule.dibao_benefit.html" && b.href == "rule.dibao_eligble.html"));
    }
}
