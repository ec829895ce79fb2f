//! The bounded fuzz run of the test suite: every target gets its seeds, then a deterministic
//! stream of mutations ([`super::mutate`]), and fails on any panic, printing the input.
//!
//! Bounds: `ADEBOX_FUZZ_ITERATIONS` inputs per target (default 2000) or
//! `ADEBOX_FUZZ_SECONDS` per target (default 3), whichever ends first; raise both for a
//! longer run without libFuzzer. `ADEBOX_FUZZ_SEED` changes the mutation stream.

use super::mutate::Mutator;
use super::{TARGETS, Target, target};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn run(name: &str) {
    let t: &Target = target(name).expect("the target is listed in TARGETS");
    let seeds = (t.seeds)();
    let iterations = env_u64("ADEBOX_FUZZ_ITERATIONS", 2000);
    let budget = Duration::from_secs(env_u64("ADEBOX_FUZZ_SECONDS", 3));
    let seed = env_u64("ADEBOX_FUZZ_SEED", 0x00ad_eb0c) ^ name.len() as u64;
    for s in &seeds {
        check(t, s, "seed");
    }
    let mut mutator = Mutator::new(&seeds, seed);
    let started = Instant::now();
    let mut done = 0;
    while done < iterations && started.elapsed() < budget {
        let input = mutator.next_input();
        check(t, &input, &format!("mutation {done} of seed {seed:#x}"));
        done += 1;
    }
    eprintln!("fuzz {name}: {} seeds, {done} mutations in {:?}", seeds.len(), started.elapsed());
}

fn check(t: &Target, input: &[u8], what: &str) {
    if catch_unwind(AssertUnwindSafe(|| (t.run)(input))).is_err() {
        let shown: String = hex::encode(&input[..input.len().min(4096)]);
        panic!(
            "fuzz target {} panicked on {what} ({} bytes); input (hex, first 4 KiB): {shown}",
            t.name,
            input.len()
        );
    }
}

macro_rules! fuzz_tests {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                run(stringify!($name));
            }
        )*

        #[test]
        fn every_target_has_a_bounded_run() {
            let names = [$(stringify!($name)),*];
            for t in TARGETS {
                assert!(names.contains(&t.name), "{} has no test in fuzzing/tests.rs", t.name);
            }
        }
    };
}

mod fuzz {
    use super::{TARGETS, run};
    fuzz_tests!(
        server_token,
        server_token_text,
        cms_signed,
        cms_enveloped,
        machine_info,
        machine_info_plist,
        checkin,
        jws,
        jws_header,
        csr,
        attestation,
        certificate,
        profile_json,
        profile_csv,
        config,
        retry_after,
        dep_response,
        token_key,
    );
}

#[test]
fn every_target_has_seeds() {
    for t in TARGETS {
        // Fixture-only seeds may be absent; generated ones never are.
        assert!(!(t.seeds)().is_empty(), "{} has no seeds", t.name);
    }
}
