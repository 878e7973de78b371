//! Message templates: strict minijinja rendering of lead fields, deterministic spintax,
//! and the clean-up that keeps rendered text safe to put in a mail.
//!
//! Why it is shaped this way:
//!
//! - **Strict.** Nothing may go out with a hole where a name should be (DESIGN.md §2,
//!   invariant 3). A lead field that is empty is *undefined*, and printing an undefined
//!   value is an error that names it ("missing first_name"), so the caller can park the
//!   lead as "needs attention" with that reason. Fallbacks are explicit:
//!   `{{ first_name | default("there") }}`, or `{% if title %}…{% endif %}`. We use
//!   minijinja's `SemiStrict` rather than `Strict`: both refuse to print, iterate or
//!   pass an undefined value to a filter, but `SemiStrict` lets `{% if title %}` test
//!   for presence; under `Strict` that test itself fails, which would park leads whose
//!   template handles the gap correctly.
//! - **Spintax is deterministic.** `{a|b|c}` picks one option from the caller's seed
//!   (a hash of lead and step, see [`spin_seed`]), so a retry, a preview and the real
//!   send all produce the same text. Rather than resolving spintax on the source for
//!   every render and compiling each variant, [`Template::new`] rewrites every spintax
//!   group once into a Jinja `if`/`elif` chain over a per-render list of choices. The
//!   template is compiled once, every option is syntax-checked up front (not only the
//!   ones some seed happens to pick), and a render does no parsing. The rewrite adds no
//!   line breaks, so line numbers in errors still match the author's source.
//! - **Data never becomes a header.** Field values are arbitrary text from imports;
//!   [`header_value`] folds any line break or control character into a space, so a
//!   subject is always one header line. Bodies keep their line breaks, normalised to
//!   `\n` (no lone CR that a mail layer could turn into a line end of its own).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;

use minijinja::syntax::SyntaxConfig;
use minijinja::value::Value;
use minijinja::{AutoEscape, Environment, UndefinedBehavior};

use crate::lead::{Field, Lead};

/// The context variable holding this render's spintax choices. It starts with `_`, and
/// top-level names made from custom headers never do, so no lead data can shadow it.
const SPIN_VAR: &str = "__inroad_spin";

/// How deeply spintax groups may nest. Real templates nest two or three levels; the
/// bound keeps the rewrite's recursion (and the Jinja parser's) far from any limit.
const MAX_SPIN_DEPTH: usize = 32;

/// A compiled message template (a subject or a body), ready to render for many leads.
#[derive(Debug)]
pub struct Template {
    name: String,
    env: Environment<'static>,
    /// The number of options of each spintax group, in source order.
    spins: Vec<u32>,
}

/// A template that could not be compiled: a Jinja syntax error, or spintax nested too
/// deeply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TemplateError {
    pub template: String,
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "template {:?}", self.template)?;
        if let Some(line) = self.line {
            write!(f, " line {line}")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for TemplateError {}

/// Why a template could not be rendered for a lead. Its `Display` is a short reason fit
/// to show next to a lead parked as "needs attention".
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RenderError {
    /// The template uses a value this lead does not have.
    Missing {
        /// The expression as written in the template: `first_name`, `custom["Team"]`.
        variable: String,
        template: String,
        line: Option<usize>,
    },
    /// Any other failure at render time (a filter given the wrong arguments, …).
    Failed {
        message: String,
        template: String,
        line: Option<usize>,
    },
}

impl RenderError {
    /// The missing variable, when that is what went wrong.
    pub fn missing_variable(&self) -> Option<&str> {
        match self {
            RenderError::Missing { variable, .. } => Some(variable),
            RenderError::Failed { .. } => None,
        }
    }

    fn from_jinja(err: minijinja::Error, template: &str) -> RenderError {
        let template = template.to_owned();
        let line = err.line();
        // Any error caused by an undefined value (printing it, calling a method on it)
        // is a missing value, whatever its kind.
        if let Some(variable) = err.detail().and_then(undefined_expression) {
            return RenderError::Missing {
                variable: variable.to_owned(),
                template,
                line,
            };
        }
        RenderError::Failed {
            message: jinja_message(&err),
            template,
            line,
        }
    }
}

impl fmt::Display for RenderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (template, line) = match self {
            RenderError::Missing {
                variable,
                template,
                line,
            } => {
                write!(f, "missing {variable}")?;
                (template, line)
            }
            RenderError::Failed {
                message,
                template,
                line,
            } => {
                f.write_str(message)?;
                (template, line)
            }
        };
        write!(f, " (template {template:?}")?;
        if let Some(line) = line {
            write!(f, ", line {line}")?;
        }
        f.write_str(")")
    }
}

impl std::error::Error for RenderError {}

