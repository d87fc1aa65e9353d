//! Plain HTTP data shared by the pure gateway modules: an ordered, case-insensitive header list.
//! Owns no policy; `session`, `forwarded`, `proxy` and `response` read and build `HeaderList`s, and
//! the edge moves them across the wasm boundary as header text (`header_blob`) and edits.

use std::borrow::Cow;

/// Headers in arrival order. Names compare ASCII case-insensitively; repeated names stay repeated
/// (several `Set-Cookie` or `Cookie` headers keep their identity and order). Note that a Fetch
/// `Headers` object (workerd) already joins repeated request headers with `, `; the parsers here
/// treat such joined values conservatively (see `proxy` for `Cookie`).
///
/// Stored as one text and the spans of each name and value in it, not a `String` pair per header:
/// a request's or response's headers arrive as one text ([`parse_header_blob`]), which is then
/// kept whole (one copy, two allocations) rather than cut into two dozen strings.
#[derive(Clone, Default)]
pub struct HeaderList {
    text: String,
    spans: Vec<Span>,
}

/// Where one header's name and value are in [`HeaderList`]'s text (byte offsets).
#[derive(Debug, Clone, Copy)]
struct Span {
    name: (usize, usize),
    value: (usize, usize),
}

impl Span {
    /// Whether this header, in `text`, is called `name` (compared as bytes: lookups run often,
    /// and only the value found is cut out as a `str`).
    #[inline]
    fn is_named(&self, text: &str, name: &str) -> bool {
        let (start, end) = self.name;
        end - start == name.len()
            && text
                .as_bytes()
                .get(start..end)
                .is_some_and(|n| n.eq_ignore_ascii_case(name.as_bytes()))
    }
}

impl HeaderList {
    /// An empty list.
    pub fn new() -> Self {
        HeaderList::default()
    }

    #[inline]
    fn part(&self, (start, end): (usize, usize)) -> &str {
        self.text.get(start..end).unwrap_or("")
    }

    #[inline]
    fn pair(&self, span: &Span) -> (&str, &str) {
        (self.part(span.name), self.part(span.value))
    }

    #[inline]
    fn is_named(&self, span: &Span, name: &str) -> bool {
        span.is_named(&self.text, name)
    }

    /// The first value of `name`, if any.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.spans
            .iter()
            .find(|span| self.is_named(span, name))
            .map(|span| self.part(span.value))
    }

    /// Every value of `name`, in order.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.spans
            .iter()
            .filter(move |span| self.is_named(span, name))
            .map(|span| self.part(span.value))
    }

    /// True when at least one header is called `name`.
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Appends a header, keeping any existing one of the same name.
    pub fn push(&mut self, name: impl AsRef<str>, value: impl AsRef<str>) {
        let name_at = self.text.len();
        self.text.push_str(name.as_ref());
        let value_at = self.text.len();
        self.text.push_str(value.as_ref());
        self.spans.push(Span {
            name: (name_at, value_at),
            value: (value_at, self.text.len()),
        });
    }

    /// Removes every header called `name`.
    pub fn remove(&mut self, name: &str) {
        let text = &self.text;
        self.spans.retain(|span| !span.is_named(text, name));
    }

    /// Replaces every header called `name` with one value.
    pub fn set(&mut self, name: impl AsRef<str>, value: impl AsRef<str>) {
        self.remove(name.as_ref());
        self.push(name, value);
    }

    /// Every header as (name, value), in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.spans.iter().map(|span| self.pair(span))
    }

    /// The number of headers (repeats counted).
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// True when there are no headers.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }
}

impl PartialEq for HeaderList {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for HeaderList {}

impl std::fmt::Debug for HeaderList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl From<Vec<(String, String)>> for HeaderList {
    fn from(v: Vec<(String, String)>) -> Self {
        v.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect()
    }
}

impl<'a> FromIterator<(&'a str, &'a str)> for HeaderList {
    fn from_iter<I: IntoIterator<Item = (&'a str, &'a str)>>(iter: I) -> Self {
        let mut list = HeaderList::new();
        for (name, value) in iter {
            list.push(name, value);
        }
        list
    }
}

