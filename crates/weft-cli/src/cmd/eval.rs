//! `weft eval`: one household (or record) from a JSON file.

use crate::PolicyArgs;
use serde_json::Value;
use std::path::Path;
use weft_data::OutCell;
use weft_data::cell::{CellKind, Row};
use weft_engine::run::{InterpEval, plan_for, roots, run_in_memory};

fn rows_of(v: &Value) -> (Vec<String>, Vec<Row>) {
    let objs: Vec<&serde_json::Map<String, Value>> = match v {
        Value::Array(a) => a.iter().filter_map(|x| x.as_object()).collect(),
        Value::Object(o) => vec![o],
        _ => Vec::new(),
    };
    let mut header: Vec<String> = Vec::new();
    for o in &objs {
        for k in o.keys() {
            if !header.contains(k) {
                header.push(k.clone());
            }
        }
    }
    let mut rows = Vec::new();
    for (i, o) in objs.iter().enumerate() {
        let mut r = Row::default();
        r.reset(header.len());
        r.line = i as u64 + 1;
        for (ci, h) in header.iter().enumerate() {
            match o.get(h) {
                None | Some(Value::Null) => {}
                Some(Value::String(s)) => r.set(ci, CellKind::Text, s),
                Some(Value::Number(n)) => r.set(ci, CellKind::Number, &n.to_string()),
                Some(Value::Bool(b)) => {
                    r.set(ci, CellKind::Bool, if *b { "true" } else { "false" })
                }
                Some(other) => r.set(ci, CellKind::Nested, &other.to_string()),
            }
        }
        rows.push(r);
    }
    (header, rows)
}

fn text(c: &OutCell) -> String {
    let mut s = String::new();
    weft_data::csvio::cell_text(c, &mut s);
    s
}

pub fn eval(
    p: &PolicyArgs,
    as_of: &str,
    input: &Path,
    format: &str,
    engine: &str,
    explain: Option<&str>,
) -> i32 {
    let as_of = match super::parse_month(as_of) {
        Ok(d) => d,
        Err(c) => return c,
    };
    if !matches!(format, "table" | "json") {
        eprintln!("error: unknown format `{format}`; use table or json");
        return 2;
    }
    if engine != "interp" && engine != "jit" {
        eprintln!("error: unknown engine `{engine}`; use interp or jit");
        return 2;
    }
    let loaded = match super::load(p) {
        Ok(l) => l,
        Err(c) => return c,
    };
    let ir = &loaded.ir;
    let text_in = match weft_engine::load::read_text(input) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {}: {e}", input.display());
            return 1;
        }
    };
    let json: Value = match serde_json::from_str(&text_in) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("error: {} is not valid JSON: {e}", input.display());
            return 1;
        }
    };
    let Some(obj) = json.as_object() else {
        eprintln!(
            "error: {} should hold an object with one key per input",
            input.display()
        );
        return 1;
    };
    let plan = match plan_for(ir) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return 1;
        }
    };
    let schemas = weft_data::schema::InputSchema::all(&ir.hir);
    let gname = schemas
        .get(plan.group.0 as usize)
        .map(|s| s.input.clone())
        .unwrap_or_default();
    let mname = plan
        .member
        .as_ref()
        .and_then(|(m, _)| schemas.get(*m as usize))
        .map(|s| s.input.clone());
    for k in obj.keys() {
        if *k != gname && Some(k) != mname.as_ref() {
            eprintln!(
                "error: the policy has no input `{k}`; its inputs are `{gname}`{}",
                mname
                    .as_ref()
                    .map(|m| format!(" and `{m}`"))
                    .unwrap_or_default()
            );
            return 1;
        }
    }
    let (gh, gr) = rows_of(obj.get(&gname).unwrap_or(&Value::Null));
    let members = mname
        .as_ref()
        .map(|m| rows_of(obj.get(m).unwrap_or(&Value::Array(vec![]))));
    let bound = match weft_ir::bind::bind(ir, as_of, &roots(ir)) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: cannot evaluate this month: {e}");
            return 1;
        }
    };
    if let Some(id) = explain {
        return explain_one(
            ir,
            &bound,
            &plan,
            &gh,
            &gr,
            members.as_ref(),
            id,
            format,
            &loaded.sources,
        );
    }
    let res = if engine == "jit" {
        match weft_engine::engines::jit_chunk_eval(ir, &bound, &plan) {
            Some(Ok(ev)) => run_in_memory(
                ir,
                &bound,
                ev.as_ref(),
                (&gh, &gr),
                members.as_ref().map(|(h, r)| (h.as_slice(), r.as_slice())),
            ),
            Some(Err(e)) => {
                eprintln!("error: {e}");
                return 1;
            }
            None => {
                eprintln!("error: the JIT engine is not available in this build");
                return 1;
            }
        }
    } else {
        let ev = InterpEval {
            ir,
            bound: &bound,
            plan: &plan,
        };
        run_in_memory(
            ir,
            &bound,
            &ev,
            (&gh, &gr),
            members.as_ref().map(|(h, r)| (h.as_slice(), r.as_slice())),
        )
    };
    let res = match res {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return 1;
        }
    };
    if format == "json" {
        let mut out = serde_json::Map::new();
        out.insert(
            "as_of".into(),
            Value::String(weft_syntax::num::format_month(as_of)),
        );
        for (oi, o) in ir.outputs.iter().enumerate() {
            let rows: Vec<Value> = res.outputs[oi]
                .iter()
                .map(|cells| {
                    let mut m = serde_json::Map::new();
                    for (c, cell) in o.columns.iter().zip(cells) {
                        let v = match cell {
                            OutCell::Bool(b) => Value::Bool(*b),
                            OutCell::Int(i) => Value::from(*i),
                            OutCell::Null => Value::Null,
                            other => Value::String(text(other)),
                        };
                        m.insert(c.name.clone(), v);
                    }
                    Value::Object(m)
                })
                .collect();
            out.insert(o.name.clone(), Value::Array(rows));
        }
        let errs: Vec<Value> = res
            .errors
            .iter()
            .map(|(f, l, id, c, m)| serde_json::json!({"input": f, "line": l, "record_id": id, "column": c, "message": m}))
            .collect();
        out.insert("errors".into(), Value::Array(errs));
        println!(
            "{}",
            serde_json::to_string_pretty(&Value::Object(out)).unwrap_or_default()
        );
    } else {
        println!("as of {}", weft_syntax::num::format_month(as_of));
        for (oi, o) in ir.outputs.iter().enumerate() {
            let rows = &res.outputs[oi];
            if rows.is_empty() {
                continue;
            }
            println!();
            println!("{}", o.name);
            let width = o
                .columns
                .iter()
                .map(|c| c.name.chars().count())
                .max()
                .unwrap_or(0);
            let cols: Vec<Vec<String>> =
                rows.iter().map(|r| r.iter().map(text).collect()).collect();
            let colw: Vec<usize> = cols
                .iter()
                .map(|c| c.iter().map(|s| s.chars().count()).max().unwrap_or(0))
                .collect();
            for (ci, c) in o.columns.iter().enumerate() {
                let mut line = format!("  {:width$}", c.name);
                for (r, w) in cols.iter().zip(&colw) {
                    let v = r.get(ci).cloned().unwrap_or_default();
                    let pad = w.saturating_sub(v.chars().count());
                    line.push_str("  ");
                    line.push_str(&" ".repeat(pad));
                    line.push_str(&v);
                }
                println!("{}", line.trim_end());
            }
        }
        if !res.errors.is_empty() {
            println!();
            println!("errors");
            for (f, l, id, c, m) in &res.errors {
                println!(
                    "  {f} #{l} {id}{}: {m}",
                    if c.is_empty() {
                        String::new()
                    } else {
                        format!(" ({c})")
                    }
                );
            }
        }
    }
    if res.errors.is_empty() { 0 } else { 1 }
}

