//! One tensor as a NumPy `.npy` file (format version 1.0), written and read
//! by hand: the format is a 10-byte preamble, a Python dict literal and the
//! raw elements, which is smaller and clearer here than a dependency.
//!
//! Layout: the magic `\x93NUMPY`, the version bytes `1 0`, a little-endian
//! `u16` header length, the header (`{'descr': '<f4', 'fortran_order': False,
//! 'shape': (2, 3), }` padded with spaces to a multiple of 64 bytes and ended
//! by a newline), then the elements in C order. Reading accepts versions 1.0
//! 2.0 and 3.0 (a `u32` header length), elements `<f4` or `<f8` (converted to
//! f32, as `torch.from_numpy(a).float()` would), and checks every length
//! against the bytes present before allocating anything.

use std::path::Path;

use descent_tensor::{MAX_RANK, Tensor};

use crate::atomic::{read_file, save_file};
use crate::codec;
use crate::error::NpyError;

const MAGIC: &[u8; 6] = b"\x93NUMPY";
/// NumPy pads the preamble and header to this alignment.
const ALIGNMENT: usize = 64;

/// The `.npy` file contents for `tensor`: version 1.0, `<f4`, C order.
///
/// ```
/// use descent_io::{decode_npy, encode_npy};
/// use descent_tensor::Tensor;
///
/// let t = Tensor::from([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
/// let bytes = encode_npy(&t);
/// assert_eq!(&bytes[..8], b"\x93NUMPY\x01\x00");
/// assert_eq!(bytes.len(), 128 + 6 * 4); // preamble and padded header, then the data
/// assert!(decode_npy(&bytes)?.bit_eq(&t));
/// # Ok::<(), descent_io::NpyError>(())
/// ```
pub fn encode_npy(tensor: &Tensor) -> Vec<u8> {
    let mut header = format!(
        "{{'descr': '<f4', 'fortran_order': False, 'shape': {}, }}",
        python_tuple(tensor.dims())
    );
    let preamble = MAGIC.len() + 2 + 2;
    let padded = (preamble + header.len() + 1).next_multiple_of(ALIGNMENT) - preamble;
    header.extend(std::iter::repeat_n(' ', padded - header.len() - 1));
    header.push('\n');
    let header_len =
        u16::try_from(header.len()).expect("a header of at most 32 dimensions fits in 64 KiB");
    let mut bytes = Vec::with_capacity(preamble + header.len() + 4 * tensor.numel());
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&[1, 0]);
    bytes.extend_from_slice(&header_len.to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend(tensor.data().iter().flat_map(|x| x.to_le_bytes()));
    bytes
}

/// A shape as Python writes a tuple: `()`, `(5,)`, `(2, 3)`.
fn python_tuple(dims: &[usize]) -> String {
    match dims {
        [] => "()".into(),
        [n] => format!("({n},)"),
        _ => {
            let items: Vec<String> = dims.iter().map(usize::to_string).collect();
            format!("({})", items.join(", "))
        }
    }
}

/// Parses `.npy` file contents into a tensor.
///
/// # Errors
/// [`NpyError::NotNpy`], [`NpyError::UnsupportedVersion`],
/// [`NpyError::Truncated`], [`NpyError::InvalidHeader`],
/// [`NpyError::UnsupportedDtype`], [`NpyError::FortranOrder`],
/// [`NpyError::UnsupportedShape`] or [`NpyError::TrailingBytes`].
pub fn decode_npy(bytes: &[u8]) -> Result<Tensor, NpyError> {
    let magic_len = bytes.len().min(MAGIC.len());
    if bytes[..magic_len] != MAGIC[..magic_len] {
        return Err(NpyError::NotNpy);
    }
    let truncated = |expected: usize| NpyError::Truncated {
        expected: expected as u64,
        found: bytes.len() as u64,
    };
    let length_field = |range: std::ops::Range<usize>| {
        bytes.get(range.clone()).ok_or_else(|| truncated(range.end))
    };
    let (header_start, header_len) = match length_field(6..8)? {
        [1, 0] => {
            let len = length_field(8..10)?.try_into().expect("2 bytes");
            (10, u16::from_le_bytes(len) as usize)
        }
        // Version 3.0 differs from 2.0 only in allowing UTF-8 in the header.
        [2 | 3, 0] => {
            let len = length_field(8..12)?.try_into().expect("4 bytes");
            (12, u32::from_le_bytes(len) as usize)
        }
        version => {
            return Err(NpyError::UnsupportedVersion {
                major: version[0],
                minor: version[1],
            });
        }
    };
    let data_start = header_start + header_len;
    let header = bytes
        .get(header_start..data_start)
        .ok_or_else(|| truncated(data_start))?;
    let header = std::str::from_utf8(header)
        .map_err(|_| NpyError::InvalidHeader("the header is not text".into()))?;
    let Header {
        descr,
        fortran_order,
        shape,
    } = Header::parse(header)?;
    let element_size: usize = match descr.as_str() {
        "<f4" => 4,
        "<f8" => 8,
        _ => return Err(NpyError::UnsupportedDtype(descr)),
    };
    if fortran_order {
        return Err(NpyError::FortranOrder);
    }
    if shape.len() > MAX_RANK {
        return Err(NpyError::UnsupportedShape(shape));
    }
    let data_len = shape
        .iter()
        .try_fold(element_size, |len, &d| len.checked_mul(d))
        .filter(|_| codec::shape_fits(&shape))
        .ok_or_else(|| NpyError::InvalidHeader(format!("shape {shape:?} is too large")))?;
    let data = &bytes[data_start..];
    if data.len() < data_len {
        return Err(truncated(data_start.saturating_add(data_len)));
    }
    if data.len() > data_len {
        return Err(NpyError::TrailingBytes(data.len() - data_len));
    }
    let values = if element_size == 4 {
        data.chunks_exact(4)
            .map(|b| f32::from_le_bytes(b.try_into().expect("4 bytes")))
            .collect()
    } else {
        data.chunks_exact(8)
            .map(|b| f64::from_le_bytes(b.try_into().expect("8 bytes")) as f32)
            .collect()
    };
    Ok(Tensor::from_vec(values, shape))
}

