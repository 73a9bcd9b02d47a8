//! Choosing the next token from logits: greedy, or sampling with temperature, top-k and top-p
//! applied in transformers' order (temperature → top-k → top-p), from a seeded RNG.

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// How the next token is chosen.
#[derive(Debug, Clone, PartialEq)]
pub enum Sampling {
    /// The most likely token; ties go to the lowest id, as `torch.argmax`.
    Greedy,
    /// A draw from the softmax of `logits / temperature`, restricted to the `top_k` most likely
    /// tokens (0: no limit) and then to the smallest set whose probability reaches `top_p`.
    Sample {
        temperature: f32,
        top_k: usize,
        top_p: f32,
        seed: u64,
    },
}

/// A token chooser with its own random state.
pub struct Sampler {
    sampling: Sampling,
    rng: StdRng,
}

impl Sampler {
    pub fn new(sampling: Sampling) -> Self {
        let seed = match &sampling {
            Sampling::Sample { seed, .. } => *seed,
            Sampling::Greedy => 0,
        };
        Self {
            sampling,
            rng: StdRng::seed_from_u64(seed),
        }
    }

    /// Picks a token id from one row of logits.
    pub fn next(&mut self, logits: &[f32]) -> u32 {
        match self.sampling {
            Sampling::Greedy => argmax(logits),
            Sampling::Sample {
                temperature,
                top_k,
                top_p,
                ..
            } => {
                let candidates = filter(logits, temperature, top_k, top_p);
                let r: f32 = self.rng.random();
                draw(&candidates, r)
            }
        }
    }
}

/// Index of the largest value; the first one on ties.
pub fn argmax(values: &[f32]) -> u32 {
    let mut best = 0;
    for (i, &v) in values.iter().enumerate() {
        if v > values[best] {
            best = i;
        }
    }
    best as u32
}

/// The surviving `(id, probability)` pairs, most likely first, probabilities summing to 1.
fn filter(logits: &[f32], temperature: f32, top_k: usize, top_p: f32) -> Vec<(u32, f32)> {
    let t = temperature.max(1e-6);
    let mut scored: Vec<(u32, f32)> = logits
        .iter()
        .enumerate()
        .map(|(i, &l)| (i as u32, l / t))
        .collect();
    scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    if top_k > 0 {
        scored.truncate(top_k);
    }
    let max = scored[0].1;
    let mut probs: Vec<(u32, f32)> = scored
        .into_iter()
        .map(|(i, l)| (i, (l - max).exp()))
        .collect();
    normalise(&mut probs);
    if top_p < 1.0 {
        // Keep the smallest prefix whose mass reaches top_p (always at least one token).
        let mut mass = 0.0;
        let keep = probs
            .iter()
            .position(|&(_, p)| {
                mass += p;
                mass >= top_p
            })
            .map_or(probs.len(), |i| i + 1);
        probs.truncate(keep);
        normalise(&mut probs);
    }
    probs
}

fn normalise(probs: &mut [(u32, f32)]) {
    let sum: f32 = probs.iter().map(|p| p.1).sum();
    for p in probs.iter_mut() {
        p.1 /= sum;
    }
}

/// The candidate at cumulative probability `r` in `[0, 1)`.
fn draw(candidates: &[(u32, f32)], r: f32) -> u32 {
    let mut acc = 0.0;
    for &(id, p) in candidates {
        acc += p;
        if r < acc {
            return id;
        }
    }
    candidates.last().map_or(0, |c| c.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greedy_takes_the_first_maximum() {
        assert_eq!(argmax(&[0.1, 3.0, -1.0, 3.0]), 1);
    }

    #[test]
    fn top_k_one_is_greedy_whatever_the_seed() {
        let logits = [0.5, 2.0, 1.9, -3.0];
        for seed in 0..20 {
            let mut s = Sampler::new(Sampling::Sample {
                temperature: 1.5,
                top_k: 1,
                top_p: 1.0,
                seed,
            });
            assert_eq!(s.next(&logits), 1);
        }
    }

    #[test]
    fn top_p_keeps_the_smallest_set_reaching_the_mass() {
        // softmax of ln([0.5, 0.3, 0.2]) = [0.5, 0.3, 0.2]: top_p 0.7 keeps two tokens.
        let logits = [0.5f32.ln(), 0.3f32.ln(), 0.2f32.ln()];
        let kept = filter(&logits, 1.0, 0, 0.7);
        assert_eq!(kept.iter().map(|c| c.0).collect::<Vec<_>>(), vec![0, 1]);
        assert!((kept[0].1 - 0.625).abs() < 1e-6);
    }

    #[test]
    fn same_seed_same_tokens_and_frequencies_follow_probabilities() {
        let logits = [0.0f32, 1.0, 2.0];
        let run = |seed| {
            let mut s = Sampler::new(Sampling::Sample {
                temperature: 1.0,
                top_k: 0,
                top_p: 1.0,
                seed,
            });
            (0..2000).map(|_| s.next(&logits)).collect::<Vec<_>>()
        };
        let a = run(7);
        assert_eq!(a, run(7));
        let share2 = a.iter().filter(|&&t| t == 2).count() as f32 / a.len() as f32;
        // softmax([0,1,2])[2] = 0.665
        assert!((share2 - 0.665).abs() < 0.04, "{share2}");
    }
}
