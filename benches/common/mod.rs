//! What the load generators share: settings, percentiles, /proc readings, and the
//! first-admin set-up. Included by each bench with `mod common;`.

use std::time::Duration;

use anyhow::{Context, bail};
use serde_json::json;

/// A numeric setting: `--name N` on the command line, else `PARLEY_BENCH_NAME`, else `default`.
pub fn setting(name: &str, default: usize) -> anyhow::Result<usize> {
    let args: Vec<String> = std::env::args().collect();
    let flag = format!("--{name}");
    let from_args = args.iter().position(|a| *a == flag).and_then(|i| args.get(i + 1)).cloned();
    let env = format!("PARLEY_BENCH_{}", name.to_ascii_uppercase());
    match from_args.or_else(|| std::env::var(env).ok()) {
        Some(v) => v.parse().with_context(|| format!("{name} must be a number, not {v:?}")),
        None => Ok(default),
    }
}

/// Percentile `p` (0–100) of sorted durations, in milliseconds (nearest rank).
pub fn pct(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[i].as_secs_f64() * 1e3
}

/// A memory field of `/proc/<who>/status` in MiB (`who` = a pid or `self`;
/// `VmRSS` = resident now, `VmHWM` = peak resident).
pub fn mem_mib(who: &str, field: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{who}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':')?.trim().strip_suffix("kB")?.trim().parse::<f64>().ok())
        .unwrap_or(0.0)
        / 1024.0
}

/// Clock ticks per second in /proc (USER_HZ; 100 on Linux).
const HZ: f64 = 100.0;

/// CPU seconds (user + system) of a process or thread, from its `stat` file
/// (`/proc/<pid>/stat` or `/proc/<pid>/task/<tid>/stat`).
pub fn cpu_seconds(stat_path: &str) -> f64 {
    let stat = std::fs::read_to_string(stat_path).unwrap_or_default();
    // Fields after "(comm) ": state is the 1st, utime the 12th, stime the 13th (man 5 proc).
    let Some(rest) = stat.rfind(')').and_then(|i| stat.get(i + 2..)) else {
        return 0.0;
    };
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    (ticks(11) + ticks(12)) as f64 / HZ
}

/// CPU seconds of this process's threads named `name` (e.g. `parley-writer`).
pub fn thread_cpu_seconds(name: &str) -> f64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0.0;
    };
    tasks
        .flatten()
        .filter(|t| std::fs::read_to_string(t.path().join("comm")).is_ok_and(|c| c.trim() == name))
        .map(|t| cpu_seconds(&t.path().join("stat").to_string_lossy()))
        .sum()
}

/// CPU seconds the whole machine has been busy (all cores, from `/proc/stat`), so a
/// bench can tell how much of the machine other programs took during a run.
pub fn machine_busy_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let Some(cpu) = stat.lines().find(|l| l.starts_with("cpu ")) else {
        return 0.0;
    };
    // user nice system idle iowait irq softirq steal ...: everything but idle and iowait.
    let v: Vec<u64> = cpu.split_whitespace().skip(1).filter_map(|x| x.parse().ok()).collect();
    let busy: u64 = v.iter().take(8).enumerate().filter(|(i, _)| *i != 3 && *i != 4).map(|(_, x)| x).sum();
    busy as f64 / HZ
}

/// The number of cores, for percentages of the machine.
pub fn cores() -> f64 {
    std::thread::available_parallelism().map_or(1, |n| n.get()) as f64
}

/// Creates the first admin through the one-time link; returns the session cookie
/// (`parley_session=...`).
pub async fn admin_session(http: &reqwest::Client, base: &str, setup_link: &str) -> anyhow::Result<String> {
    let token = setup_link.split("token=").nth(1).context("the setup link has no token")?;
    let res = http
        .post(format!("{base}/api/v1/setup"))
        .json(&json!({"token": token, "email": "bench@example.com", "name": "Bench", "password": "bench-password-123456"}))
        .send()
        .await?;
    if !res.status().is_success() {
        bail!("setup answered {}: {}", res.status(), res.text().await?);
    }
    let cookie = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.split(';').next().filter(|c| c.starts_with("parley_session=")))
        .context("setup set no session cookie")?;
    Ok(cookie.to_owned())
}

/// POSTs `body` as the admin of `cookie`; the JSON answer, or an error naming the status.
#[allow(dead_code, reason = "not every bench calls the API")]
pub async fn post_json(
    http: &reqwest::Client,
    base: &str,
    cookie: &str,
    path: &str,
    body: serde_json::Value,
) -> anyhow::Result<serde_json::Value> {
    let res = http.post(format!("{base}{path}")).header("cookie", cookie).json(&body).send().await?;
    let status = res.status();
    let v: serde_json::Value = res.json().await.unwrap_or(serde_json::Value::Null);
    if !status.is_success() {
        bail!("{path} answered {status}: {v}");
    }
    Ok(v)
}

/// A point in time with CPU counters, to tell what a phase cost and how busy the
/// rest of the machine was meanwhile (other programs skew every figure on 2 cores).
pub struct CpuMark {
    at: std::time::Instant,
    machine: f64,
    ours: f64,
}

/// CPU used between a [`CpuMark`] and now.
pub struct CpuUse {
    /// Wall-clock seconds.
    pub wall: f64,
    /// CPU seconds of the processes measured (e.g. the server, or server and client).
    pub ours: f64,
    /// CPU seconds of every other program on the machine.
    pub others: f64,
}

impl CpuUse {
    /// Other programs' share of the whole machine, in percent.
    pub fn others_pct(&self) -> f64 {
        self.others / (self.wall * cores()) * 100.0
    }
}

impl CpuMark {
    /// `stats`: the `/proc/.../stat` files of the processes counted as ours.
    pub fn now(stats: &[&str]) -> CpuMark {
        CpuMark {
            at: std::time::Instant::now(),
            machine: machine_busy_seconds(),
            ours: stats.iter().map(|s| cpu_seconds(s)).sum(),
        }
    }

    pub fn since(&self, stats: &[&str]) -> CpuUse {
        let ours = stats.iter().map(|s| cpu_seconds(s)).sum::<f64>() - self.ours;
        let machine = machine_busy_seconds() - self.machine;
        CpuUse { wall: self.at.elapsed().as_secs_f64(), ours, others: (machine - ours).max(0.0) }
    }
}
