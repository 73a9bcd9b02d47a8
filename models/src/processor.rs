//! The checkpoint's processor: from a user turn (images + text) to the model's inputs, as HF's
//! `processor.apply_chat_template` + `processor(images=…, text=…)` do. Needs no weights, so
//! `iris inspect` and the app's tile views use it without loading a model.

use std::path::{Path, PathBuf};

use image::RgbImage;

use crate::config::{ConfigError, GenerationConfig, ModelConfig, SelectStrategy};
use crate::family::PackLayout;
use crate::preprocess::idefics3::{
    HfIdefics3PreprocessorConfig, HfIdefics3ProcessorConfig, Idefics3ImageProcessor,
    Idefics3TilePlan, expand_image_tokens,
};
use crate::preprocess::qwen2_vl::HfQwen2VlPreprocessorConfig;
use crate::preprocess::{
    ClipImageProcessor, LlavaOnevisionImageProcessor, PatchGrid, PixelValues, PreprocessorConfig,
    ProcessorConfig, Qwen2VlImageProcessor, SizeParam, TilePlan, TokenSpec, UnpadAxis,
};
use crate::prompt::{
    ChatMessage, ChatTemplate, ContentPart, PromptError, Role, TextTokenizer,
    expand_image_placeholders,
};

/// One image after preprocessing: its encoder inputs and how its tokens are laid out.
#[derive(Debug, Clone)]
pub struct PreparedImage {
    pub width: u32,
    pub height: u32,
    /// Encoder inputs, base view first for tiled families.
    pub tiles: Vec<PixelValues>,
    /// The tiling decision (tiled families only).
    pub plan: Option<TilePlan>,
    /// Visual tokens this image puts into the prompt.
    pub tokens: usize,
    /// How the model packs this image's tile features.
    pub layout: PackLayout,
    /// InstructBLIP: the prompt in the Q-Former tokenizer's ids (the queries' instruction).
    pub instruction: Vec<u32>,
    /// Idefics3: how the image was split (tiles then the global view).
    pub idefics3: Option<Idefics3TilePlan>,
    /// Qwen2-VL: the patch grid of the resized image (`tiles` holds that one image).
    pub grid: Option<PatchGrid>,
}

/// How several images in one prompt are processed. HF's LLaVA-OneVision processor has two
/// paths: images passed as one nested list (what `apply_chat_template(tokenize=True)` does, and
/// how the model was trained on multi-image input) take the multi-image path — each image one
/// square base view and `tokens + 1` visual tokens; a flat list processes each image as if it
/// were alone (full AnyRes tiling). Single images and LLaVA-1.5 are the same either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MultiImage {
    #[default]
    Batched,
    Independent,
}

/// An earlier turn of a conversation: what the user sent and what the model answered.
#[derive(Debug, Clone, Default)]
pub struct Exchange {
    pub images: Vec<RgbImage>,
    pub user: String,
    pub assistant: String,
}

/// A prompt ready for the model: the rendered text, its token ids and the images.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub rendered_prompt: String,
    pub input_ids: Vec<u32>,
    pub images: Vec<PreparedImage>,
    pub image_tokens: usize,
}

/// What `iris inspect` reports: the tiling and token counts of a prompt, without a model run.
#[derive(Debug, Clone, serde::Serialize)]
pub struct InspectReport {
    pub model_type: String,
    pub images: Vec<ImageReport>,
    pub image_tokens: usize,
    pub prompt_tokens: usize,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct ImageReport {
    pub width: u32,
    pub height: u32,
    pub tiles: usize,
    pub tokens: usize,
    pub plan: Option<TilePlan>,
    /// Qwen2-VL: the resized image's patch grid.
    pub patches: Option<PatchGridReport>,
}

/// How Qwen2-VL cut one image: resized to a multiple of `patch_size · merge_size`, then
/// `merge_size²` patches per visual token.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PatchGridReport {
    pub resized_width: u32,
    pub resized_height: u32,
    pub patch_size: u32,
    pub merge_size: u32,
    pub grid: PatchGrid,
}

