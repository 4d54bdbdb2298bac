//! The words of the Discord side of the communication figures: `/setup`'s engagement settings
//! and `/engagement`'s answers, in English and French. Apart from `CommandTexts` so that the
//! support and the community halves grow without touching each other.

use crate::domain::Locale;

/// `{…}` marks what the caller fills in.
pub struct CommunityTexts {
    /// A channel that cannot hold posts: `{channel}`.
    pub engagement_channel_kind: &'static str,
    pub changed_tracking: &'static str,
    pub changed_untracked: &'static str,
    /// `/setup remove_engagement_channel` on a channel that was not tracked.
    pub not_tracked: &'static str,
    pub changed_community_role: &'static str,
    pub cleared_community_role: &'static str,
    /// `/setup` shows the engagement settings with this, `{channels}` and `{role}`.
    pub describe: &'static str,
    pub kind_text: &'static str,
    pub kind_forum: &'static str,
    pub not_allowed: &'static str,
    /// `/engagement theme:` names no theme of the window or the previous one: `{theme}`.
    pub unknown_theme: &'static str,
    /// Under the figures when the guild tracks no channel yet.
    pub nothing_tracked: &'static str,
    pub previous: &'static str,
    pub top_posts: &'static str,
    pub themes: &'static str,
}

pub const EN: CommunityTexts = CommunityTexts {
    engagement_channel_kind: "{channel} cannot hold posts: choose a text, announcement or forum channel.",
    changed_tracking: "engagement tracked in {value}",
    changed_untracked: "engagement no longer tracked in {value}",
    not_tracked: "{channel} is not tracked for engagement: nothing to remove.",
    changed_community_role: "community role: {value}",
    cleared_community_role: "community role: none",
    describe: "engagement channels: {channels}\ncommunity role (may use /engagement): {role}",
    kind_text: "text",
    kind_forum: "forum",
    not_allowed: "Only agents, the community role and members with Manage Server can see the engagement figures.",
    unknown_theme: "No post of this period or the previous one has the theme `{theme}`.",
    nothing_tracked: "No channel is tracked yet: an admin adds one with `/setup engagement_channel`.",
    previous: "previous",
    top_posts: "Top posts",
    themes: "Themes",
};

pub const FR: CommunityTexts = CommunityTexts {
    engagement_channel_kind: "{channel} ne peut pas contenir de publications : choisissez un salon textuel, d'annonces ou un forum.",
    changed_tracking: "engagement suivi dans {value}",
    changed_untracked: "engagement plus suivi dans {value}",
    not_tracked: "{channel} n'est pas suivi pour l'engagement : rien à retirer.",
    changed_community_role: "rôle communauté : {value}",
    cleared_community_role: "rôle communauté : aucun",
    describe: "salons suivis pour l'engagement : {channels}\nrôle communauté (peut utiliser /engagement) : {role}",
    kind_text: "texte",
    kind_forum: "forum",
    not_allowed: "Seuls les agents, le rôle communauté et les membres avec Gérer le serveur peuvent voir les chiffres d'engagement.",
    unknown_theme: "Aucune publication de cette période ni de la précédente n'a le thème `{theme}`.",
    nothing_tracked: "Aucun salon n'est encore suivi : un admin en ajoute un avec `/setup engagement_channel`.",
    previous: "précédente",
    top_posts: "Meilleures publications",
    themes: "Thèmes",
};

pub fn community_texts(locale: Locale) -> &'static CommunityTexts {
    match locale {
        Locale::En => &EN,
        Locale::Fr => &FR,
    }
}
