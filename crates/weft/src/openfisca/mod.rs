//! OpenFisca's YAML test files, run unmodified against a pack
//! (`weft test POLICY --yaml DIR`).
//!
//! The pack declares in `openfisca.yaml` how OpenFisca's entities, roles,
//! variables, parameters and reforms map to its records, fields, rules and
//! files (see `docs/openfisca.md`). Each YAML test becomes one Weft `test`
//! block per month it evaluates — its situation as records, each expected
//! output as expectations — in a module added to the pack (with the test's
//! reforms and parameter changes applied), which is checked and run like
//! the pack's own tests, on every engine asked for. An output is evaluated
//! as of each period it names (a year as of its January); an input given
//! by period is taken for the month evaluated. What the format says that
//! Weft cannot do yet makes the test fail with a reason naming the missing
//! construct: nothing is skipped silently.

mod exact;
mod mapping;

pub use mapping::MAPPING_FILE;

use crate::{Engine, Error, Policy};
use exact::Q;
use mapping::{DefPeriod, Mapping, ParamTarget, Target, Variable};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use weft_check::hir::{Program, RecordDef};
use weft_check::ty::{DurUnit, Ty};
use weft_syntax::num;
use yaml_rust2::{Yaml, YamlLoader};

/// The name of the module holding the tests made from a YAML test.
const MODULE: &str = "openfisca_yaml_test";

/// The outcome of one OpenFisca YAML test.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct YamlTestOutcome {
    /// The file, relative to the directory searched.
    pub file: String,
    /// The test's 1-based position in its file.
    pub index: usize,
    /// The test's `name` (or `test N` without one).
    pub name: String,
    /// How many values it checks (outputs × instances × periods).
    pub expectations: usize,
    /// Why it failed: each expectation that did not hold (with the engine
    /// when the engines disagree), or what of the test Weft cannot run.
    pub failures: Vec<String>,
    /// Keys of the test that were ignored, and why.
    pub notes: Vec<String>,
}

impl YamlTestOutcome {
    /// Whether every expectation held on every engine.
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// Every `.yaml`/`.yml` file below `dir` (or `dir` itself), sorted.
fn yaml_files(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    fn walk(d: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(d)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(&p, out)?;
            } else if matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")) {
                out.push(p);
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    if dir.is_file() {
        out.push(dir.to_path_buf());
    } else {
        walk(dir, &mut out).map_err(|source| Error::Io {
            doing: "cannot read the tests in",
            path: dir.to_path_buf(),
            source,
        })?;
    }
    Ok(out)
}

impl Policy {
    /// Run OpenFisca YAML test files (every `.yaml`/`.yml` file below
    /// `tests`, or that file) against this policy, loaded from `pack_dir`,
    /// whose `openfisca.yaml` declares the mapping, on each engine given.
    pub fn run_openfisca_tests(
        &self,
        pack_dir: &Path,
        tests: &Path,
        engines: &[Engine],
    ) -> Result<Vec<YamlTestOutcome>, Error> {
        let mapping = Mapping::from_dir(pack_dir).map_err(Error::Input)?;
        let files = yaml_files(tests)?;
        if files.is_empty() {
            return Err(Error::Input(format!(
                "no .yaml or .yml file in {}",
                tests.display()
            )));
        }
        let runner = Runner {
            policy: self,
            pack_dir,
            mapping: &mapping,
            engines,
        };
        let mut out = Vec::new();
        for f in files {
            let rel = f
                .strip_prefix(tests)
                .ok()
                .filter(|r| !r.as_os_str().is_empty())
                .unwrap_or(&f)
                .to_string_lossy()
                .replace('\\', "/");
            let text = crate::files::read_text(&f)?;
            let docs = match YamlLoader::load_from_str(&text) {
                Ok(d) => d,
                Err(e) => {
                    out.push(YamlTestOutcome {
                        file: rel,
                        index: 0,
                        name: "(the file)".into(),
                        expectations: 0,
                        failures: vec![format!("not valid YAML: {e}")],
                        notes: Vec::new(),
                    });
                    continue;
                }
            };
            let tests: Vec<&Yaml> = docs
                .iter()
                .flat_map(|d| match d {
                    Yaml::Array(a) => a.iter().collect::<Vec<_>>(),
                    Yaml::Null => Vec::new(),
                    other => vec![other],
                })
                .collect();
            for (i, t) in tests.into_iter().enumerate() {
                out.push(runner.run(&rel, i + 1, t));
            }
        }
        Ok(out)
    }
}

struct Runner<'a> {
    policy: &'a Policy,
    pack_dir: &'a Path,
    mapping: &'a Mapping,
    engines: &'a [Engine],
}

/// An OpenFisca period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Period {
    Month(i32, u32),
    Year(i32),
    Eternity,
}

impl Period {
    fn parse(y: &Yaml) -> Result<Period, String> {
        let s = match y {
            Yaml::Integer(i) => i.to_string(),
            Yaml::String(s) => s.trim().to_string(),
            _ => return Err(format!("`{}` is not a period", show(y))),
        };
        if s == "ETERNITY" || s == "eternity" {
            return Ok(Period::Eternity);
        }
        let bad = || {
            format!(
                "the period `{s}` is not supported: give a month (2017-01), a year (2017) or ETERNITY"
            )
        };
        match s.split('-').collect::<Vec<_>>()[..] {
            [y] if y.len() == 4 => y.parse().map(Period::Year).map_err(|_| bad()),
            [y, m] if y.len() == 4 && m.len() == 2 => {
                let y: i32 = y.parse().map_err(|_| bad())?;
                let m: u32 = m.parse().map_err(|_| bad())?;
                if (1..=12).contains(&m) {
                    Ok(Period::Month(y, m))
                } else {
                    Err(bad())
                }
            }
            _ => Err(bad()),
        }
    }

    fn contains(self, y: i32, m: u32) -> bool {
        match self {
            Period::Month(py, pm) => py == y && pm == m,
            Period::Year(py) => py == y,
            Period::Eternity => true,
        }
    }
}

impl std::fmt::Display for Period {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Period::Month(y, m) => write!(f, "{y:04}-{m:02}"),
            Period::Year(y) => write!(f, "{y:04}"),
            Period::Eternity => f.write_str("ETERNITY"),
        }
    }
}

/// A YAML scalar as written.
fn show(y: &Yaml) -> String {
    match y {
        Yaml::String(s) | Yaml::Real(s) => s.clone(),
        Yaml::Integer(i) => i.to_string(),
        Yaml::Boolean(b) => b.to_string(),
        Yaml::Null => "null".into(),
        Yaml::Array(a) => format!("[{}]", a.iter().map(show).collect::<Vec<_>>().join(", ")),
        Yaml::Hash(_) => "{…}".into(),
        _ => "?".into(),
    }
}

