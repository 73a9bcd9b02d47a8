//! The demo model's checkpoint folder in the Hugging Face BLIP-2 layout: `config.json`
//! (`Blip2ForConditionalGeneration` with an OPT decoder), the image processor and processor
//! configs, a word-level `tokenizer.json` over the scene vocabulary, and `model.safetensors`.
//! Both Iris and HF transformers load the folder as they load any BLIP-2 checkpoint.

use std::path::Path;

use rand::{Rng, RngExt};
use serde_json::{Value, json};

use super::questions;
use crate::weights::{WeightWriter, WeightsError};

/// Special tokens, in id order, in front of the scene words.
pub const PAD: &str = "<pad>";
pub const UNK: &str = "<unk>";
/// OPT's convention: one token `</s>` serves as both BOS and EOS.
pub const EOS: &str = "</s>";
pub const IMAGE: &str = "<image>";
const SPECIAL: [&str; 4] = [PAD, UNK, EOS, IMAGE];
pub const PAD_ID: u32 = 0;
pub const EOS_ID: u32 = 2;
pub const IMAGE_ID: u32 = 3;

/// CLIP's normalisation, as BLIP-2's image processor uses it.
pub const IMAGE_MEAN: [f32; 3] = [0.481_454_66, 0.457_827_5, 0.408_210_73];
pub const IMAGE_STD: [f32; 3] = [0.268_629_54, 0.261_302_6, 0.275_777_1];

/// The sizes of the demo model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoSpec {
    pub image_size: usize,
    pub patch_size: usize,
    pub vision_hidden: usize,
    pub vision_layers: usize,
    pub vision_heads: usize,
    pub vision_mlp: usize,
    pub queries: usize,
    pub qformer_hidden: usize,
    pub qformer_layers: usize,
    pub qformer_heads: usize,
    pub qformer_mlp: usize,
    pub text_hidden: usize,
    pub text_layers: usize,
    pub text_heads: usize,
    pub text_ffn: usize,
    pub max_positions: usize,
}

impl Default for DemoSpec {
    fn default() -> Self {
        Self {
            image_size: 128,
            patch_size: 16,
            vision_hidden: 128,
            vision_layers: 3,
            vision_heads: 4,
            vision_mlp: 384,
            queries: 8,
            qformer_hidden: 128,
            qformer_layers: 2,
            qformer_heads: 4,
            qformer_mlp: 384,
            text_hidden: 128,
            text_layers: 2,
            text_heads: 4,
            text_ffn: 512,
            max_positions: 128,
        }
    }
}

/// Words users type that the scenes spell otherwise.
const ALIASES: [&str; 1] = ["color"];

/// The vocabulary: special tokens, the scene words, then aliases (ids are positions here).
pub fn vocabulary() -> Vec<&'static str> {
    SPECIAL
        .iter()
        .copied()
        .chain(questions::vocabulary())
        .chain(ALIASES)
        .collect()
}

impl DemoSpec {
    /// `config.json`.
    pub fn config(&self) -> Value {
        let vocab = vocabulary().len();
        json!({
            "architectures": ["Blip2ForConditionalGeneration"],
            "model_type": "blip-2",
            "dtype": "float32",
            "num_query_tokens": self.queries,
            "image_token_index": IMAGE_ID,
            "use_decoder_only_language_model": true,
            "initializer_factor": 1.0,
            "initializer_range": 0.02,
            "image_text_hidden_size": self.qformer_hidden,
            "vision_config": {
                "model_type": "blip_2_vision_model",
                "hidden_size": self.vision_hidden,
                "intermediate_size": self.vision_mlp,
                "num_hidden_layers": self.vision_layers,
                "num_attention_heads": self.vision_heads,
                "image_size": self.image_size,
                "patch_size": self.patch_size,
                "hidden_act": "gelu",
                "layer_norm_eps": 1e-6,
                "attention_dropout": 0.0,
                "qkv_bias": false
            },
            "qformer_config": {
                "model_type": "blip_2_qformer",
                "hidden_size": self.qformer_hidden,
                "num_hidden_layers": self.qformer_layers,
                "num_attention_heads": self.qformer_heads,
                "intermediate_size": self.qformer_mlp,
                "hidden_act": "gelu",
                "layer_norm_eps": 1e-12,
                "cross_attention_frequency": 1,
                "encoder_hidden_size": self.vision_hidden,
                "hidden_dropout_prob": 0.0,
                "attention_probs_dropout_prob": 0.0,
                "max_position_embeddings": 64,
                "vocab_size": vocab,
                "position_embedding_type": "absolute",
                "use_qformer_text_input": false
            },
            "text_config": {
                "model_type": "opt",
                "vocab_size": vocab,
                "hidden_size": self.text_hidden,
                "word_embed_proj_dim": self.text_hidden,
                "num_hidden_layers": self.text_layers,
                "num_attention_heads": self.text_heads,
                "ffn_dim": self.text_ffn,
                "max_position_embeddings": self.max_positions,
                "do_layer_norm_before": true,
                "_remove_final_layer_norm": false,
                "activation_function": "relu",
                "enable_bias": true,
                "layer_norm_elementwise_affine": true,
                "dropout": 0.0,
                "attention_dropout": 0.0,
                "layerdrop": 0.0,
                "tie_word_embeddings": true,
                "bos_token_id": EOS_ID,
                "eos_token_id": EOS_ID,
                "pad_token_id": PAD_ID
            }
        })
    }

