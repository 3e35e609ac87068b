//! Routes as the report groups them: a route that names the object it acts
//! on (`/v1/threads/thread_abc123/runs`, `/files/8d0c…`) is one route per
//! call, and grouping by it would keep a row per call. Each path segment
//! that is an id is shown as `{id}` and the query string is dropped, as
//! tracing tools template their routes (OpenTelemetry's `http.route`).

use std::borrow::Cow;

/// The words that start the ids of the providers' API objects (OpenAI's
/// `thread_…`, `run_…`, `file-…`; Anthropic's `msgbatch_…`; a gateway's
/// `req_…`).
const PREFIXES: &[&[u8]] = &[
    b"asst",
    b"batch",
    b"call",
    b"chatcmpl",
    b"cmpl",
    b"conv",
    b"file",
    b"ftckpt",
    b"ftjob",
    b"gen",
    b"job",
    b"msg",
    b"msgbatch",
    b"req",
    b"resp",
    b"run",
    b"sess",
    b"session",
    b"span",
    b"step",
    b"task",
    b"thread",
    b"trace",
    b"vs",
    b"vsfb",
];

/// `route` with its id segments as `{id}` and without its query string;
/// borrowed when nothing changes (the usual case, checked per call).
pub fn template(route: &str) -> Cow<'_, str> {
    // A route without a `/` is a name (`ticket-classifier`), no path.
    if !route.contains('/') || !may_change(route.as_bytes()) {
        return Cow::Borrowed(route);
    }
    let path = route.split(['?', '#']).next().unwrap_or(route);
    if path.len() == route.len() && !path.split('/').any(is_id) {
        return Cow::Borrowed(route);
    }
    let mut out = String::with_capacity(path.len());
    for (i, segment) in path.split('/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        out.push_str(if is_id(segment) { "{id}" } else { segment });
    }
    Cow::Owned(out)
}

/// One pass over the bytes (the call's cost when nothing changes): whether
/// the route has a query string, or a segment that may be an id (one
/// with a digit that is 4 digits or more, or 8 bytes or more).
fn may_change(b: &[u8]) -> bool {
    let may_be_id = |len: usize, digits: usize| digits > 0 && (digits >= 4 || len >= 8);
    let (mut len, mut digits) = (0, 0);
    for &c in b {
        match c {
            b'/' => {
                if may_be_id(len, digits) {
                    return true;
                }
                (len, digits) = (0, 0);
            }
            b'?' | b'#' => return true,
            b'0'..=b'9' => (len, digits) = (len + 1, digits + 1),
            _ => len += 1,
        }
    }
    may_be_id(len, digits)
}

/// Whether a path segment is an id: a number of 4 digits or more (`1`,
/// `2` are versions), a UUID, 16 or more hex digits, a known prefix and 8
/// or more letters and digits with 2 digits or more (`thread_abc12345`;
/// also with separators when half of them are digits, `tr-000000000001`),
/// or 20 or more letters and digits mixed (a ULID). A model's or
/// deployment's name (`claude-3-5-sonnet-20241022`,
/// `gemini-2.5-flash:generateContent`, `call-center-gpt4o`,
/// `file-search-v1`) is none.
fn is_id(segment: &str) -> bool {
    let b = segment.as_bytes();
    if b.is_empty() {
        return false;
    }
    let digit = |b: &[u8]| b.iter().any(u8::is_ascii_digit);
    if b.iter().all(u8::is_ascii_digit) {
        return b.len() >= 4;
    }
    if b.len() < 8 {
        return false;
    }
    if is_uuid(b) || (b.len() >= 16 && b.iter().all(u8::is_ascii_hexdigit) && digit(b)) {
        return true;
    }
    if let Some(cut) = b.iter().position(|&c| c == b'_' || c == b'-') {
        let (head, rest) = (&b[..cut], &b[cut + 1..]);
        let digits = rest.iter().filter(|c| c.is_ascii_digit()).count();
        let words = rest.iter().any(|&c| c == b'_' || c == b'-');
        if PREFIXES.contains(&head)
            && rest.len() >= 8
            && rest
                .iter()
                .all(|&c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
            && digits >= 2
            && (!words || digits * 2 >= rest.len())
        {
            return true;
        }
    }
    b.len() >= 20
        && b.iter().all(u8::is_ascii_alphanumeric)
        && digit(b)
        && b.iter().any(u8::is_ascii_alphabetic)
}

fn is_uuid(b: &[u8]) -> bool {
    b.len() == 36
        && b.iter().enumerate().all(|(i, &c)| match i {
            8 | 13 | 18 | 23 => c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

#[cfg(test)]
mod tests {
    use super::template;

    #[test]
    fn ids_in_routes_are_templated_and_names_kept() {
        for (route, want) in [
            ("/v1/chat/completions", "/v1/chat/completions"),
            (
                "/v1/threads/thread_abc123XYZ456/runs",
                "/v1/threads/{id}/runs",
            ),
            (
                "/v1/threads/thread_tr-000000000001/runs",
                "/v1/threads/{id}/runs",
            ),
            ("/v1/files/file-8Xk2mQ9pLr4", "/v1/files/{id}"),
            (
                "/v1/messages/batches/msgbatch_01HkcTjaV5uDC8jWR4ZsDV8d",
                "/v1/messages/batches/{id}",
            ),
            ("/items/4217/tags", "/items/{id}/tags"),
            ("/t/0b5e3e1c-8a6f-4d6c-9a0e-3f2f6e7d8c9b", "/t/{id}"),
            ("/trace/4bf92f3577b34da6a3ce929d0e0e4736", "/trace/{id}"),
            ("/x/01JX0000000000000000000001", "/x/{id}"),
            ("/v1/chat/completions?user=u-1&n=2", "/v1/chat/completions"),
            (
                "/v1/models/claude-3-5-sonnet-20241022",
                "/v1/models/claude-3-5-sonnet-20241022",
            ),
            (
                "/v1beta/models/gemini-2.5-flash:generateContent",
                "/v1beta/models/gemini-2.5-flash:generateContent",
            ),
            (
                "/openai/deployments/gpt-4o-mini-2024-07-18/chat/completions",
                "/openai/deployments/gpt-4o-mini-2024-07-18/chat/completions",
            ),
            ("ticket-classifier", "ticket-classifier"),
            // Names, not ids (hunt40).
            (
                "/openai/deployments/call-center-gpt4o/chat/completions",
                "/openai/deployments/call-center-gpt4o/chat/completions",
            ),
            (
                "/openai/deployments/file-search-v1/chat/completions",
                "/openai/deployments/file-search-v1/chat/completions",
            ),
            ("task-router-v2", "task-router-v2"),
            ("/api/1/generate", "/api/1/generate"),
            ("/api/2/generate", "/api/2/generate"),
            ("/v1/tasks/task-summarize1", "/v1/tasks/task-summarize1"),
            ("(none)", "(none)"),
            ("", ""),
        ] {
            assert_eq!(template(route), want, "{route}");
        }
        assert!(matches!(
            template("/v1/chat/completions"),
            std::borrow::Cow::Borrowed(_)
        ));
    }
}
