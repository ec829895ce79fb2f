//! Password rules and argon2id hashing into memory the caller lends, so that a check reuses
//! one of the [`super::gate::PasswordGate`]'s few memory areas instead of allocating ~19 MiB
//! per attempt (issue 17: 200 parallel wrong sign-ins once grew the daemon to 4.6 GB).

use crate::crypto::Secret;
use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};

pub const MIN_LEN: usize = 12;
pub const MAX_LEN: usize = 1024;

/// The argon2 memory of one check, kept between checks by its owner.
pub type Memory = Vec<Block>;

/// Argon2id cost. Production uses OWASP's baseline (19 MiB, 2 passes); tests use a cheap one.
#[derive(Clone, Copy, Debug)]
pub struct HashCost {
    pub memory_kib: u32,
    pub passes: u32,
}

impl HashCost {
    pub const PRODUCTION: HashCost = HashCost { memory_kib: 19 * 1024, passes: 2 };
    pub const TESTING: HashCost = HashCost { memory_kib: 256, passes: 1 };

    fn params(self) -> Params {
        Params::new(self.memory_kib, self.passes, 1, None)
            .expect("the two cost presets are valid argon2 parameters")
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
pub fn hash(password: &Secret<String>, cost: HashCost, memory: &mut Memory) -> String {
    let params = cost.params();
    let salt = crate::crypto::random_bytes::<16>();
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    run(Algorithm::Argon2id, Version::V0x13, params.clone(), password, &salt, &mut out, memory)
        .expect("argon2 hashing cannot fail with valid parameters and salt");
    PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).expect("the presets encode as PHC parameters"),
        salt: Some(Salt::new(&salt).expect("16 bytes is a valid salt length")),
        hash: Some(Output::new(&out).expect("32 bytes is a valid output length")),
    }
    .to_string()
}

/// Whether `password` matches the stored PHC string (constant-time compare). The parameters
/// come from the stored string, so old hashes keep verifying after a cost change. Anything
/// unreadable is a mismatch.
pub fn verify(password: &Secret<String>, stored: &str, memory: &mut Memory) -> bool {
    let Ok(phc) = PasswordHash::new(stored) else { return false };
    let (Some(salt), Some(expected)) = (&phc.salt, &phc.hash) else { return false };
    let Ok(algorithm) = Algorithm::try_from(phc.algorithm.as_str()) else { return false };
    let Ok(version) = phc.version.map_or(Ok(Version::V0x13), Version::try_from) else {
        return false;
    };
    let Ok(params) = Params::try_from(&phc) else { return false };
    let mut out = vec![0u8; expected.len()];
    if run(algorithm, version, params, password, salt, &mut out, memory).is_err() {
        return false;
    }
    use subtle::ConstantTimeEq;
    bool::from(out.ct_eq(expected.as_bytes()))
}

/// One argon2 run in `memory`, grown (once) to what `params` need and reused as is after.
fn run(
    algorithm: Algorithm,
    version: Version,
    params: Params,
    password: &Secret<String>,
    salt: &[u8],
    out: &mut [u8],
    memory: &mut Memory,
) -> argon2::Result<()> {
    let blocks = params.block_count();
    if memory.len() < blocks {
        memory.resize(blocks, Block::default());
    }
    Argon2::new(algorithm, version, params).hash_password_into_with_memory(
        password.expose().as_bytes(),
        salt,
        out,
        &mut memory[..blocks],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::PasswordVerifier;

    #[test]
    fn hashes_verify_and_wrong_passwords_do_not() {
        let mut memory = Memory::new();
        let pw = Secret::new("correct horse battery".to_string());
        let h = hash(&pw, HashCost::TESTING, &mut memory);
        assert!(h.starts_with("$argon2id$v=19$m=256,t=1,p=1$"), "{h}");
        assert!(verify(&pw, &h, &mut memory));
        assert!(!verify(&Secret::new("correct horse battery!".into()), &h, &mut memory));
        assert!(!verify(&pw, "not a hash", &mut memory));
        assert_eq!(memory.len(), 256, "the memory is kept for the next check");
    }

    #[test]
    fn hashes_are_standard_phc_strings_both_ways() {
        let mut memory = Memory::new();
        let pw = Secret::new("correct horse battery".to_string());
        // Ours verify with the crate's own verifier…
        let ours = hash(&pw, HashCost::TESTING, &mut memory);
        let phc = PasswordHash::new(&ours).unwrap();
        assert!(Argon2::default().verify_password(pw.expose().as_bytes(), &phc).is_ok());
        // …and stored hashes made before the memory was reused (other costs) verify with ours,
        // in a memory area larger than they need.
        memory.resize(4096, Block::default());
        let params = Params::new(64, 3, 1, None).unwrap();
        let older = argon2::password_hash::PasswordHasher::hash_password_with_salt(
            &Argon2::new(Algorithm::Argon2id, Version::V0x13, params),
            pw.expose().as_bytes(),
            b"0123456789abcdef",
        )
        .unwrap()
        .to_string();
        assert!(verify(&pw, &older, &mut memory));
        assert!(!verify(&Secret::new("nope nope nope".into()), &older, &mut memory));
    }

    #[test]
    fn policy_names_the_problem() {
        assert!(check_policy("short").unwrap_err().contains("at least 12"));
        assert!(check_policy("            ").is_err());
        assert!(check_policy("twelve chars").is_ok());
    }
}