fn key_text(y: &Yaml) -> Option<String> {
    match y {
        Yaml::String(s) | Yaml::Real(s) => Some(s.clone()),
        Yaml::Integer(i) => Some(i.to_string()),
        _ => None,
    }
}

/// A value given for an input: as written, or by period.
#[derive(Debug, Clone)]
enum Given {
    Plain(Yaml),
    ByPeriod(Vec<(Period, Yaml)>),
}

fn given(y: &Yaml) -> Result<Given, String> {
    match y {
        Yaml::Hash(h) => {
            let mut v = Vec::new();
            for (k, x) in h {
                v.push((Period::parse(k)?, x.clone()));
            }
            Ok(Given::ByPeriod(v))
        }
        other => Ok(Given::Plain(other.clone())),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ent {
    Person,
    Group(usize),
}

/// One person or group of the test's situation.
#[derive(Debug, Clone)]
struct Inst {
    ent: Ent,
    /// The name the YAML gives it (`Alicia`), or a made-up one.
    yaml: String,
    /// Its name in the generated test.
    weft: String,
    /// Whether the YAML names it (otherwise `yaml` is made up).
    named: bool,
    inputs: Vec<(String, Given)>,
    /// For a person: for each group entity, the group instance and the
    /// role code.
    groups: Vec<Option<(usize, String)>>,
}

/// One value an output expects.
#[derive(Debug, Clone)]
struct Expect {
    var: String,
    inst: usize,
    period: Period,
    /// The month evaluated (its first day).
    month: (i32, u32),
    value: Yaml,
}

/// What a generated `expect` line checks.
#[derive(Debug, Clone)]
struct Line {
    /// Index into the test's expectations.
    expect: usize,
}

/// A failure of the test, said once.
type Fail = String;

impl Runner<'_> {
    fn run(&self, file: &str, index: usize, t: &Yaml) -> YamlTestOutcome {
        let name = t["name"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| format!("test {index}"));
        let mut out = YamlTestOutcome {
            file: file.to_string(),
            index,
            name,
            expectations: 0,
            failures: Vec::new(),
            notes: Vec::new(),
        };
        match self.run_inner(t, &mut out) {
            Ok(()) => {}
            Err(f) => out.failures.push(f),
        }
        out
    }

    fn run_inner(&self, t: &Yaml, out: &mut YamlTestOutcome) -> Result<(), Fail> {
        let Yaml::Hash(h) = t else {
            return Err("a test should be a mapping (name, period, input, output…)".into());
        };
        for k in h.keys() {
            let k = key_text(k).unwrap_or_default();
            match k.as_str() {
                "name"
                | "period"
                | "input"
                | "output"
                | "absolute_error_margin"
                | "relative_error_margin"
                | "reforms"
                | "parameters" => {}
                "description" | "keywords" => {}
                "max_spiral_loops" => out.notes.push(
                    "`max_spiral_loops` ignored: Weft rules cannot depend on themselves".into(),
                ),
                "extensions" => {
                    return Err("`extensions` is not supported: a Weft pack has no extension packages (write the extension's rules in the pack)".into());
                }
                "only_variables" | "ignore_variables" => {
                    return Err(format!(
                        "`{k}` is an option of OpenFisca's command line, not of a test: give the outputs to check"
                    ));
                }
                other => return Err(format!("unknown key `{other}` in the test")),
            }
        }
        // Reforms, and the variables they add.
        let mut variables = self.mapping.variables.clone();
        let mut reforms = Vec::new();
        let names: Vec<String> = match &t["reforms"] {
            Yaml::BadValue | Yaml::Null => Vec::new(),
            Yaml::Array(a) => a.iter().filter_map(key_text).collect(),
            y => key_text(y).into_iter().collect(),
        };
        for n in names {
            let r = self.mapping.reforms.get(&n).ok_or_else(|| {
                format!("the reform `{n}` is not declared in the pack's {MAPPING_FILE} (reforms)")
            })?;
            variables.extend(r.variables.clone());
            reforms.push(r);
        }
        let margins = (
            margins(&t["absolute_error_margin"])?,
            margins(&t["relative_error_margin"])?,
        );
        let period = match &t["period"] {
            Yaml::BadValue | Yaml::Null => None,
            y => Some(Period::parse(y)?),
        };
        let policy = self.variant(&reforms, &t["parameters"])?;
        let prog = &policy.ir().hir;
        let vars = Vars {
            prog,
            mapping: self.mapping,
            variables: &variables,
        };
        let mut insts = self.situation(&vars, &t["input"])?;
        let expects = self.outputs(&vars, &t["output"], period, &mut insts)?;
        out.expectations = expects.len();
        if expects.is_empty() {
            return Err("the test has no output to check".into());
        }
        // One Weft test per month evaluated.
        let mut months: BTreeMap<(i32, u32), Vec<usize>> = BTreeMap::new();
        for (i, e) in expects.iter().enumerate() {
            months.entry(e.month).or_default().push(i);
        }
        let mut text = String::from("// Made by `weft test --yaml` from an OpenFisca YAML test.\n");
        for m in &prog.modules {
            if m.name != MODULE {
                text.push_str(&format!("import {}\n", m.name));
            }
        }
        let mut lines_by_test: Vec<((i32, u32), Vec<Line>)> = Vec::new();
        for ((y, m), idx) in &months {
            text.push_str(&format!(
                "\ntest \"{y:04}-{m:02}\" as of {y:04}-{m:02} {{\n"
            ));
            for inst in &insts {
                text.push_str(&format!(
                    "  {} {} {{ {} }}\n",
                    vars.record(inst.ent)
                        .map(|r| r.name.as_str())
                        .unwrap_or("?"),
                    inst.weft,
                    self.fields(&vars, &insts, inst, period, (*y, *m))?
                        .join(", ")
                ));
            }
            let mut lines = Vec::new();
            for &i in idx {
                for l in expect_lines(
                    &vars,
                    &insts,
                    &expects[i],
                    (margins.0.of(&expects[i].var), margins.1.of(&expects[i].var)),
                )? {
                    text.push_str(&format!("  expect {l}\n"));
                    lines.push(Line { expect: i });
                }
            }
            text.push_str("}\n");
            lines_by_test.push(((*y, *m), lines));
        }
        // Check and run.
        let mut pack = policy.inner.pack.clone();
        pack.modules.push((format!("{MODULE}.weft"), text));
        let tested = Policy::compile(pack).map_err(|e| match e {
            Error::Policy(d) => {
                let first = d.iter().find(|x| x.is_error);
                match first {
                    Some(x) => format!(
                        "the test's situation does not fit the pack: {}{}",
                        x.message,
                        x.help.map(|h| format!(" ({h})")).unwrap_or_default()
                    ),
                    None => "the test's situation does not fit the pack".into(),
                }
            }
            other => other.to_string(),
        })?;
        // The instances exist in the program with the tests.
        self.january_check(tested.ir(), &vars, &insts, &expects, period)?;
        let mut per_engine: Vec<(&'static str, Vec<String>)> = Vec::new();
        for e in self.engines {
            let results = tested.run_tests(*e).map_err(|x| x.to_string())?;
            let mut msgs = Vec::new();
            for r in results.iter().filter(|r| r.module == MODULE) {
                let Some((month, lines)) = lines_by_test
                    .iter()
                    .find(|((y, m), _)| r.name == format!("{y:04}-{m:02}"))
                else {
                    continue;
                };
                let mut seen = Vec::new();
                for f in &r.failures {
                    if f.expectation == 0 {
                        // Records named as the YAML names them.
                        let mut m = f.message.clone();
                        for inst in &insts {
                            m = m.replace(&format!("`{}`", inst.weft), &describe(&vars, inst));
                        }
                        msgs.push(format!("in {:04}-{:02}: {m}", month.0, month.1));
                        continue;
                    }
                    let Some(line) = lines.get(f.expectation - 1) else {
                        msgs.push(f.message.clone());
                        continue;
                    };
                    if seen.contains(&line.expect) {
                        continue;
                    }
                    seen.push(line.expect);
                    let x = &expects[line.expect];
                    let got = f
                        .message
                        .strip_prefix("got ")
                        .and_then(|r| r.split(", expected ").next())
                        .map(|g| format!("got {g}"))
                        .unwrap_or_else(|| f.message.clone());
                    msgs.push(format!(
                        "`{}` of {} in {}: {got}, expected {}",
                        x.var,
                        describe(&vars, &insts[x.inst]),
                        x.period,
                        expected_text(&x.value, (margins.0.of(&x.var), margins.1.of(&x.var)))
                    ));
                }
            }
            per_engine.push((e.name(), msgs));
        }
        let same = per_engine.windows(2).all(|w| w[0].1 == w[1].1);
        for (i, (eng, msgs)) in per_engine.iter().enumerate() {
            if same && i > 0 {
                break;
            }
            for m in msgs {
                out.failures.push(if same {
                    m.clone()
                } else {
                    format!("[{eng}] {m}")
                });
            }
        }
        Ok(())
    }

    /// The policy with the test's reforms and parameter changes applied.
    fn variant(&self, reforms: &[&mapping::Reform], params: &Yaml) -> Result<Policy, Fail> {
        let overlay = match params {
            Yaml::BadValue | Yaml::Null => None,
            y => Some(self.param_overlay(y)?),
        };
        if reforms.is_empty() && overlay.is_none() {
            return Ok(self.policy.clone());
        }
        let mut pack = self.policy.inner.pack.clone();
        for r in reforms {
            for (path, file) in &r.modules {
                let text = crate::files::read_text(&self.pack_dir.join(file))
                    .map_err(|e| e.to_string())?;
                match pack.modules.iter_mut().find(|(p, _)| p == path) {
                    Some(slot) => slot.1 = text,
                    None => pack.modules.push((path.clone(), text)),
                }
            }
            for file in &r.params {
                let text = crate::files::read_text(&self.pack_dir.join(file))
                    .map_err(|e| e.to_string())?;
                pack.overlays.push((file.clone(), text));
            }
        }
        if let Some(o) = overlay {
            pack.overlays
                .push(("(the test's parameters).toml".into(), o));
        }
        Policy::compile(pack).map_err(|e| match e {
            Error::Policy(d) => format!(
                "the reformed pack does not check: {}",
                d.iter()
                    .find(|x| x.is_error)
                    .map(|x| format!("{} ({})", x.message, x.location.unwrap_or_default()))
                    .unwrap_or_default()
            ),
            other => other.to_string(),
        })
    }

    /// A test's `parameters:` as a parameter overlay: each parameter node
    /// given replaces that parameter's history.
    fn param_overlay(&self, y: &Yaml) -> Result<String, Fail> {
        let mut leaves = Vec::new();
        collect_params(y, String::new(), &mut leaves)?;
        let prog = &self.policy.ir().hir;
        let mut toml = String::new();
        for (path, node) in leaves {
            let target = self.mapping.parameters.get(&path).ok_or_else(|| {
                format!("the parameter `{path}` is not declared in the pack's {MAPPING_FILE} (parameters)")
            })?;
            let name = match target {
                ParamTarget::Param(n) => n,
                ParamTarget::Written(w) => {
                    return Err(format!(
                        "the test changes `{path}`, whose values are written in `{w}`: Weft cannot yet take a flat or amount scale's bands from a parameter"
                    ));
                }
            };
            let p = prog
                .params
                .iter()
                .find(|p| &p.name == name)
                .ok_or_else(|| format!("the pack has no parameter `{name}` ({path})"))?;
            let Yaml::Hash(values) = &node["values"] else {
                return Err(format!(
                    "the test changes `{path}` without `values`: only parameters with dated values can be changed"
                ));
            };
            toml.push_str(&format!("[{name}]\nreplace = true\n"));
            for (date, v) in values {
                let date = key_text(date).unwrap_or_default();
                let d = num::parse_date(&date)
                    .ok_or_else(|| format!("`{date}` is not a date (in `{path}`)"))?;
                let v = match v {
                    Yaml::Hash(_) => &v["value"],
                    other => other,
                };
                if matches!(v, Yaml::Null) {
                    return Err(format!(
                        "the test ends `{path}` on {date} (value: null): a Weft parameter cannot end yet"
                    ));
                }
                let text = param_value(&p.ty, v)
                    .ok_or_else(|| format!("`{}` is not a value of `{name}` ({path})", show(v)))?;
                toml.push_str(&format!(
                    "[[{name}.version]]\neffective = {}\nvalue = {text}\n",
                    num::format_date(d)
                ));
            }
        }
        Ok(toml)
    }

    /// The persons and groups of the test's `input`.
    fn situation(&self, vars: &Vars, input: &Yaml) -> Result<Vec<Inst>, Fail> {
        let m = self.mapping;
        let mut insts: Vec<Inst> = Vec::new();
        let Yaml::Hash(h) = input else {
            return match input {
                Yaml::BadValue | Yaml::Null => Ok(Vec::new()),
                _ => Err("`input` should be a mapping".into()),
            };
        };
        let is_entity_key =
            |k: &str| k == m.person.plural || m.groups.iter().any(|g| g.key == k || g.plural == k);
        let structured = h.keys().filter_map(key_text).any(|k| is_entity_key(&k));
        if !structured {
            // Variables of a single situation, possibly as vectors: `count`
            // persons, each alone in a group of each group entity.
            let mut count = 1usize;
            for v in h.values() {
                if let Yaml::Array(a) = v {
                    if count != 1 && a.len() != count && a.len() != 1 {
                        return Err("the input vectors have different lengths".into());
                    }
                    count = count.max(a.len());
                }
            }
            default_situation(m, count, &mut insts);
            for (k, v) in h {
                let var = key_text(k).unwrap_or_default();
                let ent = vars.entity_of(&var)?;
                let targets: Vec<usize> = insts
                    .iter()
                    .enumerate()
                    .filter(|(_, i)| i.ent == ent)
                    .map(|(i, _)| i)
                    .collect();
                for (n, &i) in targets.iter().enumerate() {
                    let item = match v {
                        Yaml::Array(a) => a.get(n).or(a.first()).cloned().unwrap_or(Yaml::Null),
                        other => other.clone(),
                    };
                    insts[i].inputs.push((var.clone(), given(&item)?));
                }
            }
            return Ok(insts);
        }
        // Persons first (groups name them).
        let mut person_names = Vec::new();
        for (k, v) in h {
            let k = key_text(k).unwrap_or_default();
            if k == m.person.plural {
                let Yaml::Hash(ps) = v else {
                    return Err(format!(
                        "`{k}` should map each person's name to its variables"
                    ));
                };
                for (pn, pv) in ps {
                    let pn = key_text(pn).unwrap_or_default();
                    let mut inst = Inst {
                        ent: Ent::Person,
                        yaml: pn.clone(),
                        weft: format!("P{}", person_names.len() + 1),
                        named: true,
                        inputs: Vec::new(),
                        groups: vec![None; m.groups.len()],
                    };
                    for (vk, vv) in hash_items(pv, &format!("person `{pn}`"))? {
                        if vars.entity_of(&vk)? != Ent::Person {
                            return Err(format!(
                                "`{vk}` is not a variable of a {}: it cannot be given for `{pn}`",
                                m.person.key
                            ));
                        }
                        inst.inputs.push((vk, given(vv)?));
                    }
                    person_names.push(pn);
                    insts.push(inst);
                }
            } else if !is_entity_key(&k) {
                return Err(format!(
                    "`{k}` is given beside the entities: give it inside its entity"
                ));
            }
        }
        for (gi, g) in m.groups.iter().enumerate() {
            let mut made = 0usize;
            for (k, v) in h {
                let k = key_text(k).unwrap_or_default();
                let entries: Vec<(String, &Yaml)> = if k == g.key {
                    vec![(format!("the {}", g.key), v)]
                } else if k == g.plural {
                    hash_items(v, &format!("`{k}`"))?
                } else {
                    continue;
                };
                for (gn, gv) in entries {
                    made += 1;
                    let idx = insts.len();
                    let mut inst = Inst {
                        ent: Ent::Group(gi),
                        yaml: gn.clone(),
                        weft: format!("{}{made}", group_prefix(gi)),
                        named: k == g.plural,
                        inputs: Vec::new(),
                        groups: Vec::new(),
                    };
                    for (vk, vv) in hash_items(gv, &format!("{} `{gn}`", g.key))? {
                        if let Some((_, code)) = g.roles.iter().find(|(r, _)| *r == vk) {
                            let members: Vec<String> = match vv {
                                Yaml::Array(a) => a.iter().filter_map(key_text).collect(),
                                y => key_text(y).into_iter().collect(),
                            };
                            for mn in members {
                                let pi = person_names.iter().position(|p| *p == mn).ok_or_else(
                                    || {
                                        format!(
                                            "`{mn}` ({} of `{gn}`) is not among the persons",
                                            vk
                                        )
                                    },
                                )?;
                                if insts[pi].groups[gi].is_some() {
                                    return Err(format!("`{mn}` is in two {}", g.plural));
                                }
                                insts[pi].groups[gi] = Some((idx, code.clone()));
                            }
                            continue;
                        }
                        if vars.entity_of(&vk)? != Ent::Group(gi) {
                            return Err(format!(
                                "`{vk}` is neither a role nor a variable of a {}",
                                g.key
                            ));
                        }
                        inst.inputs.push((vk, given(vv)?));
                    }
                    insts.push(inst);
                }
            }
            // Persons in no group of this entity: one group each, in the
            // first role (as OpenFisca does).
            for pi in 0..insts.len() {
                if insts[pi].ent == Ent::Person && insts[pi].groups[gi].is_none() {
                    made += 1;
                    let idx = insts.len();
                    let role = g.roles.first().map(|r| r.1.clone()).unwrap_or_default();
                    insts[pi].groups[gi] = Some((idx, role));
                    let yaml = format!("{} of {}", g.key, insts[pi].yaml);
                    insts.push(Inst {
                        ent: Ent::Group(gi),
                        yaml,
                        weft: format!("{}{made}", group_prefix(gi)),
                        named: false,
                        inputs: Vec::new(),
                        groups: Vec::new(),
                    });
                }
            }
        }
        if person_names.is_empty() {
            return Err(format!(
                "the test gives no {}: OpenFisca builds none either",
                m.person.plural
            ));
        }
        Ok(insts)
    }

    /// The values the test's `output` expects.
    fn outputs(
        &self,
        vars: &Vars,
        output: &Yaml,
        period: Option<Period>,
        insts: &mut Vec<Inst>,
    ) -> Result<Vec<Expect>, Fail> {
        let m = self.mapping;
        let Yaml::Hash(h) = output else {
            return Err("the test has no `output` mapping".into());
        };
        if insts.is_empty() {
            // No input: the default situation of one person.
            let mut count = 1;
            for v in h.values() {
                if let Yaml::Array(a) = v {
                    count = count.max(a.len());
                }
            }
            default_situation(m, count, insts);
        }
        let mut out = Vec::new();
        for (k, v) in h {
            let k = key_text(k).unwrap_or_default();
            if k == m.person.plural {
                for (pn, pv) in hash_items(v, &format!("`{k}`"))? {
                    let i = insts
                        .iter()
                        .position(|x| x.ent == Ent::Person && x.yaml == pn)
                        .ok_or_else(|| format!("the output names `{pn}`, not among the persons"))?;
                    for (vk, vv) in hash_items(pv, &format!("`{pn}`"))? {
                        same_entity(vars, &vk, &insts[i])?;
                        self.expect(vars, &vk, &[i], vv, period, &mut out)?;
                    }
                }
                continue;
            }
            // An entity's plural: instances by name.
            if let Some((gi, g)) = m.groups.iter().enumerate().find(|(_, g)| g.plural == k) {
                for (gn, gv) in hash_items(v, &format!("`{k}`"))? {
                    let i = insts
                        .iter()
                        .position(|x| x.ent == Ent::Group(gi) && x.yaml == gn)
                        .ok_or_else(|| {
                            format!("the output names the {} `{gn}`, not in the input", g.key)
                        })?;
                    for (vk, vv) in hash_items(gv, &format!("`{gn}`"))? {
                        same_entity(vars, &vk, &insts[i])?;
                        self.expect(vars, &vk, &[i], vv, period, &mut out)?;
                    }
                }
                continue;
            }
            // An entity's singular (`household:`): its variables over every
            // instance, as a variable given alone is (OpenFisca's reading).
            let singular: Option<Ent> = if k == m.person.key {
                Some(Ent::Person)
            } else {
                m.groups.iter().position(|g| g.key == k).map(Ent::Group)
            };
            if let Some(ent) = singular {
                for (vk, vv) in hash_items(v, &format!("`{k}`"))? {
                    if vars.entity_of(&vk)? != ent {
                        return Err(format!("`{vk}` is not a variable of a {k}"));
                    }
                    let targets: Vec<usize> = insts
                        .iter()
                        .enumerate()
                        .filter(|(_, x)| x.ent == ent)
                        .map(|(i, _)| i)
                        .collect();
                    self.expect(vars, &vk, &targets, vv, period, &mut out)?;
                }
                continue;
            }
            // A variable over every instance of its entity.
            let ent = vars.entity_of(&k)?;
            let targets: Vec<usize> = insts
                .iter()
                .enumerate()
                .filter(|(_, x)| x.ent == ent)
                .map(|(i, _)| i)
                .collect();
            self.expect(vars, &k, &targets, v, period, &mut out)?;
        }
        Ok(out)
    }

    /// The expectations of one variable's output for some instances: a
    /// value (or a vector, one per instance), or values by period.
    fn expect(
        &self,
        vars: &Vars,
        var: &str,
        targets: &[usize],
        v: &Yaml,
        period: Option<Period>,
        out: &mut Vec<Expect>,
    ) -> Result<(), Fail> {
        let def = vars.variable(var)?;
        let by_period: Vec<(Period, &Yaml)> = match v {
            Yaml::Hash(h) => h
                .iter()
                .map(|(k, x)| Ok((Period::parse(k)?, x)))
                .collect::<Result<_, String>>()?,
            other => vec![(
                period.ok_or_else(|| {
                    format!("`{var}` is expected without a period and the test has none")
                })?,
                other,
            )],
        };
        for (p, x) in by_period {
            let month = eval_month(var, def, p, period)?;
            match x {
                Yaml::Array(a) => {
                    if a.len() != targets.len() {
                        return Err(format!(
                            "`{var}` expects {} values for {} instances",
                            a.len(),
                            targets.len()
                        ));
                    }
                    for (i, xv) in targets.iter().zip(a) {
                        out.push(Expect {
                            var: var.to_string(),
                            inst: *i,
                            period: p,
                            month,
                            value: xv.clone(),
                        });
                    }
                }
                other => {
                    for i in targets {
                        out.push(Expect {
                            var: var.to_string(),
                            inst: *i,
                            period: p,
                            month,
                            value: other.clone(),
                        });
                    }
                }
            }
        }
        Ok(())
    }

    /// `field: value` texts of an instance for the month evaluated.
    fn fields(
        &self,
        vars: &Vars,
        insts: &[Inst],
        inst: &Inst,
        period: Option<Period>,
        month: (i32, u32),
    ) -> Result<Vec<String>, Fail> {
        let mut out = Vec::new();
        if let Ent::Person = inst.ent {
            for (gi, g) in self.mapping.groups.iter().enumerate() {
                if let Some((gidx, role)) = &inst.groups[gi] {
                    out.push(format!("{}: {}", g.link, insts[*gidx].weft));
                    if let Some(rf) = &g.role_field {
                        out.push(format!("{rf}: {role}"));
                    }
                }
            }
        }
        let rec = vars.record(inst.ent).ok_or("no record")?;
        for (var, g) in &inst.inputs {
            let def = vars.variable(var)?;
            let field = match &def.target {
                Target::Field(f) => f,
                Target::Rule(r) => {
                    return Err(format!(
                        "`{var}` is given as an input, but the pack computes it (rule `{r}`): a test cannot give a rule's value yet"
                    ));
                }
            };
            let Some(value) = input_at(var, def, g, period, month)? else {
                continue;
            };
            let (_, fd) = rec
                .field(field)
                .ok_or_else(|| format!("`{}` has no field `{field}` ({var})", rec.name))?;
            let lit = literal(vars.prog, &fd.ty, &value)
                .map_err(|e| format!("`{var}` of {}: {e}", describe(vars, inst)))?;
            out.push(format!("{field}: {lit}"));
        }
        Ok(out)
    }

    /// A yearly rule that reads the year's first month, evaluated as of
    /// another month, reads that month's inputs where OpenFisca reads
    /// January's: refuse when they differ.
    fn january_check(
        &self,
        ir: &weft_ir::Ir,
        vars: &Vars,
        insts: &[Inst],
        expects: &[Expect],
        period: Option<Period>,
    ) -> Result<(), Fail> {
        let yearly: Vec<&String> = vars
            .variables
            .iter()
            .filter(|(_, v)| v.period == DefPeriod::Year && matches!(v.target, Target::Rule(_)))
            .map(|(k, _)| k)
            .collect();
        // The entities whose fields those rules read (their own).
        let ents: Vec<Ent> = yearly
            .iter()
            .filter_map(|v| vars.entity_of(v).ok())
            .collect();
        if yearly.is_empty() {
            return Ok(());
        }
        let insts_of = |rule: &str| -> Vec<weft_ir::InstId> {
            ir.instances
                .iter()
                .enumerate()
                .filter(|(_, i)| i.kind == weft_ir::InstKind::Rule && i.name == rule)
                .filter_map(|(n, _)| weft_ir::InstId::try_from(n).ok())
                .collect()
        };
        for e in expects {
            let (y, m) = e.month;
            if m == 1 {
                continue;
            }
            // Only a rule that reads one of the yearly rules.
            let Ok(Target::Rule(r)) = vars.variable(&e.var).map(|v| v.target.clone()) else {
                continue;
            };
            let reached = weft_ir::bind::reachable(ir, &insts_of(&r));
            let read: Vec<String> = yearly
                .iter()
                .filter(|yv| match vars.variable(yv).map(|v| &v.target) {
                    Ok(Target::Rule(yr)) => insts_of(yr)
                        .iter()
                        .any(|i| reached.get(*i as usize).copied().unwrap_or(false)),
                    _ => false,
                })
                .map(|v| format!("`{v}`"))
                .collect();
            if read.is_empty() {
                continue;
            }
            for inst in insts {
                if !ents.contains(&inst.ent) {
                    continue;
                }
                for (var, g) in &inst.inputs {
                    let Ok(def) = vars.variable(var) else {
                        continue;
                    };
                    let now = input_at(var, def, g, period, (y, m))?;
                    let jan = input_at(var, def, g, period, (y, 1))?;
                    if now.as_ref().map(show) != jan.as_ref().map(show) {
                        return Err(format!(
                            "`{}` in {y:04}-{m:02} reads the yearly {}, which OpenFisca computes from January's inputs, and `{var}` differs between January and {y:04}-{m:02}: needs a rule's value at another date (`at start_of_year(as_of)`)",
                            e.var,
                            read.join(", ")
                        ));
                    }
                }
            }
        }
        Ok(())
    }
}

/// A variable expected of an instance must be of its entity.
fn same_entity(vars: &Vars, var: &str, inst: &Inst) -> Result<(), Fail> {
    let ent = vars.entity_of(var)?;
    if ent == inst.ent {
        return Ok(());
    }
    let name = |e: Ent| match e {
        Ent::Person => vars.mapping.person.key.clone(),
        Ent::Group(g) => vars
            .mapping
            .groups
            .get(g)
            .map(|g| g.key.clone())
            .unwrap_or_default(),
    };
    Err(format!(
        "`{var}` is a variable of a {}, expected of {}",
        name(ent),
        describe(vars, inst)
    ))
}

fn group_prefix(gi: usize) -> String {
    if gi == 0 {
        "G".into()
    } else {
        format!("G{gi}_")
    }
}

/// `count` persons, each alone in a group of each group entity, in its
/// first role.
fn default_situation(m: &Mapping, count: usize, insts: &mut Vec<Inst>) {
    let base = insts.len();
    for n in 0..count {
        insts.push(Inst {
            ent: Ent::Person,
            yaml: if count == 1 {
                "the person".into()
            } else {
                format!("person {}", n + 1)
            },
            weft: format!("P{}", n + 1),
            named: false,
            inputs: Vec::new(),
            groups: vec![None; m.groups.len()],
        });
    }
    for (gi, g) in m.groups.iter().enumerate() {
        let role = g.roles.first().map(|r| r.1.clone()).unwrap_or_default();
        for n in 0..count {
            let idx = insts.len();
            insts[base + n].groups[gi] = Some((idx, role.clone()));
            insts.push(Inst {
                ent: Ent::Group(gi),
                yaml: if count == 1 {
                    format!("the {}", g.key)
                } else {
                    format!("{} {}", g.key, n + 1)
                },
                weft: format!("{}{}", group_prefix(gi), n + 1),
                named: false,
                inputs: Vec::new(),
                groups: Vec::new(),
            });
        }
    }
}

fn hash_items<'a>(y: &'a Yaml, what: &str) -> Result<Vec<(String, &'a Yaml)>, Fail> {
    match y {
        Yaml::Hash(h) => Ok(h
            .iter()
            .map(|(k, v)| (key_text(k).unwrap_or_default(), v))
            .collect()),
        Yaml::Null => Ok(Vec::new()),
        _ => Err(format!("{what} should be a mapping")),
    }
}

/// An error margin: one number, or numbers by variable with a `default`.
#[derive(Debug, Clone, Default)]
struct Margin {
    default: Option<Q>,
    by_var: BTreeMap<String, Option<Q>>,
}

impl Margin {
    fn of(&self, var: &str) -> Option<Q> {
        self.by_var.get(var).copied().unwrap_or(self.default)
    }
}

fn margins(y: &Yaml) -> Result<Margin, Fail> {
    match y {
        Yaml::Hash(h) => {
            let mut m = Margin::default();
            for (k, v) in h {
                let k = key_text(k).unwrap_or_default();
                let x = margin(v)?;
                if k == "default" {
                    m.default = x;
                } else {
                    m.by_var.insert(k, x);
                }
            }
            Ok(m)
        }
        other => Ok(Margin {
            default: margin(other)?,
            by_var: BTreeMap::new(),
        }),
    }
}

fn margin(y: &Yaml) -> Result<Option<Q>, Fail> {
    match y {
        Yaml::BadValue | Yaml::Null => Ok(None),
        Yaml::Integer(i) => Ok(Some(Q::int(i128::from(*i)))),
        Yaml::Real(s) => Q::parse(s)
            .map(Some)
            .ok_or_else(|| format!("the error margin `{s}` is not a number")),
        other => Err(format!(
            "the error margin `{}` is not a number",
            show(other)
        )),
    }
}

/// The parameter nodes of a test's `parameters`, by OpenFisca path.
fn collect_params(y: &Yaml, path: String, out: &mut Vec<(String, Yaml)>) -> Result<(), Fail> {
    let Yaml::Hash(h) = y else {
        return Err(format!(
            "`parameters{}{path}` should be a mapping",
            if path.is_empty() { "" } else { "." }
        ));
    };
    if !y["values"].is_badvalue() {
        out.push((path, y.clone()));
        return Ok(());
    }
    if !y["brackets"].is_badvalue() {
        return Err(format!(
            "the test changes the scale `{path}`: a test cannot change a scale's brackets yet"
        ));
    }
    for (k, v) in h {
        let k = key_text(k).unwrap_or_default();
        if matches!(
            k.as_str(),
            "description" | "metadata" | "documentation" | "reference"
        ) {
            continue;
        }
        let p = if path.is_empty() {
            k
        } else {
            format!("{path}.{k}")
        };
        collect_params(v, p, out)?;
    }
    Ok(())
}

/// A parameter value as TOML for a parameter of type `ty`.
fn param_value(ty: &Ty, v: &Yaml) -> Option<String> {
    let q = || match v {
        Yaml::Integer(i) => Some(Q::int(i128::from(*i))),
        Yaml::Real(s) => Q::parse(s),
        _ => None,
    };
    match ty {
        Ty::Money(_) => q()?
            .exact_units(100)
            .map(|f| format!("\"{}\"", units_text(f, 2))),
        Ty::Decimal => q()?.exact_units(1_000_000).map(|u| units_text(u, 6)),
        Ty::Int | Ty::Dur(_) => q()?.exact_units(1).map(|u| u.to_string()),
        Ty::Bool => v.as_bool().map(|b| b.to_string()),
        _ => None,
    }
}

/// `units / 10^places` as text, trailing zeros dropped.
fn units_text(units: i128, places: u32) -> String {
    let scale = 10i128.pow(places);
    let sign = if units < 0 { "-" } else { "" };
    let a = units.unsigned_abs();
    let int = a / scale.unsigned_abs();
    let frac = a % scale.unsigned_abs();
    if frac == 0 {
        format!("{sign}{int}")
    } else {
        let f = format!("{frac:0width$}", width = places as usize);
        format!("{sign}{int}.{}", f.trim_end_matches('0'))
    }
}

/// The month to evaluate an output at.
fn eval_month(
    var: &str,
    def: &Variable,
    p: Period,
    test_period: Option<Period>,
) -> Result<(i32, u32), Fail> {
    match (def.period, p) {
        (DefPeriod::Month, Period::Month(y, m)) => Ok((y, m)),
        (DefPeriod::Month, Period::Year(y)) => Err(format!(
            "`{var}` is monthly and is expected for the year {y}: a sum over a year's months is not supported yet (`over the year`)"
        )),
        (DefPeriod::Year, Period::Year(y)) => {
            if def.reads_first_month || matches!(def.target, Target::Field(_)) {
                Ok((y, 1))
            } else {
                Err(format!(
                    "`{var}` is yearly and computed from the year's months: Weft cannot yet compute a yearly rule from monthly values (`over the year`)"
                ))
            }
        }
        (DefPeriod::Year, Period::Month(..)) => Err(format!(
            "`{var}` is defined for a year, and is expected for the month {p} (OpenFisca refuses this too)"
        )),
        (DefPeriod::Eternity, _) => match (p, test_period) {
            (Period::Month(y, m), _) => Ok((y, m)),
            (Period::Year(y), _) => Ok((y, 1)),
            (Period::Eternity, Some(Period::Month(y, m))) => Ok((y, m)),
            (Period::Eternity, Some(Period::Year(y))) => Ok((y, 1)),
            _ => Err(format!(
                "`{var}` is expected for ETERNITY with no month to evaluate it in"
            )),
        },
        (_, Period::Eternity) => Err(format!(
            "`{var}` is defined per {} and expected for ETERNITY",
            def.period.name()
        )),
    }
}

/// The value of an input for the month evaluated (None: not given for it,
/// the pack's default applies).
fn input_at(
    var: &str,
    def: &Variable,
    g: &Given,
    test_period: Option<Period>,
    (y, m): (i32, u32),
) -> Result<Option<Yaml>, Fail> {
    let entries: Vec<(Period, Yaml)> = match g {
        Given::Plain(v) => vec![(
            test_period.ok_or_else(|| {
                format!("`{var}` is given without a period and the test has none")
            })?,
            v.clone(),
        )],
        Given::ByPeriod(v) => v.clone(),
    };
    let mut found = None;
    for (p, v) in entries {
        let usable = match (def.period, p) {
            (DefPeriod::Eternity, _) => true,
            (DefPeriod::Month, Period::Month(..)) => p.contains(y, m),
            (DefPeriod::Month, Period::Year(py)) => {
                if py != y {
                    false
                } else if def.divide {
                    let q = match &v {
                        Yaml::Integer(i) => Q::int(i128::from(*i)),
                        Yaml::Real(s) => {
                            Q::parse(s).ok_or_else(|| format!("`{s}` is not a number"))?
                        }
                        other => {
                            return Err(format!(
                                "`{}` given for a year to `{var}` is not a number",
                                show(other)
                            ));
                        }
                    };
                    let per_month = q.div(Q::int(12)).ok_or("overflow")?;
                    // Exact to the millionth, so that its text is exact;
                    // the field's own precision is checked as any value's.
                    if per_month.exact_units(1_000_000).is_none() {
                        return Err(format!(
                            "`{var}` is given {} for {py}: a twelfth of it, {per_month}, is not an exact amount",
                            show(&v)
                        ));
                    }
                    found = Some(Yaml::Real(per_month.to_string()));
                    continue;
                } else {
                    return Err(format!(
                        "`{var}` is monthly and is given for the year {py}, and it does not declare how to spread a year (set_input)"
                    ));
                }
            }
            (DefPeriod::Month, Period::Eternity) => {
                return Err(format!("`{var}` is monthly and is given for ETERNITY"));
            }
            (DefPeriod::Year, Period::Year(py)) => py == y,
            (DefPeriod::Year, _) => {
                return Err(format!("`{var}` is yearly and is given for {p}"));
            }
        };
        if usable {
            found = Some(v);
        }
    }
    Ok(found)
}

/// The pack as the test sees it.
struct Vars<'a> {
    prog: &'a Program,
    mapping: &'a Mapping,
    variables: &'a BTreeMap<String, Variable>,
}

