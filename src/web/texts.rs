//! The dashboard's own words, in English and French (the report's figures use `crate::i18n`).

use crate::domain::Locale;

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
    pub period: &'static str,
    pub today: &'static str,
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
    pub when: &'static str,
    pub conversation: &'static str,
    pub timeline: &'static str,
    pub customer: &'static str,
    pub note: &'static str,
    pub closed: &'static str,
    pub survey_sent: &'static str,
    pub no_transcript: &'static str,
    pub overview: &'static str,
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
    period: "Period",
    today: "today",
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
    when: "When",
    conversation: "Conversation",
    timeline: "Timeline",
    customer: "Customer",
    note: "Note by",
    closed: "Closed",
    survey_sent: "Survey sent",
    no_transcript: "This server does not keep transcripts: only who wrote when is shown (/setup transcripts:True keeps them from then on).",
    overview: "Overview",
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
    period: "Période",
    today: "aujourd'hui",
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
    when: "Quand",
    conversation: "Conversation",
    timeline: "Déroulé",
    customer: "Client",
    note: "Note interne de",
    closed: "Clôturée",
    survey_sent: "Enquête envoyée",
    no_transcript: "Ce serveur ne garde pas les transcriptions : seuls les auteurs et les heures sont affichés (/setup transcripts:True les garde à partir de là).",
    overview: "Vue d'ensemble",
};

/// The texts of `lang`, English when none is chosen.
pub fn pick(lang: Option<Lang>) -> &'static WebTexts {
    match lang {
        Some(Lang::Fr) => FR,
        _ => EN,
    }
}
