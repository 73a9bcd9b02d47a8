//! The JSON files of a synthetic checkpoint in the Hub (transformers 4.x) layout: config.json,
//! the image processor's and processor's configs, and generation_config.json. Values are the
//! real checkpoints' (with the options' overrides); where a value is recalled rather than read
//! from the Hub file, a comment says so.

use serde_json::{Value, json};

use super::arch::{Architecture, TextKind, Tower};
use super::tokenizer::Vocabulary;
use super::{DiskDtype, Preset};

const CLIP_MEAN: [f64; 3] = [0.481_454_66, 0.457_827_5, 0.408_210_73];
const CLIP_STD: [f64; 3] = [0.268_629_54, 0.261_302_58, 0.275_777_11];
const RESCALE: f64 = 1.0 / 255.0;

/// Every JSON file of the folder with its name.
pub(crate) fn json_files(
    arch: &Architecture,
    vocab: &Vocabulary,
    dtype: DiskDtype,
) -> Vec<(&'static str, Value)> {
    let preset = arch.preset;
    vec![
        ("config.json", config(arch, vocab, dtype)),
        ("preprocessor_config.json", preprocessor_config(arch)),
        ("generation_config.json", generation_config(preset, vocab)),
        ("tokenizer_config.json", vocab.tokenizer_config(preset)),
        ("tokenizer.json", vocab.tokenizer_json(preset)),
        ("processor_config.json", processor_config(arch)),
    ]
}

fn text_config(arch: &Architecture, vocab: &Vocabulary, dtype: DiskDtype) -> Value {
    let t = &arch.text;
    let model_type = match t.kind {
        TextKind::Llama => "llama",
        TextKind::Qwen2 => "qwen2",
    };
    let mut c = json!({
        "model_type": model_type,
        "hidden_size": t.hidden,
        "intermediate_size": t.intermediate,
        "num_hidden_layers": t.layers,
        "num_attention_heads": t.heads,
        "num_key_value_heads": t.kv_heads,
        "hidden_act": "silu",
        "max_position_embeddings": t.max_positions,
        "rms_norm_eps": t.rms_norm_eps,
        "rope_theta": t.rope_theta,
        "rope_scaling": null,
        "tie_word_embeddings": t.tied,
        "vocab_size": vocab.size,
        "torch_dtype": dtype.torch_name(),
    });
    if t.kind == TextKind::Llama {
        c["head_dim"] = json!(t.head_dim());
        c["attention_bias"] = json!(false);
        c["mlp_bias"] = json!(false);
    }
    c
}

fn vision_config(arch: &Architecture) -> Value {
    let v = &arch.vision;
    let (model_type, act, eps) = match (arch.preset, v.tower) {
        (_, Tower::Clip) => ("clip_vision_model", "quick_gelu", 1e-5),
        (Preset::Smolvlm256m, Tower::Siglip) => ("idefics3_vision", "gelu_pytorch_tanh", 1e-6),
        (_, Tower::Siglip) => ("siglip_vision_model", "gelu_pytorch_tanh", 1e-6),
    };
    let mut c = json!({
        "model_type": model_type,
        "hidden_size": v.hidden,
        "intermediate_size": v.intermediate,
        "num_hidden_layers": v.layers,
        "num_attention_heads": v.heads,
        "num_channels": 3,
        "image_size": v.image_size,
        "patch_size": v.patch_size,
        "hidden_act": act,
        "layer_norm_eps": eps,
    });
    match arch.preset {
        Preset::Llava15_7b => c["projection_dim"] = json!(768),
        Preset::Qwen2_0_5b => c["vision_use_head"] = json!(false),
        Preset::Smolvlm256m => {}
    }
    c
}

/// `config.json`.
fn config(arch: &Architecture, vocab: &Vocabulary, dtype: DiskDtype) -> Value {
    let text = text_config(arch, vocab, dtype);
    let vision = vision_config(arch);
    let common = json!({
        "torch_dtype": dtype.torch_name(),
        "transformers_version": "4.57.6",
        "iris_synthetic": {"preset": arch.preset.to_string(), "weights": "random"},
    });
    let mut c = match arch.preset {
        Preset::Llava15_7b => json!({
            "architectures": ["LlavaForConditionalGeneration"],
            "model_type": "llava",
            "ignore_index": -100,
            "image_token_index": vocab.id("<image>"),
            "pad_token_id": vocab.id("<pad>"),
            "projector_hidden_act": "gelu",
            "vision_feature_layer": -2,
            "vision_feature_select_strategy": "default",
            "tie_word_embeddings": false,
            "vocab_size": vocab.size,
        }),
        Preset::Qwen2_0_5b => json!({
            "architectures": ["LlavaOnevisionForConditionalGeneration"],
            "model_type": "llava_onevision",
            "image_token_index": vocab.id("<image>"),
            "video_token_index": vocab.id("<video>"),
            "projector_hidden_act": "gelu",
            "multimodal_projector_bias": true,
            "vision_feature_layer": -1,
            "vision_feature_select_strategy": "full",
            "vision_aspect_ratio": "anyres_max_9",
            "image_grid_pinpoints": pinpoints(arch.vision.image_size),
            "tie_word_embeddings": true,
        }),
        Preset::Smolvlm256m => json!({
            "architectures": ["Idefics3ForConditionalGeneration"],
            "model_type": "idefics3",
            "image_token_id": vocab.id("<image>"),
            "pad_token_id": vocab.id("<|im_end|>"),
            "scale_factor": arch.preset.idefics3_scale_factor(),
            "tie_word_embeddings": false,
            "vocab_size": vocab.size,
        }),
    };
    c["text_config"] = text;
    c["vision_config"] = vision;
    for (key, value) in common.as_object().expect("an object") {
        c[key] = value.clone();
    }
    c
}

