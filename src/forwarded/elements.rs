//! The RFC 7239 `Forwarded` syntax: a header value into its elements of `name=value` pairs
//! (tokens or quoted strings).

use super::issue::ForwardedError;
use super::limits::guard_len;

fn is_tchar(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

/// One `Forwarded` element: lowercased parameter names and unquoted values.
pub type ForwardedElement = Vec<(String, String)>;

type Chars<'a> = std::iter::Peekable<std::str::Chars<'a>>;

/// Parses an RFC 7239 `Forwarded` value into its elements, in order (the last is the one the
/// nearest proxy added). Empty elements are skipped; any syntax error refuses the whole value,
/// so a client's malformed prefix can never shift which element counts as last.
pub fn forwarded_elements(value: &str) -> Result<Vec<ForwardedElement>, ForwardedError> {
    let value = guard_len(value)?;
    // Tabs are optional whitespace; other control characters are never allowed.
    if value.chars().any(|c| c.is_control() && c != '\t') {
        return Err(ForwardedError::ControlCharacter);
    }
    let mut chars = value.chars().peekable();
    let mut elements = Vec::new();
    loop {
        let element = forwarded_element(&mut chars)?;
        if !element.is_empty() {
            elements.push(element);
        }
        // `forwarded_element` stops only at a comma or the end.
        if chars.next().is_none() {
            break;
        }
    }
    if elements.is_empty() {
        return Err(ForwardedError::Empty);
    }
    Ok(elements)
}

fn skip_ws(chars: &mut Chars<'_>) {
    while matches!(chars.peek(), Some(' ') | Some('\t')) {
        chars.next();
    }
}

/// The pairs of one element, up to (not including) the `,` that ends it or the end.
fn forwarded_element(chars: &mut Chars<'_>) -> Result<ForwardedElement, ForwardedError> {
    let mut params: ForwardedElement = Vec::new();
    loop {
        skip_ws(chars);
        // Empty pairs (";;") are tolerated.
        match chars.peek() {
            None | Some(',') => return Ok(params),
            Some(';') => {
                chars.next();
                continue;
            }
            _ => {}
        }
        let (name, value) = forwarded_pair(chars)?;
        if params.iter().any(|(n, _)| *n == name) {
            return Err(ForwardedError::DuplicateParameter);
        }
        params.push((name, value));
        skip_ws(chars);
        match chars.peek() {
            None | Some(',') => return Ok(params),
            Some(';') => {
                chars.next();
            }
            Some(_) => return Err(ForwardedError::ForwardedSyntax),
        }
    }
}

/// `name=token` or `name="quoted string"`.
fn forwarded_pair(chars: &mut Chars<'_>) -> Result<(String, String), ForwardedError> {
    let mut name = String::new();
    while let Some(c) = chars.next_if(|c| is_tchar(*c)) {
        name.push(c.to_ascii_lowercase());
    }
    if name.is_empty() || chars.next() != Some('=') {
        return Err(ForwardedError::ForwardedSyntax);
    }
    if chars.next_if_eq(&'"').is_some() {
        return quoted_string(chars).map(|v| (name, v));
    }
    let mut v = String::new();
    while let Some(c) = chars.next_if(|c| is_tchar(*c)) {
        v.push(c);
    }
    if v.is_empty() {
        return Err(ForwardedError::ForwardedSyntax);
    }
    Ok((name, v))
}

/// The rest of a quoted string after its opening `"`, unescaped.
fn quoted_string(chars: &mut Chars<'_>) -> Result<String, ForwardedError> {
    let mut v = String::new();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Ok(v),
            '\\' => v.push(chars.next().ok_or(ForwardedError::UnterminatedQuote)?),
            _ => v.push(c),
        }
    }
    Err(ForwardedError::UnterminatedQuote)
}
