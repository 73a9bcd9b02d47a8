//! The slow tier: a real downloaded checkpoint, run when `IRIS_MODEL_DIR` names one
//! (`IRIS_SLOW=1 IRIS_MODEL_DIR=~/models/blip2-opt-2.7b bash scripts/test.sh`). Ignored
//! otherwise. For Q-Former families (e.g. Salesforce/blip2-opt-2.7b) the attention maps are
//! checked too.

use iris_models::device::{DeviceChoice, Precision};
use iris_models::generate::{CancelToken, Sampling, StopReason};
use iris_models::preprocess::load_image;
use iris_models::session::{Request, Session};

use crate::fixtures;

#[test]
#[ignore = "needs a real checkpoint: set IRIS_MODEL_DIR"]
fn real_checkpoint_answers_about_an_image() {
    let dir =
        std::env::var_os("IRIS_MODEL_DIR").expect("set IRIS_MODEL_DIR to a checkpoint folder");
    let session = Session::load(
        std::path::Path::new(&dir),
        DeviceChoice::Auto,
        Precision::F32,
    )
    .unwrap();
    let image = load_image(&fixtures::image_path("large_1024x768.png")).unwrap();
    let report = session
        .processor()
        .inspect(std::slice::from_ref(&image), "What shapes do you see?")
        .unwrap();
    let request = Request {
        history: Vec::new(),
        images: vec![image],
        prompt: "What shapes do you see?".into(),
        max_new_tokens: 24,
        sampling: Sampling::Greedy,
        multi_image: Default::default(),
    };
    let mut streamed = String::new();
    let answer = session
        .generate(&request, &CancelToken::new(), |p| streamed.push_str(p))
        .unwrap();
    eprintln!(
        "{} on {}: {:?}",
        session.config().model_type(),
        session.device_label(),
        answer.text
    );
    assert_eq!(answer.image_tokens, report.image_tokens);
    assert_eq!(answer.prompt_tokens, report.prompt_tokens);
    assert!(!answer.text.trim().is_empty());
    assert_eq!(streamed, answer.text);
    assert!(matches!(
        answer.stop,
        StopReason::Eos | StopReason::MaxTokens
    ));
}
