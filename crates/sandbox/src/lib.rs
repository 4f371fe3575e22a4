//! Local fakes of the seed vendors, on loopback.
#![deny(missing_docs)]
