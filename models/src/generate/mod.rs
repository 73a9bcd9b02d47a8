//! The decoding loop: prefill the prompt, then one token at a time through the KV cache until
//! an end-of-sequence token, the token limit or a cancel.

mod sampling;

pub use sampling::{Sampler, Sampling, argmax};

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use burn::prelude::*;

use crate::nn::read_f32;
use crate::text::CausalLm;

/// Cancels a running generation from another thread; checked before every decode step.
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// What ends a generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// An end-of-sequence token was produced (and is included in the ids).
    Eos,
    /// `max_new_tokens` were produced.
    MaxTokens,
    /// The caller cancelled.
    Cancelled,
}

/// Generation settings.
#[derive(Debug, Clone)]
pub struct GenerateConfig {
    pub max_new_tokens: usize,
    pub sampling: Sampling,
    pub eos_token_ids: Vec<u32>,
    /// Keep every pass's last-query attention (the teaching view); off in normal use.
    pub capture_attention: bool,
    /// Also keep the prompt pass's full head-averaged attention (attention rollout), for
    /// prompts of at most this many tokens; 0 keeps none.
    pub capture_prefill_up_to: usize,
    /// The prompt's multimodal rotary positions (Qwen2-VL); `None` for 1-D positions.
    pub positions: Option<crate::text::RopePositions>,
}

/// The generated ids and how long each phase took.
#[derive(Debug, Clone)]
pub struct Generated {
    pub token_ids: Vec<u32>,
    pub stop: StopReason,
    pub prefill_ms: f64,
    pub decode_ms: f64,
    /// With `capture_attention`: `[token][layer]` of `[heads, keys]`, the attention of the pass
    /// that chose each token (as HF's `generate(output_attentions=True)` reports it).
    pub attention: Vec<Vec<Tensor<2>>>,
    /// With `capture_prefill_up_to`: per layer, the prompt pass's attention averaged over
    /// heads, `[prompt, prompt]`.
    pub prefill_attention: Vec<Tensor<2>>,
}

/// Errors while generating.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    #[error("the prompt has {prompt} tokens; this model handles at most {max}")]
    PromptTooLong { prompt: usize, max: usize },
    #[error("the compute device failed: {0}")]
    Device(String),
}

/// Reads the last position's logits back to the host.
fn last_logits(decoder: &dyn CausalLm, hidden: Tensor<3>) -> Result<Vec<f32>, GenerateError> {
    let len = hidden.dims()[1];
    let logits = decoder.logits(hidden.narrow(1, len - 1, 1));
    read_f32(logits).map_err(GenerateError::Device)
}

/// Generates from prompt embeddings, calling `on_token` with each new id as it is chosen.
///
/// # Shapes
/// - prompt: `[1, prompt_tokens, hidden]`
pub fn generate(
    decoder: &dyn CausalLm,
    prompt: Tensor<3>,
    config: &GenerateConfig,
    cancel: &CancelToken,
    mut on_token: impl FnMut(u32),
) -> Result<Generated, GenerateError> {
    let prompt_len = prompt.dims()[1];
    let max = decoder.max_positions();
    if prompt_len >= max {
        return Err(GenerateError::PromptTooLong {
            prompt: prompt_len,
            max,
        });
    }
    let budget = config.max_new_tokens.min(max - prompt_len);
    let mut sampler = Sampler::new(config.sampling.clone());
    let mut cache = decoder.new_cache();
    if let Some(positions) = &config.positions {
        cache.set_positions(positions.clone());
    }
    if config.capture_attention {
        cache.capture_attention();
        if prompt_len <= config.capture_prefill_up_to {
            cache.capture_prefill_attention();
        }
    }
    let mut ids = Vec::new();

    let start = Instant::now();
    let logits = {
        let _span = tracing::debug_span!("prefill", tokens = prompt_len).entered();
        last_logits(decoder, decoder.forward(prompt, &mut cache))?
    };
    let prefill_ms = start.elapsed().as_secs_f64() * 1e3;

    let start = Instant::now();
    let mut logits = logits;
    let stop = loop {
        if cancel.is_cancelled() {
            break StopReason::Cancelled;
        }
        if ids.len() >= budget {
            break StopReason::MaxTokens;
        }
        let next = sampler.next(&logits);
        ids.push(next);
        on_token(next);
        if config.eos_token_ids.contains(&next) {
            break StopReason::Eos;
        }
        if ids.len() >= budget || cancel.is_cancelled() {
            continue;
        }
        let _span = tracing::debug_span!("decode_step", position = cache.len()).entered();
        let hidden = decoder.forward(decoder.embed(&[next]), &mut cache);
        logits = last_logits(decoder, hidden)?;
    };
    let decode_ms = start.elapsed().as_secs_f64() * 1e3;
    let prefill_attention = cache.take_prefill_attention();
    let mut attention = cache.take_attention();
    // A pass whose token was never chosen (cancelled right after it) has nothing to explain.
    attention.truncate(ids.len());
    Ok(Generated {
        token_ids: ids,
        stop,
        prefill_ms,
        decode_ms,
        attention,
        prefill_attention,
    })
}
