//! The engagement report as CSV: one row a figure with the current and previous window, first
//! over all the window's posts (an empty `theme`), then per theme.

use crate::domain::engagement::{Figures, Report, ThemeFigures};
use crate::domain::kpi::Ratio;
use crate::report::csv::field;

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

/// The figures in the JSON report's names and order.
fn rows(f: &Figures) -> [(&'static str, String); 10] {
    [
        ("posts", f.posts.to_string()),
        ("maturing", f.maturing.to_string()),
        ("reactions", f.reactions.to_string()),
        ("replies", f.replies.to_string()),
        ("engagements", f.engagements().to_string()),
        ("engaged_users", f.engaged_users.to_string()),
        ("unique_engaged_users", f.unique_engaged_users.to_string()),
        ("audience", f.audience.to_string()),
        (
            "engagement_rate",
            opt(f.engagement_rate().map(Ratio::value)),
        ),
        (
            "mean_post_engagement_rate",
            opt(f.mean_post_engagement_rate()),
        ),
    ]
}

fn push(out: &mut String, theme: &str, cur: &Figures, prev: &Figures) {
    for ((name, c), (_, p)) in rows(cur).into_iter().zip(rows(prev)) {
        out.push_str(&format!("{},{name},{c},{p}\n", field(theme)));
    }
}

fn find<'a>(themes: &'a [ThemeFigures], name: &str) -> Option<&'a Figures> {
    themes.iter().find(|t| t.theme == name).map(|t| &t.figures)
}

/// The report as CSV. Themes come in the window's order, then those only the previous window
/// had; a theme absent from a window has zero figures there.
pub fn report(r: &Report) -> String {
    let mut out = String::from("theme,figure,current,previous\n");
    push(&mut out, "", &r.current.figures, &r.previous.figures);
    let none = Figures::default();
    let (cur, prev) = (&r.current.themes, &r.previous.themes);
    for t in cur {
        push(
            &mut out,
            &t.theme,
            &t.figures,
            find(prev, &t.theme).unwrap_or(&none),
        );
    }
    for t in prev.iter().filter(|t| find(cur, &t.theme).is_none()) {
        push(&mut out, &t.theme, &none, &t.figures);
    }
    out
}
