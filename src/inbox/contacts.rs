//! Contacts: normalized phone and email, search terms, edits, quick search and duplicates.

use serde::Serialize;
use serde_json::{Value as Json, json};

use super::views::{self, CONTACT_SELECT};
use crate::error::{Error, Result};
use crate::model::Contact;
use crate::params;
use crate::store::Db;
use crate::store::events::{self, Event};

/// The key two phone numbers are compared by: E.164 (`+79991234567`) when the number is
/// a valid international one, with or without its `+`; otherwise its digits after a `+`,
/// so numbers written alike still match (`+15550001`, a test line or a short code).
/// `None` below five digits.
pub fn phone_key(raw: &str) -> Option<String> {
    let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
    let digits = digits.strip_prefix("00").unwrap_or(&digits);
    if digits.len() < 5 {
        return None;
    }
    let number = phonenumber::parse(None, format!("+{digits}")).ok();
    match number.filter(phonenumber::is_valid) {
        Some(n) => Some(n.format().mode(phonenumber::Mode::E164).to_string()),
        None => Some(format!("+{digits}")),
    }
}

/// An email address case-folded for comparison, if it looks like one.
pub fn email_key(raw: &str) -> Option<String> {
    let e = raw.trim().to_lowercase();
    (e.len() > 2 && e.contains('@') && !e.starts_with('@') && !e.ends_with('@')).then_some(e)
}

/// Rewrites a contact's search terms from its current fields.
pub fn index_terms(db: &mut Db, contact_id: i64) -> Result<()> {
    let r = db.query_one(
        "SELECT first_name, last_name, username, phone, phone_e164, email_lc FROM contacts WHERE id = $1",
        params![contact_id],
    )?;
    let mut terms: Vec<String> = Vec::new();
    // An unknown name part (NULL) adds no term: it reads as empty and empty terms are dropped below.
    let first = r.get::<Option<String>>("first_name")?.unwrap_or_default();
    let last = r.get::<Option<String>>("last_name")?.unwrap_or_default();
    let full = format!("{first} {last}");
    for t in full.split_whitespace().chain([full.trim(), last.trim()]) {
        terms.push(t.to_lowercase());
    }
    if let Some(u) = r.get::<Option<String>>("username")? {
        terms.push(u.trim_start_matches('@').to_lowercase());
    }
    let phones: [Option<String>; 2] = [r.get("phone")?, r.get("phone_e164")?];
    for phone in phones.into_iter().flatten() {
        let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
        terms.push(digits);
    }
    if let Some(e) = r.get::<Option<String>>("email_lc")? {
        terms.push(e);
    }
    terms.retain(|t| !t.is_empty());
    terms.sort();
    terms.dedup();
    db.exec("DELETE FROM contact_terms WHERE contact_id = $1", params![contact_id])?;
    for t in terms {
        db.exec(
            "INSERT INTO contact_terms (term, contact_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            params![t, contact_id],
        )?;
    }
    Ok(())
}

/// Contacts whose name, phone, email or username starts with `q`.
pub fn search(db: &mut Db, q: &str, limit: i64) -> Result<Vec<Contact>> {
    let mut key = q.trim().to_lowercase();
    if key.starts_with('+') || key.chars().all(|c| c.is_ascii_digit() || " -()+".contains(c)) {
        key.retain(|c| c.is_ascii_digit());
    }
    let key = key.trim_start_matches('@').to_owned();
    if key.is_empty() {
        return Ok(Vec::new());
    }
    // Every string starting with `key` sorts between `key` and `key` + U+10FFFF.
    let upper = format!("{key}\u{10FFFF}");
    let rows = db.query(
        &format!(
            "{CONTACT_SELECT} WHERE ct.id IN (SELECT contact_id FROM (SELECT contact_id FROM contact_terms \
             WHERE term >= $1 AND term < $2 ORDER BY term, contact_id LIMIT $3) AS hits) \
             AND ct.merged_into IS NULL ORDER BY ct.id DESC LIMIT $4"
        ),
        // Walk the index in term order and stop early: a one-letter prefix matching
        // 200,000 contacts costs as little as a precise one. A contact can match with
        // several terms, hence more index rows than results.
        params![key, upper, limit * 5, limit],
    )?;
    views::contacts_from(db, &rows)
}

/// Every contact (merged ones left out), newest first: `limit` of them with ids below
/// `before`, and whether there are more.
pub fn list(db: &mut Db, before: Option<i64>, limit: i64) -> Result<(Vec<Contact>, bool)> {
    let rows = db.query(
        &format!("{CONTACT_SELECT} WHERE ct.id < $1 AND ct.merged_into IS NULL ORDER BY ct.id DESC LIMIT $2"),
        params![before.unwrap_or(i64::MAX), limit + 1],
    )?;
    let has_more = rows.len() as i64 > limit;
    let mut contacts = views::contacts_from(db, &rows)?;
    contacts.truncate(limit as usize);
    Ok((contacts, has_more))
}

/// A contact that may be the same person, and why.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Duplicate {
    #[serde(flatten)]
    pub contact: Contact,
    /// `phone` or `email`.
    pub reason: &'static str,
}

