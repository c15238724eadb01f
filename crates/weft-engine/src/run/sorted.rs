//! The order-free mode: a member file not grouped in the group file's
//! order, joined in bounded memory by an external sort.
//!
//! A run that finds members out of order starts again here
//! ([`super::attempt`] with `unordered`). Nothing is held for the whole
//! population; scratch files (owner-only, [`crate::scratch`]) hold it
//! instead:
//!
//! 1. **Spill.** The group file is read once for its ids: each id's hash
//!    and the group's position go to a partition chosen by the hash. The
//!    member file is read and parsed; each parsed row goes, whole (cells,
//!    line, errors), to the partition of its link's hash. Both files' ids
//!    go to the id index ([`IdIndex`]), which finds duplicates.
//! 2. **Sort.** One partition at a time (a partition holds about
//!    [`PART_BYTES`] of member file): its groups' positions are looked up
//!    by hash, each member gets its group's position (members naming no
//!    group, or a duplicated one, are rejected here, as spec §5.3 says),
//!    and the members are sorted by (group position, position in the
//!    member file) into a sorted run.
//! 3. **Join.** The group file is read again, in order; the sorted runs are
//!    merged, so the members come out in the group file's order, each
//!    group's in member-file order, and are cut into chunks exactly as an
//!    ordered member file would be.
//!
//! Outputs of members come out of evaluation in group order; their files
//! keep the member file's order through [`Reorder`], which holds a bounded
//! number of rows, spills them as sorted runs and merges the runs when
//! the output is finished.
//!
//! Memory follows [`PART_BYTES`], the chunk size and the reorder budget,
//! not the population. The cost is one more read of the group file and
//! writing and reading the member file's rows once more, in binary.

use super::block::Rows;
use super::frame::{In, Out, read_frame, write_frame};
use super::link::{self, IdIndex, Known, Staged};
use super::output::OutBlock;
use super::source::Input;
use super::{ErrorRow, Progress, ReadBatch, ReadEnd, RunError, Setup, ToEval, number, words};
use rayon::prelude::*;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;
use weft_data::{FileError, Format};

/// Member-file bytes per partition of the sort (the rows of one partition
/// are in memory at once while it is sorted).
pub const PART_BYTES: u64 = 16 << 20;
/// Rows per frame of a sorted run (one frame per run is in memory while
/// the runs are merged).
const FRAME_ROWS: usize = 4096;
/// Output rows held before [`Reorder`] spills them.
pub const REORDER_ROWS: usize = 64 * 1024;

fn scratch(e: std::io::Error) -> RunError {
    RunError::Scratch(format!("the sort of an unordered member file failed: {e}"))
}

fn damaged() -> RunError {
    RunError::Scratch("a scratch file of the sort did not read back".into())
}

/// The partition of a hash (its high bits, so that the id index's
/// partitions, taken from the low bits, are independent of these).
fn part_of(h: u128, parts: usize) -> usize {
    ((h >> 64) as u64 % parts as u64) as usize
}

/// Read an input to its end, parsing blocks in parallel, a few at a time;
/// `each` gets every block's rows, numbered, in file order.
fn stream(
    inp: &mut Input<'_>,
    next: &mut u64,
    progress: Option<&dyn Progress>,
    mut each: impl FnMut(Rows) -> Result<(), RunError>,
) -> Result<(), RunError> {
    let threads = rayon::current_num_threads().max(1);
    loop {
        let mut raws = Vec::with_capacity(threads);
        for _ in 0..threads {
            match inp.read()? {
                Some((r, n)) => {
                    if let Some(p) = progress {
                        p.advance(n);
                    }
                    raws.push(r);
                }
                None => break,
            }
        }
        if raws.is_empty() {
            return Ok(());
        }
        let parser = &inp.parser;
        let parsed: Vec<_> = raws.par_iter().map(|r| parser.parse(r)).collect();
        for p in parsed {
            let (mut rows, seen) = p?;
            number(&mut rows, next);
            inp.saw(seen);
            each(rows)?;
        }
    }
}

