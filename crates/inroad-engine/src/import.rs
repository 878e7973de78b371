//! `inroad leads import`: any export, any size, all or nothing.
//!
//! Threads share the work: one parses the CSV into batches of records, a few
//! normalise them (email, domain and URL rules: most of the CPU), taking batches in
//! turn, and one deduplicates and writes them, in file order, inside a single store
//! transaction. Batches travel over bounded channels, so memory stays flat whatever
//! the file size. Deduplication uses an in-memory index of
//! hashed identity keys seeded from the database ([`DedupIndex`]); a hit is
//! confirmed against the stored lead before it counts.

use std::collections::HashSet;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

use inroad_core::identity::{key, matches, DedupIndex, IdentityHashes, KeyKind, Lookup};
use inroad_core::row::{normalize_row, normalize_row_into, ColumnMap, NormalizedRow, Override};
use inroad_core::{Field, Lead};
use inroad_store::{LeadImport, Store};
use serde::Serialize;

use crate::sniff::sniff;
use crate::{io_error, Error, Result};

/// What to import and how.
#[derive(Clone, Debug, Default)]
pub struct ImportOptions {
    /// Put imported and duplicate leads on this list.
    pub list: Option<String>,
    pub overrides: Vec<Override>,
    /// Do everything, report it, then roll back.
    pub dry_run: bool,
}

/// The outcome, as printed by `--json`. `rows = imported + duplicates + rejected`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    pub rows: u64,
    pub imported: u64,
    /// Duplicates that filled at least one empty field of the stored lead.
    pub updated: u64,
    pub duplicates: u64,
    pub rejected: u64,
    /// Leads kept without an invalid email (or URL, or domain) they came with; the
    /// dropped value is in the lead's notes.
    pub values_dropped: u64,
    pub rejects_file: Option<PathBuf>,
    pub dry_run: bool,
}

/// Where the rejected rows of `file` go.
pub fn rejects_path(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".rejects.csv");
    PathBuf::from(name)
}

const BATCH_ROWS: usize = 512;
/// Normaliser threads at most (one per core up to this).
const MAX_NORMALIZERS: usize = 4;
const HEAD_BYTES: usize = 64 * 1024;
/// The buffer of a reader that reads back one of the import's own rows: most rows
/// fit, a longer one grows it.
const OWN_ROW_BUFFER: usize = 8 * 1024;
/// The buffer of the reader that counts lines up to a rejected row.
const LINE_COUNT_BUFFER: usize = 64 * 1024;
/// Emptied row vectors a normaliser keeps for its next batches, and that its way
/// back holds. The writer returns them in bursts: with room for 4, the overflow was
/// freed and made again, some 90 vectors of 512 rows a million rows (every string
/// allocated afresh); with 8, none after the first dozen.
const SPARE_ROW_VECS: usize = 8;
/// How many rows ahead the writer asks for the dedup index's places of a row's
/// keys: enough for memory to answer before the row's turn.
const PREFETCH_ROWS: usize = 8;
/// The most rows the dedup index is sized for up front (256 MB a table, mapped in
/// at once).
const PRESIZED_ROWS_MAX: u64 = 1 << 23;

/// A parsed row on its way to the writer, and back to its normaliser to hold the
/// next row parsed (its strings are reused).
#[derive(Default)]
struct ParsedRow {
    /// Where its record starts in the file (or a line break before it).
    offset: u64,
    /// The lead, unless the row is rejected.
    normalized: NormalizedRow,
    hashes: IdentityHashes,
    /// Why the row is rejected, if it is.
    rejected: Option<String>,
    /// The original cells, kept only for rows that end in the rejects file.
    raw: Option<simd_csv::ByteRecord>,
}

/// Records as parsed, on their way to a normaliser, which sends the batch back to
/// be filled again (the records keep their buffers).
#[derive(Default)]
struct RawBatch {
    /// The first `len` hold this batch's rows; the rest are spare buffers.
    records: Vec<simd_csv::ByteRecord>,
    offsets: Vec<u64>,
    len: usize,
    bytes_read: u64,
    last: bool,
}

struct Batch {
    rows: Vec<ParsedRow>,
    bytes_read: u64,
    /// The file was read to its end: this is the last batch. Only then may the
    /// writer commit; a reader that fails just stops sending.
    last: bool,
}

