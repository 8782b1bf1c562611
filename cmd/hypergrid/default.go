package main

// defaultCommand is what "hypergrid" with no arguments runs. Until training lands it is
// the kernel benchmark summary.
const defaultCommand = "bench"
