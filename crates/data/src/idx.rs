//! The IDX format of MNIST: a magic number (two zero bytes, a type code, the
//! number of dimensions), big-endian `u32` dimensions, then the values.
//! Files may be gzip-compressed; that is detected from the content, not the
//! name. Every header field is checked before any data is read: a header
//! declaring more data than [`MAX_IDX_DATA_BYTES`], or more than the file
//! could hold even at DEFLATE's best compression, is rejected at once, and
//! the decompressor never produces more than the header declares, so neither
//! a lying header nor a gzip bomb costs memory.

use std::io::Read;
use std::path::Path;

use descent_tensor::Tensor;
use flate2::bufread::GzDecoder;

use crate::error::{DataError, read_file};

/// The IDX type code of unsigned bytes, the only one MNIST uses.
const UNSIGNED_BYTE: u8 = 0x08;
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// The most data an IDX file may declare, in bytes: 1 GiB, over twenty times
/// MNIST's 60,000 training images. Larger headers are rejected before
/// anything is decompressed or allocated.
pub const MAX_IDX_DATA_BYTES: usize = 1 << 30;

/// DEFLATE spends at least two bits on a 258-byte match, so no gzip file
/// expands to more than 1032 times its size.
const MAX_DEFLATE_RATIO: usize = 1032;

/// The contents of an IDX file of unsigned bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdxArray {
    /// The dimensions, outermost first.
    pub dims: Vec<usize>,
    /// The values, row-major.
    pub data: Vec<u8>,
}

/// Reads an IDX file, gzip-compressed or raw.
///
/// # Errors
/// [`DataError::Io`] if it cannot be read; [`DataError::Idx`] saying what is
/// wrong if it is truncated, corrupt, followed by trailing bytes, not an IDX
/// file of unsigned bytes, or declares more than [`MAX_IDX_DATA_BYTES`].
pub fn read_idx(path: impl AsRef<Path>) -> Result<IdxArray, DataError> {
    let path = path.as_ref();
    let bytes = read_file(path)?;
    parse_idx(&bytes, &path.display().to_string())
}

/// Parses IDX bytes, gzip-compressed or raw; `source_name` appears in errors.
///
/// ```
/// let bytes = [0, 0, 0x08, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6];
/// let array = descent_data::parse_idx(&bytes, "inline")?;
/// assert_eq!((array.dims, array.data), (vec![2, 3], vec![1, 2, 3, 4, 5, 6]));
/// # Ok::<(), descent_data::DataError>(())
/// ```
///
/// # Errors
/// As [`read_idx`].
pub fn parse_idx(bytes: &[u8], source_name: &str) -> Result<IdxArray, DataError> {
    let error = |message: String| DataError::Idx {
        source_name: source_name.to_string(),
        message,
    };
    if bytes.starts_with(&GZIP_MAGIC) {
        parse_gzip(bytes, &error)
    } else {
        parse_raw(bytes, &error)
    }
}

fn parse_raw(bytes: &[u8], error: &dyn Fn(String) -> DataError) -> Result<IdxArray, DataError> {
    let mut rest = bytes;
    let dims = read_header(&mut rest, error)?;
    let expected = data_len(&dims, error)?;
    if rest.len() != expected {
        let problem = if rest.len() < expected {
            "truncated"
        } else {
            "longer than its header says"
        };
        return Err(error(format!(
            "{problem}: dimensions {dims:?} need {expected} bytes of data, found {}",
            rest.len()
        )));
    }
    Ok(IdxArray {
        dims,
        data: rest.to_vec(),
    })
}

fn parse_gzip(bytes: &[u8], error: &dyn Fn(String) -> DataError) -> Result<IdxArray, DataError> {
    let mut decoder = GzDecoder::new(bytes);
    let dims = read_header(&mut decoder, error)?;
    let expected = data_len(&dims, error)?;
    let most = bytes.len().saturating_mul(MAX_DEFLATE_RATIO);
    if header_len(&dims) + expected > most {
        return Err(error(format!(
            "truncated or corrupt: dimensions {dims:?} need {expected} bytes of data, \
             but {} gzip bytes expand to at most {most}",
            bytes.len()
        )));
    }
    let data = read_data(&mut decoder, &dims, expected, error)?;
    let trailing = decoder.get_ref().len();
    if trailing > 0 {
        return Err(error(format!(
            "{trailing} bytes of trailing garbage after the gzip stream"
        )));
    }
    Ok(IdxArray { dims, data })
}

