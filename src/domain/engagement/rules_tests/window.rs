//! docs/engagement.md's window figures: which posts a window holds, the sums, the themes, the
//! top posts, the previous window and the filters, worked out by hand.

use super::*;

#[test]
fn a_post_belongs_to_the_window_it_was_posted_in() {
    let mut h = History::default();
    h.post(FROM, &[], 1); // at from: in
    h.post("2026-11-15T23:59:59.999Z", &[], 2); // last millisecond: in
    h.post(TO, &[], 4); // at to: out (the next window)
    h.post("2026-11-08T23:59:59.999Z", &[], 8); // the previous window
    h.post("2026-11-12T00:00:00.001Z", &[], 16); // in
    let r = h.report(FROM, TO, "2026-11-16T12:00:00Z");
    assert_eq!(
        (r.current.figures.posts, r.current.figures.audience),
        (3, 19)
    );
    assert_eq!(
        (r.previous.figures.posts, r.previous.figures.audience),
        (1, 8)
    );
    // Evaluated at 11-12 00:00, the posts after now are not there yet.
    let r = h.report(FROM, TO, "2026-11-12T00:00:00Z");
    assert_eq!(
        (r.current.figures.posts, r.current.figures.audience),
        (1, 1)
    );
}

#[test]
fn a_post_matures_while_its_window_is_not_over() {
    let mut h = History::default();
    h.post(P, &[], 1);
    let maturing = |now: &str| h.report(FROM, TO, now).current.figures.maturing;
    assert_eq!(maturing(&p_plus(7 * DAY - 1)), 1);
    assert_eq!(maturing(&p_plus(7 * DAY)), 0);
}

#[test]
fn a_post_without_audience_has_no_rate_and_stays_out_of_the_mean() {
    let mut h = History::default();
    let a = h.post(P, &[], 100);
    let b = h.post("2026-11-10T09:00:00Z", &[], 0);
    h.reply(&a, U1, &p_plus(1));
    h.reply(&a, U2, &p_plus(2));
    for u in [U1, U2, U3] {
        h.add(&b, u, "👍", "2026-11-10T10:00:00Z");
    }
    let r = h.report(FROM, TO, TO);
    let f = &r.current.figures;
    // 5 engagements over an audience of 100; the mean of the one rate there is, 2/100.
    assert_eq!(f.engagement_rate().map(|r| r.value()), Some(0.05));
    assert_eq!(f.mean_post_engagement_rate(), Some(0.02));
    let b_figures = r.current.top_posts.iter().find(|p| p.post.id == b).unwrap();
    assert_eq!(b_figures.engagement_rate(), None);
    // The post without audience alone: no rate at all.
    let only_b = h.report("2026-11-10T00:00:00Z", "2026-11-11T00:00:00Z", TO);
    assert_eq!(only_b.current.figures.engagement_rate(), None);
    assert_eq!(only_b.current.figures.mean_post_engagement_rate(), None);
}

#[test]
fn rates_are_not_clamped() {
    let mut h = History::default();
    let p = h.post(P, &[], 1);
    h.add(&p, U1, "a", &p_plus(1));
    h.add(&p, U1, "b", &p_plus(1));
    h.reply(&p, U2, &p_plus(1));
    let r = h.report(FROM, TO, TO);
    assert_eq!(
        r.current.figures.engagement_rate().map(|r| r.value()),
        Some(3.0)
    );
    assert_eq!(r.current.figures.mean_post_engagement_rate(), Some(3.0));
}

#[test]
fn engaged_users_add_up_per_post_and_unique_users_count_once() {
    let mut h = History::default();
    let a = h.post(P, &[], 10);
    let b = h.post("2026-11-10T09:00:00Z", &[], 10);
    h.add(&a, U1, "👍", &p_plus(1));
    h.reply(&b, U1, "2026-11-10T10:00:00Z");
    h.reply(&b, U2, "2026-11-10T10:00:00Z");
    let f = h.report(FROM, TO, TO).current.figures;
    // a: {U1}; b: {U1, U2}: 1 + 2 = 3 engaged users, 2 distinct.
    assert_eq!((f.engaged_users, f.unique_engaged_users), (3, 2));
}