/// Imports `path` into the store. `progress(bytes_read, total_bytes)` is called as
/// the file is consumed.
pub fn import_leads(
    store: &mut dyn Store,
    path: &Path,
    options: &ImportOptions,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<ImportReport> {
    let mut file = File::open(path).map_err(|e| io_error("open", path, e))?;
    let total = file.metadata().map_err(|e| io_error("read", path, e))?.len();
    let mut head = Vec::with_capacity(HEAD_BYTES);
    (&mut file)
        .take(HEAD_BYTES as u64)
        .read_to_end(&mut head)
        .map_err(|e| io_error("read", path, e))?;
    let override_headers: Vec<String> = options.overrides.iter().map(|o| o.header.clone()).collect();
    let layout = sniff(&head, &override_headers);
    let lone_cr = lone_cr_line_ends(&head);
    let head_lines = head.iter().filter(|&&b| b == b'\n').count().max(1) as u64;
    let expected_rows = total.saturating_mul(head_lines) / (head.len() as u64).max(1);
    drop(head);
    file.seek(SeekFrom::Start(layout.header_offset))
        .map_err(|e| io_error("read", path, e))?;
    let mut reader = simd_csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(layout.delimiter)
        .buffer_capacity(256 * 1024)
        .from_reader(LoneCr::new(file, lone_cr));

    let mut header = simd_csv::ByteRecord::new();
    let has_header = reader
        .read_byte_record(&mut header)
        .map_err(|e| csv_error(path, &e))?;
    if !has_header {
        return Err(Error::Usage(format!(
            "{} is empty: expected a header row, then one lead per row",
            path.display()
        )));
    }
    let headers: Vec<String> = header
        .iter()
        .map(|h| String::from_utf8(h.to_vec()))
        .collect::<Result<_, _>>()
        .map_err(|_| {
            Error::Usage(format!(
                "{}: the header row is not UTF-8; save the file as UTF-8 (CSV UTF-8 in Excel)",
                path.display()
            ))
        })?;
    let map = ColumnMap::new(&headers, &options.overrides).map_err(Error::Usage)?;
    if key_kinds(&map).is_empty() {
        return Err(Error::Usage(format!(
            "{}: no column looks like an email, LinkedIn URL or name (columns: {}); name one with --map HEADER=FIELD",
            path.display(),
            headers.join(", ")
        )));
    }

    let rejects_file = rejects_path(path);
    let lines = LineCounter::new(path.to_owned(), lone_cr);
    let mut rejects = RejectsWriter::new(rejects_file.clone(), headers, lines);
    let file_again = File::open(path).map_err(|e| io_error("open", path, e))?;
    let own_rows = OwnRows::new(file_again, (layout.delimiter, lone_cr), &map);
    let normalizers = std::thread::available_parallelism().map_or(1, |n| n.get().min(MAX_NORMALIZERS));
    let result = std::thread::scope(|scope| {
        let spawn_error =
            |e: std::io::Error| ReadOrWrite::Other(Error::Io(format!("cannot start a reader thread: {e}")));
        let (recycle, recycled) = sync_channel::<RawBatch>(normalizers * 4);
        let mut inboxes = Vec::new();
        let mut lanes = Vec::new();
        for n in 0..normalizers {
            let (to_normalizer, inbox) = sync_channel::<RawBatch>(2);
            let (outbox, from_normalizer) = sync_channel::<Batch>(4);
            let (give_back, used) = sync_channel::<Vec<ParsedRow>>(SPARE_ROW_VECS);
            let (map, recycle) = (&map, recycle.clone());
            std::thread::Builder::new()
                .name(format!("import-normalize-{n}"))
                .spawn_scoped(scope, move || {
                    normalize_batches(map, &inbox, &outbox, &recycle, &used)
                })
                .map_err(spawn_error)?;
            inboxes.push(to_normalizer);
            lanes.push((from_normalizer, give_back));
        }
        drop(recycle);
        let byte_base = layout.header_offset;
        let reader_thread = std::thread::Builder::new()
            .name("import-reader".into())
            .spawn_scoped(scope, move || {
                read_records(reader, byte_base, &inboxes, &recycled)
            })
            .map_err(spawn_error)?;
        let written = write_rows(
            store,
            &lanes,
            own_rows,
            options,
            &mut rejects,
            (expected_rows, total),
            progress,
        );
        drop(lanes); // a normaliser still sending (the writer failed) stops
        let read = reader_thread.join().expect("the record reader does not panic");
        // A read error also ends the writer early; report the read error first.
        read.and(written)
    });
    match result {
        Ok(mut report) => {
            report.rejects_file = rejects.finish()?;
            progress(total, total);
            Ok(report)
        }
        Err(e) => {
            rejects.discard();
            Err(match e {
                ReadOrWrite::Read(e) => csv_error(path, &e),
                ReadOrWrite::Other(e) => e,
            })
        }
    }
}

enum ReadOrWrite {
    Read(simd_csv::Error),
    Other(Error),
}

impl From<Error> for ReadOrWrite {
    fn from(e: Error) -> Self {
        ReadOrWrite::Other(e)
    }
}

impl From<inroad_store::StoreError> for ReadOrWrite {
    fn from(e: inroad_store::StoreError) -> Self {
        ReadOrWrite::Other(e.into())
    }
}

fn csv_error(path: &Path, e: &simd_csv::Error) -> Error {
    match e.kind() {
        simd_csv::ErrorKind::Io(io) => Error::Io(format!("cannot read {}: {io}", path.display())),
        _ => Error::Usage(format!("{}: {e}", path.display())),
    }
}

/// The record's cells as text, or `None` if any is not UTF-8. One validation of the
/// record's whole buffer (by SIMD: `str::from_utf8` took a fifteenth of the
/// normalisers' time), then each cell is a slice of it (valid exactly when it starts
/// and ends on character boundaries): no copy, no allocation.
fn utf8_cells(record: &simd_csv::ByteRecord) -> Option<impl Iterator<Item = &str>> {
    let all = record.as_slice();
    let text = simdutf8::basic::from_utf8(all).ok()?;
    // Where each cell lies in the buffer (the cells are slices of it).
    let range = move |cell: &[u8]| {
        let start = (cell.as_ptr() as usize).wrapping_sub(all.as_ptr() as usize);
        start..start + cell.len()
    };
    let boundaries_ok = record.iter().all(|cell| text.get(range(cell)).is_some());
    boundaries_ok.then(|| {
        record
            .iter()
            .map(move |cell| text.get(range(cell)).unwrap_or_default())
    })
}

/// Reads a file whose lines end in a lone '\r' (as old Mac spreadsheets export) as if
/// they ended in '\n': the parser's line ends are '\n' and "\r\n". Byte for byte, so
/// offsets into the file still hold.
struct LoneCr<R> {
    inner: R,
    as_lf: bool,
}

/// Whether a file's lines end in a lone '\r', judged by its head: '\r' but no '\n'.
fn lone_cr_line_ends(head: &[u8]) -> bool {
    head.contains(&b'\r') && !head.contains(&b'\n')
}

impl<R: Read> LoneCr<R> {
    fn new(inner: R, as_lf: bool) -> Self {
        LoneCr { inner, as_lf }
    }
}

impl<R: Read> Read for LoneCr<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if self.as_lf {
            for byte in buf[..n].iter_mut().filter(|b| **b == b'\r') {
                *byte = b'\n';
            }
        }
        Ok(n)
    }
}

