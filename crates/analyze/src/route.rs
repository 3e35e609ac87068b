//! Routes as the report groups them: a route that names the object it acts
//! on (`/v1/threads/thread_abc123/runs`, `/files/8d0c…`) is one route per
//! call, and grouping by it would keep a row per call. Each path segment
//! that is an id is shown as `{id}` and the query string is dropped, as
//! tracing tools template their routes (OpenTelemetry's `http.route`).

use std::borrow::Cow;

/// The words that start the ids of the providers' API objects (OpenAI's
/// `thread_…`, `run_…`, `file-…`, `upload_…`; Anthropic's `msgbatch_…`; a
/// gateway's `req_…`).
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
    b"upload",
    b"vs",
    b"vsfb",
];

/// Collections whose next segment is an object's id when it has a digit
/// (Gemini's `cachedContents/abc123xyz`, `files/8kq9z0xyz1ab`),
/// not a name (`/threads/runs`, `/messages/batches`).
const COLLECTIONS: &[&str] = &[
    "assistants",
    "batches",
    "cachedContents",
    "chats",
    "conversations",
    "files",
    "items",
    "jobs",
    "messages",
    "operations",
    "responses",
    "runs",
    "sessions",
    "steps",
    "threads",
    "tickets",
    "traces",
    "tunedModels",
    "uploads",
    "vector_stores",
];

/// `route` with its id segments as `{id}` and without its query string;
/// borrowed when nothing changes (the usual case, checked per call).
pub fn template(route: &str) -> Cow<'_, str> {
    // A route without a `/` is a name (`ticket-classifier`), no path.
    if !route.contains('/') || !may_change(route.as_bytes()) {
        return Cow::Borrowed(route);
    }
    let path = route.split(['?', '#']).next().unwrap_or(route);
    let mut previous = "";
    let segments: Vec<(&str, bool)> = path
        .split('/')
        .map(|segment| {
            let id = is_id(previous, segment);
            previous = segment;
            (segment, id)
        })
        .collect();
    if path.len() == route.len() && !segments.iter().any(|&(_, id)| id) {
        return Cow::Borrowed(route);
    }
    let mut out = String::with_capacity(path.len());
    for (i, (segment, id)) in segments.into_iter().enumerate() {
        if i > 0 {
            out.push('/');
        }
        out.push_str(if id { "{id}" } else { segment });
    }
    Cow::Owned(out)
}

