//! Properties of the golden format, tried on generated input with a fixed seed (proptest):
//!
//! - any text either parses or is refused with the number of a line it has, never a panic;
//! - matching any output against any golden file ends, within a bounded time, without a panic,
//!   and a match's assignment satisfies the golden file, as [`satisfies`] checks it on its own,
//!   without the matcher's code;
//! - output made from a golden file (its placeholders filled, its blocks in a random order)
//!   matches it;
//! - for runs of a generated program (random PIDs, streams interleaved at random, a block in a
//!   random order), the file bless infers matches every run it learned from and every new run
//!   of the same program, and refuses a run in which one stream's lines swap places.
//!
//! The case counts below keep `cargo test` fast (about a second for all of them here).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};

use crate::golden::format::{Golden, Item, Pattern, Tok, lines};
use crate::golden::infer::infer;
use crate::golden::matcher::{Assignment, Outcome, match_output};

/// The same cases on every machine and every run: a failure here is reproducible as it is.
const SEED: [u8; 32] = *b"xtask golden properties, fixed!!";

/// Longest any one match may take, far above what these small cases need (a few ms): the
/// matcher's step budget must end a hopeless search, not the test's patience.
const MATCH_TIME_LIMIT: Duration = Duration::from_secs(5);

fn check<S: Strategy>(cases: u32, strategy: S, test: impl Fn(S::Value) -> Result<(), String>)
where
    S::Value: std::fmt::Debug,
{
    let config = Config { cases, failure_persistence: None, ..Config::default() };
    let mut runner =
        TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &SEED));
    if let Err(e) = runner.run(&strategy, |value| test(value).map_err(TestCaseError::fail)) {
        panic!("{e}");
    }
}

/// Lines a user's editor could put in a golden file, hostile ones included.
fn golden_line() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "worker ",
        "pid ",
        "1",
        " ",
        "[..]",
        "[PID]",
        "[A_1]",
        "[",
        "]",
        "[x]",
        "[.",
        "[P",
        "[p]",
        "[1, 2]",
        "é",
        "\t",
        "[unordered]",
        "[/unordered]",
        "[interleaved]",
        "[stream]",
        "[/interleaved]",
    ]);
    prop_oneof![
        4 => prop::collection::vec(pieces, 0..5).prop_map(|p| p.concat()),
        1 => any::<String>(),
    ]
}

#[test]
fn any_text_parses_or_names_a_line_it_has() {
    let text = prop::collection::vec(golden_line(), 0..12)
        .prop_flat_map(|lines| (Just(lines), any::<bool>()))
        .prop_map(|(lines, final_newline)| {
            let mut text = lines.join("\n");
            if final_newline {
                text.push('\n');
            }
            text
        });
    check(3000, text, |text| match Golden::parse(&text) {
        Ok(_) => Ok(()),
        Err(e) => {
            let count = lines(&text).len();
            if e.line == 0 || e.line > count {
                return Err(format!("error names line {} of {count}: {e}", e.line));
            }
            if !e.to_string().starts_with(&format!("line {}: ", e.line)) || e.message.is_empty() {
                return Err(format!("error does not say where and what: {e}"));
            }
            Ok(())
        }
    });
}

/// A golden file's structure, made to be written out and parsed back.
#[derive(Debug, Clone)]
enum Shape {
    Line(Vec<Tok>),
    Unordered(Vec<Vec<Tok>>),
    Interleaved(Vec<Vec<Vec<Tok>>>),
}

/// Few and overlapping pieces, so that the matcher has real choices to make.
fn tokens() -> impl Strategy<Value = Vec<Tok>> {
    let tok = prop_oneof![
        3 => prop::sample::select(vec!["a", "b", "ab", " ", "-", "[1]"])
            .prop_map(|s| Tok::Lit(s.to_string())),
        1 => Just(Tok::Any),
        2 => prop::sample::select(vec!["A", "B", "C"]).prop_map(|s| Tok::Var(s.to_string())),
    ];
    prop::collection::vec(tok, 0..4)
}