/// Headers as one string, `name\nvalue\n` per header: the form in which the edge moves a whole
/// header list across the wasm/JavaScript boundary in one call instead of one call per header
/// and per string. Fetch `Headers` never hold CR, LF or NUL in a name or value, so `\n` cannot
/// be confused with content; a pair that holds one anyway (never produced by the planners) is
/// left out rather than allowed to split into two headers.
pub fn header_blob<'a, I>(pairs: I) -> String
where
    I: IntoIterator<Item = (&'a str, &'a str)>,
{
    let mut out = String::new();
    push_header_blob(&mut out, pairs);
    out
}

/// [`header_blob`] appended to `out`.
pub fn push_header_blob<'a, I>(out: &mut String, pairs: I)
where
    I: IntoIterator<Item = (&'a str, &'a str)>,
{
    for (name, value) in pairs {
        push_pair(out, name, value);
    }
}

/// Appends `name\nvalue\n`, or nothing when the name is empty or either holds CR, LF or NUL.
fn push_pair(out: &mut String, name: &str, value: &str) {
    let unsafe_byte = |s: &str| s.bytes().any(|b| matches!(b, b'\n' | b'\r' | 0));
    if name.is_empty() || unsafe_byte(name) || unsafe_byte(value) {
        return;
    }
    out.push_str(name);
    out.push('\n');
    out.push_str(value);
    out.push('\n');
}

/// The inverse of [`header_blob`]: a trailing unpaired name (a truncated blob) is dropped, and
/// so is a pair with an empty name. The blob is copied once and kept whole.
pub fn parse_header_blob(blob: &str) -> HeaderList {
    // One pass: counting the lines first would scan the blob (mostly the token) twice. A
    // request or response has a dozen headers or so.
    let mut spans = Vec::with_capacity(16);
    let mut at = 0;
    let line_end = |from: usize| blob.get(from..)?.find('\n').map(|len| from + len);
    while let Some(name_end) = line_end(at) {
        // A value runs to the next line's end, or to the blob's end for the last one.
        let value_end = line_end(name_end + 1).unwrap_or(blob.len());
        if name_end > at {
            spans.push(Span {
                name: (at, name_end),
                value: (name_end + 1, value_end),
            });
        }
        at = value_end + 1;
    }
    HeaderList {
        text: blob.to_owned(),
        spans,
    }
}

/// A header name in an edit: nearly always one of the gateway's constants, borrowed rather than
/// allocated for every request.
pub type EditName = Cow<'static, str>;

/// Headers worked out once and kept with what they describe (a verified token's identity
/// headers, in its cache entry), so the requests after the first copy them instead of rendering
/// them again. It is a cache of its owner's other fields: it compares equal to any other, and a
/// clone starts empty (a clone may be changed, and must not keep headers of what it was).
#[derive(Default)]
pub struct RenderedHeaders(std::cell::OnceCell<Vec<(EditName, String)>>);

impl RenderedHeaders {
    /// The headers, rendered by `render` the first time.
    pub fn get_or_render(
        &self,
        render: impl FnOnce() -> Vec<(EditName, String)>,
    ) -> &[(EditName, String)] {
        self.0.get_or_init(render)
    }
}

impl Clone for RenderedHeaders {
    fn clone(&self) -> Self {
        RenderedHeaders::default()
    }
}

impl PartialEq for RenderedHeaders {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl std::fmt::Debug for RenderedHeaders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RenderedHeaders")
    }
}

/// One change to a header list, for the edge to apply to a copy of a `Headers` it already has
/// (copying one is a single runtime call; building one header by header is many).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderEdit {
    /// Remove every header of this name.
    Delete(EditName),
    /// Add this header, keeping others of the same name.
    Append(EditName, String),
}

/// What a plan does with one header of a list it edits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Sent as it came.
    Keep,
    /// Not sent.
    Drop,
    /// Sent with this value instead.
    Replace(String),
}

