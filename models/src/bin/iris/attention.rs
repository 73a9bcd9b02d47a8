//! `iris attention`: what each BLIP-2 Q-Former query reads from an image — the captured
//! cross-attention as JSON, and optionally one heat-map PNG per query over the image.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;
use image::{Rgb, RgbImage};
use iris_models::trace::QFormerAttentionMap;

use super::{ModelArgs, load_images, load_session};

#[derive(Args)]
pub struct AttentionArgs {
    #[command(flatten)]
    model: ModelArgs,
    #[arg(long)]
    image: PathBuf,
    /// The instruction (InstructBLIP's queries read it; BLIP-2's do not).
    #[arg(long, default_value = "")]
    prompt: String,
    /// Print the maps as JSON.
    #[arg(long)]
    json: bool,
    /// Write `query_NN.png` heat-maps (mean over heads) into this folder.
    #[arg(long)]
    png: Option<PathBuf>,
    /// Which cross-attention layer the PNGs show (Q-Former layer index; default: the last).
    #[arg(long)]
    layer: Option<usize>,
}

pub fn run(args: AttentionArgs) -> Result<()> {
    let image = load_images(std::slice::from_ref(&args.image))?.remove(0);
    let session = load_session(&args.model)?;
    let map = session.qformer_attention(&image, &args.prompt)?;
    if args.json {
        println!("{}", serde_json::to_string(&map)?);
    }
    if let Some(dir) = &args.png {
        let index = match args.layer {
            Some(l) => map
                .layers
                .iter()
                .position(|x| x.layer == l)
                .with_context(|| format!("Q-Former layer {l} has no cross-attention"))?,
            None => map.layers.len() - 1,
        };
        write_pngs(&map, index, &image, dir)?;
        if !args.json {
            let queries = map.layers[index].probs[0].len();
            println!(
                "wrote {queries} heat-maps of layer {} to {}",
                map.layers[index].layer,
                dir.display()
            );
        }
    }
    if !args.json && args.png.is_none() {
        for (q, cls) in
            (0..map.layers[0].probs[0].len()).map(|q| (q, map.query_map(map.layers.len() - 1, q).1))
        {
            let (values, _) = map.query_map(map.layers.len() - 1, q);
            let (best, _) = values
                .iter()
                .enumerate()
                .fold((0, f32::MIN), |b, (i, &v)| if v > b.1 { (i, v) } else { b });
            let [_, cols] = map.grid;
            println!(
                "query {q:2}: hottest patch row {} col {}, class token share {:.1}%",
                best / cols,
                best % cols,
                cls * 100.0
            );
        }
    }
    Ok(())
}

fn write_pngs(map: &QFormerAttentionMap, index: usize, image: &RgbImage, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let queries = map.layers[index].probs[0].len();
    for q in 0..queries {
        let (values, _) = map.query_map(index, q);
        let png = overlay(image, map.grid, &values);
        let path = dir.join(format!("query_{q:02}.png"));
        png.save(&path)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

/// The image with the patch values (scaled to their maximum) drawn over it as a colour ramp.
/// BLIP's processor stretches the image to a square, so patch (r, c) covers the same fraction
/// of the original image.
fn overlay(image: &RgbImage, [rows, cols]: [usize; 2], values: &[f32]) -> RgbImage {
    let max = values.iter().copied().fold(f32::MIN_POSITIVE, f32::max);
    let (w, h) = image.dimensions();
    RgbImage::from_fn(w, h, |x, y| {
        let r = (y as usize * rows / h as usize).min(rows - 1);
        let c = (x as usize * cols / w as usize).min(cols - 1);
        let heat = ramp(values[r * cols + c] / max);
        let base = image.get_pixel(x, y);
        let mix = |a: u8, b: u8| (0.45 * f32::from(a) + 0.55 * f32::from(b)).round() as u8;
        Rgb([
            mix(base[0], heat[0]),
            mix(base[1], heat[1]),
            mix(base[2], heat[2]),
        ])
    })
}

/// A dark-blue → red → yellow colour ramp for `t` in [0, 1].
fn ramp(t: f32) -> [u8; 3] {
    let t = t.clamp(0.0, 1.0);
    let stops = [
        [20.0, 20.0, 80.0],
        [200.0, 30.0, 40.0],
        [255.0, 230.0, 60.0],
    ];
    let (a, b, f) = if t < 0.5 {
        (stops[0], stops[1], t * 2.0)
    } else {
        (stops[1], stops[2], (t - 0.5) * 2.0)
    };
    [0, 1, 2].map(|i| (a[i] + (b[i] - a[i]) * f).round() as u8)
}
