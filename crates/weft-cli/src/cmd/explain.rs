//! `weft explain`: why one record's outputs are what they are.

use crate::PolicyArgs;
use std::path::{Path, PathBuf};
use weft_data::schema::{ColKind, InputSchema};
use weft_data::{Format, Row, open_reader};
use weft_engine::explain::{explain as explain_record, render_text};
use weft_engine::rows::{Group, build_chunk};
use weft_engine::run::{check_groups, plan_for, prepare_in_memory, roots};

#[derive(clap::Args, Clone)]
pub struct ExplainArgs {
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// The month evaluated, YYYY-MM.
    #[arg(long = "as-of")]
    pub as_of: String,
    /// An input file: `NAME=FILE` (`--persons FILE` means the same).
    #[arg(long = "input", value_name = "NAME=FILE")]
    pub input: Vec<String>,
    /// The id of a person or household, when it names only one.
    #[arg(long)]
    pub id: Option<String>,
    /// The id of a member record (a person).
    #[arg(long)]
    pub person: Option<String>,
    /// The id of a group record (a household).
    #[arg(long)]
    pub household: Option<String>,
    /// Explain only these output columns.
    #[arg(long = "output")]
    pub output: Vec<String>,
    /// `text` or `json`.
    #[arg(long, default_value = "text")]
    pub format: String,
}

struct Loaded {
    header: Vec<String>,
    rows: Vec<Row>,
}

/// Rows of `schema`'s file whose column `col` is one of `ids`.
fn rows_where(
    path: &Path,
    schema: &InputSchema,
    col: usize,
    ids: &[String],
) -> Result<Loaded, String> {
    let format = Format::from_path(path)
        .ok_or_else(|| format!("cannot tell the format of {}", path.display()))?;
    let mut rdr = open_reader(path, format).map_err(|e| e.to_string())?;
    let header = rdr.header().to_vec();
    let name = &schema.columns[col].name;
    let at = header
        .iter()
        .position(|h| h == name)
        .ok_or_else(|| format!("{}: no column `{name}`", path.display()))?;
    let mut rows = Vec::new();
    let mut row = Row::default();
    while rdr.next_row(&mut row).map_err(|e| e.to_string())? {
        if ids.iter().any(|i| i == row.text(at).trim()) {
            rows.push(row.clone());
        }
    }
    Ok(Loaded { header, rows })
}

