//! The content of a message, the same for every platform.

use serde::{Deserialize, Serialize};

/// Text, attachments and buttons. Every field may be empty; a message has at least one.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Content {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub buttons: Vec<Button>,
    /// Formatting and links inside `text` (bold, a link behind a word, a mention, ...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entities: Vec<TextEntity>,
}

impl Content {
    pub fn text(text: impl Into<String>) -> Self {
        Self { text: Some(text.into()), ..Self::default() }
    }

    pub fn is_empty(&self) -> bool {
        self.text.as_deref().is_none_or(str::is_empty) && self.attachments.is_empty()
    }
}

/// A file, photo, location or other non-text item, kept as metadata only.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Attachment {
    /// `photo`, `document`, `video`, `voice`, `audio`, `sticker`, `animation`,
    /// `location`, `venue`, `contact`, ...
    pub kind: String,
    /// The platform's handle for the file, if any (e.g. Telegram's `file_id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Anything else the platform said (coordinates, a shared contact's phone, ...).
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub extra: serde_json::Value,
}

/// A span of a message's text with a meaning: Telegram's message entities, the same
/// for every platform. Offsets and lengths count UTF-16 code units, as Telegram and
/// JavaScript strings do.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct TextEntity {
    /// `bold`, `italic`, `underline`, `strikethrough`, `spoiler`, `code`, `pre`,
    /// `text_link`, `url`, `mention`, `hashtag`, `email`, `phone_number`, ...
    pub kind: String,
    pub offset: u32,
    pub length: u32,
    /// Where a `text_link` points.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// A `pre` block's programming language.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

/// An inline button offered to the contact.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Button {
    pub label: String,
    /// What comes back as a button press when the contact presses it.
    pub data: String,
}

/// The attachment kind of a [`Template`].
pub const TEMPLATE_KIND: &str = "template";

/// A message template the platform approved beforehand (WhatsApp's, outside its 24-hour
/// window): its name, language and the values of its `{{1}}`, `{{2}}`... in order. It
/// travels as an attachment of kind [`TEMPLATE_KIND`], so it is stored and shown like
/// any other content, and platforms without templates see an attachment they skip.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Template {
    pub name: String,
    pub language: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parameters: Vec<String>,
}

impl Template {
    pub fn to_attachment(&self) -> Attachment {
        Attachment {
            kind: TEMPLATE_KIND.into(),
            name: Some(self.name.clone()),
            extra: serde_json::json!({"language": self.language, "parameters": self.parameters}),
            ..Attachment::default()
        }
    }

    /// The template an attachment carries, if it is one.
    pub fn from_attachment(a: &Attachment) -> Option<Template> {
        if a.kind != TEMPLATE_KIND {
            return None;
        }
        let parameters = a.extra.get("parameters").and_then(|p| serde_json::from_value(p.clone()).ok());
        Some(Template {
            name: a.name.clone()?,
            language: a.extra.get("language")?.as_str()?.to_owned(),
            parameters: parameters.unwrap_or_default(),
        })
    }
}

impl Content {
    /// The template this content sends, if any.
    pub fn template(&self) -> Option<Template> {
        self.attachments.iter().find_map(Template::from_attachment)
    }
}