/// Other contacts with the same E.164 phone or the same case-folded email.
pub fn duplicates(db: &mut Db, contact_id: i64) -> Result<Vec<Duplicate>> {
    let me = db
        .query_opt(
            "SELECT phone_e164, email_lc FROM contacts WHERE id = $1 AND merged_into IS NULL",
            params![contact_id],
        )?
        .ok_or_else(|| crate::error::not_found("contact", contact_id))?;
    let rows = db.query(
        &format!(
            "{CONTACT_SELECT} WHERE ct.id <> $1 AND ct.merged_into IS NULL AND \
             ((ct.phone_e164 IS NOT NULL AND ct.phone_e164 = $2) OR (ct.email_lc IS NOT NULL AND ct.email_lc = $3)) \
             ORDER BY ct.id LIMIT 20"
        ),
        params![contact_id, me.get::<Option<String>>("phone_e164")?, me.get::<Option<String>>("email_lc")?],
    )?;
    let phone: Option<String> = me.get("phone_e164")?;
    Ok(views::contacts_from(db, &rows)?
        .into_iter()
        .map(|contact| {
            let same_phone = phone.is_some() && contact.phone.as_deref().and_then(phone_key) == phone;
            Duplicate { contact, reason: if same_phone { "phone" } else { "email" } }
        })
        .collect())
}

/// Fields an operator may edit.
#[derive(Debug, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactPatch {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub username: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub tags: Option<Vec<String>>,
    pub attributes: Option<serde_json::Map<String, Json>>,
    /// No broadcasts for this contact (the contact card's switch).
    pub unsubscribed: Option<bool>,
}

/// Applies an edit; empty strings clear a field.
pub fn update(db: &mut Db, id: i64, patch: ContactPatch, now: i64) -> Result<Contact> {
    views::contact(db, id)?;
    let clean = |s: Option<String>| s.map(|s| s.trim().to_owned());
    if let Some(email) = clean(patch.email.clone()).filter(|e| !e.is_empty())
        && email_key(&email).is_none()
    {
        return Err(Error::Invalid(format!("{email:?} is not an email address")));
    }
    let set = |db: &mut Db, col: &str, v: Option<String>| -> Result<()> {
        if let Some(v) = v {
            let v = (!v.is_empty()).then_some(v);
            db.exec(&format!("UPDATE contacts SET {col} = $1 WHERE id = $2"), params![v, id])?;
        }
        Ok(())
    };
    set(db, "first_name", clean(patch.first_name))?;
    set(db, "last_name", clean(patch.last_name))?;
    set(db, "username", clean(patch.username))?;
    if let Some(phone) = clean(patch.phone) {
        let e164 = phone_key(&phone);
        set(db, "phone", Some(phone))?;
        db.exec("UPDATE contacts SET phone_e164 = $1 WHERE id = $2", params![e164, id])?;
    }
    if let Some(email) = clean(patch.email) {
        let key = email_key(&email);
        set(db, "email", Some(email))?;
        db.exec("UPDATE contacts SET email_lc = $1 WHERE id = $2", params![key, id])?;
    }
    if let Some(tags) = patch.tags {
        let mut tags: Vec<String> = tags.into_iter().map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()).collect();
        tags.dedup();
        db.exec("UPDATE contacts SET tags = $1 WHERE id = $2", params![json!(tags).to_string(), id])?;
    }
    if let Some(attrs) = patch.attributes {
        db.exec("UPDATE contacts SET attributes = $1 WHERE id = $2", params![Json::Object(attrs).to_string(), id])?;
    }
    if let Some(unsubscribed) = patch.unsubscribed {
        mark_unsubscribed(db, id, unsubscribed, now)?;
    }
    db.exec("UPDATE contacts SET updated_at = $1 WHERE id = $2", params![now, id])?;
    index_terms(db, id)?;
    let contact = views::contact(db, id)?;
    events::append(db, contact.chat_id, Event::contact_updated(&contact), now)?;
    Ok(contact)
}

/// Whether broadcasts reach the contact; the time they opted out is kept (a second
/// opt-out does not move it).
fn mark_unsubscribed(db: &mut Db, id: i64, unsubscribed: bool, now: i64) -> Result<()> {
    if unsubscribed {
        db.exec(
            "UPDATE contacts SET unsubscribed_at = $1 WHERE id = $2 AND unsubscribed_at IS NULL",
            params![now, id],
        )?;
    } else {
        db.exec("UPDATE contacts SET unsubscribed_at = NULL WHERE id = $1", params![id])?;
    }
    Ok(())
}

/// The contact opted out of broadcasts (or back in) from their messenger: with the
/// `contact.updated` event, so an open contact card shows its switch move.
pub fn set_unsubscribed(db: &mut Db, id: i64, unsubscribed: bool, now: i64) -> Result<Contact> {
    mark_unsubscribed(db, id, unsubscribed, now)?;
    db.exec("UPDATE contacts SET updated_at = $1 WHERE id = $2", params![now, id])?;
    let contact = views::contact(db, id)?;
    events::append(db, contact.chat_id, Event::contact_updated(&contact), now)?;
    Ok(contact)
}
