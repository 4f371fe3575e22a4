//! One module per command.

pub(crate) mod call;
pub(crate) mod demo;
pub(crate) mod describe;
pub(crate) mod doctor;
pub(crate) mod login;
pub(crate) mod manual;
pub(crate) mod revoke;
pub(crate) mod sandbox;
pub(crate) mod token;
