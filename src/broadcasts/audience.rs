//! An audience: which contacts a broadcast reaches, each on one identity.
//!
//! Contacts are read a page at a time in id order, so an audience of any size is chosen
//! in constant memory. The filters are tested in Rust ([`Candidate::matches`]), on the
//! typed contact, because tags and attributes are JSON text whose SQL differs between
//! SQLite and PostgreSQL. Each contact is reached on the identity it was last active on
//! (or, limited to channels, its newest one there); an unsubscribed contact, or one with
//! no reachable identity, is a recipient `skipped`, with the reason.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;
use serde_json::{Map, Value as Json};

use crate::error::{Error, Result};
use crate::model::{Audience, Between};
use crate::params;
use crate::store::{Db, Row};

/// Contacts read per query.
const PAGE: i64 = 2_000;

/// The contact fields an audience may filter on.
pub const FIELDS: &[&str] = &["first_name", "last_name", "username", "phone", "email", "start_payload"];

/// Why a contact of the audience is not sent to.
pub const UNSUBSCRIBED: &str = "unsubscribed";
pub const UNREACHABLE: &str = "no reachable identity";

/// One contact of the audience and where it is reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pick {
    pub contact_id: i64,
    /// `None` with a reason: skipped.
    pub identity: Option<(i64, i64)>,
    pub skipped: Option<&'static str>,
}

/// What the audience builder shows before a broadcast starts.
#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub struct Preview {
    /// Contacts that would be sent to.
    pub count: i64,
    pub by_channel: Vec<ChannelCount>,
    /// Contacts of the audience left out, by reason.
    pub skipped: BTreeMap<String, i64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ChannelCount {
    pub channel_id: i64,
    pub name: String,
    pub kind: String,
    pub count: i64,
}

/// Refuses an audience that names what does not exist, before anything is stored.
pub fn check(db: &mut Db, a: &Audience) -> Result<()> {
    for name in a.fields.keys() {
        if !FIELDS.contains(&name.as_str()) {
            return Err(Error::Invalid(format!("unknown contact field {name:?}; known: {}", FIELDS.join(", "))));
        }
    }
    for (name, v) in &a.fields {
        if !(v.is_string() || v.is_boolean()) {
            return Err(Error::Invalid(format!("field {name:?}: give a text, or true / false for set / not set")));
        }
    }
    for id in &a.channels {
        if db.query_opt("SELECT 1 FROM channels WHERE id = $1", params![*id])?.is_none() {
            return Err(crate::error::not_found("channel", id));
        }
    }
    if a.contact_ids.as_ref().is_some_and(|ids| ids.len() > 1_000_000) {
        return Err(Error::Invalid("an explicit audience has at most 1,000,000 contacts".into()));
    }
    Ok(())
}

/// Walks the audience a page at a time, calling `each` with every page's picks.
pub fn walk(db: &mut Db, a: &Audience, mut each: impl FnMut(&mut Db, &[Pick]) -> Result<()>) -> Result<()> {
    let wanted: Option<HashSet<i64>> = a.contact_ids.as_ref().map(|ids| ids.iter().copied().collect());
    let mut after = 0i64;
    loop {
        let rows = db.query(
            "SELECT ct.id, ct.first_name, ct.last_name, ct.username, ct.phone, ct.email, ct.start_payload, ct.tags, \
             ct.attributes, ct.unsubscribed_at, ct.created_at, c.active_channel_id FROM contacts ct \
             LEFT JOIN chats c ON c.contact_id = ct.id WHERE ct.merged_into IS NULL AND ct.id > $1 \
             ORDER BY ct.id LIMIT $2",
            params![after, PAGE],
        )?;
        let Some(last) = rows.last() else { return Ok(()) };
        let last_id: i64 = last.get("id")?;
        let mut identities = identities(db, after, last_id)?;
        let mut picks = Vec::new();
        for r in &rows {
            let id: i64 = r.get("id")?;
            if wanted.as_ref().is_some_and(|w| !w.contains(&id)) {
                continue;
            }
            let candidate = Candidate::read(r, identities.remove(&id).unwrap_or_default())?;
            if let Some(pick) = candidate.pick(a) {
                picks.push(pick);
            }
        }
        each(db, &picks)?;
        after = last_id;
    }
}

