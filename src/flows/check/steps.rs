//! Compiling a flow's steps: each step's fields checked against the names, variables and
//! channel limits it may use, into the engine's [`Step`]s.

use std::collections::{BTreeSet, HashSet};

use serde_saphyr::{Location, Spanned};

use super::super::format::{self, StepSpec};
use super::super::template::{Template, valid_var};
use super::super::*;
use super::*;

pub(super) struct StepCompiler<'a> {
    pub(super) r: &'a mut Report,
    pub(super) names: &'a HashSet<&'a str>,
    pub(super) saved: &'a mut BTreeSet<String>,
    pub(super) read: &'a mut Vec<(String, Location)>,
}

impl StepCompiler<'_> {
    fn target(&mut self, s: &Spanned<String>) -> Next {
        let name = s.value.trim();
        if name != "end" && !self.names.contains(name) {
            self.r.error(s, format!("`{name}` is not a step of this flow (nor `end`)"));
        }
        Next::parse(name)
    }

    fn template(&mut self, s: &Spanned<String>, env: bool) -> Option<Template> {
        match Template::parse(&s.value, env) {
            Ok(t) => {
                for v in t.vars() {
                    self.read.push((v.to_owned(), s.referenced));
                }
                Some(t)
            }
            Err((_, message)) => {
                self.r.error(s, message);
                None
            }
        }
    }

    fn save(&mut self, s: &Spanned<String>) -> String {
        let name = s.value.trim().trim_start_matches("vars.").to_owned();
        if !valid_var(&name) {
            self.r.error(s, format!("`{name}` is not a variable name (letters, digits and `_`)"));
        }
        self.saved.insert(name.clone());
        name
    }

    pub(super) fn step(&mut self, name: &str, spec: &Spanned<StepSpec>) -> Option<Step> {
        let s = &spec.value;
        let actions = [
            s.ask.is_some(),
            s.condition.is_some(),
            s.http.is_some(),
            s.wait.is_some(),
            s.handoff.is_some(),
            s.start_flow.is_some(),
            s.close.as_ref().is_some_and(|c| c.value),
            s.unsubscribe.as_ref().is_some_and(|c| c.value),
        ];
        if actions.iter().filter(|a| **a).count() > 1 {
            self.r.error(spec, format!("the step `{name}` has more than one of ask, condition, http, wait, handoff, start_flow, close, unsubscribe; split it"));
        }
        for (field, given, needs) in [
            ("save", s.save.is_some(), s.ask.is_some()),
            ("validate", s.validate.is_some(), s.ask.is_some()),
            ("on_error", s.on_error.is_some(), s.http.is_some()),
            ("on_reply", s.on_reply.is_some(), s.wait.is_some()),
        ] {
            if given && !needs {
                self.r.error(
                    spec,
                    format!(
                        "`{field}` in the step `{name}` belongs to a step that {}",
                        match field {
                            "on_error" => "makes an http call",
                            "on_reply" => "waits",
                            _ => "asks",
                        }
                    ),
                );
            }
        }
        let send = s.send.as_ref().and_then(|t| {
            if t.value.chars().count() > MAX_TEXT_CHARS {
                self.r.warn(t, format!("longer than Telegram's {MAX_TEXT_CHARS} characters: it will be sent in parts"));
            }
            self.template(t, false)
        });
        let buttons = s.buttons.as_deref().unwrap_or(&[]);
        if buttons.len() > MAX_BUTTONS {
            self.r.error(
                spec,
                format!("the step `{name}` has {} buttons; at most {MAX_BUTTONS} fit under a message", buttons.len()),
            );
        }
        if !buttons.is_empty() && s.send.is_none() && s.ask.is_none() {
            self.r
                .error(spec, format!("the step `{name}` has buttons but nothing to send them with (`send` or `ask`)"));
        }
        let buttons = buttons.iter().map(|b| self.button(b)).collect::<Vec<_>>();
        let media = s.media.as_ref().map(|m| {
            let kind = m.value.kind.as_ref().map_or("photo".to_owned(), |k| k.value.clone());
            if !["photo", "document", "video", "audio"].contains(&kind.as_str()) {
                self.r.error(
                    m.value.kind.as_ref().unwrap_or(&m.value.url),
                    "media kind is photo, document, video or audio",
                );
            }
            Media { url: self.template(&m.value.url, false).unwrap_or_default(), kind }
        });
        let set = s.set.as_ref().map(|set| self.set(set));
        let action = self.action(name, s, buttons.is_empty())?;
        let goto = match &s.goto {
            Some(g) => self.target(g),
            None => {
                let ends = matches!(
                    action,
                    Action::Handoff { .. } | Action::StartFlow(_) | Action::Close | Action::Unsubscribe
                ) || (!buttons.is_empty() && matches!(action, Action::None));
                if !ends {
                    self.r.warn(
                        spec,
                        format!(
                            "the step `{name}` has no way out: the flow ends there (say `goto: end` if that is meant)"
                        ),
                    );
                }
                Next::End
            }
        };
        Some(Step {
            name: name.to_owned(),
            set,
            send,
            buttons: buttons.into_iter().collect::<Option<_>>()?,
            media,
            action,
            goto,
        })
    }

    fn button(&mut self, b: &Spanned<format::ButtonSpec>) -> Option<Button> {
        let text = b.value.text.value.trim().to_owned();
        if text.is_empty() {
            self.r.error(&b.value.text, "a button's text is empty");
        }
        if text.len() > MAX_BUTTON_BYTES {
            self.r.error(
                &b.value.text,
                format!("a button's text is at most {MAX_BUTTON_BYTES} bytes (Telegram's callback data)"),
            );
        }
        let then = match (&b.value.goto, &b.value.flow) {
            (Some(g), None) => ButtonThen::Goto(self.target(g)),
            (None, Some(f)) => ButtonThen::Flow(f.value.trim().to_owned()),
            _ => {
                self.r.error(b, "a button has either `goto` or `flow`");
                return None;
            }
        };
        Some(Button { text, then })
    }

    fn set(&mut self, s: &Spanned<format::SetSpec>) -> Set {
        let mut out = Set { tag: s.value.tag.clone(), untag: s.value.untag.clone(), ..Set::default() };
        for (k, v) in &s.value.vars {
            let name = self.save(&Spanned { value: k.clone(), referenced: v.referenced, defined: v.defined });
            out.vars.push((name, self.template(v, false).unwrap_or_default()));
        }
        for (field, v) in &s.value.contact {
            if !["first_name", "last_name", "email", "phone"].contains(&field.as_str()) {
                self.r.error(v, format!("a flow may set first_name, last_name, email or phone, not `{field}`"));
            }
            out.contact.push((field.clone(), self.template(v, false).unwrap_or_default()));
        }
        out
    }

    fn action(&mut self, name: &str, s: &StepSpec, no_buttons: bool) -> Option<Action> {
        if let Some(q) = &s.ask {
            let question = self.template(q, false).unwrap_or_default();
            let save = s.save.as_ref().map(|v| self.save(v));
            let validate = s.validate.as_ref().map(|v| self.validate(v, no_buttons));
            return Some(Action::Ask { question, save, validate });
        }
        if let Some(branches) = &s.condition {
            let mut out = Vec::new();
            for b in branches {
                let when = self.when(&b.value.when)?;
                out.push((when, self.target(&b.value.goto)));
            }
            return Some(Action::Condition(out));
        }
        if let Some(h) = &s.http {
            return Some(Action::Http(self.http(h, s)));
        }
        if let Some(w) = &s.wait {
            let Some(ms) = duration_ms(&w.value) else {
                self.r.error(w, "a wait is a number and a unit, like 30s, 10m, 2h or 1d");
                return None;
            };
            return Some(Action::Wait { ms, on_reply: s.on_reply.as_ref().map(|t| self.target(t)) });
        }
        if let Some(h) = &s.handoff {
            return Some(Action::Handoff {
                operator: h.value.operator.as_ref().map(|o| o.value.trim().to_lowercase()),
                note: h.value.note.clone(),
            });
        }
        if let Some(f) = &s.start_flow {
            if f.value.trim().is_empty() {
                self.r.error(f, "start_flow names a flow");
            }
            return Some(Action::StartFlow(f.value.trim().to_owned()));
        }
        if s.close.as_ref().is_some_and(|c| c.value) {
            return Some(Action::Close);
        }
        if s.unsubscribe.as_ref().is_some_and(|c| c.value) {
            return Some(Action::Unsubscribe);
        }
        let _ = name;
        Some(Action::None)
    }

    fn validate(&mut self, v: &Spanned<format::ValidateSpec>, no_buttons: bool) -> Validate {
        let s = &v.value;
        let mut checks = Vec::new();
        if let Some(re) = &s.regex
            && let Some(re) = regex(re, self.r)
        {
            checks.push(Check::Regex(re));
        }
        if let Some(is) = &s.is {
            match is.value.as_str() {
                "email" => checks.push(Check::Email),
                "phone" => checks.push(Check::Phone),
                "number" => checks.push(Check::Number),
                "date" => checks.push(Check::Date),
                "button" if no_buttons => self.r.error(is, "`is: button` needs buttons in the step"),
                "button" => checks.push(Check::Button),
                other => self.r.error(is, format!("`{other}` is not a check: email, phone, number, date or button")),
            }
        }
        if s.regex.is_none() && s.is.is_none() {
            self.r.error(v, "validate needs `regex` or `is`");
        }
        let attempts = s.attempts.as_ref().map_or(3, |a| a.value);
        if let Some(a) = &s.attempts
            && a.value == 0
        {
            self.r.error(a, "attempts is at least 1");
        }
        let on_fail = match &s.on_fail {
            Some(t) => self.target(t),
            None => Next::End,
        };
        Validate {
            checks,
            error: s.error.as_ref().and_then(|e| self.template(e, false)),
            attempts: attempts.max(1),
            on_fail,
        }
    }

    fn when(&mut self, w: &Spanned<format::WhenSpec>) -> Option<When> {
        let s = &w.value;
        let mut out = When {
            var: s.var.clone(),
            equals: s.equals.clone(),
            exists: s.exists,
            tag: s.tag.clone(),
            channel: s.channel.clone(),
            operator_online: s.operator_online,
            ..When::default()
        };
        if let Some(v) = &s.var {
            self.read.push((v.clone(), w.referenced));
        }
        if let Some(c) = &s.contact {
            if !template::CONTACT_FIELDS.contains(&c.value.as_str()) {
                self.r.error(c, format!("unknown contact field `{}`", c.value));
            }
            out.contact = Some(c.value.clone());
        }
        if let Some(m) = &s.matches {
            out.matches = regex(m, self.r);
        }
        if (s.equals.is_some() || s.matches.is_some() || s.exists.is_some()) && s.var.is_none() && s.contact.is_none() {
            self.r.error(w, "equals, matches and exists compare a `var` or a `contact` field");
        }
        if let Some(t) = &s.time {
            out.time = self.time(t);
        }
        let any = out.var.is_some()
            || out.contact.is_some()
            || out.tag.is_some()
            || out.channel.is_some()
            || out.operator_online.is_some()
            || s.time.is_some();
        if !any {
            self.r.error(w, "a condition needs var, contact, tag, channel, operator_online or time");
        }
        Some(out)
    }

    fn time(&mut self, t: &Spanned<format::TimeSpec>) -> Option<TimeWindow> {
        let s = &t.value;
        let hm = |x: &str| -> Option<u32> {
            let (h, m) = x.trim().split_once(':')?;
            let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
            (h <= 24 && m < 60).then_some(h * 60 + m)
        };
        let (Some(from), Some(to)) = (hm(&s.from), hm(&s.to)) else {
            self.r.error(t, "time from and to are HH:MM, like 09:00 and 18:00");
            return None;
        };
        let tz = match s.tz.as_deref() {
            None => jiff::tz::TimeZone::UTC,
            Some(name) => match jiff::tz::TimeZone::get(name) {
                Ok(tz) => tz,
                Err(_) => {
                    self.r.error(t, format!("unknown time zone `{name}` (an IANA name like Europe/Berlin)"));
                    return None;
                }
            },
        };
        let week = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
        let mut days = Vec::new();
        for d in &s.days {
            match week.iter().position(|w| d.trim().to_lowercase().starts_with(w)) {
                Some(i) => days.push(i as i8 + 1),
                None => self.r.error(t, format!("`{d}` is not a day (mon … sun)")),
            }
        }
        Some(TimeWindow { from, to, tz, days })
    }

    fn http(&mut self, h: &Spanned<format::HttpSpec>, step: &StepSpec) -> Http {
        let s = &h.value;
        let method = s.method.as_ref().map_or("GET".to_owned(), |m| m.value.trim().to_uppercase());
        if !["GET", "POST", "PUT", "PATCH", "DELETE"].contains(&method.as_str()) {
            self.r.error(
                s.method.as_ref().unwrap_or(&s.url),
                format!("`{method}` is not GET, POST, PUT, PATCH or DELETE"),
            );
        }
        let url = self.template(&s.url, true).unwrap_or_default();
        if !(s.url.value.starts_with("http://") || s.url.value.starts_with("https://")) {
            self.r.error(&s.url, "the url starts with http:// or https://");
        }
        let timeout_s = s.timeout_s.as_ref().map_or(10, |t| t.value);
        if let Some(t) = &s.timeout_s
            && !(1..=MAX_HTTP_TIMEOUT_S).contains(&t.value)
        {
            self.r.error(t, format!("timeout_s is 1 to {MAX_HTTP_TIMEOUT_S}"));
        }
        let max_bytes = s.max_bytes.as_ref().map_or(65_536, |b| b.value);
        if let Some(b) = &s.max_bytes
            && !(1..=MAX_HTTP_BYTES).contains(&b.value)
        {
            self.r.error(b, format!("max_bytes is 1 to {MAX_HTTP_BYTES}"));
        }
        let headers = s.headers.iter().map(|(k, v)| (k.clone(), self.template(v, true).unwrap_or_default())).collect();
        let body = s.body.as_ref().and_then(|b| self.template(b, true));
        let mut save = Vec::new();
        for (var, path) in &s.save {
            let name = self.save(&Spanned { value: var.clone(), referenced: path.referenced, defined: path.defined });
            save.push((name, path.value.trim().to_owned()));
        }
        let on_error = match &step.on_error {
            Some(t) => self.target(t),
            None => {
                self.r.warn(h, "no `on_error`: a failed call ends the flow");
                Next::End
            }
        };
        Http {
            method,
            url,
            headers,
            body,
            timeout_ms: timeout_s.clamp(1, MAX_HTTP_TIMEOUT_S) * 1000,
            max_bytes,
            save,
            on_error,
        }
    }
}
