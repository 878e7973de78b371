//! Flags on an address that matter to outreach whatever a mail server says about it.
//!
//! A role account (info@, sales@) reaches a shared inbox, not the person; a free
//! provider address (gmail.com) is private, and its server accepts every probe; a
//! disposable domain (mailinator.com) forgets its mail within hours. The verifier
//! reports these next to its verdict so a user can decide, rather than hiding them.

use std::collections::HashSet;
use std::sync::LazyLock;

/// Local parts that name a function rather than a person, written without separators:
/// [`is_role_account`] compares without dots, hyphens and underscores, so `no-reply`,
/// `no_reply` and `noreply` are one entry.
const ROLE_ACCOUNTS: &[&str] = &[
    "abuse",
    "accounting",
    "accounts",
    "admin",
    "administrator",
    "alerts",
    "all",
    "billing",
    "booking",
    "bookings",
    "bounce",
    "bounces",
    "careers",
    "career",
    "community",
    "compliance",
    "contact",
    "contactus",
    "customercare",
    "customerservice",
    "customersupport",
    "donotreply",
    "dpo",
    "email",
    "enquiries",
    "enquiry",
    "events",
    "everyone",
    "feedback",
    "finance",
    "gdpr",
    "general",
    "hello",
    "help",
    "helpdesk",
    "hi",
    "hostmaster",
    "hr",
    "info",
    "information",
    "inquiries",
    "inquiry",
    "investors",
    "ir",
    "it",
    "jobs",
    "legal",
    "list",
    "mail",
    "mailerdaemon",
    "marketing",
    "media",
    "news",
    "newsletter",
    "noreply",
    "notifications",
    "office",
    "operations",
    "orders",
    "partners",
    "partnerships",
    "postmaster",
    "pr",
    "press",
    "privacy",
    "reception",
    "recruiting",
    "recruitment",
    "reservations",
    "root",
    "sales",
    "security",
    "service",
    "services",
    "shop",
    "staff",
    "store",
    "support",
    "sysadmin",
    "team",
    "tech",
    "techsupport",
    "unsubscribe",
    "webmaster",
    "welcome",
];

/// Whether a local part names a function (a shared inbox) rather than a person.
/// Case, a `+tag` and separators are ignored: `No-Reply+x` is `noreply`.
pub fn is_role_account(local: &str) -> bool {
    let untagged = local.split('+').next().unwrap_or_default();
    let key: String = untagged
        .chars()
        .filter(|c| !matches!(c, '.' | '-' | '_'))
        .map(|c| c.to_ascii_lowercase())
        .collect();
    ROLE_ACCOUNTS.contains(&key.as_str())
}

/// Free mailbox providers, by exact domain.
const FREE_PROVIDERS: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "outlook.com",
    "outlook.fr",
    "outlook.de",
    "outlook.es",
    "outlook.it",
    "outlook.co.uk",
    "live.com",
    "live.co.uk",
    "live.fr",
    "live.de",
    "live.nl",
    "live.it",
    "live.ca",
    "live.com.au",
    "msn.com",
    "passport.com",
    "windowslive.com",
    "ymail.com",
    "rocketmail.com",
    "aol.com",
    "aim.com",
    "icloud.com",
    "me.com",
    "mac.com",
    "proton.me",
    "pm.me",
    "protonmail.com",
    "protonmail.ch",
    "tutanota.com",
    "tutanota.de",
    "tuta.io",
    "zoho.com",
    "zohomail.com",
    "fastmail.com",
    "fastmail.fm",
    "hey.com",
    "mail.com",
    "email.com",
    "usa.com",
    "gmx.net",
    "web.de",
    "t-online.de",
    "freenet.de",
    "mail.ru",
    "inbox.ru",
    "list.ru",
    "bk.ru",
    "rambler.ru",
    "ya.ru",
    "qq.com",
    "163.com",
    "126.com",
    "yeah.net",
    "sina.com",
    "sohu.com",
    "naver.com",
    "daum.net",
    "hanmail.net",
    "rediffmail.com",
    "orange.fr",
    "wanadoo.fr",
    "free.fr",
    "laposte.net",
    "sfr.fr",
    "libero.it",
    "virgilio.it",
    "tiscali.it",
    "seznam.cz",
    "wp.pl",
    "o2.pl",
    "interia.pl",
    "onet.pl",
    "comcast.net",
    "verizon.net",
    "att.net",
    "sbcglobal.net",
    "bellsouth.net",
    "cox.net",
    "charter.net",
    "earthlink.net",
    "btinternet.com",
    "sky.com",
    "virginmedia.com",
    "talktalk.net",
    "shaw.ca",
    "rogers.com",
    "sympatico.ca",
    "bigpond.com",
    "optusnet.com.au",
];