/// Tokenizer, chat template, image processor and configs of one checkpoint.
pub struct Processor {
    dir: PathBuf,
    config: ModelConfig,
    generation: GenerationConfig,
    tokenizer: TextTokenizer,
    /// `None` for checkpoints without a chat template (BLIP-2): the prompt is used as-is.
    template: Option<ChatTemplate>,
    images: ImageProcessor,
    /// BLIP-2: `num_query_tokens` of `processor_config.json`, which wins over config.json's.
    num_query_tokens: Option<usize>,
    /// InstructBLIP: the Q-Former's own tokenizer (`qformer_tokenizer/`).
    qformer_tokenizer: Option<TextTokenizer>,
}

/// Errors building a processor or preparing a prompt.
#[derive(Debug, thiserror::Error)]
pub enum ProcessorError {
    #[error("{0}: no such folder")]
    NoDir(PathBuf),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Prompt(#[from] PromptError),
    #[error(
        "the checkpoint names no image token (`image_token_index` in config.json or `<image>` in the tokenizer)"
    )]
    NoImageToken,
    #[error(transparent)]
    Idefics3(#[from] crate::preprocess::idefics3::Idefics3Error),
    #[error(transparent)]
    Qwen2Vl(#[from] crate::preprocess::qwen2_vl::Qwen2VlError),
    #[error("{path}: {source}")]
    Preprocess {
        path: PathBuf,
        source: crate::preprocess::ConfigError,
    },
}

/// The image processor a family uses.
pub enum ImageProcessor {
    /// LLaVA-1.5: `CLIPImageProcessor` (one fixed-size view).
    Clip(ClipImageProcessor),
    /// LLaVA-OneVision: AnyRes tiles plus a base view.
    Onevision(LlavaOnevisionImageProcessor),
    /// Idefics3 / SmolVLM: tiles of the resized image plus a global view.
    Idefics3(Idefics3ImageProcessor),
    /// Qwen2-VL: the image at its own resolution (within a pixel budget), in patches.
    Qwen2Vl(Qwen2VlImageProcessor),
}

/// `BlipImageProcessor`: resize to exactly `size` (default 384 × 384, bicubic), rescale and
/// normalise with the OpenAI CLIP statistics; no crop.
fn blip_image_processor(
    pre: &PreprocessorConfig,
) -> Result<ClipImageProcessor, crate::preprocess::ConfigError> {
    let resize = if pre.do_resize.unwrap_or(true) {
        let size = pre.size.clone().unwrap_or(SizeParam::Int(384));
        Some((size.to_spec("size", true)?, pre.filter()?))
    } else {
        None
    };
    Ok(ClipImageProcessor {
        resize,
        center_crop: None,
        pad_to_square: None,
        normalization: pre.normalization()?,
    })
}

impl ImageProcessor {
    /// Reads `preprocessor_config.json` (and, for OneVision, the token settings of
    /// `processor_config.json`, or of `config.json` when a checkpoint has no processor config).
    pub fn from_dir(dir: &Path, config: &ModelConfig) -> Result<Self, ProcessorError> {
        let path = dir.join("preprocessor_config.json");
        let err = |path: &Path| {
            let path = path.to_owned();
            move |source| ProcessorError::Preprocess { path, source }
        };
        match config {
            ModelConfig::Llava(_) => {
                let pre = PreprocessorConfig::from_file(&path).map_err(err(&path))?;
                Ok(Self::Clip(
                    ClipImageProcessor::from_config(&pre).map_err(err(&path))?,
                ))
            }
            ModelConfig::Blip2(_) | ModelConfig::InstructBlip(_) => {
                let pre = PreprocessorConfig::from_file(&path).map_err(err(&path))?;
                Ok(Self::Clip(blip_image_processor(&pre).map_err(err(&path))?))
            }
            ModelConfig::LlavaOnevision(c) => {
                let pre = PreprocessorConfig::from_file(&path).map_err(err(&path))?;
                let proc_path = dir.join("processor_config.json");
                let tokens = if proc_path.exists() {
                    let proc = ProcessorConfig::from_file(&proc_path).map_err(err(&proc_path))?;
                    TokenSpec::from_processor_config(&proc).map_err(err(&proc_path))?
                } else {
                    TokenSpec {
                        num_image_tokens: c.vision_config.patches_per_side().pow(2) as u32,
                        anyres_max: c.max_num_patches().map(|n| n as u32),
                        feature_select: c.vision_feature_select_strategy,
                    }
                };
                let p =
                    LlavaOnevisionImageProcessor::from_config(&pre, tokens).map_err(err(&path))?;
                Ok(Self::Onevision(p))
            }
            ModelConfig::Idefics3(_) => {
                let pre = HfIdefics3PreprocessorConfig::from_file(&path).map_err(err(&path))?;
                let proc_path = dir.join("processor_config.json");
                let proc = if proc_path.exists() {
                    HfIdefics3ProcessorConfig::from_file(&proc_path).map_err(err(&proc_path))?
                } else {
                    HfIdefics3ProcessorConfig::default()
                };
                let p = Idefics3ImageProcessor::from_configs(&pre, &proc).map_err(err(&path))?;
                Ok(Self::Idefics3(p))
            }
            ModelConfig::Qwen2Vl(_) => {
                let pre = HfQwen2VlPreprocessorConfig::from_file(&path).map_err(err(&path))?;
                let p = Qwen2VlImageProcessor::from_config(&pre).map_err(err(&path))?;
                Ok(Self::Qwen2Vl(p))
            }
        }
    }
}

impl Processor {
    /// Reads the configs, tokenizer, chat template and image processor of a checkpoint folder.
    pub fn from_dir(dir: &Path) -> Result<Self, ProcessorError> {
        if !dir.is_dir() {
            return Err(ProcessorError::NoDir(dir.to_owned()));
        }
        let config = ModelConfig::from_dir(dir)?;
        Ok(Self {
            dir: dir.to_owned(),
            generation: GenerationConfig::from_dir(dir)?,
            tokenizer: TextTokenizer::from_dir(dir)?,
            template: match config {
                ModelConfig::Blip2(_) | ModelConfig::InstructBlip(_) => {
                    ChatTemplate::from_checkpoint(dir).ok()
                }
                _ => Some(ChatTemplate::from_checkpoint(dir)?),
            },
            images: ImageProcessor::from_dir(dir, &config)?,
            num_query_tokens: read_num_query_tokens(dir)?,
            qformer_tokenizer: match config {
                ModelConfig::InstructBlip(_) => {
                    Some(TextTokenizer::from_dir(&dir.join("qformer_tokenizer"))?)
                }
                _ => None,
            },
            config,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
    /// Whether the checkpoint has a chat template (BLIP-2-style ones take the prompt as is).
    pub fn has_chat_template(&self) -> bool {
        self.template.is_some()
    }
    pub fn image_processor(&self) -> &ImageProcessor {
        &self.images
    }
    pub fn config(&self) -> &ModelConfig {
        &self.config
    }
    pub fn generation(&self) -> &GenerationConfig {
        &self.generation
    }
    pub fn tokenizer(&self) -> &TextTokenizer {
        &self.tokenizer
    }

    /// The image placeholder token id: the config's, else the tokenizer's `<image>`.
    pub fn image_token_id(&self) -> Option<u32> {
        self.config
            .image_token_id()
            .or_else(|| self.tokenizer.token_id("<image>"))
    }

    /// The end-of-sequence ids: generation_config.json's, else the tokenizer's.
    pub fn eos_token_ids(&self) -> Vec<u32> {
        match &self.generation.eos_token_id {
            Some(ids) => ids.ids(),
            None => self.tokenizer.eos_id().into_iter().collect(),
        }
    }

    /// Preprocesses images and builds the prompt ids, without running the model.
    pub fn prepare(&self, images: &[RgbImage], prompt: &str) -> Result<Prepared, ProcessorError> {
        self.prepare_with(images, prompt, MultiImage::default())
    }

    /// [`prepare`](Self::prepare) with an explicit multi-image mode.
    pub fn prepare_with(
        &self,
        images: &[RgbImage],
        prompt: &str,
        mode: MultiImage,
    ) -> Result<Prepared, ProcessorError> {
        self.prepare_chat(&[], images, prompt, mode)
    }

    /// A prompt that continues a conversation: the earlier exchanges (their images stay where
    /// they were sent), then this turn's images and text. Templated checkpoints render every
    /// turn through the chat template; BLIP-2-style ones (no template) read the turns as one
    /// text, each exchange `"{user} {assistant}"` followed by the new prompt, with every image's
    /// query tokens in front. The Q-Former instruction (InstructBLIP) is this turn's prompt.
    pub fn prepare_chat(
        &self,
        history: &[Exchange],
        images: &[RgbImage],
        prompt: &str,
        mode: MultiImage,
    ) -> Result<Prepared, ProcessorError> {
        let current_images = images.len();
        let all_images: Vec<&RgbImage> = history
            .iter()
            .flat_map(|e| e.images.iter())
            .chain(images)
            .collect();
        let multi = all_images.len() > 1 && mode == MultiImage::Batched;
        let instruction = match &self.qformer_tokenizer {
            Some(t) => t.encode(prompt, true)?,
            None => Vec::new(),
        };
        let images: Vec<PreparedImage> = all_images
            .into_iter()
            .map(|img| {
                Ok(PreparedImage {
                    instruction: instruction.clone(),
                    ..self.prepare_image(img, multi)?
                })
            })
            .collect::<Result<_, ProcessorError>>()?;
        let counts: Vec<usize> = images.iter().map(|i| i.tokens).collect();
        let (rendered, input_ids) = match &self.template {
            Some(template) => {
                let user = |n: usize, text: &str| {
                    let mut content = vec![ContentPart::Image; n];
                    content.push(ContentPart::Text(text.to_owned()));
                    ChatMessage {
                        role: Role::User,
                        content,
                    }
                };
                let mut messages = Vec::with_capacity(history.len() * 2 + 1);
                for exchange in history {
                    messages.push(user(exchange.images.len(), &exchange.user));
                    messages.push(ChatMessage::text(Role::Assistant, &exchange.assistant));
                }
                messages.push(user(current_images, prompt));
                let rendered = template.render(&messages, true, self.tokenizer.special_tokens())?;
                let expanded = match &self.images {
                    ImageProcessor::Idefics3(p) => {
                        let grids: Vec<(u32, u32)> = images
                            .iter()
                            .filter_map(|i| i.idefics3.as_ref().map(|g| (g.rows, g.cols)))
                            .collect();
                        expand_image_tokens(&rendered, &grids, p.image_seq_len)?
                    }
                    _ => expand_image_placeholders(&rendered, &self.image_token_str(), &counts)?,
                };
                let ids = self.tokenizer.encode_prompt(&expanded)?;
                (rendered, ids)
            }
            None => {
                // BLIP-2's processor: the prompt as-is, with every image's query tokens in
                // front of it (before the BOS token).
                let image_id = self.image_token_id().ok_or(ProcessorError::NoImageToken)?;
                let mut ids: Vec<u32> = counts
                    .iter()
                    .flat_map(|&n| std::iter::repeat_n(image_id, n))
                    .collect();
                let text: String = history
                    .iter()
                    .map(|e| format!("{} {} ", e.user, e.assistant))
                    .chain(std::iter::once(prompt.to_owned()))
                    .collect();
                ids.extend(self.tokenizer.encode(&text, true)?);
                (text, ids)
            }
        };
        Ok(Prepared {
            rendered_prompt: rendered,
            input_ids,
            image_tokens: counts.iter().sum(),
            images,
        })
    }

    fn image_token_str(&self) -> String {
        self.tokenizer
            .id_to_token(self.image_token_id().unwrap_or(u32::MAX))
            .unwrap_or_else(|| "<image>".to_owned())
    }

    fn prepare_image(
        &self,
        image: &RgbImage,
        multi: bool,
    ) -> Result<PreparedImage, ProcessorError> {
        let (width, height) = image.dimensions();
        let (tiles, plan, tokens, layout) = match &self.images {
            ImageProcessor::Clip(p) => (
                vec![p.preprocess(image)],
                None,
                self.fixed_image_tokens(),
                PackLayout::BaseOnly,
            ),
            ImageProcessor::Onevision(p) if multi => {
                let tokens = p.num_image_tokens_unpatched() as usize;
                (
                    vec![p.preprocess_unpatched(image)],
                    None,
                    tokens,
                    PackLayout::BaseOnly,
                )
            }
            ImageProcessor::Onevision(p) => {
                let processed = p.preprocess(image);
                let layout = pack_layout(&processed.plan);
                let tokens = processed.plan.tokens.total as usize;
                (processed.tiles, Some(processed.plan), tokens, layout)
            }
            ImageProcessor::Idefics3(p) => {
                let processed = p.preprocess_rgb(image)?;
                let tokens = processed.plan.image_tokens as usize;
                return Ok(PreparedImage {
                    width,
                    height,
                    tiles: processed.tiles,
                    plan: None,
                    tokens,
                    layout: PackLayout::BaseOnly,
                    instruction: Vec::new(),
                    idefics3: Some(processed.plan),
                    grid: None,
                });
            }
            ImageProcessor::Qwen2Vl(p) => {
                let processed = p.preprocess(image)?;
                return Ok(PreparedImage {
                    width,
                    height,
                    tiles: vec![processed.pixels],
                    plan: None,
                    tokens: p.num_image_tokens(processed.grid),
                    layout: PackLayout::BaseOnly,
                    instruction: Vec::new(),
                    idefics3: None,
                    grid: Some(processed.grid),
                });
            }
        };
        Ok(PreparedImage {
            width,
            height,
            tiles,
            plan,
            tokens,
            layout,
            instruction: Vec::new(),
            idefics3: None,
            grid: None,
        })
    }

    /// LLaVA-1.5's visual tokens per image (`LlavaProcessor`): one per patch, plus the CLS token
    /// when the `full` strategy keeps it.
    fn fixed_image_tokens(&self) -> usize {
        let vision = self.config.vision_config();
        let patches = vision.patches_per_side().pow(2);
        match &self.config {
            ModelConfig::Llava(c) => match c.vision_feature_select_strategy {
                SelectStrategy::Default => patches,
                SelectStrategy::Full => patches + 1,
            },
            ModelConfig::LlavaOnevision(_) => patches,
            ModelConfig::Blip2(c) => self.num_query_tokens.unwrap_or(c.num_query_tokens),
            ModelConfig::InstructBlip(c) => self.num_query_tokens.unwrap_or(c.num_query_tokens),
            ModelConfig::Idefics3(c) => patches / (c.scale_factor * c.scale_factor),
            // Never asked: Qwen2-VL's count depends on the image (`Qwen2VlImageProcessor`).
            ModelConfig::Qwen2Vl(_) => 0,
        }
    }

    /// Tiling and token counts for a prompt, as `iris inspect` prints them.
    pub fn inspect(
        &self,
        images: &[RgbImage],
        prompt: &str,
    ) -> Result<InspectReport, ProcessorError> {
        let prepared = self.prepare(images, prompt)?;
        let patch_report = |grid: PatchGrid| match &self.images {
            ImageProcessor::Qwen2Vl(p) => Some(PatchGridReport {
                resized_width: grid.w * p.patch_size,
                resized_height: grid.h * p.patch_size,
                patch_size: p.patch_size,
                merge_size: p.merge_size,
                grid,
            }),
            _ => None,
        };
        Ok(InspectReport {
            model_type: self.config.model_type().to_owned(),
            images: prepared
                .images
                .into_iter()
                .map(|i| ImageReport {
                    width: i.width,
                    height: i.height,
                    tiles: i.tiles.len(),
                    tokens: i.tokens,
                    plan: i.plan,
                    patches: i.grid.and_then(patch_report),
                })
                .collect(),
            image_tokens: prepared.image_tokens,
            prompt_tokens: prepared.input_ids.len(),
        })
    }
}

/// `num_query_tokens` from `processor_config.json`, when the file has it.
fn read_num_query_tokens(dir: &Path) -> Result<Option<usize>, ProcessorError> {
    let path = dir.join("processor_config.json");
    if !path.exists() {
        return Ok(None);
    }
    let config = ProcessorConfig::from_file(&path)
        .map_err(|source| ProcessorError::Preprocess { path, source })?;
    Ok(config.num_query_tokens.map(|n| n as usize))
}

/// How the model packs the tile features of a tiling plan (the same numbers the processor
/// counted tokens with).
fn pack_layout(plan: &TilePlan) -> PackLayout {
    let f = &plan.tokens.features;
    let (h, w) = (f.full.height as usize, f.full.width as usize);
    let off = f.unpad_offset as usize;
    let (crop_rows, crop_cols) = match f.unpad_axis {
        UnpadAxis::Rows => (off..h - off, 0..w),
        UnpadAxis::Columns => (0..h, off..w - off),
    };
    PackLayout::Tiled {
        grid: (plan.rows as usize, plan.cols as usize),
        crop_rows,
        crop_cols,
        resize_to: f.downsampled.map(|g| (g.height as usize, g.width as usize)),
    }
}

impl InspectReport {
    /// A human-readable summary.
    pub fn to_text(&self) -> String {
        let mut out = format!("model type: {}\n", self.model_type);
        for (i, img) in self.images.iter().enumerate() {
            out += &format!(
                "image {}: {}x{} px -> {} encoder views -> {} visual tokens\n",
                i + 1,
                img.width,
                img.height,
                img.tiles,
                img.tokens
            );
            if let Some(p) = &img.patches {
                out += &format!(
                    "  resized to {}x{} px -> {}x{} patches of {} px (rows x cols) -> {}x{} patches merged per token\n",
                    p.resized_width,
                    p.resized_height,
                    p.grid.h,
                    p.grid.w,
                    p.patch_size,
                    p.merge_size,
                    p.merge_size,
                );
            }
            if let Some(plan) = &img.plan {
                let f = &plan.tokens.features;
                out += &format!(
                    "  pinpoint {}x{} px -> {} rows x {} cols of {}x{} px tiles + base view; feature grid {}x{} (rows x cols) -> unpadded {}x{}{} -> {} grid + {} newline + {} base tokens\n",
                    plan.best_resolution.width,
                    plan.best_resolution.height,
                    plan.rows,
                    plan.cols,
                    plan.tile.width,
                    plan.tile.height,
                    f.full.height,
                    f.full.width,
                    f.unpadded.height,
                    f.unpadded.width,
                    f.downsampled
                        .map(|g| format!(" -> shrunk {}x{}", g.height, g.width))
                        .unwrap_or_default(),
                    f.grid_tokens(),
                    f.newline_tokens(),
                    plan.tokens.base_tokens,
                );
            }
        }
        out += &format!(
            "image tokens: {}\nprompt tokens: {}",
            self.image_tokens, self.prompt_tokens
        );
        out
    }
}
