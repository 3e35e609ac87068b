//! Model name resolution: from a name as users log it to a catalog model.
//!
//! Logged names carry routing noise around the model id: provider prefixes
//! (`openai/gpt-4o`, `openrouter/anthropic/…`, `models/gemini-…`,
//! `publishers/google/models/…`), Bedrock inference-profile and vendor
//! prefixes with version suffixes (`us.anthropic.claude-…-v1:0`), Vertex
//! `@version` suffixes and dated snapshots. Resolution builds the candidate
//! spellings of the name, collects provider hints (the logged provider, path
//! segments, a Bedrock-shaped id), and scores every model's match rules (see
//! `matching`). Within a hinted provider the best match wins (unless it is
//! a substring rule the maker's own model names more of), or a model whose
//! id less its organisation is the name (`gpt-oss-120b` on Groq is
//! `openai/gpt-oss-120b`); otherwise the
//! best match overall wins: the maker's model first (a provider whose
//! `makes` rule matches the name), a first-party provider breaking ties over
//! hosts.
//!
//! Resolution scans the catalog (a few hundred models), so callers that
//! resolve many records memoize by distinct `(provider, model)` pair.

use super::matching::KIND;
use super::{Catalog, ModelId, ProviderKind};

/// A match's rank: (maker's whole-name match, rule kind, first party, rule
/// length, earlier provider).
/// (maker's and whole, kind of match, first party, score, earlier
/// provider, length of the name its id equals): see
/// [`Catalog::best_keyed`].
type Key = (bool, u32, bool, u32, std::cmp::Reverse<usize>, usize);

/// Bedrock cross-region inference-profile prefixes.
const BEDROCK_REGIONS: &[&str] = &[
    "us.", "eu.", "apac.", "au.", "jp.", "ca.", "us-gov.", "global.",
];
/// Bedrock model-vendor prefixes.
const BEDROCK_VENDORS: &[&str] = &[
    "anthropic.",
    "meta.",
    "amazon.",
    "mistral.",
    "cohere.",
    "ai21.",
    "deepseek.",
    "openai.",
    "qwen.",
    "writer.",
    "google.",
    "nvidia.",
    "moonshot.",
    "minimax.",
];

/// The spellings of `name` (lowercase) to try, most literal first, and
/// whether it looks like a Bedrock model id.
pub(super) fn candidates(name: &str) -> (Vec<String>, Vec<String>, bool) {
    let mut out: Vec<String> = Vec::new();
    let mut segments = Vec::new();
    let push = |out: &mut Vec<String>, s: &str| {
        if !s.is_empty() && !out.iter().any(|o| o == s) {
            out.push(s.to_owned());
        }
    };
    push(&mut out, name);
    for (i, _) in name.match_indices('/') {
        push(&mut out, &name[i + 1..]);
    }
    if let Some(i) = name.rfind('/') {
        segments = name[..i].split('/').map(str::to_owned).collect();
    }
    let mut bedrock = false;
    let mut i = 0;
    while i < out.len() {
        let c = out[i].clone();
        if let Some(at) = c.find('@') {
            push(&mut out, &c.replacen('@', "-", 1));
            push(&mut out, &c[..at]);
        }
        if let Some(swapped) = claude_family_first(&c) {
            push(&mut out, &swapped);
        }
        for spelling in other_spellings(&c) {
            push(&mut out, &spelling);
        }
        let no_region = BEDROCK_REGIONS
            .iter()
            .find_map(|r| c.strip_prefix(r))
            .unwrap_or(&c);
        if let Some(bare) = BEDROCK_VENDORS
            .iter()
            .find_map(|v| no_region.strip_prefix(v))
        {
            bedrock = true;
            push(&mut out, no_region);
            push(&mut out, strip_bedrock_version(bare));
        }
        i += 1;
    }
    (out, segments, bedrock)
}

