//! The dashboard's own words, in English and French (the report's figures use `crate::i18n`).

use crate::domain::Locale;
use maud::{html, Markup};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    En,
    Fr,
}

impl Lang {
    /// `?lang=fr` or `?lang=en`; anything else is no choice.
    pub fn parse(s: Option<&str>) -> Option<Lang> {
        match s {
            Some("fr") => Some(Lang::Fr),
            Some("en") => Some(Lang::En),
            _ => None,
        }
    }

    pub fn of(locale: Locale) -> Lang {
        match locale {
            Locale::En => Lang::En,
            Locale::Fr => Lang::Fr,
        }
    }

    pub fn locale(self) -> Locale {
        match self {
            Lang::En => Locale::En,
            Lang::Fr => Locale::Fr,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Fr => "fr",
        }
    }
}

pub struct WebTexts {
    pub lang: Lang,
    pub title: &'static str,
    pub login_intro: &'static str,
    pub login_discord: &'static str,
    pub login_with_command: &'static str,
    pub open_dashboard: &'static str,
    pub forbidden: &'static str,
    pub internal: &'static str,
    pub logout: &'static str,
    /// Before the period's presets, with the language's colon.
    pub period: &'static str,
    pub today: &'static str,
    /// A preset of `{n}` days (`7d` in the address).
    pub days: &'static str,
    pub from: &'static str,
    pub to: &'static str,
    pub show: &'static str,
    pub figure: &'static str,
    pub this_period: &'static str,
    pub previous_period: &'static str,
    pub change: &'static str,
    pub download_csv: &'static str,
    pub daily_requests: &'static str,
    pub no_agents: &'static str,
    pub median_delay: &'static str,
    pub no_guild: &'static str,
    pub satisfaction: &'static str,
    pub no_ratings: &'static str,
    pub rating: &'static str,
    pub comment: &'static str,
    /// A survey's comment in a timeline, quoted as the language quotes.
    pub comment_quoted: &'static str,
    pub when: &'static str,
    pub conversation: &'static str,
    pub timeline: &'static str,
    pub customer: &'static str,
    pub note: &'static str,
    pub closed: &'static str,
    pub survey_sent: &'static str,
    pub bot_message: &'static str,
    pub no_transcript: &'static str,
    pub overview: &'static str,
    pub no_data: &'static str,
    pub unit_requests: &'static str,
    pub delay_chart: &'static str,
    pub csat_chart: &'static str,
    pub distribution: &'static str,
    pub distribution_note: &'static str,
    pub median_by_hour: &'static str,
    pub median: &'static str,
    pub delay: &'static str,
    pub charts: &'static str,
    pub ratings: &'static str,
    pub not_found: &'static str,
    pub not_a_date_from: &'static str,
    pub not_a_date_to: &'static str,
    pub too_far: &'static str,
    pub bad_period: &'static str,
    pub empty_period: &'static str,
    pub oauth_not_set_up: &'static str,
    pub oauth_denied: &'static str,
    pub oauth_no_code: &'static str,
    pub oauth_not_here: &'static str,
    pub oauth_refused: &'static str,
    pub link_invalid: &'static str,
    pub link_expired: &'static str,
    pub link_used: &'static str,
    pub back: &'static str,
    pub csv: &'static str,
    pub engagement: &'static str,
}

