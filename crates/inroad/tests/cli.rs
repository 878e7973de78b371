//! End-to-end tests of the `inroad` binary: each runs the real executable in its own
//! temporary directory, against its own database, and checks what a user (or an
//! outside check relying on DESIGN.md §5) sees: exit codes, `--json` objects, the
//! rejects file, exports, and the database after a SIGKILL.

#[path = "support/backend.rs"]
mod backend;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};

use serde_json::Value;
use tempfile::TempDir;

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

const BIN: &str = env!("CARGO_BIN_EXE_inroad");

/// Runs `inroad ARGS` in `dir` (with no INROAD_DB from the caller's environment);
/// returns (status, stdout, stderr).
fn run_in(dir: &Path, args: &[&str]) -> (ExitStatus, String, String) {
    let out = Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env_remove("INROAD_DB")
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {BIN}: {e}"));
    (
        out.status,
        String::from_utf8(out.stdout).expect("stdout is UTF-8"),
        String::from_utf8(out.stderr).expect("stderr is UTF-8"),
    )
}

/// Parses the one JSON object `--json` prints on stdout.
fn parse_json(stdout: &str) -> Value {
    let trimmed = stdout.trim();
    assert_eq!(
        trimmed.lines().count(),
        1,
        "--json prints exactly one line on stdout, got:\n{stdout}"
    );
    let value: Value =
        serde_json::from_str(trimmed).unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{stdout}"));
    assert!(value.is_object(), "--json prints an object: {value}");
    value
}

/// Asserts a user error: exit code 1 and one line on stderr starting "error:".
fn assert_user_error(what: &str, (status, stdout, stderr): &(ExitStatus, String, String)) {
    assert_eq!(
        status.code(),
        Some(1),
        "{what}: exit code 1 expected\nstdout: {stdout}\nstderr: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{what}: panicked:\n{stderr}");
    let lines: Vec<&str> = stderr.trim_end().lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "{what}: a one-line error expected, got:\n{stderr}"
    );
    assert!(lines[0].starts_with("error:"), "{what}: {stderr}");
}

/// A scratch workspace: a temporary directory with its own database.
struct Ws {
    dir: TempDir,
}

impl Ws {
    fn new() -> Ws {
        Ws {
            dir: tempfile::tempdir().expect("a temporary directory"),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn db(&self) -> String {
        self.db_named("inroad.db")
    }

    fn db_named(&self, name: &str) -> String {
        backend::db_str(&self.path(name))
    }

    fn write(&self, name: &str, content: impl AsRef<[u8]>) -> String {
        let path = self.path(name);
        std::fs::write(&path, content).expect("write a test file");
        path.to_str().expect("UTF-8 temp path").to_owned()
    }

    /// Runs `inroad --db DB ARGS`.
    fn run_db(&self, db: &str, args: &[&str]) -> (ExitStatus, String, String) {
        let mut all = vec!["--db", db];
        all.extend_from_slice(args);
        run_in(self.dir.path(), &all)
    }

    fn run(&self, args: &[&str]) -> (ExitStatus, String, String) {
        self.run_db(&self.db(), args)
    }

    /// Runs a command that must succeed; returns its stdout.
    fn ok_db(&self, db: &str, args: &[&str]) -> String {
        let (status, stdout, stderr) = self.run_db(db, args);
        assert!(
            status.success(),
            "inroad {args:?} failed ({status})\nstdout: {stdout}\nstderr: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
        stdout
    }

    fn ok(&self, args: &[&str]) -> String {
        self.ok_db(&self.db(), args)
    }

    /// `leads import FILE --json EXTRA...` into `db`, checking the report's shape.
    fn import_db(&self, db: &str, file: &str, extra: &[&str]) -> Report {
        let mut args = vec!["leads", "import", file, "--json"];
        args.extend_from_slice(extra);
        let report = Report::from_json(&parse_json(&self.ok_db(db, &args)));
        report.check(file);
        report
    }

    fn import(&self, file: &str, extra: &[&str]) -> Report {
        self.import_db(&self.db(), file, extra)
    }

    /// `leads list --json` (all leads, or one list): (total, leads).
    fn leads_db(&self, db: &str, list: Option<&str>) -> (u64, Vec<Value>) {
        let mut args = vec!["leads", "list", "--json", "--limit", "100000"];
        if let Some(list) = list {
            args.extend(["--list", list]);
        }
        let v = parse_json(&self.ok_db(db, &args));
        let total = v["total"].as_u64().expect("total is a number");
        let leads = v["leads"].as_array().expect("leads is an array").clone();
        (total, leads)
    }

    fn leads(&self) -> Vec<Value> {
        let (total, leads) = self.leads_db(&self.db(), None);
        assert_eq!(total, leads.len() as u64);
        leads
    }

    fn count(&self) -> u64 {
        self.leads_db(&self.db(), None).0
    }

    /// `leads export -o FILE` parsed: (header, rows as header→value maps).
    fn export_db(&self, db: &str, list: Option<&str>) -> (Vec<String>, Vec<BTreeMap<String, String>>) {
        let out = self.path("export.csv");
        let out = out.to_str().unwrap();
        let mut args = vec!["leads", "export", "-o", out];
        if let Some(list) = list {
            args.extend(["--list", list]);
        }
        self.ok_db(db, &args);
        let text = std::fs::read_to_string(out).expect("the export file");
        let mut rows = parse_csv(&text).into_iter();
        let header = rows.next().expect("the export has a header");
        let rows = rows
            .map(|r| {
                assert_eq!(r.len(), header.len(), "ragged export row {r:?}");
                header.iter().cloned().zip(r).collect()
            })
            .collect();
        (header, rows)
    }

    fn export(&self) -> (Vec<String>, Vec<BTreeMap<String, String>>) {
        self.export_db(&self.db(), None)
    }

    fn suppress_list(&self) -> Vec<Value> {
        let v = parse_json(&self.ok(&["suppress", "list", "--json"]));
        let entries = v["suppressions"].as_array().expect("suppressions array").clone();
        assert_eq!(v["total"].as_u64(), Some(entries.len() as u64), "{v}");
        entries
    }
}

/// The `leads import --json` report (DESIGN.md §5).
#[derive(Debug, PartialEq, Eq)]
struct Report {
    rows: u64,
    imported: u64,
    updated: u64,
    duplicates: u64,
    rejected: u64,
    rejects_file: Option<String>,
}

impl Report {
    fn from_json(v: &Value) -> Report {
        let n = |key: &str| {
            v.get(key)
                .unwrap_or_else(|| panic!("--json lacks {key:?}: {v}"))
                .as_u64()
                .unwrap_or_else(|| panic!("{key:?} is not a count: {v}"))
        };
        let rejects_file = match v.get("rejects_file") {
            Some(Value::Null) => None,
            Some(Value::String(p)) => Some(p.clone()),
            other => panic!("rejects_file must be a path or null, got {other:?}: {v}"),
        };
        Report {
            rows: n("rows"),
            imported: n("imported"),
            updated: n("updated"),
            duplicates: n("duplicates"),
            rejected: n("rejected"),
            rejects_file,
        }
    }

    /// The invariants of every report.
    fn check(&self, file: &str) {
        assert_eq!(
            self.rows,
            self.imported + self.duplicates + self.rejected,
            "rows = imported + duplicates + rejected: {self:?}"
        );
        assert!(
            self.updated <= self.duplicates,
            "updated counts duplicates: {self:?}"
        );
        match &self.rejects_file {
            None => assert_eq!(self.rejected, 0, "{self:?}"),
            Some(path) => {
                assert!(self.rejected > 0, "{self:?}");
                assert_eq!(path, &format!("{file}.rejects.csv"), "{self:?}");
                assert!(Path::new(path).is_file(), "{path} exists");
            }
        }
    }

    fn counts(&self) -> [u64; 5] {
        [
            self.rows,
            self.imported,
            self.updated,
            self.duplicates,
            self.rejected,
        ]
    }
}

/// A small RFC 4180 reader (quoted fields, doubled quotes, embedded newlines, CRLF
/// or LF), independent of the csv crate the code under test uses.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut in_quotes = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if in_quotes {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    field.push('"');
                } else {
                    in_quotes = false;
                }
            } else {
                field.push(c);
            }
            continue;
        }
        match c {
            '"' => in_quotes = true,
            ',' => row.push(std::mem::take(&mut field)),
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            c => field.push(c),
        }
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    rows
}

