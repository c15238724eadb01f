//! A hand-written Rust implementation of the `jilin` pack over the same
//! columns the engines read: the practical limit of evaluation speed, for
//! the benchmarks. It is not part of the product: it knows the pack's rules
//! by heart (spec §3), reads parameters from the bound program, and writes a
//! [`ChunkResult`] in the plan's column order. It counts only if it agrees
//! with the interpreter cell for cell (`tests/baseline.rs`).
//!
//! The pack cannot fail on valid data (every amount is at most 10^12 yuan),
//! so the baseline reports no evaluation errors.

use weft_check::hir::{FieldKind, PVal, ParamDef, Program};
use weft_interp::batch::{ChunkResult, Plan};
use weft_interp::ops::{div_round, marginal, mul_round};
use weft_ir::bind::Bound;
use weft_ir::data::{Chunk, Column};
use weft_ir::{ColumnValue, Ir};
use weft_syntax::num::{self, MICRO};

/// Why the baseline cannot evaluate a program (it is not the jilin pack).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotJilin(pub String);

fn variant(prog: &Program, enum_name: &str, v: &str) -> Result<i64, NotJilin> {
    prog.enums
        .iter()
        .find(|e| e.name == enum_name)
        .and_then(|e| e.variants.iter().position(|x| x.name == v))
        .map(|i| i as i64)
        .ok_or_else(|| NotJilin(format!("no variant {enum_name}.{v}")))
}

/// A parameter in force on a date: its dense values (and bands).
struct P {
    values: Vec<i64>,
    bands: Vec<(i64, Option<i64>, i64)>,
}

fn param(prog: &Program, name: &str, date: i32) -> Result<(P, ParamDef), NotJilin> {
    let pd = prog
        .params
        .iter()
        .find(|p| p.name == name)
        .ok_or_else(|| NotJilin(format!("no parameter {name}")))?;
    let v = pd
        .version_at(date)
        .ok_or_else(|| NotJilin(format!("{name} has no version on {date}")))?;
    let mut values = Vec::new();
    let mut bands = Vec::new();
    for x in &v.values {
        match x {
            Some(PVal::Scalar(s)) => values.push(*s),
            Some(PVal::Bands(b)) => {
                bands = b.iter().map(|b| (b.lo, b.hi, b.rate)).collect();
                values.push(0);
            }
            None => values.push(0),
        }
    }
    Ok((P { values, bands }, pd.clone()))
}

/// Scalar parameter.
fn s(prog: &Program, name: &str, date: i32) -> Result<i64, NotJilin> {
    Ok(param(prog, name, date)?
        .0
        .values
        .first()
        .copied()
        .unwrap_or(0))
}

/// Parameter keyed by one enum: value per variant index (0 outside the set).
fn k(prog: &Program, name: &str, date: i32) -> Result<Vec<i64>, NotJilin> {
    let (p, pd) = param(prog, name, date)?;
    let (e, _) = *pd
        .keys
        .first()
        .ok_or_else(|| NotJilin(format!("{name} has no key")))?;
    let n = prog
        .enums
        .get(e as usize)
        .map(|x| x.variants.len())
        .unwrap_or(0);
    Ok((0..n)
        .map(|v| {
            pd.slot_of(&[v as u32])
                .and_then(|i| p.values.get(i).copied())
                .unwrap_or(0)
        })
        .collect())
}

