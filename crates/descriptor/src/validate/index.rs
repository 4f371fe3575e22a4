//! Where every field path of a YAML text starts, and the bounds a descriptor must stay within.
//!
//! serde gives no positions for values, so semantic errors look their path up in this index.
//! The same pass bounds the input: its size, its nesting, and the number of nodes it stands for
//! once aliases are expanded, so that an alias bomb is refused before serde expands it.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use saphyr_parser::{Event, Parser, ScanError};

/// 1-based line and column.
pub(crate) type Position = (usize, usize);

/// Field path (`grants.authorization_code.pkce`, `scopes.default[0]`) → where its key and its
/// value start in the file.
#[derive(Default)]
pub(crate) struct Index {
    /// The value of `""` exists when the document is not empty.
    pub(crate) keys: HashMap<String, Position>,
    pub(crate) values: HashMap<String, Position>,
    /// Keys set a second time in one mapping: where the repetition is.
    pub(crate) repeated: HashMap<String, Position>,
}

enum Frame {
    Mapping {
        path: String,
        /// The key whose value comes next; `None` while a key is expected.
        key: Option<String>,
    },
    Sequence {
        path: String,
        next: usize,
    },
    /// A complex (non-scalar) mapping key, skipped; the depth of nested collections.
    SkipKey(usize),
}

/// The largest descriptor read, in bytes. Real descriptors are a few KiB.
pub const MAX_DESCRIPTOR_BYTES: usize = 256 * 1024;

/// The most YAML nodes a descriptor may stand for, every alias counted as a copy of what it
/// refers to. Real descriptors have a few hundred; an alias bomb has billions.
pub(crate) const MAX_NODES: usize = 50_000;

/// The deepest nesting of mappings and sequences.
pub(crate) const MAX_DEPTH: usize = 64;

/// Why a YAML text could not be indexed.
pub(crate) enum IndexError {
    /// Not valid YAML.
    Syntax(ScanError),
    /// Valid YAML, but beyond the bounds a descriptor may have.
    Bound { at: Position, message: String },
}

/// Counts the nodes a document stands for, with aliases expanded, without expanding them.
#[derive(Default)]
struct Expansion {
    nodes: usize,
    /// Anchor id → how many nodes the anchored node stands for.
    anchored: HashMap<usize, usize>,
    /// One entry per open collection: its anchor (if any) and the node count where it started.
    open: Vec<Option<(usize, usize)>>,
}

impl Expansion {
    fn add(&mut self, count: usize, at: Position) -> Result<(), IndexError> {
        self.nodes = self.nodes.saturating_add(count);
        if self.nodes > MAX_NODES {
            return Err(IndexError::Bound {
                at,
                message: format!(
                    "the descriptor stands for more than {MAX_NODES} YAML nodes once its aliases \
                     are expanded; a descriptor needs a few hundred (is this an alias bomb?)"
                ),
            });
        }
        Ok(())
    }

    fn see(&mut self, event: &Event<'_>, at: Position) -> Result<(), IndexError> {
        match event {
            Event::Alias(id) => {
                let count = self.anchored.get(id).copied().unwrap_or(1);
                self.add(count, at)?;
            }
            Event::Scalar(_, _, anchor, _) => {
                self.add(1, at)?;
                if *anchor != 0 {
                    self.anchored.insert(*anchor, 1);
                }
            }
            Event::MappingStart(anchor, _) | Event::SequenceStart(anchor, _) => {
                if self.open.len() >= MAX_DEPTH {
                    return Err(IndexError::Bound {
                        at,
                        message: format!("mappings and lists nest deeper than {MAX_DEPTH} levels"),
                    });
                }
                self.open
                    .push((*anchor != 0).then_some((*anchor, self.nodes)));
                self.add(1, at)?;
            }
            Event::MappingEnd | Event::SequenceEnd => {
                if let Some(Some((anchor, started))) = self.open.pop() {
                    self.anchored.insert(anchor, self.nodes - started);
                }
            }
            _ => {}
        }
        Ok(())
    }
}

