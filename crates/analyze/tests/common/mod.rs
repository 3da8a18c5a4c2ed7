//! What the corpus tests share: walking a flowgen directory, its objects in delivery order
//! (as `analyze` reads them), and the default pack with flowgen's layers over it.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use flowkeeper_analyze::{Origin, PackSource, RulePack};
use flowlog::{FlowRecord, S3TextFile};

/// Every file under `dir`, sorted.
pub fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The delivery time in an object's name (`..._20261101T0005Z_hash.log.gz`).
fn delivered(p: &Path) -> String {
    let name = p.file_name().unwrap().to_string_lossy().into_owned();
    let parts: Vec<&str> = name.split('_').collect();
    parts[parts.len() - 2].to_owned()
}

/// The objects of a flowgen directory in delivery order, as `analyze` reads them.
pub fn objects_in_order(dir: &Path) -> Vec<PathBuf> {
    let mut objects: Vec<PathBuf> = files(dir)
        .into_iter()
        .filter(|p| p.to_string_lossy().ends_with(".log.gz"))
        .collect();
    objects.sort_by_key(|p| (delivered(p), p.clone()));
    objects
}

/// A gzip file's text.
// Not every test crate that includes this module reads objects itself.
#[allow(dead_code)]
pub fn gunzip(p: &Path) -> String {
    let mut text = String::new();
    flate2::read::GzDecoder::new(fs::File::open(p).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    text
}

/// Calls `f` with every record of every object of `dir`, in the order `analyze` takes them,
/// and its origin (object index, line); a line that does not decode panics naming it.
#[allow(dead_code)]
pub fn each_record(dir: &Path, mut f: impl FnMut(Origin, &FlowRecord<'_>)) {
    for (source, path) in objects_in_order(dir).iter().enumerate() {
        let text = gunzip(path);
        let file = S3TextFile::parse(&text).unwrap();
        for (line, record) in file.records() {
            let record = record.unwrap_or_else(|e| panic!("{}:{line}: {e}", path.display()));
            f(Origin::new(source as u32, line as u64), &record);
        }
    }
}

/// The default pack with the files `layers` of `dir` (flowgen's `zones.yaml`,
/// `networks.yaml`, ...) layered over it.
pub fn layered_pack(dir: &Path, layers: &[&str]) -> RulePack {
    let default = fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../policies/detections/default.yaml"),
    )
    .unwrap();
    let texts: Vec<(String, String)> = layers
        .iter()
        .map(|l| (l.to_string(), fs::read_to_string(dir.join(l)).unwrap()))
        .collect();
    let mut sources = vec![PackSource {
        name: "default.yaml",
        text: &default,
    }];
    sources.extend(texts.iter().map(|(n, t)| PackSource { name: n, text: t }));
    RulePack::from_yaml_layers(&sources).unwrap_or_else(|e| panic!("{e:?}"))
}