/// Everything the rules read, resolved once per chunk.
struct Params {
    urban: Vec<i64>,
    rural: Vec<i64>,
    urban_prev: Vec<i64>,
    rural_prev: Vec<i64>,
    wage_prev: Vec<i64>,
    tekun_ratio: i64,
    care_ratio: Vec<i64>,
    tekun_asset_limit: i64,
    asset_months: i64,
    increment: Vec<i64>,
    orphan: Vec<i64>,
    living_subsidy: i64,
    care_subsidy: i64,
    ins_ded: Vec<i64>,
    ins_ratio: Vec<i64>,
    ins_cap: i64,
    major_threshold: i64,
    prio_ratio: i64,
    bands: Vec<(i64, Option<i64>, i64)>,
    bonus: i64,
    major_cap: i64,
    aid_ratio: Vec<i64>,
    aid_ded: Vec<i64>,
    aid_cap: Vec<i64>,
    contribution: i64,
    contrib_ratio: Vec<i64>,
    edu_preschool: Vec<i64>,
    edu_primary: i64,
    edu_junior: i64,
    edu_senior: i64,
    edu_vocational: i64,
    edu_college: i64,
    link_min: i64,
    link_months: i64,
    sis: i64,
    pps: i64,
    fis: i64,
    fires: bool,
    rise: i64,
    temp_trigger: i64,
    temp_ratio: i64,
    temp_cap: i64,
}

impl Params {
    fn new(prog: &Program, d: i32) -> Result<Params, NotJilin> {
        let prev = num::prior_year_end(d);
        let cpi = s(prog, "cpi_yoy", d)?;
        let food = s(prog, "food_cpi_yoy", d)?;
        let (t1, t2) = (s(prog, "cpi_trigger", d)?, s(prog, "food_cpi_trigger", d)?);
        Ok(Params {
            urban: k(prog, "dibao_standard_urban", d)?,
            rural: k(prog, "dibao_standard_rural", d)?,
            urban_prev: k(prog, "dibao_standard_urban", prev)?,
            rural_prev: k(prog, "dibao_standard_rural", prev)?,
            wage_prev: k(prog, "minimum_wage", prev)?,
            tekun_ratio: s(prog, "tekun_living_ratio", d)?,
            care_ratio: k(prog, "care_ratio", d)?,
            tekun_asset_limit: s(prog, "tekun_asset_limit", d)?,
            asset_months: s(prog, "dibao_asset_months", d)?,
            increment: k(prog, "increment_rate", d)?,
            orphan: k(prog, "orphan_standard", d)?,
            living_subsidy: s(prog, "living_subsidy", d)?,
            care_subsidy: s(prog, "care_subsidy", d)?,
            ins_ded: k(prog, "insurance_deductible", d)?,
            ins_ratio: k(prog, "insurance_ratio", d)?,
            ins_cap: s(prog, "insurance_cap", d)?,
            major_threshold: s(prog, "major_threshold", d)?,
            prio_ratio: s(prog, "major_threshold_priority_ratio", d)?,
            bands: param(prog, "major_bands", d)?.0.bands,
            bonus: s(prog, "major_priority_bonus", d)?,
            major_cap: s(prog, "major_cap", d)?,
            aid_ratio: k(prog, "aid_ratio", d)?,
            aid_ded: k(prog, "aid_deductible", d)?,
            aid_cap: k(prog, "aid_cap", d)?,
            contribution: s(prog, "resident_contribution", d)?,
            contrib_ratio: k(prog, "contribution_subsidy_ratio", d)?,
            edu_preschool: k(prog, "edu_preschool", d)?,
            edu_primary: s(prog, "edu_boarding_primary", d)?,
            edu_junior: s(prog, "edu_boarding_junior", d)?,
            edu_senior: s(prog, "edu_senior", d)?,
            edu_vocational: s(prog, "edu_vocational", d)?,
            edu_college: s(prog, "edu_college", d)?,
            link_min: s(prog, "linkage_min_unemployed_months", d)?,
            link_months: s(prog, "linkage_months", d)?,
            sis: s(prog, "social_insurance_subsidy", d)?,
            pps: s(prog, "public_post_subsidy", d)?,
            fis: s(prog, "flexible_insurance_subsidy", d)?,
            fires: cpi >= t1 || food >= t2,
            rise: (if cpi >= t1 { cpi } else { 0 }).max(if food >= t2 { food } else { 0 }),
            temp_trigger: s(prog, "temp_trigger_months", d)?,
            temp_ratio: s(prog, "temp_ratio", d)?,
            temp_cap: s(prog, "temp_cap_months", d)?,
        })
    }
}

