//! Members joined to their groups in one pass, and the id index.
//!
//! # The join
//!
//! Member files are normally grouped by group, in the group file's order
//! (every register export is). The [`Linker`] walks both files together: a
//! member whose link is the current group's id joins it; one whose link is
//! a group further on moves the walk there (the groups passed over have no
//! members); complete groups, with their members, are cut into chunks of
//! about `chunk_rows` members ([`Staged`]). Groups are read ahead of the
//! members ([`Linker::ahead`]), and a link is looked up in the groups read
//! ahead (by hash, with a table per block built when first needed).
//!
//! A member whose link names no group read ahead is set aside
//! ([`Unresolved`]); when the files have been read, the id index tells
//! whether that group exists. If it does not (the usual case: bad data),
//! the member is rejected alone as spec §5.3 says. If it does, or if a
//! member's group was passed already, the member file is not grouped in
//! the group file's order: the run starts again in the order-free mode
//! ([`super::Mode::Unordered`]).
//!
//! # The id index
//!
//! Every id is hashed ([`super::block::hash_id`]) on the parsing threads;
//! [`IdIndex`] keeps the hashes (in memory up to [`IN_MEMORY`] of them,
//! else spilled to owner-only scratch files in partitions by hash, joined
//! one partition at a time) and, at the end, finds duplicate ids and
//! resolves the set-aside links. Duplicates are rare and found only then:
//! a run that finds some starts again knowing them (so spec §5.3's
//! outcome is exactly that of a run that knew them from the start), which
//! costs a second pass only over files that have duplicates.

use super::ErrorRow;
use super::RunError;
use super::block::{Rows, hash_id};
use crate::rows::RowError;
use std::collections::{HashMap, HashSet, VecDeque};
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

/// Hashes kept in memory before the index spills.
pub const IN_MEMORY: usize = 1 << 20;

/// What a run knows before it starts (from an earlier attempt).
#[derive(Debug, Clone, Default)]
pub struct Known {
    pub dup_groups: HashSet<u128>,
    pub dup_members: HashSet<u128>,
}

/// Groups with their members: one chunk's worth, in file order.
#[derive(Debug, Clone, Default)]
pub struct Staged {
    pub groups: Rows,
    pub members: Rows,
    /// Members of group `g`: `offsets[g]..offsets[g + 1]`.
    pub offsets: Vec<usize>,
    /// Member rows left out by an `exclude` check.
    pub excluded: Vec<(usize, RowError)>,
}

impl Staged {
    pub fn group_count(&self) -> usize {
        self.groups.len()
    }

    pub fn members_of(&self, g: usize) -> std::ops::Range<usize> {
        let lo = self.offsets.get(g).copied().unwrap_or(0);
        let hi = self.offsets.get(g + 1).copied().unwrap_or(lo);
        lo..hi
    }
}

/// A chunk as the linker cuts it: ranges of parsed blocks, gathered into a
/// [`Staged`] chunk on the evaluating threads ([`Pending::gather`]), so the
/// reader thread copies no row.
#[derive(Debug, Clone, Default)]
pub struct Pending {
    groups: Vec<(Arc<Rows>, std::ops::Range<usize>)>,
    members: Vec<(Arc<Rows>, std::ops::Range<usize>)>,
    n_groups: usize,
    n_members: usize,
    offsets: Vec<usize>,
}

impl Pending {
    fn new() -> Pending {
        Pending {
            offsets: vec![0],
            ..Pending::default()
        }
    }

    fn push(
        parts: &mut Vec<(Arc<Rows>, std::ops::Range<usize>)>,
        rows: &Arc<Rows>,
        r: std::ops::Range<usize>,
    ) {
        // Extend the last range when it continues it.
        if let Some((last, lr)) = parts.last_mut() {
            if Arc::ptr_eq(last, rows) && lr.end == r.start {
                lr.end = r.end;
                return;
            }
        }
        parts.push((rows.clone(), r));
    }