/// Reads the magic number and the dimensions.
fn read_header(
    reader: &mut impl Read,
    error: &dyn Fn(String) -> DataError,
) -> Result<Vec<usize>, DataError> {
    let mut read = |buffer: &mut [u8], what: &str| -> Result<(), DataError> {
        reader
            .read_exact(buffer)
            .map_err(|e| error(format!("truncated or unreadable {what}: {e}")))
    };
    let mut magic = [0u8; 4];
    read(&mut magic, "magic number")?;
    if magic[0] != 0 || magic[1] != 0 {
        return Err(error(format!(
            "not an IDX file: magic number 0x{:08x} does not start with two zero bytes",
            u32::from_be_bytes(magic)
        )));
    }
    if magic[2] != UNSIGNED_BYTE {
        return Err(error(format!(
            "unsupported IDX data type 0x{:02x} (only unsigned bytes, 0x08, are supported)",
            magic[2]
        )));
    }
    let rank = magic[3] as usize;
    if rank == 0 {
        return Err(error("IDX header declares zero dimensions".into()));
    }
    let mut dims = Vec::with_capacity(rank);
    for axis in 0..rank {
        let mut dim = [0u8; 4];
        read(&mut dim, &format!("dimension {axis}"))?;
        dims.push(u32::from_be_bytes(dim) as usize);
    }
    Ok(dims)
}

fn header_len(dims: &[usize]) -> usize {
    4 + 4 * dims.len()
}

/// The number of data bytes `dims` declare, if within [`MAX_IDX_DATA_BYTES`].
fn data_len(dims: &[usize], error: &dyn Fn(String) -> DataError) -> Result<usize, DataError> {
    let len = dims
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| error(format!("dimensions {dims:?} overflow")))?;
    if len > MAX_IDX_DATA_BYTES {
        return Err(error(format!(
            "dimensions {dims:?} declare {len} bytes of data, more than the \
             {MAX_IDX_DATA_BYTES} this reader accepts"
        )));
    }
    Ok(len)
}

/// Reads exactly `expected` bytes, then checks that the stream ends there;
/// never holds more than `expected` bytes.
fn read_data(
    reader: &mut impl Read,
    dims: &[usize],
    expected: usize,
    error: &dyn Fn(String) -> DataError,
) -> Result<Vec<u8>, DataError> {
    let unreadable = |e: std::io::Error| error(format!("unreadable data: {e}"));
    let mut data = Vec::with_capacity(expected);
    (&mut *reader)
        .take(expected as u64)
        .read_to_end(&mut data)
        .map_err(unreadable)?;
    if data.len() < expected {
        return Err(error(format!(
            "truncated: dimensions {dims:?} need {expected} bytes of data, found {}",
            data.len()
        )));
    }
    if reader.read(&mut [0u8; 1]).map_err(unreadable)? > 0 {
        return Err(error(format!(
            "longer than its header says: dimensions {dims:?} need {expected} bytes of data, found more"
        )));
    }
    Ok(data)
}

/// Reads IDX images (`[n, rows, cols]` bytes) as `[n, rows * cols]` pixels
/// scaled to [0, 1].
///
/// # Errors
/// As [`read_idx`], and [`DataError::Idx`] if the file is not 3-D.
pub fn read_idx_images(path: impl AsRef<Path>) -> Result<Tensor, DataError> {
    let path = path.as_ref();
    let array = read_idx(path)?;
    if array.dims.len() != 3 {
        return Err(DataError::Idx {
            source_name: path.display().to_string(),
            message: format!(
                "expected images [count, rows, cols], found dimensions {:?}",
                array.dims
            ),
        });
    }
    let pixels: Vec<f32> = array.data.iter().map(|&b| b as f32 / 255.0).collect();
    Ok(Tensor::from_vec(
        pixels,
        [array.dims[0], array.dims[1] * array.dims[2]],
    ))
}

/// Reads IDX labels (`[n]` bytes) as class indices.
///
/// # Errors
/// As [`read_idx`], and [`DataError::Idx`] if the file is not 1-D.
pub fn read_idx_labels(path: impl AsRef<Path>) -> Result<Vec<usize>, DataError> {
    let path = path.as_ref();
    let array = read_idx(path)?;
    if array.dims.len() != 1 {
        return Err(DataError::Idx {
            source_name: path.display().to_string(),
            message: format!("expected labels [count], found dimensions {:?}", array.dims),
        });
    }
    Ok(array.data.iter().map(|&b| b as usize).collect())
}

/// MNIST (or any data set in its layout): images as `[n, 784]` pixels in
/// [0, 1] and labels as class indices.
#[derive(Clone, Debug)]
pub struct Mnist {
    /// Training images, `[n, rows * cols]`.
    pub train_images: Tensor,
    /// Training labels.
    pub train_labels: Vec<usize>,
    /// Test images.
    pub test_images: Tensor,
    /// Test labels.
    pub test_labels: Vec<usize>,
}

