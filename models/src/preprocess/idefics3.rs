//! `Idefics3ImageProcessor` (PIL implementation) and the `<image>` expansion of
//! `Idefics3Processor`, transformers 4.57.6 (`models/idefics3/image_processing_idefics3.py`,
//! `processing_idefics3.py`), as used by Idefics3 and SmolVLM checkpoints.
//!
//! One image:
//! 1. `do_resize`: the longest edge becomes `size.longest_edge` (also when that enlarges the
//!    image), the other side `int(side · ratio)` rounded up to an even number, then both capped
//!    at 4096 ([`longest_edge_size`]).
//! 2. `do_image_splitting`: both sides are rounded up to multiples of the tile size
//!    `max_image_size.longest_edge` ([`vision_encoder_size`]; the short side is recomputed from
//!    the rounded long side first, so it can grow by more than one tile), then cut into
//!    `rows × cols` tiles, row-major, followed by the whole canvas resized to one tile. A canvas
//!    of exactly one tile is not split: one view, and HF reports `rows = cols = 0`.
//!    Without splitting the image is resized straight to one tile (`rows = cols = 0`).
//! 3. Only now `do_convert_rgb`, rescale and normalise (`image_mean`/`image_std` default 0.5).
//!
//! Every resize is Pillow's 8-bit `Image.resize` with `resample` (default LANCZOS). Because
//! the RGB conversion comes last, Pillow's image *mode* matters (HF quirk, see below):
//! an `RGBA` image is resized with premultiplied alpha (`RGBA → RGBa → resize → RGBA`, each
//! resize a round trip) and finally composited onto white (this file's `convert_to_rgb`, not
//! the `convert("RGB")` of the other processors). [`Idefics3ImageProcessor::preprocess`] takes
//! a [`DynamicImage`] for that reason. HF 4.57 fails on 1-channel PIL images (`L`, `P`):
//! it infers the channel axis from the first image before adding the channel axis to 2-D
//! arrays (image_processing_idefics3.py:722-742), so such images only work through
//! `load_image` (paths, URLs, chat templates), which converts them to RGB first; we do that.
//! What HF sees therefore depends on the caller: `load_image` (the model cards, and
//! `apply_chat_template` with image paths/URLs) hands it RGB, i.e.
//! [`Idefics3ImageProcessor::preprocess_rgb`] on [`load_image`](super::load_image)'s output;
//! a PIL image from `Image.open` keeps `RGBA`, i.e. [`Idefics3ImageProcessor::preprocess`].
//! (A palette PNG with transparency decodes here as RGBA, while Pillow opens it as `P`, which
//! HF rejects; such files only match through the `load_image` route.)
//!
//! The image processor's `get_number_of_image_patches` (used by `_get_num_multimodal_tokens`)
//! rounds the short side differently from `preprocess` (it skips the recomputation above) and
//! can report fewer tiles than `preprocess` produces; [`Idefics3ImageProcessor::plan`] follows
//! `preprocess`.
//!
//! `do_pad` pads a batch to its largest tile count and tile size with zero tiles and returns
//! `pixel_attention_mask`. One image gives tiles of one size and no padding, so the mask is all
//! ones and nothing is applied here; the model drops all-zero tiles as padding.

use image::{DynamicImage, RgbImage, RgbaImage};
use serde::{Deserialize, Serialize};

use super::anyres::Resolution;
use super::config::{ChannelParam, ConfigError};
use super::image_io::to_rgb_like_pillow;
use super::normalize::{MeanStd, Normalization, PixelValues};
use super::resize::{Filter, resize};
use super::tile_plan::SourceRect;

/// `MAX_IMAGE_SIZE` of image_processing_idefics3.py: the longest-edge resize caps both sides here.
pub const MAX_IMAGE_SIZE: u32 = 4096;
/// The token HF puts around every view.
pub const FAKE_TOKEN_AROUND_IMAGE: &str = "<fake_token_around_image>";
/// The placeholder replaced by visual features, and the marker the prompt carries per image.
pub const IMAGE_TOKEN: &str = "<image>";
/// The marker in front of the global view.
pub const GLOBAL_IMAGE_TOKEN: &str = "<global-img>";