/// A sorted run being merged: its current frame.
struct RunReader {
    file: BufReader<File>,
    buf: Vec<u8>,
    /// The group position of each row of `rows`.
    group: Vec<u64>,
    rows: Rows,
    at: usize,
}

impl RunReader {
    /// Load the next frame; `false` when the run is over.
    fn next_frame(&mut self, like: &Rows) -> Result<bool, RunError> {
        if !read_frame(&mut self.file, &mut self.buf).map_err(scratch)? {
            return Ok(false);
        }
        let mut i = In::new(&self.buf);
        self.group = i.u64s().ok_or_else(damaged)?;
        self.rows = Rows::decode(&mut i, like).ok_or_else(damaged)?;
        if self.group.len() != self.rows.len() || self.rows.is_empty() {
            return Err(damaged());
        }
        self.at = 0;
        Ok(true)
    }

    fn head(&self) -> (u64, u64) {
        (
            self.group.get(self.at).copied().unwrap_or(u64::MAX),
            self.rows.seq.get(self.at).copied().unwrap_or(u64::MAX),
        )
    }
}

/// The reader thread of the order-free mode (see the module's header).
pub(super) fn read_sorted(
    setup: &Setup<'_>,
    known: &Known,
    mut gin: Input<'_>,
    min: Option<Input<'_>>,
    progress: &dyn Progress,
    tx: std::sync::mpsc::SyncSender<ReadBatch>,
) -> Result<Option<ReadEnd>, RunError> {
    let t0 = Instant::now();
    let mut warnings = Vec::new();
    let Some(mut min) = min else {
        return Err(RunError::Usage("no member input".into()));
    };
    let w = words(setup, &gin, Some(&min));
    let forced = setup.opts.index_partitions;
    let parts = forced.unwrap_or_else(|| (min.size / PART_BYTES + 1).clamp(1, 1024) as usize);
    let dir = crate::scratch::dir("weft-sort").map_err(scratch)?;
    let open = |name: String| -> Result<(PathBuf, BufWriter<File>), RunError> {
        let p = dir.path().join(name);
        let f = crate::scratch::file(&p).map_err(scratch)?;
        Ok((p, BufWriter::with_capacity(64 * 1024, f)))
    };
    let mut gparts = (0..parts)
        .map(|p| open(format!("groups-{p}")))
        .collect::<Result<Vec<_>, _>>()?;
    let mut mparts = (0..parts)
        .map(|p| open(format!("members-{p}")))
        .collect::<Result<Vec<_>, _>>()?;
    let mut index = IdIndex::new(gin.size + min.size, forced);

    // 1. Spill: group ids with their positions; member rows whole.
    let mut gseq = 0u64;
    stream(&mut gin, &mut gseq, Some(progress), |rows| {
        index.push_groups(&rows.key)?;
        for (h, s) in rows.key.iter().zip(&rows.seq) {
            let f = &mut gparts[part_of(*h, parts)].1;
            f.write_all(&h.to_le_bytes()).map_err(scratch)?;
            f.write_all(&s.to_le_bytes()).map_err(scratch)?;
        }
        Ok(())
    })?;
    drop(gin);
    let mut mseq = 0u64;
    let mut like: Option<Rows> = None;
    stream(&mut min, &mut mseq, Some(progress), |rows| {
        index.push_members(&rows.key)?;
        if like.is_none() {
            like = Some(rows.empty_like(0));
        }
        // Each partition's rows of this block, encoded.
        let mut which: Vec<Vec<usize>> = vec![Vec::new(); parts];
        for i in 0..rows.len() {
            let h = rows.link.get(i).copied().unwrap_or(0);
            which[part_of(h, parts)].push(i);
        }
        let frames: Vec<Option<Vec<u8>>> = which
            .par_iter()
            .map(|idx| {
                if idx.is_empty() {
                    return None;
                }
                let mut sub = rows.empty_like(idx.len());
                for &i in idx {
                    sub.extend_from(&rows, i..i + 1);
                }
                let mut o = Out::default();
                sub.encode(&mut o);
                Some(o.0)
            })
            .collect();
        for (p, f) in frames.into_iter().enumerate() {
            if let Some(f) = f {
                write_frame(&mut mparts[p].1, &f).map_err(scratch)?;
            }
        }
        Ok(())
    })?;
    min.finish(&mut warnings)?;
    let msha = min.sha256()?;
    drop(min);
    let close = |(p, w): (PathBuf, BufWriter<File>)| -> Result<PathBuf, RunError> {
        w.into_inner()
            .map_err(|e| scratch(e.into_error()))?
            .flush()
            .map_err(scratch)?;
        Ok(p)
    };
    let gparts = gparts
        .into_iter()
        .map(close)
        .collect::<Result<Vec<_>, _>>()?;
    let mparts = mparts
        .into_iter()
        .map(close)
        .collect::<Result<Vec<_>, _>>()?;
    let read = t0.elapsed();

    // 2. Sort each partition into a run.
    let t1 = Instant::now();
    let found = index.finish(&[])?;
    let mut dup_groups = known.dup_groups.clone();
    dup_groups.extend(found.dup_groups);
    let mut dup_members = known.dup_members.clone();
    dup_members.extend(found.dup_members);
    let like = like.unwrap_or_default();
    let mut unknown: Vec<ErrorRow> = Vec::new();
    let mut runs: Vec<PathBuf> = Vec::new();
    let mut buf = Vec::new();
    for (p, (gpath, mpath)) in gparts.iter().zip(&mparts).enumerate() {
        // Each group id's first position.
        let bytes = std::fs::read(gpath).map_err(scratch)?;
        let mut at: HashMap<u128, u64> = HashMap::with_capacity(bytes.len() / 24);
        for c in bytes.chunks_exact(24) {
            let h = u128::from_le_bytes(c[..16].try_into().map_err(|_| damaged())?);
            let s = u64::from_le_bytes(c[16..].try_into().map_err(|_| damaged())?);
            at.entry(h).or_insert(s);
        }
        drop(bytes);
        crate::scratch::remove(gpath).map_err(scratch)?;
        let mut blocks: Vec<Rows> = Vec::new();
        let mut file = BufReader::new(File::open(mpath).map_err(scratch)?);
        while read_frame(&mut file, &mut buf).map_err(scratch)? {
            let mut rows = Rows::decode(&mut In::new(&buf), &like).ok_or_else(damaged)?;
            link::mark_dups(&mut rows, &dup_members, &w.mkey, w.mkey_order);
            blocks.push(rows);
        }
        drop(file);
        crate::scratch::remove(mpath).map_err(scratch)?;
        // (group position, member position, block, row)
        let mut order: Vec<(u64, u64, u32, u32)> = Vec::new();
        for (bi, rows) in blocks.iter().enumerate() {
            for i in 0..rows.len() {
                let h = rows.link.get(i).copied().unwrap_or(0);
                if dup_groups.contains(&h) {
                    unknown.push(link::unknown_member(&w, rows, i, true));
                    continue;
                }
                match at.get(&h) {
                    Some(g) => order.push((*g, rows.seq[i], bi as u32, i as u32)),
                    None => unknown.push(link::unknown_member(&w, rows, i, false)),
                }
            }
        }
        drop(at);
        order.par_sort_unstable();
        if order.is_empty() {
            continue;
        }
        let (path, mut out) = open(format!("run-{p}"))?;
        for part in order.chunks(FRAME_ROWS) {
            let mut sub = like.empty_like(part.len());
            let mut group = Vec::with_capacity(part.len());
            for &(g, _, bi, i) in part {
                if let Some(b) = blocks.get(bi as usize) {
                    sub.extend_from(b, i as usize..i as usize + 1);
                    group.push(g);
                }
            }
            let mut o = Out::default();
            o.u64s(&group);
            sub.encode(&mut o);
            write_frame(&mut out, &o.0).map_err(scratch)?;
        }
        runs.push(close((path, out))?);
    }
    let index_time = t1.elapsed();

    // 3. Join: the group file again, with the runs merged.
    let t2 = Instant::now();
    let mut readers: Vec<RunReader> = Vec::new();
    for r in &runs {
        let mut rr = RunReader {
            file: BufReader::new(File::open(r).map_err(scratch)?),
            buf: Vec::new(),
            group: Vec::new(),
            rows: Rows::default(),
            at: 0,
        };
        if rr.next_frame(&like)? {
            readers.push(rr);
        }
    }
    let mut heap: BinaryHeap<Reverse<((u64, u64), usize)>> = readers
        .iter()
        .enumerate()
        .map(|(k, r)| Reverse((r.head(), k)))
        .collect();
    let mut gin = Input::open(setup.prog, setup.gs, setup.gfile, &mut warnings)?;
    let new_staged = || Staged {
        groups: Rows::default(),
        members: like.empty_like(0),
        offsets: vec![0],
        excluded: Vec::new(),
    };
    let mut st = new_staged();
    let mut weight = 0usize;
    let mut batch: Vec<ToEval> = Vec::new();
    let mut unknown = Some(unknown);
    let mut gseq2 = 0u64;
    let mut closed = false;
    let mut send = |batch: &mut Vec<ToEval>, last: bool| -> bool {
        if batch.len() >= setup.batch_chunks || (last && (!batch.is_empty() || unknown.is_some())) {
            let b = ReadBatch {
                chunks: std::mem::take(batch),
                unknown: unknown.take().unwrap_or_default(),
            };
            return tx.send(b).is_ok();
        }
        true
    };
    stream(&mut gin, &mut gseq2, None, |mut g| {
        if closed {
            return Ok(());
        }
        link::mark_dups(&mut g, &dup_groups, &w.gkey, w.gkey_order);
        for r in 0..g.len() {
            let pos = g.seq[r];
            st.groups.extend_from(&g, r..r + 1);
            let before = st.members.len();
            while let Some(Reverse(((gp, _), k))) = heap.peek().copied() {
                if gp != pos {
                    break;
                }
                heap.pop();
                let Some(rr) = readers.get_mut(k) else {
                    continue;
                };
                st.members.extend_from(&rr.rows, rr.at..rr.at + 1);
                rr.at += 1;
                if rr.at < rr.rows.len() || rr.next_frame(&like)? {
                    heap.push(Reverse((rr.head(), k)));
                }
            }
            st.offsets.push(st.members.len());
            weight += (st.members.len() - before).max(1);
            if weight >= setup.opts.chunk_rows.max(1) {
                batch.push(ToEval::Staged(Box::new(std::mem::replace(
                    &mut st,
                    new_staged(),
                ))));
                weight = 0;
                if !send(&mut batch, false) {
                    closed = true;
                    return Ok(());
                }
            }
        }
        Ok(())
    })?;
    if closed {
        return Ok(None);
    }
    if st.group_count() > 0 {
        batch.push(ToEval::Staged(Box::new(st)));
    }
    if !send(&mut batch, true) {
        return Ok(None);
    }
    // Every run is merged: a member whose group position was never reached
    // would mean the group file changed under the run.
    if !heap.is_empty() {
        return Err(RunError::Scratch(
            "the group file changed while the run read it".into(),
        ));
    }
    gin.finish(&mut warnings)?;
    let gsha = gin.sha256()?;
    drop(readers);
    for r in &runs {
        crate::scratch::remove(r).map_err(scratch)?;
    }
    drop(dir);
    Ok(Some(ReadEnd {
        group_rows: gseq2,
        member_rows: mseq,
        gsha,
        msha,
        unresolved: Vec::new(),
        found: link::Found::default(),
        out_of_order: false,
        read: read + t2.elapsed(),
        index: index_time,
        warnings,
    }))
}