/// The counts the audience builder shows.
pub fn preview(db: &mut Db, a: &Audience) -> Result<Preview> {
    check(db, a)?;
    let mut per_channel: HashMap<i64, i64> = HashMap::new();
    let mut p = Preview::default();
    walk(db, a, |_, picks| {
        for pick in picks {
            match (pick.identity, pick.skipped) {
                (Some((_, channel)), None) => {
                    p.count += 1;
                    *per_channel.entry(channel).or_default() += 1;
                }
                (_, reason) => *p.skipped.entry(reason.unwrap_or(UNREACHABLE).to_owned()).or_default() += 1,
            }
        }
        Ok(())
    })?;
    for stored in crate::channels::list(db)? {
        let ch = stored.channel;
        if let Some(count) = per_channel.get(&ch.id) {
            p.by_channel.push(ChannelCount { channel_id: ch.id, name: ch.name, kind: ch.kind, count: *count });
        }
    }
    Ok(p)
}

/// One identity of a contact, with when the contact last wrote through it.
#[derive(Debug, Clone, Default)]
pub struct Address {
    pub id: i64,
    pub channel_id: i64,
    pub reachable: bool,
    pub last_in: Option<i64>,
}

fn identities(db: &mut Db, after: i64, upto: i64) -> Result<HashMap<i64, Vec<Address>>> {
    let rows = db.query(
        "SELECT i.id, i.contact_id, i.channel_id, i.unreachable_reason, (SELECT MAX(m.created_at) FROM messages m \
         WHERE m.identity_id = i.id AND m.direction = 'in') AS last_in FROM identities i \
         WHERE i.contact_id > $1 AND i.contact_id <= $2",
        params![after, upto],
    )?;
    let mut out: HashMap<i64, Vec<Address>> = HashMap::new();
    for r in rows {
        out.entry(r.get("contact_id")?).or_default().push(Address {
            id: r.get("id")?,
            channel_id: r.get("channel_id")?,
            reachable: r.get::<Option<String>>("unreachable_reason")?.is_none(),
            last_in: r.get("last_in")?,
        });
    }
    Ok(out)
}

/// A contact as the filters see it.
#[derive(Debug, Clone, Default)]
pub struct Candidate {
    pub id: i64,
    pub fields: HashMap<&'static str, Option<String>>,
    pub tags: Vec<String>,
    pub attributes: Map<String, Json>,
    pub unsubscribed: bool,
    pub first_seen: i64,
    pub active_channel_id: Option<i64>,
    pub addresses: Vec<Address>,
}

impl Candidate {
    fn read(r: &Row, addresses: Vec<Address>) -> Result<Candidate> {
        let mut fields = HashMap::new();
        for f in FIELDS {
            fields.insert(*f, r.get::<Option<String>>(f)?);
        }
        Ok(Candidate {
            id: r.get("id")?,
            fields,
            tags: r.get_json::<Option<Vec<String>>>("tags")?.unwrap_or_default(),
            attributes: r.get_json::<Option<Map<String, Json>>>("attributes")?.unwrap_or_default(),
            unsubscribed: r.get::<Option<i64>>("unsubscribed_at")?.is_some(),
            first_seen: r.get("created_at")?,
            active_channel_id: r.get("active_channel_id")?,
            addresses,
        })
    }

    fn last_active(&self) -> Option<i64> {
        self.addresses.iter().filter_map(|a| a.last_in).max()
    }

    /// Whether the contact is in the audience (its identities aside).
    pub fn matches(&self, a: &Audience) -> bool {
        let has = |t: &String| self.tags.iter().any(|mine| mine.eq_ignore_ascii_case(t));
        if let Some(tags) = &a.tags
            && (!tags.all.iter().all(has)
                || (!tags.any.is_empty() && !tags.any.iter().any(has))
                || tags.none.iter().any(has))
        {
            return false;
        }
        let fields_hold = a.fields.iter().all(|(name, want)| {
            let mine = self.fields.get(name.as_str()).cloned().flatten().filter(|s| !s.is_empty());
            match want {
                Json::Bool(set) => mine.is_some() == *set,
                Json::String(s) => mine.is_some_and(|m| m.trim().eq_ignore_ascii_case(s.trim())),
                _ => false,
            }
        });
        let attributes_hold = a.attributes.iter().all(|(k, want)| match self.attributes.get(k) {
            Some(v) => v == want,
            None => want.is_null(),
        });
        let seen = a.first_seen.as_ref().is_none_or(|b: &Between| b.holds(Some(self.first_seen)));
        let active = a.last_active.as_ref().is_none_or(|b| b.holds(self.last_active()));
        fields_hold && attributes_hold && seen && active
    }