/// Whether the model's display name gives a version its id does not that
/// `name` has (`Claude 2.0 / 2.1`, id `claude-2`, for `claude-2.1`): its
/// rule takes that newer version by name (hunt165: unknown once rules
/// stopped taking newer versions).
fn names_version(m: &super::ModelEntry, name: &str) -> bool {
    let display = m.name.to_lowercase();
    let display = display.as_str();
    let id = m.id.to_lowercase();
    let b = display.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let major = i;
        if major > start && b.get(i) == Some(&b'.') && b.get(i + 1).is_some_and(u8::is_ascii_digit)
        {
            i += 1;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            let dotted = &display[start..i];
            let dashed = dotted.replace('.', "-");
            if !id.contains(dotted)
                && !id.contains(&dashed)
                && (name.contains(dotted) || name.contains(&dashed))
            {
                return true;
            }
        }
        i = i.max(start + 1);
    }
    false
}

/// Other spellings of a name, after its own: without a bracketed suffix
/// (Claude Code's `claude-opus-5-5[1m]`, the 1M-token context window,
/// priced by the request's size anyway), without OpenRouter's variants
/// priced as the model (`:nitro`, `:floor`, `:exacto`, `:online`,
/// `:thinking`, `:beta`), and a Claude version with a dot
/// (`claude-opus-5.5`, OpenRouter's and Copilot's) as Anthropic writes it (`claude-opus-5-5`): the
/// catalog's rules of a newer Claude spell it so (hunt165: these were
/// priced as the older model, then unknown).
fn other_spellings(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(open) = name.rfind('[').filter(|_| name.ends_with(']')) {
        out.push(name[..open].to_owned());
    }
    // Only OpenRouter's variants priced as the model: its routing ones,
    // `:online` (with web search), `:thinking` and `:beta` (hunt171); not
    // `:free` or `:extended`, prices of their own, nor Ollama's tags
    // (`codestral:latest`), local models (hunt169: priced at the hosted
    // API's rates).
    if let Some(colon) = name.rfind(':') {
        if matches!(
            &name[colon + 1..],
            "nitro" | "floor" | "exacto" | "online" | "thinking" | "beta"
        ) {
            out.push(name[..colon].to_owned());
        }
    }
    let last = name.rsplit('/').next().unwrap_or(name);
    if last.starts_with("claude") && name.contains('.') {
        let b = name.as_bytes();
        let dashed: String = name
            .char_indices()
            .map(|(i, c)| {
                let digit = |j: usize| b.get(j).is_some_and(u8::is_ascii_digit);
                if c == '.' && i > 0 && digit(i - 1) && digit(i + 1) {
                    '-'
                } else {
                    c
                }
            })
            .collect();
        if dashed != name {
            out.push(dashed);
        }
    }
    out
}

/// A Claude 4+ name with the version before the family, as OpenRouter's
/// permaslugs write it (`claude-4.5-sonnet-20250929`), in Anthropic's own
/// order (`claude-sonnet-4.5-20250929`); `None` for any other name (3.x
/// names put the version first in Anthropic's order too).
fn claude_family_first(name: &str) -> Option<String> {
    let rest = name.strip_prefix("claude-")?;
    let major_len = rest.bytes().take_while(u8::is_ascii_digit).count();
    let major: u32 = rest[..major_len].parse().ok()?;
    if major < 4 {
        return None;
    }
    let mut version_len = major_len;
    let b = rest.as_bytes();
    if matches!(b.get(version_len), Some(b'.' | b'-'))
        && b.get(version_len + 1).is_some_and(u8::is_ascii_digit)
        && !b.get(version_len + 2).is_some_and(u8::is_ascii_digit)
    {
        version_len += 2;
    }
    let after = rest[version_len..].strip_prefix('-')?;
    let family = ["sonnet", "opus", "haiku"]
        .into_iter()
        .find(|f| after.starts_with(f))?;
    let tail = &after[family.len()..];
    if !(tail.is_empty() || tail.starts_with('-') || tail.starts_with(':')) {
        return None;
    }
    Some(format!("claude-{family}-{}{tail}", &rest[..version_len]))
}