/// A member output's rows, put back in the member file's order: held up
/// to a budget, then spilled as sorted runs, merged when finished.
pub(super) struct Reorder {
    held: OutBlock,
    limit: usize,
    dir: Option<tempfile::TempDir>,
    runs: Vec<PathBuf>,
    pub format: Format,
    pub path: PathBuf,
}

impl Reorder {
    pub fn new(format: Format, path: &Path, limit: usize) -> Reorder {
        Reorder {
            held: OutBlock::default(),
            limit: limit.max(1),
            dir: None,
            runs: Vec::new(),
            format,
            path: path.to_path_buf(),
        }
    }

    fn err(&self, e: impl std::fmt::Display) -> FileError {
        FileError::new(
            weft_data::file_name(&self.path),
            format!("cannot put this output in input order: {e}"),
        )
    }

    pub fn push(&mut self, block: &OutBlock) -> Result<(), FileError> {
        self.held.append(block);
        if self.held.len() >= self.limit {
            self.spill()?;
        }
        Ok(())
    }

    fn spill(&mut self) -> Result<(), FileError> {
        if self.held.is_empty() {
            return Ok(());
        }
        let sorted = std::mem::take(&mut self.held).sorted();
        if self.dir.is_none() {
            self.dir = Some(crate::scratch::dir("weft-reorder").map_err(|e| self.err(e))?);
        }
        let Some(dir) = self.dir.as_ref() else {
            return Ok(());
        };
        let path = dir.path().join(format!("run-{}", self.runs.len()));
        let f = crate::scratch::file(&path).map_err(|e| self.err(e))?;
        let mut w = BufWriter::with_capacity(64 * 1024, f);
        let mut from = 0;
        while from < sorted.len() {
            let to = (from + FRAME_ROWS).min(sorted.len());
            let mut part = OutBlock::default();
            part.extend_from(&sorted, from..to);
            let mut o = Out::default();
            part.encode(&mut o);
            write_frame(&mut w, &o.0).map_err(|e| self.err(e))?;
            from = to;
        }
        w.flush().map_err(|e| self.err(e))?;
        self.runs.push(path);
        Ok(())
    }