impl Index {
    pub(crate) fn build(yaml: &str) -> Result<Index, IndexError> {
        if yaml.len() > MAX_DESCRIPTOR_BYTES {
            return Err(IndexError::Bound {
                at: (1, 1),
                message: format!(
                    "the descriptor is {} KiB; descriptors may be at most {} KiB",
                    yaml.len() / 1024,
                    MAX_DESCRIPTOR_BYTES / 1024
                ),
            });
        }
        let mut index = Index::default();
        let mut expansion = Expansion::default();
        let mut stack: Vec<Frame> = Vec::new();
        for event in Parser::new_from_str(yaml) {
            let (event, span) = event.map_err(IndexError::Syntax)?;
            let position = (span.start.line(), span.start.col() + 1);
            expansion.see(&event, position)?;
            index.see(&mut stack, event, position);
        }
        Ok(index)
    }

    /// Records where the node of `event` is, by field path.
    fn see(&mut self, stack: &mut Vec<Frame>, event: Event<'_>, position: Position) {
        if let Some(Frame::SkipKey(depth)) = stack.last_mut() {
            match event {
                Event::MappingStart(..) | Event::SequenceStart(..) => *depth += 1,
                Event::MappingEnd | Event::SequenceEnd => {
                    *depth -= 1;
                    if *depth == 0 {
                        stack.pop();
                        // The complex key is done: its value follows, under no path.
                        if let Some(Frame::Mapping { key, .. }) = stack.last_mut() {
                            *key = Some("?".to_owned());
                        }
                    }
                }
                _ => {}
            }
            return;
        }
        let is_node = matches!(
            event,
            Event::Scalar(..)
                | Event::MappingStart(..)
                | Event::SequenceStart(..)
                | Event::Alias(..)
        );
        if !is_node {
            if matches!(event, Event::MappingEnd | Event::SequenceEnd) {
                stack.pop();
            }
            return;
        }
        // A node is either a mapping key, or a value at a path.
        let path = match stack.last_mut() {
            None => Some(String::new()),
            Some(Frame::Mapping { path, key }) => match key.take() {
                Some(key) => Some(join(path, &key)),
                None => {
                    match &event {
                        Event::Scalar(text, ..) => {
                            let key_path = join(path, text);
                            match self.keys.entry(key_path) {
                                Entry::Occupied(first) => {
                                    self.repeated.entry(first.key().clone()).or_insert(position);
                                }
                                Entry::Vacant(slot) => {
                                    slot.insert(position);
                                }
                            }
                            *key = Some(text.to_string());
                        }
                        _ => stack.push(Frame::SkipKey(0)),
                    }
                    None
                }
            },
            Some(Frame::Sequence { path, next }) => {
                let item = format!("{path}[{next}]");
                *next += 1;
                Some(item)
            }
            Some(Frame::SkipKey(_)) => None,
        };
        if let Some(Frame::SkipKey(depth)) = stack.last_mut() {
            if matches!(event, Event::MappingStart(..) | Event::SequenceStart(..)) {
                *depth += 1;
            } else {
                // A scalar complex key cannot happen (scalars are simple keys).
                stack.pop();
            }
            return;
        }
        let Some(path) = path else { return };
        self.values.entry(path.clone()).or_insert(position);
        match event {
            Event::MappingStart(..) => stack.push(Frame::Mapping { path, key: None }),
            Event::SequenceStart(..) => stack.push(Frame::Sequence { path, next: 0 }),
            _ => {}
        }
    }

    /// Where the key of `path` is, else where its value is.
    pub(crate) fn key(&self, path: &str) -> Option<Position> {
        self.keys
            .get(path)
            .or_else(|| self.values.get(path))
            .copied()
    }

    /// Where the value of `path` is, else where its key is.
    pub(crate) fn value(&self, path: &str) -> Option<Position> {
        self.values
            .get(path)
            .or_else(|| self.keys.get(path))
            .copied()
    }
}

pub(crate) fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_owned()
    } else {
        format!("{parent}.{key}")
    }
}

// ---------------------------------------------------------------------------------------------
// YAML and serde errors.
