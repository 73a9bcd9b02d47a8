//! A minijinja environment that behaves like the Jinja2 environment transformers 4.57 builds
//! for chat templates (`_compile_jinja_template` in `transformers/utils/chat_template_utils.py`):
//!
//! ```python
//! ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
//!                               extensions=[AssistantTracker, jinja2.ext.loopcontrols])
//! env.filters["tojson"] = tojson   # json.dumps(x, ensure_ascii=False, indent, separators, sort_keys)
//! env.globals["raise_exception"] = raise_exception   # raises TemplateError(message)
//! env.globals["strftime_now"] = strftime_now         # datetime.now().strftime(format)
//! ```
//!
//! `keep_trailing_newline` keeps Jinja2's default (`False`: one trailing newline of the
//! template source is dropped). `AssistantTracker` adds the `{% generation %}` …
//! `{% endgeneration %}` block, which renders its body unchanged; minijinja has no custom tags,
//! so [`rewrite_generation_tags`] turns it into `{% with %}` … `{% endwith %}` (also a scope of
//! its own, like the `CallBlock` HF compiles it to) before parsing. Python method calls
//! (`.upper()`, `.items()`, `.startswith()` …) come from minijinja-contrib's `pycompat`, and
//! printed values use Python's `str()` (`None`, `True`, `['a']`).

use minijinja::syntax::SyntaxConfig;
use minijinja::value::{Kwargs, Rest, Value, ValueKind};
use minijinja::{Environment, Error, ErrorKind};

use super::pyfmt::{JsonStyle, json_dumps, py_str, py_title};
use super::strftime::{CivilTime, strftime};

/// The error `raise_exception(message)` carries, so render errors can tell it apart.
#[derive(Debug)]
pub(crate) struct TemplateRaised(pub String);

impl std::fmt::Display for TemplateRaised {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TemplateRaised {}

/// The environment HF renders chat templates in (see the module docs).
pub(crate) fn hf_environment() -> Environment<'static> {
    let mut env = Environment::new();
    let syntax = SyntaxConfig::builder()
        .trim_blocks(true)
        .lstrip_blocks(true)
        .keep_trailing_newline(false)
        .build()
        .expect("the default delimiters form a valid syntax");
    env.set_syntax(syntax);
    // minijinja would escape templates named `*.json` / `*.html`; Jinja2 here never escapes.
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    minijinja_contrib::add_to_environment(&mut env);
    env.set_unknown_method_callback(python_method);
    env.add_filter("tojson", tojson);
    env.add_function("raise_exception", raise_exception);
    env.add_function("strftime_now", strftime_now);
    env.set_formatter(|out, state, value| match value.kind() {
        ValueKind::None | ValueKind::Bool | ValueKind::Seq | ValueKind::Map | ValueKind::Number => {
            std::fmt::Write::write_str(out, &py_str(value))
                .map_err(|_| Error::new(ErrorKind::WriteFailure, "cannot write the output"))
        }
        _ => minijinja::escape_formatter(out, state, value),
    });
    env
}

/// Python methods on values (`.upper()`, `.items()`, …): minijinja-contrib's pycompat, except
/// `str.title()`, which pycompat implements with the `title` filter's word rules.
fn python_method(
    state: &mut minijinja::State,
    value: &Value,
    method: &str,
    args: &[Value],
) -> Result<Value, Error> {
    match (value.as_str(), method, args) {
        (Some(s), "title", []) => Ok(Value::from(py_title(s))),
        _ => minijinja_contrib::pycompat::unknown_method_callback(state, value, method, args),
    }
}

/// HF's `tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False)`.
fn tojson(value: &Value, args: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let arg = |pos: usize, name: &str| -> Result<Option<Value>, Error> {
        match kwargs.get::<Option<Value>>(name)? {
            Some(v) => Ok(Some(v)),
            None => Ok(args.get(pos).cloned()),
        }
    };
    let given = |v: &Option<Value>| {
        v.as_ref()
            .filter(|v| !v.is_none() && !v.is_undefined())
            .cloned()
    };
    let indent = match given(&arg(1, "indent")?) {
        None => None,
        Some(v) if v.kind() == ValueKind::String => {
            Some(v.as_str().unwrap_or_default().to_string())
        }
        Some(v) => Some(" ".repeat(i64::try_from(v)?.max(0) as usize)),
    };
    let mut style = JsonStyle::new(indent);
    if let Some(v) = given(&arg(0, "ensure_ascii")?) {
        style.ensure_ascii = v.is_true();
    }
    if let Some(v) = given(&arg(2, "separators")?) {
        let parts: Vec<Value> = v.try_iter()?.collect();
        match parts.as_slice() {
            [item, key] => {
                style.item_separator = py_str(item);
                style.key_separator = py_str(key);
            }
            _ => {
                return Err(Error::new(
                    ErrorKind::InvalidOperation,
                    "tojson: separators must be an (item_separator, key_separator) pair",
                ));
            }
        }
    }
    if let Some(v) = given(&arg(3, "sort_keys")?) {
        style.sort_keys = v.is_true();
    }
    kwargs.assert_all_used()?;
    Ok(Value::from(json_dumps(value, &style)?))
}

/// HF's `raise_exception(message)`: fails the render with the template's own message.
fn raise_exception(message: Value) -> Result<Value, Error> {
    let message = py_str(&message);
    Err(Error::new(ErrorKind::InvalidOperation, message.clone())
        .with_source(TemplateRaised(message)))
}

