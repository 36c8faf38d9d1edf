//! What a guild's boosts unlock, from its premium tier and feature flags, and the small per-key
//! cooldowns some routes keep.

/// One booster-role customisation and what it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Privilege {
    pub name: &'static str,
    pub required_tier: u8,
    pub required_boosts: u32,
    /// A guild feature that must also be present (Discord rolls some out gradually).
    pub required_feature: Option<&'static str>,
    pub available: bool,
}

/// The booster-role privileges of a guild: Standard always; Color from tier 1 (2 boosts); Gradient from
/// tier 2 (7 boosts) with `ENHANCED_ROLE_COLORS`; Icon from tier 2 with `ROLE_ICONS`.
pub fn booster_privileges(premium_tier: u8, features: &[String]) -> [Privilege; 4] {
    let has = |feature: &str| features.iter().any(|f| f == feature);
    let rule = |name, required_tier, required_boosts, required_feature: Option<&'static str>| Privilege {
        name,
        required_tier,
        required_boosts,
        required_feature,
        available: premium_tier >= required_tier && required_feature.is_none_or(has),
    };
    [
        rule("Standard", 0, 0, None),
        rule("Color", 1, 2, None),
        rule("Gradient", 2, 7, Some("ENHANCED_ROLE_COLORS")),
        rule("Icon", 2, 7, Some("ROLE_ICONS")),
    ]
}

/// The boost perks Discord exposes as feature flags: server tags (`GUILD_TAGS`) and enhanced role
/// styles (`ENHANCED_ROLE_COLORS`). Perks without a flag cannot be detected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdditionalPerks {
    pub server_tag: bool,
    pub enhanced_role_styles: bool,
}

pub fn additional_perks(features: &[String]) -> AdditionalPerks {
    let has = |feature: &str| features.iter().any(|f| f == feature);
    AdditionalPerks { server_tag: has("GUILD_TAGS"), enhanced_role_styles: has("ENHANCED_ROLE_COLORS") }
}

/// The keyword filters of the enabled rules, in rule order, each once.
pub fn automod_keywords(rules: &[super::AutoModRule]) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    rules
        .iter()
        .filter(|r| r.enabled)
        .flat_map(|r| r.keyword_filter.iter())
        .filter(|k| seen.insert(k.as_str()))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discord::AutoModRule;

    fn features(list: &[&str]) -> Vec<String> {
        list.iter().map(|f| (*f).to_owned()).collect()
    }

    #[test]
    fn privileges_follow_tier_and_features() {
        let available = |tier, f: &[&str]| booster_privileges(tier, &features(f)).map(|p| p.available);
        assert_eq!(available(0, &[]), [true, false, false, false]);
        assert_eq!(available(1, &["ENHANCED_ROLE_COLORS", "ROLE_ICONS"]), [true, true, false, false]);
        assert_eq!(available(2, &[]), [true, true, false, false]);
        assert_eq!(available(2, &["ROLE_ICONS"]), [true, true, false, true]);
        assert_eq!(available(3, &["ENHANCED_ROLE_COLORS", "ROLE_ICONS"]), [true, true, true, true]);
        let gradient = booster_privileges(0, &[])[2];
        assert_eq!((gradient.required_tier, gradient.required_boosts), (2, 7));
    }

    #[test]
    fn perks_are_feature_flags() {
        assert_eq!(
            additional_perks(&features(&["ENHANCED_ROLE_COLORS", "COMMUNITY"])),
            AdditionalPerks { server_tag: false, enhanced_role_styles: true }
        );
        assert!(additional_perks(&features(&["GUILD_TAGS"])).server_tag);
    }

    #[test]
    fn keywords_come_from_enabled_rules_once() {
        let rule = |enabled, words: &[&str]| AutoModRule {
            name: "r".into(),
            enabled,
            keyword_filter: words.iter().map(|w| (*w).to_owned()).collect(),
        };
        let rules = [rule(true, &["spam", "scam"]), rule(false, &["hidden"]), rule(true, &["scam", "phishing"])];
        assert_eq!(automod_keywords(&rules), ["spam", "scam", "phishing"]);
    }
}