    /// Writes every file of the folder except `model.safetensors`.
    pub fn write_configs(&self, dir: &Path) -> Result<(), WeightsError> {
        let io = |path: &Path, e: std::io::Error| WeightsError::Io {
            path: path.to_owned(),
            source: e,
        };
        std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
        let size = json!({"height": self.image_size, "width": self.image_size});
        let files = [
            ("config.json", self.config()),
            (
                "preprocessor_config.json",
                json!({
                    "image_processor_type": "BlipImageProcessor",
                    "processor_class": "Blip2Processor",
                    "do_convert_rgb": true,
                    "do_normalize": true,
                    "do_rescale": true,
                    "do_resize": true,
                    "image_mean": IMAGE_MEAN,
                    "image_std": IMAGE_STD,
                    "resample": 3,
                    "rescale_factor": 1.0 / 255.0,
                    "size": size
                }),
            ),
            (
                "processor_config.json",
                json!({"processor_class": "Blip2Processor", "num_query_tokens": self.queries}),
            ),
            (
                "generation_config.json",
                json!({
                    "bos_token_id": EOS_ID,
                    "eos_token_id": EOS_ID,
                    "pad_token_id": PAD_ID,
                    "max_new_tokens": 32
                }),
            ),
            (
                "special_tokens_map.json",
                json!({"bos_token": EOS, "eos_token": EOS, "pad_token": PAD, "unk_token": UNK}),
            ),
            ("tokenizer_config.json", tokenizer_config()),
            ("tokenizer.json", tokenizer_json()),
        ];
        for (name, value) in files {
            let path = dir.join(name);
            let text = serde_json::to_string_pretty(&value).expect("JSON values serialise");
            std::fs::write(&path, text + "\n").map_err(|e| io(&path, e))?;
        }
        Ok(())
    }
}

fn added_token(id: usize, content: &str) -> Value {
    json!({
        "id": id, "content": content, "single_word": false, "lstrip": false,
        "rstrip": false, "normalized": false, "special": true
    })
}

/// A word-level tokenizer: lower-cased input split as `\w+|[^\w\s]+`, `</s>` in front (OPT's
/// BOS), and a decoder that joins words with spaces and drops the space before punctuation.
pub fn tokenizer_json() -> Value {
    let vocab: serde_json::Map<String, Value> = vocabulary()
        .iter()
        .enumerate()
        .map(|(id, w)| ((*w).to_owned(), json!(id)))
        .collect();
    let added: Vec<Value> = SPECIAL
        .iter()
        .enumerate()
        .map(|(id, t)| added_token(id, t))
        .collect();
    let eos = json!({"SpecialToken": {"id": EOS, "type_id": 0}});
    json!({
        "version": "1.0",
        "truncation": null,
        "padding": null,
        "added_tokens": added,
        "normalizer": {"type": "Lowercase"},
        "pre_tokenizer": {"type": "Whitespace"},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [eos, {"Sequence": {"id": "A", "type_id": 0}}],
            "pair": [eos, {"Sequence": {"id": "A", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}}],
            "special_tokens": {EOS: {"id": EOS, "ids": [EOS_ID], "tokens": [EOS]}}
        },
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": true},
        "model": {"type": "WordLevel", "vocab": vocab, "unk_token": UNK}
    })
}

