//! Trouble on demand: answers a driver queues for the next calls of a method or to a chat
//! (429, 5xx, a lost answer), and an optional rate limiter with Telegram's sending limits.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

/// What a faulty call answers instead of the real thing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// 429 "Too Many Requests: retry after N" with `parameters.retry_after`.
    TooManyRequests { retry_after: u32 },
    /// 502 Bad Gateway: nginx's HTML page (`html`), as a proxy in front of the Bot API
    /// gives during an outage, or Telegram's JSON error.
    BadGateway { html: bool },
    /// 500 Internal Server Error, as JSON.
    InternalError,
    /// The call takes effect, but the answer is lost: 502 with the HTML page. The sender
    /// cannot tell this from a call that never arrived.
    LostAnswer,
}

/// How long a rule lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lifetime {
    Times(u32),
    Until(Instant),
    Forever,
}

/// A fault for the calls that match: of one method (or any), to one chat (or any), the
/// next `n` times or for a while.
///
/// ```
/// use butler_emulator::{Fault, FaultRule};
/// use std::time::Duration;
/// let storm = FaultRule::new(Fault::TooManyRequests { retry_after: 1 })
///     .method("sendMessage")
///     .times(3);
/// let outage = FaultRule::new(Fault::BadGateway { html: true }).for_duration(Duration::from_secs(5));
/// # let _ = (storm, outage);
/// ```
#[derive(Debug, Clone)]
pub struct FaultRule {
    pub(crate) fault: Fault,
    method: Option<String>,
    chat: Option<i64>,
    lifetime: Lifetime,
    duration: Option<Duration>,
}

impl FaultRule {
    /// Every call, until removed; narrow it with the methods below.
    pub fn new(fault: Fault) -> Self {
        Self {
            fault,
            method: None,
            chat: None,
            lifetime: Lifetime::Forever,
            duration: None,
        }
    }

    /// Only calls of `method` (case-insensitive, like the Bot API).
    pub fn method(mut self, method: &str) -> Self {
        self.method = Some(method.to_ascii_lowercase());
        self
    }

    /// Only calls whose `chat_id` is `chat`.
    pub fn chat(mut self, chat: i64) -> Self {
        self.chat = Some(chat);
        self
    }

    /// The next `n` matching calls.
    pub fn times(mut self, n: u32) -> Self {
        self.lifetime = Lifetime::Times(n);
        self
    }

    /// Every matching call for `d` from when the rule is injected.
    pub fn for_duration(mut self, d: Duration) -> Self {
        self.duration = Some(d);
        self
    }

    /// Fixes a duration's end once the rule is queued.
    pub(crate) fn armed(mut self, now: Instant) -> Self {
        if let Some(d) = self.duration.take() {
            self.lifetime = Lifetime::Until(now + d);
        }
        self
    }

    fn live(&self, now: Instant) -> bool {
        match self.lifetime {
            Lifetime::Times(n) => n > 0,
            Lifetime::Until(t) => now < t,
            Lifetime::Forever => true,
        }
    }

    fn matches(&self, method: &str, chat: Option<i64>) -> bool {
        self.method.as_deref().is_none_or(|m| m == method)
            && self.chat.is_none_or(|c| Some(c) == chat)
    }
}

/// The queued rules, first match wins.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    rules: Vec<FaultRule>,
}

impl Faults {
    pub fn push(&mut self, rule: FaultRule, now: Instant) {
        self.rules.push(rule.armed(now));
    }

    pub fn clear(&mut self) {
        self.rules.clear();
    }

    /// The fault for this call, if a rule matches; a counted rule is used up by it.
    pub fn take(&mut self, method_lower: &str, chat: Option<i64>, now: Instant) -> Option<Fault> {
        self.rules.retain(|r| r.live(now));
        let rule = self
            .rules
            .iter_mut()
            .find(|r| r.matches(method_lower, chat))?;
        if let Lifetime::Times(n) = &mut rule.lifetime {
            *n -= 1;
        }
        Some(rule.fault.clone())
    }

    /// Whether a call would meet a fault now (without using one up).
    pub fn would_fault(&self, method_lower: &str, chat: Option<i64>, now: Instant) -> bool {
        self.rules
            .iter()
            .any(|r| r.live(now) && r.matches(method_lower, chat))
    }

    pub fn active(&self, now: Instant) -> usize {
        self.rules.iter().filter(|r| r.live(now)).count()
    }
}

/// Telegram's documented sending limits. Off unless a driver turns them on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    /// Messages per second into one chat.
    pub per_chat_per_second: usize,
    /// Messages per minute into one group or supergroup.
    pub per_group_per_minute: usize,
    /// Messages per second overall.
    pub overall_per_second: usize,
}

impl RateLimits {
    /// 1 a second per chat, 20 a minute per group, 30 a second overall.
    pub fn telegram() -> Self {
        Self {
            per_chat_per_second: 1,
            per_group_per_minute: 20,
            overall_per_second: 30,
        }
    }
}

