//! Questions about a scene with their one correct answer, and the words they are made of.

use super::scenes::{COLOURS, Colour, PRINTED_WORDS, SHAPES, Scene, Shape, Size, band};

const COUNT_WORDS: [&str; 5] = ["one", "two", "three", "four", "five"];
/// The words of the question and answer templates, apart from names.
const TEMPLATE_WORDS: [&str; 29] = [
    "what", "colour", "is", "the", "?", "shape", "object", "how", "many", "shapes", "are", "there",
    "on", "left", "or", "right", "at", "top", "bottom", "which", "larger", ",", "word", "written",
    "describe", "image", "a", "and", "with",
];

/// What a question asks about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QuestionKind {
    Colour,
    Shape,
    Count,
    Position,
    Size,
    Word,
    Describe,
}

/// A question about a scene and its one correct answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Qa {
    pub question: String,
    pub answer: String,
    pub kind: QuestionKind,
    /// Index into [`Scene::shapes`] of the shape the question is about, if it names one (for
    /// a size question, the larger shape).
    pub target: Option<usize>,
}

impl Qa {
    fn new(kind: QuestionKind, question: String, answer: &str, target: Option<usize>) -> Self {
        let answer = answer.to_string();
        Self {
            question,
            answer,
            kind,
            target,
        }
    }
}

impl Scene {
    /// Every question the scene answers unambiguously, in a fixed order (colour, shape, count,
    /// position, size, word, describe); the same scene always gives the same list.
    pub fn questions(&self) -> Vec<Qa> {
        let mut qas = Vec::new();
        self.identity_questions(&mut qas);
        self.count_questions(&mut qas);
        self.position_questions(&mut qas);
        self.size_questions(&mut qas);
        if let Some(word) = &self.word {
            let question = "what word is written ?".to_string();
            qas.push(Qa::new(QuestionKind::Word, question, word.text, None));
        }
        let (question, answer) = ("describe the image".to_string(), self.description());
        qas.push(Qa::new(QuestionKind::Describe, question, &answer, None));
        qas
    }

    /// Colour questions for kinds that occur once, shape questions for colours that occur once.
    fn identity_questions(&self, qas: &mut Vec<Qa>) {
        for kind in SHAPES {
            if let [i] = self.indices(|s| s.kind == kind)[..] {
                let question = format!("what colour is the {} ?", kind.name());
                let answer = self.shapes[i].colour.name();
                qas.push(Qa::new(QuestionKind::Colour, question, answer, Some(i)));
            }
        }
        for colour in COLOURS {
            if let [i] = self.indices(|s| s.colour == colour)[..] {
                let question = format!("what shape is the {} object ?", colour.name());
                let answer = self.shapes[i].kind.name();
                qas.push(Qa::new(QuestionKind::Shape, question, answer, Some(i)));
            }
        }
    }

    /// The total, and the count of each kind present.
    fn count_questions(&self, qas: &mut Vec<Qa>) {
        let question = "how many shapes are there ?".to_string();
        let answer = COUNT_WORDS[self.shapes.len() - 1];
        qas.push(Qa::new(QuestionKind::Count, question, answer, None));
        for kind in SHAPES {
            let count = self.indices(|s| s.kind == kind).len();
            if count > 0 {
                let question = format!("how many {} are there ?", kind.plural());
                let answer = COUNT_WORDS[count - 1];
                qas.push(Qa::new(QuestionKind::Count, question, answer, None));
            }
        }
    }

    /// Left/right and top/bottom for each shape outside the centre band on that axis.
    fn position_questions(&self, qas: &mut Vec<Qa>) {
        for (i, shape) in self.shapes.iter().enumerate() {
            let label = shape.label();
            if let Some(side) = side_of(shape.cx, "left", "right") {
                let question = format!("is the {label} on the left or the right ?");
                qas.push(Qa::new(QuestionKind::Position, question, side, Some(i)));
            }
            if let Some(side) = side_of(shape.cy, "top", "bottom") {
                let question = format!("is the {label} at the top or the bottom ?");
                qas.push(Qa::new(QuestionKind::Position, question, side, Some(i)));
            }
        }
    }

    /// One question per pair of shapes of different sizes, naming them in scene order.
    fn size_questions(&self, qas: &mut Vec<Qa>) {
        for (i, first) in self.shapes.iter().enumerate() {
            for (j, second) in self.shapes.iter().enumerate().skip(i + 1) {
                if first.size != second.size {
                    let (a, b) = (first.label(), second.label());
                    let question = format!("which is larger , the {a} or the {b} ?");
                    let larger = if first.size == Size::Large { i } else { j };
                    let answer = format!("the {}", self.shapes[larger].label());
                    qas.push(Qa::new(QuestionKind::Size, question, &answer, Some(larger)));
                }
            }
        }
    }

    /// "a large red circle , a small blue star and a small white cross with the word cat":
    /// the shapes from left to right, then the word if there is one.
    pub fn description(&self) -> String {
        let mut shapes: Vec<&Shape> = self.shapes.iter().collect();
        shapes.sort_by(|a, b| a.cx.total_cmp(&b.cx));
        let phrases: Vec<String> = shapes
            .iter()
            .map(|s| format!("a {} {}", s.size.name(), s.label()))
            .collect();
        let mut text = match phrases.split_last() {
            Some((last, [])) => last.clone(),
            Some((last, rest)) => format!("{} and {last}", rest.join(" , ")),
            None => String::new(),
        };
        if let Some(word) = &self.word {
            text.push_str(&format!(" with the word {}", word.text));
        }
        text
    }