impl Vars<'_> {
    fn variable(&self, var: &str) -> Result<&Variable, Fail> {
        self.variables.get(var).ok_or_else(|| {
            format!("`{var}` is not a variable the pack maps (its {MAPPING_FILE}, variables)")
        })
    }

    fn record(&self, ent: Ent) -> Option<&RecordDef> {
        let name = match ent {
            Ent::Person => &self.mapping.person.record,
            Ent::Group(g) => &self.mapping.groups.get(g)?.record,
        };
        self.prog.records.iter().find(|r| &r.name == name)
    }

    fn ent_of_record(&self, rec: &str) -> Option<Ent> {
        if self.mapping.person.record == rec {
            return Some(Ent::Person);
        }
        self.mapping
            .groups
            .iter()
            .position(|g| g.record == rec)
            .map(Ent::Group)
    }

    /// The entity a variable belongs to.
    fn entity_of(&self, var: &str) -> Result<Ent, Fail> {
        match &self.variable(var)?.target {
            Target::Field(f) => {
                let mut ents = [Ent::Person]
                    .into_iter()
                    .chain((0..self.mapping.groups.len()).map(Ent::Group))
                    .filter(|e| self.record(*e).and_then(|r| r.field(f)).is_some());
                let first = ents.next().ok_or_else(|| {
                    format!("`{var}` maps to the field `{f}`, which no entity's record has")
                })?;
                if ents.next().is_some() {
                    return Err(format!("`{var}` maps to `{f}`, a field of two entities"));
                }
                Ok(first)
            }
            Target::Rule(r) => {
                let rd = self
                    .prog
                    .rules
                    .iter()
                    .find(|x| &x.name == r)
                    .ok_or_else(|| {
                        format!("`{var}` maps to the rule `{r}`, which the pack does not have")
                    })?;
                let rec = rd
                    .param
                    .and_then(|(_, rid)| self.prog.records.get(rid))
                    .ok_or_else(|| format!("`{var}` maps to `{r}`, a rule of no record"))?;
                self.ent_of_record(&rec.name)
                    .ok_or_else(|| format!("`{r}` is a rule of `{}`, no mapped entity", rec.name))
            }
        }
    }
}