#[test]
fn a_post_counts_once_in_each_of_its_themes() {
    let mut h = History::default();
    let a = h.post(P, &["release", "events", "release"], 100);
    let b = h.post("2026-11-10T09:00:00Z", &["events"], 50);
    h.add(&a, U1, "👍", &p_plus(1));
    h.reply(&b, U2, "2026-11-10T10:00:00Z");
    h.reply(&b, U1, "2026-11-10T10:00:00Z");
    let r = h.report(FROM, TO, TO);
    let th: Vec<(&str, u64, u64, u64, u64)> = r
        .current
        .themes
        .iter()
        .map(|t| {
            (
                t.theme.as_str(),
                t.figures.posts,
                t.figures.engagements(),
                t.figures.audience,
                t.figures.unique_engaged_users,
            )
        })
        .collect();
    // events: a + b = 2 posts, 3 engagements, audience 150, users {U1, U2}; release: a only.
    assert_eq!(
        th,
        vec![("events", 2, 3, 150, 2), ("release", 1, 1, 100, 1)]
    );
    // The window counts each post once.
    assert_eq!(
        (r.current.figures.posts, r.current.figures.audience),
        (2, 150)
    );
    assert_eq!(r.current.top_posts[1].post.themes, ["release", "events"]);
}

#[test]
fn themes_sort_by_engagements_then_by_code_point() {
    let mut h = History::default();
    for theme in ["été", "beta", "alpha", "Zeta"] {
        h.post(P, &[theme], 1);
    }
    let busy = h.post(P, &["zz"], 1);
    h.reply(&busy, U1, &p_plus(1));
    let r = h.report(FROM, TO, TO);
    let names: Vec<&str> = r.current.themes.iter().map(|t| t.theme.as_str()).collect();
    // zz has one engagement; then ties by code point: 'Z' (5A) < 'a' < 'b' < 'é' (E9).
    assert_eq!(names, ["zz", "Zeta", "alpha", "beta", "été"]);
}

#[test]
fn a_post_without_themes_is_untagged_and_imported_case_is_kept() {
    let mut h = History::default();
    h.post(P, &[], 1);
    h.post(P, &["News"], 1);
    h.post(P, &["news"], 1);
    let r = h.report(FROM, TO, TO);
    let names: Vec<&str> = r.current.themes.iter().map(|t| t.theme.as_str()).collect();
    assert_eq!(names, ["News", "news", UNTAGGED]);
}

#[test]
fn top_posts_are_the_five_most_engaged_with_ties_by_time_then_id() {
    let mut h = History::default();
    let at = |d: u32| format!("2026-11-{d:02}T09:00:00Z");
    let p9 = h.post(&at(9), &[], 1); // 0 engagements
    let p10 = h.post(&at(10), &[], 1); // 2
    let p11 = h.post(&at(11), &[], 1); // 2, later than p10
    let p12 = h.post(&at(12), &[], 1); // 1
    let p13 = h.post(&at(13), &[], 1); // 0, later than p9
    let p14 = h.post(&at(14), &[], 1); // 3
    for (post, n) in [(&p10, 2), (&p11, 2), (&p12, 1), (&p14, 3)] {
        for (i, u) in [U1, U2, U3].iter().take(n).enumerate() {
            h.add(post, u, "👍", &format!("2026-11-15T0{i}:00:00Z"));
        }
    }
    let r = h.report(FROM, TO, TO);
    let ids: Vec<&str> = r
        .current
        .top_posts
        .iter()
        .map(|p| p.post.id.as_str())
        .collect();
    // 3; 2 (p10 before p11); 1; then 0 (p9 before p13): five of six.
    assert_eq!(ids, [&p14, &p10, &p11, &p12, &p9]);
    assert!(!ids.contains(&p13.as_str()));

    // At the same time, ids compare as numbers: "900" before "1000".
    let mut h = History::default();
    let kind = || EngagementKind::Post {
        channel_id: CHANNEL.into(),
        themes: vec![],
        audience: 1,
    };
    h.push(Some("1000"), G, CM, P, kind());
    h.push(Some("900"), G, CM, P, kind());
    let r = h.report(FROM, TO, TO);
    let ids: Vec<&str> = r
        .current
        .top_posts
        .iter()
        .map(|p| p.post.id.as_str())
        .collect();
    assert_eq!(ids, ["900", "1000"]);
}