/// `size` / `max_image_size`: `{"longest_edge": n}` or `{"height": h, "width": w}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct HfIdefics3Size {
    /// `longest_edge`.
    #[serde(default)]
    pub longest_edge: Option<u32>,
    /// `height`.
    #[serde(default)]
    pub height: Option<u32>,
    /// `width`.
    #[serde(default)]
    pub width: Option<u32>,
}

/// `preprocessor_config.json` of an Idefics3 / SmolVLM checkpoint (HF keys; unknown keys are
/// ignored). Defaults are those of `Idefics3ImageProcessor.__init__`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct HfIdefics3PreprocessorConfig {
    /// `Idefics3ImageProcessor`.
    #[serde(default)]
    pub image_processor_type: Option<String>,
    /// `do_convert_rgb` (default true; the output is always RGB here).
    #[serde(default)]
    pub do_convert_rgb: Option<bool>,
    /// `do_resize` (default true).
    #[serde(default)]
    pub do_resize: Option<bool>,
    /// `size` (default `{"longest_edge": 1456}`).
    #[serde(default)]
    pub size: Option<HfIdefics3Size>,
    /// `resample` as a PIL code (default 1, LANCZOS).
    #[serde(default)]
    pub resample: Option<u32>,
    /// `do_image_splitting` (default true).
    #[serde(default)]
    pub do_image_splitting: Option<bool>,
    /// `max_image_size`: the tile side (default `{"longest_edge": 364}`).
    #[serde(default)]
    pub max_image_size: Option<HfIdefics3Size>,
    /// `do_rescale` (default true).
    #[serde(default)]
    pub do_rescale: Option<bool>,
    /// `rescale_factor` (default 1/255).
    #[serde(default)]
    pub rescale_factor: Option<f64>,
    /// `do_normalize` (default true).
    #[serde(default)]
    pub do_normalize: Option<bool>,
    /// `image_mean` (default `[0.5, 0.5, 0.5]`, IMAGENET_STANDARD_MEAN).
    #[serde(default)]
    pub image_mean: Option<ChannelParam>,
    /// `image_std` (default `[0.5, 0.5, 0.5]`).
    #[serde(default)]
    pub image_std: Option<ChannelParam>,
    /// `do_pad` (default true; no effect on one image).
    #[serde(default)]
    pub do_pad: Option<bool>,
}

/// `processor_config.json` of `Idefics3Processor`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct HfIdefics3ProcessorConfig {
    /// `<image>` tokens per view (default 169; SmolVLM uses 64).
    #[serde(default)]
    pub image_seq_len: Option<u32>,
}

fn read_config<T: for<'de> Deserialize<'de>>(path: &std::path::Path) -> Result<T, ConfigError> {
    let bytes = std::fs::read(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_slice(&bytes).map_err(|source| ConfigError::Parse {
        origin: path.display().to_string(),
        source,
    })
}

impl HfIdefics3PreprocessorConfig {
    /// Reads `preprocessor_config.json`.
    pub fn from_file(path: &std::path::Path) -> Result<Self, ConfigError> {
        read_config(path)
    }
}

impl HfIdefics3ProcessorConfig {
    /// Reads `processor_config.json`.
    pub fn from_file(path: &std::path::Path) -> Result<Self, ConfigError> {
        read_config(path)
    }
}

/// Why an image or prompt cannot be processed.
#[derive(Debug, thiserror::Error)]
pub enum Idefics3Error {
    /// The image has no pixels.
    #[error("image has zero size ({width}×{height})")]
    EmptyImage {
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
    },
    /// The text and the image list disagree (HF raises a `ValueError`).
    #[error("the text holds {in_text} `<image>` tokens but {given} images were given")]
    ImageCount {
        /// `<image>` occurrences in the text.
        in_text: usize,
        /// Images passed.
        given: usize,
    },
}

/// The `do_resize` step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ResizeTarget {
    /// Longest edge to this length, aspect kept (see [`longest_edge_size`]).
    LongestEdge(u32),
    /// Exactly this size (`size = {"height", "width"}`).
    Exact(Resolution),
}

/// A configured Idefics3 image processor.
#[derive(Debug, Clone, PartialEq)]
pub struct Idefics3ImageProcessor {
    /// `size`, when `do_resize`.
    pub resize: Option<ResizeTarget>,
    /// `max_image_size.longest_edge`: the side of every view.
    pub tile_size: u32,
    /// `do_image_splitting`.
    pub split: bool,
    /// `resample`.
    pub filter: Filter,
    /// `do_rescale` / `do_normalize`.
    pub normalization: Normalization,
    /// `image_seq_len` of the processor: `<image>` tokens per view.
    pub image_seq_len: u32,
}