/// The rejects file: (header, rows).
fn read_rejects(path: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut rows = parse_csv(&text).into_iter();
    (rows.next().expect("a header"), rows.collect())
}

fn rejected_lines(report: &Report) -> Vec<u64> {
    let path = report.rejects_file.as_deref().expect("a rejects file");
    read_rejects(path)
        .1
        .iter()
        .map(|r| r[0].parse().expect("line is a number"))
        .collect()
}

/// The lead whose `field` is `value`.
fn find<'a>(leads: &'a [Value], field: &str, value: &str) -> &'a Value {
    let hits: Vec<&Value> = leads.iter().filter(|l| l[field] == value).collect();
    assert_eq!(
        hits.len(),
        1,
        "one lead with {field}={value:?} expected in {leads:#?}"
    );
    hits[0]
}

fn str_field<'a>(lead: &'a Value, field: &str) -> Option<&'a str> {
    lead[field].as_str()
}

// ---------------------------------------------------------------------------
// a. Every gen_leads.py style, counts checked against what the generator wrote
// ---------------------------------------------------------------------------

/// `$INROAD_SHARED` or `<repo>/../shared`: where tools/gen_leads.py lives.
fn gen_leads_script() -> PathBuf {
    let shared = std::env::var_os("INROAD_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    let script = shared.join("tools/gen_leads.py");
    assert!(
        script.is_file(),
        "{} not found: set INROAD_SHARED to the shared directory that holds tools/gen_leads.py",
        script.display()
    );
    script
}

/// Runs gen_leads.py N OUT --style STYLE --seed SEED [--truth TRUTH].
fn gen_leads(n: u64, out: &Path, style: &str, seed: u64, truth: Option<&Path>) {
    let mut cmd = Command::new("python3");
    cmd.arg(gen_leads_script()).arg(n.to_string()).arg(out).args([
        "--style",
        style,
        "--seed",
        &seed.to_string(),
    ]);
    if let Some(truth) = truth {
        cmd.arg("--truth").arg(truth);
    }
    let status = cmd
        .status()
        .unwrap_or_else(|e| panic!("cannot run python3 (needed for gen_leads.py): {e}"));
    assert!(status.success(), "gen_leads.py failed: {status}");
}

/// What an independent reading of the generated file expects the import to find.
struct Expected {
    data_rows: u64,
    /// Rows the generator marks "duplicate" in the truth file.
    truth_duplicates: u64,
    /// Rows the generator does not mark, but which repeat an earlier row's address:
    /// two different people given the same address (pattern "first" or "last" at
    /// one company). Dedup by email merges them, as the spec says it must.
    same_email_collisions: Vec<(usize, String)>,
    /// Every valid visible address, lowercased.
    emails: BTreeSet<String>,
}

fn looks_valid(email: &str) -> bool {
    let email = email.trim();
    match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.contains('@')
                && !email.contains(char::is_whitespace)
        }
        None => false,
    }
}

fn expected_from_generated(file: &Path, truth: &Path, email_col: &str, url_col: &str) -> Expected {
    let text = std::fs::read_to_string(file).unwrap();
    let rows = parse_csv(&text);
    // The header is the first row naming the email column (Connections.csv has a
    // "Notes:" preamble before it).
    let header_at = rows
        .iter()
        .position(|r| r.iter().any(|c| c == email_col))
        .expect("a header row");
    let header = &rows[header_at];
    let col = |name: &str| header.iter().position(|c| c == name).expect("column");
    let (ei, ui) = (col(email_col), col(url_col));
    let data = &rows[header_at + 1..];

    let truth = parse_csv(&std::fs::read_to_string(truth).unwrap());
    assert_eq!(
        truth[0],
        ["row", "true_email", "domain", "pattern"],
        "truth header"
    );
    let truth = &truth[1..];
    assert_eq!(truth.len(), data.len(), "one truth row per data row");

    let mut emails_seen = BTreeSet::new();
    let mut urls_seen = BTreeSet::new();
    let mut truth_duplicates = 0;
    let mut collisions = Vec::new();
    let mut emails = BTreeSet::new();
    for (i, (row, t)) in data.iter().zip(truth).enumerate() {
        assert_eq!(t[0], (i + 1).to_string(), "truth rows are numbered");
        let email = row[ei].trim().to_lowercase();
        let valid = looks_valid(&email);
        if valid {
            emails.insert(email.clone());
        }
        let url = row[ui].trim().trim_end_matches('/').to_lowercase();
        let dup = (valid && emails_seen.contains(&email)) || (!url.is_empty() && urls_seen.contains(&url));
        let marked = t[3] == "duplicate";
        if marked {
            truth_duplicates += 1;
            assert!(
                dup,
                "truth row {} is a duplicate the reference does not see: {row:?}",
                i + 1
            );
        } else if dup {
            assert!(
                valid && emails_seen.contains(&email) && !urls_seen.contains(&url),
                "row {} collides with an earlier row other than by address: {row:?}",
                i + 1
            );
            collisions.push((i + 1, email.clone()));
        }
        if !dup {
            if valid {
                emails_seen.insert(email);
            }
            urls_seen.insert(url);
        }
    }
    Expected {
        data_rows: data.len() as u64,
        truth_duplicates,
        same_email_collisions: collisions,
        emails,
    }
}

fn check_generated_style(style: &str, seed: u64, email_col: &str, url_col: &str) {
    const N: u64 = 3000;
    let ws = Ws::new();
    let file = ws.path(&format!("{style}.csv"));
    let truth = ws.path(&format!("{style}.truth.csv"));
    gen_leads(N, &file, style, seed, Some(&truth));
    let expected = expected_from_generated(&file, &truth, email_col, url_col);
    assert_eq!(expected.data_rows, N, "the generator wrote {N} data rows");
    assert!(expected.truth_duplicates > 0, "the sample has marked duplicates");

    let file = file.to_str().unwrap();
    let report = ws.import(file, &[]);
    let duplicates = expected.truth_duplicates + expected.same_email_collisions.len() as u64;
    assert_eq!(report.rows, N, "{style}: rows");
    assert_eq!(report.rejected, 0, "{style}: every generated row has an identity");
    assert_eq!(
        report.duplicates,
        duplicates,
        "{style}: duplicates = {} marked by the generator + {} same-address collisions {:?}",
        expected.truth_duplicates,
        expected.same_email_collisions.len(),
        expected.same_email_collisions
    );
    assert_eq!(report.imported, N - duplicates, "{style}: imported");
    assert_eq!(ws.count(), report.imported, "{style}: leads list total");

    // Every valid address shows up, lowercased, and nothing else does.
    let (header, rows) = ws.export();
    assert!(header.iter().any(|h| h == "email"));
    let exported: BTreeSet<String> = rows
        .iter()
        .map(|r| r["email"].clone())
        .filter(|e| !e.is_empty())
        .collect();
    for e in &exported {
        assert_eq!(e, &e.to_lowercase(), "{style}: stored lowercase");
    }
    assert_eq!(
        exported, expected.emails,
        "{style}: the valid addresses of the file"
    );
    assert_eq!(
        rows.len() as u64,
        report.imported,
        "{style}: export has every lead"
    );

    // Importing the same file again changes nothing.
    let again = ws.import(file, &[]);
    assert_eq!(
        again.counts(),
        [N, 0, 0, N, 0],
        "{style}: re-import (rows, imported, updated, duplicates, rejected)"
    );
    assert_eq!(
        ws.count(),
        report.imported,
        "{style}: nothing added by the re-import"
    );
}