pub const EN: &WebTexts = &WebTexts {
    lang: Lang::En,
    title: "reactif dashboard",
    login_intro: "The support figures of your Discord server, for its agents and admins.",
    login_discord: "Login with Discord",
    login_with_command: "Or type /dashboard in your server: the bot answers with a link for you alone, valid 10 minutes, once.",
    open_dashboard: "Open the dashboard",
    forbidden: "You are not an agent nor an admin (Manage Server) of this server, or it is not a server of this bot.",
    internal: "Something went wrong on our side; try again in a moment.",
    logout: "Log out",
    period: "Period:",
    today: "today",
    days: "{n}d",
    from: "From",
    to: "to (included)",
    show: "Show",
    figure: "Figure",
    this_period: "This period",
    previous_period: "Previous period",
    change: "Change",
    download_csv: "Download the requests (CSV)",
    daily_requests: "Requests per day",
    no_agents: "No agent answered in this period.",
    median_delay: "Median delay",
    no_guild: "You are logged in, but you are not an agent nor an admin of a server of this bot. Use /dashboard in the server you want to see.",
    satisfaction: "Satisfaction",
    no_ratings: "No rating in this period.",
    rating: "Rating",
    comment: "Comment",
    comment_quoted: "Comment: “{value}”",
    when: "When",
    conversation: "Conversation",
    timeline: "Timeline",
    customer: "Customer",
    note: "Note by",
    closed: "Closed",
    survey_sent: "Survey sent",
    bot_message: "Bot message",
    no_transcript: "This server does not keep transcripts: only who wrote when is shown (/setup transcripts:True keeps them from then on).",
    overview: "Overview",
    no_data: "No data for this period.",
    unit_requests: "requests",
    delay_chart: "Response delay per day: median and p90",
    csat_chart: "CSAT per day",
    distribution: "Distribution of response delays",
    distribution_note: "Share of the period's requests answered within the deadline, by delay. The buckets end where reactif's stored days count delays (59 s rather than 1 min), so that the counts are exact.",
    median_by_hour: "Median response delay by hour of the request",
    median: "median",
    delay: "Delay",
    charts: "Charts",
    ratings: "Ratings",
    not_found: "Not found: no such page, agent or conversation in this server.",
    not_a_date_from: "The first day of the period, `{value}`, is not a date: write it as `YYYY-MM-DD`, for example `2026-11-01`.",
    not_a_date_to: "The last day of the period, `{value}`, is not a date: write it as `YYYY-MM-DD`, for example `2026-11-07`.",
    too_far: "The day `{value}` is too far in the future.",
    bad_period: "Unknown period `{value}`: choose `today`, `7d`, `30d` or `90d`, or give dates.",
    empty_period: "The period is empty: the first day must come before the last.",
    oauth_not_set_up: "Login with Discord is not set up on this dashboard: its operator sets DISCORD_CLIENT_ID, DISCORD_CLIENT_SECRET and DASHBOARD_URL (docs/dashboard.md). Use /dashboard in Discord instead.",
    oauth_denied: "Discord did not authorize the login (`{value}`).",
    oauth_no_code: "Discord's answer has no code or state: start again from the dashboard's page.",
    oauth_not_here: "This login was not started here, or took too long: start again from the dashboard's page.",
    oauth_refused: "Discord refused the login (`{value}`): start again.",
    link_invalid: "This link is not a dashboard link, or it was changed.",
    link_expired: "This link has expired: ask /dashboard in Discord for a new one.",
    link_used: "This link was already used: ask /dashboard in Discord for a new one.",
    back: "Back",
    csv: "CSV",
    engagement: "Engagement",
};

