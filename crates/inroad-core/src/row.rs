//! One raw row of an export → a clean [`Lead`], or the reason it is rejected.

use crate::email::normalize_email_into;
use crate::headers::{field_for_header, is_export_only};
use crate::normalize::{
    canonical_linkedin_url_into, clean_text, clean_text_into, registrable_domain_into, split_full_name, trim,
};
use crate::{Field, Lead};

/// What one column of the file becomes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    Field(Field),
    /// The lead's notes, as Inroad's own export writes them.
    Notes,
    /// Kept as a custom field under this name (the header as written).
    Custom(String),
    Skip,
}

/// An override given on the command line as `HEADER=FIELD`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Override {
    pub header: String,
    pub target: Target,
}

impl std::str::FromStr for Override {
    type Err = String;

    /// Parses `HEADER=FIELD` where FIELD is a canonical field name, `custom` or `skip`.
    fn from_str(spec: &str) -> Result<Self, String> {
        let (header, field) = spec
            .rsplit_once('=')
            .ok_or_else(|| format!("--map {spec:?}: expected HEADER=FIELD"))?;
        let header = header.trim().to_owned();
        let target = match field.trim() {
            "custom" => Target::Custom(header.clone()),
            "skip" => Target::Skip,
            name => Target::Field(Field::from_name(name).ok_or_else(|| {
                let names: Vec<&str> = Field::ALL.iter().map(|f| f.name()).collect();
                format!(
                    "--map {spec:?}: unknown field {name:?}; use one of {}, custom, skip",
                    names.join(", ")
                )
            })?),
        };
        Ok(Override { header, target })
    }
}

/// How the columns of one file map onto lead fields.
#[derive(Clone, Debug)]
pub struct ColumnMap {
    targets: Vec<Target>,
}

impl ColumnMap {
    /// Maps a header row: overrides first, then known aliases (the first column for a
    /// field wins), the rest become custom fields. An override naming a header that is
    /// not in the file is an error, so a typo never silently does nothing.
    pub fn new(headers: &[String], overrides: &[Override]) -> Result<ColumnMap, String> {
        let mut targets: Vec<Option<Target>> = vec![None; headers.len()];
        for o in overrides {
            let i = headers
                .iter()
                .position(|h| h.trim().eq_ignore_ascii_case(&o.header))
                .ok_or_else(|| {
                    format!(
                        "--map: the file has no column {:?} (columns: {})",
                        o.header,
                        headers.join(", ")
                    )
                })?;
            targets[i] = Some(o.target.clone());
        }
        let mut taken: Vec<Field> = targets
            .iter()
            .filter_map(|t| match t {
                Some(Target::Field(f)) => Some(*f),
                _ => None,
            })
            .collect();
        for (i, header) in headers.iter().enumerate() {
            if targets[i].is_some() {
                continue;
            }
            targets[i] = Some(match field_for_header(header) {
                _ if is_export_only(header) => Target::Skip,
                _ if header.trim() == "notes" => Target::Notes,
                Some(f) if !taken.contains(&f) => {
                    taken.push(f);
                    Target::Field(f)
                }
                _ => match clean_text(header) {
                    Some(name) => Target::Custom(name),
                    None => Target::Skip,
                },
            });
        }
        Ok(ColumnMap {
            targets: targets.into_iter().map(|t| t.unwrap_or(Target::Skip)).collect(),
        })
    }

    pub fn targets(&self) -> &[Target] {
        &self.targets
    }

    /// Whether any column maps to `field`.
    pub fn has(&self, field: Field) -> bool {
        self.targets.contains(&Target::Field(field))
    }
}

/// A row that became a lead: `notes` are the row's own notes column (if any), then
/// one note per value that was dropped (`dropped` of them).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NormalizedRow {
    pub lead: Lead,
    pub notes: Vec<String>,
    pub dropped: usize,
}

/// Normalises one row. Cells beyond the header are ignored; missing cells are empty.
pub fn normalize_row<'a>(
    map: &ColumnMap,
    cells: impl IntoIterator<Item = &'a str>,
) -> Result<NormalizedRow, String> {
    let mut row = NormalizedRow::default();
    normalize_row_into(map, cells, &mut row).map(|()| row)
}

