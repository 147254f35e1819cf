//! The memory budget: the most memory one request (a simulation, an ensemble, a correlation, a
//! training run, an array constructor, …) may allocate. Every size computed from user input is
//! checked against it *before* allocating, so a request that does not fit is refused with a
//! message instead of a panic, an abort ("memory allocation of … bytes failed") or the kernel's
//! OOM killer ending the session.
//!
//! **The budget.** By default 75 % of `MemAvailable` in `/proc/meminfo`, read once at first use
//! (normally when fdtlab starts): the rest is left for the process's own data, buffers not
//! counted here and other programs. Where that file cannot be read (not Linux, a sandbox
//! without `/proc`) the default is a fixed 4 GiB. The budget is overridden, in increasing
//! priority, by the environment variable `FDTLAB_MEMORY_BUDGET` (read at first use), the
//! command-line flag `--memory-budget` and the script function `set_memory_budget` (both call
//! [`set`]). Sizes are written like `"8GiB"`, `"512 MiB"`, `"1.5 GB"` or `"2e9"` (bytes); see
//! [`parse_size`]. The value is one process-wide atomic.
//!
//! **The check.** [`Request`] (or the one-buffer shortcut [`check`]) multiplies the counts
//! of each buffer with `checked_mul` (an overflow means "more than 16 EiB", which no budget
//! allows) and refuses a total over the budget with the size asked for, how it was computed,
//! the budget and how to raise it. While the budget is the machine default, a request above
//! 64 MiB is also checked against 75 % of the memory available *now* (other programs or this
//! session's own arrays may have taken some since start-up); an explicit budget skips that
//! check, so a user who knows better (swap, a cgroup limit fdtlab cannot see) is obeyed.
//!
//! The budget bounds one request, not the sum of everything a session holds: large arrays
//! kept in variables count against the live check above but not against the budget itself.
//! Per-thread scratch buffers are counted where they scale with user input.
use crate::{Error, Result};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

/// Share of the available memory the default budget (and the live check) allows.
pub const DEFAULT_FRACTION: f64 = 0.75;
/// Default budget where `/proc/meminfo` cannot be read (4 GiB).
pub const FALLBACK_BYTES: u64 = 4 << 30;
/// Smallest budget [`set`] accepts (1 KiB): below it nothing useful runs.
pub const MIN_BYTES: u64 = 1 << 10;
/// Requests above this (64 MiB) are also checked against the memory available now while the
/// budget is the machine default.
pub const LIVE_CHECK_BYTES: u64 = 64 << 20;
/// Name of the environment variable that sets the budget.
pub const ENV_VAR: &str = "FDTLAB_MEMORY_BUDGET";

/// Where the current budget comes from.
#[derive(Clone, Debug, PartialEq)]
pub enum Source {
    /// [`DEFAULT_FRACTION`] of the memory available at first use (`available` bytes).
    Machine { available: u64 },
    /// [`FALLBACK_BYTES`]: the available memory could not be read.
    Fallback,
    /// The environment variable [`ENV_VAR`].
    Env,
    /// [`set`] (from `set_memory_budget` or `--memory-budget`).
    Set,
}

/// The budget in force: its size in bytes and where it comes from.
#[derive(Clone, Debug, PartialEq)]
pub struct Budget {
    pub bytes: u64,
    pub source: Source,
}

impl Budget {
    /// `"16.2 GiB"`.
    pub fn text(&self) -> String {
        format_bytes(self.bytes)
    }

    /// How the budget was chosen, e.g. `"75 % of the 21.6 GiB available when fdtlab started"`.
    pub fn origin(&self) -> String {
        match &self.source {
            Source::Machine { available } => format!(
                "{:.0} % of the {} available when fdtlab started",
                DEFAULT_FRACTION * 100.0,
                format_bytes(*available)
            ),
            Source::Fallback => format!(
                "a fixed {}: the available memory could not be read from /proc/meminfo",
                format_bytes(FALLBACK_BYTES)
            ),
            Source::Env => format!("from {ENV_VAR}"),
            Source::Set => "set with set_memory_budget or --memory-budget".to_string(),
        }
    }

    /// `true` for the default derived from the machine (or its fallback).
    pub fn is_default(&self) -> bool {
        matches!(self.source, Source::Machine { .. } | Source::Fallback)
    }
}

