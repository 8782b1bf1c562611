package main

// defaultCommand is what "hypergrid" with no arguments runs: training the default recipe
// on the embedded suite.
const defaultCommand = "train"
