//! Script API of the memory budget ([`crate::budget`]): `memory_budget`, `set_memory_budget`,
//! and size-checked versions of the Rhai built-ins that allocate a size given as a number
//! (`pad` of arrays, BLOBs and strings; `blob(len)`). The built-ins allocate first (a huge
//! length aborts the process, an empty padding string loops forever); these overloads shadow
//! them with the same behaviour plus the budget check. Rhai's own size limits would do the
//! check too, but they make every array operation walk the whole array (measured: 200 000
//! `push`es took 24 s instead of 0.35 s), so they stay off.
use rhai::plugin::*;
use rhai::Module;

/// The `memory` topic module.
pub fn module() -> Module {
    exported_module!(memory_api)
}

/// `#{ bytes, text, source }` of a budget (see `memory_budget`).
fn budget_map(b: &crate::budget::Budget) -> rhai::Map {
    use crate::budget::Source;
    let mut m = rhai::Map::new();
    m.insert(
        "bytes".into(),
        Dynamic::from_int(b.bytes.min(i64::MAX as u64) as i64),
    );
    m.insert("text".into(), Dynamic::from(b.to_string()));
    let source = match b.source {
        Source::Machine { .. } => "machine",
        Source::Fallback => "fallback",
        Source::Env => "env",
        Source::Set => "set",
    };
    m.insert("source".into(), Dynamic::from(source.to_string()));
    m
}

/// Bytes a copy of `v` takes: one script value, plus the contents of arrays, maps, BLOBs and
/// strings (copied with the value; ndarrays and other handles share their buffers).
fn copy_bytes(v: &Dynamic) -> usize {
    let value = std::mem::size_of::<Dynamic>();
    if let Some(a) = v.read_lock::<rhai::Array>() {
        return a
            .iter()
            .fold(value, |acc, x| acc.saturating_add(copy_bytes(x)));
    }
    if let Some(m) = v.read_lock::<rhai::Map>() {
        return m.iter().fold(value, |acc, (k, x)| {
            acc.saturating_add(k.len() + 3 * value)
                .saturating_add(copy_bytes(x))
        });
    }
    if let Some(b) = v.read_lock::<rhai::Blob>() {
        return value.saturating_add(b.len());
    }
    value
}

/// Checks `count` new items of `bytes` bytes each against the budget.
fn check_items(what: &str, count: usize, bytes: usize) -> crate::Result<()> {
    crate::budget::check(
        what,
        "the padding",
        &[("items", count)],
        bytes,
        "use a smaller length",
    )?;
    Ok(())
}

#[export_module]
pub mod memory_api {
    use rhai::{Array, Blob, Dynamic, EvalAltResult, ImmutableString, Map, INT};

    type Res<T> = Result<T, Box<EvalAltResult>>;

