//! The lead record: the canonical fields every import maps onto, plus custom fields.

use std::collections::BTreeMap;

/// A canonical lead field. Column headers of any export map onto these (see
/// [`crate::headers`]); everything else is kept as a custom field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Field {
    Email,
    FirstName,
    LastName,
    FullName,
    Title,
    Company,
    /// The company's registrable web domain (`acme.co.uk`), not a URL.
    Domain,
    LinkedinUrl,
    Location,
    Timezone,
    Phone,
}

impl Field {
    /// Every field, in the column order used by exports.
    pub const ALL: [Field; 11] = [
        Field::Email,
        Field::FirstName,
        Field::LastName,
        Field::FullName,
        Field::Title,
        Field::Company,
        Field::Domain,
        Field::LinkedinUrl,
        Field::Location,
        Field::Timezone,
        Field::Phone,
    ];

    /// The canonical (export and `--map`) name of the field.
    pub fn name(self) -> &'static str {
        match self {
            Field::Email => "email",
            Field::FirstName => "first_name",
            Field::LastName => "last_name",
            Field::FullName => "full_name",
            Field::Title => "title",
            Field::Company => "company",
            Field::Domain => "domain",
            Field::LinkedinUrl => "linkedin_url",
            Field::Location => "location",
            Field::Timezone => "timezone",
            Field::Phone => "phone",
        }
    }

    /// The field with this canonical name, if any.
    pub fn from_name(name: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.name() == name)
    }
}

/// A lead as stored: canonical fields (empty ones are `None`) and custom fields.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Lead {
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub full_name: Option<String>,
    pub title: Option<String>,
    pub company: Option<String>,
    pub domain: Option<String>,
    pub linkedin_url: Option<String>,
    pub location: Option<String>,
    pub timezone: Option<String>,
    pub phone: Option<String>,
    /// Columns that map to no canonical field, by their header as written.
    pub custom: BTreeMap<String, String>,
}

impl Lead {
    pub fn get(&self, field: Field) -> Option<&str> {
        self.slot(field).as_deref()
    }

    pub fn set(&mut self, field: Field, value: Option<String>) {
        *self.slot_mut(field) = value;
    }

    pub fn take(&mut self, field: Field) -> Option<String> {
        self.slot_mut(field).take()
    }

    fn slot(&self, field: Field) -> &Option<String> {
        match field {
            Field::Email => &self.email,
            Field::FirstName => &self.first_name,
            Field::LastName => &self.last_name,
            Field::FullName => &self.full_name,
            Field::Title => &self.title,
            Field::Company => &self.company,
            Field::Domain => &self.domain,
            Field::LinkedinUrl => &self.linkedin_url,
            Field::Location => &self.location,
            Field::Timezone => &self.timezone,
            Field::Phone => &self.phone,
        }
    }

    fn slot_mut(&mut self, field: Field) -> &mut Option<String> {
        match field {
            Field::Email => &mut self.email,
            Field::FirstName => &mut self.first_name,
            Field::LastName => &mut self.last_name,
            Field::FullName => &mut self.full_name,
            Field::Title => &mut self.title,
            Field::Company => &mut self.company,
            Field::Domain => &mut self.domain,
            Field::LinkedinUrl => &mut self.linkedin_url,
            Field::Location => &mut self.location,
            Field::Timezone => &mut self.timezone,
            Field::Phone => &mut self.phone,
        }
    }

    /// The full name that the first and last names make ("Ann Lee"), if any.
    pub fn derived_full_name(&self) -> Option<String> {
        let mut full = String::new();
        self.derived_full_name_into(&mut full).then_some(full)
    }

    /// [`Lead::derived_full_name`] into `full` (emptied first, its buffer reused).
    pub fn derived_full_name_into(&self, full: &mut String) -> bool {
        full.clear();
        match (&self.first_name, &self.last_name) {
            (Some(first), Some(last)) => {
                full.reserve(first.len() + 1 + last.len());
                full.push_str(first);
                full.push(' ');
                full.push_str(last);
            }
            (Some(one), None) | (None, Some(one)) => full.push_str(one),
            (None, None) => return false,
        }
        true
    }

    /// Whether the full name is exactly the one the first and last names make, so a
    /// store may leave it out and derive it again on reading.
    pub fn full_name_is_derived(&self) -> bool {
        match (&self.full_name, &self.first_name, &self.last_name) {
            (Some(full), Some(first), Some(last)) => {
                full.len() == first.len() + 1 + last.len()
                    && full.starts_with(first.as_str())
                    && full.ends_with(last.as_str())
                    && full.as_bytes()[first.len()] == b' '
            }
            (Some(full), Some(one), None) | (Some(full), None, Some(one)) => full == one,
            _ => false,
        }
    }

    /// Fills this lead's empty fields from `other`, never overwriting a value.
    /// Returns whether anything was filled. `keep_empty` names identity fields the
    /// caller must not fill (because another lead already holds that value).
    pub fn fill_from(&mut self, other: &Lead, keep_empty: &[Field]) -> bool {
        let mut changed = false;
        for field in Field::ALL {
            if keep_empty.contains(&field) {
                continue;
            }
            if self.get(field).is_none() {
                if let Some(value) = other.get(field) {
                    self.set(field, Some(value.to_owned()));
                    changed = true;
                }
            }
        }
        for (key, value) in &other.custom {
            if !self.custom.contains_key(key) {
                self.custom.insert(key.clone(), value.clone());
                changed = true;
            }
        }
        changed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(first: Option<&str>, last: Option<&str>, full: Option<&str>) -> Lead {
        Lead {
            first_name: first.map(str::to_owned),
            last_name: last.map(str::to_owned),
            full_name: full.map(str::to_owned),
            ..Lead::default()
        }
    }

    #[test]
    fn full_name_derivation_round_trips() {
        for lead in [
            named(Some("Ann"), Some("van der Berg"), Some("Ann van der Berg")),
            named(Some("Cher"), None, Some("Cher")),
            named(None, Some("Lee"), Some("Lee")),
        ] {
            assert!(lead.full_name_is_derived(), "{lead:?}");
            assert_eq!(lead.derived_full_name(), lead.full_name);
        }
        for lead in [
            named(Some("Ann"), Some("Lee"), Some("Dr. Ann Lee")),
            named(Some("Ann"), Some("Lee"), Some("AnnxLee")),
            named(Some("Ann"), Some("Lee"), None),
            named(None, None, Some("Ann Lee")),
        ] {
            assert!(!lead.full_name_is_derived(), "{lead:?}");
        }
    }
}