fn shapes() -> impl Strategy<Value = Vec<Shape>> {
    let shape = prop_oneof![
        3 => tokens().prop_map(Shape::Line),
        1 => prop::collection::vec(tokens(), 1..4).prop_map(Shape::Unordered),
        1 => prop::collection::vec(prop::collection::vec(tokens(), 1..4), 1..3)
            .prop_map(Shape::Interleaved),
    ];
    prop::collection::vec(shape, 0..6)
}

fn write_tokens(toks: &[Tok]) -> String {
    toks.iter()
        .map(|t| match t {
            Tok::Lit(s) => s.clone(),
            Tok::Any => "[..]".to_string(),
            Tok::Var(name) => format!("[{name}]"),
        })
        .collect()
}

fn write_golden(shapes: &[Shape]) -> String {
    let mut text = String::new();
    for shape in shapes {
        match shape {
            Shape::Line(toks) => text.push_str(&format!("{}\n", write_tokens(toks))),
            Shape::Unordered(lines) => {
                text.push_str("[unordered]\n");
                for toks in lines {
                    text.push_str(&format!("{}\n", write_tokens(toks)));
                }
                text.push_str("[/unordered]\n");
            }
            Shape::Interleaved(streams) => {
                text.push_str("[interleaved]\n");
                for stream in streams {
                    text.push_str("[stream]\n");
                    for toks in stream {
                        text.push_str(&format!("{}\n", write_tokens(toks)));
                    }
                }
                text.push_str("[/interleaved]\n");
            }
        }
    }
    text
}

/// A small generator of choices for [`instantiate`], from one seed (splitmix64).
struct Dice(u64);

impl Dice {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        ((z ^ (z >> 31)) % n.max(1) as u64) as usize
    }

    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i + 1));
        }
    }

    /// A random interleaving of `streams` that keeps each one's order.
    fn interleave<T: Clone>(&mut self, streams: &[Vec<T>]) -> Vec<T> {
        let mut next = vec![0; streams.len()];
        let mut out = Vec::new();
        loop {
            let open: Vec<usize> =
                (0..streams.len()).filter(|&s| next[s] < streams[s].len()).collect();
            if open.is_empty() {
                return out;
            }
            let s = open[self.below(open.len())];
            out.push(streams[s][next[s]].clone());
            next[s] += 1;
        }
    }
}

/// Output that `golden` describes: one value per placeholder name, any text for `[..]`, and
/// each block's lines in an order it allows.
fn instantiate(golden: &Golden, dice: &mut Dice) -> Vec<String> {
    let values = ["x", "y", "xy", "1", "a"];
    let anything = ["", "a", "b ", "zz", "[", "ab-"];
    let mut bound: BTreeMap<String, &str> = BTreeMap::new();
    let mut line = |pattern: &Pattern, dice: &mut Dice| -> String {
        pattern
            .toks
            .iter()
            .map(|t| match t {
                Tok::Lit(s) => s.clone(),
                Tok::Any => anything[dice.below(anything.len())].to_string(),
                Tok::Var(name) => {
                    let pick = values[dice.below(values.len())];
                    bound.entry(name.clone()).or_insert(pick).to_string()
                }
            })
            .collect()
    };
    let mut out = Vec::new();
    for item in &golden.items {
        match item {
            Item::Line(p) => out.push(line(p, dice)),
            Item::Unordered(patterns) => {
                let mut lines: Vec<String> = patterns.iter().map(|p| line(p, dice)).collect();
                dice.shuffle(&mut lines);
                out.extend(lines);
            }
            Item::Interleaved(streams) => {
                let streams: Vec<Vec<String>> =
                    streams.iter().map(|s| s.iter().map(|p| line(p, dice)).collect()).collect();
                out.extend(dice.interleave(&streams));
            }
        }
    }
    // As verify reads a program's stdout: trailing whitespace is not compared.
    out.iter().map(|l| l.trim_end().to_string()).collect()
}

