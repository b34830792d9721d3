//! `multipart/form-data` bodies (RFC 7578), as a browser sends a form with a
//! file: the parts of a body already read into memory (the server caps its
//! size before this runs). Part headers are parsed by `httparse`, boundaries
//! found with `memchr`'s substring search.
//!
//! Why not a crate: the sync parsers are unmaintained (`multipart`, with
//! `buf_redux`/`twoway`), async-only (`multer`), or end a field silently on a
//! read or size error (`form-data`'s sync path maps errors to end-of-field,
//! which would import half a spreadsheet). A body that is already whole needs
//! only the splitting below, and every malformed body is an error, never a
//! shorter file.

use memchr::memmem;

/// The most parts a form may have (the inbox's largest has three).
const MAX_PARTS: usize = 16;
/// The most headers one part may have.
const MAX_PART_HEADERS: usize = 8;

/// One part of a form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part<'a> {
    /// The form field's name.
    pub name: String,
    /// The file's name, for a file field.
    pub filename: Option<String>,
    /// The part's bytes.
    pub body: &'a [u8],
}

/// Why a body is not a readable form.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MultipartError {
    /// The `Content-Type` has no usable boundary.
    #[error("the Content-Type names no multipart boundary")]
    NoBoundary,
    /// The body does not start with the boundary or never ends it.
    #[error("the body is cut off or does not follow its boundary")]
    Truncated,
    /// A part's headers are malformed or have no field name.
    #[error("a part of the form has malformed headers")]
    BadPart,
    /// More parts than any form here has.
    #[error("the form has more than {MAX_PARTS} parts")]
    TooManyParts,
}

/// The boundary of a `multipart/form-data` content type, if it is one.
pub fn boundary(content_type: &str) -> Option<&str> {
    let (essence, params) = content_type.split_once(';')?;
    if !essence.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params.split(';').find_map(|param| {
        let (key, value) = param.split_once('=')?;
        if !key.trim().eq_ignore_ascii_case("boundary") {
            return None;
        }
        let value = value.trim();
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(value);
        // RFC 2046 §5.1.1: 1 to 70 characters.
        (1..=70).contains(&value.len()).then_some(value)
    })
}

/// The parts of `body`, a form whose content type is `content_type`.
pub fn parse<'a>(content_type: &str, body: &'a [u8]) -> Result<Vec<Part<'a>>, MultipartError> {
    let boundary = boundary(content_type).ok_or(MultipartError::NoBoundary)?;
    let delimiter = format!("--{boundary}");
    let next_delimiter = format!("\r\n--{boundary}");
    let finder = memmem::Finder::new(next_delimiter.as_bytes());
    let mut rest = body
        .strip_prefix(delimiter.as_bytes())
        .ok_or(MultipartError::Truncated)?;
    let mut parts = Vec::new();
    loop {
        if rest.starts_with(b"--") {
            return Ok(parts);
        }
        rest = rest.strip_prefix(b"\r\n").ok_or(MultipartError::Truncated)?;
        if parts.len() == MAX_PARTS {
            return Err(MultipartError::TooManyParts);
        }
        let end = finder.find(rest).ok_or(MultipartError::Truncated)?;
        parts.push(part(&rest[..end])?);
        rest = &rest[end + next_delimiter.len()..];
    }
}

/// One part: its headers, a blank line, its bytes.
fn part(raw: &[u8]) -> Result<Part<'_>, MultipartError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_PART_HEADERS];
    let (consumed, headers) = match httparse::parse_headers(raw, &mut headers) {
        Ok(httparse::Status::Complete(done)) => done,
        _ => return Err(MultipartError::BadPart),
    };
    let disposition = headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("Content-Disposition"))
        .and_then(|h| std::str::from_utf8(h.value).ok())
        .ok_or(MultipartError::BadPart)?;
    let (kind, params) = disposition.split_once(';').ok_or(MultipartError::BadPart)?;
    if !kind.trim().eq_ignore_ascii_case("form-data") {
        return Err(MultipartError::BadPart);
    }
    let params = disposition_params(params);
    let value = |key: &str| {
        params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.clone())
    };
    Ok(Part {
        name: value("name").ok_or(MultipartError::BadPart)?,
        filename: value("filename"),
        body: &raw[consumed..],
    })
}

