//! The words reactif shows people, in English and French, chosen by the guild's locale.

use crate::domain::Locale;

mod commands;
mod community;
pub use commands::CommandTexts;
pub use community::{community_texts, CommunityTexts};

pub struct Texts {
    /// The slash commands' answers.
    pub cmd: &'static CommandTexts,
    pub report_title: &'static str,
    pub window: &'static str,
    pub messages_received: &'static str,
    pub conversations: &'static str,
    pub requests: &'static str,
    pub answered: &'static str,
    pub unanswered: &'static str,
    pub pending: &'static str,
    pub response_rate: &'static str,
    pub response_delay: &'static str,
    pub business_hours_delay: &'static str,
    pub first_response: &'static str,
    pub mean: &'static str,
    pub median: &'static str,
    pub surveys_sent: &'static str,
    pub survey_response_rate: &'static str,
    pub average_rating: &'static str,
    pub csat: &'static str,
    pub badge_awarded: &'static str,
    pub badge_not_awarded: &'static str,
    pub badge_rate_short: &'static str,
    pub badge_delay_over: &'static str,
    pub badge_no_rate: &'static str,
    pub badge_no_delay: &'static str,
    pub load_alert: &'static str,
    pub no_load_alert: &'static str,
    /// The load alert's detail: `{requests}` is a signed percentage, `{against}` one of the two
    /// `against_*` below.
    pub load_alert_detail: &'static str,
    pub load_alert_rate: &'static str,
    pub load_alert_mean: &'static str,
    pub against_previous_window: &'static str,
    pub against_previous_7_days: &'static str,
    pub statistic_mean: &'static str,
    pub statistic_median: &'static str,
    pub guild: &'static str,
    /// `reactif demo`'s summary lines.
    pub demo_generated: &'static str,
    pub demo_chart: &'static str,
    pub demo_try: &'static str,
    pub demo_dashboard: &'static str,
    pub previous: &'static str,
    pub agents: &'static str,
    pub agent: &'static str,
    pub chart_requests: &'static str,
    pub chart_median_delay: &'static str,
    pub chart_csat: &'static str,
    pub survey_question: &'static str,
    pub survey_add_comment: &'static str,
    pub survey_thanks: &'static str,
    pub survey_not_yours: &'static str,
    pub survey_closed: &'static str,
    pub survey_withdrawn: &'static str,
    pub comment_title: &'static str,
    pub comment_label: &'static str,
    pub comment_saved: &'static str,
    pub ticket_ack: &'static str,
    pub ticket_closed_customer: &'static str,
    pub ticket_closed_staff: &'static str,
    /// In a ticket thread, to someone who is neither agent nor admin (once per person).
    pub not_an_agent: &'static str,
    /// To a customer whose relayed message Discord refused for good.
    pub relay_refused_customer: &'static str,
    /// To a customer whose team's staff channel is gone.
    pub team_unreachable: &'static str,
    pub comment_empty: &'static str,
    /// A comment over the cap (1,000 characters).
    pub comment_too_long: &'static str,
    /// `/stats` while the database cannot write: `{n}` messages waiting for `{age}`.
    pub store_backlog: &'static str,
    pub not_allowed_stats: &'static str,
    pub not_allowed_setup: &'static str,
    pub no_data: &'static str,
    /// `/dashboard`'s answer, with `{url}`.
    pub dashboard_link: &'static str,
    /// `/dashboard` on a bot without DASHBOARD_URL.
    pub dashboard_off: &'static str,
    pub relay_refused_dms_closed: &'static str,
    pub relay_refused: &'static str,
    pub outbox_backlog: &'static str,
    /// A count that was 0 in the previous window.
    pub trend_new: &'static str,
    pub now: &'static str,
    pub sla_title: &'static str,
    pub sla_clock_calendar: &'static str,
    pub sla_clock_business: &'static str,
    /// Over several guilds whose SLA clocks differ.
    pub sla_clock_mixed: &'static str,
    pub sla_first_response: &'static str,
    pub sla_next_response: &'static str,
    pub sla_resolution: &'static str,
    pub sla_target: &'static str,
    /// Over several guilds whose targets differ.
    pub sla_target_mixed: &'static str,
    pub sla_off: &'static str,
    pub sla_met: &'static str,
    pub sla_missed: &'static str,
    pub sla_in_progress: &'static str,
    pub resolved: &'static str,
    pub lapsed: &'static str,
    pub open: &'static str,
    pub resolution_time: &'static str,
    pub busiest_hours: &'static str,
    /// Monday first.
    pub weekdays: [&'static str; 7],
    pub agent_sla_first: &'static str,
    pub agent_sla_next: &'static str,
    pub surveys: &'static str,
    pub rating: &'static str,
    pub heatmap_title: &'static str,
    pub heatmap_requests: &'static str,
    pub heatmap_median_delay: &'static str,
    pub heatmap_hour: &'static str,
    pub chart_previous_window: &'static str,
    pub chart_current_window: &'static str,
    pub chart_partial_day: &'static str,
    /// The warning before a breach. `{roles}` the agent roles, `{where}` the conversation (in
    /// the alert channel) or nothing (in the ticket thread), `{target}`, `{duration}`, and
    /// `{deadline}` a Discord timestamp.
    pub sla_warning: &'static str,
    /// `{where}` in an alert channel: `{channel}` is the conversation's channel mention.
    pub sla_where: &'static str,
    /// The breach line in the alert channel.
    pub sla_breach: &'static str,
    /// Told the customer when the bot closes a silent conversation (`{duration}`).
    pub auto_closed_customer: &'static str,
    /// Told the agents in the ticket thread before it is archived (`{duration}`).
    pub auto_closed_staff: &'static str,
    /// `/sla`: the reply's words.
    pub sla_saved: &'static str,
    pub sla_nothing_changed: &'static str,
    pub sla_settings_help: &'static str,
}

pub const EN: Texts = Texts {
    cmd: &commands::EN,
    report_title: "Support report",
    window: "Window",
    messages_received: "Messages received",
    conversations: "Conversations",
    requests: "Requests",
    answered: "answered",
    unanswered: "unanswered",
    pending: "pending",
    response_rate: "Response rate",
    response_delay: "Response delay",
    business_hours_delay: "Business-hours delay",
    first_response: "First response time",
    mean: "mean",
    median: "median",
    surveys_sent: "Surveys sent",
    survey_response_rate: "Survey response rate",
    average_rating: "Average rating",
    csat: "CSAT",
    badge_awarded: "Very responsive: awarded",
    badge_not_awarded: "Very responsive: not awarded",
    badge_rate_short: "response rate {actual} is {short} short of {required}",
    badge_delay_over: "{statistic} delay {actual} is {over} over the {limit} limit",
    badge_no_rate: "no answered or unanswered request in the last 7 days",
    badge_no_delay: "no answered request in the last 7 days",
    load_alert: "Load is rising while responsiveness falls: add agents",
    no_load_alert: "No load alert",
    load_alert_detail: "requests {requests} vs {against}",
    load_alert_rate: "response rate {points}",
    load_alert_mean: "mean delay {percent}",
    against_previous_window: "the previous window",
    against_previous_7_days: "the previous 7 days",
    statistic_mean: "mean",
    statistic_median: "median",
    guild: "Guild",
    demo_generated: "Generated {events} events ({weeks} weeks of support traffic for guild {guild}) into {database} in {seconds} s.",
    demo_chart: "Chart",
    demo_try: "Try",
    demo_dashboard: "Dashboard on these data, no Discord needed: reactif dashboard --demo (prints a link to open)",
    previous: "previous",
    agents: "Agents",
    agent: "Agent",
    chart_requests: "Requests per day",
    chart_median_delay: "Median response delay (min)",
    chart_csat: "CSAT (%)",
    survey_question: "How satisfied are you with this answer?",
    survey_add_comment: "Add a comment",
    survey_thanks: "Thank you! Your rating: {rating}/5",
    survey_not_yours: "This survey is for someone else.",
    survey_closed: "This survey is closed.",
    survey_withdrawn: "This survey was replaced by a newer one.",
    comment_title: "Your comment",
    comment_label: "What could we do better?",
    comment_saved: "Thank you, your comment was saved.",
    ticket_ack: "Thanks for your message: the support team has it and will answer here.",
    ticket_closed_customer: "This conversation is closed. Write again any time to open a new one.",
    ticket_closed_staff: "Ticket closed.",
    store_backlog: "⚠ {n} message(s) waiting for the database (it cannot write) for {age}; nothing is lost: they are stored as soon as it can.",
    comment_empty: "The comment is empty: nothing was saved.",
    comment_too_long: "The comment is longer than 1,000 characters: nothing was saved. Please shorten it.",
    relay_refused_customer: "⚠ Discord refused to deliver this message of yours to the support team; please write again later or reach them another way:",
    team_unreachable: "⚠ The support team cannot receive messages here right now (their channel is unavailable). Your message is recorded; please try again later or reach them another way.",
    not_an_agent: "Only agents speak for Support: this message was not sent to the customer and does not count as an answer.",
    relay_refused_dms_closed:
        "⚠ The customer does not accept DMs from this bot: your message was not delivered.",
    relay_refused: "⚠ Discord refused to deliver your message to the customer; it is recorded.",
    outbox_backlog: "⚠ {n} message(s) to Discord waiting, the oldest for {age}",
    trend_new: "new",
    now: "now",
    sla_title: "Service levels",
    sla_clock_calendar: "calendar clock",
    sla_clock_business: "business-hours clock",
    sla_clock_mixed: "each guild's clock",
    sla_first_response: "First response",
    sla_next_response: "Next response",
    sla_resolution: "Resolution",
    sla_target: "target",
    sla_target_mixed: "targets per guild",
    sla_off: "no target",
    sla_met: "met",
    sla_missed: "missed",
    sla_in_progress: "in progress",
    resolved: "resolved",
    lapsed: "lapsed",
    open: "open",
    resolution_time: "Resolution time",
    busiest_hours: "Busiest hours",
    weekdays: ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
    agent_sla_first: "SLA 1st",
    agent_sla_next: "SLA next",
    surveys: "surveys",
    rating: "rating",
    heatmap_title: "Requests by weekday and hour",
    heatmap_requests: "requests",
    heatmap_median_delay: "Median response delay by hour of the request (min)",
    heatmap_hour: "hour",
    chart_previous_window: "previous window",
    chart_current_window: "this window",
    chart_partial_day: "partial day (hours covered)",
    sla_warning: "⏰ {roles} Still unanswered{where}: the {target} target ({duration}) is missed {deadline} unless someone answers.",
    sla_where: " in {channel}",
    sla_breach: "🔴 Target missed{where}: {target} ({duration}).",
    auto_closed_customer: "This conversation was closed after {duration} without a reply from you. Write again any time to reopen it.",
    auto_closed_staff: "Closed automatically: no reply from the customer for {duration}.",
    sla_saved: "Saved:",
    sla_nothing_changed: "Nothing was changed.",
    sla_settings_help: "Targets and auto-close: a duration like 15m, 4h, 2d, or off. Clock: calendar or business (business hours only). Warning: a percentage of the target (20%), a duration (10m), or off.",
    not_allowed_stats: "Only agents and members with Manage Server can see the statistics.",
    not_allowed_setup: "Only members with Manage Server can change the setup.",
    no_data: "no data",
    dashboard_link: "Your dashboard link, for you alone (valid 10 minutes, once): {url}",
    dashboard_off: "The web dashboard is not set up on this bot: its operator sets DASHBOARD_URL (see docs/dashboard.md).",
};

pub const FR: Texts = Texts {
    cmd: &commands::FR,
    report_title: "Rapport du support",
    window: "Période",
    messages_received: "Messages reçus",
    conversations: "Conversations",
    requests: "Demandes",
    answered: "répondues",
    unanswered: "sans réponse",
    pending: "en attente",
    response_rate: "Taux de réponse",
    response_delay: "Délai de réponse",
    business_hours_delay: "Délai en heures ouvrées",
    first_response: "Délai de première réponse",
    mean: "moyenne",
    median: "médiane",
    surveys_sent: "Enquêtes envoyées",
    survey_response_rate: "Taux de réponse aux enquêtes",
    average_rating: "Note moyenne",
    csat: "CSAT",
    badge_awarded: "Très réactif : badge obtenu",
    badge_not_awarded: "Très réactif : badge non obtenu",
    badge_rate_short: "taux de réponse {actual}, il manque {short} pour atteindre {required}",
    badge_delay_over: "délai ({statistic}) {actual}, {over} au-dessus de la limite de {limit}",
    badge_no_rate: "aucune demande répondue ou sans réponse sur les 7 derniers jours",
    badge_no_delay: "aucune demande répondue sur les 7 derniers jours",
    load_alert: "La charge augmente et la réactivité baisse : ajoutez des agents",
    no_load_alert: "Pas d'alerte de charge",
    load_alert_detail: "demandes {requests} par rapport à {against}",
    load_alert_rate: "taux de réponse {points}",
    load_alert_mean: "délai moyen {percent}",
    against_previous_window: "la période précédente",
    against_previous_7_days: "les 7 jours précédents",
    statistic_mean: "moyenne",
    statistic_median: "médiane",
    guild: "Serveur",
    demo_generated: "{events} événements générés ({weeks} semaines de trafic de support pour le serveur {guild}) dans {database} en {seconds} s.",
    demo_chart: "Graphique",
    demo_try: "Essayez",
    demo_dashboard: "Le tableau de bord sur ces données, sans Discord : reactif dashboard --demo --lang fr (affiche un lien à ouvrir)",
    previous: "précédent",
    agents: "Agents",
    agent: "Agent",
    chart_requests: "Demandes par jour",
    chart_median_delay: "Délai de réponse médian (min)",
    chart_csat: "CSAT (%)",
    survey_question: "Êtes-vous satisfait(e) de cette réponse ?",
    survey_add_comment: "Ajouter un commentaire",
    survey_thanks: "Merci ! Votre note : {rating}/5",
    survey_not_yours: "Cette enquête est destinée à quelqu'un d'autre.",
    survey_closed: "Cette enquête est close.",
    survey_withdrawn: "Cette enquête a été remplacée par une plus récente.",
    comment_title: "Votre commentaire",
    comment_label: "Que pourrions-nous améliorer ?",
    comment_saved: "Merci, votre commentaire est enregistré.",
    ticket_ack: "Merci pour votre message : l'équipe du support l'a reçu et vous répondra ici.",
    ticket_closed_customer:
        "Cette conversation est close. Écrivez-nous à tout moment pour en ouvrir une nouvelle.",
    ticket_closed_staff: "Ticket clos.",
    store_backlog: "⚠ {n} message(s) en attente de la base de données (elle ne peut pas écrire) depuis {age} ; rien n'est perdu : ils seront enregistrés dès qu'elle le pourra.",
    comment_empty: "Le commentaire est vide : rien n'a été enregistré.",
    comment_too_long: "Le commentaire dépasse 1 000 caractères : rien n'a été enregistré. Merci de le raccourcir.",
    relay_refused_customer: "⚠ Discord a refusé de remettre ce message à l'équipe de support ; réécrivez plus tard ou joignez-la autrement :",
    team_unreachable: "⚠ L'équipe de support ne peut pas recevoir de messages ici pour le moment (son salon est indisponible). Votre message est enregistré ; réessayez plus tard ou joignez-la autrement.",
    not_an_agent: "Seuls les agents parlent au nom du support : ce message n'a pas été transmis au client et ne compte pas comme une réponse.",
    relay_refused_dms_closed:
        "⚠ Le client n'accepte pas les messages privés de ce bot : votre message n'a pas été remis.",
    relay_refused: "⚠ Discord a refusé de remettre votre message au client ; il est enregistré.",
    outbox_backlog: "⚠ {n} message(s) vers Discord en attente, le plus ancien depuis {age}",
    trend_new: "nouveau",
    now: "maintenant",
    sla_title: "Niveaux de service",
    sla_clock_calendar: "temps calendaire",
    sla_clock_business: "temps en heures ouvrées",
    sla_clock_mixed: "horloge propre à chaque serveur",
    sla_first_response: "Première réponse",
    sla_next_response: "Réponses suivantes",
    sla_resolution: "Résolution",
    sla_target: "objectif",
    sla_target_mixed: "objectifs propres à chaque serveur",
    sla_off: "pas d'objectif",
    sla_met: "tenus",
    sla_missed: "manqués",
    sla_in_progress: "en cours",
    resolved: "résolues",
    lapsed: "expirées",
    open: "ouvertes",
    resolution_time: "Délai de résolution",
    busiest_hours: "Heures les plus chargées",
    weekdays: ["lun", "mar", "mer", "jeu", "ven", "sam", "dim"],
    agent_sla_first: "SLA 1re",
    agent_sla_next: "SLA suiv.",
    surveys: "enquêtes",
    rating: "note",
    heatmap_title: "Demandes par jour et par heure",
    heatmap_requests: "demandes",
    heatmap_median_delay: "Délai de réponse médian selon l'heure de la demande (min)",
    heatmap_hour: "heure",
    chart_previous_window: "période précédente",
    chart_current_window: "cette période",
    chart_partial_day: "journée partielle (heures couvertes)",
    sla_warning: "⏰ {roles} Toujours sans réponse{where} : l'objectif {target} ({duration}) sera manqué {deadline} si personne ne répond.",
    sla_where: " dans {channel}",
    sla_breach: "🔴 Objectif manqué{where} : {target} ({duration}).",
    auto_closed_customer: "Cette conversation a été fermée après {duration} sans réponse de votre part. Écrivez à nouveau à tout moment pour la rouvrir.",
    auto_closed_staff: "Fermée automatiquement : pas de réponse du client depuis {duration}.",
    sla_saved: "Enregistré :",
    sla_nothing_changed: "Rien n'a été modifié.",
    sla_settings_help: "Objectifs et fermeture automatique : une durée comme 15m, 4h, 2d, ou off. Horloge : calendar (calendaire) ou business (heures ouvrées seulement). Avertissement : un pourcentage de l'objectif (20%), une durée (10m), ou off.",
    not_allowed_stats:
        "Seuls les agents et les membres avec « Gérer le serveur » peuvent voir les statistiques.",
    not_allowed_setup:
        "Seuls les membres avec « Gérer le serveur » peuvent modifier la configuration.",
    no_data: "aucune donnée",
    dashboard_link: "Votre lien vers le tableau de bord, pour vous seul (valable 10 minutes, une fois) : {url}",
    dashboard_off: "Le tableau de bord web n'est pas installé sur ce bot : son opérateur doit définir DASHBOARD_URL (voir docs/dashboard.md).",
};

pub fn texts(locale: Locale) -> &'static Texts {
    match locale {
        Locale::En => &EN,
        Locale::Fr => &FR,
    }
}