/// One pass over the bytes (the call's cost when nothing changes): whether
/// the route has a query string, or a segment that may be an id (one with
/// a digit and 4 bytes or more, or 12 bytes or more: every id
/// [`is_id`] knows is one; the two must agree, or a query string, which
/// sends a route to [`is_id`], would change how its path is grouped).
fn may_change(b: &[u8]) -> bool {
    let may_be_id = |len: usize, digits: usize| (digits > 0 && len >= 4) || len >= 12;
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

/// Whether a path segment (after `previous`) is an id:
/// - a number of 4 digits or more (`1`, `2` are versions);
/// - a UUID, or 16 or more hex digits with a digit;
/// - a known prefix, `_` or `-`, and 8 or more letters and digits that
///   look drawn, not named: 12 or more with a digit, 8 or more with 2,
///   or mixed case (`thread_abc123`, `upload_…`); with separators, half
///   of them digits (`tr-000000000001`);
/// - a ticket's key (`JIRA-12345`);
/// - 20 or more letters and digits with capitals and a digit (a ULID, a
///   base62 id);
/// - after a collection (`files`, `threads`, `cachedContents`…), 8 or more
///   letters and digits with 2 digits or more;
///
/// and, but for a number or a UUID, never a segment after `deployments`,
/// `models`, `projects`, `locations` or `publishers` (names).
///
/// A model's or deployment's name (`claude-3-5-sonnet-20241022`,
/// `gemini-2.5-flash:generateContent`, `call-center-gpt4o`,
/// `file-search-v1`, `gpt4omini20240718prod0`) is none.
fn is_id(previous: &str, segment: &str) -> bool {
    let b = segment.as_bytes();
    if b.is_empty() {
        return false;
    }
    let count = |b: &[u8], f: fn(&u8) -> bool| b.iter().filter(|c| f(c)).count();
    let digits = count(b, u8::is_ascii_digit);
    if digits == b.len() {
        return b.len() >= 4;
    }
    if is_uuid(b) || (b.len() >= 16 && b.iter().all(u8::is_ascii_hexdigit) && digits > 0) {
        return true;
    }
    // A deployment's, model's, project's or region's name (Azure's
    // `deployments/…`, Vertex's `projects/…/locations/…/models/…`): but a
    // number or UUID there is an id (above).
    if matches!(
        previous,
        "deployments" | "models" | "projects" | "locations" | "publishers" | "model"
    ) {
        return false;
    }
    // A collection's object: letters and 2 digits or more, 8 or more,
    // without words (`cachedContents/abc123xyz`), not an endpoint's name
    // (`messages/gpt4o`, `files/pdf2text`, `sessions/onboarding2`).
    if COLLECTIONS.contains(&previous)
        && b.len() >= 8
        && digits >= 2
        && b.iter().all(u8::is_ascii_alphanumeric)
    {
        return true;
    }
    if let Some(cut) = b.iter().position(|&c| c == b'-') {
        let (head, tail) = (&b[..cut], &b[cut + 1..]);
        if head.len() >= 2
            && head.iter().all(u8::is_ascii_uppercase)
            && tail.len() >= 2
            && tail.iter().all(u8::is_ascii_digit)
            && !matches!(head, b"ISO" | b"RFC" | b"IEC" | b"EN" | b"NIST" | b"SOC")
        {
            return true;
        }
    }
    // An e-mail address (personal data: a row per user of the route
    // table) or a date (hunt176: a row per value).
    if b.contains(&b'@') && b.iter().rposition(|&c| c == b'@') < b.iter().rposition(|&c| c == b'.')
    {
        return true;
    }
    if b.len() == 10
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            _ => c.is_ascii_digit(),
        })
    {
        return true;
    }
    if b.len() < 8 {
        return false;
    }
    // Drawn ids of mixed case (Stripe's `cus_NffrFeUfNV2Hib`, a nanoid's
    // `V1StGXR8_Z5jdHi6B-myT`): a name is rarely so (hunt176).
    let mixed =
        |b: &[u8]| count(b, u8::is_ascii_uppercase) >= 3 && count(b, u8::is_ascii_lowercase) >= 3;
    let plain = |b: &[u8]| {
        b.iter()
            .all(|&c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
    };
    // (A lower-case prefix and `_`, then 12 or more of mixed case.)
    if let Some(cut) = b.iter().position(|&c| c == b'_') {
        let (head, rest) = (&b[..cut], &b[cut + 1..]);
        if (2..=8).contains(&head.len())
            && head.iter().all(u8::is_ascii_lowercase)
            && rest.len() >= 12
            && rest.iter().all(u8::is_ascii_alphanumeric)
            && mixed(rest)
        {
            return true;
        }
    }
    // (16 or more of mixed case with 2 digits or more: a name has fewer.)
    if b.len() >= 16 && plain(b) && mixed(b) && digits >= 2 {
        return true;
    }
    if let Some(cut) = b.iter().position(|&c| c == b'_' || c == b'-') {
        let (head, rest) = (&b[..cut], &b[cut + 1..]);
        let rest_digits = count(rest, u8::is_ascii_digit);
        let words = rest.iter().any(|&c| c == b'_' || c == b'-');
        let drawn = rest_digits >= 2
            || (rest_digits >= 1 && rest.len() >= 12)
            || (rest.len() >= 12
                && count(rest, u8::is_ascii_uppercase) >= 3
                && count(rest, u8::is_ascii_lowercase) >= 3);
        if PREFIXES.contains(&head)
            && rest.len() >= 8
            && rest
                .iter()
                .all(|&c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
            && if words {
                rest_digits * 2 >= rest.len()
            } else {
                drawn
            }
        {
            return true;
        }
    }
    b.len() >= 20
        && b.iter().all(u8::is_ascii_alphanumeric)
        && digits > 0
        && b.iter().any(u8::is_ascii_uppercase)
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
            // hunt176: a customer's, a nanoid, an e-mail, a date.
            ("/v1/customers/cus_NffrFeUfNV2Hib/chat", "/v1/customers/{id}/chat"),
            ("/s/V1StGXR8_Z5jdHi6B-myT/ask", "/s/{id}/ask"),
            ("/users/ann.lee@example.com/chat", "/users/{id}/chat"),
            ("/reports/2026-10-01/summary", "/reports/{id}/summary"),
            ("/v1/models/GPT-4o-Mini-Turbo", "/v1/models/GPT-4o-Mini-Turbo"),
            ("/api/MyCompanyChatBot2/ask", "/api/MyCompanyChatBot2/ask"),
            ("/api/Support_Assistant_V2/ask", "/api/Support_Assistant_V2/ask"),
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
            // hunt41: ids without 2 digits, uploads, a collection's ids,
            // tickets; a deployment's long lowercase name.
            (
                "/v1/threads/thread_abcDEFghiJKLmnoPQRstuVWX/runs",
                "/v1/threads/{id}/runs",
            ),
            (
                "/v1/threads/thread_abcdefghijk7mnopqrstuvwx/runs",
                "/v1/threads/{id}/runs",
            ),
            (
                "/v1/uploads/upload_abc123def456/parts",
                "/v1/uploads/{id}/parts",
            ),
            (
                "/v1beta/cachedContents/abc123xyz",
                "/v1beta/cachedContents/{id}",
            ),
            ("/v1beta/files/8kq9z0xyz1ab", "/v1beta/files/{id}"),
            (
                "/support/tickets/JIRA-12345/summarize",
                "/support/tickets/{id}/summarize",
            ),
            ("/x/JIRA-12345", "/x/{id}"),
            ("/v1/threads/runs", "/v1/threads/runs"),
            ("/v1/messages/batches", "/v1/messages/batches"),
            ("/v1/messages/count_tokens", "/v1/messages/count_tokens"),
            // hunt42: endpoints' names after a collection, a standard, the
            // same path with and without a query string; ids after names.
            ("/api/messages/gpt4o", "/api/messages/gpt4o"),
            ("/v1/files/pdf2text", "/v1/files/pdf2text"),
            ("/v1/sessions/onboarding2", "/v1/sessions/onboarding2"),
            ("/v1/assistants/customer-support-v2", "/v1/assistants/customer-support-v2"),
            ("/compliance/ISO-27001", "/compliance/ISO-27001"),
            ("/api/tickets/summarization", "/api/tickets/summarization"),
            ("/api/tickets/summarization?stream=true", "/api/tickets/summarization"),
            ("/support/tickets/JIRA-12345/x?y=1", "/support/tickets/{id}/x"),
            ("/v1/projects/123456789012/locations/us/x", "/v1/projects/{id}/locations/us/x"),
            ("/v1/projects/0b5e3e1c-8a6f-4d6c-9a0e-3f2f6e7d8c9b/run", "/v1/projects/{id}/run"),
            (
                "/openai/deployments/gpt4omini20240718prod0/chat/completions",
                "/openai/deployments/gpt4omini20240718prod0/chat/completions",
            ),
            (
                "/model/anthropic.claude-3-5-sonnet-20241022-v2:0/invoke",
                "/model/anthropic.claude-3-5-sonnet-20241022-v2:0/invoke",
            ),
            (
                "/openai/deployments/GPT4oMiniProd20240718A/chat/completions",
                "/openai/deployments/GPT4oMiniProd20240718A/chat/completions",
            ),
            (
                "/v1/projects/acme-prod-123456/locations/us-central1/publishers/google/models/gemini-2.5-flash:generateContent",
                "/v1/projects/acme-prod-123456/locations/us-central1/publishers/google/models/gemini-2.5-flash:generateContent",
            ),
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