/// Enum variant indices the rules compare with.
struct Codes {
    urban: i64,
    kind_intellectual: i64,
    kind_mental: i64,
    deceased: i64,
    missing: i64,
    incapacitated: i64,
    incarcerated: i64,
    migrant: i64,
    stage_none: i64,
    preschool: i64,
    primary: i64,
    junior: i64,
    senior: i64,
    vocational: i64,
    college: i64,
    level_none: i64,
    emp_none: i64,
    enterprise: i64,
    public_post: i64,
    flexible: i64,
    elderly: usize,
    severe: usize,
    serious: usize,
    child: usize,
    institutional: usize,
    scattered: usize,
    cat_none: i64,
    cat_orphan: i64,
    cat_defacto: i64,
    cat_left: i64,
    cat_distressed: i64,
    grp_none: i64,
    grp_tekun: i64,
    grp_dibao: i64,
    grp_poor: i64,
    grp_lid: i64,
}

impl Codes {
    fn new(p: &Program) -> Result<Codes, NotJilin> {
        let u = |e: &str, v: &str| variant(p, e, v).map(|x| x as usize);
        Ok(Codes {
            urban: variant(p, "Residence", "urban")?,
            kind_intellectual: variant(p, "DisabilityKind", "intellectual")?,
            kind_mental: variant(p, "DisabilityKind", "mental")?,
            deceased: variant(p, "ParentStatus", "deceased")?,
            missing: variant(p, "ParentStatus", "missing")?,
            incapacitated: variant(p, "ParentStatus", "incapacitated")?,
            incarcerated: variant(p, "ParentStatus", "incarcerated")?,
            migrant: variant(p, "ParentStatus", "migrant")?,
            stage_none: variant(p, "EducationStage", "none")?,
            preschool: variant(p, "EducationStage", "preschool")?,
            primary: variant(p, "EducationStage", "primary")?,
            junior: variant(p, "EducationStage", "junior")?,
            senior: variant(p, "EducationStage", "senior")?,
            vocational: variant(p, "EducationStage", "vocational")?,
            college: variant(p, "EducationStage", "college")?,
            level_none: variant(p, "HospitalLevel", "none")?,
            emp_none: variant(p, "EmploymentType", "none")?,
            enterprise: variant(p, "EmploymentType", "enterprise")?,
            public_post: variant(p, "EmploymentType", "public_post")?,
            flexible: variant(p, "EmploymentType", "flexible")?,
            elderly: u("IncrementCategory", "elderly")?,
            severe: u("IncrementCategory", "severe_disability")?,
            serious: u("IncrementCategory", "serious_illness")?,
            child: u("IncrementCategory", "child")?,
            institutional: u("Placement", "institutional")?,
            scattered: u("Placement", "scattered")?,
            cat_none: variant(p, "ChildCategory", "none")?,
            cat_orphan: variant(p, "ChildCategory", "orphan")?,
            cat_defacto: variant(p, "ChildCategory", "de_facto_unsupported")?,
            cat_left: variant(p, "ChildCategory", "left_behind")?,
            cat_distressed: variant(p, "ChildCategory", "distressed")?,
            grp_none: variant(p, "AidGroup", "none")?,
            grp_tekun: variant(p, "AidGroup", "tekun")?,
            grp_dibao: variant(p, "AidGroup", "dibao")?,
            grp_poor: variant(p, "AidGroup", "poor")?,
            grp_lid: variant(p, "AidGroup", "low_income_disabled")?,
        })
    }
}

/// The record and field ids of `record.field`.
fn field_id(prog: &Program, record: &str, field: &str) -> Result<(u32, u32), NotJilin> {
    let rid = prog
        .record_by_name(record)
        .ok_or_else(|| NotJilin(format!("no record {record}")))?;
    let (fid, _) = prog
        .records
        .get(rid as usize)
        .and_then(|r| r.field(field))
        .ok_or_else(|| NotJilin(format!("no field {record}.{field}")))?;
    Ok((rid, fid))
}

