//! When a scheduled broadcast starts: a wall-clock time in a named time zone (the IANA
//! database, e.g. `Europe/Berlin`), or an RFC 3339 time with its offset.

use crate::error::{Error, Result};

/// `send_at` as milliseconds (UTC). With `time_zone`, `send_at` is the zone's wall-clock
/// time (`2026-12-24T09:00`, seconds optional; an offset in it must agree); without, it
/// is RFC 3339 with an offset or `Z`.
pub fn resolve(send_at: &str, time_zone: Option<&str>) -> Result<i64> {
    let send_at = send_at.trim();
    let Some(zone) = time_zone.map(str::trim).filter(|z| !z.is_empty()) else {
        return crate::clock::parse_time(send_at).filter(|_| send_at.len() > 10).ok_or_else(|| {
            Error::Invalid(format!(
                "send_at {send_at:?} is not an RFC 3339 time with an offset (or give time_zone with a local time)"
            ))
        });
    };
    let tz = jiff::tz::db()
        .get(zone)
        .map_err(|_| Error::Invalid(format!("unknown time zone {zone:?} (an IANA name such as Europe/Berlin)")))?;
    if let Some(at) = crate::clock::parse_time(send_at).filter(|_| send_at.len() > 10) {
        return Ok(at);
    }
    let local: jiff::civil::DateTime = send_at
        .parse()
        .map_err(|_| Error::Invalid(format!("send_at {send_at:?} is not a local time such as 2026-12-24T09:00")))?;
    let zoned =
        local.to_zoned_datetime(tz).map_err(|e| Error::Invalid(format!("send_at {send_at:?} in {zone}: {e}")))?;
    Ok(zoned.timestamp().as_millisecond())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_local_time_in_a_zone_and_an_offset_time() {
        // 09:00 in Berlin in winter is 08:00 UTC; in summer 07:00.
        let winter = resolve("2026-12-24T09:00", Some("Europe/Berlin")).unwrap();
        assert_eq!(crate::clock::rfc3339(winter), "2026-12-24T08:00:00.000Z");
        let summer = resolve("2026-07-01T09:00:00", Some("Europe/Berlin")).unwrap();
        assert_eq!(crate::clock::rfc3339(summer), "2026-07-01T07:00:00.000Z");
        let offset = resolve("2026-12-24T09:00:00+03:00", None).unwrap();
        assert_eq!(crate::clock::rfc3339(offset), "2026-12-24T06:00:00.000Z");
        assert!(resolve("2026-12-24T09:00", None).is_err(), "a local time needs its zone");
        assert!(resolve("2026-12-24T09:00", Some("Mars/Olympus")).is_err());
        assert!(resolve("soon", Some("UTC")).is_err());
    }
}