#[test]
fn gen_leads_salesnav() {
    check_generated_style("salesnav", 11, "Email", "LinkedIn URL");
}

#[test]
fn gen_leads_apollo() {
    check_generated_style("apollo", 12, "Email", "Person Linkedin Url");
}

#[test]
fn gen_leads_hunter() {
    check_generated_style("hunter", 13, "email", "linkedin");
}

#[test]
fn gen_leads_connections() {
    check_generated_style("connections", 14, "Email Address", "URL");
}

// ---------------------------------------------------------------------------
// b. Messy files written by hand
// ---------------------------------------------------------------------------

#[test]
fn utf8_bom_and_crlf() {
    let ws = Ws::new();
    let file = ws.write(
        "bom.csv",
        "\u{feff}Email,First Name,Last Name,Company,Favourite Colour\r\n\
         ann@acme.com,Ann,Lee,Acme,blue\r\n\
         bob@acme.com,Bob,Ray,Acme,\"green,\r\n teal\"\r\n",
    );
    let report = ws.import(&file, &[]);
    assert_eq!(report.counts(), [2, 2, 0, 0, 0]);
    let leads = ws.leads();
    // The BOM is not glued to the first header: "Email" was recognised.
    let ann = find(&leads, "email", "ann@acme.com");
    assert_eq!(
        str_field(ann, "company"),
        Some("Acme"),
        "no stray \\r on the last column"
    );
    assert_eq!(ann["custom"], serde_json::json!({"Favourite Colour": "blue"}));
    let bob = find(&leads, "email", "bob@acme.com");
    assert_eq!(
        bob["custom"]["Favourite Colour"], "green, teal",
        "CRLF inside quotes collapsed"
    );
}

#[test]
fn semicolon_delimited() {
    let ws = Ws::new();
    let file = ws.write(
        "semi.csv",
        "Email;First Name;Last Name;Company;Title\n\
         ann@acme.com;Ann;Lee;Acme, Inc;Head of Sales, EMEA\n\
         \"bob@acme.com\";Bob;Ray;\"Foo; Bar\";CTO\n",
    );
    assert_eq!(ws.import(&file, &[]).counts(), [2, 2, 0, 0, 0]);
    let leads = ws.leads();
    let ann = find(&leads, "email", "ann@acme.com");
    assert_eq!(str_field(ann, "company"), Some("Acme, Inc"));
    assert_eq!(str_field(ann, "title"), Some("Head of Sales, EMEA"));
    assert_eq!(
        str_field(find(&leads, "email", "bob@acme.com"), "company"),
        Some("Foo; Bar")
    );
}

#[test]
fn tab_delimited() {
    let ws = Ws::new();
    let file = ws.write(
        "tabs.tsv",
        "Email\tFull Name\tCompany\tLocation\n\
         ann@acme.com\tAnn Lee\tAcme, Inc; EU\tParis, France\n",
    );
    assert_eq!(ws.import(&file, &[]).counts(), [1, 1, 0, 0, 0]);
    let leads = ws.leads();
    let ann = find(&leads, "email", "ann@acme.com");
    assert_eq!(str_field(ann, "company"), Some("Acme, Inc; EU"));
    assert_eq!(str_field(ann, "location"), Some("Paris, France"));
    assert_eq!(str_field(ann, "first_name"), Some("Ann"));
    assert_eq!(str_field(ann, "last_name"), Some("Lee"));
}

#[test]
fn quoted_fields_with_delimiters_and_newlines_and_physical_line_numbers() {
    let ws = Ws::new();
    // Physical lines: 1 header, 2 ann, 3-5 bob (two newlines inside quotes),
    // 6 rejected, 7-8 cid (a newline inside quotes), 9 and 10 rejected.
    let file = ws.write(
        "quoted.csv",
        "Email,First Name,Last Name,Company,Title,Notes\n\
         ann@acme.com,Ann,Lee,\"Acme, Inc\",CTO,plain\n\
         bob@acme.com,Bob,Ray,\"Foo \"\"Big\"\" Co\",\"Head of\n  Sales\",\"line one\nline two\"\n\
         nobody,,,,,\n\
         cid@acme.com,Cid,Moe,Acme,\"VP,\nOps\",x\n\
         ,,,Lonely Corp,Buyer,\n\
         ,Dee,,,,\n",
    );
    let report = ws.import(&file, &[]);
    assert_eq!(report.counts(), [6, 3, 0, 0, 3]);
    assert_eq!(rejected_lines(&report), [6, 9, 10], "physical line numbers");
    let leads = ws.leads();
    let bob = find(&leads, "email", "bob@acme.com");
    assert_eq!(str_field(bob, "company"), Some("Foo \"Big\" Co"));
    assert_eq!(
        str_field(bob, "title"),
        Some("Head of Sales"),
        "whitespace collapsed"
    );
    assert_eq!(bob["custom"]["Notes"], "line one line two");
    assert_eq!(
        str_field(find(&leads, "email", "ann@acme.com"), "company"),
        Some("Acme, Inc")
    );
    assert_eq!(
        str_field(find(&leads, "email", "cid@acme.com"), "title"),
        Some("VP, Ops")
    );
}

// Regression: rejected rows in a CRLF file carry their physical line numbers (the
// csv crate's own count lags after CRLF, BurntSushi/rust-csv#395, so import.rs
// counts line breaks itself).
#[test]
fn rejected_line_numbers_with_crlf() {
    let ws = Ws::new();
    let file = ws.write(
        "crlf.csv",
        "Email,First Name,Last Name,Company\r\n\
         bad,,,\r\n\
         ok@acme.com,A,B,C\r\n\
         \"multi\r\nline\",Ann,Lee,\"Foo\"\r\n\
         bad2,,,\r\n",
    );
    let report = ws.import(&file, &[]);
    assert_eq!(report.counts(), [4, 2, 0, 0, 2]);
    assert_eq!(
        rejected_lines(&report),
        [2, 6],
        "physical line numbers in a CRLF file"
    );
}

// Regression: a row after a blank line carries its physical line number (the csv
// crate's count does not, BurntSushi/rust-csv#208).
#[test]
fn rejected_line_numbers_after_blank_line() {
    let ws = Ws::new();
    let file = ws.write(
        "blank.csv",
        "Email,First Name,Last Name,Company\nok@acme.com,A,B,C\n\nbad,,,\n",
    );
    let report = ws.import(&file, &[]);
    assert_eq!(report.counts(), [2, 1, 0, 0, 1]);
    assert_eq!(
        rejected_lines(&report),
        [4],
        "physical line number after a blank line"
    );
}

