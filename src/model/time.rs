//! A moment as stored (integer milliseconds, UTC) and shown (RFC 3339).
//!
//! Every chat and message carries several of these, and ingest serializes a chat and its
//! message for each event, so the common case is written and read by hand here
//! (`YYYY-MM-DDTHH:MM:SS.mmmZ`, days from the civil calendar) instead of through the
//! `time` crate's format descriptions; anything else goes through [`crate::clock`].

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::clock::{parse_time, rfc3339};
use crate::store::{FromValue, Value};

/// Milliseconds since the Unix epoch; serialized as `2026-11-28T22:00:00.123Z`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Time(pub i64);

const MS_PER_DAY: i64 = 86_400_000;
/// 0000-01-01 and 9999-12-31 as days since the epoch: the years four digits can show.
const FIRST_DAY: i64 = -719_528;
const LAST_DAY: i64 = 2_932_896;

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian (H. Hinnant's
/// `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// (year, month, day) → days since 1970-01-01 (`days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

impl Time {
    /// `2026-11-28T22:00:00.123Z`, as [`rfc3339`] writes it.
    pub fn to_rfc3339(self) -> String {
        let (days, ms) = (self.0.div_euclid(MS_PER_DAY), self.0.rem_euclid(MS_PER_DAY));
        if !(FIRST_DAY..=LAST_DAY).contains(&days) {
            return rfc3339(self.0);
        }
        let (y, mo, d) = civil_from_days(days);
        let (h, mi, s, milli) = (ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000);
        let mut out = [0u8; 24];
        let mut put = |at: usize, width: usize, mut v: i64| {
            for i in (at..at + width).rev() {
                out[i] = b'0' + (v % 10) as u8;
                v /= 10;
            }
        };
        put(0, 4, y);
        put(5, 2, mo);
        put(8, 2, d);
        put(11, 2, h);
        put(14, 2, mi);
        put(17, 2, s);
        put(20, 3, milli);
        for (i, c) in [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':'), (19, b'.'), (23, b'Z')] {
            out[i] = c;
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    /// Reads what [`Time::to_rfc3339`] writes; any other RFC 3339 form via [`parse_time`].
    pub fn parse(s: &str) -> Option<Time> {
        let b = s.as_bytes();
        let separators = [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':'), (19, b'.'), (23, b'Z')];
        if b.len() != 24 || separators.iter().any(|&(i, c)| b[i] != c) {
            return parse_time(s).map(Time);
        }
        let num = |from: usize, to: usize| -> Option<i64> {
            b[from..to].iter().try_fold(0i64, |n, c| c.is_ascii_digit().then(|| n * 10 + i64::from(c - b'0')))
        };
        let (y, mo, d) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
        let (h, mi, sec, ms) = (num(11, 13)?, num(14, 16)?, num(17, 19)?, num(20, 23)?);
        if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 59 {
            return parse_time(s).map(Time);
        }
        let days = days_from_civil(y, mo, d);
        if civil_from_days(days) != (y, mo, d) {
            return None; // 2026-02-30
        }
        Some(Time(days * MS_PER_DAY + ((h * 60 + mi) * 60 + sec) * 1000 + ms))
    }
}

impl Serialize for Time {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_rfc3339())
    }
}

impl<'de> Deserialize<'de> for Time {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Text;
        impl serde::de::Visitor<'_> for Text {
            type Value = Time;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an RFC 3339 time")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Time, E> {
                Time::parse(v).ok_or_else(|| E::custom(format!("{v:?} is not a time")))
            }
        }
        d.deserialize_str(Text)
    }
}

impl FromValue for Time {
    fn from_value(v: &Value) -> Result<Self, String> {
        i64::from_value(v).map(Time)
    }
}

/// Written as an RFC 3339 string, not the integer it holds.
impl utoipa::PartialSchema for Time {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::{KnownFormat, ObjectBuilder, SchemaFormat, schema::Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
            .examples(["2026-11-28T22:00:00.123Z"])
            .into()
    }
}

impl utoipa::ToSchema for Time {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_time_round_trips_through_json_to_the_millisecond() {
        let t = Time(1_700_000_000_123);
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(json, "\"2023-11-14T22:13:20.123Z\"");
        assert_eq!(serde_json::from_str::<Time>(&json).unwrap(), t);
    }

    #[test]
    fn the_hand_written_form_is_the_time_crates_over_the_whole_range() {
        // Leap years, century rules, the epoch, both ends of four-digit years, and a
        // spread of ordinary moments.
        let mut moments = vec![0, -1, 951_782_400_000, 4_107_542_400_000, -62_167_219_200_000, 253_402_300_799_999];
        let mut x: i64 = 0x2545_F491_4F6C_DD1D;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            moments.push(x.rem_euclid(253_402_300_800_000 + 62_167_219_200_000) - 62_167_219_200_000);
        }
        for ms in moments {
            let text = Time(ms).to_rfc3339();
            assert_eq!(text, rfc3339(ms), "{ms}");
            assert_eq!(Time::parse(&text), Some(Time(ms)), "{text}");
        }
    }

    #[test]
    fn other_forms_parse_through_the_time_crate_and_nonsense_does_not() {
        assert_eq!(Time::parse("2023-11-14T23:13:20.123+01:00"), Some(Time(1_700_000_000_123)));
        assert_eq!(Time::parse("2023-11-14"), Some(Time(1_699_920_000_000)));
        assert_eq!(Time::parse("2023-02-30T00:00:00.000Z"), None);
        assert_eq!(Time::parse("2023-11-14T22:13:2x.123Z"), None);
        assert!(serde_json::from_str::<Time>("\"yesterday\"").is_err());
    }
}