/// The edits that give `before` its `verdicts` (one per header, in order; a header without one
/// is kept) and then append `added`. Straight from the plan rather than by comparing a planned
/// copy of the whole list with `before`: a name with a header dropped or replaced is deleted and
/// the values it keeps are appended again in order, a name whose headers are all kept gets no
/// edit, so a list with nothing to change gives no edit at all.
pub fn edits_for(
    before: &HeaderList,
    verdicts: &[Verdict],
    added: Vec<(EditName, String)>,
) -> Vec<HeaderEdit> {
    let verdict = |at: usize| verdicts.get(at).unwrap_or(&Verdict::Keep);
    // Sized for the added headers and a few deletes: no regrowth on a typical request.
    let mut edits = Vec::with_capacity(added.len() + 4);
    let mut deleted: Vec<&str> = Vec::new();
    for (at, (name, _)) in before.iter().enumerate() {
        if matches!(verdict(at), Verdict::Keep)
            || deleted.iter().any(|d| d.eq_ignore_ascii_case(name))
        {
            continue;
        }
        deleted.push(name);
        edits.push(HeaderEdit::Delete(name.to_ascii_lowercase().into()));
        // Deleting the name removes its kept headers too, those before `at` included.
        let same_name = before.iter().enumerate();
        for (other, (n, v)) in same_name.filter(|(_, (n, _))| n.eq_ignore_ascii_case(name)) {
            match verdict(other) {
                Verdict::Keep => edits.push(HeaderEdit::Append(n.to_owned().into(), v.to_owned())),
                Verdict::Replace(value) => {
                    edits.push(HeaderEdit::Append(n.to_owned().into(), value.clone()))
                }
                Verdict::Drop => {}
            }
        }
    }
    edits.extend(added.into_iter().map(|(n, v)| HeaderEdit::Append(n, v)));
    edits
}

/// What applying `edits` to `before` gives, as the edge applies them (a model for tests).
pub fn apply_edits(before: &HeaderList, edits: &[HeaderEdit]) -> HeaderList {
    let mut out = before.clone();
    for edit in edits {
        match edit {
            HeaderEdit::Delete(name) => out.remove(name),
            HeaderEdit::Append(name, value) => out.push(name, value),
        }
    }
    out
}

/// Edits appended to `out` as one string: `:name\n` deletes (`:` is never part of a header
/// name), `name\nvalue\n` appends. An append whose name or value holds CR, LF or NUL is left
/// out, as in [`header_blob`].
pub fn push_edits(out: &mut String, edits: &[HeaderEdit]) {
    for edit in edits {
        match edit {
            HeaderEdit::Delete(name) => {
                if !name.is_empty() && !name.bytes().any(|b| matches!(b, b'\n' | b'\r' | 0)) {
                    out.push(':');
                    out.push_str(name);
                    out.push('\n');
                }
            }
            HeaderEdit::Append(name, value) => push_pair(out, name, value),
        }
    }
}

/// Splits a comma-separated header value into trimmed, non-empty items (no quoted-string
/// awareness: for token lists such as `Connection` or `X-Forwarded-Host`).
pub fn comma_items(value: &str) -> impl Iterator<Item = &str> {
    value.split(',').map(str::trim).filter(|s| !s.is_empty())
}

/// True when `s` contains a control character (C0, DEL) that must never reach a header or URL.
pub fn has_control(s: &str) -> bool {
    s.chars().any(|c| c.is_control())
}

/// A header name is an RFC 9110 token.
pub fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_blob_round_trips_order_repeats_and_empty_values() {
        let pairs = [
            ("set-cookie", "a=1"),
            ("x-empty", ""),
            ("set-cookie", "b=2; Path=/"),
            ("content-type", "text/html; charset=utf-8"),
        ];
        let blob = header_blob(pairs);
        assert_eq!(
            blob,
            "set-cookie\na=1\nx-empty\n\nset-cookie\nb=2; Path=/\ncontent-type\ntext/html; charset=utf-8\n"
        );
        let back = parse_header_blob(&blob);
        let got: Vec<(&str, &str)> = back.iter().collect();
        assert_eq!(got, pairs);
    }

    #[test]
    fn header_blob_never_lets_a_value_split_into_another_header() {
        let blob = header_blob([
            ("x-ok", "1"),
            ("x-bad", "v\nx-auth-user-id\nuser_evil"),
            ("x-cr", "a\rb"),
            ("x-nul", "a\0b"),
            ("", "nameless"),
        ]);
        assert_eq!(blob, "x-ok\n1\n");
        assert_eq!(parse_header_blob(&blob).len(), 1);
    }

    #[test]
    fn parse_header_blob_tolerates_truncation_and_empty_input() {
        assert!(parse_header_blob("").is_empty());
        assert_eq!(parse_header_blob("a\n1\nb").len(), 1);
        assert_eq!(parse_header_blob("a\n1\nb\n").get("b"), Some(""));
    }
}