/// A file of many batches (512 rows each) goes through several normaliser threads at
/// once: the writer still takes the rows in file order. Ids ascend with the lines,
/// the first of two duplicates wins, and rejects keep their physical line numbers.
#[test]
fn a_file_of_many_batches_is_written_in_file_order() {
    let ws = Ws::new();
    let mut csv = String::from("Email,First Name,Last Name,Company,Title\n");
    let (mut kept, mut rejected) = (Vec::new(), Vec::new());
    for n in 0..5_000u64 {
        if n % 997 == 0 {
            csv.push_str("nobody,,,,\n");
            rejected.push(n + 2);
        } else if n % 1_000 == 999 {
            // The same person as 900 rows before, with another title.
            csv.push_str(&format!("p{0}@acme.com,P,{0},Acme,later\n", n - 900));
        } else {
            csv.push_str(&format!("p{n}@acme.com,P,{n},Acme,first\n"));
            kept.push(format!("p{n}@acme.com"));
        }
    }
    let file = ws.write("batches.csv", &csv);
    let report = ws.import(&file, &[]);
    assert_eq!(report.counts(), [5_000, 4_989, 0, 5, 6]);
    assert_eq!(rejected_lines(&report), rejected);
    let (_, rows) = ws.export();
    let emails: Vec<&str> = rows.iter().map(|r| r["email"].as_str()).collect();
    assert_eq!(emails, kept, "leads in file order");
    assert!(
        rows.iter().all(|r| r["title"] == "first"),
        "the first duplicate wins"
    );
}

const CONNECTIONS_PREAMBLE: &str = "Notes:\n\
\"When exporting your connection data, you may notice that some of the email addresses are missing. \
You will only see email addresses for connections who have allowed their connections to see or download \
their email address using this setting https://www.linkedin.com/psettings/privacy/email. You can learn \
more about why you see some email addresses, and not others, here: \
https://www.linkedin.com/help/linkedin/answer/261\"\n\
\n";

#[test]
fn linkedin_connections_with_notes_preamble() {
    let ws = Ws::new();
    let file = ws.write(
        "Connections.csv",
        format!(
            "{CONNECTIONS_PREAMBLE}First Name,Last Name,URL,Email Address,Company,Position,Connected On\n\
             Ann,Lee,https://www.linkedin.com/in/ann-lee-1a2b3c,,Acme Inc,CTO,01 Jan 2024\n\
             Bob,Ray,https://www.linkedin.com/in/BobRay/,Bob.Ray@Foo.io,\"Foo, Bar & Co\",Head of Growth,15 Mar 2023\n\
             Cid,,,,,,02 Feb 2022\n"
        ),
    );
    let report = ws.import(&file, &[]);
    assert_eq!(report.counts(), [3, 2, 0, 0, 1]);
    assert_eq!(rejected_lines(&report), [7], "line numbers count the preamble");
    let (header, rows) = read_rejects(report.rejects_file.as_deref().unwrap());
    assert_eq!(
        header,
        [
            "line",
            "reason",
            "First Name",
            "Last Name",
            "URL",
            "Email Address",
            "Company",
            "Position",
            "Connected On"
        ]
    );
    assert_eq!(rows[0][2..], ["Cid", "", "", "", "", "", "02 Feb 2022"]);

    let leads = ws.leads();
    let ann = find(
        &leads,
        "linkedin_url",
        "https://www.linkedin.com/in/ann-lee-1a2b3c",
    );
    assert_eq!(str_field(ann, "title"), Some("CTO"), "Position → title");
    assert_eq!(str_field(ann, "company"), Some("Acme Inc"));
    assert_eq!(ann["email"], Value::Null);
    assert_eq!(ann["custom"], serde_json::json!({"Connected On": "01 Jan 2024"}));
    let bob = find(&leads, "email", "bob.ray@foo.io");
    assert_eq!(
        str_field(bob, "linkedin_url"),
        Some("https://www.linkedin.com/in/bobray")
    );
    assert_eq!(str_field(bob, "company"), Some("Foo, Bar & Co"));
}

#[test]
fn duplicates_across_case_and_linkedin_url_variants() {
    let ws = Ws::new();
    let file = ws.write(
        "dups.csv",
        "Email,First Name,Last Name,Company,Website,LinkedIn URL\n\
         JOHN@ACME.COM,John,Smith,Acme,,\n\
         john@acme.com,John,Smith,Acme,,\n\
         \x20John@Acme.com\x20,,,,,\n\
         ,Jane,Doe,Acme,,https://www.linkedin.com/in/Jane-Doe/\n\
         ,Jane,Doe,Acme,,http://linkedin.com/in/jane-doe?trk=x\n\
         ,Jane,Doe,Acme,,https://uk.linkedin.com/in/JANE-DOE\n\
         ,Max,Mustermann,,https://www.beispiel.de,\n\
         ,MAX,MUSTERMANN,,beispiel.de,\n\
         ,Max,Mustermann,,other.de,\n",
    );
    let report = ws.import(&file, &[]);
    assert_eq!(report.counts(), [9, 4, 0, 5, 0]);
    let leads = ws.leads();
    assert_eq!(leads.len(), 4);
    assert_eq!(
        str_field(find(&leads, "email", "john@acme.com"), "first_name"),
        Some("John")
    );
    find(&leads, "linkedin_url", "https://www.linkedin.com/in/jane-doe");
    // Same name at the same domain is one person; at another domain, another.
    let max: Vec<&Value> = leads.iter().filter(|l| l["last_name"] == "Mustermann").collect();
    let domains: BTreeSet<&str> = max.iter().filter_map(|l| l["domain"].as_str()).collect();
    assert_eq!(domains, BTreeSet::from(["beispiel.de", "other.de"]));

    // Against the database too, in any case or URL form.
    let again = ws.write(
        "again.csv",
        "email,linkedin\nJohn@ACME.com,\n,HTTPS://WWW.LINKEDIN.COM/IN/JANE-DOE/?utm=1\n",
    );
    assert_eq!(ws.import(&again, &[]).counts(), [2, 0, 0, 2, 0]);
    assert_eq!(ws.count(), 4);
}

#[test]
fn duplicate_fills_empty_fields_and_never_blanks_one() {
    let ws = Ws::new();
    let file = ws.write(
        "fill.csv",
        "Email,First Name,Last Name,Company,Title,Location,Hobby\n\
         ann@acme.com,Ann,Lee,Acme,,Paris,\n\
         ANN@acme.com,,,,CTO,London,chess\n\
         ann@acme.com,Ann,,,,,\n",
    );
    let report = ws.import(&file, &[]);
    // Row 3 fills title and a custom field (updated); row 4 brings nothing new.
    assert_eq!(report.counts(), [3, 1, 1, 2, 0]);
    let leads = ws.leads();
    let ann = find(&leads, "email", "ann@acme.com");
    assert_eq!(str_field(ann, "first_name"), Some("Ann"));
    assert_eq!(str_field(ann, "last_name"), Some("Lee"), "not blanked");
    assert_eq!(str_field(ann, "company"), Some("Acme"), "not blanked");
    assert_eq!(str_field(ann, "title"), Some("CTO"), "filled");
    assert_eq!(str_field(ann, "location"), Some("Paris"), "not overwritten");
    assert_eq!(ann["custom"]["Hobby"], "chess", "custom field filled");

    // Against the database: a blank-ish duplicate updates nothing, one with a new
    // phone counts as updated.
    let more = ws.write(
        "more.csv",
        "email,phone,company,title\nann@acme.com,,,\nann@acme.com,+33 1 23 45 67 89,Other,CEO\n",
    );
    assert_eq!(ws.import(&more, &[]).counts(), [2, 0, 1, 2, 0]);
    let leads = ws.leads();
    let ann = find(&leads, "email", "ann@acme.com");
    assert_eq!(str_field(ann, "phone"), Some("+33 1 23 45 67 89"));
    assert_eq!(str_field(ann, "company"), Some("Acme"));
    assert_eq!(str_field(ann, "title"), Some("CTO"));
}