/// Writes `tensor` to `path` as `.npy` (see [`encode_npy`]), atomically.
///
/// # Errors
/// [`NpyError::Io`] if any step fails; `path` is then untouched.
pub fn save_npy(tensor: &Tensor, path: impl AsRef<Path>) -> Result<(), NpyError> {
    save_file(path.as_ref(), &encode_npy(tensor), NpyError::io)
}

/// Reads a `.npy` file written by NumPy (`np.save`) or [`save_npy`].
///
/// # Errors
/// [`NpyError::Io`] if it cannot be read, else as [`decode_npy`].
pub fn load_npy(path: impl AsRef<Path>) -> Result<Tensor, NpyError> {
    decode_npy(&read_file(path.as_ref(), NpyError::io)?)
}

/// The three entries of a `.npy` header.
struct Header {
    descr: String,
    fortran_order: bool,
    shape: Vec<usize>,
}

impl Header {
    /// Parses the dict literal NumPy writes: string keys; a string, a
    /// boolean and a tuple of integers as values; any order; an optional
    /// trailing comma; surrounding whitespace.
    fn parse(text: &str) -> Result<Header, NpyError> {
        let invalid = |what: &str| NpyError::InvalidHeader(format!("{what} in {:?}", text.trim()));
        let mut rest = text
            .trim()
            .strip_prefix('{')
            .ok_or_else(|| invalid("no '{'"))?;
        let (mut descr, mut fortran_order, mut shape) = (None, None, None);
        loop {
            rest = rest.trim_start();
            if let Some(after) = rest.strip_prefix('}') {
                if !after.trim().is_empty() {
                    return Err(invalid("text after the '}'"));
                }
                break;
            }
            let (key, after_key) = quoted(rest).ok_or_else(|| invalid("a key is not a string"))?;
            rest = after_key
                .trim_start()
                .strip_prefix(':')
                .ok_or_else(|| invalid("no ':' after a key"))?
                .trim_start();
            rest = match key {
                "descr" => {
                    let (value, after) =
                        quoted(rest).ok_or_else(|| invalid("'descr' is not a string"))?;
                    descr = Some(value.to_string());
                    after
                }
                "fortran_order" => {
                    let (value, after) = boolean(rest)
                        .ok_or_else(|| invalid("'fortran_order' is not True or False"))?;
                    fortran_order = Some(value);
                    after
                }
                "shape" => {
                    let (value, after) =
                        tuple(rest).ok_or_else(|| invalid("'shape' is not a tuple of integers"))?;
                    shape = Some(value);
                    after
                }
                _ => return Err(invalid(&format!("unknown key {key:?}"))),
            }
            .trim_start();
            if let Some(after) = rest.strip_prefix(',') {
                rest = after;
            } else if !rest.starts_with('}') {
                return Err(invalid("no ',' between entries"));
            }
        }
        Ok(Header {
            descr: descr.ok_or_else(|| invalid("no 'descr'"))?,
            fortran_order: fortran_order.ok_or_else(|| invalid("no 'fortran_order'"))?,
            shape: shape.ok_or_else(|| invalid("no 'shape'"))?,
        })
    }
}

/// A single- or double-quoted string without escapes, and the text after it.
fn quoted(text: &str) -> Option<(&str, &str)> {
    let quote = text.chars().next().filter(|&c| c == '\'' || c == '"')?;
    let end = text[1..].find(quote)? + 1;
    Some((&text[1..end], &text[end + 1..]))
}

fn boolean(text: &str) -> Option<(bool, &str)> {
    if let Some(rest) = text.strip_prefix("True") {
        Some((true, rest))
    } else {
        text.strip_prefix("False").map(|rest| (false, rest))
    }
}

/// `()`, `(5,)`, `(2, 3)` or `(2, 3,)`, and the text after it.
fn tuple(text: &str) -> Option<(Vec<usize>, &str)> {
    let end = text.find(')')?;
    let inside = text.strip_prefix('(')?.get(..end - 1)?.trim();
    let dims = if inside.is_empty() {
        Vec::new()
    } else {
        // A one-element tuple is written `(5,)`.
        let inside = inside.strip_suffix(',').unwrap_or(inside);
        inside
            .split(',')
            .map(|d| d.trim().parse().ok())
            .collect::<Option<Vec<usize>>>()?
    };
    Some((dims, &text[end + 1..]))
}
