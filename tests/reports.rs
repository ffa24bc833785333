//! The KPI reports against a scenario computed by hand: conversations with known reply
//! and close times, transfers and a reopening; an operator's statuses across midnight.
//! The CSV parses and says the same as the JSON; operators see only their own figures;
//! a real browser opens both reports in the console.

use serde_json::{Value, json};
use thirtyfour::prelude::*;

use crate::support::webhook_fake::FakeReceiver;
use crate::support::{Session, TestApp, browser, spawn_app_clocked};

const S: i64 = 1000;
const M: i64 = 60 * S;
const H: i64 = 60 * M;
const DAY: i64 = 24 * H;

struct Scenario {
    app: TestApp,
    admin: Session,
    olga: Session,
    pavel: Session,
    /// Midnight UTC of the day everything happens.
    day: i64,
    hooks: i64,
    hooks2: i64,
    chats: [i64; 4],
}

fn date(ms: i64) -> String {
    parley::clock::rfc3339(ms)[..10].to_owned()
}

/// Day D (tomorrow, UTC), t0 = D 09:00:
/// 1. t0 contact c1 writes on `hooks`; given to Olga; Olga replies at +30 s; c1 writes at
///    +40 s; Olga closes at +10 min.            first reply 30 s, close 600 s, 3 messages.
/// 2. t0+1 min c2 writes; given to Pavel, who adds a note; Pavel replies at +150 s and
///    closes at +21 min.                        first reply 90 s, close 1200 s, 2 messages.
/// 3. t0+1 h c1 writes again (reopened); Olga transfers it to Pavel at +1 h 1 min; Pavel
///    replies at +1 h 2 min, closes at +1 h 5 min. first reply 120 s, close 300 s, 2 messages.
/// 4. t0+2 h c3 writes on `hooks2`; the admin closes it unanswered at +2 h 1 min.
///    no reply, close 60 s, 1 message, nobody assigned.
/// 5. t0+3 h c4 writes on `hooks` and stays open: not in the report.
///
/// Olga's status: Online at t0, Away at t0+2 h, Offline at t0+3 h, Online at D 23:00,
/// Offline at D+1 01:00. The clock ends at D+2 10:00.
async fn scenario() -> Scenario {
    let app = spawn_app_clocked(|c| c.distribution.offline_grace_seconds = 0).await;
    let clock = app.clock.clone().unwrap();
    let admin = app.admin().await;
    let olga = app.operator(&admin, "Olga").await;
    let pavel = app.operator(&admin, "Pavel").await;
    let fake = FakeReceiver::start().await;
    let hooks = app.webhook_channel(&admin, &fake).await;
    let hooks2 = app.webhook_channel(&admin, &fake).await;
    for ch in [hooks.id, hooks2.id] {
        // Hand-outs by hand only, so the figures are exactly the scenario's.
        admin.patch(&format!("/api/v1/channels/{ch}"), json!({"distribution": false})).await;
    }
    let day = (parley::clock::system_now_ms() / DAY + 1) * DAY;
    let t0 = day + 9 * H;
    let at = |t: i64| clock.set(t);
    let ok = |(code, body): (u16, Value)| assert!(code < 300, "{code} {body}");

    at(t0);
    ok(olga.put("/api/v1/me/status", json!({"status": "online"})).await);
    let c1 = hooks.text("c1", "c1-1", "hello").await["chat_id"].as_i64().unwrap();
    ok(admin.post(&format!("/api/v1/chats/{c1}/transfer"), json!({"operator_id": olga.id})).await);
    at(t0 + 30 * S);
    ok(olga.post(&format!("/api/v1/chats/{c1}/messages"), json!({"text": "Hi!"})).await);
    at(t0 + 40 * S);
    hooks.text("c1", "c1-2", "thanks").await;
    at(t0 + M);
    let c2 = hooks.text("c2", "c2-1", "question").await["chat_id"].as_i64().unwrap();
    ok(admin.post(&format!("/api/v1/chats/{c2}/transfer"), json!({"operator_id": pavel.id})).await);
    ok(pavel.post(&format!("/api/v1/chats/{c2}/notes"), json!({"text": "regular customer"})).await);
    at(t0 + 150 * S);
    ok(pavel.post(&format!("/api/v1/chats/{c2}/messages"), json!({"text": "Answer"})).await);
    at(t0 + 10 * M);
    ok(olga.post(&format!("/api/v1/chats/{c1}/close"), json!({})).await);
    at(t0 + 21 * M);
    ok(pavel.post(&format!("/api/v1/chats/{c2}/close"), json!({})).await);
    at(t0 + H);
    hooks.text("c1", "c1-3", "me again").await;
    at(t0 + H + M);
    ok(olga.post(&format!("/api/v1/chats/{c1}/transfer"), json!({"operator_id": pavel.id})).await);
    at(t0 + H + 2 * M);
    ok(pavel.post(&format!("/api/v1/chats/{c1}/messages"), json!({"text": "Pavel here"})).await);
    at(t0 + H + 5 * M);
    ok(pavel.post(&format!("/api/v1/chats/{c1}/close"), json!({})).await);
    at(t0 + 2 * H);
    ok(olga.put("/api/v1/me/status", json!({"status": "away"})).await);
    let c3 = hooks2.text("c3", "c3-1", "anyone?").await["chat_id"].as_i64().unwrap();
    at(t0 + 2 * H + M);
    ok(admin.post(&format!("/api/v1/chats/{c3}/close"), json!({})).await);
    at(t0 + 3 * H);
    ok(olga.put("/api/v1/me/status", json!({"status": "offline"})).await);
    let c4 = hooks.text("c4", "c4-1", "later").await["chat_id"].as_i64().unwrap();
    at(day + 23 * H);
    ok(olga.put("/api/v1/me/status", json!({"status": "online"})).await);
    at(day + DAY + H);
    ok(olga.put("/api/v1/me/status", json!({"status": "offline"})).await);
    at(day + 2 * DAY + 10 * H);
    Scenario { app, admin, olga, pavel, day, hooks: hooks.id, hooks2: hooks2.id, chats: [c1, c2, c3, c4] }
}