fn describe(vars: &Vars, inst: &Inst) -> String {
    let key = match inst.ent {
        Ent::Person => &vars.mapping.person.key,
        Ent::Group(g) => vars
            .mapping
            .groups
            .get(g)
            .map(|g| &g.key)
            .unwrap_or(&vars.mapping.person.key),
    };
    // Names made up here read as they are ("the person", "household 2").
    if !inst.named {
        inst.yaml.clone()
    } else {
        format!("{key} `{}`", inst.yaml)
    }
}

fn expected_text(v: &Yaml, (abs, rel): (Option<Q>, Option<Q>)) -> String {
    let mut s = show(v);
    if let Some(q) = number(v).ok().flatten() {
        let shown = q.to_string();
        if shown != s {
            s = format!("{s} = {shown}");
        }
    }
    if let Some(a) = abs.filter(|a| *a != Q::int(0)) {
        s.push_str(&format!(" (± {a})"));
    }
    if let Some(r) = rel {
        s.push_str(&format!(" (relative margin {r})"));
    }
    s
}

/// A YAML value as an exact number, when it is one (or an expression).
fn number(v: &Yaml) -> Result<Option<Q>, Fail> {
    match v {
        Yaml::Integer(i) => Ok(Some(Q::int(i128::from(*i)))),
        Yaml::Real(s) => Q::parse(s)
            .map(Some)
            .ok_or_else(|| format!("`{s}` is not a number")),
        Yaml::String(s) => Q::eval(s).map(Some),
        _ => Ok(None),
    }
}