/// The words of the engagement report (docs/engagement.md). Kept apart from `Texts` so that the
/// support and the community halves can grow without touching each other.
pub struct EngagementTexts {
    /// Window, now, "new" and the other words both reports share.
    pub common: &'static Texts,
    pub title: &'static str,
    pub guild: &'static str,
    pub theme: &'static str,
    /// The theme of posts without any (`untagged` in JSON and CSV, which are a contract).
    pub untagged: &'static str,
    /// `reactif demo`'s line before the engagement report: `{events}`, `{weeks}`.
    pub demo_intro: &'static str,
    pub posts: &'static str,
    /// `{n}`: how many of the window's posts are still inside their engagement window.
    pub maturing: &'static str,
    pub reactions: &'static str,
    pub replies: &'static str,
    pub engagements: &'static str,
    pub engaged_users: &'static str,
    pub unique_engaged_users: &'static str,
    pub audience: &'static str,
    pub engagement_rate: &'static str,
    pub mean_post_engagement_rate: &'static str,
    /// Said wherever the audience is shown: Discord has no view counts.
    pub audience_note: &'static str,
    pub no_posts: &'static str,
    pub themes: &'static str,
    pub top_posts: &'static str,
    /// Column heads of the theme table.
    pub col_posts: &'static str,
    pub col_engagements: &'static str,
    pub col_users: &'static str,
    pub col_audience: &'static str,
    pub col_rate: &'static str,
    pub col_mean_rate: &'static str,
    pub col_trend: &'static str,
    /// One top post: `{engagements} {reactions} {replies} {users} {audience} {rate}`.
    pub top_post_line: &'static str,
    pub chart_engagements: &'static str,
    pub chart_theme_rates: &'static str,
    pub chart_current: &'static str,
    pub chart_previous: &'static str,
    /// Under the chart: what the rate is made of.
    pub chart_note: &'static str,
}

