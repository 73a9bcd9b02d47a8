use super::*;

fn tiny_pinpoints() -> Vec<Resolution> {
    (1..=6)
        .flat_map(|i| (1..=6).map(move |j| Resolution::new(32 * i, 32 * j)))
        .collect()
}

#[test]
fn best_resolution_for_1024x768_is_160x192() {
    let pins = tiny_pinpoints();
    let (scores, best) = select_best_resolution(Resolution::new(768, 1024), &pins);
    let best = best.unwrap();
    assert_eq!(pins[best], Resolution::new(160, 192));
    // 192×192 reaches the same effective resolution but wastes more.
    let square = scores
        .iter()
        .find(|s| s.resolution == Resolution::new(192, 192))
        .unwrap();
    assert_eq!(
        square.effective_resolution,
        scores[best].effective_resolution
    );
    assert!(square.wasted_resolution > scores[best].wasted_resolution);
    assert_eq!(scores[best].effective_resolution, 192 * 144);
}

#[test]
fn zero_effective_resolution_still_picks_the_first_candidate() {
    // int(1 * 32/10000) = 0 for every candidate: HF's `wasted < inf` picks the first.
    let pins = [Resolution::new(32, 32), Resolution::new(64, 64)];
    let (scores, best) = select_best_resolution(Resolution::new(10000, 1), &pins);
    assert_eq!(best, Some(0));
    assert_eq!(scores[0].effective_resolution, 0);
    assert_eq!(select_best_resolution(Resolution::new(10, 10), &[]).1, None);
}

#[test]
fn patch_output_size_uses_ceil_on_the_free_side() {
    // 1024×768 into 160×192 (h×w): scale_w = 0.1875 < scale_h → width 192, height ceil(144) = 144.
    assert_eq!(
        patch_output_size(Resolution::new(768, 1024), Resolution::new(160, 192)),
        Resolution::new(144, 192)
    );
    // 5×7 (w×h) into 32×32: scale_h = 32/7 < scale_w → height 32, width ceil(5·32/7 = 22.86) = 23.
    assert_eq!(
        patch_output_size(Resolution::new(7, 5), Resolution::new(32, 32)),
        Resolution::new(32, 23)
    );
}

#[test]
fn padding_puts_the_odd_pixel_after() {
    let p = padding_to(Resolution::new(32, 23), Resolution::new(32, 32));
    assert_eq!((p.top, p.bottom, p.left, p.right), (0, 0, 4, 5));
}

#[test]
fn feature_grid_of_1024x768_matches_hf_156_tokens() {
    // 5×6 tiles of 4×4 features: 20×24, unpadded to 18×24, ratio sqrt(432/144) = 1.732,
    // shrunk to (18 // 1.732, 24 // 1.732) = (10, 13).
    let g = feature_grid(Resolution::new(768, 1024), 5, 6, 4, Some(9));
    assert_eq!(
        g.full,
        GridSize {
            height: 20,
            width: 24
        }
    );
    assert_eq!((g.unpad_axis, g.unpad_offset), (UnpadAxis::Rows, 1));
    assert_eq!(
        g.unpadded,
        GridSize {
            height: 18,
            width: 24
        }
    );
    assert_eq!(
        g.downsampled,
        Some(GridSize {
            height: 10,
            width: 13
        })
    );
    assert_eq!(g.grid_tokens() + g.newline_tokens() + 16, 156);
}

#[test]
fn feature_grid_without_anyres_max_keeps_the_unpadded_grid() {
    let g = feature_grid(Resolution::new(768, 1024), 5, 6, 4, None);
    assert_eq!(g.downsampled, None);
    assert_eq!(g.packed(), g.unpadded);
}

#[test]
fn python_float_floor_division() {
    assert_eq!(py_floordiv(18.0, 3.0f64.sqrt()), 10.0);
    assert_eq!(py_floordiv(7.0, 2.0), 3.0);
    assert_eq!(py_floordiv(-7.0, 2.0), -4.0);
    // 1 // 0.1 is 9.0 in Python (0.1 is slightly above 1/10), while floor(1 / 0.1) = 10.
    assert_eq!(py_floordiv(1.0, 0.1), 9.0);
    assert_eq!((1.0f64 / 0.1).floor(), 10.0);
}

#[test]
fn python_int_of_round7() {
    assert_eq!(py_int_round7(17.999_999_99), 18);
    assert_eq!(py_int_round7(17.999_999_9), 17);
    assert_eq!(py_int_round7(18.0), 18);
    assert_eq!(py_int_round7(18.4), 18);
}