/// Sliding windows of the messages sent, per chat and overall.
#[derive(Debug)]
pub(crate) struct Limiter {
    limits: RateLimits,
    overall: VecDeque<Instant>,
    per_chat: HashMap<i64, VecDeque<Instant>>,
}

const SECOND: Duration = Duration::from_secs(1);
const MINUTE: Duration = Duration::from_secs(60);

impl Limiter {
    pub fn new(limits: RateLimits) -> Self {
        Self {
            limits,
            overall: VecDeque::new(),
            per_chat: HashMap::new(),
        }
    }

    /// `Err(seconds to wait)` when one more message into `chat` now breaks a limit.
    pub fn check(&mut self, chat: i64, is_group: bool, now: Instant) -> Result<(), u32> {
        prune(&mut self.overall, now, SECOND);
        if self.overall.len() >= self.limits.overall_per_second {
            return Err(wait(
                &self.overall,
                now,
                SECOND,
                self.limits.overall_per_second,
            ));
        }
        let sent = self.per_chat.entry(chat).or_default();
        prune(sent, now, MINUTE);
        let last_second: VecDeque<Instant> = sent
            .iter()
            .copied()
            .filter(|t| now.duration_since(*t) < SECOND)
            .collect();
        if last_second.len() >= self.limits.per_chat_per_second {
            return Err(wait(
                &last_second,
                now,
                SECOND,
                self.limits.per_chat_per_second,
            ));
        }
        if is_group && sent.len() >= self.limits.per_group_per_minute {
            return Err(wait(sent, now, MINUTE, self.limits.per_group_per_minute));
        }
        Ok(())
    }

    pub fn record(&mut self, chat: i64, count: usize, now: Instant) {
        for _ in 0..count {
            self.overall.push_back(now);
            self.per_chat.entry(chat).or_default().push_back(now);
        }
    }
}

fn prune(q: &mut VecDeque<Instant>, now: Instant, window: Duration) {
    while q.front().is_some_and(|t| now.duration_since(*t) >= window) {
        q.pop_front();
    }
}

/// Whole seconds until the window holds fewer than `limit` entries (at least 1).
fn wait(q: &VecDeque<Instant>, now: Instant, window: Duration, limit: usize) -> u32 {
    let idx = q.len().saturating_sub(limit);
    let frees_at = q.get(idx).map_or(now, |t| *t + window);
    let secs = frees_at.saturating_duration_since(now).as_secs_f64().ceil() as u32;
    secs.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_counted_rule_is_used_up_and_matches_only_its_method_and_chat() {
        let now = Instant::now();
        let mut f = Faults::default();
        f.push(
            FaultRule::new(Fault::TooManyRequests { retry_after: 2 })
                .method("sendMessage")
                .chat(-5)
                .times(2),
            now,
        );
        assert_eq!(f.take("sendphoto", Some(-5), now), None);
        assert_eq!(f.take("sendmessage", Some(-6), now), None);
        assert!(f.take("sendmessage", Some(-5), now).is_some());
        assert!(f.take("sendmessage", Some(-5), now).is_some());
        assert_eq!(f.take("sendmessage", Some(-5), now), None);
    }

    #[test]
    fn a_timed_rule_ends() {
        let now = Instant::now();
        let mut f = Faults::default();
        f.push(
            FaultRule::new(Fault::BadGateway { html: true }).for_duration(SECOND),
            now,
        );
        assert!(f.take("getupdates", None, now).is_some());
        assert!(f.take("sendmessage", Some(1), now + SECOND / 2).is_some());
        assert_eq!(f.take("sendmessage", Some(1), now + SECOND), None);
    }

    #[test]
    fn the_limiter_allows_one_message_a_second_per_chat() {
        let t0 = Instant::now();
        let mut l = Limiter::new(RateLimits::telegram());
        assert_eq!(l.check(1, false, t0), Ok(()));
        l.record(1, 1, t0);
        assert_eq!(l.check(1, false, t0 + SECOND / 2), Err(1));
        assert_eq!(l.check(2, false, t0 + SECOND / 2), Ok(()));
        assert_eq!(l.check(1, false, t0 + SECOND), Ok(()));
    }

    #[test]
    fn the_limiter_allows_twenty_messages_a_minute_per_group() {
        let t0 = Instant::now();
        let mut l = Limiter::new(RateLimits::telegram());
        for i in 0..20 {
            let t = t0 + SECOND * 2 * i;
            assert_eq!(l.check(-1, true, t), Ok(()), "message {i}");
            l.record(-1, 1, t);
        }
        // The 21st, 40 s after the first: wait until the first is a minute old.
        assert_eq!(l.check(-1, true, t0 + SECOND * 40), Err(20));
        assert_eq!(l.check(-1, true, t0 + SECOND * 60), Ok(()));
    }
}