pub const ENGAGEMENT_EN: EngagementTexts = EngagementTexts {
    common: &EN,
    title: "Engagement report",
    guild: "Guild",
    theme: "Theme",
    untagged: "untagged",
    demo_intro: "And the community half: {events} events (posts, reactions, replies) over {weeks} weeks.",
    posts: "Posts",
    maturing: "{n} still maturing",
    reactions: "Reactions",
    replies: "Replies",
    engagements: "Engagements",
    engaged_users: "Engaged users (sum over posts)",
    unique_engaged_users: "Unique engaged users",
    audience: "Audience (ceiling of reach)",
    engagement_rate: "Engagement rate",
    mean_post_engagement_rate: "Mean post engagement rate",
    audience_note: "Audience is a ceiling of the reach (the members who could see a post), not a count of views: Discord gives no view counts. Engaged users are a floor (those who visibly reacted or replied).",
    no_posts: "No post in this window.",
    themes: "Themes",
    top_posts: "Top posts",
    col_posts: "posts",
    col_engagements: "engagements",
    col_users: "users",
    col_audience: "audience",
    col_rate: "rate",
    col_mean_rate: "mean rate",
    col_trend: "vs previous",
    top_post_line: "engagements {engagements} (reactions {reactions}, replies {replies}) · users {users} · audience {audience} · rate {rate}",
    chart_engagements: "Engagements per day (by day of posting)",
    chart_theme_rates: "Engagement rate per theme (%)",
    chart_current: "this window",
    chart_previous: "previous window",
    chart_note: "rate = engagements / audience; the audience is a ceiling of the reach, not a count of views (Discord gives no view counts)",
};