/// Whether `line` is `toks` with every placeholder replaced by its bound value, each `[..]` by
/// any text. Written without the matcher: placeholders are substituted, then the `[..]` are
/// matched as a shell matches `*`.
fn line_satisfies(toks: &[Tok], binds: &BTreeMap<&str, &str>, line: &str) -> Result<(), String> {
    // Segments between the `[..]`s, as literal text.
    let mut segments = vec![String::new()];
    for tok in toks {
        match tok {
            Tok::Lit(s) => segments.last_mut().expect("never empty").push_str(s),
            Tok::Var(name) => {
                let value = binds
                    .get(name.as_str())
                    .ok_or_else(|| format!("`[{name}]` has no value in the assignment"))?;
                segments.last_mut().expect("never empty").push_str(value);
            }
            Tok::Any => segments.push(String::new()),
        }
    }
    // `line` lost its trailing whitespace; the filled pattern may end in some, which can only
    // come from the ends of its last segments (a `[..]` can always be filled without any).
    let blank = |s: &str| s.chars().all(char::is_whitespace);
    let mut endings = vec![String::new()];
    for i in (0..segments.len()).rev() {
        let later = segments[i + 1..].concat();
        if !blank(&later) {
            break;
        }
        for (at, _) in segments[i].char_indices() {
            if blank(&segments[i][at..]) {
                endings.push(format!("{}{later}", &segments[i][at..]));
            }
        }
        endings.push(later);
    }
    if endings.iter().any(|ending| glob(&segments, &format!("{line}{ending}"))) {
        Ok(())
    } else {
        Err(format!("`{line}` does not fit `{}`", segments.join("[..]")))
    }
}

/// Whether `text` is the segments joined by any text, as a shell matches `a*b*c`.
fn glob(segments: &[String], text: &str) -> bool {
    let (first, rest) = segments.split_first().expect("never empty");
    let Some(mut tail) = text.strip_prefix(first.as_str()) else {
        return false;
    };
    let Some((last, middle)) = rest.split_last() else {
        return tail.is_empty();
    };
    // Placing each middle segment as far left as it goes leaves the most room for the rest.
    for segment in middle {
        match tail.find(segment.as_str()) {
            Some(at) => tail = &tail[at + segment.len()..],
            None => return false,
        }
    }
    tail.ends_with(last.as_str())
}

/// Checks `assignment` against `golden` and `output` from the format's rules alone.
fn satisfies(golden: &Golden, output: &[&str], assignment: &Assignment) -> Result<(), String> {
    if assignment.slots.len() != output.len() {
        return Err(format!("{} slots for {} lines", assignment.slots.len(), output.len()));
    }
    let mut binds = BTreeMap::new();
    for bind in &assignment.binds {
        if bind.value.is_empty() || bind.value.chars().any(char::is_whitespace) {
            return Err(format!("`[{}]` bound to `{}`", bind.name, bind.value));
        }
        if binds.insert(bind.name.as_str(), bind.value.as_str()).is_some() {
            return Err(format!("`[{}]` bound twice", bind.name));
        }
    }
    let mut at = 0;
    for (index, item) in golden.items.iter().enumerate() {
        let n = item.len();
        let lines = output
            .get(at..at + n)
            .ok_or_else(|| format!("item {index} runs past the output's end"))?;
        let slots = &assignment.slots[at..at + n];
        if let Some(s) = slots.iter().find(|s| s.item != index) {
            return Err(format!("line {} put in item {}, not {index}", at, s.item));
        }
        match item {
            Item::Line(p) => line_satisfies(&p.toks, &binds, lines[0])?,
            Item::Unordered(patterns) => {
                let mut used: Vec<usize> = slots.iter().map(|s| s.index).collect();
                used.sort();
                if used != (0..patterns.len()).collect::<Vec<_>>() {
                    return Err(format!("block {index} lines used as {used:?}"));
                }
                for (line, slot) in lines.iter().zip(slots) {
                    line_satisfies(&patterns[slot.index].toks, &binds, line)?;
                }
            }
            Item::Interleaved(streams) => {
                let mut next = vec![0; streams.len()];
                for (line, slot) in lines.iter().zip(slots) {
                    let expected = next
                        .get_mut(slot.stream)
                        .ok_or_else(|| format!("no stream {}", slot.stream))?;
                    if slot.index != *expected {
                        return Err(format!(
                            "stream {} line {} came where its line {} was due",
                            slot.stream, slot.index, expected
                        ));
                    }
                    *expected += 1;
                    line_satisfies(&streams[slot.stream][slot.index].toks, &binds, line)?;
                }
                if next.iter().zip(streams).any(|(n, s)| *n != s.len()) {
                    return Err(format!("block {index} left stream lines unplaced"));
                }
            }
        }
        at += n;
    }
    if at == output.len() {
        Ok(())
    } else {
        Err(format!("{} output lines beyond the last item", output.len() - at))
    }
}