/// A column of i64 values (empty when the chunk lacks it).
fn col<'a>(
    chunk: &'a Chunk,
    prog: &Program,
    record: &str,
    field: &str,
) -> Result<&'a [i64], NotJilin> {
    let (rid, fid) = field_id(prog, record, field)?;
    match chunk.col(rid, fid) {
        Some(Column::I64(v)) | Some(Column::Opt(v, _)) => Ok(v),
        _ => Err(NotJilin(format!("{record}.{field} is not a number column"))),
    }
}

fn present<'a>(
    chunk: &'a Chunk,
    prog: &Program,
    record: &str,
    field: &str,
) -> Result<&'a [bool], NotJilin> {
    let (rid, fid) = field_id(prog, record, field)?;
    match chunk.col(rid, fid) {
        Some(Column::Opt(_, p)) => Ok(p),
        _ => Err(NotJilin(format!("{record}.{field} is not optional"))),
    }
}

/// The plan's column order, as names.
fn names(ir: &Ir, record: u32) -> Vec<String> {
    ir.outputs
        .iter()
        .filter(|o| o.record == record)
        .flat_map(|o| o.columns.iter())
        .filter(|c| matches!(c.value, ColumnValue::Inst(_)))
        .map(|c| c.name.clone())
        .collect()
}

