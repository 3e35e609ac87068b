//! Turns without turn numbers, and sessions without session ids.
//!
//! A conversation's turn *n* resends turns 1…n−1; seeing it needs the calls
//! of one conversation in turn order. Most logs carry no turn number, so
//! turns are worked out from what they have, best source first:
//!
//! 1. the number of user messages in the logged `messages` (turn *n* carries
//!    *n* user messages), when every call of the timeline has it;
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
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Turned<'a> {
    /// Sorted by time.
    pub calls: &'a [TurnCall],
    /// `turns[i]` is the turn of `calls[i]`, counted from 1.
    pub turns: Vec<u32>,
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
        for (i, c) in self.calls.iter().enumerate() {
            if i == 0 || self.turns[i] != self.turns[i - 1] {
                if let Some(before) = first {
                    steps += 1;
                    grew += u32::from(c.input > before);
                }
                first = Some(c.input);
            }
        }
        (grew, steps)
    }
}

/// Cuts time-sorted calls into sessions wherever two calls are more than
/// `gap_ms` apart.
pub fn split_by_gap(calls: &[TurnCall], gap_ms: i64) -> Vec<&[TurnCall]> {
    let mut out = Vec::new();
    let mut start = 0;
    for i in 1..calls.len() {
        if calls[i].millis - calls[i - 1].millis > gap_ms {
            out.push(&calls[start..i]);
            start = i;
        }
    }
    if start < calls.len() {
        out.push(&calls[start..]);
    }
    out
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
/// (see the module docs).
pub fn number_turns(calls: &[TurnCall], source: TurnSource) -> (Vec<u32>, TurnSource) {
    if source == TurnSource::Messages {
        return (
            calls.iter().map(|c| c.user_messages).collect(),
            TurnSource::Messages,
        );
    }
    let mut turns = Vec::with_capacity(calls.len());
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
    (turns, TurnSource::Order)
}

/// The sessions of one timeline (time-sorted calls): the whole timeline
/// when it is one logged session, else cut by `gap_ms`; each with its turns,
/// numbered from the timeline's source ([`turns_from`]).
pub fn sessions(calls: &[TurnCall], gap_ms: Option<i64>) -> Vec<Turned<'_>> {
    let source = turns_from(calls);
    let parts = match gap_ms {
        Some(gap) => split_by_gap(calls, gap),
        None if calls.is_empty() => Vec::new(),
        None => vec![calls],
    };
    parts
        .into_iter()
        .map(|calls| {
            let (turns, source) = number_turns(calls, source);
            Turned {
                calls,
                turns,
                source,
            }
        })
        .collect()
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
        let (turns, source) = number_turns(&calls, turns_from(&calls));
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
        let (turns, _) = number_turns(&calls, TurnSource::Order);
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
        assert_eq!(
            number_turns(&calls, turns_from(&calls)),
            (vec![1, 2, 2, 4], TurnSource::Messages)
        );
        // One call without it: time order decides for the whole session.
        let mixed = [with(0, 1), call(10, 100), with(30, 3)];
        assert_eq!(turns_from(&mixed), TurnSource::Order);
        assert_eq!(
            number_turns(&mixed, TurnSource::Order),
            (vec![1, 2, 3], TurnSource::Order)
        );
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
        let parts = split_by_gap(&calls, DEFAULT_GAP_MS);
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0], &calls[..2]);
        assert_eq!(parts[1], &calls[2..]);
        let s = sessions(&calls, Some(DEFAULT_GAP_MS));
        assert_eq!(s.len(), 2);
        assert_eq!(s[1].turns, [1, 2]);
        // A logged session is not cut.
        assert_eq!(sessions(&calls, None).len(), 1);
        assert!(sessions(&[], None).is_empty());
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
            turns: vec![1, 2, 3, 3, 4],
            source: TurnSource::Order,
        };
        assert_eq!(t.growth_steps(), (2, 3));
        let one = Turned {
            calls: &calls[..1],
            turns: vec![1],
            source: TurnSource::Order,
        };
        assert_eq!(one.growth_steps(), (0, 0));
    }
}