/// anyres_max_9's candidate resolutions: every `(384·i, 384·j)` for i, j in 1..=6.
fn pinpoints(tile: usize) -> Vec<[usize; 2]> {
    (1..=6)
        .flat_map(|i| (1..=6).map(move |j| [tile * i, tile * j]))
        .collect()
}

/// `preprocessor_config.json`.
fn preprocessor_config(arch: &Architecture) -> Value {
    let size = arch.vision.image_size;
    match arch.preset {
        Preset::Llava15_7b => json!({
            "image_processor_type": "CLIPImageProcessor",
            "processor_class": "LlavaProcessor",
            "crop_size": {"height": size, "width": size},
            "size": {"shortest_edge": size},
            "do_center_crop": true, "do_convert_rgb": true, "do_normalize": true,
            "do_rescale": true, "do_resize": true,
            "image_mean": CLIP_MEAN, "image_std": CLIP_STD,
            "resample": 3, "rescale_factor": RESCALE,
        }),
        Preset::Qwen2_0_5b => json!({
            "image_processor_type": "LlavaOnevisionImageProcessor",
            "processor_class": "LlavaOnevisionProcessor",
            "size": {"height": size, "width": size},
            "image_grid_pinpoints": pinpoints(size),
            "do_convert_rgb": true, "do_normalize": true, "do_pad": true,
            "do_rescale": true, "do_resize": true,
            "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5],
            "resample": 3, "rescale_factor": RESCALE,
        }),
        // SmolVLM-256M: images resized to a longest edge of 4 × 512 px, cut in 512 px tiles.
        Preset::Smolvlm256m => json!({
            "image_processor_type": "Idefics3ImageProcessor",
            "processor_class": "Idefics3Processor",
            "size": {"longest_edge": 4 * size},
            "max_image_size": {"longest_edge": size},
            "do_image_splitting": true,
            "do_convert_rgb": true, "do_normalize": true, "do_pad": true,
            "do_rescale": true, "do_resize": true,
            "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5],
            "resample": 1, "rescale_factor": RESCALE,
        }),
    }
}

/// `processor_config.json` (the visual token counts the processor expands `<image>` to).
fn processor_config(arch: &Architecture) -> Value {
    let v = &arch.vision;
    match arch.preset {
        Preset::Llava15_7b => json!({
            "processor_class": "LlavaProcessor",
            "image_token": "<image>",
            "num_additional_image_tokens": 1,
            "patch_size": v.patch_size,
            "vision_feature_select_strategy": "default",
        }),
        Preset::Qwen2_0_5b => json!({
            "processor_class": "LlavaOnevisionProcessor",
            "image_token": "<image>",
            "video_token": "<video>",
            "num_image_tokens": v.patches(),
            "vision_aspect_ratio": "anyres_max_9",
            "vision_feature_select_strategy": "full",
        }),
        Preset::Smolvlm256m => {
            let s = arch.preset.idefics3_scale_factor();
            json!({"processor_class": "Idefics3Processor", "image_seq_len": v.patches() / (s * s)})
        }
    }
}

/// `generation_config.json` (SmolVLM's ids are recalled from the Hub file, not re-checked).
fn generation_config(preset: Preset, vocab: &Vocabulary) -> Value {
    let (bos, eos, pad) = match preset {
        Preset::Llava15_7b => ("<s>", "</s>", "<pad>"),
        Preset::Qwen2_0_5b => ("<|endoftext|>", "<|im_end|>", "<|endoftext|>"),
        Preset::Smolvlm256m => ("<|im_start|>", "<end_of_utterance>", "<|im_end|>"),
    };
    json!({
        "bos_token_id": vocab.id(bos),
        "eos_token_id": vocab.id(eos),
        "pad_token_id": vocab.id(pad),
        "transformers_version": "4.57.6",
    })
}