/// How many of `name`'s candidate spellings are literal: the name and its
/// path suffixes, before the derived ones.
pub(super) fn literal_count(name: &str, names: &[String]) -> usize {
    (1 + name.matches('/').count()).min(names.len())
}

/// `claude-3-5-sonnet-20240620-v1:0` → `claude-3-5-sonnet-20240620`.
fn strip_bedrock_version(id: &str) -> &str {
    let base = match id.rfind(':') {
        Some(i) if id[i + 1..].bytes().all(|b| b.is_ascii_digit()) => &id[..i],
        _ => id,
    };
    match base.rfind("-v") {
        Some(i) if i + 2 < base.len() && base[i + 2..].bytes().all(|b| b.is_ascii_digit()) => {
            &base[..i]
        }
        _ => base,
    }
}

impl Catalog {
    /// The id of the catalog's provider a logged provider name means
    /// (`bedrock`: `aws`), if any; with the logged model's name, as its
    /// resolution chooses (`anthropic_vertex` for a Claude model is Google's).
    pub fn provider_named(&self, word: &str, logged_model: Option<&str>) -> Option<&str> {
        let names = logged_model.map_or_else(Vec::new, |m| candidates(&m.trim().to_lowercase()).0);
        self.providers_for_hint(word, &names)
            .map(|i| self.providers[i].id.as_str())
    }

    /// The provider(s) a logged provider name or path segment means.
    fn providers_for_hint(&self, word: &str, names: &[String]) -> Option<usize> {
        let word = word.trim().to_lowercase();
        if word.is_empty() {
            return None;
        }
        if let Some(i) = self
            .providers
            .iter()
            .position(|p| p.id.to_lowercase() == word)
        {
            return Some(i);
        }
        // The OpenTelemetry GenAI conventions' names of the providers
        // (`gen_ai.provider.name`, `gen_ai.system`) that no catalog spells:
        // hunt114, `azure.ai.openai` was priced and listed as OpenAI.
        if let Some(id) = semconv_provider(&word) {
            if let Some(i) = self.providers.iter().position(|p| p.id == id) {
                return Some(i);
            }
        }
        let matches: Vec<(u32, usize)> = self
            .providers
            .iter()
            .enumerate()
            .filter_map(|(i, p)| Some((p.hint.as_ref()?.score(&word)?, i)))
            .collect();
        // The makers only when the word is more than one provider's.
        let makers = if matches.len() > 1 {
            self.makers(names)
        } else {
            Vec::new()
        };
        self.host_of(matches, |i| makers.get(i).copied().unwrap_or(false))
            .map(|(_, i)| i)
    }

    /// Of the providers a logged provider name matches (`(score, index)`),
    /// the one that bills: a name that holds two providers' (`azure_openai`,
    /// `anthropic_vertex`) is the host's, not the model's maker's. The
    /// maker is passed over when another matches, then a host goes before a
    /// first party, then the higher score, then catalog order. `provider_of`
    /// and the resolution of a model both choose so, so the provider a call
    /// is attributed to is the one whose price it gets.
    pub(super) fn host_of(
        &self,
        mut matches: Vec<(u32, usize)>,
        is_maker: impl Fn(usize) -> bool,
    ) -> Option<(u32, usize)> {
        if matches.len() > 1 && matches.iter().any(|&(_, i)| !is_maker(i)) {
            matches.retain(|&(_, i)| !is_maker(i));
        }
        matches.into_iter().max_by_key(|&(score, i)| {
            let host = self.providers[i].kind == ProviderKind::Host;
            (host, score, std::cmp::Reverse(i))
        })
    }

