//! tokentrail-sim.