impl Mnist {
    /// Loads the four standard files (`train-images-idx3-ubyte`, ...) from
    /// `dir`, each either gzip-compressed with a `.gz` suffix or raw.
    ///
    /// ```
    /// use descent_data::{Dataset, Mnist};
    ///
    /// let mnist = Mnist::load(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/mnist"))?;
    /// assert_eq!(mnist.test_images.dims(), &[1000, 784]);
    /// let test = Dataset::classification(mnist.test_images, &mnist.test_labels)?;
    /// assert!(test.targets().classes().iter().all(|&digit| digit < 10));
    /// # Ok::<(), descent_data::DataError>(())
    /// ```
    ///
    /// # Errors
    /// As [`read_idx`], and [`DataError::Invalid`] if a file is missing or
    /// images and labels disagree in number.
    pub fn load(dir: impl AsRef<Path>) -> Result<Mnist, DataError> {
        let dir = dir.as_ref();
        let find = |stem: &str| {
            [format!("{stem}.gz"), stem.to_string()]
                .into_iter()
                .map(|name| dir.join(name))
                .find(|p| p.exists())
                .ok_or_else(|| {
                    DataError::Invalid(format!("{}: no file {stem} or {stem}.gz", dir.display()))
                })
        };
        let pair = |images: &str, labels: &str| -> Result<(Tensor, Vec<usize>), DataError> {
            let x = read_idx_images(find(images)?)?;
            let y = read_idx_labels(find(labels)?)?;
            if x.dims()[0] != y.len() {
                return Err(DataError::Invalid(format!(
                    "{images} holds {} images but {labels} holds {} labels",
                    x.dims()[0],
                    y.len()
                )));
            }
            Ok((x, y))
        };
        let (train_images, train_labels) =
            pair("train-images-idx3-ubyte", "train-labels-idx1-ubyte")?;
        let (test_images, test_labels) = pair("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")?;
        Ok(Mnist {
            train_images,
            train_labels,
            test_images,
            test_labels,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idx(dims: &[u32], data: &[u8]) -> Vec<u8> {
        let mut bytes = vec![0, 0, UNSIGNED_BYTE, dims.len() as u8];
        for d in dims {
            bytes.extend_from_slice(&d.to_be_bytes());
        }
        bytes.extend_from_slice(data);
        bytes
    }

    fn message(bytes: &[u8]) -> String {
        parse_idx(bytes, "t").unwrap_err().to_string()
    }

    #[test]
    fn parses_raw_and_gzip() {
        let raw = idx(&[2, 3], &[1, 2, 3, 4, 5, 6]);
        let parsed = parse_idx(&raw, "t").unwrap();
        assert_eq!(parsed.dims, vec![2, 3]);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut gz, &raw).unwrap();
        assert_eq!(parse_idx(&gz.finish().unwrap(), "t").unwrap(), parsed);
    }

    #[test]
    fn bad_files_say_what_is_wrong() {
        assert!(
            message(&idx(&[2, 3], &[1, 2, 3]))
                .contains("truncated: dimensions [2, 3] need 6 bytes of data, found 3")
        );
        assert!(message(&idx(&[1], &[1, 2])).contains("longer than its header says"));
        assert!(message(b"\x89PNG....").contains("not an IDX file"));
        assert!(
            message(&[0, 0, 0x0d, 1, 0, 0, 0, 1, 0, 0, 0, 0])
                .contains("unsupported IDX data type 0x0d")
        );
        assert!(message(&[0, 0, 8]).contains("truncated or unreadable magic number"));
        assert!(message(&[0, 0, 8, 2, 0, 0]).contains("dimension 0"));
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        std::io::Write::write_all(&mut gz, bytes).unwrap();
        gz.finish().unwrap()
    }

    #[test]
    fn headers_beyond_the_size_limit_are_rejected_before_reading() {
        let claim = idx(&[u32::MAX, 28, 28], &[0; 10]);
        assert!(
            message(&claim).contains(
                "dimensions [4294967295, 28, 28] declare 3367254359280 bytes of data, \
                 more than the 1073741824 this reader accepts"
            ),
            "{}",
            message(&claim)
        );
        assert!(message(&idx(&[u32::MAX; 3], &[])).contains("overflow"));
    }

    #[test]
    fn gzip_headers_claiming_more_than_deflate_can_hold_are_rejected() {
        // 1024 * 1024 bytes cannot come out of a gzip file of ~1 KB.
        let claim = gzip(&idx(&[1024, 1024], &[0; 1000]));
        assert!(claim.len() < 1000);
        let text = message(&claim);
        assert!(
            text.starts_with(
                "t: truncated or corrupt: dimensions [1024, 1024] need 1048576 bytes of data, but "
            ),
            "{text}"
        );
        assert!(
            text.ends_with(&format!(
                "{} gzip bytes expand to at most {}",
                claim.len(),
                claim.len() * 1032
            )),
            "{text}"
        );
    }

    #[test]
    fn data_beyond_the_header_is_an_error() {
        let text = message(&gzip(&idx(&[2], &[1, 2, 3])));
        assert_eq!(
            text,
            "t: longer than its header says: dimensions [2] need 2 bytes of data, found more"
        );
        assert_eq!(
            message(&idx(&[2], &[1, 2, 3])),
            "t: longer than its header says: dimensions [2] need 2 bytes of data, found 3"
        );
    }

    #[test]
    fn trailing_garbage_after_the_gzip_stream_is_an_error() {
        let mut file = gzip(&idx(&[2], &[1, 2]));
        assert_eq!(parse_idx(&file, "t").unwrap().data, vec![1, 2]);
        file.extend_from_slice(b"junk");
        assert_eq!(
            message(&file),
            "t: 4 bytes of trailing garbage after the gzip stream"
        );
    }
}
