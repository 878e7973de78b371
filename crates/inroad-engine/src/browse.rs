//! Browsing leads a page at a time, at any depth and with any filter, in bounded work.
//!
//! A page number cannot be turned into an `OFFSET`: page 20,000 of a million leads would
//! make SQLite step over 999,950 rows first, and every filter would make it worse. Nor
//! can it be turned into a keyset cursor without knowing where page N starts, which is
//! itself a count of everything before it. So pages here are **id windows**: page N
//! holds the leads whose id falls in `[(N-1)·W + 1, N·W + 1)` that pass the filters, in
//! id order. Finding them is a range read of the primary key plus the filters on at most
//! `W` rows, whatever N is.
//!
//! Lead ids are dense (imports insert in order and nothing deletes leads), so without
//! filters `W` is the page size and every page but the last is full. With filters `W`
//! stretches so that a window holds about a page of matches: the filters are counted on
//! a fixed sample of small windows spread over the whole id range (the same sample every
//! time, so page N is the same page on every visit), and `W = page size / share of
//! matches`, at most [`MAX_WINDOW`] ids so that no page reads more rows than that. A
//! [`WidthCache`] keeps each filter's `W` for a minute, so paging through a filter
//! samples once, not on every page.
//!
//! The price is honesty about uneven data: matches that cluster (a list imported in one
//! go holds consecutive ids) make some windows hold more than a page — the page shows
//! [`PAGE_CAP`] and continues within its window through `after` (a keyset cursor) — and
//! others hold none, which the page says rather than hides. A total count is never
//! computed (it would be the full scan this design avoids); the number of pages is known
//! exactly from the largest id and `W`. The alternatives weighed: a materialised rank per
//! list needs a maintained position column per filter combination (impossible for free
//! search), and page anchors remembered from earlier visits make a deep first visit pay
//! for every page before it.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use inroad_store::{LeadFilter, Store, StoredLead};

use crate::Result;

/// Leads a full page holds (and the id window without filters).
pub const PAGE_SIZE: i64 = 50;

/// The widest id window a filtered page reads: its cost bound (a few milliseconds of
/// filtering, measured in bench/web.sh).
pub const MAX_WINDOW: i64 = 5_000;

/// The most leads one page shows; a denser window continues with `after`.
pub const PAGE_CAP: usize = 200;

/// The sample that sizes filtered windows: this many windows of this many ids, spread
/// evenly over the id range.
const SAMPLE_WINDOWS: i64 = 8;
const SAMPLE_WIDTH: i64 = 128;

/// One page of the leads list.
#[derive(Clone, Debug)]
pub struct LeadPage {
    pub leads: Vec<StoredLead>,
    /// 1-based; clamped into `1..=pages`.
    pub page: i64,
    pub pages: i64,
    /// The page's id window `[from, to)`.
    pub from_id: i64,
    pub to_id: i64,
    /// Set when the window holds more than one page shows: continue with `after` = this id.
    pub more_after: Option<i64>,
}

/// How long a filter's sampled window width is reused. The share of leads a filter
/// matches drifts slowly; a minute-old width only makes a page a little fuller or
/// emptier, never skips or repeats a lead (the windows still tile the id range).
const WIDTH_TTL: Duration = Duration::from_secs(60);

/// Filters remembered at most; beyond it the cache starts over.
const WIDTH_CACHE_SIZE: usize = 1_000;

/// Each recent filter's window width (see the module doc), shared by the requests of a
/// server.
#[derive(Default)]
pub struct WidthCache {
    widths: Mutex<HashMap<LeadFilter, (i64, Instant)>>,
}

impl WidthCache {
    fn width(&self, store: &dyn Store, filter: &LeadFilter, max_id: i64) -> Result<i64> {
        let now = Instant::now();
        let cached = self
            .widths
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(filter)
            .filter(|(_, at)| now.duration_since(*at) < WIDTH_TTL)
            .map(|(width, _)| *width);
        if let Some(width) = cached {
            return Ok(width);
        }
        let width = window_width(store, filter, max_id)?;
        let mut widths = self.widths.lock().unwrap_or_else(PoisonError::into_inner);
        if widths.len() >= WIDTH_CACHE_SIZE {
            widths.clear();
        }
        widths.insert(filter.clone(), (width, now));
        Ok(width)
    }
}

/// Page `page` of the leads passing `filter`, continuing within its window after lead
/// id `after` when given.
pub fn lead_page(
    store: &dyn Store,
    widths: &WidthCache,
    filter: &LeadFilter,
    page: i64,
    after: Option<i64>,
) -> Result<LeadPage> {
    let max_id = store.max_lead_id()?;
    let width = widths.width(store, filter, max_id)?;
    let pages = ((max_id + width - 1) / width).max(1);
    let page = page.clamp(1, pages);
    let from_id = (page - 1) * width + 1;
    let to_id = page * width + 1;
    let start = match after {
        Some(after) if after >= from_id && after < to_id => after + 1,
        _ => from_id,
    };
    let mut leads = store.lead_window(filter, start, to_id, PAGE_CAP + 1)?;
    let more_after = if leads.len() > PAGE_CAP {
        leads.truncate(PAGE_CAP);
        leads.last().map(|l| l.id)
    } else {
        None
    };
    Ok(LeadPage {
        leads,
        page,
        pages,
        from_id,
        to_id,
        more_after,
    })
}

