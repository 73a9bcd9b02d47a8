//! The teaching views' data (docs/teaching.md): one answer run with capture on, packaged as the
//! page's `Explanation`, and the captured answer attention kept for on-demand maps.

use std::collections::VecDeque;
use std::sync::Mutex;

use iris_models::config::ModelConfig;
use iris_models::explain::{AnswerAttention, AttentionMap, TokenPlace, grid_cells, image_views};
use iris_models::generate::CancelToken;
use iris_models::preprocess::{ImageViews, TilePlan};
use iris_models::session::{Explained, Request, Session, Timings};
use iris_models::trace::QFormerAttentionMap;

use crate::catalog::family_name;
use crate::error::{AppError, AppResult};

/// Everything one explained answer produced (made on the engine thread).
pub struct ExplainCapture {
    pub explained: Explained,
    pub places: Vec<TokenPlace>,
    pub views: Option<ImageViews>,
    pub qformer: Option<QFormerAttentionMap>,
    pub pipeline: Vec<PipelineStage>,
    pub family: String,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PipelineStage {
    pub name: String,
    pub detail: String,
    pub count: u64,
}

fn stage(name: &str, detail: String, count: usize) -> PipelineStage {
    PipelineStage {
        name: name.into(),
        detail,
        count: count as u64,
    }
}

/// Runs `request` (one image) with capture on.
pub fn capture(
    session: &Session,
    request: &Request,
    cancel: &CancelToken,
    on_text: &mut dyn FnMut(&str),
) -> AppResult<ExplainCapture> {
    let explained = session
        .explain(request, cancel, |piece| on_text(piece))
        .map_err(|e| AppError::from_session(&e))?;
    let places = session.visual_token_places(&explained.prepared);
    let views = image_views(session.processor(), &explained.prepared.images[0]);
    let qformer = match session.config() {
        ModelConfig::Blip2(_) | ModelConfig::InstructBlip(_) => Some(
            session
                .qformer_attention(&request.images[0], &request.prompt)
                .map_err(|e| AppError::from_session(&e))?,
        ),
        _ => None,
    };
    let pipeline = pipeline(session, &explained);
    Ok(ExplainCapture {
        places,
        views,
        qformer,
        pipeline,
        family: family_name(session.config().model_type()).to_owned(),
        explained,
    })
}

/// The pipeline in numbers: image → views → patches → vision tokens → connector → prompt → answer.
fn pipeline(session: &Session, explained: &Explained) -> Vec<PipelineStage> {
    let config = session.config();
    let vision = config.vision_config();
    let (size, pps) = (vision.image_size(), vision.patches_per_side());
    let patch = size / pps.max(1);
    let image = &explained.prepared.images[0];
    // Qwen2-VL: one view at the image's own (resized) resolution, a rows × cols patch grid.
    let (rows, cols) = image
        .grid
        .map_or((pps, pps), |g| (g.h as usize, g.w as usize));
    let views = match (&image.plan, &image.idefics3) {
        (Some(plan), _) => 1 + plan.tiles.len(),
        (None, Some(plan)) => plan.num_views(),
        (None, None) => 1,
    };
    let views_detail = match (&image.plan, &image.idefics3) {
        (None, Some(plan)) => format!(
            "{}×{} tiles of {size} px + a global view",
            plan.rows, plan.cols
        ),
        (Some(plan), _) => format!(
            "base view + {}×{} tiles of {size} px (pinpoint {}×{})",
            plan.rows, plan.cols, plan.best_resolution.width, plan.best_resolution.height
        ),
        (None, None) => match image.grid {
            Some(g) => format!(
                "one view, resized to {}×{} px",
                g.w as usize * patch,
                g.h as usize * patch
            ),
            None => format!("one {size}×{size} px view"),
        },
    };
    let connector = match config {
        ModelConfig::Blip2(c) => format!("Q-Former: {} learned queries", c.num_query_tokens),
        ModelConfig::InstructBlip(c) => {
            format!(
                "Q-Former: {} queries reading the instruction",
                c.num_query_tokens
            )
        }
        ModelConfig::LlavaOnevision(_) => {
            "MLP projector, tiles unpadded and packed with row newlines".to_owned()
        }
        ModelConfig::Llava(_) => "MLP projector, one token per patch".to_owned(),
        ModelConfig::Idefics3(c) => format!(
            "pixel shuffle (×{s}: {s}×{s} patches per token) + linear, per view",
            s = c.scale_factor
        ),
        ModelConfig::Qwen2Vl(c) => format!(
            "patch merger: {m}×{m} patches per token, LayerNorm + 2-layer MLP",
            m = c.vision.spatial_merge_size
        ),
    };
    let answer = &explained.answer;
    vec![
        stage(
            "Image",
            format!("{}×{} px", image.width, image.height),
            (image.width * image.height) as usize,
        ),
        stage("Encoder views", views_detail, views),
        stage(
            "Patches per view",
            format!("{rows}×{cols} patches of {patch} px"),
            rows * cols,
        ),
        stage(
            "Vision tokens",
            format!("{views} view(s) × {}", rows * cols),
            views * rows * cols,
        ),
        stage("Connector output", connector, answer.image_tokens),
        stage(
            "Prompt tokens",
            "text and visual tokens the language model reads".into(),
            answer.prompt_tokens,
        ),
        stage(
            "Answer tokens",
            format!("stopped: {:?}", answer.stop).to_lowercase(),
            answer.token_ids.len(),
        ),
    ]
}

/// What `explain` returns (docs/teaching.md `Explanation`).
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Explanation {
    pub explanation_id: String,
    pub model_id: String,
    pub family: String,
    pub image: ImageInfo,
    pub prompt: String,
    pub answer: AnswerInfo,
    pub pipeline: Vec<PipelineStage>,
    pub timings_ms: Timings,
    /// LLaVA-OneVision's AnyRes plan (the pinpoint candidates and their scores).
    pub tile_plan: Option<TilePlan>,
    /// How the image was cut into encoder views, for every family that tiles.
    pub image_views: Option<ImageViews>,
    pub qformer: Option<QFormerAttentionMap>,
    pub answer_attention: Option<AnswerAttentionInfo>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct ImageInfo {
    pub id: String,
    pub width: u32,
    pub height: u32,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct AnswerInfo {
    pub text: String,
    pub tokens: Vec<String>,
}

#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AnswerAttentionInfo {
    pub layers: usize,
    pub heads: usize,
    pub image_tokens: Vec<TokenPlace>,
    pub token_count: usize,
    /// Whether `answer_attention` can give attention rollout (prompts up to
    /// `ROLLOUT_MAX_PROMPT` tokens).
    pub rollout: bool,
    /// BLIP-2 / InstructBLIP: `values` are the attention on the learned queries spread over
    /// the patches each query reads (mean Q-Former cross-attention), not a direct map.
    pub through_qformer: bool,
}

/// What `answer_attention` returns (docs/teaching.md `AttentionMap`).
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AttentionMapReply {
    pub token: usize,
    pub layer: Option<usize>,
    pub head: Option<usize>,
    pub rollout: bool,
    pub values: Vec<f32>,
    pub image_share: f32,
}

/// One kept explanation: its attention rows and, for BLIP-2, how each learned query spreads
/// over the image patches (`[query][patch]`), to draw answer attention back onto the image.
struct Kept {
    id: String,
    attention: AnswerAttention,
    through_qformer: Option<Vec<Vec<f32>>>,
}

/// The last few explanations' captured attention, for `answer_attention`.
#[derive(Default)]
pub struct Explanations(Mutex<VecDeque<Kept>>);

/// Each query's cross-attention over the patches, averaged over layers and heads (the class
/// token left out): `[query][patch]`.
fn query_spread(map: &QFormerAttentionMap) -> Vec<Vec<f32>> {
    let skip = usize::from(map.cls_token);
    let patches = map.grid[0] * map.grid[1];
    let queries = map
        .layers
        .first()
        .map_or(0, |l| l.probs.first().map_or(0, Vec::len));
    let mut spread = vec![vec![0.0f32; patches]; queries];
    let n = map
        .layers
        .iter()
        .map(|l| l.probs.len())
        .sum::<usize>()
        .max(1) as f32;
    for layer in &map.layers {
        for head in &layer.probs {
            for (q, row) in head.iter().enumerate() {
                for (p, v) in row[skip..].iter().enumerate() {
                    spread[q][p] += v / n;
                }
            }
        }
    }
    spread
}

/// Attention on each query spread over the patches it reads.
fn spread_over_patches(on_queries: &[f32], spread: &[Vec<f32>]) -> Vec<f32> {
    let patches = spread.first().map_or(0, Vec::len);
    let mut out = vec![0.0f32; patches];
    for (weight, row) in on_queries.iter().zip(spread) {
        for (o, v) in out.iter_mut().zip(row) {
            *o += weight * v;
        }
    }
    out
}

/// The patch grid over the whole image (BLIP's processor resizes without cropping).
fn patch_places(grid: [usize; 2], width: u32, height: u32) -> Vec<TokenPlace> {
    let whole = iris_models::preprocess::SourceRect {
        x: 0.0,
        y: 0.0,
        width: f64::from(width),
        height: f64::from(height),
    };
    grid_cells(whole, grid[0], grid[1], "patch")
}

/// Explanations kept at once (each holds every answer token's attention rows).
const KEPT: usize = 4;

impl Explanations {
    /// Packages a capture for the page, keeping its attention under a new id.
    pub fn add(
        &self,
        model_id: &str,
        image_id: &str,
        prompt: &str,
        capture: ExplainCapture,
    ) -> Explanation {
        let id = format!("x{}", crate::store::now_ms());
        let ExplainCapture {
            explained,
            places,
            views,
            qformer,
            pipeline,
            family,
        } = capture;
        let image = &explained.prepared.images[0];
        // BLIP-2: answer tokens attend to learned queries; drawn through the Q-Former's
        // cross-attention onto the patches they read.
        let through_qformer = qformer.as_ref().map(query_spread);
        let places = match &qformer {
            Some(map) => patch_places(map.grid, image.width, image.height),
            None => places,
        };
        let info = explained
            .answer_attention
            .as_ref()
            .map(|a| AnswerAttentionInfo {
                layers: a.layers,
                heads: a.heads,
                image_tokens: places.clone(),
                token_count: a.rows.len(),
                rollout: a.prefill.is_some(),
                through_qformer: through_qformer.is_some(),
            });
        let explanation = Explanation {
            explanation_id: id.clone(),
            model_id: model_id.to_owned(),
            family,
            image: ImageInfo {
                id: image_id.to_owned(),
                width: image.width,
                height: image.height,
            },
            prompt: prompt.to_owned(),
            answer: AnswerInfo {
                text: explained.answer.text.clone(),
                tokens: explained.token_pieces.clone(),
            },
            pipeline,
            timings_ms: explained.answer.timings_ms.clone(),
            tile_plan: image.plan.clone(),
            image_views: views,
            qformer,
            answer_attention: info,
        };
        if let Some(attention) = explained.answer_attention {
            let mut kept = self.0.lock().unwrap_or_else(|e| e.into_inner());
            kept.push_back(Kept {
                id,
                attention,
                through_qformer,
            });
            while kept.len() > KEPT {
                kept.pop_front();
            }
        }
        explanation
    }

    pub fn map(
        &self,
        id: &str,
        token: usize,
        layer: Option<usize>,
        head: Option<usize>,
        rollout: bool,
    ) -> AppResult<AttentionMapReply> {
        let kept = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let found = kept.iter().find(|k| k.id == id).ok_or_else(|| {
            AppError::plain(
                "NOT_FOUND",
                "This explanation is no longer in memory. Run Explain again.",
            )
        })?;
        let AttentionMap {
            values,
            image_share,
        } = if rollout {
            found.attention.rollout(token)
        } else {
            found.attention.map(token, layer, head)
        }
        .map_err(|e| AppError::invalid_input(e.to_string()))?;
        let values = match &found.through_qformer {
            Some(spread) => spread_over_patches(&values, spread),
            None => values,
        };
        Ok(AttentionMapReply {
            token,
            layer,
            head,
            rollout,
            values,
            image_share,
        })
    }
}
