//! Reading a sending domain's SPF, DKIM and DMARC records, and saying in plain words
//! whether mail from it will pass the bulk-sender rules (Gmail and Yahoo, 2024: SPF and
//! DKIM, and a DMARC record, for the From domain). Pure: the DNS answers come in as
//! text, so every verdict is tested without a network.

/// What one of the three records says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RecordCheck {
    /// The one record, as published.
    Found(String),
    /// Nothing published (or, for DKIM, no selector to look under).
    Missing,
    /// Published but not usable, and why.
    Broken(String),
    /// The lookup failed (timeout, SERVFAIL): no verdict either way.
    Unknown(String),
}

impl RecordCheck {
    pub fn is_ok(&self) -> bool {
        matches!(self, RecordCheck::Found(_))
    }
}

/// The three checks of a From domain and the plain-language verdict on them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DomainAuth {
    pub spf: RecordCheck,
    pub dkim: RecordCheck,
    pub dmarc: RecordCheck,
    /// One or two sentences a non-specialist can act on.
    pub verdict: String,
}

/// SPF: exactly one `v=spf1` record at the domain (RFC 7208 §4.5: two is a permanent
/// error), and not one that authorises the whole internet (`+all`).
pub fn check_spf(txt: Result<&[String], &str>) -> RecordCheck {
    let records = match txt {
        Ok(records) => records,
        Err(e) => return RecordCheck::Unknown(e.to_owned()),
    };
    let spf: Vec<&String> = records
        .iter()
        .filter(|r| r.trim().to_ascii_lowercase().starts_with("v=spf1"))
        .collect();
    match spf.as_slice() {
        [] => RecordCheck::Missing,
        [one] if one.split_whitespace().any(|t| t.eq_ignore_ascii_case("+all")) => {
            RecordCheck::Broken("it ends in +all, which lets anyone send as this domain".into())
        }
        [one] => RecordCheck::Found((*one).clone()),
        _ => RecordCheck::Broken(format!(
            "{} SPF records: receivers treat more than one as an error",
            spf.len()
        )),
    }
}

/// DKIM: a `selector._domainkey` record with a public key (`p=` not empty; an empty
/// one means the key was revoked).
pub fn check_dkim(txt: Option<Result<&[String], &str>>) -> RecordCheck {
    let records = match txt {
        None => return RecordCheck::Missing,
        Some(Err(e)) => return RecordCheck::Unknown(e.to_owned()),
        Some(Ok(records)) => records,
    };
    let Some(record) = records.iter().find(|r| tag(r, "p").is_some()) else {
        return RecordCheck::Missing;
    };
    match tag(record, "p") {
        Some("") => RecordCheck::Broken("its key is empty (revoked)".into()),
        _ => RecordCheck::Found(record.clone()),
    }
}

/// DMARC: one `v=DMARC1` record at `_dmarc.domain` with a policy (`p=`).
pub fn check_dmarc(txt: Result<&[String], &str>) -> RecordCheck {
    let records = match txt {
        Ok(records) => records,
        Err(e) => return RecordCheck::Unknown(e.to_owned()),
    };
    let dmarc: Vec<&String> = records
        .iter()
        .filter(|r| r.trim().to_ascii_uppercase().starts_with("V=DMARC1"))
        .collect();
    match dmarc.as_slice() {
        [] => RecordCheck::Missing,
        [one] => match tag(one, "p").map(|p| p.to_ascii_lowercase()) {
            Some(p) if ["none", "quarantine", "reject"].contains(&p.as_str()) => {
                RecordCheck::Found((*one).clone())
            }
            _ => RecordCheck::Broken("it has no valid policy (p=none, quarantine or reject)".into()),
        },
        _ => RecordCheck::Broken(format!(
            "{} DMARC records: receivers ignore them all",
            dmarc.len()
        )),
    }
}