/// minijinja describes an undefined value it can trace as "… `first_name` is undefined
/// …" (in debug mode, which [`Template::new`] turns on for this purpose). Returns that
/// expression.
fn undefined_expression(detail: &str) -> Option<&str> {
    let end = detail.find("` is undefined")?;
    let start = detail[..end].rfind('`')? + 1;
    Some(&detail[start..end])
}

fn jinja_message(err: &minijinja::Error) -> String {
    match err.detail() {
        Some(detail) => format!("{}: {detail}", err.kind()),
        None => err.kind().to_string(),
    }
}

impl Template {
    /// Compiles `source`. `name` identifies the template in errors ("step 2 body").
    pub fn new(name: &str, source: &str) -> Result<Template, TemplateError> {
        Template::compile(name, source, AutoEscape::None)
    }

    /// Compiles an HTML body: every value is HTML-escaped as it is inserted, so lead
    /// data can never add markup (`{{ x | safe }}` opts out, for the author's own HTML).
    pub fn new_html(name: &str, source: &str) -> Result<Template, TemplateError> {
        Template::compile(name, source, AutoEscape::Html)
    }

    fn compile(name: &str, source: &str, escape: AutoEscape) -> Result<Template, TemplateError> {
        let (rewritten, spins) = rewrite_spintax(source).map_err(|message| TemplateError {
            template: name.to_owned(),
            line: None,
            message,
        })?;
        let compile_error = |err: minijinja::Error| TemplateError {
            template: name.to_owned(),
            line: err.line(),
            message: jinja_message(&err),
        };
        let mut env = Environment::new();
        // The text is sent as written, including a final line break.
        env.set_syntax(
            SyntaxConfig::builder()
                .keep_trailing_newline(true)
                .build()
                .map_err(compile_error)?,
        );
        env.set_undefined_behavior(UndefinedBehavior::SemiStrict);
        // Debug mode makes undefined values remember the expression that produced them,
        // which is how a render error can say *which* value is missing.
        env.set_debug(true);
        // Chosen by the caller, never by the template's name (`….html`).
        env.set_auto_escape_callback(move |_| escape.clone());
        env.add_filter("first_name", first_name_filter);
        env.add_filter("company", company_filter);
        env.add_template_owned(name.to_owned(), rewritten)
            .map_err(compile_error)?;
        Ok(Template {
            name: name.to_owned(),
            env,
            spins,
        })
    }

    /// Renders a body for `lead`, spintax chosen by `seed`: line breaks are `\n`, and
    /// control characters other than tab and line feed are dropped (NUL, for one, may
    /// not appear in SMTP DATA at all).
    pub fn render(&self, lead: &Lead, seed: u64) -> Result<String, RenderError> {
        let template = self
            .env
            .get_template(&self.name)
            .map_err(|err| RenderError::from_jinja(err, &self.name))?;
        let text = template
            .render(self.context(lead, seed))
            .map_err(|err| RenderError::from_jinja(err, &self.name))?;
        Ok(normalize_body(&text))
    }

    /// Renders a subject: like [`Template::render`], then made a single header line by
    /// [`header_value`].
    pub fn render_subject(&self, lead: &Lead, seed: u64) -> Result<String, RenderError> {
        self.render(lead, seed).map(|text| header_value(&text))
    }

    /// The render context: canonical fields under their canonical names, custom fields
    /// under `custom[header]` and, where the header folds to an unambiguous identifier,
    /// also at the top level. Blank values are left out, so they are undefined.
    fn context(&self, lead: &Lead, seed: u64) -> Value {
        let mut ctx: BTreeMap<String, Value> = BTreeMap::new();
        for field in Field::ALL {
            if let Some(value) = lead.get(field).filter(|v| !v.trim().is_empty()) {
                ctx.insert(field.name().to_owned(), Value::from(value));
            }
        }
        let custom: BTreeMap<&str, &str> = lead
            .custom
            .iter()
            .filter(|(_, value)| !value.trim().is_empty())
            .map(|(header, value)| (header.as_str(), value.as_str()))
            .collect();
        // A folded name that two headers share would pick one of them silently; leave
        // it out instead, so a template using it fails and says so.
        let mut folded: BTreeMap<String, Option<&str>> = BTreeMap::new();
        for (header, value) in &custom {
            if let Some(name) = identifier_for_header(header) {
                if Field::from_name(&name).is_none() && name != "custom" {
                    folded
                        .entry(name)
                        .and_modify(|v| *v = None)
                        .or_insert(Some(value));
                }
            }
        }
        for (name, value) in folded {
            if let Some(value) = value {
                ctx.insert(name, Value::from(value));
            }
        }
        let custom: BTreeMap<String, Value> = custom
            .into_iter()
            .map(|(h, v)| (h.to_owned(), Value::from(v)))
            .collect();
        ctx.insert("custom".to_owned(), Value::from(custom));
        if !self.spins.is_empty() {
            let choices: Vec<u32> = self
                .spins
                .iter()
                .enumerate()
                .map(|(group, &n)| spin_choice(seed, group, n))
                .collect();
            ctx.insert(SPIN_VAR.to_owned(), Value::from(choices));
        }
        Value::from(ctx)
    }
}