impl std::fmt::Display for Budget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.text(), self.origin())
    }
}

/// The default budget (environment variable or machine), decided once.
static DEFAULT: OnceLock<std::result::Result<Budget, String>> = OnceLock::new();
/// Bytes of a budget given by [`set`]; 0 = none.
static SET_BYTES: AtomicU64 = AtomicU64::new(0);

fn default_budget() -> &'static std::result::Result<Budget, String> {
    DEFAULT.get_or_init(|| match std::env::var(ENV_VAR) {
        Ok(s) if !s.trim().is_empty() => parse_budget(&s)
            .map(|bytes| Budget {
                bytes,
                source: Source::Env,
            })
            .map_err(|e| format!("{ENV_VAR}={s:?}: {e}")),
        _ => Ok(machine_default(mem_available())),
    })
}

/// The budget for `available` bytes of available memory (`None`: unknown).
fn machine_default(available: Option<u64>) -> Budget {
    match available {
        Some(a) => Budget {
            bytes: ((a as f64 * DEFAULT_FRACTION) as u64).max(MIN_BYTES),
            source: Source::Machine { available: a },
        },
        None => Budget {
            bytes: FALLBACK_BYTES,
            source: Source::Fallback,
        },
    }
}

/// `MemAvailable` from `/proc/meminfo`, in bytes.
pub fn mem_available() -> Option<u64> {
    parse_meminfo(
        &std::fs::read_to_string("/proc/meminfo").ok()?,
        "MemAvailable:",
    )
}

/// `MemTotal` from `/proc/meminfo` (the machine's memory), in bytes.
pub fn mem_total() -> Option<u64> {
    parse_meminfo(&std::fs::read_to_string("/proc/meminfo").ok()?, "MemTotal:")
}

fn parse_meminfo(text: &str, key: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with(key))?;
    let mut it = line[key.len()..].split_whitespace();
    let n: u64 = it.next()?.parse().ok()?;
    match it.next() {
        Some("kB") => n.checked_mul(1024),
        None => Some(n),
        Some(_) => None,
    }
}

/// The budget in force. Errors only when [`ENV_VAR`] holds something that is not a size (and
/// no budget was set since).
pub fn current() -> Result<Budget> {
    let set = SET_BYTES.load(Ordering::Relaxed);
    if set > 0 {
        return Ok(Budget {
            bytes: set,
            source: Source::Set,
        });
    }
    default_budget().clone().map_err(|e| {
        Error::invalid(format!(
            "the memory budget is not usable: {e}; fix the variable, or set the budget with --memory-budget or \
             set_memory_budget(\"8 GiB\")"
        ))
    })
}

/// Sets the budget to `bytes` (at least [`MIN_BYTES`]); returns the new budget.
pub fn set(bytes: u64) -> Result<Budget> {
    if bytes < MIN_BYTES {
        return Err(Error::invalid(format!(
            "a memory budget of {} is too small; pass at least 1 KiB, e.g. \"512 MiB\"",
            format_bytes(bytes)
        )));
    }
    SET_BYTES.store(bytes, Ordering::Relaxed);
    current()
}

/// Sets the budget from text: a size (see [`parse_size`]) or `"auto"` (back to the default
/// from [`ENV_VAR`] or the machine). Returns the new budget.
pub fn set_str(s: &str) -> Result<Budget> {
    if s.trim().eq_ignore_ascii_case("auto") {
        reset();
        return current();
    }
    set(parse_budget(s).map_err(Error::invalid)?)
}

/// Sets the budget to `gib` GiB (a number from a script).
pub fn set_gib(gib: f64) -> Result<Budget> {
    if !(gib.is_finite() && gib > 0.0) {
        return Err(Error::invalid(format!(
            "a memory budget of {gib} GiB is not a positive size; pass e.g. 8 (GiB) or \"512 MiB\""
        )));
    }
    let bytes = gib * (1u64 << 30) as f64;
    if bytes >= u64::MAX as f64 {
        return Err(Error::invalid(format!(
            "a memory budget of {gib} GiB is more than 16 EiB; pass a realistic size"
        )));
    }
    set(bytes.round() as u64)
}

/// Drops a budget given by [`set`]: the default ([`ENV_VAR`] or the machine) applies again.
pub fn reset() {
    SET_BYTES.store(0, Ordering::Relaxed);
}

