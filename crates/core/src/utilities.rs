//! The Noctra utility rules: JSON-escaping text, splitting text into Discord-sized chunks, testing a
//! regular expression with a bounded amount of work, timestamps relative to now, and list
//! intersection. Pure functions; the HTTP shell only parses and answers.

use std::time::Duration;

use crate::{Error, Result, Timestamp};

/// Text escaped for embedding inside a JSON string literal, with its length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stringified {
    /// Characters (Unicode scalar values) of the original text.
    pub character_count: usize,
    pub stringified: String,
}

/// Escapes backslashes first (so nothing is escaped twice), then double quotes, newlines, carriage
/// returns and tabs, exactly as the specification lists them. Other characters pass through.
pub fn stringify(text: &str) -> Stringified {
    let mut stringified = String::with_capacity(text.len() + text.len() / 8);
    for c in text.chars() {
        match c {
            '\\' => stringified.push_str("\\\\"),
            '"' => stringified.push_str("\\\""),
            '\n' => stringified.push_str("\\n"),
            '\r' => stringified.push_str("\\r"),
            '\t' => stringified.push_str("\\t"),
            other => stringified.push(other),
        }
    }
    Stringified { character_count: text.chars().count(), stringified }
}

/// The chunk size used when the caller names none: room under Discord's 2,000-character message
/// limit for formatting around the chunk.
pub const DEFAULT_CHUNK_SIZE: usize = 1800;
/// The largest chunk size accepted.
pub const MAX_CHUNK_SIZE: usize = 100_000;

/// One piece of split text; `index` counts from 1, `length` is in characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    pub index: usize,
    pub content: String,
    pub length: usize,
}

/// Checks a requested chunk size (1..=[`MAX_CHUNK_SIZE`]); `None` means the default.
pub fn chunk_size(requested: Option<i64>) -> Result<usize> {
    match requested {
        None => Ok(DEFAULT_CHUNK_SIZE),
        Some(size) => usize::try_from(size)
            .ok()
            .filter(|size| (1..=MAX_CHUNK_SIZE).contains(size))
            .ok_or_else(|| Error::invalid("chunkSize", format!("must be an integer from 1 to {MAX_CHUNK_SIZE}"))),
    }
}

/// Splits `text` into chunks of at most `size` characters, cutting only at whitespace. The
/// whitespace at a cut is dropped; whitespace inside a chunk (newlines included) is kept. A word
/// longer than `size` is never broken: it becomes a chunk of its own, longer than `size`.
pub fn split_into_chunks(text: &str, size: usize) -> Vec<Chunk> {
    let size = size.max(1);
    let mut chunks = Vec::new();
    let mut rest = text.trim_start();
    while !rest.is_empty() {
        let cut = match rest.char_indices().nth(size) {
            // All that is left fits.
            None => rest.len(),
            // The character just past the limit is whitespace: the first `size` characters fit exactly.
            Some((limit, next)) if next.is_whitespace() => limit,
            Some((limit, _)) => match rest[..limit].rfind(char::is_whitespace) {
                Some(space) => space,
                // One word longer than `size`: it goes whole, up to the next whitespace.
                None => rest.find(char::is_whitespace).unwrap_or(rest.len()),
            },
        };
        let content = rest[..cut].trim_end();
        chunks.push(Chunk { index: chunks.len() + 1, content: content.to_owned(), length: content.chars().count() });
        rest = rest[cut..].trim_start();
    }
    chunks
}

/// Limits for [`regex_match`]: bounded inputs keep the linear-time engine fast, and the
/// backtracking budget stops most catastrophic patterns (nested quantifiers with backreferences)
/// early. They do not bound time on their own: see [`RegexBudget`].
#[derive(Debug, Clone, Copy)]
pub struct RegexLimits {
    pub max_pattern_chars: usize,
    pub max_input_chars: usize,
    /// Backtracking steps allowed for the parts of a pattern the linear engine cannot run.
    pub backtrack_limit: usize,
    /// Compiled-program size cap passed to the linear engine, in bytes.
    pub compiled_size_limit: usize,
}