/// HF's `strftime_now(format)` (in UTC here; HF uses the local time zone).
fn strftime_now(format: String) -> String {
    strftime(&CivilTime::now_utc(), &format)
}

/// Rewrites HF's `{% generation %}` / `{% endgeneration %}` tags into `{% with %}` /
/// `{% endwith %}`, keeping whitespace-control markers (`{%- generation -%}`) and every
/// newline, so line numbers in errors still point into the original source. Text inside
/// comments, `{% raw %}` blocks and string literals is left alone.
pub(crate) fn rewrite_generation_tags(source: &str) -> String {
    let mut out = String::with_capacity(source.len());
    let mut rest = source;
    let mut in_raw = false;
    while let Some(start) = rest.find('{') {
        let (before, tail) = rest.split_at(start);
        out.push_str(before);
        let (consumed, replacement) = if tail.starts_with("{#") && !in_raw {
            let end = tail.find("#}").map_or(tail.len(), |e| e + 2);
            (end, None)
        } else if tail.starts_with("{{") && !in_raw {
            (scan_to_close(tail, "}}"), None)
        } else if tail.starts_with("{%") {
            let end = scan_to_close(tail, "%}");
            let tag = &tail[..end];
            match tag_name(tag) {
                Some("raw") if !in_raw => in_raw = true,
                Some("endraw") => in_raw = false,
                _ => {}
            }
            let replacement = match tag_name(tag) {
                Some("generation") if !in_raw => Some(rename_tag(tag, "generation", "with")),
                Some("endgeneration") if !in_raw => {
                    Some(rename_tag(tag, "endgeneration", "endwith"))
                }
                _ => None,
            };
            (end, replacement)
        } else {
            (1, None)
        };
        match replacement {
            Some(text) => out.push_str(&text),
            None => out.push_str(&tail[..consumed]),
        }
        rest = &tail[consumed..];
    }
    out.push_str(rest);
    out
}

/// Length of `tail` up to and including `close`, skipping quoted strings.
fn scan_to_close(tail: &str, close: &str) -> usize {
    let bytes = tail.as_bytes();
    let mut i = 2;
    let mut quote: Option<u8> = None;
    while i < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(_) if b == b'\\' => i += 1,
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if b == b'\'' || b == b'"' => quote = Some(b),
            None if tail[i..].starts_with(close) => return i + close.len(),
            None => {}
        }
        i += 1;
    }
    tail.len()
}

/// The statement name of a block tag (`{%- generation -%}` → `generation`).
fn tag_name(tag: &str) -> Option<&str> {
    let inner = tag
        .strip_prefix("{%")?
        .trim_start_matches(['-', '+'])
        .trim_start();
    let end = inner
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(inner.len());
    let rest = inner[end..].trim_start().trim_start_matches(['-', '+']);
    (rest.starts_with("%}") || rest.is_empty())
        .then_some(&inner[..end])
        .filter(|n| !n.is_empty())
}

/// Replaces the first occurrence of the statement name `from` in `tag` by `to`.
fn rename_tag(tag: &str, from: &str, to: &str) -> String {
    tag.replacen(from, to, 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_tags_become_scopes() {
        let src =
            "{% for m in messages %}{%- generation -%}\n{{ m }}{% endgeneration %}{% endfor %}";
        assert_eq!(
            rewrite_generation_tags(src),
            "{% for m in messages %}{%- with -%}\n{{ m }}{% endwith %}{% endfor %}"
        );
        let spaced = "{%+  generation  +%}x{%   endgeneration%}";
        assert_eq!(
            rewrite_generation_tags(spaced),
            "{%+  with  +%}x{%   endwith%}"
        );
    }

    #[test]
    fn generation_in_raw_comments_and_strings_is_kept() {
        let src =
            "{# {% generation %} #}{{ '{% generation %}' }}{% raw %}{% generation %}{% endraw %}";
        assert_eq!(rewrite_generation_tags(src), src);
        let not_a_tag = "{% set generation = 1 %}{{ generation }}";
        assert_eq!(rewrite_generation_tags(not_a_tag), not_a_tag);
    }

    #[test]
    fn python_forms_are_printed() {
        let env = hf_environment();
        let out = env
            .render_str(
                "{{ none }} {{ true }} {{ [1, 'a'] }} {{ 2.0 }} {{ 7 }} {{ x }}|",
                (),
            )
            .unwrap();
        assert_eq!(out, "None True [1, 'a'] 2.0 7 |");
    }

    #[test]
    fn tojson_is_pythons_json_dumps() {
        let env = hf_environment();
        let out = env
            .render_str(
                "{{ {'a': [1, 'é']} | tojson }}|{{ {'a': 1} | tojson(indent=2) }}|{{ 'é' | tojson(ensure_ascii=true) }}",
                (),
            )
            .unwrap();
        assert_eq!(out, "{\"a\": [1, \"é\"]}|{\n  \"a\": 1\n}|\"\\u00e9\"");
    }

    #[test]
    fn raise_exception_carries_its_message() {
        let env = hf_environment();
        let err = env
            .render_str("line one\n{{ raise_exception('no system role') }}", ())
            .unwrap_err();
        assert_eq!(err.line(), Some(2));
        let source =
            std::error::Error::source(&err).and_then(|s| s.downcast_ref::<TemplateRaised>());
        assert_eq!(source.map(|r| r.0.as_str()), Some("no system role"));
    }
}
