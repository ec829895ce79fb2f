//! CPU time of this process and of its threads by name (Linux `/proc`), so that a benchmark
//! running the daemon and the simulated devices in one process can say what each costs.

use std::time::Duration;

/// Linux reports CPU times in clock ticks of `USER_HZ`, which is 100 on every architecture
/// adebox ships for (x86_64, aarch64).
const TICKS_PER_S: f64 = 100.0;

/// User + system CPU time of the whole process, threads that already ended included.
pub fn process() -> Duration {
    stat_cpu("/proc/self/stat")
}

/// User + system CPU time of this process's live threads whose name starts with `prefix`.
pub fn threads_named(prefix: &str) -> Duration {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else { return Duration::ZERO };
    tasks
        .filter_map(Result::ok)
        .filter(|task| {
            std::fs::read_to_string(task.path().join("comm"))
                .is_ok_and(|name| name.trim_end().starts_with(prefix))
        })
        .map(|task| stat_cpu(&task.path().join("stat").to_string_lossy()))
        .sum()
}

/// User + system CPU time of another process (a child's, while it runs).
pub fn of_pid(pid: u32) -> Duration {
    stat_cpu(&format!("/proc/{pid}/stat"))
}

/// utime + stime of a `/proc/…/stat` file (fields 14 and 15); zero when unreadable.
fn stat_cpu(path: &str) -> Duration {
    let Ok(text) = std::fs::read_to_string(path) else { return Duration::ZERO };
    // The command name (field 2) is in parentheses and may hold spaces: count after it.
    let Some(rest) = text.rfind(')').map(|i| &text[i + 1..]) else { return Duration::ZERO };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
    // After ")": field 3 (state) is index 0, so utime (14) is 11 and stime (15) is 12.
    Duration::from_secs_f64((ticks(11) + ticks(12)) as f64 / TICKS_PER_S)
}

/// Milliseconds per item, rounded to a tenth.
pub fn ms_per(cpu: Duration, items: usize) -> f64 {
    if items == 0 {
        return 0.0;
    }
    (cpu.as_secs_f64() * 1000.0 / items as f64 * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_work_shows_in_the_process_and_its_named_thread() {
        let before = process();
        // Spins until its own CPU time, as read by name, reaches 150 ms (on a loaded machine
        // that takes longer than 150 ms of wall time); a reader that sees nothing times out.
        let worker = std::thread::Builder::new()
            .name("cpu-test-spin".into())
            .spawn(|| {
                let started = std::time::Instant::now();
                let mut x = 0u64;
                loop {
                    for _ in 0..1_000_000 {
                        x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
                    }
                    std::hint::black_box(x);
                    let named = threads_named("cpu-test-spin");
                    if named >= Duration::from_millis(150) || started.elapsed().as_secs() > 30 {
                        return named;
                    }
                }
            })
            .unwrap();
        let named = worker.join().unwrap();
        assert!(named >= Duration::from_millis(150), "the spinning thread: {named:?}");
        assert!(process() - before >= Duration::from_millis(150));
        assert_eq!(threads_named("no-such-thread-name"), Duration::ZERO);
        assert_eq!(ms_per(Duration::from_millis(1500), 1000), 1.5);
    }
}
