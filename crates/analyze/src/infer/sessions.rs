//! Turns without turn numbers, and sessions without session ids.
//!
//! A conversation's turn *n* resends turns 1…n−1; seeing it needs the calls
//! of one conversation in turn order. Most logs carry no turn number, so
//! turns are worked out from what they have, best source first:
//!
//! 1. the number of user messages in the logged `messages` (turn *n* carries
//!    *n* user messages), when every call of the timeline has it, unless
//!    every call of a session has the same count: a tool-calling loop
//!    resends one user message with the model's tool calls and their
//!    results, growing at every step, whose steps time order tells;
//! 2. time order: the calls sorted by time, each call a new turn unless it
//!    retries the one before it: it says so (`attempt` > 1, `retry_of`), or
//!    it repeats the previous call's prompt fingerprint within
//!    [`RETRY_WINDOW_MS`] of that call failing.
//!
//! Without a session id, a user's (or API key's) calls to one feature are cut
//! into sessions wherever they pause longer than an inactivity gap
//! ([`DEFAULT_GAP_MS`], 30 minutes, the usual web-analytics session timeout);
//! such sessions are inferred and reported as such.

/// A pause longer than this ends an inferred session (30 minutes).
pub const DEFAULT_GAP_MS: i64 = 30 * 60 * 1000;

/// A call repeating the previous call's prompt within this long after that
/// call failed is a retry of it, not a new turn (a minute: client retries
/// back off for seconds, a person rephrasing takes longer).
pub const RETRY_WINDOW_MS: i64 = 60 * 1000;

/// One call as turn inference sees it. The field order is the sort order:
/// time first, the rest only to make the order total (so a sample keeps the
/// same calls however they arrived).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct TurnCall {
    /// Milliseconds since the epoch.
    pub millis: i64,
    /// The prompt's fingerprint (0 when not logged).
    pub prompt_fp: u64,
    pub input: u64,
    /// Cost of the input tokens, in pico-dollars.
    pub input_cost: i64,
    /// User messages in the logged `messages` (0 when not logged).
    pub user_messages: u32,
    /// [`TurnCall::OK`] and [`TurnCall::RETRY`].
    pub flags: u8,
}

impl TurnCall {
    /// The call succeeded.
    pub const OK: u8 = 1;
    /// The log says the call is a retry (`attempt` > 1 or `retry_of`).
    pub const RETRY: u8 = 2;

    pub fn ok(&self) -> bool {
        self.flags & Self::OK != 0
    }

    pub fn logged_retry(&self) -> bool {
        self.flags & Self::RETRY != 0
    }

    /// A call without input tokens (a failure refused before its prompt
    /// was read, whether or not the log says it failed): it tells nothing
    /// of the conversation's size.
    pub fn holds_no_history(&self) -> bool {
        self.input == 0
    }
}

/// Where a session's turn numbers came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TurnSource {
    /// A logged `turn` field.
    Logged,
    /// The number of user messages in the logged `messages`.
    Messages,
    /// Time order, retries folded into the turn they retry.
    Order,
}

/// One session with a turn number for each of its calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Turned<'a> {
    /// Sorted by time.
    pub calls: &'a [TurnCall],
    /// `turns[i]` is the turn of `calls[i]`, counted from 1.
    pub turns: &'a [u32],
    pub source: TurnSource,
}

impl Turned<'_> {
    /// The steps from one turn to the next whose input grew, and all
    /// steps: the first call of each turn against the first call of the
    /// turn before. A conversation that resends its history grows at
    /// (nearly) every step; sizes that merely vary grow at about half.
    pub fn growth_steps(&self) -> (u32, u32) {
        let (mut grew, mut steps) = (0, 0);
        let mut first: Option<u64> = None;
        let mut turn = None;
        for (c, &t) in self.calls.iter().zip(self.turns) {
            // A turn's first call that holds its history (a refusal
            // without tokens does not).
            if c.holds_no_history() || turn == Some(t) {
                continue;
            }
            turn = Some(t);
            if let Some(before) = first {
                steps += 1;
                grew += u32::from(c.input > before);
            }
            first = Some(c.input);
        }
        (grew, steps)
    }
}

/// Cuts time-sorted calls into sessions wherever two calls are more than
/// `gap_ms` apart.
pub fn split_by_gap(calls: &[TurnCall], gap_ms: i64) -> impl Iterator<Item = &[TurnCall]> {
    let mut rest = calls;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let end = rest
            .windows(2)
            .position(|w| w[1].millis - w[0].millis > gap_ms)
            .map_or(rest.len(), |i| i + 1);
        let (part, tail) = rest.split_at(end);
        rest = tail;
        Some(part)
    })
}

/// Whether every call has a user-message count (then they are the turns).
pub fn turns_from(calls: &[TurnCall]) -> TurnSource {
    if !calls.is_empty() && calls.iter().all(|c| c.user_messages > 0) {
        TurnSource::Messages
    } else {
        TurnSource::Order
    }
}

/// Numbers the turns of one session's time-sorted calls from `source`
/// (see the module docs) into `turns` (cleared first).
pub fn number_turns(calls: &[TurnCall], source: TurnSource, turns: &mut Vec<u32>) -> TurnSource {
    turns.clear();
    // One user-message count on every call of the session: a tool-calling
    // loop (hunt49), numbered by time order below.
    let one_count = || {
        calls.len() > 1
            && calls
                .windows(2)
                .all(|w| w[0].user_messages == w[1].user_messages)
    };
    if source == TurnSource::Messages && !one_count() {
        turns.extend(calls.iter().map(|c| c.user_messages));
        return TurnSource::Messages;
    }
    let mut turn = 0u32;
    for (i, c) in calls.iter().enumerate() {
        let retry = i > 0 && {
            let prev = &calls[i - 1];
            c.logged_retry()
                || (!prev.ok()
                    && c.prompt_fp != 0
                    && c.prompt_fp == prev.prompt_fp
                    && c.millis - prev.millis <= RETRY_WINDOW_MS)
        };
        if !retry {
            turn += 1;
        }
        turns.push(turn.max(1));
    }
    TurnSource::Order
}