// Filters take `Cow<str>` because minijinja checks that argument type for undefined
// values, so `{{ title | company }}` on a lead without a title reports "missing title".
fn first_name_filter(value: Cow<'_, str>) -> String {
    tidy_first_name(&value)
}

fn company_filter(value: Cow<'_, str>) -> String {
    company_name(&value).to_owned()
}

/// The spintax seed for one lead at one step of a sequence. Every renderer of that
/// message (preview, lint, the worker, a retry) must use the same seed to get the same
/// text, so they all derive it here.
pub fn spin_seed(lead_id: i64, step: u32) -> u64 {
    let mut bytes = [0u8; 12];
    bytes[..8].copy_from_slice(&lead_id.to_le_bytes());
    bytes[8..].copy_from_slice(&step.to_le_bytes());
    xxhash_rust::xxh3::xxh3_64(&bytes)
}

/// The option (in `0..n`) spintax group number `group` takes under `seed`: a splitmix64
/// mix of both, so neighbouring seeds and groups choose independently, reduced to the
/// range by multiply-shift.
fn spin_choice(seed: u64, group: usize, n: u32) -> u32 {
    let mixed = splitmix64(seed ^ splitmix64(group as u64));
    ((u128::from(mixed) * u128::from(n)) >> 64) as u32
}

fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d1_049b_133b_11eb);
    z ^ (z >> 31)
}

/// The top-level variable name a custom column header folds to: transliterated to
/// ASCII, lowercased, every run of other characters made one `_`, no `_` at either end
/// ("Connected On" → `connected_on`). `None` unless it starts with a letter, as an
/// identifier must (and so never clashes with internal `_` names).
fn identifier_for_header(header: &str) -> Option<String> {
    let ascii = deunicode::deunicode(header);
    let mut name = String::with_capacity(ascii.len());
    for c in ascii.chars() {
        if c.is_ascii_alphanumeric() {
            name.push(c.to_ascii_lowercase());
        } else if !name.is_empty() && !name.ends_with('_') {
            name.push('_');
        }
    }
    while name.ends_with('_') {
        name.pop();
    }
    name.starts_with(|c: char| c.is_ascii_alphabetic())
        .then_some(name)
}

/// The `first_name` filter: trims and collapses spaces, and re-cases a name typed all
/// in capitals or all in small letters ("JOHN", "john" → "John", "o'brien" →
/// "O'Brien", "anne-marie" → "Anne-Marie"). A name in mixed case ("McDonald",
/// "de la Cruz") was written with intent and is kept as it is.
pub fn tidy_first_name(value: &str) -> String {
    let collapsed = value.split_whitespace().collect::<Vec<_>>().join(" ");
    let has_upper = collapsed.chars().any(char::is_uppercase);
    let has_lower = collapsed.chars().any(char::is_lowercase);
    if has_upper && has_lower {
        return collapsed;
    }
    // Capitalise each run of letters: after a space, hyphen or apostrophe a new part of
    // the name begins.
    let mut out = String::with_capacity(collapsed.len());
    let mut rest = collapsed.as_str();
    while let Some(start) = rest.find(char::is_alphabetic) {
        out.push_str(&rest[..start]);
        let word = &rest[start..];
        let end = word.find(|c: char| !c.is_alphabetic()).unwrap_or(word.len());
        let mut letters = word[..end].chars();
        if let Some(first) = letters.next() {
            out.extend(first.to_uppercase());
            // `str::to_lowercase` (unlike `char`'s) knows a word-final Σ is ς.
            out.push_str(&letters.as_str().to_lowercase());
        }
        rest = &word[end..];
    }
    out.push_str(rest);
    out
}

/// Legal-form suffixes the `company` filter removes, lowercase. A multi-word form comes
/// before its last word ("pty ltd" before "ltd") so the whole form goes at once.
const LEGAL_SUFFIXES: &[&str] = &[
    "gmbh & co. kg",
    "gmbh & co kg",
    "pty. ltd.",
    "pty ltd.",
    "pty ltd",
    "pte. ltd.",
    "pte ltd",
    "incorporated",
    "corporation",
    "limited",
    "s.a.r.l.",
    "s.a.s.",
    "s.r.l.",
    "l.l.c.",
    "sarl",
    "inc.",
    "inc",
    "llc",
    "llp",
    "ltd.",
    "ltd",
    "gmbh",
    "corp.",
    "corp",
    "co.",
    "plc",
    "sas",
    "srl",
    "s.a.",
    "s.l.",
    "b.v.",
    "n.v.",
    "bv",
    "nv",
    "sa",
    "ag",
    "kg",
];

