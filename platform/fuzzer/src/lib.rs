//! Seeded abuse inputs for tests: request bodies, GraphQL documents, variables and webhook
//! bodies that are almost right, plainly wrong or hostile, the same ones for the same seed. The
//! fuzz tests run a bounded number of cases in CI; `FUZZ_SEED` and `FUZZ_CASES` choose another
//! seed or a longer run (README, "Running the tests").

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};

/// Pieces that break parsers: escapes, surrogates, huge numbers, deep nesting, long runs.
const HOSTILE: &[&str] = &[
    "\"",
    "\\",
    "\\u0000",
    "\\ud800",
    "\u{0}",
    "\u{feff}",
    "\u{10ffff}",
    "1e999999",
    "-0",
    "NaN",
    "9223372036854775808",
    "-9223372036854775809",
    "0.0000000000000000000000000001",
    "null",
    "true",
    "[]",
    "{}",
    "{\"__proto__\":1}",
    "' OR 1=1 --",
    "%00",
    "../../etc/passwd",
    "<script>alert(1)</script>",
];

/// GraphQL tokens for documents that are almost GraphQL.
const TOKENS: &[&str] = &[
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    ":",
    "=",
    "!",
    "|",
    "&",
    ",",
    "...",
    "@",
    "$v",
    "$",
    "query",
    "mutation",
    "subscription",
    "fragment",
    "F",
    "on",
    "...F",
    "__typename",
    "__schema",
    "__type(name: \"Query\")",
    "types",
    "name",
    "fields",
    "@include(if: true)",
    "@skip(if: $v)",
    "@defer",
    "\"s\"",
    "\"\"\"block\"\"\"",
    "\"unterminated",
    "1",
    "-1.5e3",
    "1e999",
    "true",
    "null",
    "ENUM",
    "#comment\n",
    "\n",
    " ",
    "\u{feff}",
];

pub struct Fuzzer {
    rng: ChaCha8Rng,
    pub seed: u64,
}

impl Fuzzer {
    /// Seeded by `FUZZ_SEED` when set, else by `default_seed` (each test its own, fixed).
    pub fn from_env(default_seed: u64) -> Self {
        let seed = std::env::var("FUZZ_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(default_seed);
        Self {
            rng: ChaCha8Rng::seed_from_u64(seed),
            seed,
        }
    }

    /// How many cases to run: `FUZZ_CASES` when set, else `default`.
    pub fn cases(default: usize) -> usize {
        std::env::var("FUZZ_CASES")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(default)
    }

    pub fn below(&mut self, n: usize) -> usize {
        self.rng.gen_range(0..n.max(1))
    }

    pub fn chance(&mut self, probability: f64) -> bool {
        self.rng.gen_bool(probability)
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// A hostile piece, or a long run of one character, or deep nesting.
    pub fn hostile(&mut self) -> String {
        match self.below(4) {
            0 => "x".repeat(1 + self.below(100_000)),
            1 => {
                let depth = 1 + self.below(2_000);
                format!("{}{}", "[".repeat(depth), "]".repeat(depth))
            }
            _ => self.pick(HOSTILE).to_string(),
        }
    }

    /// `valid` with one to four mutations: bytes flipped, inserted or removed, a range
    /// repeated, the end cut off, a hostile piece put in.
    pub fn mutate(&mut self, valid: &[u8]) -> Vec<u8> {
        let mut bytes = valid.to_vec();
        for _ in 0..1 + self.below(4) {
            let at = self.below(bytes.len() + 1);
            match self.below(6) {
                0 if !bytes.is_empty() => {
                    let i = self.below(bytes.len());
                    bytes[i] = self.rng.gen();
                }
                1 => bytes.insert(at, self.rng.gen()),
                2 if at < bytes.len() => {
                    let end = (at + 1 + self.below(16)).min(bytes.len());
                    bytes.drain(at..end);
                }
                3 if at < bytes.len() => {
                    let end = (at + 1 + self.below(64)).min(bytes.len());
                    let piece = bytes[at..end].to_vec();
                    for _ in 0..1 + self.below(50) {
                        bytes.splice(at..at, piece.iter().copied());
                    }
                }
                4 => bytes.truncate(at),
                _ => {
                    let piece = self.hostile();
                    bytes.splice(at..at, piece.into_bytes());
                }
            }
        }
        bytes
    }

    /// Any JSON value, nested up to `depth`.
    pub fn json_value(&mut self, depth: usize) -> Value {
        let kinds = if depth == 0 { 5 } else { 7 };
        match self.below(kinds) {
            0 => Value::Null,
            1 => json!(self.chance(0.5)),
            2 => json!(self.rng.gen::<i64>()),
            3 => json!(self.rng.gen::<f64>() * 1e12),
            4 => json!(self.hostile()),
            5 => Value::Array(
                (0..self.below(5))
                    .map(|_| self.json_value(depth - 1))
                    .collect(),
            ),
            _ => Value::Object(
                (0..self.below(5))
                    .map(|_| {
                        let key = if self.chance(0.5) {
                            self.pick(&["query", "variables", "id", "input", "first", "$v"])
                                .to_string()
                        } else {
                            self.hostile()
                        };
                        (key, self.json_value(depth - 1))
                    })
                    .collect(),
            ),
        }
    }

    /// A GraphQL document that is almost one: tokens and the schema's `names` in a random
    /// order, or a selection nested very deep, or a valid shape with hostile arguments.
    pub fn document(&mut self, names: &[&str]) -> String {
        match self.below(3) {
            0 => (0..1 + self.below(60))
                .map(|_| {
                    if self.chance(0.3) && !names.is_empty() {
                        self.pick(names).to_string()
                    } else {
                        self.pick(TOKENS).to_string()
                    }
                })
                .collect::<Vec<_>>()
                .join(" "),
            1 => {
                let depth = 1 + self.below(500);
                let name = if names.is_empty() {
                    "a"
                } else {
                    *self.pick(names)
                };
                format!(
                    "{}{}",
                    format!("{{ {name} ").repeat(depth),
                    "}".repeat(depth)
                )
            }
            _ => {
                let name = if names.is_empty() {
                    "a"
                } else {
                    *self.pick(names)
                };
                let argument = serde_json::to_string(&self.hostile()).unwrap_or_default();
                format!(
                    "query Q($v: String) {{ {name}(id: {argument}, first: {}) {{ __typename }} }}",
                    self.rng.gen::<i64>()
                )
            }
        }
    }
}