impl RegexLimits {
    /// Measured on the project's 2-core machine: a catastrophic pattern (`^(\w+\s?)*\1$` on 5,000
    /// characters) spends this backtracking budget in about 0.2 s in a release build. Lookarounds
    /// can cost far more per counted step; [`RegexBudget::time_limit`] is what bounds time.
    pub const DEFAULT: Self = Self {
        max_pattern_chars: 2_000,
        max_input_chars: 20_000,
        backtrack_limit: 2_000_000,
        compiled_size_limit: 2 * 1024 * 1024,
    };
}

/// The time after which a match is answered as a timeout, as the specification sets it.
pub const REGEX_TIME_LIMIT: Duration = Duration::from_secs(1);

/// What testing a pattern against an input found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegexOutcome {
    /// The first match, if any.
    Matched(Option<String>),
    /// The pattern does not compile; the message says why.
    InvalidPattern(String),
    /// The pattern needed more work than the limits allow.
    TooExpensive,
}

/// How the regex route shares the machine. The engine cannot be interrupted (its backtracking budget
/// does not count the work of its lookaround and delegate sub-engines: `(?:.(?=[\s\S]*\d)|.)*$` on
/// 20,000 characters runs for seconds within budget), so each match runs in a worker process that
/// is killed when its time is up, and these numbers bound how many such processes exist and how
/// long anything waits for one.
///
/// Every job may use [`Self::shared_time`] of CPU; after that it keeps its process only if fewer
/// than [`Self::long_jobs`] jobs are already running long, and is stopped otherwise (503: the
/// server is busy). So a stream of hostile patterns holds at most `long_jobs` processes for a
/// second each, while ordinary patterns (microseconds of matching, a few milliseconds to start a
/// process) keep finding a free slot among [`Self::jobs`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegexBudget {
    /// Wall-clock time a job may take in all before it is stopped and answered 408 (the
    /// specification's one second).
    pub time_limit: Duration,
    /// CPU time every admitted job may use, busy or not (CPU rather than wall-clock time, so a
    /// job that only waited for a core on a busy machine is not stopped for it).
    pub shared_time: Duration,
    /// Wall-clock time after which a job counts as past its shared time whatever CPU it used, so
    /// that short slots turn over even on a machine too busy to give anyone its share.
    pub shared_wall_time: Duration,
    /// Jobs running within their shared time at once.
    pub jobs: usize,
    /// Jobs running past their shared time at once (each may hold a core for up to `time_limit`).
    pub long_jobs: usize,
    /// Jobs waiting for a slot; past this, the one that has waited longest is refused (503).
    pub waiting: usize,
    /// How long a job waits for a slot before it is refused (503).
    pub queue_wait: Duration,
    /// What a refused client is told to wait (`Retry-After`).
    pub retry_after: Duration,
}

impl RegexBudget {
    /// The budget for a machine with `cores` cores: four short jobs per core (their processes
    /// mostly start and exit), one long job per core, 16 waiting per core. The waits
    /// are short so that every request is answered well within two seconds: at most
    /// `queue_wait + time_limit` plus the time to stop a process.
    pub fn for_cores(cores: usize) -> Self {
        let cores = cores.max(1);
        Self {
            time_limit: REGEX_TIME_LIMIT,
            shared_time: Duration::from_millis(50),
            shared_wall_time: Duration::from_millis(300),
            jobs: 4 * cores,
            long_jobs: cores,
            waiting: 16 * cores,
            queue_wait: Duration::from_millis(250),
            retry_after: Duration::from_secs(1),
        }
    }
}

/// Checks the pattern and input sizes (characters) against `limits`; the error names the field.
/// Done before a job is queued, so an oversized request costs no worker.
pub fn check_regex_sizes(pattern: &str, input: &str, limits: RegexLimits) -> Result<()> {
    if pattern.chars().count() > limits.max_pattern_chars {
        return Err(Error::invalid("pattern", format!("must be at most {} characters", limits.max_pattern_chars)));
    }
    if input.chars().count() > limits.max_input_chars {
        return Err(Error::invalid("input", format!("must be at most {} characters", limits.max_input_chars)));
    }
    Ok(())
}