    /// The rows of every part, gathered.
    pub fn gather(self) -> Staged {
        let collect = |parts: &[(Arc<Rows>, std::ops::Range<usize>)], n: usize| -> Rows {
            let mut out = match parts.first() {
                Some((r, _)) => r.empty_like(n),
                None => Rows::default(),
            };
            for (r, range) in parts {
                out.extend_from(r, range.clone());
            }
            out
        };
        Staged {
            groups: collect(&self.groups, self.n_groups),
            members: collect(&self.members, self.n_members),
            offsets: self.offsets,
            excluded: Vec::new(),
        }
    }
}

/// A member set aside: its link named no group read ahead.
#[derive(Debug, Clone)]
pub struct Unresolved {
    pub link: u128,
    /// Its error row, should the group not exist.
    pub error: ErrorRow,
}

/// The words and columns the rejection messages use.
#[derive(Debug, Clone, Default)]
pub struct Words {
    /// `household`
    pub gword: String,
    /// The group key column's name (`household_id`).
    pub gkey: String,
    /// The member key column's name.
    pub mkey: String,
    /// The member link column's name.
    pub link_name: String,
    /// Header positions of the group key, member key and member link.
    pub gkey_order: usize,
    pub mkey_order: usize,
    pub link_order: usize,
}

struct GroupBlock {
    rows: Arc<Rows>,
    /// Group index (in file order) of row 0.
    base: u64,
    /// Row by key hash (built when first needed; the first row wins).
    map: Option<HashMap<u128, usize>>,
}

impl GroupBlock {
    fn find(&mut self, h: u128) -> Option<usize> {
        let rows = &self.rows;
        self.map
            .get_or_insert_with(|| {
                let mut m = HashMap::with_capacity(rows.key.len());
                for (i, k) in rows.key.iter().enumerate() {
                    m.entry(*k).or_insert(i);
                }
                m
            })
            .get(&h)
            .copied()
    }
}

/// The outcome of feeding members.
pub enum Fed {
    /// Every member was taken.
    Done,
    /// More groups are needed to place member `at` (call again from it).
    NeedGroups(usize),
    /// The member file is not grouped in the group file's order.
    OutOfOrder,
}

/// Joins members to groups and cuts chunks (see the module doc).
pub struct Linker<'k> {
    known: &'k Known,
    words: Words,
    chunk_rows: usize,
    has_members: bool,
    blocks: VecDeque<GroupBlock>,
    /// Groups read so far.
    groups_read: u64,
    pub groups_done: bool,
    /// The current group (global index), if any, and its key hash.
    cur: Option<u64>,
    cur_key: Option<u128>,
    /// Groups before this index have been staged.
    staged_upto: u64,
    staged: Pending,
    staged_weight: usize,
    pub ready: Vec<Pending>,
    pub unknown: Vec<ErrorRow>,
    pub unresolved: Vec<Unresolved>,
    /// The member file has ended.
    members_done: bool,
}