    fn indices(&self, keep: impl Fn(&Shape) -> bool) -> Vec<usize> {
        (0..self.shapes.len())
            .filter(|&i| keep(&self.shapes[i]))
            .collect()
    }
}

/// Text as the tokenizer's decoder writes the words back (WordPiece `cleanup`: no space before
/// "?", "," or "."): "a red circle , a blue star" → "a red circle, a blue star".
pub fn written(text: &str) -> String {
    text.replace(" ?", "?")
        .replace(" ,", ",")
        .replace(" .", ".")
}

/// Every word a question or answer can contain (as split by [`words`]), sorted and deduplicated.
pub fn vocabulary() -> Vec<&'static str> {
    let mut vocabulary: Vec<&'static str> = TEMPLATE_WORDS
        .into_iter()
        .chain(COUNT_WORDS)
        .chain(SHAPES.iter().flat_map(|k| [k.name(), k.plural()]))
        .chain(COLOURS.map(Colour::name))
        .chain([Size::Small.name(), Size::Large.name()])
        .chain(PRINTED_WORDS)
        .collect();
    vocabulary.sort_unstable();
    vocabulary.dedup();
    vocabulary
}

/// Splits text as HF tokenizers' `Whitespace` pre-tokenizer does (the regex `\w+|[^\w\s]+`):
/// runs of word characters, and runs of other non-space characters such as "?" or ",".
pub fn words(text: &str) -> Vec<&str> {
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    let mut pieces = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        if let Some((begin, in_word)) = start {
            if !c.is_whitespace() && is_word(c) == in_word {
                continue;
            }
            pieces.push(&text[begin..i]);
            start = None;
        }
        if !c.is_whitespace() {
            start = Some((i, is_word(c)));
        }
    }
    if let Some((begin, _)) = start {
        pieces.push(&text[begin..]);
    }
    pieces
}

/// `before` or `after` for a coordinate outside [`CENTRE_BAND`], `None` inside it.
fn side_of(t: f32, before: &'static str, after: &'static str) -> Option<&'static str> {
    match band(t) {
        0 => Some(before),
        2 => Some(after),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;
    use crate::demo::scenes::ShapeKind;
    use crate::demo::scenes::tests::{known_scene, shape};

    #[test]
    fn questions_and_answers_use_only_vocabulary_words() {
        let vocabulary = vocabulary();
        assert!(
            vocabulary.windows(2).all(|w| w[0] < w[1]),
            "sorted, no repeats"
        );
        let known: HashSet<&str> = vocabulary.iter().copied().collect();
        let mut rng = StdRng::seed_from_u64(3);
        let mut kinds = HashSet::new();
        for _ in 0..500 {
            for qa in Scene::random(&mut rng).questions() {
                for word in words(&qa.question).into_iter().chain(words(&qa.answer)) {
                    assert!(
                        known.contains(word),
                        "{word:?} of {qa:?} is not in the vocabulary"
                    );
                }
                let punctuated = qa.answer.contains(['?', '.']);
                assert!(
                    !punctuated && (qa.kind == QuestionKind::Describe || !qa.answer.contains(','))
                );
                kinds.insert(qa.kind);
            }
        }
        assert_eq!(kinds.len(), 7, "every question kind occurs");
    }

    #[test]
    fn words_splits_like_the_whitespace_pre_tokenizer() {
        let question = words("which is larger , the red circle ?");
        assert_eq!(
            question,
            ["which", "is", "larger", ",", "the", "red", "circle", "?"]
        );
        let odd = words("  a,b?!  c_1:d. ");
        assert_eq!(odd, ["a", ",", "b", "?!", "c_1", ":", "d", "."]);
        assert!(words(" \t").is_empty());
    }

    #[test]
    fn answers_on_a_known_scene() {
        let mut scene = known_scene();
        let qas = scene.questions();
        let expected = [
            ("what colour is the circle ?", "red", Some(0)),
            ("what colour is the star ?", "blue", Some(1)),
            ("what shape is the red object ?", "circle", Some(0)),
            ("what shape is the blue object ?", "star", Some(1)),
            ("how many shapes are there ?", "two", None),
            ("how many circles are there ?", "one", None),
            ("how many stars are there ?", "one", None),
            (
                "is the red circle on the left or the right ?",
                "left",
                Some(0),
            ),
            (
                "is the blue star on the left or the right ?",
                "right",
                Some(1),
            ),
            (
                "is the blue star at the top or the bottom ?",
                "top",
                Some(1),
            ),
            (
                "which is larger , the red circle or the blue star ?",
                "the blue star",
                Some(1),
            ),
            ("what word is written ?", "cat", None),
            (
                "describe the image",
                "a small red circle and a large blue star with the word cat",
                None,
            ),
        ];
        let found: Vec<_> = qas
            .iter()
            .map(|qa| (&*qa.question, &*qa.answer, qa.target))
            .collect();
        assert_eq!(
            found, expected,
            "the circle is at mid height: no top/bottom question"
        );
        scene.word = None;
        scene.shapes.push(shape(
            ShapeKind::Cross,
            Colour::White,
            Size::Small,
            0.5,
            0.8,
        ));
        let three = "a small red circle , a small white cross and a large blue star";
        assert_eq!(scene.description(), three);
    }
}