fn tokenizer_config() -> Value {
    let decoder: serde_json::Map<String, Value> = SPECIAL
        .iter()
        .enumerate()
        .map(|(id, t)| {
            let mut token = added_token(id, t);
            let object = token.as_object_mut().expect("an object");
            object.remove("id");
            (id.to_string(), token)
        })
        .collect();
    json!({
        "tokenizer_class": "PreTrainedTokenizerFast",
        "processor_class": "Blip2Processor",
        "added_tokens_decoder": decoder,
        "bos_token": EOS,
        "eos_token": EOS,
        "pad_token": PAD,
        "unk_token": UNK,
        "clean_up_tokenization_spaces": false,
        "model_max_length": 128,
        "padding_side": "right"
    })
}

/// A standard normal sample (Box–Muller).
pub(crate) fn normal(rng: &mut impl Rng) -> f32 {
    let u1: f32 = rng.random_range(f32::EPSILON..1.0);
    let u2: f32 = rng.random_range(0.0..1.0);
    (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos()
}

/// Builds initial tensors in checkpoint names.
struct Init<'a, R: Rng> {
    rng: &'a mut R,
    out: Vec<(String, Vec<usize>, Vec<f32>)>,
}

impl<R: Rng> Init<'_, R> {
    fn normal(&mut self, name: String, shape: Vec<usize>) {
        let n = shape.iter().product();
        let values = (0..n).map(|_| 0.02 * normal(self.rng)).collect();
        self.out.push((name, shape, values));
    }

    fn fill(&mut self, name: String, shape: Vec<usize>, value: f32) {
        let n = shape.iter().product();
        self.out.push((name, shape, vec![value; n]));
    }

    fn linear(&mut self, prefix: &str, d_in: usize, d_out: usize, bias: bool) {
        self.normal(format!("{prefix}.weight"), vec![d_out, d_in]);
        if bias {
            self.fill(format!("{prefix}.bias"), vec![d_out], 0.0);
        }
    }

    fn norm(&mut self, prefix: &str, d: usize) {
        self.fill(format!("{prefix}.weight"), vec![d], 1.0);
        self.fill(format!("{prefix}.bias"), vec![d], 0.0);
    }
}

/// Scale of the initial position embeddings: a patch's content enters at about 0.5 (768 pixels
/// through normal(0, 0.02) weights), and positions must not start 25 times weaker than that
/// (with normal(0, 0.02) position embeddings the queries took hundreds of steps to learn where
/// anything is).
const POSITION_SCALE: f32 = 0.5;

/// The vision tower's initial position embeddings, `[1, 1 + grid², d]` flattened: zero for the
/// class token, then for each patch (row-major) 2-D sine–cosine features of its row and column
/// (as MAE initialises ViTs), scaled by [`POSITION_SCALE`].
fn grid_positions(grid: usize, d: usize) -> Vec<f32> {
    let mut out = vec![0.0f32; d];
    let quarter = (d / 4).max(1);
    for row in 0..grid {
        for col in 0..grid {
            let mut v = vec![0.0f32; d];
            for (axis, pos) in [(0, row), (1, col)] {
                for i in 0..quarter {
                    let frequency = 1.0 / 100f32.powf(i as f32 / quarter as f32);
                    let angle = pos as f32 * frequency;
                    let base = axis * 2 * quarter + i;
                    if base + quarter < d {
                        v[base] = POSITION_SCALE * angle.sin();
                        v[base + quarter] = POSITION_SCALE * angle.cos();
                    }
                }
            }
            out.extend(v);
        }
    }
    out
}