    /// The best-matching model among those `keep` accepts: its maker's
    /// first (a model of a provider whose `makes` rule matches the name,
    /// matched by a rule naming the whole name), then by rule kind, then
    /// first-party over host, then rule length, then catalog order. So
    /// `claude-3-5-haiku` is Anthropic's model (`starts_with
    /// "claude-3-5-haiku"`), though Google lists its Vertex copy under that
    /// exact id; but `deepseek-r1-distill-llama-70b` stays Groq's model of
    /// that id, which DeepSeek's `starts_with "deepseek-r1"` only begins.
    pub(super) fn best_match(
        &self,
        names: &[String],
        keep: impl Fn(usize) -> bool,
    ) -> Option<ModelId> {
        self.best_keyed(names, keep).map(|(_, i)| ModelId(i as u32))
    }

    /// Per provider, whether its `makes` rule matches one of `names`.
    fn makers(&self, names: &[String]) -> Vec<bool> {
        self.providers
            .iter()
            .map(|p| {
                p.makes
                    .as_ref()
                    .is_some_and(|r| names.iter().any(|n| r.score(n).is_some()))
            })
            .collect()
    }

    /// `best_keyed` over the literal spellings of a name (its first
    /// `primary` candidates), else over all of them.
    pub(super) fn literal_first(
        &self,
        names: &[String],
        primary: usize,
        keep: impl Fn(usize) -> bool,
    ) -> Option<(Key, usize)> {
        self.best_keyed(&names[..primary], &keep)
            .or_else(|| self.best_keyed(names, &keep))
    }

    /// `best_match` with the winner's key and model index.
    fn best_keyed(&self, names: &[String], keep: impl Fn(usize) -> bool) -> Option<(Key, usize)> {
        let makers = self.makers(names);
        let mut best: Option<(Key, usize)> = None;
        for (i, m) in self.models.iter().enumerate() {
            let p = self.model_provider[i];
            if !keep(p) {
                continue;
            }
            let id = m.id.to_lowercase();
            // The best score over the names, and whether a rule (or the id)
            // names one of them whole: an equality, or a prefix as long as
            // the name.
            let mut best_score: Option<u32> = None;
            let mut whole = false;
            // Of a provider's two ids equal to spellings of the name, the
            // longer names more of it: `eu/o1` over `o1` for `azure/eu/o1`
            // (hunt65: the earlier entry won, the EU price was never used).
            // Between providers, the order decides as before (hunt66).
            let mut own_len = 0;
            for n in names {
                let own = (*n == id).then_some(3 * KIND + KIND - 1);
                if own.is_some() {
                    own_len = own_len.max(n.len());
                }
                let rule = m.match_rule.as_ref();
                // (A newer version is looked up in the display name only
                // when the rule takes it loosely: rarely, and it allocates.)
                let ruled = rule.and_then(|r| {
                    r.score_as(n, self.loose)
                        .or_else(|| r.score_as(n, true).filter(|_| names_version(m, n)))
                });
                let Some(score) = own.max(ruled) else {
                    continue;
                };
                whole |=
                    score / KIND == 3 || (score / KIND == 2 && (score % KIND) as usize == n.len());
                best_score = best_score.max(Some(score));
            }
            let Some(score) = best_score else { continue };
            let first_party = self.providers[p].kind == ProviderKind::FirstParty;
            let key = (
                makers[p] && whole,
                score / KIND,
                first_party,
                score % KIND,
                std::cmp::Reverse(p),
                own_len,
            );
            if best.as_ref().is_none_or(|(k, _)| key > *k) {
                best = Some((key, i));
            }
        }
        best
    }