fn parse_budget(s: &str) -> std::result::Result<u64, String> {
    let b = parse_size(s)?;
    if b < MIN_BYTES {
        return Err(format!(
            "{} is too small for a memory budget; pass at least 1 KiB",
            format_bytes(b)
        ));
    }
    Ok(b)
}

/// Parses a size: a number with an optional unit, case-insensitive, spaces allowed:
/// `B`; binary `KiB MiB GiB TiB` (also `K M G T`); decimal `kB MB GB TB`. No unit = bytes.
/// Examples: `"8GiB"`, `"512 MiB"`, `"1.5 GB"` (1.5·10⁹ bytes), `"2e9"`.
pub fn parse_size(s: &str) -> std::result::Result<u64, String> {
    let t = s.trim();
    let bad = || {
        format!(
            "{s:?} is not a size; write a number with a unit, like \"8 GiB\", \"512 MiB\", \
             \"1.5 GB\" or \"2e9\" (bytes)"
        )
    };
    // The number ends where the unit (a letter other than an exponent 'e' followed by a
    // digit or sign) begins.
    let bytes = t.as_bytes();
    let mut split = t.len();
    for (i, &c) in bytes.iter().enumerate() {
        if c.is_ascii_alphabetic() {
            let is_exp = (c == b'e' || c == b'E')
                && i > 0
                && bytes[i - 1].is_ascii_digit()
                && matches!(bytes.get(i + 1), Some(d) if d.is_ascii_digit() || *d == b'+' || *d == b'-');
            if !is_exp {
                split = i;
                break;
            }
        }
    }
    let (num, unit) = (t[..split].trim(), t[split..].trim());
    let x: f64 = num.parse().map_err(|_| bad())?;
    let mult: f64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" | "byte" | "bytes" => 1.0,
        "k" | "kib" => 1024.0,
        "m" | "mib" => 1024.0 * 1024.0,
        "g" | "gib" => 1024.0 * 1024.0 * 1024.0,
        "t" | "tib" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        "kb" => 1e3,
        "mb" => 1e6,
        "gb" => 1e9,
        "tb" => 1e12,
        _ => return Err(bad()),
    };
    let v = x * mult;
    if !(v.is_finite() && v >= 0.0) {
        return Err(bad());
    }
    if v >= u64::MAX as f64 {
        return Err(format!("{s:?} is more than 16 EiB; pass a realistic size"));
    }
    Ok(v.round() as u64)
}

/// `"512 bytes"`, `"1.5 KiB"`, `"34.4 GiB"` (binary units up to EiB, one decimal).
pub fn format_bytes(b: u64) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if b < 1024 {
        return format!("{b} bytes");
    }
    let mut v = b as f64 / 1024.0;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    // Round like the display would, so "1023.96 MiB" is not shown as "1024.0 MiB".
    if (v * 10.0).round() / 10.0 >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    format!("{v:.1} {}", UNITS[u])
}

/// A budget to suggest for a request of `need` bytes: rounded up to two significant digits
/// in GiB (at least 1 GiB), written like `"40 GiB"`.
fn suggest(need: u64) -> String {
    let gib = need as f64 / (1u64 << 30) as f64;
    let g = if gib <= 1.0 {
        1.0
    } else {
        let p = 10f64.powf(gib.log10().floor() - 1.0).max(1.0);
        (gib / p).ceil() * p
    };
    format!("{g:.0} GiB")
}

/// One buffer of a [`Request`].
#[derive(Clone, Debug)]
struct Part {
    label: String,
    dims: Vec<(String, usize)>,
    bytes_per_value: usize,
}

impl Part {
    fn bytes(&self) -> Option<u64> {
        self.dims
            .iter()
            .try_fold(self.bytes_per_value as u64, |acc, &(_, n)| {
                acc.checked_mul(n as u64)
            })
    }
    /// `"4 members × 100 frames × 8 bytes"`.
    fn formula(&self) -> String {
        let mut s: Vec<String> = self
            .dims
            .iter()
            .map(|(name, n)| {
                if name.is_empty() {
                    n.to_string()
                } else {
                    format!("{n} {name}")
                }
            })
            .collect();
        s.push(format!("{} bytes", self.bytes_per_value));
        s.join(" × ")
    }
}