/// The reader thread: parses records in batches, in file order, and deals the
/// batches to the normalisers in turn (batch k to normaliser k mod n, which is how
/// the writer takes them back in order).
fn read_records(
    mut reader: simd_csv::Reader<LoneCr<File>>,
    byte_base: u64,
    normalizers: &[SyncSender<RawBatch>],
    recycled: &Receiver<RawBatch>,
) -> Result<(), ReadOrWrite> {
    for normalizer in normalizers.iter().cycle() {
        let mut batch = recycled.try_recv().unwrap_or_default();
        batch.len = 0;
        batch.offsets.clear();
        let mut more = true;
        while more && batch.len < BATCH_ROWS {
            if batch.len == batch.records.len() {
                batch.records.push(simd_csv::ByteRecord::new());
            }
            let record = &mut batch.records[batch.len];
            // Where the record starts, or a blank line or line break before it.
            let start = reader.position();
            more = reader.read_byte_record(record).map_err(ReadOrWrite::Read)?;
            if !more || record.iter().all(|cell| cell.iter().all(u8::is_ascii_whitespace)) {
                continue; // the end, or a blank line (or a row of empty cells): not a lead
            }
            batch.offsets.push(byte_base + start);
            batch.len += 1;
        }
        batch.bytes_read = byte_base + reader.position();
        batch.last = !more;
        if normalizer.send(batch).is_err() || !more {
            // Sent the last batch, or the writer stopped (its error is the one to report).
            return Ok(());
        }
    }
    Ok(())
}

/// A normaliser thread: turns each batch of records into rows for the writer.
fn normalize_batches(
    map: &ColumnMap,
    inbox: &Receiver<RawBatch>,
    outbox: &SyncSender<Batch>,
    recycle: &SyncSender<RawBatch>,
    used: &Receiver<Vec<ParsedRow>>,
) {
    // Rows the writer gave back, filled again: their strings take the next rows'
    // values (no allocation per cell), and a new vector for each batch would be
    // fresh pages (hundreds of kilobytes) for the kernel to zero.
    let mut spare: Vec<Vec<ParsedRow>> = Vec::new();
    for raw in inbox {
        let mut rows = spare.pop().unwrap_or_default();
        rows.resize_with(raw.len, ParsedRow::default);
        let records = raw.records[..raw.len].iter().zip(&raw.offsets);
        for (row, (record, &offset)) in rows.iter_mut().zip(records) {
            parse_row_into(map, record, offset, row);
        }
        let batch = Batch {
            rows,
            bytes_read: raw.bytes_read,
            last: raw.last,
        };
        if outbox.send(batch).is_err() {
            return;
        }
        let _ = recycle.try_send(raw);
        // Reused (or freed) here, where their strings were allocated, rather than
        // on the writer's thread.
        while let Ok(rows) = used.try_recv() {
            if spare.len() < SPARE_ROW_VECS {
                spare.push(rows);
            }
        }
    }
}

/// Parses `record` into `row`, reusing the strings `row` held.
fn parse_row_into(map: &ColumnMap, record: &simd_csv::ByteRecord, offset: u64, row: &mut ParsedRow) {
    row.offset = offset;
    let outcome = match utf8_cells(record) {
        Some(cells) => normalize_row_into(map, cells, &mut row.normalized),
        None => Err("not valid UTF-8: save the file as UTF-8".to_owned()),
    };
    match outcome {
        Ok(()) => {
            row.hashes = IdentityHashes::of(&row.normalized.lead);
            row.rejected = None;
            row.raw = None;
        }
        Err(reason) => {
            row.rejected = Some(reason);
            row.raw = Some(record.clone());
        }
    }
}