/// Freshly initialised weights in the checkpoint's names and shapes, as transformers
/// initialises BLIP-2 (normal(0, 0.02) matrices and embeddings, zero biases, unit norms),
/// except the vision tower's position embeddings ([`grid_positions`]).
pub fn initial_weights(s: &DemoSpec, rng: &mut impl Rng) -> Vec<(String, Vec<usize>, Vec<f32>)> {
    let mut w = Init {
        rng,
        out: Vec::new(),
    };
    // Vision tower.
    let (dv, p) = (s.vision_hidden, s.patch_size);
    let patches = (s.image_size / p).pow(2);
    let e = "vision_model.embeddings";
    w.normal(format!("{e}.patch_embedding.weight"), vec![dv, 3, p, p]);
    w.fill(format!("{e}.patch_embedding.bias"), vec![dv], 0.0);
    w.normal(format!("{e}.class_embedding"), vec![1, 1, dv]);
    w.out.push((
        format!("{e}.position_embedding"),
        vec![1, patches + 1, dv],
        grid_positions(s.image_size / p, dv),
    ));
    for i in 0..s.vision_layers {
        let l = format!("vision_model.encoder.layers.{i}");
        w.linear(&format!("{l}.self_attn.qkv"), dv, 3 * dv, false);
        w.linear(&format!("{l}.self_attn.projection"), dv, dv, true);
        w.norm(&format!("{l}.layer_norm1"), dv);
        w.norm(&format!("{l}.layer_norm2"), dv);
        w.linear(&format!("{l}.mlp.fc1"), dv, s.vision_mlp, true);
        w.linear(&format!("{l}.mlp.fc2"), s.vision_mlp, dv, true);
    }
    w.norm("vision_model.post_layernorm", dv);
    // Q-Former: every layer reads the image (cross_attention_frequency 1).
    let dq = s.qformer_hidden;
    w.normal("query_tokens".into(), vec![1, s.queries, dq]);
    w.norm("qformer.layernorm", dq);
    for i in 0..s.qformer_layers {
        let l = format!("qformer.encoder.layer.{i}");
        for (block, d_kv) in [("attention", dq), ("crossattention", dv)] {
            let a = format!("{l}.{block}");
            w.linear(&format!("{a}.attention.query"), dq, dq, true);
            w.linear(&format!("{a}.attention.key"), d_kv, dq, true);
            w.linear(&format!("{a}.attention.value"), d_kv, dq, true);
            w.linear(&format!("{a}.output.dense"), dq, dq, true);
            w.norm(&format!("{a}.output.LayerNorm"), dq);
        }
        w.linear(
            &format!("{l}.intermediate_query.dense"),
            dq,
            s.qformer_mlp,
            true,
        );
        w.linear(&format!("{l}.output_query.dense"), s.qformer_mlp, dq, true);
        w.norm(&format!("{l}.output_query.LayerNorm"), dq);
    }
    let dt = s.text_hidden;
    w.linear("language_projection", dq, dt, true);
    // OPT decoder (head tied to the embeddings).
    let m = "language_model.model.decoder";
    w.normal(
        format!("{m}.embed_tokens.weight"),
        vec![vocabulary().len(), dt],
    );
    w.normal(
        format!("{m}.embed_positions.weight"),
        vec![s.max_positions + 2, dt],
    );
    for i in 0..s.text_layers {
        let l = format!("{m}.layers.{i}");
        for proj in ["q_proj", "k_proj", "v_proj", "out_proj"] {
            w.linear(&format!("{l}.self_attn.{proj}"), dt, dt, true);
        }
        w.norm(&format!("{l}.self_attn_layer_norm"), dt);
        w.norm(&format!("{l}.final_layer_norm"), dt);
        w.linear(&format!("{l}.fc1"), dt, s.text_ffn, true);
        w.linear(&format!("{l}.fc2"), s.text_ffn, dt, true);
    }
    w.norm(&format!("{m}.final_layer_norm"), dt);
    w.out
}

/// Writes [`initial_weights`] as `model.safetensors` in `dir` (with the configs).
pub fn write_initial(spec: &DemoSpec, dir: &Path, seed: u64) -> Result<(), WeightsError> {
    use rand::SeedableRng;
    spec.write_configs(dir)?;
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut writer = WeightWriter::default();
    for (name, shape, values) in initial_weights(spec, &mut rng) {
        writer.put_values(&name, shape, values);
    }
    writer.write(&dir.join("model.safetensors"))
}