/// Providers that run free mail under their brand in many countries' domains
/// (yahoo.co.uk, hotmail.fr, gmx.de, yandex.ru): matched by the label in front of the
/// public suffix. Only brands nobody else registers under another suffix; outlook.* and
/// live.* are listed one by one because companies own some of those names.
const FREE_PROVIDER_BRANDS: &[&str] = &["yahoo", "hotmail", "gmx", "yandex"];

/// Whether a domain is a free (consumer) mailbox provider. Case and a trailing dot are
/// ignored.
pub fn is_free_provider(domain: &str) -> bool {
    let domain = domain.trim_end_matches('.').to_ascii_lowercase();
    if FREE_PROVIDERS.contains(&domain.as_str()) {
        return true;
    }
    let Some(registrable) = psl::domain(domain.as_bytes()) else {
        return false;
    };
    // Only the brand's own domain: mail.yahoo.com is a host, not a mailbox domain.
    if registrable.as_bytes().len() != domain.len() || !registrable.suffix().is_known() {
        return false;
    }
    let brand_len = domain.len() - registrable.suffix().as_bytes().len() - 1;
    FREE_PROVIDER_BRANDS.contains(&&domain[..brand_len])
}

/// The `mailchecker` crate's list of disposable domains, as a set: its own check scans
/// the whole list (tens of thousands of entries) once per parent domain, and also
/// rejects addresses by its own syntax rules, which would make an unusual but valid
/// address look disposable.
static DISPOSABLE_DOMAINS: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| mailchecker::blacklist().into_iter().collect());

/// Whether a domain belongs to a disposable (throwaway) mail service: it or one of its
/// parent domains is listed (as `mailchecker` itself does, so `x.33mail.com` counts).
/// Case and a trailing dot are ignored.
pub fn is_disposable(domain: &str) -> bool {
    let domain = domain.trim_end_matches('.').to_ascii_lowercase();
    let mut rest = domain.as_str();
    // Every suffix with at least two labels, longest first.
    while let Some((_, parent)) = rest.split_once('.') {
        if DISPOSABLE_DOMAINS.contains(rest) {
            return true;
        }
        rest = parent;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_accounts() {
        for local in [
            "info",
            "Sales",
            "support",
            "no-reply",
            "noreply",
            "no_reply",
            "Do-Not-Reply",
            "hr",
            "jobs",
        ] {
            assert!(is_role_account(local), "{local}");
        }
        for local in [
            "postmaster",
            "customer.service",
            "info+leads",
            "mailer-daemon",
            "webmaster",
        ] {
            assert!(is_role_account(local), "{local}");
        }
        for local in [
            "john.smith",
            "jsmith",
            "maria",
            "salesforce",
            "information.desk",
            "",
            "+info",
        ] {
            assert!(!is_role_account(local), "{local}");
        }
    }

    #[test]
    fn free_providers() {
        for domain in [
            "gmail.com",
            "GoogleMail.com",
            "outlook.com",
            "icloud.com",
            "proton.me",
            "web.de",
            "qq.com",
        ] {
            assert!(is_free_provider(domain), "{domain}");
        }
        for domain in [
            "yahoo.com",
            "yahoo.co.uk",
            "yahoo.com.br",
            "hotmail.fr",
            "gmx.de",
            "gmx.at",
            "yandex.ru",
        ] {
            assert!(is_free_provider(domain), "{domain}");
        }
        assert!(is_free_provider("gmail.com."));
        for domain in [
            "acme.com",
            "mail.yahoo.com",
            "yahoo.acme.com",
            "gmail.com.evil.io",
            "outlook.ai",
            "com",
            "",
        ] {
            assert!(!is_free_provider(domain), "{domain}");
        }
    }

    #[test]
    fn disposable_domains() {
        for domain in [
            "mailinator.com",
            "Guerrillamail.com",
            "10minutemail.com",
            "33mail.com",
            "ok.33mail.com",
        ] {
            assert!(is_disposable(domain), "{domain}");
        }
        assert!(is_disposable("mailinator.com."));
        for domain in ["gmail.com", "acme.com", "acme.co.uk", "com", "", "."] {
            assert!(!is_disposable(domain), "{domain}");
        }
    }
}