#[test]
fn the_previous_window_has_the_same_length_and_the_same_now() {
    let mut h = History::default();
    let old = h.post("2026-11-05T10:00:00Z", &["release"], 200);
    h.add(&old, U1, "👍", "2026-11-05T11:00:00Z");
    // After the previous window's end but inside the post's own window and before now: counts.
    h.reply(&old, U2, "2026-11-10T12:00:00Z");
    h.post("2026-11-01T23:59:59.999Z", &[], 7); // before the previous window
    let r = h.report(FROM, TO, "2026-11-16T12:00:00Z");
    let prev = &r.previous;
    assert_eq!(
        (prev.window.from, prev.window.to),
        (t("2026-11-02T00:00:00Z"), t(FROM))
    );
    assert_eq!(prev.window.now, t("2026-11-16T12:00:00Z"));
    assert_eq!(
        (
            prev.figures.posts,
            prev.figures.engagements(),
            prev.figures.audience
        ),
        (1, 2, 200)
    );
    assert_eq!(prev.themes.len(), 1);
    assert_eq!(prev.themes[0].theme, "release");
    assert_eq!(prev.top_posts[0].post.id, old);
    assert_eq!(r.current.figures.posts, 0);
    assert!(r.current.top_posts.is_empty() && r.current.themes.is_empty());
}

#[test]
fn the_theme_filter_keeps_the_posts_carrying_it_in_both_windows() {
    let mut h = History::default();
    let a = h.post(P, &["release", "events"], 100);
    h.post(P, &["events"], 50);
    h.post("2026-11-05T10:00:00Z", &["release"], 30);
    h.post("2026-11-05T10:00:00Z", &[], 20);
    h.add(&a, U1, "👍", &p_plus(1));
    let only = |theme: &str| Filters {
        theme: Some(theme.into()),
        ..Filters::default()
    };
    let rep = h.report_with(&[], &only("release"), FROM, TO, TO);
    assert_eq!(
        (rep.current.figures.posts, rep.current.figures.audience),
        (1, 100)
    );
    assert_eq!(
        (rep.previous.figures.posts, rep.previous.figures.audience),
        (1, 30)
    );
    // The kept posts' other themes are listed, over the kept posts only.
    let names: Vec<&str> = rep
        .current
        .themes
        .iter()
        .map(|t| t.theme.as_str())
        .collect();
    assert_eq!(names, ["events", "release"]);
    assert_eq!(rep.current.themes[0].figures.audience, 100);
    let untagged = h.report_with(&[], &only(UNTAGGED), FROM, TO, TO);
    assert_eq!(
        (
            untagged.current.figures.posts,
            untagged.previous.figures.posts
        ),
        (0, 1)
    );
}

#[test]
fn the_guild_filter_applies_to_both_windows() {
    let mut h = History::default();
    h.post_in("1", P, &[], 100);
    h.post_in("2", P, &[], 50);
    h.post_in("2", "2026-11-05T10:00:00Z", &[], 30);
    h.post_in("1", "2026-11-05T10:00:00Z", &[], 20);
    let filters = Filters {
        guild_id: Some("2".into()),
        ..Filters::default()
    };
    let rep = h.report_with(&[], &filters, FROM, TO, TO);
    assert_eq!(
        (rep.current.figures.audience, rep.previous.figures.audience),
        (50, 30)
    );
}

