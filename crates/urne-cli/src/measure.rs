//! What a benchmark reports beside its figures: the machine, its load, and the CPU time a
//! thread or the process used (Linux `/proc`; elsewhere the CPU figures read 0 and the
//! machine "unknown"). Shared by `urne bench` and the ballot acceptance bench.

/// The CPU model and the cores this process may use.
pub fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    format!(
        "{cpu}, {} cores",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    )
}

/// The 1, 5 and 15 minute load averages.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "unknown".into())
}

/// CPU seconds (user + system) from a `/proc/.../stat` line, in clock ticks of 1/100 s.
pub fn cpu_seconds_of(stat: &str) -> f64 {
    // The command name may hold spaces and parentheses: count fields after the last ')'.
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return 0.0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // After ')' come field 3 (state) onwards: utime is field 14, stime field 15.
    (ticks(11) + ticks(12)) as f64 / 100.0
}

/// The calling thread's CPU seconds. `schedstat` counts nanoseconds, where `stat` counts
/// ticks of 10 ms: a load generator thread posting a few hundred ballots uses less than a
/// tick, and `stat` would report zero.
pub fn thread_cpu_seconds() -> f64 {
    let nanos = std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok());
    match nanos {
        Some(n) => n as f64 / 1e9,
        None => {
            std::fs::read_to_string("/proc/thread-self/stat").map_or(0.0, |s| cpu_seconds_of(&s))
        }
    }
}

/// The whole process's CPU seconds.
pub fn process_cpu_seconds() -> f64 {
    std::fs::read_to_string("/proc/self/stat").map_or(0.0, |s| cpu_seconds_of(&s))
}