/// The `company` filter: the name without legal-form suffixes and the comma before
/// them ("Acme, Inc." → "Acme", "Acme Co., Ltd." → "Acme"). A suffix counts only as a
/// separate word, and is kept when removing it would leave nothing or a dangling "&"
/// ("Smith & Co." stays).
pub fn company_name(value: &str) -> &str {
    fn trim(s: &str) -> &str {
        s.trim_end_matches(|c: char| c.is_whitespace() || c == ',')
    }
    let mut name = trim(value.trim_start());
    'strip: loop {
        for suffix in LEGAL_SUFFIXES {
            let Some(start) = name.len().checked_sub(suffix.len()) else {
                continue;
            };
            if !name.is_char_boundary(start) || !name[start..].eq_ignore_ascii_case(suffix) {
                continue;
            }
            let before = &name[..start];
            if !before.ends_with(|c: char| c.is_whitespace() || c == ',') {
                continue;
            }
            let rest = trim(before);
            if rest.is_empty() || rest.ends_with('&') {
                continue;
            }
            name = rest;
            continue 'strip;
        }
        return name;
    }
}

/// Makes rendered text safe as one header line (a subject): line breaks, other control
/// characters and Unicode line/paragraph separators become spaces, runs of whitespace
/// become one space, and the ends are trimmed. Whatever a lead's fields contain, the
/// result cannot start a new header line.
pub fn header_value(rendered: &str) -> String {
    let mut out = String::with_capacity(rendered.len());
    let mut space = false;
    for c in rendered.chars() {
        // U+2028/U+2029 are whitespace, and every line break is a control or whitespace.
        if c.is_control() || c.is_whitespace() {
            space = true;
        } else {
            if space && !out.is_empty() {
                out.push(' ');
            }
            space = false;
            out.push(c);
        }
    }
    out
}

/// CRLF and lone CR become `\n`; other C0 controls and DEL are dropped, tab kept.
fn normalize_body(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                chars.next_if_eq(&'\n');
                out.push('\n');
            }
            '\n' | '\t' => out.push(c),
            c if c.is_ascii_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// One lexical piece of a template source, as far as spintax is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Piece {
    /// Literal text or a whole Jinja tag (`{{ … }}`, `{% … %}`, `{# … #}`, or a
    /// `{% raw %}…{% endraw %}` block), copied unchanged.
    Verbatim(usize, usize),
    Open,
    Close,
    Bar,
}

/// Rewrites every spintax group of `source` into an `if`/`elif` chain over
/// `__inroad_spin[group]`, and returns the rewritten source with the option count of
/// each group.
///
/// A group is a `{` … `}` pair (not `{{`, `{%` or `{#`, which open Jinja tags) with at
/// least one `|` directly inside it; braces are paired innermost first, like brackets.
/// Anything else stays literal: a brace pair without `|` (`{x}`), a `{` never closed,
/// a stray `}` or `|`. Jinja tags are opaque, so braces and `|` filters inside them are
/// never spintax, and a literal `{a|b}` can be written as `{% raw %}{a|b}{% endraw %}`.
fn rewrite_spintax(source: &str) -> Result<(String, Vec<u32>), String> {
    let pieces = lex(source);
    let mut partner = vec![None; pieces.len()];
    let mut open = Vec::new();
    for (i, piece) in pieces.iter().enumerate() {
        match piece {
            Piece::Open => open.push(i),
            Piece::Close => {
                if let Some(o) = open.pop() {
                    partner[o] = Some(i);
                }
            }
            _ => {}
        }
    }
    let mut rewriter = Rewriter {
        source,
        pieces: &pieces,
        partner: &partner,
        out: String::new(),
        spins: Vec::new(),
    };
    rewriter.emit(0..pieces.len(), 0)?;
    Ok((rewriter.out, rewriter.spins))
}

struct Rewriter<'a> {
    source: &'a str,
    pieces: &'a [Piece],
    /// For each matched `{`, the index of its `}`.
    partner: &'a [Option<usize>],
    out: String,
    spins: Vec<u32>,
}