fn rgb_param(
    field: &'static str,
    value: Option<&ChannelParam>,
    default: [f64; 3],
) -> Result<[f64; 3], ConfigError> {
    match value {
        None => Ok(default),
        Some(ChannelParam::Scalar(v)) => Ok([*v; 3]),
        Some(ChannelParam::PerChannel(v)) => {
            <[f64; 3]>::try_from(v.as_slice()).map_err(|_| ConfigError::Invalid {
                field,
                reason: format!("{v:?} has {} values, need 3", v.len()),
            })
        }
    }
}

fn normalization(cfg: &HfIdefics3PreprocessorConfig) -> Result<Normalization, ConfigError> {
    let rescale_factor = cfg
        .do_rescale
        .unwrap_or(true)
        .then(|| cfg.rescale_factor.unwrap_or(1.0 / 255.0));
    let mean_std = if cfg.do_normalize.unwrap_or(true) {
        let mean = rgb_param("image_mean", cfg.image_mean.as_ref(), [0.5; 3])?;
        let std = rgb_param("image_std", cfg.image_std.as_ref(), [0.5; 3])?;
        if let Some(bad) = std.iter().find(|s| **s == 0.0 || !s.is_finite()) {
            return Err(ConfigError::Invalid {
                field: "image_std",
                reason: format!("{bad} in {std:?}"),
            });
        }
        Some(MeanStd { mean, std })
    } else {
        None
    };
    Ok(Normalization {
        rescale_factor,
        mean_std,
    })
}

fn resize_target(size: &HfIdefics3Size) -> Result<ResizeTarget, ConfigError> {
    let invalid = |reason: String| ConfigError::Invalid {
        field: "size",
        reason,
    };
    match *size {
        HfIdefics3Size {
            longest_edge: Some(0),
            ..
        } => Err(invalid("longest_edge is 0".to_string())),
        HfIdefics3Size {
            longest_edge: Some(n),
            ..
        } => Ok(ResizeTarget::LongestEdge(n)),
        HfIdefics3Size {
            height: Some(h),
            width: Some(w),
            ..
        } if h > 0 && w > 0 => Ok(ResizeTarget::Exact(Resolution::new(h, w))),
        ref other => Err(invalid(format!(
            "{other:?}: need `longest_edge` or non-zero `height` and `width`"
        ))),
    }
}

