//! One `iris bench` run's figures, their median over the timed runs, and the Markdown table
//! a BENCHMARKS.md entry takes.

use std::path::PathBuf;

use iris_models::processor::ImageReport;
use iris_models::session::Answer;
use iris_models::synthetic::SyntheticCheckpoint;

use super::host::{Machine, gib};

/// Everything `iris bench` prints (`--json` as is, else as [`Report::to_text`]).
#[derive(Debug, serde::Serialize)]
pub struct Report {
    pub model: PathBuf,
    pub synthetic: Option<SyntheticReport>,
    pub machine: Machine,
    pub device: String,
    /// The compute dtype.
    pub dtype: String,
    /// Whether our WGSL kernels were switched on (`--kernels`); they run on wgpu devices only.
    pub kernels: bool,
    pub load_ms: f64,
    pub prompt_tokens: usize,
    /// `--prompt-tokens`: the length the prompt's text was made.
    pub prompt_text_tokens: Option<usize>,
    pub image_tokens: usize,
    pub images: Vec<ImageViews>,
    /// The warm-up run, each timed run, then their median.
    pub runs: Vec<Row>,
    pub peak_host_bytes: Option<u64>,
    pub peak_device_bytes: Option<u64>,
    /// What the device figure measures, or why there is none.
    pub device_memory: &'static str,
}

/// The synthetic checkpoint a benchmark used, and how long making or finding it took.
#[derive(Debug, serde::Serialize)]
pub struct SyntheticReport {
    pub preset: String,
    pub architecture_of: &'static str,
    pub dtype_on_disk: String,
    #[serde(flatten)]
    pub checkpoint: SyntheticCheckpoint,
    pub prepare_ms: f64,
}

/// How one image reached the encoder.
#[derive(Debug, serde::Serialize)]
pub struct ImageViews {
    pub width: u32,
    pub height: u32,
    /// Encoder inputs: tiles plus base or global view.
    pub views: usize,
    pub tokens: usize,
}

impl From<&ImageReport> for ImageViews {
    fn from(i: &ImageReport) -> Self {
        Self {
            width: i.width,
            height: i.height,
            views: i.tiles,
            tokens: i.tokens,
        }
    }
}

impl Report {
    /// Header lines (machine, model, device, load, prompt, memory), then the runs as a
    /// Markdown table.
    pub fn to_text(&self) -> String {
        let bytes = |b: Option<u64>| b.map_or("n/a".to_owned(), gib);
        let model = match &self.synthetic {
            Some(s) => format!(
                "synthetic {} ({} architecture, random weights, {} on disk, {:.1} M parameters) in {} ({} in {:.1} s)",
                s.preset,
                s.architecture_of,
                s.dtype_on_disk,
                s.checkpoint.parameters as f64 / 1e6,
                self.model.display(),
                if s.checkpoint.reused {
                    "found"
                } else {
                    "written"
                },
                s.prepare_ms / 1e3,
            ),
            None => self.model.display().to_string(),
        };
        let images: Vec<String> = self
            .images
            .iter()
            .map(|i| {
                let (w, h, v, t) = (i.width, i.height, i.views, i.tokens);
                format!("{w}x{h} px → {v} encoder views → {t} tokens")
            })
            .collect();
        let images = match images.is_empty() {
            true => String::new(),
            false => format!(" ({})", images.join("; ")),
        };
        format!(
            "machine: {}\nmodel:   {model}\ndevice:  {}, computing in {}, WGSL kernels {}\nload:    {:.1} ms\n\
             prompt:  {} tokens, {} of them visual{images}\n\
             memory:  peak host {} (VmHWM), peak device {} ({})\n\n{}",
            self.machine.describe(),
            self.device,
            self.dtype,
            if self.kernels { "on" } else { "off" },
            self.load_ms,
            self.prompt_tokens,
            self.image_tokens,
            bytes(self.peak_host_bytes),
            bytes(self.peak_device_bytes),
            self.device_memory,
            markdown_table(&self.runs)
        )
    }
}

/// The figures of one run.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Row {
    pub run: String,
    pub preprocess_ms: f64,
    /// Vision encoder, connector and prompt embedding (the visual tokens put in place).
    pub vision_ms: f64,
    /// `vision_ms` per image and per encoder view (tile, base or global view); `None` without
    /// images.
    pub vision_ms_per_image: Option<f64>,
    pub vision_ms_per_view: Option<f64>,
    pub prefill_ms: f64,
    pub prefill_tok_s: f64,
    /// Time to first token: preprocessing, vision and the prefill, whose logits give the
    /// first token.
    pub ttft_ms: f64,
    pub decode_ms: f64,
    pub decode_tok_s: f64,
    pub new_tokens: usize,
}