pub const ENGAGEMENT_FR: EngagementTexts = EngagementTexts {
    common: &FR,
    title: "Rapport d'engagement",
    guild: "Serveur",
    theme: "Thème",
    untagged: "sans thème",
    demo_intro: "Et la moitié communauté : {events} événements (publications, réactions, réponses) sur {weeks} semaines.",
    posts: "Publications",
    maturing: "{n} encore dans leur fenêtre d'engagement",
    reactions: "Réactions",
    replies: "Réponses",
    engagements: "Engagements",
    engaged_users: "Membres engagés (somme par publication)",
    unique_engaged_users: "Membres engagés distincts",
    audience: "Audience (plafond de la portée)",
    engagement_rate: "Taux d'engagement",
    mean_post_engagement_rate: "Taux d'engagement moyen par publication",
    audience_note: "L'audience est un plafond de la portée (les membres qui pouvaient voir une publication), pas un nombre de vues : Discord ne donne aucun nombre de vues. Les membres engagés en sont un plancher (ceux qui ont visiblement réagi ou répondu).",
    no_posts: "Aucune publication sur cette période.",
    themes: "Thèmes",
    top_posts: "Meilleures publications",
    col_posts: "publications",
    col_engagements: "engagements",
    col_users: "membres",
    col_audience: "audience",
    col_rate: "taux",
    col_mean_rate: "taux moyen",
    col_trend: "évolution",
    top_post_line: "engagements {engagements} (réactions {reactions}, réponses {replies}) · membres {users} · audience {audience} · taux {rate}",
    chart_engagements: "Engagements par jour (jour de publication)",
    chart_theme_rates: "Taux d'engagement par thème (%)",
    chart_current: "cette période",
    chart_previous: "période précédente",
    chart_note: "taux = engagements / audience ; l'audience est un plafond de la portée, pas un nombre de vues (Discord ne donne aucun nombre de vues)",
};

