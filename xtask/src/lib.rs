//! Project automation behind `cargo xtask`: the descriptor code generator.
//!
//! The generator is a library so that tests run it over fixture folders; `src/main.rs` is the
//! command line around it.

pub mod catalogue;
pub mod codegen;
pub mod tree;
