//! A model on disk is one directory:
//! - `weights.safetensors`: f32 tensors `params.<name>`, `ema.<name>`, `best.<name>` (the
//!   scoring weights), `adam_m.<name>`, `adam_v.<name>` (Adam moments, so resumed training
//!   continues exactly);
//! - `model.json`: format tag and version, fdtlab version, [`ModelMeta`] (architecture and
//!   sizes, σ schedule, data mean/scale, state shape, seed, step, history, options), the list
//!   of tensors with shapes and dtype, and the FNV-1a 64-bit hash and length of the weights file.
//!
//! Both files are written atomically (temporary file + rename), weights first: a crash between
//! the two leaves a hash mismatch that [`LearnedModel::load`] reports. Loading checks the JSON
//! against the weights (names, shapes, dtype, hash) and refuses any mismatch.
use super::{LearnedModel, ModelMeta, Weights};
use crate::core::atomic::write_bytes;
use crate::{Error, Result};
use safetensors::{Dtype, SafeTensors};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// File names inside a model directory.
pub const WEIGHTS_FILE: &str = "weights.safetensors";
/// Metadata file name inside a model directory.
pub const META_FILE: &str = "model.json";
const FORMAT: &str = "fdtlab-learned-score";
const FORMAT_VERSION: u32 = 1;
const GROUPS: [&str; 5] = ["params", "ema", "best", "adam_m", "adam_v"];

#[derive(Serialize, Deserialize, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
struct TensorEntry {
    name: String,
    shape: Vec<usize>,
    dtype: String,
}

#[derive(Serialize, Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct ModelFile {
    format: String,
    format_version: u32,
    fdtlab_version: String,
    meta: ModelMeta,
    tensors: Vec<TensorEntry>,
    weights_bytes: u64,
    weights_fnv1a64: String,
}

/// FNV-1a 64-bit hash (detects truncation and corruption; not cryptographic).
fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

impl Weights {
    fn groups(&self) -> [&Vec<Vec<f32>>; 5] {
        [
            &self.params,
            &self.ema,
            &self.best,
            &self.adam_m,
            &self.adam_v,
        ]
    }
}