impl Rewriter<'_> {
    fn emit(&mut self, range: Range<usize>, depth: usize) -> Result<(), String> {
        let mut i = range.start;
        while i < range.end {
            match (self.pieces[i], self.partner[i]) {
                (Piece::Verbatim(start, end), _) => self.out.push_str(&self.source[start..end]),
                (Piece::Open, Some(close)) => {
                    if depth >= MAX_SPIN_DEPTH {
                        return Err(format!("spintax nested more than {MAX_SPIN_DEPTH} levels deep"));
                    }
                    let bars = self.bars_between(i + 1, close);
                    if bars.is_empty() {
                        self.out.push('{');
                        self.emit(i + 1..close, depth + 1)?;
                        self.out.push('}');
                    } else {
                        self.emit_group(i, close, &bars, depth)?;
                    }
                    i = close;
                }
                (Piece::Open, None) => self.out.push('{'),
                (Piece::Close, _) => self.out.push('}'),
                (Piece::Bar, _) => self.out.push('|'),
            }
            i += 1;
        }
        Ok(())
    }

    /// The `|` pieces directly inside the group spanning `start..end` (not in a nested
    /// group). Every `{` in that span is matched, since the group's `}` closed last.
    fn bars_between(&self, start: usize, end: usize) -> Vec<usize> {
        let mut bars = Vec::new();
        let mut i = start;
        while i < end {
            match (self.pieces[i], self.partner[i]) {
                (Piece::Bar, _) => bars.push(i),
                (Piece::Open, Some(close)) => i = close,
                _ => {}
            }
            i += 1;
        }
        bars
    }

    fn emit_group(&mut self, open: usize, close: usize, bars: &[usize], depth: usize) -> Result<(), String> {
        let group = self.spins.len();
        self.spins.push(bars.len() as u32 + 1);
        let mut start = open + 1;
        for (option, &end) in bars.iter().chain(std::iter::once(&close)).enumerate() {
            if option == 0 {
                self.out.push_str(&format!("{{% if {SPIN_VAR}[{group}] == 0 %}}"));
            } else if end == close {
                self.out.push_str("{% else %}");
            } else {
                self.out
                    .push_str(&format!("{{% elif {SPIN_VAR}[{group}] == {option} %}}"));
            }
            self.emit(start..end, depth + 1)?;
            start = end + 1;
        }
        self.out.push_str("{% endif %}");
        Ok(())
    }
}

/// Splits `source` into literal text, whole Jinja tags, and the spintax punctuation
/// `{`, `}` and `|` found outside tags.
fn lex(source: &str) -> Vec<Piece> {
    let bytes = source.as_bytes();
    let mut pieces = Vec::new();
    let mut text = 0;
    let mut i = 0;
    while i < bytes.len() {
        let (piece, end) = match bytes[i] {
            b'{' if matches!(bytes.get(i + 1), Some(b'{' | b'%' | b'#')) => {
                let end = tag_end(source, i);
                (Piece::Verbatim(i, end), end)
            }
            b'{' => (Piece::Open, i + 1),
            b'}' => (Piece::Close, i + 1),
            b'|' => (Piece::Bar, i + 1),
            _ => {
                i += 1;
                continue;
            }
        };
        if text < i {
            pieces.push(Piece::Verbatim(text, i));
        }
        pieces.push(piece);
        i = end;
        text = end;
    }
    if text < bytes.len() {
        pieces.push(Piece::Verbatim(text, bytes.len()));
    }
    pieces
}

/// The end (exclusive) of the Jinja tag starting at `start`, or of the whole
/// `{% raw %}…{% endraw %}` block it opens. An unterminated tag runs to the end of the
/// source (minijinja then reports it).
fn tag_end(source: &str, start: usize) -> usize {
    let bytes = source.as_bytes();
    match bytes[start + 1] {
        b'#' => source[start + 2..]
            .find("#}")
            .map_or(bytes.len(), |at| start + 2 + at + 2),
        b'{' => expression_end(bytes, start + 2, b'}'),
        _ => {
            let end = expression_end(bytes, start + 2, b'%');
            if tag_word(source, start, end) != "raw" {
                return end;
            }
            let mut at = end;
            while let Some(found) = source[at..].find("{%") {
                let tag = at + found;
                let tag_end = expression_end(bytes, tag + 2, b'%');
                if tag_word(source, tag, tag_end) == "endraw" {
                    return tag_end;
                }
                at = tag_end;
            }
            bytes.len()
        }
    }
}

/// The inside of the `{% … %}` tag at `start..end`, without whitespace control marks.
fn tag_word(source: &str, start: usize, end: usize) -> &str {
    let inner = source
        .get(start + 2..end.saturating_sub(2).max(start + 2))
        .unwrap_or("");
    inner.trim_matches(|c: char| c.is_whitespace() || c == '-' || c == '+')
}

