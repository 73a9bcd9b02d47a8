//! Chat templates of real Hub checkpoints, rendered and compared with what transformers 4.57
//! renders for them (expected strings produced by Jinja2 3.1.6 in HF's environment:
//! `ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)` with the
//! `AssistantTracker` extension, `tojson`, `raise_exception` and `strftime_now`).

use super::{ChatMessage, ChatTemplate, ContentPart, PromptError, Role, SpecialTokens};

/// llava-hf/llava-1.5-7b-hf `chat_template.json`.
const LLAVA: &str = r#"{% for message in messages %}{% if message['role'] != 'system' %}{{ message['role'].upper() + ': '}}{% endif %}{# Render all images first #}{% for content in message['content'] | selectattr('type', 'equalto', 'image') %}{{ '<image>\n' }}{% endfor %}{# Render all text next #}{% if message['role'] != 'assistant' %}{% for content in message['content'] | selectattr('type', 'equalto', 'text') %}{{ content['text'] + ' '}}{% endfor %}{% else %}{% for content in message['content'] | selectattr('type', 'equalto', 'text') %}{% generation %}{{ content['text'] + ' '}}{% endgeneration %}{% endfor %}{% endif %}{% endfor %}{% if add_generation_prompt %}{{ 'ASSISTANT:' }}{% endif %}"#;

/// llava-hf/llava-onevision-qwen2-0.5b-ov-hf `chat_template.json` (the same text as the
/// fixture's; the model card shows `<|im_start|>user <image>\n…<|im_end|><|im_start|>assistant\n`).
const ONEVISION: &str = r#"{% for message in messages %}{{'<|im_start|>' + message['role'] + ' '}}{# Render all images first #}{% for content in message['content'] | selectattr('type', 'equalto', 'image') %}{{ '<image>' }}{% endfor %}{# Render all video then #}{% for content in message['content'] | selectattr('type', 'equalto', 'video') %}{{ '<video>' }}{% endfor %}{# Render all text next #}{% if message['role'] != 'assistant' %}{% for content in message['content'] | selectattr('type', 'equalto', 'text') %}{{ '\n' + content['text'] }}{% endfor %}{% else %}{% for content in message['content'] | selectattr('type', 'equalto', 'text') %}{% generation %}{{ '\n' + content['text'] }}{% endgeneration %}{% endfor %}{% endif %}{{'<|im_end|>'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"#;