/// Matches, within [`MATCH_TIME_LIMIT`], and checks a match's assignment.
fn match_checked(golden: &Golden, output: &[&str]) -> Result<Outcome, String> {
    let start = Instant::now();
    let outcome = match_output(golden, output);
    if start.elapsed() > MATCH_TIME_LIMIT {
        return Err(format!("matching took {:?}", start.elapsed()));
    }
    if let Outcome::Match(assignment) = &outcome {
        satisfies(golden, output, assignment).map_err(|e| format!("a wrong match: {e}"))?;
    }
    Ok(outcome)
}

#[test]
fn output_made_from_a_golden_file_matches_it() {
    check(800, (shapes(), any::<u64>()), |(shapes, seed)| {
        let text = write_golden(&shapes);
        let golden = Golden::parse(&text).map_err(|e| format!("{e} in\n{text}"))?;
        let output = instantiate(&golden, &mut Dice(seed));
        let output: Vec<&str> = output.iter().map(String::as_str).collect();
        match match_checked(&golden, &output)? {
            Outcome::Match(_) => Ok(()),
            other => Err(format!("{other:?} for\n{text}\nagainst {output:?}")),
        }
    });
}

/// Edits that turn matching output into output that may or may not match.
#[derive(Debug, Clone)]
enum Edit {
    Drop(usize),
    Swap(usize, usize),
    Append(String),
    Change(usize, String),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        any::<usize>().prop_map(Edit::Drop),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Edit::Swap(a, b)),
        golden_line().prop_map(Edit::Append),
        (any::<usize>(), golden_line()).prop_map(|(a, s)| Edit::Change(a, s)),
    ]
}

#[test]
fn matching_edited_output_ends_and_any_match_is_right() {
    let case = (shapes(), any::<u64>(), prop::collection::vec(edit(), 1..4));
    check(800, case, |(shapes, seed, edits)| {
        let golden = Golden::parse(&write_golden(&shapes)).map_err(|e| e.to_string())?;
        let mut output = instantiate(&golden, &mut Dice(seed));
        for edit in edits {
            let n = output.len().max(1);
            match edit {
                Edit::Drop(i) if !output.is_empty() => {
                    output.remove(i % n);
                }
                Edit::Swap(a, b) if !output.is_empty() => output.swap(a % n, b % n),
                Edit::Append(line) => output.push(line.trim_end().to_string()),
                Edit::Change(i, line) if !output.is_empty() => {
                    output[i % n] = line.trim_end().to_string()
                }
                _ => {}
            }
        }
        let output: Vec<&str> = output.iter().map(String::as_str).collect();
        match_checked(&golden, &output).map(|_| ())
    });
}

#[test]
fn any_output_against_any_golden_file_ends_and_any_match_is_right() {
    let case =
        (prop::collection::vec(golden_line(), 0..10), prop::collection::vec(golden_line(), 0..10));
    check(1500, case, |(golden, output)| {
        let Ok(golden) = Golden::parse(&golden.join("\n")) else {
            return Ok(());
        };
        let output: Vec<String> = output.iter().map(|l| l.trim_end().to_string()).collect();
        let output: Vec<&str> = output.iter().map(String::as_str).collect();
        match_checked(&golden, &output).map(|_| ())
    });
}

/// A program as verify sees one: a main process with a PID, workers that each print their
/// steps in order while the scheduler interleaves them, results gathered in any order.
#[derive(Debug, Clone)]
struct Program {
    /// Steps per worker, two or more each.
    steps: Vec<usize>,
    /// The values of the results, distinct.
    results: Vec<u32>,
}