impl Row {
    pub fn from_answer(run: String, a: &Answer, images: usize, views: usize) -> Self {
        let t = &a.timings_ms;
        let n = a.token_ids.len();
        // The first token comes from the prefill logits; decode steps produce the rest.
        let steps = n.saturating_sub(1).max(1);
        let per = |count: usize| (count > 0).then(|| t.vision / count as f64);
        Self {
            run,
            preprocess_ms: t.preprocess,
            vision_ms: t.vision,
            vision_ms_per_image: per(images),
            vision_ms_per_view: per(views),
            prefill_ms: t.prefill,
            prefill_tok_s: a.prompt_tokens as f64 / (t.prefill / 1e3),
            ttft_ms: t.preprocess + t.vision + t.prefill,
            decode_ms: t.decode,
            decode_tok_s: steps as f64 / (t.decode / 1e3),
            new_tokens: n,
        }
    }

    /// The field-by-field median of `rows` (the timed runs), labelled `median`.
    pub fn median(rows: &[Row]) -> Option<Row> {
        let first = rows.first()?;
        let med = |f: &dyn Fn(&Row) -> f64| {
            let mut v: Vec<f64> = rows.iter().map(f).collect();
            v.sort_by(f64::total_cmp);
            let m = v.len() / 2;
            if v.len() % 2 == 1 {
                v[m]
            } else {
                (v[m - 1] + v[m]) / 2.0
            }
        };
        let has_images = first.vision_ms_per_image.is_some();
        let opt = |f: &dyn Fn(&Row) -> Option<f64>| {
            has_images.then(|| med(&|r: &Row| f(r).unwrap_or(0.0)))
        };
        Some(Row {
            run: "median".into(),
            preprocess_ms: med(&|r| r.preprocess_ms),
            vision_ms: med(&|r| r.vision_ms),
            vision_ms_per_image: opt(&|r| r.vision_ms_per_image),
            vision_ms_per_view: opt(&|r| r.vision_ms_per_view),
            prefill_ms: med(&|r| r.prefill_ms),
            prefill_tok_s: med(&|r| r.prefill_tok_s),
            ttft_ms: med(&|r| r.ttft_ms),
            decode_ms: med(&|r| r.decode_ms),
            decode_tok_s: med(&|r| r.decode_tok_s),
            new_tokens: med(&|r| r.new_tokens as f64).round() as usize,
        })
    }
}

/// The runs as a Markdown table (what BENCHMARKS.md entries paste).
pub fn markdown_table(rows: &[Row]) -> String {
    let mut out = String::from(
        "| run | preprocess ms | vision ms | per image ms | per view ms | prefill ms | prefill tok/s | TTFT ms | decode ms | decode tok/s | new tokens |\n\
         | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n",
    );
    let opt = |v: Option<f64>| v.map_or("–".to_owned(), |v| format!("{v:.1}"));
    for r in rows {
        out += &format!(
            "| {} | {:.1} | {:.1} | {} | {} | {:.1} | {:.1} | {:.1} | {:.1} | {:.2} | {} |\n",
            r.run,
            r.preprocess_ms,
            r.vision_ms,
            opt(r.vision_ms_per_image),
            opt(r.vision_ms_per_view),
            r.prefill_ms,
            r.prefill_tok_s,
            r.ttft_ms,
            r.decode_ms,
            r.decode_tok_s,
            r.new_tokens
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(prefill_ms: f64, tokens: usize) -> Row {
        Row {
            run: "1".into(),
            preprocess_ms: 1.0,
            vision_ms: 10.0,
            vision_ms_per_image: Some(10.0),
            vision_ms_per_view: Some(5.0),
            prefill_ms,
            prefill_tok_s: 1000.0 / prefill_ms,
            ttft_ms: 11.0 + prefill_ms,
            decode_ms: 4.0,
            decode_tok_s: 2.0,
            new_tokens: tokens,
        }
    }

    #[test]
    fn median_takes_the_middle_of_odd_and_the_mean_of_even_counts() {
        let m = Row::median(&[row(30.0, 4), row(10.0, 4), row(20.0, 4)]).unwrap();
        assert_eq!((m.run.as_str(), m.prefill_ms), ("median", 20.0));
        let m = Row::median(&[row(30.0, 4), row(10.0, 4)]).unwrap();
        assert_eq!(m.prefill_ms, 20.0);
        assert_eq!(m.vision_ms_per_view, Some(5.0));
        assert!(Row::median(&[]).is_none());
    }

    #[test]
    fn table_has_a_row_per_run_and_a_dash_without_images() {
        let mut r = row(10.0, 3);
        r.vision_ms_per_image = None;
        let table = markdown_table(&[r]);
        assert_eq!(table.lines().count(), 3);
        assert!(table.lines().last().unwrap().contains("| – |"), "{table}");
    }
}