/// Qwen/Qwen2-VL-7B-Instruct's template with a `raise_exception` guard added, as a
/// `chat_template.jinja` file ends (with a newline).
const QWEN2VL: &str = r#"{% set image_count = namespace(value=0) %}{% set video_count = namespace(value=0) %}{% if messages[0]['role'] == 'assistant' %}{{ raise_exception('Conversations must start with a user or system message') }}{% endif %}{% for message in messages %}{% if loop.first and message['role'] != 'system' %}<|im_start|>system
You are a helpful assistant.<|im_end|>
{% endif %}<|im_start|>{{ message['role'] }}
{% if message['content'] is string %}{{ message['content'] }}<|im_end|>
{% else %}{% for content in message['content'] %}{% if content['type'] == 'image' or 'image' in content or 'image_url' in content %}{% set image_count.value = image_count.value + 1 %}{% if add_vision_id %}Picture {{ image_count.value }}: {% endif %}<|vision_start|><|image_pad|><|vision_end|>{% elif content['type'] == 'video' or 'video' in content %}{% set video_count.value = video_count.value + 1 %}{% if add_vision_id %}Video {{ video_count.value }}: {% endif %}<|vision_start|><|video_pad|><|vision_end|>{% elif 'text' in content %}{{ content['text'] }}{% endif %}{% endfor %}<|im_end|>
{% endif %}{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant
{% endif %}
"#;

/// HuggingFaceTB/SmolVLM-Instruct (Idefics3) template.
const SMOLVLM: &str = r#"<|im_start|>{% for message in messages %}{{message['role'] | capitalize}}{% if message['content'][0]['type'] == 'image' %}{{':'}}{% else %}{{': '}}{% endif %}{% for line in message['content'] %}{% if line['type'] == 'text' %}{{line['text']}}{% elif line['type'] == 'image' %}{{ '<image>' }}{% endif %}{% endfor %}<end_of_utterance>
{% endfor %}{% if add_generation_prompt %}{{ 'Assistant:' }}{% endif %}"#;

/// Python idioms and whitespace control seen in Hub templates: `{{-`/`{%-`, `.strip()`,
/// `.split()`, `.startswith()`, `.items()`, `namespace`, `break`, `tojson(indent=)`,
/// `{%- generation -%}`, printing `None`/`True`/lists, a trailing newline.
const PYCOMPAT: &str = r#"{{- bos_token }}
{%- set ns = namespace(images=0, first_text=none) %}
{%- for message in messages %}
    {%- if message.role == 'system' %}
        {{- '<<SYS>>\n' + message.content[0].text.strip() + '\n<</SYS>>\n\n' }}
    {%- else %}
        {%- for part in message.content %}
            {%- if part.type == 'image' %}
                {%- set ns.images = ns.images + 1 %}
                {{- '<img' ~ ns.images ~ '>' }}
            {%- elif part.text.startswith('/') %}
                {{- 'CMD ' + part.text.split(' ')[0][1:].upper() + ' ' }}
            {%- else %}
                {%- if ns.first_text is none %}{% set ns.first_text = part.text %}{% endif %}
                {{- '[' + message.role | upper + '] ' + part.text | trim }}
            {%- endif %}
        {%- endfor %}
        {%- if message.role == 'assistant' %}
            {%- generation -%}
              {{ ' ' + eos_token }}
            {%- endgeneration %}
        {%- endif %}
    {%- endif %}
    {{- '\n' }}
{%- endfor %}
{%- for key, value in {'a': 1, 'b': [true, none, 'é']}.items() %}{{ key }}={{ value | tojson }};{% endfor %}
{%- for m in messages %}{% if m.role == 'assistant' %}{% break %}{% endif %}{{ loop.index }}{% endfor %}
{{ messages | length }}|{{ none }}|{{ true }}|{{ 1.5 }}|{{ ns.first_text }}|{{ messages[-1].content | tojson(indent=1) }}|{{ messages[0]['content'] }}
{%- if add_generation_prompt %}{{ '[ASSISTANT]' }}{% endif %}
"#;

fn image() -> ContentPart {
    ContentPart::Image
}

fn text(s: &str) -> ContentPart {
    ContentPart::Text(s.to_string())
}

fn msg(role: Role, content: Vec<ContentPart>) -> ChatMessage {
    ChatMessage { role, content }
}

fn special() -> SpecialTokens {
    SpecialTokens {
        bos_token: Some("<s>".into()),
        eos_token: Some("</s>".into()),
        unk_token: Some("<unk>".into()),
        ..Default::default()
    }
}

fn render(template: &str, messages: &[ChatMessage], add_generation_prompt: bool) -> String {
    ChatTemplate::from_source("test", template)
        .unwrap()
        .render(messages, add_generation_prompt, &special())
        .unwrap()
}

#[test]
fn llava_1_5() {
    let one = [msg(Role::User, vec![image(), text("What is this?")])];
    assert_eq!(
        render(LLAVA, &one, true),
        "USER: <image>\nWhat is this? ASSISTANT:"
    );
    assert_eq!(
        render(LLAVA, &[msg(Role::User, vec![image(), text("Hi")])], false),
        "USER: <image>\nHi "
    );
    let multi = [
        msg(Role::System, vec![text("Be brief.")]),
        msg(Role::User, vec![text("Compare"), image(), image()]),
        msg(Role::Assistant, vec![text("Both are cats.")]),
        msg(Role::User, vec![text("Why?")]),
    ];
    assert_eq!(
        render(LLAVA, &multi, true),
        "Be brief. USER: <image>\n<image>\nCompare ASSISTANT: Both are cats. USER: Why? ASSISTANT:"
    );
}

#[test]
fn llava_onevision() {
    let one = [msg(
        Role::User,
        vec![image(), text("What is shown in this image?")],
    )];
    assert_eq!(
        render(ONEVISION, &one, true),
        "<|im_start|>user <image>\nWhat is shown in this image?<|im_end|><|im_start|>assistant\n"
    );
    let multi = [
        msg(Role::System, vec![text("You are helpful.")]),
        msg(Role::User, vec![image(), text("Describe"), image()]),
        msg(Role::Assistant, vec![text("Two dogs.")]),
        msg(Role::User, vec![text("Colors?")]),
    ];
    assert_eq!(
        render(ONEVISION, &multi, true),
        "<|im_start|>system \nYou are helpful.<|im_end|><|im_start|>user <image><image>\nDescribe<|im_end|>\
         <|im_start|>assistant \nTwo dogs.<|im_end|><|im_start|>user \nColors?<|im_end|><|im_start|>assistant\n"
    );
}

#[test]
fn qwen2_vl() {
    let one = [msg(Role::User, vec![image(), text("Describe.")])];
    assert_eq!(
        render(QWEN2VL, &one, true),
        "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n\
         <|vision_start|><|image_pad|><|vision_end|>Describe.<|im_end|>\n<|im_start|>assistant\n"
    );
    let with_system = [
        msg(Role::System, vec![text("Be terse.")]),
        msg(Role::User, vec![text("a"), image(), text("b")]),
        msg(Role::Assistant, vec![text("ok")]),
    ];
    assert_eq!(
        render(QWEN2VL, &with_system, false),
        "<|im_start|>system\nBe terse.<|im_end|>\n<|im_start|>user\n\
         a<|vision_start|><|image_pad|><|vision_end|>b<|im_end|>\n<|im_start|>assistant\nok<|im_end|>\n"
    );
}

#[test]
fn raise_exception_reports_message_and_line() {
    let template = ChatTemplate::from_source("qwen2-vl.jinja", QWEN2VL).unwrap();
    let err = template
        .render(&[ChatMessage::text(Role::Assistant, "x")], true, &special())
        .unwrap_err();
    match &err {
        PromptError::TemplateRaised {
            name,
            line,
            message,
        } => {
            assert_eq!(name, "qwen2-vl.jinja");
            assert_eq!(*line, 1);
            assert_eq!(
                message,
                "Conversations must start with a user or system message"
            );
        }
        other => panic!("expected TemplateRaised, got {other:?}"),
    }
    assert!(
        err.to_string().contains("Conversations must start"),
        "{err}"
    );
}

#[test]
fn smolvlm() {
    let one = [msg(
        Role::User,
        vec![image(), text("Can you describe this image?")],
    )];
    assert_eq!(
        render(SMOLVLM, &one, true),
        "<|im_start|>User:<image>Can you describe this image?<end_of_utterance>\nAssistant:"
    );
    let multi = [
        msg(Role::User, vec![text("What is in"), image()]),
        msg(Role::Assistant, vec![text("A cat.")]),
        msg(Role::User, vec![text("Sure?")]),
    ];
    assert_eq!(
        render(SMOLVLM, &multi, true),
        "<|im_start|>User: What is in<image><end_of_utterance>\nAssistant: A cat.<end_of_utterance>\n\
         User: Sure?<end_of_utterance>\nAssistant:"
    );
}

#[test]
fn python_idioms_render_like_jinja2() {
    let messages = [
        msg(Role::System, vec![text("  Be kind.  ")]),
        msg(
            Role::User,
            vec![image(), text("/look at this"), text("  hello  "), image()],
        ),
        msg(Role::Assistant, vec![text("Hi! 中文")]),
    ];
    assert_eq!(
        render(PYCOMPAT, &messages, true),
        "<s><<SYS>>\nBe kind.\n<</SYS>>\n\n\n<img1>CMD LOOK [USER] hello<img2>\n[ASSISTANT] Hi! 中文 </s>\n\
         a=1;b=[true, null, \"é\"];123|None|True|1.5|  hello  |[\n {\n  \"type\": \"text\",\n  \
         \"text\": \"Hi! 中文\"\n }\n]|[{'type': 'text', 'text': '  Be kind.  '}][ASSISTANT]"
    );
}

#[test]
fn one_trailing_newline_is_dropped() {
    // Jinja2's keep_trailing_newline=False: a single final newline of the source goes.
    let t = |src: &str| render(src, &[], false);
    assert_eq!(t("a\n"), "a");
    assert_eq!(t("a\n\n"), "a\n");
    assert_eq!(t("{{ bos_token }}\n"), "<s>");
}

#[test]
fn undefined_special_tokens_render_empty() {
    // HF passes only the special tokens the tokenizer has; others are undefined.
    let out = ChatTemplate::from_source(
        "t",
        "[{{ pad_token }}]{% if pad_token is defined %}x{% endif %}",
    )
    .unwrap()
    .render(&[], false, &special())
    .unwrap();
    assert_eq!(out, "[]");
}

#[test]
fn syntax_errors_name_the_template_and_line() {
    let err = ChatTemplate::from_source("bad.jinja", "ok\n{% for x in %}").unwrap_err();
    match err {
        PromptError::TemplateSyntax { name, line, .. } => {
            assert_eq!(name, "bad.jinja");
            assert_eq!(line, 2);
        }
        other => panic!("expected TemplateSyntax, got {other:?}"),
    }
}

#[test]
fn strftime_now_is_available() {
    let out = render("{{ strftime_now('%Y') | length }}", &[], false);
    assert_eq!(out, "4");
}

mod loading {
    use super::super::{ChatTemplate, PromptError, TemplateOrigin};
    use std::path::PathBuf;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("iris-template-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn write(dir: &std::path::Path, file: &str, text: &str) {
        std::fs::write(dir.join(file), text).unwrap();
    }

    #[test]
    fn processor_prefers_legacy_json_tokenizer_prefers_jinja() {
        let dir = temp_dir("order");
        write(&dir, "chat_template.json", r#"{"chat_template": "json"}"#);
        write(&dir, "chat_template.jinja", "jinja\n");
        write(
            &dir,
            "tokenizer_config.json",
            r#"{"chat_template": "config"}"#,
        );
        let processor = ChatTemplate::for_processor(&dir).unwrap().unwrap();
        assert_eq!(processor.source(), "json");
        assert!(matches!(
            processor.origin(),
            TemplateOrigin::ChatTemplateJson(_)
        ));
        let tokenizer = ChatTemplate::for_tokenizer(&dir).unwrap().unwrap();
        assert_eq!(tokenizer.source(), "jinja\n");
        assert_eq!(
            ChatTemplate::from_checkpoint(&dir).unwrap().source(),
            "json"
        );
    }

    #[test]
    fn processor_config_then_tokenizer_config() {
        let dir = temp_dir("fallback");
        write(
            &dir,
            "processor_config.json",
            r#"{"chat_template": "from processor"}"#,
        );
        write(
            &dir,
            "tokenizer_config.json",
            r#"{"chat_template": [{"name": "tool_use", "template": "tools"}, {"name": "default", "template": "plain"}]}"#,
        );
        assert_eq!(
            ChatTemplate::from_checkpoint(&dir).unwrap().source(),
            "from processor"
        );
        let tokenizer = ChatTemplate::for_tokenizer(&dir).unwrap().unwrap();
        assert_eq!(tokenizer.source(), "plain");
        assert!(matches!(
            tokenizer.origin(),
            TemplateOrigin::TokenizerConfig(_)
        ));
        std::fs::remove_file(dir.join("processor_config.json")).unwrap();
        assert_eq!(
            ChatTemplate::from_checkpoint(&dir).unwrap().source(),
            "plain"
        );
    }

    #[test]
    fn missing_and_unnamed_templates_are_errors() {
        let dir = temp_dir("none");
        let err = ChatTemplate::from_checkpoint(&dir).unwrap_err();
        assert!(matches!(err, PromptError::NoChatTemplate { .. }), "{err}");
        write(
            &dir,
            "tokenizer_config.json",
            r#"{"chat_template": [{"name": "rag", "template": "x"}]}"#,
        );
        let err = ChatTemplate::from_checkpoint(&dir).unwrap_err();
        assert!(
            matches!(&err, PromptError::NoDefaultTemplate { available, .. } if available == &["rag"]),
            "{err}"
        );
        write(&dir, "chat_template.json", "{broken");
        let err = ChatTemplate::from_checkpoint(&dir).unwrap_err();
        assert!(
            matches!(&err, PromptError::Json { path, .. } if path.ends_with("chat_template.json")),
            "{err}"
        );
    }
}
