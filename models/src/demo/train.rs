//! `iris train-demo`: trains the demo BLIP-2 from scratch with burn's autodiff, in the spirit
//! of BLIP-2's two stages. Stage 1 aligns the Q-Former's queries to the image: a throw-away
//! head on the pooled query outputs predicts what the scene holds (each colour–shape pair,
//! the number of shapes, the printed word). Stage 2 trains generation: the projected queries
//! go in front of the prompt and the OPT decoder learns the answers (the stage-1 objective
//! stays on with a smaller weight). The modules trained are the engine's own (loaded from a
//! freshly initialised checkpoint onto an autodiff device), so what is trained is exactly what
//! `iris generate` and the app run; they are written back in the HF layout.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, sync_channel};
use std::time::Instant;

use burn::module::Param;
use burn::nn::Linear;
use burn::optim::{AdamWConfig, GradientsParams, grad_clipping::GradientClippingConfig};
use burn::prelude::*;
use burn::tensor::{DType, TensorData, activation};
use rand::SeedableRng;
use rand::rngs::StdRng;

use super::checkpoint::{DemoSpec, PAD_ID, normal, write_initial};
use super::data::{
    ATTRIBUTES, COUNTS, Example, MAX_OBJECTS, PATCH_COLOURS, PATCH_KINDS, PATCH_MASK,
    PATCH_TARGETS, PATCH_WORDS, PRESENCE, SLOT_KINDS, SLOT_NONE, SLOT_OUTPUTS, Vocab, WORDS,
};
use super::scenes::{COLOURS, PRINTED_WORDS, Split};
use crate::config::{Blip2TextConfig, ModelConfig};
use crate::family::Blip2;
use crate::nn::read_f32;
use crate::text::{CausalLm, OptDecoder};
use crate::weights::{WeightFiles, WeightLoader, WeightWriter, WeightsError};