impl Texts {
    /// The badge's delay statistic in this language.
    pub fn statistic(&self, s: crate::domain::BadgeStatistic) -> &'static str {
        match s {
            crate::domain::BadgeStatistic::Mean => self.statistic_mean,
            crate::domain::BadgeStatistic::Median => self.statistic_median,
        }
    }
}

impl EngagementTexts {
    /// A theme as people read it: the contract's `untagged` in their language.
    pub fn theme_name<'a>(&self, theme: &'a str) -> &'a str {
        if theme == crate::domain::engagement::UNTAGGED {
            self.untagged
        } else {
            theme
        }
    }
}

pub fn engagement_texts(locale: Locale) -> &'static EngagementTexts {
    match locale {
        Locale::En => &ENGAGEMENT_EN,
        Locale::Fr => &ENGAGEMENT_FR,
    }
}

/// What reactif tells people about its limits and about forgetting them.
pub struct LimitTexts {
    /// `{own}`: their conversations anonymised; `{others}`: other people's conversations
    /// where only their words were removed.
    pub forget_me_done: &'static str,
    /// `{wait}`: how long before they may ask again.
    pub forget_me_too_soon: &'static str,
    /// `{wait}`: how long before the command may be used again.
    pub command_cooldown: &'static str,
    pub stats_busy: &'static str,
    /// `{limit}`: the most rows an export holds.
    pub export_capped: &'static str,
    /// `{n}`: the most events a channel's report replays.
    pub channel_too_large: &'static str,
}

