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

use std::collections::BTreeMap;

use safetensors::tensor::SafeTensors;

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
/// also checks that the offsets cover the data exactly). The error says what is wrong.
pub fn read_header(bytes: &[u8]) -> Result<Header, String> {
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

    #[test]
    fn a_truncated_file_is_refused_with_a_sentence() {
        let bytes = two_tensors();
        let e = read_header(&bytes[..bytes.len() - 1]).unwrap_err();
        assert!(e.contains("truncated"), "{e}");
        assert!(read_header(&bytes[..5]).is_err());
    }
}
