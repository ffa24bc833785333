//! Texts with placeholders: `{{contact.first_name}}`, `{{vars.order_no}}`,
//! `{{message.text}}`, and in HTTP steps only `{{env.FLOW_…}}` (secrets stay in the
//! environment, never in the file). Parsed when the flow is checked; rendered as a run
//! goes, a missing value becoming the empty text.

use std::collections::BTreeMap;

/// Contact fields a template may name.
pub const CONTACT_FIELDS: &[&str] = &["first_name", "last_name", "name", "username", "email", "phone"];
/// The prefix an environment variable needs to be readable by a flow.
pub const ENV_PREFIX: &str = "FLOW_";

#[derive(Debug, Clone, PartialEq)]
pub enum Part {
    Text(String),
    Contact(String),
    Var(String),
    MessageText,
    Env(String),
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Template(pub Vec<Part>);

/// What a template is rendered with.
#[derive(Debug, Clone, Default)]
pub struct Values<'a> {
    pub contact: BTreeMap<&'static str, String>,
    pub vars: Option<&'a BTreeMap<String, String>>,
    pub message_text: Option<&'a str>,
}

impl Template {
    /// Parses `text`; `env` says whether `{{env.…}}` is allowed here. The error names
    /// the placeholder and the byte offset where it starts.
    pub fn parse(text: &str, env: bool) -> Result<Template, (usize, String)> {
        let mut parts = Vec::new();
        let mut rest = text;
        let mut offset = 0;
        while let Some(start) = rest.find("{{") {
            if start > 0 {
                parts.push(Part::Text(rest[..start].to_owned()));
            }
            let after = &rest[start + 2..];
            let end = after.find("}}").ok_or((offset + start, "a `{{` is never closed with `}}`".to_owned()))?;
            let name = after[..end].trim();
            parts.push(part(name, env).map_err(|m| (offset + start, m))?);
            let used = start + 2 + end + 2;
            offset += used;
            rest = &rest[used..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_owned()));
        }
        Ok(Template(parts))
    }

    /// The variables it reads.
    pub fn vars(&self) -> impl Iterator<Item = &str> {
        self.0.iter().filter_map(|p| if let Part::Var(v) = p { Some(v.as_str()) } else { None })
    }

    pub fn render(&self, v: &Values) -> String {
        let mut out = String::new();
        for p in &self.0 {
            match p {
                Part::Text(t) => out.push_str(t),
                Part::Contact(f) => out.push_str(v.contact.get(f.as_str()).map_or("", String::as_str)),
                Part::Var(name) => out.push_str(v.vars.and_then(|m| m.get(name)).map_or("", String::as_str)),
                Part::MessageText => out.push_str(v.message_text.unwrap_or("")),
                Part::Env(name) => out.push_str(&std::env::var(name).unwrap_or_default()),
            }
        }
        out
    }

    /// The text when it has no placeholder.
    pub fn literal(&self) -> Option<String> {
        match self.0.as_slice() {
            [] => Some(String::new()),
            [Part::Text(t)] => Some(t.clone()),
            _ => None,
        }
    }
}

fn part(name: &str, env: bool) -> Result<Part, String> {
    let (space, field) = name.split_once('.').unwrap_or((name, ""));
    let bad = || format!("unknown placeholder `{{{{{name}}}}}`: use contact.*, vars.* or message.text");
    match space {
        "contact" if CONTACT_FIELDS.contains(&field) => Ok(Part::Contact(field.to_owned())),
        "contact" => Err(format!("unknown contact field `{field}`: one of {}", CONTACT_FIELDS.join(", "))),
        "vars" if valid_var(field) => Ok(Part::Var(field.to_owned())),
        "message" if field == "text" => Ok(Part::MessageText),
        "env" if !env => Err(format!("`{{{{env.{field}}}}}` is allowed only in an http step")),
        "env" if field.starts_with(ENV_PREFIX) && valid_var(field) => Ok(Part::Env(field.to_owned())),
        "env" => Err(format!("a flow may read only environment variables named {ENV_PREFIX}…, not `{field}`")),
        _ => Err(bad()),
    }
}

/// A variable's name: letters, digits and `_`, not starting with a digit.
pub fn valid_var(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_render_and_missing_ones_are_empty() {
        let t = Template::parse("Hi {{contact.first_name}}! Order {{ vars.order_no }}: {{vars.nope}}.", false).unwrap();
        let vars = BTreeMap::from([("order_no".to_owned(), "123456".to_owned())]);
        let mut v = Values { vars: Some(&vars), ..Values::default() };
        v.contact.insert("first_name", "Alice".into());
        assert_eq!(t.render(&v), "Hi Alice! Order 123456: .");
        assert_eq!(t.vars().collect::<Vec<_>>(), ["order_no", "nope"]);
        let echo = Template::parse("{{message.text}}", false).unwrap();
        assert_eq!(echo.render(&Values { message_text: Some("ping"), ..Values::default() }), "ping");
    }

    #[test]
    fn bad_placeholders_are_refused_with_their_offset() {
        assert_eq!(Template::parse("ab {{contact.age}}", false).unwrap_err().0, 3);
        assert!(Template::parse("{{vars.x", false).unwrap_err().1.contains("never closed"));
        assert!(Template::parse("{{env.FLOW_KEY}}", false).unwrap_err().1.contains("only in an http step"));
        assert!(Template::parse("{{env.PARLEY_DATABASE_URL}}", true).is_err());
        assert_eq!(Template::parse("{{env.FLOW_KEY}}", true).unwrap().0, [Part::Env("FLOW_KEY".into())]);
        assert!(Template::parse("{{foo}}", false).is_err());
    }
}
