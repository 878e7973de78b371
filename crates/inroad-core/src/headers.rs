//! Column headers of common exports, mapped onto canonical lead fields.
//!
//! Headers are compared in a folded form (lowercase letters and digits only), so
//! "First Name", "first_name" and "FirstName" are one alias.

use crate::Field;

/// Folded header aliases, per field. Sources: Sales Navigator style lists, Apollo,
/// Hunter, LinkedIn's Connections.csv, and generic CRM exports (HubSpot, Pipedrive,
/// Salesforce). "URL" is LinkedIn's profile column in Connections.csv.
const ALIASES: &[(Field, &[&str])] = &[
    (
        Field::Email,
        &[
            "email",
            "emailaddress",
            "mail",
            "workemail",
            "businessemail",
            "personemail",
            "primaryemail",
            "emails",
        ],
    ),
    (
        Field::FirstName,
        &["firstname", "first", "givenname", "fname", "forename"],
    ),
    (
        Field::LastName,
        &["lastname", "last", "surname", "familyname", "lname"],
    ),
    (
        Field::FullName,
        &[
            "fullname",
            "name",
            "contactname",
            "personname",
            "contact",
            "leadname",
        ],
    ),
    (
        Field::Title,
        &["title", "jobtitle", "position", "role", "designation", "headline"],
    ),
    (
        Field::Company,
        &[
            "company",
            "companyname",
            "organization",
            "organisation",
            "organizationname",
            "employer",
            "accountname",
            "currentcompany",
        ],
    ),
    (
        Field::Domain,
        &[
            "domain",
            "website",
            "companywebsite",
            "companydomain",
            "websiteurl",
            "companyurl",
            "companywebsiteurl",
            "web",
            "homepage",
            "site",
        ],
    ),
    (
        Field::LinkedinUrl,
        &[
            "linkedinurl",
            "linkedin",
            "linkedinprofile",
            "linkedinprofileurl",
            "personlinkedinurl",
            "profileurl",
            "publicprofileurl",
            "url",
            "linkedinpublicurl",
        ],
    ),
    (
        Field::Location,
        &["location", "city", "personlocation", "geography", "geo"],
    ),
    (Field::Timezone, &["timezone", "tz"]),
    (
        Field::Phone,
        &[
            "phone",
            "phonenumber",
            "mobile",
            "mobilephone",
            "workphone",
            "directphone",
            "telephone",
            "corporatephone",
        ],
    ),
];

/// The folded form used for alias matching.
pub fn fold(header: &str) -> String {
    header
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Columns Inroad writes in its own exports that describe state rather than the
/// lead, and so are not imported back.
pub fn is_export_only(header: &str) -> bool {
    matches!(header.trim(), "suppressed" | "email_status" | "email_source")
}

/// The canonical field a header stands for, if it is a known alias.
pub fn field_for_header(header: &str) -> Option<Field> {
    let folded = fold(header);
    if let Some(field) = Field::from_name(header.trim()) {
        return Some(field);
    }
    ALIASES
        .iter()
        .find(|(_, names)| names.contains(&folded.as_str()))
        .map(|(field, _)| *field)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_export_headers() {
        for (header, field) in [
            ("First Name", Field::FirstName),
            ("first_name", Field::FirstName),
            ("Full Name", Field::FullName),
            ("Company Name", Field::Company),
            ("Organization", Field::Company),
            ("Website", Field::Domain),
            ("Company Website", Field::Domain),
            ("Person Linkedin Url", Field::LinkedinUrl),
            ("URL", Field::LinkedinUrl),
            ("Email Address", Field::Email),
            ("E-mail", Field::Email),
            ("Position", Field::Title),
            ("Title", Field::Title),
            ("Location", Field::Location),
            ("City", Field::Location),
            ("Time Zone", Field::Timezone),
        ] {
            assert_eq!(field_for_header(header), Some(field), "{header}");
        }
        assert_eq!(field_for_header("Connected On"), None);
        assert_eq!(field_for_header("Email Status"), None);
    }
}
