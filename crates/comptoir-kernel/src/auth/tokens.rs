//! Credentials: JWT access tokens (HS256, key derived from the master key), opaque refresh
//! tokens, API keys and session tokens (random, stored only as SHA-256), and passwords
//! (argon2id).

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{AppError, AppResult, ErrorCode};
use crate::ids::{OrgId, UserId};
use crate::secrets::MasterKey;

/// Prefix of API keys, so they are recognizable in a leaked file and by secret scanners.
pub const API_KEY_PREFIX: &str = "cpt_";
/// Prefix of refresh tokens.
pub const REFRESH_PREFIX: &str = "cptr_";

/// `n` random bytes, URL-safe base64.
pub fn random_token(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// What we store instead of a token.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Argon2id hash in PHC format. CPU-heavy: call from `spawn_blocking`.
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("password hashing failed: {e}"))
}

/// Constant-time check of a password against its PHC hash. CPU-heavy: `spawn_blocking`.
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Claims of an access token. The role is *not* in the token: it is read from the
/// membership on every request, so a demotion takes effect at once.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessClaims {
    pub sub: UserId,
    pub org: OrgId,
    pub iat: i64,
    pub exp: i64,
    pub typ: String,
}

/// Signs and checks access tokens.
#[derive(Clone)]
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    pub access_ttl_secs: u64,
}

impl std::fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JwtKeys([redacted])")
    }
}

impl JwtKeys {
    pub fn new(master: &MasterKey, access_ttl_secs: u64) -> Self {
        let secret = master.derive("jwt-hs256/v1");
        Self {
            encoding: EncodingKey::from_secret(&secret),
            decoding: DecodingKey::from_secret(&secret),
            access_ttl_secs,
        }
    }

    pub fn issue(&self, user: UserId, org: OrgId) -> AppResult<String> {
        self.issue_at(user, org, Utc::now())
    }

    /// Issues a token as if at `now` (tests use it to make expired tokens).
    pub fn issue_at(&self, user: UserId, org: OrgId, now: DateTime<Utc>) -> AppResult<String> {
        let claims = AccessClaims {
            sub: user,
            org,
            iat: now.timestamp(),
            exp: now.timestamp() + self.access_ttl_secs as i64,
            typ: "access".into(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(AppError::internal)
    }

    pub fn verify(&self, token: &str) -> AppResult<AccessClaims> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "sub"]);
        let data = jsonwebtoken::decode::<AccessClaims>(token, &self.decoding, &validation)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => AppError::new(
                    ErrorCode::TokenExpired,
                    "the access token has expired; refresh it",
                ),
                _ => AppError::new(ErrorCode::InvalidToken, "the access token is invalid"),
            })?;
        if data.claims.typ != "access" {
            return Err(AppError::new(
                ErrorCode::InvalidToken,
                "not an access token",
            ));
        }
        Ok(data.claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(ttl: u64) -> JwtKeys {
        JwtKeys::new(&MasterKey::parse(&"11".repeat(32)).unwrap(), ttl)
    }

    #[test]
    fn tokens_verify_and_expire() {
        let k = keys(60);
        let (u, o) = (UserId::new(), OrgId::new());
        let claims = k.verify(&k.issue(u, o).unwrap()).unwrap();
        assert_eq!((claims.sub, claims.org), (u, o));
        let old = k
            .issue_at(u, o, Utc::now() - chrono::Duration::seconds(120))
            .unwrap();
        assert_eq!(k.verify(&old).unwrap_err().code, ErrorCode::TokenExpired);
        assert_eq!(
            k.verify("not.a.jwt").unwrap_err().code,
            ErrorCode::InvalidToken
        );
        let other = JwtKeys::new(&MasterKey::parse(&"22".repeat(32)).unwrap(), 60);
        assert_eq!(
            other.verify(&k.issue(u, o).unwrap()).unwrap_err().code,
            ErrorCode::InvalidToken
        );
    }

    #[test]
    fn passwords_hash_with_argon2id() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong", &h));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn stored_token_hashes_do_not_reveal_tokens() {
        let t = random_token(32);
        assert_eq!(t.len(), 43);
        assert_ne!(hash_token(&t), t);
        assert_eq!(hash_token(&t), hash_token(&t));
    }
}
