//! The teaching views' data (docs/teaching.md): one answer run with capture on, packaged as the
//! page's `Explanation`, and the captured answer attention kept for on-demand maps.

use std::collections::VecDeque;
use std::sync::Mutex;

use iris_models::config::ModelConfig;
use iris_models::explain::{AnswerAttention, AttentionMap, TokenPlace};
use iris_models::generate::CancelToken;
use iris_models::preprocess::TilePlan;
use iris_models::session::{Explained, Request, Session, Timings};
use iris_models::trace::QFormerAttentionMap;

use crate::catalog::family_name;
use crate::error::{AppError, AppResult};

/// Everything one explained answer produced (made on the engine thread).
pub struct ExplainCapture {
    pub explained: Explained,
    pub places: Vec<TokenPlace>,
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
    let views = match &image.plan {
        Some(plan) => 1 + plan.tiles.len(),
        None => 1,
    };
    let views_detail = match &image.plan {
        Some(plan) => format!(
            "base view + {}×{} tiles of {size} px (pinpoint {}×{})",
            plan.rows, plan.cols, plan.best_resolution.width, plan.best_resolution.height
        ),
        None => format!("one {size}×{size} px view"),
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
            format!("{pps}×{pps} patches of {patch} px"),
            pps * pps,
        ),
        stage(
            "Vision tokens",
            format!("{views} view(s) × {}", pps * pps),
            views * pps * pps,
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
    pub tile_plan: Option<TilePlan>,
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
}

/// What `answer_attention` returns (docs/teaching.md `AttentionMap`).
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AttentionMapReply {
    pub token: usize,
    pub layer: Option<usize>,
    pub head: Option<usize>,
    pub values: Vec<f32>,
    pub image_share: f32,
}

/// The last few explanations' captured attention, for `answer_attention`.
#[derive(Default)]
pub struct Explanations(Mutex<VecDeque<(String, AnswerAttention)>>);

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
            qformer,
            pipeline,
            family,
        } = capture;
        let image = &explained.prepared.images[0];
        let info = explained
            .answer_attention
            .as_ref()
            .map(|a| AnswerAttentionInfo {
                layers: a.layers,
                heads: a.heads,
                image_tokens: places.clone(),
                token_count: a.rows.len(),
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
            qformer,
            answer_attention: info,
        };
        if let Some(attention) = explained.answer_attention {
            let mut kept = self.0.lock().unwrap_or_else(|e| e.into_inner());
            kept.push_back((id, attention));
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
    ) -> AppResult<AttentionMapReply> {
        let kept = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let (_, attention) = kept.iter().find(|(k, _)| k == id).ok_or_else(|| {
            AppError::plain(
                "NOT_FOUND",
                "This explanation is no longer in memory. Run Explain again.",
            )
        })?;
        let AttentionMap {
            values,
            image_share,
        } = attention
            .map(token, layer, head)
            .map_err(|e| AppError::invalid_input(e.to_string()))?;
        Ok(AttentionMapReply {
            token,
            layer,
            head,
            values,
            image_share,
        })
    }
}