#[test]
fn invalid_emails_and_rows_without_identity() {
    let ws = Ws::new();
    // Lines: 2 kept (URL), 3 kept (name + company), 4 rejected (invalid email, name
    // only), 5 rejected (nothing), 6 rejected (title and location only), 7 kept.
    let file = ws.write(
        "invalid.csv",
        "Email,First Name,Last Name,Company,LinkedIn URL,Title,Location\n\
         john at acme.com,John,Smith,,https://www.linkedin.com/in/john-smith,,\n\
         not-an-email,Ann,Lee,Acme,,,\n\
         bad@@acme..com,Bob,,,,,\n\
         ,,,,,,\n\
         ,,,,,Buyer,Berlin\n\
         ok@acme.com,,,,,,\n",
    );
    let report = ws.import(&file, &[]);
    // The all-empty row (line 5) is not a row.
    assert_eq!(report.counts(), [5, 3, 0, 0, 2], "{report:?}");
    let leads = ws.leads();
    let john = find(&leads, "linkedin_url", "https://www.linkedin.com/in/john-smith");
    assert_eq!(john["email"], Value::Null, "the invalid address is dropped");
    let notes = str_field(john, "notes").expect("a note says why");
    assert!(notes.contains("john at acme.com"), "{notes}");
    let ann = find(&leads, "last_name", "Lee");
    assert_eq!(ann["email"], Value::Null);
    assert!(str_field(ann, "notes").unwrap().contains("not-an-email"));
    assert_eq!(find(&leads, "email", "ok@acme.com")["notes"], Value::Null);

    let (header, rows) = read_rejects(report.rejects_file.as_deref().unwrap());
    assert_eq!(
        header,
        [
            "line",
            "reason",
            "Email",
            "First Name",
            "Last Name",
            "Company",
            "LinkedIn URL",
            "Title",
            "Location"
        ]
    );
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0][0], "4");
    let why = &rows[0][1];
    assert!(
        why.contains("identity") && why.contains("bad@@acme..com"),
        "{why}"
    );
    assert_eq!(
        rows[0][2..],
        ["bad@@acme..com", "Bob", "", "", "", "", ""],
        "the original row"
    );
    assert_eq!(rows[1][0], "6");
    assert!(!rows[1][1].is_empty());
    assert_eq!(rows[1][2..], ["", "", "", "", "", "Buyer", "Berlin"]);

    // The rejects file always matches the latest report: an import of the same
    // path without rejects removes the stale one.
    let fixed = ws.write("invalid.csv", "Email\nok@acme.com\nnew@acme.com\n");
    assert_eq!(fixed, file);
    let again = ws.import(&file, &[]);
    assert_eq!(again.counts(), [2, 1, 0, 1, 0]);
    assert!(
        !Path::new(&format!("{file}.rejects.csv")).exists(),
        "stale rejects file removed"
    );
}

// Regression: a lead kept on "name + company" (no email, LinkedIn URL or domain)
// is found again on re-import: the name key falls back to the company name.
#[test]
fn reimport_of_name_and_company_leads_imports_nothing() {
    let ws = Ws::new();
    let file = ws.write("names.csv", "Full Name,Company\nAnn Lee,Acme\nCher,Acme\n");
    assert_eq!(ws.import(&file, &[]).counts(), [2, 2, 0, 0, 0]);
    let again = ws.import(&file, &[]);
    assert_eq!(again.counts(), [2, 0, 0, 2, 0], "re-import of the same file");
    assert_eq!(ws.count(), 2);
}

#[test]
fn json_report_keys() {
    let ws = Ws::new();
    let file = ws.write("keys.csv", "email\na@acme.com\nbad\na@acme.com\n");
    let v = parse_json(&ws.ok(&["leads", "import", &file, "--json"]));
    for key in [
        "rows",
        "imported",
        "updated",
        "duplicates",
        "rejected",
        "rejects_file",
    ] {
        assert!(v.get(key).is_some(), "--json has {key:?}: {v}");
    }
    let report = Report::from_json(&v);
    report.check(&file);
    assert_eq!(report.counts(), [3, 1, 0, 1, 1]);
    // Without rejects, rejects_file is null (not absent).
    let clean = ws.write("clean.csv", "email\nb@acme.com\n");
    let v = parse_json(&ws.ok(&["leads", "import", &clean, "--json"]));
    assert_eq!(v.get("rejects_file"), Some(&Value::Null), "{v}");
}

#[test]
fn dry_run_changes_nothing() {
    let ws = Ws::new();
    let first = ws.write("first.csv", "email,company\na@acme.com,\n");
    ws.import(&first, &[]);
    let before = ws.leads();
    let file = ws.write(
        "dry.csv",
        "email,company\nb@acme.com,Acme\nA@ACME.COM,Acme\nc@acme.com,\nbad,\n",
    );
    let report = ws.import(&file, &["--dry-run", "--list", "dry"]);
    assert_eq!(
        report.counts(),
        [4, 2, 1, 1, 1],
        "the report says what would happen"
    );
    assert_eq!(ws.leads(), before, "nothing changed, not even the filled company");
    assert_user_error(
        "the dry run's list was not created",
        &ws.run(&["leads", "list", "--list", "dry"]),
    );
    // The same import for real does what the dry run said.
    let real = ws.import(&file, &["--list", "dry"]);
    assert_eq!(real.counts(), report.counts());
    assert_eq!(ws.count(), 3);
}

#[test]
fn list_gets_imported_and_duplicate_leads() {
    let ws = Ws::new();
    let base = ws.write(
        "base.csv",
        "email,name,company\na@acme.com,Ann Lee,Acme\nb@acme.com,Bob Ray,Acme\n",
    );
    ws.import(&base, &[]);
    let file = ws.write(
        "listed.csv",
        "email,name,company\nA@ACME.COM,,\nc@acme.com,Cid Moe,Acme\nC@acme.com,,\nnobody,,\n",
    );
    let report = ws.import(&file, &["--list", "Prospects Q3"]);
    assert_eq!(report.counts(), [4, 1, 0, 2, 1]);
    let (total, leads) = ws.leads_db(&ws.db(), Some("Prospects Q3"));
    assert_eq!(total, 2);
    let emails: BTreeSet<&str> = leads.iter().filter_map(|l| l["email"].as_str()).collect();
    assert_eq!(emails, BTreeSet::from(["a@acme.com", "c@acme.com"]));
    let (_, rows) = ws.export_db(&ws.db(), Some("Prospects Q3"));
    assert_eq!(rows.len(), 2);
    // A lead may be on several lists; re-adding is harmless.
    ws.import(&base, &["--list", "other"]);
    ws.import(&base, &["--list", "other"]);
    assert_eq!(ws.leads_db(&ws.db(), Some("other")).0, 2);
    assert_eq!(ws.leads_db(&ws.db(), Some("Prospects Q3")).0, 2);
    assert_eq!(ws.count(), 3);
}