pub const FR: &WebTexts = &WebTexts {
    lang: Lang::Fr,
    title: "Tableau de bord reactif",
    login_intro: "Les chiffres du support de votre serveur Discord, pour ses agents et ses admins.",
    login_discord: "Se connecter avec Discord",
    login_with_command: "Ou tapez /dashboard sur votre serveur : le bot répond par un lien pour vous seul, valable 10 minutes, une fois.",
    open_dashboard: "Ouvrir le tableau de bord",
    forbidden: "Vous n'êtes ni agent ni admin (Gérer le serveur) de ce serveur, ou ce n'est pas un serveur de ce bot.",
    internal: "Un problème de notre côté ; réessayez dans un instant.",
    logout: "Se déconnecter",
    period: "Période :",
    today: "aujourd'hui",
    days: "{n} j",
    from: "Du",
    to: "au (inclus)",
    show: "Afficher",
    figure: "Indicateur",
    this_period: "Cette période",
    previous_period: "Période précédente",
    change: "Évolution",
    download_csv: "Télécharger les demandes (CSV)",
    daily_requests: "Demandes par jour",
    no_agents: "Aucun agent n'a répondu sur cette période.",
    median_delay: "Délai médian",
    no_guild: "Vous êtes connecté, mais vous n'êtes agent ni admin d'aucun serveur de ce bot. Utilisez /dashboard sur le serveur que vous voulez voir.",
    satisfaction: "Satisfaction",
    no_ratings: "Aucune note sur cette période.",
    rating: "Note",
    comment: "Commentaire",
    comment_quoted: "Commentaire : « {value} »",
    when: "Quand",
    conversation: "Conversation",
    timeline: "Déroulé",
    customer: "Client",
    note: "Note interne de",
    closed: "Clôturée",
    survey_sent: "Enquête envoyée",
    bot_message: "Message du bot",
    no_transcript: "Ce serveur ne garde pas les transcriptions : seuls les auteurs et les heures sont affichés (/setup transcripts:True les garde à partir de là).",
    overview: "Vue d'ensemble",
    no_data: "Aucune donnée sur cette période.",
    unit_requests: "demandes",
    delay_chart: "Délai de réponse par jour : médiane et p90",
    csat_chart: "CSAT par jour",
    distribution: "Répartition des délais de réponse",
    distribution_note: "Part des demandes de la période répondues dans le délai, par délai. Les tranches s'arrêtent là où les jours enregistrés par reactif comptent les délais (59 s plutôt qu'1 min), pour que les nombres soient exacts.",
    median_by_hour: "Délai de réponse médian selon l'heure de la demande",
    median: "médiane",
    delay: "Délai",
    charts: "Graphiques",
    ratings: "Notes",
    not_found: "Introuvable : pas de page, d'agent ni de conversation de ce nom sur ce serveur.",
    not_a_date_from: "Le premier jour de la période, `{value}`, n'est pas une date : écrivez-le sous la forme `AAAA-MM-JJ`, par exemple `2026-11-01`.",
    not_a_date_to: "Le dernier jour de la période, `{value}`, n'est pas une date : écrivez-le sous la forme `AAAA-MM-JJ`, par exemple `2026-11-07`.",
    too_far: "Le jour `{value}` est trop loin dans le futur.",
    bad_period: "Période `{value}` inconnue : choisissez `today`, `7d`, `30d` ou `90d`, ou donnez des dates.",
    empty_period: "La période est vide : le premier jour doit précéder le dernier.",
    oauth_not_set_up: "La connexion avec Discord n'est pas configurée sur ce tableau de bord : son exploitant doit définir DISCORD_CLIENT_ID, DISCORD_CLIENT_SECRET et DASHBOARD_URL (docs/dashboard.md). Utilisez plutôt /dashboard dans Discord.",
    oauth_denied: "Discord n'a pas autorisé la connexion (`{value}`).",
    oauth_no_code: "La réponse de Discord n'a ni code ni état : recommencez depuis la page du tableau de bord.",
    oauth_not_here: "Cette connexion n'a pas été commencée ici, ou a pris trop de temps : recommencez depuis la page du tableau de bord.",
    oauth_refused: "Discord a refusé la connexion (`{value}`) : recommencez.",
    link_invalid: "Ce lien n'est pas un lien du tableau de bord, ou il a été modifié.",
    link_expired: "Ce lien a expiré : demandez-en un nouveau avec /dashboard dans Discord.",
    link_used: "Ce lien a déjà servi : demandez-en un nouveau avec /dashboard dans Discord.",
    back: "Retour",
    csv: "CSV",
    engagement: "Engagement",
};

impl WebTexts {
    /// A period preset's label (`today`, `7d`…, as the address writes them) in this language.
    pub fn preset(&self, preset: &str) -> String {
        if preset == "today" {
            return self.today.into();
        }
        match preset.strip_suffix('d') {
            Some(n) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => {
                self.days.replace("{n}", n)
            }
            _ => preset.into(),
        }
    }
}

/// The texts of `lang`, English when none is chosen.
pub fn pick(lang: Option<Lang>) -> &'static WebTexts {
    match lang {
        Some(Lang::Fr) => FR,
        _ => EN,
    }
}

/// Why a request cannot be answered as asked; said in the visitor's language
/// (`WebError::BadRequest`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// `from` (true) or `to` (false) is not a date.
    NotADate {
        from: bool,
        value: String,
    },
    TooFar(String),
    BadPeriod(String),
    EmptyPeriod,
    OAuthNotSetUp,
    OAuthDenied(String),
    OAuthNoCode,
    OAuthNotHere,
    OAuthRefused(String),
    LinkInvalid,
    LinkExpired,
    LinkUsed,
}

/// A template with `{value}` put in: what is between backticks is code (a value of the address,
/// typed or to type), the rest text. The value is put in once the template is split, so that
/// backticks of its own are only characters.
fn said(template: &str, value: &str) -> Markup {
    html! {
        @for (i, part) in template.split('`').enumerate() {
            @let part = part.replace("{value}", value);
            @if i % 2 == 1 { code { (part) } } @else { (part) }
        }
    }
}

