//! A moment as stored (integer milliseconds, UTC) and shown (RFC 3339).

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::clock::{parse_time, rfc3339};
use crate::store::{FromValue, Value};

/// Milliseconds since the Unix epoch; serialized as `2026-11-28T22:00:00.123Z`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Time(pub i64);

impl Serialize for Time {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&rfc3339(self.0))
    }
}

impl<'de> Deserialize<'de> for Time {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        parse_time(&text).map(Time).ok_or_else(|| serde::de::Error::custom(format!("{text:?} is not a time")))
    }
}

impl FromValue for Time {
    fn from_value(v: &Value) -> Result<Self, String> {
        i64::from_value(v).map(Time)
    }
}

#[cfg(test)]
mod tests {
    use super::Time;

    #[test]
    fn a_time_round_trips_through_json_to_the_millisecond() {
        let t = Time(1_700_000_000_123);
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(json, "\"2023-11-14T22:13:20.123Z\"");
        assert_eq!(serde_json::from_str::<Time>(&json).unwrap(), t);
    }
}
