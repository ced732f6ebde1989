//! Webhooks: GitHub (`X-Hub-Signature-256`, HMAC-SHA256 of the body, checked in constant time)
//! and GitLab (`X-Gitlab-Token`, compared in constant time). Anything unsigned or wrongly
//! signed is refused and changes nothing; without a configured secret every webhook is refused.
//!
//! A push wakes the stacks whose source is that repository (matched by its name) and follows
//! the pushed branch or tag; a payload that names no repository wakes every stack.

use super::config::StackSpec;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Whether `signature` (`sha256=HEX`) is the HMAC-SHA256 of `body` under `secret`.
pub fn github_signature_valid(secret: &str, body: &[u8], signature: Option<&str>) -> bool {
    let Some(hex) = signature.and_then(|s| s.strip_prefix("sha256=")) else { return false };
    let Some(expected) = decode_hex(hex) else { return false };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else { return false };
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

/// Whether a token (GitLab's `X-Gitlab-Token`, the API's bearer token) equals the secret
/// (constant time in the token's content).
pub fn token_valid(secret: &str, token: Option<&str>) -> bool {
    let Some(token) = token else { return false };
    let (a, b) = (secret.as_bytes(), token.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok()).collect()
}

/// The repository name and pushed ref of a push payload (GitHub or GitLab).
pub fn pushed(body: &[u8]) -> (Option<String>, Option<String>) {
    let Ok(payload) = serde_json::from_slice::<serde_json::Value>(body) else { return (None, None) };
    let name =
        payload["repository"]["name"].as_str().or_else(|| payload["project"]["path"].as_str()).map(str::to_string);
    (name, payload["ref"].as_str().map(str::to_string))
}

/// The last path segment of a Git URL, without `.git`.
fn repository_name(url: &str) -> &str {
    let last = url.trim_end_matches('/').rsplit(['/', ':']).next().unwrap_or(url);
    last.strip_suffix(".git").unwrap_or(last)
}

/// Whether a push of `reference` to repository `name` concerns `stack`.
pub fn concerns(stack: &StackSpec, name: Option<&str>, reference: Option<&str>) -> bool {
    if let Some(name) = name
        && !repository_name(&stack.source.url).eq_ignore_ascii_case(name)
    {
        return false;
    }
    match reference {
        Some(reference) if stack.source.commit.is_none() => match &stack.source.tag {
            Some(tag) => reference == format!("refs/tags/{tag}"),
            None => reference == format!("refs/heads/{}", stack.source.branch.as_deref().unwrap_or("main")),
        },
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_signatures_are_checked() {
        // From GitHub's documentation: secret "It's a Secret to Everybody", body "Hello, World!".
        let signature = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        assert!(github_signature_valid("It's a Secret to Everybody", b"Hello, World!", Some(signature)));
        assert!(!github_signature_valid("It's a Secret to Everybody", b"Hello, World?", Some(signature)));
        assert!(!github_signature_valid("another secret", b"Hello, World!", Some(signature)));
        assert!(!github_signature_valid("It's a Secret to Everybody", b"Hello, World!", None));
        assert!(!github_signature_valid("It's a Secret to Everybody", b"Hello, World!", Some("sha256=zz")));
        assert!(!github_signature_valid("It's a Secret to Everybody", b"Hello, World!", Some("sha1=00")));
    }

    #[test]
    fn gitlab_tokens_are_compared_whole() {
        assert!(token_valid("s3cret", Some("s3cret")));
        assert!(!token_valid("s3cret", Some("s3cre")));
        assert!(!token_valid("s3cret", Some("s3cres")));
        assert!(!token_valid("s3cret", None));
    }

    #[test]
    fn pushes_concern_stacks_of_their_repository_and_branch() {
        let text = "stack \"a\" {\n  source {\n    url = \"git://127.0.0.1:9418/platform.git\"\n  }\n}\n";
        let config = super::super::config::parse(text, std::path::Path::new("c.hcl")).expect("config");
        let stack = &config.stacks[0];
        assert!(concerns(stack, Some("platform"), Some("refs/heads/main")));
        assert!(!concerns(stack, Some("platform"), Some("refs/heads/feature")));
        assert!(!concerns(stack, Some("other"), Some("refs/heads/main")));
        assert!(concerns(stack, None, None));
    }
}