impl Problem {
    pub fn say(&self, t: &WebTexts) -> Markup {
        let (template, value) = match self {
            Problem::NotADate { from: true, value } => (t.not_a_date_from, value.as_str()),
            Problem::NotADate { from: false, value } => (t.not_a_date_to, value.as_str()),
            Problem::TooFar(v) => (t.too_far, v.as_str()),
            Problem::BadPeriod(v) => (t.bad_period, v.as_str()),
            Problem::EmptyPeriod => (t.empty_period, ""),
            Problem::OAuthNotSetUp => (t.oauth_not_set_up, ""),
            Problem::OAuthDenied(v) => (t.oauth_denied, v.as_str()),
            Problem::OAuthNoCode => (t.oauth_no_code, ""),
            Problem::OAuthNotHere => (t.oauth_not_here, ""),
            Problem::OAuthRefused(v) => (t.oauth_refused, v.as_str()),
            Problem::LinkInvalid => (t.link_invalid, ""),
            Problem::LinkExpired => (t.link_expired, ""),
            Problem::LinkUsed => (t.link_used, ""),
        };
        said(template, value)
    }
}

/// The language a browser prefers among ours (`Accept-Language`, in its order), for pages
/// before a guild is known.
pub fn from_headers(headers: &axum::http::HeaderMap) -> Option<Lang> {
    let accept = headers
        .get(axum::http::header::ACCEPT_LANGUAGE)?
        .to_str()
        .ok()?;
    accept.split(',').find_map(|tag| {
        let tag = tag.split(';').next()?.trim().to_ascii_lowercase();
        match tag.get(..2)? {
            "fr" => Some(Lang::Fr),
            "en" => Some(Lang::En),
            _ => None,
        }
    })
}

/// `?lang=`, else the browser's preference, else English.
pub fn choose(query: Option<&str>, headers: &axum::http::HeaderMap) -> Lang {
    Lang::parse(query)
        .or_else(|| from_headers(headers))
        .unwrap_or(Lang::En)
}

/// `?lang=xx` for a link without other parameters, keeping the visitor's choice of language;
/// nothing when they chose none (the page is then in the guild's language, as the next one).
pub fn keep(lang: Option<&str>) -> String {
    Lang::parse(lang)
        .map(|l| format!("?lang={}", l.code()))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_browser_language_counts_only_when_the_address_does_not_say() {
        let mut h = axum::http::HeaderMap::new();
        assert_eq!(choose(None, &h), Lang::En);
        h.insert(
            axum::http::header::ACCEPT_LANGUAGE,
            "de-DE, fr-CA;q=0.8, en;q=0.5".parse().unwrap(),
        );
        assert_eq!(choose(None, &h), Lang::Fr);
        assert_eq!(choose(Some("en"), &h), Lang::En);
    }

    #[test]
    fn a_date_that_is_none_is_named_by_its_place_in_the_period_with_the_format_to_write() {
        let say = |from: bool, t: &WebTexts| {
            Problem::NotADate {
                from,
                value: "x`<".into(),
            }
            .say(t)
            .into_string()
        };
        assert_eq!(
            say(true, FR),
            "Le premier jour de la période, <code>x`&lt;</code>, n'est pas une date : \
             écrivez-le sous la forme <code>AAAA-MM-JJ</code>, par exemple <code>2026-11-01</code>."
        );
        assert_eq!(
            say(false, FR),
            "Le dernier jour de la période, <code>x`&lt;</code>, n'est pas une date : \
             écrivez-le sous la forme <code>AAAA-MM-JJ</code>, par exemple <code>2026-11-07</code>."
        );
        assert_eq!(
            say(true, EN),
            "The first day of the period, <code>x`&lt;</code>, is not a date: \
             write it as <code>YYYY-MM-DD</code>, for example <code>2026-11-01</code>."
        );
        assert!(say(false, EN).starts_with("The last day of the period, <code>x`&lt;</code>,"));
    }

    #[test]
    fn presets_read_as_each_language_writes_days() {
        let labels = |t: &WebTexts| ["today", "7d", "30d", "90d"].map(|p| t.preset(p)).join(" ");
        assert_eq!(labels(EN), "today 7d 30d 90d");
        assert_eq!(labels(FR), "aujourd'hui 7 j 30 j 90 j");
    }
}