/// Tests `pattern` against `input` (first match, like .NET's `Regex.Match`). Sizes over the limits
/// are an [`Error::Invalid`] naming the field; everything else is an outcome.
///
/// This call cannot be interrupted and, for some patterns, runs for seconds within its limits (see
/// [`RegexBudget`]): callers serving untrusted patterns run it where it can be stopped.
pub fn regex_match(pattern: &str, input: &str, case_sensitive: bool, limits: RegexLimits) -> Result<RegexOutcome> {
    check_regex_sizes(pattern, input, limits)?;
    let regex = fancy_regex::RegexBuilder::new(pattern)
        .case_insensitive(!case_sensitive)
        .backtrack_limit(limits.backtrack_limit)
        .delegate_size_limit(limits.compiled_size_limit)
        .delegate_dfa_size_limit(limits.compiled_size_limit)
        .build();
    let regex = match regex {
        Ok(regex) => regex,
        Err(err) if is_size_limit(&err) => return Ok(RegexOutcome::TooExpensive),
        Err(err) => return Ok(RegexOutcome::InvalidPattern(err.to_string())),
    };
    Ok(match regex.find(input) {
        Ok(found) => RegexOutcome::Matched(found.map(|m| m.as_str().to_owned())),
        Err(fancy_regex::Error::RuntimeError(_)) => RegexOutcome::TooExpensive,
        Err(err) => RegexOutcome::InvalidPattern(err.to_string()),
    })
}

/// Whether compiling failed because the compiled program would pass its size cap (as opposed to a
/// pattern that is simply wrong).
fn is_size_limit(err: &fancy_regex::Error) -> bool {
    let fancy_regex::Error::CompileError(inner) = err else { return false };
    match &**inner {
        fancy_regex::CompileError::PatternTooComplex => true,
        fancy_regex::CompileError::InnerError(build) => build.size_limit().is_some(),
        _ => false,
    }
}

/// A unit of [`timestamp_after`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OffsetUnit {
    Seconds,
    Minutes,
    Hours,
    Days,
    Now,
}

impl OffsetUnit {
    /// The unit names accepted, in the order the specification lists them.
    pub const NAMES: &'static str = "seconds, minutes, hours, days, now";

    /// Parses a unit name, ignoring ASCII case; `None` for anything else.
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name.to_ascii_lowercase().as_str() {
            "seconds" => Self::Seconds,
            "minutes" => Self::Minutes,
            "hours" => Self::Hours,
            "days" => Self::Days,
            "now" => Self::Now,
            _ => return None,
        })
    }

    const fn seconds(self) -> i64 {
        match self {
            Self::Seconds => 1,
            Self::Minutes => 60,
            Self::Hours => 3_600,
            Self::Days => 86_400,
            Self::Now => 0,
        }
    }
}

/// The largest timestamp [`timestamp_after`] produces: the end of year 9999, the last second most
/// date libraries (and Discord's `<t:...>` rendering) can show.
pub const MAX_UNIX_SECONDS: i64 = 253_402_300_799;

/// Unix seconds `value` units after `now` (`now` itself for [`OffsetUnit::Now`]). Negative values
/// reach into the past; results outside year 0 to 9999 are refused.
pub fn timestamp_after(now: Timestamp, value: i64, unit: OffsetUnit) -> Result<i64> {
    let now_seconds = now.millis().div_euclid(1000);
    value
        .checked_mul(unit.seconds())
        .and_then(|offset| now_seconds.checked_add(offset))
        .filter(|seconds| (-62_135_596_800..=MAX_UNIX_SECONDS).contains(seconds))
        .ok_or_else(|| Error::invalid("value", "is too far from now: the result must fall within years 1 to 9999"))
}

