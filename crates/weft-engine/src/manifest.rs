//! `manifest.json`: what a run read, used and wrote, so its outputs can be
//! audited and reproduced. Its presence marks a complete run.

use crate::run::{RunOptions, RunReport};
use serde_json::{Value, json};
use weft_ir::Ir;
use weft_ir::bind::Bound;
use weft_syntax::num;

pub fn manifest(
    ir: &Ir,
    bound: &Bound,
    opts: &RunOptions,
    group_sha: &str,
    member_sha: &str,
    report: &RunReport,
    outputs: &[(String, u64)],
) -> Value {
    let mut params: Vec<Value> = Vec::new();
    for (i, pr) in ir.param_refs.iter().enumerate() {
        let Some(Some(bp)) = bound.params.get(i) else {
            continue;
        };
        let Some(pd) = ir.hir.params.get(pr.param as usize) else {
            continue;
        };
        let on = bound
            .ctx_dates
            .get(pr.ctx as usize)
            .copied()
            .unwrap_or(bound.as_of);
        params.push(json!({
            "name": pd.name,
            "keys": if pd.keys.is_empty() { Value::Null } else { json!("all") },
            "effective": if pd.series { num::format_month(bp.effective) } else { num::format_date(bp.effective) },
            "as_of": num::format_date(on),
            "origin": pd.version_at(bp.effective).or_else(|| pd.version_at(on)).map(|v| v.origin.clone()).unwrap_or_default(),
        }));
    }
    params.sort_by_key(|a| a.to_string());
    params.dedup();

    let inputs: Vec<Value> = report
        .files
        .iter()
        .enumerate()
        .map(|(i, f)| {
            json!({
                "input": f.input,
                "file": f.file,
                "sha256": if i == 0 { group_sha } else { member_sha },
                "rows": f.rows,
                "evaluated": f.evaluated,
                "rejected": f.rejected,
                "left_out": f.left_out,
            })
        })
        .collect();
    json!({
        "weft_version": env!("CARGO_PKG_VERSION"),
        "engine": opts.engine_name,
        "as_of": num::format_month(opts.as_of),
        "rules_as_of": opts.rules_as_of.map(num::format_month),
        "policy": {
            "sha256": policy_hash(&opts.policy_files),
            "files": opts.policy_files.iter().map(|(n, h)| json!({"name": n, "sha256": h})).collect::<Vec<_>>(),
        },
        "parameters_used": params,
        "inputs": inputs,
        "outputs": outputs.iter().map(|(n, r)| json!({"file": n, "rows": r})).collect::<Vec<_>>(),
    })
}

/// The hash of a policy: SHA-256 over its files' `(name, sha256)` in
/// order, as the manifest's `policy.sha256`.
pub fn policy_hash(files: &[(String, String)]) -> String {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    for (n, x) in files {
        h.update(n.as_bytes());
        h.update([0]);
        h.update(x.as_bytes());
        h.update([0]);
    }
    crate::run::hex(&h.finalize())
}
