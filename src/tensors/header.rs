//! The header of a safetensors file, as the file lays it out: what a reader sees before it
//! touches a single weight.
//!
//! A safetensors file is three parts:
//!
//! 1. 8 bytes: the header's length `N`, an unsigned 64-bit integer, little-endian;
//! 2. `N` bytes of JSON (padded with spaces to a multiple of 8): for every tensor its
//!    `dtype`, `shape` and `data_offsets` (`[begin, end)`, in bytes, counted from the
//!    start of part 3), and an optional `__metadata__` object of strings;
//! 3. the tensors' bytes, one after another, little-endian, row-major (C order).
//!
//! ```
//! use resgrad::ndarray::{ArrayD, IxDyn};
//! use resgrad::tensors::read_header;
//!
//! let w = ArrayD::<f32>::zeros(IxDyn(&[2, 3]));
//! let path = std::env::temp_dir().join("resgrad-doc-header.safetensors");
//! resgrad::save_tensors(&path, &[("w", &w)])?;
//! let header = read_header(&std::fs::read(&path)?).unwrap();
//! assert_eq!(header.entries[0].name, "w");
//! assert_eq!(header.entries[0].dtype, "F32");
//! assert_eq!(header.entries[0].data_offsets, [0, 24]); // 6 floats of 4 bytes
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::cell::RefCell;
use std::collections::{BTreeMap, HashSet};
use std::fmt;

use safetensors::tensor::SafeTensors;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};

/// One tensor's entry in a safetensors header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderEntry {
    /// The tensor's name (for a model, its state-dict key, e.g. `layer1.0.conv1.weight`).
    pub name: String,
    /// How its elements are stored, as the file spells it: `F32`, `F64`, `I64`, ...
    pub dtype: String,
    /// Its shape, outermost axis first (`[]` for a scalar).
    pub shape: Vec<usize>,
    /// `[begin, end)` of its bytes, counted from the start of the data part.
    pub data_offsets: [usize; 2],
}

impl HeaderEntry {
    /// How many bytes the tensor's data takes (`end - begin`).
    pub fn bytes(&self) -> usize {
        self.data_offsets[1] - self.data_offsets[0]
    }
}

/// A safetensors file's header: its length, its entries in the order of their data, and
/// its metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// `N`, the length of the JSON header in bytes (padding included), as the first 8
    /// bytes of the file say.
    pub header_len: usize,
    /// Every tensor, in the order its bytes appear in the file.
    pub entries: Vec<HeaderEntry>,
    /// The `__metadata__` strings (resgrad records the architecture there).
    pub metadata: BTreeMap<String, String>,
}

impl Header {
    /// Where the data part starts in the file: after the 8-byte length and the header.
    pub fn data_start(&self) -> usize {
        8 + self.header_len
    }
}

/// Reads the header of the safetensors file held in `bytes` (the whole file: the reader
/// also checks that the offsets cover the data exactly, and that no key is given twice).
/// The error says what is wrong.
pub fn read_header(bytes: &[u8]) -> Result<Header, String> {
    check_unique_keys(bytes)?;
    let (header_len, meta) = SafeTensors::read_metadata(bytes).map_err(|e| {
        format!("not a valid safetensors file ({e}); it may be truncated or its header corrupt")
    })?;
    let infos = meta.tensors();
    let entries = meta
        .offset_keys()
        .into_iter()
        .map(|name| {
            let info = infos[&name];
            HeaderEntry {
                dtype: format!("{:?}", info.dtype),
                shape: info.shape.clone(),
                data_offsets: [info.data_offsets.0, info.data_offsets.1],
                name,
            }
        })
        .collect();
    let metadata = meta
        .metadata()
        .as_ref()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    Ok(Header {
        header_len,
        entries,
        metadata,
    })
}

/// Refuses a safetensors file (`bytes`, the whole file) whose header gives a key twice in
/// one object. A JSON map keeps only one of the two values, and which one depends on the
/// reader, so such a file means different things to different programs. Read before the
/// safetensors reader reads the header (which would keep one, or refuse a field given
/// twice without naming its tensor); any other problem is left to that reader.
pub(crate) fn check_unique_keys(bytes: &[u8]) -> Result<(), String> {
    let json = bytes
        .get(..8)
        .and_then(|n| usize::try_from(u64::from_le_bytes(n.try_into().ok()?)).ok())
        .and_then(|n| bytes.get(8..8usize.checked_add(n)?));
    let Some(json) = json else {
        return Ok(());
    };
    let repeated = RefCell::new(None);
    let mut reader = serde_json::Deserializer::from_slice(json);
    // Only a repeated key is this check's to report.
    let _ = Unique {
        within: None,
        repeated: &repeated,
    }
    .deserialize(&mut reader);
    match repeated.into_inner() {
        Some((None, key)) => Err(format!(
            "the header names the key `{key}` twice; a reader keeps only one of the two \
             entries, and which one depends on the reader: the file is corrupt or was written \
             by hand, so save it again with each key once"
        )),
        Some((Some(within), key)) => Err(format!(
            "the header's entry `{within}` names `{key}` twice; a reader keeps only one of \
             the two values, and which one depends on the reader: the file is corrupt or was \
             written by hand, so save it again with each key once"
        )),
        None => Ok(()),
    }
}