/// The end of an expression tag whose body starts at `from` and which closes with
/// `closer` followed by `}`. Quoted strings and `{…}` dict literals are skipped, so a
/// `}}` inside them does not end the tag.
fn expression_end(bytes: &[u8], from: usize, closer: u8) -> usize {
    let mut quote = None;
    let mut depth = 0usize;
    let mut j = from;
    while j < bytes.len() {
        let c = bytes[j];
        if let Some(q) = quote {
            if c == b'\\' {
                j += 2;
                continue;
            }
            if c == q {
                quote = None;
            }
        } else {
            match c {
                b'\'' | b'"' => quote = Some(c),
                b'{' => depth += 1,
                b'}' if depth > 0 => depth -= 1,
                _ if c == closer && depth == 0 && bytes.get(j + 1) == Some(&b'}') => return j + 2,
                _ => {}
            }
        }
        j += 1;
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lead() -> Lead {
        let mut lead = Lead {
            email: Some("ann@acme.com".into()),
            first_name: Some("Ann".into()),
            company: Some("Acme, Inc.".into()),
            ..Lead::default()
        };
        lead.custom.insert("Connected On".into(), "12 Mar 2024".into());
        lead
    }

    fn render(source: &str, lead: &Lead) -> Result<String, RenderError> {
        Template::new("t", source).unwrap().render(lead, 7)
    }

    #[test]
    fn renders_canonical_fields_by_name() {
        assert_eq!(
            render("Hi {{ first_name }} at {{ company }}", &lead()).unwrap(),
            "Hi Ann at Acme, Inc."
        );
        assert_eq!(render("{{ email }}", &lead()).unwrap(), "ann@acme.com");
    }

    #[test]
    fn html_bodies_escape_every_value_and_text_bodies_none() {
        let tricky = Lead {
            company: Some("<b>Acme</b> & \"Sons\" Inc.".into()),
            ..lead()
        };
        let source = "<p>Hi {{ first_name }} at {{ company | company }}</p>";
        let html = Template::new_html("step 1 html", source).unwrap();
        assert_eq!(
            html.render(&tricky, 7).unwrap(),
            "<p>Hi Ann at &lt;b&gt;Acme&lt;&#x2f;b&gt; &amp; &quot;Sons&quot;</p>"
        );
        let text = Template::new("step 1 body", source).unwrap();
        assert_eq!(
            text.render(&tricky, 7).unwrap(),
            "<p>Hi Ann at <b>Acme</b> & \"Sons\"</p>"
        );
    }

    #[test]
    fn missing_field_is_an_error_naming_it() {
        let no_name = Lead {
            first_name: None,
            ..lead()
        };
        let err = render("Hi {{ first_name }}", &no_name).unwrap_err();
        assert_eq!(err.missing_variable(), Some("first_name"));
        let text = err.to_string();
        assert!(text.starts_with("missing first_name"), "{text}");
        assert!(text.contains("\"t\""), "{text}");
        assert!(text.contains("line 1"), "{text}");
        // The line reported is the one in the author's source.
        let err = render("Hello,\n\n{so|very} {{ title }}", &no_name).unwrap_err();
        assert_eq!(err.missing_variable(), Some("title"));
        assert!(err.to_string().contains("line 3"), "{err}");
    }

    #[test]
    fn blank_field_counts_as_missing() {
        let blank = Lead {
            first_name: Some("  ".into()),
            ..lead()
        };
        assert_eq!(
            render("Hi {{ first_name }}", &blank)
                .unwrap_err()
                .missing_variable(),
            Some("first_name")
        );
    }

    #[test]
    fn missing_value_through_filters_and_methods_is_still_missing() {
        let no_title = lead();
        for source in [
            "{{ title | upper }}",
            "{{ title | first_name }}",
            "{{ title | company }}",
            "{{ title.upper() }}",
            "{{ 'x' ~ title }}",
            "{% for c in title %}{{ c }}{% endfor %}",
        ] {
            let err = render(source, &no_title).unwrap_err();
            assert_eq!(err.missing_variable(), Some("title"), "{source}: {err}");
        }
    }

    #[test]
    fn default_and_if_handle_a_missing_field() {
        let no_name = Lead {
            first_name: None,
            ..lead()
        };
        assert_eq!(
            render("Hi {{ first_name | default(\"there\") }}", &no_name).unwrap(),
            "Hi there"
        );
        assert_eq!(
            render("Hi {{ first_name | default(\"there\") }}", &lead()).unwrap(),
            "Hi Ann"
        );
        assert_eq!(
            render("Hi{% if title %} {{ title }}{% endif %}!", &no_name).unwrap(),
            "Hi!"
        );
        assert_eq!(render("{{ title is defined }}", &no_name).unwrap(), "False");
    }

    #[test]
    fn custom_fields_by_header_and_by_folded_name() {
        let lead = lead();
        assert_eq!(
            render("{{ custom[\"Connected On\"] }}", &lead).unwrap(),
            "12 Mar 2024"
        );
        assert_eq!(render("{{ connected_on }}", &lead).unwrap(), "12 Mar 2024");
        let err = render("{{ custom[\"Team\"] }}", &lead).unwrap_err();
        assert_eq!(err.missing_variable(), Some("custom['Team']"));
        assert_eq!(render("{{ custom.Team | default('-') }}", &lead).unwrap(), "-");
    }

    #[test]
    fn folded_custom_names_never_shadow_or_guess() {
        let mut lead = lead();
        lead.custom
            .insert("Company".into(), "from a custom column".into());
        lead.custom.insert("Team Size".into(), "10".into());
        lead.custom.insert("team-size".into(), "12".into());
        lead.custom.insert("Custom".into(), "x".into());
        lead.custom.insert("2024 Revenue".into(), "1M".into());
        assert_eq!(render("{{ company }}", &lead).unwrap(), "Acme, Inc.");
        assert_eq!(
            render("{{ custom.Company }}", &lead).unwrap(),
            "from a custom column"
        );
        assert_eq!(
            render("{{ team_size | default('ambiguous') }}", &lead).unwrap(),
            "ambiguous"
        );
        assert_eq!(render("{{ custom['team-size'] }}", &lead).unwrap(), "12");
        assert_eq!(render("{{ custom['Custom'] }}", &lead).unwrap(), "x");
        assert_eq!(render("{{ custom['2024 Revenue'] }}", &lead).unwrap(), "1M");
    }

    #[test]
    fn header_folding() {
        assert_eq!(
            identifier_for_header("Connected On").as_deref(),
            Some("connected_on")
        );
        assert_eq!(
            identifier_for_header("  Company (Domain) ").as_deref(),
            Some("company_domain")
        );
        assert_eq!(identifier_for_header("Größe").as_deref(), Some("grosse"));
        assert_eq!(identifier_for_header("2024 Revenue"), None);
        assert_eq!(identifier_for_header("__x").as_deref(), Some("x"));
        assert_eq!(identifier_for_header("¿?"), None);
    }

    #[test]
    fn syntax_errors_are_reported_with_line() {
        let err = Template::new("step 1 body", "Hi\nthere {{ first_name ").unwrap_err();
        assert_eq!(err.template, "step 1 body");
        assert_eq!(err.line, Some(2));
        assert!(
            err.to_string()
                .starts_with("template \"step 1 body\" line 2: syntax error"),
            "{err}"
        );
        assert!(Template::new("t", "{% if x %}").is_err());
        // A branch no seed might pick is still checked.
        assert!(Template::new("t", "{a|{{ b c }}}").is_err());
    }

    #[test]
    fn unknown_filter_fails_at_render() {
        let err = render("{{ first_name | shout }}", &lead()).unwrap_err();
        assert!(matches!(err, RenderError::Failed { .. }), "{err:?}");
        assert!(err.to_string().contains("unknown filter"), "{err}");
    }

    #[test]
    fn first_name_filter() {
        for (raw, tidy) in [
            ("JOHN", "John"),
            ("john", "John"),
            ("  john  ", "John"),
            ("McDonald", "McDonald"),
            ("o'brien", "O'Brien"),
            ("O'BRIEN", "O'Brien"),
            ("anne-marie", "Anne-Marie"),
            ("ANNE-MARIE", "Anne-Marie"),
            ("de la Cruz", "de la Cruz"),
            ("mary  ann", "Mary Ann"),
            ("Mary Ann", "Mary Ann"),
            ("ÉLODIE", "Élodie"),
            ("ΟΔΥΣΣΕΑΣ", "Οδυσσεας"),
            ("j.", "J."),
            ("", ""),
        ] {
            assert_eq!(tidy_first_name(raw), tidy, "{raw:?}");
        }
        let shouting = Lead {
            first_name: Some(" JOHN ".into()),
            ..lead()
        };
        assert_eq!(
            render("Hi {{ first_name | first_name }},", &shouting).unwrap(),
            "Hi John,"
        );
    }

    #[test]
    fn company_filter() {
        for (raw, clean) in [
            ("Acme, Inc.", "Acme"),
            ("Acme Inc", "Acme"),
            ("Acme Inc.", "Acme"),
            ("Acme LLC", "Acme"),
            ("Acme Ltd", "Acme"),
            ("Acme Ltd.", "Acme"),
            ("Acme Limited", "Acme"),
            ("Acme GmbH", "Acme"),
            ("Acme S.A.", "Acme"),
            ("Acme SA", "Acme"),
            ("Acme Corp", "Acme"),
            ("Acme Corp.", "Acme"),
            ("Acme Corporation", "Acme"),
            ("Acme Co.", "Acme"),
            ("Acme AG", "Acme"),
            ("Acme BV", "Acme"),
            ("Acme B.V.", "Acme"),
            ("Acme PLC", "Acme"),
            ("Acme Pty Ltd", "Acme"),
            ("Acme SAS", "Acme"),
            ("Acme SARL", "Acme"),
            ("Acme S.L.", "Acme"),
            ("Acme Co., Ltd.", "Acme"),
            ("Acme GmbH & Co. KG", "Acme"),
            ("ACME, INC.", "ACME"),
            ("  Acme Holdings, Inc.,  ", "Acme Holdings"),
            ("Acme Group", "Acme Group"),
            ("Acme", "Acme"),
            ("Inc.", "Inc."),
            ("Limited", "Limited"),
            ("Smith & Co.", "Smith & Co."),
            ("Pinc", "Pinc"),
            ("Casa", "Casa"),
            ("Acme Ltd.,", "Acme"),
            ("", ""),
        ] {
            assert_eq!(company_name(raw), clean, "{raw:?}");
        }
        assert_eq!(render("at {{ company | company }}", &lead()).unwrap(), "at Acme");
    }

    #[test]
    fn spintax_is_deterministic_per_seed() {
        let t = Template::new("t", "{Hi|Hello|Hey} {{ first_name }}").unwrap();
        for seed in 0..50 {
            assert_eq!(t.render(&lead(), seed).unwrap(), t.render(&lead(), seed).unwrap());
        }
        let seen: std::collections::BTreeSet<String> =
            (0..100).map(|seed| t.render(&lead(), seed).unwrap()).collect();
        let expected: std::collections::BTreeSet<String> = ["Hi Ann", "Hello Ann", "Hey Ann"]
            .into_iter()
            .map(String::from)
            .collect();
        assert_eq!(seen, expected);
    }

    #[test]
    fn spintax_nests_and_may_contain_jinja() {
        let t = Template::new("t", "{Hi {{ first_name | first_name }}|{Hello|Hey} there}!").unwrap();
        let seen: std::collections::BTreeSet<String> =
            (0..200).map(|seed| t.render(&lead(), seed).unwrap()).collect();
        let expected: std::collections::BTreeSet<String> = ["Hi Ann!", "Hello there!", "Hey there!"]
            .into_iter()
            .map(String::from)
            .collect();
        assert_eq!(seen, expected);
        // Empty options are allowed.
        let t = Template::new("t", "a{ really|} good").unwrap();
        let seen: std::collections::BTreeSet<String> =
            (0..50).map(|seed| t.render(&lead(), seed).unwrap()).collect();
        assert_eq!(seen.into_iter().collect::<Vec<_>>(), ["a good", "a really good"]);
    }

    #[test]
    fn spintax_groups_choose_independently() {
        let t = Template::new("t", "{a|b}{a|b}").unwrap();
        let seen: std::collections::BTreeSet<String> =
            (0..100).map(|seed| t.render(&lead(), seed).unwrap()).collect();
        assert_eq!(seen.len(), 4, "{seen:?}");
    }

    #[test]
    fn braces_that_are_not_spintax_stay_literal() {
        for (source, out) in [
            ("Hi {Ann", "Hi {Ann"),
            ("Hi {", "Hi {"),
            ("a } b | c", "a } b | c"),
            ("{x}", "{x}"),
            ("{}", "{}"),
            ("p { color: red }", "p { color: red }"),
            ("{a|b", "{a|b"),
            ("{% raw %}{a|b}{% endraw %}", "{a|b}"),
            ("{%- raw -%} {a|b} {%- endraw %}", "{a|b}"),
            ("{{ '{a|b}' }}", "{a|b}"),
            ("{{ {'k': '|'}['k'] }}", "|"),
            ("{# {a|b} #}ok", "ok"),
        ] {
            assert_eq!(render(source, &lead()).unwrap(), out, "{source:?}");
        }
        // An unterminated `{` before a group leaves the group working.
        let out = render("{x {a|a}", &lead()).unwrap();
        assert_eq!(out, "{x a");
    }

    #[test]
    fn spintax_nesting_is_bounded() {
        let deep = format!("{}a|b{}", "{ ".repeat(40), "}".repeat(40));
        let err = Template::new("t", &deep).unwrap_err();
        assert!(err.message.contains("nested"), "{err}");
        let flat = "{ ".repeat(10_000);
        assert_eq!(
            Template::new("t", &flat).unwrap().render(&lead(), 0).unwrap(),
            flat
        );
    }

    #[test]
    fn subjects_are_one_clean_header_line() {
        let evil = Lead {
            first_name: Some("Ann\r\nBcc: x@y\u{2028}\0 \t end".into()),
            ..lead()
        };
        let t = Template::new("subject", "  Hi {{ first_name }}\n").unwrap();
        assert_eq!(t.render_subject(&evil, 0).unwrap(), "Hi Ann Bcc: x@y end");
        assert_eq!(header_value("a\u{85}b\u{2029}c\u{1b}d\u{7f}e"), "a b c d e");
        assert_eq!(header_value(" \r\n "), "");
    }

    #[test]
    fn bodies_keep_line_breaks_without_lone_cr() {
        let lead = Lead {
            first_name: Some("A\rB\r\nC\0D\tE".into()),
            ..lead()
        };
        let out = render("{{ first_name }}\r\nBye\n", &lead).unwrap();
        assert_eq!(out, "A\nB\nCD\tE\nBye\n");
    }

    #[test]
    fn plain_text_is_not_escaped_even_for_html_names() {
        let lead = Lead {
            company: Some("Smith & <Sons>".into()),
            ..lead()
        };
        let t = Template::new("body.html", "{{ company }}").unwrap();
        assert_eq!(t.render(&lead, 0).unwrap(), "Smith & <Sons>");
    }

    #[test]
    fn spin_seed_is_stable_and_distinguishes_steps() {
        assert_eq!(spin_seed(42, 1), spin_seed(42, 1));
        assert_ne!(spin_seed(42, 1), spin_seed(42, 2));
        assert_ne!(spin_seed(42, 1), spin_seed(43, 1));
    }
}
