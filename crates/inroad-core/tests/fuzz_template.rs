//! Property-based fuzzing of message templates, whose inputs are untrusted twice over:
//! lead fields come from any export, and templates from any campaign file.
//!
//! Properties: whatever the fields contain (line breaks, "\r\nBcc: …", NUL, U+2028,
//! anything), a rendered subject is one header line free of control characters and a
//! body has no CR or other control characters but tab and line feed; field values are
//! printed as data, never evaluated as template or spintax; a missing value is an error
//! naming it, never a panic and never a blank; any source (arbitrary braces, bars, tags)
//! compiles or is rejected without panicking, and renders the same for the same seed.
//! Deeper run: `PROPTEST_CASES=100000 cargo test --release -p inroad-core --test fuzz_template`.

use std::collections::BTreeSet;

use inroad_core::template::{header_value, RenderError, Template};
use inroad_core::{Field, Lead};
use proptest::prelude::*;

/// Case count: the default, or `PROPTEST_CASES` for a deeper run.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A field value as hostile imports produce them.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => any::<String>(),
        3 => "[ -~\r\n\t\\x00\\x0b\\x0c\\x1b\\x7f\u{85}\u{a0}\u{2028}\u{2029}é€{}|%#]{0,30}",
        1 => prop::sample::select(vec![
            "\r\nBcc: x@y",
            "Ann\r\nBcc: victim@example.com\r\n\r\nbody",
            "\0",
            "\u{2028}",
            "a\rb",
            " ",
            "",
            "{{ email }}",
            "{a|b}",
            "{% raw %}",
        ])
        .prop_map(String::from),
    ]
}

fn lead() -> impl Strategy<Value = Lead> {
    (
        prop::collection::vec(prop::option::of(value()), Field::ALL.len()),
        prop::collection::btree_map(
            prop_oneof![value(), Just("Connected On".to_owned())],
            value(),
            0..4,
        ),
    )
        .prop_map(|(values, custom)| {
            let mut lead = Lead {
                custom,
                ..Lead::default()
            };
            for (field, value) in Field::ALL.into_iter().zip(values) {
                lead.set(field, value);
            }
            lead
        })
}

/// Templates that print every field with a fallback, through every filter, custom
/// fields both ways, and spintax, so they render for any lead.
const DEFAULTED: &[&str] = &[
    "{Hi|Hello|Hey} {{ first_name | default('there') | first_name }}, {{ company | default('your team') | company }}",
    "{{ email | default('') }} {{ last_name | default('') }} {{ full_name | default('') }} \
     {{ title | default('') }} {{ domain | default('') }} {{ linkedin_url | default('') }} \
     {{ location | default('') }} {{ timezone | default('') }} {{ phone | default('') }}",
    "{{ custom['Connected On'] | default('-') }} / {{ connected_on | default('-') }}\n{a|{b|c}} end",
    "{% for key, v in custom | items %}{{ key }}={{ v }}\r\n{% endfor %}",
];

/// What a body may contain of control characters.
fn clean_body(text: &str) -> bool {
    !text
        .chars()
        .any(|c| c.is_ascii_control() && c != '\n' && c != '\t')
}

fn clean_header(text: &str) -> bool {
    !text
        .chars()
        .any(|c| c.is_control() || c == '\u{2028}' || c == '\u{2029}')
        && !text.contains("  ")
        && text.trim() == text
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(256)))]

    #[test]
    fn subjects_stay_one_line_and_bodies_stay_clean(lead in lead(), seed in any::<u64>()) {
        for (i, source) in DEFAULTED.iter().enumerate() {
            let template = Template::new(&format!("t{i}"), source).unwrap();
            let subject = template.render_subject(&lead, seed).unwrap();
            prop_assert!(clean_header(&subject), "{source:?} → {subject:?}");
            let body = template.render(&lead, seed).unwrap();
            prop_assert!(clean_body(&body), "{source:?} → {body:?}");
            prop_assert_eq!(&body, &template.render(&lead, seed).unwrap());
        }
    }

    #[test]
    fn header_value_is_one_clean_line(text in value()) {
        let header = header_value(&text);
        prop_assert!(clean_header(&header), "{text:?} → {header:?}");
        prop_assert_eq!(header_value(&header), header.clone(), "not idempotent");
    }

    #[test]
    fn values_are_data_not_template(value in value()) {
        let lead = Lead { first_name: Some(value.clone()), ..Lead::default() };
        let template = Template::new("t", "{{ first_name }}").unwrap();
        match template.render(&lead, 1) {
            Ok(text) => {
                prop_assert!(!value.trim().is_empty());
                if !value.chars().any(|c| c.is_ascii_control()) {
                    prop_assert_eq!(text, value);
                }
            }
            Err(err) => {
                prop_assert!(value.trim().is_empty(), "{value:?}: {err}");
                prop_assert_eq!(err.missing_variable(), Some("first_name"));
            }
        }
    }

    #[test]
    fn missing_values_are_errors_naming_them(lead in lead(), seed in any::<u64>()) {
        let template = Template::new("t", "{Dear|Hi} {{ first_name }} {{ title | first_name }}").unwrap();
        let present = |v: &Option<String>| v.as_deref().is_some_and(|v| !v.trim().is_empty());
        match template.render(&lead, seed) {
            Ok(text) => {
                prop_assert!(present(&lead.first_name) && present(&lead.title), "{text:?}");
            }
            Err(RenderError::Missing { variable, .. }) => {
                let expected = if present(&lead.first_name) { "title" } else { "first_name" };
                prop_assert_eq!(variable, expected);
            }
            Err(other) => prop_assert!(false, "unexpected {other:?}"),
        }
    }

    #[test]
    fn any_source_compiles_or_fails_cleanly(
        source in prop_oneof![
            any::<String>(),
            "[{}|%#a-c \n'\"\\\\-]{0,60}",
            prop::collection::vec(
                prop::sample::select(vec![
                    "{", "}", "|", "{{", "}}", "{%", "%}", "{#", "#}", "a", " ", "'", "\"",
                    "{{ first_name }}", "{% raw %}", "{% endraw %}", "{% if title %}", "{% endif %}",
                ]),
                0..30,
            )
            .prop_map(|parts| parts.concat()),
        ],
        lead in lead(),
        seed in any::<u64>(),
    ) {
        if let Ok(template) = Template::new("t", &source) {
            let first = template.render(&lead, seed);
            prop_assert_eq!(&first, &template.render(&lead, seed));
            if let Ok(subject) = template.render_subject(&lead, seed) {
                prop_assert!(clean_header(&subject));
            }
            if let Ok(body) = first {
                prop_assert!(clean_body(&body));
            }
        }
    }
}

#[test]
fn every_spintax_option_is_reachable() {
    let template = Template::new("t", "{one|two|three}").unwrap();
    let lead = Lead::default();
    let seen: BTreeSet<String> = (0..100)
        .map(|seed| template.render(&lead, seed).unwrap())
        .collect();
    assert_eq!(
        seen,
        ["one", "three", "two"].into_iter().map(String::from).collect()
    );
}