fn programs() -> impl Strategy<Value = Program> {
    (prop::collection::vec(2usize..5, 1..4), prop::collection::btree_set(1u32..500, 0..5))
        .prop_map(|(steps, results)| Program { steps, results: results.into_iter().collect() })
}

impl Program {
    /// One run: new PIDs, a new interleaving of the workers, a new order of the results.
    fn run(&self, seed: u64) -> Vec<String> {
        let mut dice = Dice(seed);
        let mut pid = || 2 + dice.below(4_000_000);
        let main_pid = pid();
        let worker_pids: Vec<usize> = self.steps.iter().map(|_| pid()).collect();
        let mut out = vec!["main: started".to_string(), format!("main: pid {main_pid}")];
        let streams: Vec<Vec<String>> = self
            .steps
            .iter()
            .enumerate()
            .map(|(w, &steps)| {
                (1..=steps)
                    .map(|step| format!("worker {} (pid {}): step {step}", w + 1, worker_pids[w]))
                    .collect()
            })
            .collect();
        let mut dice = Dice(seed ^ 0x5eed);
        out.extend(dice.interleave(&streams));
        let mut results: Vec<String> =
            self.results.iter().map(|r| format!("result {r} is ready")).collect();
        dice.shuffle(&mut results);
        out.extend(results);
        out.push(format!("main: {} workers done, pid {main_pid} exits", self.steps.len()));
        out
    }
}

/// Runs bless learns from (`commands::bless`'s default).
const BLESS_RUNS: usize = 21;

fn matches(golden: &Golden, run: &[String]) -> Result<bool, String> {
    let lines: Vec<&str> = run.iter().map(String::as_str).collect();
    Ok(matches!(match_checked(golden, &lines)?, Outcome::Match(_)))
}

#[test]
fn bless_infers_a_file_that_holds_for_the_program_and_keeps_its_streams() {
    let case = (
        programs(),
        prop::collection::vec(any::<u64>(), BLESS_RUNS),
        prop::collection::vec(any::<u64>(), 10),
    );
    check(150, case, |(program, learn, fresh)| {
        let runs: Vec<Vec<String>> = learn.iter().map(|&s| program.run(s)).collect();
        let as_lines: Vec<Vec<&str>> =
            runs.iter().map(|r| r.iter().map(String::as_str).collect()).collect();
        let text = infer(&as_lines).map_err(|e| format!("inference refused: {e}"))?;
        let golden = Golden::parse(&text).map_err(|e| format!("{e} in\n{text}"))?;
        for run in &runs {
            if !matches(&golden, run)? {
                return Err(format!("a run it learned from does not match:\n{text}\n{run:?}"));
            }
        }
        for &seed in &fresh {
            let run = program.run(seed);
            if !matches(&golden, &run)? {
                return Err(format!("a new run does not match:\n{text}\n{run:?}"));
            }
            // Worker 1's first two steps swap places: that breaks its stream's order.
            let step = |n: &str| {
                run.iter()
                    .position(|l| l.starts_with("worker 1 ") && l.ends_with(&format!("step {n}")))
            };
            let (Some(a), Some(b)) = (step("1"), step("2")) else {
                return Err(format!("the generator made no steps 1 and 2: {run:?}"));
            };
            let mut broken = run.clone();
            broken.swap(a, b);
            if matches(&golden, &broken)? {
                return Err(format!(
                    "a run with worker 1's steps swapped matches:\n{text}\n{broken:?}"
                ));
            }
        }
        Ok(())
    });
}

#[test]
fn the_checker_refuses_a_wrong_assignment() {
    let golden = Golden::parse("a [X]\n[unordered]\nb\nc\n[/unordered]\n").expect("valid");
    let output = ["a 1", "c", "b"];
    let Outcome::Match(right) = match_output(&golden, &output) else {
        panic!("the output matches");
    };
    satisfies(&golden, &output, &right).expect("the matcher's own assignment");
    let mut wrong = right.clone();
    wrong.slots.swap(1, 2);
    assert!(satisfies(&golden, &output, &wrong).is_err());
    let mut wrong = right.clone();
    wrong.binds[0].value = "2".into();
    assert!(satisfies(&golden, &output, &wrong).is_err());
}
