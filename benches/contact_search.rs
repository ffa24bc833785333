//! Quick contact search on a large database: fills N contacts (default 1,000,000) with
//! names, phones, emails and usernames through the store, then times prefix searches
//! the way the console's search box sends them.
//!
//! Run: `cargo bench --bench contact_search` (CONTACTS=200000 for a shorter run).

use std::time::Instant;

use parley::inbox::contacts;
use parley::params;
use parley::store::Store;

const FIRST: [&str; 12] =
    ["Anna", "Boris", "Carla", "Dmitri", "Elena", "Farid", "Greta", "Hugo", "Irina", "Jonas", "Katya", "Liam"];
const LAST: [&str; 10] =
    ["Ivanova", "Smith", "Garcia", "Müller", "Rossi", "Novak", "Kowalski", "Silva", "Petrov", "Dubois"];

fn main() {
    let n: i64 = std::env::var("CONTACTS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/search.db", dir.path().display());
    let store = Store::open(&url, 2).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();

    let started = Instant::now();
    let batch = 10_000;
    for start in (0..n).step_by(batch as usize) {
        let end = (start + batch).min(n);
        rt.block_on(store.write(move |db| -> parley::error::Result<()> {
            for i in start..end {
                let (first, last) = (FIRST[(i % 12) as usize], LAST[(i / 12 % 10) as usize]);
                let id = db
                    .query_one(
                        "INSERT INTO contacts (first_name, last_name, username, phone, phone_e164, email, email_lc, \
                         created_at, updated_at) VALUES ($1, $2, $3, $4, $4, $5, $5, 0, 0) RETURNING id",
                        params![
                            first,
                            format!("{last}{i}"),
                            format!("user{i}"),
                            format!("+4477{i:08}"),
                            format!("c{i}@mail.example")
                        ],
                    )?
                    .get::<i64>("id")?;
                contacts::index_terms(db, id)?;
            }
            Ok(())
        }))
        .unwrap();
    }
    println!("filled {n} contacts in {:.1} s", started.elapsed().as_secs_f64());

    let queries = ["anna", "ivanova77", "user123", "+447700012", "c99@", "müller4", "zzz-nothing", "k"];
    println!("{:<14} {:>8} {:>10}", "query", "results", "ms (median of 20)");
    for q in queries {
        let mut times = Vec::new();
        let mut found = 0;
        for _ in 0..20 {
            let t = Instant::now();
            let q = q.to_owned();
            let r = rt.block_on(store.read(move |db| contacts::search(db, &q, 20))).unwrap();
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            found = r.len();
        }
        times.sort_by(f64::total_cmp);
        println!("{q:<14} {found:>8} {:>10.2}", times[times.len() / 2]);
    }
}