    /// The maker's own model, when the hinted provider's best match `hit`
    /// is only a substring rule naming less of the name than the maker's
    /// rule does, and names another model. Vertex lists Claude models by
    /// `contains` rules (`claude-4-sonnet`: `*claude-sonnet-4*`), so
    /// `claude-sonnet-4-6@…`, which Vertex's list lacks, would be priced as
    /// Sonnet 4 with Sonnet 4's long-context tier; Anthropic's
    /// `claude-sonnet-4-6*` names it. The hinted model stays when the
    /// maker's rule also matches its id (`claude-sonnet-4@…`: Anthropic's
    /// `claude-sonnet-4-0` rule matches `claude-4-sonnet`, the same model).
    fn maker_over_hint(&self, names: &[String], hit: (Key, usize)) -> Option<usize> {
        let ((_, kind, _, _, _, _), hinted) = hit;
        if kind != 1 {
            return None;
        }
        let hinted_provider = self.model_provider[hinted];
        let makers = self.makers(names);
        let (key, maker) = self.best_keyed(names, |q| makers[q] && q != hinted_provider)?;
        let longer = self.named_length(maker, names) > self.named_length(hinted, names);
        let hinted_id = self.models[hinted].id.to_lowercase();
        let same = self.models[maker].id.to_lowercase() == hinted_id
            || (self.models[maker].match_rule.as_ref())
                .is_some_and(|r| r.score_as(&hinted_id, self.loose).is_some());
        (key.1 >= 2 && longer && !same).then_some(maker)
    }

    /// The model of provider `p` whose id, less its organisation
    /// (`openai/` of Groq's `openai/gpt-oss-120b`, `meta-llama/` of
    /// Together's), is one of `names`: hosts list models under their
    /// makers' repository names, and logs with the host as provider often
    /// leave the organisation out.
    fn by_id_tail(&self, names: &[String], p: usize) -> Option<usize> {
        self.models.iter().enumerate().find_map(|(i, m)| {
            let (_, tail) = m.id.rsplit_once('/')?;
            let hit =
                self.model_provider[i] == p && names.iter().any(|n| tail.eq_ignore_ascii_case(n));
            hit.then_some(i)
        })
    }

    /// How much of a name in `names` model `i` names: the longest text its
    /// rule matches, or the name itself when it is the model's id.
    fn named_length(&self, i: usize, names: &[String]) -> usize {
        let m = &self.models[i];
        let id = m.id.to_lowercase();
        names
            .iter()
            .filter_map(|n| {
                if *n == id {
                    return Some(n.len());
                }
                let score = m.match_rule.as_ref()?.score_as(n, self.loose)?;
                Some((score % KIND) as usize)
            })
            .max()
            .unwrap_or(0)
    }

    /// Finds the model a logged name means. `provider` is the provider as
    /// logged, if any; it is preferred when several providers list the model.
    /// Case-insensitive. `None` if nothing matches.
    ///
    /// A free variant (OpenRouter's `…:free`) means only a catalog entry of
    /// a free variant (its id, or its match rule, names `:free`: a
    /// `--prices` entry may): the paid model's price would be spend that never
    /// happened, so without such an entry it is a model the catalog does
    /// not price (listed as such).
    pub fn resolve(&self, provider: Option<&str>, logged_model: &str) -> Option<ModelId> {
        let id = self.resolve_name(provider, logged_model)?;
        let free = |name: &str| name.trim().to_lowercase().ends_with(":free");
        let m = self.model(id);
        let for_free = free(&m.id) || m.match_rule.as_ref().is_some_and(|r| r.mentions(":free"));
        (!free(logged_model) || for_free).then_some(id)
    }