/// Errors of a training run.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error(transparent)]
    Weights(#[from] WeightsError),
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error("{path}: cannot write: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// What a run does.
#[derive(Debug, Clone)]
pub struct TrainOptions {
    pub spec: DemoSpec,
    pub seed: u64,
    pub batch: usize,
    pub stage1_steps: usize,
    pub stage2_steps: usize,
    pub learning_rate: f64,
}

impl Default for TrainOptions {
    fn default() -> Self {
        Self {
            spec: DemoSpec::default(),
            seed: 7,
            batch: 48,
            stage1_steps: 700,
            stage2_steps: 1300,
            learning_rate: 1.5e-3,
        }
    }
}

/// One optimisation step done.
#[derive(Debug, Clone, Copy)]
pub struct StepReport {
    pub stage: u8,
    /// 1-based, across both stages.
    pub step: usize,
    pub total: usize,
    pub loss: f32,
    pub seconds: f32,
}

#[derive(Module, Debug)]
struct DemoModel {
    vision: Blip2,
    lm: OptDecoder,
    /// Stage 1's attribute head (not part of the checkpoint).
    head: Linear,
    /// Stage 1's per-patch head on the vision tower's output (not part of the checkpoint).
    patch_head: Linear,
    /// Stage 1's per-query head: what object a query stands for (not part of the checkpoint).
    slot_head: Linear,
}

/// Trains into `out` (a BLIP-2 checkpoint folder) on `device`, reporting every step.
/// `out/training.csv` keeps the loss curve.
pub fn train(
    out: &Path,
    options: &TrainOptions,
    device: &Device,
    on_step: &mut dyn FnMut(&StepReport),
) -> Result<(), TrainError> {
    let device = device.clone().autodiff();
    let spec = &options.spec;
    write_initial(spec, out, options.seed)?;
    let mut model = load(out, spec, options.seed, &device)?;
    let mut optimizer = AdamWConfig::new()
        .with_weight_decay(0.01)
        .with_grad_clipping(Some(GradientClippingConfig::Norm(1.0)))
        .init();
    let total = options.stage1_steps + options.stage2_steps;
    let batches = batch_producer(options, total);
    let mut log = String::from("step,stage,loss,seconds\n");
    let start = Instant::now();
    let mut losses = Vec::with_capacity(total);
    for step in 1..=total {
        let stage = if step <= options.stage1_steps { 1 } else { 2 };
        let batch = batches
            .recv()
            .expect("the producer makes one batch per step");
        let loss = match stage {
            1 => attribute_loss(&model, &batch, spec, &device),
            _ => answer_loss(&model, &batch, spec, &device),
        };
        let value: f32 = loss.clone().inner().into_scalar::<f32>();
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        let lr = learning_rate(options, step);
        model = optimizer.step(lr, model, grads);
        let report = StepReport {
            stage,
            step,
            total,
            loss: value,
            seconds: start.elapsed().as_secs_f32(),
        };
        log.push_str(&format!("{step},{stage},{value},{:.1}\n", report.seconds));
        losses.push(value);
        on_step(&report);
        if step.is_multiple_of(250) || step == total {
            save(&model, spec, out)?;
            let path = out.join("training.csv");
            std::fs::write(&path, &log).map_err(|source| TrainError::Io { path, source })?;
            let path = out.join("training.svg");
            std::fs::write(&path, loss_curve_svg(&losses, options.stage1_steps))
                .map_err(|source| TrainError::Io { path, source })?;
        }
    }
    Ok(())
}

/// The loss curve as an SVG line chart (a 25-step moving average over the raw losses, the
/// stage boundary marked).
fn loss_curve_svg(losses: &[f32], stage1_steps: usize) -> String {
    let (w, h, pad) = (640.0f32, 320.0f32, 40.0f32);
    let max = losses.iter().copied().fold(f32::MIN_POSITIVE, f32::max);
    let n = losses.len().max(2) as f32;
    let x = |i: usize| pad + (w - 2.0 * pad) * i as f32 / (n - 1.0);
    let y = |v: f32| h - pad - (h - 2.0 * pad) * v / max;
    let line = |values: &mut dyn Iterator<Item = (usize, f32)>| {
        values
            .map(|(i, v)| format!("{:.1},{:.1}", x(i), y(v)))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let raw = line(&mut losses.iter().copied().enumerate());
    let smooth = line(&mut (0..losses.len()).map(|i| {
        let window = &losses[i.saturating_sub(24)..=i];
        (i, window.iter().sum::<f32>() / window.len() as f32)
    }));
    let boundary = x(stage1_steps.min(losses.len()));
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<line x1="{pad}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#333"/>
<line x1="{pad}" y1="{pad}" x2="{pad}" y2="{bottom}" stroke="#333"/>
<line x1="{boundary:.1}" y1="{pad}" x2="{boundary:.1}" y2="{bottom}" stroke="#999" stroke-dasharray="4 4"/>
<text x="{boundary:.1}" y="{label}" text-anchor="middle">stage 2</text>
<polyline points="{raw}" fill="none" stroke="#9ab" stroke-width="1"/>
<polyline points="{smooth}" fill="none" stroke="#c33" stroke-width="2"/>
<text x="{pad}" y="{label}">loss (max {max:.2})</text>
<text x="{right}" y="{steps_y}" text-anchor="end">{steps} steps</text>
</svg>
"##,
        bottom = h - pad,
        right = w - pad,
        label = pad - 8.0,
        steps_y = h - pad + 16.0,
        steps = losses.len(),
    )
}

/// Renders the batches on a thread of their own, two steps ahead of the optimiser (one
/// producer, so the batches follow from the seed alone).
fn batch_producer(options: &TrainOptions, total: usize) -> Receiver<Vec<Example>> {
    let (sender, receiver) = sync_channel(2);
    let (seed, size, batch) = (options.seed, options.spec.image_size as u32, options.batch);
    let grid = options.spec.image_size / options.spec.patch_size;
    std::thread::spawn(move || {
        let vocab = Vocab::default();
        let mut rng = StdRng::seed_from_u64(seed);
        for _ in 0..total {
            let examples = (0..batch)
                .map(|_| Example::generate(&mut rng, &vocab, size, grid, Split::Train))
                .collect();
            if sender.send(examples).is_err() {
                return;
            }
        }
    });
    receiver
}

/// Linear warm-up over 100 steps, then cosine decay to a tenth, restarting at stage 2.
fn learning_rate(o: &TrainOptions, step: usize) -> f64 {
    let (i, n) = if step <= o.stage1_steps {
        (step, o.stage1_steps)
    } else {
        (step - o.stage1_steps, o.stage2_steps)
    };
    let warm = 100.min(n / 4).max(1);
    if i <= warm {
        return o.learning_rate * i as f64 / warm as f64;
    }
    let t = (i - warm) as f64 / (n - warm).max(1) as f64;
    o.learning_rate * (0.1 + 0.9 * 0.5 * (1.0 + (std::f64::consts::PI * t).cos()))
}

/// A throw-away head, initialised from the run's seed (normal(0, 0.02), zero bias).
fn head(d_in: usize, d_out: usize, rng: &mut StdRng, device: &Device) -> Linear {
    let weight: Vec<f32> = (0..d_in * d_out).map(|_| 0.02 * normal(rng)).collect();
    Linear {
        weight: Param::from_tensor(Tensor::from_data(
            TensorData::new(weight, [d_in, d_out]),
            device,
        )),
        bias: Some(Param::from_tensor(Tensor::zeros([d_out], device))),
    }
}

fn load(dir: &Path, spec: &DemoSpec, seed: u64, device: &Device) -> Result<DemoModel, TrainError> {
    let mut rng = StdRng::seed_from_u64(seed ^ 0x4845_4144);
    let ModelConfig::Blip2(c) = ModelConfig::from_dir(dir)? else {
        unreachable!("the demo config is BLIP-2");
    };
    let Blip2TextConfig::Opt(opt) = &c.text_config else {
        unreachable!("the demo decoder is OPT");
    };
    let files = WeightFiles::open(dir)?;
    let mut w = WeightLoader::new(&files, device, DType::F32);
    let vision = Blip2::load(
        &mut w,
        &c.vision_config,
        &c.qformer_config,
        c.num_query_tokens,
        false,
        opt.hidden_size,
    );
    let lm = OptDecoder::load(&mut w, "language_model", opt);
    w.finish()?;
    Ok(DemoModel {
        vision,
        lm,
        head: head(spec.qformer_hidden, ATTRIBUTES, &mut rng, device),
        patch_head: head(spec.vision_hidden, PATCH_TARGETS, &mut rng, device),
        slot_head: head(spec.qformer_hidden, SLOT_OUTPUTS, &mut rng, device),
    })
}

fn save(model: &DemoModel, spec: &DemoSpec, out: &Path) -> Result<(), TrainError> {
    let mut writer = WeightWriter::default();
    model.vision.save(&mut writer);
    model.lm.save(&mut writer, "language_model");
    let tmp = out.join("model.safetensors.partial");
    writer.write(&tmp)?;
    let path = out.join("model.safetensors");
    std::fs::rename(&tmp, &path).map_err(|source| TrainError::Io { path, source })?;
    spec.write_configs(out)?;
    Ok(())
}

fn pixels(batch: &[Example], spec: &DemoSpec, device: &Device) -> Tensor<4> {
    let s = spec.image_size;
    let values: Vec<f32> = batch
        .iter()
        .flat_map(|e| e.pixels.iter().copied())
        .collect();
    Tensor::from_data(TensorData::new(values, [batch.len(), 3, s, s]), device)
}

/// Mean cross-entropy of `logits` (`[rows, classes]`) against one class per row.
fn cross_entropy(logits: Tensor<2>, classes: &[usize]) -> Tensor<1> {
    let [rows, n] = logits.dims();
    let device = logits.device();
    let mut onehot = vec![0.0f32; rows * n];
    for (i, &c) in classes.iter().enumerate() {
        onehot[i * n + c] = 1.0;
    }
    let y = Tensor::<2>::from_data(TensorData::new(onehot, [rows, n]), &device);
    -(activation::log_softmax(logits, 1) * y).sum() / rows as f64
}

/// Stage 1's objectives. On the pooled query outputs: binary cross-entropy on the presence
/// bits, cross-entropy on the count and the word. On each patch of the vision tower's output:
/// cross-entropy on what covers it and its colour (dense supervision: 64 labels per image
/// teach the tower shapes and colours far faster than a few per scene).
fn alignment_loss(
    model: &DemoModel,
    features: Tensor<3>,
    (queries, cross): (Tensor<3>, Vec<Tensor<4>>),
    batch: &[Example],
) -> Tensor<1> {
    let slots = slot_loss(model, queries.clone(), &cross, batch);
    let n = batch.len();
    let device = queries.device();
    let pooled: Tensor<2> = queries.max_dim(1).squeeze_dim(1);
    let logits = model.head.forward(pooled);
    let presence_logits = logits.clone().narrow(1, 0, PRESENCE);
    let targets: Vec<f32> = batch.iter().flat_map(|e| e.presence).collect();
    let y = Tensor::<2>::from_data(TensorData::new(targets, [n, PRESENCE]), &device);
    let bce = binary_cross_entropy(presence_logits, y);
    let counts: Vec<usize> = batch.iter().map(|e| e.count).collect();
    let words: Vec<usize> = batch.iter().map(|e| e.word).collect();
    let count = cross_entropy(logits.clone().narrow(1, PRESENCE, COUNTS), &counts);
    let word = cross_entropy(logits.narrow(1, PRESENCE + COUNTS, WORDS), &words);
    let [_, tokens, d] = features.dims();
    let patches = features
        .narrow(1, 1, tokens - 1)
        .reshape([n * (tokens - 1), d]);
    let patch_logits = model.patch_head.forward(patches);
    let kinds: Vec<usize> = batch
        .iter()
        .flat_map(|e| e.patch_kind.iter().copied())
        .collect();
    let colours: Vec<usize> = batch
        .iter()
        .flat_map(|e| e.patch_colour.iter().copied())
        .collect();
    let patch_kind = cross_entropy(patch_logits.clone().narrow(1, 0, PATCH_KINDS), &kinds);
    let patch_colour = cross_entropy(
        patch_logits.clone().narrow(1, PATCH_KINDS, PATCH_COLOURS),
        &colours,
    );
    let patch_word = patch_word_loss(
        patch_logits
            .clone()
            .narrow(1, PATCH_KINDS + PATCH_COLOURS, PATCH_WORDS),
        batch,
    );
    let patch_place = patch_place_loss(
        patch_logits
            .clone()
            .narrow(1, PATCH_KINDS + PATCH_COLOURS + PATCH_WORDS, 2),
        n,
    );
    let patch_ink = patch_ink_loss(
        patch_logits.narrow(1, PATCH_TARGETS - PATCH_MASK, PATCH_MASK),
        batch,
    );
    if tracing::enabled!(tracing::Level::DEBUG) {
        let value = |t: &Tensor<1>| t.clone().inner().into_scalar::<f32>();
        tracing::debug!(
            presence = value(&bce),
            count = value(&count),
            word = value(&word),
            patch_kind = value(&patch_kind),
            patch_colour = value(&patch_colour),
            patch_word = value(&patch_word),
            patch_place = value(&patch_place),
            patch_ink = value(&patch_ink),
            "alignment losses"
        );
    }
    bce * PRESENCE as f64 / 4.0
        + count
        + word * 2.0
        + patch_kind
        + patch_colour
        + patch_word
        + patch_place
        + patch_ink
        + slots
}

/// Cross-entropy of which word covers a patch, over the patches the printed word covers (zero
/// when the batch has none).
fn patch_word_loss(logits: Tensor<2>, batch: &[Example]) -> Tensor<1> {
    let [rows, n] = logits.dims();
    let mut onehot = vec![0.0f32; rows * n];
    let mut count = 0usize;
    let per_image = rows / batch.len();
    for (i, e) in batch.iter().enumerate() {
        let Some(word) = e.objects.iter().find_map(|o| o.word) else {
            continue;
        };
        for (p, &kind) in e.patch_kind.iter().enumerate() {
            if kind == PATCH_KINDS - 1 {
                onehot[(i * per_image + p) * n + word] = 1.0;
                count += 1;
            }
        }
    }
    let y = Tensor::<2>::from_data(TensorData::new(onehot, [rows, n]), &logits.device());
    -(activation::log_softmax(logits, 1) * y).sum() / count.max(1) as f64
}

/// Mean binary cross-entropy of each patch's ink cells ([`PATCH_MASK`] per patch), times 4.
fn patch_ink_loss(logits: Tensor<2>, batch: &[Example]) -> Tensor<1> {
    let rows = logits.dims()[0];
    let masks: Vec<f32> = batch
        .iter()
        .flat_map(|e| e.patch_mask.iter().copied())
        .collect();
    let y = Tensor::<2>::from_data(TensorData::new(masks, [rows, PATCH_MASK]), &logits.device());
    binary_cross_entropy(logits, y) * 4.0
}

/// Mean binary cross-entropy of `logits` against 0/1 targets `y` of the same shape.
fn binary_cross_entropy(logits: Tensor<2>, y: Tensor<2>) -> Tensor<1> {
    -(y.clone() * activation::log_sigmoid(logits.clone())
        + (y.ones_like() - y) * activation::log_sigmoid(-logits))
    .mean()
}

/// L1 error of each patch's predicted centre (0..1 units, through a sigmoid), times
/// [`CENTRE_WEIGHT`].
fn patch_place_loss(logits: Tensor<2>, images: usize) -> Tensor<1> {
    let rows = logits.dims()[0];
    let per_image = rows / images;
    let grid = (per_image as f64).sqrt().round() as usize;
    let targets: Vec<f32> = (0..rows)
        .flat_map(|r| {
            let p = r % per_image;
            let (row, col) = (p / grid, p % grid);
            [
                (col as f32 + 0.5) / grid as f32,
                (row as f32 + 0.5) / grid as f32,
            ]
        })
        .collect();
    let y = Tensor::<2>::from_data(TensorData::new(targets, [rows, 2]), &logits.device());
    (activation::sigmoid(logits) - y).abs().mean() * 2.0 * CENTRE_WEIGHT
}

/// Stage 1: the alignment objectives alone.
fn attribute_loss(
    model: &DemoModel,
    batch: &[Example],
    spec: &DemoSpec,
    device: &Device,
) -> Tensor<1> {
    let (features, queries) = encode_images(model, batch, spec, device);
    alignment_loss(model, features, queries, batch)
}

/// The vision tower's output, and the Q-Former's query outputs for a batch's images with
/// their cross-attention maps.
fn encode_images(
    model: &DemoModel,
    batch: &[Example],
    spec: &DemoSpec,
    device: &Device,
) -> (Tensor<3>, (Tensor<3>, Vec<Tensor<4>>)) {
    let features = model.vision.vision_features(pixels(batch, spec, device));
    let queries = model.vision.queries_with_cross(features.clone());
    (features, queries)
}

/// How much an unmatched query's "no object" counts against a matched query's kind (as in
/// DETR, so that the many empty queries do not drown the few objects).
const NONE_WEIGHT: f32 = 0.25;
/// Weight of the L1 error of a slot's predicted centre (0..1 units).
const CENTRE_WEIGHT: f64 = 5.0;

/// The slot objective (see [`SLOT_KINDS`]). Each scene's objects are matched one-to-one to
/// queries by least cost (how unlikely the query finds the object's kind, colour or word, how
/// far its predicted centre is, how little of its attention falls on the object's patches),
/// as DETR matches boxes; then each matched query is trained to name its object and to look at
/// it (cross-attention, mean over layers and heads, summed over the object's patches), and the
/// others to say "none".
fn slot_loss(
    model: &DemoModel,
    queries: Tensor<3>,
    cross: &[Tensor<4>],
    batch: &[Example],
) -> Tensor<1> {
    let [n, q, _] = queries.dims();
    let device = queries.device();
    let logits = model.slot_head.forward(queries);
    let group =
        |start: usize, len: usize| activation::log_softmax(logits.clone().narrow(2, start, len), 2);
    let (c0, s0) = (SLOT_KINDS, SLOT_KINDS + COLOURS.len());
    let (xy0, w0) = (s0 + 2, s0 + 4);
    let kind = group(0, SLOT_KINDS);
    let colour = group(c0, COLOURS.len());
    let size = group(s0, 2);
    let word = group(w0, PRINTED_WORDS.len());
    let centre = activation::sigmoid(logits.narrow(2, xy0, 2));
    // Mean attention over layers and heads, class token left out: [n, q, patches].
    let layers = cross.len() as f64;
    let attention = cross
        .iter()
        .map(|p| p.clone().mean_dim(1).squeeze_dim::<3>(1))
        .reduce(|a, b| a + b)
        .expect("the Q-Former cross-attends")
        / layers;
    let patches = attention.dims()[2] - 1;
    let attention = attention.narrow(2, 1, patches);
    let mut masks = vec![0.0f32; n * patches * MAX_OBJECTS];
    for (i, e) in batch.iter().enumerate() {
        for (p, &o) in e.patch_object.iter().enumerate() {
            if o > 0 {
                masks[(i * patches + p) * MAX_OBJECTS + o - 1] = 1.0;
            }
        }
    }
    let masks = Tensor::<3>::from_data(TensorData::new(masks, [n, patches, MAX_OBJECTS]), &device);
    // [n, q, objects]: each query's attention mass on each object.
    let mass = attention.matmul(masks).add_scalar(1e-6).log();

    let host = |t: &Tensor<3>| read_f32(t.clone().inner()).expect("read back");
    let (h_kind, h_colour, h_word) = (host(&kind), host(&colour), host(&word));
    let (h_centre, h_mass) = (host(&centre), host(&mass));
    let mut t_kind = vec![0.0f32; n * q * SLOT_KINDS];
    let mut t_colour = vec![0.0f32; n * q * COLOURS.len()];
    let mut t_size = vec![0.0f32; n * q * 2];
    let mut t_word = vec![0.0f32; n * q * PRINTED_WORDS.len()];
    let mut t_centre = vec![0.0f32; n * q * 2];
    let mut m_centre = vec![0.0f32; n * q * 2];
    let mut t_look = vec![0.0f32; n * q * MAX_OBJECTS];
    let (mut shapes, mut words, mut matched, mut looks) = (0usize, 0usize, 0usize, 0usize);
    for (i, e) in batch.iter().enumerate() {
        let seen: Vec<bool> = (0..e.objects.len())
            .map(|o| e.patch_object.contains(&(o + 1)))
            .collect();
        let cost = |o: usize, j: usize| {
            let object = &e.objects[o];
            let row = i * q + j;
            let mut c = -h_kind[row * SLOT_KINDS + object.kind];
            if let Some(k) = object.colour {
                c -= h_colour[row * COLOURS.len() + k];
            }
            if let Some(w) = object.word {
                c -= h_word[row * PRINTED_WORDS.len() + w];
            }
            c += 2.0
                * ((h_centre[row * 2] - object.x).abs() + (h_centre[row * 2 + 1] - object.y).abs());
            if seen[o] {
                c -= h_mass[row * MAX_OBJECTS + o];
            }
            c
        };
        // A model with fewer queries than objects (the tests' tiny one) matches the first few.
        let assignment = assign(e.objects.len().min(q), q, cost);
        let mut taken = vec![false; q];
        for (o, &j) in assignment.iter().enumerate() {
            let object = &e.objects[o];
            let row = i * q + j;
            taken[j] = true;
            matched += 1;
            t_kind[row * SLOT_KINDS + object.kind] = 1.0;
            if let (Some(k), Some(large)) = (object.colour, object.large) {
                t_colour[row * COLOURS.len() + k] = 1.0;
                t_size[row * 2 + usize::from(large)] = 1.0;
                shapes += 1;
            }
            if let Some(w) = object.word {
                t_word[row * PRINTED_WORDS.len() + w] = 1.0;
                words += 1;
            }
            t_centre[row * 2] = object.x;
            t_centre[row * 2 + 1] = object.y;
            m_centre[row * 2] = 1.0;
            m_centre[row * 2 + 1] = 1.0;
            if seen[o] {
                t_look[row * MAX_OBJECTS + o] = 1.0;
                looks += 1;
            }
        }
        for (j, _) in taken.iter().enumerate().filter(|(_, t)| !**t) {
            t_kind[(i * q + j) * SLOT_KINDS + SLOT_NONE] = NONE_WEIGHT;
        }
    }
    let tensor = |v: Vec<f32>, last: usize| {
        Tensor::<3>::from_data(TensorData::new(v, [n, q, last]), &device)
    };
    let kind_weight = (matched as f32 + NONE_WEIGHT * (n * q - matched) as f32) as f64;
    let kind_loss = -(kind * tensor(t_kind, SLOT_KINDS)).sum() / kind_weight;
    let per = |count: usize| count.max(1) as f64;
    let colour_loss = -(colour * tensor(t_colour, COLOURS.len())).sum() / per(shapes);
    let size_loss = -(size * tensor(t_size, 2)).sum() / per(shapes);
    let word_loss = -(word * tensor(t_word, PRINTED_WORDS.len())).sum() / per(words);
    let centre_loss = ((centre - tensor(t_centre, 2)).abs() * tensor(m_centre, 2)).sum()
        / per(matched)
        * CENTRE_WEIGHT;
    let look_loss = -(mass * tensor(t_look, MAX_OBJECTS)).sum() / per(looks);
    if tracing::enabled!(tracing::Level::DEBUG) {
        let value = |t: &Tensor<1>| t.clone().inner().into_scalar::<f32>();
        tracing::debug!(
            kind = value(&kind_loss),
            colour = value(&colour_loss),
            size = value(&size_loss),
            word = value(&word_loss),
            centre = value(&centre_loss),
            look = value(&look_loss),
            "slot losses"
        );
    }
    kind_loss + colour_loss + size_loss + word_loss + centre_loss + look_loss
}

/// The one-to-one assignment of `objects` to `slots` (objects ≤ slots ≤ 16) of least total
/// `cost(object, slot)`: exact, by dynamic programming over the sets of slots taken.
fn assign(objects: usize, slots: usize, cost: impl Fn(usize, usize) -> f32) -> Vec<usize> {
    assert!(
        objects <= slots && slots <= 16,
        "{objects} objects, {slots} slots"
    );
    let states = 1usize << slots;
    // best[mask]: least cost of giving the first popcount(mask) objects the slots in mask.
    let mut best = vec![f32::INFINITY; states];
    let mut from = vec![usize::MAX; states];
    best[0] = 0.0;
    for mask in 0..states {
        let o = mask.count_ones() as usize;
        if o >= objects || best[mask].is_infinite() {
            continue;
        }
        for s in (0..slots).filter(|s| mask & (1 << s) == 0) {
            let next = mask | (1 << s);
            let c = best[mask] + cost(o, s);
            if c < best[next] {
                best[next] = c;
                from[next] = s;
            }
        }
    }
    let end = (0..states)
        .filter(|m| m.count_ones() as usize == objects)
        .min_by(|&a, &b| best[a].total_cmp(&best[b]))
        .expect("some assignment");
    let mut out = vec![0; objects];
    let mut mask = end;
    for o in (0..objects).rev() {
        let s = from[mask];
        out[o] = s;
        mask &= !(1 << s);
    }
    out
}

/// The decoder's log-probabilities over the batch's sequences: the projected queries, then
/// each prompt and answer (less its last token), right-padded to the batch's longest (causal
/// attention keeps padding out of every position that counts).
///
/// # Shapes
/// - returns `[batch, queries + longest, vocab]`
fn answer_log_probs(model: &DemoModel, batch: &[Example], visual: Tensor<3>) -> Tensor<3> {
    let n = batch.len();
    let device = visual.device();
    let len = batch
        .iter()
        .map(|e| e.prompt.len() + e.answer.len() - 1)
        .max()
        .expect("a non-empty batch");
    let mut ids = vec![i64::from(PAD_ID); n * len];
    for (i, e) in batch.iter().enumerate() {
        let sequence: Vec<u32> = e.prompt.iter().chain(&e.answer).copied().collect();
        for (t, &id) in sequence[..sequence.len() - 1].iter().enumerate() {
            ids[i * len + t] = i64::from(id);
        }
    }
    let ids = Tensor::<2, Int>::from_data(TensorData::new(ids, [n, len]), &device);
    let embeds = Tensor::cat(vec![visual, model.lm.embed_ids(ids)], 1);
    let mut cache = model.lm.new_cache();
    let hidden = model.lm.forward(embeds, &mut cache);
    activation::log_softmax(model.lm.logits(hidden), 2)
}

/// Stage 2: cross-entropy of the answer tokens, plus half the stage-1 objective.
fn answer_loss(
    model: &DemoModel,
    batch: &[Example],
    spec: &DemoSpec,
    device: &Device,
) -> Tensor<1> {
    let (features, (queries, cross)) = encode_images(model, batch, spec, device);
    let aux = alignment_loss(model, features, (queries.clone(), cross), batch);
    let logp = answer_log_probs(model, batch, model.vision.project(queries));
    let [n, total, vocab] = logp.dims();
    let mut targets = vec![0.0f32; n * total * vocab];
    let mut count = 0usize;
    for (i, e) in batch.iter().enumerate() {
        // The state at the prompt's last position predicts the answer's first token.
        for (j, &id) in e.answer.iter().enumerate() {
            let position = spec.queries + e.prompt.len() - 1 + j;
            targets[(i * total + position) * vocab + id as usize] = 1.0;
            count += 1;
        }
    }
    let y = Tensor::<3>::from_data(TensorData::new(targets, [n, total, vocab]), device);
    let answer = -(logp * y).sum() / count as f64;
    if tracing::enabled!(tracing::Level::DEBUG) {
        tracing::debug!(
            answer = answer.clone().inner().into_scalar::<f32>(),
            "answer loss"
        );
    }
    answer + aux * 0.5
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;
    use crate::demo::data::normalise;
    use crate::demo::scenes::Scene;
    use crate::session::Session;

    fn tiny() -> DemoSpec {
        DemoSpec {
            image_size: 32,
            patch_size: 8,
            vision_hidden: 32,
            vision_layers: 1,
            vision_heads: 2,
            vision_mlp: 64,
            queries: 4,
            qformer_hidden: 32,
            qformer_layers: 1,
            qformer_heads: 2,
            qformer_mlp: 64,
            text_hidden: 32,
            text_layers: 1,
            text_heads: 2,
            text_ffn: 64,
            max_positions: 64,
        }
    }

    /// The matching is the least-cost one-to-one assignment: checked against every injective
    /// map on random costs.
    #[test]
    fn objects_are_matched_to_queries_by_least_total_cost() {
        fn brute(o: usize, slots: usize, used: &mut Vec<usize>, cost: &[f32]) -> f32 {
            if used.len() == o {
                return used
                    .iter()
                    .enumerate()
                    .map(|(i, &s)| cost[i * slots + s])
                    .sum();
            }
            let mut best = f32::INFINITY;
            for s in 0..slots {
                if !used.contains(&s) {
                    used.push(s);
                    best = best.min(brute(o, slots, used, cost));
                    used.pop();
                }
            }
            best
        }
        let mut rng = StdRng::seed_from_u64(5);
        for (objects, slots) in [(0, 3), (1, 1), (3, 3), (4, 6), (6, 8)] {
            let cost: Vec<f32> = (0..objects * slots).map(|_| normal(&mut rng)).collect();
            let got = assign(objects, slots, |o, s| cost[o * slots + s]);
            let mut distinct = got.clone();
            distinct.sort_unstable();
            distinct.dedup();
            assert_eq!(distinct.len(), objects, "{got:?}");
            let total: f32 = got
                .iter()
                .enumerate()
                .map(|(o, &s)| cost[o * slots + s])
                .sum();
            let best = brute(objects, slots, &mut Vec::new(), &cost);
            assert!((total - best).abs() < 1e-5, "{total} vs {best}");
        }
    }

    /// What training optimised is what the engine runs: after a few steps, the saved checkpoint
    /// loaded by `Session` (image processor, prompt building, inference modules) gives the
    /// training path's log-probabilities for the same scene and question.
    #[test]
    fn the_saved_checkpoint_runs_in_the_engine_as_trained() {
        let dir = std::env::temp_dir().join(format!("iris-demo-train-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let options = TrainOptions {
            spec: tiny(),
            seed: 3,
            batch: 4,
            stage1_steps: 2,
            stage2_steps: 3,
            learning_rate: 1e-3,
        };
        let device = Device::flex();
        let mut losses = Vec::new();
        train(&dir, &options, &device, &mut |r| losses.push(r.loss)).expect("training runs");
        assert_eq!(losses.len(), 5);
        assert!(
            losses.iter().all(|l| l.is_finite() && *l > 0.0),
            "{losses:?}"
        );
        assert!(dir.join("training.csv").exists());
        // Reproducible from the seed: a second run writes the same weights, bit for bit.
        let again = dir.with_extension("again");
        let _ = std::fs::remove_dir_all(&again);
        train(&again, &options, &device, &mut |_| {}).expect("training runs");
        let weights = |d: &Path| std::fs::read(d.join("model.safetensors")).expect("written");
        assert!(
            weights(&dir) == weights(&again),
            "same seed, different weights"
        );
        let _ = std::fs::remove_dir_all(&again);

        let mut rng = StdRng::seed_from_u64(9);
        let scene = Scene::generate(&mut rng, Split::Test);
        let image = scene.render(32);
        let question = "what colour is the star ?";
        let vocab = Vocab::default();
        let mut prompt = vec![crate::demo::checkpoint::EOS_ID];
        prompt.extend(vocab.encode(question));
        let example = Example {
            pixels: normalise(&image),
            prompt: prompt.clone(),
            answer: vec![crate::demo::checkpoint::EOS_ID],
            presence: [0.0; PRESENCE],
            count: 0,
            word: 0,
            patch_kind: Vec::new(),
            patch_colour: Vec::new(),
            objects: Vec::new(),
            patch_object: Vec::new(),
            patch_mask: Vec::new(),
        };
        let model = load(&dir, &options.spec, options.seed, &device).expect("the checkpoint loads");
        let queries = model.vision.queries_batch(pixels(
            std::slice::from_ref(&example),
            &options.spec,
            &device,
        ));
        let trained = answer_log_probs(&model, &[example], model.vision.project(queries));
        let [_, total, vocab_size] = trained.dims();
        let trained = read_f32(trained.narrow(1, total - 1, 1)).expect("read back");

        let session = Session::load_on(&dir, Device::flex(), "cpu".into()).expect("engine loads");
        let prepared = session
            .processor()
            .prepare(std::slice::from_ref(&image), question)
            .expect("prompt");
        let image_ids = vec![crate::demo::checkpoint::IMAGE_ID; options.spec.queries];
        let expected_ids: Vec<u32> = image_ids.into_iter().chain(prompt).collect();
        assert_eq!(prepared.input_ids, expected_ids);
        let logits = session.prompt_logits(&prepared).expect("logits");
        let rows = logits.dims()[0];
        let engine = activation::log_softmax(logits.narrow(0, rows - 1, 1), 1);
        let engine = read_f32(engine).expect("read back");
        assert_eq!(engine.len(), vocab_size);
        // f32, same operations in the same order: only summation order may differ.
        for (a, b) in trained.iter().zip(&engine) {
            assert!((a - b).abs() <= 1e-4 * b.abs().max(1.0), "{a} vs {b}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