/// A memory request: one or more buffers, each a product of named counts times the bytes of
/// one value. Build it, then [`Request::check`] before allocating.
///
/// ```
/// use fdtlab::budget::Request;
/// let need = Request::new("simulate")
///     .buffer("the trajectory", &[("members", 8), ("frames", 100), ("values", 4)], 8)
///     .fix("use fewer members or frames")
///     .check()
///     .unwrap();
/// assert_eq!(need, 8 * 100 * 4 * 8);
/// ```
#[derive(Clone, Debug)]
pub struct Request {
    what: String,
    parts: Vec<Part>,
    fix: String,
}

impl Request {
    /// A request by the operation `what` (the message starts with it).
    pub fn new(what: impl Into<String>) -> Self {
        Request {
            what: what.into(),
            parts: Vec::new(),
            fix: String::new(),
        }
    }

    /// Adds a buffer `label` of `∏ dims` values of `bytes_per_value` bytes each.
    pub fn buffer(mut self, label: &str, dims: &[(&str, usize)], bytes_per_value: usize) -> Self {
        self.parts.push(Part {
            label: label.to_string(),
            dims: dims.iter().map(|&(n, v)| (n.to_string(), v)).collect(),
            bytes_per_value,
        });
        self
    }

    /// How to make the request smaller, e.g. `"use fewer members or frames"`.
    pub fn fix(mut self, fix: &str) -> Self {
        self.fix = fix.to_string();
        self
    }

    /// Total bytes, or `None` when it exceeds 16 EiB (a product or the sum overflows).
    pub fn bytes(&self) -> Option<u64> {
        self.parts
            .iter()
            .try_fold(0u64, |acc, p| acc.checked_add(p.bytes()?))
    }

    /// `Ok(bytes)` when the request fits the budget (and, for the default budget and a large
    /// request, the memory available now); otherwise an error saying what was asked, the
    /// budget and how to raise it.
    pub fn check(&self) -> Result<u64> {
        if let Some(n) = self.bytes().filter(|&n| quick(Some(n))) {
            return Ok(n);
        }
        let budget = current()?;
        self.check_with(&budget, mem_available, mem_total)
    }

    /// [`Request::check`] against `budget`, with `now` giving the memory available now.
    fn check_with(
        &self,
        budget: &Budget,
        now: impl FnOnce() -> Option<u64>,
        machine: impl FnOnce() -> Option<u64>,
    ) -> Result<u64> {
        let need = self.bytes();
        if let Some(n) = need {
            if n <= budget.bytes {
                if budget.is_default() && n > LIVE_CHECK_BYTES {
                    if let Some(now) = now() {
                        let spare = (now as f64 * DEFAULT_FRACTION) as u64;
                        if n > spare {
                            return Err(self.refuse_live(n, now, budget));
                        }
                    }
                }
                return Ok(n);
            }
        }
        Err(self.refuse(need, budget, machine()))
    }

    /// What the request takes: `"the trajectory would take 34.4 GiB (… × 8 bytes)"`.
    fn asked(&self, need: Option<u64>) -> String {
        let size = |b: Option<u64>| match b {
            Some(b) => format_bytes(b),
            None => "more than 16 EiB".to_string(),
        };
        match self.parts.as_slice() {
            [p] => format!("{} would take {} ({})", p.label, size(need), p.formula()),
            parts => {
                let each: Vec<String> = parts
                    .iter()
                    .map(|p| format!("{} ({} = {})", p.label, p.formula(), size(p.bytes())))
                    .collect();
                let (last, rest) = each.split_last().expect("several parts");
                format!(
                    "{} and {last} would take {} in all",
                    rest.join(", "),
                    size(need)
                )
            }
        }
    }

    fn fix_then(&self) -> String {
        if self.fix.is_empty() {
            "ask for less".to_string()
        } else {
            self.fix.clone()
        }
    }

    fn raise_hint(need: u64) -> String {
        let s = suggest(need);
        format!(
            "set_memory_budget(\"{s}\") or {ENV_VAR}={}",
            s.replace(' ', "")
        )
    }