impl LearnedModel {
    /// Saves the model into the directory `dir` (created if missing; files replaced
    /// atomically).
    pub fn save(&self, dir: impl AsRef<Path>) -> Result<()> {
        let dir = dir.as_ref();
        let specs = self.meta.net.specs();
        let mut entries = Vec::new();
        let mut blobs: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
        for (g, ts) in GROUPS.iter().zip(self.w.groups()) {
            for (s, v) in specs.iter().zip(ts.iter()) {
                let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
                let name = format!("{g}.{}", s.name);
                entries.push(TensorEntry {
                    name: name.clone(),
                    shape: s.shape.clone(),
                    dtype: "F32".into(),
                });
                blobs.push((name, s.shape.clone(), bytes));
            }
        }
        let views = blobs
            .iter()
            .map(|(n, shape, b)| {
                safetensors::tensor::TensorView::new(Dtype::F32, shape.clone(), b)
                    .map(|v| (n.clone(), v))
            })
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| Error::io(dir.join(WEIGHTS_FILE), e))?;
        let bytes = safetensors::tensor::serialize(views, None)
            .map_err(|e| Error::io(dir.join(WEIGHTS_FILE), e))?;
        let file = ModelFile {
            format: FORMAT.into(),
            format_version: FORMAT_VERSION,
            fdtlab_version: env!("CARGO_PKG_VERSION").into(),
            meta: self.meta.clone(),
            tensors: entries,
            weights_bytes: bytes.len() as u64,
            weights_fnv1a64: format!("{:016x}", fnv1a64(&bytes)),
        };
        let json =
            serde_json::to_vec_pretty(&file).map_err(|e| Error::io(dir.join(META_FILE), e))?;
        write_bytes(&dir.join(WEIGHTS_FILE), &bytes)?;
        write_bytes(&dir.join(META_FILE), &json)
    }

    /// Loads a model saved by [`LearnedModel::save`], checking the metadata against the
    /// weights.
    pub fn load(dir: impl AsRef<Path>) -> Result<Self> {
        let mut dir = dir.as_ref();
        // The path of the model's own `model.json` names its folder; another file does not.
        if dir.is_file() {
            match (dir.file_name(), dir.parent()) {
                (Some(f), Some(parent)) if f == META_FILE => dir = parent,
                _ => {
                    return Err(Error::io(
                        dir,
                        format!(
                            "is a file; pass the model folder (the one holding {META_FILE} and \
                             {WEIGHTS_FILE}, as written by save_model)"
                        ),
                    ))
                }
            }
        }
        let mpath = dir.join(META_FILE);
        let wpath = dir.join(WEIGHTS_FILE);
        let json = std::fs::read(&mpath).map_err(|e| Error::io(&mpath, e))?;
        let file: ModelFile = serde_json::from_slice(&json)
            .map_err(|e| Error::io(&mpath, format!("not a valid fdtlab model description: {e}")))?;
        if file.format != FORMAT || file.format_version != FORMAT_VERSION {
            return Err(Error::io(
                &mpath,
                format!(
                    "format {} v{} is not {FORMAT} v{FORMAT_VERSION}; it was written by another \
                     program or fdtlab version",
                    file.format, file.format_version
                ),
            ));
        }
        let bytes = std::fs::read(&wpath).map_err(|e| Error::io(&wpath, e))?;
        if bytes.len() as u64 != file.weights_bytes {
            return Err(Error::io(
                &wpath,
                format!(
                    "has {} bytes, {META_FILE} says {} (truncated or replaced file); re-save \
                     or re-train the model",
                    bytes.len(),
                    file.weights_bytes
                ),
            ));
        }
        let h = format!("{:016x}", fnv1a64(&bytes));
        if h != file.weights_fnv1a64 {
            return Err(Error::io(
                &wpath,
                format!(
                    "checksum {h} differs from {} recorded in {META_FILE} (corrupted, or the \
                     two files come from different saves); re-save or re-train the model",
                    file.weights_fnv1a64
                ),
            ));
        }
        let st = SafeTensors::deserialize(&bytes)
            .map_err(|e| Error::io(&wpath, format!("not a valid safetensors file: {e}")))?;
        // Every layer has at least one f32 in each group: a description with more layers than
        // the weights could hold is corrupt, and listing its tensors could exhaust memory.
        let net = &file.meta.net;
        let most = bytes.len() / (4 * GROUPS.len());
        if net.layers > most || net.kernels.len() > most || net.param_bound().is_none() {
            return Err(Error::io(
                &mpath,
                format!(
                    "describes {} layers, more than the {} bytes of {WEIGHTS_FILE} can hold; \
                     the file was edited or is corrupt",
                    net.layers,
                    bytes.len()
                ),
            ));
        }
        let specs = file.meta.net.specs();
        let expected: Vec<TensorEntry> = GROUPS
            .iter()
            .flat_map(|g| {
                specs.iter().map(move |s| TensorEntry {
                    name: format!("{g}.{}", s.name),
                    shape: s.shape.clone(),
                    dtype: "F32".into(),
                })
            })
            .collect();
        if expected != file.tensors {
            let first_diff = expected.iter().zip(&file.tensors).position(|(a, b)| a != b);
            let what = match first_diff {
                Some(i) if expected.len() == file.tensors.len() => {
                    let (e, f) = (&expected[i], &file.tensors[i]);
                    format!(
                        "tensor {i} is listed as {} {:?} {}, the architecture needs {} {:?} {}",
                        f.name, f.shape, f.dtype, e.name, e.shape, e.dtype
                    )
                }
                _ => format!(
                    "{} tensors expected, {} listed",
                    expected.len(),
                    file.tensors.len()
                ),
            };
            return Err(Error::io(
                &mpath,
                format!(
                    "its tensor list does not match its architecture {} ({what}); the file was \
                     edited or is corrupt",
                    file.meta.net.describe(),
                ),
            ));
        }
        if st.len() != expected.len() {
            return Err(Error::io(
                &wpath,
                format!("holds {} tensors, expected {}", st.len(), expected.len()),
            ));
        }
        let mut groups: Vec<Vec<Vec<f32>>> = vec![Vec::new(); GROUPS.len()];
        for (i, e) in expected.iter().enumerate() {
            let view = st
                .tensor(&e.name)
                .map_err(|err| Error::io(&wpath, format!("missing tensor {}: {err}", e.name)))?;
            if view.dtype() != Dtype::F32 || view.shape() != e.shape.as_slice() {
                return Err(Error::io(
                    &wpath,
                    format!(
                        "tensor {} is {:?} {:?}, expected F32 {:?}",
                        e.name,
                        view.dtype(),
                        view.shape(),
                        e.shape
                    ),
                ));
            }
            let v: Vec<f32> = view
                .data()
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect();
            groups[i / specs.len()].push(v);
        }
        let mut it = groups.into_iter();
        let mut next = || it.next().unwrap_or_default();
        let w = Weights {
            params: next(),
            ema: next(),
            best: next(),
            adam_m: next(),
            adam_v: next(),
        };
        Ok(LearnedModel { meta: file.meta, w })
    }
}