impl Idefics3ImageProcessor {
    /// Builds the processor from `preprocessor_config.json` and the processor's
    /// `image_seq_len`, with `Idefics3ImageProcessor`'s defaults.
    pub fn from_config(
        cfg: &HfIdefics3PreprocessorConfig,
        image_seq_len: u32,
    ) -> Result<Self, ConfigError> {
        let resize = if cfg.do_resize.unwrap_or(true) {
            let size = cfg.size.clone().unwrap_or(HfIdefics3Size {
                longest_edge: Some(4 * 364),
                ..Default::default()
            });
            Some(resize_target(&size)?)
        } else {
            None
        };
        let tile_size = match &cfg.max_image_size {
            None => 364,
            Some(HfIdefics3Size {
                longest_edge: Some(n),
                ..
            }) if *n > 0 => *n,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    field: "max_image_size",
                    reason: format!("{other:?}: need a non-zero `longest_edge`"),
                });
            }
        };
        let code = cfg.resample.unwrap_or(1);
        let filter = Filter::from_pil_code(code).ok_or_else(|| ConfigError::Invalid {
            field: "resample",
            reason: format!("{code} is not a PIL filter code (0..=5)"),
        })?;
        Ok(Self {
            resize,
            tile_size,
            split: cfg.do_image_splitting.unwrap_or(true),
            filter,
            normalization: normalization(cfg)?,
            image_seq_len,
        })
    }

    /// Builds the processor from the two JSON files of a checkpoint (`image_seq_len` defaults
    /// to 169, as `Idefics3Processor.__init__`).
    pub fn from_configs(
        preprocessor: &HfIdefics3PreprocessorConfig,
        processor: &HfIdefics3ProcessorConfig,
    ) -> Result<Self, ConfigError> {
        Self::from_config(preprocessor, processor.image_seq_len.unwrap_or(169))
    }

    /// How an image of `width` × `height` is resized and split.
    pub fn plan(&self, width: u32, height: u32) -> Result<Idefics3TilePlan, Idefics3Error> {
        if width == 0 || height == 0 {
            return Err(Idefics3Error::EmptyImage { width, height });
        }
        let source = Resolution::new(height, width);
        let resized = match self.resize {
            Some(ResizeTarget::LongestEdge(n)) => longest_edge_size(source, n),
            Some(ResizeTarget::Exact(size)) => size,
            None => source,
        };
        let t = self.tile_size;
        let tile = Resolution::new(t, t);
        let (canvas, rows, cols) = if self.split {
            let canvas = vision_encoder_size(resized, t);
            if canvas.height > t || canvas.width > t {
                (canvas, canvas.height.div_ceil(t), canvas.width.div_ceil(t))
            } else {
                (canvas, 0, 0)
            }
        } else {
            (tile, 0, 0)
        };
        Ok(Idefics3TilePlan {
            source,
            resized,
            canvas,
            tile,
            rows,
            cols,
            tiles: split_tiles(source, canvas, rows, cols),
            global_view: SourceRect {
                x: 0.0,
                y: 0.0,
                width: f64::from(width),
                height: f64::from(height),
            },
            image_seq_len: self.image_seq_len,
            image_tokens: self.image_seq_len * (rows * cols + 1),
        })
    }

    /// Preprocesses one image as Pillow would hold it after `Image.open`: `RGBA` (also 16-bit,
    /// which Pillow opens as 8-bit `RGBA`) takes the premultiplied-alpha path; every other
    /// layout is converted to RGB first as HF's `load_image` does (HF fails on `L`/`P` images
    /// passed directly, see the module docs).
    pub fn preprocess(&self, image: &DynamicImage) -> Result<Idefics3Processed, Idefics3Error> {
        let frame = match image {
            DynamicImage::ImageRgb8(img) => Frame::Rgb(img.clone()),
            DynamicImage::ImageRgba8(img) => Frame::Rgba(img.clone()),
            DynamicImage::ImageRgba16(img) => {
                Frame::Rgba(RgbaImage::from_fn(img.width(), img.height(), |x, y| {
                    image::Rgba(img.get_pixel(x, y).0.map(|v| (v >> 8) as u8))
                }))
            }
            other => Frame::Rgb(to_rgb_like_pillow(other.clone())),
        };
        self.run(frame)
    }

    /// Preprocesses an RGB image (what `load_image` / the chat template hand the processor).
    pub fn preprocess_rgb(&self, image: &RgbImage) -> Result<Idefics3Processed, Idefics3Error> {
        self.run(Frame::Rgb(image.clone()))
    }

    fn run(&self, source: Frame) -> Result<Idefics3Processed, Idefics3Error> {
        let (width, height) = source.dimensions();
        let plan = self.plan(width, height)?;
        let _span = tracing::debug_span!(
            "preprocess_idefics3",
            width,
            height,
            rows = plan.rows,
            cols = plan.cols
        )
        .entered();
        let f = self.filter;
        let t = self.tile_size;
        // HF resizes even when the size does not change; Pillow then returns a copy, as ours.
        let resized = source.resize(plan.resized, f);
        let mut views = Vec::with_capacity(plan.num_views());
        if self.split {
            let canvas = resized.resize(plan.canvas, f);
            views.extend(plan.tiles.iter().map(|tile| canvas.crop(tile.canvas_rect)));
            views.push(if plan.tiles.is_empty() {
                canvas
            } else {
                canvas.resize(Resolution::new(t, t), f)
            });
        } else {
            views.push(resized.resize(Resolution::new(t, t), f));
        }
        let tiles = views
            .into_iter()
            .map(|v| self.normalization.to_pixel_values(&v.into_rgb()))
            .collect();
        Ok(Idefics3Processed {
            tiles,
            rows: plan.rows,
            cols: plan.cols,
            plan,
        })
    }
}