    /// The refusal; `machine` is the machine's memory when known. A request that could fit
    /// the machine gets the budget to set; one that cannot says so (raising the budget would
    /// only trade this message for the process being killed).
    fn refuse(&self, need: Option<u64>, budget: &Budget, machine: Option<u64>) -> Error {
        let mut head = format!(
            "{}: {}, over the memory budget of {}",
            self.what,
            self.asked(need),
            budget
        );
        if let Some(n) = need.filter(|&n| format_bytes(n) == budget.text()) {
            // Equal when rounded: give the exact numbers.
            head.push_str(&format!(" ({n} bytes asked, {} allowed)", budget.bytes));
        }
        let fix = self.fix_then();
        Error::OverBudget(match (need, machine) {
            (Some(n), Some(m)) if n <= m => {
                format!(
                    "{head}; {fix}, or raise the budget: {}",
                    Self::raise_hint(n)
                )
            }
            (Some(n), None) => {
                format!(
                    "{head}; {fix}, or raise the budget: {}",
                    Self::raise_hint(n)
                )
            }
            (_, m) => {
                let more = match m {
                    Some(m) => format!(
                        "more than the {} of memory this machine has",
                        format_bytes(m)
                    ),
                    None => "more than any machine has".to_string(),
                };
                format!(
                    "{head}, and {more}; {fix} (the budget is raised with \
                     set_memory_budget(\"SIZE\") or {ENV_VAR}=SIZE, but no budget makes this fit)"
                )
            }
        })
    }

    fn refuse_live(&self, need: u64, now: u64, budget: &Budget) -> Error {
        Error::OverBudget(format!(
            "{}: {}, more than the {} this machine can spare now ({:.0} % of the {} available; \
             the memory budget is {}); {}, free memory (drop large variables, close other \
             programs), or set the budget explicitly, which skips this check: {}",
            self.what,
            self.asked(Some(need)),
            format_bytes((now as f64 * DEFAULT_FRACTION) as u64),
            DEFAULT_FRACTION * 100.0,
            format_bytes(now),
            budget,
            self.fix_then(),
            Self::raise_hint(need)
        ))
    }
}

/// `true` when `∏ dims × bytes_per_value` bytes fit the budget and need no live check (at most
/// [`LIVE_CHECK_BYTES`], or an explicit budget): the allocation-free fast path for the many
/// small requests of array operations. `false` means "run the full check", not "refused".
pub fn fits_quickly(dims: &[usize], bytes_per_value: usize) -> bool {
    let n = dims
        .iter()
        .try_fold(bytes_per_value as u64, |a, &d| a.checked_mul(d as u64));
    quick(n)
}

fn quick(bytes: Option<u64>) -> bool {
    let Some(n) = bytes else {
        return false;
    };
    match SET_BYTES.load(Ordering::Relaxed) {
        0 => match default_budget() {
            Ok(b) => n <= b.bytes && (n <= LIVE_CHECK_BYTES || !b.is_default()),
            Err(_) => false,
        },
        set => n <= set,
    }
}

/// One-buffer shortcut: `check("simulate", "the trajectory", &[("members", m), ("frames", t),
/// ("values", d)], 8, "use fewer members or frames")`. Returns the bytes on success.
pub fn check(
    what: &str,
    label: &str,
    dims: &[(&str, usize)],
    bytes_per_value: usize,
    fix: &str,
) -> Result<u64> {
    let n = dims
        .iter()
        .try_fold(bytes_per_value as u64, |a, &(_, d)| a.checked_mul(d as u64));
    if quick(n) {
        return Ok(n.unwrap_or(0));
    }
    Request::new(what)
        .buffer(label, dims, bytes_per_value)
        .fix(fix)
        .check()
}