    fn resolve_name(&self, provider: Option<&str>, logged_model: &str) -> Option<ModelId> {
        let name = logged_model.trim().to_lowercase();
        if name.is_empty() {
            return None;
        }
        let (names, segments, bedrock) = candidates(&name);
        let primary = literal_count(&name, &names);
        let mut hints: Vec<usize> = Vec::new();
        // A Bedrock-shaped id (a vendor prefix, `anthropic.…-v1:0`) is
        // Bedrock's first, whatever provider the line names: Anthropic's own
        // API takes no such id (a log naming the model's maker, `anthropic`,
        // for a call to the Bedrock client was priced at Anthropic's rates,
        // 10% below Bedrock's regional ones).
        let words = bedrock.then(|| "bedrock".to_owned()).into_iter();
        let words = words.chain(provider.map(str::to_owned)).chain(segments);
        for word in words {
            if let Some(p) = self.providers_for_hint(&word, &names) {
                if !hints.contains(&p) {
                    hints.push(p);
                }
            }
        }
        // Literal spellings (the name and its path suffixes) first; the
        // derived ones (Bedrock prefixes and versions stripped, Vertex `@`)
        // only when no literal spelling matches, so a rule written for
        // `global.anthropic.…` is not beaten by one for `anthropic.…`.
        let literal = &names[..primary];
        for &p in &hints {
            if let Some(hit) = self.literal_first(&names, primary, |q| q == p) {
                let i = self.maker_over_hint(&names, hit).unwrap_or(hit.1);
                return Some(ModelId(i as u32));
            }
            if let Some(i) = self.by_id_tail(literal, p) {
                return Some(ModelId(i as u32));
            }
        }
        // A Bedrock id no Bedrock model matched: its vendor's own name
        // (`anthropic.claude-3-5-haiku` is `claude-3-5-haiku`) is weighed
        // with the literal one, or a host's substring rule for the literal
        // would beat the maker's rule for the bare name.
        if bedrock {
            return self.best_match(&names, |_| true);
        }
        self.best_match(literal, |_| true)
            .or_else(|| self.best_match(&names, |_| true))
    }
}

/// Our provider id for a well-known value of the OpenTelemetry GenAI
/// semantic conventions' `gen_ai.provider.name` that is not an id itself.
pub(crate) fn semconv_provider(word: &str) -> Option<&'static str> {
    Some(match word {
        "azure.ai.openai" | "azure.ai.inference" | "az.ai.openai" | "az.ai.inference" => "azure",
        "aws.bedrock" => "aws",
        "gcp.gemini" | "gcp.vertex_ai" | "gcp.gen_ai" => "google",
        "mistral_ai" => "mistral",
        "x_ai" => "x-ai",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidate_spellings() {
        let (c, segs, bedrock) = candidates("bedrock/us.anthropic.claude-3-5-sonnet-20240620-v1:0");
        assert!(bedrock);
        assert_eq!(segs, ["bedrock"]);
        assert!(c.contains(&"anthropic.claude-3-5-sonnet-20240620-v1:0".to_owned()));
        assert!(c.contains(&"claude-3-5-sonnet-20240620".to_owned()));
        let (c, _, bedrock) = candidates("claude-3-5-sonnet-v2@20241022");
        assert!(!bedrock);
        assert!(c.contains(&"claude-3-5-sonnet-v2".to_owned()));
        assert_eq!(
            strip_bedrock_version("llama3-1-70b-instruct-v1:0"),
            "llama3-1-70b-instruct"
        );
        assert_eq!(strip_bedrock_version("gpt-oss-120b-1:0"), "gpt-oss-120b-1");
    }

    #[test]
    fn claude_names_with_the_version_first() {
        for (name, want) in [
            (
                "claude-4.5-sonnet-20250929",
                Some("claude-sonnet-4.5-20250929"),
            ),
            ("claude-4.1-opus-20250805", Some("claude-opus-4.1-20250805")),
            ("claude-4-5-haiku", Some("claude-haiku-4-5")),
            ("claude-4-sonnet", Some("claude-sonnet-4")),
            ("claude-3-5-sonnet-20240620", None),
            ("claude-sonnet-4-5", None),
            ("claude-4.5-sonnetx", None),
            ("claude-45-sonnet", Some("claude-sonnet-45")),
        ] {
            assert_eq!(claude_family_first(name).as_deref(), want, "{name}");
        }
    }
}