/// The writer side: dedup and write every row inside one transaction.
fn write_rows(
    store: &mut dyn Store,
    lanes: &[(Receiver<Batch>, SyncSender<Vec<ParsedRow>>)],
    mut own_rows: OwnRows<'_>,
    options: &ImportOptions,
    rejects: &mut RejectsWriter,
    (expected_rows, total_bytes): (u64, u64),
    progress: &mut dyn FnMut(u64, u64),
) -> Result<ImportReport, ReadOrWrite> {
    // Sized for the file's rows as estimated from its first lines (bounded, as an
    // odd head can mislead), for the keys its columns can give; stored leads on top,
    // if any, grow it. Made first: its pages are mapped in while the transaction
    // begins.
    let presized = expected_rows.min(PRESIZED_ROWS_MAX) as usize;
    let mut index = DedupIndex::with_capacity(presized, &key_kinds(own_rows.map));
    let mut tx = store.begin_import(expected_rows)?;
    // Kept only where reading back through the store costs (8 bytes a row).
    own_rows.enabled = tx.own_reads_interrupt();
    tx.for_each_identity(&mut |id, lead| index.insert(&IdentityHashes::of(lead), id))?;
    let mut report = ImportReport {
        dry_run: options.dry_run,
        ..ImportReport::default()
    };
    let mut read_to_end = false;
    // Batch k comes from normaliser k mod n (see read_records), until the last.
    for (receiver, used) in lanes.iter().cycle() {
        let Ok(batch) = receiver.recv() else {
            break; // the reader stopped early: its error is reported
        };
        read_to_end = batch.last;
        let hashes = |row: &ParsedRow| row.rejected.is_none().then_some(row.hashes);
        for ahead in batch.rows.iter().take(PREFETCH_ROWS).filter_map(hashes) {
            index.prefetch(&ahead);
        }
        for (i, row) in batch.rows.iter().enumerate() {
            if let Some(ahead) = batch.rows.get(i + PREFETCH_ROWS).and_then(hashes) {
                index.prefetch(&ahead);
            }
            report.rows += 1;
            match &row.rejected {
                None => {
                    let known = (&mut index, &mut own_rows);
                    let parsed = (&row.normalized, &row.hashes, row.offset);
                    let id = write_lead(tx.as_mut(), known, parsed, &mut report)?;
                    if let Some(list) = &options.list {
                        tx.add_to_list(list, id)?;
                    }
                }
                Some(reason) => {
                    report.rejected += 1;
                    rejects.write(row.offset, reason, row.raw.as_ref())?;
                }
            }
        }
        progress(batch.bytes_read, total_bytes);
        // Back to its normaliser to be filled again (see normalize_batches); if it
        // lags, freed here.
        let _ = used.try_send(batch.rows);
        if read_to_end {
            break;
        }
    }
    if !read_to_end {
        // The reader failed (its error is reported); roll back by dropping `tx`.
        return Err(ReadOrWrite::Other(Error::Io(
            "the file was not read to its end".into(),
        )));
    }
    // Their memory is better spent on the commit's index build.
    drop(index);
    drop(own_rows);
    if !options.dry_run {
        tx.commit()?;
    }
    Ok(report)
}

/// The identity keys that rows read through `map` can have: a file without a
/// LinkedIn column, say, needs no room for its rows in that table.
fn key_kinds(map: &ColumnMap) -> Vec<KeyKind> {
    let kinds: [(KeyKind, &[Field]); 3] = [
        (KeyKind::Email, &[Field::Email]),
        (KeyKind::Linkedin, &[Field::LinkedinUrl]),
        (
            KeyKind::Name,
            &[Field::FirstName, Field::LastName, Field::FullName],
        ),
    ];
    kinds
        .into_iter()
        .filter(|(_, fields)| fields.iter().any(|&field| map.has(field)))
        .map(|(kind, _)| kind)
        .collect()
}

/// Writes one normalised row as a new lead or merges it into its duplicate; returns
/// the stored lead's id.
fn write_lead(
    tx: &mut dyn LeadImport,
    (index, own_rows): (&mut DedupIndex, &mut OwnRows<'_>),
    (row, hashes, offset): (&NormalizedRow, &IdentityHashes, u64),
    report: &mut ImportReport,
) -> Result<i64, ReadOrWrite> {
    let NormalizedRow { lead, dropped, .. } = row;
    if *dropped > 0 {
        report.values_dropped += 1;
    }
    let held = match index.lookup(hashes) {
        Lookup::Free(keys) => {
            let id = insert_lead(tx, row, report)?;
            keys.file(id);
            own_rows.push(id, offset);
            return Ok(id);
        }
        Lookup::Held(held) => held,
    };
    if let Some((id, mut stored)) = find_duplicate(tx, own_rows, &held, lead)? {
        report.duplicates += 1;
        let mut keep_empty = Vec::new();
        for (field, kind) in [
            (Field::Email, KeyKind::Email),
            (Field::LinkedinUrl, KeyKind::Linkedin),
        ] {
            if stored.get(field).is_none() && key(lead, kind).is_some_and(|k| index.holds(kind, &k)) {
                keep_empty.push(field); // another lead owns that address or profile
            }
        }
        if stored.fill_from(lead, &keep_empty) {
            tx.update(id, &stored)?;
            own_rows.changed(id);
            index.insert(&IdentityHashes::of(&stored), id);
            report.updated += 1;
        }
        return Ok(id);
    }
    // Every candidate was another lead whose key's hash collides with this one's.
    let id = insert_lead(tx, row, report)?;
    index.insert(hashes, id);
    own_rows.push(id, offset);
    Ok(id)
}

fn insert_lead(
    tx: &mut dyn LeadImport,
    row: &NormalizedRow,
    report: &mut ImportReport,
) -> Result<i64, ReadOrWrite> {
    let notes = (!row.notes.is_empty()).then(|| row.notes.join("; "));
    let id = tx.insert(&row.lead, notes.as_deref())?;
    report.imported += 1;
    Ok(id)
}

/// The stored lead among `held` (candidates from the index, strongest key first)
/// that `lead` duplicates, if any.
fn find_duplicate(
    tx: &mut dyn LeadImport,
    own_rows: &mut OwnRows<'_>,
    held: &[(KeyKind, i64)],
    lead: &Lead,
) -> Result<Option<(i64, Lead)>, ReadOrWrite> {
    let mut get = |tx: &mut dyn LeadImport, id| match own_rows.lead(id) {
        Some(lead) => Ok(lead),
        None => tx.get(id),
    };
    for &(kind, id) in held {
        let stored = get(tx, id)?;
        if matches(&stored, lead, kind) {
            return Ok(Some((id, stored)));
        }
        if key(&stored, kind) != key(lead, kind) {
            // Two keys share a hash: ask the store for the exact key.
            if let Some(exact) = tx.find(kind, lead)? {
                let stored = get(tx, exact)?;
                if matches(&stored, lead, kind) {
                    return Ok(Some((exact, stored)));
                }
            }
        }
    }
    Ok(None)
}

/// The leads this import inserted, found again in its file: a later row that
/// duplicates one reads it back from there, normalised again (the same lead), rather
/// than from the store, where a read would interrupt the bulk load (PostgreSQL's
/// COPY). A lead changed since (a duplicate filled its empty fields), or a row that
/// no longer reads the same, is the store's to answer.
struct OwnRows<'a> {
    file: File,
    /// How the file is read: its delimiter, and whether its lines end in a lone '\r'.
    layout: (u8, bool),
    record: simd_csv::ByteRecord,
    map: &'a ColumnMap,
    /// (first id, its index in `offsets`) of each run of consecutive ids.
    runs: Vec<(i64, usize)>,
    /// Where each inserted lead's row starts in the file, in insertion order.
    offsets: Vec<u64>,
    changed: HashSet<i64>,
    /// Off: nothing kept, every lead is the store's to answer.
    enabled: bool,
}

