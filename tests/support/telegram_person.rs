//! Telegram users as the fake Bot API sends them: the updates a person's messages,
//! edits, replies and button presses become.

use serde_json::{Value, json};

use super::telegram_fake::{merge, now};

/// A Telegram user writing to the bot in a private chat.
#[derive(Debug, Clone)]
pub struct Person {
    pub id: i64,
    pub first_name: String,
    pub last_name: Option<String>,
    pub username: Option<String>,
}

impl Person {
    pub fn new(id: i64, first_name: &str) -> Person {
        Person { id, first_name: first_name.into(), last_name: None, username: None }
    }

    pub fn user(&self) -> Value {
        json!({"id": self.id, "is_bot": false, "first_name": self.first_name, "last_name": self.last_name,
               "username": self.username, "language_code": "en"})
    }

    pub fn chat(&self) -> Value {
        json!({"id": self.id, "type": "private", "first_name": self.first_name, "last_name": self.last_name,
               "username": self.username})
    }

    /// A message from this person with `fields` (`{"text": ...}`, `{"photo": [...]}`...).
    pub fn message(&self, message_id: i64, fields: Value) -> Value {
        let mut m = json!({"message_id": message_id, "date": now(), "chat": self.chat(), "from": self.user()});
        merge(&mut m, fields);
        m
    }

    pub fn text(&self, message_id: i64, text: &str) -> Value {
        json!({"message": self.message(message_id, json!({"text": text}))})
    }

    /// `/start PAYLOAD`, as a deep link sends it.
    pub fn start(&self, message_id: i64, payload: &str) -> Value {
        let text = format!("/start {payload}");
        let entities = json!([{"type": "bot_command", "offset": 0, "length": 6}]);
        json!({"message": self.message(message_id, json!({"text": text, "entities": entities}))})
    }

    pub fn edit(&self, message_id: i64, text: &str) -> Value {
        json!({"edited_message": self.message(message_id, json!({"text": text, "edit_date": now()}))})
    }

    /// A reply to message `to` (a message in this person's chat).
    pub fn reply(&self, message_id: i64, to: i64, text: &str) -> Value {
        let original = json!({"message_id": to, "date": now(), "chat": self.chat(),
                              "from": {"id": 42, "is_bot": true, "first_name": "Bot"}, "text": "…"});
        json!({"message": self.message(message_id, json!({"text": text, "reply_to_message": original}))})
    }

    /// A press of an inline button carrying `data` under message `on`.
    pub fn press(&self, callback_id: &str, on: i64, data: &str) -> Value {
        let on = json!({"message_id": on, "date": now(), "chat": self.chat(),
                        "from": {"id": 42, "is_bot": true, "first_name": "Bot"}, "text": "Pick one"});
        json!({"callback_query": {"id": callback_id, "from": self.user(), "message": on,
                                  "chat_instance": "ci-1", "data": data}})
    }

    /// The person blocked the bot (`kicked`), or unblocked it (`member`): the bot's own
    /// membership of their private chat changed.
    #[allow(dead_code, reason = "tests/broadcasts (a test target of its own) uses it")]
    pub fn membership(&self, status: &str) -> Value {
        let bot = json!({"id": 42, "is_bot": true, "first_name": "Bot"});
        let mut new = json!({"user": bot, "status": status});
        if status == "kicked" {
            merge(&mut new, json!({"until_date": 0}));
        }
        let old_status = if status == "kicked" { "member" } else { "kicked" };
        json!({"my_chat_member": {"chat": self.chat(), "from": self.user(), "date": now(),
               "old_chat_member": {"user": bot, "status": old_status, "until_date": 0}, "new_chat_member": new}})
    }
}
