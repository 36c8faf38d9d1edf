//! Open Cloud's paging and filtering: `maxPageSize`, opaque `pageToken`s that only continue the listing
//! they came from ("all other parameters provided to the subsequent call must match the call that
//! provided the page token"), and the CEL filters Roblox documents for group memberships and join
//! requests.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::ApiError;

/// The most users one `user in [...]` filter may name (Roblox's documentation: up to 50).
pub(crate) const MAX_FILTER_USERS: usize = 50;

/// `maxPageSize`: absent or 0 gives `default`, more than `max` gives `max`; a negative or non-integer
/// value is refused.
pub(crate) fn page_size(value: Option<&str>, default: usize, max: usize) -> Result<usize, ApiError> {
    let Some(value) = value.filter(|v| !v.is_empty()) else { return Ok(default) };
    let size: i64 = value.parse().map_err(|_| ApiError::invalid(format!("Invalid maxPageSize: {value}.")))?;
    match usize::try_from(size) {
        Err(_) => Err(ApiError::invalid(format!("maxPageSize must not be negative, got {size}."))),
        Ok(0) => Ok(default),
        Ok(size) => Ok(size.min(max)),
    }
}

/// Where a listing stops: the sort key of the last item given.
pub(crate) type Key = (i64, u64);

/// The token that continues `listing` (its collection and filter) after `key`.
fn encode(listing: &str, key: Key) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}.{}\n{listing}", key.0, key.1))
}

/// The key a token continues after, if it was made for `listing`; an empty or absent token starts at
/// the beginning.
fn decode(token: Option<&str>, listing: &str) -> Result<Option<Key>, ApiError> {
    let Some(token) = token.filter(|t| !t.is_empty()) else { return Ok(None) };
    let invalid = || ApiError::invalid("The page token is invalid, or was made for other parameters.");
    let text =
        URL_SAFE_NO_PAD.decode(token).ok().and_then(|bytes| String::from_utf8(bytes).ok()).ok_or_else(invalid)?;
    let (key, made_for) = text.split_once('\n').ok_or_else(invalid)?;
    if made_for != listing {
        return Err(invalid());
    }
    let (first, second) = key.split_once('.').ok_or_else(invalid)?;
    Ok(Some((first.parse().map_err(|_| invalid())?, second.parse().map_err(|_| invalid())?)))
}

/// One page of `items` (sorted by key): the items after the token's key, at most `size` of them, and
/// the token for the next page when more remain.
pub(crate) fn page<T>(
    items: Vec<(Key, T)>,
    token: Option<&str>,
    listing: &str,
    size: usize,
) -> Result<(Vec<T>, Option<String>), ApiError> {
    let after = decode(token, listing)?;
    let mut rest = items.into_iter().filter(|(key, _)| after.is_none_or(|after| *key > after)).peekable();
    let mut page = Vec::with_capacity(size);
    let mut last = None;
    while page.len() < size {
        let Some((key, item)) = rest.next() else { break };
        last = Some(key);
        page.push(item);
    }
    let next = match (rest.peek(), last) {
        (Some(_), Some(last)) => Some(encode(listing, last)),
        _ => None,
    };
    Ok((page, next))
}

/// A membership or join-request filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Filter {
    /// `user == 'users/156'`
    User(u64),
    /// `user in ['users/1', 'users/156']`
    Users(Vec<u64>),
    /// `role == 'groups/7/roles/99'`: the group and the role.
    Role(u64, u64),
}

impl Filter {
    /// Whether a member (or requester) passes.
    pub(crate) fn admits(&self, user: u64, roles: &[u64]) -> bool {
        match self {
            Filter::User(id) => *id == user,
            Filter::Users(ids) => ids.contains(&user),
            Filter::Role(_, role) => roles.contains(role),
        }
    }
}

/// The error for a filter this simulator (and Roblox) does not take.
pub(crate) fn invalid_filter() -> ApiError {
    ApiError::invalid("The provided filter is invalid.")
}

/// Parses the subset of CEL Roblox documents: `user == '...'`, `role == '...'` and `user in [...]`,
/// with single or double quotes and any spacing.
pub(crate) fn parse_filter(text: &str) -> Result<Filter, ApiError> {
    let mut tokens = Tokens { rest: text.trim() };
    let field = tokens.identifier().ok_or_else(invalid_filter)?;
    let filter = match (field, tokens.operator().ok_or_else(invalid_filter)?) {
        ("user", "==") => Filter::User(user_path(&tokens.string().ok_or_else(invalid_filter)?)?),
        ("role", "==") => {
            let (group, role) = role_path(&tokens.string().ok_or_else(invalid_filter)?).ok_or_else(invalid_filter)?;
            Filter::Role(group, role)
        }
        ("user", "in") => {
            let mut users = Vec::new();
            tokens.punct('[').ok_or_else(invalid_filter)?;
            loop {
                users.push(user_path(&tokens.string().ok_or_else(invalid_filter)?)?);
                if tokens.punct(',').is_none() {
                    break;
                }
            }
            tokens.punct(']').ok_or_else(invalid_filter)?;
            if users.len() > MAX_FILTER_USERS {
                return Err(ApiError::invalid(format!("A filter may name at most {MAX_FILTER_USERS} users.")));
            }
            Filter::Users(users)
        }
        _ => return Err(invalid_filter()),
    };
    match tokens.rest.trim().is_empty() {
        true => Ok(filter),
        false => Err(invalid_filter()),
    }
}