impl<'k> Linker<'k> {
    pub fn new(known: &'k Known, words: Words, chunk_rows: usize, has_members: bool) -> Linker<'k> {
        Linker {
            known,
            words,
            chunk_rows: chunk_rows.max(1),
            has_members,
            blocks: VecDeque::new(),
            groups_read: 0,
            groups_done: false,
            cur: None,
            cur_key: None,
            staged_upto: 0,
            staged: Pending::new(),
            staged_weight: 0,
            ready: Vec::new(),
            unknown: Vec::new(),
            unresolved: Vec::new(),
            members_done: false,
        }
    }

    /// Groups read but not yet staged, past the current one.
    pub fn ahead(&self) -> u64 {
        let from = self.cur.map(|c| c + 1).unwrap_or(self.staged_upto);
        self.groups_read.saturating_sub(from)
    }

    /// Add a block of group rows (seqs set), marking known duplicates.
    pub fn push_groups(&mut self, mut rows: Rows) {
        mark_dups(
            &mut rows,
            &self.known.dup_groups,
            &self.words.gkey,
            self.words.gkey_order,
        );
        let n = rows.len() as u64;
        self.blocks.push_back(GroupBlock {
            rows: Arc::new(rows),
            base: self.groups_read,
            map: None,
        });
        self.groups_read += n;
        if !self.has_members || self.members_done {
            // Nothing to wait for: every group read is complete.
            self.stage_through(self.groups_read);
        }
    }

    /// The block and row of group `g`.
    fn locate(&self, g: u64) -> Option<(usize, usize)> {
        let first = self.blocks.front()?.base;
        if g < first {
            return None;
        }
        // Blocks are few; walk them.
        for (bi, b) in self.blocks.iter().enumerate() {
            if g < b.base + b.rows.len() as u64 {
                return Some((bi, (g - b.base) as usize));
            }
        }
        None
    }

    fn key_of(&self, g: u64) -> Option<u128> {
        let (bi, r) = self.locate(g)?;
        self.blocks.get(bi)?.rows.key.get(r).copied()
    }

    /// Stage groups `staged_upto..upto` (the current group last among them
    /// keeps its offset open until closed).
    fn stage_through(&mut self, upto: u64) {
        while self.staged_upto < upto {
            let g = self.staged_upto;
            let Some((bi, r)) = self.locate(g) else {
                break;
            };
            // A run of groups from this block.
            let (block_end, base) = match self.blocks.get(bi) {
                Some(b) => (b.base + b.rows.len() as u64, b.base),
                None => break,
            };
            let end = upto.min(block_end);
            let room = self.chunk_rows.saturating_sub(self.staged_weight).max(1) as u64;
            let end = end.min(g + room);
            let n = (end - g) as usize;
            if let Some(b) = self.blocks.get(bi) {
                Pending::push(&mut self.staged.groups, &b.rows, r..r + n);
                self.staged.n_groups += n;
            }
            let _ = base;
            // Groups staged here other than the current one have no
            // members (the current one's members follow).
            let m = self.staged.n_members;
            for _ in 0..n {
                self.staged.offsets.push(m);
            }
            self.staged_weight += n;
            self.staged_upto = end;
            if self.staged_weight >= self.chunk_rows && Some(end - 1) != self.cur {
                self.cut();
            }
        }
        self.drop_passed();
    }

    /// Close the staged chunk.
    fn cut(&mut self) {
        if self.staged.n_groups == 0 {
            return;
        }
        let done = std::mem::replace(&mut self.staged, Pending::new());
        self.ready.push(done);
        self.staged_weight = 0;
    }

    /// Drop blocks wholly staged and before the current group.
    fn drop_passed(&mut self) {
        while let Some(b) = self.blocks.front() {
            let end = b.base + b.rows.len() as u64;
            let keep_from = self.cur.unwrap_or(self.staged_upto).min(self.staged_upto);
            if end <= keep_from && self.blocks.len() > 1 {
                self.blocks.pop_front();
            } else {
                break;
            }
        }
    }

    /// Make `g` the current group: close the current one and stage the
    /// groups up to `g` (without members).
    fn move_to(&mut self, g: u64) {
        if let Some(c) = self.cur {
            // Close the current group: it was staged with its members.
            let m = self.staged.n_members;
            if let Some(last) = self.staged.offsets.last_mut() {
                *last = m;
            }
            let k = self.staged.offsets.len();
            let start = if k >= 2 {
                self.staged.offsets[k - 2]
            } else {
                0
            };
            self.staged_weight += (m - start).saturating_sub(1);
            let _ = c;
            if self.staged_weight >= self.chunk_rows {
                self.cut();
            }
        }
        self.cur = None;
        self.stage_through(g);
        self.cur = Some(g);
        self.cur_key = self.key_of(g);
        self.stage_through(g + 1);
    }

    /// Join a block of member rows (seqs set), from row `from`.
    /// Mark a block of member rows whose ids are known duplicates (before
    /// [`Linker::feed`]).
    pub fn mark_members(&self, rows: &mut Rows) {
        mark_dups(
            rows,
            &self.known.dup_members,
            &self.words.mkey,
            self.words.mkey_order,
        );
    }

    pub fn feed(&mut self, rows: &Arc<Rows>, from: usize) -> Fed {
        let mut run: Option<usize> = None;
        let mut i = from;
        let n = rows.len();
        while i < n {
            let link = rows.link.get(i).copied().unwrap_or(0);
            if self.known.dup_groups.contains(&link) {
                self.flush_run(rows, &mut run, i);
                let e = self.unknown_member(rows, i, true);
                self.unknown.push(e);
                i += 1;
                continue;
            }
            if self.cur.is_some() && self.cur_key == Some(link) {
                run.get_or_insert(i);
                i += 1;
                continue;
            }
            // Another group: ahead, behind, or none read.
            self.flush_run(rows, &mut run, i);
            // Usually the next group: no lookup (nor table) needed.
            let next = self.cur.map(|c| c + 1).unwrap_or(self.staged_upto);
            let found = if self.key_of(next) == Some(link) {
                Some(next)
            } else {
                self.find(link)
            };
            match found {
                Some(g) if self.cur.map(|c| g > c).unwrap_or(g >= self.staged_upto) => {
                    self.move_to(g);
                    run = Some(i);
                    i += 1;
                }
                Some(_) => return Fed::OutOfOrder,
                None if !self.groups_done => {
                    return Fed::NeedGroups(i);
                }
                None => {
                    let e = self.unknown_member(rows, i, false);
                    self.unresolved.push(Unresolved { link, error: e });
                    i += 1;
                }
            }
        }
        self.flush_run(rows, &mut run, n);
        Fed::Done
    }

    /// Whether the groups read ahead may grow to place a member.
    pub fn may_read_more(&self, limit: u64) -> bool {
        !self.groups_done && self.ahead() < limit
    }

    /// Give up looking ahead for member `at`: set it aside.
    pub fn set_aside(&mut self, rows: &Rows, at: usize) {
        let link = rows.link.get(at).copied().unwrap_or(0);
        let e = self.unknown_member(rows, at, false);
        self.unresolved.push(Unresolved { link, error: e });
    }

    fn flush_run(&mut self, rows: &Arc<Rows>, run: &mut Option<usize>, end: usize) {
        if let Some(start) = run.take() {
            if end > start {
                Pending::push(&mut self.staged.members, rows, start..end);
                self.staged.n_members += end - start;
            }
            if let Some(last) = self.staged.offsets.last_mut() {
                *last = self.staged.n_members;
            }
        }
    }

    fn find(&mut self, h: u128) -> Option<u64> {
        for b in self.blocks.iter_mut() {
            if let Some(r) = b.find(h) {
                return Some(b.base + r as u64);
            }
        }
        None
    }

    fn unknown_member(&self, rows: &Rows, i: usize, dup: bool) -> ErrorRow {
        unknown_member(&self.words, rows, i, dup)
    }

    /// The member file has ended: stage every group left (they have no
    /// more members). Call once the group file has ended too.
    pub fn finish_members(&mut self) {
        self.members_done = true;
        if self.cur.is_some() {
            let m = self.staged.n_members;
            if let Some(last) = self.staged.offsets.last_mut() {
                *last = m;
            }
        }
        self.cur = None;
        self.cur_key = None;
        self.stage_through(self.groups_read);
    }

    /// Every group has been read and staged: close the last chunk.
    pub fn finish(&mut self) {
        self.finish_members();
        self.cut();
    }

    /// Take the chunks completed so far.
    pub fn take_ready(&mut self) -> Vec<Pending> {
        std::mem::take(&mut self.ready)
    }
}

/// The error row of a member whose group does not exist (or is a
/// duplicate): it is rejected alone.
pub fn unknown_member(w: &Words, rows: &Rows, i: usize, dup: bool) -> ErrorRow {
    let text = rows
        .link_col
        .and_then(|c| rows.cols.get(c))
        .map(|c| c.text(i).to_string())
        .unwrap_or_default();
    let seq = rows.seq.get(i).copied().unwrap_or(0);
    let line = rows.lines.get(i).copied().unwrap_or(0);
    let id = key_text(rows, i);
    // The row's own error wins when its column comes before the link,
    // or when the group is a duplicate.
    if let Some(e) = rows.error(i) {
        if dup || e.order < w.link_order {
            return ErrorRow {
                seq,
                line,
                id,
                column: e.column.clone(),
                message: e.message.clone(),
            };
        }
    }
    let (column, message) = unlinked(w, &text, dup);
    ErrorRow {
        seq,
        line,
        id,
        column,
        message,
    }
}

/// The column and message of a member row no group can take: its group's
/// id is on more than one row (`dup`), or no group has the id `text` it
/// names. Runs over files and records held in memory say the same.
pub fn unlinked(w: &Words, text: &str, dup: bool) -> (String, String) {
    if dup {
        return (
            String::new(),
            format!(
                "{} {text} rejected: {} {text} appears on more than one row",
                w.gword, w.gkey
            ),
        );
    }
    let message = if text.is_empty() {
        format!("no {} is named (an empty {})", w.gword, w.link_name)
    } else {
        format!("unknown {} {text}", w.gword)
    };
    (w.link_name.clone(), message)
}

/// The hashes of every id, for duplicates and set-aside links.
pub struct IdIndex {
    groups: Vec<u128>,
    members: Vec<u128>,
    spill: Option<Spill>,
    parts: usize,
    /// Hashes kept in memory before spilling.
    budget: usize,
}

struct Spill {
    dir: tempfile::TempDir,
    groups: Vec<std::io::BufWriter<std::fs::File>>,
    members: Vec<std::io::BufWriter<std::fs::File>>,
}

fn scratch(e: std::io::Error) -> RunError {
    RunError::Scratch(e.to_string())
}

fn partition_of(h: u128, parts: usize) -> usize {
    (h as u64 % parts as u64) as usize
}

/// What the index found.
#[derive(Debug, Default)]
pub struct Found {
    pub dup_groups: HashSet<u128>,
    pub dup_members: HashSet<u128>,
    /// Per set-aside member: its group exists (and is not a duplicate).
    pub resolved: Vec<bool>,
}

impl IdIndex {
    /// `input_bytes`: the inputs' size, for the number of partitions if
    /// the index spills (8 MiB of input each, 1 to 256); `forced`: spill
    /// from the start into this many partitions (for tests).
    pub fn new(input_bytes: u64, forced: Option<usize>) -> IdIndex {
        IdIndex {
            groups: Vec::new(),
            members: Vec::new(),
            spill: None,
            parts: forced.map(|p| p.clamp(1, 256)).unwrap_or_else(|| {
                ((input_bytes / (8 << 20)) as usize)
                    .next_power_of_two()
                    .clamp(1, 256)
            }),
            budget: if forced.is_some() { 0 } else { IN_MEMORY },
        }
    }