impl<'a> OwnRows<'a> {
    fn new(file: File, layout: (u8, bool), map: &'a ColumnMap) -> Self {
        OwnRows {
            file,
            layout,
            record: simd_csv::ByteRecord::new(),
            map,
            runs: Vec::new(),
            offsets: Vec::new(),
            changed: HashSet::new(),
            enabled: true,
        }
    }

    fn push(&mut self, id: i64, offset: u64) {
        if !self.enabled {
            return;
        }
        let index = self.offsets.len();
        let follows = self
            .runs
            .last()
            .is_some_and(|&(first, start)| id - first == (index - start) as i64);
        if !follows {
            self.runs.push((id, index));
        }
        self.offsets.push(offset);
    }

    fn changed(&mut self, id: i64) {
        self.changed.insert(id);
    }

    /// Where lead `id`'s row starts, if this import inserted it.
    fn offset(&self, id: i64) -> Option<u64> {
        let run = self
            .runs
            .partition_point(|&(first, _)| first <= id)
            .checked_sub(1)?;
        let (first, start) = self.runs[run];
        let end = self
            .runs
            .get(run + 1)
            .map_or(self.offsets.len(), |&(_, next)| next);
        let index = start + usize::try_from(id - first).ok()?;
        (index < end).then(|| self.offsets[index])
    }

    /// Lead `id` as this import inserted it, unless it changed since, is not the
    /// import's own, or its row cannot be read back as it was.
    fn lead(&mut self, id: i64) -> Option<Lead> {
        if self.changed.contains(&id) {
            return None;
        }
        let offset = self.offset(id)?;
        self.file.seek(SeekFrom::Start(offset)).ok()?;
        let (delimiter, lone_cr) = self.layout;
        // A reader for each read (a few in a hundred rows): one kept would hold
        // what it read ahead of the last row.
        let mut reader = simd_csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .buffer_capacity(OWN_ROW_BUFFER)
            .from_reader(LoneCr::new(&self.file, lone_cr));
        if !reader.read_byte_record(&mut self.record).ok()? {
            return None;
        }
        let row = normalize_row(self.map, utf8_cells(&self.record)?).ok()?;
        Some(row.lead)
    }
}

/// The physical line numbers of rejected rows, counted when one is asked for: the
/// file is read again from its start as far as the rejected rows reach. Most imports
/// reject little, and noting every line break as the file streamed by cost the reader
/// thread some 4% of the import's instructions. Lines are counted by '\n' (a lone-CR
/// file's '\r' read as one), so the count does not drift after CRLF line ends or blank
/// lines as the csv crate's own did (rust-csv issues 208 and 395).
struct LineCounter {
    path: PathBuf,
    lone_cr: bool,
    /// Opened at the first rejected row.
    reader: Option<BufReader<LoneCr<File>>>,
    /// Bytes read past, and the '\n' among them.
    passed: u64,
    newlines: u64,
}

impl LineCounter {
    fn new(path: PathBuf, lone_cr: bool) -> Self {
        LineCounter {
            path,
            lone_cr,
            reader: None,
            passed: 0,
            newlines: 0,
        }
    }

