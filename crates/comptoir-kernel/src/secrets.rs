//! Secrets at rest: a 32-byte master key (from the environment or a key file created on
//! first start with mode 0600), AES-256-GCM encryption of stored credentials, and keys
//! derived per purpose (JWT signing, ...) so the master key itself is used for nothing else.

use std::path::Path;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, Mac};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

const CIPHERTEXT_PREFIX: &str = "v1:";
const NONCE_LEN: usize = 12;

/// The master key. `Debug` never prints it.
#[derive(Clone)]
pub struct MasterKey([u8; 32]);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey([redacted])")
    }
}

impl MasterKey {
    /// From the configured value (base64 or hex of 32 bytes), or else from the key file,
    /// creating it when absent.
    pub fn load(configured: Option<&SecretString>, file: &Path) -> anyhow::Result<Self> {
        if let Some(value) = configured {
            return Self::parse(value.expose_secret())
                .map_err(|e| anyhow::anyhow!("COMPTOIR_MASTER_KEY: {e}"));
        }
        if file.exists() {
            let text = std::fs::read_to_string(file).map_err(|e| {
                anyhow::anyhow!("cannot read master key file {}: {e}", file.display())
            })?;
            return Self::parse(text.trim())
                .map_err(|e| anyhow::anyhow!("master key file {}: {e}", file.display()));
        }
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        if let Some(dir) = file.parent() {
            std::fs::create_dir_all(dir)?;
        }
        write_private(file, &B64.encode(bytes))?;
        tracing::info!(path = %file.display(), "created a new master key; back it up with the data");
        Ok(Self(bytes))
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let bytes = if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            hex::decode(text).map_err(|e| e.to_string())?
        } else {
            B64.decode(text)
                .map_err(|_| "expected 32 bytes in base64 or hex".to_owned())?
        };
        let arr: [u8; 32] = bytes
            .try_into()
            .map_err(|_| "expected exactly 32 bytes (base64 or hex)".to_owned())?;
        Ok(Self(arr))
    }

    /// A key for one purpose, derived with HMAC-SHA256(master, label).
    pub fn derive(&self, label: &str) -> [u8; 32] {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("HMAC takes any key size");
        mac.update(b"comptoir/");
        mac.update(label.as_bytes());
        mac.finalize().into_bytes().into()
    }

    pub fn cipher(&self) -> SecretCipher {
        SecretCipher {
            key: self.derive("secrets-at-rest/v1"),
        }
    }
}

#[cfg(unix)]
fn write_private(path: &Path, content: &str) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(content.as_bytes())?;
    Ok(())
}

#[cfg(not(unix))]
fn write_private(path: &Path, content: &str) -> anyhow::Result<()> {
    std::fs::write(path, content)?;
    Ok(())
}

/// Encrypts credentials (shop tokens, provider keys) for storage. The `context` (e.g.
/// `org:<id>/shopify`) is bound as associated data, so a ciphertext moved to another row
/// fails to decrypt.
#[derive(Clone)]
pub struct SecretCipher {
    key: [u8; 32],
}

impl std::fmt::Debug for SecretCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretCipher([redacted])")
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CipherError {
    #[error("the stored secret is not in a known format")]
    Format,
    #[error("the stored secret cannot be decrypted (wrong key or tampered)")]
    Decrypt,
}

impl SecretCipher {
    pub fn encrypt(&self, plaintext: &str, context: &str) -> String {
        let cipher = Aes256Gcm::new_from_slice(&self.key).expect("32-byte key");
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let sealed = cipher
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: context.as_bytes(),
                },
            )
            .expect("AES-GCM encryption of an in-memory buffer cannot fail");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        format!("{CIPHERTEXT_PREFIX}{}", B64.encode(out))
    }

    pub fn decrypt(&self, stored: &str, context: &str) -> Result<SecretString, CipherError> {
        let raw = stored
            .strip_prefix(CIPHERTEXT_PREFIX)
            .ok_or(CipherError::Format)?;
        let bytes = B64.decode(raw).map_err(|_| CipherError::Format)?;
        if bytes.len() < NONCE_LEN + 16 {
            return Err(CipherError::Format);
        }
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        let cipher = Aes256Gcm::new_from_slice(&self.key).expect("32-byte key");
        let plain = cipher
            .decrypt(
                &Nonce::try_from(nonce).map_err(|_| CipherError::Format)?,
                Payload {
                    msg: sealed,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| CipherError::Decrypt)?;
        String::from_utf8(plain)
            .map(SecretString::from)
            .map_err(|_| CipherError::Decrypt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_file_is_created_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        let a = MasterKey::load(None, &path).unwrap();
        let b = MasterKey::load(None, &path).unwrap();
        assert_eq!(a.0, b.0);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        assert_eq!(format!("{a:?}"), "MasterKey([redacted])");
    }

    #[test]
    fn configured_key_must_be_32_bytes() {
        assert!(MasterKey::parse(&"ab".repeat(32)).is_ok());
        assert!(MasterKey::parse(&B64.encode([7u8; 32])).is_ok());
        assert!(MasterKey::parse("short").is_err());
        assert!(MasterKey::parse(&B64.encode([7u8; 31])).is_err());
    }

    #[test]
    fn encryption_round_trips_and_detects_tampering_and_moves() {
        let key = MasterKey::parse(&B64.encode([1u8; 32])).unwrap();
        let c = key.cipher();
        let stored = c.encrypt("shpat_123", "org:1/shopify");
        assert!(!stored.contains("shpat_123"));
        assert_eq!(
            c.decrypt(&stored, "org:1/shopify").unwrap().expose_secret(),
            "shpat_123"
        );
        assert_eq!(
            c.decrypt(&stored, "org:2/shopify").unwrap_err(),
            CipherError::Decrypt
        );
        let mut tampered = stored.clone();
        tampered.replace_range(10..11, if &stored[10..11] == "A" { "B" } else { "A" });
        assert!(c.decrypt(&tampered, "org:1/shopify").is_err());
        let other = MasterKey::parse(&B64.encode([2u8; 32])).unwrap().cipher();
        assert_eq!(
            other.decrypt(&stored, "org:1/shopify").unwrap_err(),
            CipherError::Decrypt
        );
        assert_eq!(c.decrypt("garbage", "x").unwrap_err(), CipherError::Format);
    }

    #[test]
    fn derived_keys_differ_by_label() {
        let key = MasterKey::parse(&B64.encode([1u8; 32])).unwrap();
        assert_ne!(key.derive("jwt"), key.derive("secrets-at-rest/v1"));
        assert_eq!(key.derive("jwt"), key.derive("jwt"));
    }
}