/// `; name="a"; filename="b.csv"` as pairs; quoted values may escape `"` and
/// `\` with a backslash (what browsers write for such file names).
fn disposition_params(text: &str) -> Vec<(String, String)> {
    let mut params = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.next_if(|c| *c == ';' || c.is_whitespace()).is_some() {}
        let key: String = std::iter::from_fn(|| chars.next_if(|c| *c != '=' && *c != ';')).collect();
        if key.trim().is_empty() || chars.next_if_eq(&'=').is_none() {
            return params;
        }
        let value = if chars.next_if_eq(&'"').is_some() {
            let mut value = String::new();
            while let Some(c) = chars.next() {
                match c {
                    '"' => break,
                    '\\' => value.extend(chars.next()),
                    c => value.push(c),
                }
            }
            value
        } else {
            std::iter::from_fn(|| chars.next_if(|c| *c != ';'))
                .collect::<String>()
                .trim()
                .to_string()
        };
        params.push((key.trim().to_string(), value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TYPE: &str = "multipart/form-data; boundary=----WebKitFormBoundaryx7";

    /// A body as Chromium writes it for a token field and a file.
    fn chromium_body(file: &str) -> Vec<u8> {
        format!(
            "------WebKitFormBoundaryx7\r\n\
             Content-Disposition: form-data; name=\"csrf\"\r\n\r\n\
             abc\r\n\
             ------WebKitFormBoundaryx7\r\n\
             Content-Disposition: form-data; name=\"file\"; filename=\"my \\\"orders\\\".csv\"\r\n\
             Content-Type: text/csv\r\n\r\n\
             {file}\r\n\
             ------WebKitFormBoundaryx7--\r\n"
        )
        .into_bytes()
    }

    #[test]
    fn reads_the_fields_and_the_file_of_a_browsers_form() {
        let body = chromium_body("Order,Status\r\nA1,Ready\r\n");
        let parts = parse(TYPE, &body).unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!((parts[0].name.as_str(), parts[0].body), ("csrf", &b"abc"[..]));
        assert_eq!(parts[1].filename.as_deref(), Some("my \"orders\".csv"));
        assert_eq!(parts[1].body, b"Order,Status\r\nA1,Ready\r\n");
    }

    #[test]
    fn a_file_that_contains_boundary_like_text_stays_whole() {
        let body = chromium_body("--WebKitFormBoundaryx7\r\n----WebKitFormBoundary");
        let parts = parse(TYPE, &body).unwrap();
        assert_eq!(parts[1].body, b"--WebKitFormBoundaryx7\r\n----WebKitFormBoundary");
    }

    #[test]
    fn a_cut_off_body_is_an_error_not_a_shorter_file() {
        let body = chromium_body("Order,Status\r\nA1,Ready\r\nA2,New\r\n");
        for cut in [10, 60, body.len() - 40, body.len() - 12] {
            assert_eq!(
                parse(TYPE, &body[..cut]),
                Err(MultipartError::Truncated),
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn malformed_forms_are_refused() {
        assert_eq!(parse("multipart/form-data", b"x"), Err(MultipartError::NoBoundary));
        assert_eq!(
            parse("application/x-www-form-urlencoded; boundary=a", b"x"),
            Err(MultipartError::NoBoundary)
        );
        let no_name = b"--b\r\nContent-Disposition: form-data\r\n\r\nx\r\n--b--";
        assert_eq!(
            parse("multipart/form-data; boundary=b", no_name),
            Err(MultipartError::BadPart)
        );
        let many = format!(
            "{}--b--",
            "--b\r\nContent-Disposition: form-data; name=a\r\n\r\nx\r\n".repeat(MAX_PARTS + 1)
        );
        assert_eq!(
            parse("multipart/form-data; boundary=b", many.as_bytes()),
            Err(MultipartError::TooManyParts)
        );
    }

    #[test]
    fn the_boundary_may_be_quoted() {
        assert_eq!(
            boundary("Multipart/Form-Data; charset=utf-8; boundary=\"a b\""),
            Some("a b")
        );
        assert_eq!(boundary("multipart/form-data; boundary="), None);
    }
}