#[allow(clippy::too_many_arguments)]
fn explain_one(
    ir: &weft_ir::Ir,
    bound: &weft_ir::bind::Bound,
    plan: &weft_interp::batch::Plan,
    gh: &[String],
    gr: &[Row],
    members: Option<&(Vec<String>, Vec<Row>)>,
    id: &str,
    format: &str,
    sources: &weft_syntax::SourceMap,
) -> i32 {
    use weft_engine::run::{check_groups, prepare_in_memory};
    let prepared = match prepare_in_memory(
        ir,
        (gh, gr),
        members.map(|(h, r)| (h.as_slice(), r.as_slice())),
    ) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return 1;
        }
    };
    let (keep, errors) = match check_groups(ir, bound, prepared.groups) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("error: {e}");
            return 1;
        }
    };
    let found = keep.iter().enumerate().find_map(|(gi, g)| {
        if g.row.id == id {
            Some((gi, None))
        } else {
            g.members
                .iter()
                .position(|m| m.id == id)
                .map(|mi| (gi, Some(mi)))
        }
    });
    let Some((gi, mi)) = found else {
        match errors.iter().find(|e| e.2 == id) {
            Some(e) => eprintln!("the record `{id}` is not evaluated: {}", e.4),
            None => eprintln!("error: no record has the id `{id}`"),
        }
        return 1;
    };
    let schemas = weft_data::schema::InputSchema::all(&ir.hir);
    let Some(gs) = schemas.get(plan.group.0 as usize) else {
        return 1;
    };
    let ms = plan
        .member
        .as_ref()
        .and_then(|(r, _)| schemas.get(*r as usize));
    let one = [&keep[gi]];
    let chunk = weft_engine::rows::build_chunk(&ir.hir, gs, ms, &one);
    let (record, row) = match mi {
        Some(i) => (ms.map(|s| s.record).unwrap_or(0), i),
        None => (gs.record, 0),
    };
    let e =
        weft_engine::explain::explain(ir, bound, &chunk, plan, (record, row), &[], Some(sources));
    if format == "json" {
        println!("{}", serde_json::to_string_pretty(&e).unwrap_or_default());
    } else {
        print!("{}", weft_engine::explain::render_text(&e));
    }
    if e.rejected.is_some() { 1 } else { 0 }
}