fn row_of(report: &Value, operator: Option<i64>) -> &Value {
    report["operators"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["operator"]["id"].as_i64() == operator)
        .unwrap_or_else(|| panic!("no row for {operator:?} in {report}"))
}

/// A small RFC 4180 reader: quoted fields, doubled quotes, CRLF.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let (mut rows, mut row, mut field) = (Vec::new(), Vec::new(), String::new());
    let (mut quoted, mut chars) = (false, text.chars().peekable());
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    rows
}

/// GET with `Accept: text/csv`: (status, content type, rows as maps by header).
async fn csv(s: &Session, path: &str) -> (u16, String, Vec<std::collections::HashMap<String, String>>) {
    let mut req = reqwest::Client::new().get(format!("{}{path}", s.base)).header("accept", "text/csv");
    if let Some(c) = &s.cookie {
        req = req.header("cookie", c);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let kind = res.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    let rows = parse_csv(&res.text().await.unwrap());
    let Some((header, body)) = rows.split_first() else { return (status, kind, Vec::new()) };
    let maps = body.iter().map(|r| header.iter().cloned().zip(r.iter().cloned()).collect()).collect();
    (status, kind, maps)
}

fn num(v: &str) -> f64 {
    v.parse().unwrap_or_else(|_| panic!("not a number: {v:?}"))
}

#[tokio::test]
async fn conversation_kpis_match_the_hand_computed_scenario_and_the_csv() {
    let sc = scenario().await;
    let range = format!("from={}&to={}", date(sc.day), date(sc.day));
    let (code, r) = sc.admin.get(&format!("/api/v1/reports/conversations?{range}")).await;
    assert_eq!(code, 200, "{r}");
    assert_eq!(r["from"], parley::clock::rfc3339(sc.day));
    assert_eq!(r["to"], parley::clock::rfc3339(sc.day + DAY));
    assert_eq!(
        r["total"],
        json!({
            "conversations": 4, "answered": 3,
            "first_reply_median_seconds": 90.0, "first_reply_mean_seconds": 80.0,
            "close_median_seconds": 450.0, "close_mean_seconds": 540.0,
            "messages": 8, "messages_per_conversation": 2.0, "reopened": 1,
        })
    );
    let olga = row_of(&r, Some(sc.olga.id));
    assert_eq!((olga["conversations"].as_i64(), olga["first_reply_median_seconds"].as_f64()), (Some(1), Some(30.0)));
    assert_eq!((olga["close_mean_seconds"].as_f64(), olga["messages"].as_i64()), (Some(600.0), Some(3)));
    let pavel = row_of(&r, Some(sc.pavel.id));
    assert_eq!(pavel["conversations"], 2);
    assert_eq!(pavel["first_reply_median_seconds"], 105.0);
    assert_eq!(pavel["close_median_seconds"], 750.0);
    assert_eq!(pavel["messages_per_conversation"], 2.0);
    assert_eq!(pavel["reopened"], 1, "the reopened conversation was Pavel's when it closed");
    let unassigned = row_of(&r, None);
    assert_eq!((unassigned["conversations"].as_i64(), unassigned["answered"].as_i64()), (Some(1), Some(0)));
    assert!(unassigned["first_reply_mean_seconds"].is_null());
    assert_eq!(row_of(&r, Some(sc.admin.id))["conversations"], 0);

    // By channel.
    let (_, by2) = sc.admin.get(&format!("/api/v1/reports/conversations?{range}&channel_id={}", sc.hooks2)).await;
    assert_eq!(
        (by2["total"]["conversations"].as_i64(), by2["total"]["close_mean_seconds"].as_f64()),
        (Some(1), Some(60.0))
    );
    let (_, by1) = sc.admin.get(&format!("/api/v1/reports/conversations?{range}&channel_id={}", sc.hooks)).await;
    assert_eq!(by1["total"]["conversations"], 3);
    // A range that ends before the last close.
    let early = format!("from={}&to={}", date(sc.day), parley::clock::rfc3339(sc.day + 9 * H + 30 * M));
    let (_, e) = sc.admin.get(&format!("/api/v1/reports/conversations?{early}")).await;
    assert_eq!(e["total"]["conversations"], 2);

    // The export: one row per conversation, the same figures.
    let (code, kind, rows) = csv(&sc.admin, &format!("/api/v1/reports/conversations?{range}")).await;
    assert_eq!(code, 200);
    assert!(kind.starts_with("text/csv"), "{kind}");
    assert_eq!(rows.len() as i64, r["total"]["conversations"].as_i64().unwrap());
    let [c1, c2, c3, c4] = sc.chats;
    let chats: Vec<i64> = rows.iter().map(|r| num(&r["chat_id"]) as i64).collect();
    assert_eq!(chats, [c1, c2, c1, c3], "in closing order");
    assert!(!chats.contains(&c4), "an open conversation is not in the export");
    let reopened = &rows[2];
    assert_eq!(reopened["reopened"], "1");
    assert_eq!(reopened["transfers"], "1");
    assert_eq!(reopened["operators_involved"], "Olga; Pavel");
    assert_eq!(reopened["operator"], "Pavel");
    assert_eq!(reopened["contact"], "c1");
    assert_eq!(num(&reopened["first_reply_seconds"]), 120.0);
    assert_eq!(num(&reopened["close_seconds"]), 300.0);
    assert_eq!(rows[1]["notes"], "1");
    assert_eq!(rows[1]["messages"], "2");
    assert_eq!(rows[3]["first_reply_seconds"], "");
    assert_eq!(rows[3]["operator_id"], "");
    assert_eq!(rows[3]["operators_involved"], "Ada Admin", "the admin closed it");
    assert_eq!(rows[3]["channel_id"], sc.hooks2.to_string());
    assert_eq!(rows[0]["opened_at"], parley::clock::rfc3339(sc.day + 9 * H));
    // Aggregates of the rows equal the JSON.
    let replies: Vec<f64> =
        rows.iter().filter(|r| !r["first_reply_seconds"].is_empty()).map(|r| num(&r["first_reply_seconds"])).collect();
    assert_eq!(replies.len() as i64, r["total"]["answered"].as_i64().unwrap());
    assert_eq!(
        replies.iter().sum::<f64>() / replies.len() as f64,
        r["total"]["first_reply_mean_seconds"].as_f64().unwrap()
    );
    let closes: f64 = rows.iter().map(|r| num(&r["close_seconds"])).sum();
    assert_eq!(closes / rows.len() as f64, r["total"]["close_mean_seconds"].as_f64().unwrap());
    let messages: f64 = rows.iter().map(|r| num(&r["messages"])).sum();
    assert_eq!(messages as i64, r["total"]["messages"].as_i64().unwrap());
    let reopened_rows = rows.iter().filter(|r| r["reopened"] == "1").count() as i64;
    assert_eq!(reopened_rows, r["total"]["reopened"].as_i64().unwrap());
    let pavels = rows.iter().filter(|r| r["operator_id"] == sc.pavel.id.to_string()).count() as i64;
    assert_eq!(pavels, pavel["conversations"].as_i64().unwrap());
    // format=csv works for download links too, and the channel filter applies.
    let path = format!("/api/v1/reports/conversations?{range}&format=csv&channel_id={}", sc.hooks2);
    let (_, _, only2) = csv(&sc.admin, &path).await;
    assert_eq!(only2.len(), 1);
}

#[tokio::test]
async fn operators_see_only_their_own_figures_and_bad_ranges_are_refused() {
    let sc = scenario().await;
    let range = format!("from={}&to={}", date(sc.day), date(sc.day));
    let (code, mine) = sc.olga.get(&format!("/api/v1/reports/conversations?{range}")).await;
    assert_eq!(code, 200);
    let ids: Vec<Option<i64>> =
        mine["operators"].as_array().unwrap().iter().map(|r| r["operator"]["id"].as_i64()).collect();
    assert_eq!(ids, [Some(sc.olga.id)]);
    assert_eq!(mine["total"]["conversations"], 1);
    let (_, _, rows) = csv(&sc.olga, &format!("/api/v1/reports/conversations?{range}")).await;
    assert_eq!(rows.len(), 1);
    let (code, _) = sc.olga.get(&format!("/api/v1/reports/conversations?{range}&operator_id={}", sc.pavel.id)).await;
    assert_eq!(code, 403);
    let (code, status) = sc.olga.get(&format!("/api/v1/reports/operator-status?{range}")).await;
    assert_eq!(code, 200);
    assert_eq!(status["operators"].as_array().unwrap().len(), 1);
    let (code, _) = sc.olga.get(&format!("/api/v1/reports/operator-status?{range}&operator_id={}", sc.admin.id)).await;
    assert_eq!(code, 403);
    // The admin may look at one operator.
    let (_, one) = sc.admin.get(&format!("/api/v1/reports/conversations?{range}&operator_id={}", sc.pavel.id)).await;
    assert_eq!(one["total"]["conversations"], 2);

    for bad in ["from=tomorrow", "from=2026-11-03&to=2026-11-02", "to=2026-13-45"] {
        let (code, body) = sc.admin.get(&format!("/api/v1/reports/conversations?{bad}")).await;
        assert_eq!(code, 422, "{bad}: {body}");
        assert_eq!(body["error"]["code"], "invalid");
    }
    let (code, _) = sc.admin.get("/api/v1/reports/operator-status?from=2020-01-01&to=2026-01-01").await;
    assert_eq!(code, 422, "too long a range");
    let (code, _) = sc.app.anonymous().get("/api/v1/reports/conversations").await;
    assert_eq!(code, 401);
}

#[tokio::test]
async fn time_in_status_per_day_matches_the_log_and_the_csv() {
    let sc = scenario().await;
    let range = format!("from={}&to={}", date(sc.day), date(sc.day + DAY));
    let (code, r) = sc.admin.get(&format!("/api/v1/reports/operator-status?{range}")).await;
    assert_eq!(code, 200, "{r}");
    assert_eq!(r["days"], json!([date(sc.day), date(sc.day + DAY)]));
    let olga = r["operators"].as_array().unwrap().iter().find(|o| o["operator"]["id"] == sc.olga.id).unwrap();
    // Day D: Offline 00-09, Online 09-11, Away 11-12, Offline 12-23, Online 23-24.
    assert_eq!(
        olga["days"][0],
        json!({"day": date(sc.day), "online_seconds": 3.0 * 3600.0, "away_seconds": 3600.0, "offline_seconds": 20.0 * 3600.0})
    );
    // Day D+1: Online 00-01, then Offline; the whole day is over.
    assert_eq!(
        olga["days"][1],
        json!({"day": date(sc.day + DAY), "online_seconds": 3600.0, "away_seconds": 0.0, "offline_seconds": 23.0 * 3600.0})
    );
    assert_eq!(olga["total"], json!({"online_seconds": 14400.0, "away_seconds": 3600.0, "offline_seconds": 154800.0}));
    let pavel = r["operators"].as_array().unwrap().iter().find(|o| o["operator"]["id"] == sc.pavel.id).unwrap();
    assert_eq!(pavel["total"]["offline_seconds"], 2.0 * 86400.0);

    // Up to now only: today's figures stop at the clock (D+2 10:00).
    let (_, today) = sc.admin.get(&format!("/api/v1/reports/operator-status?from={}", date(sc.day + 2 * DAY))).await;
    assert_eq!(today["days"], json!([date(sc.day + 2 * DAY)]));
    let o = today["operators"].as_array().unwrap().iter().find(|o| o["operator"]["id"] == sc.olga.id).unwrap();
    assert_eq!(o["total"], json!({"online_seconds": 0.0, "away_seconds": 0.0, "offline_seconds": 10.0 * 3600.0}));

    let (code, kind, rows) = csv(&sc.admin, &format!("/api/v1/reports/operator-status?{range}")).await;
    assert_eq!(code, 200);
    assert!(kind.starts_with("text/csv"));
    assert_eq!(rows.len(), 3 * 2, "3 operators x 2 days");
    for row in &rows {
        let o = r["operators"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["operator"]["id"].as_i64() == row["operator_id"].parse().ok())
            .unwrap();
        let d = o["days"].as_array().unwrap().iter().find(|d| d["day"] == row["day"].as_str()).unwrap();
        for k in ["online_seconds", "away_seconds", "offline_seconds"] {
            assert_eq!(num(&row[k]), d[k].as_f64().unwrap(), "{k} of {row:?}");
        }
        assert_eq!(o["operator"]["name"], row["operator"].as_str());
    }
}

#[tokio::test]
async fn the_console_shows_both_reports_and_the_queue() {
    let Some(b) = browser::start("console reports").await else { return };
    let sc = scenario().await;
    b.driver.goto(format!("{}/login", sc.app.base)).await.unwrap();
    b.wait_until("the login form", "document.querySelector('#login-email')").await;
    b.driver.find(By::Css("#login-email")).await.unwrap().send_keys("admin@example.com").await.unwrap();
    b.driver.find(By::Css("#login-password")).await.unwrap().send_keys("correct horse").await.unwrap();
    b.driver.find(By::Css("#login-submit")).await.unwrap().click().await.unwrap();
    b.wait_until("the chat list", "document.querySelector('[data-testid=chat-list]')").await;
    // The open chat of c4 waits unassigned: the queue shows it.
    b.wait_until("the queue count", "document.querySelector('[data-testid=queue-count]')?.textContent === '1'").await;
    b.driver.find(By::Css("[data-testid=queue-button]")).await.unwrap().click().await.unwrap();
    b.wait_until(
        "the waiting chat",
        &format!("document.querySelector('[data-testid=queue-item][data-chat-id=\"{}\"]')", sc.chats[3]),
    )
    .await;
    b.screenshot("reports-0-queue").await;
    b.driver.action_chain().send_keys(Key::Escape).perform().await.unwrap();

    b.driver.find(By::Css("[data-testid=nav-reports]")).await.unwrap().click().await.unwrap();
    b.wait_until("the reports page", "document.querySelector('[data-testid=reports-page]')?.hidden === false").await;
    // The scenario's day, set in the form.
    let day = date(sc.day);
    b.eval(&format!(
        "const f = document.querySelector('[data-testid=report-from]'), t = document.querySelector('[data-testid=report-to]');
         f.value = '{day}'; t.value = '{day}'; document.querySelector('[data-testid=report-apply]').click();"
    ))
    .await;
    b.wait_until(
        "the conversations table",
        "document.querySelector('[data-testid=conv-total] [data-col=conversations]')?.textContent === '4'",
    )
    .await;
    let pavel = b
        .eval(&format!(
            "return document.querySelector('[data-testid=conv-row][data-operator-id=\"{}\"] [data-col=first_reply_median_seconds]').textContent",
            sc.pavel.id
        ))
        .await;
    assert_eq!(pavel, "1 min 45 s");
    b.wait_until("the conversations chart", "document.querySelectorAll('[data-testid=conv-chart] rect').length >= 2")
        .await;
    let csv_link = b.eval("return document.querySelector('[data-testid=export-csv]').getAttribute('href')").await;
    assert!(csv_link.as_str().unwrap().contains("format=csv"), "{csv_link}");
    b.screenshot("reports-1-conversations").await;

    b.driver.find(By::Css("[data-testid=tab-report-status]")).await.unwrap().click().await.unwrap();
    b.wait_until(
        "the stacked bars",
        "document.querySelectorAll('[data-testid=status-chart] rect.seg-online').length >= 1",
    )
    .await;
    let online = b
        .eval(&format!(
            "return document.querySelector('[data-testid=status-row][data-operator-id=\"{}\"] [data-col=online]').textContent",
            sc.olga.id
        ))
        .await;
    assert_eq!(online, "3 h");
    b.screenshot("reports-2-time-in-status").await;
    // Back to the chats.
    b.driver.find(By::Css("[data-testid=nav-chats]")).await.unwrap().click().await.unwrap();
    b.wait_until("the chat list again", "document.querySelector('[data-testid=chat-list]')?.offsetParent !== null")
        .await;
    b.finish().await;
}