/// `get_resize_output_image_size(image, longest_edge)` as (height, width):
/// `_resize_output_size_rescale_to_max_len` (long side := `longest_edge`, short side
/// `int(long / ratio)` made even, at least 1) then `_resize_output_size_scale_below_upper_bound`
/// with [`MAX_IMAGE_SIZE`]. Python float arithmetic, reproduced in `f64`.
pub fn longest_edge_size(source: Resolution, longest_edge: u32) -> Resolution {
    let (h, w) = (f64::from(source.height), f64::from(source.width));
    let aspect = w / h;
    let even = |v: u32| v + v % 2;
    let (height, width) = if source.width >= source.height {
        let width = longest_edge;
        (even((f64::from(width) / aspect) as u32), width)
    } else {
        let height = longest_edge;
        (height, even((f64::from(height) * aspect) as u32))
    };
    let (height, width) = (height.max(1), width.max(1));
    let aspect = f64::from(width) / f64::from(height);
    let (height, width) = if width >= height && width > MAX_IMAGE_SIZE {
        ((f64::from(MAX_IMAGE_SIZE) / aspect) as u32, MAX_IMAGE_SIZE)
    } else if height > width && height > MAX_IMAGE_SIZE {
        (MAX_IMAGE_SIZE, (f64::from(MAX_IMAGE_SIZE) * aspect) as u32)
    } else {
        (height, width)
    };
    Resolution::new(height.max(1), width.max(1))
}

/// `resize_for_vision_encoder`'s target as (height, width): the long side rounded up to a
/// multiple of `tile`, the short side recomputed as `int(long / ratio)` from that rounded long
/// side and then rounded up to a multiple of `tile` too.
pub fn vision_encoder_size(image: Resolution, tile: u32) -> Resolution {
    let up = |v: u32| (f64::from(v) / f64::from(tile)).ceil() as u32 * tile;
    let aspect = f64::from(image.width) / f64::from(image.height);
    if image.width >= image.height {
        let width = up(image.width);
        Resolution::new(up((f64::from(width) / aspect) as u32), width)
    } else {
        let height = up(image.height);
        Resolution::new(height, up((f64::from(height) * aspect) as u32))
    }
}

/// `split_image`'s crop windows: `ceil(side / n)`-pixel steps, clipped to the canvas.
fn split_tiles(source: Resolution, canvas: Resolution, rows: u32, cols: u32) -> Vec<Idefics3Tile> {
    if rows == 0 || cols == 0 {
        return Vec::new();
    }
    let (step_h, step_w) = (canvas.height.div_ceil(rows), canvas.width.div_ceil(cols));
    let sx = f64::from(source.width) / f64::from(canvas.width);
    let sy = f64::from(source.height) / f64::from(canvas.height);
    (0..rows)
        .flat_map(|row| (0..cols).map(move |col| (row, col)))
        .map(|(row, col)| {
            let (x, y) = (col * step_w, row * step_h);
            let rect = PixelRect {
                x,
                y,
                width: (x + step_w).min(canvas.width) - x,
                height: (y + step_h).min(canvas.height) - y,
            };
            Idefics3Tile {
                row,
                col,
                canvas_rect: rect,
                source_rect: SourceRect {
                    x: f64::from(rect.x) * sx,
                    y: f64::from(rect.y) * sy,
                    width: f64::from(rect.width) * sx,
                    height: f64::from(rect.height) * sy,
                },
            }
        })
        .collect()
}

/// A whole-pixel rectangle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PixelRect {
    /// Left edge.
    pub x: u32,
    /// Top edge.
    pub y: u32,
    /// Width.
    pub width: u32,
    /// Height.
    pub height: u32,
}

/// One grid tile: where it is cut from the canvas and what part of the source it shows.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Idefics3Tile {
    /// Row, from the top (the prompt's `<row_{row+1}_col_{col+1}>`).
    pub row: u32,
    /// Column, from the left.
    pub col: u32,
    /// The crop window in the canvas.
    pub canvas_rect: PixelRect,
    /// The same window in source-image pixels (the resizes map edge to edge).
    pub source_rect: SourceRect,
}

/// How one image is resized, split and counted: a serialisable value the UI can draw.
/// (LLaVA-OneVision's [`TilePlan`](super::TilePlan) describes pinpoint selection and padding,
/// which Idefics3 does not have, so this is its own type.)
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Idefics3TilePlan {
    /// Source image size.
    pub source: Resolution,
    /// After `do_resize` (the source size when off).
    pub resized: Resolution,
    /// The image the tiles are cut from (multiples of the tile size); without splitting, the
    /// single view.
    pub canvas: Resolution,
    /// Size of every view fed to the encoder.
    pub tile: Resolution,
    /// Tile rows as HF reports them (0 when the image is not split).
    pub rows: u32,
    /// Tile columns as HF reports them (0 when the image is not split).
    pub cols: u32,
    /// Grid tiles, row-major (views `0..rows·cols`).
    pub tiles: Vec<Idefics3Tile>,
    /// The global view (the last view): the whole image squeezed into one tile.
    pub global_view: SourceRect,
    /// `<image>` tokens per view.
    pub image_seq_len: u32,
    /// `<image>` tokens of the whole image: `image_seq_len · (rows · cols + 1)`.
    pub image_tokens: u32,
}