    pub fn push_groups(&mut self, h: &[u128]) -> Result<(), RunError> {
        self.groups.extend_from_slice(h);
        self.maybe_spill()
    }

    pub fn push_members(&mut self, h: &[u128]) -> Result<(), RunError> {
        self.members.extend_from_slice(h);
        self.maybe_spill()
    }

    fn maybe_spill(&mut self) -> Result<(), RunError> {
        if self.groups.len() + self.members.len() < self.budget.max(1) && self.spill.is_none() {
            return Ok(());
        }
        if self.spill.is_none() {
            let dir = crate::scratch::dir("weft-index").map_err(scratch)?;
            let open =
                |kind: &str, p: usize| -> Result<std::io::BufWriter<std::fs::File>, RunError> {
                    let f = crate::scratch::file(&dir.path().join(format!("{kind}-{p}")))
                        .map_err(scratch)?;
                    Ok(std::io::BufWriter::with_capacity(1 << 14, f))
                };
            let mut groups = Vec::with_capacity(self.parts);
            let mut members = Vec::with_capacity(self.parts);
            for p in 0..self.parts {
                groups.push(open("groups", p)?);
                members.push(open("members", p)?);
            }
            self.spill = Some(Spill {
                dir,
                groups,
                members,
            });
        }
        if let Some(mut s) = self.spill.take() {
            let r = self.spill_held(&mut s);
            self.spill = Some(s);
            r?;
        }
        Ok(())
    }

