//! Shared helpers of the end-to-end tests.

/// The README's Rust examples, compiled as doc tests so that they stay true.
#[doc = include_str!("../../README.md")]
mod readme {}