#[test]
fn map_overrides_and_missing_header() {
    let ws = Ws::new();
    let file = ws.write(
        "map.csv",
        "Boss,Org,Web,Reach\nAnn Lee,Acme,https://www.acme.co.uk/about,ann@acme.co.uk\n",
    );
    let bad = ws.run(&["leads", "import", &file, "--map", "Nope=email", "--json"]);
    assert_user_error("--map naming a missing header", &bad);
    assert!(bad.2.contains("Nope"), "the error names the header: {}", bad.2);
    assert_eq!(ws.count(), 0, "nothing imported");

    let report = ws.import(
        &file,
        &[
            "--map",
            "Boss=full_name",
            "--map",
            "Reach=email",
            "--map",
            "org=company",
        ],
    );
    assert_eq!(report.counts(), [1, 1, 0, 0, 0]);
    let leads = ws.leads();
    let ann = find(&leads, "email", "ann@acme.co.uk");
    assert_eq!(str_field(ann, "first_name"), Some("Ann"));
    assert_eq!(str_field(ann, "last_name"), Some("Lee"));
    assert_eq!(str_field(ann, "full_name"), Some("Ann Lee"));
    assert_eq!(str_field(ann, "company"), Some("Acme"));
    assert_eq!(str_field(ann, "domain"), Some("acme.co.uk"));
    assert_eq!(ann["custom"], serde_json::json!({}), "every column was mapped");
}

#[test]
fn website_domain_idn_name_split_and_custom_fields() {
    let ws = Ws::new();
    let file = ws.write(
        "norm.csv",
        "Email,Full Name,Company Website,Favourite Colour,Connected On\n\
         ann@acme.co.uk,Ann Lee,https://www.acme.co.uk/about,blue,01 Jan 2024\n\
         Jörg@Müller.DE,\"Müller, Jörg\",https://shop.bücher.de/x?y=1,,\n\
         ,Dr. Anne van der Berg PhD,http://www.berg.com.au/,green,\n",
    );
    let report = ws.import(&file, &[]);
    assert_eq!(report.counts(), [3, 3, 0, 0, 0]);
    let leads = ws.leads();
    let ann = find(&leads, "email", "ann@acme.co.uk");
    assert_eq!(
        str_field(ann, "domain"),
        Some("acme.co.uk"),
        "website → registrable domain"
    );
    assert_eq!(str_field(ann, "first_name"), Some("Ann"));
    assert_eq!(str_field(ann, "last_name"), Some("Lee"));
    let jorg = find(&leads, "email", "jörg@xn--mller-kva.de");
    assert_eq!(
        str_field(jorg, "domain"),
        Some("xn--bcher-kva.de"),
        "IDN website → punycode"
    );
    assert_eq!(
        str_field(jorg, "first_name"),
        Some("Jörg"),
        "\"Last, First\" split"
    );
    assert_eq!(str_field(jorg, "last_name"), Some("Müller"));
    assert_eq!(
        ann["custom"],
        serde_json::json!({"Favourite Colour": "blue", "Connected On": "01 Jan 2024"})
    );
    assert_eq!(
        jorg["custom"],
        serde_json::json!({}),
        "empty cells are not custom values"
    );

    let (header, rows) = ws.export();
    let want: Vec<&str> = vec![
        "email",
        "first_name",
        "last_name",
        "full_name",
        "title",
        "company",
        "domain",
        "linkedin_url",
        "location",
        "timezone",
    ];
    assert_eq!(header[..want.len()], want, "canonical columns first");
    assert!(header.iter().any(|h| h == "Favourite Colour"), "{header:?}");
    assert!(header.iter().any(|h| h == "Connected On"), "{header:?}");
    let ann_row = rows.iter().find(|r| r["email"] == "ann@acme.co.uk").unwrap();
    assert_eq!(ann_row["Favourite Colour"], "blue");
    assert_eq!(ann_row["domain"], "acme.co.uk");
}

#[test]
fn name_and_domain_is_an_identity() {
    let ws = Ws::new();
    let file = ws.write(
        "names.csv",
        "Full Name,Company Website,Company\n\
         Dr. Anne van der Berg PhD,http://www.berg.com.au/,\n\
         \"Smith, John\",,Acme\n\
         Cher,,Acme\n",
    );
    let report = ws.import(&file, &[]);
    assert_eq!(report.counts(), [3, 3, 0, 0, 0]);
    let leads = ws.leads();
    let anne = find(&leads, "domain", "berg.com.au");
    assert_eq!(str_field(anne, "first_name"), Some("Anne"));
    assert_eq!(str_field(anne, "last_name"), Some("van der Berg"));
    let john = find(&leads, "last_name", "Smith");
    assert_eq!(str_field(john, "first_name"), Some("John"));
    let cher = find(&leads, "first_name", "Cher");
    assert_eq!(cher["last_name"], Value::Null);
}

#[test]
fn empty_and_missing_files_fail_cleanly() {
    let ws = Ws::new();
    let empty = ws.write("empty.csv", "");
    assert_user_error("empty file", &ws.run(&["leads", "import", &empty, "--json"]));
    let blank = ws.write("blank.csv", "\n\r\n  \n");
    assert_user_error("blank file", &ws.run(&["leads", "import", &blank]));
    let missing = ws.path("does-not-exist.csv");
    let out = ws.run(&["leads", "import", missing.to_str().unwrap(), "--json"]);
    assert_user_error("missing file", &out);
    assert!(out.1.is_empty(), "no JSON on failure: {}", out.1);
    let no_identity = ws.write("cols.csv", "foo,bar\n1,2\n");
    assert_user_error("no identity column", &ws.run(&["leads", "import", &no_identity]));
    assert_eq!(ws.count(), 0);
}

// ---------------------------------------------------------------------------
// c. Export round trip
// ---------------------------------------------------------------------------

const MESSY: &str = "\u{feff}Email;Full Name;Company;Website;LinkedIn;Title;City;Phone;Time Zone;Connected On;Score\r\n\
JOHN@ACME.COM;John Smith;Acme, Inc;https://www.acme.co.uk/about;;\"Head of\r\nSales\";Paris;+33 1 2;Europe/Paris;01 Jan 2024;7\r\n\
john@acme.com;;;;https://www.linkedin.com/in/John-Smith/;CEO;;;;;\r\n\
jörg@müller.de;\"Müller, Jörg\";Müller GmbH;müller.de;;;Berlin;;;;\r\n\
not an email;Ann Lee;;;http://linkedin.com/in/ann-lee?trk=x;CTO;;;;;\"quote \"\"q\"\" here\"\r\n\
;Dr. Anne van der Berg PhD;Berg;http://berg.com.au;;;;;;;\r\n\
sales@y.com;Sam Sale;Y Corp;y.com;;;;;;;\r\n\
;;Nobody;;;;;;;;\r\n";

/// A lead as JSON without what a fresh import legitimately changes.
fn comparable(mut lead: Value, drop_notes: bool) -> Value {
    let o = lead.as_object_mut().unwrap();
    o.remove("id");
    o.remove("created_at");
    if drop_notes {
        o.remove("notes");
    }
    lead
}