pub fn explain(a: &ExplainArgs) -> i32 {
    let as_of = match super::parse_month(&a.as_of) {
        Ok(d) => d,
        Err(c) => return c,
    };
    if a.format != "text" && a.format != "json" {
        eprintln!("error: unknown format `{}`; use text or json", a.format);
        return 2;
    }
    if let Err(c) = super::input_specs(&a.input) {
        return c;
    }
    let loaded = match super::load(&a.policy) {
        Ok(l) => l,
        Err(c) => return c,
    };
    let ir = &loaded.ir;
    let plan = match plan_for(ir) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return 1;
        }
    };
    let schemas = InputSchema::all(&ir.hir);
    let Some(gs) = schemas.get(plan.group.0 as usize) else {
        return 1;
    };
    let ms = plan
        .member
        .as_ref()
        .and_then(|(m, _)| schemas.get(*m as usize));
    let file_of = |input: &str| -> Option<PathBuf> {
        a.input.iter().find_map(|s| {
            s.split_once('=')
                .filter(|(n, _)| *n == input)
                .map(|(_, p)| PathBuf::from(p))
        })
    };
    let Some(gpath) = file_of(&gs.input) else {
        eprintln!(
            "error: give the `{}` file with `--{} FILE`",
            gs.input, gs.input
        );
        return 2;
    };
    let mpath = ms.and_then(|m| file_of(&m.input));
    if ms.is_some() && mpath.is_none() {
        eprintln!(
            "error: give the `{}` file with `--{} FILE`",
            ms.map(|m| m.input.clone()).unwrap_or_default(),
            ms.map(|m| m.input.clone()).unwrap_or_default()
        );
        return 2;
    }
    let gkey = gs.key.unwrap_or(0);
    let mkey = ms.and_then(|m| m.key).unwrap_or(0);
    let mlink = ms
        .and_then(|m| {
            m.columns
                .iter()
                .position(|c| matches!(c.kind, ColKind::Link { .. }))
        })
        .unwrap_or(0);
    // Which record is asked for.
    let (want_member, id) = match (&a.person, &a.household, &a.id) {
        (Some(p), None, None) => (true, p.clone()),
        (None, Some(h), None) => (false, h.clone()),
        (None, None, Some(i)) => {
            let is_group = rows_where(&gpath, gs, gkey, std::slice::from_ref(i))
                .map(|l| !l.rows.is_empty())
                .unwrap_or(false);
            let is_member = match (ms, &mpath) {
                (Some(m), Some(p)) => rows_where(p, m, mkey, std::slice::from_ref(i))
                    .map(|l| !l.rows.is_empty())
                    .unwrap_or(false),
                _ => false,
            };
            match (is_group, is_member) {
                (true, true) => {
                    eprintln!(
                        "error: `{i}` is the id of a {} and of a {}: say which with --household or --person",
                        gs.input,
                        ms.map(|m| m.input.clone()).unwrap_or_default()
                    );
                    return 2;
                }
                (false, false) => {
                    eprintln!("error: no record has the id `{i}`");
                    return 1;
                }
                (g, _) => (!g, i.clone()),
            }
        }
        _ => {
            eprintln!("error: name the record with one of --id, --person or --household");
            return 2;
        }
    };
    // The group's id.
    let gid = if want_member {
        let (Some(m), Some(p)) = (ms, &mpath) else {
            return 1;
        };
        match rows_where(p, m, mkey, std::slice::from_ref(&id)) {
            Ok(l) => match (
                l.rows.first(),
                l.header.iter().position(|h| *h == m.columns[mlink].name),
            ) {
                (Some(r), Some(at)) => r.text(at).trim().to_string(),
                _ => {
                    eprintln!("error: no {} has the id `{id}`", m.input);
                    return 1;
                }
            },
            Err(e) => {
                eprintln!("error: {e}");
                return 1;
            }
        }
    } else {
        id.clone()
    };
    let g = match rows_where(&gpath, gs, gkey, std::slice::from_ref(&gid)) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: {e}");
            return 1;
        }
    };
    if g.rows.is_empty() {
        eprintln!("error: no {} has the id `{gid}`", gs.input);
        return 1;
    }
    let m = match (ms, &mpath) {
        (Some(m), Some(p)) => match rows_where(p, m, mlink, std::slice::from_ref(&gid)) {
            Ok(l) => Some(l),
            Err(e) => {
                eprintln!("error: {e}");
                return 1;
            }
        },
        _ => None,
    };
    let bound = match weft_ir::bind::bind(ir, as_of, &roots(ir)) {
        Ok(b) => b,
        Err(e) => {
            eprintln!(
                "error: cannot evaluate {}: {e}",
                weft_syntax::num::format_month(as_of)
            );
            return 1;
        }
    };
    let prepared = match prepare_in_memory(
        ir,
        (&g.header, &g.rows),
        m.as_ref().map(|l| (l.header.as_slice(), l.rows.as_slice())),
    ) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return 1;
        }
    };
    let (keep, mut errors) = match check_groups(ir, &bound, prepared.groups) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("error: {e}");
            return 1;
        }
    };
    errors.extend(prepared.errors);
    let Some(group) = keep.into_iter().next() else {
        let word = ir
            .hir
            .records
            .get(gs.record as usize)
            .map(|r| r.name.to_lowercase())
            .unwrap_or_else(|| gs.input.clone());
        eprintln!("the {word} {gid} is rejected and not evaluated:");
        for (f, _, rid, c, msg) in &errors {
            eprintln!("  {}", error_line(f, rid, c, msg));
        }
        return 1;
    };
    let (record, row) = if want_member {
        match group.members.iter().position(|x| x.id == id) {
            Some(i) => (ms.map(|m| m.record).unwrap_or(0), i),
            None => {
                eprintln!("the record {id} is left out of the evaluation:");
                for (f, _, rid, c, msg) in errors.iter().filter(|e| e.2 == id) {
                    eprintln!("  {}", error_line(f, rid, c, msg));
                }
                return 1;
            }
        }
    } else {
        (gs.record, 0)
    };
    let groups: Vec<Group> = vec![group];
    let refs: Vec<&Group> = groups.iter().collect();
    let chunk = build_chunk(&ir.hir, gs, ms, &refs);
    let e = explain_record(
        ir,
        &bound,
        &chunk,
        &plan,
        (record, row),
        &a.output,
        Some(&loaded.sources),
    );
    if !a.output.is_empty() && e.outputs.is_empty() {
        eprintln!("error: no output column named {}", a.output.join(", "));
        return 2;
    }
    if a.format == "json" {
        println!("{}", serde_json::to_string_pretty(&e).unwrap_or_default());
    } else {
        print!("{}", render_text(&e));
    }
    if e.rejected.is_some() { 1 } else { 0 }
}

/// An error row as a line: `file id (column): message`.
fn error_line(file: &str, id: &str, column: &str, message: &str) -> String {
    if column.is_empty() {
        format!("{file} {id}: {message}")
    } else {
        format!("{file} {id} ({column}): {message}")
    }
}