    /// The memory budget: the most memory one request (a simulation, an ensemble, a
    /// correlation, a training run, an array) may allocate; larger requests are refused before
    /// allocating, with the size asked for and how to raise the budget. A map
    /// `#{ bytes, text, source }`: `bytes` (integer), `text` (e.g.
    /// `"15.4 GiB (75 % of the 20.5 GiB available when fdtlab started)"`) and `source`:
    /// `"machine"` (75 % of the memory available at start), `"fallback"` (4 GiB when that
    /// cannot be read), `"env"` (`FDTLAB_MEMORY_BUDGET`) or `"set"` (`set_memory_budget`,
    /// `--memory-budget`). While the budget is the machine default, a request above 64 MiB
    /// is also refused when it exceeds 75 % of the memory available at that moment.
    ///
    /// ```rhai
    /// let b = memory_budget();
    /// assert(b.bytes > 0);
    /// print(`memory budget: ${b.text}`);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn memory_budget() -> Res<Map> {
        Ok(super::budget_map(&crate::budget::current()?))
    }

    /// Sets the memory budget from a size such as `"40 GiB"`, `"512 MiB"`, `"1.5 GB"` or
    /// `"2e9"` (bytes), or `"auto"` for the default (`FDTLAB_MEMORY_BUDGET`, else 75 % of the
    /// memory available when fdtlab started). Returns the new budget (see `memory_budget`).
    /// An explicit budget is obeyed as given: above the machine's memory it trades a clear
    /// refusal for the risk of the process being killed.
    ///
    /// ```rhai
    /// set_memory_budget("512 MiB");
    /// assert_eq(memory_budget().bytes, 512 * 1024 * 1024);
    /// let r = "";
    /// try { zeros([1000, 100000]); } catch (e) { r = e; }
    /// assert("over the memory budget of 512.0 MiB" in r);
    /// set_memory_budget("auto");
    /// ```
    #[rhai_fn(name = "set_memory_budget", return_raw)]
    pub fn set_memory_budget(size: &str) -> Res<Map> {
        Ok(super::budget_map(&crate::budget::set_str(size)?))
    }

    /// Sets the memory budget to `gib` GiB (a number: `set_memory_budget(8)` is 8 GiB,
    /// `set_memory_budget(0.5)` 512 MiB). Returns the new budget (see `memory_budget`).
    ///
    /// ```rhai
    /// let b = set_memory_budget(2);
    /// assert_eq(b.bytes, 2 * 1024 * 1024 * 1024);
    /// set_memory_budget(0.5);
    /// assert_eq(memory_budget().text, "512.0 MiB (set with set_memory_budget or --memory-budget)");
    /// set_memory_budget("auto");
    /// ```
    #[rhai_fn(name = "set_memory_budget", return_raw)]
    pub fn set_memory_budget_gib(gib: Dynamic) -> Res<Map> {
        let g = crate::engine::array::num_arg(&gib, "set_memory_budget")?;
        Ok(super::budget_map(&crate::budget::set_gib(g)?))
    }

    /// Pads the array to at least `len` elements with copies of `item` (no change when it is
    /// already that long), like Rhai's built-in `pad`, after checking the memory budget.
    ///
    /// ```rhai
    /// let a = [1, 2];
    /// a.pad(4, 0);
    /// assert_eq(a, [1, 2, 0, 0]);
    /// let r = "";
    /// try { a.pad(4611686018427387904, 0); } catch (e) { r = e; }
    /// assert("memory budget" in r);
    /// ```
    #[rhai_fn(name = "pad", return_raw)]
    pub fn pad_array(array: &mut Array, len: INT, item: Dynamic) -> Res<()> {
        let Ok(len) = usize::try_from(len) else {
            return Ok(());
        };
        if len <= array.len() {
            return Ok(());
        }
        super::check_items("pad", len - array.len(), super::copy_bytes(&item))?;
        array.resize(len, item);
        Ok(())
    }

    /// Pads the BLOB to at least `len` bytes with the byte `value` (its low 8 bits), like
    /// Rhai's built-in `pad`, after checking the memory budget.
    ///
    /// ```rhai
    /// let b = blob(2, 1);
    /// b.pad(4, 0x107);
    /// assert_eq(b.len(), 4);
    /// assert_eq(b[3], 7);
    /// ```
    #[rhai_fn(name = "pad", return_raw)]
    pub fn pad_blob(blob: &mut Blob, len: INT, value: INT) -> Res<()> {
        let Ok(len) = usize::try_from(len) else {
            return Ok(());
        };
        if len <= blob.len() {
            return Ok(());
        }
        super::check_items("pad", len - blob.len(), 1)?;
        blob.resize(len, (value & 0xff) as u8);
        Ok(())
    }

    /// Pads the string to at least `len` characters with `character`, like Rhai's built-in
    /// `pad`, after checking the memory budget.
    ///
    /// ```rhai
    /// let s = "ab";
    /// s.pad(4, '.');
    /// assert_eq(s, "ab..");
    /// ```
    #[rhai_fn(name = "pad", return_raw)]
    pub fn pad_string(string: &mut ImmutableString, len: INT, character: char) -> Res<()> {
        let Ok(len) = usize::try_from(len) else {
            return Ok(());
        };
        let have = string.chars().count();
        if len <= have {
            return Ok(());
        }
        super::check_items("pad", len - have, character.len_utf8())?;
        let p = string.make_mut();
        p.extend(std::iter::repeat_n(character, len - have));
        Ok(())
    }

    /// Pads the string to at least `len` characters with copies of `padding` (the last copy
    /// cut to fit), like Rhai's built-in `pad`, after checking the memory budget. An empty
    /// `padding` is an error (the built-in would loop forever).
    ///
    /// ```rhai
    /// let s = "hello";
    /// s.pad(10, "(!)");
    /// assert_eq(s, "hello(!)(!");
    /// ```
    #[rhai_fn(name = "pad", return_raw)]
    pub fn pad_string_with(string: &mut ImmutableString, len: INT, padding: &str) -> Res<()> {
        let Ok(len) = usize::try_from(len) else {
            return Ok(());
        };
        let have = string.chars().count();
        if len <= have {
            return Ok(());
        }
        if padding.is_empty() {
            return Err(crate::engine::error::rt(
                "pad: the padding string is empty; pass at least one character",
            ));
        }
        // At most 4 bytes per character (UTF-8).
        super::check_items("pad", len - have, 4)?;
        let p = string.make_mut();
        p.extend(padding.chars().cycle().take(len - have));
        Ok(())
    }

    /// A BLOB of `len` zero bytes (empty for `len` ≤ 0), like Rhai's built-in `blob`, after
    /// checking the memory budget.
    ///
    /// ```rhai
    /// assert_eq(blob(3).len(), 3);
    /// let r = "";
    /// try { blob(4611686018427387904); } catch (e) { r = e; }
    /// assert("memory budget" in r);
    /// ```
    #[rhai_fn(name = "blob", return_raw)]
    pub fn blob_zeros(len: INT) -> Res<Blob> {
        blob_filled(len, 0)
    }

    /// A BLOB of `len` bytes equal to `value` (its low 8 bits), like Rhai's built-in `blob`,
    /// after checking the memory budget.
    ///
    /// ```rhai
    /// let b = blob(2, 0x141);
    /// assert_eq(b[0], 0x41);
    /// ```
    #[rhai_fn(name = "blob", return_raw)]
    pub fn blob_filled(len: INT, value: INT) -> Res<Blob> {
        let Ok(len) = usize::try_from(len) else {
            return Ok(Blob::new());
        };
        crate::budget::check(
            "blob",
            "the BLOB",
            &[("bytes", len)],
            1,
            "use a smaller length",
        )?;
        Ok(vec![(value & 0xff) as u8; len])
    }
}