impl Idefics3TilePlan {
    /// Views fed to the encoder: the grid tiles plus the global view.
    pub fn num_views(&self) -> usize {
        self.tiles.len() + 1
    }

    /// The text that replaces this image's `<image>` in the prompt.
    pub fn prompt_string(&self) -> String {
        image_prompt_string(self.rows, self.cols, self.image_seq_len)
    }
}

/// The encoder views of one image.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Idefics3Processed {
    /// Grid tiles row-major, then the global view (HF's `pixel_values[0]` order), each
    /// `[3, tile, tile]`.
    pub tiles: Vec<PixelValues>,
    /// Tile rows (0 when not split).
    pub rows: u32,
    /// Tile columns (0 when not split).
    pub cols: u32,
    /// How the image was split.
    pub plan: Idefics3TilePlan,
}

impl Idefics3Processed {
    /// The text that replaces this image's `<image>` in the prompt.
    pub fn prompt_string(&self) -> String {
        self.plan.prompt_string()
    }
}

/// `get_image_prompt_string`: `_prompt_single_image` when `rows == cols == 0`, else
/// `_prompt_split_image` (each tile `<fake_token_around_image><row_r_col_c>` + `<image>` ×
/// `image_seq_len`, a `\n` after each row, then `\n<fake_token_around_image><global-img>` +
/// `<image>` × `image_seq_len` + `<fake_token_around_image>`).
pub fn image_prompt_string(rows: u32, cols: u32, image_seq_len: u32) -> String {
    let images = IMAGE_TOKEN.repeat(image_seq_len as usize);
    let global =
        format!("{FAKE_TOKEN_AROUND_IMAGE}{GLOBAL_IMAGE_TOKEN}{images}{FAKE_TOKEN_AROUND_IMAGE}");
    if rows == 0 && cols == 0 {
        return global;
    }
    let mut out = String::new();
    for r in 1..=rows {
        for c in 1..=cols {
            out.push_str(FAKE_TOKEN_AROUND_IMAGE);
            out.push_str(&format!("<row_{r}_col_{c}>"));
            out.push_str(&images);
        }
        out.push('\n');
    }
    out.push('\n');
    out.push_str(&global);
    out
}

/// What `Idefics3Processor.__call__` hands the tokenizer: every `<image>` of `text`, in order,
/// replaced by [`image_prompt_string`] of the matching `(rows, cols)`.
pub fn expand_image_tokens(
    text: &str,
    grids: &[(u32, u32)],
    image_seq_len: u32,
) -> Result<String, Idefics3Error> {
    let parts: Vec<&str> = text.split(IMAGE_TOKEN).collect();
    if parts.len() - 1 != grids.len() {
        return Err(Idefics3Error::ImageCount {
            in_text: parts.len() - 1,
            given: grids.len(),
        });
    }
    let mut out = parts[0].to_string();
    for (&(rows, cols), part) in grids.iter().zip(&parts[1..]) {
        out.push_str(&image_prompt_string(rows, cols, image_seq_len));
        out.push_str(part);
    }
    Ok(out)
}

/// An intermediate image in the Pillow mode HF keeps until `convert_to_rgb`.
#[derive(Debug, Clone)]
enum Frame {
    Rgb(RgbImage),
    Rgba(RgbaImage),
}

impl Frame {
    fn dimensions(&self) -> (u32, u32) {
        match self {
            Self::Rgb(img) => img.dimensions(),
            Self::Rgba(img) => img.dimensions(),
        }
    }

    fn resize(&self, to: Resolution, filter: Filter) -> Self {
        match self {
            Self::Rgb(img) => Self::Rgb(resize(img, to.width, to.height, filter)),
            Self::Rgba(img) => Self::Rgba(resize_rgba(img, to, filter)),
        }
    }