    /// The 1-based line of the first byte at or after `offset` that is not a line
    /// break: where a record read from `offset` starts (a record's offset may be that
    /// of a line break, or a blank line, before it). Offsets must not decrease.
    fn line_at(&mut self, offset: u64) -> std::io::Result<u64> {
        let reader = match &mut self.reader {
            Some(reader) => reader,
            None => {
                let file = LoneCr::new(File::open(&self.path)?, self.lone_cr);
                self.reader
                    .insert(BufReader::with_capacity(LINE_COUNT_BUFFER, file))
            }
        };
        loop {
            let buf = reader.fill_buf()?;
            if buf.is_empty() {
                break;
            }
            let before =
                usize::try_from(offset.saturating_sub(self.passed)).map_or(buf.len(), |n| n.min(buf.len()));
            let breaks = buf[before..]
                .iter()
                .take_while(|b| matches!(b, b'\r' | b'\n'))
                .count();
            let used = before + breaks;
            let counted = &buf[..used];
            self.newlines += counted.iter().filter(|&&b| b == b'\n').count() as u64;
            let found = used < buf.len();
            reader.consume(used);
            self.passed += used as u64;
            if found {
                break;
            }
        }
        Ok(self.newlines + 1)
    }
}

/// Writes rejected rows to `<FILE>.rejects.csv`: line, reason, then the row as it was.
struct RejectsWriter {
    path: PathBuf,
    headers: Vec<String>,
    writer: Option<csv::Writer<File>>,
    lines: LineCounter,
}

impl RejectsWriter {
    fn new(path: PathBuf, headers: Vec<String>, lines: LineCounter) -> RejectsWriter {
        RejectsWriter {
            path,
            headers,
            writer: None,
            lines,
        }
    }

    /// Writes the row whose record was read from `offset`.
    fn write(&mut self, offset: u64, reason: &str, raw: Option<&simd_csv::ByteRecord>) -> Result<()> {
        let line = self
            .lines
            .line_at(offset)
            .map_err(|e| io_error("read", &self.lines.path, e))?;
        if self.writer.is_none() {
            let file = File::create(&self.path).map_err(|e| io_error("create", &self.path, e))?;
            // A row longer than the header keeps its extra cells (nothing is lost).
            let mut writer = csv::WriterBuilder::new().flexible(true).from_writer(file);
            let mut header = vec!["line".to_owned(), "reason".to_owned()];
            header.extend(self.headers.iter().cloned());
            writer.write_record(&header).map_err(|e| self.error(e))?;
            self.writer = Some(writer);
        }
        let mut record = csv::ByteRecord::new();
        record.push_field(line.to_string().as_bytes());
        record.push_field(reason.as_bytes());
        for cell in raw.into_iter().flatten() {
            record.push_field(cell);
        }
        // A short row (or one that was not read as cells) is padded to the header's
        // width, so the file stays one table.
        while record.len() < 2 + self.headers.len() {
            record.push_field(b"");
        }
        let result = self
            .writer
            .as_mut()
            .expect("created above")
            .write_byte_record(&record);
        result.map_err(|e| self.error(e))
    }

    fn error(&self, e: csv::Error) -> Error {
        Error::Io(format!("cannot write {}: {e}", self.path.display()))
    }