/// A count from a script integer: refuses negative values (and, on 32-bit targets, values
/// that do not fit) with a message naming `what`.
pub fn count(what: &str, value: i64) -> Result<usize> {
    if value < 0 {
        return Err(Error::invalid(format!(
            "{what} = {value} is negative; pass a count ≥ 0"
        )));
    }
    usize::try_from(value).map_err(|_| {
        Error::invalid(format!(
            "{what} = {value} is too large for this machine; pass a smaller count"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // The budget is process-wide and unit tests run in parallel threads, so these tests never
    // change it: they check against explicit budgets. Setting it is tested in a subprocess
    // (tests/bad_input.rs).
    fn set_budget(bytes: u64) -> Budget {
        Budget {
            bytes,
            source: Source::Set,
        }
    }

    #[test]
    fn parse_sizes() {
        assert_eq!(parse_size("8GiB"), Ok(8 << 30));
        assert_eq!(parse_size("512 MiB"), Ok(512 << 20));
        assert_eq!(parse_size("2e9"), Ok(2_000_000_000));
        assert_eq!(parse_size("1.5 GB"), Ok(1_500_000_000));
        assert_eq!(parse_size(" 40 gib "), Ok(40 << 30));
        assert_eq!(parse_size("1 MiB"), Ok(1 << 20));
        assert_eq!(parse_size("3k"), Ok(3072));
        assert_eq!(parse_size("2.5e3 KB"), Ok(2_500_000));
        assert_eq!(parse_size("100"), Ok(100));
        assert_eq!(parse_size("1 TiB"), Ok(1 << 40));
        for bad in [
            "", "GiB", "abc", "8 GiBs", "-1 GiB", "nan", "inf GiB", "1e30 TiB",
        ] {
            let e = parse_size(bad).unwrap_err();
            assert!(e.contains(&format!("{bad:?}")), "{bad}: {e}");
        }
        assert!(parse_size("1e30 TiB").unwrap_err().contains("16 EiB"));
        assert!(parse_budget("100").unwrap_err().contains("too small"));
        assert_eq!(parse_budget("1 KiB"), Ok(1024));
    }

    #[test]
    fn meminfo_and_default() {
        let text = "MemTotal:       24576000 kB\nMemFree:  1 kB\nMemAvailable:   23247940 kB\n";
        assert_eq!(parse_meminfo(text, "MemAvailable:"), Some(23247940 * 1024));
        assert_eq!(parse_meminfo(text, "MemTotal:"), Some(24576000 * 1024));
        assert_eq!(parse_meminfo("MemTotal: 5 kB\n", "MemAvailable:"), None);
        let b = machine_default(Some(20 << 30));
        assert_eq!(b.bytes, 15 << 30);
        assert_eq!(
            b.to_string(),
            "15.0 GiB (75 % of the 20.0 GiB available when fdtlab started)"
        );
        let f = machine_default(None);
        assert_eq!(f.bytes, FALLBACK_BYTES);
        assert!(f.origin().contains("4.0 GiB"), "{}", f.origin());
        // On Linux the real default is 75 % of a positive amount.
        if let Some(a) = mem_available() {
            assert!(a > 0);
        }
    }

    #[test]
    fn formats_bytes() {
        assert_eq!(format_bytes(512), "512 bytes");
        assert_eq!(format_bytes(1536), "1.5 KiB");
        assert_eq!(format_bytes((32 << 30) + (400 << 20)), "32.4 GiB");
        assert_eq!(format_bytes((1 << 30) - 1), "1.0 GiB");
        assert_eq!(format_bytes(u64::MAX), "16.0 EiB");
        assert_eq!(suggest(1), "1 GiB");
        assert_eq!(suggest(34 << 30), "34 GiB");
        assert_eq!(suggest((34 << 30) + 1), "35 GiB");
        assert_eq!(suggest(345 << 30), "350 GiB");
    }

    #[test]
    fn overflow_is_refused_with_the_formula() {
        let r = Request::new("simulate")
            .buffer(
                "the trajectory",
                &[
                    ("members", 4611686018427387904),
                    ("frames", 100),
                    ("values", 4),
                ],
                8,
            )
            .fix("use fewer members or frames");
        assert_eq!(r.bytes(), None);
        let e = r
            .check_with(&set_budget(16 << 30), || None, || Some(24 << 30))
            .unwrap_err();
        assert!(matches!(e, Error::OverBudget(_)));
        let msg = e.to_string();
        for part in [
            "simulate: the trajectory would take more than 16 EiB",
            "(4611686018427387904 members × 100 frames × 4 values × 8 bytes)",
            "over the memory budget of 16.0 GiB",
            "and more than the 24.0 GiB of memory this machine has",
            "use fewer members or frames",
            "set_memory_budget(",
            ENV_VAR,
            "no budget makes this fit",
        ] {
            assert!(msg.contains(part), "missing {part:?} in {msg}");
        }
        // The sum of buffers overflows too; so does the public check.
        let r2 = Request::new("x")
            .buffer("a", &[("", usize::MAX / 2)], 2)
            .buffer("b", &[("", usize::MAX / 2)], 2);
        assert_eq!(r2.bytes(), None);
        assert!(r2.check().is_err());
    }

    #[test]
    fn just_under_passes_one_byte_over_is_refused() {
        let b = set_budget(1 << 20);
        let fits = Request::new("t").buffer("a buffer", &[("values", 131072)], 8);
        assert_eq!(fits.check_with(&b, || None, || None).unwrap(), 1 << 20);
        let over = Request::new("t").buffer("a buffer", &[("values", 131073)], 8);
        let e = over
            .check_with(&b, || None, || None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("(1048584 bytes asked, 1048576 allowed)"), "{e}");
        let e = Request::new("zeros")
            .buffer("the array", &[("", 1000), ("", 1000)], 8)
            .fix("use a smaller shape")
            .check_with(&b, || None, || None)
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "zeros: the array would take 7.6 MiB (1000 × 1000 × 8 bytes), over the memory \
             budget of 1.0 MiB (set with set_memory_budget or --memory-budget); use a smaller \
             shape, or raise the budget: set_memory_budget(\"1 GiB\") or \
             FDTLAB_MEMORY_BUDGET=1GiB"
        );
        // A request that fits the machine gets a budget to set, whatever the machine.
        let on_machine = Request::new("zeros")
            .buffer("the array", &[("", 1000), ("", 1000)], 8)
            .check_with(&b, || None, || Some(2 << 30))
            .unwrap_err()
            .to_string();
        assert!(on_machine.ends_with("set_memory_budget(\"1 GiB\") or FDTLAB_MEMORY_BUDGET=1GiB"));
        let two = Request::new("train_score")
            .buffer("the f32 copy", &[("samples", 1000), ("dims", 100)], 4)
            .buffer("the batch", &[("rows", 512), ("dims", 200)], 8)
            .check_with(&b, || None, || None)
            .unwrap_err()
            .to_string();
        assert!(
            two.contains(
                "train_score: the f32 copy (1000 samples × 100 dims × 4 bytes = 390.6 KiB) and \
                 the batch (512 rows × 200 dims × 8 bytes = 800.0 KiB) would take 1.2 MiB in all"
            ),
            "{two}"
        );
    }

    #[test]
    fn live_check_only_for_the_default_budget() {
        let big = Request::new("simulate").buffer("the trajectory", &[("values", 100 << 20)], 8);
        let machine = machine_default(Some(64 << 30)); // 48 GiB budget
                                                       // 800 MiB fits 48 GiB, but only 1 GiB is available now: 75 % of it is 768 MiB.
        let e = big
            .check_with(&machine, || Some(1 << 30), || None)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("more than the 768.0 MiB this machine can spare now"),
            "{e}"
        );
        assert!(e.contains("set_memory_budget(\"1 GiB\")"), "{e}");
        assert!(big.check_with(&machine, || Some(2 << 30), || None).is_ok());
        // An explicit budget is obeyed without looking at the machine.
        assert!(big
            .check_with(&set_budget(1 << 30), || Some(1 << 30), || None)
            .is_ok());
        // Small requests skip the live check.
        let small = Request::new("t").buffer("a", &[("values", 1000)], 8);
        assert!(small
            .check_with(&machine, || Some(1 << 20), || None)
            .is_ok());
    }

    #[test]
    fn gib_numbers_are_validated() {
        // Only the refusals: accepting would change the process-wide budget.
        assert!(set_gib(-1.0).is_err());
        assert!(set_gib(f64::NAN).is_err());
        assert!(set_gib(1e30).unwrap_err().to_string().contains("16 EiB"));
        assert!(set(10).unwrap_err().to_string().contains("too small"));
        assert!(set_str("lots")
            .unwrap_err()
            .to_string()
            .contains("not a size"));
    }

    #[test]
    fn the_fast_path_never_accepts_what_the_check_refuses() {
        // Small requests take the fast path; overflow and anything above the live-check size
        // go to the full check (whose answer the slow path gives).
        assert!(fits_quickly(&[1000, 10], 8));
        assert!(!fits_quickly(&[usize::MAX, 2], 8));
        assert!(
            !fits_quickly(&[(LIVE_CHECK_BYTES / 8 + 1) as usize], 8)
                || !current().unwrap().is_default()
        );
        assert_eq!(check("t", "a", &[("values", 1000)], 8, "").unwrap(), 8000);
    }

    #[test]
    fn counts_from_script_integers() {
        assert_eq!(count("members", 5).unwrap(), 5);
        let e = count("members", -3).unwrap_err().to_string();
        assert!(e.contains("members = -3 is negative"), "{e}");
    }
}