/// A JSON value read only to find the first object that gives a key twice: the object's
/// own key in the header (`None` for the header itself) and the key, put in `repeated`.
#[derive(Clone, Copy)]
struct Unique<'a> {
    within: Option<&'a str>,
    repeated: &'a RefCell<Option<(Option<String>, String)>>,
}

impl<'de> DeserializeSeed<'de> for Unique<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Unique<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(self)?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if seen.contains(&key) {
                *self.repeated.borrow_mut() = Some((self.within.map(str::to_string), key));
                return Err(de::Error::custom("a key given twice"));
            }
            // Only the header's own keys name what is inside them.
            let within = if self.within.is_none() {
                Some(key.as_str())
            } else {
                self.within
            };
            map.next_value_seed(Unique {
                within,
                repeated: self.repeated,
            })?;
            seen.insert(key);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{ArrayD, IxDyn};

    fn two_tensors() -> Vec<u8> {
        let a = ArrayD::<f32>::from_elem(IxDyn(&[2, 2]), 1.5);
        let b = ArrayD::<f32>::from_elem(IxDyn(&[3]), -2.0);
        let mut meta = BTreeMap::new();
        meta.insert("who".to_string(), "test".to_string());
        crate::tensors::encode(
            &[
                ("b", crate::tensors::Dtype::F32, &b),
                ("a", crate::tensors::Dtype::I64, &a),
            ],
            &meta,
        )
        .unwrap()
    }

    #[test]
    fn the_first_eight_bytes_are_the_header_length_and_the_data_fills_the_rest() {
        let bytes = two_tensors();
        let h = read_header(&bytes).unwrap();
        let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
        assert_eq!(h.header_len, n);
        assert_eq!(n % 8, 0, "the header is padded to a multiple of 8");
        let last = h.entries.last().unwrap().data_offsets[1];
        assert_eq!(h.data_start() + last, bytes.len());
        assert_eq!(h.metadata["who"], "test");
    }

    #[test]
    fn eight_byte_dtypes_come_first_then_names_in_order() {
        let h = read_header(&two_tensors()).unwrap();
        let names: Vec<_> = h.entries.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(h.entries[0].dtype, "I64");
        assert_eq!(h.entries[0].data_offsets, [0, 32]);
        assert_eq!(h.entries[1].data_offsets, [32, 44]);
        assert_eq!(h.entries[1].bytes(), 12);
        // The bytes at the offsets are the values, little-endian.
        let bytes = two_tensors();
        let at = h.data_start() + 32;
        assert_eq!(
            f32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()),
            -2.0
        );
    }

    /// `bytes` with its JSON header replaced by `json` (padded to a multiple of 8).
    fn with_header(bytes: &[u8], json: &str) -> Vec<u8> {
        let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
        let mut header = json.as_bytes().to_vec();
        header.resize(header.len().div_ceil(8) * 8, b' ');
        let mut out = (header.len() as u64).to_le_bytes().to_vec();
        out.extend(header);
        out.extend(&bytes[8 + n..]);
        out
    }

    #[test]
    fn a_key_given_twice_is_refused_wherever_it_is() {
        let bytes = two_tensors();
        let json = std::str::from_utf8(&bytes[8..8 + read_header(&bytes).unwrap().header_len])
            .unwrap()
            .trim_end()
            .to_string();
        // Unchanged, it reads; the same JSON written back reads too.
        assert!(read_header(&with_header(&bytes, &json)).is_ok());
        let b_entry = &json[json.find("\"b\":").unwrap()..];
        let b_entry = &b_entry[..b_entry.find('}').unwrap() + 1];
        let cases = [
            // A tensor listed twice, the same both times (a map keeps one).
            (
                json.replacen(b_entry, &format!("{b_entry},{b_entry}"), 1),
                "the header names the key `b` twice",
            ),
            // A metadata key twice: a reader would keep either value.
            (
                json.replacen("\"who\":\"test\"", "\"who\":\"test\",\"who\":\"other\"", 1),
                "the header's entry `__metadata__` names `who` twice",
            ),
            // A field of one entry twice.
            (
                json.replacen(
                    "\"dtype\":\"F32\"",
                    "\"dtype\":\"F32\",\"dtype\":\"F32\"",
                    1,
                ),
                "the header's entry `b` names `dtype` twice",
            ),
            // The same key spelt with an escape: JSON reads it as the same key.
            (
                json.replacen(
                    b_entry,
                    &format!("{b_entry},{}", b_entry.replacen("\"b\"", "\"\\u0062\"", 1)),
                    1,
                ),
                "the header names the key `b` twice",
            ),
        ];
        for (edited, want) in cases {
            assert_ne!(edited, json, "the edit for `{want}` changed nothing");
            let e = read_header(&with_header(&bytes, &edited)).unwrap_err();
            assert!(e.contains(want), "`{want}` not in: {e}");
            let e = crate::tensors::decode::<f32>(&with_header(&bytes, &edited))
                .err()
                .unwrap();
            assert!(e.contains(want), "`{want}` not in: {e}");
        }
    }

    #[test]
    fn a_truncated_file_is_refused_with_a_sentence() {
        let bytes = two_tensors();
        let e = read_header(&bytes[..bytes.len() - 1]).unwrap_err();
        assert!(e.contains("truncated"), "{e}");
        assert!(read_header(&bytes[..5]).is_err());
    }
}
