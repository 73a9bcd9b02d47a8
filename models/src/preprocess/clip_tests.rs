use super::*;
use crate::preprocess::test_support::{
    assert_same_values, f32_tensor, fixture_image, noise_image, read_fixture, read_json,
};
use safetensors::SafeTensors;

#[test]
fn shortest_edge_truncates_the_long_side() {
    // int(224 * 500 / 333) = int(336.33...) = 336
    assert_eq!(
        resize_output_size(SizeSpec::ShortestEdge(224), 500, 333),
        (336, 224)
    );
    assert_eq!(
        resize_output_size(SizeSpec::ShortestEdge(224), 333, 500),
        (224, 336)
    );
    // int(32 * 200 / 40) = 160 exactly; square stays square.
    assert_eq!(
        resize_output_size(SizeSpec::ShortestEdge(32), 40, 200),
        (32, 160)
    );
    assert_eq!(
        resize_output_size(SizeSpec::ShortestEdge(32), 64, 64),
        (32, 32)
    );
    assert_eq!(
        resize_output_size(
            SizeSpec::Exact {
                height: 10,
                width: 20
            },
            64,
            64
        ),
        (20, 10)
    );
}

#[test]
fn defaults_follow_clip_image_processor() {
    let p = ClipImageProcessor::from_config(&PreprocessorConfig::default()).unwrap();
    assert_eq!(
        p.resize,
        Some((SizeSpec::ShortestEdge(224), Filter::Bicubic))
    );
    assert_eq!(p.center_crop, Some((224, 224)));
    assert_eq!(p.pad_to_square, None);
    assert_eq!(p.output_size(640, 480), (224, 224));
    assert_eq!(p.preprocess(&noise_image(50, 30, 3)).shape(), [3, 224, 224]);
}

#[test]
fn do_pad_only_applies_to_llava_image_processor() {
    let mut cfg = PreprocessorConfig {
        do_pad: Some(true),
        ..Default::default()
    };
    assert_eq!(
        ClipImageProcessor::from_config(&cfg).unwrap().pad_to_square,
        None
    );
    cfg.image_processor_type = Some("LlavaImageProcessor".to_string());
    assert_eq!(
        ClipImageProcessor::from_config(&cfg).unwrap().pad_to_square,
        Some([122, 116, 104])
    );
}

/// The processor's pixel values for every reference case of both LLaVA fixtures
/// (CLIPImageProcessor, shortest edge 32, centre crop 32), bit for bit.
#[test]
fn pixel_values_match_hf() {
    for model in ["llava-tiny", "llava-tiny-b"] {
        let dir = crate::preprocess::test_support::fixtures_dir()
            .join("models")
            .join(model);
        let cfg = PreprocessorConfig::from_file(&dir.join("preprocessor_config.json")).unwrap();
        let p = ClipImageProcessor::from_config(&cfg).unwrap();
        let cases = read_json(&format!("models/{model}/reference/cases.json"));
        for case in cases["cases"].as_array().expect("cases") {
            let name = case["name"].as_str().unwrap();
            let images = case["images"].as_array().unwrap();
            if images.is_empty() {
                continue;
            }
            let bytes = read_fixture(&format!("models/{model}/reference/{name}.safetensors"));
            let st = SafeTensors::deserialize(&bytes).unwrap();
            let (shape, values) = f32_tensor(&st, "pixel_values");
            assert_eq!(shape[0], images.len(), "{model}/{name}");
            let view_len = shape[1] * shape[2] * shape[3];
            for (i, file) in images.iter().enumerate() {
                let got = p.preprocess(&fixture_image(file.as_str().unwrap()));
                assert_eq!(got.shape().to_vec(), shape[1..].to_vec(), "{model}/{name}");
                let want = &values[i * view_len..(i + 1) * view_len];
                assert_same_values(&format!("{model}/{name}: image {i}"), &got.data, want);
            }
        }
    }
}