/// The id window of a page: [`PAGE_SIZE`] without filters, else stretched by the share
/// of leads that match in the sample (see the module doc).
fn window_width(store: &dyn Store, filter: &LeadFilter, max_id: i64) -> Result<i64> {
    if filter.is_empty() || max_id <= PAGE_SIZE {
        return Ok(PAGE_SIZE);
    }
    if max_id <= SAMPLE_WINDOWS * SAMPLE_WIDTH {
        // Small enough to count exactly: one window sized to the matches.
        let matches = store.count_lead_window(filter, 1, max_id + 1)? as i64;
        return Ok(width_for(matches, max_id));
    }
    let stride = max_id / SAMPLE_WINDOWS;
    let mut matches = 0;
    for i in 0..SAMPLE_WINDOWS {
        let from = 1 + i * stride;
        matches += store.count_lead_window(filter, from, from + SAMPLE_WIDTH)? as i64;
    }
    Ok(width_for(matches, SAMPLE_WINDOWS * SAMPLE_WIDTH))
}

/// The window that holds about a page when `matches` of `sampled` ids match.
fn width_for(matches: i64, sampled: i64) -> i64 {
    if matches == 0 {
        return MAX_WINDOW;
    }
    (PAGE_SIZE * sampled / matches).clamp(PAGE_SIZE, MAX_WINDOW)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use inroad_core::Lead;

    use super::*;

    /// `n` leads; every third on list `third`.
    fn store_with(n: usize) -> (tempfile::TempDir, Box<dyn Store>) {
        let dir = tempfile::tempdir().unwrap();
        let mut store = inroad_store::open(dir.path().join("db").to_str().unwrap()).unwrap();
        let mut import = store.begin_import(n as u64).unwrap();
        for i in 0..n {
            let lead = Lead {
                email: Some(format!("p{i}@acme.test")),
                ..Lead::default()
            };
            let id = import.insert(&lead, None).unwrap();
            if i % 3 == 0 {
                import.add_to_list("third", id).unwrap();
            }
        }
        import.commit().unwrap();
        (dir, store)
    }

    /// Every lead of every page, following "more" links, in order.
    fn walk(store: &dyn Store, filter: &LeadFilter) -> Vec<i64> {
        let widths = WidthCache::default();
        let first = lead_page(store, &widths, filter, 1, None).unwrap();
        let mut seen = Vec::new();
        for page in 1..=first.pages {
            let mut after = None;
            loop {
                let p = lead_page(store, &widths, filter, page, after).unwrap();
                assert_eq!(p.page, page);
                assert!(
                    p.leads.iter().all(|l| l.id >= p.from_id && l.id < p.to_id),
                    "inside the window"
                );
                seen.extend(p.leads.iter().map(|l| l.id));
                match p.more_after {
                    Some(id) => after = Some(id),
                    None => break,
                }
            }
        }
        seen
    }

    #[test]
    fn pages_cover_every_match_once_in_order() {
        let (_dir, store) = store_with(3_000);
        let all = walk(store.as_ref(), &LeadFilter::default());
        assert_eq!(all, (1..=3_000).collect::<Vec<i64>>());
        let third = LeadFilter {
            list: Some("third".into()),
            ..LeadFilter::default()
        };
        let listed = walk(store.as_ref(), &third);
        assert_eq!(listed.len(), 1_000);
        assert_eq!(
            listed.iter().copied().collect::<BTreeSet<_>>().len(),
            1_000,
            "no lead twice"
        );
        assert!(listed.windows(2).all(|w| w[0] < w[1]), "in id order");
        let p = lead_page(store.as_ref(), &WidthCache::default(), &third, 2, None).unwrap();
        assert!(
            (40..=60).contains(&p.leads.len()),
            "about a page: {}",
            p.leads.len()
        );
    }

    #[test]
    fn an_unfiltered_page_is_its_fifty_ids_and_pages_past_the_end_clamp() {
        let (_dir, store) = store_with(120);
        let widths = WidthCache::default();
        let p = lead_page(store.as_ref(), &widths, &LeadFilter::default(), 2, None).unwrap();
        assert_eq!((p.from_id, p.to_id, p.pages), (51, 101, 3));
        assert_eq!(p.leads.len(), 50);
        assert_eq!(
            lead_page(store.as_ref(), &widths, &LeadFilter::default(), 99, None)
                .unwrap()
                .page,
            3
        );
    }

    #[test]
    fn windows_stretch_with_rarer_matches_within_bounds() {
        assert_eq!(width_for(1024, 1024), PAGE_SIZE);
        assert_eq!(width_for(102, 1024), 501);
        assert_eq!(width_for(5, 1024), MAX_WINDOW);
        assert_eq!(width_for(0, 1024), MAX_WINDOW);
    }
}