fn round_trip(drop_notes: bool) {
    let ws = Ws::new();
    let file = ws.write("messy.csv", MESSY);
    let report = ws.import(&file, &[]);
    assert_eq!(report.counts(), [7, 5, 1, 1, 1], "{report:?}");
    let db2 = ws.db_named("fresh.db");
    let suppress = ["suppress", "add", "john@acme.com", "@y.com", "--reason", "test"];
    ws.ok(&suppress);
    ws.ok_db(&db2, &suppress);

    let (_, rows) = ws.export();
    let flagged: BTreeSet<&str> = rows
        .iter()
        .filter(|r| r["suppressed"] == "true")
        .map(|r| r["email"].as_str())
        .collect();
    assert_eq!(flagged, BTreeSet::from(["john@acme.com", "sales@y.com"]));
    assert!(rows
        .iter()
        .all(|r| r["suppressed"] == "true" || r["suppressed"] == "false"));
    let out = ws.path("export.csv");
    let out = out.to_str().unwrap();

    let again = ws.import_db(&db2, out, &[]);
    assert_eq!(
        again.counts(),
        [5, 5, 0, 0, 0],
        "every exported lead imports back as itself"
    );
    let (n1, first) = ws.leads_db(&ws.db(), None);
    let (n2, second) = ws.leads_db(&db2, None);
    assert_eq!(n1, n2);
    let first: Vec<Value> = first.into_iter().map(|l| comparable(l, drop_notes)).collect();
    let second: Vec<Value> = second.into_iter().map(|l| comparable(l, drop_notes)).collect();
    for (a, b) in first.iter().zip(&second) {
        assert_eq!(a, b, "the same lead after export → import");
    }
    assert_eq!(first.iter().filter(|l| l["suppressed"] == true).count(), 2);
    // The export of the copy is the export of the original.
    let (h1, r1) = ws.export_db(&ws.db(), None);
    let (h2, r2) = ws.export_db(&db2, None);
    assert_eq!((h1, r1), (h2, r2));
}

#[test]
fn export_round_trip() {
    round_trip(true);
}

// A lead's notes (e.g. the invalid email dropped from it) survive export → import:
// export writes a `notes` column and import reads it back as notes.
#[test]
fn export_round_trip_keeps_notes() {
    round_trip(false);
}

// ---------------------------------------------------------------------------
// d. Suppression
// ---------------------------------------------------------------------------

const SUPPRESS_LEADS: &str = "email,name,company\n\
a@x.com,Ann A,X\n\
b@x.com,Bob B,X\n\
c@y.com,Cid C,Y\n\
d@sub.y.com,Dee D,Y\n\
e@z.com,Eve E,Z\n";

