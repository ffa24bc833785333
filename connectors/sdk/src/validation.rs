//! How a body that could not be read is refused, the same way by the app's API and by
//! every connector's webhook: 400 when it is not JSON at all, 422 when it is JSON whose
//! fields are missing, mistyped or unknown; the message names the field in plain words
//! instead of repeating the deserializer.

/// A refused body: its status, the API's error code and a message for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
}

/// The refusal for a body that `serde_json` could not read into the request's type.
/// `path` is where in the body it went wrong (`"items[0].text"`), if known.
pub fn refusal(error: &serde_json::Error, path: Option<&str>) -> Refusal {
    use serde_json::error::Category;
    let message = plain(&error.to_string(), path);
    match error.classify() {
        Category::Data => Refusal { status: 422, code: "invalid", message },
        Category::Syntax | Category::Eof | Category::Io => {
            Refusal { status: 400, code: "bad_request", message: format!("the body is not valid JSON: {message}") }
        }
    }
}

/// `missing field `text` at line 1 column 2` → "`text` is required".
pub fn plain(raw: &str, path: Option<&str>) -> String {
    // Positions mean nothing to whoever wrote the body.
    let text = raw.split(" at line ").next().unwrap_or(raw);
    let field = |name: &str| match path.filter(|p| !p.is_empty() && *p != ".") {
        Some(p) if !p.ends_with(name) => format!("`{p}.{name}`"),
        _ => format!("`{name}`"),
    };
    let quoted = |s: &str| s.split('`').nth(1).map(str::to_owned);
    if let Some(rest) = text.strip_prefix("missing field ")
        && let Some(name) = quoted(rest)
    {
        return format!("{} is required", field(&name));
    }
    if let Some(rest) = text.strip_prefix("unknown field ")
        && let Some(name) = quoted(rest)
    {
        let expected = rest.split_once(", expected ").map(|(_, e)| format!(" (expected {e})")).unwrap_or_default();
        return format!("{} is not a field of this request{expected}", field(&name));
    }
    if let Some(rest) = text.strip_prefix("invalid type: ")
        && let Some((got, expected)) = rest.split_once(", expected ")
    {
        let at = path.filter(|p| !p.is_empty() && *p != ".").map(|p| format!("`{p}` ")).unwrap_or_default();
        return format!("{at}must be {expected}, not {got}");
    }
    if let Some(rest) = text.strip_prefix("unknown variant ")
        && let Some((got, expected)) = rest.split_once(", expected ")
    {
        let at = path.filter(|p| !p.is_empty() && *p != ".").map(|p| format!("`{p}` ")).unwrap_or_default();
        return format!("{at}must be {expected}, not {got}");
    }
    match path.filter(|p| !p.is_empty() && *p != ".") {
        Some(p) => format!("`{p}`: {text}"),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Reply {
        text: String,
        kind: Option<Kind>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum Kind {
        Message,
        Note,
    }

    fn refuse(body: &str) -> Refusal {
        refusal(&serde_json::from_str::<Reply>(body).unwrap_err(), None)
    }

    #[test]
    fn fields_are_named_in_plain_words_and_syntax_is_told_from_content() {
        assert_eq!(refuse("{}"), Refusal { status: 422, code: "invalid", message: "`text` is required".into() });
        assert_eq!(refuse(r#"{"text": 4}"#).message, "must be a string, not integer `4`");
        assert_eq!(
            refuse(r#"{"text": "a", "surprise": 1}"#).message,
            "`surprise` is not a field of this request (expected `text` or `kind`)"
        );
        assert_eq!(refuse(r#"{"text": "a", "kind": "memo"}"#).message, "must be `message` or `note`, not `memo`");
        let broken = refuse(r#"{"text": "#);
        assert_eq!((broken.status, broken.code), (400, "bad_request"));
        assert!(broken.message.starts_with("the body is not valid JSON"), "{}", broken.message);
        assert!(!broken.message.contains("line"), "{}", broken.message);
        assert_eq!(
            plain("invalid type: integer `4`, expected a string", Some("text")),
            "`text` must be a string, not integer `4`"
        );
        assert_eq!(plain("missing field `id`", Some("items[0]")), "`items[0].id` is required");
    }
}