pub const LIMITS_EN: LimitTexts = LimitTexts {
    forget_me_done: "Done: {own} conversation(s) of yours no longer carry your id, and your words in {others} conversation(s) of other people are removed (theirs stay as they are); your reactions and replies to the community's posts no longer carry your id either. Anonymous counts stay for the team's statistics.",
    forget_me_too_soon: "Your data was already erased less than an hour ago; you can ask again in {wait}.",
    command_cooldown: "Slow down a little: you can use this command again in {wait}.",
    stats_busy: "Another large report of this server is being prepared; please try again in a minute.",
    export_capped: "The export was cut at {limit} requests; choose a shorter window to get them all.",
    channel_too_large: "This channel holds more than {n} events: too many for a channel report. Leave `channel` out for the whole server's report.",
};

pub const LIMITS_FR: LimitTexts = LimitTexts {
    forget_me_done: "C'est fait : {own} conversation(s) à vous ne portent plus votre identifiant, et vos messages dans {others} conversation(s) d'autres personnes sont effacés (les leurs restent tels quels) ; vos réactions et réponses aux publications de la communauté ne portent plus votre identifiant non plus. Les comptes anonymes restent pour les statistiques de l'équipe.",
    forget_me_too_soon: "Vos données ont déjà été effacées il y a moins d'une heure ; vous pourrez redemander dans {wait}.",
    command_cooldown: "Doucement : vous pourrez réutiliser cette commande dans {wait}.",
    stats_busy: "Un autre gros rapport de ce serveur est en préparation ; réessayez dans une minute.",
    export_capped: "L'export a été coupé à {limit} demandes ; choisissez une période plus courte pour les avoir toutes.",
    channel_too_large: "Ce salon contient plus de {n} événements : trop pour un rapport par salon. Retirez `channel` pour le rapport de tout le serveur.",
};

pub fn limit_texts(locale: Locale) -> &'static LimitTexts {
    match locale {
        Locale::En => &LIMITS_EN,
        Locale::Fr => &LIMITS_FR,
    }
}

/// A text in both languages, where no guild says which (a DM): English, then French.
pub fn both(text: impl Fn(&LimitTexts) -> &'static str) -> String {
    format!("{} / {}", text(&LIMITS_EN), text(&LIMITS_FR))
}
