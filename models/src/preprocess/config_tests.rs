use super::*;

#[test]
fn parses_a_clip_config_and_ignores_unknown_keys() {
    let cfg = PreprocessorConfig::from_json(
        r#"{"crop_size": {"height": 336, "width": 336}, "do_center_crop": true,
            "image_mean": [0.48145466, 0.4578275, 0.40821073], "resample": 3,
            "size": {"shortest_edge": 336}, "image_processor_type": "CLIPImageProcessor",
            "feature_extractor_type": "CLIPFeatureExtractor", "do_convert_rgb": null}"#,
    )
    .unwrap();
    assert_eq!(
        cfg.size.unwrap().to_spec("size", false).unwrap(),
        SizeSpec::ShortestEdge(336)
    );
    assert_eq!(
        cfg.crop_size.unwrap().to_spec("crop_size", true).unwrap(),
        SizeSpec::Exact {
            height: 336,
            width: 336
        }
    );
    assert_eq!(cfg.do_convert_rgb, None);
}

#[test]
fn old_size_forms_follow_get_size_dict() {
    assert_eq!(
        SizeParam::Int(224).to_spec("size", false).unwrap(),
        SizeSpec::ShortestEdge(224)
    );
    assert_eq!(
        SizeParam::Int(224).to_spec("crop_size", true).unwrap(),
        SizeSpec::Exact {
            height: 224,
            width: 224
        }
    );
    assert_eq!(
        SizeParam::Pair([10, 20]).to_spec("size", false).unwrap(),
        SizeSpec::Exact {
            height: 10,
            width: 20
        }
    );
    let empty = SizeParam::Dict {
        shortest_edge: None,
        height: Some(3),
        width: None,
    };
    assert!(matches!(
        empty.to_spec("size", false),
        Err(ConfigError::Invalid { field: "size", .. })
    ));
}

#[test]
fn invalid_values_name_the_field() {
    let cfg = PreprocessorConfig::from_json(r#"{"resample": 9, "image_std": [1.0, 2.0]}"#).unwrap();
    assert!(cfg.filter().unwrap_err().to_string().contains("resample"));
    assert!(
        cfg.normalization()
            .unwrap_err()
            .to_string()
            .contains("image_std")
    );
    let err = PreprocessorConfig::from_json("{\"size\": \"big\"}").unwrap_err();
    assert!(matches!(err, ConfigError::Parse { .. }), "{err}");
}

#[test]
fn anyres_max_is_parsed_like_python_strip() {
    assert_eq!(parse_anyres_max("anyres_max_9").unwrap(), 9);
    assert_eq!(parse_anyres_max("anyres_max_16").unwrap(), 16);
    assert!(parse_anyres_max("anyres").is_err());
}

#[test]
fn scalar_mean_is_broadcast() {
    let cfg = PreprocessorConfig::from_json(r#"{"image_mean": 0.5, "image_std": 0.5}"#).unwrap();
    let n = cfg.normalization().unwrap();
    assert_eq!(n.mean_std.unwrap().mean, [0.5; 3]);
    assert_eq!(n.rescale_factor, Some(1.0 / 255.0));
}
