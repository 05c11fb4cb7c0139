//! The workspace's example, test and benchmark package; the library is the
//! `descent` crate in `crates/descent`.