/// How many units of a numeric type make one (money: fen; decimals:
/// millionths; whole numbers).
fn grid(ty: &Ty) -> Option<(i128, u32)> {
    match ty {
        Ty::Money(_) => Some((100, 2)),
        Ty::Decimal => Some((1_000_000, 6)),
        Ty::Int | Ty::IntLit | Ty::Dur(_) => Some((1, 0)),
        _ => None,
    }
}

fn num_literal(ty: &Ty, units: i128) -> String {
    match ty {
        Ty::Money(_) => {
            let t = {
                let a = units.unsigned_abs();
                format!("¥{}.{:02}", a / 100, a % 100)
            };
            if units < 0 { format!("-{t}") } else { t }
        }
        Ty::Decimal => units_text(units, 6),
        Ty::Dur(u) => {
            let unit = match u {
                DurUnit::Days => "days",
                DurUnit::Months => "months",
                DurUnit::Years => "years",
            };
            format!("{units} {unit}")
        }
        _ => units.to_string(),
    }
}

/// A value as a Weft literal of type `ty`.
fn literal(prog: &Program, ty: &Ty, v: &Yaml) -> Result<String, String> {
    let ty = match ty {
        Ty::Opt(t) => t.as_ref(),
        t => t,
    };
    if let Some((scale, _)) = grid(ty) {
        let q = number(v)?.ok_or_else(|| format!("`{}` is not a number", show(v)))?;
        let units = q.exact_units(scale).ok_or_else(|| match ty {
            Ty::Money(_) => format!("{q} is not a whole number of fen"),
            Ty::Decimal => format!("{q} has more than 6 decimal places"),
            _ => format!("{q} is not a whole number"),
        })?;
        return Ok(num_literal(ty, units));
    }
    match (ty, v) {
        (Ty::Bool, Yaml::Boolean(b)) => Ok(b.to_string()),
        (Ty::Date, Yaml::String(s)) => num::parse_date(s)
            .map(num::format_date)
            .ok_or_else(|| format!("`{s}` is not a date (YYYY-MM-DD)")),
        (Ty::Enum(e, _), y) => {
            let s = key_text(y).unwrap_or_default();
            let en = prog.enums.get(*e).ok_or("unknown enum")?;
            let var = en
                .variants
                .iter()
                .find(|x| x.code == s || x.name == s)
                .ok_or_else(|| {
                    format!(
                        "`{s}` is not a value of `{}` ({})",
                        en.name,
                        en.variants
                            .iter()
                            .map(|x| x.code.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                })?;
            Ok(var.name.clone())
        }
        (Ty::Text, y) => {
            let s = key_text(y).ok_or_else(|| format!("`{}` is not text", show(y)))?;
            Ok(format!(
                "\"{}\"",
                s.replace('\\', "\\\\").replace('"', "\\\"")
            ))
        }
        (t, y) => Err(format!("`{}` is not a value of type {t:?}", show(y))),
    }
}

/// The `expect` lines for one expected value: an equality, or two bounds
/// when an error margin allows a range.
fn expect_lines(
    vars: &Vars,
    insts: &[Inst],
    e: &Expect,
    (abs, rel): (Option<Q>, Option<Q>),
) -> Result<Vec<String>, Fail> {
    let def = vars.variable(&e.var)?;
    let inst = &insts[e.inst];
    let (subject, ty) = match &def.target {
        Target::Rule(r) => {
            let rd = vars
                .prog
                .rules
                .iter()
                .find(|x| &x.name == r)
                .ok_or_else(|| format!("the pack has no rule `{r}`"))?;
            (format!("{r}({})", inst.weft), rd.ret.clone())
        }
        Target::Field(f) => {
            let rec = vars.record(inst.ent).ok_or("no record")?;
            let (_, fd) = rec
                .field(f)
                .ok_or_else(|| format!("`{}` has no field `{f}`", rec.name))?;
            (format!("{}.{f}", inst.weft), fd.ty.clone())
        }
    };
    let Some((scale, _)) = grid(&ty) else {
        let lit = literal(vars.prog, &ty, &e.value)
            .map_err(|x| format!("the expected `{}`: {x}", e.var))?;
        return Ok(vec![format!("{subject} == {lit}")]);
    };
    let target = number(&e.value)?.ok_or_else(|| {
        format!(
            "the expected `{}` `{}` is not a number",
            e.var,
            show(&e.value)
        )
    })?;
    let mut m: Option<Q> = abs;
    if let Some(r) = rel {
        let rm = r.mul(target).map(Q::abs).ok_or("overflow")?;
        m = Some(match m {
            Some(a) if a < rm => a,
            _ => rm,
        });
    }
    let m = m.unwrap_or(Q::int(0));
    let lo = target
        .sub(m)
        .and_then(|x| x.ceil_units(scale))
        .ok_or("overflow")?;
    let hi = target
        .add(m)
        .and_then(|x| x.floor_units(scale))
        .ok_or("overflow")?;
    if lo > hi {
        return Err(format!(
            "the expected `{}` {} cannot be reached by a value of the pack's type (exact to {}) within the error margin",
            e.var,
            expected_text(&e.value, (abs, rel)),
            num_literal(&ty, 1)
        ));
    }
    if lo == hi {
        return Ok(vec![format!("{subject} == {}", num_literal(&ty, lo))]);
    }
    Ok(vec![
        format!("{subject} >= {}", num_literal(&ty, lo)),
        format!("{subject} <= {}", num_literal(&ty, hi)),
    ])
}
