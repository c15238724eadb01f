//! The mapping a pack declares from OpenFisca's names to its own
//! (`openfisca.yaml` at the pack's root): entities and roles, variables,
//! parameters and reforms.

use std::collections::BTreeMap;
use std::path::Path;
use yaml_rust2::{Yaml, YamlLoader};

/// The mapping file's name, at the root of a pack.
pub const MAPPING_FILE: &str = "openfisca.yaml";

/// How OpenFisca defines a variable over time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DefPeriod {
    Month,
    Year,
    Eternity,
}

impl DefPeriod {
    pub(crate) fn name(self) -> &'static str {
        match self {
            DefPeriod::Month => "month",
            DefPeriod::Year => "year",
            DefPeriod::Eternity => "eternity",
        }
    }
}

/// What an OpenFisca variable is in the pack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    /// A field of an entity's record (an input).
    Field(String),
    /// A rule (computed).
    Rule(String),
}

#[derive(Debug, Clone)]
pub(crate) struct Variable {
    pub target: Target,
    pub period: DefPeriod,
    /// `set_input_divide_by_period`: a value given for a year is spread
    /// evenly over its months.
    pub divide: bool,
    /// A yearly rule that reads the inputs of the year's first month (so
    /// evaluating it as of January is exact).
    pub reads_first_month: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct GroupEntity {
    pub key: String,
    pub plural: String,
    pub record: String,
    /// The member record's field linking to this group.
    pub link: String,
    /// The member record's field holding the role.
    pub role_field: Option<String>,
    /// OpenFisca role plurals (`adults`) → enum codes, in OpenFisca's
    /// order (the first is the default role).
    pub roles: Vec<(String, String)>,
}

#[derive(Debug, Clone)]
pub(crate) struct PersonEntity {
    pub key: String,
    pub plural: String,
    pub record: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ParamTarget {
    /// A parameter of the pack.
    Param(String),
    /// Values written in a scale or rule of the pack: no parameter to
    /// change.
    Written(String),
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Reform {
    /// Module path in the pack → file (relative to the pack) holding the
    /// reformed module: replaces the module of that path, or adds one.
    pub modules: Vec<(String, String)>,
    /// Parameter files (relative to the pack) overlaid.
    pub params: Vec<String>,
    /// Variables the reform adds.
    pub variables: BTreeMap<String, Variable>,
}

/// A pack's declared mapping from OpenFisca's names.
#[derive(Debug, Clone)]
pub(crate) struct Mapping {
    pub person: PersonEntity,
    pub groups: Vec<GroupEntity>,
    pub variables: BTreeMap<String, Variable>,
    pub parameters: BTreeMap<String, ParamTarget>,
    pub reforms: BTreeMap<String, Reform>,
}

fn text(y: &Yaml) -> Option<String> {
    match y {
        Yaml::String(s) | Yaml::Real(s) => Some(s.clone()),
        Yaml::Integer(i) => Some(i.to_string()),
        Yaml::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

fn hash<'a>(
    y: &'a Yaml,
    what: &str,
) -> Result<impl Iterator<Item = (String, &'a Yaml)> + 'a, String> {
    match y {
        Yaml::Hash(h) => {
            let mut out = Vec::new();
            for (k, v) in h {
                let k = text(k).ok_or_else(|| format!("{what}: a key is not a name"))?;
                out.push((k, v));
            }
            Ok(out.into_iter())
        }
        Yaml::Null | Yaml::BadValue => Ok(Vec::new().into_iter()),
        _ => Err(format!("{what} should be a mapping")),
    }
}

fn string(y: &Yaml, what: &str) -> Result<String, String> {
    text(y).ok_or_else(|| format!("{what} should be a name"))
}

fn variable(name: &str, y: &Yaml) -> Result<Variable, String> {
    let what = format!("variables.{name}");
    let target = match (&y["field"], &y["rule"]) {
        (f, Yaml::BadValue) if !f.is_badvalue() => Target::Field(string(f, &what)?),
        (Yaml::BadValue, r) if !r.is_badvalue() => Target::Rule(string(r, &what)?),
        _ => return Err(format!("{what} needs exactly one of `field` and `rule`")),
    };
    let period = match y["period"].as_str() {
        Some("month") => DefPeriod::Month,
        Some("year") => DefPeriod::Year,
        Some("eternity") => DefPeriod::Eternity,
        _ => {
            return Err(format!(
                "{what}.period should be month, year or eternity (OpenFisca's definition_period)"
            ));
        }
    };
    let divide = match y["set_input"].as_str() {
        None => false,
        Some("divide") => true,
        Some(other) => {
            return Err(format!(
                "{what}.set_input `{other}` is not supported (only `divide`)"
            ));
        }
    };
    let reads_first_month = match y["reads"].as_str() {
        None => false,
        Some("first_month") => true,
        Some(other) => return Err(format!("{what}.reads `{other}`: only `first_month`")),
    };
    Ok(Variable {
        target,
        period,
        divide,
        reads_first_month,
    })
}

impl Mapping {
    /// Read `openfisca.yaml` from a pack directory.
    pub(crate) fn from_dir(dir: &Path) -> Result<Mapping, String> {
        let path = dir.join(MAPPING_FILE);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            format!(
                "cannot read {}: {e} (a pack run against OpenFisca tests declares its mapping there)",
                path.display()
            )
        })?;
        Mapping::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    pub(crate) fn parse(text: &str) -> Result<Mapping, String> {
        let docs = YamlLoader::load_from_str(text).map_err(|e| e.to_string())?;
        let root = docs.first().ok_or("the file is empty")?;
        let mut person = None;
        let mut groups = Vec::new();
        for (key, e) in hash(&root["entities"], "entities")? {
            let what = format!("entities.{key}");
            let plural = string(&e["plural"], &format!("{what}.plural"))?;
            let record = string(&e["record"], &format!("{what}.record"))?;
            if e["link"].is_badvalue() {
                if person.is_some() {
                    return Err(
                        "two entities without `link`: exactly one is the person entity".into(),
                    );
                }
                person = Some(PersonEntity {
                    key,
                    plural,
                    record,
                });
            } else {
                let link = string(&e["link"], &format!("{what}.link"))?;
                let role_field = match &e["role_field"] {
                    Yaml::BadValue => None,
                    y => Some(string(y, &format!("{what}.role_field"))?),
                };
                let roles = hash(&e["roles"], &format!("{what}.roles"))?
                    .map(|(k, v)| Ok((k.clone(), string(v, &format!("{what}.roles.{k}"))?)))
                    .collect::<Result<Vec<_>, String>>()?;
                groups.push(GroupEntity {
                    key,
                    plural,
                    record,
                    link,
                    role_field,
                    roles,
                });
            }
        }
        let person = person.ok_or("no person entity (an entity without `link`)")?;
        let mut variables = BTreeMap::new();
        for (k, v) in hash(&root["variables"], "variables")? {
            variables.insert(k.clone(), variable(&k, v)?);
        }
        let mut parameters = BTreeMap::new();
        for (k, v) in hash(&root["parameters"], "parameters")? {
            let t = match v {
                Yaml::Hash(_) => ParamTarget::Written(string(
                    &v["written_in"],
                    &format!("parameters.{k}.written_in"),
                )?),
                y => ParamTarget::Param(string(y, &format!("parameters.{k}"))?),
            };
            parameters.insert(k, t);
        }
        let mut reforms = BTreeMap::new();
        for (k, r) in hash(&root["reforms"], "reforms")? {
            let what = format!("reforms.{k}");
            let mut reform = Reform::default();
            for (m, f) in hash(&r["modules"], &format!("{what}.modules"))? {
                reform
                    .modules
                    .push((m.clone(), string(f, &format!("{what}.modules.{m}"))?));
            }
            match &r["params"] {
                Yaml::BadValue => {}
                Yaml::Array(a) => {
                    for p in a {
                        reform.params.push(string(p, &format!("{what}.params"))?);
                    }
                }
                y => reform.params.push(string(y, &format!("{what}.params"))?),
            }
            for (vk, vy) in hash(&r["variables"], &format!("{what}.variables"))? {
                reform.variables.insert(vk.clone(), variable(&vk, vy)?);
            }
            reforms.insert(k, reform);
        }
        Ok(Mapping {
            person,
            groups,
            variables,
            parameters,
            reforms,
        })
    }
}