/// The values of `first` that also appear in `second`, in `first`'s order, each once. Comparison
/// is exact (case-sensitive).
pub fn common_values(first: &[String], second: &[String]) -> Vec<String> {
    let wanted: std::collections::HashSet<&str> = second.iter().map(String::as_str).collect();
    let mut seen = std::collections::HashSet::new();
    first.iter().filter(|v| wanted.contains(v.as_str()) && seen.insert(v.as_str())).cloned().collect()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn stringify_matches_the_specification_example() {
        let out = stringify("Hello \"world\"\nNew line");
        assert_eq!(out.character_count, 22);
        assert_eq!(out.stringified, r#"Hello \"world\"\nNew line"#);
    }

    #[test]
    fn stringify_escapes_backslashes_first() {
        assert_eq!(stringify(r#"a\"b"#).stringified, r#"a\\\"b"#);
        assert_eq!(stringify("tab\there\r\n").stringified, r"tab\there\r\n");
        assert_eq!(stringify("Привет").character_count, 6);
    }

    proptest! {
        #[test]
        fn stringified_text_is_a_valid_json_string_body(text in "[ -~\n\r\t]{0,64}") {
            // Pasting the result between quotes gives a JSON string that decodes to the input.
            let decoded: String = serde_json::from_str(&format!("\"{}\"", stringify(&text).stringified)).expect("valid JSON");
            prop_assert_eq!(decoded, text);
        }

        #[test]
        fn chunks_keep_every_word_in_order_and_respect_the_size(
            words in proptest::collection::vec("[a-zé]{1,12}", 0..80),
            size in 1usize..40,
        ) {
            let text = words.join(" ");
            let chunks = split_into_chunks(&text, size);
            let rejoined: Vec<&str> = chunks.iter().flat_map(|c| c.content.split(' ')).collect();
            prop_assert_eq!(rejoined, words.iter().map(String::as_str).collect::<Vec<_>>());
            for (i, chunk) in chunks.iter().enumerate() {
                prop_assert_eq!(chunk.index, i + 1);
                prop_assert_eq!(chunk.length, chunk.content.chars().count());
                // Over the size only when the chunk is one word.
                prop_assert!(chunk.length <= size || !chunk.content.contains(' '));
            }
        }
    }

    #[test]
    fn chunks_are_filled_greedily() {
        let chunks = split_into_chunks("aaa bbb ccc ddd", 7);
        let contents: Vec<&str> = chunks.iter().map(|c| c.content.as_str()).collect();
        assert_eq!(contents, ["aaa bbb", "ccc ddd"]);
        let contents: Vec<String> = split_into_chunks("a verylongword b", 4).into_iter().map(|c| c.content).collect();
        assert_eq!(contents, ["a", "verylongword", "b"]);
        assert!(split_into_chunks("   ", 10).is_empty());
        let lines = split_into_chunks("line one\nline two", 100);
        assert_eq!(lines[0].content, "line one\nline two");
    }

    #[test]
    fn chunk_size_defaults_and_bounds() {
        assert_eq!(chunk_size(None).expect("default"), 1800);
        assert_eq!(chunk_size(Some(1)).expect("one"), 1);
        for bad in [0, -5, 100_001] {
            assert!(chunk_size(Some(bad)).expect_err("out of range").to_string().starts_with("chunkSize:"));
        }
    }

    #[test]
    fn regex_matches_the_specification_example() {
        let outcome = regex_match(r"^\w+@[a-zA-Z_]+?\.[a-zA-Z]{2,3}$", "user@example.com", true, RegexLimits::DEFAULT)
            .expect("within limits");
        assert_eq!(outcome, RegexOutcome::Matched(Some("user@example.com".into())));
    }

    #[test]
    fn regex_case_sensitivity_and_dotnet_syntax() {
        let limits = RegexLimits::DEFAULT;
        assert_eq!(regex_match("HELLO", "say hello", true, limits).expect("ok"), RegexOutcome::Matched(None));
        assert_eq!(
            regex_match("HELLO", "say hello", false, limits).expect("ok"),
            RegexOutcome::Matched(Some("hello".into()))
        );
        // Named groups, lookarounds and backreferences, as .NET writes them.
        assert_eq!(
            regex_match(r"(?<word>\w+) \k<word>", "it is is here", true, limits).expect("ok"),
            RegexOutcome::Matched(Some("is is".into()))
        );
        assert_eq!(
            regex_match(r"\d+(?= dollars)", "pay 40 dollars", true, limits).expect("ok"),
            RegexOutcome::Matched(Some("40".into()))
        );
        assert!(matches!(regex_match("(unclosed", "x", true, limits).expect("ok"), RegexOutcome::InvalidPattern(_)));
    }

    #[test]
    fn catastrophic_backtracking_is_stopped() {
        let input = format!("{}!", "a".repeat(5_000));
        let started = std::time::Instant::now();
        let outcome = regex_match(r"^(\w+\s?)*\1$", &input, true, RegexLimits::DEFAULT).expect("within limits");
        assert_eq!(outcome, RegexOutcome::TooExpensive);
        // Not a timing assertion on the machine: a generous bound that only a missing limit breaks.
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn nested_quantifiers_without_backtracking_features_run_in_linear_time() {
        let input = format!("{}b", "a".repeat(20_000 - 1));
        assert_eq!(
            regex_match("^(a+)+$", &input, true, RegexLimits::DEFAULT).expect("ok"),
            RegexOutcome::Matched(None)
        );
    }

    #[test]
    fn oversized_patterns_and_inputs_name_the_field() {
        let limits = RegexLimits::DEFAULT;
        let long = "a".repeat(limits.max_pattern_chars + 1);
        assert!(regex_match(&long, "a", true, limits).expect_err("too long").to_string().starts_with("pattern:"));
        let long = "a".repeat(limits.max_input_chars + 1);
        assert!(regex_match("a", &long, true, limits).expect_err("too long").to_string().starts_with("input:"));
        assert_eq!(regex_match("(a{1000}){1000}", "a", true, limits).expect("ok"), RegexOutcome::TooExpensive);
    }

    #[test]
    fn the_regex_budget_answers_every_request_within_two_seconds() {
        for cores in [0, 1, 2, 8, 64] {
            let budget = RegexBudget::for_cores(cores);
            assert_eq!(budget.time_limit, REGEX_TIME_LIMIT);
            // The longest a request can wait for an answer, with room to stop a process.
            assert!(budget.queue_wait + budget.time_limit <= Duration::from_millis(1500), "{budget:?}");
            assert!(budget.shared_time < budget.shared_wall_time && budget.shared_wall_time < budget.time_limit);
            assert!(budget.long_jobs >= 1 && budget.jobs > budget.long_jobs, "{budget:?}");
            assert!(budget.retry_after >= Duration::from_secs(1));
        }
        assert_eq!(RegexBudget::for_cores(2).long_jobs, 2);
    }

    #[test]
    fn sizes_are_checked_before_any_work() {
        let limits = RegexLimits::DEFAULT;
        assert!(check_regex_sizes("a", &"é".repeat(limits.max_input_chars), limits).is_ok());
        let err = check_regex_sizes("a", &"é".repeat(limits.max_input_chars + 1), limits).expect_err("too long");
        assert!(err.to_string().starts_with("input:"), "{err}");
    }

    #[test]
    fn timestamps_are_offsets_from_now_in_seconds() {
        let now = Timestamp::from_millis(1_678_886_400_999);
        assert_eq!(timestamp_after(now, 2, OffsetUnit::Seconds).expect("ok"), 1_678_886_402);
        assert_eq!(timestamp_after(now, 2, OffsetUnit::Minutes).expect("ok"), 1_678_886_520);
        assert_eq!(timestamp_after(now, 1, OffsetUnit::Hours).expect("ok"), 1_678_890_000);
        assert_eq!(timestamp_after(now, 1, OffsetUnit::Days).expect("ok"), 1_678_972_800);
        assert_eq!(timestamp_after(now, 99, OffsetUnit::Now).expect("ok"), 1_678_886_400);
        assert_eq!(timestamp_after(now, -1, OffsetUnit::Days).expect("ok"), 1_678_800_000);
        assert!(timestamp_after(now, i64::MAX, OffsetUnit::Days).is_err());
        assert!(timestamp_after(now, 10_000_000, OffsetUnit::Days).is_err());
        assert_eq!(OffsetUnit::parse("Hours"), Some(OffsetUnit::Hours));
        assert_eq!(OffsetUnit::parse("weeks"), None);
    }

    #[test]
    fn common_values_keep_the_first_lists_order_once() {
        let list = |items: &[&str]| items.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            common_values(&list(&["admin", "mod", "user"]), &list(&["mod", "vip", "user"])),
            list(&["mod", "user"])
        );
        assert_eq!(common_values(&list(&["b", "a", "b", "A"]), &list(&["a", "b"])), list(&["b", "a"]));
        assert!(common_values(&list(&["x"]), &[]).is_empty());
    }
}
