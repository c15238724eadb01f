//! A web-handler-style call: "evaluate this household" — JSON in, JSON out.
//!
//! A service loads the policy once at start (here from the repository's
//! `policies/jilin`; a service could keep the sources in a database and use
//! `Policy::from_sources`), keeps one `Evaluator` per month, and answers each
//! request from any thread.
//!
//! Run: `cargo run -p weft --example handler`

use std::sync::Arc;
use weft::{Engine, Evaluator, Policy};

/// What a handler does with one request body.
fn handle(eval: &Evaluator, body: &str) -> (u16, String) {
    let input: serde_json::Value = match serde_json::from_str(body) {
        Ok(v) => v,
        Err(e) => {
            return (
                400,
                serde_json::json!({"error": format!("not JSON: {e}")}).to_string(),
            );
        }
    };
    match eval.evaluate_json(&input) {
        Ok(r) if r.errors.is_empty() => (200, r.to_json().to_string()),
        Ok(r) => (422, r.to_json().to_string()),
        Err(e) => (400, serde_json::json!({"error": e.to_string()}).to_string()),
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies/jilin");
    let policy = Policy::from_dir(dir)?;
    let eval = Arc::new(policy.evaluator("2018-08".parse()?, Engine::Jit)?);
    let request = r#"{
      "households": {"household_id": "A", "region": "changchun", "residence": "urban",
                     "financial_assets": "5000.00", "owns_vehicle": false, "registered_poor": false},
      "persons": [{"person_id": "A1", "household_id": "A", "birth_date": "1946-03-15",
                   "disability_grade": 0, "disability_kind": "none", "self_care": "partial",
                   "serious_illness": false, "monthly_income": "0.00", "rigid_expense": "0.00",
                   "capable_supporter": false, "father_status": "deceased", "mother_status": "deceased",
                   "in_institution": false, "education_stage": "none", "boarding": false,
                   "hospital_level": "tertiary", "medical_expense": "60000.00", "employment_type": "none",
                   "unemployed_months_before": 0, "dibao_at_employment": false}]
    }"#;
    // Requests from several threads share one evaluator.
    let answers: Vec<(u16, String)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4).map(|_| s.spawn(|| handle(&eval, request))).collect();
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    let (status, body) = &answers[0];
    println!("{status} {body}");
    let v: serde_json::Value = serde_json::from_str(body)?;
    assert_eq!(v["persons"][0]["tekun_basic_living"], "728.00");
    assert!(answers.iter().all(|a| a == &answers[0]));
    let (bad, msg) = handle(&eval, "{\"households\": 3");
    println!("{bad} {msg}");
    assert_eq!(bad, 400);
    Ok(())
}