    /// The rows in input order, in blocks of at most `rows`, to `each`.
    pub fn finish(
        mut self,
        rows: usize,
        mut each: impl FnMut(&OutBlock) -> Result<(), FileError>,
    ) -> Result<(), FileError> {
        if self.runs.is_empty() {
            let sorted = std::mem::take(&mut self.held).sorted();
            return each(&sorted);
        }
        self.spill()?;
        struct Head {
            file: BufReader<File>,
            block: OutBlock,
            at: usize,
        }
        let mut buf = Vec::new();
        let mut heads: Vec<Head> = Vec::new();
        let next = |file: &mut BufReader<File>, buf: &mut Vec<u8>| {
            if !read_frame(file, buf)? {
                return Ok(None);
            }
            OutBlock::decode(&mut In::new(buf))
                .filter(|b| !b.is_empty())
                .map(Some)
                .ok_or_else(|| std::io::Error::other("a scratch file did not read back"))
        };
        for r in &self.runs {
            let mut file = BufReader::new(File::open(r).map_err(|e| self.err(e))?);
            if let Some(block) = next(&mut file, &mut buf).map_err(|e| self.err(e))? {
                heads.push(Head { file, block, at: 0 });
            }
        }
        let mut heap: BinaryHeap<Reverse<(u64, usize)>> = heads
            .iter()
            .enumerate()
            .map(|(k, h)| Reverse((h.block.seq[h.at], k)))
            .collect();
        let mut out = OutBlock::default();
        while let Some(Reverse((_, k))) = heap.pop() {
            let Some(h) = heads.get_mut(k) else { continue };
            out.extend_from(&h.block, h.at..h.at + 1);
            h.at += 1;
            if h.at >= h.block.len() {
                match next(&mut h.file, &mut buf).map_err(|e| self.err(e))? {
                    Some(b) => {
                        h.block = b;
                        h.at = 0;
                    }
                    None => continue,
                }
            }
            heap.push(Reverse((h.block.seq[h.at], k)));
            if out.len() >= rows {
                each(&out)?;
                out = OutBlock::default();
            }
        }
        if !out.is_empty() {
            each(&out)?;
        }
        drop(heads);
        for r in &self.runs {
            crate::scratch::remove(r).map_err(|e| self.err(e))?;
        }
        Ok(())
    }
}

/// What the reorder holds before it spills.
pub(super) fn reorder_rows(forced: Option<usize>) -> usize {
    // Tests force the sort's partitions; then the reorder spills often too.
    forced.map(|_| 7).unwrap_or(REORDER_ROWS)
}