    /// Where the contact is reached, if it is in the audience at all.
    pub fn pick(&self, a: &Audience) -> Option<Pick> {
        if !self.matches(a) {
            return None;
        }
        let mut options: Vec<&Address> = if a.channels.is_empty() {
            self.addresses.iter().collect()
        } else {
            self.addresses.iter().filter(|x| a.channels.contains(&x.channel_id)).collect()
        };
        if options.is_empty() {
            return None;
        }
        // The last active first; never written: the chat's active channel, then the newest.
        options.sort_by_key(|x| (x.last_in, Some(x.channel_id) == self.active_channel_id, x.id));
        let best = options.iter().rev().find(|x| x.reachable);
        let skipped = if self.unsubscribed {
            Some(UNSUBSCRIBED)
        } else if best.is_none() {
            Some(UNREACHABLE)
        } else {
            None
        };
        Some(Pick { contact_id: self.id, identity: best.map(|x| (x.id, x.channel_id)), skipped })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::model::{TagFilter, Time};

    fn ann() -> Candidate {
        let mut fields = HashMap::new();
        fields.insert("email", Some("Ann@Example.com".to_owned()));
        fields.insert("phone", None);
        Candidate {
            id: 7,
            fields,
            tags: vec!["VIP".into(), "berlin".into()],
            attributes: json!({"plan": "pro", "age": 30}).as_object().unwrap().clone(),
            first_seen: 1_000,
            active_channel_id: Some(2),
            addresses: vec![
                Address { id: 10, channel_id: 1, reachable: true, last_in: Some(5_000) },
                Address { id: 11, channel_id: 2, reachable: true, last_in: Some(9_000) },
            ],
            ..Candidate::default()
        }
    }

    fn audience(v: serde_json::Value) -> Audience {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn tags_any_all_none_fields_and_attributes_filter() {
        let c = ann();
        assert!(c.matches(&Audience::default()), "no filter: everyone");
        let tags = |t: TagFilter| Audience { tags: Some(t), ..Audience::default() };
        assert!(c.matches(&tags(TagFilter { any: vec!["vip".into(), "x".into()], ..Default::default() })));
        assert!(!c.matches(&tags(TagFilter { all: vec!["vip".into(), "x".into()], ..Default::default() })));
        assert!(!c.matches(&tags(TagFilter { none: vec!["berlin".into()], ..Default::default() })));
        assert!(c.matches(&audience(json!({"fields": {"email": "ann@example.com", "phone": false}}))));
        assert!(!c.matches(&audience(json!({"fields": {"phone": true}}))));
        assert!(c.matches(&audience(json!({"attributes": {"plan": "pro", "missing": null}}))));
        assert!(!c.matches(&audience(json!({"attributes": {"age": 31}}))));
    }

    #[test]
    fn times_bound_first_seen_and_last_activity() {
        let c = ann();
        let between =
            |after: Option<i64>, before: Option<i64>| Between { after: after.map(Time), before: before.map(Time) };
        let seen = |b| Audience { first_seen: Some(b), ..Audience::default() };
        let active = |b| Audience { last_active: Some(b), ..Audience::default() };
        assert!(c.matches(&seen(between(Some(500), None))));
        assert!(!c.matches(&seen(between(None, Some(1_000)))), "before is exclusive");
        assert!(c.matches(&active(between(Some(8_000), None))), "the latest of its identities counts");
        assert!(!c.matches(&active(between(None, Some(8_000)))));
        let never = Candidate { addresses: Vec::new(), ..ann() };
        assert!(!never.matches(&active(between(Some(0), None))), "never active is outside any range");
    }

    #[test]
    fn one_identity_the_last_active_reachable_one_unless_limited_to_channels() {
        let c = ann();
        assert_eq!(c.pick(&Audience::default()).unwrap().identity, Some((11, 2)));
        let on_one = Audience { channels: vec![1], ..Audience::default() };
        assert_eq!(c.pick(&on_one).unwrap().identity, Some((10, 1)));
        assert_eq!(c.pick(&Audience { channels: vec![3], ..Audience::default() }), None, "not on that channel");
        let mut blocked = ann();
        blocked.addresses[1].reachable = false;
        assert_eq!(blocked.pick(&Audience::default()).unwrap().identity, Some((10, 1)));
        blocked.addresses[0].reachable = false;
        let p = blocked.pick(&Audience::default()).unwrap();
        assert_eq!((p.identity, p.skipped), (None, Some(UNREACHABLE)));
        let gone = Candidate { unsubscribed: true, ..ann() };
        assert_eq!(gone.pick(&Audience::default()).unwrap().skipped, Some(UNSUBSCRIBED));
    }
}
