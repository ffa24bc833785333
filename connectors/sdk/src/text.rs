//! Text as platforms count it: splitting a long message into parts they take.

/// Splits `text` into parts of at most `limit` UTF-16 units, never inside a character,
/// preferring a line break, then a space, in the second half of each part.
pub fn split_text(text: &str, limit: usize) -> Vec<String> {
    let mut parts = Vec::new();
    let mut rest = text;
    while utf16_len(rest) > limit {
        let mut units = 0;
        let mut hard = 0;
        for (i, c) in rest.char_indices() {
            if units + c.len_utf16() > limit {
                break;
            }
            units += c.len_utf16();
            hard = i + c.len_utf8();
        }
        let window = &rest[..hard];
        let soft = window.rfind('\n').or_else(|| window.rfind(' ')).filter(|&i| i >= hard / 2);
        let cut = soft.map_or(hard, |i| i + 1);
        parts.push(rest[..cut].trim_end().to_owned());
        rest = &rest[cut..];
    }
    if !rest.trim().is_empty() || parts.is_empty() {
        parts.push(rest.to_owned());
    }
    parts.retain(|p| !p.is_empty());
    parts
}

pub fn utf16_len(s: &str) -> usize {
    s.chars().map(char::len_utf16).sum()
}