#[test]
fn each_guild_has_its_own_engagement_window() {
    let mut h = History::default();
    let week = h.post_in("1", P, &[], 10);
    let day = h.post_in("2", P, &[], 10);
    for p in [&week, &day] {
        h.add(p, U1, "👍", &p_plus(DAY - 1)); // inside both windows
        h.add(p, U2, "👍", &p_plus(DAY)); // outside a 1-day window
    }
    let r = h.report_with(&[("2", DAY)], &Filters::default(), FROM, TO, TO);
    let by_id = |id: &str| {
        r.current
            .top_posts
            .iter()
            .find(|p| p.post.id == id)
            .unwrap()
            .reactions
    };
    assert_eq!((by_id(&week), by_id(&day)), (2, 1));
    // The 1-day post is mature 1 day after it was posted, the 7-day one is not.
    let later = h.report_with(&[("2", DAY)], &Filters::default(), FROM, TO, &p_plus(DAY));
    assert_eq!(later.current.figures.maturing, 1);
}

#[test]
fn a_duplicated_post_id_is_its_earliest_copy() {
    let mut h = History::default();
    let kind = |audience| EngagementKind::Post {
        channel_id: CHANNEL.into(),
        themes: vec![],
        audience,
    };
    h.push(Some("5"), G, CM, "2026-11-10T09:00:00Z", kind(7));
    h.push(Some("5"), G, CM, P, kind(3));
    let r = h.report(FROM, TO, TO);
    assert_eq!(
        (r.current.figures.posts, r.current.figures.audience),
        (1, 3)
    );
}

#[test]
fn the_mean_post_rate_is_exact_in_any_order() {
    let rates = [(1, 3), (1, 7), (2, 9), (5, 1), (0, 4)];
    let sum = |order: &[usize]| {
        let mut s = RateSum::default();
        for &i in order {
            s.add(RateSum::of(rates[i].0, rates[i].1));
        }
        s
    };
    assert_eq!(sum(&[0, 1, 2, 3, 4]), sum(&[4, 2, 0, 3, 1]));
    // (1/3 + 1/7 + 2/9 + 5 + 0) / 5 = (21 + 9 + 14 + 315) / 63 / 5 = 359 / 315.
    let mean = sum(&[0, 1, 2, 3, 4]).mean().unwrap();
    assert!((mean - 359.0 / 315.0).abs() < 1e-15, "{mean}");
    assert_eq!(RateSum::of(3, 0), RateSum::default());
}

#[test]
fn the_daily_series_puts_engagements_on_the_local_day_of_the_post() {
    let mut h = History::default();
    // 23:30 UTC on the 9th is 00:30 on the 10th in Paris.
    let p = h.post("2026-11-09T23:30:00Z", &[], 10);
    h.reply(&p, U1, "2026-11-11T10:00:00Z");
    let paris = GuildRules {
        timezone: chrono_tz::Europe::Paris,
        ..GuildRules::default()
    };
    let rules = Rules {
        lookup: &|_| &paris,
        report: &paris,
    };
    let w = Window {
        from: t(FROM),
        to: t(TO),
        now: t(TO),
    };
    let r = report(&h.events, &rules, &Filters::default(), w);
    let day = |d: &str| {
        r.daily
            .iter()
            .find(|p| p.day.to_string() == d)
            .cloned()
            .unwrap()
    };
    assert_eq!(
        (day("2026-11-10").posts, day("2026-11-10").engagements),
        (1, 1)
    );
    assert_eq!(day("2026-11-09").posts, 0);
    // The series covers the previous window too: 2026-11-02 to 2026-11-16 in Paris.
    assert_eq!(r.daily.first().unwrap().day.to_string(), "2026-11-02");
    assert_eq!(r.daily.last().unwrap().day.to_string(), "2026-11-16");
}
