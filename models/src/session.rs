//! A loaded checkpoint, ready to answer: configs, tokenizer, chat template, image processor,
//! vision side and decoder on one device. This is the engine's front door; the CLI and the app
//! call it.

use std::path::{Path, PathBuf};

use std::time::Instant;

use burn::prelude::*;
use burn::tensor::TensorData;
use image::RgbImage;

use crate::config::{Blip2TextConfig, DecoderSpec, InstructBlipTextConfig, ModelConfig};
use crate::device::{DeviceChoice, Precision, resolve};
use crate::explain::AnswerAttention;
use crate::family::{Blip2, Idefics3, Llava, LlavaOnevision, PackLayout, Qwen2Vl, mrope_positions};
use crate::generate::{CancelToken, GenerateConfig, GenerateError, Generated, Sampling, generate};
use crate::preprocess::PatchGrid;
use crate::processor::{
    Exchange, ImageProcessor, MultiImage, Prepared, PreparedImage, Processor, ProcessorError,
};
use crate::prompt::{PromptError, StreamDecoder};
use crate::text::{CausalLm, Decoder, OptDecoder, RopePositions, T5};
use crate::trace::QFormerAttentionMap;
use crate::weights::{LoadProgress, WeightFiles, WeightLoader, WeightsError};

/// Everything that can go wrong between a checkpoint folder and an answer.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error(transparent)]
    Processor(#[from] ProcessorError),
    #[error(transparent)]
    Weights(#[from] WeightsError),
    #[error(transparent)]
    Trace(#[from] crate::trace::TraceError),
    #[error("prompt logits need a decoder-only language model; this one is an encoder-decoder")]
    NotDecoderOnly,
    #[error("decoder logits need an encoder-decoder language model")]
    NotEncoderDecoder,
    #[error("a {model_type} checkpoint has no Q-Former; attention maps of this kind need BLIP-2")]
    NoQFormer { model_type: &'static str },
    #[error(transparent)]
    Prompt(#[from] PromptError),
    #[error(transparent)]
    Generate(#[from] GenerateError),
    #[error("{dir}: {source}")]
    Family {
        dir: PathBuf,
        source: crate::family::FamilyError,
    },
    #[error("{device} cannot compute in {precision}; use --dtype f32")]
    UnsupportedPrecision {
        precision: Precision,
        device: String,
    },
    #[error(
        "{dir}: rope_scaling type `{kind}` is not supported yet (only the default rotary embedding is)"
    )]
    UnsupportedRope { dir: PathBuf, kind: String },
    #[error("the prompt has {tokens} image tokens but the images give {features} visual tokens")]
    ImageTokenMismatch { tokens: usize, features: usize },
}

/// The vision side of the loaded family.
enum Vision {
    Llava(Box<Llava>),
    LlavaOnevision(Box<LlavaOnevision>),
    Blip2(Box<Blip2>),
    Idefics3(Box<Idefics3>),
    Qwen2Vl(Box<Qwen2Vl>),
}

/// The language side of the loaded family.
enum Language {
    /// Llama, Qwen2, OPT: the prompt embeddings prefill the decoder.
    DecoderOnly(Box<dyn CausalLm>),
    /// T5: the prompt embeddings go through the encoder; the decoder starts from its start token.
    EncoderDecoder(Box<T5>),
}

/// Logits of a forward pass over `embeds` from an empty cache. # Shapes: `[tokens, vocab]`
fn forward_logits(
    model: &dyn CausalLm,
    embeds: Tensor<3>,
    positions: Option<RopePositions>,
) -> Tensor<2> {
    let mut cache = model.new_cache();
    if let Some(positions) = positions {
        cache.set_positions(positions);
    }
    let hidden = model.forward(embeds, &mut cache);
    let logits = model.logits(hidden);
    let [_, t, v] = logits.dims();
    logits.reshape([t, v])
}

/// The decoder shape, refusing rotary scalings the decoder does not implement.
fn decoder_spec_of(dir: &Path, spec: DecoderSpec) -> Result<DecoderSpec, SessionError> {
    match spec.rope_scaling.as_ref().filter(|k| *k != "default") {
        Some(kind) => Err(SessionError::UnsupportedRope {
            dir: dir.to_owned(),
            kind: kind.clone(),
        }),
        None => Ok(spec),
    }
}

/// Builds the vision side and the language model a config names.
fn load_model(
    dir: &Path,
    config: &ModelConfig,
    w: &mut WeightLoader,
) -> Result<(Vision, Language), SessionError> {
    let family_err = |source| SessionError::Family {
        dir: dir.to_owned(),
        source,
    };
    let decoder_spec = |text: &crate::config::TextConfig| decoder_spec_of(dir, text.spec(None));
    Ok(match config {
        ModelConfig::Llava(c) => {
            let spec = decoder_spec(&c.text_config)?;
            let vision = Llava::load(w, c, spec.hidden_size).map_err(family_err)?;
            let decoder = Decoder::load(w, "language_model", &spec);
            (
                Vision::Llava(Box::new(vision)),
                Language::DecoderOnly(Box::new(decoder)),
            )
        }
        ModelConfig::LlavaOnevision(c) => {
            let spec = decoder_spec(&c.text_config)?;
            let vision = LlavaOnevision::load(w, c, spec.hidden_size).map_err(family_err)?;
            let decoder = Decoder::load(w, "language_model", &spec);
            (
                Vision::LlavaOnevision(Box::new(vision)),
                Language::DecoderOnly(Box::new(decoder)),
            )
        }
        ModelConfig::InstructBlip(c) => {
            let load_vision = |w: &mut WeightLoader, d_text| {
                Blip2::load(
                    w,
                    &c.vision_config,
                    &c.qformer_config,
                    c.num_query_tokens,
                    true,
                    d_text,
                )
            };
            match &c.text_config {
                InstructBlipTextConfig::Llama(llama) => {
                    let spec = decoder_spec(&crate::config::TextConfig::Llama(llama.clone()))?;
                    let vision = load_vision(w, spec.hidden_size);
                    let decoder = Decoder::load(w, "language_model", &spec);
                    (
                        Vision::Blip2(Box::new(vision)),
                        Language::DecoderOnly(Box::new(decoder)),
                    )
                }
                InstructBlipTextConfig::T5(t5) => {
                    let vision = load_vision(w, t5.d_model);
                    let model = T5::load(w, "language_model", t5);
                    (
                        Vision::Blip2(Box::new(vision)),
                        Language::EncoderDecoder(Box::new(model)),
                    )
                }
            }
        }
        ModelConfig::Idefics3(c) => {
            let spec = c.text_config.spec(Some(c.tie_word_embeddings));
            let vision = Idefics3::load(w, c, spec.hidden_size).map_err(family_err)?;
            // `lm_head` is stored at the top; the loader's ≥4.52 aliases file it under
            // `language_model.lm_head` (weights.rs `canonical_name`).
            let decoder = Decoder::load_at(w, "model.text_model", "language_model.lm_head", &spec);
            (
                Vision::Idefics3(Box::new(vision)),
                Language::DecoderOnly(Box::new(decoder)),
            )
        }
        ModelConfig::Qwen2Vl(c) => {
            let spec = decoder_spec_of(dir, c.text_config.spec(None))?;
            let hub = w.has_prefix("visual.");
            let visual = if hub { "visual" } else { "model.visual" };
            let vision = Qwen2Vl::load(w, visual, c, spec.hidden_size);
            // Hub files: `model.*` and `lm_head`; ≥ 4.52's layout: `model.language_model.*`
            // (read as `language_model.model.*`, weights.rs `canonical_name`).
            let model = if w.has_prefix("model.layers.") {
                "model"
            } else {
                "language_model.model"
            };
            let decoder = Decoder::load_at(w, model, "language_model.lm_head", &spec);
            (
                Vision::Qwen2Vl(Box::new(vision)),
                Language::DecoderOnly(Box::new(decoder)),
            )
        }
        ModelConfig::Blip2(c) => match &c.text_config {
            Blip2TextConfig::Opt(opt) => {
                let vision = Blip2::load(
                    w,
                    &c.vision_config,
                    &c.qformer_config,
                    c.num_query_tokens,
                    false,
                    opt.hidden_size,
                );
                let decoder = OptDecoder::load(w, "language_model", opt);
                (
                    Vision::Blip2(Box::new(vision)),
                    Language::DecoderOnly(Box::new(decoder)),
                )
            }
            Blip2TextConfig::T5(t5) => {
                let vision = Blip2::load(
                    w,
                    &c.vision_config,
                    &c.qformer_config,
                    c.num_query_tokens,
                    false,
                    t5.d_model,
                );
                let model = T5::load(w, "language_model", t5);
                (
                    Vision::Blip2(Box::new(vision)),
                    Language::EncoderDecoder(Box::new(model)),
                )
            }
        },
    })
}

/// A user's request: one turn with images then text.
#[derive(Debug, Clone)]
pub struct Request {
    /// Earlier turns of the conversation (empty for a single question).
    pub history: Vec<Exchange>,
    pub images: Vec<RgbImage>,
    pub prompt: String,
    pub max_new_tokens: usize,
    pub sampling: Sampling,
    pub multi_image: MultiImage,
}

/// What [`Session::generate`] returns.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Answer {
    pub token_ids: Vec<u32>,
    pub text: String,
    pub prompt_tokens: usize,
    pub image_tokens: usize,
    /// Earlier exchanges left out because the conversation no longer fit the model's context.
    pub forgotten_exchanges: usize,
    pub stop: crate::generate::StopReason,
    pub timings_ms: Timings,
}

/// Milliseconds per stage.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Timings {
    pub load: f64,
    pub preprocess: f64,
    pub vision: f64,
    pub prefill: f64,
    pub decode: f64,
}

/// A loaded checkpoint.
pub struct Session {
    processor: Processor,
    device: Device,
    device_label: String,
    precision: Precision,
    vision: Vision,
    language: Language,
    load_ms: f64,
}

impl Session {
    /// Loads a checkpoint folder onto the chosen device, in the chosen precision.
    pub fn load(
        dir: &Path,
        choice: DeviceChoice,
        precision: Precision,
    ) -> Result<Self, SessionError> {
        let (device, device_label) = resolve(choice);
        Self::load_with(dir, device, device_label, precision)
    }

    /// Loads a checkpoint folder onto a given device in f32.
    pub fn load_on(dir: &Path, device: Device, device_label: String) -> Result<Self, SessionError> {
        Self::load_with(dir, device, device_label, Precision::F32)
    }

    /// Loads a checkpoint folder onto a given device in a given precision.
    pub fn load_with(
        dir: &Path,
        device: Device,
        device_label: String,
        precision: Precision,
    ) -> Result<Self, SessionError> {
        Self::load_reporting(dir, device, device_label, precision, &mut |_| {})
    }

    /// Like [`load_with`](Self::load_with), calling `on_progress` as the weights are read.
    pub fn load_reporting(
        dir: &Path,
        device: Device,
        device_label: String,
        precision: Precision,
        on_progress: &mut dyn FnMut(LoadProgress),
    ) -> Result<Self, SessionError> {
        if !device.supports_dtype(precision.dtype()) {
            return Err(SessionError::UnsupportedPrecision {
                precision,
                device: device_label,
            });
        }
        let start = Instant::now();
        let _span = tracing::info_span!("load", dir = %dir.display()).entered();
        let processor = Processor::from_dir(dir)?;
        let config = processor.config();
        let files = WeightFiles::open(dir)?;
        let mut w =
            WeightLoader::new(&files, &device, precision.dtype()).with_progress(on_progress);
        let (vision, language) = load_model(dir, config, &mut w)?;
        w.finish()?;
        Ok(Self {
            processor,
            device,
            device_label,
            precision,
            vision,
            language,
            load_ms: start.elapsed().as_secs_f64() * 1e3,
        })
    }

    pub fn processor(&self) -> &Processor {
        &self.processor
    }
    pub fn config(&self) -> &ModelConfig {
        self.processor.config()
    }
    pub fn device(&self) -> &Device {
        &self.device
    }
    pub fn device_label(&self) -> &str {
        &self.device_label
    }
    /// Token embeddings of the language model. # Shapes: returns `[1, ids.len(), hidden]`
    fn embed_tokens(&self, ids: &[u32]) -> Tensor<3> {
        match &self.language {
            Language::DecoderOnly(d) => d.embed(ids),
            Language::EncoderDecoder(t5) => t5.embed(ids),
        }
    }
    pub fn precision(&self) -> Precision {
        self.precision
    }
    pub fn load_ms(&self) -> f64 {
        self.load_ms
    }

    /// Uploads one image's tiles.
    ///
    /// # Shapes
    /// - returns `[tiles, 3, height, width]`
    pub fn pixel_tensor(&self, image: &PreparedImage) -> Tensor<4> {
        let first = &image.tiles[0];
        let (c, h, w) = (first.channels, first.height, first.width);
        let data: Vec<f32> = image
            .tiles
            .iter()
            .flat_map(|t| t.data.iter().copied())
            .collect();
        let pixels = Tensor::from_data(
            TensorData::new(data, [image.tiles.len(), c, h, w]),
            &self.device,
        );
        match self.precision {
            Precision::F32 => pixels,
            p => pixels.cast(p.dtype()),
        }
    }

    /// Vision features before the connector, for one image.
    ///
    /// # Shapes
    /// - returns `[tiles, tokens, d_vision]`
    pub fn vision_features(&self, image: &PreparedImage) -> Tensor<3> {
        if let (Vision::Qwen2Vl(m), Some((patches, grid))) = (&self.vision, self.patches(image)) {
            return m.vision_features(patches, grid).unsqueeze::<3>();
        }
        let pixels = self.tiles_for(image);
        match &self.vision {
            Vision::Llava(m) => m.vision_features(pixels),
            Vision::LlavaOnevision(m) => m.vision_features(pixels),
            Vision::Blip2(m) => m.vision_features(pixels),
            Vision::Idefics3(m) => m.vision_features(pixels),
            Vision::Qwen2Vl(_) => unreachable!("Qwen2-VL images are prepared with a patch grid"),
        }
    }

    /// Connector output before packing, for one image.
    ///
    /// # Shapes
    /// - returns `[tiles, tokens, d_text]`
    pub fn projector_output(&self, image: &PreparedImage) -> Tensor<3> {
        if let (Vision::Qwen2Vl(m), Some((patches, grid))) = (&self.vision, self.patches(image)) {
            return m.image_features(patches, grid).unsqueeze::<3>();
        }
        let pixels = self.tiles_for(image);
        match &self.vision {
            Vision::Llava(m) => m.image_features(pixels),
            Vision::LlavaOnevision(m) => m.tile_features(pixels),
            Vision::Blip2(m) => m.image_features(pixels, &image.instruction),
            Vision::Idefics3(m) => m.connector_output(pixels),
            Vision::Qwen2Vl(_) => unreachable!("Qwen2-VL images are prepared with a patch grid"),
        }
    }

    /// The visual tokens of one image as they replace its image tokens.
    ///
    /// # Shapes
    /// - returns `[visual_tokens, d_text]`
    pub fn image_features(&self, image: &PreparedImage) -> Tensor<2> {
        let projected = self.projector_output(image);
        let [n, t, d] = projected.dims();
        match &self.vision {
            Vision::Llava(_) | Vision::Blip2(_) | Vision::Idefics3(_) | Vision::Qwen2Vl(_) => {
                projected.reshape([n * t, d])
            }
            Vision::LlavaOnevision(m) => m.pack(projected, &image.layout),
        }
    }

    /// BLIP-2's Q-Former outputs and every layer's attention for one image (`None` for
    /// families without a Q-Former).
    ///
    /// # Shapes
    /// - returns `[1, queries, d_qformer]` and the attentions of the first (only) image
    pub fn qformer(
        &self,
        image: &PreparedImage,
    ) -> Option<(Tensor<3>, crate::connector::QFormerAttentions)> {
        match &self.vision {
            Vision::Blip2(m) => Some(m.qformer(self.tiles_for(image), &image.instruction)),
            _ => None,
        }
    }

    /// What each Q-Former query reads from one image, as a plain value (BLIP-2, InstructBLIP).
    /// BLIP-2's queries do not read the prompt; InstructBLIP's read it as their instruction.
    pub fn qformer_attention(
        &self,
        image: &RgbImage,
        prompt: &str,
    ) -> Result<QFormerAttentionMap, SessionError> {
        let prepared = self
            .processor
            .prepare(std::slice::from_ref(image), prompt)?;
        let (_, attn) = self
            .qformer(&prepared.images[0])
            .ok_or(SessionError::NoQFormer {
                model_type: self.config().model_type(),
            })?;
        let side = self.config().vision_config().patches_per_side();
        Ok(QFormerAttentionMap::from_capture(attn, [side, side])?)
    }

    /// Where each visual token of a prepared prompt came from, in prompt order (all images).
    pub fn visual_token_places(&self, prepared: &Prepared) -> Vec<crate::explain::TokenPlace> {
        let query_based = matches!(
            self.config(),
            ModelConfig::Blip2(_) | ModelConfig::InstructBlip(_)
        );
        let side = self.config().vision_config().patches_per_side();
        prepared
            .images
            .iter()
            .flat_map(|image| {
                crate::explain::visual_token_places(
                    self.processor.image_processor(),
                    image,
                    side,
                    query_based,
                )
            })
            .collect()
    }

    /// Qwen2-VL: the processor's patch rows of one image and its grid, on the device.
    ///
    /// # Shapes
    /// - returns `[patches, C·T·P·P]`
    fn patches(&self, image: &PreparedImage) -> Option<(Tensor<2>, PatchGrid)> {
        let (ImageProcessor::Qwen2Vl(p), Some(grid)) =
            (self.processor.image_processor(), image.grid)
        else {
            return None;
        };
        let rows = p.patches(&image.tiles[0], grid);
        let width = rows.len() / grid.patches();
        let patches: Tensor<2> =
            Tensor::from_data(TensorData::new(rows, [grid.patches(), width]), &self.device);
        let patches = match self.precision {
            Precision::F32 => patches,
            p => patches.cast(p.dtype()),
        };
        Some((patches, grid))
    }

    /// The prompt's M-RoPE positions (Qwen2-VL); `None` for 1-D positions.
    pub fn rope_positions(&self, prepared: &Prepared) -> Option<RopePositions> {
        let ModelConfig::Qwen2Vl(c) = self.config() else {
            return None;
        };
        let grids: Vec<PatchGrid> = prepared.images.iter().filter_map(|i| i.grid).collect();
        Some(mrope_positions(
            &prepared.input_ids,
            c.image_token_id,
            &grids,
            c.vision.spatial_merge_size as u32,
        ))
    }

    /// Only the tiles the model reads: multi-image OneVision prompts use the base view alone.
    fn tiles_for(&self, image: &PreparedImage) -> Tensor<4> {
        let pixels = self.pixel_tensor(image);
        if image.idefics3.is_some() {
            return pixels;
        }
        match image.layout {
            PackLayout::BaseOnly => pixels.narrow(0, 0, 1),
            PackLayout::Tiled { .. } => pixels,
        }
    }

    /// Prompt embeddings with every image's visual tokens at its image-token positions.
    ///
    /// # Shapes
    /// - returns `[1, prompt_tokens, d_text]`
    pub fn embed_prompt(&self, prepared: &Prepared) -> Result<Tensor<3>, SessionError> {
        let _span = tracing::debug_span!("embed_prompt").entered();
        let image_id = self.processor.image_token_id().unwrap_or(u32::MAX);
        let ids = &prepared.input_ids;
        let positions: Vec<usize> = (0..ids.len()).filter(|&i| ids[i] == image_id).collect();
        if positions.len() != prepared.image_tokens {
            return Err(SessionError::ImageTokenMismatch {
                tokens: positions.len(),
                features: prepared.image_tokens,
            });
        }
        // Image positions are embedded as token 0 and then replaced (HF does the same).
        let text_ids: Vec<u32> = ids
            .iter()
            .map(|&i| if i == image_id { 0 } else { i })
            .collect();
        let text = self.embed_tokens(&text_ids);
        if positions.is_empty() {
            return Ok(text);
        }
        let d = text.dims()[2];
        let features: Vec<Tensor<2>> = prepared
            .images
            .iter()
            .map(|img| self.image_features(img))
            .collect();
        let features = Tensor::cat(features, 0);
        // Row i of the result is text row i, or feature row k for the k-th image position.
        let mut index: Vec<i64> = (0..ids.len() as i64).collect();
        for (k, &p) in positions.iter().enumerate() {
            index[p] = (ids.len() + k) as i64;
        }
        let all = Tensor::cat(vec![text.reshape([ids.len(), d]), features], 0);
        let index = Tensor::<1, Int>::from_data(TensorData::new(index, [ids.len()]), &self.device);
        Ok(all.select(0, index).unsqueeze::<3>())
    }

    /// Vocabulary logits for every prompt position (a single forward pass, no generation).
    ///
    /// # Shapes
    /// - returns `[prompt_tokens, vocab]`
    pub fn prompt_logits(&self, prepared: &Prepared) -> Result<Tensor<2>, SessionError> {
        let embeds = self.embed_prompt(prepared)?;
        let Language::DecoderOnly(decoder) = &self.language else {
            return Err(SessionError::NotDecoderOnly);
        };
        Ok(forward_logits(
            decoder.as_ref(),
            embeds,
            self.rope_positions(prepared),
        ))
    }

    /// Encoder-decoder models: decoder logits for `decoder_ids` (teacher-forced) given the
    /// prompt.
    ///
    /// # Shapes
    /// - returns `[decoder_ids.len(), vocab]`
    pub fn decoder_logits(
        &self,
        prepared: &Prepared,
        decoder_ids: &[u32],
    ) -> Result<Tensor<2>, SessionError> {
        let embeds = self.embed_prompt(prepared)?;
        let Language::EncoderDecoder(t5) = &self.language else {
            return Err(SessionError::NotEncoderDecoder);
        };
        let decoding = t5.decoding(t5.encode(embeds));
        Ok(forward_logits(&decoding, t5.embed(decoder_ids), None))
    }

    /// Whether the language model is an encoder-decoder (T5).
    pub fn is_encoder_decoder(&self) -> bool {
        matches!(self.language, Language::EncoderDecoder(_))
    }

    /// The generation length when the caller gives none: generation_config.json's, else 256.
    pub fn default_max_new_tokens(&self) -> usize {
        self.processor.generation().max_new_tokens.unwrap_or(256)
    }

    /// Answers one request, streaming text pieces to `on_text` as they complete.
    pub fn generate(
        &self,
        request: &Request,
        cancel: &CancelToken,
        on_text: impl FnMut(&str),
    ) -> Result<Answer, SessionError> {
        self.run(request, false, cancel, on_text)
            .map(|explained| explained.answer)
    }

    /// Like [`generate`](Self::generate), also keeping what the teaching views show: the
    /// prepared prompt (token counts, tile plans), each answer token's text and the language
    /// model's attention from every answer token (decoder-only models).
    pub fn explain(
        &self,
        request: &Request,
        cancel: &CancelToken,
        on_text: impl FnMut(&str),
    ) -> Result<Explained, SessionError> {
        self.run(request, true, cancel, on_text)
    }

    fn run(
        &self,
        request: &Request,
        capture: bool,
        cancel: &CancelToken,
        mut on_text: impl FnMut(&str),
    ) -> Result<Explained, SessionError> {
        let start = Instant::now();
        let (prepared, forgotten_exchanges) = self.prepare_fitting(request)?;
        let preprocess = start.elapsed().as_secs_f64() * 1e3;
        let start = Instant::now();
        let embeds = self.embed_prompt(&prepared)?;
        // Make the vision timing honest: wait for the device before reading the clock.
        let _ = self.device.sync();
        let vision = start.elapsed().as_secs_f64() * 1e3;
        let config = GenerateConfig {
            max_new_tokens: request.max_new_tokens,
            sampling: request.sampling.clone(),
            eos_token_ids: self.processor.eos_token_ids(),
            capture_attention: capture,
            capture_prefill_up_to: if capture { ROLLOUT_MAX_PROMPT } else { 0 },
            positions: self.rope_positions(&prepared),
        };
        let mut stream = StreamDecoder::new(self.processor.tokenizer());
        let mut stream_err = None;
        let mut pieces = Vec::new();
        let on_token = |id| match stream.push(id) {
            Ok(piece) => {
                if !piece.is_empty() {
                    on_text(&piece);
                }
                pieces.push(piece);
            }
            Err(e) => stream_err = Some(e),
        };
        let generated: Generated = match &self.language {
            Language::DecoderOnly(decoder) => {
                generate(decoder.as_ref(), embeds, &config, cancel, on_token)?
            }
            Language::EncoderDecoder(t5) => {
                let decoding = t5.decoding(t5.encode(embeds));
                let start = t5.embed(&[t5.decoder_start_token()]);
                generate(&decoding, start, &config, cancel, on_token)?
            }
        };
        if let Some(e) = stream_err {
            return Err(e.into());
        }
        let rest = stream.finish()?;
        if !rest.is_empty() {
            on_text(&rest);
            if let Some(last) = pieces.last_mut() {
                last.push_str(&rest);
            }
        }
        let text = self
            .processor
            .tokenizer()
            .decode(&generated.token_ids, true)?;
        let answer_attention = match (&self.language, capture) {
            (Language::DecoderOnly(_), true) => Some(self.answer_attention(&prepared, &generated)?),
            _ => None,
        };
        let answer = Answer {
            token_ids: generated.token_ids,
            text,
            prompt_tokens: prepared.input_ids.len(),
            image_tokens: prepared.image_tokens,
            forgotten_exchanges,
            stop: generated.stop,
            timings_ms: Timings {
                load: self.load_ms,
                preprocess,
                vision,
                prefill: generated.prefill_ms,
                decode: generated.decode_ms,
            },
        };
        Ok(Explained {
            answer,
            prepared,
            token_pieces: pieces,
            answer_attention,
        })
    }

    /// Prepares the request's prompt; when it would leave fewer than [`ANSWER_ROOM`] positions
    /// of a decoder's context for the answer, the oldest exchanges' words are left out one by
    /// one, as chat apps forget the start of a long conversation. Their images stay (moved to
    /// the first exchange kept, or to this turn): the conversation is still about them. Returns
    /// how many exchanges were shortened away.
    fn prepare_fitting(&self, request: &Request) -> Result<(Prepared, usize), SessionError> {
        let max = match &self.language {
            Language::DecoderOnly(decoder) => Some(decoder.max_positions()),
            Language::EncoderDecoder(_) => None,
        };
        let room = request.max_new_tokens.clamp(1, ANSWER_ROOM);
        let mut skip = 0;
        loop {
            let forgotten = &request.history[..skip];
            let carried: Vec<RgbImage> = forgotten
                .iter()
                .flat_map(|e| e.images.iter().cloned())
                .collect();
            let mut history = request.history[skip..].to_vec();
            let mut images = request.images.clone();
            let keeper = match history.first_mut() {
                Some(first) => &mut first.images,
                None => &mut images,
            };
            keeper.splice(0..0, carried);
            let prepared = self.processor.prepare_chat(
                &history,
                &images,
                &request.prompt,
                request.multi_image,
            )?;
            let fits = max.is_none_or(|m| prepared.input_ids.len() + room <= m);
            if fits || skip == request.history.len() {
                return Ok((prepared, skip));
            }
            skip += 1;
        }
    }

    /// Reads the captured attention rows back from the device.
    fn answer_attention(
        &self,
        prepared: &Prepared,
        generated: &Generated,
    ) -> Result<AnswerAttention, SessionError> {
        let image_positions = match self.processor.image_token_id() {
            Some(id) => crate::prompt::image_token_spans(&prepared.input_ids, id)
                .into_iter()
                .flatten()
                .collect(),
            None => Vec::new(),
        };
        let host = |t: &Tensor<2>| {
            crate::nn::read_f32(t.clone().cast(burn::tensor::DType::F32))
                .map_err(|e| SessionError::Generate(crate::generate::GenerateError::Device(e)))
        };
        let rows = generated
            .attention
            .iter()
            .map(|step| step.iter().map(host).collect::<Result<Vec<_>, _>>())
            .collect::<Result<Vec<_>, _>>()?;
        let prefill = generated
            .prefill_attention
            .iter()
            .map(host)
            .collect::<Result<Vec<_>, _>>()?;
        let layers = generated.attention.first().map_or(0, Vec::len);
        let heads = generated
            .attention
            .first()
            .and_then(|step| step.first())
            .map_or(0, |row| row.dims()[0]);
        Ok(AnswerAttention {
            layers,
            heads,
            prompt_tokens: prepared.input_ids.len(),
            image_positions,
            rows,
            prefill: (!prefill.is_empty()).then_some(prefill),
        })
    }
}

/// The longest prompt whose full attention [`Session::explain`] keeps for attention rollout
/// (per layer `prompt²` floats on the host: 4 MB per layer at this size).
pub const ROLLOUT_MAX_PROMPT: usize = 1024;

/// Positions of a decoder's context kept free for the answer when earlier exchanges have to be
/// left out (or fewer, when the request asks for fewer new tokens).
pub const ANSWER_ROOM: usize = 32;

/// What [`Session::explain`] returns.
pub struct Explained {
    pub answer: Answer,
    pub prepared: Prepared,
    /// The text each answer token added (empty for a token that completes a later character).
    pub token_pieces: Vec<String>,
    /// `None` for encoder-decoder language models (T5).
    pub answer_attention: Option<AnswerAttention>,
}

#[cfg(test)]
mod tests {
    /// The app runs each model on its own worker thread: a session must move there.
    #[test]
    fn session_can_move_to_a_worker_thread() {
        fn assert_send<T: Send>() {}
        assert_send::<super::Session>();
    }
}