    /// Flushes the file; returns its path if any row was rejected. A rejects file
    /// left by an earlier import of the same file is removed when this one has none,
    /// so the file on disk always matches the latest report.
    fn finish(mut self) -> Result<Option<PathBuf>> {
        match self.writer.take() {
            Some(mut writer) => {
                writer.flush().map_err(|e| io_error("write", &self.path, e))?;
                Ok(Some(self.path))
            }
            None => {
                match std::fs::remove_file(&self.path) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(io_error("remove the stale", &self.path, e)),
                }
                Ok(None)
            }
        }
    }

    fn discard(self) {
        if self.writer.is_some() {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The import's own leads come back from the file as normalised, by id across
    /// runs of ids, and not once changed or not the import's.
    #[test]
    fn own_rows_are_read_back_from_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("leads.csv");
        let text = "Email;Title\nA@Acme.com;CEO\n\"b@acme.com\";\"Head of\nSales\"\nc@acme.com;CTO\n";
        std::fs::write(&path, text).unwrap();
        let map = ColumnMap::new(&["Email".to_owned(), "Title".to_owned()], &[]).unwrap();
        let mut own = OwnRows::new(File::open(&path).unwrap(), (b';', false), &map);
        let at = |needle: &str| text.find(needle).unwrap() as u64;
        own.push(10, at("A@"));
        own.push(11, at("\"b@"));
        own.push(40, at("c@"));
        let a = own.lead(10).unwrap();
        assert_eq!(
            (a.email.as_deref(), a.title.as_deref()),
            (Some("a@acme.com"), Some("CEO"))
        );
        let b = own.lead(11).unwrap();
        assert_eq!(b.title.as_deref(), Some("Head of Sales"));
        assert_eq!(own.lead(40).unwrap().email.as_deref(), Some("c@acme.com"));
        for not_own in [9, 12, 39, 41] {
            assert!(own.lead(not_own).is_none(), "{not_own}");
        }
        own.changed(11);
        assert!(own.lead(11).is_none(), "a changed lead is the store's to answer");
    }

    fn lead_row(email: &str) -> ParsedRow {
        let lead = Lead {
            email: Some(email.to_owned()),
            ..Lead::default()
        };
        let hashes = IdentityHashes::of(&lead);
        let row = NormalizedRow {
            lead,
            notes: Vec::new(),
            dropped: 0,
        };
        ParsedRow {
            normalized: row,
            hashes,
            ..ParsedRow::default()
        }
    }

    /// A reader that stops early (an I/O error mid-file) must not let the writer
    /// commit what it got so far.
    #[test]
    fn writer_commits_only_a_file_read_to_its_end() {
        let dir = tempfile::tempdir().unwrap();
        let db = inroad_testkit::TestDatabase::new(&dir.path().join("t.db"));
        let mut store = inroad_store::open(db.url()).unwrap();
        let lines = LineCounter::new(dir.path().join("leads.csv"), false);
        let mut rejects = RejectsWriter::new(dir.path().join("r.csv"), Vec::new(), lines);
        let map = ColumnMap::new(&["Email".to_owned()], &[]).unwrap();
        let file = File::create(dir.path().join("leads.csv")).unwrap();
        for last in [false, true] {
            let own_rows = OwnRows::new(file.try_clone().unwrap(), (b',', false), &map);
            let (sender, receiver) = sync_channel(2);
            let (used, _used_receiver) = sync_channel(2);
            sender
                .send(Batch {
                    rows: vec![lead_row("a@acme.com")],
                    bytes_read: 10,
                    last,
                })
                .unwrap();
            drop(sender);
            let result = write_rows(
                store.as_mut(),
                &[(receiver, used)],
                own_rows,
                &ImportOptions::default(),
                &mut rejects,
                (1, 10),
                &mut |_, _| {},
            );
            assert_eq!(result.is_ok(), last);
            assert_eq!(store.count_leads(None).unwrap(), u64::from(last));
        }
    }

    /// A record is read as text only when it is UTF-8 as a whole and cell by cell.
    #[test]
    fn cells_are_text_only_when_the_whole_record_is_utf8() {
        let record = |cells: &[&[u8]]| {
            let mut record = simd_csv::ByteRecord::new();
            for cell in cells {
                record.push_field(cell);
            }
            record
        };
        let text = |cells: &[&[u8]]| {
            utf8_cells(&record(cells)).map(|cells| cells.map(str::to_owned).collect::<Vec<_>>())
        };
        assert_eq!(
            text(&[b"Zo\xc3\xab", b"", b"caf\xc3\xa9"]),
            Some(vec!["Zoë".into(), "".into(), "café".into()])
        );
        // Latin-1 'é', alone or beside valid cells (the whole record is refused).
        assert_eq!(text(&[b"caf\xe9"]), None);
        assert_eq!(text(&[b"ok", b"caf\xe9", b"ok"]), None);
        // A character cut between two cells is valid as a buffer, not as cells.
        assert_eq!(text(&[b"Zo\xc3", b"\xab"]), None);
    }

    /// Room in the dedup index goes only to the keys a file's columns can give.
    #[test]
    fn key_kinds_follow_the_columns() {
        let map = |headers: &[&str]| {
            let headers: Vec<String> = headers.iter().map(|h| h.to_string()).collect();
            ColumnMap::new(&headers, &[]).unwrap()
        };
        let connections = map(&["First Name", "Last Name", "URL", "Company"]);
        assert_eq!(key_kinds(&connections), [KeyKind::Linkedin, KeyKind::Name]);
        assert_eq!(key_kinds(&map(&["Email", "Title"])), [KeyKind::Email]);
        assert_eq!(
            key_kinds(&map(&["Name", "Email", "LinkedIn URL"])),
            [KeyKind::Email, KeyKind::Linkedin, KeyKind::Name]
        );
    }

    /// A fresh SQLite database with `contents` imported from a file: the directory,
    /// the database, the store and the import's report (the first two kept alive).
    fn imported(
        contents: &[u8],
    ) -> (
        tempfile::TempDir,
        inroad_testkit::TestDatabase,
        Box<dyn Store>,
        ImportReport,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let db = inroad_testkit::TestDatabase::new(&dir.path().join("t.db"));
        let mut store = inroad_store::open(db.url()).unwrap();
        let path = dir.path().join("leads.csv");
        std::fs::write(&path, contents).unwrap();
        let report = import_leads(store.as_mut(), &path, &ImportOptions::default(), &mut |_, _| {}).unwrap();
        (dir, db, store, report)
    }

    /// A file with no column for any identity key is refused before anything is
    /// written, with a hint.
    #[test]
    fn a_file_without_identity_columns_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let db = inroad_testkit::TestDatabase::new(&dir.path().join("t.db"));
        let mut store = inroad_store::open(db.url()).unwrap();
        let path = dir.path().join("titles.csv");
        std::fs::write(&path, "Title,Company\nCEO,Acme\n").unwrap();
        let refused = import_leads(store.as_mut(), &path, &ImportOptions::default(), &mut |_, _| {});
        let Err(Error::Usage(why)) = refused else {
            panic!("refused as a usage error: {refused:?}");
        };
        assert!(
            why.contains("no column looks like") && why.contains("--map"),
            "{why}"
        );
        assert_eq!(store.count_leads(None).unwrap(), 0);
    }

    /// Old Mac spreadsheets end lines in a lone '\r': rows are still rows, a quoted
    /// line break is still inside its cell, and a reject names its line.
    #[test]
    fn a_file_whose_lines_end_in_a_lone_cr_is_read_by_its_lines() {
        let text = "Email,Title\ra@acme.com,CEO\rb@acme.com,\"Head of\rSales\"\rnobody,x\r";
        let (_dir, _db, store, report) = imported(text.as_bytes());
        assert_eq!((report.rows, report.imported, report.rejected), (3, 2, 1));
        let leads = store
            .leads(&inroad_store::LeadQuery {
                after: 0,
                list: None,
                limit: 10,
            })
            .unwrap();
        let titles: Vec<_> = leads.iter().map(|l| l.lead.title.as_deref()).collect();
        assert_eq!(titles, [Some("CEO"), Some("Head of Sales")]);
        let rejects = std::fs::read_to_string(report.rejects_file.unwrap()).unwrap();
        assert!(rejects.lines().nth(1).unwrap().starts_with("5,"), "{rejects}");
    }

    /// A rejected row shorter than the header is padded in the rejects file, a longer
    /// one keeps its extra cells; neither stops the import (a short one used to).
    #[test]
    fn rejected_rows_of_any_width_are_written_whole() {
        let (_dir, _db, _store, report) =
            imported(b"Email,First Name,Company\na\nx@y.com,Jo,Acme\n,,,,extra\n");
        assert_eq!((report.rows, report.imported, report.rejected), (3, 1, 2));
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .has_headers(false)
            .from_path(report.rejects_file.unwrap())
            .unwrap();
        let rows: Vec<Vec<String>> = reader
            .records()
            .map(|r| r.unwrap().iter().map(str::to_owned).collect())
            .collect();
        assert_eq!(rows[0], ["line", "reason", "Email", "First Name", "Company"]);
        assert_eq!(
            (rows[1][0].as_str(), &rows[1][2..]),
            ("2", &["a", "", ""].map(String::from)[..])
        );
        let long = ["", "", "", "", "extra"].map(String::from);
        assert_eq!((rows[2][0].as_str(), &rows[2][2..]), ("4", &long[..]));
    }

    /// A cell: text with the characters CSV must quote (delimiter, quote, line breaks).
    fn cell() -> impl proptest::strategy::Strategy<Value = String> {
        "[a-c ,;\"\r\n\té]{0,6}"
    }

    proptest::proptest! {
        /// Well-formed CSV (as a writer quotes it) reads as the csv crate reads it,
        /// record for record, with each record starting where the reader stood.
        #[test]
        fn records_read_as_the_csv_crate_reads_them(
            rows in proptest::collection::vec(proptest::collection::vec(cell(), 1..5), 1..8),
            crlf in proptest::bool::ANY,
            delimiter in proptest::sample::select(vec![b',', b';', b'\t']),
        ) {
            let terminator = if crlf { csv::Terminator::CRLF } else { csv::Terminator::Any(b'\n') };
            let mut writer = csv::WriterBuilder::new().flexible(true).delimiter(delimiter).terminator(terminator).from_writer(Vec::new());
            for row in &rows {
                writer.write_record(row).unwrap();
            }
            let data = writer.into_inner().unwrap();
            let mut expected = csv::ReaderBuilder::new().has_headers(false).flexible(true).delimiter(delimiter).from_reader(&data[..]);
            let mut actual = simd_csv::ReaderBuilder::new().has_headers(false).flexible(true).delimiter(delimiter).buffer_capacity(16).from_reader(&data[..]);
            let (mut want, mut got) = (csv::ByteRecord::new(), simd_csv::ByteRecord::new());
            loop {
                let start = actual.position();
                let more = actual.read_byte_record(&mut got).unwrap();
                proptest::prop_assert_eq!(more, expected.read_byte_record(&mut want).unwrap());
                if !more {
                    break;
                }
                proptest::prop_assert_eq!(got.iter().collect::<Vec<_>>(), want.iter().collect::<Vec<_>>());
                // Read again from where the reader stood (as OwnRows does): the same
                // record, after nothing but line breaks (as LineCounter skips them).
                let from = &data[start as usize..];
                let mut again = simd_csv::ReaderBuilder::new().has_headers(false).flexible(true).delimiter(delimiter).from_reader(from);
                let mut reread = simd_csv::ByteRecord::new();
                proptest::prop_assert!(again.read_byte_record(&mut reread).unwrap());
                proptest::prop_assert_eq!(&reread, &got);
                let breaks = from.iter().take_while(|b| matches!(b, b'\r' | b'\n')).count();
                let first = if crlf { b"\r\n".as_slice() } else { b"\n".as_slice() };
                proptest::prop_assert!(breaks == 0 || breaks == first.len() && from.starts_with(first), "{from:?}");
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]

        /// Any bytes after a header (stray quotes, lone CRs, blank lines, invalid
        /// UTF-8, duplicates) import without a panic, every row counted once, and
        /// each rejected row's line is a line of the file.
        #[test]
        fn any_file_imports_and_accounts_for_every_row(
            body in proptest::collection::vec(
                proptest::sample::select(vec![b'a', b'@', b'.', b',', b';', b'"', b'\r', b'\n', b' ', 0xC3, 0xA9, 0xFF]),
                0..400,
            ),
            crlf_header in proptest::bool::ANY,
        ) {
            let mut file = if crlf_header { b"Email,First Name,Company\r\n".to_vec() } else { b"Email,First Name,Company\n".to_vec() };
            file.extend_from_slice(&body);
            let (_dir, _db, store, report) = imported(&file);
            proptest::prop_assert_eq!(report.rows, report.imported + report.duplicates + report.rejected);
            proptest::prop_assert_eq!(store.count_leads(None).unwrap(), report.imported);
            let lines = file.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
            if let Some(rejects) = &report.rejects_file {
                let mut reader = csv::ReaderBuilder::new().flexible(true).from_path(rejects).unwrap();
                for record in reader.byte_records() {
                    let record = record.unwrap();
                    let line: u64 = std::str::from_utf8(&record[0]).unwrap().parse().unwrap();
                    proptest::prop_assert!((2..=lines).contains(&line), "line {line} of {lines}");
                }
            }
        }
    }
}