/// Evaluate a chunk: the same result as the engines (values of every
/// group; the pack has no errors on valid data).
pub fn eval_chunk(
    ir: &Ir,
    bound: &Bound,
    chunk: &Chunk,
    plan: &Plan,
) -> Result<ChunkResult, NotJilin> {
    let prog = &*ir.hir;
    let d = bound.as_of;
    let p = Params::new(prog, d)?;
    let c = Codes::new(prog)?;
    let hh = prog
        .record_by_name("Household")
        .ok_or_else(|| NotJilin("no Household".into()))?;
    let (mf, _) = prog.records[hh as usize]
        .members()
        .ok_or_else(|| NotJilin("no members".into()))?;
    let off = match chunk.col(hh, mf) {
        Some(Column::Members(o)) => o,
        _ => return Err(NotJilin("no member offsets".into())),
    };
    let _ = prog.records[hh as usize]
        .fields
        .iter()
        .any(|f| matches!(f.kind, FieldKind::Members { .. }));
    let region = col(chunk, prog, "Household", "region")?;
    let residence = col(chunk, prog, "Household", "residence")?;
    let assets = col(chunk, prog, "Household", "financial_assets")?;
    let vehicle = col(chunk, prog, "Household", "owns_vehicle")?;
    let poor = col(chunk, prog, "Household", "registered_poor")?;
    let birth = col(chunk, prog, "Person", "birth_date")?;
    let grade = col(chunk, prog, "Person", "disability_grade")?;
    let kind = col(chunk, prog, "Person", "disability_kind")?;
    let self_care = col(chunk, prog, "Person", "self_care")?;
    let ill = col(chunk, prog, "Person", "serious_illness")?;
    let income = col(chunk, prog, "Person", "monthly_income")?;
    let rigid = col(chunk, prog, "Person", "rigid_expense")?;
    let capable = col(chunk, prog, "Person", "capable_supporter")?;
    let father = col(chunk, prog, "Person", "father_status")?;
    let mother = col(chunk, prog, "Person", "mother_status")?;
    let institution = col(chunk, prog, "Person", "in_institution")?;
    let stage = col(chunk, prog, "Person", "education_stage")?;
    let boarding = col(chunk, prog, "Person", "boarding")?;
    let level = col(chunk, prog, "Person", "hospital_level")?;
    let expense = col(chunk, prog, "Person", "medical_expense")?;
    let emp_type = col(chunk, prog, "Person", "employment_type")?;
    let emp_start = col(chunk, prog, "Person", "employment_start")?;
    let emp_set = present(chunk, prog, "Person", "employment_start")?;
    let unemployed = col(chunk, prog, "Person", "unemployed_months_before")?;
    let dibao_at = col(chunk, prog, "Person", "dibao_at_employment")?;

    let groups = off.len().saturating_sub(1);
    let persons = chunk.rows(plan.member.as_ref().map(|(m, _)| *m).unwrap_or(0));
    let pcols = names(ir, plan.member.as_ref().map(|(m, _)| *m).unwrap_or(0));
    let hcols = names(ir, plan.group.0);
    let mut pv: Vec<Vec<i64>> = vec![vec![0; persons]; pcols.len()];
    let mut hv: Vec<Vec<i64>> = vec![vec![0; groups]; hcols.len()];
    let pidx = |n: &str| pcols.iter().position(|x| x == n);
    let hidx = |n: &str| hcols.iter().position(|x| x == n);
    let pi: Vec<Option<usize>> = [
        "age",
        "tekun_eligible",
        "tekun_basic_living",
        "tekun_care",
        "child_category",
        "child_allowance",
        "disability_living_subsidy",
        "severe_disability_care_subsidy",
        "basic_insurance_pays",
        "major_illness_pays",
        "medical_aid_pays",
        "out_of_pocket",
        "insurance_contribution_subsidy",
        "education_aid",
        "employment_subsidy",
        "price_subsidy",
    ]
    .iter()
    .map(|n| pidx(n))
    .collect();
    let hi: Vec<Option<usize>> = [
        "members",
        "counted_members",
        "per_capita_income",
        "dibao_standard",
        "dibao_eligible",
        "dibao_benefit",
        "temporary_assistance",
    ]
    .iter()
    .map(|n| hidx(n))
    .collect();
    let set = |cols: &mut Vec<Vec<i64>>, at: Option<usize>, row: usize, v: i64| {
        if let Some(c) = at {
            cols[c][row] = v;
        }
    };
    let dm = |x: i64| x == c.deceased || x == c.missing;
    // Per-person values the household needs, computed in a first pass.
    let mut age = vec![0i64; persons];
    let mut orphan = vec![false; persons];
    let mut tekun = vec![false; persons];
    for g in 0..groups {
        let (lo, hi_) = (off[g] as usize, off[g + 1] as usize);
        let size = (hi_ - lo) as i64;
        let r = region[g] as usize;
        let urban = residence[g] == c.urban;
        let std = if urban {
            p.urban[r]
        } else {
            div_round(p.rural[r], 12, 1, 1).unwrap_or(0)
        };
        let std_prev = if urban {
            p.urban_prev[r]
        } else {
            div_round(p.rural_prev[r], 12, 1, 1).unwrap_or(0)
        };
        let mut n = 0i64;
        let mut inc_sum = 0i64;
        let mut rigid_sum = 0i64;
        for i in lo..hi_ {
            age[i] = num::years_between(birth[i] as i32, d);
            orphan[i] = age[i] < 18 && dm(father[i]) && dm(mother[i]);
            let nlc = age[i] >= 60
                || age[i] < 16
                || (1..=2).contains(&grade[i])
                || (grade[i] == 3 && (kind[i] == c.kind_intellectual || kind[i] == c.kind_mental));
            let means = income[i] < std && assets[g] <= p.tekun_asset_limit * size;
            tekun[i] = !orphan[i] && nlc && capable[i] == 0 && means;
            if !tekun[i] && !orphan[i] {
                n += 1;
                inc_sum += income[i];
                if grade[i] > 0 || ill[i] != 0 {
                    rigid_sum += rigid[i];
                }
            }
        }
        let countable = (inc_sum - rigid_sum).max(0);
        let pci = if n > 0 {
            div_round(countable, n, 1, 1).unwrap_or(0)
        } else {
            0
        };
        let eligible =
            n >= 1 && pci < std && assets[g] <= std * p.asset_months * n && vehicle[g] == 0;
        let mut increments = 0i64;
        let mut burden = 0i64;
        for i in lo..hi_ {
            let counted = !tekun[i] && !orphan[i];
            let member = counted && eligible;
            let a = age[i];
            if counted {
                let mut rate: Option<i64> = None;
                let mut take = |x: i64| rate = Some(rate.map(|r| r.max(x)).unwrap_or(x));
                if a >= 60 {
                    take(p.increment[c.elderly]);
                }
                if (1..=2).contains(&grade[i]) {
                    take(p.increment[c.severe]);
                }
                if ill[i] != 0 {
                    take(p.increment[c.serious]);
                }
                if a < 16 {
                    take(p.increment[c.child]);
                }
                increments += mul_round(rate.unwrap_or(0), std, MICRO, 1).unwrap_or(0);
            }
            let tk = tekun[i];
            set(&mut pv, pi[0], i, a);
            set(&mut pv, pi[1], i, tk as i64);
            set(
                &mut pv,
                pi[2],
                i,
                if tk {
                    mul_round(p.tekun_ratio, std_prev, MICRO, 1)
                        .unwrap_or(0)
                        .max(std)
                } else {
                    0
                },
            );
            set(
                &mut pv,
                pi[3],
                i,
                if tk {
                    mul_round(
                        p.care_ratio[self_care[i] as usize],
                        p.wage_prev[r],
                        MICRO,
                        1,
                    )
                    .unwrap_or(0)
                } else {
                    0
                },
            );
            // Child category.
            let f = father[i];
            let m = mother[i];
            let unable = |x: i64| dm(x) || x == c.incapacitated || x == c.incarcerated;
            let parents_unable = unable(f) && unable(m) && !(dm(f) && dm(m));
            // Both migrant, or one migrant and the other incapacitated.
            let left_or_unable = |x: i64| x == c.migrant || x == c.incapacitated;
            let parents_left =
                (f == c.migrant || m == c.migrant) && left_or_unable(f) && left_or_unable(m);
            let cat = if a >= 18 {
                c.cat_none
            } else if orphan[i] {
                c.cat_orphan
            } else if d >= num::days_from_civil(2019, 7, 1) && parents_unable {
                c.cat_defacto
            } else if a < 16 && !urban && parents_left {
                c.cat_left
            } else if eligible || grade[i] > 0 || ill[i] != 0 {
                c.cat_distressed
            } else {
                c.cat_none
            };
            let allowance = if cat == c.cat_orphan {
                if institution[i] != 0 {
                    p.orphan[c.institutional]
                } else {
                    p.orphan[c.scattered]
                }
            } else if cat == c.cat_defacto {
                if tk { 0 } else { p.orphan[c.scattered] }
            } else {
                0
            };
            set(&mut pv, pi[4], i, cat);
            set(&mut pv, pi[5], i, allowance);
            set(
                &mut pv,
                pi[6],
                i,
                if grade[i] > 0 && member && !tk {
                    p.living_subsidy
                } else {
                    0
                },
            );
            set(
                &mut pv,
                pi[7],
                i,
                if (1..=2).contains(&grade[i]) && !tk {
                    p.care_subsidy
                } else {
                    0
                },
            );
            // Medical cascade.
            let lid = (1..=2).contains(&grade[i]) && assets[g] <= std * p.asset_months * size;
            let priority = tk || member || poor[g] != 0 || lid;
            let group = if tk {
                c.grp_tekun
            } else if member {
                c.grp_dibao
            } else if poor[g] != 0 {
                c.grp_poor
            } else if lid {
                c.grp_lid
            } else {
                c.grp_none
            };
            let b = expense[i];
            let step1 = if level[i] == c.level_none {
                0
            } else {
                let l = level[i] as usize;
                mul_round(p.ins_ratio[l], (b - p.ins_ded[l]).max(0), MICRO, 1)
                    .unwrap_or(0)
                    .min(p.ins_cap)
            };
            let part1 = step1.max(0).min(b);
            let r1 = b - part1;
            let threshold = if priority {
                mul_round(p.major_threshold, p.prio_ratio, MICRO, 1).unwrap_or(0)
            } else {
                p.major_threshold
            };
            let bonus = if priority { p.bonus } else { 0 };
            let step2 = marginal((r1 - threshold).max(0), &p.bands, bonus, true)
                .unwrap_or(0)
                .min(p.major_cap);
            let part2 = step2.max(0).min(r1);
            let r2 = r1 - part2;
            let step3 = if group == c.grp_none {
                0
            } else {
                let gi = group as usize;
                mul_round(p.aid_ratio[gi], (r2 - p.aid_ded[gi]).max(0), MICRO, 1)
                    .unwrap_or(0)
                    .min(p.aid_cap[gi])
            };
            let part3 = step3.max(0).min(r2);
            let oop = r2 - part3;
            burden += oop;
            set(&mut pv, pi[8], i, part1);
            set(&mut pv, pi[9], i, part2);
            set(&mut pv, pi[10], i, part3);
            set(&mut pv, pi[11], i, oop);
            let contrib = if group == c.grp_none || group == c.grp_lid {
                0
            } else {
                mul_round(p.contrib_ratio[group as usize], p.contribution, MICRO, 1).unwrap_or(0)
            };
            set(&mut pv, pi[12], i, contrib);
            // Education.
            let st = stage[i];
            let covered = st != c.stage_none
                && (poor[g] != 0 || grade[i] > 0 || orphan[i] || (!urban && (member || tk)));
            let edu = if !covered {
                0
            } else if st == c.preschool {
                p.edu_preschool[residence[g] as usize]
            } else if st == c.primary {
                if boarding[i] != 0 { p.edu_primary } else { 0 }
            } else if st == c.junior {
                if boarding[i] != 0 { p.edu_junior } else { 0 }
            } else if st == c.senior {
                p.edu_senior
            } else if st == c.vocational {
                p.edu_vocational
            } else if st == c.college {
                p.edu_college
            } else {
                0
            };
            set(&mut pv, pi[13], i, edu);
            // Employment linkage.
            let running = emp_set[i]
                && emp_start[i] <= d as i64
                && (d as i64)
                    < num::add_months(emp_start[i] as i32, p.link_months)
                        .map(|x| x as i64)
                        .unwrap_or(i64::MIN);
            let emp = if urban && dibao_at[i] != 0 && unemployed[i] >= p.link_min && running {
                let t = emp_type[i];
                if t == c.enterprise {
                    p.sis
                } else if t == c.public_post {
                    p.sis + p.pps
                } else if t == c.flexible {
                    p.fis
                } else {
                    let _ = c.emp_none;
                    0
                }
            } else {
                0
            };
            set(&mut pv, pi[14], i, emp);
            let price = if p.fires && (tk || member || allowance > 0) {
                mul_round(std, p.rise, MICRO, 100).unwrap_or(0)
            } else {
                0
            };
            set(&mut pv, pi[15], i, price);
        }
        set(&mut hv, hi[0], g, size);
        set(&mut hv, hi[1], g, n);
        set(&mut hv, hi[2], g, pci);
        set(&mut hv, hi[3], g, std);
        set(&mut hv, hi[4], g, eligible as i64);
        set(
            &mut hv,
            hi[5],
            g,
            if eligible {
                (std - pci) * n + increments
            } else {
                0
            },
        );
        let temp = if burden >= std * p.temp_trigger * size.max(1) {
            mul_round(p.temp_ratio, burden, MICRO, 1)
                .unwrap_or(0)
                .min(std * p.temp_cap)
        } else {
            0
        };
        set(&mut hv, hi[6], g, temp);
    }
    Ok(ChunkResult {
        member_values: pv,
        group_values: hv,
        errors: vec![None; groups],
    })
}
