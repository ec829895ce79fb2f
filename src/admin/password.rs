//! Password rules and argon2id hashing.

use crate::crypto::Secret;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};

pub const MIN_LEN: usize = 12;
pub const MAX_LEN: usize = 1024;

/// Argon2id cost. Production uses OWASP's baseline (19 MiB, 2 passes); tests use a cheap one.
#[derive(Clone, Copy, Debug)]
pub struct HashCost {
    pub memory_kib: u32,
    pub passes: u32,
}

impl HashCost {
    pub const PRODUCTION: HashCost = HashCost { memory_kib: 19 * 1024, passes: 2 };
    pub const TESTING: HashCost = HashCost { memory_kib: 256, passes: 1 };

    fn argon2(self) -> Argon2<'static> {
        let params = Params::new(self.memory_kib, self.passes, 1, None)
            .expect("the two cost presets are valid argon2 parameters");
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
    }
}

/// Why a new password is refused, in plain words.
pub fn check_policy(password: &str) -> Result<(), String> {
    let chars = password.chars().count();
    if chars < MIN_LEN {
        return Err(format!("use at least {MIN_LEN} characters (this one has {chars})"));
    }
    if password.len() > MAX_LEN {
        return Err(format!("use at most {MAX_LEN} bytes"));
    }
    if password.trim().is_empty() {
        return Err("a password cannot be only spaces".into());
    }
    Ok(())
}

/// A PHC string (`$argon2id$v=19$…`). CPU-heavy: call off the async threads.
pub fn hash(password: &Secret<String>, cost: HashCost) -> String {
    let salt = crate::crypto::random_bytes::<16>();
    cost.argon2()
        .hash_password_with_salt(password.expose().as_bytes(), &salt)
        .expect("argon2 hashing cannot fail with valid parameters and salt")
        .to_string()
}

/// Whether `password` matches the stored PHC string (constant-time compare inside argon2).
/// The parameters come from the stored string, so old hashes keep verifying after a cost change.
pub fn verify(password: &Secret<String>, stored: &str) -> bool {
    Argon2::default().verify_password(password.expose().as_bytes(), stored).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_wrong_passwords_do_not() {
        let pw = Secret::new("correct horse battery".to_string());
        let h = hash(&pw, HashCost::TESTING);
        assert!(h.starts_with("$argon2id$"));
        assert!(verify(&pw, &h));
        assert!(!verify(&Secret::new("correct horse battery!".into()), &h));
        assert!(!verify(&pw, "not a hash"));
    }

    #[test]
    fn policy_names_the_problem() {
        assert!(check_policy("short").unwrap_err().contains("at least 12"));
        assert!(check_policy("            ").is_err());
        assert!(check_policy("twelve chars").is_ok());
    }
}