/// `users/156` -> 156.
fn user_path(path: &str) -> Result<u64, ApiError> {
    path.strip_prefix("users/").and_then(parse_decimal).ok_or_else(invalid_filter)
}

/// `groups/7/roles/99` -> (7, 99).
pub(crate) fn role_path(path: &str) -> Option<(u64, u64)> {
    let (group, role) = path.strip_prefix("groups/")?.split_once("/roles/")?;
    Some((parse_decimal(group)?, parse_decimal(role)?))
}

/// A decimal id: digits only, no sign or spaces, fits in a `u64`.
pub(crate) fn parse_decimal(text: &str) -> Option<u64> {
    (!text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())).then(|| text.parse().ok()).flatten()
}

/// A tiny tokenizer over the filter text.
struct Tokens<'a> {
    rest: &'a str,
}

impl<'a> Tokens<'a> {
    fn skip_space(&mut self) {
        self.rest = self.rest.trim_start();
    }

    fn identifier(&mut self) -> Option<&'a str> {
        self.skip_space();
        let end = self.rest.find(|c: char| !c.is_ascii_alphanumeric() && c != '_').unwrap_or(self.rest.len());
        let (word, rest) = self.rest.split_at(end);
        self.rest = rest;
        (!word.is_empty()).then_some(word)
    }

    fn operator(&mut self) -> Option<&'a str> {
        self.skip_space();
        if let Some(rest) = self.rest.strip_prefix("==") {
            self.rest = rest;
            return Some("==");
        }
        let rest = self.rest.strip_prefix("in")?;
        rest.starts_with(|c: char| c.is_whitespace() || c == '[').then(|| {
            self.rest = rest;
            "in"
        })
    }

    fn punct(&mut self, c: char) -> Option<()> {
        self.skip_space();
        self.rest = self.rest.strip_prefix(c)?;
        Some(())
    }

    fn string(&mut self) -> Option<String> {
        self.skip_space();
        let quote = self.rest.chars().next().filter(|c| *c == '\'' || *c == '"')?;
        let body = &self.rest[1..];
        let end = body.find(quote)?;
        self.rest = &body[end + 1..];
        Some(body[..end].to_owned())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn page_sizes() {
        assert_eq!(page_size(None, 10, 20).unwrap(), 10);
        assert_eq!(page_size(Some("0"), 10, 20).unwrap(), 10);
        assert_eq!(page_size(Some("5"), 10, 20).unwrap(), 5);
        assert_eq!(page_size(Some("500"), 10, 20).unwrap(), 20);
        assert_eq!(page_size(Some("-1"), 10, 20).unwrap_err().status, 400);
        assert_eq!(page_size(Some("ten"), 10, 20).unwrap_err().status, 400);
    }

    #[test]
    fn pages_continue_only_their_own_listing() {
        let items: Vec<(Key, u64)> = (1..=5).map(|i| ((0, i), i)).collect();
        let (first, next) = page(items.clone(), None, "a", 2).unwrap();
        assert_eq!(first, [1, 2]);
        let next = next.unwrap();
        let (second, next) = page(items.clone(), Some(&next), "a", 2).unwrap();
        assert_eq!(second, [3, 4]);
        let (last, end) = page(items.clone(), next.as_deref(), "a", 2).unwrap();
        assert_eq!((last, end), (vec![5], None));
        let token = encode("a", (0, 2));
        assert_eq!(page(items.clone(), Some(&token), "b", 2).unwrap_err().status, 400, "another listing");
        assert_eq!(page(items.clone(), Some("!!"), "a", 2).unwrap_err().status, 400);
        let (exact, end) = page(items, None, "a", 5).unwrap();
        assert_eq!((exact.len(), end), (5, None), "no token when nothing remains");
    }

    #[test]
    fn filters_roblox_documents() {
        assert_eq!(parse_filter("user == 'users/156'").unwrap(), Filter::User(156));
        assert_eq!(parse_filter("  user==\"users/156\" ").unwrap(), Filter::User(156));
        assert_eq!(parse_filter("role == 'groups/7/roles/99'").unwrap(), Filter::Role(7, 99));
        assert_eq!(parse_filter("user in ['users/1', 'users/2']").unwrap(), Filter::Users(vec![1, 2]));
        assert_eq!(parse_filter("user in['users/1']").unwrap(), Filter::Users(vec![1]));
        for bad in [
            "",
            "user",
            "user == users/1",
            "user == 'users/x'",
            "user == 'groups/1'",
            "user != 'users/1'",
            "name == 'x'",
            "user == 'users/1' && role == 'groups/1/roles/2'",
            "user in []",
            "user in ['users/1',]",
            "user in ['users/1'",
            "role in ['groups/7/roles/1']",
            "role == 'groups/7/roles/'",
            "user inside ['users/1']",
        ] {
            assert_eq!(parse_filter(bad).unwrap_err().status, 400, "{bad:?}");
        }
        let many = (0..=MAX_FILTER_USERS).map(|i| format!("'users/{i}'")).collect::<Vec<_>>().join(", ");
        assert!(parse_filter(&format!("user in [{many}]")).is_err());
    }
}