    /// Move the hashes held in memory to the partitions.
    fn spill_held(&mut self, s: &mut Spill) -> Result<(), RunError> {
        let parts = self.parts;
        for (hashes, files) in [
            (&mut self.groups, &mut s.groups),
            (&mut self.members, &mut s.members),
        ] {
            for h in hashes.drain(..) {
                if let Some(f) = files.get_mut(partition_of(h, parts)) {
                    f.write_all(&h.to_le_bytes()).map_err(scratch)?;
                }
            }
        }
        Ok(())
    }

    /// Find duplicates and whether each set-aside link names a group.
    pub fn finish(mut self, unresolved: &[Unresolved]) -> Result<Found, RunError> {
        let mut found = Found {
            resolved: vec![false; unresolved.len()],
            ..Found::default()
        };
        match self.spill.take() {
            None => {
                let mut g = std::mem::take(&mut self.groups);
                let mut m = std::mem::take(&mut self.members);
                rayon::join(|| g.sort_unstable(), || m.sort_unstable());
                found.dup_groups = dups(&g);
                found.dup_members = dups(&m);
                for (u, r) in unresolved.iter().zip(found.resolved.iter_mut()) {
                    *r = g.binary_search(&u.link).is_ok() && !found.dup_groups.contains(&u.link);
                }
            }
            Some(mut s) => {
                // What is still in memory goes to the partitions too.
                let parts = self.parts;
                self.spill_held(&mut s)?;
                for f in s.groups.iter_mut().chain(s.members.iter_mut()) {
                    f.flush().map_err(scratch)?;
                }
                drop(std::mem::take(&mut s.groups));
                drop(std::mem::take(&mut s.members));
                for p in 0..parts {
                    let mut g = read_hashes(&s.dir.path().join(format!("groups-{p}")))?;
                    let mut m = read_hashes(&s.dir.path().join(format!("members-{p}")))?;
                    rayon::join(|| g.sort_unstable(), || m.sort_unstable());
                    let dg = dups(&g);
                    for (u, r) in unresolved.iter().zip(found.resolved.iter_mut()) {
                        if partition_of(u.link, parts) == p {
                            *r = g.binary_search(&u.link).is_ok() && !dg.contains(&u.link);
                        }
                    }
                    found.dup_groups.extend(dg);
                    found.dup_members.extend(dups(&m));
                }
            }
        }
        Ok(found)
    }
}

fn read_hashes(path: &Path) -> Result<Vec<u128>, RunError> {
    let bytes = std::fs::read(path).map_err(scratch)?;
    let _ = std::fs::remove_file(path);
    Ok(bytes
        .chunks_exact(16)
        .map(|c| {
            let mut a = [0u8; 16];
            a.copy_from_slice(c);
            u128::from_le_bytes(a)
        })
        .collect())
}

fn dups(sorted: &[u128]) -> HashSet<u128> {
    let mut out = HashSet::new();
    for w in sorted.windows(2) {
        if w[0] == w[1] {
            out.insert(w[0]);
        }
    }
    out
}

/// The id of row `i`.
pub fn key_text(rows: &Rows, i: usize) -> String {
    rows.key_col
        .and_then(|c| rows.cols.get(c))
        .map(|c| c.text(i).to_string())
        .unwrap_or_default()
}

/// Mark rows whose id is a known duplicate (not empty ids).
pub fn mark_dups(rows: &mut Rows, dups: &HashSet<u128>, column: &str, order: usize) {
    if dups.is_empty() {
        return;
    }
    for i in 0..rows.len() {
        if rows.key.get(i).map(|h| dups.contains(h)).unwrap_or(false) {
            let id = key_text(rows, i);
            if !id.is_empty() {
                rows.note_error(
                    i,
                    RowError {
                        column: column.to_string(),
                        message: format!("{id} appears on more than one row"),
                        order,
                    },
                    true,
                );
            }
        }
    }
}

/// Hash an id (for callers outside the readers).
pub fn id_hash(s: &str) -> u128 {
    hash_id(s)
}