/// [`normalize_row`] into `row`: the strings of the lead it held are reused for this
/// row's values, so an import normalises a million rows through the strings of the
/// few hundred rows in flight instead of allocating and freeing a string per cell.
/// On an error, `row` holds nothing of use.
pub fn normalize_row_into<'a>(
    map: &ColumnMap,
    cells: impl IntoIterator<Item = &'a str>,
    row: &mut NormalizedRow,
) -> Result<(), String> {
    let mut spare = std::mem::take(&mut row.lead);
    row.notes.clear();
    row.dropped = 0;
    let NormalizedRow { lead, notes, dropped } = row;
    for (target, raw) in map.targets.iter().zip(cells) {
        // Emails, URLs and domains hold no inner whitespace when valid, so they are
        // checked on the trimmed cell; the cleaned text is made only for a note.
        let trimmed = trim(raw);
        if trimmed.is_empty() {
            continue;
        }
        let mut drop_value = |what: &str| {
            *dropped += 1;
            notes.push(format!(
                "{:?} {what}, dropped",
                clean_text(raw).unwrap_or_default()
            ));
        };
        let mut buffer = |field: Field| spare.take(field).unwrap_or_default();
        match target {
            Target::Skip => {}
            Target::Notes => notes.extend(clean_text(raw)),
            Target::Field(Field::Email) => {
                let mut email = buffer(Field::Email);
                match normalize_email_into(trimmed, &mut email) {
                    Ok(()) => lead.email = Some(email),
                    Err(why) => drop_value(&format!("is not a valid email ({why})")),
                }
            }
            Target::Field(field @ (Field::LinkedinUrl | Field::Domain)) => {
                let (normalize, invalid): (fn(&str, &mut String) -> bool, _) = match field {
                    Field::LinkedinUrl => (canonical_linkedin_url_into, "is not a LinkedIn profile URL"),
                    _ => (registrable_domain_into, "is not a company web domain"),
                };
                let mut value = buffer(*field);
                if normalize(trimmed, &mut value) {
                    lead.set(*field, Some(value));
                } else {
                    drop_value(invalid);
                }
            }
            Target::Custom(name) => {
                if let Some(value) = clean_text(raw) {
                    lead.custom.insert(name.clone(), value);
                }
            }
            Target::Field(field) => {
                let mut text = buffer(*field);
                lead.set(*field, clean_text_into(raw, &mut text).then_some(text));
            }
        }
    }
    if lead.first_name.is_none() && lead.last_name.is_none() {
        if let Some(full) = &lead.full_name {
            (lead.first_name, lead.last_name) = split_full_name(full);
        }
    }
    if lead.full_name.is_none() {
        let mut full = spare.full_name.take().unwrap_or_default();
        lead.full_name = lead.derived_full_name_into(&mut full).then_some(full);
    }
    let has_name = lead.first_name.is_some() || lead.last_name.is_some();
    let has_org = lead.company.is_some() || lead.domain.is_some();
    if lead.email.is_some() || lead.linkedin_url.is_some() || (has_name && has_org) {
        return Ok(());
    }
    let mut reason = String::from(
        "no identity: needs a valid email, a LinkedIn profile URL, or a name with a company or domain",
    );
    for note in notes.iter() {
        reason.push_str("; ");
        reason.push_str(note);
    }
    Err(reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(headers: &[&str]) -> ColumnMap {
        let headers: Vec<String> = headers.iter().map(|h| h.to_string()).collect();
        ColumnMap::new(&headers, &[]).unwrap()
    }

    #[test]
    fn keeps_lead_with_invalid_email_when_it_has_another_identity() {
        let m = map(&["Email", "LinkedIn URL"]);
        let row = normalize_row(&m, ["john at acme.com", "https://linkedin.com/in/John/"]).unwrap();
        assert_eq!(row.lead.email, None);
        assert_eq!(
            row.lead.linkedin_url.as_deref(),
            Some("https://www.linkedin.com/in/john")
        );
        assert_eq!(row.notes.len(), 1);
    }

    #[test]
    fn rejects_rows_without_identity() {
        let m = map(&["First Name", "Email", "Title"]);
        let why = normalize_row(&m, ["John", "nope", "CEO"]).unwrap_err();
        assert!(
            why.contains("no identity") && why.contains("not a valid email"),
            "{why}"
        );
        assert!(normalize_row(&m, ["", "", ""]).is_err());
    }

    #[test]
    fn splits_full_name_and_keeps_custom_columns() {
        let m = map(&["Name", "Organization", "Connected On", ""]);
        let row = normalize_row(&m, [" Smith,  John ", "Acme  Inc", "01 Jan 2024", "x"]).unwrap();
        assert_eq!(row.lead.first_name.as_deref(), Some("John"));
        assert_eq!(row.lead.last_name.as_deref(), Some("Smith"));
        assert_eq!(row.lead.company.as_deref(), Some("Acme Inc"));
        assert_eq!(
            row.lead.custom.get("Connected On").map(String::as_str),
            Some("01 Jan 2024")
        );
        assert_eq!(row.lead.custom.len(), 1);
    }

    #[test]
    fn overrides_win_and_unknown_headers_are_errors() {
        let headers: Vec<String> = ["Web", "Boss"].iter().map(|s| s.to_string()).collect();
        let o: Override = "boss=full_name".parse().unwrap();
        let m = ColumnMap::new(&headers, &[o]).unwrap();
        let row = normalize_row(&m, ["https://www.acme.co.uk/about", "Ann Lee"]).unwrap();
        assert_eq!(row.lead.domain.as_deref(), Some("acme.co.uk"));
        assert_eq!(row.lead.last_name.as_deref(), Some("Lee"));
        let missing: Override = "Nope=email".parse().unwrap();
        assert!(ColumnMap::new(&headers, &[missing]).is_err());
        assert!("Web=webby".parse::<Override>().is_err());
    }

    /// Two columns mapped to one field: the last valid value wins, and an invalid
    /// one is dropped without taking the earlier value with it.
    #[test]
    fn of_two_columns_for_a_field_the_last_valid_value_wins() {
        let headers: Vec<String> = ["Email", "Backup", "Web", "Site"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let overrides: Vec<Override> = ["Email=email", "Backup=email", "Web=domain", "Site=domain"]
            .iter()
            .map(|o| o.parse().unwrap())
            .collect();
        let m = ColumnMap::new(&headers, &overrides).unwrap();
        let kept = normalize_row(&m, ["ann@acme.com", "not an email", "acme.com", "nowhere"]).unwrap();
        assert_eq!(kept.lead.email.as_deref(), Some("ann@acme.com"));
        assert_eq!(kept.lead.domain.as_deref(), Some("acme.com"));
        assert_eq!(kept.dropped, 2);
        let replaced = normalize_row(&m, ["ann@acme.com", "ann@beta.io", "acme.com", "beta.io"]).unwrap();
        assert_eq!(replaced.lead.email.as_deref(), Some("ann@beta.io"));
        assert_eq!(replaced.lead.domain.as_deref(), Some("beta.io"));
    }

    /// A cell: empty, valid or not for its column, with stray spaces.
    fn cell() -> impl proptest::strategy::Strategy<Value = String> {
        proptest::prop_oneof![
            proptest::strategy::Just(String::new()),
            proptest::strategy::Just("  ".to_owned()),
            "[a-z]{1,8}@[a-z]{1,8}\\.(com|de)",
            "https://www\\.linkedin\\.com/in/[a-z0-9-]{1,12}",
            "(https://)?[a-z]{1,8}\\.(co\\.uk|fr|example)",
            " ?[A-Za-z ,]{0,12} ?",
        ]
    }

    proptest::proptest! {
        /// A row normalised into the strings of an earlier one (as the import reuses
        /// them) comes out as it would alone: nothing of the earlier row stays.
        #[test]
        fn a_row_normalised_into_an_earlier_one_is_as_if_alone(
            earlier in proptest::collection::vec(cell(), 9),
            row in proptest::collection::vec(cell(), 9),
        ) {
            let m = map(&["Email", "LinkedIn URL", "Website", "First Name", "Last Name", "Name", "Title", "Notes", "Team"]);
            let alone = normalize_row(&m, row.iter().map(String::as_str));
            let mut reused = NormalizedRow::default();
            let _ = normalize_row_into(&m, earlier.iter().map(String::as_str), &mut reused);
            let again = normalize_row_into(&m, row.iter().map(String::as_str), &mut reused).map(|()| reused);
            proptest::prop_assert_eq!(again, alone);
        }
    }
}
