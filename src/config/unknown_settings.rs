//! Warnings for names that look like settings but are none ([`unknown_setting_warnings`]),
//! with the closest known name when one is near.

use super::setting_names::SETTING_NAMES;

/// Edit distance between two ASCII names (for "did you mean").
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<u8> = b.bytes().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.bytes().enumerate() {
        let mut prev = row.first().copied().unwrap_or(0);
        if let Some(first) = row.first_mut() {
            *first = i + 1;
        }
        for (j, cb) in b.iter().enumerate() {
            let above = row.get(j + 1).copied().unwrap_or(usize::MAX);
            let left = row.get(j).copied().unwrap_or(usize::MAX);
            let diagonal = prev + usize::from(ca != *cb);
            prev = above;
            if let Some(cell) = row.get_mut(j + 1) {
                *cell = diagonal
                    .min(above.saturating_add(1))
                    .min(left.saturating_add(1));
            }
        }
    }
    row.last().copied().unwrap_or(0)
}

/// Warnings for names that look like settings (upper case with an underscore) but that edgegate
/// does not read, with the closest known name when one is near (`AUTHORISED_PARTIES` → did you
/// mean `AUTHORIZED_PARTIES`?). Names far from every setting are the app's own and pass
/// silently, unless they start with `CLERK_` or `EDGEGATE_`.
pub fn unknown_setting_warnings<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let known = SETTING_NAMES;
    let mut out = Vec::new();
    for name in names {
        let looks_like_a_setting = name.len() >= 4
            && name.contains('_')
            && name
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
        if !looks_like_a_setting || known.contains(&name) {
            continue;
        }
        let closest = known
            .iter()
            .map(|k| (distance(name, k), *k))
            .min_by_key(|(d, _)| *d);
        match closest {
            Some((d, k)) if d <= (name.len() / 4).max(2) => out.push(format!(
                "{name} is not a setting edgegate reads (ignored): did you mean {k}?"
            )),
            _ if name.starts_with("CLERK_") || name.starts_with("EDGEGATE_") => out.push(format!(
                "{name} is not a setting edgegate reads (ignored); see docs/settings.md"
            )),
            _ => {}
        }
    }
    out
}
