//! Attention captured while the engine runs, as plain values for the CLI and the teaching
//! views. Nothing here recomputes a model: the probabilities are the ones the forward pass used.

use burn::prelude::*;
use serde::Serialize;

use crate::connector::QFormerAttentions;
use crate::nn::read_f32;

/// The attention of one layer: `probs[head][query][key]`.
#[derive(Debug, Clone, Serialize)]
pub struct LayerAttention {
    pub layer: usize,
    pub probs: Vec<Vec<Vec<f32>>>,
}

/// What BLIP-2's Q-Former queries read from one image.
///
/// `layers[i].probs` equals HF's `qformer_outputs.cross_attentions[i][0]`: heads × queries ×
/// keys, where key 0 is the class token when `cls_token` is true and the rest are the patches of
/// the `grid` (rows × cols) in row-major order.
#[derive(Debug, Clone, Serialize)]
pub struct QFormerAttentionMap {
    pub kind: &'static str,
    pub grid: [usize; 2],
    pub cls_token: bool,
    pub layers: Vec<LayerAttention>,
    /// Self-attention among the queries, per Q-Former layer (`[head][query][query]`).
    pub self_attention: Vec<LayerAttention>,
}

/// Errors reading captured attention back from the device.
#[derive(Debug, thiserror::Error)]
#[error("cannot read the attention maps back from the device: {0}")]
pub struct TraceError(String);

fn nested(t: Tensor<3>) -> Result<Vec<Vec<Vec<f32>>>, TraceError> {
    let [h, q, k] = t.dims();
    let data = read_f32(t).map_err(TraceError)?;
    Ok((0..h)
        .map(|hi| {
            (0..q)
                .map(|qi| data[(hi * q + qi) * k..(hi * q + qi + 1) * k].to_vec())
                .collect()
        })
        .collect())
}

impl QFormerAttentionMap {
    /// Reads captured Q-Former attentions back for a `grid` of patches (plus the class token).
    pub fn from_capture(attn: QFormerAttentions, grid: [usize; 2]) -> Result<Self, TraceError> {
        let layers = attn
            .cross_layers
            .iter()
            .zip(attn.cross)
            .map(|(&layer, t)| {
                Ok(LayerAttention {
                    layer,
                    probs: nested(t)?,
                })
            })
            .collect::<Result<_, TraceError>>()?;
        let self_attention = attn
            .self_attention
            .into_iter()
            .enumerate()
            .map(|(layer, t)| {
                Ok(LayerAttention {
                    layer,
                    probs: nested(t)?,
                })
            })
            .collect::<Result<_, TraceError>>()?;
        Ok(Self {
            kind: "qformer",
            grid,
            cls_token: true,
            layers,
            self_attention,
        })
    }

    /// One query's attention over the patch grid, averaged over heads (the class token left
    /// out), for the cross-attention layer at `index` in `layers`.
    ///
    /// Returns `rows * cols` values in row-major order, and the class token's mean share apart.
    pub fn query_map(&self, index: usize, query: usize) -> (Vec<f32>, f32) {
        let probs = &self.layers[index].probs;
        let heads = probs.len() as f32;
        let keys = probs[0][query].len();
        let offset = usize::from(self.cls_token);
        let mut map = vec![0.0; keys - offset];
        let mut cls = 0.0;
        for head in probs {
            let row = &head[query];
            if self.cls_token {
                cls += row[0] / heads;
            }
            for (m, p) in map.iter_mut().zip(&row[offset..]) {
                *m += p / heads;
            }
        }
        (map, cls)
    }
}