/// The three checks with the verdict.
pub fn judge(spf: RecordCheck, dkim: RecordCheck, dmarc: RecordCheck) -> DomainAuth {
    let named = [("SPF", &spf), ("DKIM", &dkim), ("DMARC", &dmarc)];
    let unknown: Vec<&str> = named
        .iter()
        .filter(|(_, c)| matches!(c, RecordCheck::Unknown(_)))
        .map(|(n, _)| *n)
        .collect();
    let failing: Vec<&str> = named
        .iter()
        .filter(|(_, c)| matches!(c, RecordCheck::Missing | RecordCheck::Broken(_)))
        .map(|(n, _)| *n)
        .collect();
    let verdict = if !failing.is_empty() {
        format!(
            "Not ready: {} {} missing or broken. Gmail and Yahoo expect SPF, DKIM and DMARC \
             for the From domain; fix these in its DNS before sending, or much of this mail \
             will land in spam or be refused.",
            failing.join(", "),
            if failing.len() == 1 { "is" } else { "are" }
        )
    } else if !unknown.is_empty() {
        format!(
            "Could not check {} (DNS did not answer); try again later.",
            unknown.join(", ")
        )
    } else {
        "Good: SPF, DKIM and DMARC are all published for the From domain.".to_owned()
    };
    DomainAuth {
        spf,
        dkim,
        dmarc,
        verdict,
    }
}

/// The value of `name=` in a `k=v; k=v` record (DKIM, DMARC), trimmed.
fn tag<'a>(record: &'a str, name: &str) -> Option<&'a str> {
    record.split(';').find_map(|part| {
        let (key, value) = part.split_once('=')?;
        key.trim().eq_ignore_ascii_case(name).then(|| value.trim())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn txt(records: &[&str]) -> Vec<String> {
        records.iter().map(|r| r.to_string()).collect()
    }

    #[test]
    fn spf_needs_exactly_one_record_that_is_not_plus_all() {
        let one = txt(&[
            "google-site-verification=x",
            "v=spf1 include:_spf.google.com ~all",
        ]);
        assert!(check_spf(Ok(&one)).is_ok());
        assert_eq!(check_spf(Ok(&txt(&["other"]))), RecordCheck::Missing);
        assert!(matches!(
            check_spf(Ok(&txt(&["v=spf1 a -all", "v=spf1 mx -all"]))),
            RecordCheck::Broken(_)
        ));
        assert!(matches!(
            check_spf(Ok(&txt(&["v=spf1 +all"]))),
            RecordCheck::Broken(_)
        ));
        assert!(matches!(check_spf(Err("timeout")), RecordCheck::Unknown(_)));
    }

    #[test]
    fn dkim_needs_a_key_and_a_selector() {
        assert!(check_dkim(Some(Ok(&txt(&["v=DKIM1; k=rsa; p=MIIBIjAN"])))).is_ok());
        assert!(matches!(
            check_dkim(Some(Ok(&txt(&["v=DKIM1; p="])))),
            RecordCheck::Broken(_)
        ));
        assert_eq!(check_dkim(None), RecordCheck::Missing);
        assert_eq!(check_dkim(Some(Ok(&[]))), RecordCheck::Missing);
    }

    #[test]
    fn dmarc_needs_one_record_with_a_policy() {
        assert!(check_dmarc(Ok(&txt(&["v=DMARC1; p=quarantine; rua=mailto:d@acme.test"]))).is_ok());
        assert!(matches!(
            check_dmarc(Ok(&txt(&["v=DMARC1; rua=x"]))),
            RecordCheck::Broken(_)
        ));
        assert_eq!(check_dmarc(Ok(&[])), RecordCheck::Missing);
    }

    #[test]
    fn the_verdict_names_what_to_fix() {
        let found = || RecordCheck::Found("x".into());
        assert!(judge(found(), found(), found()).verdict.starts_with("Good"));
        let verdict = judge(found(), RecordCheck::Missing, RecordCheck::Broken("b".into())).verdict;
        assert!(verdict.starts_with("Not ready: DKIM, DMARC are"), "{verdict}");
        let verdict = judge(found(), found(), RecordCheck::Unknown("t".into())).verdict;
        assert!(verdict.starts_with("Could not check DMARC"), "{verdict}");
    }
}