/// The sessions of one timeline (time-sorted calls), each given to `each`
/// with its turns: the whole timeline when it is one logged session, else
/// cut by `gap_ms`; turns numbered from the timeline's source
/// ([`turns_from`]). `turns` is scratch room, reused from one timeline to
/// the next (this runs for every sampled timeline).
pub fn each_session(
    calls: &[TurnCall],
    gap_ms: Option<i64>,
    turns: &mut Vec<u32>,
    mut each: impl FnMut(Turned<'_>),
) {
    let source = turns_from(calls);
    let mut one = |part: &[TurnCall]| {
        let source = number_turns(part, source, turns);
        each(Turned {
            calls: part,
            turns,
            source,
        });
    };
    match gap_ms {
        Some(gap) => split_by_gap(calls, gap).for_each(&mut one),
        None if calls.is_empty() => {}
        None => one(calls),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(second: i64, input: u64) -> TurnCall {
        TurnCall {
            millis: second * 1000,
            input,
            flags: TurnCall::OK,
            ..TurnCall::default()
        }
    }

    #[test]
    fn each_call_in_time_order_is_a_turn() {
        let calls = [call(0, 100), call(60, 550), call(120, 1000)];
        let mut turns = Vec::new();
        let source = number_turns(&calls, turns_from(&calls), &mut turns);
        assert_eq!(turns, [1, 2, 3]);
        assert_eq!(source, TurnSource::Order);
    }

    #[test]
    fn retries_stay_in_the_turn_they_retry() {
        let failed = |s, fp| TurnCall {
            prompt_fp: fp,
            flags: 0,
            ..call(s, 500)
        };
        let again = |s, fp| TurnCall {
            prompt_fp: fp,
            ..call(s, 500)
        };
        let calls = [
            call(0, 100),
            // Turn 2 fails and is sent again 5 s later with the same prompt.
            failed(100, 7),
            again(105, 7),
            // A logged retry (attempt 2) of a call that succeeded.
            TurnCall {
                flags: TurnCall::OK | TurnCall::RETRY,
                ..call(110, 500)
            },
            // Same prompt after a failure, but 2 minutes later: a new turn.
            failed(200, 9),
            again(320, 9),
            // A different prompt right after a failure: a new turn.
            again(325, 10),
        ];
        let mut turns = Vec::new();
        number_turns(&calls, TurnSource::Order, &mut turns);
        assert_eq!(turns, [1, 2, 2, 2, 3, 4, 5]);
    }

    #[test]
    fn user_messages_give_the_turn_when_every_call_has_them() {
        let with = |s, n| TurnCall {
            user_messages: n,
            ..call(s, 100)
        };
        // A retry repeats the message count; a skipped logged turn stays.
        let calls = [with(0, 1), with(10, 2), with(12, 2), with(30, 4)];
        let mut turns = Vec::new();
        assert_eq!(
            number_turns(&calls, turns_from(&calls), &mut turns),
            TurnSource::Messages
        );
        assert_eq!(turns, [1, 2, 2, 4]);
        // One call without it: time order decides for the whole session.
        let mixed = [with(0, 1), call(10, 100), with(30, 3)];
        assert_eq!(turns_from(&mixed), TurnSource::Order);
        assert_eq!(
            number_turns(&mixed, TurnSource::Order, &mut turns),
            TurnSource::Order
        );
        assert_eq!(turns, [1, 2, 3]);
    }

    #[test]
    fn an_inactivity_gap_cuts_sessions() {
        let calls = [
            call(0, 1),
            call(29 * 60, 2),
            // 30 minutes and 1 second later: a new session.
            call(59 * 60 + 1, 3),
            // Exactly 30 minutes later: the same session.
            call(89 * 60 + 1, 4),
        ];
        let parts: Vec<&[TurnCall]> = split_by_gap(&calls, DEFAULT_GAP_MS).collect();
        assert_eq!(parts, [&calls[..2], &calls[2..]]);
        let sessions = |calls: &[TurnCall], gap| {
            let mut out = Vec::new();
            each_session(calls, gap, &mut Vec::new(), |s| {
                out.push((s.calls.len(), s.turns.to_vec()))
            });
            out
        };
        assert_eq!(
            sessions(&calls, Some(DEFAULT_GAP_MS)),
            [(2, vec![1, 2]), (2, vec![1, 2])]
        );
        // A logged session is not cut.
        assert_eq!(sessions(&calls, None), [(4, vec![1, 2, 3, 4])]);
        assert!(sessions(&[], None).is_empty());
        assert!(sessions(&[], Some(DEFAULT_GAP_MS)).is_empty());
    }

    #[test]
    fn growth_steps_are_counted_between_turns() {
        // Inputs by turn: 100, 550, 500 (a retry of turn 3 at 900 is not a
        // step), 1000: steps 100→550 up, 550→500 down, 500→1000 up: 2 of 3.
        let calls = [
            call(0, 100),
            call(10, 550),
            call(20, 500),
            call(21, 900),
            call(30, 1000),
        ];
        let t = Turned {
            calls: &calls,
            turns: &[1, 2, 3, 3, 4],
            source: TurnSource::Order,
        };
        assert_eq!(t.growth_steps(), (2, 3));
        let one = Turned {
            calls: &calls[..1],
            turns: &[1],
            source: TurnSource::Order,
        };
        assert_eq!(one.growth_steps(), (0, 0));
    }
}