    fn crop(&self, r: PixelRect) -> Self {
        match self {
            Self::Rgb(img) => {
                Self::Rgb(image::imageops::crop_imm(img, r.x, r.y, r.width, r.height).to_image())
            }
            Self::Rgba(img) => {
                Self::Rgba(image::imageops::crop_imm(img, r.x, r.y, r.width, r.height).to_image())
            }
        }
    }

    /// This file's `convert_to_rgb`: composite onto opaque white, drop alpha. For an RGB image
    /// (alpha 255 everywhere) the composite is the identity.
    fn into_rgb(self) -> RgbImage {
        match self {
            Self::Rgb(img) => img,
            Self::Rgba(img) => {
                let (w, h) = img.dimensions();
                let data = img.pixels().flat_map(|p| over_white(p.0)).collect();
                RgbImage::from_raw(w, h, data).expect("3 bytes per pixel")
            }
        }
    }
}

/// Pillow's `SHIFTFORDIV255`: `a / 255` for the ranges used here.
fn shift_div255(a: u32) -> u32 {
    ((a >> 8) + a) >> 8
}

/// `MULDIV255(c, a)`: `RGBA → RGBa` premultiplication (Convert.c `rgbA2rgba`).
pub(crate) fn premultiply(c: u8, a: u8) -> u8 {
    shift_div255(u32::from(c) * u32::from(a) + 128) as u8
}

/// `RGBa → RGBA` (Convert.c `rgba2rgbA`): `CLIP8(255 · c / a)`, unchanged for `a` 0 or 255.
pub(crate) fn unpremultiply(c: u8, a: u8) -> u8 {
    match a {
        0 | 255 => c,
        a => (255 * u32::from(c) / u32::from(a)).min(255) as u8,
    }
}

/// `Image.alpha_composite(white, src)` then `convert("RGB")` (AlphaComposite.c, 7 extra bits).
pub(crate) fn over_white([r, g, b, a]: [u8; 4]) -> [u8; 3] {
    const PRECISION_BITS: u32 = 7;
    let a = u32::from(a);
    if a == 0 {
        return [255; 3];
    }
    let outa255 = a * 255 + 255 * (255 - a);
    let coef1 = a * 255 * 255 * (1 << PRECISION_BITS) / outa255;
    let coef2 = 255 * (1 << PRECISION_BITS) - coef1;
    [r, g, b].map(|c| {
        let tmp = u32::from(c) * coef1 + 255 * coef2;
        (shift_div255(tmp + (0x80 << PRECISION_BITS)) >> PRECISION_BITS) as u8
    })
}

/// Pillow's `Image.resize` of an `RGBA` image: a copy at the same size; `NEAREST` directly;
/// otherwise premultiplied (`RGBa`), resampled band by band (Pillow's passes treat bands
/// independently with the same coefficients), and unpremultiplied.
fn resize_rgba(img: &RgbaImage, to: Resolution, filter: Filter) -> RgbaImage {
    if img.dimensions() == (to.width, to.height) {
        return img.clone();
    }
    let premultiplied = filter != Filter::Nearest;
    let (w, h) = img.dimensions();
    let mut color = Vec::with_capacity(w as usize * h as usize * 3);
    let mut alpha = Vec::with_capacity(w as usize * h as usize * 3);
    for p in img.pixels() {
        let [r, g, b, a] = p.0;
        if premultiplied {
            color.extend([r, g, b].map(|c| premultiply(c, a)));
        } else {
            color.extend([r, g, b]);
        }
        alpha.extend([a, 0, 0]);
    }
    let color = RgbImage::from_raw(w, h, color).expect("3 bytes per pixel");
    let alpha = RgbImage::from_raw(w, h, alpha).expect("3 bytes per pixel");
    let color = resize(&color, to.width, to.height, filter);
    let alpha = resize(&alpha, to.width, to.height, filter);
    let data = color
        .pixels()
        .zip(alpha.pixels())
        .flat_map(|(c, a)| {
            let a = a.0[0];
            let [r, g, b] = if premultiplied {
                c.0.map(|v| unpremultiply(v, a))
            } else {
                c.0
            };
            [r, g, b, a]
        })
        .collect();
    RgbaImage::from_raw(to.width, to.height, data).expect("4 bytes per pixel")
}

#[cfg(test)]
#[path = "idefics3_tests.rs"]
mod tests;
