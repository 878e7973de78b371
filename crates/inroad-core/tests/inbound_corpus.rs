//! The inbound classifier against the labelled corpus of real messages in
//! `shared/corpus/inbound` (bounces from many MTAs, auto-replies, ARF reports,
//! challenge-response screens, people's replies; see its SOURCES.md).
//!
//! Acceptance: at least 95% of classes right, every hard bounce that names its recipient
//! yields that recipient, and no person's reply is ever taken for a bounce. The confusion
//! matrix and the misses are printed (`-- --nocapture`) so a regression shows what moved.

use std::fs;
use std::path::{Path, PathBuf};

use inroad_core::inbound::{classify, Class};

const LABELS: [&str; 6] = ["hard", "soft", "autoreply", "unsubscribe", "other", "human"];

fn label_of(class: Class) -> &'static str {
    match class {
        Class::HardBounce => "hard",
        Class::SoftBounce => "soft",
        Class::AutoReply => "autoreply",
        Class::Unsubscribe => "unsubscribe",
        Class::Other => "other",
        Class::Human => "human",
    }
}

fn corpus_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/inbound");
    assert!(
        dir.join("labels.csv").is_file(),
        "inbound corpus not found at {} (expected shared/corpus/inbound beside the repository, \
         with labels.csv and the .eml files)",
        dir.display()
    );
    dir
}

struct Row {
    file: String,
    label: String,
    failed_recipient: String,
}

fn labels(dir: &Path) -> Vec<Row> {
    let csv = fs::read_to_string(dir.join("labels.csv")).expect("labels.csv is readable");
    let mut lines = csv.lines();
    let header = lines.next().expect("labels.csv has a header");
    assert!(
        header.starts_with("file,class,failed_recipient,"),
        "unexpected header: {header}"
    );
    lines
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let fields: Vec<&str> = line.split(',').collect();
            assert!(fields.len() >= 3, "short row: {line}");
            assert!(LABELS.contains(&fields[1]), "unknown class in row: {line}");
            Row {
                file: fields[0].to_owned(),
                label: fields[1].to_owned(),
                failed_recipient: fields[2].to_owned(),
            }
        })
        .collect()
}

#[test]
fn corpus_meets_the_acceptance_bar() {
    let dir = corpus_dir();
    let rows = labels(&dir);
    assert!(rows.len() >= 90, "only {} labelled messages", rows.len());

    let mut matrix = [[0usize; LABELS.len()]; LABELS.len()];
    let mut misclassified = Vec::new();
    let mut wrong_recipients = Vec::new();
    let mut humans_as_bounces = Vec::new();
    for row in &rows {
        let raw = fs::read(dir.join(&row.file)).unwrap_or_else(|e| panic!("{}: {e}", row.file));
        let got = classify(&raw);
        let predicted = label_of(got.class);
        let index = |label: &str| LABELS.iter().position(|l| *l == label).expect("known label");
        matrix[index(&row.label)][index(predicted)] += 1;
        if predicted != row.label {
            misclassified.push(format!(
                "{}: labelled {}, got {} ({})",
                row.file, row.label, predicted, got.reason
            ));
        }
        // Several recipients are listed in report order; the classifier names the first.
        let expected = row.failed_recipient.split(';').next().unwrap_or_default();
        if row.label == "hard" && !expected.is_empty() {
            let matches = got
                .failed_recipient
                .as_deref()
                .is_some_and(|r| r.eq_ignore_ascii_case(expected));
            if !matches {
                wrong_recipients.push(format!(
                    "{}: expected {expected}, got {:?}",
                    row.file, got.failed_recipient
                ));
            }
        }
        if row.label == "human" && matches!(got.class, Class::HardBounce | Class::SoftBounce) {
            humans_as_bounces.push(format!("{}: {}", row.file, got.reason));
        }
    }

    let correct: usize = (0..LABELS.len()).map(|i| matrix[i][i]).sum();
    let accuracy = correct as f64 / rows.len() as f64;
    println!("confusion matrix (rows: label, columns: predicted)");
    print!("{:>12}", "");
    for label in LABELS {
        print!("{label:>12}");
    }
    println!();
    for (label, counts) in LABELS.iter().zip(matrix) {
        print!("{label:>12}");
        for count in counts {
            print!("{count:>12}");
        }
        println!();
    }
    println!("accuracy: {correct}/{} = {:.1}%", rows.len(), accuracy * 100.0);
    println!("misclassified ({}):", misclassified.len());
    for miss in &misclassified {
        println!("  {miss}");
    }
    println!(
        "hard bounces with the wrong recipient ({}):",
        wrong_recipients.len()
    );
    for miss in &wrong_recipients {
        println!("  {miss}");
    }

    assert!(accuracy >= 0.95, "accuracy {:.1}% is below 95%", accuracy * 100.0);
    assert!(
        wrong_recipients.is_empty(),
        "wrong failed recipients: {wrong_recipients:#?}"
    );
    assert!(
        humans_as_bounces.is_empty(),
        "human replies taken for bounces: {humans_as_bounces:#?}"
    );
}
