//! Client authentication: API keys presented as `Authorization: Bearer KEY` (or `x-api-key`),
//! compared by their SHA-256 with the `[[keys]]` of `guard.toml`, which never holds a key in
//! clear. A key names a tenant and a default user.

use axum::http::HeaderMap;

use crate::errors::GuardError;
use crate::phase::RequestCtx;

/// The SHA-256 of a client key, as `[[keys]] sha256` holds it.
pub fn hash_key(key: &str) -> String {
    crate::policy::sha256_hex(key.as_bytes())
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let from_auth = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim);
    from_auth
        .or_else(|| {
            headers
                .get("x-api-key")
                .and_then(|h| h.to_str().ok())
                .map(str::trim)
        })
        .filter(|k| !k.is_empty())
}

/// Authenticate: the key's owner, or 401.
pub(crate) fn authenticate(ctx: &mut RequestCtx, headers: &HeaderMap) -> Result<(), GuardError> {
    let key = bearer(headers).ok_or(GuardError::Unauthorized)?;
    let owner = ctx
        .state
        .owner(key)
        .cloned()
        .ok_or(GuardError::Unauthorized)?;
    ctx.tenant = owner.tenant;
    ctx.user = owner.user;
    ctx.policy = ctx.state.policy(&ctx.tenant);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn bearer_and_x_api_key() {
        let mut h = HeaderMap::new();
        assert_eq!(bearer(&h), None);
        h.insert("x-api-key", HeaderValue::from_static(" k1 "));
        assert_eq!(bearer(&h), Some("k1"));
        h.insert("authorization", HeaderValue::from_static("Bearer k2"));
        assert_eq!(bearer(&h), Some("k2"));
        assert_eq!(hash_key("abc").len(), 64);
    }
}
