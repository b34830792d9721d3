//! The server's CPU time, memory and context switches, from /proc (Linux).

use std::process::Command;

/// A sample of a process's counters.
#[derive(Debug, Clone, Default)]
pub struct Sample {
    /// User + system CPU time, seconds.
    pub cpu_seconds: f64,
    /// The system (kernel) part of it, seconds.
    pub system_seconds: f64,
    /// Resident set size now, KiB.
    pub rss_kib: u64,
    /// Peak resident set size since start, KiB.
    pub peak_rss_kib: u64,
    /// Each thread's (ID, voluntary, involuntary) context switches, from
    /// `/proc/PID/task/*/status`. Voluntary: the thread blocked (a futex
    /// wait, a socket read); involuntary: it was preempted.
    pub threads: Vec<(u32, u64, u64)>,
}

/// Reads `/proc/PID/stat` and `/proc/PID/status`; `None` off Linux or for a bad PID.
pub fn sample(pid: u32) -> Option<Sample> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may contain spaces) start after ')'.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let system: f64 = fields.get(12)?.parse().ok()?;
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + system;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kib = |key: &str| status_field(&status, key);
    Some(Sample {
        cpu_seconds: ticks / clock_ticks(),
        system_seconds: system / clock_ticks(),
        rss_kib: kib("VmRSS:"),
        peak_rss_kib: kib("VmHWM:"),
        threads: threads(pid),
    })
}

impl Sample {
    /// Voluntary and involuntary context switches since `before`, summed over
    /// threads: a thread new since then counts from zero, and one that has
    /// exited since takes what it did with it (so take both samples while the
    /// load's connections, each a thread of the server, are open).
    pub fn switches_since(&self, before: &Sample) -> (u64, u64) {
        let mut sum = (0, 0);
        for &(tid, voluntary, involuntary) in &self.threads {
            let (v0, i0) = before
                .threads
                .iter()
                .find(|t| t.0 == tid)
                .map_or((0, 0), |t| (t.1, t.2));
            sum.0 += voluntary.saturating_sub(v0);
            sum.1 += involuntary.saturating_sub(i0);
        }
        sum
    }
}

/// Each thread's ID and voluntary and involuntary context switches.
fn threads(pid: u32) -> Vec<(u32, u64, u64)> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    let mut threads = Vec::new();
    for task in tasks.flatten() {
        let Some(tid) = task.file_name().to_str().and_then(|t| t.parse().ok()) else {
            continue;
        };
        let Ok(status) = std::fs::read_to_string(task.path().join("status")) else {
            continue;
        };
        let count = |key: &str| status_field(&status, key);
        threads.push((
            tid,
            count("voluntary_ctxt_switches:"),
            count("nonvoluntary_ctxt_switches:"),
        ));
    }
    threads
}

fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

/// The number after `key` in a `/proc/…/status` text (0 if it is not there).
fn status_field(status: &str, key: &str) -> u64 {
    status
        .lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}