fn flagged(ws: &Ws) -> BTreeSet<String> {
    ws.leads()
        .iter()
        .filter(|l| {
            assert!(l["suppressed"].is_boolean(), "{l}");
            l["suppressed"] == true
        })
        .map(|l| l["email"].as_str().unwrap().to_owned())
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[test]
fn suppress_add_list_flag_remove() {
    let ws = Ws::new();
    let file = ws.write("leads.csv", SUPPRESS_LEADS);
    ws.import(&file, &[]);
    assert!(flagged(&ws).is_empty());

    ws.ok(&["suppress", "add", "A@X.com", "@Y.com", "--reason", "r"]);
    let list = ws.suppress_list();
    assert_eq!(list.len(), 2);
    let values: BTreeSet<&str> = list.iter().map(|e| e["value"].as_str().unwrap()).collect();
    assert_eq!(values, BTreeSet::from(["a@x.com", "@y.com"]), "stored normalised");
    for e in &list {
        assert_eq!(e["reason"], "r");
        assert!(e["created_at"].as_str().is_some_and(|t| !t.is_empty()), "{e}");
    }
    assert_eq!(
        flagged(&ws),
        set(&["a@x.com", "c@y.com"]),
        "address and whole domain, not subdomains"
    );
    let (header, rows) = ws.export();
    assert_eq!(header.last().map(String::as_str), Some("suppressed"));
    for r in &rows {
        let want = ["a@x.com", "c@y.com"].contains(&r["email"].as_str());
        assert_eq!(r["suppressed"], if want { "true" } else { "false" }, "{r:?}");
    }

    // Adding again adds nothing; a list with an invalid entry adds nothing at all.
    ws.ok(&["suppress", "add", "a@x.com"]);
    assert_eq!(ws.suppress_list().len(), 2);
    let bad = ws.run(&["suppress", "add", "e@z.com", "not an address"]);
    assert_user_error("invalid suppress entry", &bad);
    let bad_domain = ws.run(&["suppress", "add", "@nodot"]);
    assert_user_error("invalid @domain", &bad_domain);
    assert_eq!(ws.suppress_list().len(), 2, "nothing added");

    ws.ok(&["suppress", "remove", "A@x.com"]);
    assert_eq!(flagged(&ws), set(&["c@y.com"]));
    ws.ok(&["suppress", "remove", "@y.com"]);
    assert!(flagged(&ws).is_empty());
    assert!(ws.suppress_list().is_empty());
}

#[test]
fn suppress_import_csv_and_plain_files() {
    let ws = Ws::new();
    let file = ws.write("leads.csv", SUPPRESS_LEADS);
    ws.import(&file, &[]);

    let csv = ws.write(
        "unsubscribes.csv",
        "Name,Email,Date\nAnn,A@x.com,2024-01-01\n\"Cid, Jr\",@y.com,2024-01-02\n",
    );
    ws.ok(&["suppress", "import", &csv]);
    assert_eq!(flagged(&ws), set(&["a@x.com", "c@y.com"]));
    let values: BTreeSet<String> = ws
        .suppress_list()
        .iter()
        .map(|e| e["value"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        values,
        set(&["a@x.com", "@y.com"]),
        "names and dates are not suppressed"
    );

    let plain = ws.write("plain.txt", "e@z.com\n@sub.y.com\n");
    ws.ok(&["suppress", "import", &plain]);
    assert_eq!(
        flagged(&ws),
        set(&["a@x.com", "c@y.com", "d@sub.y.com", "e@z.com"])
    );
    assert_eq!(ws.suppress_list().len(), 4);

    // One invalid value: exit 1 and nothing from the file is added.
    let bad = ws.write("bad.txt", "b@x.com\nnot an address\n");
    assert_user_error(
        "suppress import with an invalid value",
        &ws.run(&["suppress", "import", &bad]),
    );
    assert_eq!(ws.suppress_list().len(), 4);
    assert!(!flagged(&ws).contains("b@x.com"));
    let missing = ws.path("missing.txt");
    assert_user_error(
        "suppress import of a missing file",
        &ws.run(&["suppress", "import", missing.to_str().unwrap()]),
    );
}

#[test]
fn suppression_survives_reimport_and_precedes_leads() {
    let ws = Ws::new();
    // Suppressed before the leads exist (there is no foreign key to a lead).
    ws.ok(&["suppress", "add", "a@x.com", "@müller.de", "--reason", "objected"]);
    let file = ws.write(
        "leads.csv",
        "email,name,company\na@x.com,Ann A,X\nb@x.com,Bob B,X\njörg@MÜLLER.de,Jörg M,M\n",
    );
    ws.import(&file, &[]);
    let want = set(&["a@x.com", "jörg@xn--mller-kva.de"]);
    assert_eq!(flagged(&ws), want, "IDN @domain matches the punycode address");
    // Re-importing, even in another case, neither clears nor duplicates anything.
    let upper = ws.write("upper.csv", "email,title\nA@X.COM,CEO\n");
    assert_eq!(ws.import(&upper, &[]).counts(), [1, 0, 1, 1, 0]);
    ws.import(&file, &[]);
    assert_eq!(flagged(&ws), want);
    assert_eq!(ws.suppress_list().len(), 2);
    assert_eq!(ws.count(), 3);
}

// ---------------------------------------------------------------------------
// e. SIGKILL in the middle of a large import
// ---------------------------------------------------------------------------

type Snapshot = Vec<(String, Vec<Vec<Option<String>>>)>;

/// Every row of every table the import touches, in a stable order.
fn snapshot(db: &Path) -> Snapshot {
    ["leads", "lists", "list_members", "suppressions"]
        .iter()
        .map(|table| {
            let rows = backend::query(db, &format!("SELECT * FROM {table} ORDER BY 1, 2"));
            (table.to_string(), rows)
        })
        .collect()
}

/// Whether the import is inside its transaction with rows written: on SQLite, a WAL
/// past 8 MB (see below); on PostgreSQL, a session in a transaction whose last
/// statement copied leads (it COPYs them in batches).
fn import_is_midway(db: &Path, wal: &Path) -> bool {
    const WAL_THRESHOLD: u64 = 8 * 1024 * 1024;
    if backend::postgres() {
        backend::query_i64(
            db,
            "SELECT count(*) FROM pg_stat_activity \
             WHERE datname = current_database() AND backend_xid IS NOT NULL AND query LIKE '%COPY leads%'",
        ) > 0
    } else {
        std::fs::metadata(wal).map(|m| m.len()).unwrap_or(0) > WAL_THRESHOLD
    }
}

#[cfg(unix)]
#[test]
fn sigkill_mid_import_leaves_database_unchanged() {
    use std::os::unix::process::ExitStatusExt;
    use std::time::{Duration, Instant};

    let ws = Ws::new();
    let db = ws.db();
    let db_path = ws.path("inroad.db");
    let small = ws.path("small.csv");
    gen_leads(200, &small, "salesnav", 3, None);
    let small = small.to_str().unwrap();
    let report = ws.import(small, &["--list", "small"]);
    assert!(report.imported > 150, "{report:?}");
    ws.ok(&["suppress", "add", "@acme.com", "someone@example.com"]);
    let before = snapshot(&db_path);
    assert!(
        before.iter().all(|(_, rows)| !rows.is_empty()),
        "every table has rows"
    );

    let big = ws.path("big.csv");
    gen_leads(300_000, &big, "apollo", 99, None);
    let wal = ws.path("inroad.db-wal");
    let mut child = Command::new(BIN)
        .args([
            "--db",
            &db,
            "leads",
            "import",
            big.to_str().unwrap(),
            "--json",
            "--list",
            "big",
        ])
        .current_dir(ws.dir.path())
        .env_remove("INROAD_DB")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn the import");

    // Wait for a condition, not for time (`import_is_midway`; on SQLite:). A sleep would guess how fast this machine
    // imports; the WAL size is evidence. Before this import the WAL is empty (the
    // last connection to close checkpoints and removes it), and an import writes
    // nothing there until its page cache (16 MiB today) spills, so a WAL past 8 MB
    // proves the child is inside its transaction with megabytes of uncommitted
    // pages written (the commit is the WAL's last frame, written at the very end;
    // the 300k-row file makes a ~75 MB database, far more than the cache). The
    // loop ends on that condition, on the child exiting (a failure: it must still
    // be running), or on a generous deadline; the short pause between checks only
    // spares the CPU for the child on this 2-core box.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            panic!(
                "the import ended ({status}) before it was seen midway; \
                 make the file bigger or the threshold smaller"
            );
        }
        if import_is_midway(&db_path, &wal) {
            break;
        }
        if Instant::now() > deadline {
            child.kill().ok();
            child.wait().ok();
            panic!("after 120 s the import was not seen midway");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().expect("SIGKILL the import");
    let status = child.wait().unwrap();
    assert_eq!(
        status.signal(),
        Some(9),
        "the import was killed by SIGKILL, not finished: {status}"
    );

    let after = snapshot(&db_path);
    for ((table, want), (_, got)) in before.iter().zip(&after) {
        assert_eq!(got.len(), want.len(), "{table}: row count after the kill");
        assert_eq!(got, want, "{table}: rows after the kill");
    }
    if !backend::postgres() {
        let check = backend::query(&db_path, "PRAGMA integrity_check");
        assert_eq!(check[0][0].as_deref(), Some("ok"));
    }
    // And inroad itself carries on with the database.
    assert_eq!(ws.leads_db(&db, None).0, report.imported);
    assert_user_error(
        "the killed import's list",
        &ws.run(&["leads", "list", "--list", "big"]),
    );
    let again = ws.import(small, &[]);
    assert_eq!(again.imported, 0, "{again:?}");
}

// ---------------------------------------------------------------------------
// f. The rest of the command line
// ---------------------------------------------------------------------------

#[test]
fn init_is_idempotent() {
    let ws = Ws::new();
    for _ in 0..2 {
        let (status, _, stderr) = ws.run(&["init"]);
        assert!(status.success(), "{stderr}");
    }
    // The default database is ./inroad.db.
    let (status, _, stderr) = run_in(ws.dir.path(), &["init"]);
    assert!(status.success(), "{stderr}");
    assert!(ws.path("inroad.db").is_file());
    // INROAD_DB names the database too.
    let env_db = ws.path("from-env.db");
    let out = Command::new(BIN)
        .arg("init")
        .current_dir(ws.dir.path())
        .env("INROAD_DB", &env_db)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(env_db.is_file());
}

#[test]
fn a_postgres_url_without_a_server_is_a_one_line_error_without_the_password() {
    let ws = Ws::new();
    // A port nothing listens on (bound, then released).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("postgres://ann:s3cret-pw@127.0.0.1:{port}/inroad");
    for args in [
        &["init"][..],
        &["leads", "list"],
        &["run", "--once", "--key-file", "k"],
    ] {
        let out = ws.run_db(&url, args);
        assert_user_error(&format!("{args:?}"), &out);
        let stderr = &out.2;
        assert!(
            stderr.contains(&format!("cannot connect to PostgreSQL at 127.0.0.1:{port}"))
                && stderr.contains("is it running?"),
            "{stderr}"
        );
        assert!(!stderr.contains("s3cret"), "the password leaked: {stderr}");
    }
    // The install key has no database path to sit beside: --key-file is required.
    let out = ws.run_db(&url, &["run", "--once"]);
    assert_user_error("run without --key-file", &out);
    assert!(out.2.contains("--key-file"), "{}", out.2);
    assert!(!out.2.contains("s3cret"), "the password leaked: {}", out.2);
    let out = ws.run_db("postgres://", &["init"]);
    assert_user_error("no host", &out);
}

#[test]
fn demo_in_a_directory() {
    let ws = Ws::new();
    let dir = ws.path("demo-here");
    let (status, stdout, stderr) = run_in(ws.dir.path(), &["demo", "--dir", dir.to_str().unwrap()]);
    assert!(
        status.success(),
        "demo failed\nstdout: {stdout}\nstderr: {stderr}"
    );
    assert!(
        dir.join("inroad.db").is_file(),
        "demo --dir D creates D/inroad.db"
    );
    let db = dir.join("inroad.db");
    let (total, _) = ws.leads_db(db.to_str().unwrap(), None);
    assert!(total > 0, "the demo imported sample leads");
}

#[test]
fn completions_help_and_usage_errors() {
    let ws = Ws::new();
    let (status, stdout, _) = ws.run(&["completions", "bash"]);
    assert!(status.success());
    assert!(stdout.contains("inroad"), "{stdout}");
    assert!(stdout.contains("complete"), "a bash completion script");
    for args in [
        &["--help"][..],
        &["leads", "import", "--help"],
        &["leads", "--help"],
        &["suppress", "--help"],
    ] {
        let (status, stdout, _) = run_in(ws.dir.path(), args);
        assert!(status.success(), "{args:?}");
        assert!(stdout.contains("Usage"), "{args:?}: {stdout}");
    }
    let (status, _, stderr) = run_in(ws.dir.path(), &["frobnicate"]);
    assert_eq!(status.code(), Some(2), "unknown subcommand: {stderr}");
    let (status, _, _) = run_in(ws.dir.path(), &["leads", "import"]);
    assert_eq!(status.code(), Some(2), "missing FILE is a usage error");
    let (status, _, _) = ws.run(&["completions", "no-such-shell"]);
    assert_eq!(status.code(), Some(2));
}
