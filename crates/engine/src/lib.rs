//! tokentrail-engine.
