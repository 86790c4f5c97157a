package main

import labversion "github.com/schedlab/schedlab/lab/internal/version"

func version() string { return labversion.String() }
